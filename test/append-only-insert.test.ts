// Append-only includes INSERT: only the sequencer gives an audit entry its place in the log
// (audit_log). A place inserted by anyone else would forge a position in the log, or block the
// sequencer for good (the seq it is about to assign taken). And every entry written is queued for
// the sequencer (audit_pending, by trigger), leaving the queue only into the log, so no entry can be
// kept out of the log by taking it off the queue. The database enforces both, also against the
// superuser the tests connect as (short of disabling triggers: `audit verify` catches that).
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit, integrateAll, readHead } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { rowsOf } from '../src/db/types';
import { dbKind, startTestHub, type TestHub } from './support/hub';

describe(`the audit log's places are the sequencer's (${dbKind})`, () => {
  let hub: TestHub;
  const db = () => hub.database.db;
  const ctx = () => ({ at: hub.clock(), requestId: 'append-only-insert', actor: null, covenantVersion: hub.config.covenant.version });
  const errorOf = (statement: ReturnType<typeof sql>) => db().execute(statement).then(() => '', (err: unknown) => String((err as { cause?: unknown })?.cause ?? err));
  const count = async (statement: ReturnType<typeof sql>) => Number((await rowsOf<{ n: number }>(db(), statement))[0]!.n);
  /** An entry written the way writers write (its own statement), its id. */
  const written = async (n: number) => {
    await appendAudit(db(), ctx(), [{ action: 'purge', outcome: 'ok', detail: { n } }]);
    return count(sql`select max(id)::int as n from audit_entries where request_id = 'append-only-insert'`);
  };

  beforeAll(async () => {
    hub = await startTestHub();
    await written(1);
    await integrateAll(db(), hub.clock());
  });
  afterAll(() => hub?.close());

  async function placeRefused(seq: number, entryId: number) {
    expect(await errorOf(sql`insert into audit_log (seq, entry_id, leaf_hash) values (${seq}, ${entryId}, ${'00'.repeat(32)})`)).toMatch(
      /positions are the sequencer's; INSERT refused/,
    );
  }

  it('a place in the log inserted by anyone but the sequencer is refused, at the next seq or beyond', async () => {
    const { size } = await readHead(db());
    const id = await written(2);
    await placeRefused(size, id); // the very seq the sequencer is about to hand out
    await placeRefused(size + 5, id);
    expect(await count(sql`select count(*)::int as n from audit_log where entry_id = ${id}`)).toBe(0);
  });

  it('every entry written is queued, and leaves the queue only into the log', async () => {
    const id = await written(4);
    expect(await count(sql`select count(*)::int as n from audit_pending where entry_id = ${id}`)).toBe(1);
    expect(await errorOf(sql`delete from audit_pending where entry_id = ${id}`)).toMatch(/leaves the queue only into audit_log; DELETE refused/);
    expect(await errorOf(sql`update audit_pending set entry_id = -1 where entry_id = ${id}`)).toMatch(/append-only/);
    // A plain INSERT without a leaf hash, and one with a malformed leaf hash, are queued just the
    // same; the sequencer hashes both itself (the log verifies below).
    await db().execute(sql`insert into audit_entries (at, request_id, action, outcome, covenant_version)
                           values (${hub.clock().toISOString()}::timestamptz, 'append-only-insert', 'purge', 'ok', ${hub.config.covenant.version})`);
    await db().execute(sql`insert into audit_entries (leaf_hash, uid, at, request_id, action, outcome, covenant_version)
                           values ('not a hash', ${crypto.randomUUID()}, ${hub.clock().toISOString()}::timestamptz, 'append-only-insert', 'purge', 'ok', ${hub.config.covenant.version})`);
    expect(await count(sql`select count(*)::int as n from audit_pending p join audit_entries a on a.id = p.entry_id where a.request_id = 'append-only-insert'`)).toBe(4);
    expect(await count(sql`select count(*)::int as n from audit_pending p join audit_entries a on a.id = p.entry_id where p.leaf_hash is not distinct from a.leaf_hash`)).toBe(4);
  });

  it('the sequencer still runs afterwards: every queued entry gets the next seq, and the log verifies', async () => {
    const before = await readHead(db());
    const pending = await count(sql`select count(*)::int as n from audit_pending`);
    const after = await integrateAll(db(), hub.clock());
    expect(after.size).toBe(before.size + pending);
    expect(await count(sql`select count(*)::int as n from audit_pending`)).toBe(0);
    const seqs = await rowsOf<{ seq: number }>(db(), sql`select l.seq::int as seq from audit_log l join audit_entries a on a.id = l.entry_id where a.request_id = 'append-only-insert' order by l.seq`);
    expect(seqs.map((r) => r.seq).slice(-pending)).toEqual(Array.from({ length: pending }, (_, i) => before.size + i));
    await createCheckpoint(db(), hub.config, hub.clock());
    expect((await verifyAuditLog(db(), hub.config.signer.published)).problems).toEqual([]);
  });

  it('a queued id without an entry (left by a bypass of the triggers) does not stop the sequencer', async () => {
    await db().transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`insert into audit_pending (entry_id) values (0)`); // no entry 0: ids start at 1
    });
    const before = await readHead(db());
    await written(6);
    const after = await integrateAll(db(), hub.clock());
    expect(after.size).toBe(before.size + 1);
    expect(await count(sql`select count(*)::int as n from audit_pending`)).toBe(1);
    await createCheckpoint(db(), hub.config, hub.clock());
    expect((await verifyAuditLog(db(), hub.config.signer.published)).problems).toEqual([]);
  });

  it('a place below the minimum index (pruned) cannot be filled again', async () => {
    const id = await written(5);
    const error = await db()
      .transaction(async (tx) => {
        // Entry 0 pruned, in this story: the minimum index raised past it and its place removed.
        await tx.execute(sql`update log_head set min_index = 1 where id = 1`);
        await tx.execute(sql`set local session_replication_role = replica`);
        await tx.execute(sql`delete from audit_log where seq = 0`);
        await tx.execute(sql`set local session_replication_role = origin`);
        await tx.execute(sql`insert into audit_log (seq, entry_id, leaf_hash) values (0, ${id}, ${'00'.repeat(32)})`);
      })
      .then(() => '', (err: unknown) => String((err as { cause?: unknown })?.cause ?? err));
    expect(error).toMatch(/positions are the sequencer's; INSERT refused/);
  });
});
