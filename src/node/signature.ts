// Node edge: partner-token signatures checked by node:crypto (OpenSSL) on libuv's threadpool. Per
// verify that is ≈10-20 µs of event-loop CPU against ≈30-55 µs for jose's WebCrypto path, and less
// CPU in total too (bench/token-verify.ts, BENCHMARKS.md). The synchronous form would be cheapest in
// total but puts the whole ≈75 µs on the one event loop, which is what limits the hub.
import { createPublicKey, verify, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import type { SignatureCheck } from '../auth/signature';

export function nodeSignatureCheck(): SignatureCheck {
  const imported = new WeakMap<JWK, KeyObject>();
  return (jwk, alg, signingInput, signature) =>
    new Promise((resolve) => {
      try {
        let key = imported.get(jwk);
        if (!key) {
          key = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
          imported.set(jwk, key);
        }
        const input = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
        verify(alg === 'ES256' ? 'sha256' : null, signingInput, input, signature, (err, ok) => resolve(!err && ok));
      } catch {
        resolve(false);
      }
    });
}
