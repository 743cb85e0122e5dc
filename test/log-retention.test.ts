// Retention of the audit log itself (auditRetentionDays): entries past retention are deleted in
// whole tiles below a minimum index, the pruning is logged, the hashes stay, and every verifier
// (the database one, the HTTP one, proofs) understands the pruned prefix.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit, integrateAll } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { rowsOf } from '../src/db/types';
import { pruneLog } from '../src/log/retention';
import { RECEIPT_HEADER, verifyReceipt, type InlineReceipt } from '../src/log/receipt';
import { verifyRemote } from '../src/log/verifier';
import { demoCovenant, startTestHub, type TestHub } from './support/hub';
import { send, tokenFor } from './support/http';
import { person } from './support/people';

const DAY = 86_400_000;

describe('retention of the audit log', () => {
  let hub: TestHub;
  let oldUid: string;
  const db = () => hub.database.db;
  const log = () => ({ origin: hub.config.log.keys.origin, keys: hub.config.log.keys.verifiers });
  const status = async (path: string, token?: string) => (await hub.app.request(`http://hub.test${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).status;
  const lookup = async () => {
    const res = await send(hub, { path: '/v1/lookups', token: await tokenFor(hub, 'gemeente', 'procesregisseur'), json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'RET-1' } });
    return ((await verifyReceipt(res.headers.get(RECEIPT_HEADER)!, hub.config.signer.published)) as InlineReceipt).entries[0]!.uid;
  };

  beforeAll(async () => {
    const base = demoCovenant();
    hub = await startTestHub({ covenant: { ...base, retention: { ...base.retention, auditRetentionDays: 1 } } });
    oldUid = await lookup();
    const ctx = { at: hub.clock(), requestId: 'old', actor: null, covenantVersion: hub.config.covenant.version };
    await appendAudit(db(), ctx, Array.from({ length: 599 }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { i } })));
    await createCheckpoint(db(), hub.config, hub.clock());
    hub.clock.advance(2 * DAY);
  });
  afterAll(() => hub?.close());

  it('prunes whole tiles past retention that a checkpoint covers, logs it, and keeps newer entries', async () => {
    const fresh = await lookup();
    await createCheckpoint(db(), hub.config, hub.clock());
    const report = await pruneLog(db(), hub.config.covenant, hub.clock());
    expect(report).toEqual({ minIndex: 512, pruned: 512 });
    await integrateAll(db(), hub.clock());
    const [logged] = await rowsOf<{ detail: Record<string, unknown> }>(db(), sql`select detail from audit_entries where action = 'log.pruned'`);
    expect(logged!.detail).toMatchObject({ from: 0, minIndex: 512, auditRetentionDays: 1 });
    const [{ n }] = (await rowsOf<{ n: number }>(db(), sql`select count(*)::int as n from audit_log where seq < 512`)) as [{ n: number }];
    expect(n).toBe(0);
    // Again: nothing more to prune.
    expect((await pruneLog(db(), hub.config.covenant, hub.clock())).pruned).toBe(0);
    // Above the minimum index the log stays append-only in the database.
    await expect(db().execute(sql`delete from audit_entries where id = (select entry_id from audit_log where seq = 600)`)).rejects.toThrow();
    await expect(db().execute(sql`delete from audit_log where seq = 600`)).rejects.toThrow();
    await expect(db().execute(sql`update log_head set min_index = 0`)).rejects.toThrow();

    // Database verification continues from the kept hashes.
    await createCheckpoint(db(), hub.config, hub.clock());
    const verified = await verifyAuditLog(db(), hub.config.signer.published, undefined, log());
    expect(verified.problems).toEqual([]);
    expect(verified.pruned).toBe(512);

    // Tiles and bundles of the pruned prefix are gone (410), the level-1 hash that covers them stays.
    const fg = () => tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer');
    expect(await status('/log/tile/0/000')).toBe(410);
    expect(await status('/log/tile/entries/001', await fg())).toBe(410);
    expect(await status('/log/tile/0/002.p/1')).toBe(200);
    expect(await status('/log/tile/1/000.p/2')).toBe(200);
    // Proofs: a pruned entry is unknown now (its uid was deleted with it); a kept one still proves.
    expect(await status(`/v1/audit/proofs/${oldUid}`, await tokenFor(hub, 'gemeente', 'procesregisseur'))).toBe(404);
    expect(await status(`/v1/audit/proofs/${fresh}`, await tokenFor(hub, 'gemeente', 'procesregisseur'))).toBe(200);

    // The HTTP verifier, reading the entries it may: the pruned prefix is covered by level-1 hashes.
    const remote = await verifyRemote({
      url: 'http://hub.test',
      logKey: hub.config.log.keys.verifiers[0]!,
      witnesses: [],
      quorum: 0,
      previous: null,
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => hub.app.request(String(input), init)) as typeof fetch,
      now: hub.clock(),
      token: fg,
    });
    expect(remote.problems).toEqual([]);
    expect(remote.pruned).toBe(512);
    expect(remote.entriesRehashed).toBe(remote.size - 512);
  });

  it('a kept subtree hash that was altered after pruning breaks the signed root', async () => {
    const tamper = (statement: SQL) =>
      db().transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        await tx.execute(statement);
      });
    const [row] = await rowsOf<{ hash: string }>(db(), sql`select hash from log_subtrees where level = 1 and idx = 0`);
    await tamper(sql`update log_subtrees set hash = ${'0'.repeat(64)} where level = 1 and idx = 0`);
    const report = await verifyAuditLog(db(), hub.config.signer.published, undefined, log());
    expect(report.ok).toBe(false);
    expect(report.problems[0]!.message).toMatch(/checkpoint/);
    await tamper(sql`update log_subtrees set hash = ${row!.hash} where level = 1 and idx = 0`);
    expect((await verifyAuditLog(db(), hub.config.signer.published, undefined, log())).ok).toBe(true);
  });
});
