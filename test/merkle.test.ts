import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT,
  HASH_SIZE,
  appendLeaves,
  consistencyProof,
  frontierRoot,
  inclusionProof,
  leafHash,
  nodeHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/merkle';
import type { Frontier } from '../src/audit/merkle';
import { equalBytes, fromBase64, fromBase64Url, fromHex, toBase64, toBase64Url, toHex, utf8 } from '../src/encoding';

// ---------------------------------------------------------------------------------------
// Independent reference: the RFC 9162 §2.1 definitions transcribed literally (recursive,
// hashing with plain SHA-256 over concatenations), so the iterative code is checked against
// the spec text rather than against itself.

const refLeaf = (data: Uint8Array) => sha256(new Uint8Array([0x00, ...data]));
const refNode = (l: Uint8Array, r: Uint8Array) => sha256(new Uint8Array([0x01, ...l, ...r]));
const refSplit = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
function refMth(d: readonly Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array(0));
  if (d.length === 1) return d[0]!;
  const k = refSplit(d.length);
  return refNode(refMth(d.slice(0, k)), refMth(d.slice(k)));
}
function refPath(m: number, d: readonly Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const k = refSplit(d.length);
  return m < k
    ? [...refPath(m, d.slice(0, k)), refMth(d.slice(k))]
    : [...refPath(m - k, d.slice(k)), refMth(d.slice(0, k))];
}
function refSubproof(m: number, d: readonly Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [refMth(d)];
  const k = refSplit(d.length);
  return m <= k
    ? [...refSubproof(m, d.slice(0, k), b), refMth(d.slice(k))]
    : [...refSubproof(m - k, d.slice(k), false), refMth(d.slice(0, k))];
}

/** Distinct, deterministic leaf hashes. */
const POOL: Uint8Array[] = Array.from({ length: 1024 }, (_, i) => leafHash(utf8(`leaf ${i}`)));
const leaves = (n: number) => POOL.slice(0, n);

const flipBit = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

// ---------------------------------------------------------------------------------------
// transparency-dev test vectors (test/vectors/rfc6962/README.md; Apache 2.0, its LICENSE beside it),
// kept in the repository so that a clone anywhere passes.

const VECTOR_DIR = new URL('./vectors/rfc6962/', import.meta.url);
const vectorFiles = readdirSync(fileURLToPath(VECTOR_DIR), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json') && f !== 'tree.json')
  .map((f) => f.split('\\').join('/'))
  .sort();
const readVector = (rel: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(rel, VECTOR_DIR), 'utf8')) as Record<string, unknown>;

type TreeJson = { leafInputs: string[]; rootHashes: string[] };
const tree = readVector('tree.json') as unknown as TreeJson;
const treeLeaves = tree.leafInputs.map((hex) => leafHash(fromHex(hex)));

type InclusionVector = {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
};
type ConsistencyVector = {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
};
const b64List = (xs: string[] | null) => (xs ?? []).map(fromBase64);

const inclusionFiles = vectorFiles.filter((f) => f.startsWith('inclusion/'));
const consistencyFiles = vectorFiles.filter((f) => f.startsWith('consistency/'));

describe('RFC 6962 test vectors', () => {
  it('finds every vector file and classifies each as inclusion or consistency', () => {
    expect(vectorFiles.length).toBe(196); // 197 JSON files including tree.json
    expect(inclusionFiles.length + consistencyFiles.length).toBe(vectorFiles.length);
    expect(inclusionFiles.length).toBeGreaterThan(50);
    expect(consistencyFiles.length).toBeGreaterThan(50);
  });

  it('tree.json: leafHash/rootOf/frontier reproduce the root of every prefix 0..8', () => {
    expect(tree.rootHashes).toHaveLength(9);
    expect(toHex(EMPTY_ROOT)).toBe(tree.rootHashes[0]);
    let frontier: Frontier = [];
    for (let n = 0; n <= 8; n++) {
      expect(toHex(rootOf(treeLeaves.slice(0, n)))).toBe(tree.rootHashes[n]);
      expect(toHex(frontierRoot(frontier))).toBe(tree.rootHashes[n]);
      if (n < 8) frontier = appendLeaves(frontier, n, [treeLeaves[n]!]);
    }
  });

  describe.each(inclusionFiles)('inclusion %s', (file) => {
    const v = readVector(file) as unknown as InclusionVector;
    it(`${v.desc} → ${v.wantErr ? 'rejected' : 'verified'}`, () => {
      const ok = verifyInclusion(fromBase64(v.leafHash), v.leafIdx, v.treeSize, b64List(v.proof), fromBase64(v.root));
      expect(ok).toBe(!v.wantErr);
    });
    if (!v.wantErr && file !== 'inclusion/single-entry/matching-root-and-leaf.json') {
      it('happy path matches tree.json and the proof we generate', () => {
        expect(fromBase64(v.leafHash)).toEqual(treeLeaves[v.leafIdx]);
        expect(toHex(fromBase64(v.root))).toBe(tree.rootHashes[v.treeSize]);
        expect(inclusionProof(treeLeaves, v.leafIdx, v.treeSize)).toEqual(b64List(v.proof));
      });
    }
  });

  describe.each(consistencyFiles)('consistency %s', (file) => {
    const v = readVector(file) as unknown as ConsistencyVector;
    it(`${v.desc} → ${v.wantErr ? 'rejected' : 'verified'}`, () => {
      const ok = verifyConsistency(v.size1, v.size2, fromBase64(v.root1), fromBase64(v.root2), b64List(v.proof));
      expect(ok).toBe(!v.wantErr);
    });
    if (!v.wantErr && !file.startsWith('consistency/additional/')) {
      it('happy path matches tree.json and the proof we generate', () => {
        expect(toHex(fromBase64(v.root1))).toBe(tree.rootHashes[v.size1]);
        expect(toHex(fromBase64(v.root2))).toBe(tree.rootHashes[v.size2]);
        expect(consistencyProof(treeLeaves, v.size1, v.size2)).toEqual(b64List(v.proof));
      });
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('hashing', () => {
  it('EMPTY_ROOT is SHA-256 of the empty string', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(rootOf([])).toEqual(EMPTY_ROOT);
    expect(frontierRoot([])).toEqual(EMPTY_ROOT);
  });

  it('leafHash and nodeHash use the RFC domain-separation prefixes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (data, other) => {
        expect(leafHash(data)).toEqual(refLeaf(data));
        const l = leafHash(data);
        expect(nodeHash(l, other)).toEqual(refNode(l, other));
        // A leaf can never be confused with an interior node over the same bytes.
        expect(leafHash(new Uint8Array([...l, ...other]))).not.toEqual(nodeHash(l, other));
      }),
    );
  });

  it('nodeHash rejects children that are not 32 bytes', () => {
    expect(() => nodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow(TypeError);
    expect(() => nodeHash(new Uint8Array(32), new Uint8Array(33))).toThrow(TypeError);
  });

  it('rootOf matches the recursive RFC definition for every size up to 130', () => {
    for (let n = 0; n <= 130; n++) expect(rootOf(leaves(n))).toEqual(refMth(leaves(n)));
  });

  it('rootOf does not mutate or alias its input', () => {
    const input = leaves(5);
    const copy = input.map((h) => h.slice());
    rootOf(input);
    expect(input).toEqual(copy);
    const single = rootOf(leaves(1));
    single[0]! ^= 1;
    expect(POOL[0]).toEqual(copy[0]);
  });

  it('rootOf rejects malformed leaf hashes', () => {
    expect(() => rootOf([new Uint8Array(32), new Uint8Array(16)])).toThrow(/position 1/);
  });

  it('rootOf handles 1,000,000 leaves iteratively (checked against a closed form)', () => {
    // With identical leaves every perfect subtree of height k has the same root P[k], and
    // the MTH of size n folds P[k] over the set bits of n, largest first.
    const x = POOL[7]!;
    const p: Uint8Array[] = [x];
    for (let k = 1; k < 20; k++) p.push(refNode(p[k - 1]!, p[k - 1]!));
    const bits = [19, 18, 17, 16, 14, 9, 6]; // 1_000_000 = 0b11110100001001000000
    expect(bits.reduce((s, b) => s + 2 ** b, 0)).toBe(1_000_000);
    let expected = p[6]!;
    for (const b of bits.slice(0, -1).reverse()) expected = refNode(p[b]!, expected);
    const all = new Array<Uint8Array>(1_000_000).fill(x);
    expect(rootOf(all)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------

describe('frontier', () => {
  it('appending in arbitrary batches gives the same root as rootOf over all leaves', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 12 }),
        (n, cuts) => {
          const all = leaves(n);
          const bounds = [...new Set([0, ...cuts.map((c) => c % (n + 1)), n])].sort((a, b) => a - b);
          let frontier: Frontier = [];
          let size = 0;
          for (let i = 1; i < bounds.length; i++) {
            frontier = appendLeaves(frontier, size, all.slice(bounds[i - 1], bounds[i]));
            size = bounds[i]!;
            // O(log n) state: one hash per set bit of the size.
            expect(frontier).toHaveLength(size.toString(2).split('').filter((c) => c === '1').length);
            expect(frontierRoot(frontier)).toEqual(rootOf(all.slice(0, size)));
          }
          expect(frontierRoot(frontier)).toEqual(refMth(all));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is pure: the input frontier is not modified', () => {
    const f1 = appendLeaves([], 0, leaves(5));
    const snapshot = f1.map((h) => h.slice());
    const f2 = appendLeaves(f1, 5, leaves(8).slice(5));
    expect(f1).toEqual(snapshot);
    expect(f2).toHaveLength(1); // size 8 is one perfect tree
    expect(f2[0]).toEqual(rootOf(leaves(8)));
  });

  it('rejects a frontier that does not match the size', () => {
    expect(() => appendLeaves([], 1, leaves(1))).toThrow(RangeError);
    expect(() => appendLeaves(appendLeaves([], 0, leaves(3)), 4, leaves(1))).toThrow(RangeError);
    expect(() => appendLeaves([], -1, [])).toThrow(RangeError);
    expect(() => appendLeaves([], 0.5, [])).toThrow(RangeError);
    expect(() => appendLeaves([], 0, [new Uint8Array(3)])).toThrow(TypeError);
  });

  it('carries correctly beyond 32-bit sizes', () => {
    // Identical leaves again: the frontier of size s is [P[k] for each set bit k of s].
    const p: Uint8Array[] = [POOL[3]!];
    for (let k = 1; k <= 52; k++) p.push(refNode(p[k - 1]!, p[k - 1]!));
    const frontierOf = (s: number) => {
      const out: Uint8Array[] = [];
      for (let k = 52; k >= 0; k--) if (Math.floor(s / 2 ** k) % 2 === 1) out.push(p[k]!);
      return out;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 0, max: 40 }), (s, add) => {
        const f = appendLeaves(frontierOf(s), s, new Array<Uint8Array>(add).fill(POOL[3]!));
        expect(f).toEqual(frontierOf(s + add));
      }),
      { numRuns: 100 },
    );
    expect(appendLeaves(frontierOf(2 ** 33 - 1), 2 ** 33 - 1, [POOL[3]!])).toEqual([p[33]]);
  });
});

// ---------------------------------------------------------------------------------------

describe('inclusion proofs', () => {
  const MAX = 64;
  const roots = Array.from({ length: MAX + 1 }, (_, n) => rootOf(leaves(n)));

  it('every generated proof for all (index, size) up to 64 verifies and equals the RFC PATH', () => {
    for (let n = 1; n <= MAX; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves(MAX), i, n);
        expect(verifyInclusion(POOL[i]!, i, n, proof, roots[n]!)).toBe(true);
        if (n <= 24) expect(proof).toEqual(refPath(i, leaves(n)));
      }
    }
  });

  it('a proof does not verify for any other index, leaf or root', () => {
    for (let n = 1; n <= 20; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(leaves(n), i, n);
        for (let j = 0; j < n; j++) {
          if (j !== i) expect(verifyInclusion(POOL[i]!, j, n, proof, roots[n]!)).toBe(false);
          if (j !== i) expect(verifyInclusion(POOL[j]!, i, n, proof, roots[n]!)).toBe(false);
        }
        for (let m = 1; m <= 32; m++) {
          if (m !== n) expect(verifyInclusion(POOL[i]!, i, n, proof, roots[m]!)).toBe(false);
        }
      }
    }
  });

  it('(known RFC property) proofs do not commit to the tree size, so tree heads must sign size and root together', () => {
    // Leaf 0 has the same path shape (two left turns) in trees of 3 and 4 leaves, so the
    // size-3 proof also verifies against the size-3 root when the size is claimed to be 4.
    // Harmless as long as a verifier only ever takes (size, root) from one signed tree head.
    const proof = inclusionProof(leaves(3), 0, 3);
    expect(verifyInclusion(POOL[0]!, 0, 4, proof, roots[3]!)).toBe(true);
    expect(verifyInclusion(POOL[0]!, 0, 5, proof, roots[3]!)).toBe(false);
    const cproof = consistencyProof(leaves(3), 1, 3);
    expect(verifyConsistency(1, 4, roots[1]!, roots[3]!, cproof)).toBe(true);
  });

  it('flipping any bit of the proof, leaf or root breaks verification', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: MAX }).chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))),
        fc.nat(),
        fc.nat(HASH_SIZE * 8 - 1),
        ([n, i], which, bit) => {
          const proof = inclusionProof(leaves(n), i, n);
          const target = which % (proof.length + 2);
          if (target < proof.length) {
            const bad = proof.slice();
            bad[target] = flipBit(proof[target]!, bit);
            expect(verifyInclusion(POOL[i]!, i, n, bad, roots[n]!)).toBe(false);
          } else if (target === proof.length) {
            expect(verifyInclusion(flipBit(POOL[i]!, bit), i, n, proof, roots[n]!)).toBe(false);
          } else {
            expect(verifyInclusion(POOL[i]!, i, n, proof, flipBit(roots[n]!, bit))).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects truncated, extended and garbage proofs', () => {
    const proof = inclusionProof(leaves(13), 6, 13);
    expect(verifyInclusion(POOL[6]!, 6, 13, proof.slice(0, -1), roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, 6, 13, [...proof, roots[13]!], roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, 6, 13, [new Uint8Array(31), ...proof.slice(1)], roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, 13, 13, proof, roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, -1, 13, proof, roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, 6.5, 13, proof, roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, 6, Number.NaN, proof, roots[13]!)).toBe(false);
    expect(verifyInclusion(POOL[6]!, 6, 2 ** 60, proof, roots[13]!)).toBe(false);
  });

  it('verifiers never throw, whatever they are given', () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything(), (a, b, c, d, e) => {
        const call = (f: (...args: never[]) => boolean, ...args: unknown[]) => (f as (...xs: unknown[]) => boolean)(...args);
        expect(call(verifyInclusion, a, b, c, d, e)).toBe(false);
        expect(call(verifyConsistency, a, b, c, d, e)).toBe(false);
        // Well-typed sizes with garbage hashes and proofs.
        expect(call(verifyInclusion, a, 0, 1, c, e)).toBe(false);
        expect(call(verifyConsistency, 3, 5, a, b, [c, d])).toBe(false);
        expect(call(verifyConsistency, 4, 5, a, b, [c, d])).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('inclusionProof rejects indices outside the tree', () => {
    expect(() => inclusionProof(leaves(4), 4, 4)).toThrow(RangeError);
    expect(() => inclusionProof(leaves(4), 0, 0)).toThrow(RangeError);
    expect(() => inclusionProof(leaves(4), 0, 5)).toThrow(RangeError);
    expect(() => inclusionProof(leaves(4), -1, 4)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------

describe('consistency proofs', () => {
  const MAX = 64;
  const roots = Array.from({ length: MAX + 1 }, (_, n) => rootOf(leaves(n)));

  it('every generated proof for all 1 <= size1 <= size2 <= 64 verifies and equals the RFC PROOF', () => {
    for (let n = 1; n <= MAX; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(leaves(MAX), m, n);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof)).toBe(true);
        if (n <= 24) expect(proof).toEqual(m === n ? [] : refSubproof(m, leaves(n), true));
      }
    }
  });

  it('a proof does not verify for another size1, other roots or swapped roots', () => {
    for (let n = 2; n <= 20; n++) {
      for (let m = 1; m < n; m++) {
        const proof = consistencyProof(leaves(n), m, n);
        expect(verifyConsistency(m, n, roots[n]!, roots[m]!, proof)).toBe(false);
        for (let m2 = 1; m2 < n; m2++) {
          if (m2 === m) continue;
          expect(verifyConsistency(m2, n, roots[m]!, roots[n]!, proof)).toBe(false);
          expect(verifyConsistency(m, n, roots[m2]!, roots[n]!, proof)).toBe(false);
        }
        for (let n2 = m + 1; n2 <= 32; n2++) {
          if (n2 !== n) expect(verifyConsistency(m, n, roots[m]!, roots[n2]!, proof)).toBe(false);
        }
      }
    }
  });

  it('flipping any bit of the proof or either root breaks verification', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: MAX }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        fc.nat(HASH_SIZE * 8 - 1),
        ([m, n], which, bit) => {
          const proof = consistencyProof(leaves(n), m, n);
          const target = which % (proof.length + 2);
          if (target < proof.length) {
            const bad = proof.slice();
            bad[target] = flipBit(proof[target]!, bit);
            expect(verifyConsistency(m, n, roots[m]!, roots[n]!, bad)).toBe(false);
          } else if (target === proof.length) {
            expect(verifyConsistency(m, n, flipBit(roots[m]!, bit), roots[n]!, proof)).toBe(false);
          } else {
            expect(verifyConsistency(m, n, roots[m]!, flipBit(roots[n]!, bit), proof)).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('edge cases: equal sizes, the empty tree, time travel', () => {
    expect(verifyConsistency(5, 5, roots[5]!, roots[5]!, [])).toBe(true);
    expect(verifyConsistency(5, 5, roots[5]!, roots[6]!, [])).toBe(false);
    expect(verifyConsistency(5, 5, roots[5]!, roots[5]!, [roots[5]!])).toBe(false);
    // Consistency with the empty tree proves nothing and is refused (RFC 9162: 0 < first).
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, roots[5]!, [])).toBe(false);
    expect(verifyConsistency(6, 5, roots[6]!, roots[5]!, [])).toBe(false);
    expect(consistencyProof(leaves(5), 5, 5)).toEqual([]);
    expect(() => consistencyProof(leaves(5), 0, 5)).toThrow(RangeError);
    expect(() => consistencyProof(leaves(5), 3, 2)).toThrow(RangeError);
    expect(() => consistencyProof(leaves(5), 3, 6)).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------

describe('proofs over huge trees (sizes beyond 2^32)', () => {
  // Uniform leaves again, so subtree roots are cheap: P[k] for perfect subtrees, and
  // uniformRoot(m) for the right edge. Exercises the verifiers' non-32-bit arithmetic.
  const x = POOL[11]!;
  const p: Uint8Array[] = [x];
  for (let k = 1; k <= 52; k++) p.push(nodeHash(p[k - 1]!, p[k - 1]!));
  const pow2Below = (n: number) => {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  };
  const log2 = (k: number) => Math.round(Math.log2(k));
  const uniformRoot = (n: number): Uint8Array => {
    if (n === 1) return x;
    const k = pow2Below(n);
    return nodeHash(p[log2(k)]!, uniformRoot(n - k));
  };
  const uniformPath = (i: number, n: number): Uint8Array[] => {
    if (n === 1) return [];
    const k = pow2Below(n);
    return i < k ? [...uniformPath(i, k), uniformRoot(n - k)] : [...uniformPath(i - k, n - k), p[log2(k)]!];
  };
  const uniformSub = (m: number, n: number, b: boolean): Uint8Array[] => {
    if (m === n) return b ? [] : [uniformRoot(m)];
    const k = pow2Below(n);
    return m <= k ? [...uniformSub(m, k, b), uniformRoot(n - k)] : [...uniformSub(m - k, n - k, false), p[log2(k)]!];
  };
  const size = fc.integer({ min: 2, max: 2 ** 52 });

  it('inclusion', () => {
    fc.assert(
      fc.property(size.chain((n) => fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constant(n))), ([i, n]) => {
        const proof = uniformPath(i, n);
        expect(verifyInclusion(x, i, n, proof, uniformRoot(n))).toBe(true);
        expect(verifyInclusion(x, i, n, proof.slice(1), uniformRoot(n))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('consistency', () => {
    fc.assert(
      fc.property(size.chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))), ([m, n]) => {
        const proof = uniformSub(m, n, true);
        expect(verifyConsistency(m, n, uniformRoot(m), uniformRoot(n), proof)).toBe(true);
        expect(verifyConsistency(m, n, uniformRoot(m), uniformRoot(n), proof.slice(0, -1))).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});

// ---------------------------------------------------------------------------------------

describe('encoding', () => {
  it('hex and base64 agree with Node Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const buf = Buffer.from(b);
        expect(toHex(b)).toBe(buf.toString('hex'));
        expect(toBase64(b)).toBe(buf.toString('base64'));
        expect(toBase64Url(b)).toBe(buf.toString('base64url'));
        expect(fromHex(toHex(b))).toEqual(b);
        expect(fromHex(toHex(b).toUpperCase())).toEqual(b);
        expect(fromBase64(toBase64(b))).toEqual(b);
        expect(fromBase64Url(toBase64Url(b))).toEqual(b);
      }),
    );
  });

  it('decoders are strict: one spelling per byte string', () => {
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
    expect(() => fromBase64Url('AAA=')).toThrow(/padded/);
    expect(() => fromBase64Url('AA+A')).toThrow(/invalid character/);
    expect(() => fromBase64Url('AA A')).toThrow(/invalid character/);
    expect(() => fromBase64Url('A')).toThrow(/length/);
    expect(() => fromBase64Url('AB')).toThrow(/canonical/); // 'B' leaves a stray low bit
    expect(fromBase64Url('AA')).toEqual(new Uint8Array([0]));
    expect(fromBase64Url('')).toEqual(new Uint8Array(0));
    expect(() => fromBase64('AA')).toThrow(/padding/);
    expect(() => fromBase64('AA=A')).toThrow(/padding/);
    expect(() => fromBase64('AA-_')).toThrow(/invalid character/);
    expect(() => fromBase64('AB==')).toThrow(/canonical/);
    expect(fromBase64('AA==')).toEqual(new Uint8Array([0]));
    expect(() => fromBase64Url('é')).toThrow(TypeError);
  });

  it('decoder errors do not echo the input', () => {
    const secret = 'S3CR3T-k3y-material';
    for (const f of [() => fromBase64Url(`${secret}=`), () => fromBase64(`${secret}!`), () => fromHex(`${secret}`)]) {
      expect(f).toThrow();
      try {
        f();
      } catch (e) {
        expect(String((e as Error).message)).not.toContain(secret.slice(0, 6));
      }
    }
  });

  it('utf8 and equalBytes', () => {
    expect(Array.from(utf8('é'))).toEqual([0xc3, 0xa9]);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(equalBytes(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
