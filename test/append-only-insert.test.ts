// Append-only includes INSERT: only the sequencer gives an audit entry its seq and leaf_hash. A row
// inserted with either already set would forge a place in the log, or block the sequencer for good
// (the seq it is about to assign taken; a leaf hash on an unsequenced row that it may not touch).
// The database refuses such a row, also from the superuser the tests connect as.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit, integrateAll, readHead } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { rowsOf } from '../src/db/types';
import { dbKind, startTestHub, type TestHub } from './support/hub';

describe(`the audit log refuses pre-sequenced inserts (${dbKind})`, () => {
  let hub: TestHub;
  const db = () => hub.database.db;
  const ctx = () => ({ at: hub.clock(), requestId: 'append-only-insert', actor: null, covenantVersion: hub.config.covenant.version });

  beforeAll(async () => {
    hub = await startTestHub();
    await appendAudit(db(), ctx(), [{ action: 'purge', outcome: 'ok', detail: { n: 1 } }]);
    await integrateAll(db(), hub.clock());
  });
  afterAll(() => hub?.close());

  async function refused(columns: { seq?: number; leafHash?: string }) {
    const e = await db()
      .execute(sql`insert into audit_entries (seq, leaf_hash, at, request_id, action, outcome, covenant_version)
                   values (${columns.seq ?? null}, ${columns.leafHash ?? null}, ${hub.clock().toISOString()}::timestamptz, 'forged', 'purge', 'ok', ${hub.config.covenant.version})`)
      .then(() => undefined, (err: unknown) => err);
    expect(String((e as { cause?: unknown })?.cause ?? e)).toMatch(/seq and leaf_hash are the sequencer's; INSERT with them refused/);
  }

  it('a superuser-style INSERT with seq set, with leaf_hash set, or both, is refused', async () => {
    const { size } = await readHead(db());
    await refused({ seq: size }); // the very seq the sequencer is about to hand out
    await refused({ seq: size + 5 });
    await refused({ leafHash: '00'.repeat(32) });
    await refused({ seq: size, leafHash: '00'.repeat(32) });
    const forged = await rowsOf<{ n: number }>(db(), sql`select count(*)::int as n from audit_entries where request_id = 'forged'`);
    expect(forged[0]!.n).toBe(0);
  });

  it('the sequencer still runs afterwards: new entries get the next seq, and the log verifies', async () => {
    const before = await readHead(db());
    await refused({ seq: before.size });
    await appendAudit(db(), ctx(), [{ action: 'purge', outcome: 'ok', detail: { n: 2 } }, { action: 'purge', outcome: 'ok', detail: { n: 3 } }]);
    const after = await integrateAll(db(), hub.clock());
    expect(after.size).toBe(before.size + 2);
    const seqs = await rowsOf<{ seq: number }>(db(), sql`select seq::int as seq from audit_entries where request_id = 'append-only-insert' order by seq`);
    expect(seqs.map((r) => r.seq).slice(-2)).toEqual([before.size, before.size + 1]);
    await createCheckpoint(db(), hub.config.signer, hub.config.hubId, hub.clock());
    expect((await verifyAuditLog(db(), hub.config.signer.published)).problems).toEqual([]);
  });

  it('an ordinary INSERT (seq and leaf_hash null) is what writers do, and passes', async () => {
    const before = await readHead(db());
    await db().execute(sql`insert into audit_entries (at, request_id, action, outcome, covenant_version)
                           values (${hub.clock().toISOString()}::timestamptz, 'append-only-insert', 'purge', 'ok', ${hub.config.covenant.version})`);
    expect((await integrateAll(db(), hub.clock())).size).toBe(before.size + 1);
  });
});
