// The hub's API document, from an app built in this process (no server, no database): for
// `npm run lint:openapi` (redocly) and `npm run client:generate` (openapi-typescript).
//   tsx scripts/openapi.ts <out.json>
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createApp } from '../src/app';
import { buildHubConfig } from '../src/config';
import type { Db } from '../src/db/types';
import { generateLogKeySecret, parseLogKeys } from '../src/log/checkpoint';
import { DEFAULT_MMD_SECONDS } from '../src/log/receipt';
import { loadCovenantDir } from '../src/node/covenant-fs';
import { generateHubKeySecret, parseHubKeyring } from '../src/pseudonym/hub-key';
import { generateSigningKeySecret, parseSigningKeys } from '../src/signing';

const ORIGIN = 'kenbaar.example/openapi';

/** The document as a hub at `origin` serves it; the demo covenant names it. */
export async function apiDocument(origin = 'https://hub.zvh-demo.test'): Promise<Record<string, unknown>> {
  const config = buildHubConfig({
    hubId: 'urn:kenbaar:hub:openapi',
    covenant: loadCovenantDir(new URL('../policies/zvh-demo', import.meta.url).pathname),
    partnerKeys: new Map(),
    hubKeys: parseHubKeyring(generateHubKeySecret(1)),
    signer: await parseSigningKeys(await generateSigningKeySecret()),
    log: { keys: parseLogKeys(generateLogKeySecret(ORIGIN), ORIGIN), maxMergeDelaySeconds: DEFAULT_MMD_SECONDS },
  });
  // /openapi.json never touches the database.
  const app = createApp(() => ({ config, db: undefined as unknown as Db, clock: () => new Date() }));
  const res = await app.request(`${origin}/openapi.json`);
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: tsx scripts/openapi.ts <out.json>');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(await apiDocument(), null, 2)}\n`);
}
