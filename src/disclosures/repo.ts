// SQL for the DisclosureRequest aggregate: requests, decisions, grants and hand-overs.
import { and, asc, count, eq, gt, isNotNull, isNull, lte, or } from 'drizzle-orm';
import { disclosureDecisions, disclosureGrants, disclosureRequests, handovers } from '../../schema/index';
import type { Queryable } from '../db/types';

export type DisclosureRequestRow = typeof disclosureRequests.$inferSelect;
export type DecisionRow = typeof disclosureDecisions.$inferSelect;
export type GrantRow = typeof disclosureGrants.$inferSelect;
export type HandoverRow = typeof handovers.$inferSelect;

/** False when the requester already used this jti for a request (a replayed justification). */
export async function insertRequest(q: Queryable, row: typeof disclosureRequests.$inferInsert): Promise<boolean> {
  const rows = await q.insert(disclosureRequests).values(row).onConflictDoNothing().returning({ id: disclosureRequests.id });
  return rows.length === 1;
}

/** The request, locked until the transaction ends: decisions on one request are taken one at a time. */
export async function lockRequest(q: Queryable, id: string): Promise<DisclosureRequestRow | undefined> {
  const [row] = await q.select().from(disclosureRequests).where(eq(disclosureRequests.id, id)).for('update');
  return row;
}

export async function getRequest(q: Queryable, id: string): Promise<DisclosureRequestRow | undefined> {
  const [row] = await q.select().from(disclosureRequests).where(eq(disclosureRequests.id, id));
  return row;
}

export async function updateRequest(q: Queryable, id: string, set: Partial<typeof disclosureRequests.$inferInsert>): Promise<void> {
  await q.update(disclosureRequests).set(set).where(eq(disclosureRequests.id, id));
}

export type RequestFilter = {
  status?: 'pending' | 'approved' | 'rejected';
  purpose?: string;
  holder?: string;
  requester?: string;
  urgency?: 'regular' | 'emergency';
  /** Only requests this partner made or is asked (a reader who is no broker can see no others). */
  involving?: string;
  /** Keyset cursor: requests after this one in (createdAt, id) order. */
  after?: { createdAt: Date; id: string };
  limit: number;
};

export async function listRequests(q: Queryable, f: RequestFilter): Promise<DisclosureRequestRow[]> {
  const conds = [
    f.status ? eq(disclosureRequests.status, f.status) : undefined,
    f.purpose ? eq(disclosureRequests.purpose, f.purpose) : undefined,
    f.holder ? eq(disclosureRequests.holder, f.holder) : undefined,
    f.requester ? eq(disclosureRequests.requester, f.requester) : undefined,
    f.urgency ? eq(disclosureRequests.urgency, f.urgency) : undefined,
    f.involving ? or(eq(disclosureRequests.requester, f.involving), eq(disclosureRequests.holder, f.involving)) : undefined,
    f.after
      ? or(gt(disclosureRequests.createdAt, f.after.createdAt), and(eq(disclosureRequests.createdAt, f.after.createdAt), gt(disclosureRequests.id, f.after.id)))
      : undefined,
  ];
  return q
    .select()
    .from(disclosureRequests)
    .where(and(...conds))
    .orderBy(asc(disclosureRequests.createdAt), asc(disclosureRequests.id))
    .limit(f.limit);
}

/** Break-glass requests whose review deadline has passed without a review. */
export async function overdueReviews(q: Queryable, now: Date): Promise<DisclosureRequestRow[]> {
  return q
    .select()
    .from(disclosureRequests)
    .where(and(eq(disclosureRequests.reviewStatus, 'due'), lte(disclosureRequests.reviewDueAt, now)))
    .orderBy(asc(disclosureRequests.reviewDueAt));
}

/** False when this broker already decided (this kind) on this request, or reused a jti. */
export async function insertDecision(q: Queryable, row: typeof disclosureDecisions.$inferInsert): Promise<boolean> {
  const rows = await q.insert(disclosureDecisions).values(row).onConflictDoNothing().returning({ id: disclosureDecisions.id });
  return rows.length === 1;
}

export async function decisionsOf(q: Queryable, requestId: string): Promise<DecisionRow[]> {
  return q.select().from(disclosureDecisions).where(eq(disclosureDecisions.requestId, requestId)).orderBy(asc(disclosureDecisions.createdAt));
}

export async function insertGrant(q: Queryable, row: typeof disclosureGrants.$inferInsert): Promise<void> {
  await q.insert(disclosureGrants).values(row);
}

export async function grantOfRequest(q: Queryable, requestId: string): Promise<GrantRow | undefined> {
  const [row] = await q.select().from(disclosureGrants).where(eq(disclosureGrants.requestId, requestId));
  return row;
}

export async function getGrant(q: Queryable, id: string): Promise<GrantRow | undefined> {
  const [row] = await q.select().from(disclosureGrants).where(eq(disclosureGrants.id, id));
  return row;
}

export async function revokeGrant(q: Queryable, id: string, now: Date): Promise<void> {
  await q.update(disclosureGrants).set({ revokedAt: now }).where(and(eq(disclosureGrants.id, id), isNull(disclosureGrants.revokedAt)));
}

/** False when a hand-over for this grant was already posted. */
export async function insertHandover(q: Queryable, row: typeof handovers.$inferInsert): Promise<boolean> {
  const rows = await q.insert(handovers).values(row).onConflictDoNothing().returning({ id: handovers.id });
  return rows.length === 1;
}

export async function pendingHandoverOfRequest(q: Queryable, requestId: string): Promise<HandoverRow | undefined> {
  const [row] = await q
    .select()
    .from(handovers)
    .where(and(eq(handovers.requestId, requestId), isNull(handovers.deletedAt)))
    .for('update');
  return row;
}

export async function handoverOfRequest(q: Queryable, requestId: string): Promise<HandoverRow | undefined> {
  const [row] = await q.select().from(handovers).where(eq(handovers.requestId, requestId));
  return row;
}

/** Deleting is wiping the ciphertext; the row stays as the record that something was relayed. */
export async function wipeHandover(q: Queryable, id: string, now: Date, reason: 'delivered' | 'expired' | 'revoked'): Promise<void> {
  await q
    .update(handovers)
    .set({ ciphertext: null, deletedAt: now, deleteReason: reason, ...(reason === 'delivered' ? { deliveredAt: now } : {}) })
    .where(eq(handovers.id, id));
}

export async function expiredHandovers(q: Queryable, now: Date): Promise<HandoverRow[]> {
  return q.select().from(handovers).where(and(isNull(handovers.deletedAt), isNotNull(handovers.ciphertext), lte(handovers.expiresAt, now)));
}


/** For the metrics: requests waiting for brokers, and break-glass reviews past their deadline. */
export async function countQueue(q: Queryable, now: Date): Promise<{ pending: number; overdueReviews: number }> {
  const [pending] = await q.select({ n: count() }).from(disclosureRequests).where(eq(disclosureRequests.status, 'pending'));
  const [overdue] = await q
    .select({ n: count() })
    .from(disclosureRequests)
    .where(and(eq(disclosureRequests.reviewStatus, 'due'), lte(disclosureRequests.reviewDueAt, now)));
  return { pending: Number(pending?.n ?? 0), overdueReviews: Number(overdue?.n ?? 0) };
}

/** What brokers have to act on: pending requests and break-glass reviews still due, oldest first. */
export async function openForBrokers(q: Queryable, f: { purpose?: string; holder?: string; requester?: string; urgency?: 'regular' | 'emergency'; limit: number }): Promise<DisclosureRequestRow[]> {
  const conds = [
    or(eq(disclosureRequests.status, 'pending'), eq(disclosureRequests.reviewStatus, 'due')),
    f.purpose ? eq(disclosureRequests.purpose, f.purpose) : undefined,
    f.holder ? eq(disclosureRequests.holder, f.holder) : undefined,
    f.requester ? eq(disclosureRequests.requester, f.requester) : undefined,
    f.urgency ? eq(disclosureRequests.urgency, f.urgency) : undefined,
  ];
  return q.select().from(disclosureRequests).where(and(...conds)).orderBy(asc(disclosureRequests.createdAt)).limit(f.limit);
}
