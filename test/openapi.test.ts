// The API document as integrators and generators read it: every operation named (operationId) and
// secured explicitly (public ones `security: []`), where the hub is (`servers`), the failures any
// route can answer (500, and 503 where the database is needed). `npm run lint:openapi` runs redocly's
// recommended ruleset on the same document (CI).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { appendAudit } from '../src/audit/store';
import { DATABASE_FREE_PATHS } from '../src/system/routes';
import { tokenFor } from './support/http';
import { dbKind, startTestHub, type TestHub } from './support/hub';

type Operation = { operationId?: string; security?: Record<string, string[]>[]; responses: Record<string, { content?: Record<string, unknown> }>; deprecated?: boolean };
type Doc = { servers?: { url: string }[]; paths: Record<string, Record<string, Operation>> };

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

function operations(doc: Doc) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ path, method, op })),
  );
}

describe(`the API document (${dbKind})`, () => {
  let hub: TestHub;
  let doc: Doc;
  beforeAll(async () => {
    hub = await startTestHub();
    doc = (await (await hub.app.request('https://hub.zvh.test/openapi.json')).json()) as Doc;
  });
  afterAll(() => hub?.close());

  it('names every operation with a unique operationId', () => {
    const ids = operations(doc).map(({ path, method, op }) => op.operationId ?? `<none: ${method} ${path}>`);
    expect(ids.filter((id) => id.startsWith('<none'))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('declares security on every operation: partner JWT under /v1 and on entry bundles, none (`[]`) on public routes', () => {
    for (const { path, method, op } of operations(doc)) {
      const isPublic = !(path.startsWith('/v1/') || path.startsWith('/log/tile/entries/')) || path === '/v1/audit/checkpoint';
      expect(op.security, `${method} ${path}`).toEqual(isPublic ? [] : [{ partnerJwt: [] }]);
    }
  });

  it('says where the hub is: servers is the origin the document was fetched from', () => {
    expect(doc.servers).toEqual([{ url: 'https://hub.zvh.test', description: 'This hub' }]);
  });

  it('documents 500 on every operation and 503 on every operation that needs the database', () => {
    for (const { path, method, op } of operations(doc)) {
      expect(op.responses['500'], `${method} ${path}`).toBeDefined();
      if (!DATABASE_FREE_PATHS.includes(path)) expect(op.responses['503'], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/v1/lookups']!.post!.responses['429']).toBeDefined();
  });

  it('serves the public checkpoint under /v1 without a token; the old /audit/checkpoint is a deprecated alias', async () => {
    expect(doc.paths['/audit/checkpoint']!.get!.deprecated).toBe(true);
    // No checkpoint yet: both answer the same 404 problem, neither asks for a token.
    const [now, old] = await Promise.all([hub.app.request('/v1/audit/checkpoint'), hub.app.request('/audit/checkpoint')]);
    expect(now.status).toBe(404);
    expect(old.status).toBe(404);
    const client = await hub.as('politie', 'privacy-officer');
    await client.checkpoint();
    const [a, b] = await Promise.all([hub.app.request('/v1/audit/checkpoint'), hub.app.request('/audit/checkpoint')]);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual(await b.json());
  });

  it('a token is still required on every other /v1 route, also for GET', async () => {
    expect((await hub.app.request('/v1/audit/checkpoints', { method: 'GET' })).status).toBe(401);
    expect((await hub.app.request('/v1/matches')).status).toBe(401);
  });

  it('documents the transparency log (c2sp.org/tlog-tiles) as served: every /log shape answers a documented status with the documented content type', async () => {
    const db = hub.database.db;
    const ctx = { at: hub.clock(), requestId: 'openapi-test', actor: null, covenantVersion: hub.config.covenant.version };
    await appendAudit(db, ctx, Array.from({ length: 300 }, (_, i) => ({ action: 'purge' as const, outcome: 'ok' as const, detail: { i } })));
    const cp = await createCheckpoint(db, hub.config, hub.clock());
    const partial = cp.size % 256;
    const logOps = operations(doc).filter(({ path }) => path.startsWith('/log/'));
    expect(logOps.map(({ op }) => op.operationId).sort()).toEqual(
      ['getLogCheckpoint', 'getLogEntryBundle', 'getLogPartialEntryBundle', 'getLogPartialTile', 'getLogTile', 'getLogVerifierKeys'],
    );
    for (const { path, op } of logOps) {
      const isPartial = path.includes('.p/');
      const url = path.replace('{level}', '0').replace('{index}', isPartial ? '001' : '000').replace('{width}', String(partial));
      const headers: Record<string, string> = op.security?.length ? { authorization: `Bearer ${await tokenFor(hub, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer')}` } : {};
      const res = await hub.app.request(url, { headers });
      expect(res.status, url).toBe(200);
      expect(Object.keys(op.responses['200']!.content!), url).toEqual([res.headers.get('content-type')]);
      if (path.startsWith('/log/tile/') && !path.includes('entries')) expect((await res.arrayBuffer()).byteLength, url).toBe(32 * (isPartial ? partial : 256));
      // A width no checkpoint implies: a documented refusal.
      if (isPartial) expect(Object.keys(op.responses)).toContain(String((await hub.app.request(url.replace(/\.p\/\d+$/, '.p/255'), { headers })).status));
    }
  });
});
