// SHA-256 and HMAC-SHA256, synchronous (the Merkle tree and pseudonymisation need them inline), with
// the platform's native implementation where the runtime has one and @noble/hashes where it has none.
//
// Node and workerd (nodejs_compat) both offer `process.getBuiltinModule('node:crypto')`, whose
// createHash/createHmac run natively (OpenSSL / BoringSSL). A browser has neither, and WebCrypto's
// digest is asynchronous, so there the pure-JavaScript @noble implementation answers. Detecting the
// capability here, once, keeps the core free of runtime imports (no `import 'node:crypto'`, which a
// browser bundle could not resolve) and needs no plumbing through every caller: a hash function is
// not configuration, and every implementation gives the same bytes (test/hashing.test.ts holds the
// two against each other and against the RFC 6962 and pseudonym vectors on Node and in workerd).
//
// encoding.ts and this module import each other, for functions only (neither calls the other while
// it loads), so either may load first.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toBase64Url, toHex, utf8 } from './encoding';

export type Hashing = {
  readonly name: 'native' | 'noble';
  /** SHA-256 of the concatenated parts. */
  sha256(...parts: Uint8Array[]): Uint8Array;
  /** SHA-256 of a text's UTF-8 bytes (lone surrogates as U+FFFD, as TextEncoder writes them), without a byte copy of the text where the runtime can hash text. */
  sha256Text(text: string): Uint8Array;
  /** HMAC-SHA256 under `key` of the concatenated parts. */
  hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
};

type Digest = { update(data: Uint8Array | string): Digest; digest(): Uint8Array };
type NodeCrypto = {
  createHash(algorithm: 'sha256'): Digest;
  createHmac(algorithm: 'sha256', key: Uint8Array): Digest;
  /** One-shot digest (Node ≥ 20.12; not in every runtime): no hash object for a single input. */
  hash?: (algorithm: 'sha256', data: Uint8Array | string, outputEncoding: 'buffer') => Uint8Array;
};

export const nobleHashing: Hashing = {
  name: 'noble',
  sha256(...parts) {
    if (parts.length === 1) return nobleSha256(parts[0]!);
    const h = nobleSha256.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },
  sha256Text: (text) => nobleSha256(utf8(text)),
  hmacSha256(key, ...parts) {
    const h = hmac.create(nobleSha256, key);
    for (const p of parts) h.update(p);
    return h.digest();
  },
};

/** Native digests come back as Buffers; hand out plain Uint8Arrays (a view, no copy). */
const plain = (b: Uint8Array) => (b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));

export function nodeCryptoHashing(crypto: NodeCrypto): Hashing {
  const oneShot = crypto.hash;
  return {
    name: 'native',
    sha256(...parts) {
      // Copying a few hundred bytes costs less than a hash object: one-shot whenever available.
      if (oneShot) return plain(oneShot('sha256', parts.length === 1 ? parts[0]! : concatBytes(...parts), 'buffer'));
      const h = crypto.createHash('sha256');
      for (const p of parts) h.update(p);
      return plain(h.digest());
    },
    // Node encodes a string argument as UTF-8 itself, natively: no Uint8Array of the text is made.
    sha256Text: (text) => plain(oneShot ? oneShot('sha256', text, 'buffer') : crypto.createHash('sha256').update(text).digest()),
    hmacSha256(key, ...parts) {
      const h = crypto.createHmac('sha256', key);
      for (const p of parts) h.update(p);
      return plain(h.digest());
    },
  };
}

function detect(): Hashing {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const native = runtime?.getBuiltinModule?.('node:crypto') as Partial<NodeCrypto> | undefined;
  return typeof native?.createHash === 'function' && typeof native.createHmac === 'function'
    ? nodeCryptoHashing(native as NodeCrypto)
    : nobleHashing;
}

/** The fastest correct implementation this runtime offers. */
export const hashing: Hashing = detect();

export const sha256 = hashing.sha256;
export const sha256Text = hashing.sha256Text;
export const hmacSha256 = hashing.hmacSha256;

/** SHA-256 of a text's UTF-8 bytes, in lower-case hex (request and justification hashes, bounded untrusted text). */
export const sha256Hex = (text: string): string => toHex(sha256(utf8(text)));

/**
 * SHA-256 of a text's UTF-8 bytes, base64url: what is stored instead of a console secret (invitation
 * links, session cookies), and the WebAuthn challenge of a passkey-signed decision.
 */
export const sha256Base64Url = (text: string): string => toBase64Url(sha256(utf8(text)));
