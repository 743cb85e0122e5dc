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

export type GeneratedKey = { partner: string; kid: string; privateJwk: JWK; publicJwk: JWK; privatePath: string; publicPath: string };

/**
 * A new signing key for a partner: the public JWK is added to keys/<partner>.jwks.json (rotation is
 * adding a key; remove the old one once no token signed with it can be alive), the private JWK goes
 * to <privateDir>/<partner>.jwk.json with mode 0600.
 */
export async function generatePartnerKey(
  partner: string,
  dirs: { keysDir: string; privateDir: string },
  alg: 'ES256' | 'EdDSA' = 'ES256',
): Promise<GeneratedKey> {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(partner)) throw new Error(`"${partner}" is not a partner id (lowercase, digits, dashes)`);
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${partner}-${new Date().toISOString().slice(0, 10)}-${crypto.randomUUID().slice(0, 8)}`;
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' };
  mkdirSync(dirs.keysDir, { recursive: true });
  mkdirSync(dirs.privateDir, { recursive: true, mode: 0o700 });
  const publicPath = join(dirs.keysDir, `${partner}.jwks.json`);
  const existing: JSONWebKeySet = existsSync(publicPath) ? JSON.parse(readFileSync(publicPath, 'utf8')) : { keys: [] };
  existing.keys.push(publicJwk);
  writeFileSync(publicPath, `${JSON.stringify(existing, null, 2)}\n`);
  const privatePath = join(dirs.privateDir, `${partner}.jwk.json`);
  writeFileSync(privatePath, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
  return { partner, kid, privateJwk, publicJwk, privatePath, publicPath };
}

export function readPrivateKey(privateDir: string, partner: string): JWK {
  const path = join(privateDir, `${partner}.jwk.json`);
  if (!existsSync(path)) throw new Error(`no private key for ${partner} at ${path}: run \`kenbaar keys generate ${partner}\``);
  return JSON.parse(readFileSync(path, 'utf8')) as JWK;
}
