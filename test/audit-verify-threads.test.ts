// `audit verify` with the entries read and hashed range by range (rangedLeaves), in worker threads
// on PostgreSQL (src/node/audit-hash-pool.ts): the same report as the in-thread verifier, on a clean
// log and on tampered ones. Ranges of 7 entries over a log of 60, so that a gap fills whole ranges,
// and a checkpoint falls inside a range.
import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit, integrateAll } from '../src/audit/store';
import { hashRange, rangedLeaves, verifyAuditLog, type LeafSource, type VerifyProblemKind, type VerifyReport } from '../src/audit/verify';
import type { HubConfig } from '../src/config';
import { rowsOf, type Db } from '../src/db/types';
import { startHashPool, type HashPool } from '../src/node/audit-hash-pool';
import { EXIT_USAGE, main } from '../src/node/cli';
import { hashPool } from '../src/node/commands/audit';
import { cliContext } from '../src/node/commands/io';
import { processIo, readSettings } from '../src/node/env';
import { collector } from './support/collector';
import { DATABASE_URL, dbKind, testDatabase, testHubConfig } from './support/hub';

const RANGE = 7;

type Log = { db: Db; config: HubConfig; close: () => Promise<void>; url?: string };

/** 60 entries, sequenced; checkpoints after 25 (inside a range) and 52; 8 entries not yet covered. */
async function sixtyEntries(): Promise<Log> {
  const database = await testDatabase();
  const config = await testHubConfig();
  const now = new Date('2026-12-03T12:00:00.000Z');
  const ctx = { at: now, requestId: 'r-threads', actor: { partner: 'politie', sub: 'agent-7', role: 'partner-system' }, covenantVersion: config.covenant.version };
  // Every column a different value, so that a worker reading one column for another hashes wrong.
  const append = (from: number, n: number) =>
    appendAudit(
      database.db,
      ctx,
      Array.from({ length: n }, (_, i) => ({
        action: 'lookup',
        outcome: 'allowed',
        rule: `R-${from + i}`,
        subject: `subject-${from + i}`,
        purpose: `purpose-${from + i}`,
        caseRef: `case-${from + i}`,
        detail: { n: from + i },
      })),
    );
  await append(0, 25);
  await integrateAll(database.db, now);
  await createCheckpoint(database.db, config, now);
  await append(25, 27);
  await integrateAll(database.db, now);
  await createCheckpoint(database.db, config, now);
  await append(52, 8);
  await integrateAll(database.db, now);
  return { db: database.db, config, close: database.close, url: database.url };
}

/** As an attacker with superuser rights on the database would: past the append-only triggers. */
const tamper = (db: Db, statement: SQL) =>
  db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(statement);
  });

/**
 * Clean, then tampered step by step (each step on top of the last): at every step the report over
 * `leaves` is the in-thread one, and the in-thread one names what was done.
 */
async function sameReports(log: Log, leaves: LeafSource) {
  const keys = log.config.signer.published;
  const both = async (): Promise<VerifyReport> => {
    const inThread = await verifyAuditLog(log.db, keys);
    const progress: number[] = [];
    expect(await verifyAuditLog(log.db, keys, (n) => progress.push(n), undefined, leaves)).toEqual(inThread);
    expect(progress.at(-1)).toBe(inThread.entries);
    return inThread;
  };
  const firstProblems = (r: VerifyReport) => r.problems.map((p): [VerifyProblemKind, number | null] => [p.kind, p.seq]);

  const clean = await both();
  expect(clean).toMatchObject({ ok: true, entries: 60, uncovered: 8, checkpoints: 2, problems: [] });

  await tamper(log.db, sql`update audit_entries set outcome = 'denied' where id = (select entry_id from audit_log where seq = 10)`);
  expect(firstProblems(await both())).toEqual([['altered', 10], ['altered', null]]);

  // One entry gone inside a range, and then every entry of two whole ranges (28..41).
  await tamper(log.db, sql`delete from audit_log where seq = 16 or seq between 28 and 41`);
  const gaps = await both();
  expect(firstProblems(gaps).slice(0, 3)).toEqual([['altered', 10], ['missing', 16], ['missing', 28]]);
  expect(gaps.entries).toBe(60 - 15);

  // Two swapped entries (each at the other's place, under that place's leaf hash, to hide it from
  // the per-entry check).
  const [a, b] = await rowsOf<{ entry_id: number }>(log.db, sql`select entry_id::int as entry_id from audit_log where seq in (44, 45) order by seq`);
  await tamper(log.db, sql`update audit_log set entry_id = -1 where seq = 44`);
  await tamper(log.db, sql`update audit_log set entry_id = ${a!.entry_id} where seq = 45`);
  await tamper(log.db, sql`update audit_log set entry_id = ${b!.entry_id} where seq = 44`);
  expect(firstProblems(await both())).toContainEqual(['reordered', 44]);

  // The tail moved far ahead: one range past the gap reads it, not one per 7 seqs of it.
  await tamper(log.db, sql`update audit_log set seq = seq + 1000000000000 where seq >= 55`);
  const far = await both();
  expect(firstProblems(far)).toContainEqual(['missing', 55]);
  expect(far.entries).toBe(45);
}

describe(`audit verify over ranges read and hashed in this thread (${dbKind})`, () => {
  let log: Log;
  beforeAll(async () => {
    log = await sixtyEntries();
  });
  afterAll(() => log?.close());

  it('gives the in-thread report on a clean log, an altered entry, gaps (whole ranges too), a swap, a tail moved far ahead', async () => {
    let ranges = 0;
    const hash = (from: number, to: number) => {
      // A gap is skipped, not walked range by range (the tail moved 10^12 ahead would never end).
      if (++ranges > 200) throw new Error(`${ranges} ranges of ${RANGE} asked for a log of 60 entries`);
      return hashRange(log.db, from, to);
    };
    await sameReports(log, rangedLeaves(hash, RANGE, 3));
  });
});

if (!DATABASE_URL) {
  console.warn('test/audit-verify-threads.test.ts: the worker-thread verifier is NOT tested: it needs PostgreSQL (set DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)');
}

describe.skipIf(!DATABASE_URL)('audit verify in worker threads (PostgreSQL; skipped without DATABASE_URL)', () => {
  let log: Log;
  let pool: HashPool;
  let tmp: string;
  beforeAll(async () => {
    log = await sixtyEntries();
    pool = await startHashPool(log.url!, 2, RANGE);
    tmp = mkdtempSync(join(tmpdir(), 'kenbaar-verify-threads-'));
  });
  afterAll(async () => {
    await pool?.close();
    await log?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the compiled CLI (dist/node, its own worker module) verifies with two threads and reports as the in-thread verifier', async () => {
    const jwks = join(tmp, 'jwks.json');
    writeFileSync(jwks, JSON.stringify({ keys: log.config.signer.published }));
    const cli = fileURLToPath(new URL('../dist/node/cli.js', import.meta.url));
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const env = { PATH: process.env.PATH, HOME: tmp, DATABASE_URL: log.url!, KENBAAR_LOCAL_DIR: join(tmp, 'local'), KENBAAR_KEYS_DIR: join(tmp, 'keys'), KENBAAR_DATA_DIR: join(tmp, 'data') };
      const child = spawn(process.execPath, [cli, 'audit', 'verify', '--json', '--jwks', jwks, '--threads', '2'], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.stderr).toBe(''); // no "no worker threads" note: the threads ran
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(await verifyAuditLog(log.db, log.config.signer.published));
  });

  it('from the sources (tsx in each thread): the in-thread report on a clean log, an altered entry, gaps, a swap, a tail moved far ahead', async () => {
    expect(pool.threads).toBe(2);
    await sameReports(log, pool.leaves);
  });
});

describe('audit verify --threads', () => {
  it('is a number of threads from 0 to 64, else a usage error (exit 2) before anything is opened', async () => {
    // Directories of its own all the same: were the check broken, the command would go on.
    const dir = mkdtempSync(join(tmpdir(), 'kenbaar-verify-threads-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = { PATH: process.env.PATH, KENBAAR_LOCAL_DIR: join(dir, 'local'), KENBAAR_KEYS_DIR: join(dir, 'keys'), KENBAAR_DATA_DIR: join(dir, 'data') };
    for (const threads of ['-1', '65', 'two', '1.5']) {
      const stderr = collector();
      const io = { stdin: Readable.from(['']), stdout: collector(), stderr, env };
      expect(await main(['audit', 'verify', '--threads', threads], io)).toBe(EXIT_USAGE);
      expect(stderr.text).toContain(`--threads must be a number of worker threads (0-64), not "${threads}"`);
    }
  });

  it('a --jwks file that is missing, not JSON or not a JWKS: a usage error (exit 2) in one line, before anything is opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kenbaar-verify-jwks-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = { PATH: process.env.PATH, KENBAAR_LOCAL_DIR: join(dir, 'local'), KENBAAR_KEYS_DIR: join(dir, 'keys'), KENBAAR_DATA_DIR: join(dir, 'data') };
    writeFileSync(join(dir, 'text.json'), 'not json');
    writeFileSync(join(dir, 'nokeys.json'), '{"keys": "none"}');
    for (const [file, why] of [['missing.json', 'cannot be read (ENOENT)'], ['text.json', 'is not JSON'], ['nokeys.json', 'has no "keys" array of keys']]) {
      const stderr = collector();
      const io = { stdin: Readable.from(['']), stdout: collector(), stderr, env };
      expect(await main(['audit', 'verify', '--jwks', join(dir, file!)], io)).toBe(EXIT_USAGE);
      expect(stderr.text).toContain(`--jwks ${join(dir, file!)}: ${why}`);
      expect(stderr.text).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('threads that cannot reach the database: a note, and the verifier reads and hashes in its own thread', async () => {
    const warned: string[] = [];
    const settings = { ...readSettings({}), databaseUrl: 'postgres://postgres@127.0.0.1:1/nothing' };
    const cli = { ...cliContext(settings, processIo()), warn: (text: string) => void warned.push(text) };
    expect(await hashPool(cli, 'postgres', 2)).toBeUndefined();
    expect(warned).toEqual([expect.stringMatching(/^audit verify: no worker threads \(.*ECONNREFUSED.*\); reading and hashing in this thread$/)]);
    expect(await hashPool(cli, 'pglite', 2)).toBeUndefined(); // PGlite: in this thread, nothing to say
    expect(await hashPool(cli, 'postgres', 0)).toBeUndefined();
    expect(warned).toHaveLength(1);
  });
});
