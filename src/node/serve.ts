// Node edge: serve the app over HTTP, and run the log's background work: sequence new audit entries
// every second, sign a checkpoint every minute, purge by the covenant's retention every hour.
import { serve, type ServerType } from '@hono/node-server';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createApp, type App } from '../app';
import { createCheckpoint } from '../audit/checkpoint';
import { integrateAll } from '../audit/store';
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

export function startBackgroundWork(database: Database, config: HubConfig, clock: Clock, schedule: Schedule = DEFAULT_SCHEDULE) {
  const busy = new Set<string>();
  // One run of each job at a time; a failure is reported and retried at the next tick.
  const job = (name: string, fn: () => Promise<unknown>) => async () => {
    if (busy.has(name)) return;
    busy.add(name);
    try {
      await fn();
    } catch (e) {
      console.error(`[kenbaar] ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
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
  opts: { host: string; port: number; clock?: Clock; schedule?: Schedule; consoleOrigin?: string },
): Promise<Running> {
  const clock = opts.clock ?? (() => new Date());
  const app = createApp(() => ({ config, db: database.db, clock }), { docsAssetsBase: DOCS_ASSETS, console: { assets: readConsoleAssets(), origin: opts.consoleOrigin } });
  serveDocsAssets(app);
  const stopWork = startBackgroundWork(database, config, clock, opts.schedule);
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
