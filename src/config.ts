// What the app is built with. Everything a request needs reaches it through `Deps`, injected into
// the Hono context by app.ts: no module-level singletons, no process.env in the core.
import type { JSONWebKeySet, JWK } from 'jose';
import type { Covenant, Actor } from './covenant/index';
import type { Db, RawQuery } from './db/types';
import type { Logger } from './log';
import type { HubKeyring } from './pseudonym/hub-key';
import { partnerKeyring, type PartnerKeyring } from './auth/keyring';
import type { SignatureCheck } from './auth/signature';
import type { Appended } from './audit/store';
import type { LogKeys } from './log/checkpoint';
import type { Webhooks } from './webhooks/config';

/** Public keys of each partner system, by partner id (keys/<partner>.jwks.json). */
export type PartnerKeys = ReadonlyMap<string, JSONWebKeySet>;

/**
 * Signs a JWS signing input with the hub's private key: the raw JWS signature (Ed25519, or ES256 as
 * r || s). Injected by the runtime's edge: WebCrypto by default (the Worker), node:crypto on Node.
 */
export type JwsSign = (signingInput: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** The hub's own signing key (receipts, disclosure grants, checkpoints' JWS); `published` also lists retired keys. */
export type HubSigner = {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  sign: JwsSign;
  published: JWK[];
};

export type Limits = {
  maxBodyBytes: number;
  maxBatch: number;
  tokenMaxLifetimeSeconds: number;
  clockSkewSeconds: number;
};

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxBatch: 10_000,
  tokenMaxLifetimeSeconds: 300,
  clockSkewSeconds: 30,
};

export type HubConfig = {
  /** The hub's identifier: the `aud` partners must put in their tokens. */
  hubId: string;
  covenant: Covenant;
  partnerKeys: PartnerKeys;
  /** Derived from partnerKeys by buildHubConfig: key sets imported once. */
  keyring: PartnerKeyring;
  /** How token signatures are checked: injected by the runtime's edge (default WebCrypto). */
  signatureCheck?: SignatureCheck;
  hubKeys: HubKeyring;
  signer: HubSigner;
  /** The transparency log: origin and Ed25519 note key(s) for checkpoints (src/log/). */
  log: LogConfig;
  limits: Limits;
  /** Partners told of new match notices and break-glass by webhook (KENBAAR_WEBHOOKS; src/webhooks/). */
  webhooks?: Webhooks;
};

export type LogConfig = {
  keys: LogKeys;
  /** Receipts promise inclusion in a checkpoint within this many seconds (cf. CT's maximum merge delay). */
  maxMergeDelaySeconds: number;
  /** How long the hub waits for a witness before counting it offline (default 5 s). */
  witnessTimeoutMs?: number;
};

/** The origin line of a covenant's log when none is configured. */
export const defaultLogOrigin = (covenantId: string) => `kenbaar.example/${covenantId}`;

export type Clock = () => Date;

/**
 * `raw`: the edge's fixed-statement runner for the lookup's select and readThenLog's entries (without
 * it, drizzle runs the same statements); `log`: the server log (codes and ids only, src/log.ts), JSON lines on stderr when not given.
 */
export type Deps = { config: HubConfig; db: Db; raw?: RawQuery; clock: Clock; log?: Logger };

export type AppEnv = {
  Variables: {
    config: HubConfig;
    db: Db;
    raw: RawQuery | undefined;
    clock: Clock;
    log: Logger;
    requestId: string;
    /** Set by the auth middleware once the partner token verified. */
    actor: Actor;
    token: { jti: string; exp: Date };
    /** The rule that decided the request's last audit entry (for the access log). */
    rule: string | undefined;
    /** Set once this request's outcome is in the audit log (so onError does not log it twice). */
    audited: boolean;
    /** The audit entries this request committed: its receipt names them (src/log/receipt.ts). */
    appended: Appended[];
    /** Set only where receipts are turned off, to measure what they cost (bench/transparency-1m.ts). */
    receiptsOff: boolean;
    /** Headers of this request's answer, set before it is built (src/http/answer.ts). */
    answerHeaders: Record<string, string>;
  };
};

export function buildHubConfig(input: Omit<HubConfig, 'keyring' | 'limits'> & { limits?: Partial<Limits> }): HubConfig {
  return {
    ...input,
    keyring: partnerKeyring(input.partnerKeys, input.signatureCheck),
    limits: { ...DEFAULT_LIMITS, ...input.limits },
  };
}
