// Console sessions: an HttpOnly, Secure, SameSite=Strict cookie holding a random secret; the table
// holds its hash. A session ends after IDLE_MINUTES without a request, after MAX_HOURS in any case,
// at sign-out, and at once when the person is revoked (every request re-checks the person).
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../config';
import type { Queryable } from '../db/types';
import { endSession, insertSession, liveSession, touchSession, type StaffRow } from '../staff/repo';
import { activeStaff, newSecret, secretHash, staffActor } from '../staff/staff';
import { CONSOLE } from './paths';

export const SESSION_COOKIE = 'kenbaar_sessie';
export const IDLE_MINUTES = 15;
export const MAX_HOURS = 8;

export type ConsoleEnv = AppEnv & { Variables: { staff: StaffRow; sessionId: string } };
export type ConsoleContext = Context<ConsoleEnv>;

const MINUTE = 60_000;

/** The console's context as the shared request machinery (unitOfWork, auditContext) takes it. */
export const appContext = (c: Context<ConsoleEnv>) => c as unknown as Context<AppEnv>;

/** Start a session for a person who just proved themselves with `credentialId`; sets the cookie. */
export async function startSession(c: Context, q: Queryable, person: StaffRow, credentialId: string, now: Date): Promise<void> {
  const secret = newSecret();
  await insertSession(q, { id: secretHash(secret), staffId: person.id, credentialId, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + MAX_HOURS * 60 * MINUTE) });
  setCookie(c, SESSION_COOKIE, secret, { httpOnly: true, secure: true, sameSite: 'Strict', path: CONSOLE, maxAge: MAX_HOURS * 3600 });
}

export async function stopSession(c: ConsoleContext): Promise<void> {
  await endSession(c.var.db, c.var.sessionId, c.var.clock());
  deleteCookie(c, SESSION_COOKIE, { path: CONSOLE, secure: true });
}

/**
 * Pages behind sign-in: a live session of a person who is not revoked, else to the sign-in page
 * (a form post or script call gets 401). The person's Actor goes into the context, so the covenant
 * decides for them exactly as it does for a partner token.
 */
export function requireSession(): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const secret = getCookie(c, SESSION_COOKIE);
    const now = c.var.clock();
    const db = c.var.db;
    const session = secret ? await liveSession(db, secretHash(secret), now) : undefined;
    const idle = session && now.getTime() - session.lastSeenAt.getTime() > IDLE_MINUTES * MINUTE;
    const person = session && !idle ? await activeStaff(db, session.staffId) : undefined;
    if (!session || !person) {
      if (session) await endSession(db, session.id, now);
      if (secret) deleteCookie(c, SESSION_COOKIE, { path: CONSOLE, secure: true });
      const reason = !secret ? 'geen' : !session || idle ? 'verlopen' : 'ingetrokken';
      if (c.req.method === 'GET') return c.redirect(`${CONSOLE}/inloggen?sessie=${reason}`);
      return c.json({ message: 'Uw sessie is verlopen of beëindigd. Log opnieuw in.' }, 401);
    }
    await touchSession(db, session.id, now);
    c.set('staff', person);
    c.set('sessionId', session.id);
    c.set('actor', staffActor(person));
    await next();
  };
}
