// The database in workerd: postgres.js over the Hyperdrive binding, one client per request or cron
// run. A Worker cannot reuse a socket across requests, and Hyperdrive keeps the pooled connections
// to PostgreSQL on its side, so a per-invocation client is cheap; the caller ends it with
// `ctx.waitUntil(connection.close())` once the invocation's queries are done (Cloudflare's
// documented Hyperdrive + postgres.js pattern). The Worker never migrates: see wrangler.toml.
import type { Hyperdrive } from '@cloudflare/workers-types';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from '../../schema/index';
import type { Db } from '../db/types';

export type Connection = { db: Db; close: () => Promise<void> };

export function connect(hyperdrive: Hyperdrive): Connection {
  const sql = postgres(hyperdrive.connectionString, {
    // A Worker invocation may hold at most 6 open connections.
    max: 5,
    // The schema has no array columns; skipping the type lookup saves a round trip per client.
    fetch_types: false,
    onnotice: () => {},
  });
  const db = drizzle(sql, { schema }) as unknown as Db;
  return { db, close: () => sql.end() };
}
