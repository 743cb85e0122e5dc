/**
 * The hub key: the secret that turns partner pseudonyms into the hub pseudonyms we store.
 *
 * It comes from the environment (a Worker secret or env var) as a keyring string so it can
 * be rotated without downtime:
 *
 *   v2:<base64url key>,v1:<base64url key>
 *
 * The first entry is current (used for new writes); every read matches all entries
 * (storedSubject), and a registration moves to the current version when its partner registers it
 * again. An old version is dropped from the string only when nothing stored under it is needed
 * any more (a disclosure request sealed under it is then served without its verbatim JWS).
 *
 * HubKeyError messages never contain key material, nor even the rejected entry text: the
 * first thing an operator does with a startup error is paste it into a ticket.
 */
import { fromBase64Url, toBase64Url } from '../encoding';
import { MIN_KEY_BYTES, hubPseudonym, parseSubject } from './pseudonymise';

export type HubKey = { version: number; key: Uint8Array };
export type HubKeyring = { current: HubKey; all: HubKey[] };

export class HubKeyError extends Error {
  override readonly name = 'HubKeyError';
}

const ENTRY = /^v([1-9][0-9]*):([A-Za-z0-9_-]+)$/;
const GENERATED_KEY_BYTES = 32;

/**
 * Parses the keyring secret. Whitespace around entries is ignored (secrets pasted from
 * files often carry a trailing newline).
 * @throws HubKeyError on an empty secret, a malformed entry, a duplicate version, invalid
 * base64url or a key shorter than 32 bytes.
 */
export function parseHubKeyring(secret: string): HubKeyring {
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw new HubKeyError('hub key secret is empty; expected "v<N>:<base64url key>[,v<M>:<base64url key>...]"');
  }
  const all: HubKey[] = [];
  const entries = secret.split(',');
  for (let i = 0; i < entries.length; i++) {
    const where = `hub key entry ${i + 1} of ${entries.length}`;
    const match = ENTRY.exec(entries[i]!.trim());
    if (!match) {
      throw new HubKeyError(`${where} is malformed; expected "v<N>:<base64url key>" with N a positive integer`);
    }
    const version = Number(match[1]);
    if (!Number.isSafeInteger(version)) throw new HubKeyError(`${where} has a version number that is too large`);
    if (all.some((k) => k.version === version)) throw new HubKeyError(`${where}: duplicate key version v${version}`);
    let key: Uint8Array;
    try {
      key = fromBase64Url(match[2]!);
    } catch {
      // Deliberately not chained as `cause`: keep the key text out of any error object.
      throw new HubKeyError(`${where} (v${version}) is not valid unpadded base64url`);
    }
    if (key.length < MIN_KEY_BYTES) {
      throw new HubKeyError(`${where} (v${version}) is too short: ${key.length} bytes, need at least ${MIN_KEY_BYTES}`);
    }
    all.push({ version, key });
  }
  return { current: all[0]!, all };
}

/**
 * A fresh single-entry keyring secret with a 32-byte random key, e.g. for
 * `wrangler secret put`. To rotate, prepend the new entry to the existing secret.
 */
export function generateHubKeySecret(version = 1): string {
  if (!Number.isSafeInteger(version) || version < 1) throw new RangeError('hub key version must be a positive integer');
  const key = crypto.getRandomValues(new Uint8Array(GENERATED_KEY_BYTES));
  return `v${version}:${toBase64Url(key)}`;
}

/**
 * The hub pseudonym under every key in the ring, current key first: store the first,
 * match lookups against any of them while a rotation is under way.
 */
export function hubPseudonyms(ring: HubKeyring, partnerPseudonym: Uint8Array): { version: number; value: Uint8Array }[] {
  const keys = [ring.current, ...ring.all.filter((k) => k.version !== ring.current.version)];
  return keys.map((k) => ({ version: k.version, value: hubPseudonym(k.key, partnerPseudonym) }));
}

/**
 * A partner-side subject (wire form) as the hub stores it: `current` is what new rows get (under
 * key version `version`); `all` holds its stored pseudonym under every key in the ring, current
 * first, for every read and every match while a rotation is under way. The one place that turns a
 * partner's subject into stored pseudonyms: lookups, registrations, disclosures and the audit
 * search all go through it.
 * @throws InvalidSubjectError for a subject that is not a canonical 32-byte base64url pseudonym.
 */
export type StoredSubject = { current: string; version: number; all: string[] };

export function storedSubject(ring: HubKeyring, subject: string): StoredSubject {
  const all = hubPseudonyms(ring, parseSubject(subject));
  return { current: toBase64Url(all[0]!.value), version: all[0]!.version, all: all.map((p) => toBase64Url(p.value)) };
}
