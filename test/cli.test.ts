// The `kenbaar` command as a user runs it: a separate process through bin/kenbaar.js, started from
// another working directory, judged by exit code, stdout and stderr.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadCovenantDir } from '../src/node/covenant-fs';
import { openDatabase } from '../src/node/database';
import { EXIT_DATA, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from '../src/node/cli';
import { toBase64Url } from '../src/encoding';
import { partnerPseudonym } from '../src/pseudonym/index';
import { purge } from '../src/retention/purge';

const BIN = fileURLToPath(new URL('../bin/kenbaar.js', import.meta.url));
const COVENANT_DIR = fileURLToPath(new URL('../policies/zvh-demo', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'kenbaar-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const COVENANT_KEY = new Uint8Array(32).map((_, i) => 255 - i * 3);

/** A child environment that touches nothing of the repository: every directory is a temp one. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'DATABASE_URL' || k.startsWith('KENBAAR_') || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  return {
    ...env,
    KENBAAR_LOCAL_DIR: join(tmp, 'local'),
    KENBAAR_KEYS_DIR: join(tmp, 'keys'),
    KENBAAR_DATA_DIR: join(tmp, 'data'),
    KENBAAR_COVENANT_KEY: toBase64Url(COVENANT_KEY),
    ...extra,
  };
}

type Run = { code: number | null; stdout: string; stderr: string };

function kenbaar(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // cwd: a directory outside the repository, to prove the launcher does not depend on it.
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: cliEnv(opts.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

describe.concurrent('kenbaar CLI', () => {
  it('--help exits 0 and lists the commands and the exit codes', async () => {
    const r = await kenbaar(['--help']);
    expect(r.code).toBe(EXIT_OK);
    for (const command of ['serve', 'token', 'policy', 'keys', 'pseudonymise', 'register', 'lookup', 'matches', 'audit', 'purge', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toMatch(/65\s+invalid input data/);
  });

  it('an unknown command is a usage error: exit 2', async () => {
    const r = await kenbaar(['frobnicate']);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stdout).toBe('');
  });

  it('policy check validates the covenant and prints its version and the visibility matrix', async () => {
    const r = await kenbaar(['policy', 'check', '--dir', COVENANT_DIR]);
    expect(r.code).toBe(EXIT_OK);
    const covenant = loadCovenantDir(COVENANT_DIR);
    expect(r.stdout).toContain(covenant.id);
    expect(r.stdout).toContain(covenant.version);
    expect(r.stdout).toMatch(/^procesregie-casus-op-maat: /m);
    expect(r.stdout).toMatch(/^gemeente\/procesregisseur \(P-PR-01\)\s+—\s+✓/m);
  });

  it('policy check on a broken covenant exits 65 and names the file and the path', async () => {
    const dir = join(tmp, 'broken-covenant');
    cpSync(COVENANT_DIR, dir, { recursive: true });
    const purposes = join(dir, 'purposes.yaml');
    writeFileSync(purposes, readFileSync(purposes, 'utf8').replace('partner: woningcorporatie', 'partner: woningcorperatie'));
    const r = await kenbaar(['policy', 'check', '--dir', dir]);
    expect(r.code).toBe(EXIT_DATA);
    expect(r.stderr).toMatch(/purposes\.yaml: purposes\[\d+\]\.requesters\[\d+\]\.partner: unknown partner "woningcorperatie"/);
    expect(r.stdout).toBe('');
  });

  it('pseudonymise prints the 43-character partner pseudonym of a valid BSN', async () => {
    const r = await kenbaar(['pseudonymise'], { input: '111222333\n1112.22.333\n' });
    expect(r.code).toBe(EXIT_OK);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([partnerPseudonym(COVENANT_KEY, '111222333'), partnerPseudonym(COVENANT_KEY, '111222333')]);
    expect(lines[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('pseudonymise with an invalid BSN exits 65, names the line, never echoes it and writes nothing', async () => {
    const r = await kenbaar(['pseudonymise', '-'], { input: '111222333\n123456789\n' });
    expect(r.code).toBe(EXIT_DATA);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('line 2');
    expect(r.stderr).toContain('elfproef');
    expect(r.stderr).not.toContain('123456789');
  });

  it('audit verify exits 0 on an intact log (temp PGlite data dir) and 1 once an entry is altered', async () => {
    // A data directory from the migrated snapshot, with one real audit entry (a purge run) in it.
    const dataDir = join(tmp, 'data');
    const seeded = await openDatabase({ pglite: new PGlite(dataDir, { loadDataDir: new Blob([readFileSync(inject('pgliteSnapshot'))]) }) });
    await purge(seeded.db, loadCovenantDir(COVENANT_DIR), new Date());
    await seeded.close();

    const cp = await kenbaar(['audit', 'checkpoint']);
    expect(cp.stderr).toBe('');
    expect(cp.code).toBe(EXIT_OK);
    expect(cp.stdout).toMatch(/size\s+1 entries/);

    const ok = await kenbaar(['audit', 'verify']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(EXIT_OK);
    expect(ok.stdout).toMatch(/entries\s+1 sequenced/);
    expect(ok.stdout).toMatch(/checkpoints\s+1 signed/);

    const database = await openDatabase({ dataDir });
    await database.db.execute(sql`update audit_entries set outcome = 'denied' where seq = 0`);
    await database.close();
    const bad = await kenbaar(['audit', 'verify', '--json']);
    expect(bad.code).toBe(EXIT_PROBLEMS);
    const report = JSON.parse(bad.stdout) as { ok: boolean; problems: { kind: string; seq: number | null }[] };
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'altered', seq: 0 });
  });
});
