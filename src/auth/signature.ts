// The one step of partner-token verification that differs per runtime: checking the signature over
// `header.payload` with the partner's public key. Everything around it (which key, which algorithms,
// the claims) is src/auth/token.ts, the same everywhere. The Worker uses WebCrypto (this module's
// default); the Node edge injects node:crypto's verify on the threadpool (src/node/signature.ts),
// which costs the event loop a fifth of what jose's WebCrypto path does (bench/token-verify.ts).
import { importJWK, type JWK } from 'jose';

export const PARTNER_ALGS = ['ES256', 'EdDSA'] as const;
export type PartnerAlg = (typeof PARTNER_ALGS)[number];

/** Resolves true only for a valid signature; false for anything else (never rejects). */
export type SignatureCheck = (key: JWK, alg: PartnerAlg, signingInput: Uint8Array, signature: Uint8Array) => Promise<boolean>;

/**
 * A key signs with one algorithm only: ES256 needs an EC P-256 key, EdDSA an Ed25519 key, and a key
 * that pins `alg` is used with that algorithm alone. (Both signatures are 64 bytes: r || s, R || S.)
 */
export function keyFits(key: JWK, alg: PartnerAlg, signature: Uint8Array): boolean {
  if (key.alg !== undefined && key.alg !== alg) return false;
  if (signature.length !== 64) return false;
  return alg === 'ES256' ? key.kty === 'EC' && key.crv === 'P-256' : key.kty === 'OKP' && key.crv === 'Ed25519';
}

const WEBCRYPTO_PARAMS: Record<PartnerAlg, AlgorithmIdentifier | EcdsaParams> = {
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  EdDSA: { name: 'Ed25519' },
};

/** WebCrypto, each key imported once. */
export function webCryptoSignatureCheck(): SignatureCheck {
  const imported = new WeakMap<JWK, Promise<CryptoKey>>();
  return async (jwk, alg, signingInput, signature) => {
    try {
      let key = imported.get(jwk);
      if (!key) {
        key = importJWK(jwk, alg) as Promise<CryptoKey>;
        imported.set(jwk, key);
      }
      return await crypto.subtle.verify(WEBCRYPTO_PARAMS[alg], await key, signature as BufferSource, signingInput as BufferSource);
    } catch {
      return false;
    }
  };
}
