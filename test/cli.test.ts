// The `kenbaar` command as a user runs it, judged by exit code, stdout and stderr. Commands run
// in-process through `main(args, io)` with their own streams and environment (a CLI launch through
// a process costs seconds on a loaded machine); the last block runs the compiled launcher as a
// real process, to prove that the `kenbaar` binary itself works.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { PGlite } from '@electric-sql/pglite';
import { collector } from './support/collector';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { HubClient } from '../src/client/client';
import { loadCovenantDir } from '../src/node/covenant-fs';
import { openDatabase } from '../src/node/database';
import { EXIT_DATA, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, main } from '../src/node/cli';
import { demoClock } from '../src/node/demo';
import { readSettings } from '../src/node/env';
import { loadConfig } from '../src/node/hub';
import { readPrivateKey } from '../src/node/keys';
import { startServer } from '../src/node/serve';
import { importJWK, type JWK } from 'jose';
import { fromBase64, toBase64Url } from '../src/encoding';
import { generateLogKeySecret } from '../src/log/checkpoint';
import { generateHubKeySecret, parseHubKeyring } from '../src/pseudonym/hub-key';
import { generateTestBsn, partnerPseudonym } from '../src/pseudonym/index';
import { generateSigningKeySecret, parseSigningKeys } from '../src/signing';
import { purge } from '../src/retention/purge';
import { testDatabase } from './support/hub';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COVENANT_DIR = join(ROOT, 'policies', 'zvh-demo');
const tmp = mkdtempSync(join(tmpdir(), 'kenbaar-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const COVENANT_KEY = new Uint8Array(32).map((_, i) => 255 - i * 3);

/** An environment that touches nothing of the repository: every directory is a temp one. */
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


/** `kenbaar …args`, in this process, with its own stdin, stdout, stderr and environment. */
async function kenbaar(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const stdout = collector();
  const stderr = collector();
  const code = await main(args, { stdin: Readable.from([opts.input ?? '']), stdout, stderr, env: cliEnv(opts.env) });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A PGlite data directory from a snapshot the test run made (test/support/global-setup.ts). */
async function dataDirFrom(snapshot: 'pgliteSnapshot' | 'pgliteEmptySnapshot', dataDir: string) {
  const pglite = new PGlite(dataDir, { loadDataDir: new Blob([readFileSync(inject(snapshot))]) });
  await pglite.waitReady;
  return pglite;
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

  it('keys generate makes a key only for a partner the covenant names; token only for a role the covenant gives that partner', async () => {
    const env = { KENBAAR_LOCAL_DIR: join(tmp, 'token-local'), KENBAAR_KEYS_DIR: join(tmp, 'token-keys'), KENBAAR_COVENANT_DIR: COVENANT_DIR };
    const typo = await kenbaar(['keys', 'generate', 'politei'], { env });
    expect(typo.code).toBe(EXIT_USAGE);
    expect(typo.stderr).toContain('"politei" is not a partner of covenant');
    expect(typo.stderr).toMatch(/its partners: .*politie/);
    expect(existsSync(join(env.KENBAAR_KEYS_DIR, 'politei.jwks.json'))).toBe(false);

    const made = await kenbaar(['keys', 'generate', 'politie'], { env });
    expect(made.code).toBe(EXIT_OK);
    expect(existsSync(join(env.KENBAAR_KEYS_DIR, 'politie.jwks.json'))).toBe(true);

    const ok = await kenbaar(['token', '--as', 'politie', '--role', 'professional'], { env });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(EXIT_OK);
    expect(ok.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    // Politie has no procesregisseur under the covenant: the hub would refuse such a token.
    const refused = await kenbaar(['token', '--as', 'politie', '--role', 'procesregisseur'], { env });
    expect(refused.code).toBe(EXIT_USAGE);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('the covenant does not give politie the role "procesregisseur"');
    expect(refused.stderr).toContain('its roles: partner-system, professional, informatiemakelaar, privacy-officer');
  });

  it('register names the categories the covenant lets the partner register when a line has none, and sends nothing', async () => {
    const r = await kenbaar(['register', '-', '--as', 'politie', '--contact-function', 'Wijkagent', '--contact-email', 'wijkagent@politie.example', '--url', 'http://127.0.0.1:9'], {
      input: 'bsn,category\n111222333,\n',
      env: { KENBAAR_COVENANT_DIR: COVENANT_DIR },
    });
    expect(r.code).toBe(EXIT_DATA);
    expect(r.stderr).toContain('stdin: line 2: no category');
    expect(r.stderr).toContain('the covenant lets you register: politie-betrokkenheid');
    expect(r.stderr).toContain('nothing was sent');
  });

});

// Commands that open the hub's own database. Each PGlite open is about a second of CPU, several
// under load: these run one at a time, not concurrently with each other.
describe('kenbaar on the hub\'s database', () => {
  it('db migrate applies the schema to a new database and says how far it is', async () => {
    const dataDir = join(tmp, 'migrate-data');
    await (await dataDirFrom('pgliteEmptySnapshot', dataDir)).close(); // initialised, no tables yet
    const r = await kenbaar(['db', 'migrate'], { env: { KENBAAR_DATA_DIR: dataDir } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_OK);
    const journal = JSON.parse(readFileSync(join(ROOT, 'schema', 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
    expect(r.stdout).toBe(`PGlite in ${dataDir}: schema up to date (${journal.entries.length} migrations, the last ${journal.entries.at(-1)!.tag})\n`);
    expect(existsSync(join(dataDir, 'kenbaar.lock'))).toBe(false); // released for the hub
    const pglite = new PGlite(dataDir);
    try {
      const applied = await pglite.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
      expect(applied.rows[0]!.n).toBe(journal.entries.length);
    } finally {
      await pglite.close();
    }
  });

  it('purge applies the retention and prints every count it keeps', async () => {
    const dataDir = join(tmp, 'purge-data');
    await (await dataDirFrom('pgliteSnapshot', dataDir)).close();
    const r = await kenbaar(['purge'], { env: { KENBAAR_DATA_DIR: dataDir } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_OK);
    const counts = Object.fromEntries([...r.stdout.matchAll(/^ {2}(\S.*?)\s{2,}(\d+)/gm)].map((m) => [m[1], Number(m[2])]));
    expect(Object.keys(counts)).toEqual([
      'expired registrations ended',
      'archived registrations removed',
      'their match notices removed',
      'used token ids forgotten',
      'idempotency keys forgotten',
      'webhook deliveries forgotten',
      'hand-overs expired (wiped)',
      'break-glass reviews now overdue',
    ]);
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  // One data directory through both tests: a snapshot with one real audit entry (a purge run).
  const auditDir = join(tmp, 'data');

  it('audit checkpoint signs the log and audit verify exits 0 on it', async () => {
    const seeded = await openDatabase({ pglite: await dataDirFrom('pgliteSnapshot', auditDir) });
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
  });

  it('audit verify exits 1 and names the entry once it is altered past the append-only trigger', async () => {
    const database = await openDatabase({ dataDir: auditDir });
    // As an attacker with superuser rights would: past the append-only trigger.
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`update audit_entries set outcome = 'denied' where id = (select entry_id from audit_log where seq = 0)`);
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
    // Four eyes are two organisations': the house's informatiemakelaar and the holder's.
    const second = await run(['decide', id, '--as', 'verslavingszorg', '--role', 'informatiemakelaar', '--approve', '--sub', 'im-vz', '--json']);
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
    // Without --url, the hub is KENBAAR_URL.
    const none = await kenbaar(['disclose', 'overdue', ...im], { env: { ...env, KENBAAR_URL: url } });
    expect(none.stdout).toBe('No break-glass review is overdue.\n');
    expect(none.code).toBe(EXIT_OK);
  });
});

// The binary itself, as real processes: the launcher (bin/kenbaar.js) on the compiled build that
// the test run made (test/support/global-setup.ts), started from a directory outside the
// repository; and the production server, stopped by a service manager's SIGTERM.
describe('the kenbaar binary', () => {
  type Child = Run & { signal: NodeJS.Signals | null };
  const BIN = join(ROOT, 'bin', 'kenbaar.js');
  const COMPILED = join(ROOT, 'dist', 'node', 'cli.js');

  function spawnNode(args: string[], env: NodeJS.ProcessEnv, onStdout: (text: string, kill: (s: NodeJS.Signals) => void) => void = () => {}): Promise<Child> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: tmp, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        onStdout(stdout, (s) => child.kill(s));
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      child.stdin.end();
    });
  }

  it('bin/kenbaar.js runs the compiled CLI from any directory: policy check finds the covenant', async () => {
    const r = await spawnNode([BIN, 'policy', 'check'], cliEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toContain(loadCovenantDir(COVENANT_DIR).version);
    expect(r.stdout).toContain(`in     ${COVENANT_DIR}`);
  });

  it('npm start and npm run start:prod exec node: the SIGTERM a service manager sends npm reaches the hub', () => {
    // npm signals its child, the shell running the script; a shell does not pass it on (a hub kept
    // running after `npm start` was stopped). With exec, node is that child.
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe('exec node bin/kenbaar.js serve');
    expect(scripts['start:prod']).toBe('exec env NODE_ENV=production node dist/node/cli.js serve');
  });

  it('the production server (node dist/node/cli.js serve) stops on SIGTERM with exit 0 after its final checkpoint', async () => {
    const dataDir = join(tmp, 'prod-data');
    await (await dataDirFrom('pgliteSnapshot', dataDir)).close();
    const env = cliEnv({
      NODE_ENV: 'production',
      KENBAAR_DATA_DIR: dataDir,
      KENBAAR_KEYS_DIR: join(tmp, 'prod-keys'),
      KENBAAR_HUB_KEY: generateHubKeySecret(1),
      KENBAAR_SIGNING_KEY: await generateSigningKeySecret(),
      KENBAAR_LOG_KEY: generateLogKeySecret('kenbaar.example/zvh-test'),
      KENBAAR_LOG_ORIGIN: 'kenbaar.example/zvh-test',
      PORT: '0',
    });
    delete env.KENBAAR_COVENANT_KEY; // the hub never has it
    let signalled = false;
    const r = await spawnNode([COMPILED, 'serve'], env, (stdout, kill) => {
      if (!signalled && stdout.includes('Stop with Ctrl-C.')) {
        signalled = true;
        kill('SIGTERM');
      }
    });
    expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(r.stdout).toMatch(/kenbaar hub listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toContain('mode      production');
    expect(r.stdout).toContain('SIGTERM: stopping');
    // The final checkpoint holds the start's covenant.loaded entry: nothing left outside a signed head.
    expect(r.stdout).toMatch(/^final checkpoint #\d+ signed over 1 entries; database closed$/m);
  });
});

// Production secrets: made and rotated in the formats the hub reads, to files (0600) or stdout.
describe('kenbaar secrets', () => {
  const env = { KENBAAR_COVENANT_DIR: COVENANT_DIR };
  const dir = join(tmp, 'secrets');

  /** An Ed25519 note signer key `PRIVATE+KEY+<origin>+<id>+<base64(0x01 || seed)>` as its parts. */
  const LOG_SIGNER = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]{44,})$/;
  const LOG_VERIFIER = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]{44,})$/;

  it('generate prints NAME=value lines the hub accepts: keyring, signing key, log key', async () => {
    const r = await kenbaar(['secrets', 'generate'], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_OK);
    // NAME=value lines; the signing key's JSON in single quotes (env files and shells strip them).
    const vars = Object.fromEntries(r.stdout.trimEnd().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^'(.*)'$/, '$1')]));
    expect(r.stdout).toMatch(/^KENBAAR_SIGNING_KEY='\[\{.*\}\]'$/m);
    expect(Object.keys(vars)).toEqual(['KENBAAR_HUB_KEY', 'KENBAAR_SIGNING_KEY', 'KENBAAR_LOG_KEY', 'KENBAAR_LOG_ORIGIN']);
    expect(parseHubKeyring(vars.KENBAAR_HUB_KEY!).current.version).toBe(1);
    expect((await parseSigningKeys(vars.KENBAAR_SIGNING_KEY!)).published).toHaveLength(1);
    const [, origin, id] = LOG_SIGNER.exec(vars.KENBAAR_LOG_KEY!)!;
    expect(origin).toBe(vars.KENBAAR_LOG_ORIGIN);
    expect(origin).toBe(`kenbaar.example/${loadCovenantDir(COVENANT_DIR).id}`);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    const only = await kenbaar(['secrets', 'generate', '--only', 'hub-key'], { env });
    expect(only.stdout).toMatch(/^v1:[\w-]{43}\n$/);
  });

  it('generate --out-dir writes mode-0600 files, never overwrites, and refuses a directory inside the repository', async () => {
    const inRepo = await kenbaar(['secrets', 'generate', '--out-dir', join(ROOT, '.kenbaar', 'prod')], { env });
    expect(inRepo.code).toBe(EXIT_USAGE);
    expect(inRepo.stderr).toContain('keep secrets out of the repository');
    expect(existsSync(join(ROOT, '.kenbaar', 'prod'))).toBe(false);

    const r = await kenbaar(['secrets', 'generate', '--out-dir', dir, '--log-origin', 'zvh.example/log'], { env });
    expect(r.code).toBe(EXIT_OK);
    for (const file of ['hub-key', 'signing-key.json', 'log-key']) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'log-key'), 'utf8')).toMatch(/^PRIVATE\+KEY\+zvh\.example\/log\+/);
    const again = await kenbaar(['secrets', 'generate', '--out-dir', dir], { env });
    expect(again.code).toBe(EXIT_USAGE);
    expect(again.stderr).toContain('nothing written');
  });

  it('rotate puts a new key first and keeps the old ones: hub keyring v2 before v1, retired signing and log keys public only', async () => {
    const before = (file: string) => readFileSync(join(dir, file), 'utf8').trim();
    const oldRing = before('hub-key');
    const oldSigning = JSON.parse(before('signing-key.json')) as JWK[];
    const oldLog = before('log-key');
    for (const secret of ['hub-key', 'signing-key', 'log-key']) {
      const r = await kenbaar(['secrets', 'rotate', secret, '--dir', dir], { env });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(EXIT_OK);
    }

    const ring = parseHubKeyring(before('hub-key'));
    expect(ring.current.version).toBe(2);
    expect(before('hub-key').endsWith(`,${oldRing}`)).toBe(true);

    const signing = JSON.parse(before('signing-key.json')) as JWK[];
    expect(signing).toHaveLength(2);
    expect(typeof signing[0]!.d).toBe('string');
    expect(signing[1]).toEqual(Object.fromEntries(Object.entries(oldSigning[0]!).filter(([k]) => k !== 'd')));
    const signer = await parseSigningKeys(before('signing-key.json'));
    expect(signer.kid).toBe(signing[0]!.kid);
    expect(signer.published.map((k) => k.kid)).toEqual([signing[0]!.kid, oldSigning[0]!.kid]);

    // The retired log key is now a verifier key with the old key id, and verifies what the old key signed.
    const [fresh, retired, ...rest] = before('log-key').split(',');
    expect(rest).toEqual([]);
    expect(fresh).toMatch(LOG_SIGNER);
    const [, oldOrigin, oldId, oldSeed] = LOG_SIGNER.exec(oldLog)!;
    const [, name, id, pub] = LOG_VERIFIER.exec(retired!)!;
    expect([name, id]).toEqual([oldOrigin, oldId]);
    const x = toBase64Url(fromBase64(pub!).slice(1));
    const d = toBase64Url(fromBase64(oldSeed!).slice(1));
    const message = new TextEncoder().encode('zvh.example/log\n1\nroot\n');
    const privateKey = await importJWK({ kty: 'OKP', crv: 'Ed25519', x, d }, 'EdDSA');
    const signature = await crypto.subtle.sign('Ed25519', privateKey as CryptoKey, message);
    const publicKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x }, 'Ed25519', false, ['verify']);
    expect(await crypto.subtle.verify('Ed25519', publicKey, signature, message)).toBe(true);
  });

  it('rotate without --dir reads the current value from the environment and prints the new one, for wrangler secret put', async () => {
    const r = await kenbaar(['secrets', 'rotate', 'hub-key'], { env: { ...env, KENBAAR_HUB_KEY: 'v3:' + toBase64Url(new Uint8Array(32).fill(7)) } });
    expect(r.code).toBe(EXIT_OK);
    expect(r.stdout).toMatch(/^v4:[\w-]{43},v3:[\w-]{43}\n$/);
    const none = await kenbaar(['secrets', 'rotate', 'signing-key'], { env });
    expect(none.code).toBe(78);
    expect(none.stderr).toContain('set KENBAAR_SIGNING_KEY');
  });
});
