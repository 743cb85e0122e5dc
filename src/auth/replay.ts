// Replay protection: a token id may be used once. Claimed inside the transaction of the request's
// effect (by the statement that appends its first audit entries: src/audit/store.ts appendAudit), so
// a replay can never have an effect, and a request that fails and rolls back does not burn the id.
// A refused request burns it with its `request.rejected` entry (recordRejection).
import { lt, sql } from 'drizzle-orm';
import { usedTokens } from '../../schema/index';
import type { Queryable } from '../db/types';

/** Token ids are unique per partner: the stored key says whose it is. */
export const tokenKey = (partner: string, jti: string) => `${partner}:${jti}`;

/** True when this jti was not seen before (and is now taken). */
export async function claimTokenId(q: Queryable, t: { jti: string; partner: string; exp: Date }): Promise<boolean> {
  const rows = await q
    .insert(usedTokens)
    .values({ jti: tokenKey(t.partner, t.jti), partner: t.partner, expiresAt: t.exp })
    .onConflictDoNothing()
    .returning({ jti: usedTokens.jti });
  return rows.length === 1;
}

/** Forget ids of tokens that expired over a minute ago (longer than the clock skew: they would be refused as expired). */
export async function forgetExpiredTokenIds(q: Queryable, now: Date): Promise<number> {
  const rows = await q.delete(usedTokens).where(lt(usedTokens.expiresAt, sql`${now.toISOString()}::timestamptz - interval '1 minute'`)).returning({ jti: usedTokens.jti });
  return rows.length;
}
