// One worker thread of `kenbaar audit verify` on PostgreSQL (started by src/node/audit-hash-pool.ts):
// on a connection of its own, it reads the ranges of `seq` it is sent (rows as arrays, straight from
// the driver: PgDatabase.values) and recomputes their leaves (hashRange, src/audit/verify.ts), and
// hands back the hashes and seqs packed, transferred rather than copied, with the entries whose leaf
// does not match for the main thread to diagnose.
// A bundle entry of its own in the production build (scripts/build.js); from source, started
// through src/node/tsx-worker.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import { hashRange } from '../audit/verify';
import { openPgPool } from '../db/postgres';

export type HashJob = { id: number; from: number; to: number };
export type HashReply = { ready: true } | ({ id: number } & ({ ok: Awaited<ReturnType<typeof hashRange>> } | { error: string }));

const port = parentPort;
if (!port) throw new Error('audit-hash-worker runs in a worker thread');
const pg = openPgPool({ connectionString: (workerData as { url: string }).url, max: 1 });
await pg.pool.query('select 1'); // a connection that cannot be opened fails the start, not a range
const running = new Set<Promise<void>>();

port.on('message', (msg: HashJob | 'close') => {
  if (msg === 'close') {
    void Promise.allSettled(running).then(() => pg.close()).finally(() => port.close());
    return;
  }
  const job = hashRange(pg.values, msg.from, msg.to).then(
    (ok) => port.postMessage({ id: msg.id, ok } satisfies HashReply, [ok.seqs.buffer, ok.hashes.buffer]),
    (e: unknown) => port.postMessage({ id: msg.id, error: e instanceof Error ? e.message : String(e) } satisfies HashReply),
  );
  running.add(job);
  void job.finally(() => running.delete(job));
});
port.postMessage({ ready: true } satisfies HashReply);
