// The audit log as a standard transparency log: C2SP checkpoints signed by the log key, tiles,
// receipts on every logged answer, and tlog-proofs against the published checkpoint.
import { sha256 } from '@noble/hashes/sha2.js';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendLeaves, frontierRoot, inclusionProof, leafHash, rootOf, verifyInclusion } from '../src/audit/merkle';
import { appendAudit, integrateAll, readHead } from '../src/audit/store';
import { rowsOf } from '../src/db/types';
import { fromBase64, fromHex, toBase64Url, toHex, utf8 } from '../src/encoding';
import { openCheckpoint } from '../src/log/checkpoint';
import { concatBytes as concat } from '../src/encoding';
import { keyId, parseVerifierKey, SIG_ED25519 } from '../src/log/note';
import { INLINE_ENTRIES, RECEIPT_HEADER, verifyReceipt, type BatchReceipt, type InlineReceipt } from '../src/log/receipt';
import { checkReceipt } from '../src/log/verifier';
import { decodeBundle, encodeTileIndex, foldLeaves, parseTilePath, splitHashes, tilePath } from '../src/log/tiles';
import { LOG_ORIGIN, dbKind, startTestHub, type TestHub } from './support/hub';
import { auditOf, send, tokenFor } from './support/http';
import { contact, person } from './support/people';

async function get(hub: TestHub, path: string, token?: string) {
  const res = await hub.app.request(`http://hub.test${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe(`the audit log as a transparency log (${dbKind})`, () => {
  let hub: TestHub;
  const db = () => hub.database.db;

  beforeAll(async () => {
    hub = await startTestHub();
    // Enough entries for full tiles: 300 appended directly, as the hub's own jobs do.
    const ctx = { at: hub.clock(), requestId: 'bulk', actor: null, covenantVersion: hub.config.covenant.version };
    await appendAudit(db(), ctx, Array.from({ length: 300 }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { i } })));
    await createCheckpoint(db(), hub.config, hub.clock());
  });
  afterAll(() => hub?.close());

  it('the checkpoint is a C2SP signed note by the log key, whose key id and vkey follow the signed-note spec', async () => {
    const vkeyRes = await get(hub, '/log/vkey');
    expect(vkeyRes.status).toBe(200);
    const vkey = text(vkeyRes.bytes).trim().split('\n')[0]!;
    const key = parseVerifierKey(vkey);
    expect(key.name).toBe(LOG_ORIGIN);
    // key id = SHA-256(name || 0x0A || 0x01 || public key)[:4], computed here independently.
    const expectedId = sha256(concat(utf8(LOG_ORIGIN), new Uint8Array([0x0a, 0x01]), key.publicKey)).slice(0, 4);
    expect(vkey).toBe(`${LOG_ORIGIN}+${toHex(expectedId)}+${Buffer.from([0x01, ...key.publicKey]).toString('base64')}`);

    const res = await get(hub, '/log/checkpoint');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(Number(res.headers.get('kenbaar-checkpoint-age'))).toBeGreaterThanOrEqual(0);
    const note = text(res.bytes);
    const lines = note.split('\n');
    expect(lines[0]).toBe(LOG_ORIGIN);
    const head = await readHead(db());
    expect(lines[1]).toBe(String(head.size));
    expect(toHex(fromBase64(lines[2]!))).toBe(head.root);
    expect(lines[3]).toBe('');
    expect(lines[4]).toMatch(new RegExp(`^\u2014 ${LOG_ORIGIN} [A-Za-z0-9+/]+=*$`));
    const opened = openCheckpoint(note, LOG_ORIGIN, [key]);
    expect(opened).toMatchObject({ size: head.size });
    // Tampered: another size, or another log's origin, does not verify.
    expect(openCheckpoint(note.replace(`\n${head.size}\n`, `\n${head.size + 1}\n`), LOG_ORIGIN, [key])).toBeNull();
    expect(openCheckpoint(note, 'kenbaar.example/other', [key])).toBeNull();
    expect(keyId(key.name, SIG_ED25519, key.publicKey)).toEqual(expectedId);
  });

  it('hash tiles are RFC 6962 hashes of the tree, public and immutable; beyond the tree there are none', async () => {
    const head = await readHead(db());
    expect(head.size).toBeGreaterThanOrEqual(300);
    const leaves = (await rowsOf<{ leaf_hash: string }>(db(), sql`select leaf_hash from audit_log order by seq`)).map((r) => fromHex(r.leaf_hash));
    const full = await get(hub, '/log/tile/0/000');
    expect(full.status).toBe(200);
    expect(full.headers.get('cache-control')).toContain('immutable');
    expect(splitHashes(full.bytes)!.map(toHex)).toEqual(leaves.slice(0, 256).map(toHex));
    const w = head.size % 256;
    const partial = await get(hub, `/log/tile/0/001.p/${w}`);
    expect(splitHashes(partial.bytes)!.map(toHex)).toEqual(leaves.slice(256, 256 + w).map(toHex));
    // Level 1: the root of each full level-0 tile.
    const up = await get(hub, '/log/tile/1/000.p/1');
    expect(toHex(up.bytes)).toBe(toHex(rootOf(leaves.slice(0, 256))));
    for (const beyond of [`/log/tile/0/001.p/${w + 1}`, '/log/tile/0/002', '/log/tile/1/000', '/log/tile/2/000.p/1', '/log/tile/0/x000/001']) {
      expect((await get(hub, beyond)).status, beyond).toBe(404);
    }
  });

  it('entry bundles only for readers of the whole log; a partner without that right is refused and logged', async () => {
    const fg = await tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer');
    const res = await get(hub, '/log/tile/entries/000', fg);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const entries = decodeBundle(res.bytes)!;
    expect(entries).toHaveLength(256);
    const tile = splitHashes((await get(hub, '/log/tile/0/000')).bytes)!;
    expect(entries.map((e) => toHex(leafHash(e)))).toEqual(tile.map(toHex));

    const police = await send(hub, { path: '/log/tile/entries/000', token: await tokenFor(hub, 'politie', 'professional') });
    expect(police.status).toBe(403);
    const [entry] = await auditOf(hub, police.requestId);
    expect(entry).toMatchObject({ action: 'audit.read', outcome: 'denied', actorPartner: 'politie' });
    expect((await send(hub, { path: '/log/tile/entries/000' })).status).toBe(401);
  });

  it('every logged answer carries a receipt whose leaf hash is the one the sequencer puts in the tree, refusals too', async () => {
    const pr = await tokenFor(hub, 'gemeente', 'procesregisseur');
    const p = person();
    const ok = await send(hub, { path: '/v1/lookups', token: pr, json: { subject: p.subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-R-1' } });
    expect(ok.status).toBe(200);
    const refused = await send(hub, { path: '/v1/lookups', token: await tokenFor(hub, 'gemeente', 'procesregisseur'), json: { subject: p.subject, purpose: 'no-such-purpose', caseRef: 'ZVH-R-2' } });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    await integrateAll(db(), hub.clock());
    for (const sent of [ok, refused]) {
      const jws = sent.headers.get(RECEIPT_HEADER);
      expect(jws, `receipt on ${sent.status}`).toBeTruthy();
      const claims = (await verifyReceipt(jws!, hub.config.signer.published)) as InlineReceipt | null;
      expect(claims).toMatchObject({ log: LOG_ORIGIN, mmd: hub.config.log.maxMergeDelaySeconds });
      const stored = await auditOf(hub, sent.requestId);
      expect(claims!.entries.map((e) => e.uid)).toEqual(stored.map((e) => e.uid));
      expect(claims!.entries.map((e) => toHex(fromBase64(e.leaf)))).toEqual(stored.map((e) => e.leafHash));
    }
    // A forged receipt does not verify.
    const jws = ok.headers.get(RECEIPT_HEADER)!;
    const [h, , s] = jws.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ log: LOG_ORIGIN, entries: [], iat: 1, mmd: 1 })).toString('base64url')}.${s}`;
    expect(await verifyReceipt(forged, hub.config.signer.published)).toBeNull();
  });

  it('the leaf hash given at append is the stored one also when the text had to be escaped to be stored', async () => {
    const ctx = { at: hub.clock(), requestId: 'escaped', actor: null, covenantVersion: hub.config.covenant.version };
    const [appended] = (await appendAudit(db(), ctx, [{ action: 'purge', outcome: 'ok', detail: { path: 'a\u0000b\ud800c', n: 1.5e21 } }]))!;
    await integrateAll(db(), hub.clock());
    const [row] = await rowsOf<{ leaf_hash: string }>(db(), sql`select l.leaf_hash from audit_log l join audit_entries a on a.id = l.entry_id where a.uid = ${appended!.uid}`);
    expect(row!.leaf_hash).toBe(toHex(appended!.leafHash));
  });

  it('a receipt becomes a C2SP tlog-proof once a checkpoint covers the entry; others cannot fetch it', async () => {
    const p = person();
    const reg = await send(hub, {
      path: '/v1/registrations',
      token: await tokenFor(hub, 'verslavingszorg', 'partner-system'),
      json: { subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') },
    });
    expect(reg.status).toBe(201);
    const claims = (await verifyReceipt(reg.headers.get(RECEIPT_HEADER)!, hub.config.signer.published)) as InlineReceipt;
    const uid = claims.entries[0]!.uid;
    const early = await send(hub, { path: `/v1/audit/proofs/${uid}`, token: await tokenFor(hub, 'verslavingszorg', 'partner-system') });
    expect(early.status).toBe(404);
    expect(early.body.reason).toBe('not-yet-published');

    await createCheckpoint(db(), hub.config, hub.clock());
    const res = await hub.app.request(`http://hub.test/v1/audit/proofs/${uid}`, { headers: { authorization: `Bearer ${await tokenFor(hub, 'verslavingszorg', 'partner-system')}` } });
    expect(res.status).toBe(200);
    const proof = await res.text();
    const [header, indexLine, ...rest] = proof.split('\n');
    expect(header).toBe('c2sp.org/tlog-proof@v1');
    const index = Number(/^index (\d+)$/.exec(indexLine!)![1]);
    const blank = rest.indexOf('');
    const path = rest.slice(0, blank).map(fromBase64);
    const checkpoint = rest.slice(blank + 1).join('\n');
    const vkey = parseVerifierKey((await (await hub.app.request('http://hub.test/log/vkey')).text()).trim());
    const cp = openCheckpoint(checkpoint, LOG_ORIGIN, [vkey])!;
    expect(cp).not.toBeNull();
    expect(verifyInclusion(fromBase64(claims.entries[0]!.leaf), index, cp.size, path, cp.root)).toBe(true);

    // Another organisation's professional learns nothing about the uid (not even that it exists).
    const other = await send(hub, { path: `/v1/audit/proofs/${uid}`, token: await tokenFor(hub, 'politie', 'professional') });
    expect(other.status).toBe(404);
    // The house's FG may prove any entry.
    const fg = await get(hub, `/v1/audit/proofs/${uid}`, await tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer'));
    expect(fg.status).toBe(200);
  });

  it("a partner's receipts: pending until a checkpoint, then included; an entry deleted before any checkpoint is missing once the delay passed", async () => {
    const pr = () => tokenFor(hub, 'gemeente', 'procesregisseur');
    const receipt = async () => {
      const res = await send(hub, { path: '/v1/lookups', token: await pr(), json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-R-9' } });
      return (await verifyReceipt(res.headers.get(RECEIPT_HEADER)!, hub.config.signer.published)) as InlineReceipt;
    };
    const kept = await receipt();
    const dropped = await receipt();
    const options = () => ({
      url: 'http://hub.test',
      fetch: ((input: RequestInfo | URL, init?: RequestInit) => hub.app.request(String(input), init)) as typeof fetch,
      token: pr,
      logKey: hub.config.log.keys.verifiers[0]!,
      witnesses: [],
      quorum: 0,
      now: hub.clock(),
    });
    expect((await checkReceipt(options(), kept)).map((r) => r.status)).toEqual(['pending']);
    // An attacker with the database removes an entry written after the last checkpoint.
    await db().transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`delete from audit_entries where uid = ${dropped.entries[0]!.uid}`);
    });
    await createCheckpoint(db(), hub.config, hub.clock());
    expect((await checkReceipt(options(), kept)).map((r) => r.status)).toEqual(['included']);
    expect((await checkReceipt(options(), dropped)).map((r) => r.status)).toEqual(['pending']);
    hub.clock.advance((hub.config.log.maxMergeDelaySeconds + 1) * 1000);
    const [missing] = await checkReceipt(options(), dropped);
    expect(missing).toMatchObject({ status: 'missing' });
    // A receipt whose leaf is not the entry's: the proof does not hold for it.
    const swapped = { ...kept, entries: [{ uid: kept.entries[0]!.uid, leaf: dropped.entries[0]!.leaf }] };
    expect((await checkReceipt(options(), swapped)).map((r) => r.status)).toEqual(['bad-proof']);
  });

  const batchOf = (n: number, tag: string) =>
    // Distinct subjects (a partner pseudonym is any 32 bytes, base64url).
    Array.from({ length: n }, (_, i) => ({ subject: toBase64Url(sha256(utf8(`${tag} ${i}`))), category: 'verslavingszorg-behandeling', contact: contact(`${tag} ${i}`) }));
  const vz = () => tokenFor(hub, 'verslavingszorg', 'partner-system');
  const receiptOptions = () => ({
    url: 'http://hub.test',
    fetch: ((input: RequestInfo | URL, init?: RequestInit) => hub.app.request(String(input), init)) as typeof fetch,
    token: vz,
    logKey: hub.config.log.keys.verifiers[0]!,
    witnesses: [],
    quorum: 0,
    now: hub.clock(),
  });

  it('a batch of 10,000: its receipt is a few hundred bytes over all entries at once, and the partner still proves each entry', async () => {
    const res = await send(hub, { path: '/v1/registrations/batch', token: await vz(), json: { items: batchOf(10_000, 'receipt batch') } });
    expect(res.status).toBe(200);
    // One receipt over the answer's entries: count, root and first/last uid; not one leaf per item
    // (that was ~1.6 MB, past every HTTP header limit).
    const jws = res.headers.get(RECEIPT_HEADER)!;
    expect(jws.length).toBeLessThan(1024);
    const claims = (await verifyReceipt(jws, hub.config.signer.published)) as BatchReceipt;
    const stored = await auditOf(hub, res.requestId);
    expect(stored.length).toBe(10_001); // one entry per item, and the batch's own
    expect(claims).toMatchObject({ log: LOG_ORIGIN, count: stored.length, first: stored[0]!.uid, last: stored.at(-1)!.uid });
    expect(claims).not.toHaveProperty('entries');
    await createCheckpoint(db(), hub.config, hub.clock());
    const checks = await checkReceipt(receiptOptions(), claims);
    expect(checks.map((c) => c.uid)).toEqual(stored.map((e) => e.uid));
    expect(checks.filter((c) => c.status !== 'included')).toEqual([]);
    expect(checks.map((c) => c.index)).toEqual((await auditOf(hub, res.requestId)).map((e) => e.seq));
  }, 180_000);

  it(`a receipt names up to ${INLINE_ENTRIES} entries one by one; over more, its list is the organisation's to fetch and must hash to the signed root`, async () => {
    for (const [n, batch] of [[INLINE_ENTRIES - 1, false], [INLINE_ENTRIES, true]] as const) {
      const res = await send(hub, { path: '/v1/registrations/batch', token: await vz(), json: { items: batchOf(n, `small ${n}`) } });
      const claims = (await verifyReceipt(res.headers.get(RECEIPT_HEADER)!, hub.config.signer.published))!;
      expect((await auditOf(hub, res.requestId)).length, `${n} items`).toBe(n + 1);
      expect('entries' in claims, `${n} items`).toBe(!batch);
    }
    const res = await send(hub, { path: '/v1/registrations/batch', token: await vz(), json: { items: batchOf(40, 'tampered') } });
    const claims = (await verifyReceipt(res.headers.get(RECEIPT_HEADER)!, hub.config.signer.published)) as BatchReceipt;
    // Before a checkpoint: promised, pending.
    expect(new Set((await checkReceipt(receiptOptions(), claims)).map((r) => r.status))).toEqual(new Set(['pending']));
    // The list is the requesting organisation's, or a reader of the whole log's.
    const listPath = `/v1/audit/receipts/entries?first=${claims.first}&last=${claims.last}`;
    const police = await send(hub, { path: listPath, token: await tokenFor(hub, 'politie', 'professional') });
    expect(police.status).toBe(404);
    expect((await auditOf(hub, police.requestId))[0]).toMatchObject({ action: 'audit.read', outcome: 'denied' });
    expect((await send(hub, { path: listPath, token: await tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer') })).status).toBe(200);
    await createCheckpoint(db(), hub.config, hub.clock());
    expect(new Set((await checkReceipt(receiptOptions(), claims)).map((r) => r.status))).toEqual(new Set(['included']));

    // An entry of the batch removed behind the hub's back: the list no longer hashes to the signed root.
    const victim = (await auditOf(hub, res.requestId))[20]!.uid;
    const tamper = (statement: ReturnType<typeof sql>) =>
      db().transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        await tx.execute(statement);
      });
    await tamper(sql`create table receipt_victim as select * from audit_entries where uid = ${victim}`);
    await tamper(sql`delete from audit_entries where uid = ${victim}`);
    try {
      const [broken, ...rest] = await checkReceipt(receiptOptions(), claims);
      expect(rest).toEqual([]);
      expect(broken).toMatchObject({ status: 'bad-proof', detail: expect.stringMatching(/do not hash to the receipt's root/) });
    } finally {
      await tamper(sql`insert into audit_entries select * from receipt_victim`);
      await tamper(sql`drop table receipt_victim`);
    }
  });
});

describe('tiles and proofs from tiles', () => {
  it('folding leaves gives the frontier appendLeaves gives, and the roots of every complete 256^L subtree', () => {
    const leaves = Array.from({ length: 70_000 }, (_, i) => leafHash(utf8(`e${i}`)));
    let frontier: Uint8Array[] = [];
    let size = 0;
    const subtrees = new Map<string, string>();
    for (const chunk of [1, 255, 1, 300, 65_000, 4443]) {
      const part = leaves.slice(size, size + chunk);
      const folded = foldLeaves(frontier, size, part);
      expect(folded.frontier.map(toHex)).toEqual(appendLeaves(frontier, size, part).map(toHex));
      for (const s of folded.subtrees) subtrees.set(`${s.level}/${s.idx}`, toHex(s.hash));
      frontier = folded.frontier;
      size += chunk;
    }
    expect(size).toBe(70_000);
    expect(toHex(frontierRoot(frontier))).toBe(toHex(rootOf(leaves)));
    expect(subtrees.size).toBe(273 + 1);
    expect(subtrees.get('1/5')).toBe(toHex(rootOf(leaves.slice(5 * 256, 6 * 256))));
    expect(subtrees.get('2/0')).toBe(toHex(rootOf(leaves.slice(0, 65_536))));
    // An inclusion proof from the merkle module verifies for a leaf in the last partial tile.
    const proof = inclusionProof(leaves, 69_999, 70_000);
    expect(verifyInclusion(leaves[69_999]!, 69_999, 70_000, proof, rootOf(leaves))).toBe(true);
  });

  it('tile paths are written and read as c2sp.org/tlog-tiles says', () => {
    expect(encodeTileIndex(1_234_067)).toBe('x001/x234/067');
    expect(encodeTileIndex(0)).toBe('000');
    expect(tilePath({ level: 0, index: 1_234_067, width: 8 })).toBe('tile/0/x001/x234/067.p/8');
    expect(tilePath({ level: 'entries', index: 5, width: 256 })).toBe('tile/entries/005');
    expect(parseTilePath('0/x001/x234/067.p/8')).toEqual({ level: 0, index: 1_234_067, width: 8 });
    expect(parseTilePath('entries/005')).toEqual({ level: 'entries', index: 5, width: 256 });
    for (const bad of ['0/5', '0/x000/005', '64/000', '0/000.p/256', '0/000.p/0', '01/000', '0/000/', 'x/000']) {
      expect(parseTilePath(bad), bad).toBeNull();
    }
  });
});
