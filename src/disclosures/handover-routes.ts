// The hand-over: the holder posts content encrypted to the requester's encryption key (JWE,
// ECDH-ES + A256GCM); the hub checks the grant and the envelope, relays ciphertext only, and wipes
// it on delivery or after the covenant's relay retention.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { decodeProtectedHeader, errors } from 'jose';
import type { AppEnv } from '../config';
import { Problem } from '../errors';
import { problemResponses, text } from '../http/schemas';
import { deny, unitOfWork } from '../http/unit-of-work';
import { verifyGrant, type VerifiedGrant } from './grant';
import { getGrant, getRequest, handoverOfRequest, insertHandover, pendingHandoverOfRequest, wipeHandover } from './repo';

const HOUR = 3_600_000;
const CompactJwe = z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'not a compact JWE');

const postRoute = createRoute({
  method: 'post',
  path: '/v1/disclosures/grants/{grantId}/handover',
  tags: ['Disclosures'],
  summary: 'Hand over content for a grant (the holder): a compact JWE to the requester\'s encryption key',
  security: [{ partnerJwt: [] }],
  request: {
    params: z.object({ grantId: z.uuid() }),
    body: { required: true, content: { 'application/json': { schema: z.strictObject({ grant: text(10_000), content: CompactJwe }).openapi('HandoverInput') } } },
  },
  responses: {
    202: { description: 'Relayed: waiting for the requester', content: { 'application/json': { schema: z.object({ handover: z.uuid(), expiresAt: z.string(), bytes: z.number().int() }) } } },
    ...problemResponses(400, 401, 403, 409, 413, 415),
  },
});

const fetchRoute = createRoute({
  method: 'get',
  path: '/v1/disclosures/{id}/handover',
  tags: ['Disclosures'],
  summary: 'Fetch the handed-over content (the requester); the hub deletes its copy on delivery',
  security: [{ partnerJwt: [] }],
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    200: { description: 'The ciphertext, once', content: { 'application/json': { schema: z.object({ grant: z.uuid(), content: z.string() }) } } },
    ...problemResponses(401, 403, 404, 410),
  },
});

export function handoverRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(postRoute, async (c) => {
    const { actor, config, clock } = c.var;
    const now = clock();
    const { grantId } = c.req.valid('param');
    const body = c.req.valid('json');
    const settings = config.covenant.disclosure;
    const bytes = new TextEncoder().encode(body.content).length;
    if (bytes > settings.maxCiphertextBytes) {
      throw new Problem('payload-too-large', `content: ${bytes} bytes; the covenant relays at most ${settings.maxCiphertextBytes}`, { errors: [{ field: 'content', reason: 'too large' }] });
    }
    let grant: VerifiedGrant;
    try {
      grant = await verifyGrant(body.grant, config.signer.published, config.hubId, now);
    } catch (e) {
      const expired = e instanceof errors.JWTExpired;
      throw new Problem('forbidden', expired ? 'grant: expired' : 'grant: not a valid grant of this hub', { rule: expired ? 'grant-expired' : 'invalid-grant', errors: [{ field: 'grant', reason: expired ? 'expired' : 'does not verify' }] });
    }
    if (grant.grant !== grantId) throw new Problem('invalid-request', 'grant: the grant is for another id than the path', { errors: [{ field: 'grant', reason: 'differs from the path' }] });
    if (grant.holder !== actor.partner) {
      throw new Problem('forbidden', `grant: this grant is addressed to ${grant.holder}, not to ${actor.partner}`, { rule: 'other-holder', errors: [{ field: 'grant', reason: 'addressed to another holder' }] });
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(body.content);
    } catch {
      throw new Problem('invalid-request', 'content: not a compact JWE', { errors: [{ field: 'content', reason: 'not a compact JWE' }] });
    }
    const encKids = config.keyring.encryptionKeys(grant.requester).map((k) => k.kid);
    const envelope =
      header.alg !== 'ECDH-ES' || header.enc !== 'A256GCM'
        ? 'must be encrypted with alg ECDH-ES and enc A256GCM'
        : !header.kid || !encKids.includes(header.kid)
          ? `must be encrypted to an encryption key of ${grant.requester} (kid one of ${encKids.join(', ') || 'none published'})`
          : null;
    if (envelope) throw new Problem('invalid-request', `content: ${envelope}`, { errors: [{ field: 'content', reason: envelope }] });

    const result = await unitOfWork(c, async (tx, audit) => {
      const row = await getGrant(tx, grantId);
      const req = row ? await getRequest(tx, row.requestId) : undefined;
      const entry = { action: 'handover.posted' as const, subject: req?.subject ?? null, purpose: req?.purpose ?? null, caseRef: req?.caseRef ?? null };
      const refusal = !row || !req ? 'invalid-grant' : row.revokedAt ? 'grant-revoked' : row.expiresAt <= now ? 'grant-expired' : null;
      if (refusal) {
        await audit({ ...entry, outcome: 'denied', rule: refusal, detail: { grant: grantId } });
        return deny(new Problem('forbidden', `grant: ${refusal.replace('-', ' ')}`, { rule: refusal }));
      }
      const id = crypto.randomUUID();
      const expiresAt = new Date(now.getTime() + config.covenant.disclosure.relayRetentionHours * HOUR);
      const fresh = await insertHandover(tx, { id, grantId, requestId: req!.id, requester: row!.requester, holder: row!.holder, ciphertext: body.content, bytes, postedAt: now, expiresAt });
      if (!fresh) {
        await audit({ ...entry, outcome: 'rejected', rule: req!.rule, detail: { grant: grantId, reason: 'already handed over' } });
        return deny(new Problem('conflict', 'Content for this grant was already handed over'));
      }
      await audit({ ...entry, outcome: 'allowed', rule: req!.rule, detail: { handover: id, grant: grantId, request: req!.id, bytes, kid: header.kid ?? null } });
      return { handover: id, expiresAt: expiresAt.toISOString(), bytes };
    });
    return c.json(result, 202);
  });

  app.openapi(fetchRoute, async (c) => {
    const { actor, clock } = c.var;
    const now = clock();
    const { id } = c.req.valid('param');
    const result = await unitOfWork(c, async (tx, audit) => {
      const req = await getRequest(tx, id);
      const entry = { action: 'handover.delivered' as const, subject: req?.subject ?? null, purpose: req?.purpose ?? null, caseRef: req?.caseRef ?? null };
      if (!req || req.requester !== actor.partner) {
        await audit({ ...entry, outcome: 'denied', rule: 'requester-only', detail: { request: id } });
        return deny(new Problem('not-found', 'No disclosure request of yours with this id'));
      }
      const pending = await pendingHandoverOfRequest(tx, id);
      if (!pending) {
        const any = await handoverOfRequest(tx, id);
        await audit({ ...entry, outcome: 'rejected', rule: req.rule, detail: { request: id, reason: any ? `already ${any.deleteReason}` : 'nothing handed over yet' } });
        return deny(any ? new Problem('gone', `The content was ${any.deleteReason} and is no longer held`) : new Problem('not-found', 'Nothing has been handed over for this request yet'));
      }
      const content = pending.ciphertext!;
      await wipeHandover(tx, pending.id, now, 'delivered');
      await audit(
        { ...entry, outcome: 'allowed', rule: req.rule, detail: { handover: pending.id, grant: pending.grantId, request: id, bytes: pending.bytes } },
        { ...entry, action: 'handover.deleted', outcome: 'ok', rule: req.rule, detail: { handover: pending.id, request: id, reason: 'delivered' } },
      );
      return { grant: pending.grantId, content };
    });
    return c.json(result, 200);
  });
}
