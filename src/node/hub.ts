// Node edge: assemble a running hub (config + database) from settings. In development, missing
// secrets and partner keys are created once under .kenbaar/ (ignored by git) and reused after.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendAudit } from '../audit/store';
import { buildHubConfig, defaultLogOrigin, type HubConfig } from '../config';
import { parseWebhooks } from '../webhooks/config';
import { generateLogKeySecret, parseLogKeys } from '../log/checkpoint';
import { DEFAULT_MMD_SECONDS } from '../log/receipt';
import { parseHubKeyring, generateHubKeySecret } from '../pseudonym/hub-key';
import { generateSigningKeySecret, parseSigningKeys } from '../signing';
import { nodeJwsSign } from './signer';
import { loadCovenantDir } from './covenant-fs';
import { openDatabase, type Database } from './database';
import type { NodeSettings } from './env';
import { generateEncryptionKey, generatePartnerKey, readPartnerKeys } from './keys';
import { nodeSignatureCheck } from './signature';

export type DevBootstrap = { created: string[] };

function localSecret(settings: NodeSettings, file: string, make: () => Promise<string> | string, created: string[]) {
  const path = join(settings.localDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  return (async () => {
    mkdirSync(settings.localDir, { recursive: true, mode: 0o700 });
    const value = await make();
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    created.push(path);
    return value;
  })();
}

/** Load the covenant, keys and secrets; in development create what is missing. */
export async function loadConfig(settings: NodeSettings): Promise<{ config: HubConfig; bootstrap: DevBootstrap }> {
  const covenant = loadCovenantDir(settings.covenantDir);
  const created: string[] = [];
  let hubKeySecret = settings.hubKeySecret;
  let signingSecret = settings.signingKeySecret;
  let logKeySecret = settings.logKeySecret;
  const origin = settings.logOrigin ?? defaultLogOrigin(covenant.id);
  if (settings.production && (!hubKeySecret || !signingSecret || !logKeySecret)) {
    throw new Error('NODE_ENV=production: KENBAAR_HUB_KEY, KENBAAR_SIGNING_KEY and KENBAAR_LOG_KEY must be set (secrets are never generated in production)');
  }
  hubKeySecret ??= await localSecret(settings, 'hub-key', () => generateHubKeySecret(1), created);
  signingSecret ??= await localSecret(settings, 'signing-key.json', generateSigningKeySecret, created);
  logKeySecret ??= await localSecret(settings, 'log-key', () => generateLogKeySecret(origin), created);

  let partnerKeys = readPartnerKeys(settings.keysDir);
  if (!settings.production) {
    const dirs = { keysDir: settings.keysDir, privateDir: settings.privateDir };
    let changed = false;
    for (const p of covenant.partners.keys()) {
      if (!partnerKeys.has(p) || !existsSync(join(settings.privateDir, `${p}.jwk.json`))) {
        const k = await generatePartnerKey(p, dirs);
        created.push(k.privatePath, ...(k.encryption ? [k.encryption.privatePath] : []));
        changed = true;
      } else if (!existsSync(join(settings.privateDir, `${p}.enc.jwk.json`))) {
        created.push((await generateEncryptionKey(p, dirs)).privatePath);
        changed = true;
      }
    }
    if (changed) partnerKeys = readPartnerKeys(settings.keysDir);
  }
  const config = buildHubConfig({
    hubId: settings.hubId,
    covenant,
    partnerKeys,
    hubKeys: parseHubKeyring(hubKeySecret),
    signer: await parseSigningKeys(signingSecret, nodeJwsSign),
    signatureCheck: nodeSignatureCheck(),
    log: { keys: parseLogKeys(logKeySecret, origin), maxMergeDelaySeconds: DEFAULT_MMD_SECONDS },
    webhooks: parseWebhooks(settings.webhooksSecret, covenant.partners),
  });
  return { config, bootstrap: { created } };
}

export async function openHubDatabase(settings: NodeSettings): Promise<Database> {
  if (settings.databaseUrl) return openDatabase({ url: settings.databaseUrl });
  mkdirSync(settings.dataDir, { recursive: true });
  return openDatabase({ dataDir: settings.dataDir });
}

/** Every start records which covenant version it enforces. */
export async function logCovenantLoaded(database: Database, config: HubConfig, now: Date): Promise<void> {
  await appendAudit(database.db, { at: now, requestId: `start-${crypto.randomUUID()}`, actor: null, covenantVersion: config.covenant.version }, [
    { action: 'covenant.loaded', outcome: 'ok', rule: null, detail: { covenant: config.covenant.id, files: config.covenant.files } },
  ]);
}
