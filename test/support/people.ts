// Test people: generated BSNs (never a real person's) and their partner-side pseudonyms.
import { generateTestBsn, partnerPseudonym } from '../../src/pseudonym/index';

export const COVENANT_KEY = new Uint8Array(32).map((_, i) => (i * 37 + 11) % 256);

let seed = 20261123;
const random = () => {
  // Deterministic LCG: the same people every run.
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

export function person() {
  const bsn = generateTestBsn(random);
  return { bsn, subject: partnerPseudonym(COVENANT_KEY, bsn) };
}

export const contact = (fn: string) => ({ function: fn, phone: '+31 38 123 4567' });
