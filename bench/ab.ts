// A/B of the hub's CPU per lookup between builds, on a machine too loaded for throughput to mean
// anything: each build (a checkout's dist/node, `kenbaar serve` in production mode) gets short
// slices of single lookups in turn, many times over, on one database, so that whatever else runs on
// the machine hits every build alike. Reported per build: hub CPU (user + system, /proc) per lookup
// over all its slices, and the median of its slices; and the same relative to the first build.
// CPU per lookup still includes each hub's share of the sequencer (every hub runs one; whichever
// ticks first sequences everyone's entries), alike for all builds on average.
// Usage: npx tsx bench/ab.ts --roots <checkout>,<checkout>,... [--slices 20] [--seconds 1.5]
//          [--clients 8] [--registrations 20000]   (the first root is the reference; build each first)
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  createBenchDatabase,
  fmt,
  fmtInt,
  HttpClient,
  hubEnv,
  loadBenchCovenant,
  main,
  makeKeys,
  markdownTable,
  partnerPseudonymOf,
  presign,
  processCpu,
  seed,
  sleep,
  spawnServe,
  tempDir,
  writeResults,
} from './support';

const { values: args } = parseArgs({
  options: {
    roots: { type: 'string' },
    slices: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '1.5' },
    clients: { type: 'string', default: '8' },
    registrations: { type: 'string', default: '20000' },
  },
});
const PURPOSE = 'procesregie-casus-op-maat';

main(async () => {
  const roots = (args.roots ?? '').split(',').filter(Boolean);
  if (roots.length < 2) throw new Error('--roots: at least two checkouts, each built (node scripts/build.js)');
  const covenant = loadBenchCovenant();
  const keys = await makeKeys(covenant, await tempDir('ab'));
  const db = await createBenchDatabase('ab');
  const seeded = await seed(db.url, covenant, keys.hubKeys, Number(args.registrations));
  const env = hubEnv(keys, { url: db.url });
  const hubs = [];
  for (const root of roots) hubs.push({ root, name: root.split('/').filter(Boolean).at(-1)!, ...(await spawnServe(env, 1, [], root)) });
  const signer = keys.signing.get('gemeente')!;
  let person = 0;
  let caseNo = 0;
  const clients = Number(args.clients);
  const sliceMs = Number(args.seconds) * 1000;
  const stats = hubs.map(() => ({ cpu: 0, lookups: 0, slices: [] as number[], loads: [] as number[] }));
  // Tokens live 280 s: signed per turn, enough for one slice of each hub.
  for (let s = 0; s < Number(args.slices); s++) {
    const order = hubs.map((_, i) => (i + s) % hubs.length);
    const tokens = await presign(signer, { sub: 'pr-ab', role: 'procesregisseur' }, 3000 * hubs.length);
    let t = 0;
    for (const i of order) {
      const hub = hubs[i]!;
      const http = new HttpClient(hub.url, clients);
      let done = 0;
      const op = async () => {
        const body = JSON.stringify({ subject: partnerPseudonymOf((person = (person * 1103515245 + 12345) % seeded.persons)), purpose: PURPOSE, caseRef: `AB-${++caseNo}` });
        const res = await http.post('/v1/lookups', tokens[t++]!, body);
        if (res.status !== 200) throw new Error(`${hub.name}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      };
      const cpu0 = processCpu(hub.pids[0]!);
      const end = performance.now() + sliceMs;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (performance.now() < end) {
            await op();
            done++;
          }
        }),
      );
      const cpu = processCpu(hub.pids[0]!) - cpu0;
      http.close();
      stats[i]!.cpu += cpu;
      stats[i]!.lookups += done;
      stats[i]!.slices.push((1000 * cpu) / done);
      stats[i]!.loads.push(os.loadavg()[0]!);
      await sleep(200);
    }
    process.stdout.write('.');
  }
  await Promise.all(hubs.map((h) => h.stop()));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = hubs.map((h, i) => {
    const st = stats[i]!;
    return { build: h.name, lookups: st.lookups, cpuMsPerLookup: (1000 * st.cpu) / st.lookups, medianSliceMs: median(st.slices), load1: median(st.loads) };
  });
  const ref = rows[0]!;
  const table = markdownTable(
    ['build', 'lookups', 'hub CPU ms/lookup (all slices)', 'median slice', 'vs the first build', 'load1 (median)'],
    rows.map((r) => [r.build, fmtInt(r.lookups), fmt(r.cpuMsPerLookup, 3), fmt(r.medianSliceMs, 3), `${fmt(r.cpuMsPerLookup - ref.cpuMsPerLookup, 3)} ms (×${fmt(r.cpuMsPerLookup / ref.cpuMsPerLookup, 2)})`, fmt(r.load1, 1)]),
  );
  console.log(`\n\n${table}\n`);
  console.log(`results: ${writeResults('ab', { benchmark: 'ab', setup: args, rows, stats, tables: { table } })}`);
});
