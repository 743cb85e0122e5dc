// Retention, as the covenant sets it. An expired registration already stops matching at once (every
// query filters on expires_at); the purge then (1) marks expired registrations as ended, (2) removes
// registrations ended longer ago than the covenant's archive period, with their match notices, and
// (3) forgets used token ids that can no longer be replayed and idempotency keys past their
// retention (IDEMPOTENCY_RETENTION_HOURS), (4) wipes relayed ciphertext past the
// relay retention and logs break-glass reviews that are overdue, (5) forgets webhook deliveries
// settled longer ago than WEBHOOK_RETENTION_DAYS. It logs what it did in the same
// transaction. Audit entries are not purged here: the log's own retention prunes whole tiles below a
// minimum index (src/log/retention.ts), keeping the hashes.
import { and, inArray, isNotNull, lte, or } from 'drizzle-orm';
import { matches, registrations } from '../../schema/index';
import { appendAudit } from '../audit/store';
import type { AuditInput } from '../audit/entry';
import type { Covenant } from '../covenant/index';
import type { Db } from '../db/types';
import { forgetExpiredTokenIds } from '../auth/replay';
import { expireHandovers, markOverdue } from '../disclosures/service';
import { IDEMPOTENCY_RETENTION_HOURS } from '../idempotency/once';
import { forgetKeysBefore } from '../idempotency/repo';
import { forgetSettledDeliveries, WEBHOOK_RETENTION_DAYS } from '../webhooks/outbox';
import { endExpired } from '../registrations/repo';
import { expiryEntries } from '../registrations/service';

export type PurgeReport = { expired: number; removed: number; matchesRemoved: number; tokenIdsForgotten: number; idempotencyKeysForgotten: number; webhookDeliveriesForgotten: number; handoversExpired: number; reviewsOverdue: number };

const DAY_MS = 86_400_000;

export async function purge(db: Db, covenant: Covenant, now: Date): Promise<PurgeReport> {
  const archiveCutoff = new Date(now.getTime() - covenant.retention.archiveRetentionDays * DAY_MS);
  return db.transaction(async (tx) => {
    const expired = await endExpired(tx, now);

    const removed = await tx
      .delete(registrations)
      .where(and(isNotNull(registrations.endedAt), lte(registrations.endedAt, archiveCutoff)))
      .returning({ id: registrations.id, partner: registrations.partner, subject: registrations.subject, category: registrations.category });
    let matchesRemoved = 0;
    const ids = removed.map((r) => r.id);
    for (let i = 0; i < ids.length; i += 5000) {
      const part = ids.slice(i, i + 5000);
      const gone = await tx
        .delete(matches)
        .where(or(inArray(matches.registrationId, part), inArray(matches.recipientRegistrationId, part)))
        .returning({ id: matches.id });
      matchesRemoved += gone.length;
    }
    const tokenIdsForgotten = await forgetExpiredTokenIds(tx, now);
    const idempotencyKeysForgotten = await forgetKeysBefore(tx, new Date(now.getTime() - IDEMPOTENCY_RETENTION_HOURS * 3_600_000));
    const webhookDeliveriesForgotten = await forgetSettledDeliveries(tx, new Date(now.getTime() - WEBHOOK_RETENTION_DAYS * DAY_MS));
    const ctx = { at: now, requestId: `purge-${crypto.randomUUID()}`, actor: null, covenantVersion: covenant.version };
    const audit = async (...e: AuditInput[]) => {
      await appendAudit(tx, ctx, e);
    };
    // Relayed ciphertext past the covenant's relay retention, and break-glass reviews past due.
    const handoversExpired = await expireHandovers(tx, now, audit);
    const reviewsOverdue = (await markOverdue(tx, now, audit)).length;

    const report: PurgeReport = { expired: expired.length, removed: removed.length, matchesRemoved, tokenIdsForgotten, idempotencyKeysForgotten, webhookDeliveriesForgotten, handoversExpired, reviewsOverdue };
    const entries: AuditInput[] = [
      ...expiryEntries(expired),
      ...removed.map<AuditInput>((r) => ({
        action: 'purge',
        outcome: 'ok',
        rule: 'retention',
        subject: r.subject,
        detail: { registrationId: r.id, partner: r.partner, category: r.category, archiveRetentionDays: covenant.retention.archiveRetentionDays },
      })),
      { action: 'purge', outcome: 'ok', rule: 'retention', detail: { ...report } },
    ];
    await audit(...entries);
    return report;
  });
}
