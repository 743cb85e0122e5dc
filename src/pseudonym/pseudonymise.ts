/**
 * Two-stage pseudonymisation.
 *
 * 1. Partner side: every partner in a covenant holds the same covenant key and derives
 *    `partnerPseudonym = HMAC(covenantKey, "kenbaar:v1:bsn:" || BSN)`. The BSN never
 *    leaves the partner; the hub never sees a BSN.
 * 2. Hub side: the hub re-keys with its own secret,
 *    `hubPseudonym = HMAC(hubKey, "kenbaar:v1:hub:" || partnerPseudonym)`, and stores only
 *    that. A leaked database is then useless without the hub key, and a leaked covenant
 *    key alone does not let anyone query or link the hub's records.
 *
 * The string prefixes are domain separation: the same key material can never produce the
 * same MAC for a BSN and for a hub lookup, and bumping "v1" changes every pseudonym.
 */
import { fromBase64Url, toBase64Url, utf8 } from '../encoding';
import { hmacSha256 } from '../hashing';
import { normaliseBsn } from './bsn';

/** Every pseudonym is a full HMAC-SHA256 output. */
export const PSEUDONYM_BYTES = 32;
/** base64url without padding of 32 bytes. */
export const SUBJECT_LENGTH = 43;
/** HMAC keys shorter than the hash output would be the weakest link. */
export const MIN_KEY_BYTES = 32;

const BSN_DOMAIN = 'kenbaar:v1:bsn:';
const HUB_DOMAIN = utf8('kenbaar:v1:hub:');

/**
 * The partner-side pseudonym of a BSN, as sent to the hub: base64url (no padding) of
 * HMAC-SHA256(covenantKey, utf8("kenbaar:v1:bsn:" + normaliseBsn(bsn))). Always 43 chars.
 * @throws InvalidBsnError (checked first, so a bad BSN is reported as such regardless of
 * key configuration); RangeError if the covenant key is shorter than 32 bytes.
 */
export function partnerPseudonym(covenantKey: Uint8Array, bsn: string): string {
  const normalised = normaliseBsn(bsn);
  assertKey(covenantKey, 'covenant key');
  return toBase64Url(hmacSha256(covenantKey, utf8(BSN_DOMAIN + normalised)));
}

export type InvalidSubjectReason =
  | 'not-a-string'
  | 'looks-like-bsn'
  | 'padded'
  | 'wrong-length'
  | 'invalid-characters'
  | 'non-canonical';

export class InvalidSubjectError extends Error {
  override readonly name = 'InvalidSubjectError';
  readonly reason: InvalidSubjectReason;

  constructor(reason: InvalidSubjectReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

// Digits with the usual BSN separators, 8-9 digits: an integration that forgot to
// pseudonymise. Gets its own message so the mistake is obvious to the partner's developer.
const BSN_LIKE = /^[\s.\-]*(?:[0-9][\s.\-]*){8,9}$/;
const BASE64URL_CHARS = /^[A-Za-z0-9_-]*$/;

/**
 * Parses a partner pseudonym received over the wire: exactly 43 base64url characters, no
 * padding, canonical, decoding to 32 bytes. Anything else — in particular anything that
 * looks like a raw BSN — is rejected. Error messages never echo the input.
 * @throws InvalidSubjectError
 */
export function parseSubject(subject: string): Uint8Array {
  if (typeof subject !== 'string') throw new InvalidSubjectError('not-a-string', 'subject must be a string');
  if (BSN_LIKE.test(subject)) {
    throw new InvalidSubjectError(
      'looks-like-bsn',
      'subject looks like a BSN; send the partner pseudonym (HMAC of the BSN under the covenant key), never the BSN itself',
    );
  }
  if (subject.endsWith('=')) {
    throw new InvalidSubjectError('padded', 'subject must be base64url without "=" padding');
  }
  if (subject.length !== SUBJECT_LENGTH) {
    throw new InvalidSubjectError(
      'wrong-length',
      `subject must be ${SUBJECT_LENGTH} base64url characters (${PSEUDONYM_BYTES} bytes); got ${subject.length}`,
    );
  }
  if (!BASE64URL_CHARS.test(subject)) {
    throw new InvalidSubjectError('invalid-characters', 'subject may only contain base64url characters A-Z a-z 0-9 - _');
  }
  try {
    return fromBase64Url(subject);
  } catch {
    // Right length and alphabet, so the only remaining failure is stray low bits in the
    // last character: a second spelling of some other pseudonym.
    throw new InvalidSubjectError('non-canonical', 'subject is not canonical base64url (non-zero trailing bits)');
  }
}

/**
 * The hub-side pseudonym, the only form of a person's identifier the hub stores:
 * HMAC-SHA256(hubKey, utf8("kenbaar:v1:hub:") || partnerPseudonym).
 * @throws RangeError if the key is shorter than 32 bytes or the partner pseudonym is not
 * 32 bytes (use parseSubject on wire input first).
 */
export function hubPseudonym(hubKey: Uint8Array, partnerPseudonym: Uint8Array): Uint8Array {
  assertKey(hubKey, 'hub key');
  if (!(partnerPseudonym instanceof Uint8Array) || partnerPseudonym.length !== PSEUDONYM_BYTES) {
    throw new RangeError(`partner pseudonym must be ${PSEUDONYM_BYTES} bytes; parse wire input with parseSubject`);
  }
  return hmacSha256(hubKey, HUB_DOMAIN, partnerPseudonym);
}

function assertKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (key.length < MIN_KEY_BYTES) {
    throw new RangeError(`${what} must be at least ${MIN_KEY_BYTES} bytes; got ${key.length}`);
  }
}
