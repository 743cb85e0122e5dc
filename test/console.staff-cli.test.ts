// `kenbaar staff invite | list | revoke`, in-process on the hub's own (PGlite) database: an invite
// prints a one-time link at the console's address; the covenant decides which roles a partner's
// people may hold; revocation is logged and ends the person's sessions.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { collector } from './support/collector';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rowsOf } from '../src/db/types';
import { main } from '../src/node/cli';
import { openDatabase } from '../src/node/database';
import { EXIT_DATA, EXIT_OK } from '../src/node/commands/exit';

const tmp = mkdtempSync(join(tmpdir(), 'kenbaar-staff-'));
const saved = { ...process.env };


/** Run `kenbaar <args>` in this process, with its own streams; stdout and stderr as text. */
async function kenbaar(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = collector();
  const stderr = collector();
  const code = await main(args, { stdin: Readable.from(['']), stdout, stderr, env: process.env });
  return { code, out: stdout.text, err: stderr.text };
}

describe('kenbaar staff (the console\'s people)', () => {
  beforeAll(async () => {
    const seeded = await openDatabase({ pglite: new PGlite(join(tmp, 'data'), { loadDataDir: new Blob([readFileSync(inject('pgliteSnapshot'))]) }) });
    await seeded.close();
    delete process.env.DATABASE_URL;
    Object.assign(process.env, { KENBAAR_LOCAL_DIR: join(tmp, 'local'), KENBAAR_KEYS_DIR: join(tmp, 'keys'), KENBAAR_DATA_DIR: join(tmp, 'data'), KENBAAR_CONSOLE_URL: 'https://kenbaar.zvh.example' });
  });
  afterAll(() => {
    process.env = saved;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('invites, lists and revokes; each step is in the audit log', async () => {
    const invited = await kenbaar('staff', 'invite', '--partner', 'gemeente', '--role', 'privacy-officer', '--name', 'Pieter Jansen', '--email', 'p.jansen@gemeente.example');
    expect(invited.code).toBe(EXIT_OK);
    expect(invited.out).toMatch(/https:\/\/kenbaar\.zvh\.example\/console\/uitnodiging\/[A-Za-z0-9_-]{43}\n/);
    const id = /staff id ([0-9a-f-]{36})/.exec(invited.out)![1]!;

    const listed = await kenbaar('staff', 'list');
    expect(listed.out).toMatch(new RegExp(`${id}\\s+gemeente\\s+privacy-officer\\s+Pieter Jansen\\s+invited`));

    expect((await kenbaar('staff', 'revoke', id)).code).toBe(EXIT_OK);
    expect((await kenbaar('staff', 'list')).out).toMatch(/revoked/);
    const again = await kenbaar('staff', 'revoke', id);
    expect(again.code).toBe(EXIT_DATA);

    const database = await openDatabase({ dataDir: join(tmp, 'data') });
    const log = await rowsOf<{ action: string }>(database.db, sql`select action from audit_entries where action like 'staff.%' order by id`);
    await database.close();
    expect(log.map((e) => e.action)).toEqual(['staff.invited', 'staff.revoked']);
  });

  it('refuses a role the covenant does not give the partner', async () => {
    const r = await kenbaar('staff', 'invite', '--partner', 'politie', '--role', 'zvh-privacy-officer', '--name', 'Niet Toegestaan');
    expect(r.code).toBe(EXIT_DATA);
    expect(r.err).toMatch(/does not hold role "zvh-privacy-officer"/);
  });
});
