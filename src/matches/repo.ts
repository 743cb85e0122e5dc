// SQL for match notices and the per-partner feed.
import { aliasedTable, and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
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

