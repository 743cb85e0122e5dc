// Invariants a reviewer broke one line at a time and the suite missed, or caught only by accident.
// Each test here aims at exactly one of them, so that breaking it turns exactly this test red:
//   replay store    a token id is remembered as long as the token could still be accepted
//   audit verify    a tail truncated by a single entry after a checkpoint is named
//   hand-over       a revoked grant takes no more content
//   hand-over       only the requester fetches (and so wipes) the content, never the holder
//   lookups         a lookup that finds nobody is logged all the same
//   disclosures     the verbatim request JWS is sealed at rest
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckpoint } from '../src/audit/checkpoint';
import { verifyAuditLog } from '../src/audit/verify';
import { claimTokenId, forgetExpiredTokenIds } from '../src/auth/replay';
import { HubError, type HubClient } from '../src/client/client';
import { rowsOf } from '../src/db/types';
import { unseal } from '../src/disclosures/at-rest';
import { purge } from '../src/retention/purge';
import { breakGlassAtVeiligThuis } from './support/disclosure';
import { contact, person } from './support/people';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, partnerEncryptionKey, startTestHub, type TestHub } from './support/hub';

const SECOND = 1000;

async function refusal(p: Promise<unknown>): Promise<HubError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e, 'expected the hub to refuse').toBeInstanceOf(HubError);
  return e as HubError;
}

describe(`invariants, each caught directly (${dbKind})`, () => {
  let hub: TestHub;
  const db = () => hub.database.db;

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  describe('the replay store remembers a token id while the token could still be accepted', () => {
    const claim = (jti: string, exp: Date) => claimTokenId(db(), { jti, partner: 'gemeente', exp });

    it('a live token id (expiring in a minute, or just now, or expired within the clock skew) survives the purge', async () => {
      const now = hub.clock();
      const skew = hub.config.limits.clockSkewSeconds * SECOND;
      const live = { 'in-a-minute': 60 * SECOND, 'about-now': 1, 'within-skew': -skew };
      for (const [jti, offset] of Object.entries(live)) expect(await claim(`live-${jti}`, new Date(now.getTime() + offset))).toBe(true);
      await forgetExpiredTokenIds(db(), now);
      for (const jti of Object.keys(live)) expect(await claim(`live-${jti}`, new Date(now.getTime() + 60 * SECOND)), jti).toBe(false);
    });

    it('an id whose token has long expired is forgotten (and only that one)', async () => {
      const now = hub.clock();
      expect(await claim('long-gone', new Date(now.getTime() - 10 * 60 * SECOND))).toBe(true);
      expect(await claim('still-live', new Date(now.getTime() + 4 * 60 * SECOND))).toBe(true);
      expect(await forgetExpiredTokenIds(db(), now)).toBeGreaterThanOrEqual(1);
      expect(await claim('long-gone', new Date(now.getTime() + 60 * SECOND))).toBe(true);
      expect(await claim('still-live', new Date(now.getTime() + 60 * SECOND))).toBe(false);
    });

    it('a token replayed after the scheduled purge is still refused', async () => {
      const token = await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-replay');
      const lookup = { path: '/v1/lookups', token, json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-R' } };
      expect((await send(hub, lookup)).status).toBe(200);
      await purge(db(), hub.config.covenant, hub.clock());
      const again = await send(hub, lookup);
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({ reason: 'replayed-jti' });
    });
  });

  it('audit verify names a tail truncated by one single entry after a checkpoint', async () => {
    await (await hub.as('gemeente', 'procesregisseur')).lookup(person().subject, 'procesregie-casus-op-maat', 'ZVH-T');
    const cp = await createCheckpoint(db(), hub.config, hub.clock());
    expect((await verifyAuditLog(db(), hub.config.signer.published)).ok).toBe(true);
    // As a superuser would: past the append-only triggers.
    await db().transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      await tx.execute(sql`delete from audit_log where seq = ${cp.size - 1}`);
    });
    const report = await verifyAuditLog(db(), hub.config.signer.published);
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', seq: cp.size - 1 }));
    expect(report.ok).toBe(false);
  });

  describe('the hand-over', () => {
    let agent: HubClient;
    let vt: HubClient;
    /** Police break the glass at Veilig Thuis: a grant at once, for the holder to answer. */
    async function breakGlass() {
      const { request, grant } = await breakGlassAtVeiligThuis(hub, agent, {
        caseRef: 'PL-DIRECT',
        justification: 'Melding 112: dreiging met geweld, kinderen in huis; eerdere meldingen zijn nu nodig voor de inschatting.',
      });
      return { request, grant: grant! };
    }
    const handovers = (id: string) => rowsOf<{ ciphertext: string | null; delete_reason: string | null }>(db(), sql`select ciphertext, delete_reason from handovers where request_id = ${id}`);

    beforeAll(async () => {
      agent = await hub.as('politie', 'professional', 'agent-direct');
      vt = await hub.as('veilig-thuis', 'professional', 'vt-direct');
    });

    it('a revoked grant takes no content: the holder is refused (grant-revoked), nothing is relayed, the attempt is logged', async () => {
      const { request, grant } = await breakGlass();
      const broker = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-direct');
      const review = await broker.decide(request.id, { outcome: 'reject', reason: 'Geen acuut gevaar: de reguliere route was mogelijk.' });
      expect(review.grant?.revokedAt).not.toBeNull();
      // The grant JWT itself still verifies and has not expired: only the hub's record says revoked.
      const e = await refusal(vt.handOver(grant, (await partnerEncryptionKey('politie')).publicJwk, 'Twee eerdere meldingen.'));
      expect(e.status).toBe(403);
      expect(e.problem.rule).toBe('grant-revoked');
      expect(await handovers(request.id)).toEqual([]);
      const logged = await rowsOf<{ outcome: string; rule: string }>(db(), sql`select outcome, rule from audit_entries where action = 'handover.posted' and detail->>'grant' = ${grant.id}`);
      expect(logged).toEqual([{ outcome: 'denied', rule: 'grant-revoked' }]);
    });

    it('the holder cannot fetch (and so wipe) what it handed over: only the requester can', async () => {
      const { request, grant } = await breakGlass();
      await vt.handOver(grant, (await partnerEncryptionKey('politie')).publicJwk, 'Eén eerdere melding.');
      const e = await refusal(vt.call('GET', `/v1/disclosures/${request.id}/handover`));
      expect(e.status).toBe(404);
      const [held] = await handovers(request.id);
      expect(held!.ciphertext).not.toBeNull(); // not wiped
      expect(held!.delete_reason).toBeNull();
      const logged = await rowsOf<{ actor_partner: string; outcome: string; rule: string }>(db(), sql`select actor_partner, outcome, rule from audit_entries where action = 'handover.delivered' and detail->>'request' = ${request.id} order by id`);
      expect(logged).toEqual([{ actor_partner: 'veilig-thuis', outcome: 'denied', rule: 'requester-only' }]);
      const got = await agent.fetchHandover(request.id, (await partnerEncryptionKey('politie')).privateJwk);
      expect(got.content).toBe('Eén eerdere melding.');
    });
  });

  it('a lookup that finds nobody is logged all the same: one entry, allowed, knownBy empty', async () => {
    const token = await tokenFor(hub, 'gemeente', 'procesregisseur', 'pr-nobody');
    const res = await send(hub, { path: '/v1/lookups', token, json: { subject: person().subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-0' } });
    expect(res.status).toBe(200);
    expect(res.body.knownBy).toEqual([]);
    const entries = await auditOf(hub, res.requestId);
    expect(entries.map((e) => [e.action, e.outcome, e.actorSub])).toEqual([['lookup', 'allowed', 'pr-nobody']]);
    expect(entries[0]!.detail).toMatchObject({ knownBy: [] });
  });

  it('the verbatim disclosure request is stored sealed: a JWE under the hub key, not the JWS or its payload', async () => {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-sealed');
    const { request } = await pr.requestDisclosure({
      subject: mother.subject,
      holder: 'verslavingszorg',
      purpose: 'procesregie-casus-op-maat',
      legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie'],
      caseRef: 'ZVH-SEALED',
      justification: 'Casus op maat (AVE 3): het veiligheidsplan rust mede op de behandeling van moeder; wij moeten weten of zij in behandeling is.',
    });
    const [row] = await rowsOf<{ jws: string }>(db(), sql`select jws from disclosure_requests where id = ${request.id}`);
    const stored = row!.jws;
    const [, payload] = request.jws!.split('.');
    expect(stored).not.toBe(request.jws!);
    expect(stored).not.toContain(payload!);
    expect(stored.split('.')).toHaveLength(5); // compact JWE
    expect(JSON.parse(Buffer.from(stored.split('.')[0]!, 'base64url').toString())).toMatchObject({ alg: 'dir', enc: 'A256GCM' });
    expect(await unseal(hub.config.hubKeys, stored)).toBe(request.jws!);
  });
});

