// The exact edges of partner authentication, written from the mutants StrykerJS left alive in
// src/auth/ (TESTING.md): where the token's time window begins and ends, how long a claim and a token
// may be, which failure is named for which flaw, which key is whose, and how long the replay store
// remembers a token id. Directly on verifyPartnerToken, the keyring and the replay store: no hub.
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partnerKeyring, type PartnerKeyring } from '../src/auth/keyring';
import { claimTokenId, forgetExpiredTokenIds, tokenKey } from '../src/auth/replay';
import { keyFits, webCryptoSignatureCheck } from '../src/auth/signature';
import { AuthError, MAX_CLAIM_LENGTH, MAX_TOKEN_LENGTH, verifyPartnerToken, type TokenPolicy } from '../src/auth/token';
import type { Database } from '../src/node/database';
import { dbKind, testDatabase } from './support/hub';

const AUD = 'urn:kenbaar:hub:test';
/** A whole second, so `now` in seconds has no fraction and the edges below are exact. */
const NOW = new Date('2026-06-01T10:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const SKEW = 30;
const MAX_LIFETIME = 300;
const policy: TokenPolicy = { audience: AUD, now: NOW, maxLifetimeSeconds: MAX_LIFETIME, clockSkewSeconds: SKEW };

type Pair = { privateJwk: JWK; publicJwk: JWK };
async function keyPair(alg: 'ES256' | 'EdDSA', kid: string, extra: Partial<JWK> = {}): Promise<Pair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg }, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig', ...extra } };
}

let gemeente: Pair;
let politie: Pair;

beforeAll(async () => {
  gemeente = await keyPair('ES256', 'gemeente-1');
  politie = await keyPair('ES256', 'politie-1');
});

/**
 * The keyring of the two partners, made inside each test and not in a hook: a keyring that fails to
 * build must fail the test that uses it (StrykerJS counts a failing hook as no failure at all).
 */
function keyring(): PartnerKeyring {
  return partnerKeyring(
    new Map([
      ['gemeente', { keys: [gemeente.publicJwk] }],
      ['politie', { keys: [politie.publicJwk] }],
    ]),
  );
}

/** Claims over a token of the gemeente's procesregisseur issued now for a minute; `undefined` drops one. */
async function token(claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}, key: JWK = gemeente.privateJwk): Promise<string> {
  const payload = Object.fromEntries(
    Object.entries({ iss: 'gemeente', sub: 'pr-1', aud: AUD, role: 'procesregisseur', iat: NOW_S, exp: NOW_S + 60, jti: 'jti-1', ...claims }).filter(([, v]) => v !== undefined),
  );
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg: key.alg!, kid: key.kid, ...header }).sign(await importJWK(key, key.alg));
}

/** 'accepted', or the failure's reason and the claim it names. */
async function outcome(t: string | Promise<string>, p: TokenPolicy = policy): Promise<string> {
  try {
    await verifyPartnerToken(await t, keyring(), p);
    return 'accepted';
  } catch (e) {
    if (!(e instanceof AuthError)) throw e;
    return e.claim ? `${e.reason} (${e.claim})` : e.reason;
  }
}

describe("the token's time window, to the second", () => {
  it('iat may be up to the clock skew ahead of the hub, not a second more', async () => {
    expect(await outcome(token({ iat: NOW_S + SKEW, exp: NOW_S + SKEW + 60 }))).toBe('accepted');
    expect(await outcome(token({ iat: NOW_S + SKEW + 1, exp: NOW_S + SKEW + 61 }))).toBe('issued-in-future');
  });

  it('a token lives at most the maximum lifetime (exp - iat), not a second more', async () => {
    expect(await outcome(token({ iat: NOW_S - 10, exp: NOW_S - 10 + MAX_LIFETIME }))).toBe('accepted');
    expect(await outcome(token({ iat: NOW_S - 10, exp: NOW_S - 10 + MAX_LIFETIME + 1 }))).toBe('lifetime-too-long');
  });

  it('exp is honoured up to the clock skew behind the hub, not at it', async () => {
    expect(await outcome(token({ iat: NOW_S - 100, exp: NOW_S - SKEW + 1 }))).toBe('accepted');
    expect(await outcome(token({ iat: NOW_S - 100, exp: NOW_S - SKEW }))).toBe('expired');
  });

  it('a token not valid before a moment beyond the skew is issued in the future', async () => {
    expect(await outcome(token({ nbf: NOW_S + SKEW + 5 }))).toBe('issued-in-future');
  });

  it('the window is read from the policy, not fixed', async () => {
    const strict = { ...policy, clockSkewSeconds: 0, maxLifetimeSeconds: 60 };
    expect(await outcome(token({ iat: NOW_S + 1, exp: NOW_S + 30 }), strict)).toBe('issued-in-future');
    expect(await outcome(token({ iat: NOW_S, exp: NOW_S + 61 }), strict)).toBe('lifetime-too-long');
  });

  it('the verified token carries its exp as a Date, for the replay store', async () => {
    const v = await verifyPartnerToken(await token({ exp: NOW_S + 42, jti: 'jti-exp' }), keyring(), policy);
    expect(v).toEqual({ actor: { partner: 'gemeente', sub: 'pr-1', role: 'procesregisseur' }, jti: 'jti-exp', exp: new Date((NOW_S + 42) * 1000) });
  });
});

describe('each flaw is named as what it is', () => {
  it('claims that are missing, empty or not text', async () => {
    for (const claim of ['exp', 'iat', 'jti', 'sub']) expect(await outcome(token({ [claim]: undefined })), claim).toBe('missing-claim');
    expect(await outcome(token({ role: undefined }))).toBe('missing-claim');
    for (const claim of ['sub', 'role', 'jti']) {
      expect(await outcome(token({ [claim]: '' })), `empty ${claim}`).toBe('missing-claim');
      expect(await outcome(token({ [claim]: 7 })), `numeric ${claim}`).toBe('missing-claim');
    }
    expect(await outcome(token({ iat: 'now' }))).toBe('missing-claim');
  });

  it('the audience and the issuer', async () => {
    expect(await outcome(token({ aud: 'urn:kenbaar:hub:other' }))).toBe('wrong-audience');
    // Absent is missing, whichever claim: not "wrong", not "in the future".
    expect(await outcome(token({ aud: undefined }))).toBe('missing-claim');
    expect(await outcome(token({ iss: undefined }))).toBe('unknown-issuer');
    expect(await outcome(token({ iss: 'nobody' }))).toBe('unknown-issuer');
  });

  it("the key: none named, one nobody published, another partner's", async () => {
    const nameless = (await verifyPartnerToken(await token({}, { kid: undefined }), keyring(), policy).catch((e: unknown) => e)) as AuthError;
    expect([nameless.reason, nameless.message]).toEqual(['unknown-kid', 'The token names no key (kid)']);
    expect(await outcome(token({}, { kid: 'gemeente-9' }))).toBe('unknown-kid');
    expect(await outcome(token({}, { kid: 'politie-1' }, politie.privateJwk))).toBe('kid-not-owned-by-issuer');
    expect(await outcome(token({ iss: 'politie' }, {}, politie.privateJwk))).toBe('accepted');
  });

  it('algorithms other than ES256 and EdDSA, and things that are not a JWT', async () => {
    const [, payload] = (await token()).split('.');
    const hs = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'gemeente-1' })).toString('base64url');
    expect(await outcome(`${hs}.${payload}.c2ln`)).toBe('unsupported-alg');
    expect(await outcome('not-a-jwt')).toBe('malformed-token');
  });

  it('the failure keeps what the token claimed (for the audit entry), escaped', async () => {
    const e = await verifyPartnerToken(await token({ aud: 'elsewhere', sub: 'pr-1' }), keyring(), policy).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthError);
    expect((e as AuthError).claimed).toEqual({ iss: 'gemeente', kid: 'gemeente-1', sub: 'pr-1', role: 'procesregisseur', jti: 'jti-1' });
    const nul = (await verifyPartnerToken(await token({ sub: 'a\u0000b' }), keyring(), policy).catch((x: unknown) => x)) as AuthError;
    expect(nul.reason).toBe('invalid-claim');
    expect(nul.claim).toBe('sub');
    expect(nul.claimed.sub).not.toContain('\u0000');
  });
});

describe('lengths: a claim and a token', () => {
  it(`a claim of ${MAX_CLAIM_LENGTH} characters is taken, one more is refused naming it`, async () => {
    for (const claim of ['sub', 'role', 'jti']) {
      const long = 'x'.repeat(MAX_CLAIM_LENGTH);
      expect(await outcome(token({ [claim]: long })), claim).toBe('accepted');
      expect(await outcome(token({ [claim]: `${long}x` })), claim).toBe(`invalid-claim (${claim})`);
    }
    expect(await outcome(token({}, { kid: 'k'.repeat(MAX_CLAIM_LENGTH + 1) }))).toBe('invalid-claim (kid)');
    expect(await outcome(token({ iss: 'i'.repeat(MAX_CLAIM_LENGTH + 1) }))).toBe('invalid-claim (iss)');
  });

  it(`a token of exactly ${MAX_TOKEN_LENGTH} characters is read, one longer is refused unread`, async () => {
    const exact = await tokenOfLength(MAX_TOKEN_LENGTH);
    expect(exact).toHaveLength(MAX_TOKEN_LENGTH);
    expect(await outcome(exact)).toBe('accepted');
    const over = (await verifyPartnerToken(`${exact}x`, keyring(), policy).catch((e: unknown) => e)) as AuthError;
    expect(over.reason).toBe('malformed-token');
    expect(over.message).toMatch(/longer than 8192/);
  });
});

/**
 * A valid token of exactly `length` characters, padded with a claim of our own. The compact form is
 * base64url(header) . base64url(payload) . 86 characters of ES256 signature, so the length can be
 * worked out before signing; a header parameter of 0-3 characters reaches the lengths that payload
 * padding alone skips.
 */
async function tokenOfLength(length: number): Promise<string> {
  const b64 = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url').length;
  for (const x of ['', 'x', 'xx', 'xxx']) {
    const header = { alg: 'ES256', kid: 'gemeente-1', x };
    const claims = { iss: 'gemeente', sub: 'pr-1', aud: AUD, role: 'procesregisseur', iat: NOW_S, exp: NOW_S + 60, jti: 'jti-long', pad: '' };
    const room = length - b64(header) - 2 - 86;
    const guess = Math.floor((room * 3) / 4) - JSON.stringify(claims).length;
    for (let n = guess - 4; n <= guess + 4; n++) {
      const padded = { ...claims, pad: 'p'.repeat(n) };
      if (b64(padded) === room) return token(padded, { x });
    }
  }
  throw new Error(`no token of ${length} characters`);
}

describe("the partners' keyring", () => {
  it("knows whose each kid is, and each partner's signing and encryption keys apart", async () => {
    const enc = { ...(await keyPair('ES256', 'gemeente-enc')).publicJwk, use: 'enc', alg: 'ECDH-ES' };
    const ring = partnerKeyring(new Map([['gemeente', { keys: [gemeente.publicJwk, enc] }], ['politie', { keys: [politie.publicJwk] }]]));
    expect(ring.ownerOf('gemeente-1')).toBe('gemeente');
    expect(ring.ownerOf('politie-1')).toBe('politie');
    expect(ring.ownerOf('gemeente-enc')).toBeUndefined(); // an encryption key signs nothing
    expect(ring.owns('gemeente', 'gemeente-1')).toBe(true);
    expect(ring.owns('politie', 'gemeente-1')).toBe(false);
    expect(ring.owns('gemeente', 'nobody')).toBe(false);
    expect(ring.signingKey('gemeente-1')).toEqual(gemeente.publicJwk);
    expect(ring.signingKey('gemeente-enc')).toBeUndefined();
    expect(ring.encryptionKeys('gemeente')).toEqual([enc]);
    expect(ring.encryptionKeys('politie')).toEqual([]);
    expect(ring.encryptionKeys('nobody')).toEqual([]);
    expect(ring.keySet('gemeente')).toBeTypeOf('function');
    expect(ring.keySet('nobody')).toBeUndefined();
    await expect(ring.keySet('gemeente')!({ alg: 'ES256', kid: 'gemeente-1' })).resolves.toBeDefined();
  });

  it('refuses a signing key without a kid, and a kid of two partners', () => {
    const { kid: _kid, ...nameless } = gemeente.publicJwk;
    expect(() => partnerKeyring(new Map([['gemeente', { keys: [nameless] }]]))).toThrow(/a signing key of gemeente has no kid/);
    expect(() => partnerKeyring(new Map([['gemeente', { keys: [gemeente.publicJwk] }], ['politie', { keys: [gemeente.publicJwk] }]]))).toThrow(
      /kid gemeente-1 is published by both gemeente and politie/,
    );
  });

  it('a key signs with the one algorithm its type and curve (and its alg, if pinned) allow, 64-byte signatures only', async () => {
    const sig = new Uint8Array(64);
    const es = gemeente.publicJwk;
    const { alg: _a, ...esUnpinned } = es;
    const ed = (await keyPair('EdDSA', 'ed')).publicJwk;
    expect(keyFits(es, 'ES256', sig)).toBe(true);
    expect(keyFits(esUnpinned, 'ES256', sig)).toBe(true);
    expect(keyFits(esUnpinned, 'EdDSA', sig)).toBe(false);
    expect(keyFits(es, 'EdDSA', sig)).toBe(false);
    // A pinned alg is binding even where the key's type would allow the other algorithm.
    expect(keyFits({ ...es, alg: 'EdDSA' }, 'ES256', sig)).toBe(false);
    expect(keyFits({ ...(await keyPair('EdDSA', 'ed-pinned')).publicJwk, alg: 'ES256' }, 'EdDSA', sig)).toBe(false);
    expect(keyFits({ ...es, crv: 'P-384' }, 'ES256', sig)).toBe(false);
    expect(keyFits({ ...es, kty: 'OKP' }, 'ES256', sig)).toBe(false);
    expect(keyFits(ed, 'EdDSA', sig)).toBe(true);
    expect(keyFits({ ...ed, alg: undefined }, 'EdDSA', sig)).toBe(true);
    expect(keyFits({ ...ed, crv: 'X25519' }, 'EdDSA', sig)).toBe(false);
    expect(keyFits({ ...ed, kty: 'EC' }, 'EdDSA', sig)).toBe(false);
    expect(keyFits(es, 'ES256', new Uint8Array(63))).toBe(false);
    expect(keyFits(es, 'ES256', new Uint8Array(65))).toBe(false);
  });

  it('the WebCrypto check answers false, never throws, for a key it cannot use', async () => {
    const check = webCryptoSignatureCheck();
    expect(await check({ kty: 'EC', crv: 'P-256', x: 'bad', y: 'bad' }, 'ES256', new Uint8Array(3), new Uint8Array(64))).toBe(false);
  });
});

describe(`the replay store (${dbKind})`, () => {
  let database: Database;
  const MINUTE = 60_000;
  beforeAll(async () => {
    database = await testDatabase();
  });
  afterAll(() => database?.close());
  const claim = (partner: string, jti: string, exp: Date) => claimTokenId(database.db, { jti, partner, exp });

  it('a token id is unique per partner: the same jti of two partners are two ids', async () => {
    const exp = new Date(NOW.getTime() + MINUTE);
    expect(tokenKey('gemeente', 'j')).not.toBe(tokenKey('politie', 'j'));
    expect(await claim('gemeente', 'shared-jti', exp)).toBe(true);
    expect(await claim('politie', 'shared-jti', exp)).toBe(true);
    expect(await claim('gemeente', 'shared-jti', exp)).toBe(false);
    expect(await claim('politie', 'shared-jti', exp)).toBe(false);
  });

  it('an id is kept until a full minute after its exp, to the millisecond, and forgotten after', async () => {
    // The ids above expire at NOW + 1 minute: live. Nothing else is in this database.
    expect(await claim('gemeente', 'edge-kept', new Date(NOW.getTime() - MINUTE))).toBe(true);
    expect(await claim('gemeente', 'edge-gone', new Date(NOW.getTime() - MINUTE - 1))).toBe(true);
    expect(await forgetExpiredTokenIds(database.db, NOW)).toBe(1);
    expect(await claim('gemeente', 'edge-gone', new Date(NOW.getTime() + MINUTE))).toBe(true);
    expect(await claim('gemeente', 'edge-kept', new Date(NOW.getTime() + MINUTE))).toBe(false);
    expect(await claim('gemeente', 'shared-jti', new Date(NOW.getTime() + MINUTE))).toBe(false);
  });
});
