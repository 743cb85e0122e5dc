// The audit log as a tiled transparency log (c2sp.org/tlog-tiles) under the prefix `/log`:
//   GET /log/checkpoint                 the newest checkpoint the covenant's witness quorum cosigned
//   GET /log/vkey                       the log's note verifier key(s), current first
//   GET /log/tile/<L>/<N>[.p/<W>]       hash tiles: public, like the checkpoint (see ARCHITECTURE.md)
//   GET /log/tile/entries/<N>[.p/<W>]   entry bundles: a partner token with read-audit-all; logged
//   GET /v1/audit/proofs/{uid}          a C2SP tlog-proof of one entry (its receipt names the uid)
//   GET /v1/audit/receipts/entries      the entries a batch receipt covers: uid and leaf hash each
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { entryLeafHash, leafInput } from '../audit/entry';
import { readSequencedRange } from '../audit/store';
import { fromHex, toBase64 } from '../encoding';
import { authenticate } from '../auth/middleware';
import type { AppEnv } from '../config';
import { decideAction } from '../covenant/index';
import { Problem } from '../errors';
import { ProblemSchema, problemResponses } from '../http/schemas';
import { deny, readThenLog } from '../http/unit-of-work';
import { formatVerifierKey } from './note';
import { formatTlogProof } from './proof';
import { dbBatchReader, dbHashReader, entriesOfReceipt, entryByUid, latestNoteCheckpoint, latestPublished, minIndex, type PublishedCheckpoint } from './store';
import { encodeBundle, parseTilePath, proveInclusion, TILE_WIDTH, tileWidthAt, withPrefetch } from './tiles';

const IMMUTABLE = 'public, max-age=31536000, immutable';

// --- The API document ----------------------------------------------------------------------------
// The /log routes follow c2sp.org/tlog-tiles, whose paths OpenAPI cannot route: a tile index spans
// path segments (`x001/x234/067`). They are served by the `/log/tile/*` handler below and
// documented here, one operation per path shape, with the spec's content types.

const C2SP_TEXT = 'text/plain; charset=utf-8';
const TILES = 'https://c2sp.org/tlog-tiles';
const text = (description: string) => ({ description, content: { [C2SP_TEXT]: { schema: z.string() } } });
const octets = (description: string, cache: string) => ({
  description,
  headers: { 'Cache-Control': { schema: { type: 'string' as const }, description: cache } },
  content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
});
const tileParams = {
  index: z
    .string()
    .regex(/^(?:x[0-9]{3}\/)*[0-9]{3}$/)
    .openapi({ description: `The tile's index N in the C2SP encoding: groups of three digits, all but the last prefixed with \`x\` and followed by \`/\` (1234067 is \`x001/x234/067\`). It spans path segments: send its slashes as they are, not percent-encoded (${TILES}).`, example: '000' }),
  width: z.string().regex(/^[1-9][0-9]{0,2}$/).openapi({ description: 'Width of a partial tile: 1 to 255 hashes or entries', example: '17' }),
};
const level = z.string().regex(/^(?:0|[1-9][0-9]?)$/).openapi({ description: 'Tile level L, 0 to 63: level 0 holds leaf hashes, level L the roots of complete subtrees of 256^L leaves', example: '0' });
const tileRefusals = {
  404: { description: `Not a tile path, or no such tile in the current tree (\`/problems/not-found\`)`, content: { 'application/problem+json': { schema: ProblemSchema } } },
  410: { description: 'Below the minimum index: entries pruned after the covenant\'s audit retention (`/problems/gone`); their hashes stay in the tiles above', content: { 'application/problem+json': { schema: ProblemSchema } } },
};
const bundleRefusals = {
  ...problemResponses(401),
  403: { description: 'The token\'s role may not read the whole log (read-audit-all): entry bundles hold pseudonyms and case references; logged', content: { 'application/problem+json': { schema: ProblemSchema } } },
  ...tileRefusals,
};
const BUNDLE_FORMAT = 'Big-endian uint16 length-prefixed entries (the leaf inputs); each hashes (RFC 6962) to its leaf hash in the level-0 tile.';

function documentLogRoutes(app: OpenAPIHono<AppEnv>) {
  const r = app.openAPIRegistry;
  r.registerPath({
    method: 'get',
    path: '/log/checkpoint',
    operationId: 'getLogCheckpoint',
    tags: ['Transparency log'],
    security: [],
    summary: `The newest checkpoint the covenant's witness quorum cosigned: a C2SP signed note (https://c2sp.org/tlog-checkpoint) with the witnesses' cosignature lines`,
    responses: {
      200: {
        ...text('origin, tree size and base64 root hash, signed by the log key, then the cosignatures'),
        headers: { 'Kenbaar-Checkpoint-Age': { schema: { type: 'integer' }, description: 'Seconds since the hub signed this checkpoint (it ages while witnesses are offline)' } },
      },
      404: { description: 'No checkpoint has reached the witness quorum yet (`/problems/not-found`)', content: { 'application/problem+json': { schema: ProblemSchema } } },
    },
  });
  r.registerPath({
    method: 'get',
    path: '/log/vkey',
    operationId: 'getLogVerifierKeys',
    tags: ['Transparency log'],
    security: [],
    summary: "The log's note verifier keys, one per line, current first (`<name>+<key id>+<base64 key>`, https://c2sp.org/signed-note); needs no database",
    responses: { 200: text('Verifier keys, as Go’s note.NewVerifier parses them') },
  });
  r.registerPath({
    method: 'get',
    path: '/log/tile/{level}/{index}',
    operationId: 'getLogTile',
    tags: ['Transparency log'],
    security: [],
    summary: `A full hash tile: 256 hashes of 32 bytes (${TILES}); immutable`,
    request: { params: z.object({ level, index: tileParams.index }) },
    responses: { 200: octets('256 concatenated SHA-256 hashes (8,192 bytes)', IMMUTABLE), ...tileRefusals },
  });
  r.registerPath({
    method: 'get',
    path: '/log/tile/{level}/{index}.p/{width}',
    operationId: 'getLogPartialTile',
    tags: ['Transparency log'],
    security: [],
    summary: `A partial hash tile: the rightmost tile at its level, \`width\` hashes (${TILES}); only widths a checkpoint implies`,
    request: { params: z.object({ level, index: tileParams.index, width: tileParams.width }) },
    responses: { 200: octets('`width` concatenated SHA-256 hashes', IMMUTABLE), ...tileRefusals },
  });
  r.registerPath({
    method: 'get',
    path: '/log/tile/entries/{index}',
    operationId: 'getLogEntryBundle',
    tags: ['Transparency log'],
    security: [{ partnerJwt: [] }],
    summary: `A full entry bundle: the 256 entries of level-0 tile N (${TILES}), for readers of the whole log (read-audit-all); the read is logged`,
    request: { params: z.object({ index: tileParams.index }) },
    responses: { 200: octets(BUNDLE_FORMAT, 'private, no-store'), ...bundleRefusals },
  });
  r.registerPath({
    method: 'get',
    path: '/log/tile/entries/{index}.p/{width}',
    operationId: 'getLogPartialEntryBundle',
    tags: ['Transparency log'],
    security: [{ partnerJwt: [] }],
    summary: `A partial entry bundle: the \`width\` entries of the rightmost level-0 tile (${TILES}), for readers of the whole log (read-audit-all); the read is logged`,
    request: { params: z.object({ index: tileParams.index, width: tileParams.width }) },
    responses: { 200: octets(BUNDLE_FORMAT, 'private, no-store'), ...bundleRefusals },
  });
}

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

const receiptEntriesRoute = createRoute({
  method: 'get',
  path: '/v1/audit/receipts/entries',
  operationId: 'getReceiptEntries',
  tags: ['Audit'],
  summary: "The entries a batch receipt covers (its `first` to its `last`), uid and leaf hash each, in append order: for the entries' own organisation, or a reader of the whole log",
  description:
    'A receipt for an answer with many entries (a batch, a long match feed) names their count, first and last uid and the Merkle Tree Hash (RFC 6962) of their leaf hashes. This list must hash to that root; each entry is then proven like any other (`/v1/audit/proofs/{uid}`, or from the hash tiles).',
  security: [{ partnerJwt: [] }],
  request: { query: z.object({ first: z.uuid(), last: z.uuid() }) },
  responses: {
    200: {
      description: 'The entries, in the order their receipt hashed them',
      content: { 'application/json': { schema: z.object({ entries: z.array(z.object({ uid: z.string(), leaf: z.string().openapi({ description: 'base64 RFC 6962 leaf hash' }) })) }) } },
    },
    ...problemResponses(400, 401, 404),
  },
});

export function logRoutes(app: OpenAPIHono<AppEnv>) {
  documentLogRoutes(app);
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
      const entries = await readSequencedRange(q, ref.index * TILE_WIDTH, ref.width);
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

  app.openapi(receiptEntriesRoute, async (c) => {
    const { actor, config } = c.var;
    const { first, last } = c.req.valid('query');
    const entries = await readThenLog(c, async (q, audit) => {
      const found = await entriesOfReceipt(q, first, last);
      const mine = found !== undefined && found[0]!.actorPartner === actor.partner;
      const all = decideAction(config.covenant, actor, 'read-audit-all');
      const may = found !== undefined && (mine || all.allowed);
      await audit({ action: 'audit.read', outcome: may ? 'allowed' : 'denied', rule: mine ? 'own-entries' : all.rule, detail: { receipt: first, entries: may ? found.length : 0 } });
      // Someone else's entries are answered like unknown ones: their existence is not disclosed.
      if (!may) return deny(new Problem('not-found', 'No entries of one request from first to last that you may read'));
      // The leaf as the sequencer stored it, or (not yet sequenced) as it will: both from the row.
      return found.map((e) => ({ uid: e.uid!, leaf: toBase64(e.leafHash ? fromHex(e.leafHash) : entryLeafHash(e, 0)) }));
    });
    return c.json({ entries }, 200);
  });
}

function concatHashes(hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}
