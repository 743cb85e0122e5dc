// A witness (c2sp.org/tlog-witness) that a partner runs: it cosigns a log's checkpoint only if it is
// consistent with the last one it cosigned for that log, so the operator cannot rewrite history or
// show different histories to different parties without the witnesses noticing. Runtime-agnostic:
// the state store is injected (a JSON file on Node: src/node/commands/witness.ts).
import { Hono } from 'hono';
import { verifyConsistency } from '../audit/merkle';
import { fromBase64, toBase64, unixSeconds } from '../encoding';
import { parseCheckpointText } from '../log/checkpoint';
import { cosign, parseNote, verifySignature, type NoteKey, type NoteSigner } from '../log/note';

export const SIZE_CONTENT_TYPE = 'text/x.tlog.size';
const MAX_PROOF_LINES = 63;

/** What the witness remembers per log origin: the latest checkpoint it cosigned. */
export type WitnessedHead = { size: number; root: string };

export type WitnessStore = {
  /**
   * Runs `update` on the origin's head atomically with respect to other calls (the check of `old`
   * and the write of the new head must not interleave: tlog-witness, "add-checkpoint").
   */
  transact<T>(origin: string, update: (head: WitnessedHead | null) => Promise<{ next?: WitnessedHead; result: T }>): Promise<T>;
};

export type WitnessConfig = {
  signer: NoteSigner;
  /** Known logs: origin -> the log's verifier keys. */
  logs: ReadonlyMap<string, readonly NoteKey[]>;
  now: () => Date;
};

export type WitnessAnswer = { status: 200 | 400 | 403 | 404 | 409 | 422; body: string; contentType: string };

const answer = (status: WitnessAnswer['status'], body: string, contentType = 'text/plain; charset=utf-8'): WitnessAnswer => ({ status, body, contentType });

/** The add-checkpoint call: checks, in the order the spec gives, then cosigns. */
export async function addCheckpoint(config: WitnessConfig, store: WitnessStore, request: string): Promise<WitnessAnswer> {
  const parsed = parseRequest(request);
  if (!parsed) return answer(400, 'malformed add-checkpoint request\n');
  const { old, proof, note } = parsed;
  const opened = parseNote(note);
  const body = opened ? parseCheckpointText(opened.text) : null;
  if (!opened || !body) return answer(400, 'malformed checkpoint\n');
  const keys = config.logs.get(body.origin);
  if (!keys) return answer(404, 'unknown log origin\n');
  if (!opened.signatures.some((sig) => keys.some((k) => verifySignature(opened.text, sig, k).ok))) return answer(403, 'no valid log signature\n');
  if (old > body.size) return answer(400, 'old size exceeds the checkpoint size\n');
  if (old === 0 && proof.length > 0) return answer(400, 'a proof from size 0 must be empty\n');

  return store.transact(body.origin, async (head) => {
    const known = head?.size ?? 0;
    if (old !== known) return { result: answer(409, `${known}\n`, SIZE_CONTENT_TYPE) };
    const root = toBase64(body.root);
    if (head && old === body.size) {
      if (head.root !== root) return { result: answer(409, `${known}\n`, SIZE_CONTENT_TYPE) };
    } else if (head && old > 0 && !verifyConsistency(old, body.size, fromBase64(head.root), body.root, proof)) {
      return { result: answer(422, 'consistency proof does not verify\n') };
    }
    const line = cosign(opened.text, config.signer, unixSeconds(config.now()));
    return { next: { size: body.size, root }, result: answer(200, line) };
  });
}

function parseRequest(request: string): { old: number; proof: Uint8Array[]; note: string } | null {
  const m = /^old (0|[1-9][0-9]{0,15})\n/.exec(request);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return null;
  let rest = request.slice(m[0].length);
  const proof: Uint8Array[] = [];
  for (;;) {
    const nl = rest.indexOf('\n');
    if (nl < 0) return null;
    const line = rest.slice(0, nl);
    rest = rest.slice(nl + 1);
    if (line === '') break;
    if (proof.length === MAX_PROOF_LINES) return null;
    try {
      const h = fromBase64(line);
      if (h.length !== 32) return null;
      proof.push(h);
    } catch {
      return null;
    }
  }
  return { old: Number(m[1]), proof, note: rest };
}

/** The witness's HTTP interface: POST <prefix>/add-checkpoint. */
export function witnessApp(config: WitnessConfig, store: WitnessStore) {
  const app = new Hono();
  app.post('/add-checkpoint', async (c) => {
    const body = await c.req.text();
    if (body.length > 100_000) return c.text('request too large\n', 400);
    const a = await addCheckpoint(config, store, body);
    return c.body(a.body, a.status, { 'content-type': a.contentType });
  });
  return app;
}

/** An in-memory store, for tests and as the core of the file store: one update at a time. */
export function memoryStore(initial: Record<string, WitnessedHead> = {}, persist?: (all: Record<string, WitnessedHead>) => Promise<void>): WitnessStore {
  const heads: Record<string, WitnessedHead> = { ...initial };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    transact(origin, update) {
      const run = queue.then(async () => {
        const { next, result } = await update(heads[origin] ?? null);
        if (next) {
          heads[origin] = next;
          await persist?.({ ...heads });
        }
        return result;
      });
      queue = run.catch(() => {});
      return run;
    },
  };
}
