// SQL of the idempotency keys (schema: idempotencyKeys). A key is taken by inserting its row inside
// the transaction of the request's effect: a concurrent request with the same key waits on the
// unique index until that transaction ends, then sees the stored answer (or takes the key itself if
// the first rolled back).
import { and, eq, lt } from 'drizzle-orm';
import { idempotencyKeys } from '../../schema/index';
import type { Queryable } from '../db/types';

export type StoredAnswer = { requestHash: string; requestId: string; status: number | null; response: string | null };

/** True when this (partner, key) was free and is now taken by this transaction. */
export async function takeKey(q: Queryable, k: { partner: string; key: string; requestHash: string; requestId: string; now: Date }): Promise<boolean> {
  const rows = await q
    .insert(idempotencyKeys)
    .values({ partner: k.partner, key: k.key, requestHash: k.requestHash, requestId: k.requestId, createdAt: k.now })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  return rows.length === 1;
}

export async function storedAnswer(q: Queryable, partner: string, key: string): Promise<StoredAnswer | undefined> {
  const [row] = await q
    .select({ requestHash: idempotencyKeys.requestHash, requestId: idempotencyKeys.requestId, status: idempotencyKeys.status, response: idempotencyKeys.response })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.partner, partner), eq(idempotencyKeys.key, key)));
  return row;
}

export async function storeAnswer(q: Queryable, partner: string, key: string, status: number, response: string): Promise<void> {
  await q.update(idempotencyKeys).set({ status, response }).where(and(eq(idempotencyKeys.partner, partner), eq(idempotencyKeys.key, key)));
}

/** A refused first request keeps no key: the partner may fix the request and retry with it. */
export async function releaseKey(q: Queryable, partner: string, key: string): Promise<void> {
  await q.delete(idempotencyKeys).where(and(eq(idempotencyKeys.partner, partner), eq(idempotencyKeys.key, key)));
}

/** Retention: keys older than `before` are forgotten (a retry after that is a new request). */
export async function forgetKeysBefore(q: Queryable, before: Date): Promise<number> {
  const rows = await q.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before)).returning({ key: idempotencyKeys.key });
  return rows.length;
}
