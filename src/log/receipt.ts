// Receipts: every response whose request was logged carries, in the `Kenbaar-Receipt` header, the
// hub's signed promise that its audit entries (by uid and leaf hash) will be in a published
// checkpoint within the maximum merge delay, as certificate transparency's signed certificate
// timestamps do. The leaf hash is fixed at append time (src/audit/entry.ts leafInput v2), so the
// receipt needs no sequencer; `GET /v1/audit/proofs/{uid}` later turns it into a C2SP tlog-proof.
//
// A receipt is a compact JWS (`typ: kenbaar-receipt+jws`) by the hub's signing key, verifiable with
// /.well-known/jwks.json. The log key signs only checkpoints, so nothing else it signs can be
// mistaken for one.
import type { Context } from 'hono';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import type { Appended } from '../audit/store';
import type { AppEnv, HubSigner } from '../config';
import { fromBase64, fromUtf8, toBase64, unixSeconds } from '../encoding';
import { signJws } from '../signing';
import { answerHeader } from '../http/answer';

export const RECEIPT_HEADER = 'Kenbaar-Receipt';
export const RECEIPT_TYP = 'kenbaar-receipt+jws';
/** Checkpoints are signed every minute (Node timer, Worker cron); witnesses may add minutes. */
export const DEFAULT_MMD_SECONDS = 600;

export type ReceiptClaims = {
  /** The log's origin (c2sp.org/tlog-checkpoint). */
  log: string;
  /** The request's entries: uid and base64 RFC 6962 leaf hash. */
  entries: { uid: string; leaf: string }[];
  /** When the hub promised (unix seconds), and within how many seconds a checkpoint will include them. */
  iat: number;
  mmd: number;
};

/**
 * Entries this request appended (after their transaction committed): signs the request's receipt
 * over all of them so far and puts it on the answer before the answer is built (answerHeader), so
 * the response is made once with all its headers (src/http/middleware.ts answerHeaders).
 */
export async function noteAppended(c: Context<AppEnv>, appended: readonly Appended[]): Promise<void> {
  if (appended.length === 0) return;
  const all = [...(c.get('appended') ?? []), ...appended];
  c.set('appended', all);
  const config = c.get('config');
  const claims = receiptClaims(config.log.keys.origin, all, c.get('clock')(), config.log.maxMergeDelaySeconds);
  answerHeader(c, RECEIPT_HEADER, await signReceipt(config.signer, claims));
}

export function signReceipt(signer: HubSigner, claims: ReceiptClaims): Promise<string> {
  return signJws(signer, RECEIPT_TYP, claims);
}

export function receiptClaims(origin: string, appended: readonly Appended[], now: Date, mmd: number): ReceiptClaims {
  return {
    log: origin,
    entries: appended.map((a) => ({ uid: a.uid, leaf: toBase64(a.leafHash) })),
    iat: unixSeconds(now),
    mmd,
  };
}

/** The receipt's claims if its signature verifies against the hub's published keys, else null. */
export async function verifyReceipt(jws: string, keys: JWK[]): Promise<ReceiptClaims | null> {
  try {
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet({ keys }), { algorithms: ['EdDSA', 'ES256'] });
    if (protectedHeader.typ !== RECEIPT_TYP) return null;
    const claims = JSON.parse(fromUtf8(payload)) as ReceiptClaims;
    if (typeof claims.log !== 'string' || !Array.isArray(claims.entries) || !Number.isSafeInteger(claims.iat) || !Number.isSafeInteger(claims.mmd)) return null;
    for (const e of claims.entries) {
      if (typeof e?.uid !== 'string' || typeof e.leaf !== 'string' || fromBase64(e.leaf).length !== 32) return null;
    }
    return claims;
  } catch {
    return null;
  }
}
