// Partners' public keys, indexed for token verification: which partner owns which `kid`, and one
// cached jose key set per partner (so keys are imported once, not per request).
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import type { PartnerKeys } from '../config';

export type PartnerKeyring = {
  keySet(partner: string): ReturnType<typeof createLocalJWKSet> | undefined;
  owns(partner: string, kid: string): boolean;
  ownerOf(kid: string): string | undefined;
};

export function partnerKeyring(keys: PartnerKeys): PartnerKeyring {
  const sets = new Map<string, ReturnType<typeof createLocalJWKSet>>();
  const owners = new Map<string, string>();
  for (const [partner, jwks] of keys) {
    const signing: JSONWebKeySet = { keys: jwks.keys.filter((k) => k.use !== 'enc') };
    sets.set(partner, createLocalJWKSet(signing));
    for (const k of signing.keys) if (k.kid) owners.set(k.kid, partner);
  }
  return {
    keySet: (partner) => sets.get(partner),
    owns: (partner, kid) => owners.get(kid) === partner,
    ownerOf: (kid) => owners.get(kid),
  };
}
