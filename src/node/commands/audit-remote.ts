// `kenbaar audit verify --url <hub>`: verify a running hub's log over HTTP, with no database (so it
// runs next to a hub on PGlite too). The witness policy is the covenant's (`witnesses:`); the last
// verified checkpoint is kept in a local state file, so a later run catches a log that went back or
// shows another history.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { signPartnerToken } from '../../client/token';
import { loadCovenantDir } from '../covenant-fs';
import { formatVerifierKey, parseVerifierKey, type NoteKey } from '../../log/note';
import type { JWK } from 'jose';
import { verifyReceipt } from '../../log/receipt';
import { checkReceipt, verifyRemote, type ReceiptCheck, type RemoteReport, type VerifierState } from '../../log/verifier';
import type { NodeSettings } from '../env';
import type { Cli } from './common';
import { readPrivateKey } from '../keys';
import { defaultSub, progressBar, readInput } from './common';
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

export async function auditVerifyUrlCommand(cli: Cli, opts: VerifyUrlOptions): Promise<number> {
  const { settings, write, warn } = cli;
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
  const bar = progressBar(cli.io.stderr, !opts.json && (opts.progress === true || Boolean(cli.io.stderr.isTTY)), 0, 'verifying', 'leaves');
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

export type ReceiptOptions = { url: string; as: string; role: string; vkey?: string; jwks?: string; json?: boolean };

/**
 * `kenbaar audit receipt <file>`: check saved receipts (one Kenbaar-Receipt JWS per line) against the
 * hub's tlog-proofs. Exit 1 when an entry is missing past the promised delay or a proof fails.
 */
export async function auditReceiptCommand(cli: Cli, file: string | undefined, opts: ReceiptOptions): Promise<number> {
  const { settings, write, warn } = cli;
  const covenant = loadCovenantDir(settings.covenantDir);
  const base = opts.url.replace(/\/$/, '');
  const fetchText = async (path: string) => {
    try {
      return await (await fetch(`${base}${path}`)).text();
    } catch (e) {
      throw new CliError(EXIT_UNAVAILABLE, `${opts.url}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const jwks = opts.jwks ? readFileSync(opts.jwks, 'utf8') : await fetchText('/.well-known/jwks.json');
  const hubKeys = (JSON.parse(jwks) as { keys: JWK[] }).keys;
  const logKey = parseVerifierKey(opts.vkey ?? (await fetchText('/log/vkey')).trim().split('\n')[0] ?? '');
  if (!opts.vkey) warn(`using the log key the hub serves: ${formatVerifierKey(logKey)} (pass --vkey from a source you trust)`);
  const jwk = readPrivateKey(settings.privateDir, opts.as);
  const token = () => signPartnerToken({ partner: opts.as, jwk }, { sub: defaultSub(), role: opts.role, audience: settings.hubId });
  const checks: (ReceiptCheck & { receipt: number })[] = [];
  const lines = (await readInput(cli.io.stdin, file)).split('\n').map((l) => l.trim()).filter(Boolean);
  for (const [n, jws] of lines.entries()) {
    const claims = await verifyReceipt(jws, hubKeys);
    if (!claims) {
      checks.push({ receipt: n + 1, uid: '', status: 'bad-proof', detail: "the receipt's signature does not verify with the hub's keys" });
      continue;
    }
    const witnesses = covenant.witnesses.keys.map((w) => ({ name: w.name, key: parseVerifierKey(w.vkey) }));
    const results = await checkReceipt({ url: opts.url, fetch, token, logKey, witnesses, quorum: covenant.witnesses.quorum, now: new Date() }, claims);
    checks.push(...results.map((r) => ({ ...r, receipt: n + 1 })));
  }
  if (opts.json) write(`${JSON.stringify(checks, null, 2)}\n`);
  else write(checks.map((c) => `receipt ${c.receipt} entry ${c.uid || '-'}: ${c.status} (${c.detail})\n`).join(''));
  return checks.every((c) => c.status === 'included' || c.status === 'pending') ? EXIT_OK : EXIT_PROBLEMS;
}
