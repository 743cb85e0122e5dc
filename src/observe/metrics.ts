// Prometheus metrics, in the text exposition format (version 0.0.4), written here rather than with
// prom-client: the request metrics are counted in the core app, which also runs on Workers, and
// prom-client is a Node library with a process-wide default registry; counters, one histogram and
// gauges read at scrape time are all this needs. One Metrics per app (createApp), no module state.
// Labels are route templates, methods and status codes only: never a path, an id or a partner's text.
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../config';

/** Seconds: the upper bounds of the latency histogram's buckets. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

type Series = { count: number; sum: number; buckets: number[] };

export type Gauge = { name: string; help: string; value: number; labels?: Record<string, string> };

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number) {
    const key = labels({ method, route, status: String(status) });
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const lkey = labels({ method, route });
    let s = this.latency.get(lkey);
    if (!s) this.latency.set(lkey, (s = { count: 0, sum: 0, buckets: LATENCY_BUCKETS.map(() => 0) }));
    s.count++;
    s.sum += seconds;
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) s.buckets[i]!++;
    });
  }

  /** The exposition: request counters, the latency histogram, and the gauges given (read at scrape time). */
  render(gauges: readonly Gauge[]): string {
    const out: string[] = [];
    out.push('# HELP kenbaar_http_requests_total HTTP requests by method, route template and status.', '# TYPE kenbaar_http_requests_total counter');
    for (const [key, n] of this.requests) out.push(`kenbaar_http_requests_total{${key}} ${n}`);
    out.push('# HELP kenbaar_http_request_duration_seconds Time to answer, by method and route template.', '# TYPE kenbaar_http_request_duration_seconds histogram');
    for (const [key, s] of this.latency) {
      LATENCY_BUCKETS.forEach((le, i) => out.push(`kenbaar_http_request_duration_seconds_bucket{${key},le="${le}"} ${s.buckets[i]}`));
      out.push(`kenbaar_http_request_duration_seconds_bucket{${key},le="+Inf"} ${s.count}`);
      out.push(`kenbaar_http_request_duration_seconds_sum{${key}} ${s.sum}`, `kenbaar_http_request_duration_seconds_count{${key}} ${s.count}`);
    }
    const helped = new Set<string>();
    for (const g of gauges) {
      if (!helped.has(g.name)) out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      helped.add(g.name);
      out.push(`${g.name}${g.labels ? `{${labels(g.labels)}}` : ''} ${g.value}`);
    }
    return `${out.join('\n')}\n`;
  }
}

function labels(l: Record<string, string>): string {
  return Object.entries(l)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

/** The route template that answered (`/v1/registrations/:id`), or `unmatched`: never the raw path. */
export function routeOf(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const routes = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return routes.at(-1)?.path ?? 'unmatched';
}

/**
 * Outermost middleware: one access log line per request (JSON, codes and ids only: request id,
 * method, route template, status, duration, partner, role, rule) and the request metrics.
 */
export function accessLog(metrics: Metrics, writeLines: boolean): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    await next();
    const seconds = (performance.now() - start) / 1000;
    const route = routeOf(c);
    metrics.observe(c.req.method, route, c.res.status, seconds);
    if (!writeLines) return;
    const actor = c.get('actor');
    c.get('log')?.('info', 'http.request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      route,
      status: c.res.status,
      durationMs: Math.round(seconds * 10_000) / 10,
      partner: actor?.partner,
      role: actor?.role,
      rule: c.get('rule'),
    });
  };
}
