// `kenbaar audit verify` and `kenbaar audit checkpoint`: work on the hub's database directly (run
// them where the hub runs; with the embedded PGlite database, stop the hub first: PGlite allows
// one process per data directory).
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { createCheckpoint } from '../../audit/checkpoint';
import { readHead } from '../../audit/store';
import { verifyAuditLog, type VerifyReport } from '../../audit/verify';
import type { NodeSettings } from '../env';
import { progressBar, type Cli } from './common';
import { describeDatabase, loadHubConfig, withHubDatabase } from './hub-access';
import { EXIT_OK, EXIT_PROBLEMS } from './exit';

/** Below this many entries a bar would only flicker. */
const PROGRESS_FROM = 50_000;

export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `audit log ${report.ok ? 'verified' : 'FAILED verification'}`,
    `  entries       ${report.entries} sequenced${report.unsequenced ? `, ${report.unsequenced} not yet sequenced (outside any checkpoint)` : ''}`,
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

export async function auditVerifyCommand(cli: Cli, opts: { json?: boolean; progress?: boolean; jwks?: string }): Promise<number> {
  const { settings, write } = cli;
  // Verifying needs only public keys: from a saved JWKS, or the hub's own configuration.
  const keys = opts.jwks
    ? (JSON.parse(readFileSync(opts.jwks, 'utf8')) as { keys: JWK[] }).keys.map(({ d: _d, ...pub }) => pub)
    : (await loadHubConfig(settings)).config.signer.published;
  const report = await withHubDatabase(settings, 'kenbaar audit verify', async (database) => {
    const head = await readHead(database.db);
    const show = !opts.json && (opts.progress === true || (Boolean(cli.io.stderr.isTTY) && head.size >= PROGRESS_FROM));
    const bar = progressBar(cli.io.stderr, show, head.size, 'verifying', 'entries');
    try {
      return await verifyAuditLog(database.db, keys, (n) => bar.update(n));
    } finally {
      bar.stop();
    }
  });
  if (opts.json) write(`${JSON.stringify(report, null, 2)}\n`);
  else write(`${describeDatabase(settings)}\n${formatVerifyReport(report)}`);
  return report.ok ? EXIT_OK : EXIT_PROBLEMS;
}

export async function auditCheckpointCommand(cli: Cli): Promise<number> {
  const { settings, write } = cli;
  const { config } = await loadHubConfig(settings);
  const cp = await withHubDatabase(settings, 'kenbaar audit checkpoint', (database) => createCheckpoint(database.db, config.signer, config.hubId, new Date()));
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
