// Defaults the command line shows in --help and the commands use; here so that cli.ts can show
// them without loading the commands themselves.
export const DEFAULT_URL = 'http://127.0.0.1:8787';

/** The hub's ceiling for one registration batch (DEFAULT_LIMITS.maxBatch). */
export const MAX_BATCH = 10_000;

export const KEY_ALGS = ['ES256', 'EdDSA'] as const;
export type KeyAlg = (typeof KEY_ALGS)[number];

/** The hub's production secrets (`kenbaar secrets`): their variable, their file in an --out-dir. */
export const SECRETS = {
  'hub-key': { env: 'KENBAAR_HUB_KEY', file: 'hub-key', what: 'pseudonym keyring' },
  'signing-key': { env: 'KENBAAR_SIGNING_KEY', file: 'signing-key.json', what: 'checkpoint and grant signing key' },
  'log-key': { env: 'KENBAAR_LOG_KEY', file: 'log-key', what: 'transparency log note key (Ed25519)' },
} as const;
export type SecretName = keyof typeof SECRETS;
export const SECRET_NAMES = Object.keys(SECRETS) as SecretName[];
