// Node edge: the hub's JWS signatures (a receipt on every answer, checkpoints) by node:crypto,
// synchronously: OpenSSL signs an Ed25519 receipt in a few tens of µs on the event loop, where
// WebCrypto's promise-based sign adds a threadpool job and its bookkeeping per answer
// (BENCHMARKS.md, issue 10). The Worker keeps WebCrypto (src/signing.ts webCryptoSign).
import { createPrivateKey, sign, type JsonWebKeyInput } from 'node:crypto';
import type { MakeJwsSign } from '../signing';

export const nodeJwsSign: MakeJwsSign = (privateJwk, alg) => {
  const key = createPrivateKey({ key: privateJwk as JsonWebKeyInput['key'], format: 'jwk' });
  if (alg === 'ES256') return (input) => sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' });
  return (input) => sign(null, input, key);
};
