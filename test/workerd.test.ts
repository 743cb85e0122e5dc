// The Worker build in workerd (`wrangler dev --local`), over Hyperdrive's local emulation to a real
// PostgreSQL database: a registration and a lookup over HTTP, their audit entries in the database,
// the hub's public key, and the cron handler signing a checkpoint and purging.
//
// Needs DATABASE_URL (a PostgreSQL server whose user may create databases); skipped without it.
// Partner keys and hub secrets are generated for this run and bundled into a temporary entry
// module (wrangler.toml's [build] still regenerates src/worker/bundled.gen.ts, unused here).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditEntries, checkpoints } from '../schema/index';
import { bundleWorkerConfig } from '../scripts/bundle-worker-config';
import { verifyCheckpointJws } from '../src/audit/checkpoint';
import { verifyAuditLog } from '../src/audit/verify';
import { selectEntries } from '../src/audit/rows';
import { HubClient, type Identity } from '../src/client/client';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';
import { openDatabase, type Database } from '../src/node/database';
import { generatePartnerKey } from '../src/node/keys';
import { generateHubKeySecret, parseHubKeyring } from '../src/pseudonym/hub-key';
import { hubPseudonym, parseSubject } from '../src/pseudonym/pseudonymise';
import { toBase64Url } from '../src/encoding';
import { generateLogKeySecret } from '../src/log/checkpoint';
import type { LogFields } from '../src/log';
import { generateSigningKeySecret } from '../src/signing';
import { buildWorkerConfig } from '../src/worker/config';
import type { ExecutionContext, WorkerEnv } from '../src/worker/env';
import { CRON_JOBS, createWorker } from '../src/worker/worker';
import { freePort } from './support/cluster';
import { adminExec } from './support/hub';
import { contact, person } from './support/people';

const DATABASE_URL = process.env.DATABASE_URL || undefined;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
const HUB_ID = 'urn:kenbaar:hub:workerd-test';

/** A fresh, migrated database on the server; `drop` removes it again. */
async function freshDatabase(serverUrl: string): Promise<{ url: string; database: Database; drop: () => Promise<void> }> {
  const name = `kenbaar_w_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await adminExec(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // Hyperdrive's local proxy insists on a password in the connection string; trust auth ignores it.
  if (!url.password) url.password = 'workerd-test';
  const database = await openDatabase({ url: url.toString(), max: 2 }); // migrates
  return {
    url: url.toString(),
    database,
    drop: async () => {
      await database.close();
      await adminExec(serverUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

describe.skipIf(!DATABASE_URL)('the Worker in workerd, over Hyperdrive to PostgreSQL', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  let wrangler: ChildProcess | undefined;
  let output = '';
  let baseUrl: string;
  let signingJwk: JWK;
  let hubKeySecret: string;
  const identities = new Map<string, JWK>();

  const client = (partner: string, role: string, sub: string) => {
    const identity: Identity = { key: { partner, jwk: identities.get(partner)! }, sub, role };
    return new HubClient(baseUrl, HUB_ID, identity);
  };
  const scheduled = async (cron: string) => {
    const res = await fetch(`${baseUrl}/__scheduled?cron=${encodeURIComponent(cron)}`);
    expect(res.status, `${cron}: ${await res.clone().text()}\n${output.slice(-2000)}`).toBe(200);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kenbaar-workerd-'));
    db = await freshDatabase(DATABASE_URL!);

    // Keys of the two partners in the story, bundled with the demo covenant into a temporary entry.
    const keysDir = join(dir, 'keys');
    for (const partner of ['verslavingszorg', 'gemeente']) {
      const key = await generatePartnerKey(partner, { keysDir, privateDir: join(dir, 'private') });
      identities.set(partner, key.privateJwk);
    }
    bundleWorkerConfig({ covenantDir: DEFAULT_COVENANT_DIR, keysDir }, join(dir, 'bundled.gen.ts'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { createWorker } from ${JSON.stringify(join(ROOT, 'src/worker/worker.ts'))};`,
        `import { consoleAssets, covenantFiles, partnerKeys } from './bundled.gen';`,
        'export default createWorker({ covenantFiles, partnerKeys, consoleAssets });',
        '',
      ].join('\n'),
    );

    // Secrets as `wrangler secret put` would give them; an --env-file replaces .dev.vars.
    const signingSecret = await generateSigningKeySecret();
    signingJwk = JSON.parse(signingSecret) as JWK;
    const secrets = join(dir, 'secrets.env');
    hubKeySecret = generateHubKeySecret(1);
    writeFileSync(secrets, `KENBAAR_HUB_KEY=${hubKeySecret}\nKENBAAR_SIGNING_KEY='${signingSecret}'\nKENBAAR_LOG_KEY=${generateLogKeySecret('kenbaar.example/zvh-veenstreek-noord-2026')}\n`, { mode: 0o600 });

    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    // The real wrangler.toml (compatibility flags, Hyperdrive binding, crons), another entry.
    wrangler = spawn(
      WRANGLER,
      [
        'dev', entry, '--config', join(ROOT, 'wrangler.toml'), '--local',
        '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()),
        '--env-file', secrets, '--var', `KENBAAR_HUB_ID:${HUB_ID}`,
        '--persist-to', join(dir, 'state'), '--test-scheduled', '--show-interactive-dev-session=false',
      ],
      {
        cwd: ROOT,
        detached: true, // its own process group: workerd is a grandchild, and goes with it
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: db.url,
          WRANGLER_SEND_METRICS: 'false',
          CLOUDFLARE_CF_FETCH_ENABLED: 'false', // no internet here
          KENBAAR_DEV_SECRETS_CHECK: 'off', // the secrets come by --env-file, which the [build] step cannot see
          NO_COLOR: '1',
        },
      },
    );
    wrangler.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    wrangler.stderr!.on('data', (d: Buffer) => (output += d.toString()));

    const deadline = Date.now() + 90_000;
    for (;;) {
      if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited (${wrangler.exitCode}):\n${output}`);
      const res = await fetch(`${baseUrl}/health`).catch(() => undefined);
      if (res?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`the Worker did not become healthy (last status ${res?.status}):\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 150_000);

  afterAll(async () => {
    if (wrangler?.pid && wrangler.exitCode === null) {
      const exited = new Promise((r) => wrangler!.once('exit', r));
      process.kill(-wrangler.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (wrangler.exitCode === null) process.kill(-wrangler.pid, 'SIGKILL');
    }
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('serves health for the bundled covenant, and the hub signing key (public part only)', async () => {
    const health = (await (await fetch(`${baseUrl}/health`)).json()) as Record<string, unknown>;
    // nodejs_compat gives workerd native SHA-256/HMAC (BoringSSL): the sequencer and pseudonymiser use it.
    expect(health).toMatchObject({ status: 'ok', covenant: 'zvh-veenstreek-noord-2026', database: 'ok', hashing: 'native' });

    const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: signingJwk.kid, kty: signingJwk.kty, crv: signingJwk.crv, x: signingJwk.x });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('serves the console (its pages and its assets, with the strict CSP) in workerd too', async () => {
    const page = await fetch(`${baseUrl}/console/inloggen`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<html lang="nl">');
    const lib = await fetch(`${baseUrl}/console/assets/simplewebauthn-browser.js`);
    expect(lib.status).toBe(200);
    expect(await lib.text()).toContain('SimpleWebAuthnBrowser');
    // The passkey library runs in workerd: sign-in options are made there.
    const options = await fetch(`${baseUrl}/console/inloggen/opties`, { method: 'POST', headers: { 'content-type': 'application/json', origin: baseUrl } });
    expect(options.status).toBe(200);
    expect(((await options.json()) as { options: { userVerification: string } }).options.userVerification).toBe('required');
  });

  it('serves /docs with the pinned Swagger UI from its static assets, no CDN', async () => {
    const page = await (await fetch(`${baseUrl}/docs`)).text();
    expect(page).toContain('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
    expect(page).not.toMatch(/cdn\.jsdelivr\.net|unpkg\.com/);
    const js = await fetch(`${baseUrl}/docs/assets/swagger-ui-dist/swagger-ui-bundle.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).toBe(readFileSync(join(ROOT, 'node_modules', 'swagger-ui-dist', 'swagger-ui-bundle.js'), 'utf8'));
  });

  it('a registration, then the procesregisseur’s lookup, both audit-logged; the cron signs a checkpoint and purges', async () => {
    const p = person();
    const vz = client('verslavingszorg', 'partner-system', 'vz-epd');
    const reg = await vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake verslavingszorg') });
    expect(reg.created).toBe(true);

    const pr = client('gemeente', 'procesregisseur', 'pr-workerd');
    const result = await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0900');
    expect(result.knownBy).toEqual([expect.objectContaining({ partner: 'verslavingszorg', contact: contact('Intake verslavingszorg'), since: reg.since })]);

    // A token for another hub is refused: the hub id var reached the Worker.
    const elsewhere = new HubClient(baseUrl, 'urn:kenbaar:hub', { key: { partner: 'gemeente', jwk: identities.get('gemeente')! }, sub: 'x', role: 'procesregisseur' });
    await expect(elsewhere.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0901')).rejects.toMatchObject({ status: 401 });

    const { db: q } = db!.database;
    const rows = await q.select().from(auditEntries);
    const registration = rows.find((e) => e.action === 'registration.create' && e.actorSub === 'vz-epd');
    const lookup = rows.find((e) => e.action === 'lookup' && e.actorSub === 'pr-workerd');
    expect(registration).toMatchObject({ actorPartner: 'verslavingszorg', outcome: 'allowed' });
    expect(lookup).toMatchObject({ actorPartner: 'gemeente', actorRole: 'procesregisseur', purpose: 'procesregie-casus-op-maat', outcome: 'allowed' });
    expect(lookup!.subject).toEqual(registration!.subject);
    // workerd's native HMAC gives the hub pseudonym Node computes with the same hub key.
    expect(registration!.subject).toBe(toBase64Url(hubPseudonym(parseHubKeyring(hubKeySecret).current.key, parseSubject(p.subject))));

    // The per-minute cron: everything so far sequenced, and a checkpoint the hub's JWKS verifies.
    expect(await q.select().from(checkpoints)).toHaveLength(0);
    await scheduled('* * * * *');
    const [cp] = await q.select().from(checkpoints);
    expect(cp).toBeDefined();
    const sequenced = await selectEntries(q);
    expect(sequenced.every((e) => e.seq !== null)).toBe(true);
    expect(cp!.size).toBe(sequenced.length);
    const jwks = (await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    expect(await verifyCheckpointJws(cp!.jws, jwks.keys)).toMatchObject({ iss: HUB_ID, size: cp!.size, root: cp!.root });
    // The tree workerd's sequencer hashed is the tree Node's verifier recomputes.
    expect(await verifyAuditLog(q, jwks.keys)).toMatchObject({ ok: true, entries: cp!.size, problems: [] });

    // The hourly cron: the purge ran and logged its summary.
    await scheduled('0 * * * *');
    expect(await q.select().from(auditEntries).where(eq(auditEntries.action, 'purge'))).toHaveLength(1);
  });
});


// The same Worker code, called directly (no workerd, no database): configuration fails loudly.
describe('the Worker’s configuration', () => {
  const bundle = { covenantFiles: readCovenantDir(DEFAULT_COVENANT_DIR), partnerKeys: {} };
  const env = async (over: Partial<WorkerEnv> = {}): Promise<WorkerEnv> => ({
    HYPERDRIVE: { connectionString: 'postgres://nobody:x@127.0.0.1:1/none' } as WorkerEnv['HYPERDRIVE'],
    KENBAAR_HUB_ID: HUB_ID,
    KENBAAR_HUB_KEY: generateHubKeySecret(1),
    KENBAAR_SIGNING_KEY: await generateSigningKeySecret(),
    KENBAAR_LOG_KEY: generateLogKeySecret('kenbaar.example/zvh-veenstreek-noord-2026'),
    ...over,
  });
  const ctx = () => ({ waitUntil: () => {}, passThroughOnException: () => {}, props: {} }) as unknown as ExecutionContext;

  it('has a job for exactly the crons wrangler.toml schedules', () => {
    const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
    const crons = /^crons\s*=\s*(\[.*\])\s*$/m.exec(toml);
    expect(JSON.parse(crons![1]!)).toEqual(Object.keys(CRON_JOBS));
  });

  it('with its database unreachable: 503 database-unavailable with Retry-After, and /livez still 200', async () => {
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const worker = createWorker(bundle);
      const e = await env();
      for (const [path, init] of [['/health', {}], ['/v1/lookups', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }]] as const) {
        const res = await worker.fetch(new Request(`http://hub.test${path}`, init), e, ctx());
        expect(res.status, path).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect(((await res.json()) as { type: string }).type).toBe('/problems/database-unavailable');
      }
      expect((await worker.fetch(new Request('http://hub.test/livez'), e, ctx())).status).toBe(200);
    } finally {
      quiet.mockRestore();
    }
  });

  it('builds from the bundle and the secrets', async () => {
    const config = await buildWorkerConfig(await env(), bundle);
    expect(config.hubId).toBe(HUB_ID);
    expect(config.covenant.id).toBe('zvh-veenstreek-noord-2026');
  });

  it('names missing bindings, never a secret’s value', async () => {
    const e = await env({ KENBAAR_SIGNING_KEY: '', KENBAAR_HUB_ID: undefined as never });
    await expect(buildWorkerConfig(e, bundle)).rejects.toThrow(/missing Worker bindings: KENBAAR_HUB_ID, KENBAAR_SIGNING_KEY/);
    const key = 'v1:tooshort';
    const err = await buildWorkerConfig(await env({ KENBAAR_HUB_KEY: key }), bundle).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toMatchObject({ name: 'WorkerConfigError' });
    expect((err as Error).message).toMatch(/^KENBAAR_HUB_KEY: /);
    expect((err as Error).message).not.toContain('tooshort');
  });

  it('refuses a broken covenant, naming the file', async () => {
    const broken = { ...bundle, covenantFiles: { ...bundle.covenantFiles, 'roles.yaml': 'roles: [' } };
    await expect(buildWorkerConfig(await env(), broken)).rejects.toMatchObject({ name: 'CovenantError', file: 'roles.yaml' });
    await expect(buildWorkerConfig(await env(), { ...bundle, covenantFiles: {} })).rejects.toThrow(/no covenant files were bundled/);
  });

  it('partners’ webhooks from the optional KENBAAR_WEBHOOKS secret; a bad one is a configuration error naming it, not its value', async () => {
    expect((await buildWorkerConfig(await env(), bundle)).webhooks?.size).toBe(0);
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const config = await buildWorkerConfig(await env({ KENBAAR_WEBHOOKS: JSON.stringify({ gemeente: { url: 'https://gemeente.example/hooks', secret } }) }), bundle);
    expect(config.webhooks?.get('gemeente')?.url).toBe('https://gemeente.example/hooks');
    const bad = buildWorkerConfig(await env({ KENBAAR_WEBHOOKS: JSON.stringify({ gemeente: { url: 'https://gemeente.example/hooks', secret: 'geheim' } }) }), bundle);
    await expect(bad).rejects.toMatchObject({ name: 'WorkerConfigError', message: expect.stringMatching(/^KENBAAR_WEBHOOKS: KENBAAR_WEBHOOKS\.gemeente\.secret/) });
    await expect(bad).rejects.not.toThrow(/geheim/);
  });

  it('missing secrets (a deploy before `wrangler secret put`; `wrangler dev` stops before, see worker-dev-secrets.test.ts): every route answers 503 naming them, not 500', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const worker = createWorker(bundle);
      const e = await env({ KENBAAR_HUB_KEY: undefined as never, KENBAAR_SIGNING_KEY: '' });
      for (const path of ['/health', '/v1/lookups', '/openapi.json']) {
        const res = await worker.fetch(new Request(`http://hub.test${path}`), e, ctx());
        expect(res.status).toBe(503);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        const problem = (await res.json()) as { type: string; detail: string; instance: string };
        expect(problem).toMatchObject({ type: '/problems/hub-misconfigured', instance: path });
        expect(problem.detail).toMatch(/missing Worker bindings: KENBAAR_HUB_KEY, KENBAAR_SIGNING_KEY \(secrets: `wrangler secret put <NAME>`, or \.dev\.vars/);
      }
    } finally {
      errors.mockRestore();
    }
  });

  it('a bad secret fails every request with a 503 naming it and one logged cause (built once per isolate)', async () => {
    const errors = vi.spyOn(console, 'error');
    try {
      const logged: ({ level: string; event: string } & LogFields)[] = [];
      const worker = createWorker(bundle, (level, event, fields) => logged.push({ level, event, ...fields }));
      const e = await env({ KENBAAR_SIGNING_KEY: '{"kty":"OKP"}' });
      for (let i = 0; i < 2; i++) {
        const res = await worker.fetch(new Request('http://hub.test/health'), e, ctx());
        expect(res.status).toBe(503);
        expect((await res.json()) as object).toMatchObject({ type: '/problems/hub-misconfigured', detail: expect.stringMatching(/^KENBAAR_SIGNING_KEY: /) });
      }
      // To the injected server log, once, as codes: the error class and the binding, no message.
      expect(logged).toEqual([{ level: 'error', event: 'config.failed', code: 'WorkerConfigError', bindings: ['KENBAAR_SIGNING_KEY'] }]);
      expect(errors).not.toHaveBeenCalled();
      await expect(worker.scheduled({ cron: '* * * * *', scheduledTime: Date.now(), noRetry() {} }, e, ctx())).rejects.toThrow(/signing key/);
      await expect(worker.scheduled({ cron: '*/5 * * * *', scheduledTime: Date.now(), noRetry() {} }, e, ctx())).rejects.toThrow(/no job for cron/);
    } finally {
      errors.mockRestore();
    }
  });
});
