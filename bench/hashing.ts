// Micro-benchmark: SHA-256 and HMAC-SHA256 as the hub uses them, native (node:crypto, what
// src/hashing.ts picks on Node) against @noble/hashes, alternating in one process so that load from
// other work on the machine hits both alike. Reports CPU µs per operation (process CPU, not wall).
//   npx tsx bench/hashing.ts [operations per round = 200000] [rounds = 3]
import { nobleHashing, hashing, type Hashing } from '../src/hashing';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const node65 = new Uint8Array(65).fill(1); // an interior node: 0x01 || left || right
const leaf = new Uint8Array(400).fill(2); // a typical audit entry's canonical JSON
const key = new Uint8Array(32).fill(3);
const domain = new TextEncoder().encode('kenbaar:v1:hub:');
const pseudonym = new Uint8Array(32).fill(4);

const cases: [string, (h: Hashing) => unknown][] = [
  ['SHA-256, 65 B (tree node)', (h) => h.sha256(node65)],
  ['SHA-256, 0x00 + 400 B (leaf)', (h) => h.sha256(new Uint8Array([0]), leaf)],
  ['HMAC-SHA256, 15 + 32 B (hub pseudonym)', (h) => h.hmacSha256(key, domain, pseudonym)],
];

function cpuPerOp(fn: () => unknown): number {
  for (let i = 0; i < 5000; i++) fn();
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

console.log(`native implementation in use: ${hashing.name}; ${N} operations per round, ${ROUNDS} rounds`);
for (const [name, op] of cases) {
  const native: number[] = [];
  const noble: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    native.push(cpuPerOp(() => op(hashing)));
    noble.push(cpuPerOp(() => op(nobleHashing)));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${name.padEnd(40)} native ${med(native).toFixed(2).padStart(6)} µs  noble ${med(noble).toFixed(2).padStart(6)} µs  (median of ${ROUNDS})  native/noble ${(med(native) / med(noble)).toFixed(2)}`);
}
