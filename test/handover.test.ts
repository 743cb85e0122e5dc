// The hand-over, rule by rule: the holder named in a live grant posts content once, encrypted to
// the requester's encryption key (ECDH-ES + A256GCM) and no larger than the covenant relays; the
// requester fetches it once and the hub's copy is wiped. Every refusal relays nothing and says why.
import { sql } from 'drizzle-orm';
import { CompactEncrypt, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError, type HubClient } from '../src/client/client';
import { rowsOf } from '../src/db/types';
import { breakGlassAtVeiligThuis } from './support/disclosure';
import { dbKind, partnerEncryptionKey, startTestHub, type TestHub } from './support/hub';

const HOUR = 3_600_000;

async function refusal(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected the hub to refuse').toBeInstanceOf(HubError);
  return e as HubError;
}

describe(`the hand-over, rule by rule (${dbKind})`, () => {
  let hub: TestHub;
  let agent: HubClient;
  let vt: HubClient;
  let policeKey: JWK;

  beforeAll(async () => {
    hub = await startTestHub();
    agent = await hub.as('politie', 'professional', 'agent-ho');
    vt = await hub.as('veilig-thuis', 'professional', 'vt-ho');
    policeKey = (await partnerEncryptionKey('politie')).publicJwk;
  });
  afterAll(() => hub?.close());

  const breakGlass = async () => {
    const { request, grant } = await breakGlassAtVeiligThuis(hub, agent, { caseRef: 'PL-HO', justification: 'Melding 112: dreiging met geweld, kinderen in huis; eerdere meldingen zijn nu nodig.' });
    return { request, grant: grant! };
  };
  const handovers = (id: string) => rowsOf<{ ciphertext: string | null; bytes: number; delete_reason: string | null; expires_at: Date }>(hub.database.db, sql`select ciphertext, bytes, delete_reason, expires_at from handovers where request_id = ${id}`);
  const logged = (grant: string) => rowsOf<{ outcome: string; rule: string; detail: Record<string, unknown> }>(hub.database.db, sql`select outcome, rule, detail from audit_entries where action = 'handover.posted' and detail->>'grant' = ${grant} order by id`);
  const encrypt = async (content: string, header: { alg: string; enc: string; kid?: string }, key: JWK = policeKey) =>
    new CompactEncrypt(new TextEncoder().encode(content)).setProtectedHeader(header).encrypt(await importJWK(key, 'ECDH-ES'));
  const post = (grant: { id: string; jwt: string }, content: string, as: HubClient = vt) => as.call('POST', `/v1/disclosures/grants/${grant.id}/handover`, { grant: grant.jwt, content });

  it('the holder posts: 202 with the size and the end of the relay; the requester fetches once, then it is gone', async () => {
    const { request, grant } = await breakGlass();
    const content = await encrypt('Twee eerdere meldingen.', { alg: 'ECDH-ES', enc: 'A256GCM', kid: policeKey.kid! });
    const posted = await post(grant, content) as { handover: string; expiresAt: string; bytes: number };
    const retention = hub.config.covenant.disclosure.relayRetentionHours * HOUR;
    expect(posted).toEqual({ handover: expect.any(String), bytes: content.length, expiresAt: new Date(hub.clock().getTime() + retention).toISOString() });
    expect(await logged(grant.id)).toEqual([{ outcome: 'allowed', rule: request.rule, detail: { handover: posted.handover, grant: grant.id, request: request.id, bytes: content.length, kid: policeKey.kid } }]);
    expect(await agent.call('GET', `/v1/disclosures/${request.id}/handover`)).toEqual({ grant: grant.id, content });
    const [row] = await handovers(request.id);
    expect(row).toMatchObject({ ciphertext: null, delete_reason: 'delivered', bytes: content.length });
    const again = await refusal(agent.call('GET', `/v1/disclosures/${request.id}/handover`));
    expect(again.status).toBe(410);
    expect(again.problem.detail).toBe('The content was delivered and is no longer held');
  });

  it('content is posted once per grant: a second post is a conflict and relays nothing more', async () => {
    const { request, grant } = await breakGlass();
    await vt.handOver(grant, policeKey, 'Eerste.');
    const e = await refusal(vt.handOver(grant, policeKey, 'Tweede.'));
    expect(e.status).toBe(409);
    expect(await handovers(request.id)).toHaveLength(1);
    expect((await logged(grant.id)).map((l) => [l.outcome, l.detail.reason ?? null])).toEqual([['allowed', null], ['rejected', 'already handed over']]);
  });

  it('nothing handed over yet: 404 to the requester, and logged', async () => {
    const { request } = await breakGlass();
    const e = await refusal(agent.call('GET', `/v1/disclosures/${request.id}/handover`));
    expect(e.status).toBe(404);
    expect(e.problem.detail).toBe('Nothing has been handed over for this request yet');
    const [entry] = await rowsOf<{ outcome: string; detail: Record<string, unknown> }>(hub.database.db, sql`select outcome, detail from audit_entries where action = 'handover.delivered' and detail->>'request' = ${request.id}`);
    expect(entry).toEqual({ outcome: 'rejected', detail: { request: request.id, reason: 'nothing handed over yet' } });
  });

  it('the covenant\'s size bound: exactly the maximum is relayed, one byte more is refused (413)', async () => {
    const max = hub.config.covenant.disclosure.maxCiphertextBytes;
    const { request, grant } = await breakGlass();
    // A compact JWE padded to a given length in its (ignored-by-the-hub) ciphertext part.
    const real = await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM', kid: policeKey.kid! });
    const parts = real.split('.');
    const sized = (n: number) => [parts[0], parts[1], parts[2], 'A'.repeat(n - real.length + parts[3]!.length), parts[4]].join('.');
    const tooBig = await refusal(post(grant, sized(max + 1)));
    expect(tooBig.status).toBe(413);
    expect(tooBig.problem.errors).toEqual([{ field: 'content', reason: 'too large' }]);
    expect(await handovers(request.id)).toEqual([]);
    expect(((await post(grant, sized(max))) as { bytes: number }).bytes).toBe(max);
  });

  it('a grant for another id than the path: 400, nothing relayed', async () => {
    const { request, grant } = await breakGlass();
    const other = await breakGlass();
    const content = await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM', kid: policeKey.kid! });
    const e = await refusal(vt.call('POST', `/v1/disclosures/grants/${other.grant.id}/handover`, { grant: grant.jwt, content }));
    expect(e.status).toBe(400);
    expect(e.problem.errors).toEqual([{ field: 'grant', reason: 'differs from the path' }]);
    expect(await handovers(request.id)).toEqual([]);
    expect(await handovers(other.request.id)).toEqual([]);
  });

  it('the envelope: another algorithm, another encryption, no kid, or a key not the requester\'s is refused (400)', async () => {
    const { request, grant } = await breakGlass();
    const vtKey = (await partnerEncryptionKey('veilig-thuis')).publicJwk;
    const kids = hub.config.keyring.encryptionKeys('politie').map((k) => k.kid).join(', ');
    const cases: [string, string][] = [
      [await encrypt('x', { alg: 'ECDH-ES+A128KW', enc: 'A256GCM', kid: policeKey.kid! }), 'must be encrypted with alg ECDH-ES and enc A256GCM'],
      [await encrypt('x', { alg: 'ECDH-ES', enc: 'A128GCM', kid: policeKey.kid! }), 'must be encrypted with alg ECDH-ES and enc A256GCM'],
      [await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM' }), `must be encrypted to an encryption key of politie (kid one of ${kids})`],
      [await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM', kid: vtKey.kid! }, vtKey), `must be encrypted to an encryption key of politie (kid one of ${kids})`],
    ];
    for (const [content, reason] of cases) {
      const e = await refusal(post(grant, content));
      expect(e.status, reason).toBe(400);
      expect(e.problem.errors).toEqual([{ field: 'content', reason }]);
    }
    const notJwe = await refusal(post(grant, 'e30.e30.e30.e30.e30'.replace(/^e30/, 'bm90IGpzb24')));
    expect(notJwe.problem.errors).toEqual([{ field: 'content', reason: 'not a compact JWE' }]);
    expect(await handovers(request.id)).toEqual([]);
  });

  it('a grant is taken up to the moment it ends: expired from its expiresAt on (rule grant-expired)', async () => {
    const { request, grant } = await breakGlass();
    const ends = Date.parse(grant.expiresAt);
    const start = hub.clock();
    try {
      hub.clock.set(new Date(ends));
      const e = await refusal(vt.handOver(grant, policeKey, 'Te laat.'));
      expect(e.status).toBe(403);
      expect(e.problem).toMatchObject({ rule: 'grant-expired', errors: [{ field: 'grant', reason: 'expired' }] });
      hub.clock.set(new Date(ends - 1000));
      await vt.handOver(grant, policeKey, 'Net op tijd.');
    } finally {
      hub.clock.set(start);
    }
    expect(await handovers(request.id)).toHaveLength(1);
  });
});
