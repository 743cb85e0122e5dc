// The only place that reads process.env (and hands out the process's streams). Everything else
// gets a typed NodeSettings, and the CLI a CliIo.
import { join } from 'node:path';
import { DEFAULT_PATHS } from './paths';

export type NodeSettings = {
  databaseUrl: string | undefined;
  dataDir: string;
  covenantDir: string;
  keysDir: string;
  /** KENBAAR_KEYS_DIR as set, without the development default: what a Worker build bundles. */
  keysDirFromEnv: string | undefined;
  localDir: string;
  privateDir: string;
  hubKeySecret: string | undefined;
  signingKeySecret: string | undefined;
  /** Secret: the log's Ed25519 note key(s) (src/log/checkpoint.ts parseLogKeys). */
  logKeySecret: string | undefined;
  /** The log's origin line (c2sp.org/tlog-checkpoint); default `kenbaar.example/<covenant id>`. */
  logOrigin: string | undefined;
  /**
   * The covenant key (base64url, at least 32 bytes) that partner-side tools (`kenbaar pseudonymise`,
   * `register`, `lookup`, the demo) pseudonymise BSNs with. Partner side only: the hub never reads it.
   */
  covenantKeySecret: string | undefined;
  hubId: string;
  /** The hub the partner-side commands call when --url is not given (KENBAAR_URL). */
  hubUrl: string | undefined;
  host: string;
  port: number;
  production: boolean;
  /** Secret: KENBAAR_WEBHOOKS, JSON `{ "<partnerId>": { "url", "secret": "whsec_..." } }` (src/webhooks/config.ts). */
  webhooksSecret: string | undefined;
  /** KENBAAR_METRICS_TOKEN: the bearer token for GET /metrics; unset, the hub serves no metrics. */
  metricsToken: string | undefined;
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
    keysDirFromEnv: env.KENBAAR_KEYS_DIR || undefined,
    localDir,
    privateDir: env.KENBAAR_PRIVATE_DIR ?? join(localDir, 'private'),
    hubKeySecret: env.KENBAAR_HUB_KEY || undefined,
    signingKeySecret: env.KENBAAR_SIGNING_KEY || undefined,
    logKeySecret: env.KENBAAR_LOG_KEY || undefined,
    logOrigin: env.KENBAAR_LOG_ORIGIN || undefined,
    covenantKeySecret: env.KENBAAR_COVENANT_KEY || undefined,
    hubId: env.KENBAAR_HUB_ID ?? 'urn:kenbaar:hub',
    hubUrl: env.KENBAAR_URL || undefined,
    host: env.HOST ?? '127.0.0.1',
    port: Number(env.PORT ?? 8787),
    production: env.NODE_ENV === 'production',
    metricsToken: env.KENBAAR_METRICS_TOKEN || undefined,
    webhooksSecret: env.KENBAAR_WEBHOOKS || undefined,
    consoleUrl: env.KENBAAR_CONSOLE_URL ? env.KENBAAR_CONSOLE_URL.replace(/\/+$/, '') : undefined,
  };
}

/** The streams and environment a CLI run reads and writes: the process's, or a test's. */
export type CliIo = {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
};

export function processIo(): CliIo {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}
