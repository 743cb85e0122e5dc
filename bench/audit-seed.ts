// A synthetic audit log for the FG's benchmarks (bench/log-search.tsx, bench/signals.ts): `entries`
// rows spread evenly over `span` ms from `start`, by `professionals` subs across every partner of
// the covenant, 80 % lookups and 20 % registrations, 5 % refused; every 1,000th entry is about
// `sarPerson` (a subject access report of 1,000 entries), the rest about `persons` persons.
// One generate_series insert per 100,000 rows, then VACUUM ANALYZE (what autovacuum does for an
// insert-only table soon after: statistics, and the visibility map that index-only scans need).
import { sql } from 'drizzle-orm';
import type { Covenant } from '../src/covenant/index';
import type { Db } from '../src/db/types';
import { appendAudit } from '../src/audit/store';
import { toBase64, utf8 } from '../src/encoding';
import { sha256 } from '../src/hashing';
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
 * `entries` v2 lookup entries as the hub writes them, not yet sequenced: through appendAudit (a uid,
 * a lookup's detail, the leaf hash given at append, queued for the sequencer), 1,000 per statement,
 * one second apart per statement; then VACUUM ANALYZE. For the sequencer and `audit verify` benches
 * (bench/verify.ts, bench/sequencer-shape.ts).
 */
export async function seedLookupEntries(db: Db, covenantVersion: string, entries: number): Promise<void> {
  const PER = 1_000;
  const start = Date.now() - entries * 1000;
  for (let from = 0; from < entries; from += PER) {
    const n = Math.min(PER, entries - from);
    const ctx = { at: new Date(start + from * 1000), requestId: crypto.randomUUID(), actor: { partner: 'gemeente', sub: `pr-${from % 500}`, role: 'procesregisseur' }, covenantVersion };
    const inputs = Array.from({ length: n }, (_, k) => ({
      action: 'lookup' as const,
      subject: toBase64(sha256(utf8(String(from + k)))),
      purpose: 'procesregie-casus-op-maat',
      caseRef: `ZVH-${(from + k) % 20000}`,
      outcome: 'allowed' as const,
      rule: 'P-PR-01',
      detail: { lookupId: crypto.randomUUID(), rules: ['P-PR-01', 'V-PR-01'], knownBy: ['politie', 'ggz'], withheld: [] },
    }));
    await appendAudit(db, ctx, inputs);
    if ((from + n) % 50_000 === 0 || from + n === entries) process.stderr.write(`\rseeded ${fmtInt(from + n)} audit entries`);
  }
  process.stderr.write('\n');
  await db.execute(sql`vacuum analyze audit_entries, audit_pending`);
}
