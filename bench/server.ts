// The hub as the benchmarks run it: its own process (so the load generator does not share its event
// loop), started exactly as `kenbaar serve` would be, from settings read from the environment
// (DATABASE_URL or KENBAAR_DATA_DIR, KENBAAR_KEYS_DIR, KENBAAR_HUB_KEY, ..., PORT=0 for any port).
// `--integrate-ms <n>` changes how often the audit sequencer runs (default: the hub's 1 s).
//
// Protocol with the parent (bench/support.ts `spawnHub`): one JSON line `{"url": ...}` on stdout
// once it listens; to each `stats` line on stdin, one JSON line with the event-loop delay since the
// previous one. It stops (final checkpoint, pool closed) on SIGTERM/SIGINT or when its stdin
// closes, so an orphaned server cannot outlive a crashed benchmark.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { readSettings } from '../src/node/env';
import { loadConfig, logCovenantLoaded, openHubDatabase } from '../src/node/hub';
import { DEFAULT_SCHEDULE, startServer } from '../src/node/serve';

const { values: args } = parseArgs({ options: { 'integrate-ms': { type: 'string' } } });
const settings = readSettings();
const { config } = await loadConfig(settings);
const database = await openHubDatabase(settings);
await logCovenantLoaded(database, config, new Date());
const schedule = { ...DEFAULT_SCHEDULE, ...(args['integrate-ms'] ? { integrateMs: Number(args['integrate-ms']) } : {}) };
const running = await startServer(database, config, { host: settings.host, port: settings.port, schedule });
process.stdout.write(`${JSON.stringify({ url: running.url, db: database.kind, integrateMs: schedule.integrateMs })}\n`);

// How long ready work waited for the event loop: the sequencer's hashing, GC and JSON all show here.
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const ms = (ns: number) => Math.round(ns / 1e4) / 100;

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await running.stop();
    await database.close();
    process.exit(0);
  } catch (e) {
    // The driver's own error (SQLSTATE, message) is the cause of drizzle's "Failed query".
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
    const code = (cause as { code?: unknown }).code;
    console.error(`[bench-server] stop failed: ${cause instanceof Error ? cause.message.slice(0, 300) : String(cause)}${code ? ` (${String(code)})` : ''}`);
    process.exit(1);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim() !== 'stats') return;
  const stats = { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), mean: ms(loop.mean) };
  loop.reset();
  process.stdout.write(`${JSON.stringify({ eventLoopDelayMs: stats })}\n`);
});
input.on('close', stop);
