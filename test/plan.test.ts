// A plan that cannot collapse: the lookup's select of a subject's active registrations uses the
// index that leads with the subject (and the log's page read, below, the primary keys), whether the planner has fresh statistics, statistics from when
// the table was empty (the migration's ANALYZE, then autovacuum off), or none at all (a restore).
// And the sequencer's dequeue check (a trigger) probes the log's index however small the log was
// when a connection first planned it.
// Needs a PostgreSQL server (DATABASE_URL); PGlite has one connection and no autovacuum to switch off.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrate, queryEntries, readSequenced, SEQUENCED_PAGE_SQL, subjectEntries } from '../src/audit/store';
import { openPgPool, type PgDatabase } from '../src/db/postgres';
import { ACTIVE_SQL, activeParams, findActive } from '../src/registrations/repo';
import { DATABASE_URL, testDatabase } from './support/hub';

const ROWS = 300_000;
const NOW = new Date('2026-11-23T09:00:00Z');

type PlanNode = {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Shared Hit Blocks': number;
  'Shared Read Blocks': number;
  Plans?: PlanNode[];
};
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

describe.skipIf(!DATABASE_URL)('the lookup select on a server with autovacuum off (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let client: pg.Client;

  beforeAll(async () => {
    database = await testDatabase(); // migrated: the migration's ANALYZE saw an empty table
    client = new pg.Client({ connectionString: database.url! });
    await client.connect();
    await client.query('alter table registrations set (autovacuum_enabled = false)');
    // A few hundred thousand registrations, a handful per subject, in one statement (sequential
    // keys: the btrees grow at their right edge, so this takes seconds, not minutes).
    await client.query(
      `insert into registrations (id, partner, subject, key_version, category, contact, registered_by, created_at, expires_at)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
             (array['politie','ggz','veilig-thuis','gemeente'])[1 + i % 4],
             lpad((i / 4)::text, 43, 'S'), 1, 'x', '{"name":"n"}'::jsonb, 'bench', $1, $1::timestamptz + interval '1 year'
        from generate_series(1, $2::int) as i`,
      [NOW, ROWS],
    );
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await database?.close();
  });

  /** The plan of the select the hub runs, with its own parameters, as run (buffers read). */
  async function planOf(subjects: string[]): Promise<PlanNode[]> {
    const { rows } = await client.query(`explain (analyze, buffers, format json) ${ACTIVE_SQL}`, activeParams(subjects, NOW, 'gemeente'));
    return nodes((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
  }

  async function expectSubjectIndex() {
    const one = lpadSubject(1234);
    // Custom plans (first executions) and the generic plan a prepared statement settles on.
    for (const [mode, subjects] of ['force_custom_plan', 'force_generic_plan'].flatMap((m) => [[one], [one, lpadSubject(99_999)]].map((s) => [m, s] as const))) {
      await client.query(`set plan_cache_mode = ${mode}`);
      const plan = await planOf(subjects);
      const scans = plan.filter((n) => /Scan/.test(n['Node Type']) && n['Node Type'] !== 'Function Scan');
      expect(scans.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      const indexScans = scans.filter((n) => n['Index Name']);
      expect(indexScans.map((n) => n['Index Name'])).toEqual(['registrations_active_uq']);
      expect(indexScans[0]!['Index Cond']).toMatch(/^\(subject = /);
      // A descent to the subject's leaf, not a walk over the index (which reads thousands of pages).
      expect(plan[0]!['Shared Hit Blocks'] + plan[0]!['Shared Read Blocks']).toBeLessThan(50);
    }
  }
  const lpadSubject = (n: number) => String(n).padStart(43, 'S');

  it('uses the subject index with the statistics of the empty table (autovacuum off since)', async () => {
    const { rows } = await client.query(`select reltuples from pg_class where relname = 'registrations'`);
    expect(Number(rows[0].reltuples)).toBeLessThan(ROWS / 10); // the planner does not know the rows arrived
    await expectSubjectIndex();
  });

  it('uses the subject index with no statistics at all (as after a restore)', async () => {
    await client.query(`delete from pg_statistic where starelid = 'registrations'::regclass`);
    await client.query(`update pg_class set reltuples = -1, relpages = 0 where oid = 'registrations'::regclass`);
    await expectSubjectIndex();
  });

  it('uses the subject index with fresh statistics', async () => {
    await client.query('analyze registrations');
    await expectSubjectIndex();
    // And it finds the subject's registrations (four rows per subject; the gemeente's excluded).
    expect(await findActive(database.raw, [lpadSubject(1234)], NOW, 'gemeente')).toHaveLength(3);
  });
});

// The same for the log read page by page (`audit verify`, its worker threads, entry bundles): each
// page of places in audit_log by its primary key, each place's entry by audit_entries' primary key.
// A plain join here, on tables never analyzed, was a hash join scanning both tables for every page.
describe.skipIf(!DATABASE_URL)('the log read page by page, on a server with autovacuum off (PostgreSQL)', () => {
  const ENTRIES = 300_000;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let client: pg.Client;

  beforeAll(async () => {
    database = await testDatabase();
    client = new pg.Client({ connectionString: database.url! });
    await client.connect();
    for (const table of ['audit_entries', 'audit_log', 'audit_pending']) await client.query(`alter table ${table} set (autovacuum_enabled = false)`);
    // Entries and their places in bulk, past the triggers (as a restore writes them).
    await client.query('begin');
    await client.query('set local session_replication_role = replica');
    await client.query(
      `insert into audit_entries (uid, at, request_id, action, outcome, covenant_version, subject, detail)
       select 'u' || i, $1, 'r' || i, 'lookup', 'allowed', '1', 's' || (i % 5000), '{"n": 1}'::jsonb from generate_series(1, $2::int) as i`,
      [NOW, ENTRIES],
    );
    await client.query(`insert into audit_log (seq, entry_id, leaf_hash) select id - 1, id, md5(id::text) from audit_entries`);
    await client.query('commit');
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await database?.close();
  });

  /** The plan of the page read, with its own parameters, custom and generic. */
  async function expectPrimaryKeys() {
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await client.query(`set plan_cache_mode = ${mode}`);
      // A page of the verifier's size (10,000) from the middle of the log.
      const { rows } = await client.query(`explain (analyze, buffers, format json) ${SEQUENCED_PAGE_SQL}`, [ENTRIES / 2, 10_000]);
      const plan = nodes((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
      const scans = plan.filter((n) => /Scan/.test(n['Node Type']));
      expect(scans.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      expect(new Set(scans.map((n) => n['Index Name']))).toEqual(new Set(['audit_log_pkey', 'audit_entries_pkey']));
      // Each entry found by its id from its place (a nested loop), not a walk or merge over the key.
      expect(scans.find((n) => n['Index Name'] === 'audit_entries_pkey')!['Index Cond']).toMatch(/entry_id/);
      expect(plan.map((n) => n['Node Type'])).not.toContain('Hash Join');
      expect(plan.map((n) => n['Node Type'])).not.toContain('Merge Join');
    }
  }

  /** The privacy officer's feed of one person's entries: the subject index, then each entry's place by entry id. */
  async function expectSubjectFirst() {
    // Twenty stored pseudonyms (as many key versions of a few persons): with no statistics, the
    // planner guesses hundreds of entries each, and a plain join of them to the log became a hash
    // join over every place in it.
    const subjects = Array.from({ length: 20 }, (_, i) => `s${i}`);
    const { sql: text, params } = subjectEntries(database.db, subjects, 0, undefined, 100).toSQL();
    await client.query('set plan_cache_mode = force_custom_plan'); // the planner sees the subjects
    const { rows } = await client.query(`explain (format json) ${text}`, params);
    const plan = nodes((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
    expect(plan.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    expect(plan.map((n) => n['Node Type'])).not.toContain('Hash Join');
    expect(plan.filter((n) => n['Index Name']).map((n) => n['Index Name'])).toEqual(['audit_entries_subject_idx', 'audit_log_entry_uq']);
  }

  it('reads by primary keys, and a person\'s feed by subject, with no statistics at all (as after a restore)', async () => {
    for (const table of ['audit_entries', 'audit_log']) {
      await client.query(`delete from pg_statistic where starelid = '${table}'::regclass`);
      await client.query(`update pg_class set reltuples = -1, relpages = 0 where oid = '${table}'::regclass`);
    }
    await expectPrimaryKeys();
    await expectSubjectFirst();
  });

  it('reads by primary keys, and a person\'s feed by subject, with fresh statistics, and gives the pages asked for', async () => {
    await client.query('analyze audit_entries, audit_log');
    await expectPrimaryKeys();
    await expectSubjectFirst();
    const page = await readSequenced(database.db, 99, 3);
    expect(page.map((e) => [e.seq, e.uid])).toEqual([[100, 'u101'], [101, 'u102'], [102, 'u103']]);
    // Entry i is about s(i mod 5000) at seq i - 1: s7's from seq 50,000 on are 50,006, 55,006, …
    const feed = await queryEntries(database.db, { subjects: ['s7'], scope: { all: true }, fromSeq: 50_000, limit: 3 });
    expect(feed.map((e) => [e.seq, e.subject])).toEqual([[50_006, 's7'], [55_006, 's7'], [60_006, 's7']]);
  });
});

describe.skipIf(!DATABASE_URL)('the sequencer on a log that grew after its first round (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let sequencer: PgDatabase;
  const notices: string[] = [];

  beforeAll(async () => {
    database = await testDatabase();
    // One connection, as one of the hub's pool: every plan it runs, triggers' included, comes back
    // as a notice (auto_explain, a contrib module of PostgreSQL's own, loaded at connection start:
    // that needs a superuser, as CI's server has).
    const url = new URL(database.url!);
    const explain = ['session_preload_libraries=auto_explain', 'auto_explain.log_min_duration=0', 'auto_explain.log_nested_statements=on', 'auto_explain.log_level=notice'];
    url.searchParams.set('options', explain.map((o) => `-c ${o}`).join(' '));
    sequencer = openPgPool({ connectionString: url.toString(), max: 1 });
    sequencer.pool.on('connect', (c) => c.on('notice', (n) => notices.push(n.message ?? '')));
  });

  afterAll(async () => {
    await sequencer?.close();
    await database?.close();
  });

  const write = (from: number, count: number) =>
    sequencer.pool.query(
      `insert into audit_entries (uid, at, request_id, action, outcome, covenant_version, subject, detail)
       select 'u' || i, $1, 'r' || i, 'lookup', 'allowed', '1', 's' || i, '{"n": 1}'::jsonb from generate_series($2::int, $3::int) as i`,
      [NOW, from, from + count - 1],
    );

  it('checks each dequeued entry against the log by its index, however small the log was at its first round', async () => {
    // The first round dequeues one entry from an empty log: a plan kept from here would scan the
    // whole log for every entry of every later round.
    await write(1, 1);
    expect((await integrate(sequencer.db, NOW)).integrated).toBe(1);
    await write(2, 5_000);
    notices.length = 0;
    const head = await integrate(sequencer.db, NOW);
    expect(head.integrated).toBe(5_000);
    const check = notices.filter((n) => n.includes('FROM dequeued'));
    expect(check).toHaveLength(1);
    expect(check[0]).toMatch(/Index Only Scan using audit_log_entry_uq on audit_log/);
    expect(check[0]).not.toMatch(/Seq Scan on audit_log/);
    expect(await sequencer.pool.query('select count(*)::int as n from audit_pending').then((r) => r.rows[0].n)).toBe(0);
  });
});
