// POST /v1/registrations, POST /v1/registrations/batch, DELETE /v1/registrations/{id}
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decideAction } from '../covenant/index';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { ContactSchema, fieldErrors, fieldName, problemResponses, SubjectSchema, text } from '../http/schemas';
import { deny, unitOfWork } from '../http/unit-of-work';
import { IdempotencyHeaders, unitOfWorkOnce } from '../idempotency/once';
import { endRegistration, getRegistration } from './repo';
import { checkItems, register, type ItemError, type Registered } from './service';

const RegistrationInput = z
  .strictObject({
    subject: SubjectSchema,
    category: text(80).openapi({ description: 'A registration category of the covenant', example: 'woonoverlast' }),
    contact: ContactSchema,
    reference: text(100).optional().openapi({ description: 'Your own opaque case reference' }),
    expiresAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'At most the covenant maximum for the category; defaults to it' }),
  })
  .openapi('RegistrationInput');

const RegistrationOutput = z
  .object({
    id: z.uuid(),
    created: z.boolean().openapi({ description: 'false when an active, unexpired registration already existed and was renewed' }),
    category: z.string(),
    since: z.string(),
    expiresAt: z.string(),
  })
  .openapi('Registration');

const out = (r: Registered) => ({
  id: r.id,
  created: r.created,
  category: r.item.category,
  since: r.since.toISOString(),
  expiresAt: r.expiresAt.toISOString(),
});

const security = [{ partnerJwt: [] }];

const createOne = createRoute({
  method: 'post',
  path: '/v1/registrations',
  operationId: 'register',
  tags: ['Registrations'],
  summary: 'Register that your organisation is involved with a subject',
  description:
    'Idempotent per (partner, subject, category) while the registration is active and unexpired: registering again renews the contact and expiry (the same id and `since`). After it expired or ended, registering again makes a new registration.',
  security,
  request: { headers: IdempotencyHeaders, body: { required: true, content: { 'application/json': { schema: RegistrationInput } } } },
  responses: {
    201: { description: 'Registered', content: { 'application/json': { schema: RegistrationOutput } } },
    200: { description: 'Already registered; renewed', content: { 'application/json': { schema: RegistrationOutput } } },
    ...problemResponses(400, 401, 403, 413, 415, 422),
  },
});

const createBatch = createRoute({
  method: 'post',
  path: '/v1/registrations/batch',
  operationId: 'registerBatch',
  tags: ['Registrations'],
  summary: 'Register up to 10,000 subjects at once, all or nothing',
  security,
  request: {
    headers: IdempotencyHeaders,
    body: {
      required: true,
      content: { 'application/json': { schema: z.strictObject({ items: z.array(RegistrationInput).min(1).max(10_000) }).openapi('RegistrationBatch') } },
    },
  },
  responses: {
    200: {
      description: 'All items registered',
      content: { 'application/json': { schema: z.object({ registered: z.number().int(), created: z.number().int(), items: z.array(RegistrationOutput) }) } },
    },
    ...problemResponses(400, 401, 403, 413, 415, 422),
  },
});

const endOne = createRoute({
  method: 'delete',
  path: '/v1/registrations/{id}',
  operationId: 'endRegistration',
  tags: ['Registrations'],
  summary: 'End your registration (it stops matching at once; kept as ended until retention removes it)',
  security,
  request: { params: z.object({ id: z.uuid() }) },
  responses: { 204: { description: 'Ended' }, ...problemResponses(400, 401, 403, 404) },
});

function itemProblem(errors: ItemError[], batch: boolean): Problem {
  const forbidden = errors.find((e) => e.status === 403);
  const list = errors.map(({ status: _s, ...e }) => (batch ? e : { field: e.field, reason: e.reason, ...(e.rule ? { rule: e.rule } : {}) }));
  if (batch) return new Problem('batch-rejected', `${errors.length} item(s) refused; nothing was stored`, { errors: list });
  const first = errors[0]!;
  return forbidden
    ? new Problem('forbidden', `${forbidden.field}: ${forbidden.reason}`, { rule: forbidden.rule, errors: list })
    : new Problem('invalid-request', `${first.field}: ${first.reason}`, { errors: list });
}

/**
 * A batch whose items fail the schema is refused like one whose items fail the covenant: 422 with
 * the index of every bad item, so a partner can fix its export. Errors outside the items (too many,
 * no `items`) stay a plain 400.
 */
function batchSchemaProblem(issues: Parameters<typeof fieldErrors>[0]): Problem {
  const errors = fieldErrors(issues);
  const perItem = errors.every((e) => e.path[0] === 'items' && typeof e.path[1] === 'number');
  if (perItem) {
    const list = errors.map((e) => ({ index: e.path[1] as number, field: e.path.length > 2 ? fieldName(e.path.slice(2)) : '(item)', reason: e.reason }));
    return new Problem('batch-rejected', `${new Set(list.map((e) => e.index)).size} item(s) refused; nothing was stored`, { errors: list });
  }
  const list = errors.map((e) => ({ field: fieldName(e.path), reason: e.reason }));
  return new Problem('invalid-request', list.map((e) => `${e.field}: ${e.reason}`).join('; '), { errors: list });
}

export function registrationRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(createOne, async (c) => {
    const { actor, config, clock } = c.var;
    const now = clock();
    const item = c.req.valid('json');
    const answer = await unitOfWorkOnce(c, async (tx, audit) => {
      const may = decideAction(config.covenant, actor, 'register');
      const { ok, errors } = may.allowed ? checkItems(config.covenant, actor, [item], now) : { ok: [], errors: [] };
      if (!may.allowed || errors.some((e) => e.status === 403)) {
        const rule = may.allowed ? errors[0]!.rule : may.rule;
        await audit({ action: 'registration.create', outcome: 'denied', rule, caseRef: item.reference ?? null, detail: { category: item.category } });
        return deny(may.allowed ? itemProblem(errors, false) : new Problem('forbidden', may.reason, { rule: may.rule }));
      }
      if (errors.length) throw itemProblem(errors, false);
      const [r] = await register(tx, { covenant: config.covenant, hubKeys: config.hubKeys, now, webhooks: config.webhooks }, actor, ok, audit);
      return { status: r!.created ? (201 as const) : (200 as const), body: out(r!) };
    });
    return c.json(answer.body, answer.status);
  });

  app.openapi(createBatch, async (c) => {
    const { actor, config, clock } = c.var;
    const now = clock();
    const { items } = c.req.valid('json');
    if (items.length > config.limits.maxBatch) {
      throw new Problem('invalid-request', `items: at most ${config.limits.maxBatch} per batch`, { errors: [{ field: 'items', reason: `more than ${config.limits.maxBatch} items` }] });
    }
    const answer = await unitOfWorkOnce(c, async (tx, audit) => {
      const may = decideAction(config.covenant, actor, 'register');
      if (!may.allowed) {
        await audit({ action: 'registration.batch', outcome: 'denied', rule: may.rule, detail: { items: items.length } });
        return deny(new Problem('forbidden', may.reason, { rule: may.rule }));
      }
      const { ok, errors } = checkItems(config.covenant, actor, items, now);
      if (errors.length) {
        await audit({ action: 'registration.batch', outcome: 'rejected', rule: errors.find((e) => e.rule)?.rule ?? null, detail: { items: items.length, refused: errors.length } });
        return deny(itemProblem(errors, true));
      }
      const registered = await register(tx, { covenant: config.covenant, hubKeys: config.hubKeys, now, webhooks: config.webhooks }, actor, ok, audit);
      const created = registered.filter((r) => r.created).length;
      await audit({ action: 'registration.batch', outcome: 'allowed', rule: ok[0]?.rule ?? null, detail: { items: items.length, registered: registered.length, created } });
      return { status: 200 as const, body: { registered: registered.length, created, items: registered.map(out) } };
    });
    return c.json(answer.body, answer.status);
  }, (result) => {
    if (!result.success) throw batchSchemaProblem(result.error.issues);
  });

  app.openapi(endOne, async (c) => {
    const { actor, config, clock } = c.var;
    const { id } = c.req.valid('param');
    await unitOfWork(c, async (tx, audit) => {
      const reg = await getRegistration(tx, id);
      if (!reg || reg.endedAt) {
        await audit({ action: 'registration.end', outcome: 'rejected', rule: null, detail: { registrationId: id, reason: 'not found or already ended' } });
        return deny(new Problem('not-found', 'No active registration with this id'));
      }
      const may = decideAction(config.covenant, actor, 'end-registration');
      const owner = reg.partner === actor.partner;
      if (!may.allowed || !owner) {
        const rule = may.allowed ? 'owner-only' : may.rule;
        await audit({ action: 'registration.end', outcome: 'denied', rule, subject: reg.subject, detail: { registrationId: id } });
        return deny(new Problem('forbidden', owner ? may.reason : 'Only the partner that registered it can end a registration', { rule }));
      }
      await endRegistration(tx, id, clock(), 'ended-by-partner');
      await audit({ action: 'registration.end', outcome: 'allowed', rule: may.rule, subject: reg.subject, caseRef: reg.reference, detail: { registrationId: id } });
      return null;
    });
    return c.body(null, 204);
  });
}
