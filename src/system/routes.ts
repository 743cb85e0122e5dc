// Unauthenticated system routes: readiness (/health) and liveness (/livez), the hub's public keys,
// problem type descriptions.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../config';
import { errorCode } from '../db/errors';
import { Problem, PROBLEMS, type ProblemType } from '../errors';
import { hashing } from '../hashing';
import { problemResponses } from '../http/schemas';

/** The routes that answer without the database (all others answer 503 while it is away). */
export const DATABASE_FREE_PATHS: readonly string[] = ['/livez', '/.well-known/jwks.json', '/problems/{type}', '/log/vkey'];

const health = createRoute({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  tags: ['System'],
  security: [],
  summary: 'Readiness: the database answers; and the covenant in force',
  description: 'For a load balancer or orchestrator: 503 (`/problems/database-unavailable`, with Retry-After) while the database does not answer, so no requests are sent here.',
  responses: {
    200: {
      description: 'Ready',
      content: {
        'application/json': {
          schema: z.object({
            status: z.literal('ok'),
            covenant: z.string(),
            covenantVersion: z.string(),
            database: z.literal('ok'),
            hashing: z.enum(['native', 'noble']).openapi({ description: 'SHA-256/HMAC implementation in use: the runtime’s native one, or @noble/hashes where it has none' }),
          }),
        },
      },
    },
    ...problemResponses(503),
  },
});

const livez = createRoute({
  method: 'get',
  path: '/livez',
  operationId: 'getLiveness',
  tags: ['System'],
  security: [],
  summary: 'Liveness: the process answers (the database is not asked)',
  description: 'For a supervisor that restarts a hung process: 200 as long as the process serves HTTP, also while the database is away (that is /health).',
  responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
});

const jwks = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  operationId: 'getJwks',
  tags: ['System'],
  security: [],
  summary: "The hub's public signing keys (checkpoints, grants), including retired ones still in use",
  responses: { 200: { description: 'JWKS', content: { 'application/json': { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } } } },
});

const problem = createRoute({
  method: 'get',
  path: '/problems/{type}',
  operationId: 'getProblemType',
  tags: ['System'],
  security: [],
  summary: 'What a problem type means',
  request: { params: z.object({ type: z.string() }) },
  responses: {
    200: { description: 'Problem type', content: { 'application/json': { schema: z.object({ type: z.string(), title: z.string(), status: z.number() }) } } },
    ...problemResponses(404),
  },
});

export function systemRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(health, async (c) => {
    try {
      await c.var.db.execute(sql`select 1`);
    } catch (e) {
      c.var.log('warn', 'health.database-unavailable', { code: errorCode(e) });
      throw new Problem('database-unavailable', 'The database does not answer');
    }
    const cov = c.var.config.covenant;
    return c.json({ status: 'ok' as const, covenant: cov.id, covenantVersion: cov.version, database: 'ok' as const, hashing: hashing.name }, 200);
  });

  app.openapi(livez, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(jwks, (c) => c.json({ keys: c.var.config.signer.published as Record<string, unknown>[] }, 200));

  app.openapi(problem, (c) => {
    const type = c.req.valid('param').type;
    if (!(type in PROBLEMS)) throw new Problem('not-found', `No problem type ${type}`);
    const def = PROBLEMS[type as ProblemType];
    return c.json({ type: `/problems/${type}`, title: def.title, status: def.status }, 200);
  });
}
