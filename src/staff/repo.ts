// SQL for the Staff aggregate: people, their invitations, passkeys, WebAuthn challenges, console
// sessions, and the privacy officer's signal reviews.
import { and, asc, eq, gt, inArray, isNull, lte } from 'drizzle-orm';
import { signalReviews, staff, staffChallenges, staffCredentials, staffInvitations, staffSessions } from '../../schema/index';
import type { Queryable } from '../db/types';

export type StaffRow = typeof staff.$inferSelect;
export type InvitationRow = typeof staffInvitations.$inferSelect;
export type CredentialRow = typeof staffCredentials.$inferSelect;
export type SessionRow = typeof staffSessions.$inferSelect;
export type ChallengeRow = typeof staffChallenges.$inferSelect;
export type SignalReviewRow = typeof signalReviews.$inferSelect;

export async function insertStaff(q: Queryable, row: typeof staff.$inferInsert): Promise<void> {
  await q.insert(staff).values(row);
}

export async function getStaff(q: Queryable, id: string): Promise<StaffRow | undefined> {
  const [row] = await q.select().from(staff).where(eq(staff.id, id));
  return row;
}

export async function listStaff(q: Queryable): Promise<StaffRow[]> {
  return q.select().from(staff).orderBy(asc(staff.partner), asc(staff.name));
}

export async function updateStaff(q: Queryable, id: string, set: Partial<typeof staff.$inferInsert>): Promise<void> {
  await q.update(staff).set(set).where(eq(staff.id, id));
}

export async function insertInvitation(q: Queryable, row: typeof staffInvitations.$inferInsert): Promise<void> {
  await q.insert(staffInvitations).values(row);
}

/** The invitation with this secret's hash, locked: two tabs cannot both enrol with one link. */
export async function lockInvitation(q: Queryable, secretHash: string): Promise<InvitationRow | undefined> {
  const [row] = await q.select().from(staffInvitations).where(eq(staffInvitations.secretHash, secretHash)).for('update');
  return row;
}

export async function findInvitation(q: Queryable, secretHash: string): Promise<InvitationRow | undefined> {
  const [row] = await q.select().from(staffInvitations).where(eq(staffInvitations.secretHash, secretHash));
  return row;
}

export async function useInvitation(q: Queryable, id: string, now: Date): Promise<void> {
  await q.update(staffInvitations).set({ usedAt: now }).where(eq(staffInvitations.id, id));
}

export async function insertCredential(q: Queryable, row: typeof staffCredentials.$inferInsert): Promise<void> {
  await q.insert(staffCredentials).values(row);
}

export async function getCredential(q: Queryable, id: string): Promise<CredentialRow | undefined> {
  const [row] = await q.select().from(staffCredentials).where(eq(staffCredentials.id, id));
  return row;
}

export async function credentialsOf(q: Queryable, staffId: string): Promise<CredentialRow[]> {
  return q.select().from(staffCredentials).where(eq(staffCredentials.staffId, staffId));
}

export async function touchCredential(q: Queryable, id: string, counter: number, now: Date): Promise<void> {
  await q.update(staffCredentials).set({ counter, lastUsedAt: now }).where(eq(staffCredentials.id, id));
}

export async function insertChallenge(q: Queryable, row: ChallengeRow): Promise<void> {
  await q.insert(staffChallenges).values(row);
}

/** A challenge is used once: taking it deletes it. Expired ones are not returned. */
export async function takeChallenge(q: Queryable, id: string, kind: ChallengeRow['kind'], now: Date): Promise<ChallengeRow | undefined> {
  const [row] = await q.delete(staffChallenges).where(and(eq(staffChallenges.id, id), eq(staffChallenges.kind, kind))).returning();
  return row && row.expiresAt > now ? row : undefined;
}

export async function deleteExpiredChallenges(q: Queryable, now: Date): Promise<void> {
  await q.delete(staffChallenges).where(lte(staffChallenges.expiresAt, now));
}

export async function insertSession(q: Queryable, row: typeof staffSessions.$inferInsert): Promise<void> {
  await q.insert(staffSessions).values(row);
}

/** A session that has not ended and has not passed its absolute expiry. */
export async function liveSession(q: Queryable, id: string, now: Date): Promise<SessionRow | undefined> {
  const [row] = await q
    .select()
    .from(staffSessions)
    .where(and(eq(staffSessions.id, id), isNull(staffSessions.endedAt), gt(staffSessions.expiresAt, now)));
  return row;
}

export async function touchSession(q: Queryable, id: string, now: Date): Promise<void> {
  await q.update(staffSessions).set({ lastSeenAt: now }).where(eq(staffSessions.id, id));
}

export async function endSession(q: Queryable, id: string, now: Date): Promise<void> {
  await q.update(staffSessions).set({ endedAt: now }).where(and(eq(staffSessions.id, id), isNull(staffSessions.endedAt)));
}

export async function endSessionsOf(q: Queryable, staffId: string, now: Date): Promise<void> {
  await q.update(staffSessions).set({ endedAt: now }).where(and(eq(staffSessions.staffId, staffId), isNull(staffSessions.endedAt)));
}

/** False when this signal was already reviewed. */
export async function insertSignalReview(q: Queryable, row: SignalReviewRow): Promise<boolean> {
  const rows = await q.insert(signalReviews).values(row).onConflictDoNothing().returning({ id: signalReviews.id });
  return rows.length === 1;
}

export async function signalReviewsOf(q: Queryable, signals: string[]): Promise<SignalReviewRow[]> {
  if (signals.length === 0) return [];
  return q.select().from(signalReviews).where(inArray(signalReviews.signal, signals));
}
