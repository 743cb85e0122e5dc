// A verifier that needs no database: it checks a hub's log over HTTP the way any tlog client would.
// 1. the checkpoint (GET /log/checkpoint) is signed by the log key and cosigned by a quorum of the
//    covenant's witnesses;
// 2. it is consistent with the last checkpoint this verifier accepted (kept by the caller): a log
//    that went back (rollback) or shows another history (fork) is caught here;
// 3. the tree is recomputed from the level-0 hash tiles, or, for a reader of the whole log, from the
//    entry bundles (every leaf rehashed from its entry), and must give the checkpoint's root.
// Pruned prefixes (410 on level-0 tiles) are covered by the level-1 hashes that stay.
import { appendLeaves, EMPTY_ROOT, frontierRoot, inclusionRanges, leafHash, verifyConsistency, verifyInclusion, type Frontier } from '../audit/merkle';
import { equalBytes, fromBase64, toBase64, unixSeconds } from '../encoding';
import { openCheckpoint, type Cosigner } from './checkpoint';
import type { NoteKey } from './note';
import { parseTlogProof } from './proof';
import { entriesRoot, INLINE_ENTRIES, isBatchReceipt, type ReceiptClaims, type ReceiptEntry } from './receipt';
import { decodeBundle, proveConsistency, rangeHash, splitHashes, TILE_WIDTH, tilePath, tileWidthAt, type HashReader } from './tiles';

/** What the verifier keeps between runs. */
export type VerifierState = { origin: string; size: number; root: string; checkpoint: string; at: string };

export type RemoteProblemKind = 'bad-checkpoint' | 'quorum' | 'rollback' | 'fork' | 'root-mismatch' | 'bad-tile' | 'unavailable';

export type RemoteReport = {
  ok: boolean;
  origin: string;
  size: number;
  previousSize: number | null;
  cosigners: string[];
  /** Seconds since the newest cosignature (the checkpoint's age as the witnesses saw it). */
  witnessedAgeSeconds: number | null;
  /** Entries whose leaves were recomputed from entry bundles (0 without bundle access). */
  entriesRehashed: number;
  /** Leaves below the log's minimum index, covered by level-1 hashes only (pruned). */
  pruned: number;
  problems: { kind: RemoteProblemKind; message: string }[];
  /** The state to keep when ok. */
  next: VerifierState | null;
};

export type RemoteOptions = {
  url: string;
  logKey: NoteKey;
  witnesses: readonly Cosigner[];
  quorum: number;
  previous: VerifierState | null;
  fetch: typeof fetch;
  now: Date;
  /** A fresh partner token per call, for entry bundles (read-audit-all). */
  token?: () => Promise<string>;
  onProgress?: (leaves: number, size: number) => void;
};

class Unavailable extends Error {}

/** Tiles and bundles requested ahead while one is hashed. */
const LOOKAHEAD = 8;

export async function verifyRemote(o: RemoteOptions): Promise<RemoteReport> {
  const base = o.url.replace(/\/$/, '');
  const origin = o.logKey.name;
  const report: RemoteReport = { ok: false, origin, size: 0, previousSize: o.previous?.size ?? null, cosigners: [], witnessedAgeSeconds: null, entriesRehashed: 0, pruned: 0, problems: [], next: null };
  const problem = (kind: RemoteProblemKind, message: string) => report.problems.push({ kind, message });
  const get = async (path: string, auth = false): Promise<Response> => {
    const headers: Record<string, string> = { 'accept-encoding': 'gzip, identity' };
    if (auth && o.token) headers.authorization = `Bearer ${await o.token()}`;
    const res = await o.fetch(`${base}${path}`, { headers });
    return res;
  };

  const cpRes = await get('/log/checkpoint');
  if (cpRes.status !== 200) {
    problem('unavailable', `GET /log/checkpoint answered ${cpRes.status}`);
    return report;
  }
  const note = await cpRes.text();
  const cp = openCheckpoint(note, origin, [o.logKey], o.witnesses);
  if (!cp) {
    problem('bad-checkpoint', `the checkpoint is not signed by the log key ${origin} (or is malformed, or of another log)`);
    return report;
  }
  report.size = cp.size;
  const nowSeconds = unixSeconds(o.now);
  const fresh = cp.cosignatures.filter((c) => c.timestamp <= nowSeconds + 60);
  report.cosigners = fresh.map((c) => c.witness);
  if (fresh.length) report.witnessedAgeSeconds = nowSeconds - Math.max(...fresh.map((c) => c.timestamp));
  if (fresh.length < o.quorum) problem('quorum', `${fresh.length} valid cosignature(s) of the covenant's witnesses; the policy asks ${o.quorum}`);

  const { tile, reader } = httpTiles(get, cp.size);

  try {
    if (o.previous) checkAgainstPrevious(o.previous, cp, await consistency(reader, o.previous, cp.size), problem);
    await recomputeRoot(o, cp, tile, get, report, problem);
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    problem('unavailable', e.message);
  }
  report.ok = report.problems.length === 0;
  if (report.ok) report.next = { origin, size: cp.size, root: toBase64(cp.root), checkpoint: note, at: o.now.toISOString() };
  return report;
}

/**
 * The hash tiles of a tree of `size` over HTTP (GET <prefix>/tile/...), each fetched once, at the
 * width that size implies; and a HashReader over them. A pruned tile (410) is 'gone'.
 */
function httpTiles(get: (path: string) => Promise<Response>, size: number) {
  const tiles = new Map<string, Promise<Uint8Array[] | 'gone'>>();
  const tile = (level: number, index: number): Promise<Uint8Array[] | 'gone'> => {
    const width = tileWidthAt(level, index, size);
    const path = `/log/${tilePath({ level, index, width })}`;
    let p = tiles.get(path);
    if (!p) {
      p = (async () => {
        const res = await get(path);
        if (res.status === 410) return 'gone' as const;
        if (res.status !== 200) throw new Unavailable(`GET ${path} answered ${res.status}`);
        const hashes = splitHashes(new Uint8Array(await res.arrayBuffer()));
        if (!hashes || hashes.length !== width) throw new Unavailable(`${path} is not ${width} hashes`);
        return hashes;
      })();
      tiles.set(path, p);
    }
    return p;
  };
  const reader: HashReader = async (level, start, count) => {
    const t = await tile(level, Math.floor(start / TILE_WIDTH));
    if (t === 'gone') throw new Unavailable(`tile ${level}/${Math.floor(start / TILE_WIDTH)} was pruned`);
    const from = start % TILE_WIDTH;
    return t.slice(from, from + count);
  };
  return { tile, reader };
}

async function consistency(reader: HashReader, previous: VerifierState, size: number): Promise<Uint8Array[] | null> {
  if (previous.size === 0 || previous.size >= size) return null;
  return proveConsistency(reader, previous.size, size);
}

function checkAgainstPrevious(
  previous: VerifierState,
  cp: { size: number; root: Uint8Array },
  proof: Uint8Array[] | null,
  problem: (k: RemoteProblemKind, m: string) => void,
): void {
  const oldRoot = fromBase64(previous.root);
  if (cp.size < previous.size) {
    problem('rollback', `the log went back from size ${previous.size} (seen ${previous.at}) to ${cp.size}: entries were removed, or this is another view of the log`);
  } else if (cp.size === previous.size) {
    if (!equalBytes(oldRoot, cp.root)) problem('fork', `same size ${cp.size} as the checkpoint seen ${previous.at}, but another root: the history was rewritten`);
  } else if (previous.size > 0 && !verifyConsistency(previous.size, cp.size, oldRoot, cp.root, proof ?? [])) {
    problem('fork', `the tree of size ${cp.size} does not extend the one of size ${previous.size} seen ${previous.at}: the history was rewritten`);
  }
}

async function recomputeRoot(
  o: RemoteOptions,
  cp: { size: number; root: Uint8Array },
  tile: (level: number, index: number) => Promise<Uint8Array[] | 'gone'>,
  get: (path: string, auth?: boolean) => Promise<Response>,
  report: RemoteReport,
  problem: (k: RemoteProblemKind, m: string) => void,
): Promise<void> {
  let frontier: Frontier = [];
  let size = 0;
  const tilesAtLevel0 = Math.ceil(cp.size / TILE_WIDTH);
  const bundles = new Map<number, Promise<Response>>();
  const bundle = (i: number) => {
    let p = bundles.get(i);
    if (!p) {
      p = get(`/log/${tilePath({ level: 'entries', index: i, width: tileWidthAt(0, i, cp.size) })}`, true);
      p.catch(() => {}); // awaited (and its failure reported) when its turn comes
      bundles.set(i, p);
    }
    return p;
  };
  for (let i = 0; i < tilesAtLevel0; i++) {
    // Keep a few requests in flight ahead of the one being hashed.
    for (let j = i + 1; j < Math.min(tilesAtLevel0, i + LOOKAHEAD); j++) {
      tile(0, j).catch(() => {});
      if (o.token) bundle(j);
    }
    bundles.delete(i - 1);
    const width = tileWidthAt(0, i, cp.size);
    const hashes = await tile(0, i);
    if (hashes === 'gone') {
      // Pruned: the whole tile is one hash at level 1 (only full tiles are ever pruned).
      const up = await tile(1, Math.floor(i / TILE_WIDTH));
      if (up === 'gone' || width !== TILE_WIDTH) throw new Unavailable(`tile 0/${i} was pruned and no level-1 hash covers it`);
      frontier = appendSubtree(frontier, size, up[i % TILE_WIDTH]!);
      size += TILE_WIDTH;
      report.pruned += TILE_WIDTH;
      continue;
    }
    let leaves = hashes;
    if (o.token) {
      const res = await bundle(i);
      if (res.status === 200) {
        const entries = decodeBundle(new Uint8Array(await res.arrayBuffer()));
        if (!entries || entries.length !== width) throw new Unavailable(`entry bundle ${i} is malformed`);
        leaves = entries.map((e) => leafHash(e));
        const differs = leaves.findIndex((l, k) => !equalBytes(l, hashes[k]!));
        if (differs >= 0) problem('bad-tile', `entry ${i * TILE_WIDTH + differs} does not hash to its leaf in hash tile 0/${i}`);
        report.entriesRehashed += entries.length;
      } else if (res.status !== 410) {
        throw new Unavailable(`GET entry bundle ${i} answered ${res.status} (does --as/--role have read-audit-all?)`);
      }
    }
    frontier = appendLeaves(frontier, size, leaves);
    size += leaves.length;
    o.onProgress?.(size, cp.size);
  }
  const root = size === 0 ? EMPTY_ROOT : frontierRoot(frontier);
  if (!equalBytes(root, cp.root)) problem('root-mismatch', `the tiles${o.token ? ' and entries' : ''} of the log do not hash to the checkpoint's root (size ${cp.size})`);
}

/** Appends a complete 256-leaf subtree (its root) at a size that is a multiple of 256. */
function appendSubtree(frontier: Frontier, size: number, root: Uint8Array): Frontier {
  // A tree whose size is a multiple of 256 is a tree over 256-leaf units with the same shape.
  return appendLeaves(frontier, size / TILE_WIDTH, [root]);
}

// --- Receipts ----------------------------------------------------------------------------------

export type ReceiptCheck = {
  uid: string;
  /**
   * included: proven in a checkpoint the policy accepts; pending: not yet, but within the maximum
   * merge delay; missing: past the delay and still not provable (the hub broke its promise: an
   * entry was dropped or the log was rewritten); bad-proof: the hub's proof does not hold.
   */
  status: 'included' | 'pending' | 'missing' | 'bad-proof';
  detail: string;
  index?: number;
  size?: number;
};

export type ReceiptOptions = {
  url: string;
  fetch: typeof fetch;
  /** A fresh partner token per call (the entry's own organisation, or read-audit-all). */
  token: () => Promise<string>;
  logKey: NoteKey;
  witnesses: readonly Cosigner[];
  quorum: number;
  now: Date;
};

/**
 * Checks each entry of a (signature-verified) receipt against the hub's published log. A batch
 * receipt's entries are fetched first and must hash to its signed root (their count, first and last
 * uid too): an entry dropped, added or changed since the answer shows here. Up to INLINE_ENTRIES
 * entries are proven one tlog-proof each; more from one tlog-proof (for the checkpoint and where
 * the entries are) and the public hash tiles, which give every other entry's inclusion proof.
 */
export async function checkReceipt(o: ReceiptOptions, claims: ReceiptClaims): Promise<ReceiptCheck[]> {
  const overdue = o.now.getTime() / 1000 > claims.iat + claims.mmd;
  const late = (uid: string, why: string): ReceiptCheck =>
    overdue
      ? { uid, status: 'missing', detail: `${why}, and the promised ${claims.mmd} s since ${new Date(claims.iat * 1000).toISOString()} have passed` }
      : { uid, status: 'pending', detail: `${why}; promised within ${claims.mmd} s of ${new Date(claims.iat * 1000).toISOString()}` };
  const base = o.url.replace(/\/$/, '');
  const authed = async (path: string) => o.fetch(`${base}${path}`, { headers: { authorization: `Bearer ${await o.token()}` } });
  const named = isBatchReceipt(claims) ? [claims.first] : claims.entries.map((e) => e.uid);
  if (claims.log !== o.logKey.name) return named.map((uid) => ({ uid, status: 'bad-proof', detail: `the receipt is for log ${claims.log}, not ${o.logKey.name}` }));

  let entries: ReceiptEntry[];
  if (isBatchReceipt(claims)) {
    const path = `/v1/audit/receipts/entries?first=${encodeURIComponent(claims.first)}&last=${encodeURIComponent(claims.last)}`;
    const res = await authed(path);
    if (res.status === 404) return [{ uid: claims.first, status: 'missing', detail: `the hub no longer has the ${claims.count} entries from ${claims.first} to ${claims.last} its receipt names (first or last removed)` }];
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
    entries = ((await res.json()) as { entries: ReceiptEntry[] }).entries;
    const same = entries.length === claims.count && entries[0]?.uid === claims.first && entries.at(-1)?.uid === claims.last && entriesRoot(entries) === claims.root;
    if (!same) return [{ uid: claims.first, status: 'bad-proof', detail: `the hub's ${entries.length} entries from ${claims.first} to ${claims.last} do not hash to the receipt's root over ${claims.count}: an entry was removed, added or changed` }];
  } else {
    entries = claims.entries;
  }

  // One tlog-proof: the anchor (or, for a few entries, every entry's own).
  const proofOf = async (e: ReceiptEntry): Promise<ReceiptCheck | { index: number; path: Uint8Array[]; cp: { size: number; root: Uint8Array } }> => {
    const res = await authed(`/v1/audit/proofs/${encodeURIComponent(e.uid)}`);
    const text = await res.text();
    if (res.status === 404) return late(e.uid, 'no proof yet');
    if (res.status !== 200) throw new Error(`GET /v1/audit/proofs/${e.uid} answered ${res.status}`);
    const proof = parseTlogProof(text);
    const cp = proof ? openCheckpoint(proof.checkpoint, o.logKey.name, [o.logKey], o.witnesses) : null;
    if (!proof || !cp) return { uid: e.uid, status: 'bad-proof', detail: 'the proof or its checkpoint does not verify with the log key' };
    if (cp.cosignatures.length < o.quorum) return { uid: e.uid, status: 'bad-proof', detail: `the checkpoint has ${cp.cosignatures.length} valid cosignature(s); the policy asks ${o.quorum}` };
    return { index: proof.index, path: proof.path, cp };
  };
  const judge = (e: ReceiptEntry, index: number, path: Uint8Array[], cp: { size: number; root: Uint8Array }): ReceiptCheck =>
    verifyInclusion(fromBase64(e.leaf), index, cp.size, path, cp.root)
      ? { uid: e.uid, status: 'included', detail: `index ${index} of the tree of size ${cp.size}`, index, size: cp.size }
      : { uid: e.uid, status: 'bad-proof', detail: `the receipt's leaf is not at index ${index} of the tree of size ${cp.size}` };

  if (entries.length <= INLINE_ENTRIES) {
    const out: ReceiptCheck[] = [];
    for (const e of entries) {
      const p = await proofOf(e);
      out.push('status' in p ? p : judge(e, p.index, p.path, p.cp));
    }
    return out;
  }

  // Many entries: anchor on the first (else the last) that has a proof.
  let anchor: { index: number; cp: { size: number; root: Uint8Array }; first: boolean } | undefined;
  for (const [k, e] of [entries[0]!, entries.at(-1)!].entries()) {
    const p = await proofOf(e);
    if ('status' in p) {
      if (p.status === 'bad-proof') return entries.map((x) => ({ ...p, uid: x.uid }));
      continue;
    }
    if (judge(e, p.index, p.path, p.cp).status !== 'included') return entries.map((x) => judge(x, p.index, p.path, p.cp));
    anchor = { index: p.index, cp: p.cp, first: k === 0 };
    break;
  }
  if (!anchor) return entries.map((e) => late(e.uid, 'no proof yet'));
  const { cp } = anchor;
  const { tile, reader } = httpTiles((path) => o.fetch(`${base}${path}`), cp.size);
  // Where each leaf is: level-0 tiles from the anchor's on (entries are sequenced in append order,
  // interleaved at most with other requests' entries), then before it.
  const wanted = new Map(entries.map((e) => [e.leaf, e]));
  const found = new Map<string, number>();
  const tiles = Math.ceil(cp.size / TILE_WIDTH);
  const at = Math.floor(anchor.index / TILE_WIDTH);
  const order = [...Array.from({ length: tiles - at }, (_, k) => at + k), ...Array.from({ length: at }, (_, k) => at - 1 - k)];
  for (const t of order) {
    if (found.size === wanted.size) break;
    const hashes = await tile(0, t);
    if (hashes === 'gone') break;
    hashes.forEach((h, k) => {
      const leaf = toBase64(h);
      if (wanted.has(leaf)) found.set(leaf, t * TILE_WIDTH + k);
    });
  }
  // Neighbouring entries share most of their proofs' subtrees: each subtree hash is computed once.
  const memo = new Map<string, Promise<Uint8Array>>();
  const subtree = (lo: number, hi: number) => {
    const key = `${lo}-${hi}`;
    let h = memo.get(key);
    if (!h) memo.set(key, (h = rangeHash(reader, lo, hi)));
    return h;
  };
  const out: ReceiptCheck[] = [];
  for (const e of entries) {
    const index = found.get(e.leaf);
    if (index === undefined) {
      out.push(late(e.uid, `not in the published tree of size ${cp.size}`));
      continue;
    }
    const path = await Promise.all(inclusionRanges(index, cp.size).map(([lo, hi]) => subtree(lo, hi)));
    out.push(judge(e, index, path, cp));
  }
  return out;
}
