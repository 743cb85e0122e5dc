// `kenbaar secrets generate` and `kenbaar secrets rotate`: the hub's production secrets, in exactly
// the formats its configuration reads (README, Configuration):
//   KENBAAR_HUB_KEY       pseudonym keyring `v2:<base64url>,v1:<base64url>`, current version first
//   KENBAAR_SIGNING_KEY   JSON array of JWKs: the first (private) signs, retired ones are public
//   KENBAAR_LOG_KEY       the transparency log's Ed25519 note key(s), c2sp.org/signed-note:
//                         `PRIVATE+KEY+<origin>+<key id>+<base64>`, retired keys as verifier keys
// Written to files (mode 0600, never inside the repository) or to stdout, never logged.
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { fromBase64, fromBase64Url, toBase64, toHex, utf8 } from '../../encoding';
import { generateHubKeySecret, parseHubKeyring } from '../../pseudonym/hub-key';
import { generateSigningKeySecret, parseSigningKeys } from '../../signing';
import { loadCovenantDir } from '../covenant-fs';
import { ROOT } from '../paths';
import type { Cli } from './common';
import { SECRET_NAMES, SECRETS, type SecretName } from './defaults';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from './exit';

const SIG_ED25519 = 0x01;

/** The signed-note key id: the first 4 bytes of SHA-256(name || "\n" || type || public key). */
function noteKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(new Uint8Array([...utf8(name), 0x0a, SIG_ED25519, ...publicKey])).slice(0, 4);
}

/** A new Ed25519 note signer key for the log's origin, in Go's `note` format. */
async function generateLogSignerKey(origin: string): Promise<string> {
  if (!/^[^\s+]+$/.test(origin)) throw new CliError(EXIT_USAGE, `--log-origin "${origin}": a note key name has no spaces or "+"`);
  const jwk = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).privateKey);
  const seed = fromBase64Url(jwk.d!);
  const id = noteKeyId(origin, fromBase64Url(jwk.x!));
  return `PRIVATE+KEY+${origin}+${toHex(id)}+${toBase64(new Uint8Array([SIG_ED25519, ...seed]))}`;
}

/** The verifier key (`<origin>+<key id>+<base64(type || public key)>`) of a signer key. */
async function logVerifierKey(signer: string): Promise<string> {
  // The base64 part may itself hold "+": split off the name and key id only.
  const [, name, hex, encoded] = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(signer) ?? [];
  let raw: Uint8Array = new Uint8Array();
  try {
    if (encoded) raw = fromBase64(encoded);
  } catch {
    // reported below, without the key text
  }
  if (!name || raw.length !== 33 || raw[0] !== SIG_ED25519) throw new CliError(EXIT_CONFIG, 'KENBAAR_LOG_KEY: a private key is PRIVATE+KEY+<origin>+<key id>+<base64 Ed25519 seed>');
  // The public key from the seed: WebCrypto derives it when the private key (PKCS#8 around the
  // 32-byte seed, RFC 8410) is exported as a JWK.
  const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...raw.slice(1)]);
  const key = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
  const publicKey = fromBase64Url(((await crypto.subtle.exportKey('jwk', key)) as JWK).x!);
  if (toHex(noteKeyId(name, publicKey)) !== hex) throw new CliError(EXIT_CONFIG, `KENBAAR_LOG_KEY: the key id of the key named ${name} does not match the key`);
  return `${name}+${hex}+${toBase64(new Uint8Array([SIG_ED25519, ...publicKey]))}`;
}

/** A new version of a secret, from its current value: the new key first, the old ones kept. */
export async function rotateSecret(name: SecretName, current: string, logOrigin: string): Promise<string> {
  switch (name) {
    case 'hub-key': {
      // Lookups match every version, so the old keys stay until the registrations under them are renewed.
      const ring = parseHubKeyring(current);
      const next = Math.max(...ring.all.map((k) => k.version)) + 1;
      return `${generateHubKeySecret(next)},${current.trim()}`;
    }
    case 'signing-key': {
      await parseSigningKeys(current); // refuse to rotate what the hub would not accept
      const parsed = JSON.parse(current) as JWK | JWK[];
      // Retired keys keep only their public part: what they signed keeps verifying.
      const retired = (Array.isArray(parsed) ? parsed : [parsed]).map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub);
      return JSON.stringify([JSON.parse(await generateSigningKeySecret()) as JWK, ...retired]);
    }
    case 'log-key': {
      const keys = current.split(/[\s,]+/).filter(Boolean);
      const retired = await Promise.all(keys.map((k) => (k.startsWith('PRIVATE+KEY+') ? logVerifierKey(k) : k)));
      const origin = keys[0]?.startsWith('PRIVATE+KEY+') ? keys[0].slice('PRIVATE+KEY+'.length).split('+')[0]! : logOrigin;
      return [await generateLogSignerKey(origin), ...retired].join(',');
    }
  }
}

async function generateSecret(name: SecretName, logOrigin: string): Promise<string> {
  if (name === 'hub-key') return generateHubKeySecret(1);
  if (name === 'signing-key') return JSON.stringify([JSON.parse(await generateSigningKeySecret()) as JWK]);
  return generateLogSignerKey(logOrigin);
}

/** Secrets belong to the deployment, never to the repository (nor next to the installed code). */
function assertOutsideRepository(dir: string): string {
  const abs = resolve(dir);
  const inside = relative(realpathSync(ROOT), existsSync(abs) ? realpathSync(abs) : abs);
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new CliError(EXIT_USAGE, `${dir} is inside kenbaar's own directory (${ROOT}): keep secrets out of the repository, e.g. in /etc/kenbaar`);
  }
  return abs;
}

/** Write a secret file with mode 0600, atomically (a rotation never leaves half a keyring). */
function writeSecretFile(path: string, value: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${value}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function defaultLogOrigin(cli: Cli): string {
  if (cli.settings.logOrigin) return cli.settings.logOrigin;
  return `kenbaar.example/${loadCovenantDir(cli.settings.covenantDir).id}`;
}

/**
 * `NAME=value` for an environment file; a value with characters such files treat specially (the
 * signing key's JSON quotes) in single quotes, which systemd's EnvironmentFile, compose's env_file,
 * wrangler's --env-file and a shell all strip.
 */
function envLine(name: string, value: string): string {
  return /^[\w:.,+/=-]*$/.test(value) ? `${name}=${value}` : `${name}='${value}'`;
}

export type GenerateOptions = { outDir?: string; only?: string; logOrigin?: string };

export async function secretsGenerateCommand(cli: Cli, opts: GenerateOptions): Promise<number> {
  const names = opts.only ? [secretName(opts.only)] : SECRET_NAMES;
  const origin = opts.logOrigin ?? defaultLogOrigin(cli);
  const values = await Promise.all(names.map(async (n) => [n, await generateSecret(n, origin)] as const));
  if (opts.outDir === undefined) {
    // One value alone (for `| wrangler secret put NAME`), or NAME=value lines (an env file).
    if (opts.only) cli.write(`${values[0]![1]}\n`);
    else cli.write(`${values.map(([n, v]) => envLine(SECRETS[n].env, v)).join('\n')}\n${envLine('KENBAAR_LOG_ORIGIN', origin)}\n`);
    return EXIT_OK;
  }
  const dir = assertOutsideRepository(opts.outDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const taken = values.map(([n]) => join(dir, SECRETS[n].file)).filter((p) => existsSync(p));
  if (taken.length) throw new CliError(EXIT_USAGE, `${taken.join(', ')} exist(s): nothing written (rotate with \`kenbaar secrets rotate\`)`);
  for (const [n, v] of values) writeSecretFile(join(dir, SECRETS[n].file), v);
  cli.write(
    [
      `new production secrets in ${dir} (mode 0600; give each to the hub as its variable, never commit them):`,
      ...values.map(([n]) => `  ${SECRETS[n].file.padEnd(17)} ${SECRETS[n].env.padEnd(20)} ${SECRETS[n].what}`),
      ...(names.includes('log-key') ? [`  the log key is named after the log's origin: set KENBAAR_LOG_ORIGIN=${origin}`] : []),
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

function secretName(text: string): SecretName {
  if ((SECRET_NAMES as string[]).includes(text)) return text as SecretName;
  throw new CliError(EXIT_USAGE, `"${text}" is not a secret; one of ${SECRET_NAMES.join(', ')}`);
}

export type RotateOptions = { dir?: string; logOrigin?: string };

export async function secretsRotateCommand(cli: Cli, which: string, opts: RotateOptions): Promise<number> {
  const name = secretName(which);
  const { env, file } = SECRETS[name];
  const path = opts.dir !== undefined ? join(assertOutsideRepository(opts.dir), file) : undefined;
  const fromEnv = { 'hub-key': cli.settings.hubKeySecret, 'signing-key': cli.settings.signingKeySecret, 'log-key': cli.settings.logKeySecret }[name];
  let current: string | undefined;
  if (path) {
    if (!existsSync(path)) throw new CliError(EXIT_CONFIG, `${path}: no such file (make it with \`kenbaar secrets generate --out-dir ${opts.dir}\`)`);
    current = readFileSync(path, 'utf8').trim();
  } else current = fromEnv;
  if (!current) throw new CliError(EXIT_CONFIG, `no current ${name}: set ${env}, or give --dir with the file ${file}`);
  const next = await rotateSecret(name, current, opts.logOrigin ?? (name === 'log-key' ? defaultLogOrigin(cli) : ''));
  if (!path) {
    cli.write(`${next}\n`);
    return EXIT_OK;
  }
  writeSecretFile(path, next);
  const howMany = name === 'signing-key' ? (JSON.parse(next) as unknown[]).length : next.split(',').length;
  cli.write(`rotated ${name} in ${path}: a new key first, ${howMany - 1} earlier key(s) kept${name === 'hub-key' ? '' : ' (public only)'}; restart the hub (or \`wrangler secret put ${env}\`)\n`);
  return EXIT_OK;
}
