// Shared machinery of the benchmarks: a throw-away PostgreSQL database, bench-only keys, the hub in
// a child process, a keep-alive HTTP client, fast SQL seeding, statistics and reporting.
// Not part of the app and not run by vitest.
import { defaultLogOrigin } from '../src/config';
import { generateLogKeySecret } from '../src/log/checkpoint';
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { signPartnerToken, type PartnerSigningKey } from '../src/client/token';
import type { Covenant } from '../src/covenant/index';
import { loadCovenantDir } from '../src/node/covenant-fs';
import { openDatabase } from '../src/node/database';
import { generatePartnerKey } from '../src/node/keys';
import { generateHubKeySecret, hubPseudonyms, parseHubKeyring, type HubKeyring } from '../src/pseudonym/hub-key';
import { generateSigningKeySecret } from '../src/signing';
import { toBase64Url, toHex } from '../src/encoding';
import { frontierRoot, nodeHash } from '../src/audit/merkle';
import { TILE_WIDTH } from '../src/log/tiles';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
/** The server the benchmarks create their databases on (the one setting they read). */
export const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const HUB_ID = 'urn:kenbaar:hub:bench';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Cleanup: whatever a run creates (databases, temp dirs, the server process) is undone on normal
// exit, on error and on Ctrl-C.

const cleanups: (() => Promise<void> | void)[] = [];
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.unshift(fn);
}
let cleaning: Promise<void> | undefined;
/** Undo everything, once: a Ctrl-C and the failing main both wait for the same, complete run. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.shift()!;
      try {
        await fn();
      } catch (e) {
        console.error(`cleanup failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Run a benchmark's main, always cleaning up; exit non-zero on failure. */
export function main(fn: () => Promise<void>): void {
  fn()
    .then(cleanup, async (e) => {
      console.error(e instanceof Error ? e.stack ?? e.message : String(e));
      await cleanup();
      process.exitCode = 1;
    })
    .finally(() => setTimeout(() => process.exit(), 100).unref());
}

// ---------------------------------------------------------------------------------------------
// Database

export type BenchDatabase = { name: string; url: string };

export function adminSql(max = 1) {
  return postgres(ADMIN_URL, { max, onnotice: () => {} });
}

/** A fresh database `kenbaar_bench_<tag>_<random>`, dropped at cleanup, with the hub's schema. */
export async function createBenchDatabase(tag: string): Promise<BenchDatabase> {
  const name = `kenbaar_bench_${tag}_${crypto.randomUUID().replace(/-/g, '').slice(0, 8)}`;
  const admin = adminSql();
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  onCleanup(async () => {
    const a = adminSql();
    await a.unsafe(`drop database if exists ${name} with (force)`);
    await a.end();
  });
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  // Migrate now (the server would too) so the seed can write before the server starts.
  const migrated = await openDatabase({ url: url.toString(), max: 1 });
  await migrated.close();
  return { name, url: url.toString() };
}

export async function tempDir(tag: string): Promise<string> {
  const dir = mkdtempSync(join(os.tmpdir(), `kenbaar-bench-${tag}-`));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Keys: fresh ones per run, in a temp dir, never the developer's .kenbaar/ or keys/.

export type BenchKeys = {
  keysDir: string;
  privateDir: string;
  localDir: string;
  hubKeySecret: string;
  signingKeySecret: string;
  logKeySecret: string;
  hubKeys: HubKeyring;
  signing: Map<string, PartnerSigningKey>;
};

export async function makeKeys(covenant: Covenant, dir: string): Promise<BenchKeys> {
  const keysDir = join(dir, 'keys');
  const localDir = join(dir, 'local');
  const privateDir = join(localDir, 'private');
  mkdirSync(privateDir, { recursive: true });
  const signing = new Map<string, PartnerSigningKey>();
  for (const partner of covenant.partners.keys()) {
    const k = await generatePartnerKey(partner, { keysDir, privateDir }, 'ES256');
    signing.set(partner, { partner, jwk: k.privateJwk });
  }
  const hubKeySecret = generateHubKeySecret(1);
  return {
    keysDir,
    privateDir,
    localDir,
    hubKeySecret,
    signingKeySecret: await generateSigningKeySecret(),
    logKeySecret: generateLogKeySecret(defaultLogOrigin(covenant.id)),
    hubKeys: parseHubKeyring(hubKeySecret),
    signing,
  };
}

/**
 * The demo covenant without its rate limits (a benchmark measures what the hub can do, not what
 * the covenant allows one professional per minute): a copy in a temporary directory.
 */
let benchCovenantDir: string | undefined;
export function benchCovenantPath(): string {
  if (benchCovenantDir) return benchCovenantDir;
  const from = join(ROOT, 'policies', 'zvh-demo');
  const dir = mkdtempSync(join(os.tmpdir(), 'kenbaar-bench-covenant-'));
  for (const name of readdirSync(from)) {
    const doc = parseYaml(readFileSync(join(from, name), 'utf8')) as { covenant?: { rateLimits?: unknown }; partners?: { rateLimits?: unknown }[] };
    delete doc.covenant?.rateLimits;
    for (const p of doc.partners ?? []) delete p.rateLimits;
    writeFileSync(join(dir, name), stringifyYaml(doc));
  }
  benchCovenantDir = dir;
  return dir;
}

export function loadBenchCovenant(): Covenant {
  return loadCovenantDir(benchCovenantPath());
}

// ---------------------------------------------------------------------------------------------
// The hub in a child process (bench/server.ts).

export function hubEnv(keys: BenchKeys, store: { url: string } | { dataDir: string }): Record<string, string> {
  return {
    DATABASE_URL: 'url' in store ? store.url : '',
    KENBAAR_DATA_DIR: 'dataDir' in store ? store.dataDir : join(keys.localDir, 'unused-data'),
    KENBAAR_COVENANT_DIR: benchCovenantPath(),
    KENBAAR_KEYS_DIR: keys.keysDir,
    KENBAAR_LOCAL_DIR: keys.localDir,
    KENBAAR_PRIVATE_DIR: keys.privateDir,
    KENBAAR_HUB_KEY: keys.hubKeySecret,
    KENBAAR_SIGNING_KEY: keys.signingKeySecret,
    KENBAAR_LOG_KEY: keys.logKeySecret,
    KENBAAR_HUB_ID: HUB_ID,
    HOST: '127.0.0.1',
    PORT: '0',
    // Production mode: secrets must come from the environment; nothing is generated.
    NODE_ENV: 'production',
  };
}

export type EventLoopDelay = { p50: number; p99: number; max: number; mean: number };
export type Hub = {
  url: string;
  db: string;
  pid: number;
  /** Event-loop delay (ms) in the hub since the previous call. */
  eventLoopDelay: () => Promise<EventLoopDelay>;
  stop: () => Promise<void>;
};

/**
 * The hub in a child process. `nodeArgs`: e.g. ['--cpu-prof', '--cpu-prof-dir=...'] to profile it
 * under load; `serverArgs`: bench/server.ts options (--integrate-ms).
 */
export async function spawnHub(env: Record<string, string>, nodeArgs: string[] = [], serverArgs: string[] = [], script = 'server.ts'): Promise<Hub> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, 'bench', script), ...serverArgs], {
    cwd: ROOT,
    // The child needs PATH and friends; the hub's own settings are the overrides above.
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(`[hub] ${d.toString()}`);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
  };
  onCleanup(stop);

  // stdout is JSON lines: the first says where it listens, each later one answers a `stats`.
  const waiting: ((line: string) => void)[] = [];
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => waiting.push(resolve));
  const ready = await new Promise<{ url: string; db: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 60 s\n${stderr}`)), 60_000);
    void nextLine().then((line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line) as { url: string; db: string });
      } catch {
        reject(new Error(`hub printed no JSON line: ${line}`));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (${code}) before it listened\n${stderr}`));
    });
  });
  if (new URL(ready.url).hostname !== '127.0.0.1') throw new Error(`hub listens on ${ready.url}, not 127.0.0.1`);
  const eventLoopDelay = async () => {
    const line = nextLine();
    child.stdin.write('stats\n');
    return (JSON.parse(await line) as { eventLoopDelayMs: EventLoopDelay }).eventLoopDelayMs;
  };
  return { ...ready, pid: child.pid!, eventLoopDelay, stop };
}

/**
 * `kenbaar serve [--workers N]` from the production build on the bench database, with `nodeArgs`
 * (e.g. --cpu-prof) for its processes; its pids (primary and workers) for CPU accounting. What it
 * prints is kept only until it listens, then read and dropped.
 */
export async function spawnServe(env: Record<string, string>, workers: number, nodeArgs: string[] = [], root = ROOT) {
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'node', 'cli.js'), 'serve', '--workers', String(workers), '--port', '0'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let url: string | undefined;
  const keep = (d: Buffer) => {
    if (!url) out += d.toString();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  onCleanup(stop);
  const deadline = Date.now() + 90_000;
  while (!(url = /listening on (http:\/\/\S+)/.exec(out)?.[1])) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve --workers ${workers} did not start:\n${out}`);
    await sleep(100);
  }
  const children =
    workers > 1
      ? execFileSync('ps', ['--ppid', String(child.pid), '-o', 'pid=,args='], { encoding: 'utf8' })
          .split('\n')
          .filter((l) => l.includes('cli.js serve'))
          .map((l) => Number(l.trim().split(/\s+/)[0]))
      : [];
  return { url, pids: [child.pid!, ...children], stop };
}

// ---------------------------------------------------------------------------------------------
// HTTP: node:http with keep-alive sockets, lighter on the (shared) CPU than fetch.

export type Reply = { status: number; text: string };

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(baseUrl: string, sockets: number) {
    const u = new URL(baseUrl);
    if (u.hostname !== '127.0.0.1') throw new Error('benchmarks only talk to 127.0.0.1');
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  post(path: string, token: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          path,
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Tokens signed ahead of a timed phase, one fresh jti each, so signing is not measured. */
export async function presign(
  key: PartnerSigningKey,
  who: { sub: string; role: string },
  count: number,
): Promise<string[]> {
  const now = new Date();
  const out: string[] = new Array(count);
  const PARALLEL = 64;
  for (let i = 0; i < count; i += PARALLEL) {
    const n = Math.min(PARALLEL, count - i);
    const batch = await Promise.all(
      Array.from({ length: n }, () => signPartnerToken(key, { sub: who.sub, role: who.role, audience: HUB_ID, now, lifetimeSeconds: 280 })),
    );
    for (let j = 0; j < n; j++) out[i + j] = batch[j]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Subjects. Person i's partner pseudonym is SHA-256("kenbaar-bench:" + i): 32 bytes, so it is a
// valid subject, and cheap to compute both here and in SQL (pgcrypto digest). What the hub stores
// is its HMAC under the hub's real key, which the seed computes in SQL with pgcrypto hmac.

export function partnerPseudonymOf(person: number): string {
  return createHash('sha256').update(`kenbaar-bench:${person}`).digest('base64url');
}

export function storedPseudonymOf(hubKeys: HubKeyring, person: number): string {
  const bytes = new Uint8Array(createHash('sha256').update(`kenbaar-bench:${person}`).digest());
  return toBase64Url(hubPseudonyms(hubKeys, bytes)[0]!.value);
}

/** How many registrations person i has: 60 % one, 25 % two, 15 % three (mean 1.55). */
export function registrationsOf(person: number): number {
  const r = person % 20;
  return r < 12 ? 1 : r < 17 ? 2 : 3;
}

/**
 * The partners that may register, in covenant order, each with its first category; registration
 * slot s of person i is by partner (7i + 3s) mod (their number), so one person's slots differ.
 */
export function seedPartners(covenant: Covenant) {
  const registering = [...covenant.partners.values()].filter((p) => p.registers.categories.size > 0);
  // 0, 3 and 6 are distinct mod n unless n divides 3 or 6.
  if ([1, 2, 3, 6].includes(registering.length)) {
    throw new Error(`the seed needs a number of registering partners other than 1, 2, 3 or 6 (got ${registering.length})`);
  }
  return registering.map((p, idx) => ({
    idx,
    id: p.id,
    category: [...p.registers.categories][0]!,
    rule: p.registers.rule,
  }));
}

export type Seed = { registrations: number; persons: number; auditEntries: number; seconds: number };

/**
 * `total` active registrations of persons 0..persons-1 and one sequenced `registration.create`
 * audit entry each, written straight with SQL (generate_series + pgcrypto). The seeded audit rows
 * carry all-zero placeholder leaf hashes (not their entries' real ones); the log head and the
 * subtree hashes are those of that tree, so the hub's sequencer continues after them as it would on
 * a real log of that size.
 */
export async function seed(dbUrl: string, covenant: Covenant, hubKeys: HubKeyring, total: number): Promise<Seed> {
  const started = performance.now();
  let persons = 0;
  for (let sum = 0; sum < total; persons++) sum += registrationsOf(persons);
  const partners = seedPartners(covenant);
  const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  try {
    await sql`create extension if not exists pgcrypto`;
    const values = partners.map((p) => sql`(${p.idx}::int, ${p.id}::text, ${p.category}::text, ${p.rule}::text)`);
    const partnerTable = values.reduce((acc, v, i) => (i === 0 ? sql`${v}` : sql`${acc}, ${v}`), sql``);
    const now = new Date();
    const key = Buffer.from(hubKeys.current.key);
    // Two statements on two connections: the seed is CPU-bound (HMAC, index inserts) on 2 cores.
    const half = Math.ceil(persons / 2);
    const part = (from: number, to: number, limit: number) => sql`
      insert into registrations (id, partner, subject, key_version, category, contact, reference, registered_by, created_at, expires_at)
      select gen_random_uuid(), p.id,
             rtrim(translate(encode(hmac('kenbaar:v1:hub:'::bytea || digest('kenbaar-bench:' || g.person, 'sha256'), ${key}::bytea, 'sha256'), 'base64'), '+/', '-_'), '='),
             ${hubKeys.current.version}::int, p.category,
             jsonb_build_object('function', 'Contactpunt ' || p.id, 'phone', '+31 50 123 45 67'),
             'REF-' || g.person, p.id || '-seed', c.created, c.created + interval '365 days'
        from generate_series(${from}::int, ${to}::int) as g(person)
        cross join lateral generate_series(0, case when g.person % 20 < 12 then 0 when g.person % 20 < 17 then 1 else 2 end) as s(slot)
        join (values ${partnerTable}) as p(idx, id, category, rule) on p.idx = (g.person * 7 + s.slot * 3) % ${partners.length}
        cross join lateral (select ${now}::timestamptz - ((g.person * 13 + s.slot) % 300) * interval '1 day' as created) as c
       limit ${limit}`;
    let firstHalf = 0;
    for (let i = 0; i < half; i++) firstHalf += registrationsOf(i);
    await Promise.all([part(0, half - 1, firstHalf), part(half, persons - 1, total - firstHalf)]);

    // A seeded log is pre-sequenced with placeholder hashes: past the triggers that queue entries and
    // keep audit_log's places the sequencer's (migration 0011), as only a superuser seeding a
    // benchmark database may.
    await sql.begin(async (tx) => {
      await tx`set local session_replication_role = replica`;
      await tx`
      insert into audit_entries (at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
      select r.created_at, 'seed', r.partner, r.registered_by, 'partner-system',
             'registration.create', r.subject, null, r.reference, 'allowed', p.rule, ${covenant.version},
             jsonb_build_object('registrationId', r.id, 'category', r.category, 'expiresAt', r.expires_at, 'seeded', true)
        from registrations r join (values ${partnerTable}) as p(idx, id, category, rule) on p.id = r.partner`;
      await tx`insert into audit_log (seq, entry_id, leaf_hash) select row_number() over (order by id) - 1, id, repeat('0', 64) from audit_entries`;
    });
    const [{ n }] = (await sql`select count(*)::int as n from audit_entries`) as unknown as [{ n: number }];
    // The seeded tree is a real tree of n all-zero leaf hashes: its head (frontier, root) and the
    // hashes of its complete 256^L subtrees (log_subtrees, issue 8's tile store) agree, so the hub's
    // sequencer continues it, and tiles and proofs over it can be served.
    const zero: Uint8Array[] = [new Uint8Array(32)];
    for (let k = 1; k <= 52; k++) zero.push(nodeHash(zero[k - 1]!, zero[k - 1]!));
    const frontier: Uint8Array[] = [];
    for (let bit = 52; bit >= 0; bit--) if (Math.floor(n / 2 ** bit) % 2 === 1) frontier.push(zero[bit]!);
    await sql`
      insert into log_head (id, size, root, frontier, updated_at)
      values (1, ${n}, ${toHex(frontierRoot(frontier))}, ${sql.json(frontier.map(toHex))}, ${now})
      on conflict (id) do update set size = excluded.size, root = excluded.root, frontier = excluded.frontier`;
    for (let level = 1; TILE_WIDTH ** level <= n; level++) {
      await sql`insert into log_subtrees (level, idx, hash)
                select ${level}::int, i, ${toHex(zero[8 * level]!)} from generate_series(0, ${Math.floor(n / TILE_WIDTH ** level) - 1}::bigint) as i`;
    }
    // Settle the pages (hint bits, statistics) and flush them, so the timed phases do not pay
    // for the bulk load's aftermath.
    await sql`vacuum (analyze) registrations`;
    await sql`vacuum (analyze) audit_entries`;
    await sql`vacuum (analyze) audit_log`;
    await sql`checkpoint`;
    const [{ c }] = (await sql`select count(*)::int as c from registrations`) as unknown as [{ c: number }];
    if (c !== total) throw new Error(`seeded ${c} registrations, expected ${total}`);
    return { registrations: c, persons, auditEntries: n, seconds: (performance.now() - started) / 1000 };
  } finally {
    await sql.end();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc). On a 2-core machine the load generator, the hub and PostgreSQL
// share the CPU (and other work on the machine may too), so each phase records who used how much.

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process, in seconds (0 when it is gone). */
export function processCpu(pid: number): number {
  const t = processTimes(pid);
  return t.user + t.system;
}

/** User and kernel CPU seconds of a process (all its threads). */
function processTimes(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLK_TCK, system: Number(fields[12]) / CLK_TCK };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** Busy and total CPU seconds of the whole machine (all cores) from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  const [, ...nums] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const v = nums.map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/**
 * Wait (at most `maxSeconds`) until the machine is quiet: under `busyShare` of all cores busy over a
 * one-second window. Call it while the benchmark itself is idle. Returns the last busy share seen.
 */
export async function waitForQuiet(maxSeconds: number, busyShare = 0.15): Promise<number> {
  const until = performance.now() + maxSeconds * 1000;
  for (;;) {
    const a = machineCpu();
    await sleep(1000);
    const b = machineCpu();
    const busy = (b.busy - a.busy) / Math.max(1e-9, b.total - a.total);
    if (busy < busyShare || performance.now() >= until) return busy;
  }
}

export type CpuUse = {
  /** CPU seconds used during the phase by each party. */
  clientSeconds: number;
  hubSeconds: number;
  /** Of hubSeconds, the share spent in the kernel (socket reads and writes, epoll, futex). */
  hubKernelShare: number;
  /** The backends serving this database plus PostgreSQL's shared background processes. */
  postgresSeconds: number;
  /** Everything else on the machine (other users' work). */
  otherSeconds: number;
  /** Machine busy share over the phase, 0..1 of all cores. */
  machineBusy: number;
};

/** PostgreSQL processes working for `database`, plus the server's shared background processes. */
async function postgresPids(database: string): Promise<number[]> {
  const admin = adminSql();
  try {
    const rows = (await admin`
      select pid from pg_stat_activity
       where datname = ${database} or backend_type in ('walwriter', 'checkpointer', 'background writer', 'autovacuum launcher')`) as unknown as { pid: number }[];
    return rows.map((r) => r.pid);
  } finally {
    await admin.end();
  }
}

/**
 * Measures a phase: call `stop()` at its end. PostgreSQL processes that appear during the phase
 * (an autovacuum worker, a new pool connection) are counted in full; ones that come and go between
 * the two looks are missed and show up as "others".
 */
export async function cpuMeter(database: string, hubPid?: number | number[]): Promise<{ stop: () => Promise<CpuUse> }> {
  const before = new Map((await postgresPids(database)).map((pid) => [pid, processCpu(pid)]));
  // Several pids: a hub of several processes (serve --workers), summed.
  const hubTimes = () =>
    [hubPid ?? []].flat().reduce((acc, pid) => {
      const t = processTimes(pid);
      return { user: acc.user + t.user, system: acc.system + t.system };
    }, { user: 0, system: 0 });
  const hub0 = hubTimes();
  const client0 = process.cpuUsage();
  const m0 = machineCpu();
  return {
    stop: async () => {
      const m1 = machineCpu();
      const c = process.cpuUsage(client0);
      const hub1 = hubTimes();
      const hubSeconds = hub1.user - hub0.user + (hub1.system - hub0.system);
      const hubKernelShare = hubSeconds > 0 ? (hub1.system - hub0.system) / hubSeconds : 0;
      const pids = new Set([...before.keys(), ...(await postgresPids(database))]);
      let postgresSeconds = 0;
      for (const pid of pids) postgresSeconds += Math.max(0, processCpu(pid) - (before.get(pid) ?? 0));
      // Our own look-up connection is the only other work in the window; it is negligible.
      const clientSeconds = (c.user + c.system) / 1e6;
      const busy = m1.busy - m0.busy;
      return {
        clientSeconds,
        hubSeconds,
        hubKernelShare,
        postgresSeconds,
        otherSeconds: Math.max(0, busy - clientSeconds - hubSeconds - postgresSeconds),
        machineBusy: busy / Math.max(1e-9, m1.total - m0.total),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Statistics and reporting

export type LatencySummary = { p50: number; p90: number; p99: number; max: number; mean: number };

/** Nearest-rank percentiles, in milliseconds. */
export function summarise(ms: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(ms).sort();
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(50), p90: at(90), p99: at(99), max: sorted[sorted.length - 1] ?? NaN, mean: sum / sorted.length };
}

export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

export type Machine = {
  cpus: number;
  cpuModel: string;
  memory: string;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  loadAverageAtStart: number[];
  date: string;
};

export async function machine(): Promise<Machine> {
  const admin = adminSql();
  try {
    const [{ version }] = (await admin`select version()`) as unknown as [{ version: string }];
    const names = ['shared_buffers', 'synchronous_commit', 'fsync', 'wal_sync_method', 'max_connections', 'commit_delay', 'work_mem'];
    const rows = (await admin`select name, setting, unit from pg_settings where name in ${admin(names)}`) as unknown as { name: string; setting: string; unit: string | null }[];
    let memory = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
    try {
      memory = execFileSync('free', ['-h'], { encoding: 'utf8' }).trim();
    } catch {
      /* `free` missing: keep os.totalmem */
    }
    return {
      cpus: os.availableParallelism(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memory,
      node: process.version,
      postgres: version,
      postgresSettings: Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting])),
      loadAverageAtStart: os.loadavg(),
      date: new Date().toISOString(),
    };
  } finally {
    await admin.end();
  }
}

export function writeResults(kind: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '').replace(/\.\d+Z$/, 'Z');
  const path = join(RESULTS_DIR, `${kind}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
