// Bearer-token middleware for /v1: verifies the partner JWT and puts the actor in the context.
// Every failure is an audit entry before the 401 goes out. A role the covenant does not know at all
// is such a failure too: the token is genuine, but it is not a credential under this covenant.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { recordAuthFailure } from '../http/unit-of-work';
import { AuthError, verifyPartnerToken } from './token';

/** `publicPaths`: exact paths under the authenticated prefix that need no token (GET only). */
export function authenticate(publicPaths: readonly string[] = []): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' && publicPaths.includes(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const config = c.get('config');
    const clock = c.get('clock');
    try {
      if (!match) throw new AuthError('missing-token', 'An Authorization: Bearer <JWT> header is required');
      const verified = await verifyPartnerToken(match[1]!, config.keyring, {
        audience: config.hubId,
        now: clock(),
        maxLifetimeSeconds: config.limits.tokenMaxLifetimeSeconds,
        clockSkewSeconds: config.limits.clockSkewSeconds,
      });
      const { role } = verified.actor;
      if (!config.covenant.roles.has(role)) {
        throw new AuthError('unknown-role', `Role "${role}" is not a role of covenant ${config.covenant.id}`, { iss: verified.actor.partner, sub: verified.actor.sub, role }, 'role');
      }
      c.set('actor', verified.actor);
      c.set('token', { jti: verified.jti, exp: verified.exp });
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      await recordAuthFailure(c, e);
      throw new Problem('unauthenticated', e.message, { reason: e.reason, ...(e.claim ? { errors: [{ field: `token.${e.claim}`, reason: e.message }] } : {}) });
    }
    await next();
  };
}
