// Retention of the audit log itself (the covenant's auditRetentionDays), as c2sp.org/tlog-tiles
// "Pruning" describes it: the log keeps a minimum index; entries below it are deleted (content,
// and their places with the leaf hashes), whole tiles at a time, while the hashes of the complete
// 256-leaf subtrees above them (log_subtrees, the level-1 tiles) stay. The tree's shape and every root are unchanged, so old
// checkpoints, old proofs and the consistency of later checkpoints remain verifiable; only entries
// below the minimum index (and proofs for them) are gone. The pruning itself is logged first, in
// the same transaction.
import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { auditEntries, auditLog, logHead, logSubtrees } from '../../schema/index';
import { appendAudit } from '../audit/store';
import type { Covenant } from '../covenant/index';
import { rowsOf, type Db, type Queryable } from '../db/types';
import { fromHex, toHex } from '../encoding';
import { foldLeaves, TILE_WIDTH } from './tiles';
import { latestNoteCheckpoint } from './store';

const DAY_MS = 86_400_000;
const PAGE = 65_536;

export type PruneReport = { minIndex: number; pruned: number };

/**
 * The new minimum index: the largest multiple of 256 such that every entry below it is older than
 * the retention and inside a signed checkpoint. Entries are not strictly in time order (a late
 * commit is sequenced late), so it stops before the first entry still within retention.
 */
async function pruneBoundary(q: Queryable, covenant: Covenant, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - covenant.retention.auditRetentionDays * DAY_MS);
  const [kept] = await rowsOf<{ seq: number | null }>(
    q,
    sql`select min(l.seq)::bigint as seq from ${auditLog} l join ${auditEntries} a on a.id = l.entry_id where a.at >= ${cutoff.toISOString()}::timestamptz`,
  );
  const signed = (await latestNoteCheckpoint(q))?.size ?? 0;
  const firstKept = kept?.seq === null || kept?.seq === undefined ? signed : Math.min(Number(kept.seq), signed);
  return Math.floor(firstKept / TILE_WIDTH) * TILE_WIDTH;
}

export async function pruneLog(db: Db, covenant: Covenant, now: Date): Promise<PruneReport> {
  await backfillSubtrees(db);
  return db.transaction(async (tx) => {
    const [head] = await tx.select().from(logHead).where(eq(logHead.id, 1)).for('update');
    const current = head?.minIndex ?? 0;
    const boundary = await pruneBoundary(tx, covenant, now);
    if (!head || boundary <= current) return { minIndex: current, pruned: 0 };
    await appendAudit(tx, { at: now, requestId: `prune-${crypto.randomUUID()}`, actor: null, covenantVersion: covenant.version }, [
      { action: 'log.pruned', outcome: 'ok', rule: 'audit-retention', detail: { from: current, minIndex: boundary, auditRetentionDays: covenant.retention.auditRetentionDays } },
    ]);
    await tx.update(logHead).set({ minIndex: boundary }).where(eq(logHead.id, 1));
    // The entries first (their trigger checks their place in audit_log), then their places.
    const gone = await tx
      .delete(auditEntries)
      .where(inArray(auditEntries.id, tx.select({ id: auditLog.entryId }).from(auditLog).where(lt(auditLog.seq, boundary))))
      .returning({ id: auditEntries.id });
    await tx.delete(auditLog).where(lt(auditLog.seq, boundary));
    return { minIndex: boundary, pruned: gone.length };
  });
}

/**
 * Hashes of complete subtrees for entries sequenced before migration 0005 (the sequencer records
 * them from then on): folded once from the leaf hashes. Cheap when there is nothing to do.
 */
export async function backfillSubtrees(db: Db): Promise<number> {
  const [head] = await db.select({ size: logHead.size }).from(logHead).where(eq(logHead.id, 1));
  const expected = Math.floor((head?.size ?? 0) / TILE_WIDTH);
  const [have] = await rowsOf<{ n: number }>(db, sql`select count(*)::int as n from log_subtrees where level = 1`);
  if (Number(have?.n ?? 0) >= expected) return 0;
  let frontier: Uint8Array[] = [];
  let size = 0;
  let written = 0;
  const end = expected * TILE_WIDTH;
  while (size < end) {
    const rows = await db
      .select({ hash: auditLog.leafHash })
      .from(auditLog)
      .where(and(gte(auditLog.seq, size), lt(auditLog.seq, Math.min(end, size + PAGE))))
      .orderBy(asc(auditLog.seq));
    if (rows.length === 0) break; // pruned already: nothing to rebuild from
    const folded = foldLeaves(frontier, size, rows.map((r) => fromHex(r.hash!)));
    if (folded.subtrees.length) {
      await db.insert(logSubtrees).values(folded.subtrees.map((s) => ({ level: s.level, idx: s.idx, hash: toHex(s.hash) }))).onConflictDoNothing();
      written += folded.subtrees.length;
    }
    frontier = folded.frontier;
    size += rows.length;
  }
  return written;
}
