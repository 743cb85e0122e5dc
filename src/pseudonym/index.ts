/**
 * Pseudonymisation: BSN → partner pseudonym (partner side) → hub pseudonym (hub side).
 * Runtime-agnostic; safe to bundle for browsers, Node and workerd.
 */
export { normaliseBsn, isValidBsn, generateTestBsn, InvalidBsnError } from './bsn';
export type { InvalidBsnReason } from './bsn';
export {
  partnerPseudonym,
  parseSubject,
  hubPseudonym,
  InvalidSubjectError,
  PSEUDONYM_BYTES,
  SUBJECT_LENGTH,
  MIN_KEY_BYTES,
} from './pseudonymise';
export type { InvalidSubjectReason } from './pseudonymise';
export { parseHubKeyring, generateHubKeySecret, hubPseudonyms, storedSubject, HubKeyError } from './hub-key';
export type { HubKey, HubKeyring, StoredSubject } from './hub-key';
