// Disclosure grants: JWTs the hub signs with its signing key. A holder verifies one offline with
// jose and the hub's JWKS (/.well-known/jwks.json) alone; nothing else of ours is needed.
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import type { HubSigner } from '../config';
import { toBase64Url, unixSeconds, utf8 } from '../encoding';
import { hmacSha256 } from '../hashing';
import { signJws } from '../signing';

export const GRANT_TYP = 'kenbaar-grant+jwt';

export type GrantClaims = {
  /** The grant id; also the JWT's jti. */
  grant: string;
  request: string;
  requester: string;
  holder: string;
  /** The holder's own registration of the person: how the holder knows whom the grant is about. */
  registration: string;
  /** Grant-scoped reference to the person: stable within this grant, unlinkable across grants. */
  subjectRef: string;
  categories: string[];
  purpose: string;
  legalBasis: string;
  caseRef: string;
  breakGlass: boolean;
  issuedAt: Date;
  expiresAt: Date;
};

export function grantSubjectRef(hubKey: Uint8Array, grantId: string, storedSubject: string): string {
  return toBase64Url(hmacSha256(hubKey, utf8(`kenbaar:v1:grant:${grantId}:${storedSubject}`)));
}

export function signGrant(signer: HubSigner, hubId: string, g: GrantClaims): Promise<string> {
  return signJws(signer, GRANT_TYP, {
    request: g.request,
    requester: g.requester,
    holder: g.holder,
    registration: g.registration,
    categories: g.categories,
    purpose: g.purpose,
    legalBasis: g.legalBasis,
    caseRef: g.caseRef,
    breakGlass: g.breakGlass,
    iss: hubId,
    aud: g.holder,
    sub: g.subjectRef,
    jti: g.grant,
    iat: unixSeconds(g.issuedAt),
    exp: unixSeconds(g.expiresAt),
  });
}

export type VerifiedGrant = { grant: string; holder: string; requester: string; request: string; expiresAt: Date; categories: string[] };

/** Verify a grant as the hub itself does on hand-over (holders do the same with jose + JWKS). */
export async function verifyGrant(jwt: string, hubKeys: JWK[], hubId: string, now: Date): Promise<VerifiedGrant> {
  const { payload } = await jwtVerify(jwt, createLocalJWKSet({ keys: hubKeys }), {
    issuer: hubId,
    typ: GRANT_TYP,
    currentDate: now,
    algorithms: ['EdDSA', 'ES256'],
    requiredClaims: ['jti', 'aud', 'exp'],
  });
  return {
    grant: payload.jti as string,
    holder: payload.aud as string,
    requester: payload.requester as string,
    request: payload.request as string,
    expiresAt: new Date((payload.exp as number) * 1000),
    categories: payload.categories as string[],
  };
}
