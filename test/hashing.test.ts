// SHA-256 and HMAC-SHA256: the runtime's native implementation where it has one, @noble where not.
// Both must give the same bytes, or every stored pseudonym and every tree hash would change with the
// runtime. (workerd's native path is checked against Node's in test/workerd.test.ts.)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashing, nobleHashing } from '../src/hashing';
import { isHexOf, toHex, utf8 } from '../src/encoding';
import { entryLeafHash, leafInput, pendingEntry } from '../src/audit/entry';
import { leafHash, leafHashOfText } from '../src/audit/merkle';

const bytes = fc.uint8Array({ minLength: 0, maxLength: 300 });
const parts = fc.array(bytes, { maxLength: 4 });

describe('hashing', () => {
  it('uses the native implementation on Node', () => {
    expect(hashing.name).toBe('native');
  });

  it('native and @noble agree on SHA-256 of any parts, and give plain Uint8Arrays', () => {
    fc.assert(
      fc.property(parts, (ps) => {
        const native = hashing.sha256(...ps);
        expect(native.constructor).toBe(Uint8Array);
        expect(toHex(native)).toBe(toHex(nobleHashing.sha256(...ps)));
      }),
      { numRuns: 300 },
    );
  });

  it('native and @noble agree on HMAC-SHA256, for keys shorter and longer than a block', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), parts, (key, ps) => {
        expect(toHex(hashing.hmacSha256(key, ...ps))).toBe(toHex(nobleHashing.hmacSha256(key, ...ps)));
      }),
      { numRuns: 300 },
    );
  });

  it('SHA-256 of a text is SHA-256 of its UTF-8 bytes, in both, for any text (lone surrogates and U+0000 too)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 3 }), (text, surrogates) => {
        const s = `\u0000${text}${surrogates}`;
        const expected = toHex(nobleHashing.sha256(utf8(s)));
        expect(toHex(hashing.sha256Text(s))).toBe(expected);
        expect(toHex(nobleHashing.sha256Text(s))).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('the leaf hash of a text is the RFC 6962 leaf hash of its bytes, and an entry\'s is that of its leaf input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(toHex(leafHashOfText(text))).toBe(toHex(leafHash(utf8(text))));
      }),
      { numRuns: 300 },
    );
    const ctx = { at: new Date('2026-12-03T10:00:00.000Z'), requestId: 'r', actor: { partner: 'politie', sub: 'a', role: 'professional' }, covenantVersion: '1' };
    const v2 = pendingEntry(ctx, { action: 'lookup', outcome: 'allowed', subject: 's', detail: { q: 'é😀\u0000' } }, 'uid-1');
    const v1 = { ...v2, uid: null, id: 7 };
    for (const [e, seq] of [[v2, 0], [v1, 3]] as const) expect(toHex(entryLeafHash(e, seq))).toBe(toHex(leafHash(leafInput(e, seq))));
  });

  it('both match the published vectors (FIPS 180-2 "abc", RFC 4231 test case 2)', () => {
    for (const h of [hashing, nobleHashing]) {
      expect(toHex(h.sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(toHex(h.sha256(utf8('a'), utf8('bc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(toHex(h.hmacSha256(utf8('Jefe'), utf8('what do ya want '), utf8('for nothing?')))).toBe(
        '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      );
    }
  });
});

describe('isHexOf (audit verify holds each recomputed leaf to the stored hex with it)', () => {
  it('is true exactly for the hex toHex gives: never for another digit, upper case, or another length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.integer({ min: 1, max: 15 }), (b, at, delta) => {
        const hex = toHex(b);
        expect(isHexOf(b, hex)).toBe(true);
        const i = at % hex.length;
        const other = ((parseInt(hex[i]!, 16) + delta) % 16).toString(16);
        expect(isHexOf(b, hex.slice(0, i) + other + hex.slice(i + 1))).toBe(false);
        if (/[a-f]/.test(hex)) expect(isHexOf(b, hex.toUpperCase())).toBe(false);
        expect(isHexOf(b, hex.slice(0, -2))).toBe(false);
        expect(isHexOf(b, `${hex}00`)).toBe(false);
      }),
    );
  });
});
