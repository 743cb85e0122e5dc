// SQL for oversight (art. 16): privacy officers' early releases of withheld entries, and the misuse
// signals (oversight.yaml). Each signal's evidence is one aggregate over the
// audit log, within the reader's scope (inScope), on the partial indexes of migration 0010_signals.
// The database counts and collects entry ids; which counts cross which threshold, and why, is
// decided in src/oversight/signals.ts. Times are compared as timestamps; days are UTC dates; the
// working hours (Europe/Amsterdam) arrive as UTC ranges from hours.ts.
import { and, inArray, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { auditEntries as a, deferralReleases } from '../../schema/index';
import { inScope } from '../audit/search';
import type { AuditScope, Oversight } from '../covenant/index';
import { rowsOf, type Queryable } from '../db/types';
import { outsideWorkingHours } from './hours';

export type DeferralRelease = typeof deferralReleases.$inferSelect;

/** Record an early release; false when the entry was already released. */
export async function insertDeferralRelease(q: Queryable, row: DeferralRelease): Promise<boolean> {
  const inserted = await q.insert(deferralReleases).values(row).onConflictDoNothing().returning({ id: deferralReleases.id });
  return inserted.length > 0;
}

/** Which of these entries have been released early. */
export async function releasedAmong(q: Queryable, entryIds: number[]): Promise<Set<number>> {
  if (entryIds.length === 0) return new Set();
  const rows = await q.select({ entryId: deferralReleases.entryId }).from(deferralReleases).where(inArray(deferralReleases.entryId, entryIds));
  return new Set(rows.map((r) => r.entryId));
}

/** An actor's (partner + sub) entries behind one signal. */
export type ActorEvidence = { partner: string; sub: string | null; count: number; entries: number[] };

export type SignalEvidence = {
  /** Per professional and UTC day of the period with at least `volume.minimum` lookups; `history` counts the `historyDays` before the day. */
  volume: (ActorEvidence & { day: string; history: number })[];
  /** Per professional: lookups outside working hours. */
  outOfHours: ActorEvidence[];
  /** Per professional: the window of `sweep.withinMinutes` with the most distinct persons, if it reaches the threshold. */
  sweeps: (ActorEvidence & { persons: number; day: string })[];
  /** Per professional: the window of `denials.withinMinutes` with the most refusals, if it reaches the threshold. */
  denials: (ActorEvidence & { day: string })[];
  /** Per professional: lookups whose fishing window has passed without a follow-up, if at least `fishing.minimum`. */
  fishing: ActorEvidence[];
  /** Per organisation: break-glass requests in the 30 days up to the period's end, if more than `breakGlass.perMonth`. */
  breakGlass: { partner: string; count: number; entries: number[] }[];
  /** Every overdue break-glass review in the period. */
  overdue: { id: number; request: string | null; requester: string | null }[];
};

export type Period = { from: Date; to: Date };

const FOLLOW_UPS = sql.raw(`('registration.create', 'match.created', 'disclosure.requested')`);
const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;
/** A whole number of minutes as an interval literal (a window frame's offset cannot be a parameter). */
const minutes = (n: number) => sql.raw(`interval '${Math.trunc(n)} minutes'`);
const where = (...conds: (SQL | undefined)[]) => and(...conds) ?? sql`true`;

const ids = (v: unknown): number[] => (Array.isArray(v) ? v.map(Number) : []);
const actor = (r: { partner: string; sub: string | null; n: number | string; ids: unknown }): ActorEvidence => ({ partner: r.partner, sub: r.sub, count: Number(r.n), entries: ids(r.ids) });
/** audit_entries or an alias of it. */
type Entries = Record<'id' | 'at' | 'actorPartner' | 'actorSub' | 'subject' | 'action' | 'outcome' | 'detail', AnyColumn>;
type Row = { partner: string; sub: string | null; n: number | string; ids: unknown };

/** Allowed lookups by an organisation (an actor), within scope, on `t`. */
const lookups = (t: Entries, scope: AuditScope) => where(sql`${t.action} = 'lookup'`, sql`${t.outcome} = 'allowed'`, sql`${t.actorPartner} is not null`, inScope(scope, t));
const refusals = (t: Entries, scope: AuditScope) => where(sql`${t.outcome} in ('denied', 'rejected')`, sql`${t.actorPartner} is not null`, inScope(scope, t));

/**
 * The densest window per actor among the rows `base` selects (time-ordered): the window of `within`
 * minutes ending at each row, scored by distinct persons (`distinct`) or by rows; per actor the
 * best score, earliest on a tie, if it reaches `threshold`, with the window's entries.
 */
async function densest(q: Queryable, base: (t: Entries) => SQL, period: Period, within: number, threshold: number, distinct: boolean) {
  const w = alias(a, 'w');
  const inPeriod = (t: Entries) => sql`${t.at} >= ${ts(period.from)} and ${t.at} < ${ts(period.to)}`;
  const sameActorInWindow = (t: Entries) =>
    sql`${t.actorPartner} = c.partner and ${t.actorSub} = c.sub and ${t.at} >= c.at - ${minutes(within)} and (${t.at}, ${t.id}) <= (c.at, c.id) and ${inPeriod(t)} and ${base(t)}`;
  // Rows per window first (cheap, one ordered pass): only windows with enough rows can have enough persons.
  const rows = await rowsOf<Row & { score: number | string; day: string }>(
    q,
    sql`with c as (
          select ${a.id} as id, ${a.actorPartner} as partner, ${a.actorSub} as sub, ${a.at} as at,
                 count(*) over (partition by ${a.actorPartner}, ${a.actorSub} order by ${a.at} range between ${minutes(within)} preceding and current row) as n
            from ${a} where ${inPeriod(a)} and ${base(a)}),
        scored as (
          select c.*, ${distinct ? sql`(select count(distinct ${w.subject}) from ${a} w where ${sameActorInWindow(w)})` : sql`(select count(*) from ${a} w where ${sameActorInWindow(w)})`} as score
            from c where c.n >= ${threshold}),
        best as (
          select distinct on (partner, sub) * from scored where score >= ${threshold} order by partner, sub, score desc, at, id)
        select c.partner, c.sub, c.score, (select count(*) from ${a} w where ${sameActorInWindow(w)}) as n,
               (select array_agg(${w.id} order by ${w.at}, ${w.id}) from ${a} w where ${sameActorInWindow(w)}) as ids,
               (select to_char(min(${w.at}) at time zone 'UTC', 'YYYY-MM-DD') from ${a} w where ${sameActorInWindow(w)}) as day
          from best c`,
  );
  return rows.map((r) => ({ ...actor(r), score: Number(r.score), day: r.day }));
}

/** The evidence for every signal over `period` (with the history and windows around it), in scope. */
export async function signalEvidence(q: Queryable, o: Oversight, period: Period, scope: AuditScope): Promise<SignalEvidence> {
  // Without JIT: the windows' correlated counts look costly to the planner (one per row), so
  // PostgreSQL would spend seconds compiling queries that run in milliseconds over the few rows
  // that reach a threshold. And memory enough to sort a month's lookups per professional in memory
  // rather than on disk. `set local` ends with this transaction (a savepoint inside a caller's).
  return q.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    await tx.execute(sql`set local work_mem = '64MB'`);
    return evidence(tx, o, period, scope);
  });
}

async function evidence(q: Queryable, o: Oversight, period: Period, scope: AuditScope): Promise<SignalEvidence> {
  const s = o.signals;
  const h = alias(a, 'h');
  const f = alias(a, 'f');
  const inPeriod = sql`${a.at} >= ${ts(period.from)} and ${a.at} < ${ts(period.to)}`;

  // Volume: lookups per professional and day, for the professionals with at least the minimum in
  // the whole period (a count in index order, no per-entry work), with the ids of the days that
  // reach it and the same professional's lookups in the days before.
  const day = sql`(d.day || 'T00:00:00Z')::timestamptz`;
  const volume = await rowsOf<Row & { day: string; history: number | string }>(
    q,
    sql`with busy as (
          select ${a.actorPartner} as partner, ${a.actorSub} as sub from ${a} where ${lookups(a, scope)} and ${inPeriod}
           group by 1, 2 having count(*) >= ${s.volume.minimum}),
        d as (
          select busy.partner, busy.sub, to_char(${h.at} at time zone 'UTC', 'YYYY-MM-DD') as day, count(*) as n
            from busy join ${a} h on ${h.actorPartner} = busy.partner and ${h.actorSub} = busy.sub
           where ${lookups(h, scope)} and ${h.at} >= ${ts(period.from)} and ${h.at} < ${ts(period.to)}
           group by 1, 2, 3 having count(*) >= ${s.volume.minimum})
        select d.partner, d.sub, d.day, d.n,
               (select array_agg(${h.id} order by ${h.at}, ${h.id}) from ${a} h where ${lookups(h, scope)} and ${h.actorPartner} = d.partner and ${h.actorSub} = d.sub
                   and ${h.at} >= greatest(${day}, ${ts(period.from)}) and ${h.at} < least(${day} + interval '1 day', ${ts(period.to)})) as ids,
               (select count(*) from ${a} h where ${lookups(h, scope)} and ${h.actorPartner} = d.partner and ${h.actorSub} = d.sub
                   and ${h.at} >= ${day} - make_interval(days => ${s.volume.historyDays}) and ${h.at} < ${day}) as history
          from d order by d.partner, d.sub, d.day`,
  );

  // Outside working hours: the period's stretches outside them (hours.ts), as plain time ranges.
  const outside = outsideWorkingHours(s.workingHours, period).map((r) => sql`(${a.at} >= ${ts(r.from)} and ${a.at} < ${ts(r.to)})`);
  const outOfHours = outside.length === 0 ? [] : await rowsOf<Row>(
    q,
    sql`select ${a.actorPartner} as partner, ${a.actorSub} as sub, count(*) as n, array_agg(${a.id} order by ${a.at}, ${a.id}) as ids
          from ${a} where ${lookups(a, scope)} and (${sql.join(outside, sql` or `)})
         group by 1, 2 order by 1, 2`,
  );

  const sweeps = await densest(q, (t) => lookups(t, scope), period, s.sweep.withinMinutes, s.sweep.distinctPersons, true);
  const denials = await densest(q, (t) => refusals(t, scope), period, s.denials.withinMinutes, s.denials.count, false);

  // Fishing: lookups whose window has passed with no registration, match or request of the same
  // organisation about that person within it (an anti-join on the follow-ups' index).
  const fishing = await rowsOf<Row>(
    q,
    sql`select ${a.actorPartner} as partner, ${a.actorSub} as sub, count(*) as n, array_agg(${a.id} order by ${a.at}, ${a.id}) as ids
          from ${a} where ${lookups(a, scope)} and ${inPeriod}
           and ${a.at} + make_interval(days => ${s.fishing.windowDays}) <= ${ts(period.to)}
           and not exists (select 1 from ${a} f where ${f.action} in ${FOLLOW_UPS} and ${f.subject} = ${a.subject} and ${f.actorPartner} = ${a.actorPartner}
                             and ${f.at} >= ${a.at} and ${f.at} <= ${a.at} + make_interval(days => ${s.fishing.windowDays}))
         group by 1, 2 having count(*) >= ${s.fishing.minimum} order by 1, 2`,
  );

  const breakGlass = await rowsOf<{ partner: string; n: number | string; ids: unknown }>(
    q,
    sql`select coalesce(${a.actorPartner}, '') as partner, count(*) as n, array_agg(${a.id} order by ${a.at}, ${a.id}) as ids
          from ${a} where ${a.action} = 'disclosure.break-glass' and ${a.at} > ${ts(period.to)} - interval '30 days' and ${a.at} < ${ts(period.to)} and ${where(inScope(scope))}
         group by 1 having count(*) > ${s.breakGlass.perMonth} order by 1`,
  );

  // An overdue review is the hub's own entry (no acting organisation): in a partner's scope when it
  // is about that partner's request.
  const overdue = await rowsOf<{ id: number | string; request: string | null; requester: string | null }>(
    q,
    sql`select ${a.id} as id, ${a.detail}->>'request' as request, ${a.detail}->>'requester' as requester
          from ${a} where ${a.action} = 'disclosure.overdue' and ${inPeriod} ${scope.all ? sql`` : sql`and ${a.detail}->>'requester' = ${scope.partner}`}
         order by ${a.at}, ${a.id}`,
  );

  return {
    volume: volume.map((r) => ({ ...actor(r), day: r.day, history: Number(r.history) })),
    outOfHours: outOfHours.map(actor),
    sweeps: sweeps.map((r) => ({ partner: r.partner, sub: r.sub, count: r.count, entries: r.entries, persons: r.score, day: r.day })),
    denials: denials.map((r) => ({ partner: r.partner, sub: r.sub, count: r.score, entries: r.entries, day: r.day })),
    fishing: fishing.map(actor),
    breakGlass: breakGlass.map((r) => ({ partner: r.partner, count: Number(r.n), entries: ids(r.ids) })),
    overdue: overdue.map((r) => ({ id: Number(r.id), request: r.request, requester: r.requester })),
  };
}
