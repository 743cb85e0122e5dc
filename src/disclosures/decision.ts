// A broker's decision on a disclosure request (or the review of a break-glass), however it was
// signed: a partner system's compact JWS (POST /v1/disclosures/{id}/decisions) or a person's
// passkey in the console (src/console). The caller has verified the signature and that it was
// made by `actor`; from here on both count exactly alike (four eyes, finality, grants).
// The request row is locked for the transaction, so two brokers deciding at once are taken one
// after the other and can never produce two outcomes.
import { decideDisclosureDecision, type Actor } from '../covenant/index';
import type { HubConfig } from '../config';
import type { PasskeyProof } from '../../schema/index';
import type { Tx } from '../db/types';
import type { z } from 'zod';
import type { DecisionPayloadSchema } from './schemas';
import { Problem } from '../errors';
import { deny, type Denial } from '../http/unit-of-work';
import { decisionsOf, grantOfRequest, insertDecision, lockRequest, pendingHandoverOfRequest, revokeGrant, updateRequest, wipeHandover, type GrantRow } from './repo';
import { concludeIfApproved, grantView, requestView, type Audit } from './service';

const HOUR = 3_600_000;

/** What a decision says, as its signed document carries it. */
export type DecisionPayload = z.infer<typeof DecisionPayloadSchema>;

/** The signature, kept verbatim with the decision: a JWS or a WebAuthn assertion. */
export type DecisionProof = { jws: string; passkey?: undefined } | { passkey: PasskeyProof; jws?: undefined };

export async function recordDecision(
  tx: Tx,
  audit: Audit,
  ctx: { config: HubConfig; actor: Actor; now: Date },
  id: string,
  p: DecisionPayload,
  proof: DecisionProof,
) {
  const { config, actor, now } = ctx;
  const req = await lockRequest(tx, id);
  if (!req) {
    await audit({ action: 'disclosure.decided', outcome: 'rejected', detail: { request: id, reason: 'no such request' } });
    return deny(new Problem('not-found', 'No disclosure request with this id'));
  }
  const kind = req.reviewStatus !== null ? ('review' as const) : ('decision' as const);
  const action = kind === 'review' ? ('disclosure.reviewed' as const) : ('disclosure.decided' as const);
  const entry = { action, subject: req.subject, purpose: req.purpose, caseRef: req.caseRef };
  const closed = kind === 'review' ? req.reviewStatus !== 'due' : req.status !== 'pending';
  // Who already decided matters only while the request is open (four eyes across organisations);
  // a closed one takes no decision from anyone who may weigh it (409 below).
  const decided = closed ? [] : (await decisionsOf(tx, id)).filter((d) => d.kind === kind).map((d) => d.broker);
  const may = decideDisclosureDecision(config.covenant, actor, { requester: req.requester, holder: req.holder, purpose: req.purpose, approvers: req.approvers, decided });
  if (!may.allowed) {
    await audit({ ...entry, outcome: 'denied', rule: may.rule, detail: { request: id, outcome: p.outcome, reason: may.reason } });
    return deny(new Problem('forbidden', may.reason, { rule: may.rule }));
  }
  if (closed) {
    await audit({ ...entry, outcome: 'rejected', rule: may.rule, detail: { request: id, outcome: p.outcome, reason: `already ${kind === 'review' ? req.reviewStatus : req.status}` } });
    return deny(new Problem('conflict', `This request is already ${kind === 'review' ? `reviewed (${req.reviewStatus})` : req.status}: a decision is final`));
  }
  const narrowing = p.categories?.filter((cat) => !req.categories.includes(cat)) ?? [];
  const maxValid = new Date(now.getTime() + config.covenant.disclosure.grantValidityHours * HOUR);
  const validUntil = p.validUntil ? new Date(p.validUntil) : null;
  const invalid =
    narrowing.length > 0
      ? { field: 'decision.categories', reason: `not requested: ${narrowing.join(', ')}` }
      : validUntil && (validUntil <= now || validUntil > maxValid)
        ? { field: 'decision.validUntil', reason: `must lie between now and ${maxValid.toISOString()}` }
        : kind === 'review' && (p.categories || p.validUntil)
          ? { field: 'decision', reason: 'a review judges the break-glass as it was: no narrowing' }
          : null;
  if (invalid) {
    await audit({ ...entry, outcome: 'rejected', rule: may.rule, detail: { request: id, ...invalid } });
    return deny(new Problem('invalid-request', `${invalid.field}: ${invalid.reason}`, { errors: [invalid] }));
  }
  const decisionId = crypto.randomUUID();
  const fresh = await insertDecision(tx, {
    id: decisionId,
    requestId: id,
    kind,
    broker: actor.partner,
    brokerSub: actor.sub,
    brokerRole: actor.role,
    outcome: p.outcome,
    categories: p.categories ?? null,
    validUntil,
    reason: p.reason ?? null,
    jws: proof.jws ?? null,
    passkey: proof.passkey ?? null,
    jti: p.jti,
    createdAt: now,
  });
  if (!fresh) {
    await audit({ ...entry, outcome: 'rejected', rule: may.rule, detail: { request: id, reason: 'this broker already decided, or the jti was reused' } });
    return deny(new Problem('conflict', 'You already decided on this request (or reused a signed decision): each broker decides once'));
  }
  await audit({ ...entry, outcome: 'allowed', rule: may.rule, detail: { request: id, decision: decisionId, outcome: p.outcome, categories: p.categories ?? null, validUntil: p.validUntil ?? null } });

  let grant: GrantRow | undefined;
  if (kind === 'review') {
    await updateRequest(tx, id, { reviewStatus: p.outcome === 'approve' ? 'justified' : 'unjustified' });
    grant = await grantOfRequest(tx, id);
    if (p.outcome === 'reject' && grant && !grant.revokedAt) {
      // An unjustified break-glass: its grant ends now, and what was not yet delivered is wiped.
      await revokeGrant(tx, grant.id, now);
      await audit({ ...entry, action: 'grant.revoked', outcome: 'ok', rule: may.rule, detail: { request: id, grant: grant.id, reason: 'break-glass judged unjustified' } });
      const pending = await pendingHandoverOfRequest(tx, id);
      if (pending) {
        await wipeHandover(tx, pending.id, now, 'revoked');
        await audit({ ...entry, action: 'handover.deleted', outcome: 'ok', rule: may.rule, detail: { handover: pending.id, request: id, reason: 'revoked' } });
      }
      grant = { ...grant, revokedAt: now };
    }
  } else if (p.outcome === 'reject') {
    await updateRequest(tx, id, { status: 'rejected', closedAt: now });
  } else {
    grant = await concludeIfApproved(tx, config, req, now, audit);
  }
  const after = (await lockRequest(tx, id))!;
  return { decision: { id: decisionId, kind, outcome: p.outcome }, request: await requestView(config, after), grant: grant ? grantView(grant) : null };
}
