// Witnesses (c2sp.org/tlog-witness) and the verifier that needs no database: partners cosign the
// hub's checkpoints, the hub publishes only what a quorum cosigned, and a rollback, a fork or a
// rewritten tail is caught by a witness or by a verifier holding the last checkpoint it saw.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { consistencyProof, leafHash, rootOf } from '../src/audit/merkle';
import { readHead, readSequenced, type LogHead } from '../src/audit/store';
import { createCheckpoint } from '../src/audit/checkpoint';
import { leafInput } from '../src/audit/entry';
import { rowsOf } from '../src/db/types';
import { fromHex, toBase64, toHex, utf8 } from '../src/encoding';
import { openCheckpoint, signCheckpoint, type LogKeys } from '../src/log/checkpoint';
import { cosign, generateSigner, parseNote, parseVerifierKey, SIG_COSIGNATURE, type NoteKey } from '../src/log/note';
import { verifyRemote, type VerifierState } from '../src/log/verifier';
import { checkpointAndWitness, submitToWitnesses } from '../src/log/witnessing';
import { startWitness, type RunningWitness } from '../src/node/commands/witness';
import { addCheckpoint, memoryStore, SIZE_CONTENT_TYPE, type WitnessConfig } from '../src/witness/witness';
import { formatSignerKey, formatVerifierKey } from '../src/log/note';
import { LOG_ORIGIN, demoCovenant, startTestHub, type TestHub } from './support/hub';
import { send, tokenFor } from './support/http';
import { person } from './support/people';
import { generateLogKeySecret, parseLogKeys } from '../src/log/checkpoint';
import type { LogFields, Logger } from '../src/log';

const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(utf8(`entry ${i}`)));

describe('a witness (c2sp.org/tlog-witness add-checkpoint)', () => {
  const log: LogKeys = parseLogKeys(generateLogKeySecret(LOG_ORIGIN), LOG_ORIGIN);
  const signer = generateSigner('witness.test/w1', SIG_COSIGNATURE);
  const config: WitnessConfig = { signer, logs: new Map([[LOG_ORIGIN, log.verifiers]]), now: () => new Date('2026-11-23T10:00:00Z') };
  const all = leaves(20);
  const note = (n: number, keys = log) => signCheckpoint(keys, n, rootOf(all.slice(0, n)));
  const request = (old: number, proof: Uint8Array[], cp: string) => `old ${old}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${cp}`;

  it('cosigns a first checkpoint, then only consistent successors; refusals follow the spec', async () => {
    const store = memoryStore();
    const first = await addCheckpoint(config, store, request(0, [], note(5)));
    expect(first.status).toBe(200);
    // The cosignature verifies as a type 0x04 note signature over cosignature/v1 + time + body.
    const opened = openCheckpoint(note(5) + first.body, LOG_ORIGIN, log.verifiers, [{ name: signer.name, key: signer }]);
    expect(opened!.cosignatures).toEqual([{ witness: signer.name, timestamp: Date.parse('2026-11-23T10:00:00Z') / 1000, line: first.body }]);

    // Wrong old size: 409 with the size it knows.
    const stale = await addCheckpoint(config, store, request(0, [], note(9)));
    expect(stale).toEqual({ status: 409, body: '5\n', contentType: SIZE_CONTENT_TYPE });
    // A proof that does not verify: 422, nothing stored.
    const bad = consistencyProof(all, 5, 9).map((h) => h.map((b) => b ^ 1));
    expect((await addCheckpoint(config, store, request(5, bad, note(9)))).status).toBe(422);
    // The right proof: cosigned.
    expect((await addCheckpoint(config, store, request(5, consistencyProof(all, 5, 9), note(9)))).status).toBe(200);
    // Going back: old beyond the checkpoint is a bad request; the same size with another root a conflict.
    expect((await addCheckpoint(config, store, request(9, [], note(5)))).status).toBe(400);
    const other = signCheckpoint(log, 9, rootOf(leaves(9).map((l) => l.map((b) => b ^ 2))));
    expect((await addCheckpoint(config, store, request(9, [], other))).status).toBe(409);
    // Another log, or a checkpoint not signed by the log's key.
    const stranger = parseLogKeys(generateLogKeySecret('kenbaar.example/other'), 'kenbaar.example/other');
    expect((await addCheckpoint(config, store, request(0, [], signCheckpoint(stranger, 3, rootOf(all.slice(0, 3)))))).status).toBe(404);
    const forger = parseLogKeys(generateLogKeySecret(LOG_ORIGIN), LOG_ORIGIN);
    expect((await addCheckpoint(config, store, request(9, consistencyProof(all, 9, 12), note(12, forger)))).status).toBe(403);
    expect((await addCheckpoint(config, store, 'old x\n\n')).status).toBe(400);
  });

  it('checks old and stores the new size atomically: of two racing requests from the same size, one wins', async () => {
    const store = memoryStore();
    await addCheckpoint(config, store, request(0, [], note(4)));
    const [a, b] = await Promise.all([
      addCheckpoint(config, store, request(4, consistencyProof(all, 4, 10), note(10))),
      addCheckpoint(config, store, request(4, consistencyProof(all, 4, 7), note(7))),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
  });
});

describe('the hub with witnesses, and the verifier without a database', () => {
  let hub: TestHub;
  let witnesses: RunningWitness[];
  let dir: string;
  let witnessKeys: NoteKey[];
  const db = () => hub.database.db;
  /** The server log the checkpoint job writes to. */
  const logged: ({ level: string; event: string } & LogFields)[] = [];
  const log: Logger = (level, event, fields) => logged.push({ level, event, ...fields });
  const hubFetch = ((input: RequestInfo | URL, init?: RequestInit) => hub.app.request(String(input), init)) as typeof fetch;
  const tamper = (statement: SQL) =>
    db().transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(statement);
    });
  const traffic = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await send(hub, { path: '/v1/lookups', token: await tokenFor(hub, 'gemeente', 'procesregisseur'), json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: `W-${i}` } });
      expect(res.status).toBe(200);
    }
  };
  const verify = (previous: VerifierState | null, quorum = 2, token?: () => Promise<string>) =>
    verifyRemote({
      url: 'http://hub.test',
      logKey: hub.config.log.keys.verifiers[0]!,
      witnesses: witnessKeys.map((k) => ({ name: k.name, key: k })),
      quorum,
      previous,
      fetch: hubFetch,
      // The witnesses cosign in real time; the hub runs on a test clock.
      now: new Date(),
      ...(token ? { token } : {}),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kenbaar-witness-'));
    const logSecret = generateLogKeySecret(LOG_ORIGIN);
    const logVkey = formatVerifierKey(parseLogKeys(logSecret, LOG_ORIGIN).verifiers[0]!);
    witnesses = [];
    witnessKeys = [];
    for (const name of ['witness.politie.test', 'witness.ggz.test', 'witness.gemeente.test']) {
      const signer = generateSigner(name, SIG_COSIGNATURE);
      writeFileSync(join(dir, `${name}.key`), formatSignerKey(signer));
      witnesses.push(await startWitness({ key: join(dir, `${name}.key`), log: [logVkey], state: join(dir, `${name}.json`), port: '0' }));
      witnessKeys.push(parseVerifierKey(formatVerifierKey(signer)));
    }
    const covenant = { ...demoCovenant(), witnesses: { quorum: 2, keys: witnesses.map((w, i) => ({ name: witnessKeys[i]!.name, vkey: w.vkey, url: w.url })) } };
    hub = await startTestHub({ covenant });
    hub.config.log.keys = parseLogKeys(logSecret, LOG_ORIGIN);
    // On two loaded cores a witness in this process may take seconds to answer; offline is refused connections.
    hub.config.log.witnessTimeoutMs = 45_000;
  });
  afterAll(async () => {
    await Promise.all(witnesses.map((w) => w.stop().catch(() => {})));
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes only checkpoints a quorum of witnesses cosigned, with their cosignatures; a witness offline does not stop the hub', async () => {
    expect((await hub.app.request('http://hub.test/log/checkpoint')).status).toBe(404);
    await traffic(3);
    const first = await checkpointAndWitness(db(), hub.config, hub.clock(), log);
    expect(first.witnesses.map((w) => w.status)).toEqual(['cosigned', 'cosigned', 'cosigned']);
    const published = await (await hub.app.request('http://hub.test/log/checkpoint')).text();
    const opened = openCheckpoint(published, LOG_ORIGIN, hub.config.log.keys.verifiers, witnessKeys.map((k) => ({ name: k.name, key: k })));
    expect(opened!.size).toBe(first.checkpoint.size);
    expect(opened!.cosignatures.map((c) => c.witness).sort()).toEqual(witnessKeys.map((k) => k.name).sort());

    // Two witnesses offline: the next checkpoint is signed but not published; the hub still answers.
    await witnesses[1]!.stop();
    await witnesses[2]!.stop();
    hub.clock.advance(120_000);
    await traffic(1);
    const stderr = vi.spyOn(console, 'error');
    const second = await checkpointAndWitness(db(), hub.config, hub.clock(), log).finally(() => stderr.mockRestore());
    expect(stderr).not.toHaveBeenCalled();
    expect(second.witnesses.map((w) => w.status)).toEqual(['cosigned', 'offline', 'offline']);
    // Each witness that did not cosign is one line in the server log: its key name and codes.
    const failed = logged.filter((l) => l.event === 'witness.failed');
    expect(failed).toEqual(
      ['witness.ggz.test', 'witness.gemeente.test'].map((witness) => ({ level: 'warn', event: 'witness.failed', witness, status: 'offline', code: 'ECONNREFUSED', checkpointId: second.checkpoint.id, size: second.checkpoint.size })),
    );
    const res = await hub.app.request('http://hub.test/log/checkpoint');
    expect(parseNote(await res.text())!.text).toContain(`\n${first.checkpoint.size}\n`);
    expect(Number(res.headers.get('kenbaar-checkpoint-age'))).toBeGreaterThanOrEqual(120);
    // Back online (same state files): the witnesses catch up from the size they hold.
    witnesses[1] = await startWitness({ key: join(dir, 'witness.ggz.test.key'), log: [formatVerifierKey(hub.config.log.keys.verifiers[0]!)], state: join(dir, 'witness.ggz.test.json'), port: '0' });
    hub.config.covenant.witnesses.keys[1]!.url = witnesses[1].url;
    const third = await checkpointAndWitness(db(), hub.config, hub.clock(), log);
    expect(third.witnesses.map((w) => w.status)).toEqual(['cosigned', 'cosigned', 'offline']);
    const now = await (await hub.app.request('http://hub.test/log/checkpoint')).text();
    expect(now).toContain(`\n${third.checkpoint.size}\n`);
  });

  it('the verifier checks signatures, quorum, consistency with what it saw, and every leaf from the entries', async () => {
    const fg = () => tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer');
    const first = await verify(null, 2, fg);
    expect(first.problems).toEqual([]);
    expect(first.entriesRehashed).toBe(first.size);
    await traffic(2);
    await checkpointAndWitness(db(), hub.config, hub.clock(), log);
    const second = await verify(first.next);
    expect(second.problems).toEqual([]);
    expect(second.size).toBeGreaterThan(first.size);
    // A policy the checkpoint does not meet.
    expect((await verify(second.next, 3)).problems.map((p) => p.kind)).toEqual(['quorum']);
    // Bundles for a partner without read-audit-all: refused, and said so.
    const denied = await verify(second.next, 2, () => tokenFor(hub, 'politie', 'professional'));
    expect(denied.problems[0]!.kind).toBe('unavailable');
  });

  it('a witness answering with a forged or stale cosignature is not counted, and nothing of it is stored', async () => {
    await traffic(1);
    const { checkpoint: earlier } = await checkpointAndWitness(db(), hub.config, hub.clock(), log);
    const [stale] = await rowsOf<{ line: string }>(db(), sql`select line from checkpoint_cosignatures where checkpoint_id = ${earlier.id} and witness = ${witnessKeys[0]!.name}`);
    await traffic(1);
    const cp = await createCheckpoint(db(), hub.config, hub.clock());
    // A "witness" that replays its cosignature of the earlier checkpoint, or signs with another key.
    const other = generateSigner(witnessKeys[0]!.name, SIG_COSIGNATURE);
    const forged = cosign(parseNote(cp.note!)!.text, other, Math.floor(Date.now() / 1000));
    for (const line of [stale!.line, forged]) {
      const fake = (async () => new Response(line, { status: 200 })) as unknown as typeof fetch;
      const [outcome] = await submitToWitnesses(db(), { ...hub.config, covenant: { ...hub.config.covenant, witnesses: { quorum: 2, keys: [hub.config.covenant.witnesses.keys[0]!] } } }, cp, hub.clock(), fake);
      expect(outcome!.status).toBe('bad-cosignature');
    }
    const [{ n }] = (await rowsOf<{ n: number }>(db(), sql`select count(*)::int as n from checkpoint_cosignatures where checkpoint_id = ${cp.id}`)) as [{ n: number }];
    expect(n).toBe(0);
    // Catch the witnesses up for the next cases.
    await checkpointAndWitness(db(), hub.config, hub.clock(), log);
  });

  it('tampering: a rewritten tail with a re-signed checkpoint is refused by the witnesses, and a fork to the verifier', async () => {
    await traffic(2);
    const { checkpoint: real } = await checkpointAndWitness(db(), hub.config, hub.clock(), log);
    const seen = await verify(null);
    expect(seen.ok).toBe(true);
    const size = real.size;
    const hashesBefore = (await rowsOf<{ leaf_hash: string }>(db(), sql`select leaf_hash from audit_log where seq < ${size} order by seq`)).map((r) => r.leaf_hash);
    const [row] = await readSequenced(db(), size - 2, 1);
    // The attacker holds the database and the log key: rewrites the last entry, rehashes, re-signs.
    await tamper(sql`update audit_entries set outcome = 'denied' where id = ${row!.id}`);
    const forged = { ...row!, outcome: 'denied' };
    await tamper(sql`update audit_log set leaf_hash = ${toHex(leafHash(leafInput(forged, size - 1)))} where seq = ${size - 1}`);
    const hashes = (await rowsOf<{ leaf_hash: string }>(db(), sql`select leaf_hash from audit_log where seq < ${size} order by seq`)).map((r) => fromHex(r.leaf_hash));
    const root = rootOf(hashes);
    const note = signCheckpoint(hub.config.log.keys, size, root);
    const [fake] = await rowsOf<{ id: number }>(db(), sql`insert into checkpoints (size, root, issued_at, kid, jws, note) values (${size}, ${toHex(root)}, now(), 'x', 'x', ${note}) returning id::int as id`);
    const outcomes = await submitToWitnesses(db(), hub.config, { ...real, id: fake!.id, root: toHex(root), note }, hub.clock());
    expect(outcomes.filter((o) => o.status === 'cosigned')).toEqual([]);
    // It copies the witnesses' cosignatures of the real checkpoint onto the forged one.
    await tamper(sql`insert into checkpoint_cosignatures (checkpoint_id, witness, line, at) select ${fake!.id}, witness, line, at from checkpoint_cosignatures where checkpoint_id = ${real.id}`);
    const served = await (await hub.app.request('http://hub.test/log/checkpoint')).text();
    expect(served.startsWith(note.split('\n\n')[0]!)).toBe(true);
    const report = await verify(seen.next);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind).sort()).toEqual(['fork', 'quorum']);
    // Put things back for the next case.
    await tamper(sql`delete from checkpoint_cosignatures where checkpoint_id = ${fake!.id}`);
    await tamper(sql`delete from checkpoints where id = ${fake!.id}`);
    await tamper(sql`update audit_entries set outcome = ${row!.outcome} where id = ${row!.id}`);
    await tamper(sql`update audit_log set leaf_hash = ${hashesBefore[size - 1]!} where seq = ${size - 1}`);
    expect((await verify(seen.next)).problems).toEqual([]);
  });
  it('tampering: the newest checkpoint deleted with the entries only it covers is a rollback to the verifier', async () => {
    const before = await verify(null);
    expect(before.ok).toBe(true);
    const keep: LogHead = await readHead(db());
    await traffic(2);
    const { checkpoint } = await checkpointAndWitness(db(), hub.config, hub.clock(), log);
    const seen = await verify(before.next);
    expect(seen.ok).toBe(true);
    // An attacker with the database drops it all and puts the log head back.
    await tamper(sql`delete from checkpoint_cosignatures where checkpoint_id = ${checkpoint.id}`);
    await tamper(sql`delete from checkpoints where id = ${checkpoint.id}`);
    await tamper(sql`delete from audit_entries where id in (select entry_id from audit_log where seq >= ${keep.size})`);
    await tamper(sql`delete from audit_log where seq >= ${keep.size}`);
    await tamper(sql`update log_head set size = ${keep.size}, root = ${keep.root}, frontier = ${JSON.stringify(keep.frontier)}::jsonb where id = 1`);
    const report = await verify(seen.next);
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.kind)).toContain('rollback');
  });

});
