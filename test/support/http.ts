// Raw HTTP against a test hub, for tests that must control exactly what goes over the wire (hand-made
// tokens, broken bodies), plus the database look-ups that show what a request did or did not leave.
import { asc, count, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { auditEntries, matches, registrations } from '../../schema/index';
import type { AuditEntry } from '../../src/audit/entry';
import { selectEntries } from '../../src/audit/rows';
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
  /** A body sent as is (text, or bytes that need not be UTF-8), with `contentType` (default application/json). */
  raw?: string | Uint8Array;
  contentType?: string;
  /** More request headers (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
};

let requests = 0;

export async function send(hub: TestHub, req: Request): Promise<Sent> {
  const requestId = `t-${process.pid}-${++requests}`;
  const headers: Record<string, string> = { 'x-request-id': requestId, ...req.headers };
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  const body = req.raw ?? (req.json !== undefined ? JSON.stringify(req.json) : undefined);
  if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  const res = await hub.app.request(`http://hub.test${req.path}`, {
    method: req.method ?? (body !== undefined ? 'POST' : 'GET'),
    headers,
    ...(body !== undefined ? { body: body as BodyInit } : {}),
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
  return selectEntries(hub.database.db).where(eq(auditEntries.requestId, requestId)).orderBy(asc(auditEntries.id));
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

export type As = readonly [partner: string, role: string];

export type Refusal = {
  status: number;
  /** The problem type, e.g. `/problems/invalid-request`. */
  type?: string;
  /** The field the problem must name in `errors`, what it must say about it, and (batches) the item. */
  field?: string;
  reason?: RegExp;
  index?: number;
  /** The covenant rule a 403 must name. */
  rule?: string;
};

/**
 * A partner's request refused as `want` says: a problem+json, nothing stored, and the attempt in the
 * audit log under the partner (rejected or denied).
 */
export async function expectRefusedAttempt(hub: TestHub, who: As, req: Omit<Request, 'token'>, want: Refusal): Promise<Sent & { token: string; entries: AuditEntry[] }> {
  const before = await storedRows(hub);
  const token = await tokenFor(hub, who[0], who[1]);
  const res = await send(hub, { ...req, token });
  expect(res.status, JSON.stringify(res.body)).toBe(want.status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status: want.status, ...(want.type ? { type: want.type } : {}) });
  if (want.field !== undefined) {
    const named = { field: want.field, reason: expect.stringMatching(want.reason ?? /./), ...(want.index !== undefined ? { index: want.index } : {}) };
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining(named)]));
  }
  if (want.rule !== undefined) expect(res.body.rule).toBe(want.rule);
  expect(await storedRows(hub)).toEqual(before);

  const entries = await auditOf(hub, res.requestId);
  expect(entries.length).toBeGreaterThan(0);
  for (const e of entries) {
    expect(e).toMatchObject({ actorPartner: who[0], actorRole: who[1] });
    expect(['rejected', 'denied']).toContain(e.outcome);
  }
  if (want.rule !== undefined) expect(entries.map((e) => e.rule)).toContain(want.rule);
  return { ...res, token, entries };
}
