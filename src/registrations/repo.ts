// SQL for the Registration aggregate.
import { and, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { registrations, type Contact } from '../../schema/index';
import { rawBoolean, rowsOf, statement, type Queryable, type RawQuery } from '../db/types';

export type Registration = typeof registrations.$inferSelect;
export type NewRegistration = typeof registrations.$inferInsert;

/**
 * Insert or renew (idempotent per partner, subject, category among active registrations), all rows
 * in one statement with the rows as one JSON parameter. Returns, in input order, the id and whether
 * the row is new. The caller passes each (subject, category) once.
 *
 * Rows are written in key order, whatever the input order: two concurrent batches of one partner
 * with overlapping subjects then take their row locks in the same order and cannot deadlock.
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
         order by x.subject, x.category
        on conflict (partner, subject, category) where ended_at is null
        do update set contact = excluded.contact, reference = excluded.reference, expires_at = excluded.expires_at, registered_by = excluded.registered_by
        returning id, subject, category, created_at, (xmax = 0) as inserted`,
  );
  // RETURNING order is not guaranteed to follow the input: map back by the unique key.
  const byKey = new Map(res.map((r) => [`${r.subject}\u0000${r.category}`, r]));
  return rows.map((row) => {
    const r = byKey.get(`${row.subject}\u0000${row.category}`);
    if (!r) throw new Error('upsert returned no row for an input');
    return { id: r.id, inserted: rawBoolean(r.inserted), createdAt: new Date(r.created_at) };
  });
}

/** One (subject, category) a partner registers, with the subject under every hub key version. */
export type RegistrationKey = { category: string; current: string; version: number; all: string[] };

export type Settled = {
  /** Registrations that had expired but were not yet ended by the purge: ended now. */
  ended: { id: string; partner: string; subject: string; category: string }[];
  /** Active registrations that were under an older hub key version, now under the current one. */
  rekeyed: Map<string, number>;
};

/**
 * The partner's active registrations of these keys that need settling, locked. The subjects are also
 * an init-plan array (as in the lookup's select), so that they are a condition on the index that
 * leads with the subject even without statistics: as a plain join to the keys, with none, the plan
 * was an index scan on `partner` alone, the whole index (test/plan.test.ts). A plan made while the
 * table was small is a sequential scan in either shape; the hub's ANALYZE job replaces it once the
 * table grows (src/db/maintenance.ts). The keys are one parameter, read once.
 */
export const SETTLE_SQL = `with x as (select * from jsonb_to_recordset($1::jsonb) as k(subject text, category text, current text))
select r.id, r.subject, r.category, x.current, r.key_version, (r.expires_at <= $3::timestamptz) as expired
  from registrations r
  join x on r.subject = x.subject and r.category = x.category
 where r.subject = any(array(select subject from x))
   and r.partner = $2::text and r.ended_at is null and (r.expires_at <= $3::timestamptz or r.subject <> x.current)
 order by r.id
   for update of r`;

/** SETTLE_SQL's parameters: every key under each of its subject's pseudonyms, the partner, now. */
export const settleParams = (keys: readonly RegistrationKey[], partner: string, now: Date) => [
  JSON.stringify(keys.flatMap((k) => k.all.map((subject) => ({ subject, category: k.category, current: k.current })))),
  partner,
  now.toISOString(),
];

/**
 * Before an upsert, settle what the partner already has of these keys, so that the upsert (which
 * matches on the current pseudonym among registrations not ended) does the right thing:
 * a registration that has expired is ended now, as the purge would (registering again makes a new
 * registration, never revives a lapsed one); an active registration under an older hub key version
 * is re-keyed to the current pseudonym (registering again renews it, never adds a second active
 * one). Touches, and locks in id order, only rows that need it; usually there are none.
 */
export async function settleExisting(q: Queryable, partner: string, keys: RegistrationKey[], now: Date): Promise<Settled> {
  const settled: Settled = { ended: [], rekeyed: new Map() };
  if (keys.length === 0) return settled;
  const found = await statement<{ id: string; subject: string; category: string; current: string; key_version: number; expired: boolean }>(
    q,
    SETTLE_SQL,
    settleParams(keys, partner, now),
  );
  const rows = found.map((r) => ({ ...r, expired: rawBoolean(r.expired) }));
  const expired = rows.filter((r) => r.expired).map((r) => r.id);
  if (expired.length) settled.ended = await endExpired(q, now, expired);
  // At most one row per key moves to the current pseudonym, and only where none is active under it.
  const moving = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const key = `${r.current}\u0000${r.category}`;
    if (!r.expired && !moving.has(key)) moving.set(key, r);
  }
  if (moving.size) {
    const version = keys[0]!.version;
    const rekeyed = await rowsOf<{ id: string }>(
      q,
      sql`update registrations r set subject = x.current, key_version = ${version}
            from jsonb_to_recordset(${JSON.stringify([...moving.values()].map((r) => ({ id: r.id, current: r.current })))}::jsonb) as x(id uuid, current text)
           where r.id = x.id
             and not exists (select 1 from registrations c where c.partner = r.partner and c.category = r.category and c.subject = x.current and c.ended_at is null)
          returning r.id`,
    );
    const from = new Map([...moving.values()].map((r) => [r.id, Number(r.key_version)]));
    for (const { id } of rekeyed) settled.rekeyed.set(id, from.get(id)!);
  }
  return settled;
}

/**
 * End registrations whose expiry has passed (all of them, or only `ids`), as of their expiry: the
 * purge's first step, and a re-registration's. Returns what it ended, for the audit entries.
 */
export async function endExpired(q: Queryable, now: Date, ids?: string[]) {
  return q
    .update(registrations)
    .set({ endedAt: sql`${registrations.expiresAt}`, endReason: 'expired' })
    .where(and(isNull(registrations.endedAt), lte(registrations.expiresAt, now), ids ? inArray(registrations.id, ids) : undefined))
    .returning({ id: registrations.id, partner: registrations.partner, subject: registrations.subject, category: registrations.category });
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
