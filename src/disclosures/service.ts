// Full disclosure, as the covenant allows it: a signed request, brokers' signed decisions (four
// eyes where the covenant says so), a hub-signed grant, an end-to-end encrypted hand-over, and
// break-glass with mandatory review. Every step writes its audit entries in its own transaction.
import type { z } from 'zod';
import type { AuditInput } from '../audit/entry';
import { decideAction, decideDisclosureRead, decideDisclosureRequest, type Actor, type Covenant } from '../covenant/index';
import type { HubConfig } from '../config';
import type { Queryable, Tx } from '../db/types';
import { Problem } from '../errors';
import { sha256Hex } from '../hashing';
import { findActive } from '../registrations/repo';
import { unseal } from './at-rest';
import { grantSubjectRef, signGrant } from './grant';
import type { RequestPayloadSchema } from './schemas';
import {
  decisionsOf,
  expiredHandovers,
  insertGrant,
  listRequests,
  overdueReviews,
  updateRequest,
  wipeHandover,
  type DecisionRow,
  type DisclosureRequestRow,
  type GrantRow,
  type RequestFilter,
} from './repo';

export type Audit = (...entries: AuditInput[]) => Promise<void>;

const HOUR = 3_600_000;

/** What a disclosure request says, as its signed document carries it. */
export type RequestPayload = z.infer<typeof RequestPayloadSchema>;

export const justificationHash = (text: string) => `sha256:${sha256Hex(text)}`;

/** The holder's active registration of this subject, if the holder knows the person at all. */
export async function holderRegistration(q: Queryable, stored: string[], holder: string, now: Date) {
  return (await findActive(q, stored, now)).find((r) => r.partner === holder);
}

export function checkRequest(covenant: Covenant, actor: Actor, p: RequestPayload) {
  return decideDisclosureRequest(covenant, actor, {
    holder: p.holder,
    purpose: p.purpose,
    legalBasis: p.legalBasis,
    categories: p.categories,
    urgency: p.urgency,
    justificationLength: p.justification.trim().length,
  });
}

/** Sign and store the grant for an approved request; its audit entry goes with it. */
export async function issueGrant(
  tx: Tx,
  config: HubConfig,
  req: DisclosureRequestRow,
  opts: { categories: string[]; expiresAt: Date; now: Date; breakGlass: boolean },
  audit: Audit,
): Promise<GrantRow> {
  const id = crypto.randomUUID();
  const claims = {
    grant: id,
    request: req.id,
    requester: req.requester,
    holder: req.holder,
    registration: req.holderRegistrationId,
    subjectRef: grantSubjectRef(config.hubKeys.current.key, id, req.subject),
    categories: opts.categories,
    purpose: req.purpose,
    legalBasis: req.legalBasis,
    caseRef: req.caseRef,
    breakGlass: opts.breakGlass,
    issuedAt: opts.now,
    expiresAt: opts.expiresAt,
  };
  const jwt = await signGrant(config.signer, config.hubId, claims);
  const row: GrantRow = {
    id,
    requestId: req.id,
    requester: req.requester,
    holder: req.holder,
    categories: opts.categories,
    breakGlass: opts.breakGlass,
    issuedAt: opts.now,
    expiresAt: opts.expiresAt,
    revokedAt: null,
    jwt,
  };
  await insertGrant(tx, row);
  await audit({
    action: 'grant.issued',
    outcome: 'allowed',
    rule: req.rule,
    subject: req.subject,
    purpose: req.purpose,
    caseRef: req.caseRef,
    detail: { request: req.id, grant: id, holder: req.holder, requester: req.requester, categories: opts.categories, expiresAt: opts.expiresAt.toISOString(), breakGlass: opts.breakGlass, kid: config.signer.kid },
  });
  return row;
}

/**
 * After an approval: when enough approvers approved, the request is approved and a grant is issued
 * for what every approver allowed (the intersection of their categories, the earliest of their
 * validity limits, never beyond the covenant's grant validity). Approvers are counted as the
 * request's `approvers` says: organisations (distinct-partners) or people (distinct-brokers).
 */
export async function concludeIfApproved(
  tx: Tx,
  config: HubConfig,
  req: DisclosureRequestRow,
  now: Date,
  audit: Audit,
): Promise<GrantRow | undefined> {
  const approvals = (await decisionsOf(tx, req.id)).filter((d) => d.kind === 'decision' && d.outcome === 'approve');
  if (approverCount(req, approvals) < req.approvalsNeeded) return undefined;
  let categories = req.categories;
  let expiresAt = new Date(now.getTime() + config.covenant.disclosure.grantValidityHours * HOUR);
  for (const a of approvals) {
    if (a.categories) categories = categories.filter((c) => a.categories!.includes(c));
    if (a.validUntil && a.validUntil < expiresAt) expiresAt = a.validUntil;
  }
  if (categories.length === 0) throw new Problem('conflict', 'The approvals leave no category in common: nothing can be granted');
  await updateRequest(tx, req.id, { status: 'approved', closedAt: now });
  return issueGrant(tx, config, req, { categories, expiresAt, now, breakGlass: false }, audit);
}

/** Distinct approvers: one per organisation where approvals must come from distinct partners. */
export function approverCount(req: Pick<DisclosureRequestRow, 'approvers'>, approvals: readonly Pick<DecisionRow, 'broker' | 'brokerSub'>[]): number {
  const who = (a: Pick<DecisionRow, 'broker' | 'brokerSub'>) => (req.approvers === 'distinct-partners' ? a.broker : JSON.stringify([a.broker, a.brokerSub]));
  return new Set(approvals.map(who)).size;
}

/**
 * Break-glass requests past their review deadline: listed, and each logged once as overdue.
 * Runs on every read of the overdue list (GET /v1/disclosures/overdue, the console's queue) and with
 * the scheduled purge, so the overdue state is logged even when nobody asks.
 */
export async function markOverdue(tx: Tx, now: Date, audit: Audit): Promise<DisclosureRequestRow[]> {
  const overdue = await overdueReviews(tx, now);
  const fresh = overdue.filter((r) => !r.overdueLoggedAt);
  for (const r of fresh) await updateRequest(tx, r.id, { overdueLoggedAt: now });
  await audit(
    ...fresh.map<AuditInput>((r) => ({
      action: 'disclosure.overdue',
      outcome: 'ok',
      rule: 'break-glass-review',
      subject: r.subject,
      purpose: r.purpose,
      caseRef: r.caseRef,
      detail: { request: r.id, requester: r.requester, holder: r.holder, reviewDueAt: r.reviewDueAt?.toISOString() ?? null },
    })),
  );
  return overdue;
}

export type Shown = { row: DisclosureRequestRow; rule: string };

/** Of these requests, those the reader may see (decideDisclosureRead), each with its deciding rule. */
export function readable(covenant: Covenant, reader: Actor, rows: readonly DisclosureRequestRow[]): Shown[] {
  return rows.flatMap((row) => {
    const d = decideDisclosureRead(covenant, reader, row);
    return d.allowed ? [{ row, rule: d.rule }] : [];
  });
}

/**
 * The first `limit` requests matching the filter that the reader may see, oldest first. The
 * covenant decides each row; SQL only narrows a reader who is no broker to requests naming its own
 * organisation (it can see no others), and pages on until `limit` visible rows are found.
 */
export async function readableRequests(
  q: Queryable,
  covenant: Covenant,
  reader: Actor,
  filter: Omit<RequestFilter, 'involving' | 'after' | 'limit'>,
  limit: number,
): Promise<Shown[]> {
  const broker = decideAction(covenant, reader, 'decide-disclosure').allowed;
  const page = Math.max(limit, 100);
  const shown: Shown[] = [];
  let after: RequestFilter['after'];
  for (;;) {
    const rows = await listRequests(q, { ...filter, ...(broker ? {} : { involving: reader.partner }), ...(after ? { after } : {}), limit: page });
    shown.push(...readable(covenant, reader, rows));
    if (shown.length >= limit || rows.length < page) return shown.slice(0, limit);
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
}

/** What a read of requests logs: which requests it showed, and the rule that let each through. */
export const shownDetail = (shown: readonly Shown[]) => shown.map((s) => ({ request: s.row.id, rule: s.rule }));

/** Ciphertext past the covenant's relay retention is wiped, undelivered, and that is logged. */
export async function expireHandovers(tx: Tx, now: Date, audit: Audit): Promise<number> {
  const expired = await expiredHandovers(tx, now);
  for (const h of expired) await wipeHandover(tx, h.id, now, 'expired');
  await audit(
    ...expired.flatMap<AuditInput>((h) => [
      { action: 'handover.expired', outcome: 'ok', rule: 'relay-retention', detail: { handover: h.id, request: h.requestId, grant: h.grantId, postedAt: h.postedAt.toISOString() } },
      { action: 'handover.deleted', outcome: 'ok', rule: 'relay-retention', detail: { handover: h.id, request: h.requestId, reason: 'expired' } },
    ]),
  );
  return expired.length;
}

/** A request as readers see it, with its signed justification unsealed (see at-rest.ts). */
export async function requestView(config: HubConfig, r: DisclosureRequestRow) {
  return requestViewWith(r, await unseal(config.hubKeys, r.jws));
}

export function requestViewWith(r: DisclosureRequestRow, jws: string | null) {
  return {
    id: r.id,
    requester: r.requester,
    requesterSub: r.requesterSub,
    holder: r.holder,
    purpose: r.purpose,
    legalBasis: r.legalBasis,
    categories: r.categories,
    caseRef: r.caseRef,
    urgency: r.urgency,
    status: r.status,
    approvalsNeeded: r.approvalsNeeded,
    approvers: r.approvers,
    rule: r.rule,
    justificationHash: r.justificationHash,
    reviewStatus: r.reviewStatus,
    reviewDueAt: r.reviewDueAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    closedAt: r.closedAt?.toISOString() ?? null,
    jws,
  };
}

export const grantView = (g: GrantRow) => ({
  id: g.id,
  jwt: g.jwt,
  categories: g.categories,
  expiresAt: g.expiresAt.toISOString(),
  breakGlass: g.breakGlass,
  revokedAt: g.revokedAt?.toISOString() ?? null,
});
