// The hub's side of c2sp.org/tlog-witness: every new checkpoint goes, with a consistency proof from
// the size each witness last cosigned, to the witnesses the covenant names; their cosignatures are
// verified and stored, and /log/checkpoint serves the newest checkpoint with a quorum of them. A
// witness that is offline or refuses does not stop the hub: the published checkpoint just ages.
import type { Checkpoint } from '../audit/store';
import { createCheckpoint } from '../audit/checkpoint';
import type { HubConfig } from '../config';
import { errorCode } from '../db/errors';
import type { Db } from '../db/types';
import { toBase64 } from '../encoding';
import type { Logger } from '../log';
import { openCheckpoint } from './checkpoint';
import { parseVerifierKey } from './note';
import { backfillSubtrees } from './retention';
import { addCosignature, dbBatchReader, setWitnessSize, witnessSizes } from './store';
import { proveConsistency, withPrefetch } from './tiles';

/** `code`: for the server log (an error class, a socket code, `http-<status>`, ...); `detail`: for people. */
export type WitnessOutcome = { witness: string; status: 'cosigned' | 'offline' | 'conflict' | 'refused' | 'bad-cosignature'; code: string; detail: string };

const DEFAULT_TIMEOUT_MS = 5_000;

/** Submit checkpoint `cp` to every witness of the covenant; store the cosignatures that verify. */
export async function submitToWitnesses(db: Db, config: HubConfig, cp: Checkpoint, now: Date, fetchImpl: typeof fetch = fetch): Promise<WitnessOutcome[]> {
  if (!cp.note || config.covenant.witnesses.keys.length === 0) return [];
  const known = await witnessSizes(db);
  return Promise.all(
    config.covenant.witnesses.keys.map(async (w): Promise<WitnessOutcome> => {
      const key = parseVerifierKey(w.vkey);
      let old = known.get(w.name) ?? 0;
      // One retry: a 409 tells the size the witness really holds (first contact, or a lost answer).
      for (let attempt = 0; attempt < 2; attempt++) {
        if (old > cp.size) return { witness: w.name, status: 'conflict', code: 'size-beyond-checkpoint', detail: `the witness holds size ${old}, beyond this checkpoint (${cp.size})` };
        const proof = old > 0 && old < cp.size ? await withPrefetch(dbBatchReader(db), (read) => proveConsistency(read, old, cp.size)) : [];
        const body = `old ${old}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${cp.note}`;
        let res: Response;
        try {
          res = await post(fetchImpl, `${w.url.replace(/\/$/, '')}/add-checkpoint`, body, config.log.witnessTimeoutMs ?? DEFAULT_TIMEOUT_MS);
        } catch (e) {
          return { witness: w.name, status: 'offline', code: errorCode(e), detail: e instanceof Error ? e.name : 'fetch failed' };
        }
        const text = await res.text();
        if (res.status === 409 && (res.headers.get('content-type') ?? '').startsWith('text/x.tlog.size') && /^\d+\n$/.test(text)) {
          old = Number(text.trim());
          await setWitnessSize(db, w.name, old, now);
          continue;
        }
        if (res.status !== 200) return { witness: w.name, status: 'refused', code: `http-${res.status}`, detail: `HTTP ${res.status}` };
        const opened = openCheckpoint(cp.note + text, config.log.keys.origin, config.log.keys.verifiers, [{ name: w.name, key }]);
        const cosig = opened?.cosignatures[0];
        if (!cosig) return { witness: w.name, status: 'bad-cosignature', code: 'no-valid-cosignature', detail: 'no valid cosignature by this witness in the answer' };
        await addCosignature(db, cp.id, w.name, cosig.line, now);
        await setWitnessSize(db, w.name, cp.size, now);
        return { witness: w.name, status: 'cosigned', code: 'ok', detail: `size ${cp.size}` };
      }
      return { witness: w.name, status: 'conflict', code: 'http-409-repeated', detail: 'the witness keeps answering 409' };
    }),
  );
}

/**
 * POST, once more after a network error (not after a timeout): a kept-alive connection the witness
 * closed just then fails the first try. Repeating add-checkpoint is safe: a witness that took the
 * first answers 409 with the new size, or cosigns the same checkpoint again.
 */
async function post(fetchImpl: typeof fetch, url: string, body: string, timeoutMs: number): Promise<Response> {
  try {
    return await fetchImpl(url, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    if (e instanceof Error && e.name === 'TimeoutError') throw e;
    return fetchImpl(url, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
  }
}

/**
 * The checkpoint job (Node timer, Worker cron, POST /v1/audit/checkpoints): sign, then witness. A
 * witness that did not cosign is one `witness.failed` line in the server log `log`.
 */
export async function checkpointAndWitness(db: Db, config: HubConfig, now: Date, log: Logger, fetchImpl: typeof fetch = fetch): Promise<{ checkpoint: Checkpoint; witnesses: WitnessOutcome[] }> {
  await backfillSubtrees(db); // upper tiles for entries sequenced before migration 0005, once
  const checkpoint = await createCheckpoint(db, config, now);
  const witnesses = await submitToWitnesses(db, config, checkpoint, now, fetchImpl);
  for (const w of witnesses) {
    // Codes and ids only: the witness's key name, the outcome, the checkpoint's id and size.
    if (w.status !== 'cosigned') log('warn', 'witness.failed', { witness: w.witness, status: w.status, code: w.code, checkpointId: checkpoint.id, size: checkpoint.size });
  }
  return { checkpoint, witnesses };
}
