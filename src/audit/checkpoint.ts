// Signed tree heads. Each checkpoint is signed twice: as a C2SP signed note by the log key
// (c2sp.org/tlog-checkpoint: origin, size, base64 root; src/log/checkpoint.ts), what witnesses
// cosign and /log/checkpoint serves; and, for verifiers of before migration 0005, as a compact JWS
// (size, root, time) by the hub's signing key, checked with /.well-known/jwks.json. A later rewrite
// of the log by whoever controls the database shows up as a mismatch against heads it cannot re-sign.
import { compactVerify, createLocalJWKSet, type JWK } from 'jose';
import type { HubConfig, HubSigner } from '../config';
import { signCheckpoint as signNote } from '../log/checkpoint';
import type { Db } from '../db/types';
import { fromHex, fromUtf8, unixSeconds, utf8 } from '../encoding';
import { signJws } from '../signing';
import { insertCheckpoint, integrateAll, type Checkpoint } from './store';

export const CHECKPOINT_TYP = 'kenbaar-checkpoint+jws';

export type CheckpointClaims = { iss: string; size: number; root: string; iat: number };

export function signCheckpoint(signer: HubSigner, claims: CheckpointClaims): Promise<string> {
  return signJws(signer, CHECKPOINT_TYP, claims);
}

/**
 * Integrate what is pending, then sign and store a checkpoint of the resulting tree: a C2SP signed
 * note by the log key (c2sp.org/tlog-checkpoint) and, for verifiers of before 0005, the same head
 * as a JWS by the signing key.
 */
export async function createCheckpoint(db: Db, config: Pick<HubConfig, 'signer' | 'hubId' | 'log'>, now: Date): Promise<Checkpoint> {
  const { signer, hubId } = config;
  const head = await integrateAll(db, now);
  const claims: CheckpointClaims = {
    iss: hubId,
    size: head.size,
    root: head.root,
    iat: unixSeconds(now),
  };
  const jws = await signCheckpoint(signer, claims);
  const note = signNote(config.log.keys, head.size, fromHex(head.root));
  return insertCheckpoint(db, { size: head.size, root: head.root, issuedAt: now, kid: signer.kid, jws, note });
}

/** The claims of a checkpoint JWS if its signature verifies against `keys`, else null. */
export async function verifyCheckpointJws(jws: string, keys: JWK[]): Promise<CheckpointClaims | null> {
  try {
    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet({ keys }), {
      algorithms: ['EdDSA', 'ES256'],
    });
    if (protectedHeader.typ !== CHECKPOINT_TYP) return null;
    const claims = JSON.parse(fromUtf8(payload)) as CheckpointClaims;
    if (!Number.isSafeInteger(claims.size) || typeof claims.root !== 'string') return null;
    return claims;
  } catch {
    return null;
  }
}
