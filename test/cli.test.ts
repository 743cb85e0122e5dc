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
import { HubClient } from '../src/client/client';
import { loadCovenantDir } from '../src/node/covenant-fs';
import { openDatabase } from '../src/node/database';
import { EXIT_DATA, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE } from '../src/node/cli';
import { demoClock } from '../src/node/demo';
import { readSettings } from '../src/node/env';
import { loadConfig } from '../src/node/hub';
import { readPrivateKey } from '../src/node/keys';
import { startServer } from '../src/node/serve';
import { toBase64Url } from '../src/encoding';
import { generateTestBsn, partnerPseudonym } from '../src/pseudonym/index';
import { purge } from '../src/retention/purge';
import { testDatabase } from './support/hub';

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
    for (const command of ['serve', 'token', 'policy', 'keys', 'pseudonymise', 'register', 'lookup', 'matches', 'disclose', 'audit', 'purge', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    expect(r.stdout).toContain('Exit codes:');
    expect(r.stdout).toMatch(/65\s+invalid input data/);
  });

  it('disclose --help lists its subcommands and says what exit 1 means for overdue', async () => {
    const r = await kenbaar(['disclose', '--help']);
    expect(r.code).toBe(EXIT_OK);
    for (const sub of ['request', 'list', 'show', 'decide', 'respond', 'fetch', 'overdue']) expect(r.stdout).toMatch(new RegExp(`^  ${sub}\\b`, 'm'));
    expect(r.stdout).toContain('policies/zvh-demo/disclosure.yaml');
    expect(r.stdout).toMatch(/break-glass reviews are overdue \(disclose overdue\)/);
  });

  it('disclose refuses bad input before anything is sent: no decision, an invalid BSN', async () => {
    const noDecision = await kenbaar(['disclose', 'decide', crypto.randomUUID(), '--as', 'zorg-en-veiligheidshuis', '--role', 'informatiemakelaar']);
    expect(noDecision.code).toBe(EXIT_USAGE);
    expect(noDecision.stderr).toContain('exactly one of --approve or --reject');
    const badBsn = await kenbaar([
      'disclose', 'request', '123456789', '--as', 'gemeente', '--role', 'procesregisseur', '--holder', 'verslavingszorg', '--purpose', 'procesregie-casus-op-maat',
      '--legal-basis', 'uavg-30-33', '--categories', 'behandelrelatie', '--case-ref', 'Z-1', '--justification', 'x'.repeat(50), '--url', 'http://127.0.0.1:9',
    ]);
    expect(badBsn.code).toBe(EXIT_DATA);
    expect(badBsn.stderr).toContain('nothing was sent');
    expect(badBsn.stderr).not.toContain('123456789');
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
    expect(ok.stdout).toMatch(/entries\s+1 verified against the signed checkpoints/);
    expect(ok.stdout).toMatch(/checkpoints\s+1 signed/);

    const database = await openDatabase({ dataDir });
    // As an attacker with superuser rights would: past the append-only trigger.
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update audit_entries set outcome = 'denied' where seq = 0`);
    });
    await database.close();
    const bad = await kenbaar(['audit', 'verify', '--json']);
    expect(bad.code).toBe(EXIT_PROBLEMS);
    const report = JSON.parse(bad.stdout) as { ok: boolean; problems: { kind: string; seq: number | null }[] };
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'altered', seq: 0 });
  });
});

// The disclose commands against a real hub in this process (its dev keys bootstrapped into a temp
// directory the CLI shares): request, four eyes, respond (offline grant check), fetch and decrypt,
// and `disclose overdue` as a monitoring check (exit 1 while a break-glass review is overdue).
describe('kenbaar disclose against a running hub', () => {
  const env = { KENBAAR_LOCAL_DIR: join(tmp, 'disclose-local'), KENBAAR_KEYS_DIR: join(tmp, 'disclose-keys') };
  const JUSTIFICATION = 'Noodzakelijk om het veiligheidsplan af te stemmen; alleen behandelrelatie en contact, geen inhoud; moeder zelf lukte niet.';
  const run = (args: string[]) => kenbaar(['disclose', ...args, '--url', url], { env });
  let url = '';
  let stop: () => Promise<void> = async () => {};

  afterAll(() => stop());

  it('request, decide twice, respond, fetch; then overdue exits 1 until the break-glass is reviewed', async () => {
    const settings = readSettings({ ...env, KENBAAR_COVENANT_DIR: COVENANT_DIR });
    const { config } = await loadConfig(settings); // creates the hub's and every partner's dev keys
    const database = await testDatabase();
    const clock = demoClock();
    const running = await startServer(database, config, { host: '127.0.0.1', port: 0, clock });
    url = running.url;
    stop = async () => {
      await running.stop();
      await database.close();
    };
    const as = (partner: string, role: string) => new HubClient(url, config.hubId, { key: { partner, jwk: readPrivateKey(settings.privateDir, partner) }, sub: `${partner}-test`, role }, fetch, clock);
    const bsn = generateTestBsn(Math.random);
    const subject = partnerPseudonym(COVENANT_KEY, bsn);
    await as('verslavingszorg', 'partner-system').register({ subject, category: 'verslavingszorg-behandeling', contact: { function: 'Intake', email: 'intake@vz.example' } });

    const req = await run([
      'request', bsn, '--as', 'gemeente', '--role', 'procesregisseur', '--holder', 'verslavingszorg', '--purpose', 'procesregie-casus-op-maat',
      '--legal-basis', 'uavg-30-33', '--categories', 'behandelrelatie,contactgegevens-behandelaar', '--case-ref', 'ZVH-CLI-1', '--justification', JUSTIFICATION,
    ]);
    expect(req.stderr).toBe('');
    expect(req.code).toBe(EXIT_OK);
    expect(req.stdout).toMatch(/status\s+pending \(2 approval\(s\) needed\)/);
    expect(req.stdout).toContain('DX-PR-01 (disclosure, art. 15a)');
    expect(req.stdout).not.toContain(bsn);
    const id = /^Disclosure request ([0-9a-f-]{36})$/m.exec(req.stdout)![1]!;

    const early = await run(['respond', id, '--as', 'verslavingszorg', '--text', 'te vroeg']);
    expect(early.code).toBe(3); // not yet approved: the holder cannot even see it
    const broker = ['decide', id, '--as', 'zorg-en-veiligheidshuis', '--role', 'informatiemakelaar', '--approve'];
    const first = await run([...broker, '--sub', 'im-een']);
    expect(first.code).toBe(EXIT_OK);
    expect(first.stdout).toMatch(/status\s+pending: 2 approvals/);
    const second = await run([...broker, '--sub', 'im-twee', '--json']);
    expect(second.code).toBe(EXIT_OK);
    expect(JSON.parse(second.stdout)).toMatchObject({ request: { status: 'approved' }, grant: { categories: ['behandelrelatie', 'contactgegevens-behandelaar'] } });

    const answer = 'Mevrouw is in ambulante behandeling; behandelaar J. Smit, j.smit@verslavingszorg.example.';
    const respond = await run(['respond', id, '--as', 'verslavingszorg', '--text', answer]);
    expect(respond.stderr).toBe('');
    expect(respond.code).toBe(EXIT_OK);
    expect(respond.stdout).toMatch(/^Grant [0-9a-f-]{36} verified offline/m);
    expect(respond.stdout).toContain('categories   behandelrelatie, contactgegevens-behandelaar');
    expect(respond.stdout).toMatch(/encrypted to gemeente's key gemeente-enc-/);

    const out = join(tmp, 'answer.txt');
    const fetched = await run(['fetch', id, '--as', 'gemeente', '--role', 'procesregisseur', '--out', out]);
    expect(fetched.code).toBe(EXIT_OK);
    expect(readFileSync(out, 'utf8')).toBe(answer);
    expect((await run(['fetch', id, '--as', 'gemeente'])).code).toBe(3); // delivered once: 410

    // A break-glass made 25 hours ago (the hub's clock moved back for it): its review is overdue now.
    clock.advance(-25 * 3_600_000);
    await as('veilig-thuis', 'partner-system').register({ subject, category: 'huiselijk-geweld-melding', contact: { function: 'Veilig Thuis', email: 'vt@vt.example' } });
    const { request: glass } = await as('politie', 'professional').requestDisclosure({
      subject, holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d',
      categories: ['huiselijk-geweld-meldingen'], caseRef: 'PL-CLI-1', justification: JUSTIFICATION, urgency: 'emergency',
    });
    clock.advance(25 * 3_600_000);
    const im = ['--as', 'zorg-en-veiligheidshuis', '--role', 'informatiemakelaar'];
    const overdue = await run(['overdue', ...im]);
    expect(overdue.code).toBe(EXIT_PROBLEMS);
    expect(overdue.stdout).toContain(glass.id);
    const review = await run(['decide', glass.id, ...im, '--approve', '--reason', 'Terecht: acuut gevaar.']);
    expect(review.code).toBe(EXIT_OK);
    expect(review.stdout).toMatch(/review\s+justified/);
    const none = await run(['overdue', ...im]);
    expect(none.stdout).toBe('No break-glass review is overdue.\n');
    expect(none.code).toBe(EXIT_OK);
  });
});
