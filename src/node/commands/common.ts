// What several commands share: the partner-side covenant key, a client acting as a partner, input,
// progress bars and text tables. Kept light (no database, no server): the partner-side commands
// load only this, so they start fast.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { SingleBar } from 'cli-progress';
import { HubClient } from '../../client/client';
import type { Partner } from '../../covenant/types';
import { loadCovenantDir } from '../covenant-fs';
import { fromBase64Url, toBase64Url } from '../../encoding';
import { InvalidBsnError, normaliseBsn } from '../../pseudonym/bsn';
import { MIN_KEY_BYTES, partnerPseudonym } from '../../pseudonym/pseudonymise';
import type { CliIo, NodeSettings } from '../env';
import type { Cli } from './io';
import { readPrivateKey } from '../keys';
import { CliError, EXIT_CONFIG, EXIT_DATA, EXIT_USAGE } from './exit';

/** The covenant key file used when KENBAAR_COVENANT_KEY is not set. */
export const covenantKeyPath = (settings: NodeSettings) => join(settings.localDir, 'covenant-key');

function decodeCovenantKey(text: string, source: string): Uint8Array {
  let key: Uint8Array;
  try {
    key = fromBase64Url(text.trim());
  } catch {
    throw new CliError(EXIT_CONFIG, `${source}: the covenant key must be base64url without padding`);
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new CliError(EXIT_CONFIG, `${source}: the covenant key must be at least ${MIN_KEY_BYTES} bytes; it has ${key.length}`);
  }
  return key;
}

/**
 * The covenant key every partner pseudonymises BSNs with (partner side only: the hub never has it).
 * From KENBAAR_COVENANT_KEY, else from `keyFile`; in development a missing default file is created
 * with a fresh random key, so a fresh clone works without setup.
 */
export function readCovenantKey(settings: NodeSettings, keyFile?: string, note: (line: string) => void = () => {}): Uint8Array {
  if (settings.covenantKeySecret) return decodeCovenantKey(settings.covenantKeySecret, 'KENBAAR_COVENANT_KEY');
  const path = keyFile ?? covenantKeyPath(settings);
  if (existsSync(path)) return decodeCovenantKey(readFileSync(path, 'utf8'), path);
  if (settings.production || keyFile !== undefined) {
    throw new CliError(EXIT_CONFIG, `no covenant key: set KENBAAR_COVENANT_KEY or put the covenant's key in ${path}`);
  }
  const key = crypto.getRandomValues(new Uint8Array(32));
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${toBase64Url(key)}\n`, { mode: 0o600 });
  note(`created a development covenant key in ${path} (every partner of a real covenant shares one key, agreed outside kenbaar)`);
  return key;
}

/**
 * The partner-side pseudonym of one BSN, made here with the covenant key: the BSN never leaves this
 * machine. An invalid BSN is refused before anything is sent.
 */
export function localSubject(cli: Cli, bsn: string, keyFile?: string): string {
  let normalised: string;
  try {
    normalised = normaliseBsn(bsn);
  } catch (e) {
    if (e instanceof InvalidBsnError) throw new CliError(EXIT_DATA, `invalid BSN: ${e.message}; nothing was sent`);
    throw e;
  }
  return partnerPseudonym(readCovenantKey(cli.settings, keyFile, cli.warn), normalised);
}

/** Who the professional is in the token (`sub`) when --sub is not given. */
export function defaultSub(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * A partner as the local covenant (KENBAAR_COVENANT_DIR) names it; a partner it does not name is a
 * usage error that lists the partners it does name. An invalid covenant propagates (exit 65).
 */
export function covenantPartner(settings: NodeSettings, partner: string): Partner {
  const covenant = loadCovenantDir(settings.covenantDir);
  const found = covenant.partners.get(partner);
  if (!found) {
    throw new CliError(EXIT_USAGE, `"${partner}" is not a partner of covenant ${covenant.id} (${settings.covenantDir}); its partners: ${[...covenant.partners.keys()].join(', ')}`);
  }
  return found;
}

/** A client acting as `partner` in `role`, signing with the partner's private key in privateDir. */
export function partnerClient(settings: NodeSettings, url: string, partner: string, role: string, sub = defaultSub()): HubClient {
  let jwk;
  try {
    jwk = readPrivateKey(settings.privateDir, partner);
  } catch (e) {
    throw new CliError(EXIT_CONFIG, e instanceof Error ? e.message : String(e));
  }
  return new HubClient(url, settings.hubId, { key: { partner, jwk }, sub, role });
}

export type Progress = { update(value: number): void; stop(): void };

/**
 * A progress bar on stderr, so stdout stays clean for the result; shown only on a terminal or
 * when asked for (--progress), e.g. in a CI log.
 */
export function progressBar(stream: CliIo['stderr'], show: boolean, total: number, label: string, unit: string): Progress {
  if (!show) return { update: () => {}, stop: () => {} };
  const bar = new SingleBar({
    stream: stream as NodeJS.WriteStream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit}`,
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    noTTYOutput: !stream.isTTY,
    notTTYSchedule: 1000,
  });
  bar.start(total, 0);
  return { update: (v) => bar.update(v), stop: () => bar.stop() };
}

/** A plain text table: a header row, a rule, then the rows; columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => indent + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** How to reach a contact point, in one cell. */
export function contactText(c: { function: string; phone?: string; email?: string }): string {
  return [c.function, c.phone, c.email].filter(Boolean).join(', ');
}

/** Read a whole input: a file, or stdin for `-` or no file. */
export async function readInput(stdin: CliIo['stdin'], file: string | undefined): Promise<string> {
  if (file !== undefined && file !== '-') {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new CliError(EXIT_DATA, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export { cliContext, type Cli } from './io';
