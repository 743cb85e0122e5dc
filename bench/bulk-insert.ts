// Micro-benchmark behind a recommendation in BENCHMARKS.md: what writing 10,000 rows costs the hub's
// Node process when drizzle builds multi-row VALUES statements (the hub's appendAudit and
// upsertRegistrations today: one bind parameter per value, 3,000 rows per statement), against one
// statement whose rows travel as a single JSON parameter (jsonb_to_recordset), as the audit
// sequencer already does. Same rows, same table, same transaction shape; PostgreSQL.
// Usage: tsx bench/bulk-insert.ts [--rows 10000] [--reps 5]
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { appendAudit } from '../src/audit/store';
import type { AuditInput } from '../src/audit/entry';
import { rowsOf, type Queryable } from '../src/db/types';
import { openDatabase } from '../src/node/database';
import { upsertRegistrations, type NewRegistration } from '../src/registrations/repo';
import { createBenchDatabase, fmt, main, markdownTable, writeResults } from './support';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '10000' }, reps: { type: 'string', default: '5' } } });
const ROWS = Number(args.rows);
const REPS = Number(args.reps);

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

/** The JSON-parameter alternative for appendAudit: one statement, one parameter. */
async function appendAuditJson(q: Queryable, inputs: AuditInput[]): Promise<void> {
  const rows = inputs.map((i) => ({
    at: ctx.at,
    request_id: ctx.requestId,
    actor_partner: ctx.actor.partner,
    actor_sub: ctx.actor.sub,
    actor_role: ctx.actor.role,
    action: i.action,
    subject: i.subject ?? null,
    purpose: i.purpose ?? null,
    case_ref: i.caseRef ?? null,
    outcome: i.outcome,
    rule: i.rule ?? null,
    covenant_version: ctx.covenantVersion,
    detail: i.detail ?? null,
  }));
  await q.execute(sql`
    insert into audit_entries (at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
    select at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as x(at timestamptz, request_id text, actor_partner text, actor_sub text, actor_role text, action text, subject text, purpose text,
             case_ref text, outcome text, rule text, covenant_version text, detail jsonb)`);
}

/** The JSON-parameter alternative for upsertRegistrations (same conflict rule, same RETURNING). */
async function upsertRegistrationsJson(q: Queryable, regs: NewRegistration[]) {
  const rows = regs.map((r) => ({
    id: r.id,
    partner: r.partner,
    subject: r.subject,
    key_version: r.keyVersion,
    category: r.category,
    contact: r.contact,
    reference: r.reference ?? null,
    registered_by: r.registeredBy,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
  }));
  return rowsOf<{ id: string; subject: string; category: string; inserted: boolean }>(
    q,
    sql`
      insert into registrations (id, partner, subject, key_version, category, contact, reference, registered_by, created_at, expires_at)
      select id, partner, subject, key_version, category, contact, reference, registered_by, created_at, expires_at
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as x(id uuid, partner text, subject text, key_version int, category text, contact jsonb, reference text, registered_by text,
               created_at timestamptz, expires_at timestamptz)
      on conflict (partner, subject, category) where ended_at is null
      do update set contact = excluded.contact, reference = excluded.reference, expires_at = excluded.expires_at, registered_by = excluded.registered_by
      returning id, subject, category, created_at, (xmax = 0) as inserted`,
  );
}

main(async () => {
  const bench = await createBenchDatabase('bulk');
  const database = await openDatabase({ url: bench.url, max: 2 });
  try {
    type Variant = { name: string; run: (rep: number) => Promise<void> };
    const variants: Variant[] = [
      { name: 'audit: appendAudit', run: async (rep) => { await database.db.transaction((tx) => appendAudit(tx, ctx, auditInputs(registrationRows(rep)))); } },
      { name: 'audit: one JSON parameter', run: async (rep) => database.db.transaction((tx) => appendAuditJson(tx, auditInputs(registrationRows(rep)))) },
      {
        name: 'registrations: upsertRegistrations (drizzle VALUES)',
        run: async (rep) => {
          const out = await database.db.transaction((tx) => upsertRegistrations(tx, registrationRows(rep)));
          if (out.length !== ROWS) throw new Error('upsert lost rows');
        },
      },
      {
        name: 'registrations: one JSON parameter',
        run: async (rep) => {
          const out = await database.db.transaction((tx) => upsertRegistrationsJson(tx, registrationRows(rep)));
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
