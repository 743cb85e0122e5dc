// Plain middleware functions for the request pipeline (see app.ts for their order).
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv, Deps } from '../config';
import { untrustedText } from '../encoding';
import { Problem } from '../errors';
import { jsonLogger } from '../log';
import { answerHeader, ensureAnswerHeaders } from './answer';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Puts config, db, raw query runner, clock and log into the context (the provider may build them per
 * request: workerd), and the request id on the answer.
 */
export function inject(provide: (c: Context<AppEnv>) => Deps | Promise<Deps>): MiddlewareHandler<AppEnv> {
  const stderr = jsonLogger();
  return async (c, next) => {
    c.set('log', stderr);
    const given = c.req.header('x-request-id');
    const requestId = given && /^[\w.:-]{1,100}$/.test(given) ? given : crypto.randomUUID();
    c.set('requestId', requestId);
    answerHeader(c, 'x-request-id', requestId);
    const deps = await provide(c);
    c.set('config', deps.config);
    c.set('db', deps.db);
    c.set('raw', deps.raw);
    c.set('clock', deps.clock);
    if (deps.log) c.set('log', deps.log);
    c.set('audited', false);
    await next();
    ensureAnswerHeaders(c);
  };
}

/**
 * The request's body as the runtime's edge already read it (Node: src/node/serve.ts withBodyRead
 * reads a body of known length within the limit into one Buffer), or undefined: then it is read
 * from the Request here. Read once either way, and never the Request again after jsonBody.
 */
export type EdgeBody = (c: Context<AppEnv>) => Uint8Array | undefined;

/**
 * Bodies are JSON in UTF-8 (a leading byte-order mark is dropped), parse cleanly, and stay under the
 * configured size; else a clear 4xx. Bytes that are not UTF-8 are refused here rather than silently
 * turned into U+FFFD; what the JSON says (a `\u0000` escape, say) is for the route's schema. The
 * text is handed on to the route's validator (Hono's body cache), so nothing reads the body twice.
 */
export function jsonBody(edgeBody?: EdgeBody): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next();
    const read = edgeBody?.(c);
    // Read by the edge, within the limit: no stream to wrap, no Request to build.
    if (read) return parsed(c, read, next);
    const limit = bodyLimit({
      maxSize: c.var.config.limits.maxBodyBytes,
      onError: () => {
        throw new Problem('payload-too-large', `The body exceeds ${c.var.config.limits.maxBodyBytes} bytes`);
      },
    });
    return limit(c, async () => {
      const length = c.req.header('content-length');
      const hasBody = length !== undefined ? length !== '0' : c.req.raw.body !== null;
      if (!hasBody) return next();
      return parsed(c, undefined, next);
    });
  };
}

async function parsed(c: Context<AppEnv>, bytes: Uint8Array | undefined, next: () => Promise<void>): Promise<void> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new Problem('unsupported-media-type', `Content-Type ${type || '(none)'} is not accepted; send application/json`);
  }
  let body: string;
  try {
    body = utf8Decoder.decode(bytes ?? (await c.req.arrayBuffer()));
  } catch {
    throw new Problem('malformed-json', 'The body is not valid UTF-8');
  }
  try {
    JSON.parse(body);
  } catch {
    throw new Problem('malformed-json', 'The body is not valid JSON');
  }
  // The validator (c.req.valid('json')) parses this text; it does not read the Request again.
  // (The cache holds promises; its declared type says otherwise.)
  (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(body);
  await next();
}

/**
 * The query string is percent-encoded UTF-8 (`%ED%A0%80`, an encoded surrogate, is not): a parameter
 * that does not decode is refused by name, instead of reaching a route as its raw spelling. What
 * the decoded values may be (no U+0000 from `%00`, say) is for the route's schema.
 */
export function wellFormedQuery(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = c.req.url;
    const start = url.indexOf('?');
    if (start >= 0) {
      for (const pair of url.slice(start + 1).split('#')[0]!.split('&')) {
        const eq = pair.indexOf('=');
        const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
        const decodedName = decodes(name);
        if (decodedName === undefined || decodes(value) === undefined) {
          const field = untrustedText(decodedName ?? name, 100);
          throw new Problem('invalid-request', `${field}: not percent-encoded UTF-8`, { errors: [{ field, reason: 'not percent-encoded UTF-8' }] });
        }
      }
    }
    await next();
  };
}

function decodes(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}
