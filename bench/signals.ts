// The misuse signals over 1,000,000 audit entries on PostgreSQL (src/oversight/repo.ts: the evidence
// in SQL on the partial indexes of migration 0010_signals, the thresholds in src/oversight/signals.ts):
// the console's "last day" and "last 30 days", for the house's FG (whole log) and one partner's FG,
// five runs each, with the load average around every run. Usage: `npm run bench:signals`
// (DATABASE_URL picks the server); quick trial: `npm run bench:signals -- --entries 100000`.
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { AuditScope } from '../src/covenant/index';
import { openDatabase } from '../src/node/database';
import { computeSignals } from '../src/oversight/signals';
import { seedAuditLog } from './audit-seed';
import { createBenchDatabase, fmt, fmtInt, loadBenchCovenant, machine, main, markdownTable, summarise, writeResults } from './support';

const { values: args } = parseArgs({ options: { entries: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
const ENTRIES = Number(args.entries);
const RUNS = Number(args.runs);
const DAY = 86_400_000;
const START = new Date('2026-10-01T00:00:00Z');
const SPAN = 30 * DAY;

main(async () => {
  const covenant = loadBenchCovenant();
  const bench = await createBenchDatabase('signals');
  // No statement limit: seeding 100,000 rows a statement on a loaded machine can outlast the 20 s default.
  const database = await openDatabase({ url: bench.url, max: 2, timeouts: { statementMs: 0 } });
  const db = database.db;
  const t0 = performance.now();
  await seedAuditLog(db, covenant, { entries: ENTRIES, persons: Math.max(1000, Math.floor(ENTRIES / 5)), professionals: 5000, start: START, span: SPAN, sarPerson: 'sar-person' });
  const seedSeconds = (performance.now() - t0) / 1000;
  const partner = [...covenant.partners.keys()][0]!;

  const over = async (label: string, days: number, scope: AuditScope) => {
    const to = new Date(START.getTime() + SPAN);
    const from = new Date(to.getTime() - days * DAY);
    const ms: number[] = [];
    const load: number[] = [];
    let signals = 0;
    let cited = 0;
    for (let i = 0; i < RUNS; i++) {
      load.push(os.loadavg()[0]!);
      const t = performance.now();
      const found = await computeSignals(db, covenant.oversight, { from, to }, scope);
      ms.push(performance.now() - t);
      signals = found.length;
      cited = found.reduce((n, s) => n + s.entries.length, 0);
    }
    process.stderr.write(`${label}: ${ms.map((m) => fmt(m, 0)).join(' / ')} ms\n`);
    return { label, days, ms, summary: summarise(ms), signals, cited, load1: load };
  };
  const results = [
    await over('last day, whole log', 1, { all: true }),
    await over('last 30 days, whole log', 30, { all: true }),
    await over(`last day, ${partner}'s FG`, 1, { all: false, partner, ownRegistrations: false }),
    await over(`last 30 days, ${partner}'s FG`, 30, { all: false, partner, ownRegistrations: false }),
  ];
  await database.close();

  const path = writeResults('signals', { machine: await machine(), entries: ENTRIES, seedSeconds, results });
  console.log(
    [
      `misuse signals over ${fmtInt(ENTRIES)} audit entries (30 days), seeded in ${fmt(seedSeconds)} s; ${RUNS} runs each`,
      markdownTable(
        ['signals over', 'min ms', 'median ms', 'max ms', 'signals', 'entries cited', 'load average (1 min) during the runs'],
        results.map((r) => [r.label, fmt(Math.min(...r.ms), 0), fmt(r.summary.p50, 0), fmt(Math.max(...r.ms), 0), r.signals, fmtInt(r.cited), r.load1.map((l) => fmt(l, 1)).join(', ')]),
      ),
      `results: ${path}`,
    ].join('\n'),
  );
});
