// The hub's signing key (receipts, disclosure grants, the checkpoints' JWS), from a secret: a JSON private
// JWK, or a JSON array of them where the first signs and the rest are retired but still published
// so that what they signed stays verifiable. What the key signs are compact JWS (RFC 7515), made by
// `signJws`; the signature itself comes from the runtime's edge (`JwsSign`): WebCrypto by default,
// node:crypto on Node (src/node/signer.ts), which signs synchronously and natively, as a receipt on
// every answer needs. Anyone verifies them with a standard JOSE library (jose's compactVerify).
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { HubSigner, JwsSign } from './config';
import { toBase64Url, utf8 } from './encoding';

export class SigningKeyError extends Error {}

/** Makes the signing function for a private JWK of the given algorithm. */
export type MakeJwsSign = (privateJwk: JWK, alg: HubSigner['alg']) => JwsSign | Promise<JwsSign>;

/** WebCrypto (every runtime): ECDSA's WebCrypto signature already is JWS's r || s. */
export const webCryptoSign: MakeJwsSign = async (privateJwk, alg) => {
  const key = (await importJWK(privateJwk, alg)) as CryptoKey;
  const params = alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'Ed25519' };
  return async (input) => new Uint8Array(await crypto.subtle.sign(params, key, input as Uint8Array<ArrayBuffer>));
};

/** A compact JWS of `payload` (JSON) by the signer's current key, with `typ` in its protected header. */
export async function signJws(signer: HubSigner, typ: string, payload: unknown): Promise<string> {
  const input = `${toBase64Url(utf8(JSON.stringify({ alg: signer.alg, kid: signer.kid, typ })))}.${toBase64Url(utf8(JSON.stringify(payload)))}`;
  return `${input}.${toBase64Url(await signer.sign(utf8(input)))}`;
}

export async function parseSigningKeys(secret: string, makeSign: MakeJwsSign = webCryptoSign): Promise<HubSigner> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    throw new SigningKeyError('the hub signing key secret is not JSON (expected a private JWK or an array of them)');
  }
  const list = (Array.isArray(parsed) ? parsed : [parsed]) as JWK[];
  const first = list[0];
  if (!first || typeof first.d !== 'string' || !first.kid) throw new SigningKeyError('the hub signing key needs a private JWK with kid');
  const alg = first.alg === 'ES256' ? 'ES256' : 'EdDSA';
  const sign = await makeSign(first, alg);
  const published = list.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => ({ ...pub, use: 'sig' }));
  return { kid: first.kid, alg, sign, published };
}

export async function generateSigningKeySecret(): Promise<string> {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return JSON.stringify({ ...jwk, alg: 'EdDSA', kid: `hub-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}` });
}
