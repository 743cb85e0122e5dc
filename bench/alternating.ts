// Alternating phases on one database, seconds apart, so that whatever else runs on the (shared)
// machine disturbs all of them alike; compare ratios within a round, not absolute numbers:
//   pgbench     PostgreSQL itself doing the lookup's work: the same select and the same audit insert
//               with the jti claim, two prepared statements per lookup, as the hub sends them
//               (p50 column: pgbench's average latency)
//   pgbench-rate the same, throttled (-R) to the rate the hub reached in this round's lookup phase
//               (1,000/s when that phase did not run)
//   data-access the hub's own lookup select and claiming append (findActive, appendAudit on its driver),
//               called from this process: no HTTP, token, covenant or receipt
//   lookup      the hub (one process), single lookups over HTTP
//   family      the hub, family lookups of households of 4 (counted in subjects)
//   floor       a bare Hono app on @hono/node-server: ES256 verify with jose + JSON, no database
//   floor-read  the same, with the body read before the adapter, as the hub serves (withBodyRead)
//   floor-http  the same handler on plain node:http (the difference is the adapter's cost)
//   workers2    the hub as `kenbaar serve --workers 2`, single lookups
// Both hubs run the production build (`node dist/node/cli.js serve`, built first by scripts/build.js),
// as a deployment runs them; their log lines go to a pipe this process reads and discards.
// Then, once: the sequencer and `audit verify` over the seeded log (entries/s).
// Usage: npx tsx bench/alternating.ts [--registrations 200000] [--seconds 5] [--rounds 2] [--clients 16]
//          [--phases pgbench,lookup,...] [--profile <dir>: V8 CPU profiles of the one-process hub]
//          [--compare <root>,...: also a lookup phase per round on the build in each other checkout's
//           dist/node (e.g. the code before a change), for A/B ratios under the same disturbance]
//          [--client lean|node: the HTTP load generator, ./lean-http.ts (default) or node:http's client]
//          [--compare-node-args="<flags>": Node flags for the compared hubs, e.g. "--max-semi-space-size=32"
//           with --compare . to compare this build with itself under other V8 settings]
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { appendAudit, integrateAll } from '../src/audit/store';
import { LeanHttpClient } from './lean-http';
import { openPgPool } from '../src/db/postgres';
import { storedSubject } from '../src/pseudonym/hub-key';
import { findActive } from '../src/registrations/repo';
import { verifyAuditLog } from '../src/audit/verify';
import { openDatabase } from '../src/node/database';
import {
  cpuMeter,
  createBenchDatabase,
  fmt,
  fmtInt,
  HttpClient,
  hubEnv,
  loadBenchCovenant,
  machine,
  main,
  makeKeys,
  markdownTable,
  onCleanup,
  processCpu,
  partnerPseudonymOf,
  presign,
  ROOT,
  seed,
  sleep,
  spawnHub,
  spawnServe,
  summarise,
  tempDir,
  writeResults,
  type CpuUse,
} from './support';

const { values: args } = parseArgs({
  options: {
    registrations: { type: 'string', default: '200000' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    clients: { type: 'string', default: '16' },
    phases: { type: 'string' },
    profile: { type: 'string' },
    compare: { type: 'string' },
    'compare-node-args': { type: 'string', default: '' },
    client: { type: 'string', default: 'lean' },
  },
});
const PHASES = args.phases ? new Set(args.phases.split(',')) : undefined;
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const PURPOSE = 'procesregie-casus-op-maat';

type Result = { phase: string; round: number; perSecond: number; unit: string; p50: number; p99: number; cpuMs: { client: number; hub: number; postgres: number; others: number }; machineBusy: number; load1: number };

const per = (cpu: CpuUse, n: number) => ({
  client: (1000 * cpu.clientSeconds) / n,
  hub: (1000 * cpu.hubSeconds) / n,
  postgres: (1000 * cpu.postgresSeconds) / n,
  others: (1000 * cpu.otherSeconds) / n,
});

/** `clients` loops over pre-built requests for SECONDS (after a 1 s warm-up); latencies per request. */
async function drive(clients: number, op: (i: number) => Promise<void>, seconds: number) {
  let next = 0;
  const lat: number[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op(next++);
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { done: lat.length, lat };
}

main(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js')], { stdio: 'inherit' });
  const info = await machine();
  const covenant = loadBenchCovenant();
  const dir = await tempDir('alternating');
  const keys = await makeKeys(covenant, dir);
  const db = await createBenchDatabase('alternating');
  console.log(`database ${db.name}; seeding ${fmtInt(Number(args.registrations))} registrations ...`);
  const seeded = await seed(db.url, covenant, keys.hubKeys, Number(args.registrations));
  console.log(`seeded ${fmtInt(seeded.registrations)} registrations of ${fmtInt(seeded.persons)} persons in ${fmt(seeded.seconds)} s`);

  // pgbench's subjects: the stored pseudonyms, numbered, so its script can pick one at random.
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`create table bench_subjects as select row_number() over () as i, subject from (select distinct subject from registrations) s`);
  await admin.query('alter table bench_subjects add primary key (i)');
  const subjects = Number((await admin.query('select count(*) as n from bench_subjects')).rows[0].n);
  await admin.end();
  const script = join(dir, 'lookup.sql');
  // The hub's two statements per lookup (src/registrations/repo.ts ACTIVE_SQL; the audit append with
  // its jti claim, src/audit/store.ts), with a constant detail: PostgreSQL's share of the work.
  writeFileSync(
    script,
    [
      '\\set i random(1, :n)',
      `select id, partner, subject, category, contact, created_at from registrations where subject = any(array(select subject from bench_subjects where i = :i)) and ended_at is null and expires_at > now() and partner <> 'gemeente';`,
      `with claimed as (insert into used_tokens (jti, partner, expires_at) values ('pgbench:' || gen_random_uuid(), 'gemeente', now() + interval '5 minutes') on conflict do nothing returning 1) insert into audit_entries (at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail) select now(), gen_random_uuid()::text, 'gemeente', 'pr', 'procesregisseur', 'lookup', (select subject from bench_subjects where i = :i), '${PURPOSE}', 'PGBENCH', 'allowed', 'P-PR-01', 'v', '{"rules":["P-PR-01"],"knownBy":["politie"],"withheld":[]}'::jsonb where exists (select 1 from claimed);`,
      '',
    ].join('\n'),
  );

  const env = hubEnv(keys, { url: db.url });
  const hub = await spawnServe(env, 1, args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : []);
  const floor = await spawnHub(env, [], ['--adapter', 'hono'], 'floor.ts');
  const floorRead = await spawnHub(env, [], ['--adapter', 'hono-read'], 'floor.ts');
  const floorHttp = await spawnHub(env, [], ['--adapter', 'http'], 'floor.ts');
  const workers = await spawnServe(env, 2);
  const compareNodeArgs = args['compare-node-args'].split(' ').filter(Boolean);
  const others = await Promise.all(
    (args.compare ? args.compare.split(',') : []).map(async (root) => ({
      name: `lookup@${root.split('/').filter(Boolean).at(-1)}${compareNodeArgs.length ? ` ${compareNodeArgs.join(' ')}` : ''}`,
      hub: await spawnServe(env, 1, compareNodeArgs, root),
    })),
  );
  console.log(`hub ${hub.url}; floor ${floor.url}; floor-http ${floorHttp.url}; workers2 ${workers.url} (pids ${workers.pids.join(', ')})`);

  let person = 0;
  const nextPerson = () => (person = (person * 1103515245 + 12345) % seeded.persons);
  let caseNo = 0;
  const signer = keys.signing.get('gemeente')!;
  const tokens = (n: number) => presign(signer, { sub: 'pr-bench', role: 'procesregisseur' }, n);
  const single = async (n: number) => (await tokens(n)).map((token) => ({ token, body: JSON.stringify({ subject: partnerPseudonymOf(nextPerson()), purpose: PURPOSE, caseRef: `B-${++caseNo}` }) }));
  const family = async (n: number) =>
    (await tokens(n)).map((token) => ({ token, body: JSON.stringify({ subjects: [0, 1, 2, 3].map(() => partnerPseudonymOf(nextPerson())), purpose: PURPOSE, caseRef: `F-${++caseNo}` }) }));

  async function httpPhase(name: string, round: number, url: string, pids: number[], path: string, make: (n: number) => Promise<{ token: string; body: string }[]>, unitsPerRequest: number): Promise<Result> {
    const http = args.client === 'node' ? new HttpClient(url, CLIENTS) : new LeanHttpClient(url, CLIENTS);
    const supply = await make(40_000);
    let i = 0;
    const op = async () => {
      const r = supply[i++ % supply.length]!;
      const res = await http.post(path, r.token, r.body);
      if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    };
    await drive(CLIENTS, op, 1);
    const meter = await cpuMeter(db.name, pids);
    const load1 = os.loadavg()[0]!;
    const r = await drive(CLIENTS, op, SECONDS);
    const cpu = await meter.stop();
    http.close();
    if (i > supply.length) throw new Error(`${name}: ran out of fresh tokens`);
    const s = summarise(r.lat);
    const units = r.done * unitsPerRequest;
    return { phase: name, round, perSecond: units / SECONDS, unit: unitsPerRequest > 1 ? 'subjects' : 'lookups', p50: s.p50, p99: s.p99, cpuMs: per(cpu, units), machineBusy: cpu.machineBusy, load1 };
  }

  /** pgbench as fast as it goes, or throttled to `rate` transactions a second (`-R`). */
  async function pgbenchPhase(round: number, rate?: number): Promise<Result> {
    const meter = await cpuMeter(db.name); // the server's shared processes (WAL writer, checkpointer)
    const load1 = os.loadavg()[0]!;
    // pgbench's backends come and go with it, so their CPU is sampled while it runs (every 250 ms;
    // the last sample's time bounds the window it covers). bash's `times`: pgbench's own CPU.
    const watch = new pg.Client({ connectionString: db.url });
    await watch.connect();
    const backends = new Map<number, number>();
    const started = performance.now();
    let sampledAt = started;
    const child = spawn('bash', ['-c', `pgbench -n -c ${CLIENTS} -j 2 -T ${SECONDS}${rate ? ` -R ${Math.round(rate)}` : ''} -M prepared -D n=${subjects} -f ${script} '${db.url}' && times`]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let running = true;
    void exited.then(() => (running = false));
    while (running) {
      const { rows } = await watch.query(`select pid from pg_stat_activity where datname = $1 and application_name = 'pgbench'`, [db.name]);
      for (const { pid } of rows as { pid: number }[]) backends.set(pid, processCpu(pid));
      if (rows.length) sampledAt = performance.now();
      await sleep(250);
    }
    await watch.end();
    if ((await exited) !== 0) throw new Error(`pgbench failed:\n${out}`);
    const cpu = await meter.stop();
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const lat = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
    const times = out.trim().split('\n').slice(-1)[0]!.match(/(\d+)m([\d.]+)s/g)!.map((t) => {
      const [m, sec] = t.split('m');
      return Number(m) * 60 + Number(sec!.replace('s', ''));
    });
    const n = tps * SECONDS;
    const observed = tps * ((sampledAt - started) / 1000);
    const backendSeconds = [...backends.values()].reduce((a, b) => a + b, 0);
    return {
      phase: rate ? 'pgbench at the hub\'s rate' : 'pgbench',
      round,
      perSecond: tps,
      unit: 'lookups',
      p50: lat,
      p99: NaN,
      cpuMs: { hub: 0, postgres: (1000 * backendSeconds) / observed + (1000 * cpu.postgresSeconds) / n, client: (1000 * ((times[0] ?? 0) + (times[1] ?? 0))) / n, others: NaN },
      machineBusy: cpu.machineBusy,
      load1,
    };
  }

  /**
   * The hub's data access alone: its lookup select and its claiming append, through its own driver
   * and functions (findActive, appendAudit on the edge's RawQuery), from this process, without HTTP,
   * tokens, the covenant or receipts. Between pgbench and the hub: what the statements' shape and
   * the driver add to PostgreSQL's CPU per lookup, and what the hub's presence adds on top.
   */
  async function dataAccessPhase(round: number): Promise<Result> {
    const store = openPgPool({ connectionString: db.url, max: CLIENTS });
    const actor = { partner: 'gemeente', sub: 'pr-bench', role: 'procesregisseur' };
    const op = async () => {
      const subject = storedSubject(keys.hubKeys, partnerPseudonymOf(nextPerson()));
      const at = new Date();
      const found = await findActive(store.raw, subject.all, at, actor.partner);
      const detail = { lookupId: crypto.randomUUID(), rules: ['P-PR-01'], knownBy: found.map((f) => f.partner), withheld: [] };
      const ctx = { at, requestId: crypto.randomUUID(), actor, covenantVersion: covenant.version };
      const claim = { jti: crypto.randomUUID(), partner: actor.partner, exp: new Date(at.getTime() + 300_000) };
      await appendAudit(store.raw, ctx, [{ action: 'lookup', outcome: 'allowed', rule: 'P-PR-01', subject: subject.current, purpose: PURPOSE, caseRef: `D-${++caseNo}`, detail }], claim);
    };
    try {
      await drive(CLIENTS, op, 1);
      const meter = await cpuMeter(db.name);
      const load1 = os.loadavg()[0]!;
      const r = await drive(CLIENTS, op, SECONDS);
      const cpu = await meter.stop();
      const s = summarise(r.lat);
      return { phase: 'data access', round, perSecond: r.done / SECONDS, unit: 'lookups', p50: s.p50, p99: s.p99, cpuMs: per(cpu, r.done), machineBusy: cpu.machineBusy, load1 };
    } finally {
      await store.close();
    }
  }

  const untilSequenced = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      while (Number((await c.query('select count(*) as n from audit_pending')).rows[0].n) > 0) await sleep(250);
    } finally {
      await c.end();
    }
  };

  const results: Result[] = [];
  for (let round = 1; round <= Number(args.rounds); round++) {
    const phases: [string, () => Promise<Result>][] = [
      ['pgbench', () => pgbenchPhase(round)],
      ['data-access', () => dataAccessPhase(round)],
      ['lookup', () => httpPhase('lookup', round, hub.url, hub.pids, '/v1/lookups', single, 1)],
      // PostgreSQL's CPU per transaction grows as the rate falls (BENCHMARKS.md, 2026-12-04 18:13):
      // pgbench at the rate the hub just reached is the like-for-like comparison for the hub's.
      ['pgbench-rate', () => pgbenchPhase(round, results.find((r) => r.phase === 'lookup' && r.round === round)?.perSecond ?? 1000)],
      ...others.map((o): [string, () => Promise<Result>] => ['lookup', () => httpPhase(o.name, round, o.hub.url, o.hub.pids, '/v1/lookups', single, 1)]),
      ['family', () => httpPhase('family of 4', round, hub.url, hub.pids, '/v1/lookups/family', family, 4)],
      ['floor', () => httpPhase('floor (hono)', round, floor.url, [floor.pid], '/v1/lookups', single, 1)],
      ['floor-read', () => httpPhase('floor (hono, body read first)', round, floorRead.url, [floorRead.pid], '/v1/lookups', single, 1)],
      ['floor-http', () => httpPhase('floor (node:http)', round, floorHttp.url, [floorHttp.pid], '/v1/lookups', single, 1)],
      ['workers2', () => httpPhase('workers2 lookup', round, workers.url, workers.pids, '/v1/lookups', single, 1)],
    ];
    for (const [key, phase] of phases) {
      if (PHASES && !PHASES.has(key)) continue;
      const r = await phase();
      // pgbench's audit rows are sequenced by the hub; let that finish before the next phase, or the
      // hub's CPU per lookup would carry the sequencing of another phase's entries.
      await untilSequenced();
      results.push(r);
      console.log(
        `round ${round} ${r.phase.padEnd(18)} ${fmtInt(r.perSecond).padStart(6)} ${r.unit}/s  p50 ${fmt(r.p50, 2)} p99 ${fmt(r.p99, 2)} ms  CPU ms/${r.unit.slice(0, -1)}: hub ${fmt(r.cpuMs.hub, 3)} pg ${fmt(r.cpuMs.postgres, 3)} loadgen ${fmt(r.cpuMs.client, 3)} others ${fmt(r.cpuMs.others, 3)}  machine ${fmt(100 * r.machineBusy, 0)} %  load1 ${fmt(r.load1, 1)}`,
      );
      await sleep(500);
    }
  }
  await Promise.all([hub.stop(), floor.stop(), floorRead.stop(), floorHttp.stop(), workers.stop(), ...others.map((o) => o.hub.stop())]);

  // The sequencer and the verifier over the whole log: every entry is queued and sequenced again from
  // scratch (the seeded ones' placeholder hashes replaced by real ones), then verified. The seeded
  // entries were written by SQL without a leaf hash, so the sequencer hashes those itself (the path
  // of entries written before migration 0011); the hub's own come with theirs.
  const database = await openDatabase({ url: db.url, max: 2 });
  const reset = new pg.Client({ connectionString: db.url });
  await reset.connect();
  await reset.query(`set session_replication_role = replica`); // past the append-only triggers, as a superuser
  await reset.query('truncate audit_log');
  await reset.query('insert into audit_pending (entry_id, leaf_hash) select id, leaf_hash from audit_entries on conflict do nothing');
  await reset.query('delete from log_head');
  await reset.query('delete from log_subtrees');
  await reset.query('delete from checkpoints');
  await reset.query('vacuum analyze audit_entries, audit_log, audit_pending');
  const entries = Number((await reset.query('select count(*) as n from audit_entries')).rows[0].n);
  await reset.end();
  let t0 = performance.now();
  await integrateAll(database.db, new Date());
  const sequencerPerSecond = entries / ((performance.now() - t0) / 1000);
  t0 = performance.now();
  const report = await verifyAuditLog(database.db, []);
  const verifyPerSecond = report.entries / ((performance.now() - t0) / 1000);
  await database.close();
  if (!report.ok) throw new Error(`audit verify found problems: ${JSON.stringify(report.problems.slice(0, 3))}`);
  console.log(`sequencer ${fmtInt(sequencerPerSecond)} entries/s; audit verify ${fmtInt(verifyPerSecond)} entries/s (${fmtInt(report.entries)} entries)`);

  const missing: Result = { phase: '', round: 0, perSecond: NaN, unit: '', p50: NaN, p99: NaN, cpuMs: { client: NaN, hub: NaN, postgres: NaN, others: NaN }, machineBusy: NaN, load1: NaN };
  const byRound = (phase: string, round: number) => results.find((r) => r.phase === phase && r.round === round) ?? missing;
  const rounds = [...new Set(results.map((r) => r.round))];
  const ratios = rounds.map((round) => {
    const pgb = byRound('pgbench', round);
    const look = byRound('lookup', round);
    const fam = byRound('family of 4', round);
    const fl = byRound('floor (hono)', round);
    const flh = byRound('floor (node:http)', round);
    const w2 = byRound('workers2 lookup', round);
    return {
      round,
      servicePerPgbench: look.perSecond / pgb.perSecond,
      hubCpuAboveFloorMs: look.cpuMs.hub - fl.cpuMs.hub,
      adapterCpuMs: fl.cpuMs.hub - flh.cpuMs.hub,
      adapterWithBodyReadCpuMs: byRound('floor (hono, body read first)', round).cpuMs.hub - flh.cpuMs.hub,
      familySubjectsPerSingle: fam.perSecond / look.perSecond,
      workers2PerOne: w2.perSecond / look.perSecond,
      compared: others.map((o) => ({ build: o.name, perSecondOfThis: byRound(o.name, round).perSecond / look.perSecond, hubCpuMinusThisMs: byRound(o.name, round).cpuMs.hub - look.cpuMs.hub })),
    };
  });
  const table = markdownTable(
    ['round', 'phase', 'per s', 'p50 ms', 'p99 ms', 'CPU ms hub', 'CPU ms PostgreSQL', 'CPU ms load generator', 'CPU ms others', 'machine busy', 'load1'],
    results.map((r) => [r.round, `${r.phase} (${r.unit})`, fmtInt(r.perSecond), fmt(r.p50, 2), fmt(r.p99, 2), fmt(r.cpuMs.hub, 3), fmt(r.cpuMs.postgres, 3), fmt(r.cpuMs.client, 3), fmt(r.cpuMs.others, 3), `${fmt(100 * r.machineBusy, 0)} %`, fmt(r.load1, 1)]),
  );
  const ratioTable = markdownTable(
    ['round', 'lookup / pgbench', 'hub CPU above floor, ms/lookup', 'adapter CPU (hono - node:http), ms/req', 'the same, body read first', 'family subjects/s ÷ single lookups/s', 'workers2 ÷ one'],
    ratios.map((r) => [r.round, fmt(r.servicePerPgbench, 2), fmt(r.hubCpuAboveFloorMs, 3), fmt(r.adapterCpuMs, 3), fmt(r.adapterWithBodyReadCpuMs, 3), fmt(r.familySubjectsPerSingle, 2), fmt(r.workers2PerOne, 2)]),
  );
  const compareTable = others.length
    ? markdownTable(
        ['round', 'other build', 'its lookups/s ÷ this build\'s', 'its hub CPU − this build\'s, ms/lookup'],
        ratios.flatMap((r) => r.compared.map((o) => [r.round, o.build, fmt(o.perSecondOfThis, 2), fmt(o.hubCpuMinusThisMs, 3)])),
      )
    : '';
  console.log(`\n${table}\n\n${ratioTable}\n\n${compareTable}\n`);
  const path = writeResults('alternating', { benchmark: 'alternating', machine: info, setup: { ...args, subjects, seeded }, results, ratios, sequencerPerSecond, verifyPerSecond, verifiedEntries: report.entries, tables: { table, ratioTable, compareTable } });
  console.log(`results: ${path}`);
});
