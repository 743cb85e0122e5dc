// What the API document says about every operation at once: the failures any route can answer
// (500 internal; 429 on lookups, which the covenant's rate limits count; 503 where the database is
// needed: documentUnavailable in app.ts), and where the hub is reached (`servers`).
// Each route declares its own operationId and security (`[]` for public routes) in its route file.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../config';
import { ProblemSchema } from './schemas';

const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

/** Adds the responses every operation may give: 500 (`/problems/internal`), and 429 on lookups. */
export function documentFailures(app: OpenAPIHono<AppEnv>) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    def.route.responses[500] ??= problem('A bug on the hub’s side (`/problems/internal`); nothing was stored. The response carries the request id in `x-request-id`.');
    if (def.route.path.startsWith('/v1/lookups')) {
      def.route.responses[429] ??= {
        ...problem("Over the covenant's lookups per minute per professional or per partner (`/problems/rate-limited`, rule `rate-limit`); logged. Retry after the seconds in Retry-After."),
        headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds until a lookup is allowed again' } },
      };
    }
  }
}

/** `servers` of the API document: the origin the document was fetched from. */
export function apiServers(requestUrl: string) {
  return [{ url: new URL(requestUrl).origin, description: 'This hub' }];
}
