// Signed documents are bound to what they are: a disclosure request or a broker's decision names its
// kind in the JOSE header (typ), this hub as audience (aud) and when it was signed (iat). A request
// signed in 1970, one made for another hub, or a decision passed off as a request is refused, stores
// nothing, and the attempt is logged.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDocument } from '../src/client/token';
import { rowsOf } from '../src/db/types';
import { DOCUMENT_TYPES } from '../src/disclosures/signed';
import { contact, person } from './support/people';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, partnerKey, startTestHub, type TestHub } from './support/hub';

const JUSTIFICATION =
  'Casus op maat (AVE 3): het veiligheidsplan voor de kinderen rust mede op de behandeling van moeder; de procesregisseur moet weten of zij in behandeling is en bij wie.';

describe(`signed documents carry their type, this hub and a fresh iat (${dbKind})`, () => {
  let hub: TestHub;
  let subject: string;
  const now = () => Math.floor(hub.clock().getTime() / 1000);

  beforeAll(async () => {
    hub = await startTestHub();
    subject = person().subject;
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
  });
  afterAll(() => hub?.close());

  const sign = async (partner: string, payload: Record<string, unknown>, typ: string) =>
    signDocument({ partner, jwk: (await partnerKey(partner)).privateJwk }, payload, typ);

  /** A request as the client makes it, with `change` applied to its claims. */
  const request = (change: Record<string, unknown> = {}, typ: string = DOCUMENT_TYPES.request) =>
    sign('gemeente', {
      aud: hub.config.hubId,
      sub: 'pr-de-vries',
      iat: now(),
      jti: crypto.randomUUID(),
      subject,
      holder: 'verslavingszorg',
      purpose: 'procesregie-casus-op-maat',
      legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie'],
      caseRef: 'ZVH-SIG',
      justification: JUSTIFICATION,
      urgency: 'regular',
      ...change,
    }, typ);

  async function post(path: string, body: Record<string, string>, partner = 'gemeente', role = 'procesregisseur', sub = 'pr-de-vries') {
    return send(hub, { path, token: await tokenFor(hub, partner, role, sub), json: body });
  }

  const requestCount = async () => Number((await rowsOf<{ n: number }>(hub.database.db, sql`select count(*)::int as n from disclosure_requests`))[0]!.n);

  /** Refused 400 naming the field, nothing stored, and the attempt in the log. */
  async function refused(res: Awaited<ReturnType<typeof post>>, field: string, before: number) {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ type: '/problems/invalid-signature', errors: [{ field }] });
    expect(await requestCount()).toBe(before);
    const entries = await auditOf(hub, res.requestId);
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([['request.rejected', 'rejected']]);
    expect(entries[0]!.detail).toMatchObject({ type: 'invalid-signature', errors: [{ field }] });
  }

  it('a well-formed request is accepted (the baseline the others differ from by one claim)', async () => {
    const res = await post('/v1/disclosures', { request: await request() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });

  it('a request signed in 1970 is refused', async () => {
    const before = await requestCount();
    await refused(await post('/v1/disclosures', { request: await request({ iat: 1 }) }), 'request.iat', before);
  });

  it('a request signed longer ago than a token may live is refused; one signed within it is accepted', async () => {
    const window = hub.config.limits.tokenMaxLifetimeSeconds + hub.config.limits.clockSkewSeconds;
    const before = await requestCount();
    await refused(await post('/v1/disclosures', { request: await request({ iat: now() - window - 1 }) }), 'request.iat', before);
    expect((await post('/v1/disclosures', { request: await request({ iat: now() - window + 5 }) })).status).toBe(201);
  });

  it('a request signed in the future (beyond the clock skew) is refused', async () => {
    const before = await requestCount();
    await refused(await post('/v1/disclosures', { request: await request({ iat: now() + hub.config.limits.clockSkewSeconds + 60 }) }), 'request.iat', before);
  });

  it('a request for another hub, or for no hub at all, is refused', async () => {
    const before = await requestCount();
    await refused(await post('/v1/disclosures', { request: await request({ aud: 'urn:kenbaar:hub:elsewhere' }) }), 'request.aud', before);
    await refused(await post('/v1/disclosures', { request: await request({ aud: undefined }) }), 'request.aud', before);
  });

  it('a request typed as something else (a decision, a plain JWT, untyped) is refused', async () => {
    const before = await requestCount();
    for (const typ of [DOCUMENT_TYPES.decision, 'JWT', '']) {
      await refused(await post('/v1/disclosures', { request: await request({}, typ) }), 'request.typ', before);
    }
  });

  it('a decision typed as a request, for another hub, or signed in 1970 is refused; the request stays pending', async () => {
    const asked = await post('/v1/disclosures', { request: await request() });
    expect(asked.status).toBe(201);
    const id = (asked.body as unknown as { request: { id: string } }).request.id;
    const decision = (change: Record<string, unknown> = {}, typ: string = DOCUMENT_TYPES.decision) =>
      sign('zorg-en-veiligheidshuis', { aud: hub.config.hubId, sub: 'im-bakker', iat: now(), jti: crypto.randomUUID(), request: id, outcome: 'approve', ...change }, typ);
    const decide = async (jws: string) => post(`/v1/disclosures/${id}/decisions`, { decision: jws }, 'zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker');
    const decisions = async () => Number((await rowsOf<{ n: number }>(hub.database.db, sql`select count(*)::int as n from disclosure_decisions where request_id = ${id}`))[0]!.n);

    for (const [jws, field] of [
      [await decision({}, DOCUMENT_TYPES.request), 'decision.typ'],
      [await decision({ aud: 'urn:kenbaar:hub:elsewhere' }), 'decision.aud'],
      [await decision({ iat: 1 }), 'decision.iat'],
    ] as const) {
      const res = await decide(jws);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ type: '/problems/invalid-signature', errors: [{ field }] });
      expect((await auditOf(hub, res.requestId)).map((e) => e.action)).toEqual(['request.rejected']);
    }
    expect(await decisions()).toBe(0);
    expect((await decide(await decision())).status).toBe(201);
    expect(await decisions()).toBe(1);
  });
});
