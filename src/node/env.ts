// The only place that reads process.env. Everything else gets a typed NodeSettings.
import { join } from 'node:path';
import { DEFAULT_PATHS } from './paths';

export type NodeSettings = {
  databaseUrl: string | undefined;
  dataDir: string;
  covenantDir: string;
  keysDir: string;
  localDir: string;
  privateDir: string;
  hubKeySecret: string | undefined;
  signingKeySecret: string | undefined;
  /**
   * The covenant key (base64url, at least 32 bytes) that partner-side tools (`kenbaar pseudonymise`,
   * `register`, `lookup`, the demo) pseudonymise BSNs with. Partner side only: the hub never reads it.
   */
  covenantKeySecret: string | undefined;
  hubId: string;
  host: string;
  port: number;
  production: boolean;
  /** KENBAAR_METRICS_TOKEN: the bearer token for GET /metrics; unset, the hub serves no metrics. */
  metricsToken: string | undefined;
};

export function readSettings(env: NodeJS.ProcessEnv = process.env): NodeSettings {
  const localDir = env.KENBAAR_LOCAL_DIR ?? DEFAULT_PATHS.localDir;
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.KENBAAR_DATA_DIR ?? DEFAULT_PATHS.dataDir,
    covenantDir: env.KENBAAR_COVENANT_DIR ?? DEFAULT_PATHS.covenantDir,
    keysDir: env.KENBAAR_KEYS_DIR ?? DEFAULT_PATHS.keysDir,
    localDir,
    privateDir: env.KENBAAR_PRIVATE_DIR ?? join(localDir, 'private'),
    hubKeySecret: env.KENBAAR_HUB_KEY || undefined,
    signingKeySecret: env.KENBAAR_SIGNING_KEY || undefined,
    covenantKeySecret: env.KENBAAR_COVENANT_KEY || undefined,
    hubId: env.KENBAAR_HUB_ID ?? 'urn:kenbaar:hub',
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 8787),
    production: env.NODE_ENV === 'production',
    metricsToken: env.KENBAAR_METRICS_TOKEN || undefined,
  };
}
