// Rate limits on lookups, as the covenant sets them per partner (`rateLimits`: lookups per minute
// per professional and per partner): an overload guard and a brake on fishing. Over the limit the
// request is refused 429 `rate-limited` with Retry-After, and (like any refused request of an
// authenticated partner) logged as `request.rejected` with rule `rate-limit`.
//
// Counting is a token bucket per professional and per partner, in the memory of the app instance
// (createApp makes one; no module state). So on Node one process counts exactly; with
// `kenbaar serve --workers N` each worker process counts on its own (a partner may get up to N times
// the limit); on Cloudflare Workers each isolate counts on its own, which makes the limit a guard
// against a burst on one isolate only. A region that needs an exact limit across processes counts
// in the database or in a Durable Object; the covenant's numbers stay the same.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../config';
import { Problem } from '../errors';

type Bucket = { tokens: number; at: number };

/**
 * At most this many buckets are kept; beyond, the least recently used is forgotten (as if full: an
 * idle key's bucket refills within a minute anyway). O(1) per lookup, however many keys.
 */
const MAX_BUCKETS = 50_000;

export type RateLimiter = {
  /** Takes one token from every bucket named, or none: 0 when taken, else the seconds to wait. */
  take(buckets: readonly { key: string; perMinute: number }[], now: Date): number;
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
    take(named, now) {
      const t = now.getTime();
      let wait = 0;
      for (const { key, perMinute } of named) {
        const have = level(key, perMinute, t);
        if (have < 1) wait = Math.max(wait, Math.ceil(((1 - have) * 60) / perMinute));
      }
      if (wait > 0) return wait;
      for (const { key, perMinute } of named) {
        const tokens = level(key, perMinute, t) - 1;
        buckets.delete(key);
        buckets.set(key, { tokens, at: t });
      }
      while (buckets.size > maxBuckets) buckets.delete(buckets.keys().next().value!);
      return 0;
    },
  };
}

const LOOKUP_PATHS = /^\/v1\/lookups(\/|$)/;

/** After authentication: a lookup (POST /v1/lookups[/...]) counts against the covenant's limits of the token's partner. */
export function lookupRateLimit(limiter: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' || !LOOKUP_PATHS.test(c.req.path)) return next();
    const actor = c.get('actor');
    const limits = actor && c.get('config').covenant.partners.get(actor.partner)?.rateLimits;
    if (!limits) return next();
    const named: { key: string; perMinute: number }[] = [];
    if (limits.lookupsPerMinutePerProfessional) named.push({ key: `sub:${actor.partner}:${actor.sub}`, perMinute: limits.lookupsPerMinutePerProfessional });
    if (limits.lookupsPerMinutePerPartner) named.push({ key: `partner:${actor.partner}`, perMinute: limits.lookupsPerMinutePerPartner });
    const wait = limiter.take(named, c.get('clock')());
    if (wait > 0) {
      throw new Problem('rate-limited', `Too many lookups; retry after ${wait} s`, { rule: 'rate-limit', retryAfter: wait });
    }
    return next();
  };
}
