// Asking for a disclosure: the signed request must be the asking professional's own, and the holder
// must know the person; a break-glass is approved at once with a grant of the covenant's short
// validity and a review due at the covenant's deadline, to the millisecond. Reading a request shows
// its decisions as they were made.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError, type HubClient } from '../src/client/client';
import { signDocument } from '../src/client/token';
import { rowsOf } from '../src/db/types';
import { DOCUMENT_TYPES } from '../src/disclosures/signed';
import { breakGlassAtVeiligThuis } from './support/disclosure';
import { contact, person } from './support/people';
import { dbKind, partnerKey, startTestHub, type TestHub } from './support/hub';

const HOUR = 3_600_000;
const JUSTIFICATION =
  'Casus op maat (AVE 3): het veiligheidsplan voor de kinderen rust mede op de behandeling van moeder; de procesregisseur moet weten of zij in behandeling is en bij wie.';

const fieldErrors = (e: HubError) => (e.problem.errors ?? []) as { field: string; reason: string }[];

async function refusal(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected the hub to refuse').toBeInstanceOf(HubError);
  return e as HubError;
}

describe(`asking for a disclosure (${dbKind})`, () => {
  let hub: TestHub;
  let pr: HubClient;

  beforeAll(async () => {
    hub = await startTestHub();
    pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
  });
  afterAll(() => hub?.close());

  const requests = async (caseRef: string) => Number((await rowsOf<{ n: number }>(hub.database.db, sql`select count(*)::int as n from disclosure_requests where case_ref = ${caseRef}`))[0]!.n);
  const ask = (client: HubClient, subject: string, caseRef: string) =>
    client.requestDisclosure({ subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef, justification: JUSTIFICATION });

  it('a request signed in the name of another professional than the token\'s: 403 signer-not-actor, nothing stored', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    // Same organisation, same key: the document says pr-de-vries, the token says pr-jansen.
    const jws = await signDocument({ partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk }, { aud: hub.config.hubId, sub: 'pr-de-vries', iat: Math.floor(hub.clock().getTime() / 1000), jti: crypto.randomUUID(), subject: mother.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'ZVH-REQ-1', justification: JUSTIFICATION, urgency: 'regular' }, DOCUMENT_TYPES.request);
    const other = await hub.as('gemeente', 'procesregisseur', 'pr-jansen');
    const e = await refusal(other.call('POST', '/v1/disclosures', { request: jws }));
    expect(e.status).toBe(403);
    expect(e.problem).toMatchObject({ rule: 'signer-not-actor', errors: [{ field: 'request.sub', reason: 'differs from the token sub' }] });
    expect(await requests('ZVH-REQ-1')).toBe(0);
  });

  it('a holder that does not know the person: 409 naming the holder, nothing stored, logged as rejected', async () => {
    const stranger = person();
    const e = await refusal(ask(pr, stranger.subject, 'ZVH-REQ-2'));
    expect(e.status).toBe(409);
    expect(e.problem).toMatchObject({ detail: 'verslavingszorg has no active registration of this person: there is nothing to ask it for', errors: [{ field: 'request.holder', reason: 'holder does not know the subject' }] });
    expect(await requests('ZVH-REQ-2')).toBe(0);
    const logged = await rowsOf<{ outcome: string; reason: string }>(hub.database.db, sql`select outcome, detail->>'reason' as reason from audit_entries where action = 'disclosure.requested' and case_ref = ${'ZVH-REQ-2'}`);
    expect(logged).toEqual([{ outcome: 'rejected', reason: 'holder has no active registration of this person' }]);
  });

  it('another partner\'s registration of the person does not count: the holder itself must know the person', async () => {
    const mother = person();
    await (await hub.as('ggz', 'partner-system')).register({ subject: mother.subject, category: 'ggz-behandeling', contact: contact('Intake') });
    expect((await refusal(ask(pr, mother.subject, 'ZVH-REQ-3'))).status).toBe(409);
  });

  it('a regular request is pending, not closed, with no review and no grant', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const { request, grant } = await ask(pr, mother.subject, 'ZVH-REQ-4');
    expect(request).toMatchObject({ status: 'pending', closedAt: null, reviewStatus: null, reviewDueAt: null, requester: 'gemeente', requesterSub: 'pr-de-vries', createdAt: hub.clock().toISOString() });
    expect(grant).toBeNull();
  });

  it('a break-glass is approved and closed now, its grant ends after the covenant\'s break-glass validity, its review is due after the covenant\'s deadline', async () => {
    const now = hub.clock().getTime();
    const { request, grant } = await breakGlassAtVeiligThuis(hub, await hub.as('politie', 'professional', 'agent-req'), { caseRef: 'PL-REQ-1', justification: 'Melding 112: dreiging aan de deur, kinderen in huis; eerdere meldingen zijn nu nodig.' });
    const d = hub.config.covenant.disclosure;
    expect(request).toMatchObject({ status: 'approved', closedAt: new Date(now).toISOString(), reviewStatus: 'due', reviewDueAt: new Date(now + d.reviewDeadlineHours * HOUR).toISOString() });
    expect(grant).toMatchObject({ breakGlass: true, categories: ['huiselijk-geweld-meldingen'], expiresAt: new Date(now + d.breakGlassValidityMinutes * 60_000).toISOString(), revokedAt: null });
    const [logged] = await rowsOf<{ detail: Record<string, unknown> }>(hub.database.db, sql`select detail from audit_entries where action = 'disclosure.break-glass' and detail->>'request' = ${request.id}`);
    expect(logged!.detail).toEqual({ request: request.id, holder: 'veilig-thuis', reviewDueAt: request.reviewDueAt });
  });

  type Logged = { outcome: string; rule: string; detail: Record<string, unknown> };
  const logged = (action: string, caseRef: string) =>
    rowsOf<Logged>(hub.database.db, sql`select outcome, rule, detail from audit_entries where action = ${action} and case_ref = ${caseRef} order by id`);

  it('a request the covenant refuses: the problem names the field, the log says denied with field and reason, nothing stored', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const short = await refusal(pr.requestDisclosure({ subject: mother.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'ZVH-REQ-6', justification: 'nodig' }));
    expect(short.status).toBe(400);
    const shortReason = fieldErrors(short)[0]!.reason;
    expect(short.problem).toMatchObject({ type: '/problems/invalid-request', rule: 'justification-too-short', errors: [{ field: 'request.justification', reason: expect.stringMatching(/\S/) }] });
    expect(await logged('disclosure.requested', 'ZVH-REQ-6')).toEqual([
      { outcome: 'denied', rule: 'justification-too-short', detail: expect.objectContaining({ holder: 'verslavingszorg', field: 'justification', reason: shortReason }) },
    ]);

    const special = await refusal(pr.requestDisclosure({ subject: mother.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['psychische-gezondheid'], caseRef: 'ZVH-REQ-7', justification: JUSTIFICATION }));
    expect(special.status).toBe(403);
    const reason = fieldErrors(special)[0]!.reason;
    expect(special.problem).toMatchObject({ type: '/problems/forbidden', detail: reason, policyVersion: hub.config.covenant.version, errors: [{ field: 'request.categories', reason: expect.stringMatching(/\S/) }] });
    expect(await logged('disclosure.requested', 'ZVH-REQ-7')).toEqual([
      { outcome: 'denied', rule: special.problem.rule, detail: expect.objectContaining({ categories: ['psychische-gezondheid'], field: 'categories', reason }) },
    ]);
    expect(await requests('ZVH-REQ-6') + await requests('ZVH-REQ-7')).toBe(0);
  });

  it('a signed request whose payload is not a request: each field in error named under request.', async () => {
    const jws = await signDocument({ partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk }, { aud: hub.config.hubId, sub: 'pr-de-vries', iat: Math.floor(hub.clock().getTime() / 1000), jti: crypto.randomUUID(), subject: person().subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], justification: JUSTIFICATION, urgency: 'regular' }, DOCUMENT_TYPES.request);
    const e = await refusal(pr.call('POST', '/v1/disclosures', { request: jws }));
    expect(e.status).toBe(400);
    expect(fieldErrors(e).map((x) => x.field)).toEqual(['request.caseRef']);
  });

  it('a signed request submitted twice: 409 naming request.jti, logged as rejected, stored once', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const jti = crypto.randomUUID();
    const jws = await signDocument({ partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk }, { aud: hub.config.hubId, sub: 'pr-de-vries', iat: Math.floor(hub.clock().getTime() / 1000), jti, subject: mother.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'ZVH-REQ-8', justification: JUSTIFICATION, urgency: 'regular' }, DOCUMENT_TYPES.request);
    await pr.call('POST', '/v1/disclosures', { request: jws });
    const e = await refusal(pr.call('POST', '/v1/disclosures', { request: jws }));
    expect(e.status).toBe(409);
    expect(e.problem.errors).toEqual([{ field: 'request.jti', reason: 'reused' }]);
    const entries = await logged('disclosure.requested', 'ZVH-REQ-8');
    expect(entries.map((x) => x.outcome)).toEqual(['allowed', 'rejected']);
    expect(entries[1]!.detail).toMatchObject({ jti, holder: 'verslavingszorg', reason: 'jti already used for a request' });
    expect(await requests('ZVH-REQ-8')).toBe(1);
  });

  it('an accepted request is logged as allowed; a break-glass also as an allowed break-glass', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const { request } = await ask(pr, mother.subject, 'ZVH-REQ-9');
    expect(await logged('disclosure.requested', 'ZVH-REQ-9')).toEqual([{ outcome: 'allowed', rule: request.rule, detail: expect.objectContaining({ request: request.id, approvalsNeeded: 2, approvers: 'distinct-partners' }) }]);
    const glass = await breakGlassAtVeiligThuis(hub, await hub.as('politie', 'professional', 'agent-req2'), { caseRef: 'PL-REQ-2', justification: 'Melding 112: dreiging aan de deur, kinderen in huis; eerdere meldingen zijn nu nodig.' });
    expect((await logged('disclosure.break-glass', 'PL-REQ-2')).map((x) => [x.outcome, x.rule])).toEqual([['allowed', glass.request.rule]]);
  });

  it('a request read back shows each decision as it was made, and its grant', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const { request } = await ask(pr, mother.subject, 'ZVH-REQ-5');
    const house = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker');
    const until = new Date(hub.clock().getTime() + HOUR).toISOString();
    const first = await house.decide(request.id, { outcome: 'approve', validUntil: until, reason: 'Proportioneel.' });
    const firstAt = hub.clock().toISOString();
    hub.clock.advance(1000); // listed in the order they were made
    const second = await (await hub.as('verslavingszorg', 'informatiemakelaar', 'im-yilmaz')).decide(request.id, { outcome: 'approve' });
    const read = await house.getDisclosure(request.id);
    expect(read.decisions).toEqual([
      { id: first.decision.id, kind: 'decision', broker: 'zorg-en-veiligheidshuis', brokerSub: 'im-bakker', outcome: 'approve', categories: null, validUntil: until, reason: 'Proportioneel.', createdAt: firstAt, jws: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/), passkey: null },
      { id: second.decision.id, kind: 'decision', broker: 'verslavingszorg', brokerSub: 'im-yilmaz', outcome: 'approve', categories: null, validUntil: null, reason: null, createdAt: hub.clock().toISOString(), jws: expect.any(String), passkey: null },
    ]);
    expect(read.grant).toEqual(second.grant);
    expect(read.request).toEqual(second.request);
  });
});
