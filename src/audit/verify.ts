// `kenbaar audit verify`: recompute the Merkle tree from the rows and hold it against every signed
// checkpoint. Reports the problems it finds, first one first, by sequence number and kind.
//
// A leaf commits to its entry's content and random uid (v2, src/audit/entry.ts leafInput); its
// position is committed by the tree, whose root the checkpoints sign. Entries from before migration
// 0005 (v1) also commit to id and seq. The sequencer stored each leaf hash it computed. Against an
// attacker with database access but without the hub's keys:
// - a gap in seq                                   -> `missing` (a deleted entry)
// - two entries each carrying the other's leaf     -> `reordered`
// - v1 only: entries whose stored leaf is their own
//   content one position earlier (tail moved up)   -> `inserted` (an entry slipped in before them)
// - ... one position later (the tail moved down)   -> `missing` (an entry removed, the rest renumbered)
// - any other leaf that does not hash as stored    -> `altered`
// - a recomputed root unlike a signed checkpoint   -> `altered` (an entry inserted or moved with its
//                                                     leaf, or forged along with its leaf hash: the
//                                                     checkpoint names the range)
// - a checkpoint beyond the last entry             -> `truncated`
// - a checkpoint whose signature fails             -> `bad-checkpoint` (its JWS, and its C2SP note
//                                                     when the log keys are given)
// Entries below the log's minimum index were pruned after the audit retention (src/log/retention.ts):
// the tree is continued from the stored hashes of their complete 256-leaf subtrees, which the signed
// checkpoints still hold to account. Entries beyond the newest checkpoint are reported as
// `uncovered`: their leaves are checked, but nothing signed holds them yet.
// Insertion ids are deliberately not used for ordering: under concurrent writers a transaction can
// commit after a later-numbered one has been sequenced, so seq order legitimately differs from id order.
// Reading and hashing the entries is a LeafSource's: this thread's (inThreadLeaves) by default; on
// Node against PostgreSQL, worker threads' with a connection each, range by range (rangedLeaves,
// hashRange; src/node/audit-hash-pool.ts). The fold into the tree, the diagnosis and the checkpoint
// checks stay here, in seq order, and give the same report whichever source read the entries.
import type { JWK } from 'jose';
import type { Queryable, RawValues } from '../db/types';
import { isHexOf, toHex } from '../encoding';
import { entryLeafHash, type LeafEntry } from './entry';
import { appendLeaves, EMPTY_ROOT, frontierRoot, type Frontier } from './merkle';
import { verifyCheckpointJws } from './checkpoint';
import { countUnsequenced, listCheckpoints, readSequencedLeaves } from './store';
import { openCheckpoint } from '../log/checkpoint';
import type { NoteKey } from '../log/note';
import { dbHashReader, minIndex } from '../log/store';
import { TILE_WIDTH } from '../log/tiles';

export type VerifyProblemKind = 'missing' | 'altered' | 'reordered' | 'inserted' | 'truncated' | 'bad-checkpoint';

export type VerifyProblem = { kind: VerifyProblemKind; seq: number | null; message: string };

export type VerifyReport = {
  ok: boolean;
  entries: number;
  unsequenced: number;
  /** Sequenced entries after the newest checkpoint (not yet covered by a signed tree head). */
  uncovered: number;
  /** Entries below the minimum index, pruned after the audit retention (hashes kept). */
  pruned: number;
  checkpoints: number;
  root: string;
  problems: VerifyProblem[];
};

const PAGE = 10_000;
/** Mismatching leaves kept for the pairwise (reorder) check; beyond this they are just `altered`. */
const MAX_SUSPECTS = 10_000;
const HASH_BYTES = 32;

const hashAt = (e: LeafEntry, seq: number) => toHex(entryLeafHash(e, seq));

/** The recomputed leaves of a run of sequenced entries, in seq order: what the verifier folds. */
export type LeafBatch = {
  /** The entries' seqs, ascending (gaps are for the verifier to find). */
  seqs: Float64Array<ArrayBuffer>;
  /** Their recomputed leaf hashes, 32 bytes each, in the order of `seqs`. */
  hashes: Uint8Array<ArrayBuffer>;
  /** The entries whose stored leaf hash is absent or not the recomputed one, by index in `seqs`, ascending: for the diagnosis. */
  mismatched: { index: number; entry: LeafEntry }[];
};

/** The sequenced entries from `fromSeq` on, read and hashed, batch after batch in seq order. */
export type LeafSource = (fromSeq: number) => AsyncIterable<LeafBatch>;

/** Recompute the leaves of entries read in seq order (in this thread, or in a worker thread). */
export function hashEntries(entries: readonly LeafEntry[]): LeafBatch {
  const seqs = new Float64Array(entries.length);
  const hashes = new Uint8Array(entries.length * HASH_BYTES);
  const mismatched: LeafBatch['mismatched'] = [];
  entries.forEach((e, i) => {
    const seq = e.seq as number;
    const recomputed = entryLeafHash(e, seq);
    seqs[i] = seq;
    hashes.set(recomputed, i * HASH_BYTES);
    if (e.leafHash === null || !isHexOf(recomputed, e.leafHash)) mismatched.push({ index: i, entry: e });
  });
  return { seqs, hashes, mismatched };
}

/** Read page after page and hash it in this thread (the next page is read while one is hashed). */
export function inThreadLeaves(q: Queryable): LeafSource {
  const readAfter = (after: number) => {
    const p = readSequencedLeaves(q, after, PAGE);
    p.catch(() => {}); // awaited (and its failure thrown) on its turn
    return p;
  };
  return async function* (fromSeq) {
    for (let next = readAfter(fromSeq - 1); ; ) {
      const page = await next;
      if (page.length === 0) return;
      next = readAfter(page[page.length - 1]!.seq as number);
      yield hashEntries(page);
    }
  };
}

/** One range of seqs [from, to) hashed, and where the log goes on after it. */
export type RangeLeaves = LeafBatch & {
  /** The lowest seq from `to` on that may hold an entry; null when no entry follows the range. */
  next: number | null;
};

/**
 * Read and hash the entries with from <= seq < to (what each worker thread does for its ranges):
 * one readSequencedLeaves of `to - from` entries holds them all, seq being unique. What it reads
 * beyond `to` says where the log goes on: at that seq (a gap after the range), or nowhere (the end).
 */
export async function hashRange(q: Queryable | RawValues, from: number, to: number): Promise<RangeLeaves> {
  const limit = to - from;
  const page = await readSequencedLeaves(q, from - 1, limit);
  let n = 0;
  while (n < page.length && (page[n]!.seq as number) < to) n++;
  const next = n < page.length ? (page[n]!.seq as number) : page.length < limit ? null : to;
  return { ...hashEntries(n === page.length ? page : page.slice(0, n)), next };
}

/**
 * Ranges of `size` seqs, `parallel` of them hashed at a time by `hash` (worker threads, each on a
 * connection of its own), handed on strictly in order. A range followed by nothing ends the log;
 * one followed by a gap beyond the ranges asked for skips it, so that a seq moved far ahead costs
 * one range, not one per `size` seqs of the gap.
 */
export function rangedLeaves(hash: (from: number, to: number) => Promise<RangeLeaves>, size: number, parallel: number): LeafSource {
  return async function* (fromSeq) {
    const inFlight: Promise<RangeLeaves>[] = [];
    let ask = fromSeq;
    for (;;) {
      while (inFlight.length < parallel) {
        const p = hash(ask, ask + size);
        p.catch(() => {}); // awaited (and its failure thrown) on its turn; abandoned after the end
        inFlight.push(p);
        ask += size;
      }
      const range = await inFlight.shift()!;
      yield range;
      if (range.next === null) return;
      ask = Math.max(ask, range.next);
    }
  };
}

export async function verifyAuditLog(
  q: Queryable,
  hubKeys: JWK[],
  onProgress?: (entries: number) => void,
  log?: { origin: string; keys: NoteKey[] },
  /** Where the recomputed leaves come from (default: read and hashed in this thread, inThreadLeaves). */
  leaves?: LeafSource,
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const cps = await listCheckpoints(q);
  const claimsBySize = new Map<number, { root: string; id: number }[]>();
  for (const cp of cps) {
    const claims = await verifyCheckpointJws(cp.jws, hubKeys);
    const note = cp.note && log ? openCheckpoint(cp.note, log.origin, log.keys) : undefined;
    const noteBad = note === null || (note && (note.size !== cp.size || toHex(note.root) !== cp.root));
    if (!claims || claims.size !== cp.size || claims.root !== cp.root || noteBad) {
      problems.push({ kind: 'bad-checkpoint', seq: null, message: `checkpoint #${cp.id} (size ${cp.size}) has an invalid signature or does not match its signed claims` });
      continue;
    }
    const list = claimsBySize.get(claims.size) ?? [];
    list.push({ root: claims.root, id: cp.id });
    claimsBySize.set(claims.size, list);
  }

  // A pruned prefix: continue from the hashes of its complete 256-leaf subtrees.
  const pruned = await minIndex(q);
  let frontier: Frontier = pruned ? appendLeaves([], 0, await dbHashReader(q)(1, 0, pruned / TILE_WIDTH)) : [];
  let size = pruned;
  let expectedSeq = pruned;
  let rootMismatchReported = false;
  let shiftReported = false;
  const suspects: { seq: number; entry: LeafEntry; stored: string | null }[] = [];

  const checkRootAt = (n: number) => {
    for (const cp of claimsBySize.get(n) ?? []) {
      const root = toHex(n === 0 ? EMPTY_ROOT : frontierRoot(frontier));
      if (root !== cp.root && !rootMismatchReported) {
        rootMismatchReported = true;
        problems.push({
          kind: 'altered',
          seq: null,
          message: `the entries 0..${n - 1} do not hash to the root signed in checkpoint #${cp.id}: an entry up to seq ${n - 1} was altered, inserted or removed`,
        });
      }
    }
  };
  checkRootAt(0);
  if (pruned) checkRootAt(pruned);

  // Batches of recomputed leaves in seq order: read and hashed in this thread, or by worker threads
  // (src/node/audit-hash-pool.ts); either way folded here, one entry after the other.
  for await (const batch of (leaves ?? inThreadLeaves(q))(pruned)) {
    const hashes: Uint8Array[] = [];
    let m = 0;
    for (let i = 0; i < batch.seqs.length; i++) {
      const seq = batch.seqs[i]!;
      if (seq > expectedSeq) {
        problems.push({ kind: 'missing', seq: expectedSeq, message: `entries ${expectedSeq}..${seq - 1} are missing` });
      }
      if (batch.mismatched[m]?.index === i) {
        const e = batch.mismatched[m++]!.entry;
        if (!shiftReported && e.leafHash !== null && hashAt(e, seq - 1) === e.leafHash) {
          shiftReported = true;
          problems.push({ kind: 'inserted', seq: seq - 1, message: `entry ${seq - 1} was inserted: from seq ${seq} on, the entries carry the leaves of the position before theirs` });
        } else if (!shiftReported && e.leafHash !== null && hashAt(e, seq + 1) === e.leafHash) {
          shiftReported = true;
          problems.push({ kind: 'missing', seq, message: `an entry before seq ${seq} was removed and the rest renumbered: from seq ${seq} on, the entries carry the leaves of the position after theirs` });
        } else if (suspects.length < MAX_SUSPECTS) {
          suspects.push({ seq, entry: e, stored: e.leafHash });
        } else {
          problems.push({ kind: 'altered', seq, message: `entry ${seq} does not hash to its recorded leaf hash: its content or position was changed` });
        }
      }
      hashes.push(batch.hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
      expectedSeq = seq + 1;
      // Root checks at each checkpoint boundary inside this batch.
      if (claimsBySize.has(size + hashes.length)) {
        const n = hashes.length;
        frontier = appendLeaves(frontier, size, hashes.splice(0));
        size += n;
        checkRootAt(size);
      }
    }
    frontier = appendLeaves(frontier, size, hashes);
    size += hashes.length;
    onProgress?.(size);
  }

  // Mismatching leaves: two entries that each hash correctly at the other's position were swapped.
  const explained = new Set<number>();
  for (const a of suspects) {
    if (explained.has(a.seq)) continue;
    const b = suspects.find((s) => s.seq !== a.seq && !explained.has(s.seq) && s.stored === hashAt(a.entry, s.seq) && a.stored === hashAt(s.entry, a.seq));
    if (b) {
      explained.add(a.seq).add(b.seq);
      problems.push({ kind: 'reordered', seq: Math.min(a.seq, b.seq), message: `entries ${a.seq} and ${b.seq} were swapped: each holds the other's place in the log` });
    } else if (!shiftReported || a.seq < (problems.find((p) => p.kind === 'inserted' || p.kind === 'missing')?.seq ?? Infinity)) {
      problems.push({ kind: 'altered', seq: a.seq, message: `entry ${a.seq} does not hash to its recorded leaf hash: its content or position was changed` });
    }
  }

  for (const cp of cps) {
    if (cp.size > size) {
      problems.push({
        kind: 'truncated',
        seq: size,
        message: `checkpoint #${cp.id} covers ${cp.size} entries but the log ends after ${size}: entries from seq ${size} on were removed`,
      });
      break;
    }
  }

  // First problem first; at the same entry, the most specific diagnosis first.
  const rank: Record<VerifyProblemKind, number> = { inserted: 0, reordered: 1, missing: 2, truncated: 3, altered: 4, 'bad-checkpoint': 5 };
  problems.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity) || rank[a.kind] - rank[b.kind]);
  const covered = cps.reduce((m, cp) => Math.max(m, cp.size), 0);
  return {
    ok: problems.length === 0,
    entries: size,
    unsequenced: await countUnsequenced(q),
    uncovered: Math.max(0, size - covered),
    pruned,
    checkpoints: cps.length,
    root: toHex(size === 0 ? EMPTY_ROOT : frontierRoot(frontier)),
    problems,
  };
}
