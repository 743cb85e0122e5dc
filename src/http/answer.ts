// Headers of the answer (the request id, the receipt): set on the context BEFORE the route builds
// its response, so that Hono builds it once with them. A header set after the response exists
// (`c.header` in a middleware after `await next()`) makes Hono copy the Response, and on Node the
// @hono/node-server adapter then loses its fast path and streams the copied body (BENCHMARKS.md,
// issue 10). Answers that are not built through the context (onError's problem+json, a handler's
// own `new Response`) take the same headers from `answerHeaders`.
import type { Context } from 'hono';
import type { AppEnv } from '../config';

/** Sets a header of this request's answer, remembered for answers built outside the context too. */
export function answerHeader(c: Context<AppEnv>, name: string, value: string): void {
  const headers = c.get('answerHeaders');
  if (headers) headers[name] = value;
  else c.set('answerHeaders', { [name]: value });
  c.header(name, value);
}

/** The headers every answer of this request carries. */
export function answerHeaders(c: Context<AppEnv>): Record<string, string> {
  return c.get('answerHeaders') ?? {};
}

/**
 * After the route: an answer built without the context's headers (rare: a route's own Response) gets
 * them now, the slow way; one that has them (every c.json/c.body answer) is left as it is.
 */
export function ensureAnswerHeaders(c: Context<AppEnv>): void {
  const headers = c.get('answerHeaders');
  if (!headers) return;
  const res = c.res.headers;
  for (const name in headers) if (res.get(name) !== headers[name]) c.header(name, headers[name]!);
}
