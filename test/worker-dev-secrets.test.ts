// `wrangler dev` without the Worker's secrets stops at its build step, naming them, instead of
// starting a Worker that answers 503 on every route. The check runs in-process here (the function
// the [build] command calls under WRANGLER_COMMAND=dev), against files in a temporary directory.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkDevSecrets, missingDevSecrets, missingDevSecretsMessage } from '../scripts/bundle-worker-config';
import { WORKER_SECRETS } from '../src/worker/config';

describe('wrangler dev refuses to start without the Worker’s secrets', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kenbaar-dev-vars-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('with no .dev.vars at all, every secret is missing and the message names each', () => {
    const missing = missingDevSecrets(dir, {});
    expect(missing).toEqual(['KENBAAR_HUB_KEY', 'KENBAAR_SIGNING_KEY', 'KENBAAR_LOG_KEY']);
    const message = missingDevSecretsMessage(missing);
    for (const name of WORKER_SECRETS) expect(message).toContain(name);
    expect(message).toContain('.dev.vars');
  });

  it('names only the ones .dev.vars lacks (an empty value is missing), never a value', () => {
    writeFileSync(join(dir, '.dev.vars'), `KENBAAR_HUB_KEY=v1:c2VjcmV0\nKENBAAR_SIGNING_KEY='{"kty":"OKP"}'\nKENBAAR_LOG_KEY=\n`);
    const missing = missingDevSecrets(dir, {});
    expect(missing).toEqual(['KENBAAR_LOG_KEY']);
    expect(missingDevSecretsMessage(missing)).not.toContain('c2VjcmV0');
  });

  it('passes when .dev.vars holds them all', () => {
    writeFileSync(join(dir, '.dev.vars'), WORKER_SECRETS.map((n) => `${n}=x`).join('\n'));
    expect(missingDevSecrets(dir, {})).toEqual([]);
  });

  it('reads .env and .env.local only when there is no .dev.vars, as wrangler does', () => {
    writeFileSync(join(dir, '.env'), 'KENBAAR_HUB_KEY=x\nKENBAAR_SIGNING_KEY=x\n');
    writeFileSync(join(dir, '.env.local'), 'KENBAAR_LOG_KEY=x\n');
    expect(missingDevSecrets(dir, {})).toEqual([]);
    expect(missingDevSecrets(dir, { CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: 'false' })).toHaveLength(3);
    writeFileSync(join(dir, '.dev.vars'), 'KENBAAR_HUB_KEY=x\n');
    expect(missingDevSecrets(dir, {})).toEqual(['KENBAAR_SIGNING_KEY', 'KENBAAR_LOG_KEY']);
  });

  it('counts the process environment only when wrangler would pass it on', () => {
    const env = Object.fromEntries(WORKER_SECRETS.map((n) => [n, 'x']));
    expect(missingDevSecrets(dir, env)).toHaveLength(3);
    expect(missingDevSecrets(dir, { ...env, CLOUDFLARE_INCLUDE_PROCESS_ENV: 'true' })).toEqual([]);
  });

  it('stops the build only under wrangler dev: deploy and its --dry-run (CI) need no secrets here', () => {
    expect(() => checkDevSecrets({ WRANGLER_COMMAND: 'dev' }, dir)).toThrow(/KENBAAR_HUB_KEY, KENBAAR_SIGNING_KEY, KENBAAR_LOG_KEY are not set/);
    expect(() => checkDevSecrets({ WRANGLER_COMMAND: 'deploy' }, dir)).not.toThrow();
    expect(() => checkDevSecrets({}, dir)).not.toThrow();
    expect(() => checkDevSecrets({ WRANGLER_COMMAND: 'dev', KENBAAR_DEV_SECRETS_CHECK: 'off' }, dir)).not.toThrow();
    writeFileSync(join(dir, '.dev.vars'), WORKER_SECRETS.map((n) => `${n}=x`).join('\n'));
    expect(() => checkDevSecrets({ WRANGLER_COMMAND: 'dev' }, dir)).not.toThrow();
  });
});
