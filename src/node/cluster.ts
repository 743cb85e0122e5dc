// `kenbaar serve --workers N`: N hub processes (node:cluster) answering on one port, against one
// PostgreSQL database. The primary migrates, logs the covenant it enforces, and runs the log's
// background work (sequencer, checkpoints, purge) once for all of them; the workers only answer
// requests. Writers never coordinate anyway (they only INSERT audit entries; the sequencer takes the
// log head's row lock), so the log stays linear whatever the number of processes.
import cluster, { type Worker } from 'node:cluster';
import { createCheckpoint } from '../audit/checkpoint';
import type { HubConfig } from '../config';
import type { Database } from './database';
import type { NodeSettings } from './env';
import { openHubDatabase } from './hub';
import { startBackgroundWork, startServer, type Running } from './serve';

export const isClusterWorker = (): boolean => cluster.isWorker;

type Listening = { kenbaar: 'listening'; url: string };
const isListening = (m: unknown): m is Listening => typeof m === 'object' && m !== null && (m as Listening).kenbaar === 'listening';

/**
 * The primary: fork the workers (each re-runs this command line, and so listens on the same host and
 * port) and run the background work here. Resolves once every worker listens.
 */
export async function startCluster(
  database: Database,
  config: HubConfig,
  opts: { workers: number; onWorkerExit?: (message: string) => void },
): Promise<Pick<Running, 'url' | 'stop'>> {
  const clock = () => new Date();
  let stopping = false;
  let url: string | undefined;
  const listening = new Set<Worker>();

  const fork = () =>
    new Promise<void>((resolve, reject) => {
      const worker = cluster.fork();
      worker.on('message', (m: unknown) => {
        if (!isListening(m)) return;
        url = m.url;
        listening.add(worker);
        resolve();
      });
      worker.once('exit', (code, signal) => {
        const was = listening.delete(worker);
        if (stopping) return;
        if (!was) return reject(new Error(`a hub worker exited before it listened (${signal ?? `exit code ${code}`})`));
        // A worker that served and died is replaced; the others keep answering meanwhile.
        opts.onWorkerExit?.(`hub worker ${worker.process.pid} exited (${signal ?? `exit code ${code}`}); starting another`);
        fork().catch((e: unknown) => opts.onWorkerExit?.(e instanceof Error ? e.message : String(e)));
      });
    });

  try {
    await Promise.all(Array.from({ length: opts.workers }, fork));
  } catch (e) {
    stopping = true;
    await new Promise<void>((resolve) => cluster.disconnect(() => resolve()));
    throw e;
  }
  const stopWork = startBackgroundWork(database, config, clock);
  return {
    url: url!,
    stop: async () => {
      stopping = true;
      // Workers close their servers (finishing requests in flight) and their connections, then exit.
      await new Promise<void>((resolve) => cluster.disconnect(() => resolve()));
      await stopWork();
      // A final checkpoint so that nothing written is left outside a signed head.
      return createCheckpoint(database.db, config, clock());
    },
  };
}

/** A worker: serve until the primary disconnects (it is stopping) or this process gets SIGTERM. */
export async function runClusterWorker(settings: NodeSettings, config: HubConfig, opts: { host: string; port: number; consoleOrigin?: string }): Promise<void> {
  const database = await openHubDatabase(settings); // the primary migrated already: nothing to apply
  const running = await startServer(database, config, { ...opts, background: false });
  process.send!({ kenbaar: 'listening', url: running.url } satisfies Listening);
  // Ctrl-C reaches every process of the terminal's group: the primary decides when workers stop.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('disconnect', stop);
      process.off('SIGTERM', stop);
      void running
        .stop()
        .catch(() => {})
        .finally(() => {
          void database.close().finally(() => {
            process.off('SIGINT', ignore);
            if (process.connected) process.disconnect();
            resolve();
          });
        });
    };
    process.once('disconnect', stop);
    process.once('SIGTERM', stop);
  });
}
