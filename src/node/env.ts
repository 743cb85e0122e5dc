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
  /**
   * Where people open the console (invitation links, the WebAuthn origin and RP id), when set.
   * Passkeys need a host name, not an IP address: by default http://localhost:<port>.
   */
  consoleUrl: string | undefined;
};

/** The console's public origin: KENBAAR_CONSOLE_URL, else http://localhost:<port>. */
export const consoleOrigin = (s: NodeSettings, port = s.port) => s.consoleUrl ?? `http://localhost:${port}`;

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
    consoleUrl: env.KENBAAR_CONSOLE_URL ? env.KENBAAR_CONSOLE_URL.replace(/\/+$/, '') : undefined,
  };
}
