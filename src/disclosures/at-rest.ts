// A disclosure request's signed justification is kept verbatim, so it can be re-verified later. Its
// payload names the person by the partner-side pseudonym, which the hub must never store in the
// clear (only its own keyed pseudonym). So the verbatim JWS is sealed at rest: JWE `dir` + A256GCM
// with a key derived from the hub key (HMAC, domain-separated), and opened only to answer readers
// the route allows. A database thief without the hub key learns nothing from it.
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader } from 'jose';
import { fromUtf8, utf8 } from '../encoding';
import { hmacSha256 } from '../hashing';
import type { HubKey, HubKeyring } from '../pseudonym/hub-key';

const storageKey = (k: HubKey) => hmacSha256(k.key, utf8('kenbaar:v1:at-rest'));

export async function seal(ring: HubKeyring, text: string): Promise<string> {
  return new CompactEncrypt(utf8(text))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: `v${ring.current.version}` })
    .encrypt(storageKey(ring.current));
}

/**
 * The sealed text, opened with the hub key version it names (its `kid`), else with any other
 * version in the ring; null when no configured version opens it (its version was retired from the
 * ring). One unreadable seal must never make a listing fail for everyone: the reader gets the
 * request without its verbatim JWS, and the hash in the log still pins what it said.
 */
export async function unseal(ring: HubKeyring, sealed: string): Promise<string | null> {
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(sealed).kid;
  } catch {
    return null;
  }
  const named = ring.all.filter((k) => `v${k.version}` === kid);
  for (const key of [...named, ...ring.all.filter((k) => !named.includes(k))]) {
    try {
      const { plaintext } = await compactDecrypt(sealed, storageKey(key));
      return fromUtf8(plaintext);
    } catch {
      // not this version
    }
  }
  return null;
}
