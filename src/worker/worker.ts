// The Worker: the same app as on Node (createApp), with deps built for workerd, and a cron handler
// for the log's background work and partners' webhooks (Node runs them on timers, see src/node/serve.ts).
import { createApp } from '../app';
import { pruneLog } from '../log/retention';
import { checkpointAndWitness } from '../log/witnessing';
import type { Clock, HubConfig } from '../config';
import type { Db } from '../db/types';
import { purge } from '../retention/purge';
import { deliverWebhooks } from '../webhooks/deliver';
import { DOCS_ASSETS_BASE } from '../docs-assets';
import { CovenantError } from '../covenant/errors';
import { jsonLogger, type Logger } from '../log';
import { Problem, problemResponse } from '../errors';
import { buildWorkerConfig, WorkerConfigError } from './config';
import { connect, type Connection } from './database';
import type { ExecutionContext, ScheduledController, WorkerBundle, WorkerEnv } from './env';

/** The crons in wrangler.toml, and what each runs. Keep the two lists equal. */
export const CRON_JOBS: Record<string, (db: Db, config: HubConfig, now: Date, log: Logger) => Promise<unknown>> = {
  // Sequence what was committed since the last tick, sign a checkpoint over it (createCheckpoint
  // integrates first) and send it to the covenant's witnesses. Entries reach the signed tree within
  // a minute of their commit.
  '* * * * *': (db, config, now, log) => checkpointAndWitness(db, config, now, log),
  // Retention, hourly as on Node: each run appends a purge summary to the log, so not every minute.
  // The log's own retention (pruning below the minimum index) runs after it.
  '0 * * * *': async (db, config, now) => {
    await purge(db, config.covenant, now);
    return pruneLog(db, config.covenant, now);
  },
};

/** Partners' due webhooks go out on this cron too, beside its job (a no-op without KENBAAR_WEBHOOKS). */
export const WEBHOOK_CRON = '* * * * *';

/** What the app sees as `c.env`: the platform bindings and this request's open connections. */
type RequestScope = { env: WorkerEnv; opened: Connection[] };

export type Worker = {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response>;
  scheduled(controller: ScheduledController, env: WorkerEnv, ctx: ExecutionContext): Promise<void>;
};

/** `log`: the server log (JSON lines to the Worker's logs by default). */
export function createWorker(bundle: WorkerBundle, log: Logger = jsonLogger()): Worker {
  const clock: Clock = () => new Date();

  // Once per isolate. A rejected promise stays memoised: a bad covenant or secret fails every
  // request with the same logged error until a deploy fixes it, instead of half-working.
  let config: Promise<HubConfig> | undefined;
  const configFor = (env: WorkerEnv) =>
    (config ??= buildWorkerConfig(env, bundle).catch((e: unknown) => {
      log('error', 'config.failed', configFailure(e));
      throw e;
    }));

  // /docs loads Swagger UI from the Worker's static assets (wrangler.toml [assets]), pinned; the
  // console's files come from the bundle.
  // Access log lines go to the Worker's logs (Workers Logs / tail); /metrics is not served here:
  // counters per isolate say little (use Cloudflare's analytics).
  const app = createApp(
    async (c) => {
      const scope = c.env as RequestScope;
      const deps = { config: await configFor(scope.env), clock, log };
      const connection = connect(scope.env.HYPERDRIVE);
      scope.opened.push(connection);
      return { ...deps, db: connection.db, raw: connection.raw };
    },
    { docsAssetsBase: DOCS_ASSETS_BASE, accessLog: true, ...(bundle.consoleAssets ? { console: { assets: new Map(Object.entries(bundle.consoleAssets)) } } : {}) },
  );

  return {
    async fetch(request, env, ctx) {
      // Secrets not set (a first `wrangler dev` without .dev.vars, a deploy before `wrangler secret
      // put`): say which, on every route, as a 503 problem; not a bare 500.
      const misconfigured = await configFor(env).then(
        () => undefined,
        (e: unknown) => (e instanceof WorkerConfigError ? e : undefined),
      );
      if (misconfigured) return problemResponse(new Problem('hub-misconfigured', misconfigured.message), new URL(request.url).pathname);
      const scope: RequestScope = { env, opened: [] };
      try {
        return await app.fetch(request, scope, ctx);
      } finally {
        // Only now: a pool refuses queries once end() was called, and the app's queries
        // (including onError's audit write for a refused request) are done when fetch returns.
        for (const connection of scope.opened) ctx.waitUntil(connection.close());
      }
    },

    async scheduled(controller, env, ctx) {
      const job = CRON_JOBS[controller.cron];
      if (!job) throw new Error(`no job for cron "${controller.cron}"; known: ${Object.keys(CRON_JOBS).map((c) => `"${c}"`).join(', ')}`);
      const hubConfig = await configFor(env);
      const connection = connect(env.HYPERDRIVE);
      try {
        const ran = await Promise.allSettled([
          job(connection.db, hubConfig, clock(), log),
          controller.cron === WEBHOOK_CRON ? deliverWebhooks(connection.db, hubConfig, clock, log) : undefined,
        ]);
        const failed = ran.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      } finally {
        ctx.waitUntil(connection.close());
      }
    },
  };
}

/**
 * A configuration failure as server-log fields: the error's class and what it names (bindings, the
 * covenant file and place), never a message (a parser's message may quote what it parsed).
 */
function configFailure(e: unknown): Record<string, string | readonly string[]> {
  if (e instanceof WorkerConfigError) return { code: e.name, bindings: e.bindings };
  if (e instanceof CovenantError) return { code: e.name, file: e.file, path: e.path };
  return { code: e instanceof Error ? e.name : typeof e };
}
