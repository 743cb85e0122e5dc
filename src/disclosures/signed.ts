// Signed documents from partners (a disclosure request's justification, a broker's decision): compact
// JWS, verified against the keys of the partner whose token carried it. Kept verbatim by the hub (a
// request's sealed at rest: at-rest.ts), so whoever may read one can re-verify it later with the
// partner's public JWKS.
//
// A document is bound to what it is: its protected header names its kind (`typ`, one per kind, so
// a signed decision can never be replayed as a request or the other way round), its payload names
// this hub (`aud`, so a document made for another hub is refused here) and when it was signed
// (`iat`, no older than a token may live, so a document signed long ago is not accepted now).
import { compactVerify, decodeProtectedHeader } from 'jose';
import type { PartnerKeyring } from '../auth/keyring';
import type { HubConfig } from '../config';
import { PARTNER_ALGS } from '../auth/token';
import { Problem } from '../errors';
import { fromUtf8, unixSeconds } from '../encoding';

/** The JOSE `typ` of each kind of signed document. Part of the API contract. */
export const DOCUMENT_TYPES = {
  request: 'kenbaar-disclosure-request+jws',
  decision: 'kenbaar-disclosure-decision+jws',
} as const;
export type DocumentKind = keyof typeof DOCUMENT_TYPES;

/** What a document must be to be accepted: its kind, this hub, and the time window around now. */
export type DocumentPolicy = {
  kind: DocumentKind;
  /** The hub's id: the document's `aud`. */
  audience: string;
  now: Date;
  /** Oldest accepted `iat`, in seconds before now (the token lifetime). */
  maxAgeSeconds: number;
  clockSkewSeconds: number;
};

const refuse = (field: string, reason: string, detail = reason) =>
  new Problem('invalid-signature', `${field}: ${detail}`, { errors: [{ field, reason }] });

/**
 * Verify `jws` as signed by `partner` and as a document of `policy.kind` for this hub, signed
 * within the window; the payload is returned as parsed JSON. `field` names the body field.
 */
export async function verifySignedBy(
  jws: string,
  keyring: PartnerKeyring,
  partner: string,
  field: string,
  policy: DocumentPolicy,
): Promise<Record<string, unknown>> {
  let kid: string | undefined;
  let alg: string | undefined;
  try {
    ({ kid, alg } = decodeProtectedHeader(jws));
  } catch {
    throw refuse(field, 'not a compact JWS');
  }
  if (!PARTNER_ALGS.includes(alg as (typeof PARTNER_ALGS)[number])) {
    throw refuse(field, 'unsupported algorithm', `algorithm ${String(alg)} is not accepted; sign with ES256 or EdDSA`);
  }
  if (!kid || !keyring.owns(partner, kid)) {
    // Signed, perhaps validly, but not by the partner that is asking: never accepted on its behalf.
    throw new Problem('forbidden', `${field}: signed with a key that is not ${partner}'s`, { rule: 'signer-not-requester', errors: [{ field, reason: 'signed by another partner than the token' }] });
  }
  const keySet = keyring.keySet(partner)!;
  let verified: Awaited<ReturnType<typeof compactVerify>>;
  try {
    verified = await compactVerify(jws, keySet, { algorithms: [...PARTNER_ALGS] });
  } catch {
    throw refuse(field, 'signature does not verify', 'the signature does not verify');
  }
  const typ = DOCUMENT_TYPES[policy.kind];
  if (verified.protectedHeader.typ !== typ) {
    throw refuse(`${field}.typ`, `must be ${typ}`, `the document is typed ${JSON.stringify(verified.protectedHeader.typ ?? null)}, not ${typ}`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(fromUtf8(verified.payload));
  } catch {
    throw refuse(field, 'payload is not JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw refuse(field, 'payload is not a JSON object');
  const claims = payload as Record<string, unknown>;
  if (claims.aud !== policy.audience) {
    throw refuse(`${field}.aud`, `must be ${policy.audience}`, `the document is not addressed to this hub (aud must be ${policy.audience})`);
  }
  checkIssuedAt(claims.iat, `${field}.iat`, policy);
  return claims;
}

/**
 * Verify a document of `kind` that `partner` sent to this hub now (the body field has the kind's
 * name): this hub's id as audience, no older than a token may live, the hub's clock skew.
 */
export function verifyDocument(config: HubConfig, partner: string, kind: DocumentKind, jws: string, now: Date) {
  return verifySignedBy(jws, config.keyring, partner, kind, {
    kind,
    audience: config.hubId,
    now,
    maxAgeSeconds: config.limits.tokenMaxLifetimeSeconds,
    clockSkewSeconds: config.limits.clockSkewSeconds,
  });
}

/** `iat`: whole seconds, not after now (give or take the skew), not older than the window. */
function checkIssuedAt(iat: unknown, field: string, policy: DocumentPolicy): void {
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat)) throw refuse(field, 'must be a whole number of seconds since 1970');
  const now = unixSeconds(policy.now);
  if (iat > now + policy.clockSkewSeconds) throw refuse(field, 'in the future', 'the document is signed in the future');
  if (iat < now - policy.maxAgeSeconds - policy.clockSkewSeconds) {
    throw refuse(field, 'too old', `the document was signed more than ${policy.maxAgeSeconds} s ago; sign it when you send it`);
  }
}
