// Node edge: serve the app over HTTP, and run the log's background work: sequence new audit entries
// every second, sign a checkpoint every minute (and send it to the witnesses), purge by the
// covenant's retention and prune the log below its minimum index every hour, and, when partners
// have webhooks, deliver the due ones every few seconds. While
// the database is away the jobs fail quietly (one log line per job when it starts, one when it ends)
// and the server keeps answering: 503 on every route that needs the database, 200 on /livez.
// What Node's parser refuses before there is a request is answered as problem+json too (answerClientError).
import { getRequestListener, type ServerType } from '@hono/node-server';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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
import { analyzeChangedTables } from '../db/maintenance';
import { Problem, type ProblemType } from '../errors';
import { jsonLogger, rateLimitedLog, type Logger } from '../log';
import type { Clock, HubConfig } from '../config';
import { purge } from '../retention/purge';
import { readConsoleAssets } from './console-assets';
import { DOCS_ASSETS_BASE, SWAGGER_FILES } from '../docs-assets';
import type { Database } from './database';
import { serveKit } from './kit';
import { deliverWebhooks } from '../webhooks/deliver';
import { batchedStderr } from './stderr';
import { eventLoopGauges } from './event-loop';

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

/**
 * What Node's HTTP parser refuses before a request exists (so before the app, its problem+json and
 * its access log): headers over Node's 16 KiB, chunk extensions over 16 KiB, a request not received
 * within the server's timeouts, and everything else it cannot parse (a NUL, a malformed request
 * line or header) as 400.
 */
const CLIENT_ERRORS: Record<string, ProblemType> = {
  HPE_HEADER_OVERFLOW: 'request-header-too-large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'payload-too-large',
  ERR_HTTP_REQUEST_TIMEOUT: 'request-timeout',
};

/**
 * The server's `clientError` handler: answers problem+json with `Connection: close` and closes the
 * connection, logged as `http.client-error` with Node's error code and the status only (the bytes
 * Node could not parse are the sender's, and never logged). A connection the client reset, or one
 * whose response has already begun, gets no answer (there is no one to answer, or no clean place to).
 */
export function answerClientError(log: Logger) {
  return (err: Error, socket: Duplex): void => {
    const code = errorCode(err);
    // Node's own field: the response of a request still in flight on this connection, if any.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      if (code !== 'ECONNRESET') log('info', 'http.client-error', { code, status: null });
      socket.destroy();
      return;
    }
    const problem = new Problem(CLIENT_ERRORS[code] ?? 'malformed-request');
    log('info', 'http.client-error', { code, status: problem.status });
    const body = JSON.stringify(problem.body());
    socket.end(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
      () => socket.destroy(),
    );
  };
}

/** Node's HTTP timeouts, when not Node's defaults (headers 60 s, whole request 300 s, checked every 30 s). */
export type HttpTimeouts = { headersMs: number; requestMs: number; checkEveryMs: number };

/** A running hub; `stop` resolves to the final checkpoint it signed (none for a `--workers` worker). */
export type Running = { server: ServerType; url: string; stop: () => Promise<Checkpoint | undefined> };

export type Schedule = { integrateMs: number; checkpointMs: number; purgeMs: number; webhooksMs?: number; analyzeMs?: number };
export const DEFAULT_SCHEDULE: Schedule = { integrateMs: 1000, checkpointMs: 60_000, purgeMs: 3_600_000, webhooksMs: 5000, analyzeMs: 15_000 };

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
    // The planner's statistics, where autovacuum does not keep them (src/db/maintenance.ts).
    setInterval(job('analyze', async () => {
      const tables = await analyzeChangedTables(database.db);
      if (tables.length) log('info', 'db.analyzed', { tables });
    }), schedule.analyzeMs ?? DEFAULT_SCHEDULE.analyzeMs!),
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
  opts: { host: string; port: number; clock?: Clock; schedule?: Schedule; log?: Logger; background?: boolean; accessLog?: boolean; metricsToken?: string | undefined; consoleOrigin?: string; httpTimeouts?: HttpTimeouts },
): Promise<Running> {
  const clock = opts.clock ?? (() => new Date());
  // The server log (access lines included) in batches: one stderr write per event-loop turn.
  const stderr = opts.log ? undefined : batchedStderr();
  const log = opts.log ?? jsonLogger(stderr?.write);
  const background = opts.background ?? true;
  // The event loop is measured only where someone can read it: with a metrics token.
  const metered = opts.metricsToken ? { token: opts.metricsToken, eventLoop: eventLoopGauges() } : undefined;
  const app = createApp(() => ({ config, db: database.db, raw: database.raw, clock, log }), {
    docsAssetsBase: DOCS_ASSETS,
    accessLog: opts.accessLog ?? true,
    ...(metered ? { metrics: { token: metered.token, runtime: metered.eventLoop.read, ...(database.pool ? { pool: database.pool } : {}) } } : {}),
    console: { assets: readConsoleAssets(), ...(opts.consoleOrigin ? { origin: opts.consoleOrigin } : {}) },
    edgeBody: readBody,
  });
  serveDocsAssets(app);
  serveKit(app);
  const stopWork = background ? startBackgroundWork(database, config, clock, opts.schedule, log) : async () => {};
  const server = await new Promise<ServerType>((resolve) => {
    const t = opts.httpTimeouts;
    const s = createServer(
      t ? { headersTimeout: t.headersMs, requestTimeout: t.requestMs, connectionsCheckingInterval: t.checkEveryMs } : {},
      withBodyRead(getRequestListener(app.fetch), config.limits.maxBodyBytes),
    );
    // A stranger can send malformed requests at will: at most 20 such lines a second, the rest counted.
    // Seconds of the wall clock, not of `clock` (which tests and the demo may hold still or shift).
    s.on('clientError', answerClientError(rateLimitedLog(log, 20, 1_000)));
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
        metered?.eventLoop.stop();
        stderr?.close();
      }
    },
  };
}
