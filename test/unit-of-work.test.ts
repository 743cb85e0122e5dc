// One unit of work per request (src/http/unit-of-work.ts), written from the mutants StrykerJS could
// leave alive there: a transaction PostgreSQL aborts as a serialisation failure or deadlock is run
// again and answers with the receipt of the attempt that committed (not of those rolled back); any
// other failure is not run again; a refused request is logged with its rule, and the access log
// names the rule of the request's last entry.
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app';
import type { AppEnv } from '../src/config';
import { Problem } from '../src/errors';
import { MAX_ATTEMPTS, unitOfWork, type Work } from '../src/http/unit-of-work';
import { rowsOf } from '../src/db/types';
import { DOCUMENT_TYPES } from '../src/disclosures/signed';
import { signDocument } from '../src/client/token';
import type { LogFields } from '../src/log';
import { RECEIPT_HEADER, type InlineReceipt, type ReceiptClaims } from '../src/log/receipt';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, partnerKey, startTestHub, type TestHub } from './support/hub';
import { contact, person } from './support/people';

type Line = { level: string; event: string } & LogFields;

describe(`one unit of work per request (${dbKind})`, () => {
  let hub: TestHub;
  const logs: Line[] = [];
  beforeAll(async () => {
    hub = await startTestHub({ log: (level, event, fields) => logs.push({ level, event, ...fields }) });
  });
  afterAll(() => hub?.close());

  /**
   * The first `failures` statements of `event` on `table` raise `errcode`; a sequence counts them
   * across rolled-back attempts. Returns how many statements ran, and a way to remove the trigger.
   */
  async function failing(table: string, event: 'insert' | 'update', failures: number, errcode: string) {
    const db = hub.database.db;
    await db.execute(sql.raw(`create sequence if not exists kenbaar_test_uow`));
    await db.execute(sql.raw(`select setval('kenbaar_test_uow', 1, false)`));
    await db.execute(
      sql.raw(`create or replace function kenbaar_test_uow() returns trigger language plpgsql as $$
               begin
                 if nextval('kenbaar_test_uow') <= ${failures} then
                   raise exception 'injected' using errcode = '${errcode}';
                 end if;
                 return new;
               end $$`),
    );
    await db.execute(sql.raw(`create or replace trigger kenbaar_test_uow before ${event} on ${table} for each statement execute function kenbaar_test_uow()`));
    return {
      statements: async () => Number((await rowsOf<{ n: string }>(db, sql.raw(`select last_value - 1 + (case when is_called then 1 else 0 end) as n from kenbaar_test_uow`)))[0]!.n),
      restore: () => db.execute(sql.raw(`drop trigger kenbaar_test_uow on ${table}`)),
    };
  }

  const registration = () => ({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
  const registrations = async () => (await rowsOf<{ n: number }>(hub.database.db, sql`select count(*)::int as n from registrations`))[0]!.n;
  const receipt = (res: { headers: Headers }): ReceiptClaims =>
    JSON.parse(Buffer.from(res.headers.get(RECEIPT_HEADER)!.split('.')[1]!, 'base64url').toString()) as ReceiptClaims;

  it('a unit of work aborted after its audit entry was written is run again, and its receipt names only what committed', async () => {
    // The answer is stored for the Idempotency-Key after the audit entry: failing that update makes
    // each rolled-back attempt one that had appended an entry of its own.
    const trigger = await failing('idempotency_keys', 'update', 2, 'serialization_failure');
    try {
      const token = await tokenFor(hub, 'politie', 'partner-system');
      const res = await send(hub, { path: '/v1/registrations', token, json: registration(), headers: { 'idempotency-key': crypto.randomUUID() } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(await trigger.statements()).toBe(3);
      expect(logs.filter((l) => l.event === 'transaction.retry' && l.requestId === res.requestId)).toEqual([
        { level: 'info', event: 'transaction.retry', requestId: res.requestId, code: '40001', attempt: 1 },
        { level: 'info', event: 'transaction.retry', requestId: res.requestId, code: '40001', attempt: 2 },
      ]);
      const entries = await auditOf(hub, res.requestId);
      expect(entries.map((e) => e.action)).toEqual(['registration.create']);
      expect((receipt(res) as InlineReceipt).entries.map((e) => e.uid)).toEqual(entries.map((e) => e.uid));
      // The committed attempt took the token: it cannot be used again.
      const again = await send(hub, { path: '/v1/registrations', token, json: registration() });
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({ reason: 'replayed-jti', detail: 'This token was already used (jti replay)' });
      // The replay is one auth.failure entry without an actor (what the token claimed is in the detail), and its receipt names it.
      const failures = await auditOf(hub, again.requestId);
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ action: 'auth.failure', outcome: 'denied', rule: 'partner-authentication', actorPartner: null, actorSub: null });
      expect(failures[0]!.detail).toEqual({ reason: 'replayed-jti', claimed: { iss: 'politie', sub: 'politie-user' }, method: 'POST', path: '/v1/registrations' });
      expect((receipt(again) as InlineReceipt).entries.map((e) => e.uid)).toEqual([failures[0]!.uid]);
    } finally {
      await trigger.restore();
    }
  });

  it('a deadlock (40P01) is run again like a serialisation failure', async () => {
    const trigger = await failing('idempotency_keys', 'update', 1, 'deadlock_detected');
    try {
      const token = await tokenFor(hub, 'politie', 'partner-system');
      const res = await send(hub, { path: '/v1/registrations', token, json: registration(), headers: { 'idempotency-key': crypto.randomUUID() } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(logs.filter((l) => l.event === 'transaction.retry' && l.requestId === res.requestId).map((l) => [l.code, l.attempt])).toEqual([['40P01', 1]]);
    } finally {
      await trigger.restore();
    }
  });

  it('any other failure is not run again: one attempt, nothing stored, no retry logged', async () => {
    const trigger = await failing('idempotency_keys', 'update', 1, 'raise_exception');
    try {
      const before = await registrations();
      const token = await tokenFor(hub, 'politie', 'partner-system');
      const res = await send(hub, { path: '/v1/registrations', token, json: registration(), headers: { 'idempotency-key': crypto.randomUUID() } });
      expect(res.status).toBe(500);
      expect(res.body).toMatchObject({ type: '/problems/internal' });
      expect(await trigger.statements()).toBe(1);
      expect(logs.filter((l) => l.event === 'transaction.retry' && l.requestId === res.requestId)).toEqual([]);
      expect(await registrations()).toBe(before);
      expect(await auditOf(hub, res.requestId)).toEqual([]);
    } finally {
      await trigger.restore();
    }
  });

  it(`after ${MAX_ATTEMPTS} aborted attempts the request is answered 503, nothing stored, each retry logged`, async () => {
    const trigger = await failing('idempotency_keys', 'update', MAX_ATTEMPTS, 'serialization_failure');
    try {
      const before = await registrations();
      const token = await tokenFor(hub, 'politie', 'partner-system');
      const res = await send(hub, { path: '/v1/registrations', token, json: registration(), headers: { 'idempotency-key': crypto.randomUUID() } });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ type: '/problems/database-unavailable' });
      expect(await trigger.statements()).toBe(MAX_ATTEMPTS);
      expect(logs.filter((l) => l.event === 'transaction.retry' && l.requestId === res.requestId).map((l) => l.attempt)).toEqual([1, 2, 3]);
      expect(await registrations()).toBe(before);
      expect(await auditOf(hub, res.requestId)).toEqual([]);
    } finally {
      await trigger.restore();
    }
  });

  it('an audit entry the log refuses: 503 audit-unavailable, the code logged, nothing stored, the token not used up', async () => {
    const trigger = await failing('audit_entries', 'insert', 1, 'check_violation');
    try {
      const before = await registrations();
      const token = await tokenFor(hub, 'politie', 'partner-system');
      const res = await send(hub, { path: '/v1/registrations', token, json: registration() });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ type: '/problems/audit-unavailable' });
      expect(logs.filter((l) => l.requestId === res.requestId && l.event === 'audit.append-failed')).toEqual([
        { level: 'error', event: 'audit.append-failed', requestId: res.requestId, code: '23514' },
      ]);
      expect(await registrations()).toBe(before);
      expect(await auditOf(hub, res.requestId)).toEqual([]);
      // The jti was taken by the statement that was rolled back: the same token is accepted once more.
      const again = await send(hub, { path: '/v1/registrations', token, json: registration() });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
    } finally {
      await trigger.restore();
    }
  });

  it('an audit entry that fails because the database is away is the database\'s 503, not the log\'s', async () => {
    const trigger = await failing('audit_entries', 'insert', 1, 'connection_failure');
    try {
      const token = await tokenFor(hub, 'politie', 'partner-system');
      const res = await send(hub, { path: '/v1/registrations', token, json: registration() });
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ type: '/problems/database-unavailable' });
      expect(logs.filter((l) => l.requestId === res.requestId).map((l) => [l.event, l.code])).toEqual([['database.unavailable', '08006']]);
    } finally {
      await trigger.restore();
    }
  });

  it('a read then its entry (readThenLog): the read goes to the request\'s database, the entry takes the token', async () => {
    const token = await tokenFor(hub, 'reclassering', 'partner-system');
    const res = await send(hub, { path: '/v1/matches', token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ matches: [], next: 0 });
    expect((await auditOf(hub, res.requestId)).map((e) => e.action)).toEqual(['match.feed']);
    expect((await send(hub, { path: '/v1/matches', token })).status).toBe(401);
  });

  describe('unitOfWork itself, on a bare app with an authenticated partner', () => {
    /** Runs `work` as one request of politie's token `jti`: the status and problem type it answers. */
    async function direct(jti: string, work: Work<string>): Promise<{ status: number; body: unknown; requestId: string }> {
      const app = new Hono<AppEnv>();
      const requestId = crypto.randomUUID();
      app.use(async (c, next) => {
        c.set('config', hub.config);
        c.set('db', hub.database.db);
        c.set('raw', hub.database.raw);
        c.set('clock', hub.clock);
        c.set('log', () => {});
        c.set('requestId', requestId);
        c.set('actor', { partner: 'politie', role: 'partner-system', sub: 'partner-system-user' });
        c.set('token', { jti, exp: new Date(hub.clock().getTime() + 60_000) });
        await next();
      });
      app.post('/work', async (c) => c.json({ out: await unitOfWork(c, work) }));
      app.onError((e, c) => c.json({ problem: e instanceof Problem ? e.problemType : String(e) }, e instanceof Problem ? e.status : 500));
      const res = await app.request('/work', { method: 'POST' });
      return { status: res.status, body: await res.json(), requestId };
    }

    it('work that wrote no entry still uses up its token', async () => {
      const jti = crypto.randomUUID();
      expect(await direct(jti, async () => 'done')).toMatchObject({ status: 200, body: { out: 'done' } });
      const again = await direct(jti, async () => 'done');
      expect(again).toMatchObject({ status: 401, body: { problem: 'unauthenticated' } });
      expect((await auditOf(hub, again.requestId)).map((e) => [e.action, (e.detail as { reason: string }).reason])).toEqual([['auth.failure', 'replayed-jti']]);
    });

    it('an audit call with no entries takes no token and sets no rule: the token is taken at the end', async () => {
      const jti = crypto.randomUUID();
      const emptyAudit: Work<string> = async (_q, audit) => {
        await audit();
        return 'done';
      };
      expect(await direct(jti, emptyAudit)).toMatchObject({ status: 200, body: { out: 'done' } });
      expect(await direct(jti, emptyAudit)).toMatchObject({ status: 401, body: { problem: 'unauthenticated' } });
    });
  });

  describe('the rule of a request reaches its entry and the access log', () => {
    let app: App;
    const access: Line[] = [];
    beforeAll(() => {
      app = createApp(
        () => ({ config: hub.config, db: hub.database.db, raw: hub.database.raw, clock: hub.clock, log: (level, event, fields) => access.push({ level, event, ...fields }) }),
        { accessLog: true },
      );
    });
    const onApp = (req: Parameters<typeof send>[1]) => send({ ...hub, app }, req);
    const accessLine = (requestId: string) => access.find((l) => l.event === 'http.request' && l.requestId === requestId);

    it('an answered request: the rule of its last entry', async () => {
      const res = await onApp({
        path: '/v1/lookups',
        token: await tokenFor(hub, 'gemeente', 'procesregisseur'),
        json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-UOW' },
      });
      expect(res.status).toBe(200);
      const entries = await auditOf(hub, res.requestId);
      expect(entries.at(-1)!.rule).toEqual(expect.any(String));
      expect(accessLine(res.requestId)).toMatchObject({ status: 200, partner: 'gemeente', role: 'procesregisseur', rule: entries.at(-1)!.rule });
    });

    it('a refused request of an authenticated partner: one rejection entry with the rule, method, path, status, type and fields', async () => {
      const subject = person().subject;
      const jws = await signDocument(
        { partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk },
        {
          aud: hub.config.hubId,
          sub: 'pr-de-vries',
          iat: Math.floor(hub.clock().getTime() / 1000),
          jti: crypto.randomUUID(),
          subject,
          holder: 'verslavingszorg',
          purpose: 'procesregie-casus-op-maat',
          legalBasis: 'uavg-30-33',
          categories: ['behandelrelatie'],
          caseRef: 'ZVH-UOW',
          justification: 'Casus op maat (AVE 3): het veiligheidsplan rust mede op de behandeling van moeder; de procesregisseur moet weten bij wie.',
          urgency: 'regular',
        },
        DOCUMENT_TYPES.request,
      );
      const token = await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-jansen');
      const res = await onApp({ path: '/v1/disclosures', token, json: { request: jws } });
      expect(res.status).toBe(403);
      const entries = await auditOf(hub, res.requestId);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ action: 'request.rejected', outcome: 'rejected', rule: 'signer-not-actor', actorPartner: 'gemeente', actorSub: 'pr-jansen' });
      expect(entries[0]!.detail).toEqual({ method: 'POST', path: '/v1/disclosures', status: 403, type: 'forbidden', errors: [{ field: 'request.sub', reason: 'differs from the token sub' }] });
      expect(accessLine(res.requestId)).toMatchObject({ status: 403, rule: 'signer-not-actor' });
      // The rejection used up the token: the same request again is a replay, not the same bad input.
      const again = await onApp({ path: '/v1/disclosures', token, json: { request: jws } });
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({ reason: 'replayed-jti' });
      expect((await auditOf(hub, again.requestId)).map((e) => e.action)).toEqual(['auth.failure']);
    });

    it('a denial inside a unit of work is one entry, the denial, not also a rejection', async () => {
      // The house's informatiemakelaar registers nobody: the covenant denies it, and the denial is logged.
      const res = await onApp({ path: '/v1/registrations', token: await tokenFor(hub, 'zorg-en-veiligheidshuis', 'informatiemakelaar'), json: registration() });
      expect(res.status).toBe(403);
      const entries = await auditOf(hub, res.requestId);
      expect(entries.map((e) => [e.action, e.outcome])).toEqual([['registration.create', 'denied']]);
      expect(entries[0]!.rule).toEqual(expect.any(String));
      expect(res.body).toMatchObject({ rule: entries[0]!.rule });
      expect(accessLine(res.requestId)).toMatchObject({ status: 403, rule: entries[0]!.rule });
    });
  });
});
