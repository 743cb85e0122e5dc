// The Authorization header as src/auth/middleware.ts reads it, and the one path under /v1 that needs
// no token: exactly `Bearer <token>` (the scheme in any case, any run of whitespace before the
// token, nothing after it), and only GET of the public checkpoint without one. Written from the
// mutants StrykerJS could leave alive there (TESTING.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_CHECKPOINT_PATH } from '../src/audit/routes';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { person } from './support/people';

describe(`the Authorization header (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  /** A lookup with the Authorization header exactly as given. */
  async function lookup(authorization: string) {
    return send(hub, {
      path: '/v1/lookups',
      headers: { authorization },
      json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-HDR' },
    });
  }
  const token = () => tokenFor(hub, 'gemeente', 'procesregisseur');

  it('accepts the scheme in any case and any whitespace before the token', async () => {
    for (const prefix of ['Bearer ', 'bearer ', 'BEARER ', 'Bearer \t ']) {
      const res = await lookup(`${prefix}${await token()}`);
      expect(res.status, JSON.stringify(prefix)).toBe(200);
    }
  });

  it("refuses anything else as missing-token, logged: no space, another scheme, something before or after (fetch trims a header value's outer whitespace itself)", async () => {
    const headers = [`Bearer${await token()}`, `Basic ${await token()}`, `xBearer ${await token()}`, `Bearer ${await token()} extra`, 'Bearer '];
    for (const header of headers) {
      const res = await lookup(header);
      expect(res.status, JSON.stringify(header)).toBe(401);
      expect(res.body, header).toMatchObject({ type: '/problems/unauthenticated', reason: 'missing-token' });
      expect((await auditOf(hub, res.requestId)).map((e) => [e.action, (e.detail as { reason: string }).reason])).toEqual([['auth.failure', 'missing-token']]);
    }
  });

  it('only GET of the public checkpoint needs no token; any other method on it, or a path beside it, does', async () => {
    const open = await send(hub, { path: PUBLIC_CHECKPOINT_PATH });
    expect(open.status).not.toBe(401);
    for (const req of [
      { method: 'POST', path: PUBLIC_CHECKPOINT_PATH, json: {} },
      { method: 'DELETE', path: PUBLIC_CHECKPOINT_PATH },
      { method: 'GET', path: `${PUBLIC_CHECKPOINT_PATH}s` },
      { method: 'GET', path: `${PUBLIC_CHECKPOINT_PATH}/` },
    ]) {
      const res = await send(hub, req);
      expect(res.status, `${req.method} ${req.path}`).toBe(401);
      expect(res.body).toMatchObject({ reason: 'missing-token' });
    }
  });
});
