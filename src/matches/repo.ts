// SQL for match notices and the per-partner feed.
import { aliasedTable, and, asc, eq, gt, isNull } from 'drizzle-orm';
import { matches, registrations } from '../../schema/index';
import type { Queryable } from '../db/types';
import type { MatchNotice } from './match';

const CHUNK = 5000;

export async function insertMatches(
  q: Queryable,
  notices: MatchNotice[],
  covenantVersion: string,
  now: Date,
): Promise<(MatchNotice & { id: number })[]> {
  const out: (MatchNotice & { id: number })[] = [];
  for (let i = 0; i < notices.length; i += CHUNK) {
    const rows = await q
      .insert(matches)
      .values(notices.slice(i, i + CHUNK).map((n) => ({ ...n, covenantVersion, createdAt: now })))
      .onConflictDoNothing()
      .returning();
    out.push(...rows.map((r) => ({ id: r.id, recipient: r.recipient, recipientRegistrationId: r.recipientRegistrationId, registrationId: r.registrationId, rule: r.rule })));
  }
  return out;
}

const own = aliasedTable(registrations, 'own');
const other = aliasedTable(registrations, 'other');

/**
 * The recipient's feed after a cursor: only notices whose two registrations are both still active
 * and unexpired (an ended or expired registration stops matching at once).
 */
export async function matchFeed(q: Queryable, recipient: string, after: number, limit: number, now: Date) {
  return q
    .select({
      id: matches.id,
      createdAt: matches.createdAt,
      rule: matches.rule,
      ownRegistrationId: own.id,
      ownReference: own.reference,
      ownCategory: own.category,
      ownSubject: own.subject,
      otherPartner: other.partner,
      otherCategory: other.category,
      otherContact: other.contact,
      otherSince: other.createdAt,
    })
    .from(matches)
    .innerJoin(own, eq(own.id, matches.recipientRegistrationId))
    .innerJoin(other, eq(other.id, matches.registrationId))
    .where(
      and(
        eq(matches.recipient, recipient),
        gt(matches.id, after),
        isNull(own.endedAt),
        isNull(other.endedAt),
        gt(own.expiresAt, now),
        gt(other.expiresAt, now),
      ),
    )
    .orderBy(asc(matches.id))
    .limit(limit);
}

