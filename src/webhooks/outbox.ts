// SQL for the webhook outbox (schema: webhook_deliveries). Rows are written in the transaction of
// the notice they tell of, leased by the delivery loop with FOR UPDATE SKIP LOCKED (two loops never
// take the same row), and settled as delivered, retried later, or failed.
import { sql } from 'drizzle-orm';
import { rowsOf, type Queryable } from '../db/types';
import type { Webhooks } from './config';
import { webhookPayload, type WebhookEvent, type WebhookPayload } from './events';

/** Queue the events of partners that asked for webhooks (the others poll); returns how many rows. */
export async function enqueueWebhooks(q: Queryable, webhooks: Webhooks | undefined, events: readonly WebhookEvent[], now: Date): Promise<number> {
  const wanted = webhooks?.size ? events.filter((e) => webhooks.has(e.partner)) : [];
  if (wanted.length === 0) return 0;
  const json = JSON.stringify(wanted.map((e) => ({ id: crypto.randomUUID(), partner: e.partner, type: e.type, payload: webhookPayload(e, now) })));
  const rows = await rowsOf<{ id: string }>(
    q,
    sql`insert into webhook_deliveries (id, partner, type, payload, created_at, next_attempt_at)
        select x.id, x.partner, x.type, x.payload, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
          from jsonb_to_recordset(${json}::jsonb) as x(id uuid, partner text, type text, payload jsonb)
        returning id`,
  );
  return rows.length;
}

export type LeasedDelivery = { id: string; partner: string; type: string; payload: WebhookPayload; attempts: number };

/**
 * Take up to `max` due rows for one attempt each: their attempt is counted and they are not due again
 * before `leaseUntil` (so a loop that dies mid-attempt leaves them to be tried again, not lost). Rows
 * another loop is leasing right now are skipped, not waited for.
 */
export async function leaseDue(q: Queryable, now: Date, leaseUntil: Date, max: number): Promise<LeasedDelivery[]> {
  const rows = await rowsOf<{ id: string; partner: string; type: string; payload: WebhookPayload | string; attempts: number }>(
    q,
    sql`with due as (
          select id from webhook_deliveries
           where status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz
           order by next_attempt_at, id
           limit ${max}
           for update skip locked)
        update webhook_deliveries d
           set attempts = d.attempts + 1, next_attempt_at = ${leaseUntil.toISOString()}::timestamptz
          from due where d.id = due.id
        returning d.id, d.partner, d.type, d.payload, d.attempts`,
  );
  return rows.map((r) => ({ ...r, payload: typeof r.payload === 'string' ? (JSON.parse(r.payload) as WebhookPayload) : r.payload }));
}

export type Settlement = { status: 'delivered' | 'failed'; result: string; at: Date } | { status: 'pending'; result: string; retryAt: Date };

/** Record an attempt's outcome: delivered, failed for good, or due again at `retryAt`. */
export async function settleDelivery(q: Queryable, id: string, s: Settlement): Promise<void> {
  await rowsOf(
    q,
    s.status === 'pending'
      ? sql`update webhook_deliveries set last_result = ${s.result}, next_attempt_at = ${s.retryAt.toISOString()}::timestamptz where id = ${id} and status = 'pending'`
      : sql`update webhook_deliveries set status = ${s.status}, last_result = ${s.result}, settled_at = ${s.at.toISOString()}::timestamptz where id = ${id} and status = 'pending'`,
  );
}

/** Delivered or failed deliveries are kept this long (for the operator's questions), then purged. */
export const WEBHOOK_RETENTION_DAYS = 7;

/** Forget deliveries settled before `before` (the hourly purge); returns how many. */
export async function forgetSettledDeliveries(q: Queryable, before: Date): Promise<number> {
  const rows = await rowsOf(q, sql`delete from webhook_deliveries where status <> 'pending' and settled_at < ${before.toISOString()}::timestamptz returning id`);
  return rows.length;
}

/** Deliveries not yet delivered or given up on (the metric kenbaar_webhook_pending_deliveries). */
export async function countPendingDeliveries(q: Queryable): Promise<number> {
  const [row] = await rowsOf<{ n: number | string }>(q, sql`select count(*) as n from webhook_deliveries where status = 'pending'`);
  return Number(row?.n ?? 0);
}
