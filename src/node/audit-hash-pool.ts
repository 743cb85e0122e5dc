// `kenbaar audit verify` on PostgreSQL: a few worker threads read and hash the entries, each on a
// connection of its own, range by range, while the main thread folds the ranges in seq order into
// the tree and does the checkpoint and diagnosis work (verifyAuditLog, src/audit/verify.ts, which
// gets them as a LeafSource and stays free of node:*). PGlite, one process and one connection, has
// no use for it: there the verifier reads and hashes in its own thread.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { rangedLeaves, type LeafSource, type RangeLeaves } from '../audit/verify';
import type { HashJob, HashReply } from './audit-hash-worker';

export type HashPool = { leaves: LeafSource; threads: number; close(): Promise<void> };

/** Entries per range: one readSequencedLeaves each, as the in-thread verifier's page. */
export const RANGE_SIZE = 10_000;
/** How long a closing thread may take to finish its ranges and close its connection. */
const CLOSE_MS = 5_000;

/**
 * The default pool: one thread per CPU, at least two (one reads while the other hashes), at most 16
 * (each is a connection to the hub's database; the main thread's fold would not keep up with more).
 */
export const defaultHashThreads = (): number => Math.min(16, Math.max(2, availableParallelism()));

/**
 * The worker's module: the compiled one next to this (compiled) file, or from the sources through
 * tsx (src/node/tsx-worker.mjs) when this file is itself TypeScript.
 */
function startWorker(url: string): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  if (!fromSource) return new Worker(new URL('./audit-hash-worker.js', import.meta.url), { workerData: { url } });
  const entry = new URL('./audit-hash-worker.ts', import.meta.url).href;
  return new Worker(new URL('./tsx-worker.mjs', import.meta.url), { workerData: { url, entry } });
}

type Waiter = { resolve: (r: RangeLeaves) => void; reject: (e: Error) => void };

class HashThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  readonly waiting = new Map<number, Waiter>();
  failure: Error | undefined;

  constructor(url: string) {
    this.worker = startWorker(url);
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (msg: HashReply) => {
        if ('ready' in msg) return resolve();
        const waiter = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if ('ok' in msg) waiter?.resolve(msg.ok);
        else waiter?.reject(new Error(msg.error));
      });
      const fail = (e: Error) => {
        this.failure ??= e;
        reject(e);
        for (const w of this.waiting.values()) w.reject(e);
        this.waiting.clear();
      };
      this.worker.on('error', fail);
      this.worker.on('exit', (code) => fail(new Error(`a hashing thread exited (code ${code})`)));
    });
    this.ready.catch(() => {}); // awaited by startHashPool
  }

  run(job: HashJob): Promise<RangeLeaves> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(job.id, { resolve, reject });
      this.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    if (this.failure) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_MS);
    this.worker.postMessage('close');
    await exited;
    clearTimeout(timer);
  }
}

/**
 * `threads` worker threads on the PostgreSQL database at `url`, each with one connection, ready
 * (connected) when this resolves; throws when they cannot be started (the caller then verifies in
 * its own thread). Two ranges per thread are in flight: one read while the other is hashed.
 */
export async function startHashPool(url: string, threads: number, rangeSize = RANGE_SIZE): Promise<HashPool> {
  const pool = Array.from({ length: threads }, () => new HashThread(url));
  const close = () => Promise.all(pool.map((t) => t.close())).then(() => {});
  try {
    await Promise.all(pool.map((t) => t.ready));
  } catch (e) {
    await Promise.all(pool.map((t) => t.worker.terminate()));
    throw e;
  }
  let id = 0;
  const hash = (from: number, to: number) => {
    // The thread with the fewest ranges in flight.
    const thread = pool.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    return thread.run({ id: id++, from, to });
  };
  return { leaves: rangedLeaves(hash, rangeSize, 2 * threads), threads, close };
}
