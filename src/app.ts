// The one Hono app, for every runtime. A request goes:
//   inject (config, db, clock, request id) -> authenticate (/v1) -> wellFormedQuery -> jsonBody (size, type, parse)
//   -> route (zod validation -> covenant decision -> unitOfWork: effect + audit in one transaction)
//   -> onError (problem+json; a refused authenticated request is audit-logged there)
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
import { Problem, problemResponse } from './errors';
import { inject, jsonBody, wellFormedQuery } from './http/middleware';
import { apiServers, documentFailures } from './http/openapi';
import { fieldErrors, fieldName } from './http/schemas';
import { recordRejection } from './http/unit-of-work';
import { lookupRoutes } from './lookups/routes';
import { accessLog, Metrics } from './observe/metrics';
import { metricsRoute, type MetricsOptions } from './observe/scrape';
import { matchRoutes } from './matches/routes';
import { lookupRateLimit, memoryRateLimiter, type RateLimiter } from './rate-limit/limiter';
import { registrationRoutes } from './registrations/routes';
import { DATABASE_FREE_PATHS, systemRoutes } from './system/routes';

export type DepsProvider = (c: Context<AppEnv>) => Deps | Promise<Deps>;

export type AppOptions = {
  /**
   * Where the API reference's Swagger UI assets are served from (`<base>/swagger-ui-dist/...`). The
   * Node entry serves them itself, so /docs works offline; without it they come from a CDN.
   */
  docsAssetsBase?: string;
  /** One JSON access log line per request to the injected log (serve and the Worker turn it on). */
  accessLog?: boolean;
  /** GET /metrics behind its own bearer token (absent: no such route), with the edge's pool state. */
  metrics?: Omit<MetricsOptions, 'metrics'>;
  /** Counts lookups against the covenant's rate limits; one in memory per app by default. */
  rateLimiter?: RateLimiter;
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
  // Authenticate before reading the body: a stranger's body is never parsed, and a partner's
  // broken body (malformed, wrong type, too large) is a logged attempt that burns its token.
  app.use('/v1/*', authenticate([PUBLIC_CHECKPOINT_PATH]));
  app.use('/v1/*', wellFormedQuery());
  app.use('/v1/*', jsonBody());
  app.use('/v1/*', lookupRateLimit(options.rateLimiter ?? memoryRateLimiter()));

  systemRoutes(app);
  registrationRoutes(app);
  lookupRoutes(app);
  matchRoutes(app);
  auditRoutes(app);
  disclosureRoutes(app);
  decisionRoutes(app);
  handoverRoutes(app);

  documentFailures(app, DATABASE_FREE_PATHS);

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
    let problem: Problem;
    if (err instanceof Problem) problem = err;
    else if (err instanceof HTTPException && err.status < 500) {
      problem = new Problem(err.status === 413 ? 'payload-too-large' : 'invalid-request', err.message);
    } else {
      console.error(`[${c.var.requestId}] ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      problem = new Problem('internal', 'The request failed; nothing was answered');
    }
    // A refused request of an authenticated partner is an access attempt: log it (and burn its jti).
    if (problem.status >= 400 && problem.status < 500 && c.get('actor') && !c.get('audited')) {
      try {
        problem = await recordRejection(c, problem);
      } catch (e) {
        console.error(`[${c.var.requestId}] could not log a rejected request: ${String(e)}`);
        problem = new Problem('audit-unavailable');
      }
    }
    const headers: Record<string, string> = { 'x-request-id': c.var.requestId ?? '' };
    if (problem.status === 401) headers['www-authenticate'] = 'Bearer realm="kenbaar"';
    if (typeof problem.extensions.retryAfter === 'number') headers['retry-after'] = String(problem.extensions.retryAfter);
    return problemResponse(problem, c.req.path, headers);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
