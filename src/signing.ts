// The hub's signing key (receipts, disclosure grants, the checkpoints' JWS), from a secret: a JSON private
// JWK, or a JSON array of them where the first signs and the rest are retired but still published
// so that what they signed stays verifiable.
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { HubSigner } from './config';

export class SigningKeyError extends Error {}

export async function parseSigningKeys(secret: string): Promise<HubSigner> {
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
  const privateKey = (await importJWK(first, alg)) as CryptoKey;
  const published = list.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => ({ ...pub, use: 'sig' }));
  return { kid: first.kid, alg, privateKey, published };
}

export async function generateSigningKeySecret(): Promise<string> {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return JSON.stringify({ ...jwk, alg: 'EdDSA', kid: `hub-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}` });
}
