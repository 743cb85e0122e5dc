/**
 * Burgerservicenummer (BSN) normalisation and validation.
 *
 * A BSN only ever exists partner-side, for the moment it takes to pseudonymise it. We
 * normalise before hashing because the same person must yield the same pseudonym however
 * a caseworker typed the number ("1234.56.782", "123 456 782", an 8-digit legacy form).
 *
 * Error messages say *why* a value was rejected but never repeat it: a BSN is a direct
 * identifier and error messages end up in logs and bug reports.
 */

/** Why a BSN was rejected; stable strings for callers that map errors to UI text. */
export type InvalidBsnReason = 'not-a-string' | 'non-digits' | 'wrong-length' | 'all-zeros' | 'elfproef';

export class InvalidBsnError extends Error {
  override readonly name = 'InvalidBsnError';
  readonly reason: InvalidBsnReason;

  constructor(reason: InvalidBsnReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** Separators people and systems put in BSNs; anything else is an error, not noise. */
const SEPARATORS = /[\s.\-]/g;
const DIGITS = /^[0-9]*$/;

/** Weights of the BSN variant of the 11-test; the check digit counts negatively. */
const WEIGHTS = [9, 8, 7, 6, 5, 4, 3, 2, -1] as const;

/**
 * Returns the canonical 9-digit form of a BSN.
 *
 * Strips spaces, dots and dashes; left-pads an 8-digit number with one 0 (older BSNs and
 * sofinummers are often written without the leading zero).
 * @throws InvalidBsnError if the result is not 9 ASCII digits, is all zeros, or fails the
 * elfproef.
 */
export function normaliseBsn(input: string): string {
  if (typeof input !== 'string') throw new InvalidBsnError('not-a-string', 'BSN must be given as a string');
  const stripped = input.replace(SEPARATORS, '');
  if (!DIGITS.test(stripped)) {
    throw new InvalidBsnError(
      'non-digits',
      'BSN may only contain the digits 0-9 (spaces, dots and dashes are ignored)',
    );
  }
  if (stripped.length !== 8 && stripped.length !== 9) {
    throw new InvalidBsnError('wrong-length', `BSN must have 9 digits (or 8, padded with a leading 0); got ${stripped.length}`);
  }
  const bsn = stripped.length === 8 ? `0${stripped}` : stripped;
  // 000000000 passes the 11-test arithmetically (sum 0) but is never issued.
  if (bsn === '000000000') throw new InvalidBsnError('all-zeros', 'BSN must not be all zeros');
  if (elfproefSum(bsn) % 11 !== 0) {
    throw new InvalidBsnError('elfproef', 'BSN fails the elfproef (11-test); check for a typo');
  }
  return bsn;
}

/** True iff `normaliseBsn` would accept the input. Never throws. */
export function isValidBsn(input: string): boolean {
  try {
    normaliseBsn(input);
    return true;
  } catch (e) {
    if (e instanceof InvalidBsnError) return false;
    throw e;
  }
}

/**
 * Generates a random BSN that passes the elfproef, for demos, fixtures and tests.
 *
 * `random` must behave like Math.random (uniform in [0, 1)); pass a seeded generator for
 * reproducible fixtures. Note that a valid-looking BSN may belong to a real person, so
 * generated numbers must never be mixed with production data.
 * @throws RangeError if `random` returns something outside [0, 1).
 */
export function generateTestBsn(random: () => number): string {
  const digits: number[] = [];
  for (let i = 0; i < 8; i++) digits.push(randomDigit(random));
  if (!digits.some((d) => d !== 0)) digits[0] = 1; // would otherwise give 000000000
  let sum = weightedSum(digits);
  // The check digit is sum mod 11; 10 is not a digit. Bumping d8 (weight 2) shifts the
  // sum by 2 or, wrapping 9 -> 0, by -18 ≡ 4 (mod 11); either way away from 10. This keeps
  // the generator total (no retry loop that a degenerate `random` could spin forever).
  if (sum % 11 === 10) {
    digits[7] = (digits[7]! + 1) % 10;
    sum = weightedSum(digits);
  }
  digits.push(sum % 11);
  return digits.join('');
}

function randomDigit(random: () => number): number {
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError('random() must return a number in [0, 1)');
  return Math.floor(r * 10);
}

/** Σ weight·digit over the first 8 digits (the check digit is handled by the caller). */
function weightedSum(first8: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += WEIGHTS[i]! * first8[i]!;
  return sum;
}

function elfproefSum(bsn: string): number {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += WEIGHTS[i]! * (bsn.charCodeAt(i) - 48);
  return sum;
}
