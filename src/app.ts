// The one Hono app, for every runtime. A request goes:
//   accessLog -> inject (config, db, raw, clock, log, request id) -> receipts -> authenticate (/v1)
//   -> wellFormedQuery -> jsonBody (size, type, UTF-8, parse) -> lookupRateLimit
//   -> route (zod validation -> covenant decision -> unitOfWork or readThenLog: effect + audit entries
//      committed before the answer, with a receipt for the entries)
//   -> onError (problem+json: 503 + Retry-After when the database is away, 500 only for a bug;
//      a refused authenticated request is audit-logged there; the server log gets codes and ids)
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { auditRoutes, PUBLIC_CHECKPOINT_PATH } from './audit/routes';
import { decisionRoutes } from './disclosures/decision-routes';
import { handoverRoutes } from './disclosures/handover-routes';
import { disclosureRoutes } from './disclosures/routes';
import { authenticate } from './auth/middleware';
import type { AppEnv, Deps } from './config';
import { classifyDbError, errorCode, isDatabaseError } from './db/errors';
import { Problem, problemResponse } from './errors';
import { answerHeaders } from './http/answer';
import { inject, jsonBody, wellFormedQuery, type EdgeBody } from './http/middleware';
import { apiServers, documentFailures } from './http/openapi';
import { fieldErrors, fieldName, ProblemSchema } from './http/schemas';
import { codeLocation } from './log';
import { recordRejection } from './http/unit-of-work';
import { logRoutes } from './log/routes';
import { lookupRoutes } from './lookups/routes';
import { accessLog, Metrics } from './observe/metrics';
import { metricsRoute, type MetricsOptions } from './observe/scrape';
import { matchRoutes } from './matches/routes';
import { lookupRateLimit, memoryRateLimiter, type RateLimiter } from './rate-limit/limiter';
import { registrationRoutes } from './registrations/routes';
import { DATABASE_FREE_PATHS, systemRoutes } from './system/routes';
import { consoleApp, type ConsoleOptions } from './console/index';
import { documentWebhooks } from './webhooks/openapi';

export type DepsProvider = (c: Context<AppEnv>) => Deps | Promise<Deps>;

export type AppOptions = {
  /**
   * Where the API reference's Swagger UI assets are served from (`<base>/swagger-ui-dist/...`). The
   * Node entry serves them itself, so /docs works offline; without it they come from a CDN.
   */
  docsAssetsBase?: string;
  /** One JSON access log line per request to the injected log (serve and the Worker turn it on). */
  accessLog?: boolean;
  /** GET /metrics behind its own bearer token (absent: no such route), with the edge's pool state and gauges. */
  metrics?: Omit<MetricsOptions, 'metrics'>;
  /** Counts lookups against the covenant's rate limits; one in memory per app by default. */
  rateLimiter?: RateLimiter;
  /** The web console at /console (src/console): its assets, and its public origin if not the request's. */
  console?: ConsoleOptions;
  /** The request body as the runtime's edge already read it, if it did (src/node/serve.ts). */
  edgeBody?: EdgeBody;
  /** Receipts on logged answers (default on); off only to measure what they cost (bench/transparency-1m.ts). */
  receipts?: boolean;
};

export function createApp(provide: DepsProvider, options: AppOptions = {}) {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = fieldErrors(result.error.issues).map((e) => ({ field: fieldName(e.path), reason: e.reason }));
        throw new Problem('invalid-request', errors.map((e) => `${e.field}: ${e.reason}`).join('; '), { errors });
      }
    },
  });

  const metrics = new Metrics();
  app.use('*', accessLog(metrics, options.accessLog ?? false));
  app.use('*', inject(provide));
  if (options.metrics) metricsRoute(app, { ...options.metrics, metrics });
  if (options.receipts === false) {
    app.use('*', async (c, next) => {
      c.set('receiptsOff', true);
      await next();
    });
  }
  // Authenticate before reading the body: a stranger's body is never parsed, and a partner's
  // broken body (malformed, wrong type, too large) is a logged attempt that burns its token.
  app.use('/v1/*', authenticate([PUBLIC_CHECKPOINT_PATH]));
  app.use('/v1/*', wellFormedQuery());
  app.use('/v1/*', jsonBody(options.edgeBody));
  app.use('/v1/*', lookupRateLimit(options.rateLimiter ?? memoryRateLimiter()));

  systemRoutes(app);
  registrationRoutes(app);
  lookupRoutes(app);
  matchRoutes(app);
  auditRoutes(app);
  logRoutes(app);
  disclosureRoutes(app);
  decisionRoutes(app);
  handoverRoutes(app);
  if (options.console) app.route('/console', consoleApp(options.console) as never);

  documentUnavailable(app);
  documentFailures(app);
  documentWebhooks(app);

  app.openAPIRegistry.registerComponent('securitySchemes', 'partnerJwt', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT signed (ES256 or EdDSA) by the partner system key listed in keys/<partner>.jwks.json: iss = partner id, sub = the professional, aud = the hub id, role (one of the covenant), unique jti, exp at most 5 minutes after iat; at most 8 KiB, text claims at most 200 characters without U+0000. One token per request.',
  });
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    servers: apiServers(c.req.url),
    info: {
      title: 'kenbaar',
      version: '0.1.0',
      license: { name: 'EUPL-1.2', identifier: 'EUPL-1.2' },
      description: `Purpose-bound "known by" lookups over pseudonymised registrations for the Zorg- en Veiligheidshuis covenant ${c.var.config.covenant.id} (version ${c.var.config.covenant.version}).`,
    },
  }));
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'kenbaar API', ...(options.docsAssetsBase ? { baseUrl: options.docsAssetsBase } : {}) }));

  // Thrown, not answered here: onError logs an authenticated partner's request for a route that does not exist.
  app.notFound((c) => {
    throw new Problem('not-found', `No route ${c.req.method} ${c.req.path}`);
  });

  app.onError(async (err, c) => {
    const log = c.var.log;
    let problem = toProblem(err, c);
    // A refused request of an authenticated partner is an access attempt: log it (and burn its jti).
    if (problem.status >= 400 && problem.status < 500 && c.get('actor') && !c.get('audited')) {
      try {
        problem = await recordRejection(c, problem);
      } catch (e) {
        log('error', 'request.rejection-not-logged', { requestId: c.var.requestId, code: errorCode(e) });
        problem = classifyDbError(e)?.kind === 'unavailable' ? new Problem('database-unavailable') : new Problem('audit-unavailable');
      }
    }
    // The request id and the receipt of whatever this request logged (src/http/answer.ts).
    const headers: Record<string, string> = { 'x-request-id': c.get('requestId') ?? '', ...answerHeaders(c) };
    if (problem.status === 401) headers['www-authenticate'] = 'Bearer realm="kenbaar"';
    if (problem.status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
    if (typeof problem.extensions.retryAfter === 'number') headers['retry-after'] = String(problem.extensions.retryAfter);
    return problemResponse(problem, c.req.path, headers);
  });

  return app;
}

/** What a 503 tells the client to wait before trying again. */
export const RETRY_AFTER_SECONDS = 5;

/** In the API document: every route that needs the database may answer 503 database-unavailable. */
function documentUnavailable(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route' || DATABASE_FREE_PATHS.includes(def.route.path)) continue;
    def.route.responses[503] ??= {
      description: `The database is unavailable (\`/problems/database-unavailable\`), or the audit log could not be written (\`/problems/audit-unavailable\`); nothing was stored. Retry after the seconds in Retry-After (${RETRY_AFTER_SECONDS}).`,
      headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before trying again' } },
      content: { 'application/problem+json': { schema: ProblemSchema } },
    };
  }
}

/**
 * Any error as a problem. The server log gets its code and the request id only: a database error's
 * message and stack quote the failed query's parameters (pseudonyms, contacts, references).
 */
function toProblem(err: unknown, c: Context<AppEnv>): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof HTTPException && err.status < 500) {
    return new Problem(err.status === 413 ? 'payload-too-large' : 'invalid-request', err.message);
  }
  const failure = classifyDbError(err);
  if (failure) {
    c.var.log('warn', 'database.unavailable', { requestId: c.var.requestId, code: failure.code });
    return new Problem('database-unavailable');
  }
  c.var.log('error', 'request.failed', { requestId: c.var.requestId, code: errorCode(err), where: isDatabaseError(err) ? [] : codeLocation(err) });
  return new Problem('internal', 'The request failed; nothing was answered');
}

export type App = ReturnType<typeof createApp>;
