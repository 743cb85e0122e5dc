// Family lookups: a procesregisseur weighing a household asks about its members in one request, for
// one purpose and case. Each member is answered as a lookup of its own would be, and each member's
// lookup is its own audit entry; a refusal refuses (and logs) them all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../src/client/client';
import { MAX_FAMILY } from '../src/lookups/routes';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { auditOf, send, tokenFor } from './support/http';
import { contact, person } from './support/people';

const PROCESREGIE = 'procesregie-casus-op-maat';

describe(`family lookups (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  /** A household of four: the police know the father, verslavingszorg the mother, the children nobody. */
  async function household() {
    const [father, mother, son, daughter] = [person(), person(), person(), person()];
    await (await hub.as('politie', 'partner-system')).register({ subject: father.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    return [father, mother, son, daughter].map((p) => p.subject);
  }

  it('answers each member in the order asked, exactly as separate lookups do', async () => {
    const subjects = await household();
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    const family = await pr.lookupFamily(subjects, PROCESREGIE, 'ZVH-2026-0500');
    expect(family.results.map((r) => r.subject)).toEqual(subjects);
    expect(family.results.map((r) => r.knownBy.map((k) => k.partner))).toEqual([['politie'], ['verslavingszorg'], [], []]);
    for (const [i, subject] of subjects.entries()) {
      const single = await pr.lookup(subject, PROCESREGIE, 'ZVH-2026-0500');
      expect(family.results[i]!.knownBy).toEqual(single.knownBy);
      expect(family.results[i]!.decision).toEqual(single.decision);
    }
    expect(new Set(family.results.map((r) => r.lookupId)).size).toBe(4);
  });

  it("logs each member's lookup as its own entry, with the family's id, before answering", async () => {
    const subjects = await household();
    const token = await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-de-vries');
    const res = await send(hub, { path: '/v1/lookups/family', token, json: { subjects, purpose: PROCESREGIE, caseRef: 'ZVH-2026-0501' } });
    expect(res.status).toBe(200);
    const results = res.body.results as { lookupId: string; knownBy: { partner: string }[] }[];
    const entries = await auditOf(hub, res.requestId);
    expect(entries).toHaveLength(4);
    expect(entries.every((e) => e.action === 'lookup' && e.outcome === 'allowed' && e.purpose === PROCESREGIE && e.caseRef === 'ZVH-2026-0501' && e.actorSub === 'pr-de-vries')).toBe(true);
    expect(entries.map((e) => (e.detail as { lookupId: string }).lookupId)).toEqual(results.map((r) => r.lookupId));
    expect(entries.map((e) => (e.detail as { knownBy: string[] }).knownBy)).toEqual(results.map((r) => r.knownBy.map((k) => k.partner)));
    expect(new Set(entries.map((e) => (e.detail as { familyId: string }).familyId))).toEqual(new Set([res.body.familyId]));
    // Four people, four hub pseudonyms, none of them a pseudonym the partner sent.
    expect(new Set(entries.map((e) => e.subject)).size).toBe(4);
    expect(entries.some((e) => subjects.includes(e.subject!))).toBe(false);
    // The token was used up by that one statement.
    const again = await send(hub, { path: '/v1/lookups/family', token, json: { subjects, purpose: PROCESREGIE, caseRef: 'ZVH-2026-0501' } });
    expect(again.status).toBe(401);
  });

  it('refuses the whole family when the covenant refuses the lookup, and logs every member as refused', async () => {
    const subjects = await household();
    const token = await tokenFor(hub, 'politie', 'professional', 'agent-7');
    const res = await send(hub, { path: '/v1/lookups/family', token, json: { subjects, purpose: 'vroegsignalering-jeugd', caseRef: 'PL-2026-1' } });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ type: '/problems/purpose-not-allowed' });
    expect(res.body).not.toHaveProperty('results');
    const entries = await auditOf(hub, res.requestId);
    expect(entries.map((e) => [e.action, e.outcome, e.rule])).toEqual(subjects.map(() => ['lookup', 'denied', res.body.rule]));
  });

  it(`refuses more than ${MAX_FAMILY} members, a member named twice, and no members (400, logged)`, async () => {
    const pr = await hub.as('gemeente', 'procesregisseur');
    const one = person().subject;
    for (const subjects of [Array.from({ length: MAX_FAMILY + 1 }, () => person().subject), [one, one], []]) {
      const err = await pr.lookupFamily(subjects, PROCESREGIE, 'ZVH-2026-0502').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HubError);
      expect((err as HubError).status).toBe(400);
      expect(((err as HubError).problem.errors as { field: string }[] | undefined)?.[0]).toMatchObject({ field: expect.stringMatching(/^subjects/) });
    }
    // Twenty is allowed.
    const twenty = await pr.lookupFamily(Array.from({ length: MAX_FAMILY }, () => person().subject), PROCESREGIE, 'ZVH-2026-0503');
    expect(twenty.results).toHaveLength(MAX_FAMILY);
  });

  it('is documented in the OpenAPI description', async () => {
    const doc = (await (await hub.app.request('/openapi.json')).json()) as { paths: Record<string, { post?: { security?: unknown } }> };
    expect(doc.paths['/v1/lookups/family']?.post?.security).toEqual([{ partnerJwt: [] }]);
  });
});
