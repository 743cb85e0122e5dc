// Registering involvement with a subject: covenant checks (pure), then one transactional write of
// registrations, their match notices and the audit entries for all of it.
import { decideRegistration, maxExpiry, type Actor, type Covenant } from '../covenant/index';
import type { AuditInput } from '../audit/entry';
import type { Tx } from '../db/types';
import { matchNotices, type MatchSide } from '../matches/match';
import { insertMatches } from '../matches/repo';
import type { Webhooks } from '../webhooks/config';
import { matchCreatedEvents } from '../webhooks/events';
import { enqueueWebhooks } from '../webhooks/outbox';
import { storedSubject, type HubKeyring } from '../pseudonym/hub-key';
import { findActive, settleExisting, upsertRegistrations, type Contact, type Settled } from './repo';

export type RegistrationItem = {
  subject: string;
  category: string;
  contact: Contact;
  reference?: string | undefined;
  expiresAt?: string | undefined;
};

export type ItemError = { index: number; field: string; reason: string; rule?: string; status: 400 | 403 };

export type CheckedItem = Omit<RegistrationItem, 'expiresAt'> & { expiresAt: Date; rule: string };

/** The covenant's word on each item; no I/O. Unknown categories and too-long retention are input errors. */
export function checkItems(
  covenant: Covenant,
  actor: Actor,
  items: readonly RegistrationItem[],
  now: Date,
): { ok: CheckedItem[]; errors: ItemError[] } {
  const ok: CheckedItem[] = [];
  const errors: ItemError[] = [];
  items.forEach((item, index) => {
    if (!covenant.categories.has(item.category)) {
      errors.push({ index, field: 'category', reason: `unknown category "${item.category}"`, status: 400 });
      return;
    }
    const d = decideRegistration(covenant, actor, item.category);
    if (!d.allowed) {
      errors.push({ index, field: 'category', reason: d.reason, rule: d.rule, status: 403 });
      return;
    }
    const max = maxExpiry(covenant, item.category, now);
    let expiresAt = max;
    if (item.expiresAt !== undefined) {
      expiresAt = new Date(item.expiresAt);
      if (expiresAt.getTime() <= now.getTime()) {
        errors.push({ index, field: 'expiresAt', reason: 'must lie in the future', status: 400 });
        return;
      }
      if (expiresAt.getTime() > max.getTime()) {
        errors.push({ index, field: 'expiresAt', reason: `beyond the covenant maximum for ${item.category} (${max.toISOString()})`, status: 400 });
        return;
      }
    }
    ok.push({ ...item, expiresAt, rule: d.rule });
  });
  return { ok, errors };
}

export type Registered = { id: string; created: boolean; since: Date; expiresAt: Date; item: CheckedItem };

export async function register(
  tx: Tx,
  env: { covenant: Covenant; hubKeys: HubKeyring; now: Date; webhooks?: Webhooks | undefined },
  actor: Actor,
  items: readonly CheckedItem[],
  audit: (...entries: AuditInput[]) => Promise<void>,
): Promise<Registered[]> {
  const { covenant, hubKeys, now } = env;
  // Later duplicates of (subject, category) in one request win, as a sequence of calls would.
  const unique = new Map<string, CheckedItem>();
  for (const item of items) unique.set(`${item.subject}\u0000${item.category}`, item);
  const list = [...unique.values()];

  const stored = list.map((i) => storedSubject(hubKeys, i.subject));
  // An expired registration is ended, not revived; one under an older hub key version is re-keyed.
  const settled = await settleExisting(tx, actor.partner, stored.map((s, i) => ({ ...s, category: list[i]!.category })), now);
  const rows = list.map((item, i) => ({
    id: crypto.randomUUID(),
    partner: actor.partner,
    subject: stored[i]!.current,
    keyVersion: stored[i]!.version,
    category: item.category,
    contact: item.contact,
    reference: item.reference ?? null,
    registeredBy: actor.sub,
    createdAt: now,
    expiresAt: item.expiresAt,
  }));
  const upserted = await upsertRegistrations(tx, rows);

  // Matches: the same subject (under any hub key version) registered by another partner.
  const indexOf = new Map<string, number>();
  stored.forEach((s, i) => s.all.forEach((p) => indexOf.set(p, i)));
  const others = await findActive(tx, [...indexOf.keys()], now, actor.partner);
  const pairs: { fresh: MatchSide; other: MatchSide }[] = [];
  for (const o of others) {
    const i = indexOf.get(o.subject)!;
    pairs.push({
      fresh: { id: upserted[i]!.id, partner: actor.partner, category: list[i]!.category },
      other: { id: o.id, partner: o.partner, category: o.category },
    });
  }
  const created = await insertMatches(tx, matchNotices(covenant, pairs), covenant.version, now);
  // In this transaction: a notice that rolls back leaves no webhook behind.
  await enqueueWebhooks(tx, env.webhooks, matchCreatedEvents(created), now);

  const subjectOfRegistration = new Map<string, string>();
  upserted.forEach((u, i) => subjectOfRegistration.set(u.id, rows[i]!.subject));
  others.forEach((o) => subjectOfRegistration.set(o.id, o.subject));

  await audit(
    ...expiryEntries(settled.ended),
    ...upserted.map<AuditInput>((u, i) => ({
      action: u.inserted ? 'registration.create' : 'registration.renew',
      outcome: 'allowed',
      rule: list[i]!.rule,
      subject: rows[i]!.subject,
      caseRef: list[i]!.reference ?? null,
      detail: { registrationId: u.id, category: list[i]!.category, expiresAt: list[i]!.expiresAt.toISOString(), ...rekeyedFrom(settled, u.id) },
    })),
    ...created.map<AuditInput>((m) => ({
      action: 'match.created',
      outcome: 'allowed',
      rule: m.rule,
      subject: subjectOfRegistration.get(m.registrationId) ?? null,
      detail: { matchId: m.id, recipient: m.recipient, recipientRegistrationId: m.recipientRegistrationId, registrationId: m.registrationId },
    })),
  );

  return upserted.map((u, i) => ({ id: u.id, created: u.inserted, since: u.createdAt, expiresAt: list[i]!.expiresAt, item: list[i]! }));
}

/** The log entries for registrations ended because they expired (by the purge, or on re-registering). */
export function expiryEntries(ended: Settled['ended']): AuditInput[] {
  return ended.map((r) => ({
    action: 'registration.end',
    outcome: 'ok',
    rule: 'retention',
    subject: r.subject,
    detail: { registrationId: r.id, partner: r.partner, category: r.category, reason: 'expired' },
  }));
}

const rekeyedFrom = (settled: Settled, id: string) => (settled.rekeyed.has(id) ? { rekeyedFromKeyVersion: settled.rekeyed.get(id)! } : {});
