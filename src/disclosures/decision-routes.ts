// POST /v1/disclosures/{id}/decisions: a broker's signed decision, or the review of a break-glass.
// The request row is locked for the transaction, so two brokers deciding at once are taken one
// after the other and can never produce two outcomes.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { problemResponses } from '../http/schemas';
import { unitOfWork } from '../http/unit-of-work';
import { recordDecision } from './decision';
import { CompactJws, DisclosureSchema, GrantSchema, parsePayload, DecisionPayloadSchema } from './schemas';
import { verifyDocument } from './signed';

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

    const result = await unitOfWork(c, (tx, audit) => recordDecision(tx, audit, { config, actor, now }, id, p, { jws }));
    return c.json(result, 201);
  });
}
