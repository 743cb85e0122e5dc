// What sequencing costs PostgreSQL, by the shape of the write. Before migration 0011 the sequencer
// UPDATEd each entry's seq and leaf_hash in audit_entries (a wide row with 13 indexes: no HOT update,
// a new index entry in every one); since, it INSERTs (seq, entry_id, leaf_hash) into audit_log and
// takes the entries off the audit_pending queue, with the append-only triggers on. The old shape is
// rebuilt here on a copy of the entries (`wide`: audit_entries' columns and indexes, plus seq with
// its two indexes), triggers off as they were then (0002 fired nothing for it).
// 10,000 entries per statement; the backend's CPU per entry.
// Usage: npx tsx bench/sequencer-shape.ts [entries, default 50,000]
import pg from 'pg';
import { seedLookupEntries } from './audit-seed';
import { openDatabase } from '../src/node/database';
import { createBenchDatabase, main, processCpu } from './support';

const BATCH = 10_000;

main(async () => {
  const bench = await createBenchDatabase('seqshape');
  const database = await openDatabase({ url: bench.url, max: 2 });
  const N = Number(process.argv[2] ?? 50_000);
  await seedLookupEntries(database.db, 'v1', N);
  const c = new pg.Client({ connectionString: bench.url });
  await c.connect();
  const pid = (await c.query('select pg_backend_pid() as p')).rows[0].p;
  await c.query('create table wide (like audit_entries including all)');
  await c.query('alter table wide add column seq bigint'); // leaf_hash it has: null until sequenced, then
  await c.query('create unique index on wide (seq)');
  await c.query('create index on wide (id) where seq is null');
  await c.query('insert into wide select *, null from audit_entries');
  await c.query('update wide set leaf_hash = null');
  await c.query(`insert into log_head (id, size, root, frontier, updated_at) values (1, ${N}, '', '[]', now()) on conflict (id) do update set size = excluded.size`);
  await c.query('vacuum analyze wide, audit_entries, audit_pending');
  const { rows } = await c.query('select id from audit_entries order by id');
  const ids = rows.map((r: { id: string }) => r.id);
  const hex = ids.map(() => 'ab'.repeat(32));
  const shapes: [string, string[], boolean][] = [
    ['update wide (before 0011)', ['update wide as a set seq = v.seq, leaf_hash = v.leaf_hash from unnest($1::bigint[], $2::bigint[], $3::text[]) as v(id, seq, leaf_hash) where a.id = v.id'], true],
    [
      'insert audit_log + dequeue (now, triggers on)',
      ['insert into audit_log (seq, entry_id, leaf_hash) select * from unnest($2::bigint[], $1::bigint[], $3::text[])', 'delete from audit_pending where entry_id = any($1::bigint[])'],
      false,
    ],
  ];
  for (const [name, texts, replica] of shapes) {
    const cpu0 = processCpu(pid);
    const t0 = performance.now();
    await c.query('begin');
    if (replica) await c.query('set local session_replication_role = replica');
    for (let i = 0; i < N; i += BATCH) {
      const s = ids.slice(i, i + BATCH);
      const params = [`{${s.join(',')}}`, `{${s.map((_: unknown, j: number) => i + j).join(',')}}`, `{${hex.slice(i, i + BATCH).join(',')}}`];
      for (const text of texts) await c.query(text, text.includes('$3') ? params : params.slice(0, 1));
    }
    await c.query('commit');
    console.log(name, (((processCpu(pid) - cpu0) * 1e6) / N).toFixed(1), 'µs PG CPU/entry', (((performance.now() - t0) * 1000) / N).toFixed(1), 'µs wall');
  }
  await c.end();
  await database.close();
});
