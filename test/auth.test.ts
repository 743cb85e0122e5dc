// Partner authentication: every call carries a short-lived JWT signed by the partner system's own key
// (RFC 7519 / RFC 7523 bearer assertion). Each way a token can be wrong must be refused with a 401
// problem that says why, must leave an `auth.failure` entry in the audit log, and must have no effect.
import { CompactSign, decodeJwt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPartnerToken } from '../src/client/token';
import { dbKind, partnerKey, startTestHub, type TestHub } from './support/hub';
import { auditOf, send, storedRows, tokenFor, type Sent } from './support/http';
import { contact, person } from './support/people';

const b64url = (v: string | Uint8Array) => Buffer.from(v).toString('base64url');
const SKEW_S = 30; // DEFAULT_LIMITS.clockSkewSeconds, restated: the test pins the contract.

/** A registration any gemeente procesregisseur may make: the effect a bad token must not have. */
const registrationBody = () => ({ subject: person().subject, category: 'procesregie', contact: contact('Procesregie ZVH') });

type Craft = {
  /** The issuer claimed (default gemeente). */
  iss?: string;
  /** Private JWK to sign with (default the issuer's own key). */
  key?: JWK;
  header?: Record<string, unknown>;
  /** Claims over the defaults; `undefined` leaves a claim out. */
  claims?: Record<string, unknown>;
};

/** A token built by hand, so every header field and claim can be got wrong on purpose. */
async function craft(hub: TestHub, opts: Craft = {}): Promise<string> {
  const iss = opts.iss ?? 'gemeente';
  const key = opts.key ?? (await partnerKey(iss === 'nobody' ? 'gemeente' : iss)).privateJwk;
  const now = Math.floor(hub.clock().getTime() / 1000);
  const payload = {
    iss,
    sub: `${iss}-user`,
    aud: hub.config.hubId,
    role: 'procesregisseur',
    iat: now,
    exp: now + 60,
    jti: crypto.randomUUID(),
    ...opts.claims,
  };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.alg!, kid: key.kid, typ: 'JWT', ...opts.header })
    .sign(await importJWK(key, key.alg));
}

async function register(hub: TestHub, token: string | undefined): Promise<Sent> {
  return send(hub, { method: 'POST', path: '/v1/registrations', ...(token !== undefined ? { token } : {}), json: registrationBody() });
}

/** 401 problem+json with the reason and a challenge, one auth.failure entry with that reason, nothing stored. */
async function expectRefused(hub: TestHub, token: string | undefined, reason: string): Promise<Sent> {
  const before = await storedRows(hub);
  const res = await register(hub, token);
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  expect(res.body).toMatchObject({ type: '/problems/unauthenticated', status: 401, reason });
  const entries = await auditOf(hub, res.requestId);
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ action: 'auth.failure', outcome: 'denied', actorPartner: null, actorSub: null });
  expect(entries[0]!.detail).toMatchObject({ reason, method: 'POST', path: '/v1/registrations' });
  expect(await storedRows(hub)).toEqual(before);
  return res;
}

describe(`partner authentication (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('a correctly made token is accepted (so every refusal below is the flaw it names)', async () => {
    const res = await register(hub, await craft(hub));
    expect(res.status).toBe(201);
    const entries = await auditOf(hub, res.requestId);
    expect(entries.map((e) => e.action)).toEqual(['registration.create']);
    expect(entries[0]).toMatchObject({ actorPartner: 'gemeente', actorSub: 'gemeente-user', actorRole: 'procesregisseur' });
  });

  it('a request without an Authorization header is refused and logged', async () => {
    await expectRefused(hub, undefined, 'missing-token');
  });

  it('a bearer token that is not a JWT is refused and logged', async () => {
    await expectRefused(hub, 'not.a-jwt', 'malformed-token');
    await expectRefused(hub, 'hello', 'malformed-token');
  });

  it('a token signed with alg none is refused and logged', async () => {
    const now = Math.floor(hub.clock().getTime() / 1000);
    const { kid } = (await partnerKey('gemeente')).publicJwk;
    const header = b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid }));
    const payload = b64url(
      JSON.stringify({ iss: 'gemeente', sub: 'x', aud: hub.config.hubId, role: 'procesregisseur', iat: now, exp: now + 60, jti: crypto.randomUUID() }),
    );
    await expectRefused(hub, `${header}.${payload}.`, 'unsupported-alg');
  });

  it('a token HMAC-signed (HS256) with the partner public key as secret is refused and logged (algorithm confusion)', async () => {
    const publicJwk = (await partnerKey('gemeente')).publicJwk;
    const now = Math.floor(hub.clock().getTime() / 1000);
    const payload = { iss: 'gemeente', sub: 'x', aud: hub.config.hubId, role: 'procesregisseur', iat: now, exp: now + 60, jti: crypto.randomUUID() };
    const token = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid, typ: 'JWT' })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await expectRefused(hub, token, 'unsupported-alg');
  });

  it('a token naming a kid the issuer never published is refused and logged', async () => {
    await expectRefused(hub, await craft(hub, { header: { kid: 'gemeente-test-99' } }), 'unknown-kid');
  });

  it('a token naming no kid at all is refused and logged', async () => {
    await expectRefused(hub, await craft(hub, { header: { kid: undefined } }), 'unknown-kid');
  });

  it("a token signed with another partner's key and kid, claiming to be the gemeente, is refused and logged", async () => {
    const politie = (await partnerKey('politie')).privateJwk;
    await expectRefused(hub, await craft(hub, { iss: 'gemeente', key: politie }), 'kid-not-owned-by-issuer');
  });

  it("a token naming the issuer's kid but signed with another key does not verify and is refused and logged", async () => {
    const politie = (await partnerKey('politie')).privateJwk;
    const { kid } = (await partnerKey('gemeente')).publicJwk;
    await expectRefused(hub, await craft(hub, { key: politie, header: { kid } }), 'bad-signature');
  });

  it('a token from an issuer that is not a partner of the covenant is refused and logged', async () => {
    const res = await expectRefused(hub, await craft(hub, { iss: 'nobody' }), 'unknown-issuer');
    // What the token claimed is kept for the privacy officer, but never as the actor.
    const [entry] = await auditOf(hub, res.requestId);
    expect(entry!.detail).toMatchObject({ claimed: { iss: 'nobody' } });
  });

  it('a token for another audience than this hub is refused and logged', async () => {
    await expectRefused(hub, await craft(hub, { claims: { aud: 'urn:kenbaar:hub:elsewhere' } }), 'wrong-audience');
  });

  it('an expired token is refused and logged once the clock-skew allowance has passed', async () => {
    const token = await craft(hub); // exp = now + 60
    const started = hub.clock();
    try {
      hub.clock.advance((60 + SKEW_S + 1) * 1000);
      await expectRefused(hub, token, 'expired');
    } finally {
      hub.clock.set(started);
    }
  });

  it('a token just past exp but within the clock-skew allowance is still accepted', async () => {
    const token = await craft(hub);
    const started = hub.clock();
    try {
      hub.clock.advance((60 + SKEW_S - 2) * 1000);
      expect((await register(hub, token)).status).toBe(201);
    } finally {
      hub.clock.set(started);
    }
  });

  it('a token issued in the future (beyond the clock skew) is refused and logged', async () => {
    const now = Math.floor(hub.clock().getTime() / 1000);
    const iat = now + SKEW_S + 60;
    await expectRefused(hub, await craft(hub, { claims: { iat, exp: iat + 60 } }), 'issued-in-future');
  });

  it('a token living longer than 5 minutes (exp - iat > 300 s) is refused and logged', async () => {
    const now = Math.floor(hub.clock().getTime() / 1000);
    await expectRefused(hub, await craft(hub, { claims: { iat: now, exp: now + 301 } }), 'lifetime-too-long');
    // Exactly five minutes is allowed.
    expect((await register(hub, await craft(hub, { claims: { iat: now, exp: now + 300 } }))).status).toBe(201);
  });

  it.each(['jti', 'sub', 'role', 'exp', 'iat'])('a token without %s is refused and logged', async (claim) => {
    await expectRefused(hub, await craft(hub, { claims: { [claim]: undefined } }), 'missing-claim');
  });

  it.each([
    ['sub', 42],
    ['sub', ''],
    ['jti', 42],
    ['jti', ''],
    ['role', ['procesregisseur']],
  ])('a token whose %s is %j is refused and logged', async (claim, value) => {
    await expectRefused(hub, await craft(hub, { claims: { [claim]: value } }), 'missing-claim');
  });

  describe('a claim the database could not store (U+0000, a lone surrogate) or a huge one', () => {
    const HOSTILE: [string, string, string][] = [
      ['U+0000', 'a\u0000b', 'a\\u0000b'],
      ['a lone high surrogate', 'a\ud800b', 'a\\ud800b'],
      ['a lone low surrogate', 'a\udc00b', 'a\\udc00b'],
    ];
    const gemeenteKey = async () => (await partnerKey('gemeente')).privateJwk;
    const tokens: Record<string, (hub: TestHub, v: string) => Promise<string>> = {
      iss: async (hub, v) => craft(hub, { iss: v, key: await gemeenteKey() }),
      kid: async (hub, v) => craft(hub, { header: { kid: v } }),
      sub: (hub, v) => craft(hub, { claims: { sub: v } }),
      role: (hub, v) => craft(hub, { claims: { role: v } }),
      jti: (hub, v) => craft(hub, { claims: { jti: v } }),
    };

    for (const [claim, make] of Object.entries(tokens)) {
      it.each(HOSTILE)(`a token whose ${claim} holds %s is refused (invalid-claim, naming token.${claim}) and logged with the claim escaped`, async (_name, bad, escaped) => {
        const res = await expectRefused(hub, await make(hub, bad), 'invalid-claim');
        expect(res.body.errors).toEqual([{ field: `token.${claim}`, reason: expect.any(String) }]);
        const [entry] = await auditOf(hub, res.requestId);
        expect((entry!.detail as { claimed: Record<string, string> }).claimed[claim]).toBe(escaped);
      });
    }

    it('a token whose sub is longer than 200 characters is refused naming token.sub; the log keeps a bounded form', async () => {
      const res = await expectRefused(hub, await craft(hub, { claims: { sub: 's'.repeat(2_000) } }), 'invalid-claim');
      expect(res.body.errors).toEqual([{ field: 'token.sub', reason: expect.stringMatching(/200/) }]);
      const [entry] = await auditOf(hub, res.requestId);
      const sub = (entry!.detail as { claimed: { sub: string } }).claimed.sub;
      expect(sub.length).toBeLessThanOrEqual(200);
      expect(sub).toMatch(/^s+… \[2000 chars, sha256 [0-9a-f]{16}\]$/);
    });

    it('a 1 MB token (a 1 MB claim) is refused as malformed before it is decoded; the log entry stays small', async () => {
      const res = await expectRefused(hub, await craft(hub, { claims: { sub: 'x'.repeat(1_000_000) } }), 'malformed-token');
      expect(JSON.stringify(await auditOf(hub, res.requestId)).length).toBeLessThan(2_000);
    });
  });

  it('a token for a role the covenant does not know at all is refused as such (unknown-role) and logged with the role', async () => {
    const res = await expectRefused(hub, await craft(hub, { claims: { role: 'superuser' } }), 'unknown-role');
    expect(res.body.errors).toEqual([{ field: 'token.role', reason: expect.stringMatching(/superuser/) }]);
    const [entry] = await auditOf(hub, res.requestId);
    expect(entry!.detail).toMatchObject({ claimed: { iss: 'gemeente', sub: 'gemeente-user', role: 'superuser' } });
  });

  it('a token whose payload was altered after signing is refused and logged', async () => {
    const [header, payload, signature] = (await craft(hub, { claims: { role: 'professional' } })).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = b64url(JSON.stringify({ ...claims, role: 'procesregisseur' }));
    await expectRefused(hub, `${header}.${tampered}.${signature}`, 'bad-signature');
  });

  it('a token is accepted once; replaying the same jti is refused and logged as replayed-jti', async () => {
    const token = await craft(hub);
    const body = registrationBody();
    const first = await send(hub, { method: 'POST', path: '/v1/registrations', token, json: body });
    expect(first.status).toBe(201);

    const before = await storedRows(hub);
    // The same request again: if it got through it would be a (harmless-looking) renewal.
    const replay = await send(hub, { method: 'POST', path: '/v1/registrations', token, json: body });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    expect(replay.body).toMatchObject({ type: '/problems/unauthenticated', reason: 'replayed-jti' });
    const entries = await auditOf(hub, replay.requestId);
    expect(entries.map((e) => [e.action, e.outcome])).toEqual([['auth.failure', 'denied']]);
    expect(entries[0]!.detail).toMatchObject({ reason: 'replayed-jti' });
    expect(await storedRows(hub)).toEqual(before);
  });

  it('a replayed token is refused as a replay even when its new request is also bad input', async () => {
    const token = await craft(hub);
    expect((await register(hub, token)).status).toBe(201);
    const replay = await send(hub, { method: 'POST', path: '/v1/registrations', token, json: { subject: 'nonsense' } });
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ type: '/problems/unauthenticated', reason: 'replayed-jti' });
    const entries = await auditOf(hub, replay.requestId);
    expect(entries.map((e) => [e.action, e.actorPartner])).toEqual([['auth.failure', null]]);
  });

  it('a valid token for a role the partner does not hold in the covenant is refused 403 (role-not-held) and logged', async () => {
    // The politie has no procesregisseur in this covenant (partners.yaml).
    const before = await storedRows(hub);
    const token = await tokenFor(hub, 'politie', 'procesregisseur', 'agent-12');
    const res = await send(hub, {
      method: 'POST',
      path: '/v1/registrations',
      token,
      json: { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ type: '/problems/forbidden', rule: 'role-not-held' });
    const entries = await auditOf(hub, res.requestId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'registration.create',
      outcome: 'denied',
      rule: 'role-not-held',
      actorPartner: 'politie',
      actorRole: 'procesregisseur',
      actorSub: 'agent-12',
    });
    expect(await storedRows(hub)).toEqual(before);
  });

  it('a lookup in a role the partner does not hold is refused 403 (role-not-held) and logged', async () => {
    const token = await tokenFor(hub, 'politie', 'procesregisseur', 'agent-13');
    const res = await send(hub, {
      method: 'POST',
      path: '/v1/lookups',
      token,
      json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'PL-2026-9' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ rule: 'role-not-held' });
    const entries = await auditOf(hub, res.requestId);
    expect(entries.map((e) => [e.action, e.outcome, e.rule])).toEqual([['lookup', 'denied', 'role-not-held']]);
  });
});

describe(`partner keys: algorithms and rotation (${dbKind})`, () => {
  let hub: TestHub;
  let eddsa: JWK;
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = 'gemeente-test-ed25519';
    eddsa = { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
    const eddsaPublic = { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' };
    // The gemeente publishes three keys: its ES256 key, an Ed25519 key, and a rotated-in ES256 key.
    hub = await startTestHub({ extraPartnerKeys: { gemeente: [eddsaPublic, (await partnerKey('gemeente', 1)).publicJwk] } });
  });
  afterAll(() => hub?.close());

  const signWith = (jwk: JWK) =>
    signPartnerToken({ partner: 'gemeente', jwk }, { sub: 'pr-jansen', role: 'procesregisseur', audience: hub.config.hubId, now: hub.clock() });

  it('a token signed with an ES256 key is accepted', async () => {
    const token = await signWith((await partnerKey('gemeente')).privateJwk);
    expect(decodeJwt(token)).toMatchObject({ iss: 'gemeente' });
    expect((await register(hub, token)).status).toBe(201);
  });

  it('a token signed with an EdDSA (Ed25519) key is accepted', async () => {
    const res = await register(hub, await signWith(eddsa));
    expect(res.status).toBe(201);
    expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'registration.create', actorPartner: 'gemeente' });
  });

  it('during key rotation, tokens signed with either published key verify', async () => {
    const oldKey = (await partnerKey('gemeente', 0)).privateJwk;
    const newKey = (await partnerKey('gemeente', 1)).privateJwk;
    expect(oldKey.kid).not.toBe(newKey.kid);
    expect((await register(hub, await signWith(oldKey))).status).toBe(201);
    expect((await register(hub, await signWith(newKey))).status).toBe(201);
  });

  it('a key that is not (or no longer) published is refused, even with a well-formed token', async () => {
    const { publicKey: _p, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const stray = { ...(await exportJWK(privateKey)), kid: 'gemeente-test-retired', alg: 'ES256' };
    await expectRefused(hub, await signWith(stray), 'unknown-kid');
  });

  it('an EdDSA key published by the gemeente cannot be used for the politie', async () => {
    const token = await signPartnerToken({ partner: 'politie', jwk: eddsa }, { sub: 'x', role: 'professional', audience: hub.config.hubId, now: hub.clock() });
    await expectRefused(hub, token, 'kid-not-owned-by-issuer');
  });
});
