// POST /v1/lookups: "is this subject known, and by whom may I know it, for this purpose?"
// POST /v1/lookups/family: the same for the members of a household at once (up to 20 subjects, one
// purpose and case): answered per subject, each subject's lookup its own audit entry, all entries in
// one statement; a refusal refuses (and logs) every subject.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { decideAction, decidePurpose } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { CaseRefSchema, ContactSchema, DecisionSchema, problemResponses, SubjectSchema, text } from '../http/schemas';
import { deny, readThenLog } from '../http/unit-of-work';
import { storedSubject } from '../pseudonym/hub-key';
import { findActive, type ActiveRegistration } from '../registrations/repo';
import { decideHits, type KnownBy } from './lookup';

/** The most subjects one family lookup may name: a household, not a list. */
export const MAX_FAMILY = 20;

const PurposeSchema = text(80).openapi({ description: 'A purpose of the covenant (doelbinding)', example: 'procesregie-casus-op-maat' });

const LookupInput = z.strictObject({ subject: SubjectSchema, purpose: PurposeSchema, caseRef: CaseRefSchema }).openapi('LookupInput');

const FamilyLookupInput = z
  .strictObject({
    subjects: z
      .array(SubjectSchema)
      .min(1)
      .max(MAX_FAMILY)
      .refine((s) => new Set(s).size === s.length, { message: 'each subject at most once' })
      .openapi({ description: `The household's members, 1 to ${MAX_FAMILY} partner pseudonyms, each once` }),
    purpose: PurposeSchema,
    caseRef: CaseRefSchema,
  })
  .openapi('FamilyLookupInput');

const KnownBySchema = z.object({ partner: z.string(), partnerName: z.string(), domain: z.string(), contact: ContactSchema, since: z.string() });

const LookupOutput = z.object({ lookupId: z.uuid(), knownBy: z.array(KnownBySchema), decision: DecisionSchema }).openapi('LookupResult');

const FamilyLookupOutput = z
  .object({
    familyId: z.uuid().openapi({ description: "Links the members' lookups (and their audit entries)" }),
    results: z
      .array(z.object({ subject: SubjectSchema, lookupId: z.uuid(), knownBy: z.array(KnownBySchema), decision: DecisionSchema }))
      .openapi({ description: 'One answer per subject, in the order asked' }),
  })
  .openapi('FamilyLookupResult');

const lookupRoute = createRoute({
  method: 'post',
  path: '/v1/lookups',
  operationId: 'lookUp',
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

const familyLookupRoute = createRoute({
  method: 'post',
  path: '/v1/lookups/family',
  operationId: 'lookUpFamily',
  tags: ['Lookups'],
  summary: `The same lookup for the members of a household at once (up to ${MAX_FAMILY})`,
  description:
    'One purpose and case for every subject. Answered per subject, exactly as separate lookups would be; each subject gets its own audit entry (all written in one statement, before the answer). Refused as a whole when the covenant refuses the lookup: then every subject\'s refused lookup is logged.',
  security: [{ partnerJwt: [] }],
  request: { body: { required: true, content: { 'application/json': { schema: FamilyLookupInput } } } },
  responses: {
    200: { description: 'Per subject, the partners you may learn of', content: { 'application/json': { schema: FamilyLookupOutput } } },
    ...problemResponses(400, 401, 403, 413, 415),
  },
});

type Answer = { subject: string; lookupId: string; knownBy: KnownBy[]; decision: { policyVersion: string; rules: string[] } };

/**
 * Look the subjects up for one purpose and case: the covenant decides once (the same requester,
 * role and purpose for all), one select finds every subject's registrations under every hub key
 * version, and one statement logs one entry per subject (and takes the token's jti) before anything
 * is answered.
 */
async function lookUp(c: Context<AppEnv>, subjects: readonly string[], purpose: string, caseRef: string, familyId?: string): Promise<Answer[]> {
  const actor = c.get('actor');
  const config = c.get('config');
  const clock = c.get('clock');
  const now = clock();
  const covenant = config.covenant;
  const asked = subjects.map((subject) => ({
    subject,
    lookupId: crypto.randomUUID(),
    stored: storedSubject(config.hubKeys, subject),
  }));
  const family = familyId ? { familyId } : {};

  return readThenLog(c, async (q, audit) => {
    const entry = (a: (typeof asked)[number]) => ({ action: 'lookup' as const, subject: a.stored.current, purpose, caseRef });
    const may = decideAction(covenant, actor, 'lookup');
    const forPurpose = may.allowed ? decidePurpose(covenant, actor, purpose) : may;
    if (!forPurpose.allowed) {
      await audit(...asked.map((a) => ({ ...entry(a), outcome: 'denied' as const, rule: forPurpose.rule, detail: { lookupId: a.lookupId, ...family, reason: forPurpose.reason } })));
      return deny(
        new Problem(may.allowed ? 'purpose-not-allowed' : 'forbidden', forPurpose.reason, {
          rule: forPurpose.rule,
          policyVersion: covenant.version,
        }),
      );
    }
    // Straight to the driver where the edge gives a runner (no query building per request).
    const found = await findActive(c.get('raw') ?? q, asked.flatMap((a) => a.stored.all), now, actor.partner);
    const ofSubject = new Map<string, ActiveRegistration[]>();
    for (const r of found) {
      const list = ofSubject.get(r.subject);
      if (list) list.push(r);
      else ofSubject.set(r.subject, [r]);
    }
    const answers = asked.map((a) => {
      const outcome = decideHits(covenant, actor, purpose, a.stored.all.flatMap((s) => ofSubject.get(s) ?? []));
      return { a, outcome, rules: [forPurpose.rule, ...outcome.rules] };
    });
    await audit(
      ...answers.map(({ a, outcome, rules }) => ({
        ...entry(a),
        outcome: 'allowed' as const,
        rule: forPurpose.rule,
        detail: { lookupId: a.lookupId, ...family, rules, knownBy: outcome.knownBy.map((k) => k.partner), withheld: outcome.withheld },
      })),
    );
    return answers.map(({ a, outcome, rules }) => ({
      subject: a.subject,
      lookupId: a.lookupId,
      knownBy: outcome.knownBy,
      decision: { policyVersion: covenant.version, rules },
    }));
  });
}

export function lookupRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(lookupRoute, async (c) => {
    const { subject, purpose, caseRef } = c.req.valid('json');
    const [{ lookupId, knownBy, decision }] = (await lookUp(c, [subject], purpose, caseRef)) as [Answer];
    return c.json({ lookupId, knownBy, decision }, 200);
  });

  app.openapi(familyLookupRoute, async (c) => {
    const { subjects, purpose, caseRef } = c.req.valid('json');
    const familyId = crypto.randomUUID();
    return c.json({ familyId, results: await lookUp(c, subjects, purpose, caseRef, familyId) }, 200);
  });
}
