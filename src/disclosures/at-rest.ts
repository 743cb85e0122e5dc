// A disclosure request's signed justification is kept verbatim, so it can be re-verified later. Its
// payload names the person by the partner-side pseudonym, which the hub must never store in the
// clear (only its own keyed pseudonym). So the verbatim JWS is sealed at rest: JWE `dir` + A256GCM
// with a key derived from the hub key (HMAC, domain-separated), and opened only to answer readers
// the route allows. A database thief without the hub key learns nothing from it.
import { compactDecrypt, CompactEncrypt, decodeProtectedHeader } from 'jose';
import { utf8 } from '../encoding';
import { hmacSha256 } from '../hashing';
import type { HubKey, HubKeyring } from '../pseudonym/hub-key';

const storageKey = (k: HubKey) => hmacSha256(k.key, utf8('kenbaar:v1:at-rest'));

export async function seal(ring: HubKeyring, text: string): Promise<string> {
  return new CompactEncrypt(utf8(text))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: `v${ring.current.version}` })
    .encrypt(storageKey(ring.current));
}

export async function unseal(ring: HubKeyring, sealed: string): Promise<string> {
  const { kid } = decodeProtectedHeader(sealed);
  const key = ring.all.find((k) => `v${k.version}` === kid);
  if (!key) throw new Error(`sealed with hub key ${String(kid)}, which is no longer configured`);
  const { plaintext } = await compactDecrypt(sealed, storageKey(key));
  return new TextDecoder().decode(plaintext);
}
