// Raw HTTP against a test hub, for tests that must control exactly what goes over the wire (hand-made
// tokens, broken bodies), plus the database look-ups that show what a request did or did not leave.
import { asc, count, eq } from 'drizzle-orm';
import { auditEntries, matches, registrations } from '../../schema/index';
import type { AuditEntry } from '../../src/audit/entry';
import { signPartnerToken } from '../../src/client/token';
import type { ProblemBody } from '../../src/errors';
import type { TestHub } from './hub';

export type Sent = {
  status: number;
  headers: Headers;
  /** Parsed JSON (a problem for 4xx), or null for an empty body. */
  body: ProblemBody & Record<string, unknown>;
  /** Our own request id, so the audit entries of exactly this request can be found. */
  requestId: string;
};

export type Request = {
  method?: string;
  path: string;
  /** The bearer token; omit for no Authorization header. */
  token?: string;
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A body sent as is, with `contentType` (default application/json). */
  raw?: string;
  contentType?: string;
};

let requests = 0;

export async function send(hub: TestHub, req: Request): Promise<Sent> {
  const requestId = `t-${process.pid}-${++requests}`;
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  const body = req.raw ?? (req.json !== undefined ? JSON.stringify(req.json) : undefined);
  if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  const res = await hub.app.request(`http://hub.test${req.path}`, {
    method: req.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, requestId };
}

/** A fresh, valid token of a partner acting in a role (as the client library makes them). */
export async function tokenFor(hub: TestHub, partner: string, role: string, sub?: string): Promise<string> {
  const id = await hub.identity(partner, role, sub);
  return signPartnerToken(id.key, { sub: id.sub, role: id.role, audience: hub.config.hubId, now: hub.clock() });
}

/** The audit entries one request wrote (sequenced or not yet). */
export async function auditOf(hub: TestHub, requestId: string): Promise<AuditEntry[]> {
  return (await hub.database.db
    .select()
    .from(auditEntries)
    .where(eq(auditEntries.requestId, requestId))
    .orderBy(asc(auditEntries.id))) as AuditEntry[];
}

/** Rows in the tables a request could change: a refused request must leave both as they were. */
export async function storedRows(hub: TestHub): Promise<{ registrations: number; matches: number }> {
  const [r] = await hub.database.db.select({ n: count() }).from(registrations);
  const [m] = await hub.database.db.select({ n: count() }).from(matches);
  return { registrations: Number(r!.n), matches: Number(m!.n) };
}

export async function registrationRow(hub: TestHub, id: string) {
  const [row] = await hub.database.db.select().from(registrations).where(eq(registrations.id, id));
  return row;
}
