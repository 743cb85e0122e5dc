// Plain middleware functions for the request pipeline (see app.ts for their order).
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { AppEnv, Deps } from '../config';
import { Problem } from '../errors';

/** Puts config, db and clock into the context. The provider may build them per request (workerd). */
export function inject(provide: (c: Context<AppEnv>) => Deps | Promise<Deps>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = await provide(c);
    c.set('config', deps.config);
    c.set('db', deps.db);
    c.set('raw', deps.raw);
    c.set('clock', deps.clock);
    c.set('audited', false);
    const given = c.req.header('x-request-id');
    c.set('requestId', given && /^[\w.:-]{1,100}$/.test(given) ? given : crypto.randomUUID());
    await next();
    c.header('x-request-id', c.var.requestId);
  };
}

/** Bodies are JSON, parse cleanly, and stay under the configured size; else a clear 4xx. */
export function jsonBody(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next();
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
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json' && !type.endsWith('+json')) {
        throw new Problem('unsupported-media-type', `Content-Type ${type || '(none)'} is not accepted; send application/json`);
      }
      try {
        await c.req.json();
      } catch {
        throw new Problem('malformed-json', 'The body is not valid JSON');
      }
      await next();
    });
  };
}
