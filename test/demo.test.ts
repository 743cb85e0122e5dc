// The Den Ouden demo, in-process, as a test of the whole: the story holds, the audit log verifies,
// and (the privacy invariants) neither a BSN of the family nor the covenant key ends up anywhere the
// hub keeps or writes (no row of any table, no line of its log output), and the content handed over
// in the disclosure chapter is nowhere in the database: the hub relays ciphertext only.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readSequenced } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { rowsOf } from '../src/db/types';
import { toBase64, toBase64Url, toHex, utf8 } from '../src/encoding';
import type { Database } from '../src/node/database';
import { runDemo, type DemoResult } from '../src/node/demo';
import { dbKind, testDatabase } from './support/hub';

const COVENANT_KEY = new Uint8Array(32).map((_, i) => (i * 73 + 29) % 256);

/** Every row of every table (any schema but the catalogs), as text. */
async function dumpAllTables(database: Database): Promise<{ text: string; tables: string[]; rows: number }> {
  const tables = await rowsOf<{ schema: string; name: string }>(
    database.db,
    sql`select table_schema as schema, table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')
        order by 1, 2`,
  );
  const parts: string[] = [];
  let rows = 0;
  for (const t of tables) {
    const content = await rowsOf<Record<string, unknown>>(database.db, sql.raw(`select * from "${t.schema}"."${t.name}"`));
    rows += content.length;
    parts.push(`${t.schema}.${t.name}\n${JSON.stringify(content, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }
  return { text: parts.join('\n'), tables: tables.map((t) => `${t.schema}.${t.name}`), rows };
}

describe(`the Den Ouden demo (${dbKind})`, () => {
  let database: Database;
  let result: DemoResult;
  const narration: string[] = [];
  const hubOutput: string[] = [];

  beforeAll(async () => {
    database = await testDatabase();
    // Everything the in-process hub writes to the console or the process streams is its log output;
    // the demo's own narration goes to `print` and is kept apart.
    const capture = (...args: unknown[]) => {
      hubOutput.push(args.map(String).join(' '));
    };
    const spies = [
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation(capture)),
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (capture(chunk), true)),
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (capture(chunk), true)),
    ];
    try {
      result = await runDemo({ database, covenantKey: COVENANT_KEY, print: (t) => narration.push(t) });
    } finally {
      for (const s of spies) s.mockRestore();
    }
  });
  afterAll(() => database?.close());

  it('plays the story as the covenant says', () => {
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.mode).toBe('in-process');
    expect(result.firstLookups.Justin).toContain('politie');
    expect(result.firstLookups.Tamara).toContain('verslavingszorg');
    expect(Object.values(result.firstLookups).flat()).not.toContain('wijkteam-jeugd');
    expect(result.refusal).toMatchObject({ status: 403, type: '/problems/purpose-not-allowed' });
    expect(result.feeds.politie?.every((n) => n.knownBy.partner === 'gemeente')).toBe(true);
    expect(result.feeds.woningcorporatie?.some((n) => n.knownBy.partner === 'verslavingszorg')).toBe(false);
    expect(narration.join('')).toContain('whom to call');
    // Veilig Thuis knows the household from an earlier report: the procesregisseur learns it, the
    // woningcorporatie never does.
    for (const name of ['Justin', 'Tamara', 'Daan', 'Esmee']) expect(result.firstLookups[name]).toContain('veilig-thuis');
    expect(result.feeds.woningcorporatie?.some((n) => n.knownBy.partner === 'veilig-thuis')).toBe(false);
    expect(result.feeds['veilig-thuis']?.length).toBeGreaterThan(0);
  });

  it('plays the disclosure chapter: four eyes, an encrypted hand-over, a break-glass reviewed after it was overdue', () => {
    const { request, breakGlass, plaintexts } = result.disclosure;
    expect(request).toMatchObject({ holder: 'verslavingszorg', requester: 'gemeente', rule: 'DX-PR-01', approvalsNeeded: 2, legalBasis: 'uavg-30-33' });
    expect(breakGlass).toMatchObject({ holder: 'veilig-thuis', requester: 'politie', rule: 'DX-AV-01', urgency: 'emergency', status: 'approved' });
    expect(plaintexts).toHaveLength(2);
    const text = narration.join('');
    expect(text).toContain('ambulante behandeling'); // the requester read the answer
    expect(text).toContain('verifies the grant offline with jose: verified');
    expect(text).toMatch(/a second fetch is refused \(410 Gone\)/);
    expect(text).toContain('The overdue list no longer contains it.');
  });

  it('leaves an audit log that verifies against the hub\'s published keys', async () => {
    expect(result.audit.verified).toBe(true);
    const report = await verifyAuditLog(database.db, result.hubKeys);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.unsequenced).toBe(0); // the hub signed a final checkpoint when it stopped
    expect(report.entries).toBeGreaterThan(result.audit.checkpointSize);
  });

  it('stores no BSN, no partner pseudonym and not the covenant key in any row of any table', async () => {
    const dump = await dumpAllTables(database);
    // The dump is real: the tables are there and hold the demo's data.
    expect(dump.tables).toEqual(expect.arrayContaining(['public.registrations', 'public.audit_entries', 'public.matches', 'public.checkpoints']));
    expect(dump.rows).toBeGreaterThan(50);
    expect(dump.text).toContain('IJsselstraat 3');
    for (const forbidden of secrets(result)) expect(dump.text, `found ${forbidden.what} in the database`).not.toContain(forbidden.value);
  });

  it('holds no handed-over content in any row of any table: only ciphertext passed, and it is wiped on delivery', async () => {
    const dump = await dumpAllTables(database);
    expect(dump.tables).toEqual(expect.arrayContaining(['public.disclosure_requests', 'public.disclosure_grants', 'public.handovers']));
    // The scan is real: the disclosure rows are there.
    expect(dump.text).toContain(result.disclosure.request!.id);
    expect(dump.text).toContain(result.disclosure.breakGlass!.id);
    const handovers = await rowsOf<{ ciphertext: string | null; delete_reason: string | null; bytes: number }>(database.db, sql`select ciphertext, delete_reason, bytes from handovers`);
    expect(handovers).toHaveLength(2);
    for (const h of handovers) expect(h).toMatchObject({ ciphertext: null, delete_reason: 'delivered' });
    for (const plain of result.disclosure.plaintexts) {
      expect(plain.length).toBeGreaterThan(100);
      for (const needle of [plain, plain.slice(40, 100), toBase64Url(utf8(plain)).slice(0, 60), toBase64(utf8(plain)).slice(0, 60)]) {
        expect(dump.text, 'handed-over content in the database').not.toContain(needle);
      }
    }
    for (const fragment of ['ambulante behandeling', 'j.smit@verslavingszorg.example', 'naar de grootouders']) expect(dump.text).not.toContain(fragment);
  });

  it('logs every step of the disclosures in the audit trail', async () => {
    const log = await readSequenced(database.db, -1, 1_000_000);
    const about = (id: string) => log.filter((e) => (e.detail as { request?: unknown } | null)?.request === id);
    const { request, breakGlass } = result.disclosure;
    const regular = about(request!.id).filter((e) => e.outcome !== 'rejected' && e.outcome !== 'denied');
    // In log order; the holder's read of the request (disclosure.read) aside.
    expect(regular.map((e) => e.action).filter((a) => a !== 'disclosure.read')).toEqual([
      'disclosure.requested',
      'disclosure.decided',
      'disclosure.decided',
      'grant.issued',
      'handover.posted',
      'handover.delivered',
      'handover.deleted',
    ]);
    expect(new Set(regular.filter((e) => e.action === 'disclosure.decided').map((e) => e.actorSub)).size).toBe(2); // two distinct brokers
    const glass = about(breakGlass!.id).map((e) => e.action);
    for (const action of ['disclosure.requested', 'disclosure.break-glass', 'grant.issued', 'handover.posted', 'handover.delivered', 'handover.deleted', 'disclosure.overdue', 'disclosure.reviewed']) {
      expect(glass, action).toContain(action);
    }
    expect(glass.filter((a) => a === 'disclosure.overdue')).toHaveLength(1);
    expect(glass.indexOf('disclosure.overdue')).toBeLessThan(glass.indexOf('disclosure.reviewed'));
  });

  it('writes no BSN, no partner pseudonym and not the covenant key to its log output', () => {
    const log = hubOutput.join('\n');
    expect(log).toContain('[hub] listening'); // the capture saw the hub
    for (const forbidden of secrets(result)) expect(log, `found ${forbidden.what} in the hub's output`).not.toContain(forbidden.value);
  });
});

function secrets(result: DemoResult): { what: string; value: string }[] {
  const key = COVENANT_KEY;
  const out = [
    { what: 'the covenant key (hex)', value: toHex(key) },
    { what: 'the covenant key (HEX)', value: toHex(key).toUpperCase() },
    { what: 'the covenant key (base64)', value: toBase64(key) },
    { what: 'the covenant key (base64, unpadded)', value: toBase64(key).replace(/=+$/, '') },
    { what: 'the covenant key (base64url, its text form)', value: toBase64Url(key) },
  ];
  expect(result.family).toHaveLength(4);
  for (const m of result.family) {
    expect(m.bsn).toMatch(/^\d{9}$/);
    out.push({ what: `${m.name}'s BSN`, value: m.bsn });
    out.push({ what: `${m.name}'s partner pseudonym`, value: m.subject });
  }
  return out;
}
