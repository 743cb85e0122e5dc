// The one Hono app, for every runtime. A request goes:
//   inject (config, db, clock, request id) -> authenticate (/v1) -> wellFormedQuery -> jsonBody (size, type, parse)
//   -> route (zod validation -> covenant decision -> unitOfWork: effect + audit in one transaction)
//   -> onError (problem+json; a refused authenticated request is audit-logged there)
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { auditRoutes } from './audit/routes';
import { decisionRoutes } from './disclosures/decision-routes';
import { handoverRoutes } from './disclosures/handover-routes';
import { disclosureRoutes } from './disclosures/routes';
import { authenticate } from './auth/middleware';
import type { AppEnv, Deps } from './config';
import { Problem, problemResponse } from './errors';
import { inject, jsonBody, wellFormedQuery } from './http/middleware';
import { fieldErrors, fieldName } from './http/schemas';
import { recordRejection } from './http/unit-of-work';
import { lookupRoutes } from './lookups/routes';
import { matchRoutes } from './matches/routes';
import { registrationRoutes } from './registrations/routes';
import { systemRoutes } from './system/routes';
import { consoleApp, type ConsoleOptions } from './console/index';

export type DepsProvider = (c: Context<AppEnv>) => Deps | Promise<Deps>;

export type AppOptions = {
  /**
   * Where the API reference's Swagger UI assets are served from (`<base>/swagger-ui-dist/...`). The
   * Node entry serves them itself, so /docs works offline; without it they come from a CDN.
   */
  docsAssetsBase?: string;
  /** The web console at /console (src/console): its assets, and its public origin if not the request's. */
  console?: ConsoleOptions;
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

  app.use('*', inject(provide));
  // Authenticate before reading the body: a stranger's body is never parsed, and a partner's
  // broken body (malformed, wrong type, too large) is a logged attempt that burns its token.
  app.use('/v1/*', authenticate());
  app.use('/v1/*', wellFormedQuery());
  app.use('/v1/*', jsonBody());

  systemRoutes(app);
  registrationRoutes(app);
  lookupRoutes(app);
  matchRoutes(app);
  auditRoutes(app);
  disclosureRoutes(app);
  decisionRoutes(app);
  handoverRoutes(app);
  if (options.console) app.route('/console', consoleApp(options.console) as never);

  app.openAPIRegistry.registerComponent('securitySchemes', 'partnerJwt', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A JWT signed (ES256 or EdDSA) by the partner system key listed in keys/<partner>.jwks.json: iss = partner id, sub = the professional, aud = the hub id, role (one of the covenant), unique jti, exp at most 5 minutes after iat; at most 8 KiB, text claims at most 200 characters without U+0000. One token per request.',
  });
  app.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'kenbaar',
      version: '0.1.0',
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
    return problemResponse(problem, c.req.path, headers);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
