// Token signatures are checked by the runtime's implementation: node:crypto on Node (injected by
// the Node edge), WebCrypto on the Worker. Both must accept exactly the same tokens: these cases run
// against each, directly on verifyPartnerToken (test/auth.test.ts covers the rest over HTTP).
import { CompactSign, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { partnerKeyring } from '../src/auth/keyring';
import { webCryptoSignatureCheck, type SignatureCheck } from '../src/auth/signature';
import { verifyPartnerToken } from '../src/auth/token';
import { nodeSignatureCheck } from '../src/node/signature';

const AUD = 'urn:kenbaar:hub:test';
const NOW = new Date('2026-06-01T10:00:00Z');
const policy = { audience: AUD, now: NOW, maxLifetimeSeconds: 300, clockSkewSeconds: 30 };

type Pair = { privateJwk: JWK; publicJwk: JWK };
async function keyPair(alg: 'ES256' | 'EdDSA', kid: string): Promise<Pair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg }, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

async function token(key: JWK, header: Record<string, unknown> = {}, alg = key.alg!): Promise<string> {
  const iat = Math.floor(NOW.getTime() / 1000);
  const payload = { iss: 'gemeente', sub: 'pr', aud: AUD, role: 'procesregisseur', iat, exp: iat + 60, jti: crypto.randomUUID() };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader({ alg, kid: key.kid, ...header }).sign(await importJWK(key, alg));
}

const checks: [string, () => SignatureCheck][] = [
  ['node:crypto (the Node edge)', nodeSignatureCheck],
  ['WebCrypto (the Worker)', webCryptoSignatureCheck],
];

describe.each(checks)('partner token signatures, checked by %s', (_name, makeCheck) => {
  let es: Pair;
  let ed: Pair;
  let other: Pair;
  let verify: (t: string) => Promise<unknown>;
  beforeAll(async () => {
    es = await keyPair('ES256', 'gemeente-es');
    ed = await keyPair('EdDSA', 'gemeente-ed');
    other = await keyPair('ES256', 'politie-es');
    const keyring = partnerKeyring(
      new Map([
        ['gemeente', { keys: [es.publicJwk, ed.publicJwk] }],
        ['politie', { keys: [other.publicJwk] }],
      ]),
      makeCheck(),
    );
    verify = (t) => verifyPartnerToken(t, keyring, policy);
  });
  const reason = (t: string) => verify(t).then(() => 'accepted', (e: { reason?: string }) => e.reason);

  it('accepts ES256 and EdDSA tokens made with the named key', async () => {
    expect(await verify(await token(es.privateJwk))).toMatchObject({ actor: { partner: 'gemeente', sub: 'pr', role: 'procesregisseur' } });
    expect(await reason(await token(ed.privateJwk))).toBe('accepted');
  });

  it('refuses a token whose payload or signature was altered', async () => {
    const [h, p, s] = (await token(es.privateJwk)).split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    expect(await reason(`${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'x' })).toString('base64url')}.${s}`)).toBe('bad-signature');
    const flipped = Buffer.from(s!, 'base64url');
    flipped[10] = flipped[10]! ^ 1;
    expect(await reason(`${h}.${p}.${flipped.toString('base64url')}`)).toBe('bad-signature');
    expect(await reason(`${h}.${p}.${s!.slice(0, 20)}`)).toBe('bad-signature'); // a short signature
    expect(await reason(`${h}.${p}.${s}!`)).toBe('malformed-token'); // not base64url
  });

  it("refuses a token naming the gemeente's kid but signed with another key", async () => {
    expect(await reason(await token({ ...other.privateJwk, kid: es.publicJwk.kid }))).toBe('bad-signature');
  });

  it('refuses a key used with an algorithm it was not published for', async () => {
    // The ES256 key's kid with alg EdDSA (signed by the Ed25519 key): the named key does not fit.
    expect(await reason(await token({ ...ed.privateJwk, kid: es.publicJwk.kid }))).toBe('bad-signature');
    expect(await reason(await token({ ...es.privateJwk, kid: ed.publicJwk.kid }))).toBe('bad-signature');
  });

  it('refuses JWS extensions (crit, b64) as malformed', async () => {
    const [, p, s] = (await token(es.privateJwk)).split('.');
    for (const extra of [{ crit: ['x-kenbaar'], 'x-kenbaar': 1 }, { b64: true }]) {
      const h = Buffer.from(JSON.stringify({ alg: 'ES256', kid: es.publicJwk.kid, ...extra })).toString('base64url');
      expect(await reason(`${h}.${p}.${s}`)).toBe('malformed-token');
    }
  });
});
