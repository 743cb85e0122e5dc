// `kenbaar audit verify --url <hub>`: verify a running hub's log over HTTP, with no database (so it
// runs next to a hub on PGlite too). The witness policy is the covenant's (`witnesses:`); the last
// verified checkpoint is kept in a local state file, so a later run catches a log that went back or
// shows another history.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { signPartnerToken } from '../../client/token';
import { loadCovenantDir } from '../covenant-fs';
import { formatVerifierKey, parseVerifierKey, type NoteKey } from '../../log/note';
import { verifyRemote, type RemoteReport, type VerifierState } from '../../log/verifier';
import type { NodeSettings } from '../env';
import { readPrivateKey } from '../keys';
import { defaultSub, progressBar, warn, write } from './common';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_PROBLEMS, EXIT_UNAVAILABLE } from './exit';

export type VerifyUrlOptions = { url: string; state?: string; vkey?: string; as?: string; role: string; json?: boolean; progress?: boolean };

type SavedState = VerifierState & { vkey: string };

export function formatRemoteReport(r: RemoteReport, url: string): string {
  const lines = [
    `audit log at ${url} ${r.ok ? 'verified' : 'FAILED verification'}`,
    `  log           ${r.origin}, size ${r.size}${r.previousSize !== null ? ` (last verified: ${r.previousSize})` : ' (first run: nothing saved yet to compare with)'}`,
    `  witnesses     ${r.cosigners.length ? r.cosigners.join(', ') : 'none'}${r.witnessedAgeSeconds !== null ? `; newest cosignature ${r.witnessedAgeSeconds} s old` : ''}`,
    `  leaves        ${r.entriesRehashed ? `${r.entriesRehashed} recomputed from their entries` : 'from hash tiles (no entry bundles read)'}${r.pruned ? `; ${r.pruned} pruned after retention, covered by level-1 hashes` : ''}`,
  ];
  for (const p of r.problems) lines.push(`  problem       ${p.kind}: ${p.message}`);
  return `${lines.join('\n')}\n`;
}

export async function auditVerifyUrlCommand(settings: NodeSettings, opts: VerifyUrlOptions): Promise<number> {
  const covenant = loadCovenantDir(settings.covenantDir);
  const witnesses = covenant.witnesses.keys.map((w) => ({ name: w.name, key: parseVerifierKey(w.vkey) }));
  let logKey: NoteKey | undefined;
  const explicitState = opts.state;
  let saved: SavedState | null = null;
  let statePath = explicitState;
  if (opts.vkey) logKey = parseVerifierKey(opts.vkey);
  if (!statePath && logKey) statePath = defaultStatePath(settings, logKey.name);
  if (statePath && existsSync(statePath)) {
    saved = JSON.parse(readFileSync(statePath, 'utf8')) as SavedState;
    logKey ??= parseVerifierKey(saved.vkey);
    if (opts.vkey && saved.vkey !== formatVerifierKey(logKey)) throw new CliError(EXIT_CONFIG, `--vkey differs from the log key saved in ${statePath}: a new log key is a new log to this verifier`);
  }
  if (!logKey) {
    let res: Response;
    try {
      res = await fetch(`${opts.url.replace(/\/$/, '')}/log/vkey`);
    } catch (e) {
      throw new CliError(EXIT_UNAVAILABLE, `${opts.url}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const first = (await res.text()).trim().split('\n')[0] ?? '';
    logKey = parseVerifierKey(first);
    warn(`trusting the log key served by the hub on first use: ${first}\n(pass --vkey from a source you trust; it is saved with the state from now on)`);
    statePath ??= defaultStatePath(settings, logKey.name);
    if (existsSync(statePath)) saved = JSON.parse(readFileSync(statePath, 'utf8')) as SavedState;
  }
  const partner = opts.as;
  const jwk = partner ? readPrivateKey(settings.privateDir, partner) : undefined;
  const token = partner && jwk ? () => signPartnerToken({ partner, jwk }, { sub: defaultSub(), role: opts.role, audience: settings.hubId }) : undefined;
  const bar = progressBar(!opts.json && (opts.progress === true || Boolean(process.stderr.isTTY)), 0, 'verifying', 'leaves');
  let report: RemoteReport;
  try {
    report = await verifyRemote({
      url: opts.url,
      logKey,
      witnesses,
      quorum: covenant.witnesses.quorum,
      previous: saved,
      fetch,
      now: new Date(),
      ...(token ? { token } : {}),
      onProgress: (n) => bar.update(n),
    });
  } catch (e) {
    throw new CliError(EXIT_UNAVAILABLE, `${opts.url}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    bar.stop();
  }
  if (report.next && statePath) {
    const state: SavedState = { ...report.next, vkey: formatVerifierKey(logKey) };
    mkdirSync(dirname(statePath), { recursive: true });
    writeFileSync(`${statePath}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(`${statePath}.tmp`, statePath);
  }
  write(opts.json ? `${JSON.stringify({ ...report, next: undefined }, null, 2)}\n` : formatRemoteReport(report, opts.url));
  return report.ok ? EXIT_OK : EXIT_PROBLEMS;
}

function defaultStatePath(settings: NodeSettings, origin: string): string {
  return join(settings.localDir, `verifier-${origin.replace(/[^A-Za-z0-9.-]/g, '_')}.json`);
}
