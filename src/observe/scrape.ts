// GET /metrics: the Prometheus exposition, behind its own bearer token (KENBAAR_METRICS_TOKEN; not a
// partner token, and no route at all without one). The gauges are read from the database at scrape
// time; the pool state and the runtime's own gauges (Node: its event loop, src/node/event-loop.ts)
// come from the runtime's edge, where it has them.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../config';
import type { Db } from '../db/types';
import { latestCheckpoint, countUnsequenced, readHead } from '../audit/store';
import { countQueue } from '../disclosures/repo';
import { countPendingDeliveries } from '../webhooks/outbox';
import { Problem } from '../errors';
import { toHex, utf8 } from '../encoding';
import type { Gauge, Metrics } from './metrics';

export type PoolState = { total: number; idle: number; waiting: number };

export type MetricsOptions = {
  metrics: Metrics;
  token: string;
  pool?: () => PoolState;
  /** Gauges the runtime's edge measures itself, read at each scrape. */
  runtime?: () => Gauge[];
};

/** Compares in time independent of where the strings differ. */
function sameSecret(a: string, b: string): boolean {
  const x = toHex(utf8(a));
  const y = toHex(utf8(b));
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x.charCodeAt(i) || 0) ^ (y.charCodeAt(i) || 0);
  return diff === 0;
}

async function databaseGauges(db: Db, now: Date): Promise<Gauge[]> {
  const [pending, head, checkpoint, queue, webhooks] = await Promise.all([
    countUnsequenced(db),
    readHead(db),
    latestCheckpoint(db),
    countQueue(db, now),
    countPendingDeliveries(db),
  ]);
  return [
    { name: 'kenbaar_audit_pending_entries', help: 'Audit entries committed but not yet sequenced into the log.', value: pending },
    { name: 'kenbaar_audit_log_size', help: 'Entries in the audit log (tree size).', value: head.size },
    {
      name: 'kenbaar_checkpoint_age_seconds',
      help: 'Seconds since the latest signed checkpoint (-1: none yet).',
      value: checkpoint ? Math.round((now.getTime() - checkpoint.issuedAt.getTime()) / 1000) : -1,
    },
    { name: 'kenbaar_disclosure_queue_length', help: 'Disclosure requests waiting for brokers.', value: queue.pending },
    { name: 'kenbaar_disclosure_overdue_reviews', help: 'Break-glass reviews past their deadline.', value: queue.overdueReviews },
    { name: 'kenbaar_webhook_pending_deliveries', help: 'Webhook deliveries not yet delivered nor given up on (outbox rows pending).', value: webhooks },
  ];
}

export function metricsRoute(app: OpenAPIHono<AppEnv>, opts: MetricsOptions) {
  app.get('/metrics', async (c) => {
    const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!sameSecret(given, opts.token)) throw new Problem('unauthenticated', 'The metrics token is required');
    const gauges = await databaseGauges(c.var.db, c.var.clock());
    const pool = opts.pool?.();
    if (pool) {
      for (const [state, value] of Object.entries(pool)) {
        gauges.push({ name: 'kenbaar_db_pool_connections', help: 'Database pool connections by state (total, idle) and queries waiting for one.', value, labels: { state } });
      }
    }
    if (opts.runtime) gauges.push(...opts.runtime());
    return c.body(opts.metrics.render(gauges), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
