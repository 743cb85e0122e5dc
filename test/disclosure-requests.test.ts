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
