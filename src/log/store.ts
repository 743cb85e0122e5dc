// Data access for the transparency log's views of the audit log: tile hashes, entry bundles,
// published checkpoints with their cosignatures, witness state. (Appending and sequencing:
// src/audit/store.ts.)
import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { auditEntries, auditLog, checkpointCosignatures, checkpoints, logHead, logSubtrees, witnessState } from '../../schema/index';
import type { AuditEntry } from '../audit/entry';
import { selectEntries } from '../audit/rows';
import type { Checkpoint } from '../audit/store';
import { rowsOf, type Queryable } from '../db/types';
import { fromHex } from '../encoding';
import type { BatchHashReader, HashReader } from './tiles';

export class HashesUnavailable extends Error {}

/** Reads tile hashes from the database: level 0 from the log's leaf hashes (audit_log), above from log_subtrees. */
export function dbHashReader(q: Queryable): HashReader {
  return async (level, start, count) => {
    const rows =
      level === 0
        ? await q
            .select({ hash: auditLog.leafHash })
            .from(auditLog)
            .where(and(gte(auditLog.seq, start), lt(auditLog.seq, start + count)))
            .orderBy(asc(auditLog.seq))
        : await q
            .select({ hash: logSubtrees.hash })
            .from(logSubtrees)
            .where(and(eq(logSubtrees.level, level), gte(logSubtrees.idx, start), lt(logSubtrees.idx, start + count)))
            .orderBy(asc(logSubtrees.idx));
    if (rows.length !== count || rows.some((r) => r.hash === null)) {
      throw new HashesUnavailable(`hashes ${start}..${start + count - 1} at level ${level} are not available`);
    }
    return rows.map((r) => fromHex(r.hash!));
  };
}

/** Many ranges of tile hashes in one query per level (see tiles.withPrefetch). */
export function dbBatchReader(q: Queryable): BatchHashReader {
  return async (ranges) => {
    const found = new Map<string, string | null>();
    for (const level of new Set(ranges.map((r) => r.level))) {
      const mine = ranges.filter((r) => r.level === level);
      const rows =
        level === 0
          ? await q
              .select({ i: auditLog.seq, hash: auditLog.leafHash })
              .from(auditLog)
              .where(or(...mine.map((r) => and(gte(auditLog.seq, r.start), lt(auditLog.seq, r.start + r.count)))))
          : await q
              .select({ i: logSubtrees.idx, hash: logSubtrees.hash })
              .from(logSubtrees)
              .where(and(eq(logSubtrees.level, level), or(...mine.map((r) => and(gte(logSubtrees.idx, r.start), lt(logSubtrees.idx, r.start + r.count))))));
      for (const r of rows) found.set(`${level}/${r.i}`, r.hash);
    }
    return ranges.map((r) =>
      Array.from({ length: r.count }, (_, k) => {
        const hex = found.get(`${r.level}/${r.start + k}`);
        if (!hex) throw new HashesUnavailable(`hash ${r.start + k} at level ${r.level} is not available`);
        return fromHex(hex);
      }),
    );
  };
}

export async function entryByUid(q: Queryable, uid: string): Promise<AuditEntry | undefined> {
  const [row] = await selectEntries(q).where(eq(auditEntries.uid, uid)).limit(1);
  return row;
}

/**
 * The entries appended together from `first` to `last` (one request's, as a batch receipt names
 * them), in append order; undefined unless both exist and belong to the same request (same request
 * id, time and organisation), so the range scanned is one request's.
 */
export async function entriesOfReceipt(q: Queryable, first: string, last: string): Promise<AuditEntry[] | undefined> {
  const [f, l] = await Promise.all([entryByUid(q, first), entryByUid(q, last)]);
  if (!f || !l || f.id > l.id || f.requestId !== l.requestId || f.at.getTime() !== l.at.getTime() || f.actorPartner !== l.actorPartner) return undefined;
  return selectEntries(q)
    .where(
      and(
        gte(auditEntries.id, f.id),
        lte(auditEntries.id, l.id),
        eq(auditEntries.requestId, f.requestId),
        eq(auditEntries.at, f.at),
        f.actorPartner === null ? isNull(auditEntries.actorPartner) : eq(auditEntries.actorPartner, f.actorPartner),
      ),
    )
    .orderBy(asc(auditEntries.id));
}

export async function minIndex(q: Queryable): Promise<number> {
  const [row] = await q.select({ minIndex: logHead.minIndex }).from(logHead).where(eq(logHead.id, 1));
  return row?.minIndex ?? 0;
}

export type PublishedCheckpoint = Checkpoint & { note: string; cosignatures: string[] };

/**
 * The newest checkpoint that `quorum` of the named witnesses cosigned, with their cosignature lines
 * appended to the note (only those: a cosignature of a witness no longer named is not counted).
 */
export async function latestPublished(q: Queryable, witnesses: readonly string[], quorum: number): Promise<PublishedCheckpoint | undefined> {
  const [row] = await rowsOf<{ id: number }>(
    q,
    sql`select c.id::int as id from checkpoints c
         where c.note is not null
           and (select count(*) from checkpoint_cosignatures s
                 where s.checkpoint_id = c.id
                   and s.witness in (select jsonb_array_elements_text(${JSON.stringify(witnesses)}::jsonb))) >= ${quorum}
         order by c.id desc limit 1`,
  );
  if (!row) return undefined;
  return withCosignatures(q, Number(row.id), witnesses);
}

async function withCosignatures(q: Queryable, id: number, witnesses: readonly string[]): Promise<PublishedCheckpoint | undefined> {
  const [cp] = await q.select().from(checkpoints).where(eq(checkpoints.id, id));
  if (!cp?.note) return undefined;
  const cos = witnesses.length
    ? await q
        .select({ line: checkpointCosignatures.line })
        .from(checkpointCosignatures)
        .where(and(eq(checkpointCosignatures.checkpointId, id), inArray(checkpointCosignatures.witness, [...witnesses])))
        .orderBy(asc(checkpointCosignatures.witness))
    : [];
  return { ...(cp as Checkpoint), note: cp.note, cosignatures: cos.map((c) => c.line) };
}

/** The newest checkpoint signed as a note, whether or not witnessed. */
export async function latestNoteCheckpoint(q: Queryable): Promise<Checkpoint | undefined> {
  const [row] = await q.select().from(checkpoints).where(isNotNull(checkpoints.note)).orderBy(desc(checkpoints.id)).limit(1);
  return row as Checkpoint | undefined;
}

export async function addCosignature(q: Queryable, checkpointId: number, witness: string, line: string, at: Date): Promise<void> {
  await q.insert(checkpointCosignatures).values({ checkpointId, witness, line, at }).onConflictDoNothing();
}

export async function witnessSizes(q: Queryable): Promise<Map<string, number>> {
  const rows = await q.select().from(witnessState);
  return new Map(rows.map((r) => [r.witness, r.size]));
}

export async function setWitnessSize(q: Queryable, witness: string, size: number, at: Date): Promise<void> {
  await q
    .insert(witnessState)
    .values({ witness, size, updatedAt: at })
    .onConflictDoUpdate({ target: witnessState.witness, set: { size, updatedAt: at } });
}

/** Cosignature lines per checkpoint id (for audit verify). */
export async function allCosignatures(q: Queryable): Promise<Map<number, string[]>> {
  const rows = await q.select().from(checkpointCosignatures);
  const map = new Map<number, string[]>();
  for (const r of rows) map.set(r.checkpointId, [...(map.get(r.checkpointId) ?? []), r.line]);
  return map;
}
