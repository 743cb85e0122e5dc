// `kenbaar disclose respond` and `kenbaar disclose fetch`: the end-to-end encrypted hand-over. The
// holder checks the grant itself, offline, with jose and the hub's published keys only (it need not
// trust the hub's word that a grant exists), then encrypts to the requester's public encryption key;
// the requester decrypts with its private one. The hub relays ciphertext and never holds plaintext.
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { compactDecrypt, createLocalJWKSet, importJWK, jwtVerify, type JSONWebKeySet, type JWK } from 'jose';
import { GRANT_TYP } from '../../disclosures/grant';
import type { NodeSettings } from '../env';
import { fromUtf8 } from '../../encoding';
import { readPartnerKeys, readPrivateKey } from '../keys';
import { partnerClient, type Cli } from './common';
import { orRefused, REFUSED, type ActorOptions } from './disclose';
import { CliError, EXIT_CONFIG, EXIT_DATA, EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE } from './exit';

export type VerifiedGrant = {
  grant: string;
  request: string;
  requester: string;
  holder: string;
  categories: string[];
  purpose: string;
  caseRef: string;
  breakGlass: boolean;
  expiresAt: Date;
  kid: string | undefined;
};

export class GrantVerificationError extends Error {}

/** The hub's published signing keys, as anyone may fetch them (no token needed). */
export async function fetchHubJwks(url: string): Promise<JSONWebKeySet> {
  const res = await fetch(new URL('/.well-known/jwks.json', url));
  if (!res.ok) throw new CliError(res.status >= 500 ? EXIT_UNAVAILABLE : EXIT_REFUSED, `GET /.well-known/jwks.json: ${res.status}`);
  return (await res.json()) as JSONWebKeySet;
}

/**
 * Verify a grant as a holder does: with jose and the hub's JWKS alone. Checks the signature, the
 * issuer, that it is addressed to `holder`, that it has not expired, and that it is for `request`.
 */
export async function verifyGrantOffline(
  jwt: string,
  jwks: JSONWebKeySet,
  expected: { hubId: string; holder: string; request: string; now: Date },
): Promise<VerifiedGrant> {
  let result;
  try {
    result = await jwtVerify(jwt, createLocalJWKSet(jwks), {
      issuer: expected.hubId,
      audience: expected.holder,
      typ: GRANT_TYP,
      currentDate: expected.now,
      algorithms: ['EdDSA', 'ES256'],
      requiredClaims: ['jti', 'exp', 'sub'],
    });
  } catch (e) {
    throw new GrantVerificationError(e instanceof Error ? e.message : String(e));
  }
  const p = result.payload;
  if (p.request !== expected.request) throw new GrantVerificationError(`the grant is for request ${String(p.request)}, not ${expected.request}`);
  return {
    grant: p.jti!,
    request: p.request as string,
    requester: p.requester as string,
    holder: p.aud as string,
    categories: p.categories as string[],
    purpose: p.purpose as string,
    caseRef: p.caseRef as string,
    breakGlass: p.breakGlass === true,
    expiresAt: new Date(p.exp! * 1000),
    kid: result.protectedHeader.kid,
  };
}

/**
 * The requester's public encryption key (`use: "enc"`, ECDH-ES) from its JWKS in the keys directory.
 * With several (rotation adds keys at the end), the newest: the hub accepts any that is published.
 */
export function requesterEncryptionKey(keysDir: string, requester: string): JWK {
  let jwks: JSONWebKeySet | undefined;
  try {
    jwks = readPartnerKeys(keysDir).get(requester);
  } catch (e) {
    throw new CliError(EXIT_CONFIG, e instanceof Error ? e.message : String(e));
  }
  const key = jwks?.keys.filter((k) => k.use === 'enc' && (k.alg ?? 'ECDH-ES') === 'ECDH-ES').at(-1);
  if (!key) throw new CliError(EXIT_CONFIG, `no encryption key (use "enc", ECDH-ES) of ${requester} in ${keysDir}/${requester}.jwks.json: nothing was sent`);
  return key;
}

export type RespondOptions = ActorOptions & { file?: string; text?: string };

export async function respondCommand(cli: Cli, id: string, opts: RespondOptions): Promise<number> {
  const { settings, write } = cli;
  if ((opts.file === undefined) === (opts.text === undefined)) throw new CliError(EXIT_USAGE, 'give the answer with exactly one of --file <file> or --text <text>');
  let content = opts.text ?? '';
  if (opts.file !== undefined) {
    try {
      content = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new CliError(EXIT_DATA, `cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  if (content.trim() === '') throw new CliError(EXIT_DATA, 'the answer is empty: nothing was sent');

  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const found = await orRefused(cli, opts.json, () => client.getDisclosure(id));
  if (found === REFUSED) return EXIT_REFUSED;
  const { request, grant } = found;
  if (request.holder !== opts.as) throw new CliError(EXIT_USAGE, `request ${id} asks ${request.holder}, not ${opts.as}: respond --as ${request.holder}`);
  if (!grant) throw new CliError(EXIT_REFUSED, `request ${id} is ${request.status}: there is no grant to respond to${request.status === 'pending' ? ' yet' : ''}; nothing was sent`);
  if (grant.revokedAt) throw new CliError(EXIT_REFUSED, `the grant for request ${id} was revoked at ${grant.revokedAt}: nothing was sent`);

  let verified: VerifiedGrant;
  try {
    verified = await verifyGrantOffline(grant.jwt, await fetchHubJwks(opts.url), { hubId: settings.hubId, holder: opts.as, request: id, now: new Date() });
  } catch (e) {
    if (!(e instanceof GrantVerificationError)) throw e;
    throw new CliError(EXIT_PROBLEMS, `the grant does NOT verify against the hub's published keys (${e.message}): nothing was sent`);
  }
  const key = requesterEncryptionKey(settings.keysDir, verified.requester);
  const notes = [
    `Grant ${verified.grant} verified offline (jose, the hub's /.well-known/jwks.json, key ${verified.kid ?? '?'}):`,
    `  for          ${verified.requester}, ${verified.purpose}, case ${verified.caseRef}${verified.breakGlass ? ' (break-glass)' : ''}`,
    `  categories   ${verified.categories.join(', ')}   (answer within these only: the hub cannot read what you send)`,
    `  valid until  ${verified.expiresAt.toISOString()}`,
  ];
  const handed = await orRefused(cli, opts.json, () => client.handOver({ id: verified.grant, jwt: grant.jwt }, key, content));
  if (handed === REFUSED) return EXIT_REFUSED;
  if (opts.json) {
    write(`${JSON.stringify({ grant: { ...verified, expiresAt: verified.expiresAt.toISOString(), verified: true }, encryptedTo: key.kid, ...handed }, null, 2)}\n`);
    return EXIT_OK;
  }
  notes.push(
    `Handed over ${handed.handover}: ${handed.bytes} bytes encrypted to ${verified.requester}'s key ${key.kid ?? '?'} (ECDH-ES, A256GCM).`,
    `The hub relays only this ciphertext, until ${verified.requester} fetches it or ${handed.expiresAt} at the latest.`,
  );
  write(`${notes.join('\n')}\n`);
  return EXIT_OK;
}

export type FetchOptions = ActorOptions & { out?: string };

export async function fetchCommand(cli: Cli, id: string, opts: FetchOptions): Promise<number> {
  const { settings, write, warn } = cli;
  let privateJwk: JWK;
  try {
    privateJwk = readPrivateKey(settings.privateDir, opts.as, 'enc');
  } catch (e) {
    throw new CliError(EXIT_CONFIG, e instanceof Error ? e.message : String(e));
  }
  // The hub hands the content over once and deletes it: make sure it can be kept before asking.
  if (opts.out !== undefined) {
    try {
      accessSync(dirname(resolve(opts.out)), constants.W_OK);
    } catch {
      throw new CliError(EXIT_USAGE, `--out ${opts.out}: cannot write there; nothing was fetched`);
    }
  }
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const res = await orRefused(cli, opts.json, () => client.fetchCiphertext(id));
  if (res === REFUSED) return EXIT_REFUSED;
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(res.content, await importJWK(privateJwk, 'ECDH-ES')));
  } catch (e) {
    // The hub no longer has it: keep the ciphertext so it can be decrypted with the right key.
    const saved = `${opts.out ?? `disclosure-${id}`}.jwe`;
    writeFileSync(saved, `${res.content}\n`, { mode: 0o600 });
    throw new CliError(EXIT_CONFIG, `cannot decrypt with ${opts.as}'s key ${privateJwk.kid ?? ''} (${e instanceof Error ? e.message : String(e)}); the hub has deleted its copy, the ciphertext is saved in ${saved}`);
  }
  const text = fromUtf8(plaintext);
  if (opts.json) write(`${JSON.stringify({ request: id, grant: res.grant, content: text }, null, 2)}\n`);
  else if (opts.out !== undefined) {
    writeFileSync(opts.out, plaintext, { mode: 0o600 });
    write(`Fetched and decrypted ${plaintext.length} bytes for request ${id} (grant ${res.grant}) into ${opts.out}; the hub has deleted its copy.\n`);
  } else {
    write(text.endsWith('\n') ? text : `${text}\n`);
    warn(`(decrypted with ${privateJwk.kid ?? 'your encryption key'}; the hub has deleted its copy: this was the only delivery)`);
  }
  return EXIT_OK;
}
