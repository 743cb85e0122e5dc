// Bad input from an authenticated partner: each refusal is a 4xx problem+json that names the field and
// why, stores nothing (all or nothing, also for batches), is an access attempt in the audit log, and
// uses up the token (a refused request cannot be retried with the same jti).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbKind, startTestHub, type TestHub } from './support/hub';
import { auditOf, expectRefusedAttempt, registrationRow, send, storedRows, tokenFor, type As, type Refusal, type Request, type Sent } from './support/http';
import { contact, person } from './support/people';

const DAY_MS = 86_400_000;
/** Small enough to exceed cheaply, large enough for a 10,001-item batch to reach the count check. */
const MAX_BODY_BYTES = 2_000_000;

const PROCESREGISSEUR: As = ['gemeente', 'procesregisseur'];
const VZ_SYSTEM: As = ['verslavingszorg', 'partner-system'];

const goodRegistration = () => ({ subject: person().subject, category: 'procesregie', contact: contact('Procesregie ZVH') });
const goodLookup = () => ({ subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-2026-0100' });

describe(`bad input (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub({ limits: { maxBodyBytes: MAX_BODY_BYTES } });
  });
  afterAll(() => hub?.close());

  async function as(who: As, req: Omit<Request, 'token'>): Promise<Sent & { token: string }> {
    const token = await tokenFor(hub, who[0], who[1]);
    return { ...(await send(hub, { ...req, token })), token };
  }

  /** The refusal, its problem, nothing stored, and the attempt in the audit log under the actor. */
  const expectRejected = (who: As, req: Omit<Request, 'token'>, want: Refusal) => expectRefusedAttempt(hub, who, req, want);

  const register = (body: unknown): Omit<Request, 'token'> => ({ method: 'POST', path: '/v1/registrations', json: body });
  const lookup = (body: unknown): Omit<Request, 'token'> => ({ method: 'POST', path: '/v1/lookups', json: body });

  describe('the request body', () => {
    it('a body that is not valid JSON is refused 400 malformed-json and logged', async () => {
      const res = await expectRejected(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', raw: '{"subject": "abc",' }, { status: 400, type: '/problems/malformed-json' });
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'request.rejected', detail: { status: 400, type: 'malformed-json' } });
    });

    it('a body that is not application/json is refused 415 and logged', async () => {
      const res = await expectRejected(
        PROCESREGISSEUR,
        { method: 'POST', path: '/v1/registrations', raw: JSON.stringify(goodRegistration()), contentType: 'text/plain' },
        { status: 415, type: '/problems/unsupported-media-type' },
      );
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'request.rejected', detail: { status: 415 } });
    });

    it('a body over the size limit is refused 413 and logged', async () => {
      const items = Array.from({ length: Math.ceil(MAX_BODY_BYTES / 100) }, goodRegistration);
      const raw = JSON.stringify({ items });
      expect(raw.length).toBeGreaterThan(MAX_BODY_BYTES);
      const res = await expectRejected(PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations/batch', raw }, { status: 413, type: '/problems/payload-too-large' });
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'request.rejected', detail: { status: 413 } });
    });

    it('an unknown field is refused 400, naming the field (strict schemas)', async () => {
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), reason: 'drugs' }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'reason',
        reason: /unknown field/,
      });
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), contact: { ...contact('PR'), name: 'Jan' } }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'contact.name',
        reason: /unknown field/,
      });
    });
  });

  describe('the subject is a partner pseudonym, never anything else', () => {
    const valid = () => person().subject;

    it('a subject of the wrong length is refused 400 naming subject', async () => {
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), subject: valid().slice(0, 40) }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'subject',
        reason: /43/,
      });
    });

    it('a base64 subject with "=" padding is refused 400 naming subject', async () => {
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), subject: `${valid()}=` }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'subject',
        reason: /padding/,
      });
    });

    it('a subject in standard base64 ("+" and "/") instead of base64url is refused 400 naming subject', async () => {
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), subject: `+/${valid().slice(2)}` }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'subject',
        reason: /base64url/,
      });
    });

    it('a 9-digit BSN sent as subject is refused 400 saying to pseudonymise, and the BSN is not logged', async () => {
      const bsn = '111222333';
      const res = await expectRejected(PROCESREGISSEUR, lookup({ ...goodLookup(), subject: bsn }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'subject',
        reason: /BSN/,
      });
      expect(JSON.stringify(res.body)).not.toContain(bsn);
      expect(JSON.stringify(await auditOf(hub, res.requestId))).not.toContain(bsn);
    });
  });

  describe('the covenant decides categories, purposes and retention', () => {
    it('an unknown category is refused 400 naming category', async () => {
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), category: 'geheime-lijst' }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'category',
        reason: /unknown category/,
      });
    });

    it('a category the partner may not register is refused 403 naming the rule (art. 6), and logged as denied', async () => {
      const res = await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), category: 'ggz-behandeling' }), {
        status: 403,
        type: '/problems/forbidden',
        field: 'category',
        rule: 'deny-by-default',
      });
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'registration.create', outcome: 'denied' });
    });

    it('an unknown purpose is refused 403 naming the rule (doelbinding, art. 7), and logged', async () => {
      const res = await expectRejected(PROCESREGISSEUR, lookup({ ...goodLookup(), purpose: 'nieuwsgierigheid' }), {
        status: 403,
        type: '/problems/purpose-not-allowed',
        rule: 'unknown-purpose',
      });
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'lookup', outcome: 'denied', purpose: 'nieuwsgierigheid' });
    });

    it('a purpose not allowed for the requester is refused 403 naming the rule, and logged', async () => {
      await expectRejected(PROCESREGISSEUR, lookup({ ...goodLookup(), purpose: 'vroegsignalering-jeugd' }), {
        status: 403,
        type: '/problems/purpose-not-allowed',
        rule: 'deny-by-default',
      });
    });

    it('an expiresAt beyond the covenant maximum for the category is refused 400 naming expiresAt (art. 14)', async () => {
      const expiresAt = new Date(hub.clock().getTime() + 731 * DAY_MS).toISOString(); // procesregie: 730 days
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), expiresAt }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'expiresAt',
        reason: /maximum/,
      });
    });

    it('an expiresAt in the past is refused 400 naming expiresAt', async () => {
      const expiresAt = new Date(hub.clock().getTime() - DAY_MS).toISOString();
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), expiresAt }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'expiresAt',
        reason: /future/,
      });
    });

    it('an expiresAt that is not an ISO date-time is refused 400 naming expiresAt', async () => {
      await expectRejected(PROCESREGISSEUR, register({ ...goodRegistration(), expiresAt: 'next year' }), {
        status: 400,
        type: '/problems/invalid-request',
        field: 'expiresAt',
      });
    });
  });

  describe('batches are all or nothing', () => {
    const batch = (items: unknown[]): Omit<Request, 'token'> => ({ method: 'POST', path: '/v1/registrations/batch', json: { items } });

    it('a batch of more than 10,000 items is refused 400 naming items', async () => {
      const subject = person().subject;
      const items = Array.from({ length: 10_001 }, () => ({ subject, category: 'procesregie', contact: contact('PR') }));
      await expectRejected(PROCESREGISSEUR, batch(items), { status: 400, type: '/problems/invalid-request', field: 'items' });
    });

    it('a batch with one unknown category among good items is refused 422 with that item, and nothing is stored', async () => {
      const items: Record<string, unknown>[] = Array.from({ length: 5 }, goodRegistration);
      items[2] = { ...items[2], category: 'geheime-lijst' };
      const res = await expectRejected(PROCESREGISSEUR, batch(items), { status: 422, type: '/problems/batch-rejected' });
      expect(res.body.errors).toEqual([{ index: 2, field: 'category', reason: expect.stringMatching(/unknown category/) }]);
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'registration.batch', outcome: 'rejected' });
    });

    it('a batch with one item of a category the partner may not register is refused 422 naming the rule, and nothing is stored', async () => {
      const items: Record<string, unknown>[] = Array.from({ length: 4 }, goodRegistration);
      items[1] = { ...items[1], category: 'politie-betrokkenheid' };
      const res = await expectRejected(PROCESREGISSEUR, batch(items), { status: 422, type: '/problems/batch-rejected' });
      expect(res.body.errors).toEqual([{ index: 1, field: 'category', reason: expect.any(String), rule: 'deny-by-default' }]);
    });

    it('a batch with one malformed item (a BSN as subject, an unknown field) is refused 422 with per-item errors, and nothing is stored', async () => {
      const items: Record<string, unknown>[] = Array.from({ length: 6 }, goodRegistration);
      items[3] = { ...items[3], subject: '111222333' };
      items[5] = { ...items[5], note: 'x' };
      const res = await expectRejected(PROCESREGISSEUR, batch(items), { status: 422, type: '/problems/batch-rejected' });
      expect(res.body.errors).toEqual([
        { index: 3, field: 'subject', reason: expect.stringMatching(/BSN/) },
        { index: 5, field: 'note', reason: 'unknown field' },
      ]);
    });

    it('a good batch stores every item (the refusals above were the bad item, not the batch)', async () => {
      const before = await storedRows(hub);
      const res = await as(PROCESREGISSEUR, batch(Array.from({ length: 5 }, goodRegistration)));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ registered: 5, created: 5 });
      expect((await storedRows(hub)).registrations).toBe(before.registrations + 5);
    });
  });

  describe('ending registrations', () => {
    it("ending another partner's registration is refused 403 (owner-only), logged, and the registration stays active", async () => {
      const tamara = person();
      const reg = await as(VZ_SYSTEM, register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') }));
      expect(reg.status).toBe(201);
      const id = reg.body.id as string;

      const res = await expectRejected(['politie', 'professional'], { method: 'DELETE', path: `/v1/registrations/${id}` }, {
        status: 403,
        type: '/problems/forbidden',
        rule: 'owner-only',
      });
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'registration.end', outcome: 'denied' });
      expect((await registrationRow(hub, id))?.endedAt).toBeNull();
      const seen = await as(PROCESREGISSEUR, lookup({ ...goodLookup(), subject: tamara.subject }));
      expect(seen.body.knownBy).toEqual([expect.objectContaining({ partner: 'verslavingszorg' })]);
    });

    it('ending an unknown registration id is refused 404 and logged', async () => {
      const res = await expectRejected(VZ_SYSTEM, { method: 'DELETE', path: `/v1/registrations/${crypto.randomUUID()}` }, { status: 404, type: '/problems/not-found' });
      expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'registration.end', outcome: 'rejected' });
    });

    it('ending a registration by an id that is not a UUID is refused 400 naming id', async () => {
      await expectRejected(VZ_SYSTEM, { method: 'DELETE', path: '/v1/registrations/12345' }, { status: 400, type: '/problems/invalid-request', field: 'id' });
    });
  });

  describe('cursors and limits are canonical non-negative integers, nothing else', () => {
    // Each spells a number some parser would accept (hex, exponent, sign, leading zero, fraction,
    // padding) or none at all, or one beyond what a cursor can be (2^53 and more).
    const NOT_CANONICAL = ['0x10', '1e3', '', '-1', '01', '+1', '1.5', '%201', '1%20', '99999999999999999999', '9007199254740992', 'Infinity', 'NaN'];
    const PRIVACY_OFFICER: As = ['gemeente', 'privacy-officer'];
    const BROKER: As = ['zorg-en-veiligheidshuis', 'informatiemakelaar'];

    it.each(NOT_CANONICAL)('after=%s on the match feed is refused 400 naming after, and logged', async (v) => {
      await expectRejected(VZ_SYSTEM, { method: 'GET', path: `/v1/matches?after=${v}` }, { status: 400, type: '/problems/invalid-request', field: 'after' });
    });

    it.each(NOT_CANONICAL)('after=%s on the audit entries is refused 400 naming after, and logged', async (v) => {
      await expectRejected(PRIVACY_OFFICER, { method: 'GET', path: `/v1/audit/entries?after=${v}` }, { status: 400, type: '/problems/invalid-request', field: 'after' });
    });

    it.each([...NOT_CANONICAL, '0', '1001'])('limit=%s on the match feed and the audit entries is refused 400 naming limit, and logged', async (v) => {
      await expectRejected(VZ_SYSTEM, { method: 'GET', path: `/v1/matches?limit=${v}` }, { status: 400, type: '/problems/invalid-request', field: 'limit' });
      await expectRejected(PRIVACY_OFFICER, { method: 'GET', path: `/v1/audit/entries?limit=${v}` }, { status: 400, type: '/problems/invalid-request', field: 'limit' });
    });

    it.each([...NOT_CANONICAL, '0', '501'])('limit=%s on the disclosure list is refused 400 naming limit, and logged', async (v) => {
      await expectRejected(BROKER, { method: 'GET', path: `/v1/disclosures?limit=${v}` }, { status: 400, type: '/problems/invalid-request', field: 'limit' });
    });

    it('canonical values are accepted: after 0 and 12, limits 1 and the maximum, and the defaults', async () => {
      for (const q of ['after=0', 'after=12&limit=1', 'limit=1000', '', 'after=9007199254740991']) {
        expect((await as(VZ_SYSTEM, { method: 'GET', path: `/v1/matches?${q}` })).status).toBe(200);
        expect((await as(PRIVACY_OFFICER, { method: 'GET', path: `/v1/audit/entries?${q}` })).status).toBe(200);
      }
      expect((await as(BROKER, { method: 'GET', path: '/v1/disclosures?limit=500' })).status).toBe(200);
    });
  });

  describe('a refused request uses up its token', () => {
    const refusals: [string, As, Omit<Request, 'token'>, number][] = [
      ['malformed JSON', PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', raw: '{' }, 400],
      ['an invalid subject', PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', json: { ...goodRegistration(), subject: 'x' } }, 400],
      ['an unknown category', PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', json: { ...goodRegistration(), category: 'x' } }, 400],
      ['a category the partner may not register', PROCESREGISSEUR, { method: 'POST', path: '/v1/registrations', json: { ...goodRegistration(), category: 'jeugdhulp' } }, 403],
      ['a purpose not allowed', PROCESREGISSEUR, { method: 'POST', path: '/v1/lookups', json: { ...goodLookup(), purpose: 'vroegsignalering-jeugd' } }, 403],
    ];

    it.each(refusals)('a token used for a request refused for %s cannot be reused with good input', async (_, who, req, status) => {
      const first = await as(who, req);
      expect(first.status).toBe(status);
      const before = await storedRows(hub);
      const retry = await send(hub, { method: 'POST', path: '/v1/registrations', token: first.token, json: goodRegistration() });
      expect(retry.status).toBe(401);
      expect(retry.body).toMatchObject({ type: '/problems/unauthenticated', reason: 'replayed-jti' });
      expect(await storedRows(hub)).toEqual(before);
      const entries = await auditOf(hub, retry.requestId);
      expect(entries.map((e) => [e.action, (e.detail as { reason?: string }).reason])).toEqual([['auth.failure', 'replayed-jti']]);
    });
  });

  describe('what good input does', () => {
    it('registering is idempotent per (partner, subject, category): the second call returns 200, created false, the same id', async () => {
      const body = goodRegistration();
      const before = await storedRows(hub);
      const first = await as(PROCESREGISSEUR, register(body));
      const second = await as(PROCESREGISSEUR, register({ ...body, contact: contact('Procesregie ZVH, team 2') }));
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ created: true });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ created: false, id: first.body.id });
      expect((await storedRows(hub)).registrations).toBe(before.registrations + 1);
      expect((await registrationRow(hub, first.body.id as string))?.contact).toEqual(contact('Procesregie ZVH, team 2'));
      expect((await auditOf(hub, second.requestId)).map((e) => e.action)).toEqual(['registration.renew']);
    });

    it('an ended registration no longer shows in lookups, and cannot be ended twice', async () => {
      const p = person();
      const reg = await as(VZ_SYSTEM, register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') }));
      const id = reg.body.id as string;
      const before = await as(PROCESREGISSEUR, lookup({ ...goodLookup(), subject: p.subject }));
      expect(before.body.knownBy).toEqual([expect.objectContaining({ partner: 'verslavingszorg' })]);

      const ended = await as(VZ_SYSTEM, { method: 'DELETE', path: `/v1/registrations/${id}` });
      expect(ended.status).toBe(204);
      expect((await registrationRow(hub, id))?.endedAt).toBeInstanceOf(Date);

      const after = await as(PROCESREGISSEUR, lookup({ ...goodLookup(), subject: p.subject }));
      expect(after.status).toBe(200);
      expect(after.body.knownBy).toEqual([]);
      expect((await as(VZ_SYSTEM, { method: 'DELETE', path: `/v1/registrations/${id}` })).status).toBe(404);
    });
  });
});
