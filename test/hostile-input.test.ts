// Hostile input: text PostgreSQL cannot store (U+0000, a lone surrogate), huge values and odd
// encodings, in every field a request carries. Each is refused with a 4xx problem+json that names the
// field; nothing is stored; and the attempt is in the audit log under the partner, with whatever it
// quotes of the sender's text escaped and bounded. PGlite and PostgreSQL must answer alike (run this
// file with DATABASE_URL too): PostgreSQL refuses NUL in text and jsonb, PGlite may not.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/store';
import { HubClient, HubError } from '../src/client/client';
import { isWellFormedText } from '../src/encoding';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { auditOf, expectRefusedAttempt, registrationRow, send, storedRows, tokenFor, type As, type Request, type Sent } from './support/http';
import { contact, person } from './support/people';

/**
 * A value PostgreSQL cannot store, how the audit log spells it when it quotes it, and its closest
 * spelling in a URL (a lone surrogate has no UTF-8 form: `%ED%A0%80` is its CESU-8 bytes).
 */
const HOSTILE: [name: string, value: string, escaped: string, inUrl: string][] = [
  ['U+0000', 'a\u0000b', 'a\\u0000b', 'a%00b'],
  ['a lone high surrogate', 'a\ud800b', 'a\\ud800b', 'a%ED%A0%80b'],
  ['a lone low surrogate', 'a\udc00b', 'a\\udc00b', 'a%ED%B0%80b'],
];

const PROCESREGISSEUR: As = ['gemeente', 'procesregisseur'];
const VZ_SYSTEM: As = ['verslavingszorg', 'partner-system'];
const FG: As = ['zorg-en-veiligheidshuis', 'zvh-privacy-officer'];
const BROKER: As = ['zorg-en-veiligheidshuis', 'informatiemakelaar'];

const goodRegistration = () => ({ subject: person().subject, category: 'procesregie', contact: contact('Procesregie ZVH'), reference: 'ZVH-2026-0100' });
const goodLookup = () => ({ subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-2026-0100' });
/** Shaped like a compact JWE, so only the field under test is wrong. */
const JWE_SHAPED = 'eyJhbGciOiJFQ0RILUVTIn0..aXY.Y2lwaGVy.dGFn';

/** `body` with the value at a dotted path replaced. */
function withField(body: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  return { ...body, [head!]: rest.length ? withField(body[head!] as Record<string, unknown>, rest.join('.'), value) : value };
}

describe(`hostile input (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  async function as(who: As, req: Omit<Request, 'token'>): Promise<Sent> {
    return send(hub, { ...req, token: await tokenFor(hub, who[0], who[1]) });
  }

  /** A 4xx problem+json naming `field`, nothing stored, and the attempt logged under the partner. */
  const expectRefused = (who: As, req: Omit<Request, 'token'>, want: { status?: number; field: string; index?: number }) =>
    expectRefusedAttempt(hub, who, req, { ...want, status: want.status ?? 400 });

  describe.each(HOSTILE)('%s', (_name, bad, escaped, inUrl) => {
    const bodyFields: [field: string, who: As, path: string, body: () => Record<string, unknown>][] = [
      ['subject', PROCESREGISSEUR, '/v1/registrations', goodRegistration],
      ['category', PROCESREGISSEUR, '/v1/registrations', goodRegistration],
      ['reference', PROCESREGISSEUR, '/v1/registrations', goodRegistration],
      ['contact.function', PROCESREGISSEUR, '/v1/registrations', goodRegistration],
      ['contact.phone', PROCESREGISSEUR, '/v1/registrations', goodRegistration],
      ['contact.email', PROCESREGISSEUR, '/v1/registrations', goodRegistration],
      ['subject', PROCESREGISSEUR, '/v1/lookups', goodLookup],
      ['purpose', PROCESREGISSEUR, '/v1/lookups', goodLookup],
      ['caseRef', PROCESREGISSEUR, '/v1/lookups', goodLookup],
      ['grant', VZ_SYSTEM, `/v1/disclosures/grants/${crypto.randomUUID()}/handover`, () => ({ grant: 'x', content: JWE_SHAPED })],
    ];

    it.each(bodyFields)('in %s of %s %s: 400 naming it, nothing stored, the attempt logged', async (field, who, path, body) => {
      const { entries } = await expectRefused(who, { method: 'POST', path, json: withField(body(), field, bad) }, { field });
      expect(entries.map((e) => e.action)).toEqual(['request.rejected']);
    });

    it('in one item of a batch: 422 naming the item and the field, nothing stored', async () => {
      const items = [goodRegistration(), withField(goodRegistration(), 'contact.function', bad), goodRegistration()];
      await expectRefused(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations/batch', json: { items } }, { status: 422, field: 'contact.function', index: 1 });
    });

    it('as the name of an unknown field: 400 naming it escaped, and logged', async () => {
      const { body, entries } = await expectRefused(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', json: { ...goodRegistration(), [bad]: 1 } }, { field: escaped });
      expect(body.errors).toEqual([{ field: escaped, reason: 'unknown field' }]);
      expect(entries[0]!.detail).toMatchObject({ errors: [{ field: escaped, reason: 'unknown field' }] });
    });

    it('in a query parameter (disclosure list purpose, holder, requester; audit subject): 400 naming it, logged', async () => {
      const q = inUrl;
      for (const name of ['purpose', 'holder', 'requester']) {
        await expectRefused(BROKER, { method: 'GET', path: `/v1/disclosures?${name}=${q}` }, { field: name });
      }
      await expectRefused(FG, { method: 'GET', path: `/v1/audit/entries?subject=${q}` }, { field: 'subject' });
      await expectRefused(VZ_SYSTEM, { method: 'GET', path: `/v1/matches?after=${q}` }, { field: 'after' });
    });

    describe('in a signed document', () => {
      /** A client of the real client library whose calls carry request ids we know. */
      async function client(who: As, sub: string) {
        let last = '';
        const fetchWithId = ((input: RequestInfo | URL, init?: RequestInit) => {
          last = `hostile-${crypto.randomUUID()}`;
          return hub.app.request(String(input), { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-request-id': last } });
        }) as typeof fetch;
        const c = new HubClient(hub.url, hub.config.hubId, await hub.identity(who[0], who[1], sub), fetchWithId, hub.clock);
        return { c, requestId: () => last };
      }

      async function expectSignedRefused(who: As, call: () => Promise<unknown>, requestId: () => string, field: string) {
        const before = await storedRows(hub);
        const e = await call().then(() => undefined, (err: unknown) => err);
        expect(e).toBeInstanceOf(HubError);
        const err = e as HubError;
        expect(err.status).toBe(400);
        expect(err.problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
        expect(await storedRows(hub)).toEqual(before);
        const entries = await auditOf(hub, requestId());
        expect(entries.map((x) => [x.action, x.actorPartner])).toEqual([['request.rejected', who[0]]]);
      }

      const ask = {
        subject: person().subject,
        holder: 'verslavingszorg',
        purpose: 'procesregie-casus-op-maat',
        legalBasis: 'uavg-30-33',
        categories: ['behandelrelatie'],
        caseRef: 'ZVH-2026-0142',
        justification: 'Casus op maat: om het veiligheidsplan af te stemmen moeten we weten of moeder in behandeling is en bij wie; minder volstaat niet.',
      };

      it.each(['sub', 'jti', 'holder', 'purpose', 'legalBasis', 'categories.0', 'caseRef', 'justification'])(
        'a disclosure request whose %s is hostile: 400 naming request.<field>, logged',
        async (field) => {
          const { c, requestId } = await client(PROCESREGISSEUR, 'pr-de-vries');
          const [key, index] = field.split('.');
          const value = index === undefined ? bad : [bad];
          await expectSignedRefused(PROCESREGISSEUR, () => c.requestDisclosure({ ...ask, [key!]: value } as typeof ask), requestId, `request.${field}`);
        },
      );

      it.each(['sub', 'jti', 'reason', 'categories.0'])('a broker decision whose %s is hostile: 400 naming decision.<field>, logged', async (field) => {
        const { c, requestId } = await client(BROKER, 'im-bakker');
        const [key, index] = field.split('.');
        const value = index === undefined ? bad : [bad];
        const decision = { outcome: 'reject' as const, reason: 'niet onderbouwd', [key!]: value };
        await expectSignedRefused(BROKER, () => c.decide(crypto.randomUUID(), decision as Parameters<HubClient['decide']>[1]), requestId, `decision.${field}`);
      });
    });

    it('in the path asked for without a token: 401, and the auth failure is logged with the path escaped', async () => {
      const before = await storedRows(hub);
      const res = await send(hub, { method: 'DELETE', path: `/v1/registrations/${inUrl}` });
      expect(res.status).toBe(401);
      expect(await storedRows(hub)).toEqual(before);
      const [entry] = await auditOf(hub, res.requestId);
      expect(entry).toMatchObject({ action: 'auth.failure', detail: { reason: 'missing-token' } });
      const path = (entry!.detail as { path: string }).path;
      // U+0000 decodes and is escaped; the surrogates do not decode and stay percent-encoded.
      expect(path).toBe(`/v1/registrations/${bad === 'a\u0000b' ? escaped : inUrl}`);
    });
  });

  describe('the URL path and the query string', () => {
    const ids = ['%00', 'a%00b', '%ED%A0%80', '%C0%80', '%'];
    const routes: [method: string, path: (id: string) => string, field: string, who: As, json?: unknown][] = [
      ['DELETE', (id) => `/v1/registrations/${id}`, 'id', VZ_SYSTEM],
      ['GET', (id) => `/v1/disclosures/${id}`, 'id', BROKER],
      ['GET', (id) => `/v1/disclosures/${id}/handover`, 'id', PROCESREGISSEUR],
      ['POST', (id) => `/v1/disclosures/${id}/decisions`, 'id', BROKER, { decision: 'a.b.c' }],
      ['POST', (id) => `/v1/disclosures/grants/${id}/handover`, 'grantId', VZ_SYSTEM, { grant: 'x', content: JWE_SHAPED }],
    ];
    for (const [method, path, field, who, json] of routes) {
      it.each(ids)(`${method} ${path('{id}')} with the id %s: 400 naming ${field}, logged with the path escaped`, async (id) => {
        const { entries } = await expectRefused(who, { method, path: path(id), ...(json ? { json } : {}) }, { field });
        expect(entries[0]!.action).toBe('request.rejected');
        expect(isWellFormedText((entries[0]!.detail as { path: string }).path)).toBe(true);
      });
    }

    it.each(['/v1/%00', '/v1/registrations/x/%00/%ED%A0%80'])('a route that does not exist (%s): 404 problem+json, logged with the path escaped', async (path) => {
      const { entries } = await expectRefusedAttempt(hub, VZ_SYSTEM, { method: 'GET', path }, { status: 404, type: '/problems/not-found' });
      expect(entries.map((e) => [e.action, e.detail?.status])).toEqual([['request.rejected', 404]]);
      expect((entries[0]!.detail as { path: string }).path).toMatch(/^\/v1\/.*\\u0000/);
    });

    it.each(['%ED%A0%80', '%C0%80', '%FF', '%'])('a query value %s that is not percent-encoded UTF-8 is refused 400 naming the parameter, logged', async (v) => {
      await expectRefused(BROKER, { method: 'GET', path: `/v1/disclosures?purpose=${v}` }, { field: 'purpose' });
      await expectRefused(VZ_SYSTEM, { method: 'GET', path: `/v1/matches?limit=${v}` }, { field: 'limit' });
    });
  });

  it('the audit log takes any text a detail quotes: U+0000 and lone surrogates are stored escaped, other text as is', async () => {
    // The last line of defence: an entry is never lost (and its request never fails) over its text.
    const requestId = `hostile-${crypto.randomUUID()}`;
    const ctx = { at: hub.clock(), requestId, actor: null, covenantVersion: hub.config.covenant.version };
    const detail = { quoted: HOSTILE.map(([, v]) => v), plain: 'a\\u0000b ü 😀', nested: { deeper: ['\u0000'] } };
    await appendAudit(hub.database.db, ctx, [{ action: 'request.rejected', outcome: 'rejected', purpose: 'p\u0000', detail }]);
    const [entry] = await auditOf(hub, requestId);
    expect(entry).toMatchObject({ purpose: 'p\\u0000', detail: { quoted: HOSTILE.map(([, , e]) => e), plain: 'a\\u0000b ü 😀', nested: { deeper: ['\\u0000'] } } });
  });

  describe('huge values are refused by their bound, and logged in bounded form', () => {
    it('a 100,000-character caseRef: 400 naming caseRef; the log entry stays small', async () => {
      const { entries } = await expectRefused(PROCESREGISSEUR, { method: 'POST', path: '/v1/lookups', json: { ...goodLookup(), caseRef: 'x'.repeat(100_000) } }, { field: 'caseRef' });
      expect(JSON.stringify(entries).length).toBeLessThan(2_000);
    });

    it('a 100,000-character unknown field name: 400 naming it cut short with its length and hash; response and log stay small', async () => {
      const name = 'n'.repeat(100_000);
      const { body, entries } = await expectRefused(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', json: { ...goodRegistration(), [name]: 1 } }, { field: expect.stringMatching(/^n+… \[100000 chars, sha256 [0-9a-f]{16}\]$/) as unknown as string });
      expect(JSON.stringify(body).length).toBeLessThan(2_000);
      expect(JSON.stringify(entries).length).toBeLessThan(2_000);
    });

    it('a 100,000-character query value: 400 naming it; the log stays small', async () => {
      const { entries } = await expectRefused(BROKER, { method: 'GET', path: `/v1/disclosures?holder=${'h'.repeat(100_000)}` }, { field: 'holder' });
      expect(JSON.stringify(entries).length).toBeLessThan(2_000);
    });

    it('a path of 30,000 encoded NULs: 400 naming id; the log keeps a bounded, escaped path', async () => {
      const { entries } = await expectRefused(VZ_SYSTEM, { method: 'DELETE', path: `/v1/registrations/${'%00'.repeat(30_000)}` }, { field: 'id' });
      expect(JSON.stringify(entries).length).toBeLessThan(2_000);
    });
  });

  describe('the bytes of the body', () => {
    const good = () => JSON.stringify(goodRegistration());
    const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

    it.each([
      ['an invalid byte (0xFF)', [0xff]],
      ['a truncated sequence (0xC3 then ")', [0xc3]],
      ['an overlong NUL (0xC0 0x80)', [0xc0, 0x80]],
      ['an encoded surrogate (0xED 0xA0 0x80)', [0xed, 0xa0, 0x80]],
    ])('a body with %s inside a string is refused 400 malformed-json, nothing stored, logged', async (_name, raw) => {
      const body = good();
      const at = body.indexOf('Procesregie ZVH');
      const before = await storedRows(hub);
      const res = await as(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', raw: bytes(body.slice(0, at), raw, body.slice(at)) });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ type: '/problems/malformed-json', detail: expect.stringMatching(/UTF-8/) });
      expect(await storedRows(hub)).toEqual(before);
      expect((await auditOf(hub, res.requestId)).map((e) => [e.action, e.actorPartner])).toEqual([['request.rejected', 'gemeente']]);
    });

    it('a body that starts with a UTF-8 byte-order mark is read as the JSON after it', async () => {
      const res = await as(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', raw: bytes([0xef, 0xbb, 0xbf], good()) });
      expect(res.status).toBe(201);
    });
  });

  describe('properties: any string in a free-text field', () => {
    // Any code units, with the ones PostgreSQL refuses (NUL, either surrogate half) made common.
    const unit = fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff') },
      { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    );
    const anyText = (maxLength: number) => fc.string({ unit, maxLength });

    it('contact.function and reference: stored exactly as sent when well-formed and in bounds, else 400 naming the field; never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(anyText(130), async (s) => {
          const body = withField(goodRegistration(), 'contact.function', s);
          body.reference = s;
          const res = await as(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', json: body });
          const valid = isWellFormedText(s);
          if (valid && s.length >= 1 && s.length <= 100) {
            expect(res.status).toBe(201);
            const row = await registrationRow(hub, res.body.id as string);
            expect(row?.reference).toBe(s);
            expect((row?.contact as { function: string }).function).toBe(s);
          } else {
            expect(res.status).toBe(400);
            const fields = (res.body.errors as { field: string }[]).map((e) => e.field);
            if (!valid) expect(fields).toEqual(expect.arrayContaining(['reference', 'contact.function']));
          }
        }),
        { numRuns: 60 },
      );
    });

    it('purpose and caseRef of a lookup: logged exactly as sent when well-formed and in bounds, else 400 naming the field; never 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(anyText(110), fc.boolean(), async (s, inPurpose) => {
          const field = inPurpose ? 'purpose' : 'caseRef';
          const res = await as(PROCESREGISSEUR, { method: 'POST', path: '/v1/lookups', json: { ...goodLookup(), [field]: s } });
          expect(res.status).toBeLessThan(500);
          const [entry] = await auditOf(hub, res.requestId);
          if (isWellFormedText(s) && s.length >= 1 && s.length <= (inPurpose ? 80 : 100)) {
            // An unknown purpose is refused by the covenant (403), but logged as sent.
            expect(res.status).toBe(inPurpose && s !== 'procesregie-casus-op-maat' ? 403 : 200);
            expect(entry).toMatchObject({ action: 'lookup', [field]: s });
          } else {
            expect(res.status).toBe(400);
            expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
            expect(entry).toMatchObject({ action: 'request.rejected', actorPartner: 'gemeente' });
          }
        }),
        { numRuns: 60 },
      );
    });
  });
});
