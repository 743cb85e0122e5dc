// Node edge: open the embedded database (PGlite, in a data directory) or a PostgreSQL server
// (DATABASE_URL), and apply the generated migrations in schema/migrations.
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from '../../schema/index';
import type { Db } from '../db/types';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../schema/migrations', import.meta.url));

export type Database = {
  db: Db;
  kind: 'pglite' | 'postgres';
  close: () => Promise<void>;
};

export type DatabaseOptions =
  | { url: string; max?: number }
  | { dataDir?: string; pglite?: PGlite };

/**
 * drizzle runs every unnamed query through `unsafe(..., { prepare: false })`, so PostgreSQL parses
 * and plans each statement anew. Our statements are a small fixed set of texts (bulk rows travel as
 * one JSON parameter), so letting postgres.js prepare them once per connection is safe, and it
 * halves PostgreSQL's CPU per lookup (see BENCHMARKS.md). Transactions get the same treatment.
 */
function preparing(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (query: string, params?: unknown[], options?: object) => target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (prop === 'begin') {
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: postgres.Sql) => unknown;
          return (target.begin as (...a: unknown[]) => unknown)(...args, (tx: postgres.Sql) => fn(preparing(tx)));
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if ('url' in opts) {
    const client = postgres(opts.url, {
      max: opts.max ?? 20,
      onnotice: () => {},
    });
    const db = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
    await migratePostgres(db as never, { migrationsFolder: MIGRATIONS_DIR });
    return { db, kind: 'postgres', close: () => client.end({ timeout: 5 }) };
  }
  const client = opts.pglite ?? new PGlite(opts.dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  await migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR });
  return { db, kind: 'pglite', close: () => client.close() };
}
