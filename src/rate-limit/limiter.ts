// Rate limits on lookups, as the covenant sets them per partner (`rateLimits`: lookups per minute
// per professional and per partner): an overload guard and a brake on fishing. A family lookup is one
// lookup per subject it names (a household of five costs five tokens). Over the limit the
// request is refused 429 `rate-limited` with Retry-After, and (like any refused request of an
// authenticated partner) logged as `request.rejected` with rule `rate-limit`.
//
// Counting is a token bucket per professional and per partner, in the memory of the app instance
// (createApp makes one; no module state). So on Node one process counts exactly; with
// `kenbaar serve --workers N` each worker process counts on its own (a partner may get up to N times
// the limit); on Cloudflare Workers each isolate counts on its own, which makes the limit a guard
// against a burst on one isolate only. A region that needs an exact limit across processes counts
// in the database or in a Durable Object; the covenant's numbers stay the same.
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../config';
import { Problem } from '../errors';

type Bucket = { tokens: number; at: number };

/**
 * At most this many buckets are kept; beyond, the least recently used is forgotten (as if full: an
 * idle key's bucket refills within a minute anyway). O(1) per lookup, however many keys.
 */
const MAX_BUCKETS = 50_000;

export type RateLimiter = {
  /**
   * Takes `cost` tokens (default 1) from every bucket named, or none: 0 when taken, else the seconds
   * to wait; Infinity when `cost` exceeds a bucket's whole capacity (no wait would let it through).
   */
  take(buckets: readonly { key: string; perMinute: number }[], now: Date, cost?: number): number;
};

export function memoryRateLimiter(maxBuckets = MAX_BUCKETS): RateLimiter {
  // The Map's insertion order is recency: a bucket is re-inserted when it is used, so the first
  // key is always the least recently used one.
  const buckets = new Map<string, Bucket>();
  const level = (key: string, perMinute: number, t: number) => {
    const b = buckets.get(key);
    if (!b) return perMinute;
    return Math.min(perMinute, b.tokens + ((t - b.at) / 60_000) * perMinute);
  };
  return {
    take(named, now, cost = 1) {
      const t = now.getTime();
      let wait = 0;
      for (const { key, perMinute } of named) {
        if (cost > perMinute) return Infinity;
        const have = level(key, perMinute, t);
        if (have < cost) wait = Math.max(wait, Math.ceil(((cost - have) * 60) / perMinute));
      }
      if (wait > 0) return wait;
      for (const { key, perMinute } of named) {
        const tokens = level(key, perMinute, t) - cost;
        buckets.delete(key);
        buckets.set(key, { tokens, at: t });
      }
      while (buckets.size > maxBuckets) buckets.delete(buckets.keys().next().value!);
      return 0;
    },
  };
}

const LOOKUP_PATHS = /^\/v1\/lookups(\/|$)/;
const FAMILY_PATH = '/v1/lookups/family';

/**
 * How many lookups a request is: one per subject of a family lookup (the body was parsed by
 * jsonBody, so Hono has it cached), else one. A body the route will refuse still costs one.
 */
async function lookupCost(c: Context<AppEnv>): Promise<number> {
  if (c.req.path !== FAMILY_PATH) return 1;
  const body: unknown = await c.req.json().catch(() => undefined);
  const subjects = typeof body === 'object' && body !== null ? (body as { subjects?: unknown }).subjects : undefined;
  return Array.isArray(subjects) ? Math.max(1, subjects.length) : 1;
}

/**
 * After authentication and jsonBody: a lookup (POST /v1/lookups[/...]) counts against the
 * covenant's limits of the token's partner, a family lookup one per subject.
 */
export function lookupRateLimit(limiter: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' || !LOOKUP_PATHS.test(c.req.path)) return next();
    const actor = c.get('actor');
    const limits = actor && c.get('config').covenant.partners.get(actor.partner)?.rateLimits;
    if (!limits) return next();
    const named: { key: string; perMinute: number }[] = [];
    if (limits.lookupsPerMinutePerProfessional) named.push({ key: `sub:${actor.partner}:${actor.sub}`, perMinute: limits.lookupsPerMinutePerProfessional });
    if (limits.lookupsPerMinutePerPartner) named.push({ key: `partner:${actor.partner}`, perMinute: limits.lookupsPerMinutePerPartner });
    const cost = await lookupCost(c);
    const wait = limiter.take(named, c.get('clock')(), cost);
    if (wait === Infinity) {
      throw new Problem('rate-limited', `${cost} lookups at once exceed what the covenant allows per minute; ask for fewer subjects at a time`, { rule: 'rate-limit' });
    }
    if (wait > 0) {
      throw new Problem('rate-limited', `Too many lookups; retry after ${wait} s`, { rule: 'rate-limit', retryAfter: wait });
    }
    return next();
  };
}
