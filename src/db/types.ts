// The database as the core sees it: a drizzle Postgres database, whichever driver is behind it
// (PGlite embedded; node-postgres on Node and over Hyperdrive in workerd: src/db/postgres.ts).
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { sql, type ExtractTablesWithRelations, type SQL } from 'drizzle-orm';
import type * as schema from '../../schema/index';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything that runs queries: the database or an open transaction. */
export type Queryable = Db | Tx;

/**
 * A fixed statement sent as is: constant text with `$n` parameters, rows back, no query building.
 * Injected by the edges (node-postgres on Node names each text, so PostgreSQL prepares it once per
 * connection; PGlite and the Worker send it unnamed). The hot paths use it outside transactions;
 * inside one they go through drizzle with the same text (`statement`).
 */
export type RawQuery = <T>(text: string, params: readonly unknown[]) => Promise<T[]>;

/**
 * A fixed statement whose rows come back as arrays, in the select's column order: no object per
 * row (node-postgres's rowMode 'array'). For reads of many thousands of rows (`audit verify`'s
 * worker threads).
 */
export type RawValues = (text: string, params: readonly unknown[]) => Promise<unknown[][]>;

/**
 * A fixed statement's rows as arrays in column order: from the driver when given RawValues, else
 * each row's values through drizzle (the select must name every column once, none with a name
 * that is an integer, so that an object's values keep the select's order).
 */
export async function statementValues(q: Queryable | RawValues, text: string, params: readonly unknown[]): Promise<unknown[][]> {
  if (typeof q === 'function') return q(text, params);
  return (await statement<Record<string, unknown>>(q, text, params)).map((row) => Object.values(row));
}

/** Run a fixed statement: straight to the driver when given a RawQuery, else through drizzle. */
export async function statement<T>(q: Queryable | RawQuery, text: string, params: readonly unknown[]): Promise<T[]> {
  if (typeof q === 'function') return q<T>(text, params);
  // The same text as a drizzle SQL: its chunks between `$n`, each `$n` bound to params[n - 1].
  const chunks = text.split(/\$(\d+)/);
  const parts: SQL[] = chunks.map((chunk, i) => (i % 2 === 0 ? sql.raw(chunk) : sql`${params[Number(chunk) - 1]}`));
  return rowsOf<T>(q, sql.join(parts));
}

/** A boolean of a raw row, whether the driver parsed it (`true`) or left PostgreSQL's text (`'t'`). */
export const rawBoolean = (v: unknown): boolean => v === true || v === 't';

/** Raw SQL rows (PGlite and node-postgres both answer `{ rows }`). */
export async function rowsOf<T>(q: Queryable, query: SQL): Promise<T[]> {
  const result = (await q.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
