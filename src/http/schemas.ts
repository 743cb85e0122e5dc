// Wire schemas shared by several routes. Strict objects: an unknown field is an error, not ignored.
import { z } from '@hono/zod-openapi';
import { isWellFormedText, untrustedText } from '../encoding';
import { InvalidSubjectError, parseSubject } from '../pseudonym/pseudonymise';

/**
 * A free-text field of a request: between `min` and `max` characters of well-formed text, i.e.
 * without U+0000 or a lone surrogate, which PostgreSQL cannot store. Every free-form string a
 * request carries (body, query, signed documents) is one of these; the others (uuid, e-mail, phone,
 * subject, JWS, date-time) admit only ASCII patterns to begin with.
 */
export const text = (max: number, min = 1) =>
  z.string().min(min).max(max).refine(isWellFormedText, 'contains U+0000 or an unpaired surrogate: not storable text');

/**
 * A cursor or count in a query string: a non-negative integer in canonical decimal ("0", "17"; not
 * "017", "+1", "1e3", "0x10", "1.5" or ""), so one value has one spelling, within [min, max].
 */
export const queryInt = (bounds: { min?: number; max?: number }, fallback: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]*)$/, 'must be a non-negative integer in plain decimal (no sign, leading zero, fraction, exponent or hex)')
    .transform(Number)
    .pipe(z.number().int().min(bounds.min ?? 0).max(bounds.max ?? Number.MAX_SAFE_INTEGER))
    .default(fallback);

export const SubjectSchema = z
  .string()
  .superRefine((s, ctx) => {
    try {
      parseSubject(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof InvalidSubjectError ? e.message : 'invalid subject' });
    }
  })
  .openapi({
    description:
      'Partner-side pseudonym: base64url (no padding) of HMAC-SHA256(covenant key, "kenbaar:v1:bsn:" + BSN), 32 bytes. Never a BSN.',
    example: 'q0Jm3xV9d2b7o1kzX5aY8sQwEr4tUiOpLk6jHgFdSa0',
  });

export const CaseRefSchema = text(100).openapi({ description: 'The caller\'s own case reference (opaque to the hub)', example: 'ZVH-2026-0142' });

export const ContactSchema = z
  .strictObject({
    function: text(120).openapi({ example: 'Wijkagent Zwolle-Zuid' }),
    phone: z.string().regex(/^\+?[0-9][0-9 ()-]{5,19}$/, 'not a phone number').optional(),
    email: z.email().max(200).optional(),
  })
  .refine((c) => c.phone !== undefined || c.email !== undefined, { message: 'give a phone number or an e-mail address', path: ['phone'] })
  .openapi('Contact', { description: 'The contact point to call: a function and a phone number or e-mail, not a person\'s private data.' });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    rule: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), reason: z.string(), index: z.number().int().optional() })).optional(),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details' });

export type FieldError = { path: (string | number)[]; reason: string };

/**
 * What is wrong with a request, one entry per field. An unknown field (strict objects) is named
 * itself, so the partner's developer sees `items.3.foo: unknown field`, not a bare `(body)`. That
 * name is the sender's and may be anything: it is escaped and bounded like any untrusted text.
 */
export function fieldErrors(issues: readonly z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((i) => {
    const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
    return i.code === 'unrecognized_keys'
      ? i.keys.map((key) => ({ path: [...path, untrustedText(key, 100)], reason: 'unknown field' }))
      : [{ path, reason: i.message }];
  });
}

export const fieldName = (path: readonly (string | number)[]) => path.join('.') || '(body)';

export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'Problem (RFC 9457)', content: { 'application/problem+json': { schema: ProblemSchema } } },
    ]),
  );

export const DecisionSchema = z
  .object({ policyVersion: z.string(), rules: z.array(z.string()) })
  .openapi('Decision', { description: 'The covenant version and the rules that decided this answer' });
