// `kenbaar serve --workers N`: N processes answer on one port against one PostgreSQL database; the
// sequencer, checkpoints and purge run once (in the primary), and the log stays linear and verifies.
// A real process tree (node:cluster cannot run inside the test process); needs DATABASE_URL.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { count, eq } from 'drizzle-orm';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntries, checkpoints } from '../schema/index';
import { verifyAuditLog } from '../src/audit/verify';
import { HubClient } from '../src/client/client';
import { cliContext } from '../src/node/commands/io';
import { serveCommand } from '../src/node/commands/serve';
import { processIo, readSettings } from '../src/node/env';
import { readPrivateKey } from '../src/node/keys';
import { DATABASE_URL, testDatabase } from './support/hub';
import { contact, person } from './support/people';

const BIN = fileURLToPath(new URL('../bin/kenbaar.js', import.meta.url));

describe('serve --workers without PostgreSQL', () => {
  it('is refused with a usage error that says why (PGlite lives in one process)', async () => {
    const settings = cliContext({ ...readSettings({}), databaseUrl: undefined }, processIo());
    await expect(serveCommand(settings, { workers: '2', port: '0' })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/needs a PostgreSQL server/) });
    await expect(serveCommand(settings, { workers: 'two', port: '0' })).rejects.toMatchObject({ exitCode: 2 });
  });
});

describe.skipIf(!DATABASE_URL)('serve --workers 2 (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let dir: string;
  let hub: ChildProcess;
  let output = '';
  let url: string;
  let started: number;

  beforeAll(async () => {
    database = await testDatabase();
    dir = mkdtempSync(join(tmpdir(), 'kenbaar-cluster-'));
    started = Date.now();
    hub = spawn(process.execPath, [BIN, 'serve', '--workers', '2', '--port', '0'], {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'development', DATABASE_URL: database.url!, KENBAAR_LOCAL_DIR: join(dir, 'local'), KENBAAR_KEYS_DIR: join(dir, 'keys'), KENBAAR_DATA_DIR: join(dir, 'data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    hub.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    hub.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        url = m[1]!;
        break;
      }
      if (hub.exitCode !== null || Date.now() > deadline) throw new Error(`the hub did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);

  afterAll(async () => {
    if (hub?.exitCode === null) hub.kill('SIGKILL');
    await database?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const client = (partner: string, role: string) =>
    new HubClient(url, 'urn:kenbaar:hub', { key: { partner, jwk: readPrivateKey(join(dir, 'local', 'private'), partner) as JWK }, sub: `${partner}-user`, role });

  it('answers on one port from two worker processes; timers run once; the log verifies after stop', async () => {
    // The primary's children that run the hub (tsx may have an esbuild service process too).
    const workers = execFileSync('ps', ['--ppid', String(hub.pid), '-o', 'pid=,args='])
      .toString()
      .split('\n')
      .filter((line) => line.includes('kenbaar.js serve'))
      .map((line) => line.trim().split(/\s+/)[0]!);
    expect(workers).toHaveLength(2);

    // Registrations and lookups from many connections at once: both workers write audit entries.
    const vz = client('verslavingszorg', 'partner-system');
    const pr = client('gemeente', 'procesregisseur');
    const people = Array.from({ length: 12 }, () => person());
    await Promise.all(people.map((p) => vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') })));
    const found = await Promise.all(people.map((p) => pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0700')));
    expect(found.every((r) => r.knownBy.map((k) => k.partner).join() === 'verslavingszorg')).toBe(true);
    const family = await pr.lookupFamily(people.slice(0, 4).map((p) => p.subject), 'procesregie-casus-op-maat', 'ZVH-2026-0701');
    expect(family.results).toHaveLength(4);
    const jwks = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };

    // SIGTERM to the primary: the workers finish and exit, then the primary signs one final checkpoint.
    const exited = new Promise<number | null>((resolve) => hub.once('exit', resolve));
    hub.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/final checkpoint signed/);
    expect(() => process.kill(Number(workers[0]), 0)).toThrow(); // the workers are gone too
    expect(() => process.kill(Number(workers[1]), 0)).toThrow();

    const q = database.db;
    // One process loaded the covenant and logged it; one signed checkpoints (the final one, and at
    // most one a minute before it): workers running the timers would each have signed a final one.
    const [loaded] = await q.select({ n: count() }).from(auditEntries).where(eq(auditEntries.action, 'covenant.loaded'));
    expect(loaded!.n).toBe(1);
    const cps = await q.select().from(checkpoints);
    expect(cps.length).toBeGreaterThanOrEqual(1);
    expect(cps.length).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / 60_000));
    const report = await verifyAuditLog(q, jwks.keys);
    expect(report).toMatchObject({ ok: true, unsequenced: 0, problems: [] });
    expect(report.entries).toBe(1 + 12 + 12 + 4);
  }, 90_000);
});
