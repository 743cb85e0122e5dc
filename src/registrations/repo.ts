// SQL for the Registration aggregate.
import { and, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { registrations, type Contact } from '../../schema/index';
import type { Queryable } from '../db/types';

export type Registration = typeof registrations.$inferSelect;
export type NewRegistration = typeof registrations.$inferInsert;

const CHUNK = 3000;

/**
 * Insert or renew (idempotent per partner, subject, category among active registrations).
 * Returns, in input order, the id and whether the row is new.
 */
export async function upsertRegistrations(
  q: Queryable,
  rows: NewRegistration[],
): Promise<{ id: string; inserted: boolean; createdAt: Date }[]> {
  const out: { id: string; inserted: boolean; createdAt: Date }[] = [];
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const res = await q
      .insert(registrations)
      .values(chunk)
      .onConflictDoUpdate({
        target: [registrations.partner, registrations.subject, registrations.category],
        targetWhere: sql`ended_at is null`,
        set: {
          contact: sql`excluded.contact`,
          reference: sql`excluded.reference`,
          expiresAt: sql`excluded.expires_at`,
          registeredBy: sql`excluded.registered_by`,
        },
      })
      .returning({
        id: registrations.id,
        partner: registrations.partner,
        subject: registrations.subject,
        category: registrations.category,
        createdAt: registrations.createdAt,
        inserted: sql<boolean>`(xmax = 0)`,
      });
    // RETURNING order is not guaranteed to follow VALUES order: map back by the unique key.
    const byKey = new Map(res.map((r) => [`${r.subject}\u0000${r.category}`, r]));
    for (const row of chunk) {
      const r = byKey.get(`${row.subject}\u0000${row.category}`);
      if (!r) throw new Error('upsert returned no row for an input');
      out.push({ id: r.id, inserted: r.inserted === true || (r.inserted as unknown) === 't', createdAt: r.createdAt });
    }
  }
  return out;
}

/** Active, unexpired registrations of these stored pseudonyms, other than `excludePartner`'s. */
export async function findActive(
  q: Queryable,
  subjects: string[],
  now: Date,
  excludePartner?: string,
): Promise<Registration[]> {
  if (subjects.length === 0) return [];
  const found: Registration[] = [];
  for (let i = 0; i < subjects.length; i += CHUNK) {
    const part = subjects.slice(i, i + CHUNK);
    found.push(
      ...(await q
        .select()
        .from(registrations)
        .where(
          and(
            inArray(registrations.subject, part),
            isNull(registrations.endedAt),
            gt(registrations.expiresAt, now),
            excludePartner ? ne(registrations.partner, excludePartner) : undefined,
          ),
        )),
    );
  }
  return found;
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
