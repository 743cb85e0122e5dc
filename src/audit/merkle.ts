/**
 * RFC 6962 / RFC 9162 (Certificate Transparency v1/v2) Merkle tree hashing, proofs and
 * verification, for the append-only audit log.
 *
 * We follow the RFCs exactly instead of inventing a tree shape so that any off-the-shelf
 * transparency-log verifier (and the transparency-dev test vectors) can check our log.
 *
 *   leaf  = SHA-256(0x00 || data)
 *   node  = SHA-256(0x01 || left || right)
 *   empty = SHA-256("")
 *
 * and a tree of n > 1 leaves splits at the largest power of two strictly below n.
 *
 * Sizes and indices are JS numbers; they must be non-negative safe integers. All the
 * "bit" arithmetic below uses division rather than `>>`/`&`, because those truncate to
 * 32 bits and a long-lived log may outgrow 2^31 entries.
 *
 * Conventions: functions that *build* trees or proofs throw on misuse (they are called by
 * our own sequencer with data it holds). Functions that *verify* never throw: they get
 * attacker-controlled input and answer `false` for anything they cannot verify.
 */
import { equalBytes } from '../encoding';
import { sha256, sha256Text } from '../hashing';

/** Byte length of every hash in the tree. */
export const HASH_SIZE = 32;

/** Root of the empty tree: SHA-256 of the empty string. Treat as read-only. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * Roots of the perfect subtrees along the right edge of a tree, left (largest) to right
 * (smallest): exactly one per set bit of the tree size. It is all the state needed to
 * append further leaves and compute the new root, so the sequencer persists O(log n)
 * hashes between batches instead of re-reading the whole log.
 */
export type Frontier = Uint8Array[];

const LEAF_PREFIX = new Uint8Array([0x00]);

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  // Streaming avoids copying potentially large leaf data just to prepend one byte.
  return sha256(LEAF_PREFIX, data);
}

/**
 * The leaf hash of a text's UTF-8 bytes, leafHash(utf8(text)), in one native call: U+0000 is the
 * single byte 0x00 in UTF-8, so the hash of "\u0000" + text is SHA-256(0x00 || utf8(text)). Every
 * audit entry is hashed this way (its leaf is canonical JSON text); test/hashing.test.ts holds the
 * two forms equal.
 */
export function leafHashOfText(text: string): Uint8Array {
  return sha256Text(`\u0000${text}`);
}

// One reusable buffer for interior nodes: building a tree hashes ~n nodes, and
// allocating a 65-byte array for each is measurable at a million leaves. Safe because
// JS runs this synchronously; nothing can interleave between filling and hashing.
const nodeScratch = new Uint8Array(1 + 2 * HASH_SIZE);
nodeScratch[0] = 0x01;

/**
 * RFC 6962 §2.1 interior node hash: SHA-256(0x01 || left || right).
 * @throws TypeError if either child is not a 32-byte hash.
 */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!isHash(left) || !isHash(right)) throw new TypeError('nodeHash children must be 32-byte hashes');
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return sha256(nodeScratch);
}

/**
 * Merkle Tree Hash (RFC 9162 §2.1.1) over already-hashed leaves.
 * Iterative, so a million leaves cost a million hashes and no recursion depth.
 * @throws TypeError if an element is not a 32-byte hash.
 */
export function rootOf(leafHashes: readonly Uint8Array[]): Uint8Array {
  assertHashes(leafHashes, 'leaf hash');
  return rangeRoot(leafHashes, 0, leafHashes.length);
}

/**
 * Appends leaves to a tree given only its frontier and size. Pure: returns a new frontier
 * and leaves the argument untouched.
 * @throws RangeError if the frontier does not match the size, TypeError on malformed hashes.
 */
export function appendLeaves(frontier: readonly Uint8Array[], size: number, leafHashes: readonly Uint8Array[]): Frontier {
  if (!isSize(size)) throw new RangeError('size must be a non-negative safe integer');
  if (!Array.isArray(frontier)) throw new TypeError('frontier must be an array of hashes');
  if (frontier.length !== popcount(size)) {
    throw new RangeError(`frontier has ${frontier.length} hashes but a tree of size ${size} needs ${popcount(size)}`);
  }
  assertHashes(frontier, 'frontier hash');
  assertHashes(leafHashes, 'leaf hash');
  if (size + leafHashes.length > Number.MAX_SAFE_INTEGER) throw new RangeError('tree size would exceed 2^53 - 1');

  const next = frontier.slice();
  let position = size;
  for (const leaf of leafHashes) {
    next.push(leaf);
    // Like binary increment: each trailing 1 bit of the old size is a perfect subtree of
    // the same height as the one just completed, so they merge, carrying upward.
    for (let t = position; t % 2 === 1; t = Math.floor(t / 2)) {
      const right = next.pop()!;
      const left = next.pop()!;
      next.push(nodeHash(left, right));
    }
    position++;
  }
  return next;
}

/**
 * Root hash of the tree a frontier describes (EMPTY_ROOT for the empty frontier).
 * Folding right-to-left reproduces the RFC split, because the leftmost perfect subtree is
 * always the largest power of two below the size (or the whole tree).
 * @throws TypeError on malformed hashes.
 */
export function frontierRoot(frontier: readonly Uint8Array[]): Uint8Array {
  assertHashes(frontier, 'frontier hash');
  if (frontier.length === 0) return EMPTY_ROOT.slice();
  let acc = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHash(frontier[i]!, acc);
  return acc === frontier[frontier.length - 1] ? acc.slice() : acc;
}

/**
 * Inclusion proof (RFC 9162 §2.1.3.1 PATH) for leaf `index` in the tree made of the first
 * `size` leaves. Ordered leaf-to-root, as verifiers expect.
 * @throws RangeError unless 0 <= index < size <= leafHashes.length.
 */
export function inclusionProof(leafHashes: readonly Uint8Array[], index: number, size: number): Uint8Array[] {
  if (!isSize(size) || size > leafHashes.length) throw new RangeError(`size must be an integer in [1, ${leafHashes.length}]`);
  if (!isSize(index) || index >= size) throw new RangeError(`index must be an integer in [0, size)`);
  assertHashes(leafHashes, 'leaf hash', size);
  return inclusionRanges(index, size).map(([lo, hi]) => rangeRoot(leafHashes, lo, hi));
}

/** A leaf range [lo, hi) whose Merkle Tree Hash is one element of a proof. */
export type LeafRange = [lo: number, hi: number];

/**
 * The leaf ranges whose hashes make up the inclusion proof of `index` in a tree of `size`, in
 * proof order (leaf to root). Callers check 0 <= index < size.
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  // Walk down from the root, recording the sibling subtree at each split.
  const siblings: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      siblings.push([lo + k, hi]);
      hi = lo + k;
    } else {
      siblings.push([lo, lo + k]);
      lo += k;
    }
  }
  return siblings.reverse();
}

/**
 * Verifies an inclusion proof (RFC 9162 §2.1.3.2). Never throws: returns false for an
 * index outside the tree, proof elements that are not 32-byte hashes, a proof of the
 * wrong length, or a mismatching root.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(leafHash) || !isHash(root)) return false;
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  if (!isHashArray(proof)) return false;

  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false; // proof longer than the path to the root
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // A right-edge node with no sibling at these levels is promoted unchanged.
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * Consistency proof (RFC 9162 §2.1.4.1 PROOF) that the tree of the first `size1` leaves is
 * a prefix of the tree of the first `size2` leaves. Empty when the sizes are equal.
 * @throws RangeError unless 0 < size1 <= size2 <= leafHashes.length (RFC 9162 defines
 * consistency only from a non-empty tree; see verifyConsistency).
 */
export function consistencyProof(leafHashes: readonly Uint8Array[], size1: number, size2: number): Uint8Array[] {
  if (!isSize(size2) || size2 > leafHashes.length) throw new RangeError(`size2 must be an integer in [1, ${leafHashes.length}]`);
  if (!isSize(size1) || size1 === 0 || size1 > size2) throw new RangeError('size1 must be an integer in [1, size2]');
  assertHashes(leafHashes, 'leaf hash', size2);
  return consistencyRanges(size1, size2).map(([lo, hi]) => rangeRoot(leafHashes, lo, hi));
}

/** The leaf ranges of the consistency proof from size1 to size2, in proof order. Callers check 0 < size1 <= size2. */
export function consistencyRanges(size1: number, size2: number): LeafRange[] {
  // Iterative SUBPROOF: walk down while the old tree's boundary falls inside a subtree.
  const collected: LeafRange[] = [];
  let lo = 0;
  let hi = size2;
  let m = size1;
  let oldRootIsComplete = true; // the RFC's `b`: is D[lo:hi] still the old tree's own root?
  while (m !== hi - lo) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      collected.push([lo + k, hi]);
      hi = lo + k;
    } else {
      collected.push([lo, lo + k]);
      lo += k;
      m -= k;
      oldRootIsComplete = false;
    }
  }
  // The verifier already knows the old root, so the shared subtree is only sent when it is
  // not that root itself.
  if (!oldRootIsComplete) collected.push([lo, hi]);
  return collected.reverse();
}

/**
 * Verifies a consistency proof between (size1, root1) and (size2, root2) following
 * RFC 9162 §2.1.4.2. Never throws.
 *
 * Edge cases, matching the shared test vectors:
 * - size1 === size2 (> 0): valid iff the proof is empty and the roots are equal.
 * - size1 === 0: always false. RFC 9162 defines consistency proofs only for 0 < size1, and
 *   "consistent with the empty tree" would vouch for nothing, so a client must not treat it
 *   as a successful check. (transparency-dev/merkle accepts it; our vectors do not.)
 * - size1 > size2: false.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isSize(size1) || !isSize(size2) || size1 === 0 || size1 > size2) return false;
  if (!isHashArray(proof)) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (proof.length === 0 || !isHash(root1) || !isHash(root2)) return false;

  // When size1 is a power of two the old root is itself a node of the new tree and is
  // omitted from the proof; the verifier supplies it.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}

// ---------------------------------------------------------------------------------------

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === HASH_SIZE;
}

function isHashArray(xs: unknown): xs is readonly Uint8Array[] {
  return Array.isArray(xs) && xs.every(isHash);
}

/** Checks xs[0, end) (all of xs by default) are 32-byte hashes. */
function assertHashes(xs: readonly Uint8Array[], what: string, end?: number): void {
  if (!Array.isArray(xs)) throw new TypeError(`expected an array of ${what}es`);
  for (let i = 0; i < (end ?? xs.length); i++) {
    if (!isHash(xs[i])) throw new TypeError(`${what} at position ${i} is not a ${HASH_SIZE}-byte Uint8Array`);
  }
}

function isSize(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/** The largest power of two strictly below n (n > 1): where RFC 6962 splits a tree of n leaves. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

function popcount(n: number): number {
  let count = 0;
  for (let t = n; t > 0; t = Math.floor(t / 2)) count += t % 2;
  return count;
}

/**
 * MTH of leafHashes[lo, hi): bottom-up, pairing neighbours and promoting an odd last node
 * unchanged, which yields exactly the RFC's largest-power-of-two split. Reduces in place in
 * one scratch array, so no recursion and at most n/2 live intermediate hashes.
 */
function rangeRoot(leafHashes: readonly Uint8Array[], lo: number, hi: number): Uint8Array {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT.slice();
  if (n === 1) return leafHashes[lo]!.slice();
  const level: Uint8Array[] = new Array<Uint8Array>(Math.ceil(n / 2));
  for (let i = 0; i < level.length; i++) {
    const a = lo + 2 * i;
    level[i] = a + 1 < hi ? nodeHash(leafHashes[a]!, leafHashes[a + 1]!) : leafHashes[a]!;
  }
  let width = level.length;
  while (width > 1) {
    const half = Math.ceil(width / 2);
    for (let i = 0; i < half; i++) {
      const a = 2 * i;
      level[i] = a + 1 < width ? nodeHash(level[a]!, level[a + 1]!) : level[a]!;
    }
    width = half;
  }
  return level[0]!;
}
