// Reading the audit log for the privacy officer's console: search by any of the NEN 7513 fields,
// newest first, a page at a time (keyset on id, so page 1,000 costs what page 1 does). Every filter
// column is indexed (schema/index.ts: subject, actor_sub, actor_partner, at).
import { and, desc, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { auditEntries } from '../../schema/index';
import type { Queryable } from '../db/types';
import type { AuditEntry } from './entry';

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
  /** The reader's scope: only this organisation's actions (a partner's own FG, art. 16). */
  scopePartner?: string | undefined;
  /** Keyset paging: entries older than this id. */
  beforeId?: number | undefined;
  limit: number;
};

function conditions(f: Omit<AuditSearch, 'limit' | 'beforeId'>): (SQL | undefined)[] {
  return [
    f.subjects ? inArray(auditEntries.subject, f.subjects) : undefined,
    f.actorSub ? eq(auditEntries.actorSub, f.actorSub) : undefined,
    f.actorPartner ? eq(auditEntries.actorPartner, f.actorPartner) : undefined,
    f.scopePartner ? eq(auditEntries.actorPartner, f.scopePartner) : undefined,
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
  return (await q.select().from(auditEntries).where(and(...conds)).orderBy(desc(auditEntries.id)).limit(f.limit)) as AuditEntry[];
}

/** Every entry in a time range (oldest first), for the misuse signals and the overview. */
export async function entriesBetween(q: Queryable, from: Date, to: Date, f: Pick<AuditSearch, 'scopePartner' | 'action'> = {}): Promise<AuditEntry[]> {
  const conds = conditions({ from, to, scopePartner: f.scopePartner, action: f.action });
  return (await q.select().from(auditEntries).where(and(...conds)).orderBy(auditEntries.id)) as AuditEntry[];
}

/** Entries per day, organisation and outcome for one action (the overview's chart). */
export async function dailyCounts(q: Queryable, action: string, from: Date, to: Date, scopePartner?: string) {
  return q
    .select({
      day: sql<string>`to_char(${auditEntries.at} at time zone 'Europe/Amsterdam', 'YYYY-MM-DD')`.as('day'),
      partner: auditEntries.actorPartner,
      outcome: auditEntries.outcome,
      n: sql<number>`count(*)::int`.as('n'),
    })
    .from(auditEntries)
    .where(and(...conditions({ action, from, to, scopePartner })))
    .groupBy(sql`1`, auditEntries.actorPartner, auditEntries.outcome)
    .orderBy(sql`1`);
}
