// Tiles (c2sp.org/tlog-tiles): the Merkle tree as 256-wide tiles of hashes, and the proofs computed
// from them. Level 0 holds leaf hashes; the hashes of level L >= 1 are the roots of complete
// subtrees of 256^L leaves, which the sequencer records as it folds leaves in (`foldLeaves`).
import { consistencyRanges, EMPTY_ROOT, inclusionRanges, largestPowerOfTwoBelow, nodeHash, type Frontier } from '../audit/merkle';

export const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;

export type Subtree = { level: number; idx: number; hash: Uint8Array };

/**
 * Appends leaves to a tree (given its frontier and size) like merkle.appendLeaves, and also returns
 * every subtree of 256^L leaves (L >= 1) completed on the way: the hashes of the upper tiles.
 */
export function foldLeaves(frontier: readonly Uint8Array[], size: number, leaves: readonly Uint8Array[]): { frontier: Frontier; subtrees: Subtree[] } {
  const heights: number[] = [];
  for (let bit = 52; bit >= 0; bit--) if (Math.floor(size / 2 ** bit) % 2 === 1) heights.push(bit);
  if (heights.length !== frontier.length) throw new RangeError(`frontier has ${frontier.length} hashes but a tree of size ${size} needs ${heights.length}`);
  const stack = frontier.map((hash, i) => ({ hash, height: heights[i]! }));
  const subtrees: Subtree[] = [];
  let end = size;
  for (const leaf of leaves) {
    stack.push({ hash: leaf, height: 0 });
    end++;
    while (stack.length >= 2 && stack[stack.length - 1]!.height === stack[stack.length - 2]!.height) {
      const right = stack.pop()!;
      const left = stack.pop()!;
      const height = right.height + 1;
      const hash = nodeHash(left.hash, right.hash);
      stack.push({ hash, height });
      if (height % TILE_HEIGHT === 0) subtrees.push({ level: height / TILE_HEIGHT, idx: end / 2 ** height - 1, hash });
    }
  }
  return { frontier: stack.map((s) => s.hash), subtrees };
}

// --- Tile paths ------------------------------------------------------------------------------

export type TileRef = { level: number | 'entries'; index: number; width: number };

/** `x001/x234/067` for 1234067. */
export function encodeTileIndex(n: number): string {
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export function tilePath(t: TileRef): string {
  return `tile/${t.level}/${encodeTileIndex(t.index)}${t.width < TILE_WIDTH ? `.p/${t.width}` : ''}`;
}

/** Parses what follows `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`. Null when malformed. */
export function parseTilePath(path: string): TileRef | null {
  const m = /^(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!m) return null;
  const level = m[1] === 'entries' ? 'entries' : Number(m[1]);
  if (level !== 'entries' && level > 63) return null;
  const groups = [...(m[2] ?? '').split('/').filter(Boolean).map((g) => g.slice(1)), m[3]!];
  if (groups.length > 1 && groups[0] === '000') return null; // no leading zero groups
  const index = Number(groups.join(''));
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (!Number.isSafeInteger(index) || (m[4] !== undefined && width > 255)) return null;
  return { level, index, width };
}

/** How many hashes tile `index` at `level` has in a tree of `size` (0: it does not exist). */
export function tileWidthAt(level: number, index: number, size: number): number {
  const hashesAtLevel = Math.floor(size / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, hashesAtLevel - index * TILE_WIDTH));
}

// --- Hashes and proofs from tiles ------------------------------------------------------------

/**
 * Reads `count` consecutive hashes at a tile level (level 0: leaf hashes by seq; level L: roots of
 * the complete 256^L subtrees), starting at hash index `start`. The range never leaves one tile.
 */
export type HashReader = (level: number, start: number, count: number) => Promise<Uint8Array[]>;

export type HashRange = { level: number; start: number; count: number };
/** Reads many ranges at once (one query per level instead of one per range). */
export type BatchHashReader = (ranges: readonly HashRange[]) => Promise<Uint8Array[][]>;

/**
 * Runs `fn` twice: first with a reader that only records which hashes it asks for (answering
 * zeros), then with all of them fetched in one batch. A proof needs ~2 log2(n) small ranges; read
 * one by one they are as many database round trips.
 */
export async function withPrefetch<T>(batch: BatchHashReader, fn: (read: HashReader) => Promise<T>): Promise<T> {
  const wanted: HashRange[] = [];
  await fn(async (level, start, count) => {
    wanted.push({ level, start, count });
    return Array.from({ length: count }, () => new Uint8Array(32));
  });
  const got = await batch(wanted);
  const byKey = new Map(wanted.map((w, i) => [`${w.level}/${w.start}/${w.count}`, got[i]!]));
  return fn(async (level, start, count) => {
    const hashes = byKey.get(`${level}/${start}/${count}`);
    if (!hashes) throw new RangeError(`hashes ${level}/${start}/${count} were not prefetched`);
    return hashes;
  });
}

/** MTH(D[lo:hi]) for lo < hi, reading as few stored hashes as the tile layout allows. */
export async function rangeHash(read: HashReader, lo: number, hi: number): Promise<Uint8Array> {
  const n = hi - lo;
  if (n <= 0) return EMPTY_ROOT.slice();
  if (isPowerOfTwo(n) && lo % n === 0) {
    const height = Math.log2(n);
    const level = Math.floor(height / TILE_HEIGHT);
    const unit = TILE_WIDTH ** level;
    const hashes = await read(level, lo / unit, n / unit);
    return reduce(hashes);
  }
  const k = largestPowerOfTwoBelow(n);
  const [left, right] = await Promise.all([rangeHash(read, lo, lo + k), rangeHash(read, lo + k, hi)]);
  return nodeHash(left, right);
}

/** Root of a perfect run of hashes (power-of-two length). */
function reduce(level: Uint8Array[]): Uint8Array {
  let xs = level;
  while (xs.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < xs.length; i += 2) next.push(nodeHash(xs[i]!, xs[i + 1]!));
    xs = next;
  }
  return xs[0]!;
}

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size`, from tiles. */
export async function proveInclusion(read: HashReader, index: number, size: number): Promise<Uint8Array[]> {
  if (!(Number.isSafeInteger(index) && index >= 0 && index < size)) throw new RangeError('index must be in [0, size)');
  return Promise.all(inclusionRanges(index, size).map(([lo, hi]) => rangeHash(read, lo, hi)));
}

/** RFC 9162 §2.1.4.1 consistency proof from `size1` to `size2` (0 < size1 <= size2), from tiles. */
export async function proveConsistency(read: HashReader, size1: number, size2: number): Promise<Uint8Array[]> {
  if (!(Number.isSafeInteger(size1) && size1 > 0 && size1 <= size2)) throw new RangeError('need 0 < size1 <= size2');
  return Promise.all(consistencyRanges(size1, size2).map(([lo, hi]) => rangeHash(read, lo, hi)));
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Entry bundle: big-endian uint16 length-prefixed entries. */
export function encodeBundle(entries: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let o = 0;
  for (const e of entries) {
    if (e.length > 0xffff) throw new RangeError('an entry longer than 65535 bytes does not fit an entry bundle');
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** Inverse of encodeBundle; null when the bytes are not a well-formed bundle. */
export function decodeBundle(bytes: Uint8Array): Uint8Array[] | null {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (o + 2 > bytes.length) return null;
    const n = (bytes[o]! << 8) | bytes[o + 1]!;
    if (o + 2 + n > bytes.length) return null;
    out.push(bytes.slice(o + 2, o + 2 + n));
    o += 2 + n;
  }
  return out;
}

/** Splits a tile's bytes into 32-byte hashes; null when the length is not a multiple of 32. */
export function splitHashes(bytes: Uint8Array): Uint8Array[] | null {
  if (bytes.length % 32 !== 0) return null;
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += 32) out.push(bytes.slice(i, i + 32));
  return out;
}
