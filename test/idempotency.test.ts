// Idempotency-Key on registrations and disclosure requests: a retry with the same key and body is
// answered with the first answer and has no second effect; the same key with another body is 422;
// a refused first request keeps no key; every replay is a logged access with its own token; keys
// are forgotten after their retention.
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys, registrations } from '../schema/index';
import { signDocument } from '../src/client/token';
import { IDEMPOTENCY_RETENTION_HOURS } from '../src/idempotency/once';
import { purge } from '../src/retention/purge';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, partnerKey, startTestHub, type TestHub } from './support/hub';
import { contact, person } from './support/people';

describe(`idempotency keys (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  const registerWithKey = async (key: string, body: unknown, path = '/v1/registrations') =>
    send(hub, { path, token: await tokenFor(hub, 'politie', 'partner-system'), json: body, headers: { 'idempotency-key': key } });
  const rowsOf = async (subject: string) => {
    const n = await hub.database.db.select({ n: count() }).from(registrations).where(eq(registrations.partner, 'politie'));
    return { subject, n: Number(n[0]!.n) };
  };

  it('a retried registration gets the first answer again, has no second effect, and is logged as a replay', async () => {
    const body = { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') };
    const before = await rowsOf(body.subject);
    const first = await registerWithKey('reg-1', body);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await registerWithKey('reg-1', body);
    expect(again.status).toBe(201); // not 200 "renewed": the first answer, verbatim
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await rowsOf(body.subject)).n).toBe(before.n + 1);
    const [replay] = await auditOf(hub, again.requestId);
    expect(replay).toMatchObject({ action: 'request.replayed', outcome: 'allowed', rule: 'idempotency-key', actorPartner: 'politie' });
    expect(replay!.detail).toMatchObject({ firstRequestId: first.requestId, status: 201, path: '/v1/registrations' });
    // Registering again without the key is a renewal, as before.
    const renewed = await send(hub, { path: '/v1/registrations', token: await tokenFor(hub, 'politie', 'partner-system'), json: body });
    expect(renewed.status).toBe(200);
  });

  it('the same key with another body is refused 422 idempotency-key-reused, logged, nothing stored', async () => {
    const a = { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') };
    const b = { ...a, subject: person().subject };
    expect((await registerWithKey('reg-2', a)).status).toBe(201);
    const before = await rowsOf(b.subject);
    const res = await registerWithKey('reg-2', b);
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('/problems/idempotency-key-reused');
    expect((await rowsOf(b.subject)).n).toBe(before.n);
    expect((await auditOf(hub, res.requestId))[0]).toMatchObject({ action: 'request.replayed', outcome: 'rejected', rule: 'idempotency-key' });
    // Keys are per partner: another partner's identical key is its own.
    const other = await send(hub, {
      path: '/v1/registrations',
      token: await tokenFor(hub, 'gemeente', 'partner-system'),
      json: { subject: b.subject, category: 'procesregie', contact: contact('Procesregie') },
      headers: { 'idempotency-key': 'reg-2' },
    });
    expect(other.status).toBe(201);
  });

  it('a refused first request keeps no key: the corrected request with the same key goes through', async () => {
    const wrong = { subject: person().subject, category: 'procesregie', contact: contact('Wijkagent') }; // not politie's category
    const refused = await registerWithKey('reg-3', wrong);
    expect(refused.status).toBe(403);
    const fixed = await registerWithKey('reg-3', { ...wrong, category: 'politie-betrokkenheid' });
    expect(fixed.status).toBe(201);
  });

  it("a replay needs a fresh token: the first request's token is still refused as a replay", async () => {
    const token = await tokenFor(hub, 'politie', 'partner-system');
    const body = { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') };
    expect((await send(hub, { path: '/v1/registrations', token, json: body, headers: { 'idempotency-key': 'reg-4' } })).status).toBe(201);
    const res = await send(hub, { path: '/v1/registrations', token, json: body, headers: { 'idempotency-key': 'reg-4' } });
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('replayed-jti');
  });

  it('batches replay their first answer too', async () => {
    const items = [person(), person()].map((p) => ({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') }));
    const first = await registerWithKey('batch-1', { items }, '/v1/registrations/batch');
    expect(first.body).toMatchObject({ registered: 2, created: 2 });
    const again = await registerWithKey('batch-1', { items }, '/v1/registrations/batch');
    expect(again.body).toEqual(first.body); // created: 2, not 0
  });

  it('a retried disclosure request (the same signed request) gets the first answer; the stored answer is sealed', async () => {
    const tamara = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const payload = {
      sub: 'pr-de-vries',
      aud: hub.config.hubId,
      iat: Math.floor(hub.clock().getTime() / 1000),
      jti: crypto.randomUUID(),
      urgency: 'regular',
      subject: tamara.subject,
      holder: 'verslavingszorg',
      purpose: 'procesregie-casus-op-maat',
      legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie'],
      caseRef: 'ZVH-2026-0142',
      justification: 'Casusoverleg: moeder en kinderen, zorgen over de opvoedsituatie; behandelrelatie nodig voor het plan van aanpak.',
    };
    const request = await signDocument({ partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk }, payload, 'kenbaar-disclosure-request+jws');
    const ask = async () =>
      send(hub, { path: '/v1/disclosures', token: await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-de-vries'), json: { request }, headers: { 'idempotency-key': 'dis-1' } });
    const first = await ask();
    expect(first.status).toBe(201);
    const again = await ask();
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    // Without the key the same signed request is a conflict (its jti was used).
    const plain = await send(hub, { path: '/v1/disclosures', token: await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-de-vries'), json: { request } });
    expect(plain.status).toBe(409);
    // The answer quotes the signed request, whose payload holds the partner-side pseudonym: stored sealed.
    const rows = await hub.database.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, 'dis-1'));
    expect(rows[0]!.response).not.toContain(tamara.subject);
    expect(rows[0]!.response!.split('.')).toHaveLength(5);
  });

  it('concurrent requests with the same key: one effect, the other waits and gets the same answer', async () => {
    const body = { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') };
    const before = await rowsOf(body.subject);
    const both = await Promise.all([registerWithKey('reg-5', body), registerWithKey('reg-5', body)]);
    expect(both.map((r) => r.status)).toEqual([201, 201]);
    expect(both[0]!.body).toEqual(both[1]!.body);
    expect(both.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);
    expect((await rowsOf(body.subject)).n).toBe(before.n + 1);
  });

  it('a malformed key is refused 400 naming the header', async () => {
    const res = await registerWithKey('a key with spaces', { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.errors)).toContain('idempotency-key');
  });

  it(`keys are forgotten by the purge after ${IDEMPOTENCY_RETENTION_HOURS} hours; a retry after that is a new request`, async () => {
    const body = { subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') };
    expect((await registerWithKey('reg-old', body)).status).toBe(201);
    hub.clock.advance((IDEMPOTENCY_RETENTION_HOURS + 1) * 3_600_000);
    const report = await purge(hub.database.db, hub.config.covenant, hub.clock());
    expect(report.idempotencyKeysForgotten).toBeGreaterThanOrEqual(1);
    const again = await registerWithKey('reg-old', body);
    expect(again.status).toBe(200); // renewed: a new request
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });
});
