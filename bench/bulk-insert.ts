// Micro-benchmark behind improvement 1 in BENCHMARKS.md: what writing 10,000 rows costs the hub's
// Node process when drizzle builds multi-row VALUES statements (one bind parameter per value, 3,000
// rows per statement: how appendAudit and upsertRegistrations first wrote), against the hub's own
// appendAudit and upsertRegistrations now (one statement, the rows as one JSON parameter).
// Same rows, same table, same transaction shape; PostgreSQL.
// Usage: tsx bench/bulk-insert.ts [--rows 10000] [--reps 5]
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { appendAudit } from '../src/audit/store';
import type { AuditInput } from '../src/audit/entry';
import { auditEntries, registrations } from '../schema/index';
import type { Queryable } from '../src/db/types';
import { openDatabase } from '../src/node/database';
import { upsertRegistrations, type NewRegistration } from '../src/registrations/repo';
import { createBenchDatabase, fmt, main, markdownTable, writeResults } from './support';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, reps: { type: 'string', default: '5' } } });
const ROWS = Number(args.rows);
const REPS = Number(args.reps);
/** Rows per VALUES statement in the baseline: under PostgreSQL's 65,535 bind parameters. */
const CHUNK = 3000;

const ctx = { at: new Date(), requestId: 'bulk-bench', actor: { partner: 'politie', sub: 'politie-bench', role: 'partner-system' }, covenantVersion: 'bench' };

function registrationRows(rep: number): NewRegistration[] {
  const now = new Date();
  return Array.from({ length: ROWS }, (_, i) => ({
    id: crypto.randomUUID(),
    partner: 'politie',
    subject: `bulk-${rep}-${i}-${crypto.randomUUID()}`.slice(0, 43),
    keyVersion: 1,
    category: 'politie-betrokkenheid',
    contact: { function: 'Wijkagent Veenstreek-Zuid', phone: '+31 50 123 45 67' },
    reference: `POL-${rep}-${i}`,
    registeredBy: 'politie-bench',
    createdAt: now,
    expiresAt: new Date(now.getTime() + 365 * 86_400_000),
  }));
}

function auditInputs(regs: NewRegistration[]): AuditInput[] {
  return regs.map((r) => ({
    action: 'registration.create',
    outcome: 'allowed',
    rule: 'R-POLITIE',
    subject: r.subject,
    caseRef: r.reference ?? null,
    detail: { registrationId: r.id, category: r.category, expiresAt: r.expiresAt.toISOString() },
  }));
}

/** The baseline: audit rows through drizzle's multi-row VALUES, as appendAudit first did. */
async function appendAuditValues(q: Queryable, inputs: AuditInput[]): Promise<void> {
  const rows = inputs.map((i) => ({
    at: ctx.at,
    requestId: ctx.requestId,
    actorPartner: ctx.actor.partner,
    actorSub: ctx.actor.sub,
    actorRole: ctx.actor.role,
    action: i.action,
    subject: i.subject ?? null,
    purpose: i.purpose ?? null,
    caseRef: i.caseRef ?? null,
    outcome: i.outcome,
    rule: i.rule ?? null,
    covenantVersion: ctx.covenantVersion,
    detail: i.detail ?? null,
  }));
  for (let i = 0; i < rows.length; i += CHUNK) await q.insert(auditEntries).values(rows.slice(i, i + CHUNK));
}

/** The baseline: registration upserts through drizzle's multi-row VALUES (same conflict rule, same RETURNING). */
async function upsertRegistrationsValues(q: Queryable, regs: NewRegistration[]) {
  const out: unknown[] = [];
  for (let i = 0; i < regs.length; i += CHUNK) {
    out.push(
      ...(await q
        .insert(registrations)
        .values(regs.slice(i, i + CHUNK))
        .onConflictDoUpdate({
          target: [registrations.partner, registrations.subject, registrations.category],
          targetWhere: sql`ended_at is null`,
          set: { contact: sql`excluded.contact`, reference: sql`excluded.reference`, expiresAt: sql`excluded.expires_at`, registeredBy: sql`excluded.registered_by` },
        })
        .returning({ id: registrations.id, inserted: sql<boolean>`(xmax = 0)` })),
    );
  }
  return out;
}

main(async () => {
  const bench = await createBenchDatabase('bulk');
  const database = await openDatabase({ url: bench.url, max: 2 });
  try {
    type Variant = { name: string; run: (rep: number) => Promise<void> };
    const variants: Variant[] = [
      { name: 'audit: drizzle VALUES (first version)', run: async (rep) => database.db.transaction((tx) => appendAuditValues(tx, auditInputs(registrationRows(rep)))) },
      { name: 'audit: appendAudit (one JSON parameter)', run: async (rep) => { await database.db.transaction((tx) => appendAudit(tx, ctx, auditInputs(registrationRows(rep)))); } },
      {
        name: 'registrations: drizzle VALUES (first version)',
        run: async (rep) => {
          const out = await database.db.transaction((tx) => upsertRegistrationsValues(tx, registrationRows(rep)));
          if (out.length !== ROWS) throw new Error('upsert lost rows');
        },
      },
      {
        name: 'registrations: upsertRegistrations (one JSON parameter)',
        run: async (rep) => {
          const out = await database.db.transaction((tx) => upsertRegistrations(tx, registrationRows(rep)));
          if (out.length !== ROWS) throw new Error('upsert lost rows');
        },
      },
    ];
    const samples = new Map<string, { wall: number[]; cpu: number[] }>(variants.map((v) => [v.name, { wall: [], cpu: [] }]));
    let rep = 0;
    // One warm-up round, then REPS rounds, the variants interleaved so drift hits them alike.
    for (let round = -1; round < REPS; round++) {
      for (const v of variants) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await v.run(rep++);
        const wall = performance.now() - t0;
        const c = process.cpuUsage(c0);
        if (round >= 0) {
          samples.get(v.name)!.wall.push(wall);
          samples.get(v.name)!.cpu.push((c.user + c.system) / 1000);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rows = variants.map((v) => {
      const s = samples.get(v.name)!;
      return { variant: v.name, wallMs: median(s.wall), nodeCpuMs: median(s.cpu), rowsPerSecond: ROWS / (median(s.wall) / 1000) };
    });
    const table = markdownTable(
      [`${ROWS.toLocaleString('en-US')} rows, median of ${REPS}`, 'wall ms', 'Node CPU ms', 'rows/s'],
      rows.map((r) => [r.variant, fmt(r.wallMs, 0), fmt(r.nodeCpuMs, 0), Math.round(r.rowsPerSecond).toLocaleString('en-US')]),
    );
    console.log(`\n${table}\n`);
    console.log(`results: ${writeResults('bulk-insert', { benchmark: 'bulk-insert', rows: ROWS, reps: REPS, results: rows, samples: Object.fromEntries(samples), table })}`);
  } finally {
    await database.close();
  }
});
