// The privacy and accountability invariants, each as a test.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrateAll, readSequenced } from '../src/audit/store';
import { FIXED_RULE_IDS } from '../src/covenant/index';
import { HubError } from '../src/client/client';
import { rowsOf } from '../src/db/types';
import { toBase64, toBase64Url, toHex } from '../src/encoding';
import { contact, COVENANT_KEY, person } from './support/people';
import { dbKind, startTestHub, type TestHub } from './support/hub';

async function dumpAllTables(hub: TestHub): Promise<string> {
  const tables = await rowsOf<{ table_schema: string; table_name: string }>(
    hub.database.db,
    sql`select table_schema, table_name from information_schema.tables where table_schema in ('public', 'drizzle') and table_type = 'BASE TABLE'`,
  );
  expect(tables.length).toBeGreaterThanOrEqual(6);
  let text = '';
  for (const { table_schema, table_name } of tables as { table_schema: string; table_name: string }[]) {
    const rows = await rowsOf(hub.database.db, sql.raw(`select * from "${table_schema}"."${table_name}"`));
    text += `${table_name}\n${JSON.stringify(rows)}\n`;
  }
  return text;
}

describe(`privacy and accountability invariants (${dbKind})`, () => {
  let hub: TestHub;
  const people = Array.from({ length: 5 }, () => person());
  const logs: string[] = [];
  const original = { log: console.log, error: console.error, warn: console.warn };

  beforeAll(async () => {
    hub = await startTestHub();
    for (const k of ['log', 'error', 'warn'] as const) console[k] = (...a: unknown[]) => logs.push(a.map(String).join(' '));
    const police = await hub.as('politie', 'partner-system');
    const vz = await hub.as('verslavingszorg', 'partner-system');
    const pr = await hub.as('gemeente', 'procesregisseur');
    const agent = await hub.as('politie', 'professional');
    for (const p of people) {
      await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
      await vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
      await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
      await agent.lookup(p.subject, 'vroegsignalering-jeugd', 'PL-1').catch(() => undefined);
      await agent.lookup(p.subject, 'persoonsgerichte-aanpak-top-x', 'PL-2');
    }
    await integrateAll(hub.database.db, hub.clock());
  });
  afterAll(async () => {
    Object.assign(console, original);
    await hub?.close();
  });

  it('no BSN, no partner-side pseudonym and no covenant key reaches the database or the logs', async () => {
    const dump = await dumpAllTables(hub);
    const out = logs.join('\n');
    for (const p of people) {
      expect(dump).not.toContain(p.bsn);
      expect(dump).not.toContain(p.subject); // the hub stores only its own keyed pseudonym
      expect(out).not.toContain(p.bsn);
    }
    for (const form of [toHex(COVENANT_KEY), toBase64(COVENANT_KEY), toBase64Url(COVENANT_KEY)]) {
      expect(dump).not.toContain(form);
      expect(out).not.toContain(form);
    }
  });

  it('the hub key is never stored: not in any table, not in the logs', async () => {
    const dump = await dumpAllTables(hub);
    for (const k of hub.config.hubKeys.all) {
      for (const form of [toHex(k.key), toBase64(k.key).replace(/=+$/, ''), toBase64Url(k.key)]) {
        expect(dump).not.toContain(form);
        expect(logs.join('\n')).not.toContain(form);
      }
    }
  });

  it('every access decision records the covenant version and the rule that decided it', async () => {
    const entries = await readSequenced(hub.database.db, -1, 100_000);
    const decisions = entries.filter((e) => e.outcome === 'allowed' || e.outcome === 'denied');
    expect(decisions.length).toBeGreaterThan(20);
    for (const e of decisions) {
      expect(e.covenantVersion).toBe(hub.config.covenant.version);
      expect(e.rule, `${e.action} #${e.seq} has no rule`).toBeTruthy();
    }
    // And the rules are the covenant's own (or its fixed deny-by-default ids).
    const known = new Set<string>([...hub.config.covenant.rules.keys(), ...FIXED_RULE_IDS, 'partner-authentication', 'owner-only']);
    for (const e of decisions) expect(known, `unknown rule ${e.rule}`).toContain(e.rule);
  });

  it("a partner's privacy officer reads its own organisation's entries, the house's FG the whole log, others nothing; reading is logged", async () => {
    const ggzFg = await hub.as('ggz', 'privacy-officer', 'fg-ggz');
    const own = await ggzFg.auditEntries({ limit: 1000 });
    expect(own.entries.length).toBeGreaterThan(0);
    expect(own.entries.every((e) => (e.actor as { partner: string }).partner === 'ggz')).toBe(true);
    const houseFg = await hub.as('zorg-en-veiligheidshuis', 'zvh-privacy-officer', 'fg-zvh');
    const all = await houseFg.auditEntries({ limit: 1000 });
    // Every organisation's entries, including the house's own read (logged before it is answered).
    expect(new Set(all.entries.map((e) => (e.actor as { partner: string | null }).partner))).toEqual(
      new Set(['politie', 'verslavingszorg', 'gemeente', 'ggz', 'zorg-en-veiligheidshuis']),
    );
    const bySubject = await houseFg.auditEntries({ subject: people[0]!.subject, limit: 1000 });
    expect(bySubject.entries.map((e) => e.action)).toEqual(expect.arrayContaining(['registration.create', 'lookup']));
    const pr = await hub.as('gemeente', 'procesregisseur');
    const err = await pr.auditEntries().catch((e: unknown) => e);
    expect((err as HubError).status).toBe(403);
    await integrateAll(hub.database.db, hub.clock());
    const reads = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => e.action === 'audit.read');
    expect(reads.map((e) => [e.actorSub, e.outcome])).toEqual([['fg-ggz', 'allowed'], ['fg-zvh', 'allowed'], ['fg-zvh', 'allowed'], [expect.any(String), 'denied']]);
  });

  it('no log, no answer: when the audit append fails, the request fails and nothing is stored', async () => {
    const db = hub.database.db;
    await db.execute(sql`create or replace function kenbaar_test_fail() returns trigger language plpgsql as $$ begin raise exception 'audit store down'; end $$`);
    await db.execute(sql`create trigger kenbaar_test_fail before insert on audit_entries for each row execute function kenbaar_test_fail()`);
    try {
      const p = person();
      const [{ n: before }] = await rowsOf<{ n: number }>(db, sql`select count(*)::int as n from registrations`) as [{ n: number }];
      const ggz = await hub.as('ggz', 'partner-system');
      const err = await ggz.register({ subject: p.subject, category: 'ggz-behandeling', contact: contact('GGZ') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HubError);
      expect((err as HubError).status).toBe(503);
      expect((err as HubError).problem.type).toBe('/problems/audit-unavailable');
      const [{ n: after }] = await rowsOf<{ n: number }>(db, sql`select count(*)::int as n from registrations`) as [{ n: number }];
      expect(after).toBe(before);
      const pr = await hub.as('gemeente', 'procesregisseur');
      const lookupErr = await pr.lookup(people[0]!.subject, 'procesregie-casus-op-maat', 'ZVH-9').catch((e: unknown) => e);
      expect((lookupErr as HubError).status).toBe(503);
      expect(JSON.stringify((lookupErr as HubError).problem)).not.toContain('knownBy');
    } finally {
      await db.execute(sql`drop trigger kenbaar_test_fail on audit_entries`);
    }
  });
});
