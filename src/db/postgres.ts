// The PostgreSQL driver both edges share (src/node/database.ts, src/worker/database.ts): node-postgres
// (`pg`) behind drizzle-orm/node-postgres, with bounded waits and (unless `prepare: false`, as the
// Worker asks) per-connection prepared statements.
// Imported only by the two edges; the core sees a drizzle `Db` (src/db/types.ts).
//
// Why pg and not postgres.js: postgres.js (up to 3.4.9, the newest release) can throw from a
// `setImmediate` after a connection closed (`socket.write` on null, porsager/postgres #1154, #1208;
// the fixes are unmerged PRs), an exception no caller can catch, so a database outage under load
// killed the hub. In pg every connection failure reaches the query that was waiting for it; the
// remaining 'error' events are handled below.
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from '../../schema/index';
import type { Db, RawQuery, RawValues } from './types';

/** How long anything may wait on the database, in milliseconds. Documented in README and ARCHITECTURE. */
export type DbTimeouts = {
  /** Opening a connection, and waiting for a free one in the pool. */
  connectMs: number;
  /** One statement, enforced by the server (SQLSTATE 57014); the client gives up `statementMs + 5 s` later. 0: no limit (migrations). */
  statementMs: number;
  /** A transaction left idle, enforced by the server (its locks are released). */
  idleInTransactionMs: number;
};

export const DEFAULT_DB_TIMEOUTS: DbTimeouts = { connectMs: 5_000, statementMs: 20_000, idleInTransactionMs: 30_000 };

/** Grace the client adds to the server's statement timeout before it gives up on a silent server. */
const CLIENT_GRACE_MS = 5_000;

/** At most this many distinct statement texts are prepared per process; others run unnamed. */
const MAX_PREPARED = 500;

export type PgOptions = {
  connectionString: string;
  max: number;
  timeouts?: Partial<DbTimeouts>;
  /** Name parameterised statements so each is prepared once per connection (default true). */
  prepare?: boolean;
  /** Told once per connection failure outside a query (the query's own error goes to its caller). */
  onConnectionError?: (err: unknown) => void;
};

export type PgDatabase = { db: Db; pool: pg.Pool; raw: RawQuery; values: RawValues; close: () => Promise<void> };

/**
 * drizzle sends every query unnamed, so PostgreSQL parses and plans each statement anew. Our
 * parameterised statements are a small fixed set of texts (bulk rows travel as one JSON parameter), so each text
 * gets a stable name and is prepared once per connection; this halves PostgreSQL's CPU per lookup
 * (see BENCHMARKS.md). pg keeps the name -> statement map per connection, so a new connection after
 * an outage prepares again.
 */
function statementNamer() {
  const names = new Map<string, string>();
  return (text: string): string | undefined => {
    let name = names.get(text);
    if (!name && names.size < MAX_PREPARED) {
      name = `k${names.size}`;
      names.set(text, name);
    }
    return name;
  };
}

type QueryConfig = { text: string; name?: string };

export function openPgPool(opts: PgOptions): PgDatabase {
  const t = { ...DEFAULT_DB_TIMEOUTS, ...opts.timeouts };
  const nameFor = opts.prepare === false ? () => undefined : statementNamer();
  const onError = opts.onConnectionError ?? (() => {});

  class Client extends pg.Client {
    #release: ((err?: Error | boolean) => void) | undefined;

    constructor(config: pg.ClientConfig) {
      super(config);
      // A checked-out connection that breaks emits 'error'; unhandled, that would end the process.
      // It goes back to the pool at once, which discards it: drizzle's pool transaction sends BEGIN
      // before its try/finally, so a connection that breaks during BEGIN would never be released,
      // and a few outages would leave the pool with no connections at all.
      this.on('error', (err) => {
        onError(err);
        this.#release?.(err);
      });
    }

    /** Set by the pool at each checkout; made idempotent, since the 'error' handler may release first. */
    get release() {
      return this.#release;
    }
    set release(fn) {
      let done = false;
      this.#release = fn && ((err) => {
        if (done) return;
        done = true;
        fn(err);
      });
    }

    override query(config: unknown, ...rest: unknown[]): never {
      // Only statements with parameters: the rest (BEGIN, COMMIT, migrations' DDL) gain nothing.
      const values = rest[0];
      if (Array.isArray(values) && values.length > 0 && config && typeof config === 'object' && typeof (config as QueryConfig).text === 'string' && !(config as QueryConfig).name) {
        const name = nameFor((config as QueryConfig).text);
        if (name) config = { ...(config as object), name };
      }
      return (super.query as (...a: unknown[]) => never)(config, ...rest);
    }
  }

  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max,
    Client: Client as unknown as typeof pg.Client,
    connectionTimeoutMillis: t.connectMs,
    statement_timeout: t.statementMs,
    idle_in_transaction_session_timeout: t.idleInTransactionMs,
    ...(t.statementMs > 0 ? { query_timeout: t.statementMs + CLIENT_GRACE_MS } : {}),
    keepAlive: true,
  });
  // An idle pooled connection that breaks (the server shut down) is reported here and discarded.
  pool.on('error', onError);
  const db = drizzle(pool, { schema }) as unknown as Db;
  // The hot paths' fixed statements: named (prepared once per connection), pg's own type parsing;
  // rows as objects (raw) or as arrays in column order (values).
  const fixed = (text: string, params: readonly unknown[]) => ({ text, values: params as unknown[], ...(params.length ? { name: nameFor(text) } : {}) });
  const raw: RawQuery = async <T>(text: string, params: readonly unknown[]) => (await pool.query(fixed(text, params))).rows as T[];
  const values: RawValues = async (text, params) => (await pool.query<unknown[]>({ ...fixed(text, params), rowMode: 'array' })).rows;
  return { db, pool, raw, values, close: () => pool.end() };
}
