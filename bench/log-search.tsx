/** @jsxImportSource hono/jsx */
// The privacy officer's log search over 1,000,000 audit entries on PostgreSQL: by person, by
// professional (and the next page), a subject access report for a person with 1,000 entries, and
// the misuse signals over a day's and a month's log; plus the console's server-side rendering of a
// page of results without the database. Usage: `npm run bench:log-search` (DATABASE_URL picks the
// server); quick trial: `npm run bench:log-search -- --entries 100000`.
import { parseArgs } from 'node:util';
import { searchEntries } from '../src/audit/search';
import type { AuditScope } from '../src/covenant/index';
import { EntriesTable } from '../src/console/fg-routes';
import { Layout } from '../src/console/layout';
import { computeSignals } from '../src/oversight/signals';
import { subjectAccessReport } from '../src/oversight/subject-access';
import { openDatabase } from '../src/node/database';
import { seedAuditLog } from './audit-seed';
import { createBenchDatabase, fmt, fmtInt, loadBenchCovenant, machine, main, markdownTable, summarise, writeResults } from './support';

const { values: args } = parseArgs({ options: { entries: { type: 'string', default: '1000000' }, queries: { type: 'string', default: '300' } } });
const ENTRIES = Number(args.entries);
const QUERIES = Number(args.queries);
const PERSONS = Math.max(1000, Math.floor(ENTRIES / 5));
const PROFESSIONALS = 5000;
const DAY = 86_400_000;
const START = new Date('2026-10-01T00:00:00Z');
/** The log spans 30 days. */
const SPAN = 30 * DAY;
const SAR_PERSON = 'sar-person';
const ALL: AuditScope = { all: true };

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const out = await fn();
  return [performance.now() - t, out];
}

main(async () => {
  const covenant = loadBenchCovenant();
  const bench = await createBenchDatabase('logsearch');
  const database = await openDatabase({ url: bench.url, max: 4 });
  const db = database.db;
  const partners = [...covenant.partners.keys()];
  const t0 = performance.now();
  await seedAuditLog(db, covenant, { entries: ENTRIES, persons: PERSONS, professionals: PROFESSIONALS, start: START, span: SPAN, sarPerson: SAR_PERSON });
  const seedSeconds = (performance.now() - t0) / 1000;

  const rand = (n: number) => Math.floor(Math.random() * n);
  const runs = async (fn: () => Promise<unknown>, n = QUERIES) => {
    for (let i = 0; i < 10; i++) await fn(); // warm
    const ms: number[] = [];
    for (let i = 0; i < n; i++) ms.push((await time(fn))[0]);
    return summarise(ms);
  };
  const byPerson = await runs(() => searchEntries(db, { subjects: [`p-${rand(PERSONS)}`], scope: ALL, limit: 50 }));
  const byProfessional = await runs(() => searchEntries(db, { actorSub: `prof-${rand(PROFESSIONALS)}`, scope: ALL, limit: 50 }));
  const byProfessionalScoped = await runs(() => searchEntries(db, { actorSub: `prof-${rand(PROFESSIONALS)}`, scope: { all: false, partner: partners[0]!, ownRegistrations: false }, limit: 50 }));
  const nextPage = await runs(async () => {
    const sub = `prof-${rand(PROFESSIONALS)}`;
    const first = await searchEntries(db, { actorSub: sub, scope: ALL, limit: 50 });
    return searchEntries(db, { actorSub: sub, beforeId: first[first.length - 1]?.id, scope: ALL, limit: 50 });
  });
  const byCaseAndTime = await runs(() => searchEntries(db, { caseRef: `ZVH-${rand(20000)}`, from: new Date(START.getTime() + 5 * DAY), to: new Date(START.getTime() + 25 * DAY), scope: ALL, limit: 50 }));
  let sarCount = 0;
  const sar = await runs(async () => {
    const rows = (await searchEntries(db, { subjects: [SAR_PERSON], scope: ALL, limit: 10_000 })).reverse();
    sarCount = subjectAccessReport(covenant, rows, new Date(START.getTime() + SPAN)).shown.length;
  }, 30);
  // Signals in SQL (src/oversight/repo.ts): the evidence per signal from the database, then the
  // covenant's thresholds. Timed three times each (the first also warms the caches); each kind of
  // evidence is timed on its own in bench/signals.ts.
  const signalsOver = async (days: number, scope: AuditScope = ALL) => {
    const to = new Date(START.getTime() + SPAN);
    const from = new Date(to.getTime() - days * DAY);
    const ms: number[] = [];
    let found: Awaited<ReturnType<typeof computeSignals>> = [];
    for (let i = 0; i < 3; i++) {
      const [t, signals] = await time(() => computeSignals(db, covenant.oversight, { from, to }, scope));
      ms.push(t);
      found = signals;
    }
    return { days, ms, signals: found.length, entries: found.reduce((n, s) => n + s.entries.length, 0) };
  };
  const signalsDay = await signalsOver(1);
  const signalsMonth = await signalsOver(30);
  const signalsMonthScoped = await signalsOver(30, { all: false, partner: partners[0]!, ownRegistrations: false });
  const page = await searchEntries(db, { scope: ALL, limit: 50 });
  const render = summarise(
    Array.from({ length: 200 }, () => {
      const t = performance.now();
      void String(<Layout title="Logboek">{<EntriesTable cov={covenant} rows={page} who={(s) => s ?? '—'} caption="50" />}</Layout>);
      return performance.now() - t;
    }),
  );
  await database.close();

  const result = { machine: await machine(), entries: ENTRIES, persons: PERSONS, professionals: PROFESSIONALS, seedSeconds, byPerson, byProfessional, byProfessionalScoped, nextPage, byCaseAndTime, sar: { ...sar, entries: sarCount }, signalsDay, signalsMonth, signalsMonthScoped, render };
  const path = writeResults('log-search', result);
  const row = (name: string, s: { p50: number; p99: number }) => [name, fmt(s.p50, 2), fmt(s.p99, 2)];
  console.log(
    [
      `log search over ${fmtInt(ENTRIES)} audit entries (${fmtInt(PERSONS)} persons, ${fmtInt(PROFESSIONALS)} professionals, 30 days), seeded in ${fmt(seedSeconds)} s`,
      markdownTable(['query (50 rows, newest first)', 'p50 ms', 'p99 ms'], [
        row('by person', byPerson),
        row('by professional', byProfessional),
        row("by professional, a partner FG's scope", byProfessionalScoped),
        row('by professional, first + next page', nextPage),
        row('by case reference and time range', byCaseAndTime),
        row(`subject access report (${sarCount} entries)`, sar),
        row('render a page of 50 entries (no database)', render),
      ]),
      '',
      markdownTable(['signals over', 'runs (ms)', 'signals', 'entries cited'], [
        ...[signalsDay, signalsMonth].map((s) => [`${s.days} day(s), whole log`, s.ms.map((m) => fmt(m, 0)).join(' / '), s.signals, fmtInt(s.entries)]),
        [`30 days, one partner's scope`, signalsMonthScoped.ms.map((m) => fmt(m, 0)).join(' / '), signalsMonthScoped.signals, fmtInt(signalsMonthScoped.entries)],
      ]),
      `results: ${path}`,
    ].join('\n'),
  );
});
