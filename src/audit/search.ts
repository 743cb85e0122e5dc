// Reading the audit log for the privacy officer's console: search by any of the NEN 7513 fields,
// newest first, a page at a time (keyset on id, so page 1,000 costs what page 1 does). Every filter
// column is indexed (schema/index.ts: subject, actor_sub, actor_partner, at). Every read is limited
// to the reader's scope (decideAuditRead): `inScope` is that scope in SQL, for every reader of the log.
import { and, desc, eq, gte, inArray, lt, or, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { auditEntries, registrations } from '../../schema/index';
import type { AuditScope } from '../covenant/index';
import type { Queryable } from '../db/types';
import type { AuditEntry } from './entry';
import { selectEntries } from './rows';

export type AuditSearch = {
  /** Stored (hub) pseudonyms of one person: every key version. */
  subjects?: string[] | undefined;
  actorSub?: string | undefined;
  actorPartner?: string | undefined;
  actorRole?: string | undefined;
  action?: string | undefined;
  outcome?: string | undefined;
  purpose?: string | undefined;
  caseRef?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** The reader's scope (decideAuditRead, art. 16). */
  scope: AuditScope;
  /** Keyset paging: entries older than this id. */
  beforeId?: number | undefined;
  limit: number;
};

/**
 * The entries a reader may read (decideAuditRead) as a condition on `t` (audit_entries or an alias
 * of it): everything; or one organisation's own actions and, with `ownRegistrations`, every entry
 * about a person it has an active registration for (the lookup's index answers that).
 */
export function inScope(scope: AuditScope, t: { actorPartner: AnyColumn; subject: AnyColumn } = auditEntries): SQL | undefined {
  if (scope.all) return undefined;
  const own = eq(t.actorPartner, scope.partner);
  if (!scope.ownRegistrations) return own;
  return or(own, sql`exists (select 1 from ${registrations} where ${registrations.subject} = ${t.subject} and ${registrations.partner} = ${scope.partner} and ${registrations.endedAt} is null)`);
}

function conditions(f: Omit<AuditSearch, 'limit' | 'beforeId'>): (SQL | undefined)[] {
  return [
    inScope(f.scope),
    f.subjects ? inArray(auditEntries.subject, f.subjects) : undefined,
    f.actorSub ? eq(auditEntries.actorSub, f.actorSub) : undefined,
    f.actorPartner ? eq(auditEntries.actorPartner, f.actorPartner) : undefined,
    f.actorRole ? eq(auditEntries.actorRole, f.actorRole) : undefined,
    f.action ? eq(auditEntries.action, f.action) : undefined,
    f.outcome ? eq(auditEntries.outcome, f.outcome) : undefined,
    f.purpose ? eq(auditEntries.purpose, f.purpose) : undefined,
    f.caseRef ? eq(auditEntries.caseRef, f.caseRef) : undefined,
    f.from ? gte(auditEntries.at, f.from) : undefined,
    f.to ? lt(auditEntries.at, f.to) : undefined,
  ];
}

export async function searchEntries(q: Queryable, f: AuditSearch): Promise<AuditEntry[]> {
  const conds = [...conditions(f), f.beforeId !== undefined ? lt(auditEntries.id, f.beforeId) : undefined];
  return selectEntries(q).where(and(...conds)).orderBy(desc(auditEntries.id)).limit(f.limit);
}

/** Entries per day, organisation and outcome for one action (the overview's chart). */
export async function dailyCounts(q: Queryable, action: string, from: Date, to: Date, scope: AuditScope) {
  return q
    .select({
      day: sql<string>`to_char(${auditEntries.at} at time zone 'Europe/Amsterdam', 'YYYY-MM-DD')`.as('day'),
      partner: auditEntries.actorPartner,
      outcome: auditEntries.outcome,
      n: sql<number>`count(*)::int`.as('n'),
    })
    .from(auditEntries)
    .where(and(...conditions({ action, from, to, scope })))
    .groupBy(sql`1`, auditEntries.actorPartner, auditEntries.outcome)
    .orderBy(sql`1`);
}
