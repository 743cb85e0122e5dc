// The hub configuration in workerd: the bundled covenant and partner keys plus the Worker's secrets.
// Built once per isolate; anything wrong is an error naming the binding, never its value.
import { buildHubConfig, defaultLogOrigin, type HubConfig } from '../config';
import { parseLogKeys } from '../log/checkpoint';
import { DEFAULT_MMD_SECONDS } from '../log/receipt';
import { loadCovenant } from '../covenant/index';
import { parseHubKeyring } from '../pseudonym/hub-key';
import { parseSigningKeys } from '../signing';
import { parseWebhooks } from '../webhooks/config';
import type { WorkerBundle, WorkerEnv } from './env';

export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
  /** The bindings at fault, by name (for the server log; the message is for the operator). */
  readonly bindings: readonly string[];
  constructor(message: string, bindings: readonly string[] = []) {
    super(message);
    this.bindings = bindings;
  }
}

/** The secrets the Worker cannot run without (`wrangler secret put`, or .dev.vars for `wrangler dev`). */
export const WORKER_SECRETS = ['KENBAAR_HUB_KEY', 'KENBAAR_SIGNING_KEY', 'KENBAAR_LOG_KEY'] as const;

const REQUIRED = ['KENBAAR_HUB_ID', ...WORKER_SECRETS] as const;

/** Parse a secret; a malformed one is a configuration error naming the binding (the parsers never quote key material). */
async function binding<T>(name: string, parse: () => T | Promise<T>): Promise<T> {
  try {
    return await parse();
  } catch (e) {
    throw new WorkerConfigError(`${name}: ${e instanceof Error ? e.message : String(e)}`, [name]);
  }
}

export async function buildWorkerConfig(env: WorkerEnv, bundle: WorkerBundle): Promise<HubConfig> {
  const missing = REQUIRED.filter((name) => typeof env[name] !== 'string' || env[name].trim() === '');
  if (!env.HYPERDRIVE?.connectionString) missing.unshift('HYPERDRIVE' as never);
  if (missing.length) {
    throw new WorkerConfigError(
      `missing Worker bindings: ${missing.join(', ')} (secrets: \`wrangler secret put <NAME>\`, or .dev.vars for \`wrangler dev\`; see wrangler.toml)`,
      missing,
    );
  }
  if (Object.keys(bundle.covenantFiles).length === 0) {
    throw new WorkerConfigError('no covenant files were bundled: run `npm run worker:bundle` before building');
  }
  const covenant = loadCovenant(bundle.covenantFiles); // CovenantError names the file and the place
  const origin = env.KENBAAR_LOG_ORIGIN?.trim() || defaultLogOrigin(covenant.id);
  return buildHubConfig({
    hubId: env.KENBAAR_HUB_ID.trim(),
    covenant,
    partnerKeys: new Map(Object.entries(bundle.partnerKeys)),
    hubKeys: await binding('KENBAAR_HUB_KEY', () => parseHubKeyring(env.KENBAAR_HUB_KEY)),
    signer: await binding('KENBAAR_SIGNING_KEY', () => parseSigningKeys(env.KENBAAR_SIGNING_KEY)),
    log: { keys: await binding('KENBAAR_LOG_KEY', () => parseLogKeys(env.KENBAAR_LOG_KEY, origin)), maxMergeDelaySeconds: DEFAULT_MMD_SECONDS },
    webhooks: await binding('KENBAAR_WEBHOOKS', () => parseWebhooks(env.KENBAAR_WEBHOOKS, covenant.partners)),
  });
}
