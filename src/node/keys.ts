// Node edge: partner keys on disk. Public keys: keys/<partner>.jwks.json (these may be committed);
// private keys: .kenbaar/private/<partner>.jwk.json (never committed; a real partner keeps its own).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import type { PartnerKeys } from '../config';

export function readPartnerKeys(dir: string): PartnerKeys {
  const map = new Map<string, JSONWebKeySet>();
  if (!existsSync(dir)) return map;
  for (const file of readdirSync(dir).sort()) {
    const m = /^(.+)\.jwks\.json$/.exec(file);
    if (!m) continue;
    const jwks = JSON.parse(readFileSync(join(dir, file), 'utf8')) as JSONWebKeySet;
    if (!Array.isArray(jwks.keys)) throw new Error(`${join(dir, file)}: not a JWKS (no "keys" array)`);
    for (const k of jwks.keys) {
      if ('d' in k) throw new Error(`${join(dir, file)}: contains a private key; only public keys belong in keys/`);
    }
    map.set(m[1]!, jwks);
  }
  return map;
}

export type GeneratedKey = {
  partner: string;
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  privatePath: string;
  publicPath: string;
  /** The encryption key (ECDH-ES on P-256) that holders encrypt hand-over content to. */
  encryption?: { kid: string; privateJwk: JWK; publicJwk: JWK; privatePath: string };
};

function addPublicKey(keysDir: string, partner: string, jwk: JWK): string {
  mkdirSync(keysDir, { recursive: true });
  const publicPath = join(keysDir, `${partner}.jwks.json`);
  const existing: JSONWebKeySet = existsSync(publicPath) ? JSON.parse(readFileSync(publicPath, 'utf8')) : { keys: [] };
  existing.keys.push(jwk);
  writeFileSync(publicPath, `${JSON.stringify(existing, null, 2)}\n`);
  return publicPath;
}

const newKid = (partner: string, use: 'sig' | 'enc') =>
  `${partner}-${use === 'enc' ? 'enc-' : ''}${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;

/**
 * A new encryption key for a partner (`use: "enc"`, ECDH-ES with A256GCM content encryption): holders
 * encrypt disclosed content to it, so only this partner can read what the hub relays.
 */
export async function generateEncryptionKey(partner: string, dirs: { keysDir: string; privateDir: string }) {
  const { publicKey, privateKey } = await generateKeyPair('ECDH-ES', { crv: 'P-256', extractable: true });
  const kid = newKid(partner, 'enc');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ECDH-ES', use: 'enc' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'ECDH-ES', use: 'enc' };
  addPublicKey(dirs.keysDir, partner, publicJwk);
  mkdirSync(dirs.privateDir, { recursive: true, mode: 0o700 });
  const privatePath = join(dirs.privateDir, `${partner}.enc.jwk.json`);
  writeFileSync(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  return { kid, privateJwk, publicJwk, privatePath };
}

/**
 * A new signing key for a partner (ES256 unless asked otherwise: with OpenSSL a P-256 verify costs the
 * hub less CPU than an Ed25519 one, bench/token-verify.ts; both are accepted): the public JWK is added to keys/<partner>.jwks.json (rotation is
 * adding a key; remove the old one once no token signed with it can be alive), the private JWK goes
 * to <privateDir>/<partner>.jwk.json with mode 0600. Unless told otherwise, also an encryption key
 * when the partner has none yet.
 */
export async function generatePartnerKey(
  partner: string,
  dirs: { keysDir: string; privateDir: string },
  alg: 'ES256' | 'EdDSA' = 'ES256',
  opts: { encryption?: boolean } = {},
): Promise<GeneratedKey> {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(partner)) throw new Error(`"${partner}" is not a partner id (lowercase, digits, dashes)`);
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = newKid(partner, 'sig');
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  const publicPath = addPublicKey(dirs.keysDir, partner, publicJwk);
  mkdirSync(dirs.privateDir, { recursive: true, mode: 0o700 });
  const privatePath = join(dirs.privateDir, `${partner}.jwk.json`);
  writeFileSync(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  const wantsEncryption = opts.encryption ?? !existsSync(join(dirs.privateDir, `${partner}.enc.jwk.json`));
  const encryption = wantsEncryption ? await generateEncryptionKey(partner, dirs) : undefined;
  return { partner, kid, privateJwk, publicJwk, privatePath, publicPath, ...(encryption ? { encryption } : {}) };
}

export function readPrivateKey(privateDir: string, partner: string, use: 'sig' | 'enc' = 'sig'): JWK {
  const path = join(privateDir, use === 'enc' ? `${partner}.enc.jwk.json` : `${partner}.jwk.json`);
  if (!existsSync(path)) throw new Error(`no private key for ${partner} at ${path}: run \`kenbaar keys generate ${partner}\``);
  return JSON.parse(readFileSync(path, 'utf8')) as JWK;
}
