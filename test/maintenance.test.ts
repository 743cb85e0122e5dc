// The planner's statistics, kept by the hub where autovacuum does not keep them
// (src/db/maintenance.ts): a table is analyzed again once its row count has moved by more than 50
// and a fifth since its last ANALYZE, by a job of the hub's background work. What that does to the
// plans of prepared statements: test/plan.test.ts.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/db/types';
import { analyzeChangedTables } from '../src/db/maintenance';
import type { LogFields } from '../src/log';
import { startBackgroundWork } from '../src/node/serve';
import { testDatabase, testHubConfig } from './support/hub';

const NOW = new Date('2026-11-23T09:00:00Z');

describe('the planner statistics the hub keeps itself', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let registered = 0;

  beforeAll(async () => {
    database = await testDatabase();
  });

  afterAll(async () => {
    await database?.close();
  });

  /** Registrations written in SQL; their counts reach pg_stat_user_tables when the session is next idle (forced: at once). */
  async function register(n: number) {
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into registrations (id, partner, subject, key_version, category, contact, registered_by, created_at, expires_at)
        select gen_random_uuid(), 'politie', 'S' || i, 1, 'x', '{"function": "f"}'::jsonb, 'b', ${NOW.toISOString()}::timestamptz, ${NOW.toISOString()}::timestamptz + interval '1 year'
          from generate_series(${registered + 1}::int, ${registered + n}::int) as i`);
      await tx.execute(sql`select pg_stat_force_next_flush()`);
    });
    registered += n;
  }
  const reltuples = async () => Number((await rowsOf<{ n: number }>(database.db, sql`select reltuples as n from pg_class where relname = 'registrations'`))[0]!.n);

  it('analyzes a table once its row count moved by more than 50 and a fifth, then not again until it moves as much again', async () => {
    await analyzeChangedTables(database.db); // whatever the migrations left
    await register(40);
    expect(await analyzeChangedTables(database.db)).not.toContain('public.registrations');
    await register(40); // 80 rows, more than 50 + 20 % of 0
    expect(await analyzeChangedTables(database.db)).toContain('public.registrations');
    expect(await reltuples()).toBe(80);
    expect(await analyzeChangedTables(database.db)).not.toContain('public.registrations');
    await register(60); // 140: 60 more, less than 50 + 20 % of 80
    expect(await analyzeChangedTables(database.db)).not.toContain('public.registrations');
    await register(10); // 150: 70 more
    expect(await analyzeChangedTables(database.db)).toContain('public.registrations');
    expect(await reltuples()).toBe(150);
  });

  it('leaves a table alone that turns over at a steady size (a queue)', async () => {
    await analyzeChangedTables(database.db);
    const before = await reltuples();
    // 500 rows in and 500 out: many changes, the same count.
    await register(500);
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`delete from registrations where subject in (select 'S' || i from generate_series(${registered - 499}::int, ${registered}::int) as i)`);
      await tx.execute(sql`select pg_stat_force_next_flush()`);
    });
    registered -= 500;
    expect(await analyzeChangedTables(database.db)).not.toContain('public.registrations');
    expect(await reltuples()).toBe(before);
  });

  it('is a job of the hub\'s background work, logged with the tables it analyzed', async () => {
    const lines: { event: string; fields?: LogFields }[] = [];
    await register(100);
    const stop = startBackgroundWork(database, await testHubConfig(), () => NOW, { integrateMs: 600_000, checkpointMs: 600_000, purgeMs: 600_000, analyzeMs: 20 }, (_, event, fields) =>
      lines.push({ event, ...(fields ? { fields } : {}) }),
    );
    try {
      await expect.poll(() => lines.find((l) => l.event === 'db.analyzed')?.fields?.tables, { timeout: 10_000 }).toContain('public.registrations');
    } finally {
      await stop();
    }
    expect(await reltuples()).toBe(registered);
    expect(lines.filter((l) => l.event === 'job.failed')).toEqual([]);
  });
});
