// A synthetic audit log for the FG's benchmarks (bench/log-search.tsx, bench/signals.ts): `entries`
// rows spread evenly over `span` ms from `start`, by `professionals` subs across every partner of
// the covenant, 80 % lookups and 20 % registrations, 5 % refused; every 1,000th entry is about
// `sarPerson` (a subject access report of 1,000 entries), the rest about `persons` persons.
// One generate_series insert per 100,000 rows, then VACUUM ANALYZE (what autovacuum does for an
// insert-only table soon after: statistics, and the visibility map that index-only scans need).
import { sql } from 'drizzle-orm';
import type { Covenant } from '../src/covenant/index';
import type { Db } from '../src/db/types';
import { fmtInt } from './support';

export type AuditSeed = { entries: number; persons: number; professionals: number; start: Date; span: number; sarPerson: string };

export async function seedAuditLog(db: Db, covenant: Covenant, o: AuditSeed): Promise<void> {
  const partners = [...covenant.partners.keys()];
  const CHUNK = 100_000;
  for (let from = 0; from < o.entries; from += CHUNK) {
    const to = Math.min(o.entries, from + CHUNK);
    await db.execute(sql`
      insert into audit_entries (at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
      select ${o.start.toISOString()}::timestamptz + (i * ${o.span / o.entries}::float8) * interval '1 millisecond',
             'r' || i,
             (${`{${partners.join(',')}}`}::text[])[1 + (i % ${partners.length})],
             'prof-' || (i % ${o.professionals}),
             'professional',
             case when i % 10 < 8 then 'lookup' else 'registration.create' end,
             case when i % 1000 = 0 then ${o.sarPerson} else 'p-' || ((i * 7919) % ${o.persons}) end,
             'procesregie-casus-op-maat',
             'ZVH-' || (i % 20000),
             case when i % 20 = 0 then 'denied' else 'allowed' end,
             'V-PR-01',
             ${covenant.version},
             null
        from generate_series(${from}::bigint, ${to - 1}::bigint) as i`);
    process.stderr.write(`\rseeded ${fmtInt(to)} audit entries`);
  }
  await db.execute(sql`vacuum analyze audit_entries`);
  process.stderr.write('\n');
}

/**
 * `entries` v2 lookup entries as the hub writes them (a uid, a lookup's detail), not yet sequenced,
 * one second apart; one generate_series insert per 100,000 rows, then VACUUM ANALYZE. For the
 * sequencer and `audit verify` benches (bench/verify.ts, bench/sequencer-shape.ts).
 */
export async function seedLookupEntries(db: Db, covenantVersion: string, entries: number): Promise<void> {
  for (let from = 0; from < entries; from += 100_000) {
    const to = Math.min(entries, from + 100_000);
    await db.execute(sql`
      insert into audit_entries (uid, at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
      select gen_random_uuid()::text, now() - (i * interval '1 second'), gen_random_uuid()::text, 'gemeente', 'pr-' || (i % 500), 'procesregisseur', 'lookup',
             encode(sha256(i::text::bytea), 'base64'), 'procesregie-casus-op-maat', 'ZVH-' || (i % 20000), 'allowed', 'P-PR-01', ${covenantVersion},
             jsonb_build_object('lookupId', gen_random_uuid()::text, 'rules', jsonb_build_array('P-PR-01', 'V-PR-01'), 'knownBy', jsonb_build_array('politie', 'ggz'), 'withheld', jsonb_build_array())
        from generate_series(${from}::bigint, ${to - 1}::bigint) as i`);
  }
  await db.execute(sql`vacuum analyze audit_entries`);
}
