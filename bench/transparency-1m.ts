// The transparency log at scale, on PostgreSQL (DATABASE_URL, default the local server), the hub in
// this process behind a real HTTP socket:
//   0. a log of N entries (default 1,000,000; lookup-like rows written in SQL), sequenced by the
//      real sequencer (integrate), checkpointed and cosigned by a witness on 127.0.0.1;
//   1. `audit verify` against the database (verifyAuditLog): entries/s;
//   2. `audit verify --url` (verifyRemote over HTTP): entries/s from hash tiles, and rehashing
//      every entry from the entry bundles;
//   3. proof serving: GET /v1/audit/proofs/{uid} at 16 concurrent clients, p50/p99;
//   4. witness round trip: a new checkpoint with its consistency proof to the witness and back;
//   5. receipts on the lookup path: the same lookups through an app with and one without receipts,
//      alternating, CPU µs per lookup in this process (hub side; PostgreSQL's share is the same).
// The load average is recorded with every phase: on a shared machine, read the wall times with it.
// Usage: `npx tsx bench/transparency-1m.ts [--entries 1000000] [--proofs 2000] [--lookups 600]`.
import os from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createApp } from '../src/app';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit, integrate } from '../src/audit/store';
import { verifyAuditLog } from '../src/audit/verify';
import { signPartnerToken } from '../src/client/token';
import { buildHubConfig, defaultLogOrigin } from '../src/config';
import { rowsOf } from '../src/db/types';
import { generateLogKeySecret, parseLogKeys } from '../src/log/checkpoint';
import { formatSignerKey, formatVerifierKey, generateSigner, SIG_COSIGNATURE } from '../src/log/note';
import { DEFAULT_MMD_SECONDS, RECEIPT_HEADER } from '../src/log/receipt';
import { verifyRemote } from '../src/log/verifier';
import { submitToWitnesses } from '../src/log/witnessing';
import { startWitness } from '../src/node/commands/witness';
import { openDatabase } from '../src/node/database';
import { startServer } from '../src/node/serve';
import { generateHubKeySecret, parseHubKeyring, partnerPseudonym } from '../src/pseudonym/index';
import { generateSigningKeySecret, parseSigningKeys } from '../src/signing';
import { sql } from 'drizzle-orm';
import { createBenchDatabase, fmt, fmtInt, loadBenchCovenant, machine, main, markdownTable, onCleanup, summarise, writeResults } from './support';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    proofs: { type: 'string', default: '2000' },
    lookups: { type: 'string', default: '600' },
    rounds: { type: 'string', default: '30' },
  },
});
const ENTRIES = Number(args.entries);
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

main(async () => {
  const results: Record<string, unknown> = { machine: await machine(), entries: ENTRIES };
  const covenant = loadBenchCovenant();
  const origin = defaultLogOrigin(covenant.id);
  const partnerKeys = new Map<string, { keys: JWK[] }>();
  const privateKeys = new Map<string, JWK>();
  for (const p of covenant.partners.keys()) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = `${p}-bench`;
    partnerKeys.set(p, { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] });
    privateKeys.set(p, { ...(await exportJWK(privateKey)), kid, alg: 'ES256' });
  }
  const token = (partner: string, role: string) => signPartnerToken({ partner, jwk: privateKeys.get(partner)! }, { sub: `${partner}-bench`, role, audience: 'urn:kenbaar:hub:bench' });

  const witnessDir = mkdtempSync(join(os.tmpdir(), 'kenbaar-bench-witness-'));
  onCleanup(() => rmSync(witnessDir, { recursive: true, force: true }));
  const wsigner = generateSigner('witness.bench', SIG_COSIGNATURE);
  writeFileSync(join(witnessDir, 'w.key'), formatSignerKey(wsigner));
  const logKeys = parseLogKeys(generateLogKeySecret(origin), origin);
  const witness = await startWitness({ key: join(witnessDir, 'w.key'), log: [formatVerifierKey(logKeys.verifiers[0]!)], state: join(witnessDir, 'state.json'), port: '0' });
  onCleanup(() => witness.stop());
  const config = buildHubConfig({
    hubId: 'urn:kenbaar:hub:bench',
    covenant: { ...covenant, witnesses: { quorum: 1, keys: [{ name: 'witness.bench', vkey: witness.vkey, url: witness.url }] } },
    partnerKeys,
    hubKeys: parseHubKeyring(generateHubKeySecret(1)),
    signer: await parseSigningKeys(await generateSigningKeySecret()),
    log: { keys: logKeys, maxMergeDelaySeconds: DEFAULT_MMD_SECONDS, witnessTimeoutMs: 60_000 },
  });
  const bench = await createBenchDatabase('tlog');
  const database = await openDatabase({ url: bench.url, max: 20, timeouts: { statementMs: 0 } });
  onCleanup(() => database.close());
  const db = database.db;
  const quiet = () => {};

  // 0. The log: lookup-like rows in SQL (100k per statement), then the real sequencer.
  let t = performance.now();
  const partners = [...covenant.partners.keys()];
  for (let done = 0; done < ENTRIES; done += 100_000) {
    await db.execute(sql`
      insert into audit_entries (uid, at, request_id, actor_partner, actor_sub, actor_role, action, subject, purpose, case_ref, outcome, rule, covenant_version, detail)
      select gen_random_uuid()::text, date_trunc('milliseconds', now()) - make_interval(secs => ${ENTRIES}::int - g), 'bench-' || g,
             (${JSON.stringify(partners)}::jsonb)->>(g % ${partners.length}::int), 'prof-' || (g % 997), 'professional', 'lookup',
             translate(rtrim(encode(sha256(('subject ' || (g % 200000))::bytea), 'base64'), '='), '+/', '-_'),
             'procesregie-casus-op-maat', 'ZVH-' || g, 'allowed', 'V-1', ${covenant.version}::text,
             jsonb_build_object('visible', g % 4, 'hidden', g % 2)
        from generate_series(${done}::int, ${Math.min(ENTRIES, done + 100_000) - 1}::int) as g`);
  }
  const insertSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  for (;;) {
    const r = await integrate(db, new Date(), 20_000);
    if (r.integrated === 0) break;
  }
  const sequenceSeconds = (performance.now() - t) / 1000;
  // As autovacuum would have by now on a live database: without statistics the seq-range reads
  // (pages, tiles) are planned blind after a million inserts and updates.
  await db.execute(sql`vacuum analyze audit_entries`);
  await db.execute(sql`analyze log_subtrees`);
  t = performance.now();
  const first = await createCheckpoint(db, config, new Date());
  const [cosigned] = await submitToWitnesses(db, config, first, new Date());
  if (cosigned?.status !== 'cosigned') throw new Error(`witness: ${cosigned?.status} ${cosigned?.detail}`);
  results.build = { insertSeconds, sequenceSeconds, sequencedPerSecond: ENTRIES / sequenceSeconds, checkpointSeconds: (performance.now() - t) / 1000, load: load() };
  console.log(`log of ${fmtInt(first.size)} entries: insert ${fmt(insertSeconds)} s, sequencer ${fmtInt(ENTRIES / sequenceSeconds)} entries/s (load ${load().join(' ')})`);

  // 1. audit verify, against the database.
  t = performance.now();
  const c0 = cpuUs();
  const dbReport = await verifyAuditLog(db, config.signer.published, undefined, { origin, keys: logKeys.verifiers });
  const dbSeconds = (performance.now() - t) / 1000;
  if (!dbReport.ok) throw new Error(JSON.stringify(dbReport.problems.slice(0, 3)));
  results.verifyDatabase = { seconds: dbSeconds, entriesPerSecond: dbReport.entries / dbSeconds, cpuSeconds: (cpuUs() - c0) / 1e6, load: load() };
  console.log(`audit verify (database): ${fmtInt(dbReport.entries / dbSeconds)} entries/s (${fmt(dbSeconds)} s; load ${load().join(' ')})`);

  // The hub behind a socket, as `kenbaar serve` (no background jobs: the bench drives them).
  const running = await startServer(database, config, { host: '127.0.0.1', port: 0, background: false, accessLog: false, log: quiet });
  onCleanup(async () => {
    await running.stop();
  });

  // 2. audit verify --url.
  const verifyWith = async (withEntries: boolean) => {
    const s = performance.now();
    const c = cpuUs();
    const report = await verifyRemote({
      url: running.url,
      logKey: logKeys.verifiers[0]!,
      witnesses: [{ name: 'witness.bench', key: wsigner }],
      quorum: 1,
      previous: null,
      fetch,
      now: new Date(),
      ...(withEntries ? { token: () => token('zorg-en-veiligheidshuis', 'zvh-privacy-officer') } : {}),
    });
    const seconds = (performance.now() - s) / 1000;
    if (!report.ok) throw new Error(JSON.stringify(report.problems));
    return { seconds, entriesPerSecond: report.size / seconds, size: report.size, rehashed: report.entriesRehashed, cpuSeconds: (cpuUs() - c) / 1e6, load: load() };
  };
  const tilesOnly = await verifyWith(false);
  console.log(`audit verify --url, hash tiles: ${fmtInt(tilesOnly.entriesPerSecond)} entries/s (${fmt(tilesOnly.seconds)} s; load ${tilesOnly.load.join(' ')})`);
  const withEntries = await verifyWith(true);
  console.log(`audit verify --url, entry bundles rehashed: ${fmtInt(withEntries.entriesPerSecond)} entries/s (${fmt(withEntries.seconds)} s; load ${withEntries.load.join(' ')})`);
  results.verifyUrl = { tilesOnly, withEntries, note: 'hub and verifier in one process, over a 127.0.0.1 socket' };

  // 3. Proofs at 16 clients, for entries all over the log.
  const uids = (await rowsOf<{ uid: string }>(db, sql`select a.uid from audit_log l join audit_entries a on a.id = l.entry_id where l.seq < ${first.size} order by random() limit ${Number(args.proofs)}`)).map((r) => r.uid);
  const tokens = await Promise.all(uids.map(() => token('zorg-en-veiligheidshuis', 'zvh-privacy-officer')));
  const proofMs: number[] = [];
  let next = 0;
  t = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= uids.length) return;
        const s = performance.now();
        const res = await fetch(`${running.url}/v1/audit/proofs/${uids[i]}`, { headers: { authorization: `Bearer ${tokens[i]}` } });
        await res.text();
        if (res.status !== 200) throw new Error(`proof ${res.status}`);
        proofMs.push(performance.now() - s);
      }
    }),
  );
  const proofWall = (performance.now() - t) / 1000;
  results.proofs = { clients: 16, count: proofMs.length, perSecond: proofMs.length / proofWall, ms: summarise(proofMs), load: load() };
  console.log(`proofs at 16 clients: ${fmt(proofMs.length / proofWall)}/s, p50 ${fmt(summarise(proofMs).p50, 2)} ms, p99 ${fmt(summarise(proofMs).p99, 2)} ms (load ${load().join(' ')})`);

  // 4. Witness round trips: a few new entries each time, so each carries a consistency proof.
  const rounds: number[] = [];
  const bulk = { at: new Date(), requestId: 'bench', actor: null, covenantVersion: covenant.version };
  for (let i = 0; i < Number(args.rounds); i++) {
    await appendAudit(db, bulk, [{ action: 'purge', outcome: 'ok', detail: { round: i } }]);
    const cp = await createCheckpoint(db, config, new Date());
    const s = performance.now();
    const [o] = await submitToWitnesses(db, config, cp, new Date());
    rounds.push(performance.now() - s);
    if (o?.status !== 'cosigned') throw new Error(`witness: ${o?.status}`);
  }
  results.witness = { rounds: rounds.length, ms: summarise(rounds), load: load() };
  console.log(`witness round trip: p50 ${fmt(summarise(rounds).p50, 2)} ms, p99 ${fmt(summarise(rounds).p99, 2)} ms (load ${load().join(' ')})`);

  // 5. Receipts on the lookup path: two apps over the same database, alternating blocks of lookups.
  const withReceipts = createApp(() => ({ config, db, raw: database.raw, clock: () => new Date(), log: quiet }));
  const without = createApp(() => ({ config, db, raw: database.raw, clock: () => new Date(), log: quiet }), { receipts: false });
  const subject = partnerPseudonym(new Uint8Array(32).fill(7), '111222333');
  const lookup = async (app: typeof without, tk: string, i: number) => {
    const res = await app.request('http://hub/v1/lookups', {
      method: 'POST',
      headers: { authorization: `Bearer ${tk}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject, purpose: 'procesregie-casus-op-maat', caseRef: `R-${i}` }),
    });
    await res.text();
    if (res.status !== 200) throw new Error(`lookup ${res.status}`);
    return res.headers.has(RECEIPT_HEADER);
  };
  const perArm = { on: { cpu: 0, ms: [] as number[] }, off: { cpu: 0, ms: [] as number[] } };
  const BLOCK = 50;
  const lookups = Number(args.lookups);
  for (let block = 0; block < (2 * lookups) / BLOCK; block++) {
    const arm = block % 2 === 0 ? 'on' : 'off';
    const app = arm === 'on' ? withReceipts : without;
    const tks = await Promise.all(Array.from({ length: BLOCK }, () => token('gemeente', 'procesregisseur')));
    for (let i = 0; i < BLOCK; i++) {
      const s = performance.now();
      const c = cpuUs();
      const had = await lookup(app, tks[i]!, block * BLOCK + i);
      perArm[arm].cpu += cpuUs() - c;
      perArm[arm].ms.push(performance.now() - s);
      if (had !== (arm === 'on')) throw new Error('receipt header present where it should not be, or missing');
    }
  }
  const onCpu = perArm.on.cpu / perArm.on.ms.length;
  const offCpu = perArm.off.cpu / perArm.off.ms.length;
  results.receipts = {
    lookupsPerArm: perArm.on.ms.length,
    withReceipts: { cpuUs: onCpu, ms: summarise(perArm.on.ms) },
    withoutReceipts: { cpuUs: offCpu, ms: summarise(perArm.off.ms) },
    cpuShare: (onCpu - offCpu) / offCpu,
    load: load(),
  };
  console.log(
    `receipts: ${fmt(onCpu)} µs CPU per lookup with, ${fmt(offCpu)} µs without (+${fmt((100 * (onCpu - offCpu)) / offCpu)} %); wall p50 ${fmt(summarise(perArm.on.ms).p50, 2)} vs ${fmt(summarise(perArm.off.ms).p50, 2)} ms (load ${load().join(' ')})`,
  );

  console.log(
    markdownTable(
      ['measure', 'value'],
      [
        ['log built', `${fmtInt(ENTRIES)} entries; sequencer ${fmtInt(ENTRIES / sequenceSeconds)} entries/s`],
        ['audit verify (database)', `${fmtInt(dbReport.entries / dbSeconds)} entries/s`],
        ['audit verify --url (hash tiles)', `${fmtInt(tilesOnly.entriesPerSecond)} entries/s`],
        ['audit verify --url (entry bundles)', `${fmtInt(withEntries.entriesPerSecond)} entries/s`],
        ['proofs, 16 clients', `${fmt(proofMs.length / proofWall)}/s, p50 ${fmt(summarise(proofMs).p50, 2)} ms, p99 ${fmt(summarise(proofMs).p99, 2)} ms`],
        ['witness round trip', `p50 ${fmt(summarise(rounds).p50, 2)} ms, p99 ${fmt(summarise(rounds).p99, 2)} ms`],
        ['receipts, CPU per lookup', `${fmt(onCpu)} vs ${fmt(offCpu)} µs (+${fmt((100 * (onCpu - offCpu)) / offCpu)} %)`],
      ],
    ),
  );
  console.log(`results: ${writeResults('transparency-1m', results)}`);
});
