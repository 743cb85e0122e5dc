// The exact rules of a signed document, checked on `verifySignedBy` itself (no hub, no database): the
// `iat` window to the second at both ends, the kind (`typ`) and this hub (`aud`), a signer that is
// not the partner asking, and documents that are not documents at all. Each refusal names the field
// and says why, in the problem's `errors`, which is what a partner's developer reads.
import { CompactSign, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { signDocument } from '../src/client/token';
import { partnerKeyring, type PartnerKeyring } from '../src/auth/keyring';
import { DOCUMENT_TYPES, verifySignedBy, type DocumentPolicy } from '../src/disclosures/signed';
import { Problem } from '../src/errors';
import { partnerKey } from './support/hub';

const HUB = 'urn:kenbaar:hub:exact';
// 09:00:00.999: a clock between two seconds, so `iat` is compared with whole seconds rounded down.
const NOW = new Date('2026-11-23T09:00:00.999Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const MAX_AGE = 300;
const SKEW = 60;
const policy = (kind: DocumentPolicy['kind'] = 'request'): DocumentPolicy => ({ kind, audience: HUB, now: NOW, maxAgeSeconds: MAX_AGE, clockSkewSeconds: SKEW });

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

describe('a signed document is checked to the second and to the letter', () => {
  let keyring: PartnerKeyring;
  const sign = async (payload: Record<string, unknown>, typ: string = DOCUMENT_TYPES.request, partner = 'gemeente') =>
    signDocument({ partner, jwk: (await partnerKey(partner)).privateJwk }, payload, typ);
  const doc = (change: Record<string, unknown> = {}, typ?: string) => sign({ aud: HUB, iat: NOW_S, purpose: 'procesregie', ...change }, typ);
  const verify = (jws: string, kind: DocumentPolicy['kind'] = 'request') => verifySignedBy(jws, keyring, 'gemeente', kind, policy(kind));

  /** The refusal `verify` throws, as the body a partner gets. */
  async function refusal(jws: string, kind: DocumentPolicy['kind'] = 'request') {
    const err = await verify(jws, kind).then(() => undefined, (e: unknown) => e);
    expect(err, 'the document was accepted').toBeInstanceOf(Problem);
    return (err as Problem).body();
  }
  const invalid = (field: string, reason: string) => ({ type: '/problems/invalid-signature', status: 400, errors: [{ field, reason }] });

  beforeAll(async () => {
    keyring = partnerKeyring(new Map([
      ['gemeente', { keys: [(await partnerKey('gemeente')).publicJwk] }],
      ['politie', { keys: [(await partnerKey('politie')).publicJwk] }],
    ]));
  });

  it('a well-formed document is accepted and its claims returned as signed', async () => {
    expect(await verify(await doc())).toEqual({ aud: HUB, iat: NOW_S, purpose: 'procesregie' });
  });

  it('iat: accepted up to now + the clock skew, refused one second later', async () => {
    expect((await verify(await doc({ iat: NOW_S + SKEW }))).iat).toBe(NOW_S + SKEW);
    const body = await refusal(await doc({ iat: NOW_S + SKEW + 1 }));
    expect(body).toMatchObject(invalid('request.iat', 'in the future'));
    expect(body.detail).toBe('request.iat: the document is signed in the future');
  });

  it('iat: accepted back to now − the token lifetime − the clock skew, refused one second earlier', async () => {
    expect((await verify(await doc({ iat: NOW_S - MAX_AGE - SKEW }))).iat).toBe(NOW_S - MAX_AGE - SKEW);
    const body = await refusal(await doc({ iat: NOW_S - MAX_AGE - SKEW - 1 }));
    expect(body).toMatchObject(invalid('request.iat', 'too old'));
    expect(body.detail).toBe(`request.iat: the document was signed more than ${MAX_AGE} s ago; sign it when you send it`);
  });

  it('iat: a string, a fraction, a number beyond 2^53 or none at all is refused', async () => {
    for (const iat of [String(NOW_S), NOW_S + 0.5, 2 ** 53, undefined, null]) {
      expect(await refusal(await doc({ iat })), String(iat)).toMatchObject(invalid('request.iat', 'must be a whole number of seconds since 1970'));
    }
  });

  it('typ: a decision is not a request and a request is not a decision', async () => {
    const asRequest = await refusal(await doc({}, DOCUMENT_TYPES.decision), 'request');
    expect(asRequest).toMatchObject(invalid('request.typ', `must be ${DOCUMENT_TYPES.request}`));
    expect(asRequest.detail).toBe(`request.typ: the document is typed "${DOCUMENT_TYPES.decision}", not ${DOCUMENT_TYPES.request}`);
    expect(await refusal(await doc({}, DOCUMENT_TYPES.request), 'decision')).toMatchObject(invalid('decision.typ', `must be ${DOCUMENT_TYPES.decision}`));
    expect(await verify(await doc({}, DOCUMENT_TYPES.decision), 'decision')).toMatchObject({ aud: HUB });
  });

  it('typ: an untyped document is named as typed null', async () => {
    const key = await partnerKey('gemeente');
    const untyped = await new CompactSign(new TextEncoder().encode(JSON.stringify({ aud: HUB, iat: NOW_S })))
      .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid! })
      .sign(await importJWK(key.privateJwk, 'ES256'));
    expect((await refusal(untyped)).detail).toBe(`request.typ: the document is typed null, not ${DOCUMENT_TYPES.request}`);
  });

  it('aud: another hub, or none, is refused', async () => {
    for (const aud of ['urn:kenbaar:hub:elsewhere', undefined, [HUB]]) {
      const body = await refusal(await doc({ aud }));
      expect(body, String(aud)).toMatchObject(invalid('request.aud', `must be ${HUB}`));
      expect(body.detail).toBe(`request.aud: the document is not addressed to this hub (aud must be ${HUB})`);
    }
  });

  it('a payload that is not a JSON object is refused as such', async () => {
    const key = await partnerKey('gemeente');
    const raw = async (payload: string) =>
      new CompactSign(new TextEncoder().encode(payload))
        .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid!, typ: DOCUMENT_TYPES.request })
        .sign(await importJWK(key.privateJwk, 'ES256'));
    expect(await refusal(await raw('{not json'))).toMatchObject(invalid('request', 'payload is not JSON'));
    for (const payload of ['null', '[1,2]', '42', '"a string"']) {
      expect(await refusal(await raw(payload)), payload).toMatchObject(invalid('request', 'payload is not a JSON object'));
    }
  });

  it('signed by another partner than the one asking: forbidden, whatever the signature', async () => {
    const body = await refusal(await sign({ aud: HUB, iat: NOW_S }, DOCUMENT_TYPES.request, 'politie'));
    expect(body).toMatchObject({ type: '/problems/forbidden', status: 403, rule: 'signer-not-requester', errors: [{ field: 'request', reason: 'signed by another partner than the token' }] });
    expect(body.detail).toBe("request: signed with a key that is not gemeente's");
    // No kid at all: nobody's key.
    const [, payload, signature] = (await doc()).split('.');
    expect(await refusal(`${b64({ alg: 'ES256', typ: DOCUMENT_TYPES.request })}.${payload}.${signature}`)).toMatchObject({ type: '/problems/forbidden', rule: 'signer-not-requester' });
  });

  it('a signature that does not verify, a foreign algorithm, or no JWS at all is refused', async () => {
    const [header, payload, signature] = (await doc()).split('.');
    const tampered = `${header}.${b64({ aud: HUB, iat: NOW_S, purpose: 'something else' })}.${signature}`;
    const forged = await refusal(tampered);
    expect(forged).toMatchObject(invalid('request', 'signature does not verify'));
    expect(forged.detail).toBe('request: the signature does not verify');
    const kid = (await partnerKey('gemeente')).publicJwk.kid;
    for (const alg of ['HS256', 'none', 'RS256', undefined]) {
      const body = await refusal(`${b64({ alg, kid, typ: DOCUMENT_TYPES.request })}.${payload}.${signature}`);
      expect(body, String(alg)).toMatchObject(invalid('request', 'unsupported algorithm'));
      expect(body.detail).toBe(`request: algorithm ${String(alg)} is not accepted; sign with ES256 or EdDSA`);
    }
    expect(await refusal('not a jws')).toMatchObject(invalid('request', 'not a compact JWS'));
  });
});
