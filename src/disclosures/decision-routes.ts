// POST /v1/disclosures/{id}/decisions: a broker's signed decision, or the review of a break-glass.
// The request row is locked for the transaction, so two brokers deciding at once are taken one
// after the other and can never produce two outcomes.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideDisclosureDecision } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { problemResponses } from '../http/schemas';
import { deny, unitOfWork } from '../http/unit-of-work';
import { decisionsOf, grantOfRequest, insertDecision, lockRequest, pendingHandoverOfRequest, revokeGrant, updateRequest, wipeHandover, type GrantRow } from './repo';
import { CompactJws, DisclosureSchema, GrantSchema, parsePayload, DecisionPayloadSchema } from './schemas';
import { concludeIfApproved, grantView, requestView } from './service';
import { verifyDocument } from './signed';

const HOUR = 3_600_000;

const decideRoute = createRoute({
  method: 'post',
  path: '/v1/disclosures/{id}/decisions',
  operationId: 'decideDisclosure',
  tags: ['Disclosures'],
  summary: 'Decide on a request (brokers): approve, possibly narrowing categories or validity, or reject with a reason',
  description:
    'The body carries a compact JWS signed with your partner key, protected header typ "kenbaar-disclosure-decision+jws", payload {aud (this hub\'s id), sub, iat (now), jti, request, outcome, categories?, validUntil?, reason?}. Final and immutable. On a break-glass request this is its retrospective review.',
  security: [{ partnerJwt: [] }],
  request: {
    params: z.object({ id: z.uuid() }),
    body: { required: true, content: { 'application/json': { schema: z.strictObject({ decision: CompactJws }).openapi('DisclosureDecisionInput') } } },
  },
  responses: {
    201: {
      description: 'Decision recorded',
      content: { 'application/json': { schema: z.object({ decision: z.object({ id: z.uuid(), kind: z.enum(['decision', 'review']), outcome: z.enum(['approve', 'reject']) }), request: DisclosureSchema, grant: GrantSchema.nullable() }) } },
    },
    ...problemResponses(400, 401, 403, 404, 409, 415),
  },
});

export function decisionRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(decideRoute, async (c) => {
    const { actor, config, clock } = c.var;
    const now = clock();
    const { id } = c.req.valid('param');
    const { decision: jws } = c.req.valid('json');
    const p = parsePayload(DecisionPayloadSchema, await verifyDocument(config, actor.partner, 'decision', jws, now), 'decision');
    if (p.sub !== actor.sub) {
      throw new Problem('forbidden', 'decision.sub: the signed decision names another person than the token', { rule: 'signer-not-actor', errors: [{ field: 'decision.sub', reason: 'differs from the token sub' }] });
    }
    if (p.request !== id) {
      throw new Problem('invalid-request', 'decision.request: the signed decision is about another request', { errors: [{ field: 'decision.request', reason: 'differs from the path' }] });
    }

    const result = await unitOfWork(c, async (tx, audit) => {
      const req = await lockRequest(tx, id);
      if (!req) {
        await audit({ action: 'disclosure.decided', outcome: 'rejected', detail: { request: id, reason: 'no such request' } });
        return deny(new Problem('not-found', 'No disclosure request with this id'));
      }
      const kind = req.reviewStatus !== null ? ('review' as const) : ('decision' as const);
      const action = kind === 'review' ? ('disclosure.reviewed' as const) : ('disclosure.decided' as const);
      const entry = { action, subject: req.subject, purpose: req.purpose, caseRef: req.caseRef };
      const closed = kind === 'review' ? req.reviewStatus !== 'due' : req.status !== 'pending';
      // Who already decided matters only while the request is open (four eyes); a closed one takes
      // no decision from anyone who may weigh it (409 below).
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
        jws,
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
    });
    return c.json(result, 201);
  });
}
