// The audit log as a tiled transparency log (c2sp.org/tlog-tiles) under the prefix `/log`:
//   GET /log/checkpoint                 the newest checkpoint the covenant's witness quorum cosigned
//   GET /log/vkey                       the log's note verifier key(s), current first
//   GET /log/tile/<L>/<N>[.p/<W>]       hash tiles: public, like the checkpoint (see ARCHITECTURE.md)
//   GET /log/tile/entries/<N>[.p/<W>]   entry bundles: a partner token with read-audit-all; logged
//   GET /v1/audit/proofs/{uid}          a C2SP tlog-proof of one entry (its receipt names the uid)
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { leafInput } from '../audit/entry';
import { authenticate } from '../auth/middleware';
import type { AppEnv } from '../config';
import { decideAction } from '../covenant/index';
import { Problem } from '../errors';
import { problemResponses } from '../http/schemas';
import { deny, readThenLog } from '../http/unit-of-work';
import { formatVerifierKey } from './note';
import { formatTlogProof } from './proof';
import { dbBatchReader, dbHashReader, entriesInRange, entryByUid, latestNoteCheckpoint, latestPublished, minIndex, type PublishedCheckpoint } from './store';
import { encodeBundle, parseTilePath, proveInclusion, TILE_WIDTH, tileWidthAt, withPrefetch } from './tiles';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The checkpoint as published: the note and the witnesses' cosignature lines. */
export const publishedNote = (cp: PublishedCheckpoint) => cp.note + cp.cosignatures.join('');

export async function currentPublished(c: Context<AppEnv>): Promise<PublishedCheckpoint | undefined> {
  const w = c.var.config.covenant.witnesses;
  return latestPublished(c.var.db, w.keys.map((k) => k.name), w.quorum);
}

const proofRoute = createRoute({
  method: 'get',
  path: '/v1/audit/proofs/{uid}',
  operationId: 'getAuditProof',
  tags: ['Audit'],
  summary: "A C2SP tlog-proof (c2sp.org/tlog-proof) that an entry is in the published log: for the entry's own organisation, or a reader of the whole log",
  security: [{ partnerJwt: [] }],
  request: { params: z.object({ uid: z.uuid() }) },
  responses: {
    200: { description: 'The proof: index, inclusion proof, and the witnessed checkpoint', content: { 'text/plain': { schema: z.string() } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export function logRoutes(app: OpenAPIHono<AppEnv>) {
  app.get('/log/checkpoint', async (c) => {
    const cp = await currentPublished(c);
    if (!cp) throw new Problem('not-found', 'No checkpoint has reached the witness quorum yet');
    const age = Math.max(0, Math.floor((c.var.clock().getTime() - cp.issuedAt.getTime()) / 1000));
    return c.body(publishedNote(cp), 200, {
      'content-type': 'text/plain; charset=utf-8',
      'cache-control': 'public, max-age=5',
      'kenbaar-checkpoint-age': String(age),
    });
  });

  app.get('/log/vkey', (c) =>
    c.body(c.var.config.log.keys.verifiers.map((k) => `${formatVerifierKey(k)}\n`).join(''), 200, { 'content-type': 'text/plain; charset=utf-8' }),
  );

  // Entry bundles hold pseudonyms and case references: a partner token, and the covenant's consent.
  app.use('/log/tile/entries/*', authenticate());

  app.get('/log/tile/*', async (c) => {
    const ref = parseTilePath(c.req.path.slice('/log/tile/'.length));
    if (!ref) throw new Problem('not-found', 'Not a tile path (c2sp.org/tlog-tiles: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>])');
    const { db } = c.var;
    const size = (await latestNoteCheckpoint(db))?.size ?? 0;
    const level = ref.level === 'entries' ? 0 : ref.level;
    const available = tileWidthAt(level, ref.index, size);
    // Why this tile cannot be served, if it cannot.
    const refusal = async (): Promise<Problem | null> => {
      if (ref.width > available) return new Problem('not-found', `No such tile in the tree of size ${size}`);
      if (level === 0 && (ref.index + 1) * TILE_WIDTH <= (await minIndex(db))) return new Problem('gone', 'These entries were pruned after the audit retention; their hashes stay in the upper tiles');
      return null;
    };
    if (ref.level !== 'entries') {
      const refused = await refusal();
      if (refused) throw refused;
      const hashes = await dbHashReader(db)(ref.level, ref.index * TILE_WIDTH, ref.width);
      return c.body(concatHashes(hashes).buffer as ArrayBuffer, 200, { 'content-type': 'application/octet-stream', 'cache-control': IMMUTABLE });
    }
    const { actor, config } = c.var;
    const bundle = await readThenLog(c, async (q, audit) => {
      const all = decideAction(config.covenant, actor, 'read-audit-all');
      await audit({ action: 'audit.read', outcome: all.allowed ? 'allowed' : 'denied', rule: all.rule, detail: { tile: `entries/${ref.index}`, width: ref.width } });
      if (!all.allowed) return deny(new Problem('forbidden', 'Entry bundles hold pseudonyms and case references: only readers of the whole log (read-audit-all)', { rule: all.rule }));
      const refused = await refusal();
      if (refused) return deny(refused);
      const entries = await entriesInRange(q, ref.index * TILE_WIDTH, ref.width);
      return encodeBundle(entries.map((e) => leafInput(e, e.seq!)));
    });
    return c.body(bundle.buffer as ArrayBuffer, 200, { 'content-type': 'application/octet-stream', 'cache-control': 'private, no-store' });
  });

  app.openapi(proofRoute, async (c) => {
    const { actor, config } = c.var;
    const { uid } = c.req.valid('param');
    const cp = await currentPublished(c);
    const proof = await readThenLog(c, async (q, audit) => {
      const entry = await entryByUid(q, uid);
      const mine = entry !== undefined && entry.actorPartner === actor.partner;
      const all = decideAction(config.covenant, actor, 'read-audit-all');
      const may = entry !== undefined && (mine || all.allowed);
      await audit({ action: 'audit.read', outcome: may ? 'allowed' : 'denied', rule: mine ? 'own-entries' : all.rule, detail: { proof: uid } });
      // Someone else's entry is answered like an unknown one: the uid's existence is not disclosed.
      if (!may) return deny(new Problem('not-found', 'No entry with this uid that you may read'));
      if (entry.seq === null || !cp || entry.seq >= cp.size) {
        return deny(new Problem('not-found', `The entry is not in a published checkpoint yet; the receipt promised it within ${config.log.maxMergeDelaySeconds} s`, { reason: 'not-yet-published' }));
      }
      const seq = entry.seq;
      const hashes = await withPrefetch(dbBatchReader(q), (read) => proveInclusion(read, seq, cp.size));
      return formatTlogProof({ index: entry.seq, path: hashes, checkpoint: publishedNote(cp) });
    });
    return c.text(proof, 200, { 'content-type': 'text/plain; charset=utf-8' });
  });
}

function concatHashes(hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}
