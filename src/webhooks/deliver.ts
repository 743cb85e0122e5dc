// The delivery loop's one round: lease the due outbox rows, POST each to its partner's URL signed
// (Standard Webhooks), and settle it. Node runs a round every few seconds (src/node/serve.ts, in the
// primary process only under `serve --workers N`); the Worker every cron minute (src/worker/worker.ts).
// Each attempt is one server-log line with codes and ids: webhook.delivered, webhook.retry, webhook.failed.
import type { HubConfig } from '../config';
import type { Db } from '../db/types';
import { errorCode } from '../db/errors';
import type { Logger } from '../log';
import { leaseDue, settleDelivery, type LeasedDelivery, type Settlement } from './outbox';
import { webhookHeaders } from './sign';

export type DeliveryPolicy = {
  /** How long one POST may take. */
  timeoutMs: number;
  /** The wait after the first failed attempt; each further failure doubles it. */
  firstRetryMs: number;
  /** Attempts in all; after the last failure the delivery is `failed`. */
  maxAttempts: number;
  /** Rows per round. */
  batch: number;
};

/** 10 s per attempt; retries after 30 s, 1, 2, 4 ... 32 min: 8 attempts over about an hour. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { timeoutMs: 10_000, firstRetryMs: 30_000, maxAttempts: 8, batch: 50 };

/** What follows an attempt (pure): delivered on a 2xx, else retried with exponential backoff until the attempts run out. */
export function afterAttempt(policy: DeliveryPolicy, attempts: number, ok: boolean, result: string, now: Date): Settlement {
  if (ok) return { status: 'delivered', result, at: now };
  if (attempts >= policy.maxAttempts) return { status: 'failed', result, at: now };
  return { status: 'pending', result, retryAt: new Date(now.getTime() + policy.firstRetryMs * 2 ** (attempts - 1)) };
}

/** An attempt's result as a code: the HTTP status, or why there was none (timeout, ECONNREFUSED, ...). */
function failureCode(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'timeout';
  return errorCode(e instanceof Error && e.cause ? e.cause : e);
}

async function attempt(config: HubConfig, d: LeasedDelivery, now: Date, policy: DeliveryPolicy): Promise<{ ok: boolean; result: string }> {
  const target = config.webhooks?.get(d.partner);
  if (!target) return { ok: false, result: 'not-configured' };
  const body = JSON.stringify(d.payload);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'kenbaar-webhooks', ...webhookHeaders(target.secret, d.id, now, body) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(policy.timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    return { ok: res.status >= 200 && res.status < 300, result: String(res.status) };
  } catch (e) {
    return { ok: false, result: failureCode(e) };
  }
}

export type DeliveryRound = { delivered: number; retried: number; failed: number };

/** One round of the delivery loop. Safe to run in several processes at once: each row goes to one. */
export async function deliverWebhooks(db: Db, config: HubConfig, clock: () => Date, log: Logger, policy: DeliveryPolicy = DEFAULT_DELIVERY_POLICY): Promise<DeliveryRound> {
  const round: DeliveryRound = { delivered: 0, retried: 0, failed: 0 };
  if (!config.webhooks?.size) return round;
  const now = clock();
  // Leased a little longer than an attempt can take: a round that dies leaves its rows due again.
  const leased = await leaseDue(db, now, new Date(now.getTime() + policy.timeoutMs + 50_000), policy.batch);
  await Promise.all(
    leased.map(async (d) => {
      const { ok, result } = await attempt(config, d, now, policy);
      // A partner no longer configured is not retried: nobody could receive it.
      const s = result === 'not-configured' ? afterAttempt({ ...policy, maxAttempts: 0 }, d.attempts, false, result, clock()) : afterAttempt(policy, d.attempts, ok, result, clock());
      await settleDelivery(db, d.id, s);
      const fields = { delivery: d.id, partner: d.partner, type: d.type, attempt: d.attempts, result };
      if (s.status === 'delivered') {
        round.delivered++;
        log('info', 'webhook.delivered', fields);
      } else if (s.status === 'pending') {
        round.retried++;
        log('warn', 'webhook.retry', { ...fields, retryAt: s.retryAt.toISOString() });
      } else {
        round.failed++;
        log('error', 'webhook.failed', fields);
      }
    }),
  );
  return round;
}
