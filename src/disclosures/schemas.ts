// Wire schemas of the disclosure API and of the signed documents partners send.
import { z } from '@hono/zod-openapi';
import { Problem } from '../errors';
import { CaseRefSchema, fieldErrors, fieldName, SubjectSchema, text } from '../http/schemas';

export const CompactJws = z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'not a compact JWS').max(100_000);

/** The hub's id; signed.ts checks it is this hub's before the payload is parsed. */
const audience = text(200);

export const RequestPayloadSchema = z.strictObject({
  aud: audience,
  sub: text(200),
  iat: z.number().int().positive(),
  jti: text(200),
  subject: SubjectSchema,
  holder: text(80),
  purpose: text(80),
  legalBasis: text(300),
  categories: z.array(text(80)).min(1).max(20),
  caseRef: CaseRefSchema,
  justification: text(20_000, 0),
  urgency: z.enum(['regular', 'emergency']),
});

export const DecisionPayloadSchema = z
  .strictObject({
    aud: audience,
    sub: text(200),
    iat: z.number().int().positive(),
    jti: text(200),
    request: z.uuid(),
    outcome: z.enum(['approve', 'reject']),
    categories: z.array(text(80)).min(1).max(20).optional(),
    validUntil: z.iso.datetime({ offset: true }).optional(),
    reason: text(5000).optional(),
  })
  .refine((d) => d.outcome === 'approve' || d.reason !== undefined, { message: 'a rejection needs a reason', path: ['reason'] });

/** Parse a verified signed document's payload; field names are prefixed with the body field. */
export function parsePayload<T>(schema: z.ZodType<T>, payload: unknown, field: string): T {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const errors = fieldErrors(r.error.issues).map((e) => ({ field: fieldName([field, ...e.path]), reason: e.reason }));
  throw new Problem('invalid-request', errors.map((e) => `${e.field}: ${e.reason}`).join('; '), { errors });
}

export const GrantSchema = z
  .object({ id: z.uuid(), jwt: z.string(), categories: z.array(z.string()), expiresAt: z.string(), breakGlass: z.boolean(), revokedAt: z.string().nullable() })
  .openapi('DisclosureGrant', { description: 'A hub-signed JWT (typ kenbaar-grant+jwt): verify it with /.well-known/jwks.json' });

export const DisclosureSchema = z
  .object({
    id: z.uuid(),
    requester: z.string(),
    requesterSub: z.string(),
    holder: z.string(),
    purpose: z.string(),
    legalBasis: z.string(),
    categories: z.array(z.string()),
    caseRef: z.string(),
    urgency: z.enum(['regular', 'emergency']),
    status: z.enum(['pending', 'approved', 'rejected']),
    approvalsNeeded: z.number().int(),
    approvers: z.enum(['distinct-partners', 'distinct-brokers']).openapi({ description: 'distinct-partners: each approval from another organisation' }),
    rule: z.string(),
    justificationHash: z.string(),
    reviewStatus: z.enum(['due', 'justified', 'unjustified']).nullable(),
    reviewDueAt: z.string().nullable(),
    createdAt: z.string(),
    closedAt: z.string().nullable(),
    jws: z.string().nullable().openapi({
      description: "The requester's signed justification, verbatim; null only when it was sealed at rest under a hub key version since retired from the ring (justificationHash in the log still pins it)",
    }),
  })
  .openapi('DisclosureRequest');

export const PasskeyProofSchema = z
  .object({ decision: z.string(), credentialId: z.string(), authenticatorData: z.string(), clientDataJSON: z.string(), signature: z.string() })
  .openapi('PasskeyDecisionProof', {
    description:
      "A decision signed in the console with a person's passkey: the WebAuthn assertion (base64url) whose challenge is base64url(sha256(decision)). Verify the signature over authenticatorData || sha256(clientDataJSON) with the credential's public key.",
  });
