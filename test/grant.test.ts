// A disclosure grant is a JWT the hub signs; the holder checks it offline, the hub checks it again on
// hand-over. Checked here on `signGrant`/`verifyGrant` themselves: every claim the grant carries, its
// end to the second, and the grants it must refuse (another hub, another type, a claim missing,
// another key).
import { createHmac } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HubSigner } from '../src/config';
import { GRANT_TYP, grantSubjectRef, signGrant, verifyGrant, type GrantClaims } from '../src/disclosures/grant';
import { generateSigningKeySecret, parseSigningKeys, signJws } from '../src/signing';
import { unixSeconds } from '../src/encoding';

const HUB = 'urn:kenbaar:hub:grant-test';
const ISSUED = new Date('2026-11-23T09:00:00.400Z');
const EXPIRES = new Date('2026-11-23T10:00:00.700Z');
const EXP_S = Math.floor(EXPIRES.getTime() / 1000);

const claims = (change: Partial<GrantClaims> = {}): GrantClaims => ({
  grant: '7b0d1e5c-4a51-4c3e-9f1c-3d1f8e0b2a61',
  request: '0f3a9c2e-1b7d-4e8f-a6c5-9d2b4e7f1a30',
  requester: 'gemeente',
  holder: 'verslavingszorg',
  registration: 'reg-42',
  subjectRef: 'subject-ref',
  categories: ['behandelrelatie', 'behandelaar'],
  purpose: 'procesregie-casus-op-maat',
  legalBasis: 'uavg-30-33',
  caseRef: 'ZVH-GRANT',
  breakGlass: false,
  issuedAt: ISSUED,
  expiresAt: EXPIRES,
  ...change,
});

async function es256Signer(): Promise<HubSigner> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return parseSigningKeys(JSON.stringify({ ...(await exportJWK(privateKey)), alg: 'ES256', kid: 'hub-es256' }));
}

describe('a disclosure grant', () => {
  let signer: HubSigner;
  beforeAll(async () => {
    signer = await parseSigningKeys(await generateSigningKeySecret());
  });
  const verify = (jwt: string, now: Date, keys = signer.published) => verifyGrant(jwt, keys, HUB, now);

  it('carries who may ask whom for what, for whom, by which case, until when: as claims a holder reads with jose alone', async () => {
    const jwt = await signGrant(signer, HUB, claims({ breakGlass: true }));
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'EdDSA', kid: signer.kid, typ: GRANT_TYP });
    expect(decodeJwt(jwt)).toEqual({
      iss: HUB,
      aud: 'verslavingszorg',
      sub: 'subject-ref',
      jti: claims().grant,
      iat: Math.floor(ISSUED.getTime() / 1000),
      exp: EXP_S,
      request: claims().request,
      requester: 'gemeente',
      holder: 'verslavingszorg',
      registration: 'reg-42',
      categories: ['behandelrelatie', 'behandelaar'],
      purpose: 'procesregie-casus-op-maat',
      legalBasis: 'uavg-30-33',
      caseRef: 'ZVH-GRANT',
      breakGlass: true,
    });
  });

  it('verifies to the grant, holder, requester, request, categories and its end in whole seconds', async () => {
    const jwt = await signGrant(signer, HUB, claims());
    expect(await verify(jwt, ISSUED)).toEqual({
      grant: claims().grant,
      holder: 'verslavingszorg',
      requester: 'gemeente',
      request: claims().request,
      expiresAt: new Date(EXP_S * 1000),
      categories: ['behandelrelatie', 'behandelaar'],
    });
  });

  it('is valid up to the last millisecond before its exp, and expired from exp on', async () => {
    const jwt = await signGrant(signer, HUB, claims());
    expect((await verify(jwt, new Date(EXP_S * 1000 - 1))).grant).toBe(claims().grant);
    await expect(verify(jwt, new Date(EXP_S * 1000))).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it('an ES256 hub key signs grants that verify too', async () => {
    const es = await es256Signer();
    const jwt = await signGrant(es, HUB, claims());
    expect(decodeProtectedHeader(jwt).alg).toBe('ES256');
    expect((await verify(jwt, ISSUED, es.published)).holder).toBe('verslavingszorg');
  });

  it('is refused when issued by another hub, signed by another key, or typed otherwise', async () => {
    await expect(verifyGrant(await signGrant(signer, 'urn:kenbaar:hub:elsewhere', claims()), signer.published, HUB, ISSUED)).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    const other = await parseSigningKeys(await generateSigningKeySecret());
    await expect(verify(await signGrant(other, HUB, claims()), ISSUED)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    const typed = (typ: string) =>
      signJws(signer, typ, { request: claims().request, iss: HUB, aud: 'verslavingszorg', jti: 'g', iat: unixSeconds(ISSUED), exp: unixSeconds(EXPIRES) });
    await expect(verify(await typed('JWT'), ISSUED)).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    expect((await verify(await typed(GRANT_TYP), ISSUED)).grant).toBe('g');
  });

  it('is refused without its id (jti), its holder (aud) or its end (exp)', async () => {
    const base = { request: claims().request, iss: HUB, iat: unixSeconds(ISSUED) };
    const cases: [string, Record<string, unknown>][] = [
      ['jti', { ...base, aud: 'verslavingszorg', exp: unixSeconds(EXPIRES) }],
      ['aud', { ...base, jti: 'g', exp: unixSeconds(EXPIRES) }],
      ['exp', { ...base, jti: 'g', aud: 'verslavingszorg' }],
    ];
    for (const [claim, payload] of cases) {
      const err = await verify(await signJws(signer, GRANT_TYP, payload), ISSUED).then(() => undefined, (e: unknown) => e);
      expect(err, claim).toBeInstanceOf(errors.JWTClaimValidationFailed);
      expect((err as errors.JWTClaimValidationFailed).claim).toBe(claim);
    }
  });

  it('names the person by a reference of this grant only: HMAC of grant id and stored subject under the hub key', () => {
    const key = new Uint8Array(32).fill(7);
    const expected = createHmac('sha256', key).update('kenbaar:v1:grant:g1:stored-subject').digest('base64url');
    expect(grantSubjectRef(key, 'g1', 'stored-subject')).toBe(expected);
    expect(grantSubjectRef(key, 'g2', 'stored-subject')).not.toBe(expected);
  });
});
