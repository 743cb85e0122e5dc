// Checkpoints (c2sp.org/tlog-checkpoint) of the audit log: origin, tree size, base64 root hash,
// as a signed note by the hub's log key(s), plus witnesses' cosignatures.
import { fromBase64, toBase64 } from '../encoding';
import {
  formatSignerKey,
  generateSigner,
  NoteKeyError,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  SIG_COSIGNATURE,
  SIG_ED25519,
  verifySignature,
  type NoteKey,
  type NoteSigner,
} from './note';

/**
 * The hub's log key(s). Every private key signs each checkpoint (during a rotation both the old and
 * the new key sign); retired keys stay listed as verifier keys so that old checkpoints verify.
 */
export type LogKeys = { origin: string; signers: NoteSigner[]; verifiers: NoteKey[] };

/**
 * KENBAAR_LOG_KEY: one or more keys separated by whitespace or commas, each either a signer key
 * (`PRIVATE+KEY+<origin>+<id>+<key>`, Go's note format) or a retired verifier key. The first signer's
 * verifier key is the current one. Every key's name must be the log's origin.
 * @throws NoteKeyError (never quoting key material).
 */
export function parseLogKeys(secret: string, origin: string): LogKeys {
  const signers: NoteSigner[] = [];
  const verifiers: NoteKey[] = [];
  for (const item of secret.split(/[\s,]+/).filter(Boolean)) {
    const signer = item.startsWith('PRIVATE+KEY+') ? parseSignerKey(item) : null;
    const key = signer ?? parseVerifierKey(item);
    if (key.name !== origin) throw new NoteKeyError(`log key named "${key.name}" but the log's origin is "${origin}" (KENBAAR_LOG_ORIGIN)`);
    if (key.type !== SIG_ED25519) throw new NoteKeyError('the log key must be an Ed25519 (0x01) note key');
    if (signer) signers.push(signer);
    verifiers.push({ name: key.name, type: key.type, publicKey: key.publicKey, keyId: key.keyId });
  }
  if (signers.length === 0) throw new NoteKeyError('the log key secret holds no private key (PRIVATE+KEY+...)');
  return { origin, signers, verifiers };
}

export function generateLogKeySecret(origin: string): string {
  return formatSignerKey(generateSigner(origin, SIG_ED25519));
}

export function checkpointText(origin: string, size: number, root: Uint8Array): string {
  return `${origin}\n${size}\n${toBase64(root)}\n`;
}

export type CheckpointBody = { origin: string; size: number; root: Uint8Array };

export function parseCheckpointText(text: string): CheckpointBody | null {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[lines.length - 1] !== '') return null;
  const [origin, sizeLine, rootLine] = lines as [string, string, string];
  if (!origin || !/^(0|[1-9][0-9]{0,15})$/.test(sizeLine)) return null;
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) return null;
  try {
    const root = fromBase64(rootLine);
    return root.length === 32 ? { origin, size, root } : null;
  } catch {
    return null;
  }
}

export function signCheckpoint(keys: LogKeys, size: number, root: Uint8Array): string {
  return signNote(checkpointText(keys.origin, size, root), keys.signers);
}

export type Cosigner = { name: string; key: NoteKey };

export type OpenedCheckpoint = CheckpointBody & {
  text: string;
  /** The note's text and the log's own signature line(s) only (what a witness is sent). */
  logNote: string;
  /** Verified cosignatures of known witnesses, one per witness. */
  cosignatures: { witness: string; timestamp: number; line: string }[];
};

/**
 * A checkpoint note verified against the log's keys (at least one must sign) and the origin;
 * cosignatures of the given witnesses are verified and returned, unknown signatures ignored.
 * Null when the note is malformed, of another log, or not signed by a log key.
 */
export function openCheckpoint(note: string, origin: string, logKeys: readonly NoteKey[], witnesses: readonly Cosigner[] = []): OpenedCheckpoint | null {
  const parsed = parseNote(note);
  if (!parsed) return null;
  const body = parseCheckpointText(parsed.text);
  if (!body || body.origin !== origin) return null;
  const logLines: string[] = [];
  const cosignatures: OpenedCheckpoint['cosignatures'] = [];
  for (const sig of parsed.signatures) {
    const logKey = logKeys.find((k) => k.name === sig.name && verifySignature(parsed.text, sig, k).ok);
    if (logKey) {
      logLines.push(sig.line);
      continue;
    }
    for (const w of witnesses) {
      if (w.key.type !== SIG_COSIGNATURE || cosignatures.some((c) => c.witness === w.name)) continue;
      const v = verifySignature(parsed.text, sig, w.key);
      if (v.ok) cosignatures.push({ witness: w.name, timestamp: v.timestamp!, line: sig.line });
    }
  }
  if (logLines.length === 0) return null;
  return { ...body, text: parsed.text, logNote: `${parsed.text}\n${logLines.join('')}`, cosignatures };
}
