// The hub as the benchmarks run it: its own process (so the load generator does not share its event
// loop), started exactly as `kenbaar serve` would be, from settings read from the environment
// (DATABASE_URL or KENBAAR_DATA_DIR, KENBAAR_KEYS_DIR, KENBAAR_HUB_KEY, ..., PORT=0 for any port).
//
// Protocol with the parent (bench/support.ts `spawnHub`): one JSON line `{"url": ...}` on stdout
// once it listens; it stops (final checkpoint, pool closed) on SIGTERM/SIGINT or when its stdin
// closes, so an orphaned server cannot outlive a crashed benchmark.
import { readSettings } from '../src/node/env';
import { loadConfig, logCovenantLoaded, openHubDatabase } from '../src/node/hub';
import { startServer } from '../src/node/serve';

const settings = readSettings();
const { config } = await loadConfig(settings);
const database = await openHubDatabase(settings);
await logCovenantLoaded(database, config, new Date());
const running = await startServer(database, config, { host: settings.host, port: settings.port });
process.stdout.write(`${JSON.stringify({ url: running.url, db: database.kind })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await running.stop();
    await database.close();
    process.exit(0);
  } catch (e) {
    console.error(`[bench-server] stop failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
