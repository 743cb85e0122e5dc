// `kenbaar serve` (npm start): run the hub until SIGINT/SIGTERM. The hub never reads the covenant
// key: pseudonymising is the partners' business.
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { generateTestBsn } from '../../pseudonym/bsn';
import type { Database } from '../database';
import { consoleOrigin, type NodeSettings } from '../env';
import { logCovenantLoaded, openHubDatabase } from '../hub';
import { ROOT } from '../paths';
import { isClusterWorker, runClusterWorker, startCluster } from '../cluster';
import { startServer, type Running } from '../serve';
import { type Cli } from './common';
import { describeDatabase, loadHubConfig, lockDataDir } from './hub-access';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from './exit';

export type ServeOptions = { host?: string; port?: string; workers?: string };

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(EXIT_USAGE, `--port must be a port number (0-65535), not "${text}"`);
  return port;
}

/** `--workers`: 1 to 64 processes; more than one needs PostgreSQL. */
function parseWorkers(text: string | undefined, settings: NodeSettings): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new CliError(EXIT_USAGE, `--workers must be a number of processes (1-64), not "${text}"`);
  if (n > 1 && !settings.databaseUrl) {
    throw new CliError(
      EXIT_USAGE,
      '--workers needs a PostgreSQL server (DATABASE_URL): the embedded PGlite database lives inside one process and cannot be shared by several',
    );
  }
  return n;
}

/** How to run the CLI from here: `node bin/kenbaar.js`, relative to the working directory. */
function cliInvocation(): string {
  const bin = relative(process.cwd(), join(ROOT, 'bin', 'kenbaar.js'));
  return `node ${bin.includes(' ') ? JSON.stringify(bin) : bin}`;
}

/** Fail before touching the database when the port is taken (most likely: a hub already runs). */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(new CliError(EXIT_CONFIG, `cannot listen on ${host}:${port}: ${e.code === 'EADDRINUSE' ? 'the port is in use (is a hub already running?)' : e.code ?? e.message}`)),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

function tryItGuide(url: string): string {
  // A fixed generated test BSN (elfproef-valid, never a real person's on purpose).
  let seed = 7;
  const bsn = generateTestBsn(() => ((seed = (seed * 48271) % 2147483647) / 2147483647));
  const cli = cliInvocation();
  return [
    '',
    'Try it:',
    `  API docs (OpenAPI, try requests)   ${url}/docs`,
    `  The Den Ouden case, as a demo       npm run demo -- --url ${url}`,
    '  A lookup by the procesregisseur, with a fresh development token (one token per request):',
    `    curl -s -X POST ${url}/v1/lookups \\`,
    `      -H "authorization: Bearer $(${cli} token --as gemeente --role procesregisseur)" \\`,
    `      -H 'content-type: application/json' \\`,
    `      -d "{\\"subject\\":\\"$(echo ${bsn} | ${cli} pseudonymise)\\",\\"purpose\\":\\"procesregie-casus-op-maat\\",\\"caseRef\\":\\"ZVH-TRY-1\\"}"`,
    '',
  ].join('\n');
}

export async function serveCommand(cli: Cli, opts: ServeOptions): Promise<number> {
  const { settings, write, warn } = cli;
  const host = opts.host ?? settings.host;
  const port = opts.port !== undefined ? parsePort(opts.port) : settings.port;
  const workers = parseWorkers(opts.workers, settings);
  if (isClusterWorker()) {
    // A process forked by `serve --workers N`: the primary made the keys, migrated and runs the timers.
    await runClusterWorker(settings, (await loadHubConfig(settings)).config, { host, port, consoleOrigin: consoleOrigin(settings, port) });
    return EXIT_OK;
  }
  if (settings.covenantKeySecret) {
    warn('note: KENBAAR_COVENANT_KEY is set in the hub\'s environment; the hub never uses it. Keep the covenant key with the partner systems only.');
  }
  const { config, bootstrap } = await loadHubConfig(settings);
  await assertPortFree(host, port);
  const unlock = lockDataDir(settings, `kenbaar serve on ${host}:${port}`);
  let opened: Database | undefined;
  let running: Pick<Running, 'url' | 'stop'>;
  try {
    opened = await openHubDatabase(settings);
    await logCovenantLoaded(opened, config, new Date());
    running =
      workers > 1
        ? await startCluster(opened, config, { workers, onWorkerExit: warn })
        : await startServer(opened, config, { host, port, metricsToken: settings.metricsToken, consoleOrigin: consoleOrigin(settings, port) });
  } catch (e) {
    await opened?.close().catch(() => {});
    unlock();
    throw e;
  }
  const database = opened;

  // Run until a signal; then stop taking requests, finish background work and sign a final
  // checkpoint, so nothing written is left outside a signed head.
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        warn(`${signal} again: exiting without a final checkpoint`);
        process.exit(130);
      }
      stopping = true;
      write(`\n${signal}: stopping…\n`);
      void (async () => {
        let code = EXIT_OK;
        try {
          const final = await running.stop();
          if (final) write(`final checkpoint #${final.id} signed over ${final.size} entries; database closed\n`);
        } catch (e) {
          warn(`could not stop cleanly: ${e instanceof Error ? e.message : String(e)}`);
          code = EXIT_CONFIG;
        } finally {
          await database.close().catch(() => {});
          unlock();
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve(code);
        }
      })();
    };
    // The handlers first, then the banner: a service manager may signal as soon as it sees it.
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    write(
      [
        `kenbaar hub listening on ${running.url}`,
        `  covenant  ${config.covenant.id} (${config.covenant.version})`,
        `  database  ${describeDatabase(settings)}`,
        `  hub id    ${config.hubId} (the audience partner tokens must name)`,
        `  mode      ${settings.production ? 'production' : 'development'}`,
        ...(workers > 1 ? [`  workers   ${workers} processes on one port; sequencer, checkpoints and purge run once, in this one (pid ${process.pid})`] : []),
        '',
      ].join('\n'),
    );
    if (!settings.production) {
      if (bootstrap.created.length) {
        write(`First start: created development secrets and partner keys:\n${bootstrap.created.map((p) => `  ${p}`).join('\n')}\n`);
        write(tryItGuide(running.url));
      } else {
        write(`Development mode. Try: ${running.url}/docs, or npm run demo -- --url ${running.url}\n`);
      }
    }
    write('Stop with Ctrl-C.\n');
  });
}
