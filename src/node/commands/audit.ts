// `kenbaar audit verify` and `kenbaar audit checkpoint`: work on the hub's database directly (run
// them where the hub runs; with the embedded PGlite database, stop the hub first: PGlite allows
// one process per data directory).
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { createCheckpoint } from '../../audit/checkpoint';
import { readHead } from '../../audit/store';
import { verifyAuditLog, type VerifyReport } from '../../audit/verify';
import { defaultHashThreads, startHashPool, type HashPool } from '../audit-hash-pool';
import type { Database } from '../database';
import { progressBar, type Cli } from './common';
import { describeDatabase, loadHubConfig, withHubDatabase } from './hub-access';
import { CliError, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from './exit';

/** Below this many entries a bar would only flicker. */
const PROGRESS_FROM = 50_000;

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `audit log ${report.ok ? 'verified' : 'FAILED verification'}`,
    `  entries       ${report.entries - report.uncovered - report.pruned} verified against the signed checkpoints${report.pruned ? `; ${report.pruned} pruned after the audit retention (their hashes still checked)` : ''}`,
    ...(report.uncovered || report.unsequenced
      ? [`  not covered   ${report.uncovered} sequenced after the newest checkpoint, ${report.unsequenced} not yet sequenced: NOT verified (nothing signed holds them yet; kenbaar audit checkpoint)`]
      : []),
    `  checkpoints   ${report.checkpoints} signed, each checked against the recomputed tree`,
    `  root          ${report.root}`,
  ];
  if (report.checkpoints === 0 && report.entries > 0) lines.push('  note          no signed checkpoint yet: nothing holds these entries to a signed head (kenbaar audit checkpoint)');
  const [first] = report.problems;
  if (first) {
    lines.push(`  first problem ${first.kind}${first.seq !== null ? ` at seq ${first.seq}` : ''}: ${first.message}`);
    if (report.problems.length > 1) lines.push(`  (${report.problems.length - 1} more problem(s); --json lists them all)`);
  }
  return lines.join('\n') + '\n';
}

/** `--threads`: 0 (read and hash in this thread) to 64; by default one per CPU, at least two. */
function parseThreads(text: string | undefined): number {
  if (text === undefined) return defaultHashThreads();
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new CliError(EXIT_USAGE, `--threads must be a number of worker threads (0-64), not "${text}"`);
  return n;
}

/**
 * Worker threads that read and hash the entries, on PostgreSQL only (PGlite is one connection in
 * this process); when they cannot be started, a note, and the verifier does it in this thread.
 */
export async function hashPool(cli: Cli, kind: Database['kind'], threads: number): Promise<HashPool | undefined> {
  const url = cli.settings.databaseUrl;
  if (kind !== 'postgres' || !url || threads === 0) return undefined;
  try {
    return await startHashPool(url, threads);
  } catch (e) {
    cli.warn(`audit verify: no worker threads (${e instanceof Error ? e.message : String(e)}); reading and hashing in this thread`);
    return undefined;
  }
}

/** `--jwks`: the hub's published keys, saved (GET /.well-known/jwks.json); private parts dropped. */
function readJwks(path: string): JWK[] {
  const usage = (why: string) => new CliError(EXIT_USAGE, `--jwks ${path}: ${why} (a saved JWKS: {"keys": [...]}, from /.well-known/jwks.json)`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw usage(`cannot be read (${(e as { code?: string }).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw usage('is not JSON');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => k !== null && typeof k === 'object')) throw usage('has no "keys" array of keys');
  return (keys as JWK[]).map(({ d: _d, ...pub }) => pub);
}

export async function auditVerifyCommand(cli: Cli, opts: { json?: boolean; progress?: boolean; jwks?: string; threads?: string }): Promise<number> {
  const { settings, write } = cli;
  const threads = parseThreads(opts.threads);
  const saved = opts.jwks === undefined ? undefined : readJwks(opts.jwks);
  // Verifying needs only public keys: from a saved JWKS, or the hub's own configuration.
  const config = saved ? undefined : (await loadHubConfig(settings)).config;
  const keys = saved ?? config!.signer.published;
  const log = config ? { origin: config.log.keys.origin, keys: config.log.keys.verifiers } : undefined;
  const report = await withHubDatabase(settings, 'kenbaar audit verify', async (database) => {
    const head = await readHead(database.db);
    const show = !opts.json && (opts.progress === true || (Boolean(cli.io.stderr.isTTY) && head.size >= PROGRESS_FROM));
    const pool = await hashPool(cli, database.kind, threads);
    const bar = progressBar(cli.io.stderr, show, head.size, 'verifying', 'entries');
    try {
      return await verifyAuditLog(database.db, keys, (n) => bar.update(n), log, pool?.leaves);
    } finally {
      bar.stop();
      await pool?.close();
    }
  });
  if (opts.json) write(`${JSON.stringify(report, null, 2)}\n`);
  else write(`${describeDatabase(settings)}\n${formatVerifyReport(report)}`);
  return report.ok ? EXIT_OK : EXIT_PROBLEMS;
}

export async function auditCheckpointCommand(cli: Cli): Promise<number> {
  const { settings, write } = cli;
  const { config } = await loadHubConfig(settings);
  const cp = await withHubDatabase(settings, 'kenbaar audit checkpoint', (database) => createCheckpoint(database.db, config, new Date()));
  write(
    [
      `checkpoint #${cp.id} signed`,
      `  size    ${cp.size} entries`,
      `  root    ${cp.root}`,
      `  kid     ${cp.kid}`,
      `  issued  ${cp.issuedAt.toISOString()}`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
