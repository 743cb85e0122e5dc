// A signed disclosure request or decision is the act of the person who signed it: the `sub` it names
// must be the professional whose token presents it. One professional of a partner cannot hand in a
// colleague's signed request, nor a broker a colleague's decision (which would let one person cast
// another's approval). Refused 403 with rule `signer-not-actor`, nothing stored, the attempt logged.
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

describe(`a signed document is presented by the person who signed it (${dbKind})`, () => {
  let hub: TestHub;
  let subject: string;
  const now = () => Math.floor(hub.clock().getTime() / 1000);

  beforeAll(async () => {
    hub = await startTestHub();
    subject = person().subject;
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
  });
  afterAll(() => hub?.close());

  const sign = async (partner: string, payload: Record<string, unknown>, typ: string) => signDocument({ partner, jwk: (await partnerKey(partner)).privateJwk }, payload, typ);

  const request = (sub: string) =>
    sign(
      'gemeente',
      {
        aud: hub.config.hubId,
        sub,
        iat: now(),
        jti: crypto.randomUUID(),
        subject,
        holder: 'verslavingszorg',
        purpose: 'procesregie-casus-op-maat',
        legalBasis: 'uavg-30-33',
        categories: ['behandelrelatie'],
        caseRef: 'ZVH-SNA',
        justification: JUSTIFICATION,
        urgency: 'regular',
      },
      DOCUMENT_TYPES.request,
    );

  async function post(path: string, body: Record<string, string>, partner: string, role: string, sub: string) {
    return send(hub, { path, token: await tokenFor(hub, partner, role, sub), json: body });
  }
  const count = async (table: 'disclosure_requests' | 'disclosure_decisions') =>
    Number((await rowsOf<{ n: number }>(hub.database.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n);

  /** 403 naming the field, and one rejection entry under the presenter's name (not the signer's). */
  async function expectSignerNotActor(res: Awaited<ReturnType<typeof post>>, field: string, presenter: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body).toMatchObject({ type: '/problems/forbidden', rule: 'signer-not-actor', errors: [{ field }] });
    const entries = await auditOf(hub, res.requestId);
    expect(entries.map((e) => [e.action, e.outcome, e.rule])).toEqual([['request.rejected', 'rejected', 'signer-not-actor']]);
    expect(entries[0]).toMatchObject({ actorSub: presenter });
  }

  it("a colleague's signed request is refused; the signer's own token gets it in", async () => {
    const jws = await request('pr-de-vries');
    const before = await count('disclosure_requests');
    await expectSignerNotActor(await post('/v1/disclosures', { request: jws }, 'gemeente', 'procesregisseur', 'pr-jansen'), 'request.sub', 'pr-jansen');
    expect(await count('disclosure_requests')).toBe(before);
    const own = await post('/v1/disclosures', { request: jws }, 'gemeente', 'procesregisseur', 'pr-de-vries');
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(await count('disclosure_requests')).toBe(before + 1);
  });

  it("a broker's signed decision presented by another broker of the house is refused; the request stays undecided", async () => {
    const asked = await post('/v1/disclosures', { request: await request('pr-de-vries') }, 'gemeente', 'procesregisseur', 'pr-de-vries');
    expect(asked.status).toBe(201);
    const id = (asked.body as unknown as { request: { id: string } }).request.id;
    const decision = await sign(
      'zorg-en-veiligheidshuis',
      { aud: hub.config.hubId, sub: 'im-bakker', iat: now(), jti: crypto.randomUUID(), request: id, outcome: 'approve' },
      DOCUMENT_TYPES.decision,
    );
    const decide = (sub: string) => post(`/v1/disclosures/${id}/decisions`, { decision }, 'zorg-en-veiligheidshuis', 'informatiemakelaar', sub);
    const before = await count('disclosure_decisions');
    await expectSignerNotActor(await decide('im-de-jong'), 'decision.sub', 'im-de-jong');
    expect(await count('disclosure_decisions')).toBe(before);
    const own = await decide('im-bakker');
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(await count('disclosure_decisions')).toBe(before + 1);
  });
});
