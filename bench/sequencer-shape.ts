// What sequencing costs PostgreSQL, by the shape of the write: the sequencer today UPDATEs each
// entry's seq and leaf_hash in audit_entries (a wide row with 13 indexes: no HOT update, a new index
// entry in every one), against INSERTing (seq, entry_id, leaf_hash) into a narrow table of its own.
// Both with triggers off (session_replication_role = replica), 10,000 entries per statement; the
// backend's CPU per entry. Evidence for BENCHMARKS.md, not a design in use.
// Usage: npx tsx bench/sequencer-shape.ts [entries, default 50,000]
import { seedLookupEntries } from './audit-seed';
import { openDatabase } from '../src/node/database';
import { createBenchDatabase, main, processCpu } from './support';
import pg from 'pg';
main(async () => {
  const bench = await createBenchDatabase('seqshape');
  const database = await openDatabase({ url: bench.url, max: 2 });
  const db = database.db;
  const N = Number(process.argv[2] ?? 50_000);
  await seedLookupEntries(db, 'v1', N);
  const c = new pg.Client({ connectionString: bench.url }); await c.connect();
  const pid = (await c.query('select pg_backend_pid() as p')).rows[0].p;
  await c.query('create table narrow (seq bigint primary key, entry_id bigint not null unique, leaf_hash text not null)');
  const { rows } = await c.query('select id from audit_entries order by id');
  const ids = rows.map((r: any) => r.id);
  const hex = ids.map(() => 'ab'.repeat(32));
  for (const [name, text] of [
    ['insert narrow', `insert into narrow (seq, entry_id, leaf_hash) select * from unnest($2::bigint[], $1::bigint[], $3::text[])`],
    ['update wide (current)', `update audit_entries as a set seq = v.seq, leaf_hash = v.leaf_hash from unnest($1::bigint[], $2::bigint[], $3::text[]) as v(id, seq, leaf_hash) where a.id = v.id`],
  ]) {
    let cpu0 = processCpu(pid); const t0 = performance.now();
    await c.query('begin'); await c.query('set local session_replication_role = replica');
    for (let i = 0; i < N; i += 10000) {
      const s = ids.slice(i, i + 10000);
      await c.query(text as string, [`{${s.join(',')}}`, `{${s.map((_: unknown, j: number) => i + j).join(',')}}`, `{${hex.slice(i, i + 10000).join(',')}}`]);
    }
    await c.query('commit');
    console.log(name, ((processCpu(pid) - cpu0) * 1e6 / N).toFixed(1), 'µs PG CPU/entry', ((performance.now() - t0) * 1000 / N).toFixed(1), 'µs wall');
  }
  await c.end(); await database.close();
});
