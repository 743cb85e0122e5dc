// The API document's `webhooks` (OpenAPI 3.1): what the hub POSTs to a partner's URL. The schemas
// follow the types in events.ts; signatures are Standard Webhooks' (sign.ts).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../config';

const SignatureHeaders = z.object({
  'webhook-id': z.uuid().openapi({ description: 'The delivery; the same on every retry of it: drop repeats' }),
  'webhook-timestamp': z.string().regex(/^\d+$/).openapi({ description: 'Seconds since the epoch when this attempt was signed; refuse one more than 5 minutes off' }),
  'webhook-signature': z.string().openapi({
    description: 'Standard Webhooks: `v1,<base64 HMAC-SHA256>` over `{webhook-id}.{webhook-timestamp}.{body}` under your secret (the base64-decoded bytes after `whsec_`)',
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  }),
});

const envelope = <T extends z.ZodType>(type: string, data: T) =>
  z.object({
    type: z.literal(type),
    timestamp: z.string().openapi({ description: 'When the notice was made (ISO 8601)' }),
    data,
  });

const MatchCreated = envelope(
  'match.created',
  z.object({
    matchId: z.number().int().openapi({ description: 'The notice, as `id` in the match feed' }),
    registrationId: z.uuid().openapi({ description: 'Your registration that matched' }),
    rule: z.string().openapi({ description: 'The covenant rule that made the notice' }),
  }),
).openapi('MatchCreatedWebhook');

const BreakGlass = envelope(
  'disclosure.break-glass',
  z.object({
    requestId: z.uuid().openapi({ description: 'The disclosure request (GET /v1/disclosures/{id})' }),
    registrationId: z.uuid().openapi({ description: 'Your registration the request is about' }),
    requester: z.string().openapi({ description: 'The partner that broke the glass' }),
    grantId: z.uuid().openapi({ description: 'The grant issued at once' }),
  }),
).openapi('BreakGlassWebhook');

const ANSWER = {
  200: { description: 'Any 2xx: delivered. Anything else, a redirect, or no answer within 10 s: retried after 30 s, doubling, 8 attempts in all.' },
};

export function documentWebhooks(app: OpenAPIHono<AppEnv>) {
  const common = {
    method: 'post' as const,
    tags: ['Webhooks'],
    security: [],
    responses: ANSWER,
  };
  const intro =
    'Sent only to partners configured in KENBAAR_WEBHOOKS. Ids and codes only: the feed stays the source of truth and decides, when you read it, what you may see.';
  app.openAPIRegistry.registerWebhook({
    ...common,
    path: 'match.created',
    operationId: 'matchCreatedWebhook',
    summary: 'Another partner registered a subject you registered: read your match feed',
    description: `${intro} Poll GET /v1/matches from your last cursor; the notice appears there once sequenced (within seconds).`,
    request: { headers: SignatureHeaders, body: { required: true, content: { 'application/json': { schema: MatchCreated } } } },
  });
  app.openAPIRegistry.registerWebhook({
    ...common,
    path: 'disclosure.break-glass',
    operationId: 'breakGlassWebhook',
    summary: 'A partner broke the glass on one of your registrations: a grant was issued at once',
    description: `${intro} Read the request with GET /v1/disclosures/{id}; hand over under the grant.`,
    request: { headers: SignatureHeaders, body: { required: true, content: { 'application/json': { schema: BreakGlass } } } },
  });
}
