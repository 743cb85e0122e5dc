// `kenbaar db migrate`: apply schema/migrations to a database, without starting a hub. What a deploy
// step runs before a Worker (which never migrates) or a new hub version goes live; `kenbaar serve`
// does the same on every start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../database';
import type { Cli } from './common';
import { describeDatabase, withHubDatabase } from './hub-access';
import { EXIT_OK } from './exit';

export async function dbMigrateCommand(cli: Cli, opts: { url?: string }): Promise<number> {
  const settings = opts.url ? { ...cli.settings, databaseUrl: opts.url } : cli.settings;
  // Opening the hub's database applies every migration it does not have yet, in one transaction.
  await withHubDatabase(settings, 'kenbaar db migrate', async () => {});
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
  cli.write(`${describeDatabase(settings)}: schema up to date (${journal.entries.length} migrations, the last ${journal.entries.at(-1)?.tag ?? '-'})\n`);
  return EXIT_OK;
}
