// A plan that cannot collapse: the lookup's select of a subject's active registrations uses the
// index that leads with the subject, whether the planner has fresh statistics, statistics from when
// the table was empty (the migration's ANALYZE, then autovacuum off), or none at all (a restore).
// Needs a PostgreSQL server (DATABASE_URL); PGlite has one connection and no autovacuum to switch off.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
