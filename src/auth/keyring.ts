// Partners' public keys, indexed for token verification: which partner owns which `kid`, each
// signing key by kid with the runtime's signature check, and one cached jose key set per partner
// (for signed documents; so keys are imported once, not per request).
import { createLocalJWKSet, type JSONWebKeySet, type JWK } from 'jose';
import type { PartnerKeys } from '../config';
import { webCryptoSignatureCheck, type SignatureCheck } from './signature';

export type PartnerKeyring = {
  keySet(partner: string): ReturnType<typeof createLocalJWKSet> | undefined;
  owns(partner: string, kid: string): boolean;
  ownerOf(kid: string): string | undefined;
  /** The public signing key `kid` (owned by whichever partner `ownerOf` names). */
  signingKey(kid: string): JWK | undefined;
  /** Checks a token signature with this runtime's fastest correct implementation. */
  checkSignature: SignatureCheck;
  /** The partner's public encryption keys (`use: "enc"`), which hand-over content is encrypted to. */
  encryptionKeys(partner: string): JWK[];
};

export function partnerKeyring(keys: PartnerKeys, checkSignature: SignatureCheck = webCryptoSignatureCheck()): PartnerKeyring {
  const sets = new Map<string, ReturnType<typeof createLocalJWKSet>>();
  const owners = new Map<string, string>();
  const byKid = new Map<string, JWK>();
  const enc = new Map<string, JWK[]>();
  for (const [partner, jwks] of keys) {
    enc.set(partner, jwks.keys.filter((k) => k.use === 'enc'));
    const signing: JSONWebKeySet = { keys: jwks.keys.filter((k) => k.use !== 'enc') };
    sets.set(partner, createLocalJWKSet(signing));
    for (const k of signing.keys) {
      if (!k.kid) throw new Error(`a signing key of ${partner} has no kid`);
      // A kid names one key of one partner: a shared kid would let one partner's key stand for another's.
      const owner = owners.get(k.kid);
      if (owner) throw new Error(`kid ${k.kid} is published by both ${owner} and ${partner}`);
      owners.set(k.kid, partner);
      byKid.set(k.kid, k);
    }
  }
  return {
    keySet: (partner) => sets.get(partner),
    owns: (partner, kid) => owners.get(kid) === partner,
    ownerOf: (kid) => owners.get(kid),
    signingKey: (kid) => byKid.get(kid),
    checkSignature,
    encryptionKeys: (partner) => enc.get(partner) ?? [],
  };
}
