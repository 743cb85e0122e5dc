// The proof bundle format of c2sp.org/tlog-proof: a header line, optional extra data, the leaf
// index, the inclusion proof (one base64 hash per line), an empty line, and the checkpoint verbatim.
import { fromBase64, toBase64 } from '../encoding';

export const PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export type TlogProof = { index: number; path: Uint8Array[]; checkpoint: string; extra?: Uint8Array };

export function formatTlogProof(p: TlogProof): string {
  const extra = p.extra ? `extra ${toBase64(p.extra)}\n` : '';
  return `${PROOF_HEADER}\n${extra}index ${p.index}\n${p.path.map((h) => `${toBase64(h)}\n`).join('')}\n${p.checkpoint}`;
}

/** Null when the text is not a well-formed tlog-proof. */
export function parseTlogProof(text: string): TlogProof | null {
  const lines = text.split('\n');
  if (lines[0] !== PROOF_HEADER) return null;
  let i = 1;
  let extra: Uint8Array | undefined;
  try {
    if (lines[i]?.startsWith('extra ')) extra = fromBase64(lines[i++]!.slice('extra '.length));
    const m = /^index (0|[1-9][0-9]{0,15})$/.exec(lines[i++] ?? '');
    if (!m) return null;
    const path: Uint8Array[] = [];
    for (; i < lines.length && lines[i] !== ''; i++) {
      const h = fromBase64(lines[i]!);
      if (h.length !== 32 || path.length >= 64) return null;
      path.push(h);
    }
    if (i >= lines.length) return null;
    return { index: Number(m[1]), path, checkpoint: lines.slice(i + 1).join('\n'), ...(extra ? { extra } : {}) };
  } catch {
    return null;
  }
}
