// What the Worker is given by the platform: the bindings named in wrangler.toml and the secrets
// set with `wrangler secret put` (or .dev.vars / --env-file under `wrangler dev`). Types only: the
// Workers runtime types are imported by module, never as globals, so the Node typecheck keeps its
// own Request/Response.
import type { ExecutionContext, Hyperdrive, ScheduledController } from '@cloudflare/workers-types';
import type { JSONWebKeySet } from 'jose';

export type { ExecutionContext, ScheduledController };

export type WorkerEnv = {
  /** Hyperdrive in front of the hub's PostgreSQL database (already migrated). */
  HYPERDRIVE: Hyperdrive;
  /** Secret: the hub pseudonym keyring, `v<N>:<base64url>[,...]` (src/pseudonym/hub-key.ts). */
  KENBAAR_HUB_KEY: string;
  /** Secret: the hub signing key, a private JWK as JSON, or an array of them (src/signing.ts). */
  KENBAAR_SIGNING_KEY: string;
  /** Secret: the log's Ed25519 note key(s), `PRIVATE+KEY+<origin>+...` (src/log/checkpoint.ts). */
  KENBAAR_LOG_KEY: string;
  /** Var (optional): the log's origin line; default `kenbaar.example/<covenant id>`. */
  KENBAAR_LOG_ORIGIN?: string;
  /** Secret (optional): partners' webhooks, JSON `{ "<partnerId>": { "url", "secret": "whsec_..." } }` (src/webhooks/config.ts). */
  KENBAAR_WEBHOOKS?: string;
  /** Var: the hub id partners put in `aud`. */
  KENBAAR_HUB_ID: string;
};

/** Compiled in at build time by scripts/bundle-worker-config.ts (workerd has no file system). */
export type WorkerBundle = {
  covenantFiles: Record<string, string>;
  partnerKeys: Record<string, JSONWebKeySet>;
  /** The console's static files (src/console/assets and the vendored browser libraries). */
  consoleAssets?: Record<string, { type: string; body: string }>;
};
