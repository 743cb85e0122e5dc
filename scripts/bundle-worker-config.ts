// Build step for the Cloudflare Worker (wrangler.toml `[build]`, so every `wrangler deploy` and
// `wrangler dev` runs it): workerd has no file system, so the covenant files, the partners' public
// keys and the console's assets are compiled into a module the Worker imports
// (src/worker/bundled.gen.ts, git-ignored). Covenant and keys are validated here, so a broken
// covenant or a private key fails the build instead of the first request. Sources:
// KENBAAR_COVENANT_DIR (default policies/zvh-demo) and KENBAAR_KEYS_DIR, read through
// src/node/env.ts. The partner keys come only from configuration: without KENBAAR_KEYS_DIR none are
// bundled (every partner token is refused), never the development keys that happen to lie in keys/
// (`npm run worker:dev` sets KENBAAR_KEYS_DIR=keys on purpose).
// It also copies the Swagger UI files of the installed (exactly pinned) swagger-ui-dist into the
// Worker's static assets (dist/worker-assets, wrangler.toml `[assets]`), so /docs loads no CDN.
// Under `wrangler dev` (wrangler sets WRANGLER_COMMAND=dev for the build command) it first checks
// that the Worker's secrets are where wrangler will look for them, and fails naming the missing
// ones, instead of a dev session that answers 503 on every route. `wrangler deploy` (and its
// --dry-run in CI) needs no secrets here: they live in Cloudflare (`wrangler secret put`).
//
//   tsx scripts/bundle-worker-config.ts [--out <file>]
//
// --out writes elsewhere (the workerd test bundles temporary keys without touching src/worker).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs, parseEnv } from 'node:util';
import { loadCovenant } from '../src/covenant/index';
import { DOCS_ASSETS_BASE, SWAGGER_FILES } from '../src/docs-assets';
import { readCovenantDir } from '../src/node/covenant-fs';
import { readSettings } from '../src/node/env';
import { readConsoleAssets } from '../src/node/console-assets';
import { readPartnerKeys } from '../src/node/keys';
import { ROOT } from '../src/node/paths';
import { WORKER_SECRETS } from '../src/worker/config';

export const DEFAULT_OUT = resolve(ROOT, 'src/worker/bundled.gen.ts');

/** The Worker's static assets (wrangler.toml `[assets] directory`). */
export const ASSETS_DIR = resolve(ROOT, 'dist/worker-assets');

export type BundleSources = { covenantDir: string; keysDir: string | undefined };
export type BundleReport = { out: string; covenant: string; covenantVersion: string; partnersWithKeys: string[]; partnersWithoutKeys: string[] };

/** Copy the pinned Swagger UI files into the Worker's assets, under the path /docs loads them from. */
export function copyDocsAssets(assetsDir: string = ASSETS_DIR): string {
  const from = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const to = join(assetsDir, DOCS_ASSETS_BASE, 'swagger-ui-dist');
  mkdirSync(to, { recursive: true });
  for (const file of Object.keys(SWAGGER_FILES)) copyFileSync(join(from, file), join(to, file));
  return to;
}

/**
 * The Worker's secrets that `wrangler dev` would start without, looked up where wrangler looks
 * (wrangler.toml's directory): `.dev.vars` when it exists, and only it; otherwise `.env` and
 * `.env.local` (unless CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false), plus the process environment
 * when CLOUDFLARE_INCLUDE_PROCESS_ENV=true. An empty value counts as missing. Names only, never values.
 */
export function missingDevSecrets(dir: string, env: NodeJS.ProcessEnv): string[] {
  const read = (file: string) => (existsSync(join(dir, file)) ? parseEnv(readFileSync(join(dir, file), 'utf8')) : undefined);
  let found: NodeJS.Dict<string> = read('.dev.vars') ?? {};
  if (!existsSync(join(dir, '.dev.vars'))) {
    if (env.CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV !== 'false') found = { ...read('.env'), ...read('.env.local') };
    if (env.CLOUDFLARE_INCLUDE_PROCESS_ENV === 'true') found = { ...env, ...found };
  }
  return WORKER_SECRETS.filter((name) => !found[name]?.trim());
}

/** What `wrangler dev` prints, and stops on, when secrets are missing. */
export const missingDevSecretsMessage = (missing: readonly string[]) =>
  `wrangler dev: the Worker's secrets ${missing.join(', ')} are not set. Put them in .dev.vars next to wrangler.toml ` +
  `(one NAME=value a line; make them with \`npx kenbaar secrets generate --only <secret>\`), or set ` +
  `KENBAAR_DEV_SECRETS_CHECK=off when you pass them another way (--env-file, --var).`;

/**
 * The [build] command's first step: under `wrangler dev` (WRANGLER_COMMAND=dev), throw naming the
 * missing secrets; under any other command (deploy, its --dry-run) nothing is checked.
 */
export function checkDevSecrets(env: NodeJS.ProcessEnv, dir: string = ROOT): void {
  if (env.WRANGLER_COMMAND !== 'dev' || env.KENBAAR_DEV_SECRETS_CHECK === 'off') return;
  const missing = missingDevSecrets(dir, env);
  if (missing.length) throw new Error(missingDevSecretsMessage(missing));
}

/** Validate the covenant and keys in `sources` and write the module to `out`. */
export function bundleWorkerConfig(sources: BundleSources, out: string = DEFAULT_OUT): BundleReport {
  const covenantFiles = readCovenantDir(sources.covenantDir);
  const covenant = loadCovenant(covenantFiles); // throws CovenantError naming file and place
  const keys = sources.keysDir ? readPartnerKeys(sources.keysDir) : new Map(); // throws on a private key or a non-JWKS file
  const unknown = [...keys.keys()].filter((p) => !covenant.partners.has(p));
  if (unknown.length) {
    throw new Error(`${sources.keysDir}: keys for partners the covenant does not name: ${unknown.join(', ')}`);
  }
  const partnerKeys = Object.fromEntries(keys);
  const text = [
    '// GENERATED by scripts/bundle-worker-config.ts: do not edit, do not commit.',
    `// Covenant ${covenant.id} version ${covenant.version}, ${keys.size} partner key set(s).`,
    "import type { JSONWebKeySet } from 'jose';",
    '',
    `export const covenantFiles: Record<string, string> = ${JSON.stringify(covenantFiles, null, 2)};`,
    '',
    `export const partnerKeys: Record<string, JSONWebKeySet> = ${JSON.stringify(partnerKeys, null, 2)};`,
    '',
    '// The console\'s static files (src/node/console-assets.ts reads the same on Node).',
    `export const consoleAssets: Record<string, { type: string; body: string }> = ${JSON.stringify(Object.fromEntries(readConsoleAssets()))};`,
    '',
  ].join('\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  return {
    out,
    covenant: covenant.id,
    covenantVersion: covenant.version,
    partnersWithKeys: [...keys.keys()],
    partnersWithoutKeys: [...covenant.partners.keys()].filter((p) => !keys.has(p)),
  };
}

function main() {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  checkDevSecrets(process.env);
  const settings = readSettings();
  const report = bundleWorkerConfig({ covenantDir: settings.covenantDir, keysDir: settings.keysDirFromEnv }, values.out ? resolve(values.out) : DEFAULT_OUT);
  const assets = copyDocsAssets();
  console.log(
    `bundled covenant ${report.covenant} ${report.covenantVersion} and keys of ${report.partnersWithKeys.length} partner(s) into ${relative(process.cwd(), report.out)}; Swagger UI into ${relative(process.cwd(), assets)}`,
  );
  // Not fatal: a partner without keys simply cannot authenticate yet.
  if (!settings.keysDirFromEnv) {
    console.warn('warning: KENBAAR_KEYS_DIR is not set: no partner keys bundled, every partner token will be refused (set it to the directory of your partners\' public <partner>.jwks.json)');
  } else if (report.partnersWithoutKeys.length) {
    console.warn(`warning: no public keys in ${settings.keysDirFromEnv} for: ${report.partnersWithoutKeys.join(', ')}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  try {
    main();
  } catch (e) {
    console.error(`bundle-worker-config: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
