// SQL for the Registration aggregate.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { registrations, type Contact } from '../../schema/index';
import { rowsOf, statement, type Queryable, type RawQuery } from '../db/types';

export type Registration = typeof registrations.$inferSelect;
export type NewRegistration = typeof registrations.$inferInsert;

/**
 * Insert or renew (idempotent per partner, subject, category among active registrations), all rows
 * in one statement with the rows as one JSON parameter. Returns, in input order, the id and whether
 * the row is new. The caller passes each (subject, category) once.
 */
export async function upsertRegistrations(
  q: Queryable,
  rows: NewRegistration[],
): Promise<{ id: string; inserted: boolean; createdAt: Date }[]> {
  if (rows.length === 0) return [];
  const json = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      partner: r.partner,
      subject: r.subject,
      key_version: r.keyVersion,
      category: r.category,
      contact: r.contact,
      reference: r.reference ?? null,
      registered_by: r.registeredBy,
      created_at: r.createdAt.toISOString(),
      expires_at: r.expiresAt.toISOString(),
    })),
  );
  const res = await rowsOf<{ id: string; subject: string; category: string; created_at: Date | string; inserted: boolean }>(
    q,
    sql`insert into registrations (id, partner, subject, key_version, category, contact, reference, registered_by, created_at, expires_at)
        select x.id, x.partner, x.subject, x.key_version, x.category, x.contact, x.reference, x.registered_by, x.created_at, x.expires_at
          from jsonb_to_recordset(${json}::jsonb) as x(id uuid, partner text, subject text, key_version int, category text, contact jsonb,
                                                     reference text, registered_by text, created_at timestamptz, expires_at timestamptz)
        on conflict (partner, subject, category) where ended_at is null
        do update set contact = excluded.contact, reference = excluded.reference, expires_at = excluded.expires_at, registered_by = excluded.registered_by
        returning id, subject, category, created_at, (xmax = 0) as inserted`,
  );
  // RETURNING order is not guaranteed to follow the input: map back by the unique key.
  const byKey = new Map(res.map((r) => [`${r.subject}\u0000${r.category}`, r]));
  return rows.map((row) => {
    const r = byKey.get(`${row.subject}\u0000${row.category}`);
    if (!r) throw new Error('upsert returned no row for an input');
    return { id: r.id, inserted: r.inserted === true || (r.inserted as unknown) === 't', createdAt: new Date(r.created_at) };
  });
}

export type ActiveRegistration = Pick<Registration, 'id' | 'partner' | 'subject' | 'category' | 'contact' | 'createdAt'>;

/**
 * The lookup's select: one fixed text, whatever the number of subjects (a batch has up to 10,000;
 * they travel as one JSON parameter). `= any(array(...))`, not `in (select ...)`: the array is an
 * init plan, so the subjects stay a condition on the index that leads with the subject, instead of a
 * semi-join the planner may answer by scanning (test/plan.test.ts EXPLAINs exactly this text).
 */
export const ACTIVE_SQL = `select id, partner, subject, category, contact, created_at from registrations
  where subject = any(array(select jsonb_array_elements_text($1::jsonb))) and ended_at is null and expires_at > $2::timestamptz and partner <> $3::text`;

export const activeParams = (subjects: readonly string[], now: Date, excludePartner?: string) => [JSON.stringify(subjects), now.toISOString(), excludePartner ?? ''];

/**
 * Active, unexpired registrations of these stored pseudonyms, other than `excludePartner`'s. With a
 * RawQuery (the lookup path) the statement goes straight to the driver; in a transaction, via drizzle.
 */
export async function findActive(q: Queryable | RawQuery, subjects: readonly string[], now: Date, excludePartner?: string): Promise<ActiveRegistration[]> {
  if (subjects.length === 0) return [];
  const rows = await statement<{ id: string; partner: string; subject: string; category: string; contact: Contact; created_at: Date | string }>(
    q,
    ACTIVE_SQL,
    activeParams(subjects, now, excludePartner),
  );
  return rows.map((r) => ({ id: r.id, partner: r.partner, subject: r.subject, category: r.category, contact: r.contact, createdAt: new Date(r.created_at) }));
}

export async function getRegistration(q: Queryable, id: string): Promise<Registration | undefined> {
  const [row] = await q.select().from(registrations).where(eq(registrations.id, id));
  return row;
}

export async function endRegistration(q: Queryable, id: string, now: Date, reason: string): Promise<boolean> {
  const rows = await q
    .update(registrations)
    .set({ endedAt: now, endReason: reason })
    .where(and(eq(registrations.id, id), isNull(registrations.endedAt)))
    .returning({ id: registrations.id });
  return rows.length === 1;
}

export type { Contact };
