// `kenbaar audit verify` and the sequencer on PostgreSQL, in this process, and where the verifier's
// time goes: N lookup-like entries (with a lookup's detail) written in SQL, sequenced by the real
// sequencer (integrateAll), then verified (verifyAuditLog) `--rounds` times; for each round the wall
// time, this process's CPU and PostgreSQL's. Then the verifier's parts on their own: reading the
// pages (readSequencedLeaves), and rehashing them (entryLeafHash + the tree). Each round verifies
// twice, in turn: in this thread, and with the entries read and hashed by `--threads` worker threads
// (src/node/audit-hash-pool.ts, as `kenbaar audit verify` on PostgreSQL does; their CPU counts as
// this process's). The machine's busy share and the CPU of other processes say how quiet it was.
// Last, the command itself: `kenbaar audit verify` from the production build (dist/, `npm run
// build`), timed from its start to its exit, process start and pool start included.
// Usage: npx tsx bench/verify.ts [--entries 300000] [--rounds 3] [--threads N]
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { entryLeafHash, type LeafEntry } from '../src/audit/entry';
import { appendLeaves } from '../src/audit/merkle';
import { integrateAll, readSequencedLeaves } from '../src/audit/store';
import { verifyAuditLog, type LeafSource } from '../src/audit/verify';
import { defaultHashThreads, startHashPool } from '../src/node/audit-hash-pool';
import { openDatabase } from '../src/node/database';
import { seedLookupEntries } from './audit-seed';
import { cpuMeter, createBenchDatabase, fmt, fmtInt, loadBenchCovenant, machine, main, markdownTable, ROOT, tempDir, writeResults } from './support';

const { values: args } = parseArgs({
  options: { entries: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: String(defaultHashThreads()) } },
});
const ENTRIES = Number(args.entries);
const THREADS = Number(args.threads);
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

main(async () => {
  const covenant = loadBenchCovenant();
  const bench = await createBenchDatabase('verify');
  const database = await openDatabase({ url: bench.url, max: 4 });
  const db = database.db;
  await seedLookupEntries(db, covenant.version, ENTRIES);
  const seqMeter = await cpuMeter(bench.name);
  const s0 = cpuUs();
  let t0 = performance.now();
  await integrateAll(db, new Date());
  const sequencerPerSecond = ENTRIES / ((performance.now() - t0) / 1000);
  const seqCpu = await seqMeter.stop();
  const sequencer = { perSecond: sequencerPerSecond, usPerEntry: (cpuUs() - s0) / ENTRIES, postgresUsPerEntry: (1e6 * seqCpu.postgresSeconds) / ENTRIES };
  console.log(`sequencer: ${fmtInt(sequencerPerSecond)} entries/s, this process ${fmt(sequencer.usPerEntry, 2)} µs/entry, PostgreSQL ${fmt(sequencer.postgresUsPerEntry, 2)} µs/entry`);

  const rows: (string | number)[][] = [];
  const rounds: Record<string, number | string>[] = [];
  const verifyRound = async (round: number, how: string, leaves?: LeafSource) => {
    const meter = await cpuMeter(bench.name);
    const c0 = cpuUs();
    const t = performance.now();
    const report = await verifyAuditLog(db, [], undefined, undefined, leaves);
    const seconds = (performance.now() - t) / 1000;
    const cpu = await meter.stop();
    if (!report.ok || report.entries !== ENTRIES) throw new Error(`verify: ${JSON.stringify(report).slice(0, 300)}`);
    const r = { how, round, perSecond: ENTRIES / seconds, verifierUsPerEntry: (cpuUs() - c0) / ENTRIES, postgresUsPerEntry: (1e6 * cpu.postgresSeconds) / ENTRIES, machineBusy: cpu.machineBusy, otherSeconds: cpu.otherSeconds, load1: os.loadavg()[0]! };
    rounds.push(r);
    rows.push([how, round, fmtInt(r.perSecond), fmt(r.verifierUsPerEntry, 2), fmt(r.postgresUsPerEntry, 2), `${fmt(100 * r.machineBusy, 0)} %`, fmt(r.otherSeconds, 1), fmt(r.load1, 1)]);
    console.log(
      `verify ${how} round ${round}: ${fmtInt(r.perSecond)} entries/s, verifier ${fmt(r.verifierUsPerEntry, 2)} µs/entry, PostgreSQL ${fmt(r.postgresUsPerEntry, 2)} µs/entry; machine ${fmt(100 * r.machineBusy, 0)} % busy, other processes ${fmt(r.otherSeconds, 1)} s CPU in ${fmt(seconds, 1)} s`,
    );
  };
  // The pool is started outside the timed rounds, as the command starts it before verifying. The
  // two verifiers take turns, so that what else the machine runs weighs on both alike.
  const pool = await startHashPool(bench.url, THREADS);
  try {
    for (let round = 1; round <= Number(args.rounds); round++) {
      await verifyRound(round, 'in this thread');
      await verifyRound(round, `${THREADS} worker threads`, pool.leaves);
    }
  } finally {
    await pool.close();
  }

  // The parts: reading every page, then hashing what was read.
  let c0 = cpuUs();
  t0 = performance.now();
  const pages: LeafEntry[][] = [];
  for (let after = -1; ; ) {
    const page = await readSequencedLeaves(db, after, 10_000);
    if (page.length === 0) break;
    pages.push(page);
    after = page[page.length - 1]!.seq as number;
  }
  const read = { seconds: (performance.now() - t0) / 1000, usPerEntry: (cpuUs() - c0) / ENTRIES };
  c0 = cpuUs();
  t0 = performance.now();
  let frontier: ReturnType<typeof appendLeaves> = [];
  let size = 0;
  for (const page of pages) {
    const hashes = page.map((e) => entryLeafHash(e, e.seq as number));
    frontier = appendLeaves(frontier, size, hashes);
    size += hashes.length;
  }
  const hash = { seconds: (performance.now() - t0) / 1000, usPerEntry: (cpuUs() - c0) / ENTRIES };
  console.log(`parts: reading ${fmt(read.usPerEntry, 2)} µs/entry CPU (${fmt(read.seconds)} s); rehashing ${fmt(hash.usPerEntry, 2)} µs/entry (${fmt(hash.seconds)} s)`);
  await database.close();

  // The command, as an operator runs it (no checkpoints here: an empty JWKS; the report must be clean).
  let command: { seconds: number; perSecond: number } | null = null;
  const cli = join(ROOT, 'dist', 'node', 'cli.js');
  if (existsSync(cli)) {
    const jwks = join(await tempDir('verify'), 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: [] }));
    t0 = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, [cli, 'audit', 'verify', '--json', '--jwks', jwks, '--threads', String(THREADS)], {
      env: { ...process.env, DATABASE_URL: bench.url },
      maxBuffer: 1 << 24,
    });
    const seconds = (performance.now() - t0) / 1000;
    const report = JSON.parse(stdout) as { ok: boolean; entries: number };
    if (!report.ok || report.entries !== ENTRIES) throw new Error(`kenbaar audit verify: ${stdout.slice(0, 300)}`);
    command = { seconds, perSecond: ENTRIES / seconds };
    console.log(`kenbaar audit verify --threads ${THREADS}: ${fmtInt(command.perSecond)} entries/s (${fmt(seconds, 1)} s from start to exit)`);
  } else {
    console.log('kenbaar audit verify: not timed (no dist/node/cli.js: npm run build)');
  }

  const table = markdownTable(['verifier', 'round', 'entries/s', 'verifier CPU µs/entry', 'PostgreSQL CPU µs/entry', 'machine busy', 'others CPU s', 'load1'], rows);
  console.log(`\n${table}\n`);
  const path = writeResults('verify', { benchmark: 'verify', machine: await machine(), entries: ENTRIES, threads: THREADS, sequencer, rounds, parts: { read, hash }, command, tables: { table } });
  console.log(`results: ${path}`);
});
