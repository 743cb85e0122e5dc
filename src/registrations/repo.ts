// SQL for the Registration aggregate.
import { and, eq, gt, isNull, ne, sql } from 'drizzle-orm';
import { registrations, type Contact } from '../../schema/index';
import { rowsOf, type Queryable } from '../db/types';

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

/** Active, unexpired registrations of these stored pseudonyms, other than `excludePartner`'s. */
export async function findActive(
  q: Queryable,
  subjects: string[],
  now: Date,
  excludePartner?: string,
): Promise<Registration[]> {
  if (subjects.length === 0) return [];
  return activeQuery(q, subjects, now, excludePartner);
}

/** The select findActive runs (exported for test/plan.test.ts, which EXPLAINs it). */
export function activeQuery(q: Queryable, subjects: string[], now: Date, excludePartner?: string) {
  // One parameter however many subjects (a batch has up to 10,000 of them). `= any(array(...))`, not
  // `in (select ...)`: the array is an init plan, so the subjects stay an index condition instead of
  // becoming a semi-join the planner may answer by scanning (test/plan.test.ts).
  const wanted =
    subjects.length === 1
      ? eq(registrations.subject, subjects[0]!)
      : sql`${registrations.subject} = any(array(select jsonb_array_elements_text(${JSON.stringify(subjects)}::jsonb)))`;
  return q
    .select()
    .from(registrations)
    .where(and(wanted, isNull(registrations.endedAt), gt(registrations.expiresAt, now), excludePartner ? ne(registrations.partner, excludePartner) : undefined));
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
