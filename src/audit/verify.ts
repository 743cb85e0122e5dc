// `kenbaar audit verify`: recompute the Merkle tree from the rows and hold it against every signed
// checkpoint. Reports the first problem it finds, by sequence number, with what kind it is.
//
// What each check catches (an attacker with database access, without the hub's signing key):
// - a gap in seq                        -> `missing` (a deleted entry)
// - a leaf that does not hash as stored -> `altered` (content, or seq swapped/renumbered)
// - insertion ids out of seq order      -> `reordered` or `inserted` (a row the sequencer never saw)
// - a recomputed root unlike the signed -> `altered` (even when the stored leaf hashes were forged)
// - a checkpoint beyond the last entry  -> `truncated`
// - a checkpoint whose signature fails  -> `bad-checkpoint`
import type { JWK } from 'jose';
import type { Queryable } from '../db/types';
import { toHex } from '../encoding';
import { leafInput } from './entry';
import { appendLeaves, EMPTY_ROOT, frontierRoot, leafHash, type Frontier } from './merkle';
import { verifyCheckpointJws } from './checkpoint';
import { countUnsequenced, listCheckpoints, maxSequencedId, readSequenced } from './store';

export type VerifyProblemKind = 'missing' | 'altered' | 'reordered' | 'inserted' | 'truncated' | 'bad-checkpoint';

export type VerifyProblem = { kind: VerifyProblemKind; seq: number | null; message: string };

export type VerifyReport = {
  ok: boolean;
  entries: number;
  unsequenced: number;
  checkpoints: number;
  root: string;
  problems: VerifyProblem[];
};

const PAGE = 10_000;

export async function verifyAuditLog(
  q: Queryable,
  hubKeys: JWK[],
  onProgress?: (entries: number) => void,
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const cps = await listCheckpoints(q);
  const claimsBySize = new Map<number, { root: string; id: number }[]>();
  for (const cp of cps) {
    const claims = await verifyCheckpointJws(cp.jws, hubKeys);
    if (!claims || claims.size !== cp.size || claims.root !== cp.root) {
      problems.push({ kind: 'bad-checkpoint', seq: null, message: `checkpoint #${cp.id} (size ${cp.size}) has an invalid signature or does not match its signed claims` });
      continue;
    }
    const list = claimsBySize.get(claims.size) ?? [];
    list.push({ root: claims.root, id: cp.id });
    claimsBySize.set(claims.size, list);
  }

  let frontier: Frontier = [];
  let size = 0;
  let expectedSeq = 0;
  let maxIdSoFar = -Infinity;
  let maxIdSeq = -1;
  let rootMismatchReported = false;
  const suspects = new Set<number>();
  const lastId = await maxSequencedId(q);

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

  for (let after = -1; ; ) {
    const page = await readSequenced(q, after, PAGE);
    if (page.length === 0) break;
    const hashes: Uint8Array[] = [];
    for (const e of page) {
      const seq = e.seq as number;
      if (seq !== expectedSeq) {
        if (seq > expectedSeq) {
          problems.push({ kind: 'missing', seq: expectedSeq, message: `entries ${expectedSeq}..${seq - 1} are missing` });
        }
        expectedSeq = seq;
      }
      if (e.id < maxIdSoFar && !suspects.has(maxIdSeq)) {
        // An entry stands before one that was inserted earlier than it. The sequencer assigns seq in
        // insertion order, so the early-standing one was moved there, or was never sequenced at all
        // (inserted by hand: its id is then the newest of all).
        suspects.add(maxIdSeq);
        const inserted = maxIdSoFar === lastId;
        problems.push({
          kind: inserted ? 'inserted' : 'reordered',
          seq: maxIdSeq,
          message: inserted
            ? `entry ${maxIdSeq} (id ${maxIdSoFar}) was inserted into the log after later entries had been sequenced`
            : `entry ${maxIdSeq} (id ${maxIdSoFar}) stands before entry ${seq} (id ${e.id}), which was written earlier: the log was reordered`,
        });
      }
      const recomputed = leafHash(leafInput(e, seq));
      if (e.leafHash === null || toHex(recomputed) !== e.leafHash) {
        problems.push({ kind: 'altered', seq, message: `entry ${seq} does not hash to its recorded leaf hash: its content or position was changed` });
      }
      if (e.id > maxIdSoFar) {
        maxIdSoFar = e.id;
        maxIdSeq = seq;
      }
      hashes.push(recomputed);
      expectedSeq = seq + 1;
      // Root checks at each checkpoint boundary inside this page.
      if (claimsBySize.has(size + hashes.length)) {
        const n = hashes.length;
        frontier = appendLeaves(frontier, size, hashes.splice(0));
        size += n;
        checkRootAt(size);
      }
    }
    frontier = appendLeaves(frontier, size, hashes);
    size += hashes.length;
    after = page[page.length - 1]!.seq as number;
    onProgress?.(size);
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
  return {
    ok: problems.length === 0,
    entries: size,
    unsequenced: await countUnsequenced(q),
    checkpoints: cps.length,
    root: toHex(size === 0 ? EMPTY_ROOT : frontierRoot(frontier)),
    problems,
  };
}
