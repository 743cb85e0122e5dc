// SQL for match notices and the per-partner feed.
import { aliasedTable, and, asc, eq, gt, gte, isNull, sql } from 'drizzle-orm';
import { matches, registrations } from '../../schema/index';
import { rowsOf, type Queryable } from '../db/types';
import type { MatchNotice } from './match';

/** In key order, like upsertRegistrations: concurrent writers of overlapping pairs cannot deadlock. */
export async function insertMatches(
  q: Queryable,
  notices: MatchNotice[],
  covenantVersion: string,
  now: Date,
): Promise<(MatchNotice & { id: number })[]> {
  if (notices.length === 0) return [];
  const json = JSON.stringify(
    notices.map((n) => ({ recipient: n.recipient, recipient_registration_id: n.recipientRegistrationId, registration_id: n.registrationId, rule: n.rule })),
  );
  const rows = await rowsOf<{ id: number | string; recipient: string; recipient_registration_id: string; registration_id: string; rule: string }>(
    q,
    sql`insert into matches (recipient, recipient_registration_id, registration_id, rule, covenant_version, created_at)
        select x.recipient, x.recipient_registration_id, x.registration_id, x.rule, ${covenantVersion}, ${now.toISOString()}::timestamptz
          from jsonb_to_recordset(${json}::jsonb) as x(recipient text, recipient_registration_id uuid, registration_id uuid, rule text)
         order by x.recipient_registration_id, x.registration_id
        on conflict do nothing
        returning id, recipient, recipient_registration_id, registration_id, rule`,
  );
  return rows.map((r) => ({ id: Number(r.id), recipient: r.recipient, recipientRegistrationId: r.recipient_registration_id, registrationId: r.registration_id, rule: r.rule }));
}

/**
 * Give committed notices that have none their feed position: `from`, `from + 1`, ... in id order
 * (`from` = the first position not yet given). Only for the sequencer, inside its transaction under
 * the log_head lock: a notice still uncommitted is not seen here and gets a later position when it
 * commits, so no cursor can have passed it. Returns how many it sequenced and the next free
 * position (a notice the purge deleted meanwhile leaves a gap, never a position given twice).
 */
export async function sequenceMatches(q: Queryable, from: number, max: number): Promise<{ sequenced: number; next: number }> {
  const rows = await rowsOf<{ seq: number | string }>(
    q,
    sql`with pending as (
          select id, ${from}::bigint - 1 + row_number() over (order by id) as seq
            from matches where seq is null order by id limit ${max})
        update matches m set seq = p.seq from pending p where m.id = p.id returning m.seq`,
  );
  return { sequenced: rows.length, next: rows.reduce((n, r) => Math.max(n, Number(r.seq) + 1), from) };
}

/** Whether any committed notice awaits its position (no lock; the partial index answers it). */
export async function hasUnsequencedMatches(q: Queryable): Promise<boolean> {
  const rows = await q.select({ id: matches.id }).from(matches).where(isNull(matches.seq)).limit(1);
  return rows.length > 0;
}

const own = aliasedTable(registrations, 'own');
const other = aliasedTable(registrations, 'other');

/**
 * The recipient's sequenced notices from feed position `from` on, in `seq` order: only notices whose
 * two registrations are both still active and unexpired (an ended or expired registration stops
 * matching at once). Notices not yet sequenced are not yet in the feed.
 */
export function matchFeed(q: Queryable, recipient: string, from: number, limit: number, now: Date) {
  return q
    .select({
      id: matches.id,
      seq: matches.seq,
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
        gte(matches.seq, from),
        isNull(own.endedAt),
        isNull(other.endedAt),
        gt(own.expiresAt, now),
        gt(other.expiresAt, now),
      ),
    )
    .orderBy(asc(matches.seq))
    .limit(limit);
}

