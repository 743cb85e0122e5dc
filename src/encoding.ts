/**
 * Byte/string encodings shared across kenbaar.
 *
 * Runtime-agnostic (Web APIs only). Decoders are strict on purpose: pseudonyms,
 * hashes and keys travel as text, and a value that can be spelled in more than one
 * way (padding optional, stray bits in the last character, mixed alphabets) is a
 * way to smuggle two "different" identifiers for the same bytes past equality
 * checks. Every decoder here accepts exactly one spelling per byte string.
 *
 * Error messages never echo the input: these functions decode key material and
 * pseudonyms, and error messages end up in logs.
 */
import { sha256Hex } from './hashing';

/** The two hex digits of every byte value: one lookup per byte (the sequencer and `audit verify` hex every leaf). */
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Lower-case hex, two characters per byte. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!]!;
  return out;
}

const HEX_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Whether `hex` is exactly the lower-case hex of `bytes` (what toHex would give), compared in place:
 * `audit verify` holds every recomputed leaf to the one stored, and building the hex was a tenth of
 * its hashing.
 */
export function isHexOf(bytes: Uint8Array, hex: string): boolean {
  if (hex.length !== 2 * bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (hex.charCodeAt(2 * i) !== HEX_CODES[b >> 4] || hex.charCodeAt(2 * i + 1) !== HEX_CODES[b & 15]) return false;
  }
  return true;
}

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Decodes hex in either case. (Case is the one non-canonical freedom here; compare decoded
 * bytes, not hex strings.)
 * @throws TypeError on odd length or a non-hex character.
 */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw new TypeError('hex input must be a string');
  if (hex.length % 2 !== 0) throw new TypeError(`hex input has odd length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new TypeError(`hex input has a non-hex character near offset ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64_STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function reverseTable(alphabet: string): Int8Array {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
}

const B64_STD_REV = reverseTable(B64_STD);
const B64_URL_REV = reverseTable(B64_URL);

function encode64(bytes: Uint8Array, alphabet: string, pad: boolean): string {
  let out = '';
  const full = bytes.length - (bytes.length % 3);
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!;
  }
  const rest = bytes.length - full;
  if (rest === 1) {
    const n = bytes[full]! << 16;
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[full]! << 16) | (bytes[full + 1]! << 8);
    out += alphabet[(n >> 18) & 63]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

/**
 * Decodes unpadded base64 characters (the caller has already stripped/validated
 * padding). Rejects unknown characters, impossible lengths and non-zero trailing
 * bits, so the encoding is canonical.
 */
function decode64(s: string, table: Int8Array, what: string): Uint8Array {
  const rem = s.length % 4;
  if (rem === 1) throw new TypeError(`${what} input has an impossible length`);
  const out = new Uint8Array(Math.floor(s.length / 4) * 3 + (rem === 0 ? 0 : rem - 1));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? table[code]! : -1;
    if (v < 0) throw new TypeError(`${what} input has an invalid character at offset ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Leftover bits must be zero, otherwise several strings would decode to the same bytes.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) {
    throw new TypeError(`${what} input is not canonical (non-zero trailing bits)`);
  }
  return out;
}

/** base64url without padding (RFC 4648 §5), as used in JOSE and for pseudonyms on the wire. */
export function toBase64Url(bytes: Uint8Array): string {
  return encode64(bytes, B64_URL, false);
}

/**
 * Strict base64url decoder: URL-safe alphabet only, no padding, canonical trailing bits.
 * @throws TypeError on any deviation.
 */
export function fromBase64Url(s: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError('base64url input must be a string');
  if (s.includes('=')) throw new TypeError('base64url input must not be padded');
  return decode64(s, B64_URL_REV, 'base64url');
}

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  return encode64(bytes, B64_STD, true);
}

/**
 * Strict standard-base64 decoder: standard alphabet, padding required and only at the end,
 * canonical trailing bits.
 * @throws TypeError on any deviation.
 */
export function fromBase64(s: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError('base64 input must be a string');
  if (s.length % 4 !== 0) throw new TypeError('base64 input length is not a multiple of 4 (padding is required)');
  let body = s;
  if (body.endsWith('==')) body = body.slice(0, -2);
  else if (body.endsWith('=')) body = body.slice(0, -1);
  if (body.includes('=')) throw new TypeError('base64 input has padding in the wrong place');
  return decode64(body, B64_STD_REV, 'base64');
}

/** The bytes of `parts`, one after the other, in a new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A time as JOSE's NumericDate and signed notes write it: whole seconds since 1970 (UTC). */
export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);

const textEncoder = new TextEncoder();

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

const textDecoder = new TextDecoder();

/** The string of UTF-8 bytes (as TextDecoder reads them: a leading BOM dropped, bad bytes as U+FFFD). */
export function fromUtf8(bytes: Uint8Array): string {
  return textDecoder.decode(bytes);
}

/**
 * Byte equality whose running time depends only on the lengths, not on where the first
 * difference is. Use it for comparing MACs, hashes and pseudonyms. Lengths are not secret
 * in any of those uses, so a length mismatch returns early.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return false;
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * U+0000, or a UTF-16 surrogate without its partner: what PostgreSQL `text` and `jsonb` cannot
 * hold (NUL is refused outright; a lone surrogate has no UTF-8 form and would be silently replaced).
 */
const NOT_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `s` is text the database can store exactly as given. */
export function isWellFormedText(s: string): boolean {
  return !NOT_TEXT.test(s);
}

const ESCAPE = /[\\\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * JSON-style escapes for a backslash, control characters and lone surrogates (`\u0000`, `\ud800`,
 * `\\`); everything else is kept. One-to-one, so two different inputs never look the same.
 */
export function escapeText(s: string): string {
  return s.replace(ESCAPE, (ch) => (ch === '\\' ? '\\\\' : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * A string we cannot trust (a claim of a token we refused, a request path), made storable and
 * bounded: escaped ({@link escapeText}); when that is longer than `max` characters, its first part
 * followed by the length and a SHA-256 prefix of the whole escaped value, so a 1 MB claim costs the
 * log a few hundred bytes and two attempts with the same value can still be told apart.
 */
export function untrustedText(s: string, max = 200): string {
  const escaped = escapeText(s);
  if (escaped.length <= max) return escaped;
  const tail = `… [${s.length} chars, sha256 ${sha256Hex(escaped).slice(0, 16)}]`;
  let cut = Math.max(0, max - tail.length);
  // Never split a surrogate pair: half of one is exactly what cannot be stored.
  if (cut > 0 && /[\ud800-\udbff]/.test(escaped[cut - 1]!)) cut--;
  return escaped.slice(0, cut) + tail;
}

/** JSON.stringify's escapes of U+0000 and lone surrogates, which PostgreSQL's jsonb refuses. */
const JSON_NOT_TEXT = /\\u0000|\\ud[89a-f]/i;
const escapeNotText = (_key: string, v: unknown) => (typeof v === 'string' && !isWellFormedText(v) ? escapeText(v) : v);

/**
 * JSON for a `jsonb` parameter that PostgreSQL will always accept (`json`): every string value that
 * is not well-formed text is escaped ({@link escapeText}); and the data as stored (`value`): `value`
 * itself when nothing needed escaping, else the escaped copy (`json` parsed back). Either serialises
 * to `json`. The common case (nothing to escape) costs one scan of the serialised text on top of
 * JSON.stringify, and no parse.
 */
export function storableJson<T>(value: T): { json: string; value: T } {
  const json = JSON.stringify(value);
  if (!JSON_NOT_TEXT.test(json)) return { json, value };
  const escaped = JSON.stringify(value, escapeNotText);
  return { json: escaped, value: JSON.parse(escaped) as T };
}
