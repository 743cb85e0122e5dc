// POST /v1/disclosures (request), GET /v1/disclosures (list), GET /v1/disclosures/{id},
// GET /v1/disclosures/overdue. Decisions: decision-routes.ts; hand-over: handover-routes.ts.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideAction, decideDisclosureRead, type Actor, type Covenant } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { problemResponses, queryInt, text } from '../http/schemas';
import { deny, readThenLog, unitOfWork } from '../http/unit-of-work';
import { IdempotencyHeaders, unitOfWorkOnce } from '../idempotency/once';
import { storedSubject } from '../pseudonym/hub-key';
import { decisionsOf, getRequest, grantOfRequest, insertRequest, type GrantRow } from './repo';
import { CompactJws, DisclosureSchema, GrantSchema, parsePayload, PasskeyProofSchema, RequestPayloadSchema } from './schemas';
import { seal } from './at-rest';
import { checkRequest, grantView, holderRegistration, issueGrant, justificationHash, markOverdue, readable, readableRequests, requestView, requestViewWith, shownDetail } from './service';
import { verifyDocument } from './signed';
import { breakGlassEvent } from '../webhooks/events';
import { enqueueWebhooks } from '../webhooks/outbox';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const security = [{ partnerJwt: [] }];

const createRequest = createRoute({
  method: 'post',
  path: '/v1/disclosures',
  operationId: 'requestDisclosure',
  tags: ['Disclosures'],
  summary: 'Ask a partner for content, on a signed justification',
  description:
    'The body carries a compact JWS signed with your partner key, protected header typ "kenbaar-disclosure-request+jws", payload {aud (this hub\'s id), sub, iat (now), jti, subject, holder, purpose, legalBasis, categories, caseRef, justification, urgency}. Stored verbatim (sealed at rest). urgency "emergency" is break-glass: a short grant at once, reviewed afterwards.',
  security,
  request: { headers: IdempotencyHeaders, body: { required: true, content: { 'application/json': { schema: z.strictObject({ request: CompactJws }).openapi('DisclosureRequestInput') } } } },
  responses: {
    201: {
      description: 'Requested (pending), or granted at once under break-glass',
      content: { 'application/json': { schema: z.object({ request: DisclosureSchema, grant: GrantSchema.nullable() }) } },
    },
    ...problemResponses(400, 401, 403, 409, 413, 415, 422),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/disclosures',
  operationId: 'listDisclosures',
  tags: ['Disclosures'],
  summary: 'Disclosure requests you may see: your organisation\'s own, approved ones addressed to it, and those you may decide as a broker',
  description:
    'The covenant decides each request as it decides who may weigh it: a broker sees only the requests it may decide (never another organisation\'s request to another holder outside its remit). The read is logged with the ids it showed.',
  security,
  request: {
    query: z.object({
      status: z.enum(['pending', 'approved', 'rejected']).optional(),
      purpose: text(80).optional(),
      holder: text(80).optional(),
      requester: text(80).optional(),
      urgency: z.enum(['regular', 'emergency']).optional(),
      limit: queryInt({ min: 1, max: 500 }, 100),
    }),
  },
  responses: { 200: { description: 'Requests', content: { 'application/json': { schema: z.object({ requests: z.array(DisclosureSchema) }) } } }, ...problemResponses(400, 401, 403) },
});

const overdueRoute = createRoute({
  method: 'get',
  path: '/v1/disclosures/overdue',
  operationId: 'listOverdueReviews',
  tags: ['Disclosures'],
  summary: 'Break-glass requests past their review deadline without a review (brokers)',
  security,
  responses: { 200: { description: 'Overdue', content: { 'application/json': { schema: z.object({ overdue: z.array(DisclosureSchema) }) } } }, ...problemResponses(401, 403) },
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/disclosures/{id}',
  operationId: 'getDisclosure',
  tags: ['Disclosures'],
  summary: 'One request with its signed decisions and grant',
  security,
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    200: {
      description: 'The request',
      content: {
        'application/json': {
          schema: z.object({
            request: DisclosureSchema,
            decisions: z.array(z.object({ id: z.uuid(), kind: z.string(), broker: z.string(), brokerSub: z.string(), outcome: z.string(), categories: z.array(z.string()).nullable(), validUntil: z.string().nullable(), reason: z.string().nullable(), createdAt: z.string(), jws: z.string().nullable().openapi({ description: "A partner system's signed decision; null when signed with a passkey in the console" }), passkey: PasskeyProofSchema.nullable() })),
            grant: GrantSchema.nullable(),
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

/**
 * The rule a listing is logged under: a broker's role rule, else the requesting organisation's
 * standing. Each request it showed is logged with the rule that let it through (`detail.shown`).
 */
function listRule(covenant: Covenant, actor: Actor): string {
  const broker = decideAction(covenant, actor, 'decide-disclosure');
  return broker.allowed ? broker.rule : 'requesting-organisation';
}

export function disclosureRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createRequest, async (c) => {
    const { actor, config, clock } = c.var;
    const now = clock();
    const { request: jws } = c.req.valid('json');
    const p = parsePayload(RequestPayloadSchema, await verifyDocument(config, actor.partner, 'request', jws, now), 'request');
    if (p.sub !== actor.sub) {
      throw new Problem('forbidden', 'request.sub: the signed request names another professional than the token', { rule: 'signer-not-actor', errors: [{ field: 'request.sub', reason: 'differs from the token sub' }] });
    }
    const stored = storedSubject(config.hubKeys, p.subject);
    const hash = justificationHash(p.justification);
    const covenant = config.covenant;

    const answer = await unitOfWorkOnce(c, async (tx, audit) => {
      const entry = { action: 'disclosure.requested' as const, subject: stored.current, purpose: p.purpose, caseRef: p.caseRef };
      const detail = { holder: p.holder, categories: p.categories, legalBasis: p.legalBasis, urgency: p.urgency, justificationHash: hash, jti: p.jti };
      const d = checkRequest(covenant, actor, p);
      if (!d.allowed) {
        await audit({ ...entry, outcome: 'denied', rule: d.rule, detail: { ...detail, field: d.field ?? null, reason: d.reason } });
        const field = `request.${d.field ?? 'purpose'}`;
        return deny(
          d.field === 'justification'
            ? new Problem('invalid-request', `${field}: ${d.reason}`, { rule: d.rule, errors: [{ field, reason: d.reason }] })
            : new Problem('forbidden', d.reason, { rule: d.rule, policyVersion: covenant.version, errors: [{ field, reason: d.reason }] }),
        );
      }
      const reg = await holderRegistration(tx, stored.all, p.holder, now);
      if (!reg) {
        await audit({ ...entry, outcome: 'rejected', rule: d.rule, detail: { ...detail, reason: 'holder has no active registration of this person' } });
        return deny(new Problem('conflict', `${p.holder} has no active registration of this person: there is nothing to ask it for`, { errors: [{ field: 'request.holder', reason: 'holder does not know the subject' }] }));
      }
      const id = crypto.randomUUID();
      const row = {
        id,
        requester: actor.partner,
        requesterSub: actor.sub,
        requesterRole: actor.role,
        holder: p.holder,
        holderRegistrationId: reg.id,
        subject: stored.current,
        purpose: p.purpose,
        legalBasis: p.legalBasis,
        categories: p.categories,
        caseRef: p.caseRef,
        justificationHash: hash,
        // Verbatim, but sealed: its payload holds the partner-side pseudonym.
        jws: await seal(config.hubKeys, jws),
        jti: p.jti,
        urgency: p.urgency,
        rule: d.rule,
        approvalsNeeded: d.approvalsNeeded,
        approvers: d.approvers,
        status: (d.breakGlass ? 'approved' : 'pending') as 'approved' | 'pending',
        reviewStatus: d.breakGlass ? ('due' as const) : null,
        reviewDueAt: d.breakGlass ? new Date(now.getTime() + covenant.disclosure.reviewDeadlineHours * HOUR) : null,
        overdueLoggedAt: null,
        createdAt: now,
        closedAt: d.breakGlass ? now : null,
      };
      if (!(await insertRequest(tx, row))) {
        await audit({ ...entry, outcome: 'rejected', rule: d.rule, detail: { ...detail, reason: 'jti already used for a request' } });
        return deny(new Problem('conflict', 'request.jti: this signed request was already submitted', { errors: [{ field: 'request.jti', reason: 'reused' }] }));
      }
      await audit({ ...entry, outcome: 'allowed', rule: d.rule, detail: { ...detail, request: id, approvalsNeeded: d.approvalsNeeded, approvers: d.approvers } });
      let grant: GrantRow | null = null;
      if (d.breakGlass) {
        await audit({ ...entry, action: 'disclosure.break-glass', outcome: 'allowed', rule: d.rule, detail: { request: id, holder: p.holder, reviewDueAt: row.reviewDueAt!.toISOString() } });
        const expiresAt = new Date(now.getTime() + covenant.disclosure.breakGlassValidityMinutes * MINUTE);
        grant = await issueGrant(tx, config, row, { categories: p.categories, expiresAt, now, breakGlass: true }, audit);
        await enqueueWebhooks(tx, config.webhooks, [breakGlassEvent(row, grant.id)], now);
      }
      return { status: 201 as const, body: { request: requestViewWith(row, jws), grant: grant ? grantView(grant) : null } };
    });
    return c.json(answer.body, answer.status);
  });

  app.openapi(listRoute, async (c) => {
    const { actor, config } = c.var;
    const filter = c.req.valid('query');
    const { limit, ...where } = filter;
    const result = await readThenLog(c, async (q, audit) => {
      const shown = await readableRequests(q, config.covenant, actor, where, limit);
      await audit({ action: 'disclosure.read', outcome: 'allowed', rule: listRule(config.covenant, actor), detail: { filter, shown: shownDetail(shown) } });
      return { requests: await Promise.all(shown.map((s) => requestView(config, s.row))) };
    });
    return c.json(result, 200);
  });

  app.openapi(overdueRoute, async (c) => {
    const { actor, config, clock } = c.var;
    const result = await unitOfWork(c, async (tx, audit) => {
      const broker = decideAction(config.covenant, actor, 'decide-disclosure');
      if (!broker.allowed) {
        await audit({ action: 'disclosure.read', outcome: 'denied', rule: broker.rule, detail: { list: 'overdue' } });
        return deny(new Problem('forbidden', broker.reason, { rule: broker.rule }));
      }
      // Every overdue review is logged as such once, whoever asks; the reader sees only its own share.
      const shown = readable(config.covenant, actor, await markOverdue(tx, clock(), audit));
      await audit({ action: 'disclosure.read', outcome: 'allowed', rule: broker.rule, detail: { list: 'overdue', shown: shownDetail(shown) } });
      return { overdue: await Promise.all(shown.map((s) => requestView(config, s.row))) };
    });
    return c.json(result, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { actor, config } = c.var;
    const { id } = c.req.valid('param');
    const result = await readThenLog(c, async (q, audit) => {
      const req = await getRequest(q, id);
      const may = req ? decideDisclosureRead(config.covenant, actor, req) : null;
      if (!req || !may?.allowed) {
        await audit({ action: 'disclosure.read', outcome: 'denied', rule: may?.rule ?? 'deny-by-default', detail: { request: id } });
        return deny(new Problem('not-found', 'No disclosure request with this id that you may see'));
      }
      await audit({ action: 'disclosure.read', outcome: 'allowed', rule: may.rule, subject: req.subject, purpose: req.purpose, caseRef: req.caseRef, detail: { request: id } });
      const grant = await grantOfRequest(q, id);
      return {
        request: await requestView(config, req),
        decisions: (await decisionsOf(q, id)).map((d) => ({
          id: d.id,
          kind: d.kind,
          broker: d.broker,
          brokerSub: d.brokerSub,
          outcome: d.outcome,
          categories: d.categories,
          validUntil: d.validUntil?.toISOString() ?? null,
          reason: d.reason,
          createdAt: d.createdAt.toISOString(),
          jws: d.jws,
          passkey: d.passkey,
        })),
        grant: grant ? grantView(grant) : null,
      };
    });
    return c.json(result, 200);
  });
}
