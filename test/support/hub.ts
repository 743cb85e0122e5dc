// A real hub in the test process: the real app, the real covenant, a real database (PGlite by
// default; a fresh database on the PostgreSQL server when DATABASE_URL is set), real keys.
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import pg from 'pg';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { inject } from 'vitest';
import { createApp, type App } from '../../src/app';
import { HubClient, type Identity } from '../../src/client/client';
import { buildHubConfig, type HubConfig, type Limits } from '../../src/config';
import type { Covenant } from '../../src/covenant/index';
import type { Logger } from '../../src/log';
import { readConsoleAssets } from '../../src/node/console-assets';
import { loadCovenantDir } from '../../src/node/covenant-fs';
import { openDatabase, type Database } from '../../src/node/database';
import { nodeSignatureCheck } from '../../src/node/signature';
import { generateHubKeySecret, parseHubKeyring } from '../../src/pseudonym/hub-key';
import { generateSigningKeySecret, parseSigningKeys } from '../../src/signing';
import { generateLogKeySecret, parseLogKeys } from '../../src/log/checkpoint';
import { DEFAULT_MMD_SECONDS } from '../../src/log/receipt';
import type { Webhooks } from '../../src/webhooks/config';

export const LOG_ORIGIN = 'kenbaar.example/zvh-test';

export const DATABASE_URL = process.env.DATABASE_URL || undefined;
export const dbKind = DATABASE_URL ? 'postgres' : 'pglite';

let covenantCache: Covenant | undefined;
export function demoCovenant(): Covenant {
  covenantCache ??= loadCovenantDir(new URL('../../policies/zvh-demo', import.meta.url).pathname);
  return covenantCache;
}

/**
 * The covenant with no lookup limits: test clocks stand still, so a test's hundredth lookup would
 * fall in the same minute as its first. test/rate-limits.test.ts tests the limits themselves.
 */
export function withoutRateLimits(covenant: Covenant): Covenant {
  const partners = new Map([...covenant.partners].map(([id, p]) => [id, { ...p, rateLimits: { lookupsPerMinutePerProfessional: null, lookupsPerMinutePerPartner: null } }]));
  return { ...covenant, partners };
}

export type TestClock = { (): Date; now: Date; advance(ms: number): void; set(d: Date): void };
export function testClock(start = new Date('2026-11-23T09:00:00.000Z')): TestClock {
  const clock = (() => clock.now) as TestClock;
  clock.now = start;
  clock.advance = (ms) => {
    clock.now = new Date(clock.now.getTime() + ms);
  };
  clock.set = (d) => {
    clock.now = d;
  };
  return clock;
}

const keyCache = new Map<string, Promise<{ privateJwk: JWK; publicJwk: JWK }>>();
const encCache = new Map<string, Promise<{ privateJwk: JWK; publicJwk: JWK }>>();
/** The partner's encryption key (use "enc", ECDH-ES P-256): hand-over content is encrypted to it. */
export function partnerEncryptionKey(partner: string) {
  let p = encCache.get(partner);
  if (!p) {
    p = (async () => {
      const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
      const kid = `${partner}-test-enc`;
      return {
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ECDH-ES', use: 'enc' },
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ECDH-ES', use: 'enc' },
      };
    })();
    encCache.set(partner, p);
  }
  return p;
}

export function partnerKey(partner: string, n = 0) {
  const id = `${partner}#${n}`;
  let p = keyCache.get(id);
  if (!p) {
    p = (async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
      const kid = `${partner}-test-${n}`;
      return {
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' },
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
      };
    })();
    keyCache.set(id, p);
  }
  return p;
}

/** One statement on a PostgreSQL server over a connection of its own (create or drop a database). */
export async function adminExec(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A database for one test file: loaded from the migrated snapshot, or a fresh server database (and its URL). */
export async function testDatabase(): Promise<Database & { url?: string }> {
  if (!DATABASE_URL) {
    const snapshot = readFileSync(inject('pgliteSnapshot'));
    const pglite = new PGlite({ loadDataDir: new Blob([snapshot]) });
    return openDatabase({ pglite });
  }
  const name = `kenbaar_t_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`;
  await adminExec(DATABASE_URL, `create database ${name}`);
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), max: 40 });
  return {
    ...database,
    url: url.toString(),
    close: async () => {
      await database.close();
      await adminExec(DATABASE_URL, `drop database if exists ${name} with (force)`);
    },
  };
}

export type TestHub = {
  app: App;
  database: Database;
  config: HubConfig;
  clock: TestClock;
  /** Where the hub answers: a real 127.0.0.1 URL with `http: true`, else a placeholder for app.request. */
  url: string;
  /** A client acting as a partner in a role (the partner's key, sub defaults to `<partner>-user`). */
  as(partner: string, role: string, sub?: string): Promise<HubClient>;
  identity(partner: string, role: string, sub?: string): Promise<Identity>;
  close(): Promise<void>;
};

export type TestHubOptions = {
  covenant?: Covenant;
  /** Serve the app over real HTTP on 127.0.0.1 (an ephemeral port) instead of in-process. */
  http?: boolean;
  /** Public keys published next to `partnerKey(partner)` in a partner's JWKS (rotation, EdDSA). */
  extraPartnerKeys?: Record<string, JWK[]>;
  /** Limits other than the defaults (e.g. a small maxBodyBytes to test 413 cheaply). */
  limits?: Partial<Limits>;
  /** The server log (default: JSON lines on stderr); a test passes one to capture and scan it. */
  log?: Logger;
  /** Mount the web console at /console (with `http`, open it at http://localhost:<port>). */
  console?: boolean;
  /** Partners told by webhook (KENBAAR_WEBHOOKS, parsed: src/webhooks/config.ts). */
  webhooks?: Webhooks;
};

/** A hub configuration: the covenant, every partner's test keys, fresh hub secrets. */
export async function testHubConfig(opts: Pick<TestHubOptions, 'covenant' | 'extraPartnerKeys' | 'limits'> = {}): Promise<HubConfig> {
  const covenant = opts.covenant ?? withoutRateLimits(demoCovenant());
  const partnerKeys = new Map<string, { keys: JWK[] }>();
  for (const p of covenant.partners.keys()) {
    partnerKeys.set(p, { keys: [(await partnerKey(p)).publicJwk, (await partnerEncryptionKey(p)).publicJwk, ...(opts.extraPartnerKeys?.[p] ?? [])] });
  }
  return buildHubConfig({
    ...(opts.limits ? { limits: opts.limits } : {}),
    hubId: 'urn:kenbaar:hub:test',
    covenant,
    partnerKeys,
    hubKeys: parseHubKeyring(generateHubKeySecret(1)),
    signer: await parseSigningKeys(await generateSigningKeySecret()),
    signatureCheck: nodeSignatureCheck(), // as the Node edge does (src/node/hub.ts)
    log: { keys: parseLogKeys(generateLogKeySecret(LOG_ORIGIN), LOG_ORIGIN), maxMergeDelaySeconds: DEFAULT_MMD_SECONDS },
  });
}

/** A professional of a partner in a role, signing with the partner's test key. */
export async function testIdentity(partner: string, role: string, sub = `${partner}-user`): Promise<Identity> {
  return { key: { partner, jwk: (await partnerKey(partner)).privateJwk }, sub, role };
}

export async function startTestHub(opts: TestHubOptions = {}): Promise<TestHub> {
  const config = { ...(await testHubConfig(opts)), ...(opts.webhooks ? { webhooks: opts.webhooks } : {}) };
  const database = await testDatabase();
  const clock = testClock();
  const app = createApp(() => ({ config, db: database.db, raw: database.raw, clock, ...(opts.log ? { log: opts.log } : {}) }), opts.console ? { console: { assets: readConsoleAssets() } } : {});
  // In-process by default (fast); over real HTTP on 127.0.0.1 when asked (end-to-end tests).
  let baseUrl = 'http://hub.test';
  let fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => app.request(String(input), init)) as typeof fetch;
  let server: ServerType | undefined;
  if (opts.http) {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    const address = server.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${address.port}`;
    fetchImpl = fetch;
  }
  const identity = testIdentity;
  return {
    app,
    database,
    config,
    clock,
    identity,
    url: baseUrl,
    as: async (partner, role, sub) => new HubClient(baseUrl, config.hubId, await identity(partner, role, sub), fetchImpl, clock),
    close: async () => {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await database.close();
    },
  };
}
