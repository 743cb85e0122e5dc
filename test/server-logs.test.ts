// Server logs carry error codes, request ids and rule ids only. A database error's message and stack
// quote the failed query's parameters (for a batch: up to 10,000 stored pseudonyms, contact details
// and references); none of that may reach a log line.
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { HubError } from '../src/client/client';
import { storedSubject } from '../src/pseudonym/hub-key';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { person } from './support/people';

describe(`server logs when the database refuses a write (${dbKind})`, () => {
  let hub: TestHub;
  const lines: string[] = [];
  let consoles: MockInstance[] = [];

  beforeAll(async () => {
    hub = await startTestHub({ log: (level, event, fields) => lines.push(JSON.stringify({ level, event, ...fields })) });
  });
  afterAll(() => hub?.close());
  afterEach(() => {
    for (const spy of consoles) spy.mockRestore();
    consoles = [];
  });

  /** Everything the server wrote: the injected log and, should anything bypass it, the console. */
  function captureConsole() {
    for (const method of ['error', 'warn', 'log', 'info', 'debug'] as const) {
      consoles.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' '))));
    }
  }

  /** A batch whose every item carries personal data of its own. */
  function batch(n: number) {
    return Array.from({ length: n }, (_, i) => {
      const tag = `${crypto.randomUUID().slice(0, 8)}${i}`;
      return {
        subject: person().subject,
        category: 'politie-betrokkenheid',
        contact: { function: `Wijkagent-${tag}`, phone: `+31 6 ${10_000_000 + i * 7919}`, email: `agent.${tag}@politie.example` },
        reference: `BVH-${tag}`,
      };
    });
  }

  function personalData(items: ReturnType<typeof batch>): string[] {
    return items.flatMap((item) => [
      item.subject,
      ...storedSubject(hub.config.hubKeys, item.subject).all,
      item.contact.function,
      item.contact.phone,
      item.contact.email,
      item.reference,
    ]);
  }

  async function withTrigger<T>(table: string, body: string, run: () => Promise<T>): Promise<T> {
    const db = hub.database.db;
    await db.execute(sql.raw(`create or replace function kenbaar_test_refuse() returns trigger language plpgsql as $$ begin ${body} end $$`));
    await db.execute(sql.raw(`create trigger kenbaar_test_refuse before insert on ${table} for each row execute function kenbaar_test_refuse()`));
    try {
      return await run();
    } finally {
      await db.execute(sql.raw(`drop trigger kenbaar_test_refuse on ${table}`));
    }
  }

  it('a batch of 200 the database refuses (its error quotes the row): 500, and the log has the code and request id but no pseudonym, contact or reference', async () => {
    const items = batch(200);
    const police = await hub.as('politie', 'partner-system');
    captureConsole();
    const err = await withTrigger(
      'registrations',
      // As a constraint violation would: the message and detail quote the row.
      `raise exception using errcode = 'check_violation', message = 'refused ' || new.subject || ' ' || coalesce(new.reference, ''), detail = new.contact::text;`,
      () => police.registerBatch(items).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).status).toBe(500);
    expect((err as HubError).problem.type).toBe('/problems/internal');
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'request.failed');
    expect(failed).toMatchObject({ level: 'error', code: '23514' });
    expect(failed!.requestId).toEqual(expect.any(String));

    const log = lines.join('\n');
    for (const value of personalData(items)) expect(log, 'a log line quotes personal data').not.toContain(value);
  });

  it('a batch whose audit append fails: 503, and the log has the code but none of the batch', async () => {
    const items = batch(50);
    const police = await hub.as('politie', 'partner-system');
    captureConsole();
    const before = lines.length;
    const err = await withTrigger(
      'audit_entries',
      `raise exception using errcode = 'check_violation', message = 'audit refused ' || coalesce(new.subject, '') || ' ' || coalesce(new.case_ref, '');`,
      () => police.registerBatch(items).catch((e: unknown) => e),
    );
    expect((err as HubError).status).toBe(503);
    expect((err as HubError).problem.type).toBe('/problems/audit-unavailable');
    expect(lines.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ event: 'audit.append-failed', code: '23514' }));

    const log = lines.join('\n');
    for (const value of personalData(items)) expect(log, 'a log line quotes personal data').not.toContain(value);
  });
});
