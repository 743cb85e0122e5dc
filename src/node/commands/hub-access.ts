// For the commands that work on the hub itself (serve, audit, purge): its configuration and its
// database, with the embedded database locked to one process at a time.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HubConfig } from '../../config';
import { CovenantError } from '../../covenant/errors';
import type { Database } from '../database';
import type { NodeSettings } from '../env';
import { loadConfig, openHubDatabase, type DevBootstrap } from '../hub';
import { CliError, EXIT_CONFIG } from './exit';

/** loadConfig, with its configuration failures (secrets, keys) as exit code 78. */
export async function loadHubConfig(settings: NodeSettings): Promise<{ config: HubConfig; bootstrap: DevBootstrap }> {
  try {
    return await loadConfig(settings);
  } catch (e) {
    if (e instanceof CovenantError || e instanceof CliError) throw e;
    throw new CliError(EXIT_CONFIG, `configuration: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process per data directory and does not lock it itself: a second process (a second
 * `serve`, or `audit verify` while the hub runs) would corrupt it. So every command that opens the
 * embedded database takes `<dataDir>/kenbaar.lock` first. PostgreSQL needs no such lock.
 */
export function lockDataDir(settings: NodeSettings, what: string): () => void {
  if (settings.databaseUrl) return () => {};
  mkdirSync(settings.dataDir, { recursive: true });
  const path = join(settings.dataDir, 'kenbaar.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n${what}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const [pidText, holder] = readFileSync(path, 'utf8').split('\n');
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new CliError(EXIT_CONFIG, `the database in ${settings.dataDir} is in use by ${holder || 'another kenbaar process'} (pid ${pid}); the embedded PGlite database allows one process at a time: stop it first`);
      }
      rmSync(path, { force: true }); // left behind by a process that is gone
    }
  }
  throw new CliError(EXIT_CONFIG, `could not lock ${path}`);
}

/** Open the hub's database for one command and always close it again. */
export async function withHubDatabase<T>(settings: NodeSettings, what: string, fn: (database: Database) => Promise<T>): Promise<T> {
  const unlock = lockDataDir(settings, what);
  try {
    const database = await openHubDatabase(settings);
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  } finally {
    unlock();
  }
}

export function describeDatabase(settings: NodeSettings): string {
  if (!settings.databaseUrl) return `PGlite in ${settings.dataDir}`;
  const u = new URL(settings.databaseUrl);
  return `PostgreSQL at ${u.host}${u.pathname}`; // never the password
}

