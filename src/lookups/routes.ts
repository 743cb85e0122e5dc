// POST /v1/lookups: "is this subject known, and by whom may I know it, for this purpose?"
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideAction, decidePurpose } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { CaseRefSchema, ContactSchema, DecisionSchema, problemResponses, SubjectSchema, text } from '../http/schemas';
import { deny, readThenLog } from '../http/unit-of-work';
import { storedSubject } from '../pseudonym/hub-key';
import { findActive } from '../registrations/repo';
import { decideHits } from './lookup';

const LookupInput = z
  .strictObject({
    subject: SubjectSchema,
    purpose: text(80).openapi({ description: 'A purpose of the covenant (doelbinding)', example: 'procesregie-casus-op-maat' }),
    caseRef: CaseRefSchema,
  })
  .openapi('LookupInput');

const LookupOutput = z
  .object({
    lookupId: z.uuid(),
    knownBy: z.array(
      z.object({
        partner: z.string(),
        partnerName: z.string(),
        domain: z.string(),
        contact: ContactSchema,
        since: z.string(),
      }),
    ),
    decision: DecisionSchema,
  })
  .openapi('LookupResult');

const lookupRoute = createRoute({
  method: 'post',
  path: '/v1/lookups',
  tags: ['Lookups'],
  summary: 'Which partners know this subject, as far as the covenant lets you know for this purpose',
  description: 'Answers only who knows the subject, whom to call and since when; never why. Logged before it is answered.',
  security: [{ partnerJwt: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: LookupInput } } } },
  responses: {
    200: { description: 'The partners you may learn of', content: { 'application/json': { schema: LookupOutput } } },
    ...problemResponses(400, 401, 403, 413, 415),
  },
});

export function lookupRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(lookupRoute, async (c) => {
    const { actor, config, clock } = c.var;
    const { subject, purpose, caseRef } = c.req.valid('json');
    const now = clock();
    const lookupId = crypto.randomUUID();
    const stored = storedSubject(config.hubKeys, subject);
    const covenant = config.covenant;

    const result = await readThenLog(c, async (q, audit) => {
      const entry = { action: 'lookup' as const, subject: stored.current, purpose, caseRef };
      const may = decideAction(covenant, actor, 'lookup');
      const forPurpose = may.allowed ? decidePurpose(covenant, actor, purpose) : may;
      if (!forPurpose.allowed) {
        await audit({ ...entry, outcome: 'denied', rule: forPurpose.rule, detail: { lookupId, reason: forPurpose.reason } });
        return deny(
          new Problem(may.allowed ? 'purpose-not-allowed' : 'forbidden', forPurpose.reason, {
            rule: forPurpose.rule,
            policyVersion: covenant.version,
          }),
        );
      }
      const found = await findActive(q, stored.all, now, actor.partner);
      const outcome = decideHits(covenant, actor, purpose, found);
      const rules = [forPurpose.rule, ...outcome.rules];
      await audit({
        ...entry,
        outcome: 'allowed',
        rule: forPurpose.rule,
        detail: {
          lookupId,
          rules,
          knownBy: outcome.knownBy.map((k) => k.partner),
          withheld: outcome.withheld,
        },
      });
      return { lookupId, knownBy: outcome.knownBy, decision: { policyVersion: covenant.version, rules } };
    });
    return c.json(result, 200);
  });
}
