// Node edge: serve the app over HTTP, and run the log's background work: sequence new audit entries
// every second, sign a checkpoint every minute, purge by the covenant's retention every hour. While
// the database is away the jobs fail quietly (one log line per job when it starts, one when it ends)
// and the server keeps answering: 503 on every route that needs the database, 200 on /livez.
import { serve, type ServerType } from '@hono/node-server';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createApp, type App } from '../app';
import { createCheckpoint } from '../audit/checkpoint';
import { integrateAll } from '../audit/store';
import { classifyDbError, errorCode } from '../db/errors';
import { jsonLogger, type Logger } from '../log';
import type { Clock, HubConfig } from '../config';
import { purge } from '../retention/purge';
import { readConsoleAssets } from './console-assets';
import type { Database } from './database';

const DOCS_ASSETS = '/docs/assets';
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** The API reference's two Swagger UI files, from the installed swagger-ui-dist: /docs works offline. */
function serveDocsAssets(app: App) {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  app.get(`${DOCS_ASSETS}/swagger-ui-dist/:file`, async (c) => {
    const type = SWAGGER_FILES[c.req.param('file')];
    if (!type) return c.notFound();
    const body = await readFile(join(dir, c.req.param('file')));
    return c.body(body, 200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
  });
}

export type Running = { server: ServerType; url: string; stop: () => Promise<void> };

export type Schedule = { integrateMs: number; checkpointMs: number; purgeMs: number };
export const DEFAULT_SCHEDULE: Schedule = { integrateMs: 1000, checkpointMs: 60_000, purgeMs: 3_600_000 };

export function startBackgroundWork(database: Database, config: HubConfig, clock: Clock, schedule: Schedule = DEFAULT_SCHEDULE, log: Logger = jsonLogger()) {
  const busy = new Set<string>();
  // Jobs failing now: an outage is one line per job when it starts and one when it ends.
  const failing = new Set<string>();
  // One run of each job at a time; a failure is retried at the next tick.
  const job = (name: string, fn: () => Promise<unknown>) => async () => {
    if (busy.has(name)) return;
    busy.add(name);
    try {
      await fn();
      if (failing.delete(name)) log('info', 'job.recovered', { job: name });
    } catch (e) {
      if (!failing.has(name)) log(classifyDbError(e) ? 'warn' : 'error', 'job.failed', { job: name, code: errorCode(e) });
      failing.add(name);
    } finally {
      busy.delete(name);
    }
  };
  const timers = [
    setInterval(job('sequencer', () => integrateAll(database.db, clock())), schedule.integrateMs),
    setInterval(job('checkpoint', () => createCheckpoint(database.db, config.signer, config.hubId, clock())), schedule.checkpointMs),
    setInterval(job('purge', () => purge(database.db, config.covenant, clock())), schedule.purgeMs),
  ];
  for (const t of timers) t.unref();
  return async () => {
    for (const t of timers) clearInterval(t);
    while (busy.size) await new Promise((r) => setTimeout(r, 20));
  };
}

export async function startServer(
  database: Database,
  config: HubConfig,
  opts: { host: string; port: number; clock?: Clock; schedule?: Schedule; log?: Logger; consoleOrigin?: string },
): Promise<Running> {
  const clock = opts.clock ?? (() => new Date());
  const log = opts.log ?? jsonLogger();
  const app = createApp(() => ({ config, db: database.db, clock, log }), { docsAssetsBase: DOCS_ASSETS, console: { assets: readConsoleAssets(), origin: opts.consoleOrigin } });
  serveDocsAssets(app);
  const stopWork = startBackgroundWork(database, config, clock, opts.schedule, log);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    url: `http://${opts.host}:${port}`,
    stop: async () => {
      await stopWork();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A final checkpoint so that nothing written is left outside a signed head.
      await createCheckpoint(database.db, config.signer, config.hubId, clock());
    },
  };
}
