// The hand-over, rule by rule: the holder named in a live grant posts content once, encrypted to
// the requester's encryption key (ECDH-ES + A256GCM) and no larger than the covenant relays; the
// requester fetches it once and the hub's copy is wiped. Every refusal relays nothing and says why.
// Every step is logged with the request's subject, purpose and case.
import { sql } from 'drizzle-orm';
import { CompactEncrypt, decodeJwt, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError, type HubClient } from '../src/client/client';
import { rowsOf } from '../src/db/types';
import { signGrant } from '../src/disclosures/grant';
import { toBase64Url, utf8 } from '../src/encoding';
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
  /** The hand-over's audit entries whose detail names this request (or grant), in order. */
  const trail = (key: 'request' | 'grant', id: string) =>
    rowsOf<{ action: string; subject: string | null; purpose: string | null; caseRef: string | null; outcome: string; rule: string; reason: string | null }>(
      hub.database.db,
      sql`select action, subject, purpose, case_ref as "caseRef", outcome, rule, detail->>'reason' as reason from audit_entries where action like 'handover.%' and detail->>${key} = ${id} order by id`,
    );
  /** What the request is about, as the hub stored it: the subject (pseudonym), purpose and case. */
  const about = async (id: string) => (await rowsOf<{ subject: string; purpose: string; caseRef: string }>(hub.database.db, sql`select subject, purpose, case_ref as "caseRef" from disclosure_requests where id = ${id}`))[0]!;
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

  it('nothing handed over yet: 404 to the requester, and logged with the subject, purpose and case', async () => {
    const { request } = await breakGlass();
    const e = await refusal(agent.call('GET', `/v1/disclosures/${request.id}/handover`));
    expect(e.status).toBe(404);
    expect(e.problem.detail).toBe('Nothing has been handed over for this request yet');
    expect(await trail('request', request.id)).toEqual([{ action: 'handover.delivered', ...(await about(request.id)), outcome: 'rejected', rule: request.rule, reason: 'nothing handed over yet' }]);
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

  it('a hand-over is logged with its subject, purpose and case: posted and delivered as allowed, the wipe as ok because delivered, a second fetch as already delivered', async () => {
    const { request, grant } = await breakGlass();
    await vt.handOver(grant, policeKey, 'Drie eerdere meldingen.');
    await agent.call('GET', `/v1/disclosures/${request.id}/handover`);
    expect((await refusal(agent.call('GET', `/v1/disclosures/${request.id}/handover`))).status).toBe(410);
    const asked = await about(request.id);
    expect(asked).toEqual({ subject: expect.any(String), purpose: 'acuut-veiligheidsrisico', caseRef: 'PL-HO' });
    expect(await trail('request', request.id)).toEqual([
      { action: 'handover.posted', ...asked, outcome: 'allowed', rule: request.rule, reason: null },
      { action: 'handover.delivered', ...asked, outcome: 'allowed', rule: request.rule, reason: null },
      { action: 'handover.deleted', ...asked, outcome: 'ok', rule: request.rule, reason: 'delivered' },
      { action: 'handover.delivered', ...asked, outcome: 'rejected', rule: request.rule, reason: 'already delivered' },
    ]);
  });

  it('a fetch for an id that is no request: 404 (not a failure of the hub), logged as denied about nobody', async () => {
    const id = crypto.randomUUID();
    const e = await refusal(agent.call('GET', `/v1/disclosures/${id}/handover`));
    expect(e.status).toBe(404);
    expect(e.problem.detail).toBe('No disclosure request of yours with this id');
    expect(await trail('request', id)).toEqual([{ action: 'handover.delivered', subject: null, purpose: null, caseRef: null, outcome: 'denied', rule: 'requester-only', reason: null }]);
  });

  it('a grant addressed to another holder: 403 other-holder, the problem names the grant, nothing relayed', async () => {
    const { request, grant } = await breakGlass();
    const content = await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM', kid: policeKey.kid! });
    const e = await refusal(post(grant, content, agent));
    expect(e.status).toBe(403);
    expect(e.problem.rule).toBe('other-holder');
    expect(e.problem.errors).toEqual([{ field: 'grant', reason: 'addressed to another holder' }]);
    expect(await handovers(request.id)).toEqual([]);
  });

  it('a grant altered after the hub signed it does not verify: 403 invalid-grant, nothing relayed', async () => {
    const { request, grant } = await breakGlass();
    const [header, payload, signature] = grant.jwt.split('.');
    const altered = toBase64Url(utf8(JSON.stringify({ ...decodeJwt(grant.jwt), categories: ['alles'] })));
    expect(altered).not.toBe(payload);
    const content = await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM', kid: policeKey.kid! });
    const e = await refusal(post({ id: grant.id, jwt: [header, altered, signature].join('.') }, content));
    expect(e.status).toBe(403);
    expect(e.problem.rule).toBe('invalid-grant');
    expect(e.problem.errors).toEqual([{ field: 'grant', reason: 'does not verify' }]);
    expect(await handovers(request.id)).toEqual([]);
  });

  it('a grant the hub signed but has no record of: 403 invalid-grant (not a failure of the hub), logged as denied about nobody', async () => {
    const id = crypto.randomUUID();
    const now = hub.clock();
    const jwt = await signGrant(hub.config.signer, hub.config.hubId, {
      grant: id, request: crypto.randomUUID(), requester: 'politie', holder: 'veilig-thuis', registration: crypto.randomUUID(), subjectRef: 'nobody',
      categories: ['huiselijk-geweld-meldingen'], purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', caseRef: 'PL-HO', breakGlass: true,
      issuedAt: now, expiresAt: new Date(now.getTime() + HOUR),
    });
    const content = await encrypt('x', { alg: 'ECDH-ES', enc: 'A256GCM', kid: policeKey.kid! });
    const e = await refusal(post({ id, jwt }, content));
    expect(e.status).toBe(403);
    expect(e.problem.rule).toBe('invalid-grant');
    expect(await trail('grant', id)).toEqual([{ action: 'handover.posted', subject: null, purpose: null, caseRef: null, outcome: 'denied', rule: 'invalid-grant', reason: null }]);
  });
});
