// Partner authentication (RFC 7519 / RFC 7523 style bearer assertion): every call carries a
// short-lived JWT signed by the partner system's own key. We decide the key by (iss, kid) ourselves
// and pin the algorithms, so `alg: none` and HMAC-with-a-public-key confusion cannot get in.
// The signature is checked by the runtime's injected SignatureCheck (src/auth/signature.ts); the
// claims by jose's own claim-set validation, the same on every runtime.
import { decodeJwt, decodeProtectedHeader, errors, UnsecuredJWT, type JWTPayload } from 'jose';
import type { Actor } from '../covenant/index';
import { fromBase64Url, isWellFormedText, untrustedText, utf8 } from '../encoding';
import type { PartnerKeyring } from './keyring';
import { keyFits, PARTNER_ALGS, type PartnerAlg } from './signature';

export { PARTNER_ALGS };

/** A token is a few hundred bytes; anything near this is not one of ours, and is not decoded. */
export const MAX_TOKEN_LENGTH = 8192;
/** Every text claim (iss, sub, role, jti, and kid in the header) is at most this long. */
export const MAX_CLAIM_LENGTH = 200;
const TEXT_CLAIMS = ['iss', 'kid', 'sub', 'role', 'jti'] as const;
type TextClaim = (typeof TEXT_CLAIMS)[number];

export type VerifiedToken = { actor: Actor; jti: string; exp: Date };

export type AuthFailureReason =
  | 'missing-token'
  | 'malformed-token'
  | 'unsupported-alg'
  | 'unknown-issuer'
  | 'unknown-kid'
  | 'kid-not-owned-by-issuer'
  | 'bad-signature'
  | 'wrong-audience'
  | 'expired'
  | 'issued-in-future'
  | 'lifetime-too-long'
  | 'missing-claim'
  | 'invalid-claim'
  | 'unknown-role'
  | 'replayed-jti';

export class AuthError extends Error {
  /**
   * What the token claimed, for the audit entry only and never trusted for anything else: escaped
   * and bounded (`untrustedText`), so a NUL or a 1 MB claim is still logged.
   */
  readonly claimed: Partial<Record<TextClaim, string>>;

  constructor(
    readonly reason: AuthFailureReason,
    message: string,
    claimed: Partial<Record<TextClaim, string>> = {},
    /** The claim that is wrong, when one is (`token.sub`): named in the problem like a body field. */
    readonly claim?: TextClaim,
  ) {
    super(message);
    this.claimed = Object.fromEntries(Object.entries(claimed).map(([k, v]) => [k, untrustedText(v, MAX_CLAIM_LENGTH)]));
  }
}

export type TokenPolicy = {
  audience: string;
  now: Date;
  maxLifetimeSeconds: number;
  clockSkewSeconds: number;
};

export async function verifyPartnerToken(
  token: string,
  keyring: PartnerKeyring,
  policy: TokenPolicy,
): Promise<VerifiedToken> {
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed-token', `The bearer token is longer than ${MAX_TOKEN_LENGTH} characters`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch {
    throw new AuthError('malformed-token', 'The bearer token is not a JWT');
  }
  const texts: Record<TextClaim, unknown> = { iss: unverified.iss, kid: header.kid, sub: unverified.sub, role: unverified.role, jti: unverified.jti };
  const claimed = Object.fromEntries(TEXT_CLAIMS.flatMap((k) => (typeof texts[k] === 'string' ? [[k, texts[k]]] : []))) as Partial<Record<TextClaim, string>>;
  // Before anything looks a claim up or echoes it: text the database can store, of sane length.
  for (const k of TEXT_CLAIMS) {
    const v = claimed[k];
    if (v !== undefined && (!isWellFormedText(v) || v.length > MAX_CLAIM_LENGTH)) {
      throw new AuthError('invalid-claim', `Claim ${k} must be text without U+0000 or unpaired surrogates, at most ${MAX_CLAIM_LENGTH} characters`, claimed, k);
    }
  }
  if (!PARTNER_ALGS.includes(header.alg as (typeof PARTNER_ALGS)[number])) {
    throw new AuthError('unsupported-alg', `Algorithm ${String(header.alg)} is not accepted; use ES256 or EdDSA`, claimed);
  }
  const iss = claimed.iss;
  if (!iss || !keyring.keySet(iss)) throw new AuthError('unknown-issuer', 'The token issuer is not a partner of this covenant', claimed);
  if (!claimed.kid) throw new AuthError('unknown-kid', 'The token names no key (kid)', claimed);
  if (!keyring.owns(iss, claimed.kid)) {
    throw keyring.ownerOf(claimed.kid)
      ? new AuthError('kid-not-owned-by-issuer', `Key ${claimed.kid} does not belong to ${iss}`, claimed)
      : new AuthError('unknown-kid', `Key ${claimed.kid} is not a registered key of ${iss}`, claimed);
  }

  let payload: JWTPayload;
  try {
    payload = await verifiedClaims(token, header, keyring, claimed.kid, iss, policy);
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new AuthError('expired', 'The token has expired', claimed);
    if (e instanceof errors.JWTClaimValidationFailed) {
      // A claim that is absent is missing, whichever claim it is (not "in the future", not "wrong").
      if (e.reason === 'missing') throw new AuthError('missing-claim', `Claim ${e.claim} is missing`, claimed);
      if (e.claim === 'aud') throw new AuthError('wrong-audience', 'The token is not meant for this hub (aud)', claimed);
      if ((e.claim === 'iat' || e.claim === 'nbf') && e.reason === 'check_failed') {
        throw new AuthError('issued-in-future', 'The token is issued in the future', claimed);
      }
      throw new AuthError('missing-claim', `Claim ${e.claim} is missing or invalid`, claimed);
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) throw new AuthError('bad-signature', 'The token signature does not verify', claimed);
    throw new AuthError('malformed-token', 'The token could not be verified', claimed);
  }

  const iat = payload.iat as number;
  const exp = payload.exp as number;
  const nowS = policy.now.getTime() / 1000;
  if (iat > nowS + policy.clockSkewSeconds) throw new AuthError('issued-in-future', 'The token is issued in the future', claimed);
  if (exp - iat > policy.maxLifetimeSeconds) {
    throw new AuthError('lifetime-too-long', `Tokens may live at most ${policy.maxLifetimeSeconds} s`, claimed);
  }
  // jose checks that these are present, not what they are: the actor and the replay key must be
  // non-empty strings (a numeric sub would reach the audit log as the acting person).
  const { role, jti, sub } = payload;
  if (typeof role !== 'string' || role.length === 0) throw new AuthError('missing-claim', 'Claim role is missing', claimed);
  if (typeof sub !== 'string' || sub.length === 0) throw new AuthError('missing-claim', 'Claim sub must be a non-empty string', claimed);
  if (typeof jti !== 'string' || jti.length === 0) throw new AuthError('missing-claim', 'Claim jti must be a non-empty string', claimed);
  return {
    actor: { partner: iss, sub, role },
    jti,
    exp: new Date(exp * 1000),
  };
}

const UNSECURED_HEADER = 'eyJhbGciOiJub25lIn0'; // base64url of {"alg":"none"}

/**
 * What jose's jwtVerify does, with the signature step swapped for the runtime's check: a compact JWS
 * without `crit` or `b64` extensions, a signature the named key makes with the named algorithm, then
 * jose's claim-set validation (UnsecuredJWT.decode runs the same validateClaimsSet on the payload,
 * once the signature over it has verified). Throws jose's errors, so the caller maps one set.
 */
async function verifiedClaims(
  token: string,
  header: ReturnType<typeof decodeProtectedHeader>,
  keyring: PartnerKeyring,
  kid: string,
  iss: string,
  policy: TokenPolicy,
): Promise<JWTPayload> {
  const parts = token.split('.');
  if (parts.length !== 3 || header.crit !== undefined || header.b64 !== undefined) throw new errors.JWSInvalid('not a plain compact JWS');
  let signature: Uint8Array;
  try {
    signature = fromBase64Url(parts[2]!);
  } catch {
    throw new errors.JWSInvalid('the signature is not base64url');
  }
  const key = keyring.signingKey(kid)!;
  const alg = header.alg as PartnerAlg;
  if (!keyFits(key, alg, signature) || !(await keyring.checkSignature(key, alg, utf8(`${parts[0]}.${parts[1]}`), signature))) {
    throw new errors.JWSSignatureVerificationFailed();
  }
  return UnsecuredJWT.decode(`${UNSECURED_HEADER}.${parts[1]}.`, {
    issuer: iss,
    audience: policy.audience,
    currentDate: policy.now,
    clockTolerance: policy.clockSkewSeconds,
    requiredClaims: ['exp', 'iat', 'jti', 'sub'],
  }).payload;
}
