// The planner's statistics, kept by the hub itself where nothing else keeps them (a server with
// autovacuum off, PGlite). The hub prepares each statement once per connection, and PostgreSQL keeps
// a prepared statement's generic plan until a table it reads is analyzed: a plan made on a fresh
// database, for a table of twenty rows, is a sequential scan, and it stayed one at a million rows
// (test/plan.test.ts). ANALYZE invalidates those plans; re-analyzing each table before it has grown
// (or shrunk) by more than a fifth bounds how far a plan can lag behind the table it reads.
import { sql } from 'drizzle-orm';
import { rowsOf, type Queryable } from './types';

/**
 * ANALYZE the tables whose row count moved by more than 50 + 20 % of the count their last ANALYZE
 * saw. The count, not the changes: a queue (audit_pending) or the token store turns over all day at
 * a steady size, and its plans do not go stale. Where autovacuum runs it usually comes first (it counts
 * changes, from 50 + 10 %), and this finds nothing. Only tables the hub's role may analyze (it owns
 * them, having migrated them): another owner's would be skipped with a warning, and asked for again
 * every run. Returns the tables analyzed, schema-qualified.
 */
export async function analyzeChangedTables(q: Queryable): Promise<string[]> {
  const changed = await rowsOf<{ name: string }>(
    q,
    sql`select format('%I.%I', s.schemaname, s.relname) as name
          from pg_stat_user_tables s join pg_class c on c.oid = s.relid
         where abs(s.n_live_tup - greatest(c.reltuples, 0)) > 50 + 0.2 * greatest(c.reltuples, 0)
           and pg_has_role(c.relowner, 'USAGE')
         order by s.schemaname, s.relname`,
  );
  // Quoted by format('%I'), from the catalog: never input.
  for (const { name } of changed) await q.execute(sql.raw(`analyze ${name}`));
  return changed.map((t) => t.name);
}
