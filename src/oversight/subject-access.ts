// A subject access report (AVG art. 15): every access to one person's data, and which of them the
// covenant defers (AVG art. 23) until when, unless a privacy officer released them early. Pure:
// entries in, report out.
import type { AuditEntry } from '../audit/entry';
import { deferralOf, type Covenant } from '../covenant/index';

const DAY = 86_400_000;

export type Withheld = { entry: AuditEntry; rule: string; description: string; until: Date };
export type SubjectAccessReport = { shown: AuditEntry[]; withheld: Withheld[]; released: AuditEntry[] };

/** Actions that are an access to the person's data (not the hub's own housekeeping). */
export const isAccess = (e: AuditEntry) => e.actorPartner !== null;

/** The report at `now`; `released` are the ids of entries a privacy officer released early (shown). */
export function subjectAccessReport(covenant: Covenant, entries: AuditEntry[], now: Date, released: ReadonlySet<number> = new Set()): SubjectAccessReport {
  const shown: AuditEntry[] = [];
  const withheld: Withheld[] = [];
  const early: AuditEntry[] = [];
  for (const e of entries.filter(isAccess)) {
    const rule = deferralOf(covenant, e);
    const until = rule ? new Date(e.at.getTime() + rule.days * DAY) : undefined;
    if (rule && until && until > now && !released.has(e.id)) withheld.push({ entry: e, rule: rule.id, description: rule.description, until });
    else {
      shown.push(e);
      if (rule && until && until > now) early.push(e);
    }
  }
  return { shown, withheld, released: early };
}

const CSV_HEAD = ['tijdstip', 'organisatie', 'rol', 'handeling', 'doel', 'uitkomst', 'zaak'];
const cell = (v: string) => (/[",\n;]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The report as CSV for the data subject (withheld entries are not in it). */
export function reportCsv(shown: AuditEntry[], label: (e: AuditEntry) => string[]): string {
  return [CSV_HEAD, ...shown.map(label)].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
