// "No log, no answer": every authenticated request does its work and writes its audit entries in
// ONE transaction, which also takes the token's jti. The response is built only after commit.
// A denial is not an exception inside the transaction (that would roll back its own audit entry):
// the work returns `deny(problem)`, the transaction commits the entry, and then we throw.
import type { Context } from 'hono';
import { appendAudit, type Appended, type TokenClaim } from '../audit/store';
import type { AuditContext, AuditInput } from '../audit/entry';
import { claimTokenId } from '../auth/replay';
import { AuthError } from '../auth/token';
import type { AppEnv } from '../config';
import type { Queryable, RawQuery, Tx } from '../db/types';
import { classifyDbError, errorCode } from '../db/errors';
import { untrustedText } from '../encoding';
import { Problem } from '../errors';
import { noteAppended } from '../log/receipt';

/** A request path in an audit detail is the sender's text: escaped, and cut beyond this length. */
const MAX_LOGGED_PATH = 300;

export class Denial {
  constructor(readonly problem: Problem) {}
}
export const deny = (problem: Problem) => new Denial(problem);

export type Work<T> = (tx: Tx, audit: (...entries: AuditInput[]) => Promise<void>) => Promise<T | Denial>;

export function auditContext(c: Context<AppEnv>): AuditContext {
  const actor = c.get('actor');
  return {
    at: c.get('clock')(),
    requestId: c.get('requestId'),
    actor: actor ? { partner: actor.partner, sub: actor.sub, role: actor.role } : null,
    covenantVersion: c.get('config').covenant.version,
  };
}

class Replayed extends Error {}

/** The audit append failed: the whole transaction rolls back and nothing is answered. */
class AuditUnavailable extends Error {}

export async function unitOfWork<T>(c: Context<AppEnv>, work: Work<T>): Promise<T> {
  return run<T, Tx>(c, (fn) => c.get('db').transaction(fn), work);
}

/**
 * For requests whose only write is their audit entry (lookups, feeds, reads of the log): read, then
 * append the entry in ONE atomic statement that also takes the jti, then answer. No BEGIN/COMMIT
 * round trips, and still no answer without its entry. The work must append its entries in one call.
 */
export async function readThenLog<T>(c: Context<AppEnv>, work: (q: Queryable, audit: Audit) => Promise<T | Denial>): Promise<T> {
  // The entry's statement goes straight to the driver where the edge gives a runner (no BEGIN: the
  // statement is its own transaction, exactly as through drizzle).
  return run<T, Queryable>(c, (fn) => fn(c.get('db')), work, c.get('raw'));
}

type Audit = (...entries: AuditInput[]) => Promise<void>;

/** Attempts of one unit of work when PostgreSQL aborts it as a deadlock or serialisation failure. */
export const MAX_ATTEMPTS = 4;

async function run<T, Q extends Queryable>(
  c: Context<AppEnv>,
  within: (fn: (q: Q) => Promise<T | Denial>) => Promise<T | Denial>,
  work: (q: Q, audit: Audit) => Promise<T | Denial>,
  appendWith?: RawQuery,
): Promise<T> {
  const ctx = auditContext(c);
  const token = c.get('token');
  const actor = c.get('actor');
  // The entries this request committed, for its receipt; a retried attempt starts afresh.
  const appended: Appended[] = [];
  const attempt = () =>
    within(async (q) => {
      appended.length = 0;
      // The token's jti is taken by the statement that writes the request's first audit entries.
      let claim: TokenClaim | undefined = token ? { jti: token.jti, partner: actor.partner, exp: token.exp } : undefined;
      const audit: Audit = async (...entries) => {
        let fresh: Appended[] | null;
        try {
          fresh = await appendAudit(appendWith ?? q, ctx, entries, claim);
        } catch (cause) {
          // An unreachable database is the database's problem, not the log's: onError answers 503.
          if (classifyDbError(cause)) throw cause;
          throw new AuditUnavailable(errorCode(cause));
        }
        if (!fresh) throw new Replayed();
        appended.push(...fresh);
        if (entries.length > 0) claim = undefined;
        c.set('rule', entries.at(-1)?.rule ?? undefined);
      };
      const out = await work(q, audit);
      // Work that wrote no entry (none should) still uses up its token.
      if (claim && !(await claimTokenId(q, claim))) throw new Replayed();
      return out;
    });
  let result: T | Denial;
  try {
    result = await retrying(c, attempt);
  } catch (e) {
    if (e instanceof Replayed) throw await replayed(c);
    if (e instanceof AuditUnavailable) {
      c.var.log('error', 'audit.append-failed', { requestId: c.var.requestId, code: e.message });
      throw new Problem('audit-unavailable');
    }
    throw e;
  }
  c.set('audited', true);
  await noteAppended(c, appended);
  if (result instanceof Denial) throw result.problem;
  return result;
}

/**
 * Runs the transaction again when PostgreSQL aborted it as a deadlock (40P01) or serialisation
 * failure (40001): everything it did was rolled back, the token's jti included, so a new attempt is
 * the same request. After MAX_ATTEMPTS the failure goes to onError, which answers 503.
 */
async function retrying<R>(c: Context<AppEnv>, attempt: () => Promise<R>): Promise<R> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (e) {
      const failure = classifyDbError(e);
      if (failure?.kind !== 'retry' || n >= MAX_ATTEMPTS) throw e;
      c.var.log('info', 'transaction.retry', { requestId: c.var.requestId, code: failure.code, attempt: n });
      // Jittered backoff, so the transactions that collided do not collide again.
      await new Promise((r) => setTimeout(r, 5 * 2 ** n * (0.5 + Math.random())));
    }
  }
}

/** Auth failures have no actor we can trust: what the token claimed goes into `detail` only. */
export async function recordAuthFailure(c: Context<AppEnv>, err: AuthError): Promise<void> {
  const ctx: AuditContext = { ...auditContext(c), actor: null };
  const appended = await appendAudit(c.var.db, ctx, [
    {
      action: 'auth.failure',
      outcome: 'denied',
      rule: 'partner-authentication',
      detail: { reason: err.reason, claimed: err.claimed, method: c.req.method, path: untrustedText(c.req.path, MAX_LOGGED_PATH) },
    },
  ]);
  c.set('audited', true);
  await noteAppended(c, appended ?? []);
}

/**
 * A refused request by an authenticated partner (bad input, unknown purpose, ...): log the attempt
 * and burn the jti in one transaction, so the same token cannot be tried again with other input.
 * Returns the problem to answer: a token that was already used is a replay, not a partner's bad
 * input, whatever else is wrong with the request.
 */
export async function recordRejection(c: Context<AppEnv>, problem: Problem): Promise<Problem> {
  const ctx = auditContext(c);
  const token = c.get('token');
  const actor = c.get('actor');
  const fresh = await c.var.db.transaction(async (tx) => {
    if (token && !(await claimTokenId(tx, { jti: token.jti, partner: actor.partner, exp: token.exp }))) return null;
    return appendAudit(tx, ctx, [
      {
        action: 'request.rejected',
        outcome: 'rejected',
        rule: (problem.extensions.rule as string | undefined) ?? null,
        detail: {
          method: c.req.method,
          path: untrustedText(c.req.path, MAX_LOGGED_PATH),
          status: problem.status,
          type: problem.problemType,
          ...(problem.extensions.errors ? { errors: problem.extensions.errors } : {}),
        },
      },
    ]);
  });
  if (!fresh) return replayed(c);
  c.set('audited', true);
  c.set('rule', (problem.extensions.rule as string | undefined) ?? undefined);
  await noteAppended(c, fresh);
  return problem;
}

async function replayed(c: Context<AppEnv>): Promise<Problem> {
  const actor = c.get('actor');
  await recordAuthFailure(c, new AuthError('replayed-jti', 'This token was already used', { iss: actor.partner, sub: actor.sub }));
  return new Problem('unauthenticated', 'This token was already used (jti replay)', { reason: 'replayed-jti' });
}
