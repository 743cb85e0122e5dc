import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url, toHex } from '../src/encoding';
import {
  HubKeyError,
  InvalidBsnError,
  InvalidSubjectError,
  generateHubKeySecret,
  generateTestBsn,
  hubPseudonym,
  hubPseudonyms,
  storedSubject,
  isValidBsn,
  normaliseBsn,
  parseHubKeyring,
  parseSubject,
  partnerPseudonym,
} from '../src/pseudonym';
import type { HubKeyring } from '../src/pseudonym';

/** Deterministic PRNG (mulberry32) so generated fixtures are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const validBsn = fc.integer().map((seed) => generateTestBsn(seeded(seed)));
const key32 = fc.uint8Array({ minLength: 32, maxLength: 64 });
const pseudonymBytes = fc.uint8Array({ minLength: 32, maxLength: 32 });
const COVENANT_KEY = new Uint8Array(32).fill(7);

function reasonOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidBsnError || e instanceof InvalidSubjectError) return e.reason;
    throw e;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------

describe('BSN elfproef', () => {
  it('accepts and rejects the known examples', () => {
    // 111222333: 9·1 + 8·1 + 7·1 + 6·2 + 5·2 + 4·2 + 3·3 + 2·3 − 1·3
    //          = 9 + 8 + 7 + 12 + 10 + 8 + 9 + 6 − 3 = 66 = 6·11            → valid
    expect(isValidBsn('111222333')).toBe(true);
    // 123456782: 9·1 + 8·2 + 7·3 + 6·4 + 5·5 + 4·6 + 3·7 + 2·8 − 1·2
    //          = 9 + 16 + 21 + 24 + 25 + 24 + 21 + 16 − 2 = 154 = 14·11     → valid
    expect(isValidBsn('123456782')).toBe(true);
    // 123456789: same first eight digits = 156, minus 9 = 147 = 13·11 + 4    → invalid
    expect(isValidBsn('123456789')).toBe(false);
    expect(reasonOf(() => normaliseBsn('123456789'))).toBe('elfproef');
  });

  it('rejects 000000000 even though its weighted sum (0) is divisible by 11', () => {
    expect(isValidBsn('000000000')).toBe(false);
    expect(reasonOf(() => normaliseBsn('000000000'))).toBe('all-zeros');
    expect(reasonOf(() => normaliseBsn('00000000'))).toBe('all-zeros'); // 8 digits, padded
    expect(reasonOf(() => normaliseBsn('000.000.000'))).toBe('all-zeros');
  });

  it('every generated test BSN is valid, 9 digits, and stable per seed', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const bsn = generateTestBsn(seeded(seed));
        expect(bsn).toMatch(/^[0-9]{9}$/);
        expect(isValidBsn(bsn)).toBe(true);
        expect(normaliseBsn(bsn)).toBe(bsn);
        expect(generateTestBsn(seeded(seed))).toBe(bsn);
      }),
      { numRuns: 1000 },
    );
  });

  it('generateTestBsn is total, even for degenerate random sources', () => {
    for (const r of [0, 0.1, 0.5, 0.99999, 1 - Number.EPSILON]) {
      expect(isValidBsn(generateTestBsn(() => r))).toBe(true);
    }
    expect(() => generateTestBsn(() => 1)).toThrow(RangeError);
    expect(() => generateTestBsn(() => Number.NaN)).toThrow(RangeError);
    expect(() => generateTestBsn(() => -0.1)).toThrow(RangeError);
  });

  it('changing any single digit of a valid BSN always breaks the elfproef', () => {
    // True for every position: changing digit i by δ (0 < |δ| ≤ 9) changes the sum by
    // w_i·δ with |w_i| ∈ {1..9}; 11 is prime and divides neither factor, so the sum leaves
    // 0 mod 11. (It can also never produce 000000000, which would need w_i·d ≡ 0.)
    fc.assert(
      fc.property(validBsn, fc.nat(8), fc.integer({ min: 1, max: 9 }), (bsn, pos, delta) => {
        const digit = (Number(bsn[pos]) + delta) % 10;
        const changed = bsn.slice(0, pos) + String(digit) + bsn.slice(pos + 1);
        expect(changed).not.toBe(bsn);
        expect(isValidBsn(changed)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('swapping two different adjacent digits also always breaks the elfproef', () => {
    // Swapping d_i, d_{i+1} changes the sum by (w_i − w_{i+1})(d_{i+1} − d_i); the weight
    // difference is 1 (or 3 for the last pair, 2 vs −1), neither divisible by 11.
    fc.assert(
      fc.property(validBsn, fc.nat(7), (bsn, pos) => {
        fc.pre(bsn[pos] !== bsn[pos + 1]);
        const swapped = bsn.slice(0, pos) + bsn[pos + 1] + bsn[pos] + bsn.slice(pos + 2);
        expect(isValidBsn(swapped)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('roughly one in 11 random nine-digit strings passes', () => {
    const random = seeded(42);
    let valid = 0;
    const N = 20_000;
    for (let i = 0; i < N; i++) {
      if (isValidBsn(String(Math.floor(random() * 1e9)).padStart(9, '0'))) valid++;
    }
    expect(valid / N).toBeGreaterThan(0.08);
    expect(valid / N).toBeLessThan(0.1);
  });
});

describe('BSN normalisation', () => {
  it('strips spaces, dots and dashes', () => {
    for (const s of ['123456782', ' 123456782 ', '1234.56.782', '123-456-782', '12 34 56 782', '123.456.782\n', '\t123 456-78.2']) {
      expect(normaliseBsn(s)).toBe('123456782');
    }
  });

  it('left-pads 8-digit BSNs with one zero', () => {
    // 012345672: 9·0 + 8·1 + 7·2 + 6·3 + 5·4 + 4·5 + 3·6 + 2·7 − 2 = 8+14+18+20+20+18+14−2 = 110 = 10·11
    expect(normaliseBsn('12345672')).toBe('012345672');
    expect(normaliseBsn('1234.5672')).toBe('012345672');
    expect(normaliseBsn('012345672')).toBe('012345672');
    expect(partnerPseudonym(COVENANT_KEY, '12345672')).toBe(partnerPseudonym(COVENANT_KEY, '012345672'));
  });

  it('explains why input is rejected', () => {
    expect(reasonOf(() => normaliseBsn(''))).toBe('wrong-length');
    expect(reasonOf(() => normaliseBsn('1234567'))).toBe('wrong-length');
    expect(reasonOf(() => normaliseBsn('1234567820'))).toBe('wrong-length');
    expect(reasonOf(() => normaliseBsn('0012345672'))).toBe('wrong-length'); // only one 0 is implied
    expect(reasonOf(() => normaliseBsn('12345678a'))).toBe('non-digits');
    expect(reasonOf(() => normaliseBsn('123456782/'))).toBe('non-digits');
    expect(reasonOf(() => normaliseBsn('１２３４５６７８２'))).toBe('non-digits'); // full-width digits
    expect(reasonOf(() => normaliseBsn('+123456782'))).toBe('non-digits');
    expect(reasonOf(() => normaliseBsn(123456782 as unknown as string))).toBe('not-a-string');
    expect(() => normaliseBsn('1234567')).toThrow(/9 digits/);
    expect(() => normaliseBsn('12345678a')).toThrow(/digits/);
    expect(() => normaliseBsn('123456789')).toThrow(/elfproef/);
    expect(() => normaliseBsn('000000000')).toThrow(/zeros/);
  });

  it('error messages never contain the BSN', () => {
    fc.assert(
      fc.property(validBsn, fc.nat(8), (bsn, pos) => {
        const bad = bsn.slice(0, pos) + String((Number(bsn[pos]) + 1) % 10) + bsn.slice(pos + 1);
        for (const input of [bad, `${bsn}x`, `${bsn}1`, `${bsn.slice(0, 4)}.${bsn.slice(4)}`.slice(0, 7)]) {
          try {
            normaliseBsn(input);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidBsnError);
            expect((e as Error).message).not.toContain(bsn.slice(0, 5));
            expect(String(e)).not.toContain(input);
          }
        }
      }),
    );
  });

  it('isValidBsn never throws', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        expect(typeof isValidBsn(x as string)).toBe('boolean');
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('partnerPseudonym', () => {
  it('is HMAC-SHA256(covenantKey, "kenbaar:v1:bsn:" + normalised BSN), base64url', () => {
    const expected = createHmac('sha256', COVENANT_KEY).update('kenbaar:v1:bsn:123456782').digest('base64url');
    expect(partnerPseudonym(COVENANT_KEY, '1234.56.782')).toBe(expected);
    // Pinned value: changing the derivation would silently orphan every registration.
    expect(expected).toBe('wInMUMoKIzHnzeUaaiGQ4dJipESD0SftZP-J4skjeIE');
  });

  it('is deterministic, 43 base64url chars, and accepted by parseSubject', () => {
    fc.assert(
      fc.property(key32, validBsn, (key, bsn) => {
        const p = partnerPseudonym(key, bsn);
        expect(partnerPseudonym(key.slice(), bsn)).toBe(p);
        expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(parseSubject(p)).toHaveLength(32);
        expect(toBase64Url(parseSubject(p))).toBe(p);
      }),
      { numRuns: 300 },
    );
  });

  it('differs across covenant keys and across BSNs', () => {
    fc.assert(
      fc.property(key32, key32, validBsn, validBsn, (k1, k2, b1, b2) => {
        fc.pre(toHex(k1) !== toHex(k2));
        expect(partnerPseudonym(k1, b1)).not.toBe(partnerPseudonym(k2, b1));
        if (b1 !== b2) expect(partnerPseudonym(k1, b1)).not.toBe(partnerPseudonym(k1, b2));
      }),
      { numRuns: 300 },
    );
  });

  it('validates the BSN before the key, and requires a key of at least 32 bytes', () => {
    expect(() => partnerPseudonym(new Uint8Array(0), '123456789')).toThrow(InvalidBsnError);
    expect(() => partnerPseudonym(new Uint8Array(31), '123456782')).toThrow(RangeError);
    expect(() => partnerPseudonym(new Uint8Array(31), '123456782')).toThrow(/at least 32 bytes/);
    expect(() => partnerPseudonym('k'.repeat(40) as unknown as Uint8Array, '123456782')).toThrow(TypeError);
    expect(partnerPseudonym(new Uint8Array(32), '123456782')).toHaveLength(43);
  });
});

describe('parseSubject', () => {
  const good = partnerPseudonym(COVENANT_KEY, '123456782');

  it('round-trips 32-byte values', () => {
    fc.assert(
      fc.property(pseudonymBytes, (b) => {
        expect(parseSubject(toBase64Url(b))).toEqual(b);
      }),
    );
  });

  it('rejects BSNs and anything that looks like one (they are the wrong length anyway)', () => {
    for (const s of ['123456782', '12345672', '1234.56.782', '123 456 782', '111222333', '123456789']) {
      expect(s.length).not.toBe(43);
      expect(() => parseSubject(s)).toThrow(InvalidSubjectError);
      expect(reasonOf(() => parseSubject(s))).toBe('looks-like-bsn');
      expect(() => parseSubject(s)).toThrow(/never the BSN/);
    }
    fc.assert(
      fc.property(validBsn, (bsn) => {
        expect(reasonOf(() => parseSubject(bsn))).toBe('looks-like-bsn');
      }),
    );
  });

  it('rejects every other malformed subject with a reason', () => {
    expect(reasonOf(() => parseSubject(`${good}=`))).toBe('padded');
    expect(reasonOf(() => parseSubject(good.slice(1)))).toBe('wrong-length');
    expect(reasonOf(() => parseSubject(`${good}A`))).toBe('wrong-length');
    expect(reasonOf(() => parseSubject(''))).toBe('wrong-length');
    expect(reasonOf(() => parseSubject(`+${good.slice(1)}`))).toBe('invalid-characters');
    expect(reasonOf(() => parseSubject(`/${good.slice(1)}`))).toBe('invalid-characters');
    expect(reasonOf(() => parseSubject(` ${good.slice(1)}`))).toBe('invalid-characters');
    // 43 chars carry 258 bits; the last character's two spare bits must be zero.
    expect(reasonOf(() => parseSubject(`${'A'.repeat(42)}B`))).toBe('non-canonical');
    expect(reasonOf(() => parseSubject(null as unknown as string))).toBe('not-a-string');
    expect(() => parseSubject(good.slice(1))).toThrow(/43 base64url characters/);
  });

  it('never echoes the input in its error message', () => {
    // A sentinel that appears in no message template, embedded in arbitrary input.
    const input = fc.tuple(fc.string(), fc.string()).map(([a, b]) => `${a}QZXJ${b}`);
    fc.assert(
      fc.property(fc.oneof(input, validBsn), (s) => {
        try {
          parseSubject(s);
        } catch (e) {
          expect(e).toBeInstanceOf(InvalidSubjectError);
          expect((e as Error).message).not.toContain('QZXJ');
          expect((e as Error).message).not.toMatch(/[0-9]{5}/);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('hubPseudonym', () => {
  it('is HMAC-SHA256(hubKey, "kenbaar:v1:hub:" || partnerPseudonym)', () => {
    fc.assert(
      fc.property(key32, pseudonymBytes, (key, pp) => {
        const expected = createHmac('sha256', key).update('kenbaar:v1:hub:').update(pp).digest();
        expect(hubPseudonym(key, pp)).toEqual(new Uint8Array(expected));
      }),
      { numRuns: 100 },
    );
  });

  it('chains from a BSN end to end and never equals the partner pseudonym', () => {
    const pp = parseSubject(partnerPseudonym(COVENANT_KEY, '111222333'));
    const hub = hubPseudonym(new Uint8Array(32).fill(9), pp);
    expect(toHex(hub)).toBe('d140c81011fb3138386f42bcefbc9a323a53d36ccca8a953fc3d0bd1fb3105d9'); // pinned
    expect(toHex(hub)).not.toBe(toHex(pp));
    // Domain separation: same key, same bytes, different purpose → different MAC.
    const samekey = COVENANT_KEY;
    expect(toBase64Url(hubPseudonym(samekey, pp))).not.toBe(partnerPseudonym(samekey, '111222333'));
  });

  it('rejects short keys and partner pseudonyms that are not 32 bytes', () => {
    expect(() => hubPseudonym(new Uint8Array(16), new Uint8Array(32))).toThrow(RangeError);
    expect(() => hubPseudonym(new Uint8Array(32), new Uint8Array(31))).toThrow(RangeError);
    expect(() => hubPseudonym(new Uint8Array(32), new TextEncoder().encode('123456782'))).toThrow(/parseSubject/);
  });
});

// ---------------------------------------------------------------------------------------

describe('hub keyring', () => {
  const k = (fill: number, length = 32) => toBase64Url(new Uint8Array(length).fill(fill));

  it('parses versions in order, first one current', () => {
    const ring = parseHubKeyring(`v2:${k(2)},v1:${k(1, 48)}`);
    expect(ring.current.version).toBe(2);
    expect(ring.current.key).toEqual(new Uint8Array(32).fill(2));
    expect(ring.all.map((x) => x.version)).toEqual([2, 1]);
    expect(ring.all[1]!.key).toHaveLength(48);
    expect(ring.all[0]).toBe(ring.current);
  });

  it('tolerates whitespace around entries (secrets pasted from files)', () => {
    const ring = parseHubKeyring(` v3:${k(3)} ,\n v1:${k(1)}\n`);
    expect(ring.all.map((x) => x.version)).toEqual([3, 1]);
  });

  it('generateHubKeySecret produces a parseable, random, 32-byte key', () => {
    const s1 = generateHubKeySecret();
    const s2 = generateHubKeySecret(7);
    expect(s1).toMatch(/^v1:[A-Za-z0-9_-]{43}$/);
    expect(s2).toMatch(/^v7:[A-Za-z0-9_-]{43}$/);
    expect(s1.slice(3)).not.toBe(s2.slice(3));
    const ring = parseHubKeyring(`${s2},${s1}`);
    expect(ring.current.version).toBe(7);
    expect(ring.current.key).toEqual(fromBase64Url(s2.slice(3)));
    expect(() => generateHubKeySecret(0)).toThrow(RangeError);
    expect(() => generateHubKeySecret(1.5)).toThrow(RangeError);
  });

  it('hubPseudonyms gives one value per version, current first, each differing', () => {
    const ring = parseHubKeyring(`v3:${k(3)},v1:${k(1)},v2:${k(2)}`);
    const pp = parseSubject(partnerPseudonym(COVENANT_KEY, '123456782'));
    const out = hubPseudonyms(ring, pp);
    expect(out.map((x) => x.version)).toEqual([3, 1, 2]);
    expect(out[0]!.value).toEqual(hubPseudonym(ring.current.key, pp));
    expect(new Set(out.map((x) => toHex(x.value))).size).toBe(3);
  });

  it('storedSubject: a partner-side subject as stored now (current version) and as it may be stored under every version', () => {
    const ring = parseHubKeyring(`v3:${k(3)},v1:${k(1)}`);
    const subject = partnerPseudonym(COVENANT_KEY, '123456782');
    const stored = storedSubject(ring, subject);
    expect(stored.version).toBe(3);
    expect(stored.all).toEqual(hubPseudonyms(ring, parseSubject(subject)).map((p) => toBase64Url(p.value)));
    expect(stored.current).toBe(stored.all[0]);
    expect(stored.all).toHaveLength(2);
    expect(() => storedSubject(ring, '123456782')).toThrow(/looks like a BSN/);
  });

  it('hubPseudonyms puts current first even for a hand-built ring', () => {
    const a = { version: 1, key: new Uint8Array(32).fill(1) };
    const b = { version: 2, key: new Uint8Array(32).fill(2) };
    const ring: HubKeyring = { current: b, all: [a, b] };
    expect(hubPseudonyms(ring, new Uint8Array(32)).map((x) => x.version)).toEqual([2, 1]);
  });

  it('hub pseudonyms differ per key version for every partner pseudonym', () => {
    const ring = parseHubKeyring(`${generateHubKeySecret(2)},${generateHubKeySecret(1)}`);
    fc.assert(
      fc.property(pseudonymBytes, (pp) => {
        const [v2, v1] = hubPseudonyms(ring, pp);
        expect(toHex(v2!.value)).not.toBe(toHex(v1!.value));
      }),
      { numRuns: 100 },
    );
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['blank', '  \n', /empty/],
    ['no version', k(1), /malformed/],
    ['v0', `v0:${k(1)}`, /malformed/],
    ['leading zero', `v01:${k(1)}`, /malformed/],
    ['missing key', 'v1:', /malformed/],
    ['trailing comma', `v1:${k(1)},`, /entry 2 of 2 is malformed/],
    ['standard base64', `v1:${toBase64Url(new Uint8Array(32).fill(0xfb))}`.replace(/-/g, '+'), /malformed/],
    ['padded', `v1:${k(1)}=`, /malformed/],
    ['non-canonical', `v1:${'A'.repeat(42)}B`, /not valid unpadded base64url/],
    ['too short', `v1:${k(1, 31)}`, /too short: 31 bytes/],
    ['duplicate', `v2:${k(2)},v2:${k(3)}`, /duplicate key version v2/],
    ['huge version', `v${'9'.repeat(20)}:${k(1)}`, /too large/],
  ];

  it.each(bad)('rejects %s', (_name, secret, message) => {
    expect(() => parseHubKeyring(secret)).toThrow(HubKeyError);
    expect(() => parseHubKeyring(secret)).toThrow(message);
  });

  it('errors never contain key material', () => {
    const check = (secret: string, keyTexts: string[]) => {
      let error: unknown;
      try {
        parseHubKeyring(secret);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HubKeyError);
      const e = error as HubKeyError;
      const surfaces = [e.message, String(e), e.stack ?? '', JSON.stringify(e), JSON.stringify(Object.entries(e))];
      expect(e.cause).toBeUndefined();
      for (const text of keyTexts) {
        for (const s of surfaces) expect(s).not.toContain(text.slice(0, 8));
      }
    };
    // Secret-looking keys (random bytes) in every failure mode.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), fc.uint8Array({ minLength: 32, maxLength: 48 }), (raw, good) => {
        const key = toBase64Url(raw);
        const goodKey = toBase64Url(good);
        fc.pre(key.length >= 8);
        if (raw.length < 32) check(`v1:${key}`, [key]); // too short
        check(`v1:${goodKey},v1:${key}`, [key, goodKey]); // duplicate
        check(`${key}`, [key]); // no version
        check(`v1:${goodKey},x${key}`, [key, goodKey]); // malformed second entry
        check(`v1:${key}!`, [key]); // bad character
      }),
      { numRuns: 200 },
    );
  });
});
