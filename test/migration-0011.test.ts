// Upgrading a hub whose log was sequenced in place (seq and leaf_hash in audit_entries, up to
// migration 0010) to the log's own table (0011): every place and leaf hash moves to audit_log
// unchanged, entries not yet sequenced are queued, and the sequencer continues the same tree.
// On embedded PGlite from its empty snapshot (the migration's SQL is the same on a server).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, inject, it } from 'vitest';
import * as schema from '../schema/index';
import { leafInput, pendingEntry } from '../src/audit/entry';
import { appendLeaves, frontierRoot, leafHash, rootOf } from '../src/audit/merkle';
import { integrateAll, readSequenced } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { rowsOf, type Db } from '../src/db/types';
import { toHex } from '../src/encoding';
import { MIGRATIONS_DIR } from '../src/node/database';

const BEFORE = '0010_signals';

describe('migration 0011 moves the log into audit_log (pglite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kenbaar-0011-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The migrations as they were up to `BEFORE`. */
  function migrationsUpTo(tag: string): string {
    const folder = join(dir, 'migrations');
    cpSync(MIGRATIONS_DIR, folder, { recursive: true });
    const journalFile = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { idx: number; tag: string }[] };
    const end = journal.entries.findIndex((e) => e.tag === tag);
    expect(end).toBeGreaterThan(0);
    writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, end + 1) }));
    return folder;
  }

  it('keeps every place and leaf hash, queues the unsequenced, and the sequencer continues the same tree', async () => {
    const pglite = new PGlite({ loadDataDir: new Blob([readFileSync(inject('pgliteEmptySnapshot'))]) });
    const db = drizzle(pglite, { schema }) as unknown as Db;
    await migrate(db as never, { migrationsFolder: migrationsUpTo(BEFORE) });

    // Five entries as the old hub wrote them; the old sequencer gave the first three their places.
    const at = new Date('2026-12-01T10:00:00.000Z');
    const ctx = { at, requestId: 'before-0011', actor: { partner: 'politie', sub: 'agent', role: 'professional' }, covenantVersion: '2026.1' };
    const entries = Array.from({ length: 5 }, (_, i) => pendingEntry(ctx, { action: 'lookup', outcome: 'allowed', rule: 'P-1', subject: `s${i}`, detail: { n: i } }, crypto.randomUUID()));
    const ids: number[] = [];
    for (const e of entries) {
      const [row] = await rowsOf<{ id: number }>(
        db,
        sql`insert into audit_entries (uid, at, request_id, actor_partner, actor_sub, actor_role, action, subject, outcome, rule, covenant_version, detail)
            values (${e.uid}, ${at.toISOString()}::timestamptz, ${e.requestId}, ${e.actorPartner}, ${e.actorSub}, ${e.actorRole}, ${e.action}, ${e.subject}, ${e.outcome}, ${e.rule}, ${e.covenantVersion}, ${JSON.stringify(e.detail)}::jsonb)
            returning id::int as id`,
      );
      ids.push(row!.id);
    }
    const leaves = entries.map((e, seq) => leafHash(leafInput(e, seq)));
    for (let seq = 0; seq < 3; seq++) {
      await db.execute(sql`update audit_entries set seq = ${seq}, leaf_hash = ${toHex(leaves[seq]!)} where id = ${ids[seq]}`);
    }
    const frontier = appendLeaves([], 0, leaves.slice(0, 3));
    await db.execute(sql`insert into log_head (id, size, root, frontier, updated_at)
      values (1, 3, ${toHex(frontierRoot(frontier))}, ${JSON.stringify(frontier.map(toHex))}::jsonb, now())
      on conflict (id) do update set size = excluded.size, root = excluded.root, frontier = excluded.frontier`);

    await migrate(db as never, { migrationsFolder: MIGRATIONS_DIR });
    const places = await rowsOf<{ seq: number; entry_id: number; leaf_hash: string }>(db, sql`select seq::int as seq, entry_id::int as entry_id, leaf_hash from audit_log order by seq`);
    expect(places).toEqual([0, 1, 2].map((seq) => ({ seq, entry_id: ids[seq], leaf_hash: toHex(leaves[seq]!) })));
    const queued = await rowsOf<{ entry_id: number }>(db, sql`select entry_id::int as entry_id from audit_pending order by entry_id`);
    expect(queued.map((q) => q.entry_id)).toEqual(ids.slice(3));

    // Queued without a leaf hash (written before 0011): the sequencer hashes them itself.
    const head = await integrateAll(db, new Date());
    expect(head.size).toBe(5);
    expect(head.root).toBe(toHex(rootOf(leaves)));
    expect((await readSequenced(db, -1, 10)).map((e) => e.id)).toEqual(ids);
    const report = await verifyAuditLog(db, []);
    expect(report.problems).toEqual([]);
    expect(report.entries).toBe(5);
    await pglite.close();
  });
});
