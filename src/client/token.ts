// Partner side: sign the short-lived JWT that authenticates one API call. Runtime-agnostic, so a
// partner system can use it in Node, a browser or a worker.
import { CompactSign, importJWK, SignJWT, type JWK } from 'jose';
import { unixSeconds } from '../encoding';

export type PartnerSigningKey = { partner: string; jwk: JWK };

export type TokenClaims = {
  sub: string;
  role: string;
  audience: string;
  lifetimeSeconds?: number;
  now?: Date;
};

const imported = new WeakMap<JWK, Promise<CryptoKey>>();

function importOnce(jwk: JWK): Promise<CryptoKey> {
  let p = imported.get(jwk);
  if (!p) {
    p = importJWK(jwk, jwk.alg) as Promise<CryptoKey>;
    imported.set(jwk, p);
  }
  return p;
}

export async function signPartnerToken(key: PartnerSigningKey, claims: TokenClaims): Promise<string> {
  if (!key.jwk.kid || !key.jwk.alg) throw new Error('the signing JWK needs kid and alg');
  const now = unixSeconds(claims.now ?? new Date());
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: key.jwk.alg, kid: key.jwk.kid, typ: 'JWT' })
    .setIssuer(key.partner)
    .setSubject(claims.sub)
    .setAudience(claims.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.lifetimeSeconds ?? 60))
    .setJti(crypto.randomUUID())
    .sign(await importOnce(key.jwk));
}

/** A signed document (disclosure request, broker decision): compact JWS with the partner key. */
export async function signDocument(key: PartnerSigningKey, payload: Record<string, unknown>, typ: string): Promise<string> {
  if (!key.jwk.kid || !key.jwk.alg) throw new Error('the signing JWK needs kid and alg');
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: key.jwk.alg, kid: key.jwk.kid, typ })
    .sign(await importOnce(key.jwk));
}
