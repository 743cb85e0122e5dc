// The audit log: gap-free and linear under concurrent writers, signed checkpoints, and
// `audit verify` naming the first altered, missing, reordered or inserted entry, or a truncated tail.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCheckpoint, verifyCheckpointJws } from '../src/audit/checkpoint';
import fc from 'fast-check';
import { canonicalJson, entryView, leafInput, type AuditEntry } from '../src/audit/entry';
import { appendAudit, integrateAll, readSequenced } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { formatVerifyReport } from '../src/node/commands/audit';
import { leafHash, rootOf } from '../src/audit/merkle';
import { fromHex, toHex, utf8 } from '../src/encoding';
import { rowsOf } from '../src/db/types';
import { generateSigningKeySecret, parseSigningKeys } from '../src/signing';
import { contact, person } from './support/people';
import { dbKind, startTestHub, type TestHub } from './support/hub';

describe('the leaf an entry commits to', () => {
  // Text the database may hold: any string, including escapes, U+2028 and lone surrogates.
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '"', '\\', '\u2028', '\ud800', 'a\u0000b'));
  const nullable = fc.option(text, { nil: null });
  const json: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });
  const entry = fc.record({
    uid: fc.uuid(),
    at: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
    requestId: text,
    actorPartner: nullable,
    actorSub: nullable,
    actorRole: nullable,
    action: text,
    subject: nullable,
    purpose: nullable,
    caseRef: nullable,
    outcome: text,
    rule: nullable,
    covenantVersion: text,
    detail: fc.option(fc.dictionary(fc.string(), json), { nil: null }),
  });

  it('v2: the fast writer gives the bytes of the generic canonical JSON of the entry, for any entry', () => {
    fc.assert(
      fc.property(entry, (fields) => {
        const e: AuditEntry = { id: 7, seq: 3, leafHash: null, ...fields };
        const { id: _id, seq: _seq, ...content } = entryView(e);
        expect(new TextDecoder().decode(leafInput(e, 3))).toBe(canonicalJson({ v: 2, ...content }));
        expect(leafInput(e, 3)).toEqual(utf8(canonicalJson({ v: 2, ...content })));
      }),
      { numRuns: 200 },
    );
  });
});

describe(`audit log (${dbKind})`, () => {
  let hub: TestHub;
  const keys = () => hub.config.signer.published;
  const db = () => hub.database.db;
  /**
   * What an attacker with superuser rights on the database does: bypass the append-only triggers
   * (session_replication_role = replica) and rewrite the log. audit verify must still catch it.
   */
  const tamper = <T = Record<string, unknown>>(statement: SQL) =>
    db().transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      return rowsOf<T>(tx, statement);
    });

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  async function someTraffic(n: number) {
    const vz = await hub.as('verslavingszorg', 'partner-system');
    const pr = await hub.as('gemeente', 'procesregisseur');
    for (let i = 0; i < n; i++) {
      const p = person();
      await vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
      await pr.lookup(p.subject, 'procesregie-casus-op-maat', `ZVH-${i}`);
    }
  }

  it('32 concurrent writers: every entry is sequenced once, gap-free, and the log verifies', async () => {
    const before = (await integrateAll(db(), hub.clock())).size;
    const clients = await Promise.all(Array.from({ length: 32 }, (_, i) => hub.as('gemeente', 'procesregisseur', `pr-${i}`)));
    const subject = person().subject;
    // Writers and the sequencer run at the same time (the sequencer yields between runs, as its
    // timer does in the server; a tight loop would starve PGlite's single connection).
    let writing = true;
    const sequencer = (async () => {
      while (writing) {
        await integrateAll(db(), hub.clock());
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < 5; k++) await c.lookup(subject, 'procesregie-casus-op-maat', `C-${i}-${k}`);
    }));
    writing = false;
    await sequencer;
    const head = await integrateAll(db(), hub.clock());
    expect(head.size - before).toBe(32 * 5);
    const entries = await readSequenced(db(), -1, 100_000);
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i));
    // Every written entry is in the log exactly once (seq order may differ from id order: a
    // transaction can commit after a later-numbered one was sequenced).
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    await createCheckpoint(db(), hub.config, hub.clock());
    const report = await verifyAuditLog(db(), keys());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.entries).toBe(head.size);
  });

  it('the sequencer takes what was committed when it started, in full rounds while there is a backlog, then stops: a steady stream of writers does not keep it running', async () => {
    const ctx = { at: hub.clock(), requestId: 'steady-writers', actor: null, covenantVersion: hub.config.covenant.version };
    const append = (n: number) => appendAudit(db(), ctx, Array.from({ length: n }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { i } })));
    const start = (await integrateAll(db(), hub.clock())).size;
    // A backlog of five and rounds of at most two: three rounds, and all five are in the log.
    await append(5);
    expect((await integrateAll(db(), hub.clock(), 2)).size).toBe(start + 5);
    // A writer that keeps appending for as long as the sequencer runs (at most 5 s). Were the
    // sequencer to go on until a round found nothing, it would run until the writer gave up.
    let sequencing = true;
    const deadline = Date.now() + 5_000;
    const writer = (async () => {
      while (sequencing && Date.now() < deadline) await append(1);
    })();
    await append(1);
    await integrateAll(db(), hub.clock());
    const returnedAt = Date.now();
    sequencing = false;
    await writer;
    expect(returnedAt).toBeLessThan(deadline);
    // Nothing is lost: the next call takes what the writer added meanwhile.
    const head = await integrateAll(db(), hub.clock());
    const count = async (table: SQL) => (await rowsOf<{ n: number }>(db(), sql`select count(*)::int as n from ${table}`))[0]!.n;
    expect(await count(sql`audit_log`)).toBe(head.size);
    expect(await count(sql`audit_pending`)).toBe(0);
  });

  it('an entry that commits after a later-numbered one was sequenced is sequenced after it, and the log verifies', async () => {
    // Under concurrency, ids are taken at INSERT and rows become visible at COMMIT: a lower id can
    // arrive after a higher one was integrated. Simulate that order deterministically.
    const ctx = { at: hub.clock(), requestId: 'late-commit', actor: null, covenantVersion: hub.config.covenant.version };
    const [{ next }] = (await rowsOf<{ next: number }>(db(), sql`select nextval('audit_entries_id_seq')::int as next`)) as [{ next: number }];
    await appendAudit(db(), ctx, [{ action: 'purge', outcome: 'ok', detail: { n: 'later id, committed first' } }]);
    await integrateAll(db(), hub.clock());
    await db().execute(sql`insert into audit_entries (id, uid, at, request_id, action, outcome, covenant_version) values (${next}, ${crypto.randomUUID()}, ${hub.clock().toISOString()}::timestamptz, 'late-commit', 'purge', 'ok', ${hub.config.covenant.version})`);
    const head = await integrateAll(db(), hub.clock());
    const [late] = await rowsOf<{ seq: number }>(db(), sql`select seq::int as seq from audit_log where entry_id = ${next}`);
    expect(late!.seq).toBe(head.size - 1);
    await createCheckpoint(db(), hub.config, hub.clock());
    expect((await verifyAuditLog(db(), keys())).problems).toEqual([]);
  });

  it('the sequencer puts the leaf hash given at append in the tree; one that does not hash the entry is named by audit verify', async () => {
    const own = await startTestHub(); // a log of its own: this one ends up failing verification
    const db = () => own.database.db;
    const ctx = { at: own.clock(), requestId: 'lying-writer', actor: null, covenantVersion: own.config.covenant.version };
    const [honest] = (await appendAudit(db(), ctx, [{ action: 'purge', outcome: 'ok', detail: { n: 1 } }]))!;
    // A writer that stores a well-formed leaf hash of something else (here: of the honest entry).
    await db().execute(sql`insert into audit_entries (leaf_hash, uid, at, request_id, action, outcome, covenant_version)
      values (${toHex(honest!.leafHash)}, ${crypto.randomUUID()}, ${own.clock().toISOString()}::timestamptz, 'lying-writer', 'purge', 'denied', ${own.config.covenant.version})`);
    const head = await integrateAll(db(), own.clock());
    const [placed] = await rowsOf<{ leaf_hash: string }>(db(), sql`select leaf_hash from audit_log where seq = ${head.size - 1}`);
    expect(placed!.leaf_hash).toBe(toHex(honest!.leafHash));
    await createCheckpoint(db(), own.config, own.clock());
    const report = await verifyAuditLog(db(), own.config.signer.published);
    expect(report.problems.find((p) => p.seq === head.size - 1)?.kind).toBe('altered');
    await own.close();
  });

  it('the database itself refuses to change or delete an audit entry, a checkpoint or a decision', async () => {
    await someTraffic(1);
    await createCheckpoint(db(), hub.config, hub.clock());
    const refused = async (statement: SQL) => {
      const e = await db().execute(statement).then(() => undefined, (err: unknown) => err);
      expect(String((e as { cause?: unknown })?.cause ?? e)).toMatch(/append-only/);
    };
    const first = sql`(select entry_id from audit_log where seq = 0)`;
    await refused(sql`update audit_entries set outcome = 'denied' where id = ${first}`);
    await refused(sql`update audit_entries set uid = uid where id = ${first}`);
    await refused(sql`delete from audit_entries where id = ${first}`);
    await refused(sql`update audit_log set seq = seq where seq = 0`);
    await refused(sql`update audit_log set leaf_hash = ${'00'.repeat(32)} where seq = 0`);
    await refused(sql`delete from audit_log where seq = 0`);
    await refused(sql`update checkpoints set root = 'x'`);
    await refused(sql`delete from checkpoints`);
    await db().execute(sql`insert into disclosure_decisions (id, request_id, kind, broker, broker_sub, broker_role, outcome, jws, jti, created_at)
      values (gen_random_uuid(), gen_random_uuid(), 'decision', 'zorg-en-veiligheidshuis', 'im', 'informatiemakelaar', 'approve', 'x.y.z', 'j', now())`);
    await refused(sql`update disclosure_decisions set outcome = 'reject'`);
    await refused(sql`delete from disclosure_decisions`);
    expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
  });

  it('the tree root is the RFC 6962 root over the entries\' leaves, and the checkpoint signs it', async () => {
    await someTraffic(3);
    const cp = await createCheckpoint(db(), hub.config, hub.clock());
    const entries = await readSequenced(db(), -1, 100_000);
    const root = rootOf(entries.map((e) => leafHash(leafInput(e, e.seq!))));
    expect(cp.size).toBe(entries.length);
    expect(cp.root).toBe(toHex(root));
    const claims = await verifyCheckpointJws(cp.jws, keys());
    expect(claims).toMatchObject({ size: cp.size, root: cp.root, iss: hub.config.hubId });
    // Another key does not verify it.
    const other = await startTestHub();
    expect(await verifyCheckpointJws(cp.jws, other.config.signer.published)).toBeNull();
    await other.close();
  });

  describe('tampering is caught by audit verify', () => {
    let snapshot: { id: number; seq: number; detail: unknown; outcome: string; leaf_hash: string }[];
    /** An entry's place in the log, as a row of audit_log. */
    const placeOf = (e: { id: number; seq: number; leaf_hash: string }) => sql`(${e.seq}, ${e.id}, ${e.leaf_hash})`;

    beforeEach(async () => {
      await someTraffic(4);
      await createCheckpoint(db(), hub.config, hub.clock());
      const ok = await verifyAuditLog(db(), keys());
      expect(ok.problems).toEqual([]);
      snapshot = await rowsOf(
        db(),
        sql`select a.id::int as id, l.seq::int as seq, a.detail, a.outcome, l.leaf_hash from audit_log l join audit_entries a on a.id = l.entry_id order by l.seq`,
      );
    });

    const mid = () => snapshot[Math.floor(snapshot.length / 2)]!;

    it('an altered entry is named', async () => {
      const target = mid();
      await tamper(sql`update audit_entries set outcome = 'denied' where id = ${target.id}`);
      const report = await verifyAuditLog(db(), keys());
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ kind: 'altered', seq: target.seq });
      await tamper(sql`update audit_entries set outcome = ${target.outcome} where id = ${target.id}`);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });

    it('an altered entry whose leaf hash was recomputed too still breaks the signed root', async () => {
      const target = mid();
      const [row] = await readSequenced(db(), target.seq - 1, 1);
      const forged = { ...row!, outcome: 'denied' };
      const forgedLeaf = toHex(leafHash(leafInput(forged, target.seq)));
      await tamper(sql`update audit_entries set outcome = 'denied' where id = ${target.id}`);
      await tamper(sql`update audit_log set leaf_hash = ${forgedLeaf} where seq = ${target.seq}`);
      const report = await verifyAuditLog(db(), keys());
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.kind)).toContain('altered');
      expect(report.problems.find((p) => p.kind === 'altered')!.message).toMatch(/checkpoint/);
      await tamper(sql`update audit_entries set outcome = ${target.outcome} where id = ${target.id}`);
      await tamper(sql`update audit_log set leaf_hash = ${target.leaf_hash} where seq = ${target.seq}`);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });

    it('a missing entry is named', async () => {
      const target = mid();
      const [row] = await rowsOf<Record<string, unknown>>(db(), sql`select * from audit_entries where id = ${target.id}`);
      await tamper(sql`delete from audit_entries where id = ${target.id}`);
      await tamper(sql`delete from audit_log where seq = ${target.seq}`);
      const report = await verifyAuditLog(db(), keys());
      expect(report.problems[0]).toMatchObject({ kind: 'missing', seq: target.seq });
      await reinsert(row!);
      await tamper(sql`insert into audit_log values ${placeOf(target)}`);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });

    it('reordered entries are named', async () => {
      const a = mid();
      const b = snapshot[snapshot.indexOf(a) + 1]!;
      // Swap the entries' places; the leaf hashes stay where they were (each place's leaf hash is
      // now the other entry's, which hides the swap from a check of each entry on its own).
      const place = async (seqA: number, idA: number, seqB: number, idB: number) => {
        await tamper(sql`update audit_log set entry_id = -1 where seq = ${seqA}`);
        await tamper(sql`update audit_log set entry_id = ${idB} where seq = ${seqB}`);
        await tamper(sql`update audit_log set entry_id = ${idA} where seq = ${seqA}`);
      };
      await place(a.seq, b.id, b.seq, a.id);
      const report = await verifyAuditLog(db(), keys());
      expect(report.ok).toBe(false);
      expect(report.problems[0]).toMatchObject({ kind: 'reordered', seq: a.seq });
      await place(a.seq, a.id, b.seq, b.id);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });

    it('an inserted entry breaks the signed root', async () => {
      const target = mid();
      const last = snapshot[snapshot.length - 1]!;
      // Make room by shifting the tail, then insert a forged entry with a consistent leaf hash (the
      // database refuses a place not given by the sequencer, so past the triggers, as a superuser would).
      await tamper(sql`update audit_log set seq = seq + 1000000 where seq >= ${target.seq}`);
      await tamper(sql`update audit_log set seq = seq - 999999 where seq >= 1000000`);
      const [inserted] = await tamper<{ id: number }>(sql`
        insert into audit_entries (at, request_id, action, outcome, covenant_version, actor_partner, actor_sub, actor_role, purpose)
        values (now(), 'forged', 'lookup', 'allowed', ${hub.config.covenant.version}, 'politie', 'x', 'professional', 'procesregie-casus-op-maat')
        returning id::int as id`);
      await tamper(sql`insert into audit_log (seq, entry_id) values (${target.seq}, ${inserted!.id})`);
      const [row] = await readSequenced(db(), target.seq - 1, 1);
      await tamper(sql`update audit_log set leaf_hash = ${toHex(leafHash(leafInput(row!, target.seq)))} where seq = ${target.seq}`);
      const report = await verifyAuditLog(db(), keys());
      expect(report.ok).toBe(false);
      // A v2 leaf commits to its entry, not its position: the shifted tail hashes as before, and the
      // signed root, which fixes the order, exposes the insertion.
      expect(report.problems[0]).toMatchObject({ kind: 'altered', seq: null });
      expect(report.problems[0]!.message).toMatch(/checkpoint #\d+/);
      await tamper(sql`delete from audit_log where seq = ${target.seq}`);
      await tamper(sql`delete from audit_entries where id = ${inserted!.id}`);
      await tamper(sql`update audit_log set seq = seq + 1000000 where seq > ${target.seq}`);
      await tamper(sql`update audit_log set seq = seq - 1000001 where seq >= 1000000`);
      expect(last.seq).toBeGreaterThan(target.seq);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });

    it('a tail truncated after a checkpoint is named', async () => {
      const tail = snapshot.slice(-2);
      await tamper(sql`delete from audit_log where seq >= ${tail[0]!.seq}`);
      const report = await verifyAuditLog(db(), keys());
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.kind)).toContain('truncated');
      expect(report.problems.find((p) => p.kind === 'truncated')!.seq).toBe(tail[0]!.seq);
      for (const t of tail) await tamper(sql`insert into audit_log values ${placeOf(t)}`);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });

    it('a checkpoint note that was altered is named, and entries after the newest checkpoint are reported as not covered', async () => {
      const log = { origin: hub.config.log.keys.origin, keys: hub.config.log.keys.verifiers };
      const [cp] = await rowsOf<{ id: number; note: string }>(db(), sql`select id::int as id, note from checkpoints order by id desc limit 1`);
      const lines = cp!.note.split('\n');
      lines[1] = String(Number(lines[1]) + 1);
      await tamper(sql`update checkpoints set note = ${lines.join('\n')} where id = ${cp!.id}`);
      expect((await verifyAuditLog(db(), keys(), undefined, log)).problems.map((p) => p.kind)).toContain('bad-checkpoint');
      await tamper(sql`update checkpoints set note = ${cp!.note} where id = ${cp!.id}`);
      expect((await verifyAuditLog(db(), keys(), undefined, log)).ok).toBe(true);

      await someTraffic(1);
      await integrateAll(db(), hub.clock());
      const report = await verifyAuditLog(db(), keys(), undefined, log);
      expect(report.ok).toBe(true);
      expect(report.uncovered).toBe(2);
      expect(formatVerifyReport(report)).toMatch(/not covered {3}2 sequenced after the newest checkpoint, 0 not yet sequenced: NOT verified/);
    });

    it('a forged checkpoint is named', async () => {
      const [cp] = await rowsOf<{ id: number; root: string }>(db(), sql`select id::int as id, root from checkpoints order by id desc limit 1`);
      const fake = toHex(fromHex(cp!.root).map((b) => b ^ 1));
      await tamper(sql`update checkpoints set root = ${fake} where id = ${cp!.id}`);
      const report = await verifyAuditLog(db(), keys());
      expect(report.problems.map((p) => p.kind)).toContain('bad-checkpoint');
      await tamper(sql`update checkpoints set root = ${cp!.root} where id = ${cp!.id}`);
      expect((await verifyAuditLog(db(), keys())).ok).toBe(true);
    });
  });

  it('after rotating the hub signing key, old checkpoints still verify with the retired key published', async () => {
    // A hub of its own: its log ends up signed by two keys.
    const own = await startTestHub();
    const db = () => own.database.db;
    const vz = await own.as('verslavingszorg', 'partner-system');
    const someTraffic = async (_n: number) => {
      await vz.register({ subject: person().subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    };
    const hub = own;
    await someTraffic(1);
    const old = await createCheckpoint(db(), hub.config, hub.clock());
    const oldPublic = hub.config.signer.published[0]!;
    const next = JSON.parse(await generateSigningKeySecret()) as Record<string, unknown>;
    const rotated = await parseSigningKeys(JSON.stringify([next, oldPublic]));
    expect(rotated.kid).not.toBe(old.kid);
    expect(rotated.published.map((k) => k.kid)).toEqual([rotated.kid, old.kid]);
    expect(rotated.published.every((k) => !('d' in k))).toBe(true);
    await someTraffic(1);
    const fresh = await createCheckpoint(db(), { ...hub.config, signer: rotated }, hub.clock());
    expect(fresh.kid).toBe(rotated.kid);
    expect((await verifyAuditLog(db(), rotated.published)).problems).toEqual([]);
    // Without the retired key, the old checkpoints no longer verify: it must stay published.
    expect((await verifyAuditLog(db(), [rotated.published[0]!])).problems.map((p) => p.kind)).toContain('bad-checkpoint');
    await own.close();
  });


  /** Put a removed entry back as it was: past the triggers, as `tamper` (its place is audit_log's). */
  async function reinsert(r: Record<string, unknown>) {
    await tamper(sql`
      insert into audit_entries (id, uid, at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
      values (${r.id}, ${r.uid}, ${new Date(r.at as string | Date).toISOString()}::timestamptz, ${r.request_id}, ${r.actor_partner}, ${r.actor_sub}, ${r.actor_role}, ${r.action}, ${r.subject}, ${r.purpose}, ${r.case_ref}, ${r.outcome}, ${r.rule}, ${r.covenant_version}, ${r.detail === null ? null : JSON.stringify(r.detail)}::jsonb)`);
  }
});
