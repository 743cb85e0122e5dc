// The hub's own JWS (receipts, checkpoints, grants) are signed by the runtime's implementation:
// node:crypto on Node (injected by the Node edge, synchronous), WebCrypto on the Worker. Whichever
// signs, a standard JOSE library verifies them with the published key alone, and with nothing else.
import { compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { receiptClaims, RECEIPT_TYP, signReceipt, verifyReceipt } from '../src/log/receipt';
import { nodeJwsSign } from '../src/node/signer';
import { parseSigningKeys, webCryptoSign, type MakeJwsSign } from '../src/signing';

async function secret(alg: 'EdDSA' | 'ES256'): Promise<{ secret: string; other: JWK }> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const { publicKey: otherKey } = await generateKeyPair(alg, { extractable: true });
  return {
    secret: JSON.stringify({ ...(await exportJWK(privateKey)), alg, kid: `hub-${alg}` }),
    other: { ...(await exportJWK(otherKey)), alg, kid: `hub-${alg}`, use: 'sig' },
  };
}

const signers: [string, MakeJwsSign][] = [
  ['node:crypto (the Node edge)', nodeJwsSign],
  ['WebCrypto (the Worker)', webCryptoSign],
];
const entries = [{ uid: '0f6c1c0e-4a52-4d6b-9a53-0c1d3b7a9e11', leafHash: new Uint8Array(32).fill(7) }];

describe.each(signers)('hub signatures made by %s', (_name, make) => {
  it.each(['EdDSA', 'ES256'] as const)('a %s receipt verifies with jose and the published key, and not with another', async (alg) => {
    const { secret: s, other } = await secret(alg);
    const signer = await parseSigningKeys(s, make);
    const claims = receiptClaims('kenbaar.example/test', entries, new Date('2026-06-01T10:00:00Z'), 600);
    const jws = await signReceipt(signer, claims);

    const { payload, protectedHeader } = await compactVerify(jws, createLocalJWKSet({ keys: signer.published }), { algorithms: [alg] });
    expect(protectedHeader).toEqual({ alg, kid: `hub-${alg}`, typ: RECEIPT_TYP });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(claims);
    expect(await verifyReceipt(jws, signer.published)).toEqual(claims);

    expect(await verifyReceipt(jws, [other])).toBeNull();
    const [h, p, sig] = jws.split('.');
    const flipped = `${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}`;
    expect(await verifyReceipt(`${h}.${p}.${flipped}`, signer.published)).toBeNull();
  });
});
