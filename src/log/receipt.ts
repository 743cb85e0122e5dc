// Receipts: every response whose request was logged carries, in the `Kenbaar-Receipt` header, the
// hub's signed promise that its audit entries (by uid and leaf hash) will be in a published
// checkpoint within the maximum merge delay, as certificate transparency's signed certificate
// timestamps do. The leaf hash is fixed at append time (src/audit/entry.ts leafInput v2), so the
// receipt needs no sequencer; `GET /v1/audit/proofs/{uid}` later turns it into a C2SP tlog-proof.
//
// A receipt is a compact JWS (`typ: kenbaar-receipt+jws`) by the hub's signing key, verifiable with
// /.well-known/jwks.json. The log key signs only checkpoints, so nothing else it signs can be
// mistaken for one.
//
// Its size is bounded: up to INLINE_ENTRIES entries are named one by one; an answer with more (a
// batch of 10,000 registrations, a long match feed) gets a receipt over all of them at once: their
// number, the RFC 6962 Merkle Tree Hash of their leaf hashes in append order, and the uids of the
// first and the last. The partner fetches the list (GET /v1/audit/receipts/entries?first=&last=),
// checks that it hashes to the signed root, and proves each entry's inclusion like any other
// (src/log/verifier.ts checkReceipt). Without the bound, a 10,000-item batch's header was ~1.6 MB,
// beyond every HTTP header limit (16 KiB in Node, less at many proxies).
import type { Context } from 'hono';
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import type { Appended } from '../audit/store';
import type { AppEnv, HubSigner } from '../config';
import { rootOf } from '../audit/merkle';
import { fromBase64, fromUtf8, toBase64, unixSeconds } from '../encoding';
import { signJws } from '../signing';
import { answerHeader } from '../http/answer';

export const RECEIPT_HEADER = 'Kenbaar-Receipt';
export const RECEIPT_TYP = 'kenbaar-receipt+jws';
/** Checkpoints are signed every minute (Node timer, Worker cron); witnesses may add minutes. */
export const DEFAULT_MMD_SECONDS = 600;

/** Receipts name at most this many entries one by one (a header of ~2.5 KiB at most). */
export const INLINE_ENTRIES = 16;

export type ReceiptEntry = { uid: string; leaf: string };

type ReceiptPromise = {
  /** The log's origin (c2sp.org/tlog-checkpoint). */
  log: string;
  /** When the hub promised (unix seconds), and within how many seconds a checkpoint will include them. */
  iat: number;
  mmd: number;
};

/** Up to INLINE_ENTRIES entries: each by uid and base64 RFC 6962 leaf hash. */
export type InlineReceipt = ReceiptPromise & { entries: ReceiptEntry[] };

/** More entries: their number, the Merkle Tree Hash (base64) of their leaf hashes in order, first and last uid. */
export type BatchReceipt = ReceiptPromise & { count: number; root: string; first: string; last: string };

export type ReceiptClaims = InlineReceipt | BatchReceipt;

export const isBatchReceipt = (c: ReceiptClaims): c is BatchReceipt => !('entries' in c);

/** The root a batch receipt signs over its entries' leaf hashes (in the order they were appended). */
export function entriesRoot(entries: readonly ReceiptEntry[]): string {
  return toBase64(rootOf(entries.map((e) => fromBase64(e.leaf))));
}

/**
 * Entries this request appended (after their transaction committed): signs the request's receipt
 * over all of them so far and puts it on the answer before the answer is built (answerHeader), so
 * the response is made once with all its headers (src/http/answer.ts; inject checks it after the route).
 */
export async function noteAppended(c: Context<AppEnv>, appended: readonly Appended[]): Promise<void> {
  if (appended.length === 0) return;
  const all = [...(c.get('appended') ?? []), ...appended];
  c.set('appended', all);
  if (c.get('receiptsOff')) return;
  const config = c.get('config');
  const claims = receiptClaims(config.log.keys.origin, all, c.get('clock')(), config.log.maxMergeDelaySeconds);
  answerHeader(c, RECEIPT_HEADER, await signReceipt(config.signer, claims));
}

export function signReceipt(signer: HubSigner, claims: ReceiptClaims): Promise<string> {
  return signJws(signer, RECEIPT_TYP, claims);
}

export function receiptClaims(origin: string, appended: readonly Appended[], now: Date, mmd: number): ReceiptClaims {
  const promise = { log: origin, iat: unixSeconds(now), mmd };
  const entries = appended.map((a) => ({ uid: a.uid, leaf: toBase64(a.leafHash) }));
  if (entries.length <= INLINE_ENTRIES) return { ...promise, entries };
  return { ...promise, count: entries.length, root: entriesRoot(entries), first: entries[0]!.uid, last: entries.at(-1)!.uid };
}

/** The receipt's claims if its signature verifies against the hub's published keys, else null. */
export async function verifyReceipt(jws: string, keys: JWK[]): Promise<ReceiptClaims | null> {
  try {
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet({ keys }), { algorithms: ['EdDSA', 'ES256'] });
    if (protectedHeader.typ !== RECEIPT_TYP) return null;
    const claims = JSON.parse(fromUtf8(payload)) as ReceiptClaims;
    if (typeof claims.log !== 'string' || !Number.isSafeInteger(claims.iat) || !Number.isSafeInteger(claims.mmd)) return null;
    if (isBatchReceipt(claims)) {
      const { count, root, first, last } = claims;
      return Number.isSafeInteger(count) && count > INLINE_ENTRIES && typeof root === 'string' && fromBase64(root).length === 32 && typeof first === 'string' && typeof last === 'string' ? claims : null;
    }
    if (!Array.isArray(claims.entries)) return null;
    for (const e of claims.entries) {
      if (typeof e?.uid !== 'string' || typeof e.leaf !== 'string' || fromBase64(e.leaf).length !== 32) return null;
    }
    return claims;
  } catch {
    return null;
  }
}
