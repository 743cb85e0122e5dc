// One unit of work per request (src/http/unit-of-work.ts), written from the mutants StrykerJS could
// leave alive there: a transaction PostgreSQL aborts as a serialisation failure or deadlock is run
// again and answers with the receipt of the attempt that committed (not of those rolled back); any
// other failure is not run again; a refused request is logged with its rule, and the access log
// names the rule of the request's last entry.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app';
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
      expect(again.body).toMatchObject({ reason: 'replayed-jti' });
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
      const res = await onApp({ path: '/v1/disclosures', token: await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-jansen'), json: { request: jws } });
      expect(res.status).toBe(403);
      const entries = await auditOf(hub, res.requestId);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ action: 'request.rejected', outcome: 'rejected', rule: 'signer-not-actor', actorPartner: 'gemeente', actorSub: 'pr-jansen' });
      expect(entries[0]!.detail).toEqual({ method: 'POST', path: '/v1/disclosures', status: 403, type: 'forbidden', errors: [{ field: 'request.sub', reason: 'differs from the token sub' }] });
      expect(accessLine(res.requestId)).toMatchObject({ status: 403, rule: 'signer-not-actor' });
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
