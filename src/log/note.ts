// Signed notes (c2sp.org/signed-note) with Ed25519 (type 0x01) and Ed25519 cosignatures
// (c2sp.org/tlog-cosignature, type 0x04), byte for byte as Go's golang.org/x/mod/sumdb/note writes
// and reads them:
//
//   <text ending in \n>\n— <key name> base64(4-byte key id || signature)\n ...
//
// key id = SHA-256(name || 0x0A || type || public key)[:4]; a verifier key is written
// `<name>+<8 hex digits of key id>+base64(type || public key)`, a signer key (Go's format)
// `PRIVATE+KEY+<name>+<hex id>+base64(type || 32-byte seed)`.
// Parsing never throws on attacker input except where documented; verification answers false.
import { ed25519 } from '@noble/curves/ed25519.js';
import { concatBytes as concat, fromBase64, toBase64, toHex, utf8 } from '../encoding';
import { sha256 } from '../hashing';

export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE = 0x04;
export type SigType = typeof SIG_ED25519 | typeof SIG_COSIGNATURE;

const DASH = '\u2014 ';

export type NoteKey = { name: string; type: SigType; publicKey: Uint8Array; keyId: Uint8Array };
export type NoteSigner = NoteKey & { seed: Uint8Array };
/** One signature line of a note. */
export type NoteSignature = { name: string; keyId: Uint8Array; signature: Uint8Array; line: string };

export class NoteKeyError extends Error {}

export function keyId(name: string, type: SigType, publicKey: Uint8Array): Uint8Array {
  return sha256(utf8(name), new Uint8Array([0x0a, type]), publicKey).slice(0, 4);
}

/** A key name per the spec: non-empty, no whitespace, no '+'. */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

export function formatVerifierKey(k: NoteKey): string {
  return `${k.name}+${toHex(k.keyId)}+${toBase64(concat(new Uint8Array([k.type]), k.publicKey))}`;
}

/** @throws NoteKeyError naming what is wrong (never the key material). */
export function parseVerifierKey(vkey: string): NoteKey {
  const parts = splitKey(vkey.trim(), 3);
  if (!parts) throw new NoteKeyError('a verifier key is <name>+<hex key id>+<base64 key>');
  const [name, hex, b64] = parts;
  if (!isKeyName(name)) throw new NoteKeyError('verifier key: bad key name');
  const raw = decode(b64, 'verifier key');
  const type = raw[0];
  if ((type !== SIG_ED25519 && type !== SIG_COSIGNATURE) || raw.length !== 33) {
    throw new NoteKeyError('verifier key: only Ed25519 (0x01) and Ed25519 cosignature (0x04) keys are supported');
  }
  const key: NoteKey = { name, type, publicKey: raw.slice(1), keyId: keyId(name, type, raw.slice(1)) };
  if (!/^[0-9a-f]{8}$/.test(hex) || toHex(key.keyId) !== hex) throw new NoteKeyError(`verifier key ${name}: key id does not match the key`);
  return key;
}

export function generateSigner(name: string, type: SigType = SIG_ED25519): NoteSigner {
  if (!isKeyName(name)) throw new NoteKeyError('key name must be non-empty, without spaces or "+"');
  return signerFromSeed(name, type, ed25519.utils.randomSecretKey());
}

function signerFromSeed(name: string, type: SigType, seed: Uint8Array): NoteSigner {
  const publicKey = ed25519.getPublicKey(seed);
  return { name, type, publicKey, keyId: keyId(name, type, publicKey), seed };
}

export function formatSignerKey(s: NoteSigner): string {
  return `PRIVATE+KEY+${s.name}+${toHex(s.keyId)}+${toBase64(concat(new Uint8Array([s.type]), s.seed))}`;
}

/** @throws NoteKeyError naming what is wrong (never the key material). */
export function parseSignerKey(secret: string): NoteSigner {
  const t = secret.trim();
  const parts = t.startsWith('PRIVATE+KEY+') ? splitKey(t.slice('PRIVATE+KEY+'.length), 3) : null;
  if (!parts) throw new NoteKeyError('a signer key is PRIVATE+KEY+<name>+<hex key id>+<base64 key>');
  const [name, hex, b64] = parts;
  if (!isKeyName(name)) throw new NoteKeyError('signer key: bad key name');
  const raw = decode(b64, 'signer key');
  const type = raw[0];
  if ((type !== SIG_ED25519 && type !== SIG_COSIGNATURE) || raw.length !== 33) throw new NoteKeyError(`signer key ${name}: not an Ed25519 key`);
  const signer = signerFromSeed(name, type, raw.slice(1));
  if (toHex(signer.keyId) !== hex) throw new NoteKeyError(`signer key ${name}: key id does not match the key`);
  return signer;
}

/** The signature line of `signer` over `text` (type 0x01). */
export function signatureLine(text: string, signer: NoteSigner): string {
  assertText(text);
  if (signer.type !== SIG_ED25519) throw new NoteKeyError('a cosigning key signs with cosign()');
  return line(signer, ed25519.sign(utf8(text), signer.seed));
}

/** A note: the text, a blank line, one signature line per signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  return `${text}\n${signers.map((s) => signatureLine(text, s)).join('')}`;
}

/** The message an Ed25519 cosignature signs (c2sp.org/tlog-cosignature). */
export function cosignedMessage(text: string, timestamp: number): Uint8Array {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${text}`);
}

/** A witness's cosignature line over a checkpoint's text, timestamped. */
export function cosign(text: string, signer: NoteSigner, timestamp: number): string {
  assertText(text);
  if (signer.type !== SIG_COSIGNATURE) throw new NoteKeyError('cosignatures need a cosignature (0x04) key');
  const ts = new Uint8Array(8);
  new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp));
  return line(signer, concat(ts, ed25519.sign(cosignedMessage(text, timestamp), signer.seed)));
}

function line(k: NoteKey, sig: Uint8Array): string {
  return `${DASH}${k.name} ${toBase64(concat(k.keyId, sig))}\n`;
}

/** Splits a note into text and signature lines. Null when it is not a well-formed note. */
export function parseNote(note: string): { text: string; signatures: NoteSignature[] } | null {
  if (typeof note !== 'string' || note.length > 1_000_000 || !note.endsWith('\n')) return null;
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return null;
  const text = note.slice(0, split + 1);
  if (!isNoteText(text)) return null;
  const signatures: NoteSignature[] = [];
  for (const l of note.slice(split + 2).split('\n').slice(0, -1)) {
    const sig = parseSignatureLine(`${l}\n`);
    if (!sig) return null;
    signatures.push(sig);
  }
  return signatures.length ? { text, signatures } : null;
}

export function parseSignatureLine(l: string): NoteSignature | null {
  if (!l.startsWith(DASH) || !l.endsWith('\n')) return null;
  const rest = l.slice(DASH.length, -1);
  const space = rest.lastIndexOf(' ');
  if (space <= 0) return null;
  const name = rest.slice(0, space);
  if (!isKeyName(name)) return null;
  let raw: Uint8Array;
  try {
    raw = fromBase64(rest.slice(space + 1));
  } catch {
    return null;
  }
  if (raw.length < 5) return null;
  return { name, keyId: raw.slice(0, 4), signature: raw.slice(4), line: l };
}

/** Does `sig` (a line of a note with `text`) verify under `key`? Cosignatures also yield their time. */
export function verifySignature(text: string, sig: NoteSignature, key: NoteKey): { ok: boolean; timestamp?: number } {
  if (sig.name !== key.name || toHex(sig.keyId) !== toHex(key.keyId)) return { ok: false };
  try {
    if (key.type === SIG_ED25519) return { ok: sig.signature.length === 64 && ed25519.verify(sig.signature, utf8(text), key.publicKey) };
    if (sig.signature.length !== 72) return { ok: false };
    const t = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0);
    if (t > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false };
    const timestamp = Number(t);
    return { ok: ed25519.verify(sig.signature.slice(8), cosignedMessage(text, timestamp), key.publicKey), timestamp };
  } catch {
    return { ok: false };
  }
}

/** Text without control characters other than newline, ending in one newline, no blank lines. */
function isNoteText(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return text.endsWith('\n') && !text.includes('\n\n') && !/[\u0000-\u0009\u000b-\u001f\u007f]/u.test(text) && !text.startsWith('\n');
}

function assertText(text: string): void {
  if (!isNoteText(text)) throw new NoteKeyError('note text must be lines ending in a newline, without blank lines or control characters');
}

/** `<name>+<hex>+<base64>`: the base64 part may itself contain '+', so split only twice (as Go does). */
function splitKey(s: string, n: 3): [string, string, string] | null {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  if (b < 0 || n !== 3) return null;
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

function decode(b64: string, what: string): Uint8Array {
  try {
    return fromBase64(b64);
  } catch {
    throw new NoteKeyError(`${what}: not base64`);
  }
}
