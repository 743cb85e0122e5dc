// Node edge: open the embedded database (PGlite, in a data directory) or a PostgreSQL server
// (DATABASE_URL, through node-postgres: src/db/postgres.ts), and apply the generated migrations in
// schema/migrations.
import type { PoolState } from '../observe/scrape';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import { openPgPool, type DbTimeouts } from '../db/postgres';
import type { Db, RawQuery } from '../db/types';
import * as schema from '../../schema/index';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

export type Database = {
  db: Db;
  /** Fixed statements straight to the driver (the lookup's select, readThenLog's entries): see src/db/types.ts. */
  raw: RawQuery;
  kind: 'pglite' | 'postgres';
  close: () => Promise<void>;
  /** The connection pool's state (PostgreSQL only), for the metrics. */
  pool?: () => PoolState;
};

export type DatabaseOptions =
  | { url: string; max?: number; timeouts?: Partial<DbTimeouts>; onConnectionError?: (err: unknown) => void }
  | { dataDir?: string; pglite?: PGlite };

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if ('url' in opts) {
    // Migrations on a connection of their own without the statement timeout: building an index on
    // a large table may take longer than any request should.
    const migrating = openPgPool({ connectionString: opts.url, max: 1, timeouts: { ...opts.timeouts, statementMs: 0 } });
    try {
      await migratePostgres(migrating.db as never, { migrationsFolder: MIGRATIONS_DIR });
    } finally {
      await migrating.close();
    }
    const pg = openPgPool({ connectionString: opts.url, max: opts.max ?? 20, timeouts: opts.timeouts, onConnectionError: opts.onConnectionError });
    const pool = () => ({ total: pg.pool.totalCount, idle: pg.pool.idleCount, waiting: pg.pool.waitingCount });
    return { db: pg.db, raw: pg.raw, kind: 'postgres', close: pg.close, pool };
  }
  const client = opts.pglite ?? new PGlite(opts.dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR });
  const raw: RawQuery = async <T>(text: string, params: readonly unknown[]) => (await client.query<T>(text, params as unknown[])).rows;
  return { db, raw, kind: 'pglite', close: () => client.close() };
}
