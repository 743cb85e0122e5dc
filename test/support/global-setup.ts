// Once per test run: a migrated PGlite data directory snapshot, so each test file loads a ready
// database in ~0.6 s instead of creating and migrating one (~2 s); and a fresh production build
// (dist/node, ~0.2 s), which the launcher tests in test/cli.test.ts run as a user would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { buildNode } from '../../scripts/build.js';
import { openDatabase } from '../../src/node/database';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteSnapshot: string;
    /** The same before any migration: a new, empty database (PGlite's initdb is its costly part). */
    pgliteEmptySnapshot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  await buildNode({ quiet: true });
  const dir = mkdtempSync(join(tmpdir(), 'kenbaar-test-'));
  const pglite = new PGlite();
  await pglite.waitReady;
  const empty = join(dir, 'empty.tar.gz');
  writeFileSync(empty, Buffer.from(await (await pglite.dumpDataDir('gzip')).arrayBuffer()));
  const database = await openDatabase({ pglite });
  const dump = await pglite.dumpDataDir('gzip');
  await database.close();
  const file = join(dir, 'migrated.tar.gz');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteSnapshot', file);
  project.provide('pgliteEmptySnapshot', empty);
  return () => rmSync(dir, { recursive: true, force: true });
}
