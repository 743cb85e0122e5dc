// Concurrent writers: batches of one partner with overlapping subjects in different orders are all
// stored (rows are written in key order, so they cannot deadlock), and a transaction PostgreSQL
// aborts as a serialisation failure or deadlock is run again a bounded number of times; what still
// fails is 503, never 500.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../src/client/client';
import { rowsOf } from '../src/db/types';
import { MAX_ATTEMPTS } from '../src/http/unit-of-work';
import type { LogFields } from '../src/log';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { contact, person } from './support/people';

type LogLine = { level: string; event: string } & LogFields;

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe(`concurrent writers (${dbKind})`, () => {
  let hub: TestHub;
  const logs: LogLine[] = [];
  beforeAll(async () => {
    hub = await startTestHub({ log: (level, event, fields) => logs.push({ level, event, ...fields }) });
  });
  afterAll(() => hub?.close());

  // PGlite has one connection: its transactions run one after another, so there is nothing to race.
  it.skipIf(dbKind === 'pglite')(
    'police send 40 batches at once over the same 60 people in different orders: every batch is stored, no 500, no 503 (PostgreSQL only: PGlite runs one transaction at a time)',
    async () => {
      const people = Array.from({ length: 60 }, () => person());
      const police = await hub.as('politie', 'partner-system');
      // Another partner already knows half of them, so the batches also write match notices.
      const vt = await hub.as('veilig-thuis', 'partner-system');
      await vt.registerBatch(people.slice(0, 30).map((p) => ({ subject: p.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') })));

      const batches = Array.from({ length: 40 }, (_, i) =>
        shuffled(people, i + 1)
          .slice(0, 45)
          .map((p) => ({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact(`Wijkagent ${i}`) })),
      );
      const outcomes = await Promise.allSettled(batches.map((items) => police.registerBatch(items)));
      const statuses = outcomes.map((o) => (o.status === 'fulfilled' ? 200 : o.reason instanceof HubError ? o.reason.status : String(o.reason)));
      expect(statuses.filter((s) => s !== 200)).toEqual([]);
      // The log says whether ordering did it (no retries) or the retry rescued deadlocks.
      expect(logs.filter((l) => l.event === 'transaction.retry')).toEqual([]);
    },
  );

  describe('a transaction aborted as a serialisation failure (SQLSTATE 40001)', () => {
    const count = async (query: ReturnType<typeof sql>) => (await rowsOf<{ n: number }>(hub.database.db, query))[0]!.n;

    // The first `failures` audit appends raise 40001: a sequence counts across rolled-back attempts.
    async function failAuditAppends(failures: number) {
      const db = hub.database.db;
      await db.execute(sql.raw(`create sequence if not exists kenbaar_test_conflicts`));
      await db.execute(sql.raw(`select setval('kenbaar_test_conflicts', 1, false)`));
      await db.execute(
        sql.raw(`create or replace function kenbaar_test_conflict() returns trigger language plpgsql as $$
                 begin
                   if nextval('kenbaar_test_conflicts') <= ${failures} then
                     raise exception 'could not serialize access' using errcode = 'serialization_failure';
                   end if;
                   return new;
                 end $$`),
      );
      await db.execute(sql.raw(`create or replace trigger kenbaar_test_conflict before insert on audit_entries for each statement execute function kenbaar_test_conflict()`));
      return () => db.execute(sql.raw(`drop trigger kenbaar_test_conflict on audit_entries`));
    }

    it(`is run again: after ${MAX_ATTEMPTS - 1} failures the registration is stored once, with its audit entry`, async () => {
      const restore = await failAuditAppends(MAX_ATTEMPTS - 1);
      try {
        const before = logs.length;
        const police = await hub.as('politie', 'partner-system');
        const reg = await police.register({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
        expect(reg.created).toBe(true);
        expect(logs.slice(before).filter((l) => l.event === 'transaction.retry').map((l) => l.code)).toEqual(Array(MAX_ATTEMPTS - 1).fill('40001'));
        expect(await count(sql`select count(*)::int as n from audit_entries where action = 'registration.create' and detail->>'registrationId' = ${reg.id}`)).toBe(1);
      } finally {
        await restore();
      }
    });

    it(`that keeps failing (${MAX_ATTEMPTS} times) is 503 database-unavailable, and nothing is stored`, async () => {
      const restore = await failAuditAppends(1000);
      try {
        const stored = await count(sql`select count(*)::int as n from registrations`);
        const police = await hub.as('politie', 'partner-system');
        const err = await police.register({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(HubError);
        expect((err as HubError).status).toBe(503);
        expect((err as HubError).problem.type).toBe('/problems/database-unavailable');
        expect(await count(sql`select count(*)::int as n from registrations`)).toBe(stored);
      } finally {
        await restore();
      }
    });
  });
});
