// Summarise a V8 .cpuprofile (from `npm run bench:lookup -- --profile <dir>`): where the hub's CPU
// time goes, by module and by function (self time), and the total time under chosen functions.
// Samples whose innermost frame is a hand-off (PREEMPTED: a socket write that wakes PostgreSQL, an
// asynchronous signature check queued for the threadpool) are counted apart, not as busy time: the
// sampler finds the main thread there when the scheduler preempted it right after the hand-off,
// not while it used the CPU (the hub's time is ≈ 90 % user time by /proc; BENCHMARKS.md 2026-12-04).
// Usage: tsx bench/profile.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

type Node = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
};
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from the sample stream (timeDeltas are microseconds between samples).
const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
let idle = 0;

function moduleOf(url: string): string {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/work\/main\/(.+)$/.exec(url.replace('file://', ''));
  if (src) return src[1]!;
  return url.startsWith('node:') ? url : url.replace(/^file:\/\//, '');
}

/** Hand-offs after which the main thread is often preempted (see above); the async verify is the hub's default. */
const PREEMPTED = ['writev', 'verifyOneShot'];
let preempted = 0;

const byModule = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const name = n.callFrame.functionName || '(anonymous)';
  if (name === '(idle)') {
    idle += us;
    continue;
  }
  if (PREEMPTED.includes(name)) {
    preempted += us;
    continue;
  }
  const mod = moduleOf(n.callFrame.url);
  byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  const fn = `${name} ${mod}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
}

// Inclusive time under frames whose function name matches (e.g. jwtVerify, safeParse).
const INCLUSIVE = [
  'verifyPartnerToken',
  'jwtVerify',
  'parseSubject',
  'hubPseudonyms',
  'claimTokenId',
  'findActive',
  'appendAudit',
  'integrate',
  'createCheckpoint',
  'safeParseAsync',
  'unitOfWork',
  'processTicksAndRejections',
];
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  if (PREEMPTED.includes(byId.get(id)!.callFrame.functionName)) continue;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const name = byId.get(cur)!.callFrame.functionName;
    if (INCLUSIVE.includes(name) && !seen.has(name)) {
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
}

const busy = total - idle - preempted;
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const show = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(
  `profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s; busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s, ` +
    `preempted after a hand-off (${PREEMPTED.join(', ')}) ${(preempted / 1e6).toFixed(1)} s (percentages of busy time)`,
);
show('self time by module', byModule, top);
show('self time by function', byFunction, top);
show('inclusive time under', inclusive, INCLUSIVE.length);
