// A plan that cannot collapse: the lookup's select of a subject's active registrations uses the
// index that leads with the subject (and the log's page read, below, the primary keys), whether the planner has fresh statistics, statistics from when
// the table was empty (the migration's ANALYZE, then autovacuum off), or none at all (a restore).
// And the sequencer's dequeue check (a trigger) probes the log's index however small the log was
// when a connection first planned it.
// Needs a PostgreSQL server (DATABASE_URL); PGlite has one connection and no autovacuum to switch off.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrate, queryEntries, readSequenced, SEQUENCED_PAGE_SQL, subjectEntries } from '../src/audit/store';
import { analyzeChangedTables } from '../src/db/maintenance';
import { openPgPool, type PgDatabase } from '../src/db/postgres';
import { matchFeed } from '../src/matches/repo';
import { ACTIVE_SQL, activeParams, findActive, SETTLE_SQL, settleParams } from '../src/registrations/repo';
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
/** A partner's (subject, category 'x') key under one hub key version, as a registration settles it. */
const settleKey = (subject: string) => ({ category: 'x', current: subject, version: 1, all: [subject] });

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
  async function planOf(subjects: string[], text = ACTIVE_SQL): Promise<PlanNode[]> {
    // The lookup's select, or the settling a registration request does first (the partner's own
    // registrations of these subjects): the same index, the same subjects as its condition.
    const params = text === ACTIVE_SQL ? activeParams(subjects, NOW, 'gemeente') : settleParams(subjects.map(settleKey), 'politie', NOW);
    const { rows } = await client.query(`explain (analyze, buffers, format json) ${text}`, params);
    return nodes((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
  }

  async function expectSubjectIndex() {
    const one = lpadSubject(1234);
    // Custom plans (first executions) and the generic plan a prepared statement settles on.
    const cases = ['force_custom_plan', 'force_generic_plan'].flatMap((m) => [[one], [one, lpadSubject(99_999)]].flatMap((s) => [ACTIVE_SQL, SETTLE_SQL].map((t) => [m, s, t] as const)));
    for (const [mode, subjects, text] of cases) {
      await client.query(`set plan_cache_mode = ${mode}`);
      const plan = await planOf(subjects, text);
      const scans = plan.filter((n) => /Scan/.test(n['Node Type']) && n['Node Type'] !== 'Function Scan');
      expect(scans.map((n) => n['Node Type'])).not.toContain('Seq Scan');
      const indexScans = scans.filter((n) => n['Index Name']);
      expect(indexScans.map((n) => n['Index Name'])).toEqual(['registrations_active_uq']);
      expect(indexScans[0]!['Index Cond']).toMatch(/^\(\(?subject = /);
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

describe.skipIf(!DATABASE_URL)('statements prepared while the tables were small, run after they grew (PostgreSQL)', () => {
  // The hub prepares each statement text once per connection (src/db/postgres.ts). PostgreSQL makes
  // a generic plan at the sixth execution and keeps it until a table it reads is analyzed: on a
  // fresh database (the migrations analyzed the tables empty) that plan is made for a handful of
  // rows, a sequential scan, whatever the statement's shape. The hub's own ANALYZE job
  // (src/db/maintenance.ts) invalidates it once the table has grown.
  const GROWN = 300_000;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let client: pg.Client;
  const id = (i: number) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const statements = (): [string, string, unknown[]][] => [
    ['active', ACTIVE_SQL, activeParams(['S1'], NOW, 'gemeente')],
    ['settle', SETTLE_SQL, settleParams([settleKey('S1')], 'politie', NOW)],
    feedStatement(),
  ];
  // The match feed's select as drizzle writes it, with its parameters.
  const feedStatement = (): [string, string, unknown[]] => {
    const { sql: text, params } = matchFeed(database.db, 'ggz', GROWN / 4, 100, NOW).toSQL();
    return ['feed', text, params];
  };

  beforeAll(async () => {
    database = await testDatabase();
    client = new pg.Client({ connectionString: database.url! });
    await client.connect();
    for (const table of ['registrations', 'matches']) await client.query(`alter table ${table} set (autovacuum_enabled = false)`);
    const register = (from: number, to: number) =>
      client.query(
        `insert into registrations (id, partner, subject, key_version, category, contact, registered_by, created_at, expires_at)
         select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, (array['politie', 'ggz'])[1 + i % 2], 'S' || i, 1, 'x',
                '{"function": "f"}'::jsonb, 'b', $1, $1::timestamptz + interval '1 year'
           from generate_series($2::int, $3::int) as i`,
        [NOW, from, to],
      );
    // Notices to ggz about the pairs (i, i + 1), at feed positions i.
    const notify = (from: number, to: number) =>
      client.query(
        `insert into matches (seq, recipient, recipient_registration_id, registration_id, rule, covenant_version, created_at)
         select i, 'ggz', ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, ('00000000-0000-4000-8000-' || lpad(to_hex(i + 1), 12, '0'))::uuid, 'R', '1', $1
           from generate_series($2::int, $3::int) as i`,
        [NOW, from, to],
      );
    // Small: each statement runs seven times under its name, as on the hub's first requests.
    await register(1, 20);
    await notify(1, 10);
    for (let i = 0; i < 7; i++) for (const [name, text, values] of statements()) await client.query({ name, text, values });
    const { rows } = await client.query(`select name, generic_plans from pg_prepared_statements`);
    expect(rows.filter((r) => Number(r.generic_plans) > 0).map((r) => r.name).sort()).toEqual(['active', 'feed', 'settle']);
    // Grown; the inserting session's counts flushed for the job to read (pg_stat_user_tables).
    await register(21, GROWN);
    await notify(11, GROWN / 2);
    await client.query('select pg_stat_force_next_flush()');
  }, 60_000);

  afterAll(async () => {
    await client?.end();
    await database?.close();
  });

  type Node = PlanNode & { 'Relation Name'?: string };
  /** The plan the prepared statement runs now (EXPLAIN EXECUTE takes no bind parameters: literals). */
  async function plansOnRegistrations(): Promise<Record<string, Node[]>> {
    const out: Record<string, Node[]> = {};
    for (const [name, , values] of statements()) {
      const { rows } = await client.query(`explain (format json) execute ${name}(${values.map((v) => client.escapeLiteral(String(v))).join(', ')})`);
      out[name] = nodes((rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan).filter((n: Node) => n['Relation Name'] === 'registrations' || n['Index Name']?.startsWith('registrations_'));
    }
    return out;
  }

  it('the hub\'s ANALYZE job replaces the plans made for a few rows: each statement reaches registrations by index', async () => {
    const before = await plansOnRegistrations();
    // The hazard is real: every one of them scans the grown table.
    for (const scans of Object.values(before)) expect(scans.map((n) => n['Node Type'])).toContain('Seq Scan');

    expect(await analyzeChangedTables(database.db)).toEqual(expect.arrayContaining(['public.matches', 'public.registrations']));
    const after = await plansOnRegistrations();
    for (const scans of Object.values(after)) expect(scans.map((n) => n['Node Type'])).not.toContain('Seq Scan');
    // Through the index that leads with the subject, the subjects its condition (a bitmap or plain index scan) …
    for (const name of ['active', 'settle']) {
      expect(after[name]!.filter((n) => n['Index Name']).map((n) => [n['Index Name'], n['Index Cond']?.match(/subject = ANY/) !== null])).toEqual([['registrations_active_uq', true]]);
    }
    // … and the feed's two registrations of each notice by primary key.
    expect(after.feed!.map((n) => [n['Node Type'], n['Index Name']])).toEqual([['Index Scan', 'registrations_pkey'], ['Index Scan', 'registrations_pkey']]);
    for (const s of after.feed!) expect(s['Index Cond']).toMatch(/^\(id = \w+\.(recipient_)?registration_id\)$/);

    // Nothing changed since: the next run analyzes nothing.
    expect(await analyzeChangedTables(database.db)).toEqual([]);
    // And the feed answers: a page of 100 from position 75,000 on, each notice with its registrations.
    const page = await matchFeed(database.db, 'ggz', GROWN / 4, 100, NOW);
    expect(page.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => GROWN / 4 + i));
    expect([page[0]!.ownRegistrationId, page[0]!.otherPartner]).toEqual([id(GROWN / 4), (GROWN / 4 + 1) % 2 === 0 ? 'politie' : 'ggz']);
  });
});
