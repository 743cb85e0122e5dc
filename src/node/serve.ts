// Node edge: serve the app over HTTP, and run the log's background work: sequence new audit entries
// every second, sign a checkpoint every minute (and send it to the witnesses), purge by the
// covenant's retention and prune the log below its minimum index every hour, and, when partners
// have webhooks, deliver the due ones every few seconds. While
// the database is away the jobs fail quietly (one log line per job when it starts, one when it ends)
// and the server keeps answering: 503 on every route that needs the database, 200 on /livez.
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createApp, type App } from '../app';
import type { EdgeBody } from '../http/middleware';
import { createCheckpoint } from '../audit/checkpoint';
import { pruneLog } from '../log/retention';
import { checkpointAndWitness } from '../log/witnessing';
import { integrateAll, type Checkpoint } from '../audit/store';
import { classifyDbError, errorCode } from '../db/errors';
import { jsonLogger, type Logger } from '../log';
import type { Clock, HubConfig } from '../config';
import { purge } from '../retention/purge';
import { readConsoleAssets } from './console-assets';
import { DOCS_ASSETS_BASE, SWAGGER_FILES } from '../docs-assets';
import type { Database } from './database';
import { serveKit } from './kit';
import { deliverWebhooks } from '../webhooks/deliver';
import { batchedStderr } from './stderr';

const DOCS_ASSETS = DOCS_ASSETS_BASE;

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

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

type ReadRequest = IncomingMessage & { rawBody?: Buffer };

/** The body withBodyRead read, as the app sees it (the adapter passes the IncomingMessage as c.env.incoming). */
export const readBody: EdgeBody = (c) => (c.env as { incoming?: ReadRequest } | undefined)?.incoming?.rawBody;

/**
 * Read a request's body into one Buffer before the Hono adapter sees it, when its Content-Length is
 * known and within `maxBytes`: the app's jsonBody takes it from there (`readBody`), so the adapter
 * never builds a WHATWG Request or stream for it (a large share of its per-request cost,
 * BENCHMARKS.md). Anything else (no length, too long) takes the adapter's streaming path, where the
 * size limit answers 413 as before.
 */
export function withBodyRead(listener: Listener, maxBytes: number): Listener {
  return (req, res) => {
    const length = Number(req.headers['content-length']);
    if (req.method === 'GET' || req.method === 'HEAD' || !(length > 0 && length <= maxBytes)) return listener(req, res);
    const chunks: Buffer[] = [];
    let got = 0;
    req.on('data', (c: Buffer) => {
      got += c.length;
      chunks.push(c);
    });
    req.once('end', () => {
      if (got <= maxBytes) (req as ReadRequest).rawBody = Buffer.concat(chunks, got);
      void listener(req, res);
    });
    req.once('error', () => res.destroy());
  };
}

/** A running hub; `stop` resolves to the final checkpoint it signed (none for a `--workers` worker). */
export type Running = { server: ServerType; url: string; stop: () => Promise<Checkpoint | undefined> };

export type Schedule = { integrateMs: number; checkpointMs: number; purgeMs: number; webhooksMs?: number };
export const DEFAULT_SCHEDULE: Schedule = { integrateMs: 1000, checkpointMs: 60_000, purgeMs: 3_600_000, webhooksMs: 5000 };

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
    setInterval(job('checkpoint', () => checkpointAndWitness(database.db, config, clock(), log)), schedule.checkpointMs),
    setInterval(job('purge', async () => {
      await purge(database.db, config.covenant, clock());
      await pruneLog(database.db, config.covenant, clock());
    }), schedule.purgeMs),
  ];
  if (config.webhooks?.size) {
    timers.push(setInterval(job('webhooks', () => deliverWebhooks(database.db, config, clock, log)), schedule.webhooksMs ?? DEFAULT_SCHEDULE.webhooksMs!));
  }
  for (const t of timers) t.unref();
  return async () => {
    for (const t of timers) clearInterval(t);
    while (busy.size) await new Promise((r) => setTimeout(r, 20));
  };
}

/**
 * Serve the app; with `background` (the default) also run the log's background work, and sign a
 * final checkpoint on stop. A `serve --workers N` worker passes false: its primary does that work,
 * once for all workers (src/node/cluster.ts).
 */
export async function startServer(
  database: Database,
  config: HubConfig,
  opts: { host: string; port: number; clock?: Clock; schedule?: Schedule; log?: Logger; background?: boolean; accessLog?: boolean; metricsToken?: string | undefined; consoleOrigin?: string },
): Promise<Running> {
  const clock = opts.clock ?? (() => new Date());
  // The server log (access lines included) in batches: one stderr write per event-loop turn.
  const stderr = opts.log ? undefined : batchedStderr();
  const log = opts.log ?? jsonLogger(stderr?.write);
  const background = opts.background ?? true;
  const app = createApp(() => ({ config, db: database.db, raw: database.raw, clock, log }), {
    docsAssetsBase: DOCS_ASSETS,
    accessLog: opts.accessLog ?? true,
    ...(opts.metricsToken ? { metrics: { token: opts.metricsToken, ...(database.pool ? { pool: database.pool } : {}) } } : {}),
    console: { assets: readConsoleAssets(), ...(opts.consoleOrigin ? { origin: opts.consoleOrigin } : {}) },
    edgeBody: readBody,
  });
  serveDocsAssets(app);
  serveKit(app);
  const stopWork = background ? startBackgroundWork(database, config, clock, opts.schedule, log) : async () => {};
  const server = await new Promise<ServerType>((resolve) => {
    const s = createServer(withBodyRead(getRequestListener(app.fetch), config.limits.maxBodyBytes));
    s.listen(opts.port, opts.host, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    server,
    url: `http://${opts.host}:${port}`,
    stop: async () => {
      await stopWork();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        // A final checkpoint so that nothing written is left outside a signed head.
        return background ? await createCheckpoint(database.db, config, clock()) : undefined;
      } finally {
        stderr?.close();
      }
    },
  };
}
