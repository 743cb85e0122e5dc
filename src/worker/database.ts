// The database in workerd: node-postgres (src/db/postgres.ts, the same driver setup as on Node) over
// the Hyperdrive binding, one small pool per request or cron run. A Worker cannot reuse a socket
// across requests, and Hyperdrive keeps the pooled connections to PostgreSQL on its side, so a
// per-invocation pool is cheap; the caller ends it with `ctx.waitUntil(connection.close())` once the
// invocation's queries are done. The Worker never migrates: see wrangler.toml.
import type { Hyperdrive } from '@cloudflare/workers-types';
import { openPgPool } from '../db/postgres';
import type { Db, RawQuery } from '../db/types';

export type Connection = { db: Db; raw: RawQuery; close: () => Promise<void> };

export function connect(hyperdrive: Hyperdrive): Connection {
  // A Worker invocation may hold at most 6 open connections. Its connections live for one
  // invocation and Hyperdrive pools per transaction: preparing statements would not pay off.
  const { db, raw, close } = openPgPool({ connectionString: hyperdrive.connectionString, max: 5, prepare: false });
  return { db, raw, close };
}
