// Signed documents from partners (a disclosure request's justification, a broker's decision): compact
// JWS, verified against the keys of the partner whose token carried it. Kept verbatim by the hub,
// so anyone with the partner's public JWKS can re-verify them later.
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { PartnerKeyring } from '../auth/keyring';
import { PARTNER_ALGS } from '../auth/token';
import { Problem } from '../errors';

/** Verify `jws` as signed by `partner`; the payload is returned as parsed JSON. */
export async function verifySignedBy(
  jws: string,
  keyring: PartnerKeyring,
  partner: string,
  field: string,
): Promise<unknown> {
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    ({ kid, alg } = decodeProtectedHeader(jws));
  } catch {
    throw new Problem('invalid-signature', `${field}: not a compact JWS`, { errors: [{ field, reason: 'not a compact JWS' }] });
  }
  if (!PARTNER_ALGS.includes(alg as (typeof PARTNER_ALGS)[number])) {
    throw new Problem('invalid-signature', `${field}: algorithm ${String(alg)} is not accepted; sign with ES256 or EdDSA`, { errors: [{ field, reason: 'unsupported algorithm' }] });
  }
  if (!kid || !keyring.owns(partner, kid)) {
    // Signed, perhaps validly, but not by the partner that is asking: never accepted on its behalf.
    throw new Problem('forbidden', `${field}: signed with a key that is not ${partner}'s`, { rule: 'signer-not-requester', errors: [{ field, reason: 'signed by another partner than the token' }] });
  }
  const keySet = keyring.keySet(partner)!;
  try {
    const { payload } = await compactVerify(jws, keySet, { algorithms: [...PARTNER_ALGS] });
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw new Problem('invalid-signature', `${field}: the signature does not verify`, { errors: [{ field, reason: 'signature does not verify' }] });
  }
}
