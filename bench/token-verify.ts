// Micro-benchmark: verifying one partner token, ES256 vs EdDSA, jose's WebCrypto path (the signature
// check runs on libuv's threadpool) vs a synchronous node:crypto verify (all on the main thread).
// Per verify: wall time, main-thread CPU (what the hub's single event loop pays) and process CPU
// (main thread + threadpool). node:crypto's verify with a callback runs on the threadpool too. Sequential (c=1) and 16 at a time. Linux only (reads /proc).
//   npx tsx bench/token-verify.ts [iterations]
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { signPartnerToken } from '../src/client/token';
import { fromBase64Url } from '../src/encoding';

const N = Number(process.argv[2] ?? 20_000);
const AUD = 'urn:kenbaar:hub:bench';

type Case = { alg: 'ES256' | 'EdDSA'; token: string; publicJwk: JWK };

async function makeCase(alg: 'ES256' | 'EdDSA'): Promise<Case> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `bench-${alg}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const token = await signPartnerToken({ partner: 'gemeente', jwk: privateJwk }, { sub: 'pr', role: 'procesregisseur', audience: AUD, lifetimeSeconds: 300 });
  return { alg, token, publicJwk };
}

function nativeVerifier(c: Case, threadpool: boolean): () => boolean | Promise<boolean> {
  const key: KeyObject = createPublicKey({ key: c.publicJwk as never, format: 'jwk' });
  const digest = c.alg === 'ES256' ? 'sha256' : null;
  const keyInput = c.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  return () => {
    const dot = c.token.lastIndexOf('.');
    const data = Buffer.from(c.token.slice(0, dot));
    const sig = fromBase64Url(c.token.slice(dot + 1));
    if (!threadpool) return nodeVerify(digest, data, keyInput, sig);
    return new Promise((resolve, reject) => nodeVerify(digest, data, keyInput, sig, (err, ok) => (err ? reject(err) : resolve(ok))));
  };
}

/** CPU time of the main thread alone (Linux: its /proc task entry; utime + stime in clock ticks of 10 ms). */
function mainThreadCpuMs(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measure(name: string, fn: () => unknown, concurrency: number): Promise<void> {
  for (let i = 0; i < 500; i++) await fn();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < N; i += concurrency) await Promise.all(Array.from({ length: concurrency }, () => fn()));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuUs = (cpu.user + cpu.system) / N;
  const mainUs = ((mainThreadCpuMs() - main0) * 1000) / N;
  console.log(
    `${name.padEnd(38)} c=${String(concurrency).padEnd(3)} ${((wall * 1000) / N).toFixed(1).padStart(6)} µs wall  ${mainUs.toFixed(1).padStart(6)} µs main-thread CPU  ${cpuUs.toFixed(1).padStart(6)} µs process CPU  per verify`,
  );
}

const cases = [await makeCase('ES256'), await makeCase('EdDSA')];
for (const c of cases) {
  const set = createLocalJWKSet({ keys: [c.publicJwk] });
  const jose = () => jwtVerify(c.token, set, { algorithms: [c.alg], audience: AUD, issuer: 'gemeente' });
  const native = nativeVerifier(c, false);
  const pooled = nativeVerifier(c, true);
  if (!native() || !(await pooled())) throw new Error('native verify failed');
  for (const conc of [1, 16]) {
    await measure(`jose jwtVerify (WebCrypto) ${c.alg}`, jose, conc);
    await measure(`node:crypto verify (sync) ${c.alg}`, native, conc);
    await measure(`node:crypto verify (callback) ${c.alg}`, pooled, conc);
  }
}
