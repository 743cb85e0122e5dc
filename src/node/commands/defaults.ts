// Defaults the command line shows in --help and the commands use; here so that cli.ts can show
// them without loading the commands themselves.
export const DEFAULT_URL = 'http://127.0.0.1:8787';

/** The hub's ceiling for one registration batch (DEFAULT_LIMITS.maxBatch). */
export const MAX_BATCH = 10_000;

export const KEY_ALGS = ['ES256', 'EdDSA'] as const;
export type KeyAlg = (typeof KEY_ALGS)[number];
