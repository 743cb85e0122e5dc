// How audit entries are read with their place in the log: an entry's content is in audit_entries,
// its position (`seq`) and leaf hash in audit_log once the sequencer has given them (schema/index.ts).
// Drizzle readers join through `selectEntries`; the reads that must keep their plan without
// statistics (the log page by page, a person's feed) are in src/audit/store.ts.
import { eq, getTableColumns } from 'drizzle-orm';
import { auditEntries, auditLog } from '../../schema/index';
import type { Queryable } from '../db/types';

const entryColumns = { ...getTableColumns(auditEntries), seq: auditLog.seq, leafHash: auditLog.leafHash };

/**
 * `select … from audit_entries left join audit_log`: entries with `seq` and `leafHash` (null until
 * sequenced), for drizzle queries to add their where/order/limit to. Ordering or filtering by
 * `auditLog.seq` reads sequenced entries only.
 */
export function selectEntries(q: Queryable) {
  return q.select(entryColumns).from(auditEntries).leftJoin(auditLog, eq(auditLog.entryId, auditEntries.id));
}
