// The interfaces around the API: OpenAPI 3.1, the browsable reference, health, the hub's JWKS,
// problem types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEMS } from '../src/errors';
import { dbKind, startTestHub, type TestHub } from './support/hub';

describe(`system routes (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('serves an OpenAPI 3.1 document describing every /v1 route with partner JWT security', async () => {
    const res = await hub.app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { security?: unknown[] }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const [path, method] of [
      ['/v1/registrations', 'post'],
      ['/v1/registrations/batch', 'post'],
      ['/v1/registrations/{id}', 'delete'],
      ['/v1/lookups', 'post'],
      ['/v1/matches', 'get'],
      ['/health', 'get'],
      ['/livez', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(doc.paths['/v1/lookups']!.post!.security).toEqual([{ partnerJwt: [] }]);
    expect(doc.components.securitySchemes.partnerJwt).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('serves a browsable API reference at /docs', async () => {
    const res = await hub.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('/openapi.json');
  });

  it('health names the covenant version in force', async () => {
    const res = await hub.app.request('/health');
    expect(await res.json()).toEqual({ status: 'ok', covenant: hub.config.covenant.id, covenantVersion: hub.config.covenant.version, database: 'ok', hashing: 'native' });
  });

  it('publishes the hub signing key, public part only', async () => {
    const res = await hub.app.request('/.well-known/jwks.json');
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: hub.config.signer.kid, use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('unknown routes and every problem type answer as problem+json', async () => {
    const res = await hub.app.request('/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ type: '/problems/not-found', status: 404 });
    for (const type of Object.keys(PROBLEMS)) {
      const r = await hub.app.request(`/problems/${type}`);
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ type: `/problems/${type}` });
    }
  });
});

describe('partner keys at start', () => {
  it('refuses a kid published by two partners (one partner key may never stand for another)', async () => {
    const { partnerKeyring } = await import('../src/auth/keyring');
    const { partnerKey } = await import('./support/hub');
    const k = (await partnerKey('politie')).publicJwk;
    expect(() => partnerKeyring(new Map([['politie', { keys: [k] }], ['ggz', { keys: [k] }]]))).toThrow(/published by both politie and ggz/);
  });
});

describe(`the Node server (${dbKind})`, () => {
  it('serves the API reference with its own Swagger UI assets, so /docs works without internet', async () => {
    const { startServer } = await import('../src/node/serve');
    const hub = await startTestHub();
    const running = await startServer(hub.database, hub.config, { host: '127.0.0.1', port: 0, clock: hub.clock });
    try {
      const page = await (await fetch(`${running.url}/docs`)).text();
      expect(page).toContain('/docs/assets/swagger-ui-dist/swagger-ui-bundle.js');
      expect(page).not.toContain('cdn.jsdelivr.net');
      const js = await fetch(`${running.url}/docs/assets/swagger-ui-dist/swagger-ui-bundle.js`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      expect((await js.text()).length).toBeGreaterThan(100_000);
      expect((await fetch(`${running.url}/docs/assets/swagger-ui-dist/package.json`)).status).toBe(404);
      expect((await fetch(`${running.url}/docs/assets/swagger-ui-dist/..%2Fpackage.json`)).status).toBe(404);
    } finally {
      await running.stop();
      await hub.close();
    }
  });

  it('answers over HTTP with the request id and a verifiable receipt on the answer, and reads the body once at the edge: bad bodies get their problem types', async () => {
    const { startServer } = await import('../src/node/serve');
    const { signPartnerToken } = await import('../src/client/token');
    const { RECEIPT_HEADER, verifyReceipt } = await import('../src/log/receipt');
    const { partnerKey } = await import('./support/hub');
    const { person } = await import('./support/people');
    const hub = await startTestHub({ limits: { maxBodyBytes: 2048 } });
    const running = await startServer(hub.database, hub.config, { host: '127.0.0.1', port: 0, clock: hub.clock, accessLog: false });
    const key = { partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk };
    const post = async (body: string | Uint8Array<ArrayBuffer>, type = 'application/json') =>
      fetch(`${running.url}/v1/lookups`, {
        method: 'POST',
        headers: {
          'content-type': type,
          'x-request-id': 'req-edge-1',
          authorization: `Bearer ${await signPartnerToken(key, { sub: 'pr-1', role: 'procesregisseur', audience: hub.config.hubId, now: hub.clock() })}`,
        },
        body,
      });
    try {
      const ok = await post(JSON.stringify({ subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-EDGE-1' }));
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-request-id')).toBe('req-edge-1');
      expect(ok.headers.get('content-length')).not.toBeNull(); // answered whole, not streamed
      const claims = await verifyReceipt(ok.headers.get(RECEIPT_HEADER)!, hub.config.signer.published);
      expect(claims && 'entries' in claims ? claims.entries : []).toHaveLength(1);
      expect((await ok.json()).decision.rules).toBeDefined();

      const problem = async (res: Response) => ({ status: res.status, type: ((await res.json()) as { type: string }).type, receipt: res.headers.has(RECEIPT_HEADER), id: res.headers.get('x-request-id') });
      expect(await problem(await post('{"subject":'))).toEqual({ status: 400, type: '/problems/malformed-json', receipt: true, id: 'req-edge-1' });
      expect(await problem(await post(new Uint8Array([0x7b, 0xff, 0x7d])))).toEqual({ status: 400, type: '/problems/malformed-json', receipt: true, id: 'req-edge-1' });
      expect(await problem(await post('{}', 'text/plain'))).toEqual({ status: 415, type: '/problems/unsupported-media-type', receipt: true, id: 'req-edge-1' });
      expect(await problem(await post(JSON.stringify({ subject: 'x'.repeat(3000) })))).toEqual({ status: 413, type: '/problems/payload-too-large', receipt: true, id: 'req-edge-1' });
    } finally {
      await running.stop();
      await hub.close();
    }
  });

  it("builds a logged answer once, with its headers: the Node adapter's lightweight Response is what the app returns (no copy, no streamed body)", async () => {
    const { getRequestListener } = await import('@hono/node-server');
    const { signPartnerToken } = await import('../src/client/token');
    const { partnerKey } = await import('./support/hub');
    const { person } = await import('./support/people');
    getRequestListener(() => new Response()); // installs the adapter's Response, as serve does
    const hub = await startTestHub();
    try {
      const key = { partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk };
      const token = await signPartnerToken(key, { sub: 'pr-1', role: 'procesregisseur', audience: hub.config.hubId, now: hub.clock() });
      const res = await hub.app.fetch(
        new Request('http://hub.test/v1/lookups', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-ONCE-1' }),
        }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.has('kenbaar-receipt') && res.headers.has('x-request-id')).toBe(true);
      // @hono/node-server answers from this cached [status, body, headers] without building a WHATWG
      // Response; a Response copied after the fact (c.header after next()) has lost it.
      expect(Object.getOwnPropertySymbols(res).map(String)).toContain('Symbol(cache)');
    } finally {
      await hub.close();
    }
  });
});
