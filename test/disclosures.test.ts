// Full disclosure on a signed, logged justification: request, four-eyes approval, an offline
// verifiable grant, an end-to-end encrypted hand-over, and break-glass with mandatory review.
import { sql } from 'drizzle-orm';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrateAll, readSequenced } from '../src/audit/store';
import { HubError, type HubClient } from '../src/client/client';
import { signDocument } from '../src/client/token';
import { DOCUMENT_TYPES } from '../src/disclosures/signed';
import { rowsOf } from '../src/db/types';
import { purge } from '../src/retention/purge';
import { breakGlassAtVeiligThuis } from './support/disclosure';
import { contact, person } from './support/people';
import { dbKind, partnerEncryptionKey, partnerKey, startTestHub, type TestHub } from './support/hub';

const HOUR = 3_600_000;
const JUSTIFICATION =
  'Casus op maat (AVE 3): zorgen over de veiligheid van twee kinderen; om het plan van aanpak af te stemmen moeten we weten of moeder in behandeling is en wie haar behandelaar is. Minder volstaat niet: zonder die afstemming kan het veiligheidsplan niet sluiten.';

async function refusal(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected the hub to refuse').toBeInstanceOf(HubError);
  return e as HubError;
}

describe(`disclosures over real HTTP (${dbKind})`, () => {
  let hub: TestHub;
  let pr: HubClient;
  let vz: HubClient;
  let broker1: HubClient;
  let broker2: HubClient;

  beforeAll(async () => {
    hub = await startTestHub({ http: true });
    pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    vz = await hub.as('verslavingszorg', 'professional', 'vz-intake');
    broker1 = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker');
    // Four eyes are two organisations': the house's informatiemakelaar and the holder's.
    broker2 = await hub.as('verslavingszorg', 'informatiemakelaar', 'im-yilmaz');
  });
  afterAll(() => hub?.close());

  async function motherKnownToVerslavingszorg() {
    const tamara = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    return tamara;
  }

  const ask = (subject: string, extra: Partial<Parameters<HubClient['requestDisclosure']>[0]> = {}) =>
    pr.requestDisclosure({
      subject,
      holder: 'verslavingszorg',
      purpose: 'procesregie-casus-op-maat',
      legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie', 'contactgegevens-behandelaar'],
      caseRef: 'ZVH-2026-0142',
      justification: JUSTIFICATION,
      ...extra,
    });

  it('the procesregisseur asks verslavingszorg, the house\'s and verslavingszorg\'s brokers approve, verslavingszorg hands over encrypted, the procesregisseur decrypts', async () => {
    const tamara = await motherKnownToVerslavingszorg();
    const { request, grant } = await ask(tamara.subject);
    expect(request).toMatchObject({ status: 'pending', approvalsNeeded: 2, rule: 'DX-PR-01', urgency: 'regular' });
    expect(grant).toBeNull();

    const pending = await broker1.listDisclosures({ status: 'pending' });
    expect(pending.requests.map((r) => r.id)).toContain(request.id);

    const first = await broker1.decide(request.id, { outcome: 'approve' });
    expect(first.request.status).toBe('pending'); // four eyes: one approval is not enough
    expect(first.grant).toBeNull();
    const second = await broker2.decide(request.id, { outcome: 'approve', categories: ['behandelrelatie'] });
    expect(second.request.status).toBe('approved');
    const g = second.grant!;
    expect(g.categories).toEqual(['behandelrelatie']); // narrowed by the second broker

    // The holder verifies the grant offline with jose and the hub's JWKS alone.
    const jwks = (await (await fetch(`${hub.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    const { payload, protectedHeader } = await jwtVerify(g.jwt, createLocalJWKSet(jwks), { issuer: hub.config.hubId, audience: 'verslavingszorg', currentDate: hub.clock() });
    expect(protectedHeader.typ).toBe('kenbaar-grant+jwt');
    expect(payload).toMatchObject({ requester: 'gemeente', holder: 'verslavingszorg', categories: ['behandelrelatie'], purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-2026-0142', request: request.id, jti: g.id });
    expect(typeof payload.sub).toBe('string');
    expect(payload.sub).not.toContain(tamara.subject);

    const secret = 'Mevrouw is sinds maart 2026 in ambulante behandeling; contact: behandelaar J. Smit, 038-1234567.';
    const requesterKey = (await partnerEncryptionKey('gemeente')).publicJwk;
    await vz.handOver(g, requesterKey, secret);

    // The hub never holds the plaintext.
    const dump = JSON.stringify(await rowsOf(hub.database.db, sql`select * from handovers`));
    expect(dump).not.toContain('ambulante behandeling');
    // Nor the partner-side pseudonym, which the signed request names: the verbatim JWS is sealed at
    // rest. Look for it as text and inside base64url (at each of the three byte alignments).
    const everything = JSON.stringify(await rowsOf(hub.database.db, sql`select * from disclosure_requests`))
      + JSON.stringify(await rowsOf(hub.database.db, sql`select * from audit_entries`));
    for (const form of [tamara.subject, ...[0, 1, 2].map((k) => Buffer.from('x'.repeat(k) + tamara.subject).toString('base64url').slice(4, -4))]) {
      expect(everything).not.toContain(form);
    }

    const got = await pr.fetchHandover(request.id, (await partnerEncryptionKey('gemeente')).privateJwk);
    expect(got.content).toBe(secret);
    // Delivered once: the ciphertext is gone.
    const again = await refusal(pr.call('GET', `/v1/disclosures/${request.id}/handover`));
    expect(again.status).toBe(410);
    const [row] = await rowsOf<{ ciphertext: string | null; delete_reason: string }>(hub.database.db, sql`select ciphertext, delete_reason from handovers where request_id = ${request.id}`);
    expect(row).toMatchObject({ ciphertext: null, delete_reason: 'delivered' });

    // The whole chain is in the audit log, with the justification's hash.
    await integrateAll(hub.database.db, hub.clock());
    const log = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => JSON.stringify(e.detail ?? {}).includes(request.id));
    expect(log.map((e) => e.action)).toEqual([
      'disclosure.requested',
      'disclosure.read',
      'disclosure.decided',
      'disclosure.decided',
      'grant.issued',
      'handover.posted',
      'handover.delivered',
      'handover.deleted',
      'handover.delivered',
    ]);
    expect((log[0]!.detail as { justificationHash: string }).justificationHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Readers still get the signed request verbatim (unsealed for them).
    expect((await broker1.getDisclosure(request.id)).request.jws).toBe(request.jws);
  });

  it('the signed justification is stored verbatim and re-verifies with the requester\'s public key', async () => {
    const tamara = await motherKnownToVerslavingszorg();
    const { request } = await ask(tamara.subject);
    const { compactVerify } = await import('jose');
    const { payload } = await compactVerify(request.jws!, createLocalJWKSet({ keys: [(await partnerKey('gemeente')).publicJwk] }));
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({ justification: JUSTIFICATION, holder: 'verslavingszorg', sub: 'pr-de-vries' });
  });

  describe('abuse is refused, changes nothing, and is logged', () => {
    it('a request signed with another partner\'s key than the token\'s', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const forged = await signDocument({ partner: 'politie', jwk: (await partnerKey('politie')).privateJwk }, { sub: 'pr-de-vries', iat: Math.floor(hub.clock().getTime() / 1000), jti: 'x1', subject: tamara.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'Z-1', justification: JUSTIFICATION, urgency: 'regular' }, 'x');
      const e = await refusal(pr.call('POST', '/v1/disclosures', { request: forged }));
      expect(e.status).toBe(403);
      expect(e.problem.rule).toBe('signer-not-requester');
    });

    it('an unsigned or tampered request', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const good = await signDocument({ partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk }, { sub: 'pr-de-vries', iat: 1, jti: 'x2', subject: tamara.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'Z-1', justification: JUSTIFICATION, urgency: 'regular' }, 'x');
      const [h, , s] = good.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ justification: 'x' })).toString('base64url')}.${s}`;
      expect((await refusal(pr.call('POST', '/v1/disclosures', { request: tampered }))).problem.type).toBe('/problems/invalid-signature');
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${good.split('.')[1]}.`;
      expect((await refusal(pr.call('POST', '/v1/disclosures', { request: unsigned }))).status).toBe(400);
    });

    it('a justification that is too short', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const e = await refusal(ask(tamara.subject, { justification: 'nodig' }));
      expect(e.status).toBe(400);
      expect(e.problem.rule).toBe('justification-too-short');
    });

    it('police may never ask verslavingszorg for content (DXD-ZORG-POLITIE)', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const agent = await hub.as('politie', 'professional', 'agent-12');
      const e = await refusal(agent.requestDisclosure({ subject: tamara.subject, holder: 'verslavingszorg', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', categories: ['behandelrelatie'], caseRef: 'PL-9', justification: JUSTIFICATION, urgency: 'emergency' }));
      expect(e.status).toBe(403);
      expect(e.problem.rule).toMatch(/^DXD-|deny-by-default/);
    });

    it('a category or legal basis the covenant does not allow for this pair', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      expect((await refusal(ask(tamara.subject, { categories: ['psychische-gezondheid'] }))).status).toBe(403);
      expect((await refusal(ask(tamara.subject, { legalBasis: 'politiewet-3' }))).status).toBe(403);
      expect((await refusal(ask(tamara.subject, { urgency: 'emergency' }))).problem.rule).toBe('break-glass-not-allowed');
    });

    it('a reused jti', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const iat = Math.floor(hub.clock().getTime() / 1000);
      const jws = await signDocument({ partner: 'gemeente', jwk: (await partnerKey('gemeente')).privateJwk }, { aud: hub.config.hubId, sub: 'pr-de-vries', iat, jti: `once-${tamara.subject.slice(0, 8)}`, subject: tamara.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'Z-1', justification: JUSTIFICATION, urgency: 'regular' }, DOCUMENT_TYPES.request);
      await pr.call('POST', '/v1/disclosures', { request: jws });
      expect((await refusal(pr.call('POST', '/v1/disclosures', { request: jws }))).status).toBe(409);
    });

    it('approval by the requester\'s own organisation, and a second decision of an organisation that already decided, and decisions on closed requests', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const { request } = await ask(tamara.subject);
      const gemeenteBroker = await hub.as('gemeente', 'informatiemakelaar', 'im-gemeente');
      expect((await refusal(gemeenteBroker.decide(request.id, { outcome: 'approve' }))).problem.rule).toBe('own-organisation');
      expect((await refusal(pr.decide(request.id, { outcome: 'approve' }))).status).toBe(403);
      await broker1.decide(request.id, { outcome: 'approve' });
      expect((await refusal(broker1.decide(request.id, { outcome: 'approve' }))).problem.rule).toBe('four-eyes');
      await broker2.decide(request.id, { outcome: 'reject', reason: 'Subsidiariteit: eerst met moeder zelf in gesprek.' });
      const third = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-derde');
      expect((await refusal(third.decide(request.id, { outcome: 'approve' }))).status).toBe(409);
      const final = await broker1.getDisclosure(request.id);
      expect(final.request.status).toBe('rejected');
      expect(final.grant).toBeNull();
      await integrateAll(hub.database.db, hub.clock());
      const attempts = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => e.action === 'disclosure.decided' && (e.detail as { request?: string }).request === request.id);
      expect(attempts.map((e) => [e.actorSub, e.outcome, e.rule])).toEqual([
        ['im-gemeente', 'denied', 'own-organisation'],
        ['pr-de-vries', 'denied', 'action-not-permitted'],
        ['im-bakker', 'allowed', 'A-INFORMATIEMAKELAAR'],
        ['im-bakker', 'denied', 'four-eyes'],
        ['im-yilmaz', 'allowed', 'A-INFORMATIEMAKELAAR'],
        ['im-derde', 'rejected', 'A-INFORMATIEMAKELAAR'],
      ]);
    });

    it('a hand-over with a forged, other-holder or expired grant, or oversized ciphertext', async () => {
      const tamara = await motherKnownToVerslavingszorg();
      const { request } = await ask(tamara.subject);
      await broker1.decide(request.id, { outcome: 'approve' });
      const { grant } = await broker2.decide(request.id, { outcome: 'approve' });
      const key = (await partnerEncryptionKey('gemeente')).publicJwk;
      const [h, p] = grant!.jwt.split('.');
      const forged = `${h}.${p}.${'A'.repeat(86)}`;
      expect((await refusal(vz.handOver({ id: grant!.id, jwt: forged }, key, 'x'))).problem.rule).toBe('invalid-grant');
      const ggz = await hub.as('ggz', 'professional');
      expect((await refusal(ggz.handOver(grant!, key, 'x'))).problem.rule).toBe('other-holder');
      expect((await refusal(vz.handOver(grant!, key, 'x'.repeat(hub.config.covenant.disclosure.maxCiphertextBytes)))).status).toBe(413);
      hub.clock.advance(hub.config.covenant.disclosure.grantValidityHours * HOUR + 60_000);
      try {
        expect((await refusal(vz.handOver(grant!, key, 'x'))).problem.rule).toBe('grant-expired');
      } finally {
        hub.clock.advance(-(hub.config.covenant.disclosure.grantValidityHours * HOUR + 60_000));
      }
      const [{ n }] = (await rowsOf<{ n: number }>(hub.database.db, sql`select count(*)::int as n from handovers where request_id = ${request.id}`)) as [{ n: number }];
      expect(n).toBe(0);
    });
  });

  it('break-glass: police gets a short grant at once; the review is overdue after 24 hours until a broker reviews it', async () => {
    const agent = await hub.as('politie', 'professional', 'agent-7');
    const { request, grant } = await breakGlassAtVeiligThuis(hub, agent, {
      caseRef: 'PL-2026-77',
      justification: 'Melding 112: ruzie met geweld aan de IJsselstraat 3, kinderen in huis. We moeten nu weten of er eerdere meldingen zijn.',
    });
    expect(request).toMatchObject({ status: 'approved', reviewStatus: 'due', rule: 'DX-AV-01' });
    expect(grant!.breakGlass).toBe(true);
    const validityMs = Date.parse(grant!.expiresAt) - hub.clock().getTime();
    expect(validityMs).toBeLessThanOrEqual(hub.config.covenant.disclosure.breakGlassValidityMinutes * 60_000);

    expect((await broker1.overdue()).overdue.map((r) => r.id)).not.toContain(request.id);
    hub.clock.advance(hub.config.covenant.disclosure.reviewDeadlineHours * HOUR + 1000);
    expect((await broker1.overdue()).overdue.map((r) => r.id)).toContain(request.id);
    // Verslavingszorg's informatiemakelaar may not weigh a request to Veilig Thuis, so it is not shown it.
    expect((await broker2.overdue()).overdue.map((r) => r.id)).not.toContain(request.id);
    await integrateAll(hub.database.db, hub.clock());
    const overdueEntries = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => e.action === 'disclosure.overdue' && (e.detail as { request: string }).request === request.id);
    expect(overdueEntries).toHaveLength(1); // the overdue state is logged once
    expect(overdueEntries[0]).toMatchObject({ outcome: 'ok', rule: 'break-glass-review', detail: { request: request.id, requester: 'politie', holder: 'veilig-thuis', reviewDueAt: request.reviewDueAt } });
    expect(request.reviewDueAt).toEqual(expect.any(String));

    const policeBroker = await hub.as('politie', 'informatiemakelaar', 'im-politie');
    expect((await refusal(policeBroker.decide(request.id, { outcome: 'approve' }))).problem.rule).toBe('own-organisation');
    const review = await broker1.decide(request.id, { outcome: 'approve', reason: 'Acuut gevaar, terecht.' });
    expect(review.decision.kind).toBe('review');
    expect(review.request.reviewStatus).toBe('justified');
    expect((await broker1.overdue()).overdue.map((r) => r.id)).not.toContain(request.id);
    await integrateAll(hub.database.db, hub.clock());
    const actions = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => JSON.stringify(e.detail ?? {}).includes(request.id)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['disclosure.requested', 'disclosure.break-glass', 'grant.issued', 'disclosure.overdue', 'disclosure.reviewed']));
    const issued = (await readSequenced(hub.database.db, -1, 100_000)).find((e) => e.action === 'grant.issued' && (e.detail as { request: string }).request === request.id);
    expect(issued).toMatchObject({ outcome: 'allowed', rule: 'DX-AV-01', detail: { grant: grant!.id, holder: 'veilig-thuis', requester: 'politie', breakGlass: true, expiresAt: grant!.expiresAt } });
  });

  it('an unjustified break-glass is revoked: its grant ends and undelivered content is wiped', async () => {
    const family = person();
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: family.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const agent = await hub.as('politie', 'professional', 'agent-8');
    const { request, grant } = await agent.requestDisclosure({ subject: family.subject, holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', categories: ['huiselijk-geweld-meldingen'], caseRef: 'PL-2026-78', justification: 'Melding 112: dreiging aan de deur, we willen weten of er eerdere meldingen zijn.', urgency: 'emergency' });
    const vt = await hub.as('veilig-thuis', 'professional');
    await vt.handOver(grant!, (await partnerEncryptionKey('politie')).publicJwk, 'Twee eerdere meldingen.');
    // The holder's own informatiemakelaar may review it too.
    const vtBroker = await hub.as('veilig-thuis', 'informatiemakelaar', 'im-vt');
    await vtBroker.decide(request.id, { outcome: 'reject', reason: 'Geen acuut gevaar: reguliere route was mogelijk.' });
    expect((await refusal(agent.call('GET', `/v1/disclosures/${request.id}/handover`))).status).toBe(410);
    const [row] = await rowsOf<{ revoked_at: unknown }>(hub.database.db, sql`select revoked_at from disclosure_grants where request_id = ${request.id}`);
    expect(row!.revoked_at).not.toBeNull();
  });

  it('undelivered ciphertext is wiped after the covenant\'s relay retention, and that is logged', async () => {
    const family = person();
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: family.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const agent = await hub.as('politie', 'professional', 'agent-9');
    const { request, grant } = await agent.requestDisclosure({ subject: family.subject, holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', categories: ['huiselijk-geweld-meldingen'], caseRef: 'PL-2026-79', justification: 'Melding 112: dreiging met een wapen, kinderen in huis; eerdere meldingen zijn nu nodig.', urgency: 'emergency' });
    await (await hub.as('veilig-thuis', 'professional')).handOver(grant!, (await partnerEncryptionKey('politie')).publicJwk, 'Eén eerdere melding.');
    hub.clock.advance(hub.config.covenant.disclosure.relayRetentionHours * HOUR + 1000);
    const report = await purge(hub.database.db, hub.config.covenant, hub.clock());
    expect(report.handoversExpired).toBeGreaterThanOrEqual(1);
    const [row] = await rowsOf<{ ciphertext: string | null; delete_reason: string }>(hub.database.db, sql`select ciphertext, delete_reason from handovers where request_id = ${request.id}`);
    expect(row).toMatchObject({ ciphertext: null, delete_reason: 'expired' });
    expect((await refusal(agent.call('GET', `/v1/disclosures/${request.id}/handover`))).status).toBe(410);
    await integrateAll(hub.database.db, hub.clock());
    const actions = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => JSON.stringify(e.detail ?? {}).includes(request.id)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['handover.posted', 'handover.expired', 'handover.deleted']));
    const wiped = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => (e.action === 'handover.expired' || e.action === 'handover.deleted') && (e.detail as { request?: string }).request === request.id);
    expect(wiped).toEqual([
      expect.objectContaining({ action: 'handover.expired', outcome: 'ok', rule: 'relay-retention', detail: expect.objectContaining({ request: request.id, grant: grant!.id }) }),
      expect.objectContaining({ action: 'handover.deleted', outcome: 'ok', rule: 'relay-retention', detail: expect.objectContaining({ request: request.id, reason: 'expired' }) }),
    ]);
  });

  it('two brokers deciding at once cannot produce two outcomes', async () => {
    // One approval decides a request for the housing situation (no special data): the first
    // decision closes it, and the other must find it closed.
    const woco = await hub.as('woningcorporatie', 'partner-system');
    for (let round = 0; round < 3; round++) {
      const tenant = person();
      await woco.register({ subject: tenant.subject, category: 'woonoverlast', contact: contact('Wijkconsulent') });
      const { request } = await pr.requestDisclosure({ subject: tenant.subject, holder: 'woningcorporatie', purpose: 'procesregie-casus-op-maat', legalBasis: 'avg-6-1-e', categories: ['woonsituatie'], caseRef: `ZVH-W-${round}`, justification: JUSTIFICATION });
      expect(request.approvalsNeeded).toBe(1);
      const b3 = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', `im-a-${round}`);
      const b4 = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', `im-b-${round}`);
      const results = await Promise.allSettled([b3.decide(request.id, { outcome: 'approve' }), b4.decide(request.id, { outcome: 'reject', reason: 'Niet proportioneel.' })]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok).toHaveLength(1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect((failed.reason as HubError).status).toBe(409);
      const final = await broker1.getDisclosure(request.id);
      const winner = (ok[0] as PromiseFulfilledResult<Awaited<ReturnType<HubClient['decide']>>>).value;
      expect(final.request.status).toBe(winner.decision.outcome === 'approve' ? 'approved' : 'rejected');
      expect(final.grant === null).toBe(winner.decision.outcome === 'reject');
    }
  });
});
