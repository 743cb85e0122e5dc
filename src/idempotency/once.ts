// `Idempotency-Key` on the requests that create something (registrations, disclosure requests):
// the first answer to a partner's key is stored, sealed, in the transaction of its effect, and a
// retry with the same key and the same request gets that answer again (`Idempotent-Replayed: true`)
// without a second effect. The same key with another request is 422 idempotency-key-reused. A
// refused first request (4xx) keeps no key. A concurrent retry waits for the first to commit (the
// key's unique index), then is answered from it.
//
// A replay is an access like any other: it comes with a new token (each jti is used once), which it
// uses up, and it is an audit entry `request.replayed` (rule `idempotency-key`) naming the request id
// of the first answer, so the log shows who received the answer again and when. Keys are kept
// IDEMPOTENCY_RETENTION_HOURS (purge); a retry after that is a new request.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AppEnv } from '../config';
import { seal, unseal } from '../disclosures/at-rest';
import { Problem } from '../errors';
import { sha256Hex } from '../hashing';
import { Denial, deny, unitOfWork, type Work } from '../http/unit-of-work';
import { releaseKey, storeAnswer, storedAnswer, takeKey } from './repo';

export const IDEMPOTENCY_RETENTION_HOURS = 24;

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'at most 255 visible ASCII characters')
    .optional()
    .openapi({
      description: `Optional. A key of your choosing (a UUID, say), unique per request you mean: a retry with the same key and body within ${IDEMPOTENCY_RETENTION_HOURS} hours gets the first answer again (header \`Idempotent-Replayed: true\`) and has no second effect; the same key with another body is 422 \`idempotency-key-reused\`. A replay still needs a fresh token and is logged.`,
      example: '0f8fad5b-d9cb-469f-a165-70867728950e',
    }),
});

export type Answer<S extends number, B> = { status: S; body: B };

/** sha256 over method, path and the exact body bytes (as UTF-8 text). */
async function requestHash(c: Context<AppEnv>): Promise<string> {
  return sha256Hex(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
}

/** unitOfWork, answered once per Idempotency-Key (when the request carries one). */
export async function unitOfWorkOnce<S extends number, B>(c: Context<AppEnv>, work: Work<Answer<S, B>>): Promise<Answer<S, B>> {
  const key = c.req.header('idempotency-key');
  if (!key) return unitOfWork(c, work);
  const { actor, config, requestId, clock } = c.var;
  const hash = await requestHash(c);
  return unitOfWork(c, async (tx, audit) => {
    if (await takeKey(tx, { partner: actor.partner, key, requestHash: hash, requestId, now: clock() })) {
      const answer = await work(tx, audit);
      if (answer instanceof Denial) await releaseKey(tx, actor.partner, key);
      else await storeAnswer(tx, actor.partner, key, answer.status, await seal(config.hubKeys, JSON.stringify(answer.body)));
      return answer;
    }
    const first = await storedAnswer(tx, actor.partner, key);
    const detail = { method: c.req.method, path: c.req.path, firstRequestId: first?.requestId ?? null };
    if (!first || first.status === null || first.response === null || first.requestHash !== hash) {
      await audit({ action: 'request.replayed', outcome: 'rejected', rule: 'idempotency-key', detail });
      return deny(new Problem('idempotency-key-reused', 'Idempotency-Key: this key was used for another request', { errors: [{ field: 'Idempotency-Key', reason: 'used for another request' }] }));
    }
    // null: sealed under a hub key version since retired from the ring; the answer cannot be replayed.
    const body = await unseal(config.hubKeys, first.response);
    if (body === null) {
      await audit({ action: 'request.replayed', outcome: 'rejected', rule: 'idempotency-key', detail: { ...detail, reason: 'sealed under a retired hub key' } });
      return deny(new Problem('conflict', 'Idempotency-Key: the first answer can no longer be read; send the request with a new key'));
    }
    await audit({ action: 'request.replayed', outcome: 'allowed', rule: 'idempotency-key', detail: { ...detail, status: first.status } });
    c.header('idempotent-replayed', 'true');
    return { status: first.status as S, body: JSON.parse(body) as B };
  });
}
