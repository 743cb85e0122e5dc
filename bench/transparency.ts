// The transparency log's costs, in-process on PGlite (one Node process, as `npm start`):
//   1. receipts: CPU per logged response (the leaf hash at append + the Ed25519 JWS), against the
//      time of a whole lookup measured in the same run with receipts;
//   2. proof serving: GET /v1/audit/proofs/{uid} latency at 16 concurrent clients;
//   3. `audit verify --url` (verifyRemote): entries/s, from hash tiles and from entry bundles;
//   4. witness round trip: checkpoint + consistency proof to a witness over HTTP and back.
// Usage: `npx tsx bench/transparency.ts [--entries 1000000] [--proofs 2000]`.
import os from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createApp } from '../src/app';
import { createCheckpoint } from '../src/audit/checkpoint';
import { entryLeafHash, pendingEntry } from '../src/audit/entry';
import { appendAudit, integrate } from '../src/audit/store';
import { signPartnerToken } from '../src/client/token';
import { buildHubConfig, defaultLogOrigin } from '../src/config';
import { generateLogKeySecret, parseLogKeys } from '../src/log/checkpoint';
import { formatSignerKey, formatVerifierKey, generateSigner, SIG_COSIGNATURE } from '../src/log/note';
import { DEFAULT_MMD_SECONDS, receiptClaims, signReceipt, verifyReceipt, RECEIPT_HEADER, type InlineReceipt } from '../src/log/receipt';
import { verifyRemote } from '../src/log/verifier';
import { submitToWitnesses } from '../src/log/witnessing';
import { openDatabase } from '../src/node/database';
import { startWitness } from '../src/node/commands/witness';
import { generateHubKeySecret, parseHubKeyring, partnerPseudonym } from '../src/pseudonym/index';
import { generateSigningKeySecret, parseSigningKeys } from '../src/signing';
import { fmt, fmtInt, loadBenchCovenant, main, markdownTable, summarise, writeResults } from './support';
import { toBase64Url } from '../src/encoding';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '1000000' },
    proofs: { type: 'string', default: '2000' },
    lookups: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '30' },
  },
});
const ENTRIES = Number(args.entries);

main(async () => {
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
  const witnessDir = mkdtempSync(join(tmpdir(), 'kenbaar-bench-witness-'));
  const wsigner = generateSigner('witness.bench', SIG_COSIGNATURE);
  writeFileSync(join(witnessDir, 'w.key'), formatSignerKey(wsigner));
  const logKeys = parseLogKeys(generateLogKeySecret(origin), origin);
  const witness = await startWitness({ key: join(witnessDir, 'w.key'), log: [formatVerifierKey(logKeys.verifiers[0]!)], state: join(witnessDir, 'state.json'), port: '0' });
  const config = buildHubConfig({
    hubId: 'urn:kenbaar:hub:bench',
    covenant: { ...covenant, witnesses: { quorum: 1, keys: [{ name: 'witness.bench', vkey: witness.vkey, url: witness.url }] } },
    partnerKeys,
    hubKeys: parseHubKeyring(generateHubKeySecret(1)),
    signer: await parseSigningKeys(await generateSigningKeySecret()),
    log: { keys: logKeys, maxMergeDelaySeconds: DEFAULT_MMD_SECONDS },
  });
  const database = await openDatabase({ pglite: new PGlite() });
  const db = database.db;
  const app = createApp(() => ({ config, db, clock: () => new Date() }));
  const token = (partner: string, role: string) =>
    signPartnerToken({ partner, jwk: privateKeys.get(partner)! }, { sub: `${partner}-bench`, role, audience: config.hubId });
  const results: Record<string, unknown> = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, load: os.loadavg() }, entries: ENTRIES };

  // 1. Receipts.
  const ctx = { at: new Date(), requestId: crypto.randomUUID(), actor: { partner: 'gemeente', sub: 'x', role: 'procesregisseur' }, covenantVersion: covenant.version };
  const input = { action: 'lookup' as const, outcome: 'allowed' as const, rule: 'V-1', subject: toBase64Url(new Uint8Array(32)), purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-1', detail: { visible: 3, hidden: 1 } };
  // CPU time (process.cpuUsage) as well as wall time: on a shared, loaded machine the wall clock
  // mostly measures waiting; CPU microseconds are what a receipt costs the hub.
  const cpuUs = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const n = 3000;
  let t = performance.now();
  let c0 = cpuUs();
  for (let i = 0; i < n; i++) entryLeafHash(pendingEntry(ctx, input, crypto.randomUUID()), 0);
  const leafUs = ((performance.now() - t) * 1000) / n;
  const leafCpuUs = (cpuUs() - c0) / n;
  t = performance.now();
  c0 = cpuUs();
  for (let i = 0; i < n; i++) await signReceipt(config.signer, receiptClaims(origin, [{ uid: crypto.randomUUID(), leafHash: new Uint8Array(32) }], new Date(), 600));
  const signUs = ((performance.now() - t) * 1000) / n;
  const signCpuUs = (cpuUs() - c0) / n;
  const lookups: number[] = [];
  let lookupCpuUs = 0;
  const subject = partnerPseudonym(new Uint8Array(32).fill(7), '111222333');
  for (let i = 0; i < Number(args.lookups); i++) {
    const tk = await token('gemeente', 'procesregisseur');
    const s = performance.now();
    const c1 = cpuUs();
    const res = await app.request('http://hub/v1/lookups', {
      method: 'POST',
      headers: { authorization: `Bearer ${tk}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject, purpose: 'procesregie-casus-op-maat', caseRef: `B-${i}` }),
    });
    await res.text();
    lookupCpuUs += cpuUs() - c1;
    lookups.push(performance.now() - s);
    if (i === 0 && !(await verifyReceipt(res.headers.get(RECEIPT_HEADER)!, config.signer.published))) throw new Error('no receipt');
  }
  const lookupMs = summarise(lookups);
  lookupCpuUs /= lookups.length;
  const receiptCpuUs = leafCpuUs + signCpuUs;
  results.receipts = { leafHashUs: leafUs, signUs, leafCpuUs, signCpuUs, lookupMs, lookupCpuUs, cpuShareOfLookup: receiptCpuUs / lookupCpuUs };
  console.log(
    `receipts: CPU ${fmt(leafCpuUs)} µs (leaf) + ${fmt(signCpuUs)} µs (JWS) per response = ${fmt((100 * receiptCpuUs) / lookupCpuUs)} % of a lookup's CPU (${fmt(lookupCpuUs)} µs, hub and PGlite in one process; wall p50 ${fmt(lookupMs.p50, 2)} ms)`,
  );

  // A log of ENTRIES entries.
  t = performance.now();
  const bulk = { at: new Date(), requestId: 'bench', actor: null, covenantVersion: covenant.version };
  for (let done = 0; done < ENTRIES; done += 10_000) {
    await appendAudit(db, bulk, Array.from({ length: Math.min(10_000, ENTRIES - done) }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { i: done + i } })));
    await integrate(db, new Date(), 10_000);
  }
  const firstUids: string[] = [];
  for (let i = 0; i < Number(args.proofs); i++) {
    const res = await app.request('http://hub/v1/lookups', {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('gemeente', 'procesregisseur')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject, purpose: 'procesregie-casus-op-maat', caseRef: `P-${i}` }),
    });
    firstUids.push(((await verifyReceipt(res.headers.get(RECEIPT_HEADER)!, config.signer.published)) as InlineReceipt).entries[0]!.uid);
  }
  const first = await createCheckpoint(db, config, new Date());
  await submitToWitnesses(db, config, first, new Date());
  const fillSeconds = (performance.now() - t) / 1000;
  console.log(`log of ${fmtInt(first.size)} entries built in ${fmt(fillSeconds)} s`);

  // 2. Proofs at 16 clients.
  const proofMs: number[] = [];
  let next = 0;
  t = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= firstUids.length) return;
        const tk = await token('gemeente', 'procesregisseur'); // signed by the client, outside the measured time
        const s = performance.now();
        const res = await app.request(`http://hub/v1/audit/proofs/${firstUids[i]}`, { headers: { authorization: `Bearer ${tk}` } });
        await res.text();
        if (res.status !== 200) throw new Error(`proof ${res.status}`);
        proofMs.push(performance.now() - s);
      }
    }),
  );
  const proofWall = (performance.now() - t) / 1000;
  results.proofs = { clients: 16, count: proofMs.length, perSecond: proofMs.length / proofWall, ms: summarise(proofMs) };
  console.log(`proofs at 16 clients: ${fmt(proofMs.length / proofWall)} /s, p50 ${fmt(summarise(proofMs).p50, 2)} ms, p99 ${fmt(summarise(proofMs).p99, 2)} ms`);

  // 3. The HTTP verifier, in-process fetch (the cost of the verifier and the hub's serving, no sockets).
  const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => app.request(String(input), init)) as typeof fetch;
  const verifyWith = async (withEntries: boolean) => {
    const s = performance.now();
    const report = await verifyRemote({
      url: 'http://hub',
      logKey: logKeys.verifiers[0]!,
      witnesses: [{ name: 'witness.bench', key: wsigner }],
      quorum: 1,
      previous: null,
      fetch: fetchImpl,
      now: new Date(),
      ...(withEntries ? { token: () => token('zorg-en-veiligheidshuis', 'zvh-privacy-officer') } : {}),
    });
    const seconds = (performance.now() - s) / 1000;
    if (!report.ok) throw new Error(JSON.stringify(report.problems));
    return { seconds, entriesPerSecond: report.size / seconds, size: report.size };
  };
  const tilesOnly = await verifyWith(false);
  const withEntries = await verifyWith(true);
  results.verify = { tilesOnly, withEntries };
  console.log(`verify --url over ${fmtInt(tilesOnly.size)}: hash tiles ${fmtInt(tilesOnly.entriesPerSecond)} entries/s; entry bundles rehashed ${fmtInt(withEntries.entriesPerSecond)} entries/s`);

  // 4. Witness round trips (a few new entries each time, so each carries a consistency proof).
  const rounds: number[] = [];
  for (let i = 0; i < Number(args.rounds); i++) {
    await appendAudit(db, bulk, [{ action: 'purge', outcome: 'ok', detail: { round: i } }]);
    const cp = await createCheckpoint(db, config, new Date());
    const s = performance.now();
    const [o] = await submitToWitnesses(db, config, cp, new Date());
    rounds.push(performance.now() - s);
    if (o?.status !== 'cosigned') throw new Error(`witness: ${o?.status}`);
  }
  results.witness = { rounds: rounds.length, ms: summarise(rounds) };
  console.log(`witness round trip (proof, HTTP, verify, store): p50 ${fmt(summarise(rounds).p50, 2)} ms, p99 ${fmt(summarise(rounds).p99, 2)} ms`);

  console.log(
    markdownTable(
      ['measure', 'value'],
      [
        ['receipt CPU per response', `${fmt(receiptCpuUs)} µs (${fmt((100 * receiptCpuUs) / lookupCpuUs)} % of a lookup's ${fmt(lookupCpuUs)} µs CPU)`],
        ['proofs, 16 clients', `${fmt(proofMs.length / proofWall)}/s, p99 ${fmt(summarise(proofMs).p99, 2)} ms`],
        ['audit verify --url (tiles)', `${fmtInt(tilesOnly.entriesPerSecond)} entries/s`],
        ['audit verify --url (entries)', `${fmtInt(withEntries.entriesPerSecond)} entries/s`],
        ['witness round trip', `p50 ${fmt(summarise(rounds).p50, 2)} ms`],
      ],
    ),
  );
  console.log(`results: ${writeResults('transparency', results)}`);
  await witness.stop();
  await database.close();
  rmSync(witnessDir, { recursive: true, force: true });
});
