// `kenbaar witness keygen` and `kenbaar witness serve`: a partner runs a witness for the hub's audit
// log (c2sp.org/tlog-witness). The witness key is a note signer key of type 0x04 (cosignatures);
// its verifier key goes into the covenant's `witnesses:` so the hub asks it to cosign.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { formatSignerKey, formatVerifierKey, generateSigner, parseSignerKey, parseVerifierKey, SIG_COSIGNATURE, SIG_ED25519, type NoteKey } from '../../log/note';
import { memoryStore, witnessApp, type WitnessedHead } from '../../witness/witness';
import type { Cli } from './common';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from './exit';

export type WitnessServeOptions = { key: string; log: string[]; state: string; host?: string; port?: string };

export function witnessKeygenCommand(cli: Cli, opts: { name: string; out: string }): number {
  if (existsSync(opts.out)) throw new CliError(EXIT_USAGE, `${opts.out} exists; not overwriting a witness key`);
  const signer = generateSigner(opts.name, SIG_COSIGNATURE);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${formatSignerKey(signer)}\n`, { mode: 0o600 });
  cli.write(`witness key written to ${opts.out} (keep it secret)\nverifier key, for the covenant's witnesses.keys[].vkey:\n${formatVerifierKey(signer)}\n`);
  return EXIT_OK;
}

export type RunningWitness = { url: string; vkey: string; stop(): Promise<void> };

/** Starts a witness on host:port (0: any free port). */
export async function startWitness(opts: WitnessServeOptions): Promise<RunningWitness> {
  let signer;
  try {
    signer = parseSignerKey(readFileSync(opts.key, 'utf8'));
  } catch (e) {
    throw new CliError(EXIT_CONFIG, `--key ${opts.key}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (signer.type !== SIG_COSIGNATURE) throw new CliError(EXIT_CONFIG, '--key: not a cosignature (0x04) key; make one with `kenbaar witness keygen`');
  const logs = new Map<string, NoteKey[]>();
  for (const v of opts.log) {
    let key: NoteKey;
    try {
      key = parseVerifierKey(v);
    } catch (e) {
      throw new CliError(EXIT_USAGE, `--log: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (key.type !== SIG_ED25519) throw new CliError(EXIT_USAGE, '--log: a log key is an Ed25519 (0x01) verifier key, as GET /log/vkey serves it');
    logs.set(key.name, [...(logs.get(key.name) ?? []), key]);
  }
  if (logs.size === 0) throw new CliError(EXIT_USAGE, 'name at least one log: --log <vkey> (from the hub: GET /log/vkey)');
  const initial = existsSync(opts.state) ? (JSON.parse(readFileSync(opts.state, 'utf8')) as Record<string, WitnessedHead>) : {};
  const store = memoryStore(initial, async (all) => {
    // Persist before answering (the spec requires it), atomically: write, then rename.
    mkdirSync(dirname(opts.state), { recursive: true });
    writeFileSync(`${opts.state}.tmp`, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${opts.state}.tmp`, opts.state);
  });
  const app = witnessApp({ signer, logs, now: () => new Date() }, store);
  const host = opts.host ?? '127.0.0.1';
  const port = Number(opts.port ?? 8788);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    vkey: formatVerifierKey(signer),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would hold close() for seconds.
        if ('closeAllConnections' in server) server.closeAllConnections();
      }),
  };
}

export async function witnessServeCommand(cli: Cli, opts: WitnessServeOptions): Promise<number> {
  const w = await startWitness(opts);
  cli.write(`witness ${w.vkey.split('+')[0]} listening on ${w.url} (POST ${w.url}/add-checkpoint)\n  verifier key ${w.vkey}\n  state        ${opts.state}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await w.stop();
  return EXIT_OK;
}
