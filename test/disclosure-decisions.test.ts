// A broker's decision may narrow what was asked, never widen it: fewer categories (not others), a
// grant ending sooner (after now, not later than the covenant allows). A review of a break-glass
// judges it as it was: no narrowing. A decision is final: a rejected request, a reviewed
// break-glass take no further decision, and a signed decision (its jti) counts once. What is taken
// is kept as it was signed; each refusal stores nothing and is logged.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError, type HubClient } from '../src/client/client';
import { signDocument } from '../src/client/token';
import { rowsOf } from '../src/db/types';
import { unixSeconds } from '../src/encoding';
import { DecisionPayloadSchema, parsePayload } from '../src/disclosures/schemas';
import { Problem } from '../src/errors';
import { DOCUMENT_TYPES } from '../src/disclosures/signed';
import { breakGlassAtVeiligThuis } from './support/disclosure';
import { contact, person } from './support/people';
import { dbKind, partnerEncryptionKey, partnerKey, startTestHub, type TestHub } from './support/hub';

const HOUR = 3_600_000;
const JUSTIFICATION =
  'Casus op maat (AVE 3): het veiligheidsplan voor de kinderen rust mede op de behandeling van moeder; de procesregisseur moet weten of zij in behandeling is en bij wie.';

async function refusal(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected the hub to refuse').toBeInstanceOf(HubError);
  return e as HubError;
}

describe('a signed decision\'s payload', () => {
  it('every field in error is named, prefixed with the body field, and the detail lists them all', () => {
    const payload = { aud: 'urn:kenbaar:hub:test', sub: 'im', iat: 1, jti: 'j', request: 'not-a-uuid', outcome: 'maybe' };
    let e: Problem | undefined;
    try {
      parsePayload(DecisionPayloadSchema, payload, 'decision');
    } catch (err) {
      e = err as Problem;
    }
    expect(e).toBeInstanceOf(Problem);
    expect((e!.extensions.errors as { field: string }[]).map((x) => x.field)).toEqual(['decision.request', 'decision.outcome']);
    expect(e!.detail!.split('; ').map((d) => d.split(':')[0])).toEqual(['decision.request', 'decision.outcome']);
  });
});

describe(`what a decision may say (${dbKind})`, () => {
  let hub: TestHub;
  let pr: HubClient;
  let house: HubClient;
  let holder: HubClient;

  beforeAll(async () => {
    hub = await startTestHub();
    pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    house = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker');
    holder = await hub.as('verslavingszorg', 'informatiemakelaar', 'im-yilmaz');
  });
  afterAll(() => hub?.close());

  async function ask() {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const { request } = await pr.requestDisclosure({
      subject: mother.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie', 'contactgegevens-behandelaar'], caseRef: 'ZVH-DEC', justification: JUSTIFICATION,
    });
    return request;
  }

  const decisionsOf = async (id: string) => (await house.getDisclosure(id)).decisions.length;
  const logged = async (id: string, action = 'disclosure.decided') =>
    rowsOf<{ outcome: string; detail: Record<string, unknown> }>(hub.database.db, sql`select outcome, detail from audit_entries where action = ${action} and detail->>'request' = ${id} order by id`);
  const maxValid = () => new Date(hub.clock().getTime() + hub.config.covenant.disclosure.grantValidityHours * HOUR);

  /** A decision as the house's partner system signs it for `sub`, with claims of the test's choosing. */
  const signedByTheHouse = async (sub: string, request: string, change: Record<string, unknown> = {}) =>
    signDocument({ partner: 'zorg-en-veiligheidshuis', jwk: (await partnerKey('zorg-en-veiligheidshuis')).privateJwk }, { aud: hub.config.hubId, sub, iat: unixSeconds(hub.clock()), jti: crypto.randomUUID(), request, outcome: 'approve', ...change }, DOCUMENT_TYPES.decision);

  /** 400 naming `field` for `reason`, no decision stored, the attempt logged as rejected. */
  async function invalid(p: Promise<unknown>, id: string, field: string, reason: string, action?: string) {
    const e = await refusal(p);
    expect(e.status).toBe(400);
    expect(e.problem).toMatchObject({ type: '/problems/invalid-request', errors: [{ field, reason }] });
    expect(await decisionsOf(id)).toBe(0);
    expect((await logged(id, action)).at(-1)).toMatchObject({ outcome: 'rejected', detail: { field, reason } });
  }

  it('categories that were not asked for are refused, naming them; fewer of those asked are taken', async () => {
    const request = await ask();
    await invalid(house.decide(request.id, { outcome: 'approve', categories: ['behandelrelatie', 'psychische-gezondheid', 'woonsituatie'] }), request.id, 'decision.categories', 'not requested: psychische-gezondheid, woonsituatie');
    await house.decide(request.id, { outcome: 'approve', categories: ['contactgegevens-behandelaar'] });
    const { grant } = await holder.decide(request.id, { outcome: 'approve' });
    expect(grant!.categories).toEqual(['contactgegevens-behandelaar']);
  });

  it('validUntil: now itself is refused, so is one millisecond past the covenant\'s longest grant', async () => {
    const request = await ask();
    const reason = `must lie between now and ${maxValid().toISOString()}`;
    await invalid(house.decide(request.id, { outcome: 'approve', validUntil: hub.clock().toISOString() }), request.id, 'decision.validUntil', reason);
    await invalid(house.decide(request.id, { outcome: 'approve', validUntil: new Date(maxValid().getTime() + 1).toISOString() }), request.id, 'decision.validUntil', reason);
  });

  it('validUntil: the covenant\'s longest grant exactly is taken, and one millisecond after now is taken', async () => {
    const request = await ask();
    const longest = maxValid();
    await house.decide(request.id, { outcome: 'approve', validUntil: longest.toISOString() });
    const soon = new Date(hub.clock().getTime() + 1);
    const { grant } = await holder.decide(request.id, { outcome: 'approve', validUntil: soon.toISOString() });
    // The sooner of the two ends wins.
    expect(grant!.expiresAt).toBe(soon.toISOString());
    const [row] = await rowsOf<{ valid_until: Date }>(hub.database.db, sql`select valid_until from disclosure_decisions where request_id = ${request.id} and broker = 'zorg-en-veiligheidshuis'`);
    expect(new Date(row!.valid_until).toISOString()).toBe(longest.toISOString());
  });

  it('a rejection closes the request (rejected, closed now, no grant) and a later decision is refused as final', async () => {
    const request = await ask();
    const out = await house.decide(request.id, { outcome: 'reject', reason: 'Subsidiariteit: eerst met moeder zelf in gesprek.' });
    expect(out).toMatchObject({ decision: { kind: 'decision', outcome: 'reject' }, request: { status: 'rejected', closedAt: hub.clock().toISOString() }, grant: null });
    const e = await refusal(holder.decide(request.id, { outcome: 'approve' }));
    expect(e.status).toBe(409);
    expect(e.problem.detail).toBe('This request is already rejected: a decision is final');
    expect((await logged(request.id)).at(-1)).toMatchObject({ outcome: 'rejected', detail: { reason: 'already rejected' } });
    expect(await decisionsOf(request.id)).toBe(1);
  });

  it('a rejection without a reason is refused, naming decision.reason; an approval needs none', async () => {
    const request = await ask();
    const e = await refusal(house.decide(request.id, { outcome: 'reject' }));
    expect(e.problem).toMatchObject({ status: 400, detail: 'decision.reason: a rejection needs a reason', errors: [{ field: 'decision.reason', reason: 'a rejection needs a reason' }] });
    expect(await decisionsOf(request.id)).toBe(0);
    expect((await house.decide(request.id, { outcome: 'approve' })).decision.outcome).toBe('approve');
  });

  it('a signed decision must be the caller\'s own and about the request in the path', async () => {
    const request = await ask();
    const other = await ask();
    const decision = (change: Record<string, unknown>) => signedByTheHouse('im-bakker', request.id, change);
    const colleague = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-jansen');
    const notMine = await refusal(colleague.call('POST', `/v1/disclosures/${request.id}/decisions`, { decision: await decision({}) }));
    expect(notMine.problem).toMatchObject({ status: 403, rule: 'signer-not-actor', errors: [{ field: 'decision.sub', reason: 'differs from the token sub' }] });
    const elsewhere = await refusal(house.call('POST', `/v1/disclosures/${other.id}/decisions`, { decision: await decision({}) }));
    expect(elsewhere.problem).toMatchObject({ status: 400, errors: [{ field: 'decision.request', reason: 'differs from the path' }] });
    expect(await decisionsOf(request.id)).toBe(0);
    expect(await decisionsOf(other.id)).toBe(0);
    expect(await house.call('POST', `/v1/disclosures/${request.id}/decisions`, { decision: await decision({}) })).toMatchObject({ decision: { kind: 'decision', outcome: 'approve' } });
  });

  it('a decision is kept as it was signed (narrowing, reason, the JWS itself), and its log entry says what it allowed', async () => {
    const request = await ask();
    const validUntil = new Date(hub.clock().getTime() + HOUR).toISOString();
    const said = { outcome: 'approve' as const, categories: ['behandelrelatie'], validUntil, reason: 'Alleen de behandelrelatie is nodig voor het veiligheidsplan.' };
    const { decision } = await house.decide(request.id, said);
    const [kept] = (await house.getDisclosure(request.id)).decisions;
    expect(kept).toMatchObject({ id: decision.id, kind: 'decision', broker: 'zorg-en-veiligheidshuis', brokerSub: 'im-bakker', ...said, passkey: null });
    expect(kept!.jws).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(await logged(request.id)).toEqual([{ outcome: 'allowed', detail: { request: request.id, decision: decision.id, outcome: 'approve', categories: ['behandelrelatie'], validUntil } }]);
  });

  it('a signed decision is used once: its jti again, on another request, is refused 409 (also from a colleague: the jti is the key\'s), stores nothing and is logged as rejected', async () => {
    const [first, second, third] = [await ask(), await ask(), await ask()];
    const jti = crypto.randomUUID();
    await house.call('POST', `/v1/disclosures/${first.id}/decisions`, { decision: await signedByTheHouse('im-bakker', first.id, { jti }) });
    const colleague = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-jansen');
    for (const [who, sub, request] of [[house, 'im-bakker', second], [colleague, 'im-jansen', third]] as const) {
      const e = await refusal(who.call('POST', `/v1/disclosures/${request.id}/decisions`, { decision: await signedByTheHouse(sub, request.id, { jti }) }));
      expect(e.problem).toMatchObject({ status: 409, type: '/problems/conflict', detail: 'You already decided on this request (or reused a signed decision): each broker decides once' });
      expect(await decisionsOf(request.id)).toBe(0);
      expect(await logged(request.id)).toEqual([{ outcome: 'rejected', detail: { request: request.id, reason: 'this broker already decided, or the jti was reused' } }]);
    }
    expect(await decisionsOf(first.id)).toBe(1);
  });

  it('a decision on no request at all: 404, logged', async () => {
    const id = crypto.randomUUID();
    expect((await refusal(house.decide(id, { outcome: 'approve' }))).status).toBe(404);
    expect(await logged(id)).toEqual([{ outcome: 'rejected', detail: { request: id, reason: 'no such request' } }]);
  });

  describe('the review of a break-glass', () => {
    const breakGlass = async (caseRef: string) =>
      breakGlassAtVeiligThuis(hub, await hub.as('politie', 'professional', 'agent-dec'), { caseRef, justification: 'Melding 112: dreiging aan de deur, kinderen in huis; eerdere meldingen zijn nu nodig.' });

    it('judges it as it was: narrowing categories or validUntil is refused', async () => {
      const { request, grant } = await breakGlass('PL-DEC-1');
      await invalid(house.decide(request.id, { outcome: 'approve', categories: ['huiselijk-geweld-meldingen'] }), request.id, 'decision', 'a review judges the break-glass as it was: no narrowing', 'disclosure.reviewed');
      await invalid(house.decide(request.id, { outcome: 'approve', validUntil: new Date(Date.parse(grant!.expiresAt) - 1000).toISOString() }), request.id, 'decision', 'a review judges the break-glass as it was: no narrowing', 'disclosure.reviewed');
    });

    it('justified: the grant stands; a second review is refused as final', async () => {
      const { request } = await breakGlass('PL-DEC-2');
      const out = await house.decide(request.id, { outcome: 'approve', reason: 'Acuut gevaar, terecht.' });
      expect(out).toMatchObject({ decision: { kind: 'review', outcome: 'approve' }, request: { status: 'approved', reviewStatus: 'justified' }, grant: { revokedAt: null } });
      const vt = await hub.as('veilig-thuis', 'informatiemakelaar', 'im-vt-dec');
      const e = await refusal(vt.decide(request.id, { outcome: 'reject', reason: 'Te laat.' }));
      expect(e.status).toBe(409);
      expect(e.problem.detail).toBe('This request is already reviewed (justified): a decision is final');
      expect((await logged(request.id, 'disclosure.reviewed')).at(-1)).toMatchObject({ outcome: 'rejected', detail: { reason: 'already justified' } });
    });

    it('unjustified: the grant is revoked now, and said so in the answer and the log', async () => {
      const { request, grant } = await breakGlass('PL-DEC-3');
      const out = await house.decide(request.id, { outcome: 'reject', reason: 'Geen acuut gevaar.' });
      expect(out).toMatchObject({ decision: { kind: 'review', outcome: 'reject' }, request: { status: 'approved', reviewStatus: 'unjustified' }, grant: { id: grant!.id, revokedAt: hub.clock().toISOString() } });
      expect(await logged(request.id, 'grant.revoked')).toEqual([{ outcome: 'ok', detail: { request: request.id, grant: grant!.id, reason: 'break-glass judged unjustified' } }]);
      // Nothing was handed over, so nothing is wiped.
      expect(await logged(request.id, 'handover.deleted')).toEqual([]);
    });

    it('unjustified after the holder handed over: the undelivered content is wiped too, and that is logged', async () => {
      const { request, grant } = await breakGlass('PL-DEC-4');
      const posted = await (await hub.as('veilig-thuis', 'professional')).handOver(grant!, (await partnerEncryptionKey('politie')).publicJwk, 'Twee eerdere meldingen.');
      await house.decide(request.id, { outcome: 'reject', reason: 'Geen acuut gevaar.' });
      const [row] = await rowsOf<{ ciphertext: string | null; delete_reason: string | null }>(hub.database.db, sql`select ciphertext, delete_reason from handovers where request_id = ${request.id}`);
      expect(row).toEqual({ ciphertext: null, delete_reason: 'revoked' });
      expect(await logged(request.id, 'handover.deleted')).toEqual([{ outcome: 'ok', detail: { handover: posted.handover, request: request.id, reason: 'revoked' } }]);
    });
  });
});
