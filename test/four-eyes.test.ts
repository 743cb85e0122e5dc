// Four eyes (art. 15a) are two people the hub can tell apart. The hub knows organisations by their
// keys; the `sub` of a person is whatever the organisation's key signs. So where the covenant wants
// approvals from distinct partners, two subs of one partner count once: special data need the
// house's informatiemakelaar and one of the holder's.
import { sql } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CovenantError, decideDisclosureDecision, decideDisclosureRequest, loadCovenant, type Actor } from '../src/covenant/index';
import { HubError, type HubClient } from '../src/client/client';
import { rowsOf } from '../src/db/types';
import { unixSeconds } from '../src/encoding';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';
import { approverCount } from '../src/disclosures/service';
import { recordDecision } from '../src/disclosures/decision';
import { appendAudit } from '../src/audit/store';
import { Denial } from '../src/http/unit-of-work';
import { contact, person } from './support/people';
import { dbKind, demoCovenant, startTestHub, type TestHub } from './support/hub';

const PR = 'procesregie-casus-op-maat';
const JUSTIFICATION =
  'Casus op maat (AVE 3): het veiligheidsplan voor de kinderen rust mede op de behandeling van moeder; de procesregisseur moet weten of zij in behandeling is en bij wie.';
const actor = (partner: string, role: string, sub = `${partner}-${role}`): Actor => ({ partner, role, sub });

describe('the covenant: approvals from distinct organisations', () => {
  const c = demoCovenant();
  const about = { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR, approvers: 'distinct-partners' as const };

  it('a request for treatment data needs two approvals of distinct organisations (DX-PR-01)', () => {
    const d = decideDisclosureRequest(c, actor('gemeente', 'procesregisseur'), {
      holder: 'verslavingszorg',
      purpose: PR,
      legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie'],
      urgency: 'regular',
      justificationLength: JUSTIFICATION.length,
    });
    expect(d).toMatchObject({ allowed: true, rule: 'DX-PR-01', approvalsNeeded: 2, approvers: 'distinct-partners' });
    expect(d.reason).toContain('of distinct organisations');
  });

  it("once the house's informatiemakelaar decided, a colleague of the house is not a second pair of eyes", () => {
    const colleague = actor('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-collega');
    expect(decideDisclosureDecision(c, colleague, { ...about, decided: [] })).toMatchObject({ allowed: true });
    expect(decideDisclosureDecision(c, colleague, { ...about, decided: ['zorg-en-veiligheidshuis'] })).toMatchObject({ allowed: false, rule: 'four-eyes' });
  });

  it("the holder's informatiemakelaar is: the house and the holder make four eyes", () => {
    const holder = actor('verslavingszorg', 'informatiemakelaar', 'im-vz');
    expect(decideDisclosureDecision(c, holder, { ...about, decided: ['zorg-en-veiligheidshuis'] })).toMatchObject({ allowed: true, rule: 'A-INFORMATIEMAKELAAR' });
    expect(decideDisclosureDecision(c, holder, { ...about, decided: ['verslavingszorg'] })).toMatchObject({ allowed: false, rule: 'four-eyes' });
  });

  it('where a rule settles for distinct brokers, two people of one organisation count twice', () => {
    const colleague = actor('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-collega');
    expect(decideDisclosureDecision(c, colleague, { ...about, approvers: 'distinct-brokers', decided: ['zorg-en-veiligheidshuis'] })).toMatchObject({ allowed: true });
  });

  it('approvals are counted per organisation, or per person where the rule says distinct brokers', () => {
    const twoOfTheHouse = [
      { broker: 'zorg-en-veiligheidshuis', brokerSub: 'im-een' },
      { broker: 'zorg-en-veiligheidshuis', brokerSub: 'im-twee' },
    ];
    expect(approverCount({ approvers: 'distinct-partners' }, twoOfTheHouse)).toBe(1);
    expect(approverCount({ approvers: 'distinct-brokers' }, twoOfTheHouse)).toBe(2);
    expect(approverCount({ approvers: 'distinct-partners' }, [...twoOfTheHouse, { broker: 'verslavingszorg', brokerSub: 'im-een' }])).toBe(2);
  });
});

describe('the loader: four eyes across organisations must be reachable', () => {
  const files = () => readCovenantDir(DEFAULT_COVENANT_DIR);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const edit = (file: string, change: (doc: any) => void) => {
    const all = files();
    const doc = parse(all[file]!);
    change(doc);
    return { ...all, [file]: stringify(doc) };
  };
  const problems = (input: Record<string, string>) => {
    try {
      loadCovenant(input);
    } catch (e) {
      if (e instanceof CovenantError) return e.problems;
      throw e;
    }
    return [];
  };

  it('refuses a rule whose holder has no informatiemakelaar: only the house could approve', () => {
    const found = problems(edit('partners.yaml', (d) => {
      const ggz = d.partners.find((p: { id: string }) => p.id === 'ggz');
      ggz.roles = ggz.roles.filter((r: string) => r !== 'informatiemakelaar');
    }));
    expect(found).toContainEqual(expect.objectContaining({ reason: expect.stringMatching(/needs 2 approvals from distinct partners, but only 1 may weigh a request of gemeente to ggz/) }));
  });

  it('refuses a rule that settles for distinct brokers on special data when the settings want distinct partners', () => {
    const found = problems(edit('disclosure.yaml', (d) => {
      d.disclosureRules.find((r: { id: string }) => r.id === 'DX-PR-01').approvers = 'distinct-brokers';
    }));
    expect(found).toContainEqual(expect.objectContaining({ path: expect.stringMatching(/approvers$/), reason: expect.stringContaining('special category "behandelrelatie"') }));
  });

  it('the demo covenant loads, and its settings want distinct partners', () => {
    expect(problems(files())).toEqual([]);
    expect(demoCovenant().disclosure.approvers).toBe('distinct-partners');
  });
});

describe(`four eyes over HTTP (${dbKind})`, () => {
  let hub: TestHub;
  let pr: HubClient;

  beforeAll(async () => {
    hub = await startTestHub();
    pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
  });
  afterAll(() => hub?.close());

  async function askVerslavingszorg() {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const { request } = await pr.requestDisclosure({ subject: mother.subject, holder: 'verslavingszorg', purpose: PR, legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'ZVH-4E', justification: JUSTIFICATION });
    expect(request).toMatchObject({ status: 'pending', approvalsNeeded: 2, approvers: 'distinct-partners' });
    return request;
  }

  it('two subs of the house (one key, names of the caller\'s choosing) do not make four eyes: no grant, refusal logged', async () => {
    const request = await askVerslavingszorg();
    const jansen = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-jansen');
    const alias = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-jansen-2');
    expect((await jansen.decide(request.id, { outcome: 'approve' })).request.status).toBe('pending');
    const e = await alias.decide(request.id, { outcome: 'approve' }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(HubError);
    expect((e as HubError).status).toBe(403);
    expect((e as HubError).problem.rule).toBe('four-eyes');
    const after = await jansen.getDisclosure(request.id);
    expect(after.request.status).toBe('pending');
    expect(after.grant).toBeNull();
    expect(after.decisions).toHaveLength(1);
    const logged = await rowsOf<{ actor_sub: string; outcome: string; rule: string }>(
      hub.database.db,
      sql`select actor_sub, outcome, rule from audit_entries where action = 'disclosure.decided' and detail->>'request' = ${request.id} order by id`,
    );
    expect(logged).toEqual([
      { actor_sub: 'im-jansen', outcome: 'allowed', rule: 'A-INFORMATIEMAKELAAR' },
      { actor_sub: 'im-jansen-2', outcome: 'denied', rule: 'four-eyes' },
    ]);
  });

  // The console verifies the passkey assertion before it calls recordDecision; from there on the
  // proof is only kept, so a placeholder stands in for it here.
  const passkey = { decision: '{}', credentialId: 'c', authenticatorData: 'a', clientDataJSON: 'j', signature: 's' };
  function approveWithPasskey(who: Actor, request: string) {
    const now = hub.clock();
    const ctx = { at: now, requestId: 'test-console-decision', actor: who, covenantVersion: hub.config.covenant.version };
    const payload = { aud: hub.config.hubId, sub: who.sub, iat: unixSeconds(now), jti: crypto.randomUUID(), request, outcome: 'approve' as const };
    return hub.database.db.transaction((tx) =>
      recordDecision(tx, async (...entries) => void (await appendAudit(tx, ctx, entries)), { config: hub.config, actor: who, now }, request, payload, { passkey }),
    );
  }

  it("a passkey decision in the console counts the same: after the house's JWS approval, a colleague of the house is refused (one recordDecision)", async () => {
    const request = await askVerslavingszorg();
    const jansen = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-jansen-jws');
    expect((await jansen.decide(request.id, { outcome: 'approve' })).request.status).toBe('pending');
    const out = await approveWithPasskey({ partner: 'zorg-en-veiligheidshuis', role: 'informatiemakelaar', sub: 'staff:collega' }, request.id);
    expect(out).toBeInstanceOf(Denial);
    expect((out as Denial).problem.extensions.rule).toBe('four-eyes');
    const after = await jansen.getDisclosure(request.id);
    expect(after.request.status).toBe('pending');
    expect(after.decisions).toHaveLength(1);
  });

  it("the holder's passkey approval after the house's JWS one makes four eyes, and each decision keeps its own proof", async () => {
    const request = await askVerslavingszorg();
    const house = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker-jws');
    await house.decide(request.id, { outcome: 'approve' });
    const out = await approveWithPasskey({ partner: 'verslavingszorg', role: 'informatiemakelaar', sub: 'staff:im-vz' }, request.id);
    expect(out).not.toBeInstanceOf(Denial);
    const after = await house.getDisclosure(request.id);
    expect(after.request.status).toBe('approved');
    // Both were made at the same moment of the test clock: compare them by person.
    expect(after.decisions.map(({ brokerSub, jws, passkey }) => ({ brokerSub, jws: jws !== null, passkey })).sort((a, b) => a.brokerSub.localeCompare(b.brokerSub))).toEqual([
      { brokerSub: 'im-bakker-jws', jws: true, passkey: null },
      { brokerSub: 'staff:im-vz', jws: false, passkey },
    ]);
  });

  it("two subs of the holder do not either; the house's informatiemakelaar and the holder's do", async () => {
    const request = await askVerslavingszorg();
    const vz1 = await hub.as('verslavingszorg', 'informatiemakelaar', 'im-vz-1');
    const vz2 = await hub.as('verslavingszorg', 'informatiemakelaar', 'im-vz-2');
    expect((await vz1.decide(request.id, { outcome: 'approve' })).grant).toBeNull();
    expect(await vz2.decide(request.id, { outcome: 'approve' }).then(() => 'accepted', (err: HubError) => err.problem.rule)).toBe('four-eyes');
    const house = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker');
    const done = await house.decide(request.id, { outcome: 'approve' });
    expect(done.request.status).toBe('approved');
    expect(done.grant).not.toBeNull();
  });
});
