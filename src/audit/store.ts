// Data access for the audit log: append (inside the caller's transaction), sequence, checkpoint.
//
// Why two steps: a log head locked until commit would serialise every request's commit (and its
// fsync) behind one row. Instead writers only INSERT, each entry with the leaf hash its receipt
// carries (no shared lock; commits proceed in parallel; a trigger queues each entry's id and leaf
// hash in audit_pending), and the sequencer, one at a time under the log_head row lock, gives queued
// committed entries their gap-free `seq` (id order among what has committed: a late commit is
// sequenced late) by INSERTing them into audit_log, and folds their leaf hashes into the tree. The
// tree is therefore linear and gap-free over `seq`; an entry is in the log from its commit on, and
// in the signed tree and the entries feed from the next integration (every second on Node, every
// cron tick on the edge, and on demand before a feed read). The same run gives match notices their
// feed position, so both feeds page in commit order.
import { and, asc, desc, eq, getTableColumns, gte, sql, type SQL } from 'drizzle-orm';
import { auditEntries, auditLog, auditPending, checkpoints, logHead, logSubtrees } from '../../schema/index';
import { rowsOf, statement, statementValues, type Db, type Queryable, type RawQuery, type RawValues, type Tx } from '../db/types';
import { hasUnsequencedMatches, sequenceMatches } from '../matches/repo';
import { tokenKey } from '../auth/replay';
import { fromHex, storableJson, toHex } from '../encoding';
import { foldLeaves } from '../log/tiles';
import { EMPTY_ROOT, frontierRoot } from './merkle';
import { entryLeafHash, pendingEntry, type AuditContext, type AuditEntry, type AuditInput, type LeafEntry } from './entry';
import type { AuditScope } from '../covenant/index';
import { inScope } from './search';
import { selectEntries } from './rows';

/** A token's id, taken together with the first audit entries of its request (see unitOfWork). */
export type TokenClaim = { jti: string; partner: string; exp: Date };

/** An appended entry as its receipt names it: its random uid and its leaf hash (fixed at append). */
export type Appended = { uid: string; leafHash: Uint8Array };

const ENTRIES = `insert into audit_entries (leaf_hash, uid, at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
    select x.leaf_hash, x.uid, $1::timestamptz, $2::text, $3::text, $4::text, $5::text, x.action, x.subject, x.purpose, x.case_ref, x.outcome, x.rule, $6::text, x.detail
      from rows from (jsonb_to_recordset($7::jsonb) as (uid text, action text, subject text, purpose text, case_ref text, outcome text, rule text, detail jsonb), unnest($8::text[]))
           with ordinality as x(uid, action, subject, purpose, case_ref, outcome, rule, detail, leaf_hash, n)`;

/** Entries only. */
const APPEND_SQL = `${ENTRIES} order by x.n`;

/** Entries, only when the same statement could take the token's jti (a replay writes nothing). */
const APPEND_CLAIMING_SQL = `with claimed as (
      insert into used_tokens (jti, partner, expires_at) values ($9::text, $10::text, $11::timestamptz) on conflict do nothing returning 1)
    ${ENTRIES} where exists (select 1 from claimed) order by x.n returning id`;

/**
 * Append entries in ONE statement, whatever their number: the rows travel as a single JSON
 * parameter (far cheaper to build than a multi-row VALUES) and their leaf hashes as an array, in
 * one of two fixed texts. With `claim`, the same statement also takes the token's jti; when the jti
 * was used before it writes nothing and returns null (a replay), so claiming costs no extra round
 * trip. `q` is a transaction (drizzle) or, for a request whose only write is its entries, the
 * edge's RawQuery (no query building). Returns each entry's uid and leaf hash, for receipts.
 */
export async function appendAudit(
  q: Queryable | RawQuery,
  ctx: AuditContext,
  inputs: readonly AuditInput[],
  claim?: TokenClaim,
): Promise<Appended[] | null> {
  if (inputs.length === 0) return [];
  const { rows, at, appended } = prepareAppend(ctx, inputs);
  const hashes = `{${appended.map((a) => toHex(a.leafHash)).join(',')}}`;
  const params = [at, ctx.requestId, ctx.actor?.partner ?? null, ctx.actor?.sub ?? null, ctx.actor?.role ?? null, ctx.covenantVersion, rows, hashes];
  if (!claim) {
    await statement(q, APPEND_SQL, params);
    return appended;
  }
  const written = await statement<{ id: unknown }>(q, APPEND_CLAIMING_SQL, [
    ...params,
    tokenKey(claim.partner, claim.jti),
    claim.partner,
    claim.exp.toISOString(),
  ]);
  return written.length > 0 ? appended : null;
}

/**
 * What an append sends and what its receipt promises: the rows' JSON parameter, the entries' `at`
 * as text, and each entry's uid and leaf hash. Whatever a detail quotes (a request path, a field name) can be stored: no
 * append fails on text. Leaves are hashed from exactly what the database will store (escaped text
 * included), so the receipt's leaf hash is the one the sequencer puts in the tree, and audit verify
 * recomputes it from the row. `at` is written out once, for the leaves and the statement alike.
 */
export function prepareAppend(ctx: AuditContext, inputs: readonly AuditInput[]): { rows: string; at: string; appended: Appended[] } {
  const { json: rows, value: stored } = storableJson(
    inputs.map((i) => ({
      uid: crypto.randomUUID(),
      action: i.action,
      subject: i.subject ?? null,
      purpose: i.purpose ?? null,
      case_ref: i.caseRef ?? null,
      outcome: i.outcome,
      rule: i.rule ?? null,
      detail: i.detail ?? null,
    })),
  );
  const at = ctx.at.toISOString();
  const leafCtx = { ...ctx, at };
  const appended = stored.map(
    (r): Appended => ({
      uid: r.uid,
      leafHash: entryLeafHash(pendingEntry(leafCtx, { action: r.action, outcome: r.outcome, rule: r.rule, subject: r.subject, purpose: r.purpose, caseRef: r.case_ref, detail: r.detail }, r.uid), 0),
    }),
  );
  return { rows, at, appended };
}

export type LogHead = { size: number; root: string; frontier: string[] };

const EMPTY_HEAD: LogHead = { size: 0, root: toHex(EMPTY_ROOT), frontier: [] };

export async function readHead(q: Queryable): Promise<LogHead> {
  const [row] = await q.select().from(logHead).where(eq(logHead.id, 1));
  return row ? { size: row.size, root: row.root, frontier: row.frontier } : EMPTY_HEAD;
}

/** The log_head row, created if need be and locked until the transaction ends: the sequencer's lock. */
async function lockHead(tx: Tx, now: Date) {
  await tx
    .insert(logHead)
    .values({ id: 1, size: 0, root: EMPTY_HEAD.root, frontier: [], updatedAt: now })
    .onConflictDoNothing();
  const [head] = await tx.select().from(logHead).where(eq(logHead.id, 1)).for('update');
  if (!head) throw new Error('log head missing');
  return head;
}

/**
 * The sequencer. Under the log_head row lock, gives the queued entries (committed, not yet in
 * audit_log) their `seq`, in insertion order, up to `max` per call, and folds them into the tree;
 * and gives committed match notices their feed position the same way (sequenceMatches). Both feeds
 * page by these positions, which are assigned only after commit and only ever grow: a row that
 * commits late is sequenced late, never behind a cursor. Safe to run from any number of processes:
 * one integrates at a time.
 */
export async function integrate(db: Db, now: Date, max = 20_000): Promise<LogHead & { integrated: number; notices: number }> {
  return db.transaction(async (tx) => {
    const head = await lockHead(tx, now);
    const { sequenced: notices, next: matchesSequenced } = await sequenceMatches(tx, head.matchesSequenced, max);
    const pending = await readQueue(tx, head.size, max);
    if (pending.length === 0) {
      if (notices > 0) await tx.update(logHead).set({ matchesSequenced, updatedAt: now }).where(eq(logHead.id, 1));
      return { size: head.size, root: head.root, frontier: head.frontier, integrated: 0, notices };
    }

    const ids = pending.map((p) => p.id);
    const seqs = pending.map((_, i) => head.size + i);
    const hashes = pending.map((p) => fromHex(p.hex));
    const { frontier, subtrees } = foldLeaves(head.frontier.map(fromHex), head.size, hashes);
    const size = head.size + pending.length;
    const root = toHex(frontierRoot(frontier));
    const frontierHex = frontier.map(toHex);
    // The head first: audit_log refuses a position at or beyond log_head.size (0011).
    await tx
      .update(logHead)
      .set({ size, root, frontier: frontierHex, updatedAt: now, matchesSequenced })
      .where(eq(logHead.id, 1));
    // One statement for the whole batch, driver-independent: three arrays as PostgreSQL array
    // literals (integers and hex digits need no quoting), cheaper for the server than JSON. The
    // entries then leave the queue (which refuses to let go of an entry not in the log).
    await tx.execute(sql`
      insert into ${auditLog} (seq, entry_id, leaf_hash)
        select * from unnest(${`{${seqs.join(',')}}`}::bigint[], ${`{${ids.join(',')}}`}::bigint[], ${`{${pending.map((p) => p.hex).join(',')}}`}::text[])`);
    await tx.execute(sql`delete from ${auditPending} where entry_id = any(${`{${ids.join(',')}}`}::bigint[])`);
    if (subtrees.length) {
      await tx.insert(logSubtrees).values(subtrees.map((s) => ({ level: s.level, idx: s.idx, hash: toHex(s.hash) })));
    }
    return { size, root, frontier: frontierHex, integrated: pending.length, notices };
  });
}

/**
 * Integrate everything committed before the call: round after round while a round is full (a
 * backlog), then stop. What commits meanwhile waits for the next call (the next tick). Looping until
 * a round found nothing kept the sequencer running back to back under steady load, a transaction of
 * a few entries every few milliseconds, each with its statements and its lock (BENCHMARKS.md,
 * 2026-12-04).
 */
export async function integrateAll(db: Db, now: Date, max = 20_000): Promise<LogHead> {
  for (;;) {
    const r = await integrate(db, now, max);
    if (r.integrated < max && r.notices < max) return r;
  }
}

/**
 * Before a match feed read: give the notices committed so far their positions now, so a partner
 * does not wait for the sequencer's next run (the audit entries do). Takes the lock only when some
 * notice is pending.
 */
export async function sequenceMatchesNow(db: Db, now: Date): Promise<void> {
  if (!(await hasUnsequencedMatches(db))) return;
  await db.transaction(async (tx) => {
    const head = await lockHead(tx, now);
    const { sequenced, next } = await sequenceMatches(tx, head.matchesSequenced, 20_000);
    if (sequenced > 0) await tx.update(logHead).set({ matchesSequenced: next, updatedAt: now }).where(eq(logHead.id, 1));
  });
}

export type Checkpoint = { id: number; size: number; root: string; issuedAt: Date; kid: string; jws: string; note: string | null };

export async function insertCheckpoint(q: Queryable, cp: Omit<Checkpoint, 'id'>): Promise<Checkpoint> {
  const [row] = await q.insert(checkpoints).values(cp).returning();
  return row as Checkpoint;
}

export async function listCheckpoints(q: Queryable): Promise<Checkpoint[]> {
  return q.select().from(checkpoints).orderBy(asc(checkpoints.id));
}

export async function latestCheckpoint(q: Queryable): Promise<Checkpoint | undefined> {
  const [row] = await q.select().from(checkpoints).orderBy(desc(checkpoints.id)).limit(1);
  return row;
}

/** Sequenced entries in `seq` order, a page at a time (the log can be millions of rows). */
export async function readSequenced(q: Queryable, afterSeq: number, limit: number): Promise<AuditEntry[]> {
  return readEntries(q, SEQUENCED_PAGE_SQL, [afterSeq, limit], asDate);
}

/** The same page as its leaves commit to it (`at` as text): what `audit verify` hashes. */
export async function readSequencedLeaves(q: Queryable | RawValues, afterSeq: number, limit: number): Promise<LeafEntry[]> {
  return readEntries(q, SEQUENCED_PAGE_SQL, [afterSeq, limit], asText);
}

/** The sequenced entries with `start <= seq < start + count`, in `seq` order (an entry bundle's). */
export async function readSequencedRange(q: Queryable, start: number, count: number): Promise<AuditEntry[]> {
  return readEntries(q, SEQUENCED_RANGE_SQL, [start, start + count], asDate);
}

/**
 * Entries as the verifier (and the sequencer, for an entry queued without its leaf hash) hash
 * them, many thousands at a time: one fixed statement without drizzle's row mapping, its rows as
 * arrays where the driver gives them so (`audit verify`'s worker threads), and `at` as
 * PostgreSQL's own UTC text (to the millisecond, truncated as a JavaScript Date truncates), which
 * is cheaper to read than a timestamptz, and which the leaf takes as it is (bench/verify.ts,
 * BENCHMARKS.md).
 */
async function readEntries<At>(q: Queryable | RawValues, text: string, params: readonly unknown[], at: (text: string) => At) {
  return (await statementValues(q, text, params)).map((v) => entryOfValues(v, at));
}

const asDate = (text: string) => new Date(text);
const asText = (text: string) => text;

/**
 * The sequencer's next `max` queued entries in id order, each with its leaf hash: the one given at
 * append, carried by the queue, so the sequencer reads no entry and hashes nothing. An entry queued
 * without a well-formed one (written other than by appendAudit, or before 0011) is read and hashed
 * here, at the place it is about to get (`firstSeq` on; a v1 leaf commits to it). A queued id with
 * no entry and no hash (only a bypass of the triggers leaves one) stays queued: nothing to log.
 */
async function readQueue(q: Queryable, firstSeq: number, max: number): Promise<{ id: number; hex: string }[]> {
  const rows = await statement<{ entry_id: number | string; leaf_hash: string | null }>(q, 'select entry_id, leaf_hash from audit_pending order by entry_id limit $1', [max]);
  const given = (r: (typeof rows)[number]) => (r.leaf_hash !== null && HASH_HEX.test(r.leaf_hash) ? r.leaf_hash : null);
  const unhashed = rows.filter((r) => given(r) === null).map((r) => Number(r.entry_id));
  const entries = new Map(unhashed.length ? (await readEntries(q, QUEUED_SQL, [`{${unhashed.join(',')}}`], asText)).map((e) => [e.id, e]) : []);
  return rows
    .filter((r) => given(r) !== null || entries.has(Number(r.entry_id)))
    .map((r, i) => {
      const id = Number(r.entry_id);
      return { id, hex: given(r) ?? toHex(entryLeafHash(entries.get(id)!, firstSeq + i)) };
    });
}

const HASH_HEX = /^[0-9a-f]{64}$/;

const entrySelect = (place: string) => `select a.id, ${place}, a.uid, to_char(a.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, a.request_id,
    a.actor_partner, a.actor_sub, a.actor_role, a.action, a.subject, a.purpose, a.case_ref, a.outcome, a.rule, a.covenant_version, a.detail`;
/**
 * The places in the log from a page of audit_log (`places`: its where, order and limit), each with
 * its entry fetched by id. The entry is a LATERAL subquery with LIMIT 1, which PostgreSQL never
 * flattens into a join: a nested loop over the primary key whatever the statistics, where a plain
 * join, on tables never analyzed, was planned as a hash join scanning both tables in full for
 * every page (test/plan.test.ts EXPLAINs this text).
 */
const sequenced = (places: string) =>
  `${entrySelect('l.seq, l.leaf_hash')} from (select seq, entry_id, leaf_hash from audit_log ${places}) l
    cross join lateral (select * from audit_entries e where e.id = l.entry_id limit 1) a order by l.seq`;
/** A page of the log in order: the places after $1, at most $2. */
export const SEQUENCED_PAGE_SQL = sequenced('where seq > $1 order by seq limit $2');
/** The places $1 <= seq < $2, in order. */
const SEQUENCED_RANGE_SQL = sequenced('where seq >= $1 and seq < $2');
/** Queued entries by id (no place yet). */
const QUEUED_SQL = `${entrySelect('null as seq, null as leaf_hash')} from audit_pending p join audit_entries a on a.id = p.entry_id where p.entry_id = any($1::bigint[])`;

/**
 * A row of entrySelect, in its column order, as an entry with `at` made by `at` from its text: an
 * AuditEntry (a Date) or a LeafEntry (the text). Bigints arrive as text from node-postgres, as
 * numbers from PGlite.
 */
function entryOfValues<At>(v: unknown[], at: (text: string) => At): Omit<AuditEntry, 'at'> & { at: At } {
  const [id, seq, leafHash, uid, atText, requestId, actorPartner, actorSub, actorRole, action, subject, purpose, caseRef, outcome, rule, covenantVersion, detail] = v as [
    number | string, number | string | null, string | null, string | null, string, string, string | null, string | null, string | null,
    string, string | null, string | null, string | null, string, string | null, string, Record<string, unknown> | null,
  ];
  return {
    id: Number(id),
    seq: seq === null ? null : Number(seq),
    leafHash,
    uid,
    at: at(atText),
    requestId,
    actorPartner,
    actorSub,
    actorRole,
    action,
    subject,
    purpose,
    caseRef,
    outcome,
    rule,
    covenantVersion,
    detail,
  };
}

export async function countUnsequenced(q: Queryable): Promise<number> {
  const [row] = await q.select({ n: sql<number>`count(*)::int` }).from(auditPending);
  return Number(row?.n ?? 0);
}

/**
 * Sequenced entries for a reader (privacy officer), in `seq` order from position `fromSeq` on,
 * optionally about some stored pseudonyms and/or by one organisation. Entries not yet sequenced are
 * not yet in this feed.
 */
export async function queryEntries(
  q: Queryable,
  filter: { subjects?: string[]; scope: AuditScope; fromSeq: number; limit: number },
): Promise<AuditEntry[]> {
  const scope = inScope(filter.scope);
  if (!filter.subjects) return selectEntries(q).where(and(gte(auditLog.seq, filter.fromSeq), scope)).orderBy(asc(auditLog.seq)).limit(filter.limit);
  return subjectEntries(q, filter.subjects, filter.fromSeq, scope, filter.limit);
}

/**
 * One person's sequenced entries (under every hub key version they were written with): found by the
 * subject index, each then with its place by entry id. The subjects are an array built in an init
 * plan (as the lookup's select has them: src/registrations/repo.ts), so they stay a condition on the
 * subject index whatever the planner guesses of their number; the place is a LATERAL subquery with
 * LIMIT 1, never flattened into a join. Without both, on tables never analyzed, a page was a scan of
 * every entry or of the whole log from `fromSeq` on (test/plan.test.ts).
 */
export function subjectEntries(q: Queryable, subjects: string[], fromSeq: number, scope: SQL | undefined, limit: number) {
  const place = q.select({ seq: auditLog.seq, leafHash: auditLog.leafHash }).from(auditLog).where(eq(auditLog.entryId, auditEntries.id)).limit(1).as('place');
  return q
    .select({ ...getTableColumns(auditEntries), seq: place.seq, leafHash: place.leafHash })
    .from(auditEntries)
    .innerJoinLateral(place, sql`true`)
    .where(and(sql`${auditEntries.subject} = any(array(select jsonb_array_elements_text(${JSON.stringify(subjects)}::jsonb)))`, gte(place.seq, fromSeq), scope))
    .orderBy(asc(place.seq))
    .limit(limit);
}
