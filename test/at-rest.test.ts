// The verbatim request JWS is sealed at rest under a key derived from the hub key: a compact JWE
// (`dir`, A256GCM) naming the hub key version, opened by that version, or by any other in the ring,
// and by nothing once the version is retired (then null, never an error).
import { createHmac } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { seal, unseal } from '../src/disclosures/at-rest';
import type { HubKey, HubKeyring } from '../src/pseudonym/hub-key';

const key = (version: number, fill: number): HubKey => ({ version, key: new Uint8Array(32).fill(fill) });
const ring = (...all: HubKey[]): HubKeyring => ({ current: all[0]!, all });
const JWS = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWJqZWN0IjoicGFydG5lci1wc2V1ZG9ueW0ifQ.c2ln';

describe('the verbatim request, sealed at rest', () => {
  it('is a compact JWE (dir, A256GCM) naming the current hub key version, under HMAC(hub key, "kenbaar:v1:at-rest")', async () => {
    const sealed = await seal(ring(key(2, 2), key(1, 1)), JWS);
    expect(decodeProtectedHeader(sealed)).toEqual({ alg: 'dir', enc: 'A256GCM', kid: 'v2' });
    expect(sealed).not.toContain(JWS.split('.')[1]);
    const storage = createHmac('sha256', new Uint8Array(32).fill(2)).update('kenbaar:v1:at-rest').digest();
    expect(new TextDecoder().decode((await compactDecrypt(sealed, storage)).plaintext)).toBe(JWS);
  });

  it('opens with the version it names, also when that version is no longer current', async () => {
    const sealed = await seal(ring(key(1, 1)), JWS);
    expect(await unseal(ring(key(1, 1)), sealed)).toBe(JWS);
    expect(await unseal(ring(key(3, 3), key(2, 2), key(1, 1)), sealed)).toBe(JWS);
  });

  it('opens with another version of the ring when the one it names does not open it', async () => {
    // The same key bytes now carry another version number: not named, still tried.
    const sealed = await seal(ring(key(1, 1)), JWS);
    expect(await unseal(ring(key(5, 5), key(4, 1)), sealed)).toBe(JWS);
    expect(await unseal(ring(key(1, 9), key(4, 1)), sealed)).toBe(JWS);
  });

  it('is null, not an error, once its version is retired, and for text that is no JWE at all', async () => {
    const sealed = await seal(ring(key(1, 1)), JWS);
    expect(await unseal(ring(key(2, 2)), sealed)).toBeNull();
    expect(await unseal(ring(key(2, 2)), 'not a jwe')).toBeNull();
    expect(await unseal(ring(key(2, 2)), JWS)).toBeNull();
  });
});
