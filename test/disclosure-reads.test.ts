// Who may read a disclosure request: the covenant decides reading as it decides weighing. A broker
// reads only the requests it may decide; the requesting organisation its own; the holder an
// approved request addressed to it. Every read logs which requests it showed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAction, decideDisclosureDecision } from '../src/covenant/index';
import { contact, person } from './support/people';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, startTestHub, type TestHub } from './support/hub';

const HOUR = 3_600_000;
const JUSTIFICATION =
  'Casus op maat (AVE 3): om het plan van aanpak af te stemmen moeten we weten of moeder in behandeling is en wie haar behandelaar is.';

type Shown = { request: string; rule: string };
type Listed = { id: string; jws: string | null };

describe(`reading disclosure requests (${dbKind})`, () => {
  let hub: TestHub;
  let gemeenteToVz: string;
  let politieToVt: string;

  /** A GET as partner/role; returns the answer and the audit entries of exactly that request. */
  async function read(partner: string, role: string, path: string) {
    const res = await send(hub, { path, token: await tokenFor(hub, partner, role) });
    return { ...res, entries: await auditOf(hub, res.requestId) };
  }

  beforeAll(async () => {
    hub = await startTestHub();
    const tamara = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    gemeenteToVz = (
      await pr.requestDisclosure({
        subject: tamara.subject,
        holder: 'verslavingszorg',
        purpose: 'procesregie-casus-op-maat',
        legalBasis: 'uavg-30-33',
        categories: ['behandelrelatie'],
        caseRef: 'ZVH-2026-0142',
        justification: JUSTIFICATION,
      })
    ).request.id;
    hub.clock.advance(60_000);

    const family = person();
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: family.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const agent = await hub.as('politie', 'professional', 'agent-7');
    politieToVt = (
      await agent.requestDisclosure({
        subject: family.subject,
        holder: 'veilig-thuis',
        purpose: 'acuut-veiligheidsrisico',
        legalBasis: 'avg-6-1-d',
        categories: ['huiselijk-geweld-meldingen'],
        caseRef: 'PL-2026-77',
        justification: 'Melding 112: ruzie met geweld aan de IJsselstraat 3, kinderen in huis. Eerdere meldingen nodig.',
        urgency: 'emergency',
      })
    ).request.id;
    hub.clock.advance(hub.config.covenant.disclosure.reviewDeadlineHours * HOUR + 1000);
  });
  afterAll(() => hub?.close());

  it("the politie's informatiemakelaar may not weigh the gemeente's request to verslavingszorg, so it may not list or read it", async () => {
    const weigh = decideDisclosureDecision(hub.config.covenant, { partner: 'politie', role: 'informatiemakelaar', sub: 'im-politie' }, { requester: 'gemeente', holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat' });
    expect(weigh.allowed).toBe(false);

    const list = await read('politie', 'informatiemakelaar', '/v1/disclosures');
    expect(list.status).toBe(200);
    expect((list.body.requests as Listed[]).map((r) => r.id)).not.toContain(gemeenteToVz);
    // It still sees its own organisation's break-glass request (as any politie reader does).
    expect((list.body.requests as Listed[]).map((r) => r.id)).toEqual([politieToVt]);

    const one = await read('politie', 'informatiemakelaar', `/v1/disclosures/${gemeenteToVz}`);
    expect(one.status).toBe(404);
    expect(JSON.stringify(one.body)).not.toContain('justification');
    expect(one.entries.map((e) => [e.action, e.outcome, e.rule, e.detail])).toEqual([['disclosure.read', 'denied', weigh.rule, { request: gemeenteToVz }]]);
  });

  it("the house's informatiemakelaar, who weighs every request, lists and reads both, and each read names what it showed", async () => {
    const list = await read('zorg-en-veiligheidshuis', 'informatiemakelaar', '/v1/disclosures');
    expect((list.body.requests as Listed[]).map((r) => r.id)).toEqual([gemeenteToVz, politieToVt]);
    expect((list.body.requests as Listed[]).every((r) => typeof r.jws === 'string')).toBe(true);
    expect(list.entries.map((e) => [e.action, e.outcome, e.rule])).toEqual([['disclosure.read', 'allowed', 'A-INFORMATIEMAKELAAR']]);
    expect((list.entries[0]!.detail as { shown: Shown[] }).shown).toEqual([
      { request: gemeenteToVz, rule: 'A-INFORMATIEMAKELAAR' },
      { request: politieToVt, rule: 'A-INFORMATIEMAKELAAR' },
    ]);
    const one = await read('zorg-en-veiligheidshuis', 'informatiemakelaar', `/v1/disclosures/${gemeenteToVz}`);
    expect(one.status).toBe(200);
    expect(one.entries.map((e) => [e.action, e.outcome, (e.detail as { request: string }).request])).toEqual([['disclosure.read', 'allowed', gemeenteToVz]]);
  });

  it("the gemeente's informatiemakelaar may not weigh the politie's break-glass, so it is not in its overdue list; the house's is", async () => {
    const gemeente = await read('gemeente', 'informatiemakelaar', '/v1/disclosures/overdue');
    expect(gemeente.status).toBe(200);
    expect((gemeente.body.overdue as Listed[]).map((r) => r.id)).toEqual([]);
    expect(gemeente.entries.filter((e) => e.action === 'disclosure.read').map((e) => (e.detail as { shown: Shown[] }).shown)).toEqual([[]]);

    const house = await read('zorg-en-veiligheidshuis', 'informatiemakelaar', '/v1/disclosures/overdue');
    expect((house.body.overdue as Listed[]).map((r) => r.id)).toEqual([politieToVt]);
    expect(house.entries.filter((e) => e.action === 'disclosure.read').map((e) => (e.detail as { shown: Shown[] }).shown)).toEqual([[{ request: politieToVt, rule: 'A-INFORMATIEMAKELAAR' }]]);
    expect(house.entries.filter((e) => e.action === 'disclosure.read').map((e) => [e.outcome, e.rule, (e.detail as { list: string }).list])).toEqual([['allowed', 'A-INFORMATIEMAKELAAR', 'overdue']]);
  });

  it('who may not decide disclosures gets no overdue list: 403 under the rule that refused it, logged as denied', async () => {
    const may = decideAction(hub.config.covenant, { partner: 'politie', role: 'professional', sub: 'agent-7' }, 'decide-disclosure');
    expect(may.allowed).toBe(false);
    const agent = await read('politie', 'professional', '/v1/disclosures/overdue');
    expect(agent.status).toBe(403);
    expect(agent.body).toMatchObject({ type: '/problems/forbidden', rule: may.rule });
    expect(agent.body).not.toHaveProperty('overdue');
    expect(agent.entries.map((e) => [e.action, e.outcome, e.rule, e.detail])).toEqual([['disclosure.read', 'denied', may.rule, { list: 'overdue' }]]);
  });

  it('a request that does not exist: 404 as for one the reader may not see, logged as denied by default', async () => {
    const nobody = crypto.randomUUID();
    const one = await read('zorg-en-veiligheidshuis', 'informatiemakelaar', `/v1/disclosures/${nobody}`);
    expect(one.status).toBe(404);
    expect(one.body.detail).toBe('No disclosure request with this id that you may see');
    expect(one.entries.map((e) => [e.action, e.outcome, e.rule, e.detail])).toEqual([['disclosure.read', 'denied', 'deny-by-default', { request: nobody }]]);
  });

  it('the requesting organisation reads its own request (any role); the holder only once it is approved', async () => {
    const own = await read('gemeente', 'informatiemakelaar', `/v1/disclosures/${gemeenteToVz}`);
    expect(own.status).toBe(200);
    expect(own.entries.map((e) => e.rule)).toEqual(['requesting-organisation']);

    const holderPending = await read('verslavingszorg', 'professional', '/v1/disclosures');
    expect((holderPending.body.requests as Listed[]).map((r) => r.id)).toEqual([]);
    expect((await read('verslavingszorg', 'professional', `/v1/disclosures/${gemeenteToVz}`)).status).toBe(404);

    // Break-glass is approved at once: Veilig Thuis, the holder, sees it.
    const vt = await read('veilig-thuis', 'professional', '/v1/disclosures');
    expect((vt.body.requests as Listed[]).map((r) => r.id)).toEqual([politieToVt]);
    expect((vt.entries[0]!.detail as { shown: Shown[] }).shown).toEqual([{ request: politieToVt, rule: 'addressed-holder' }]);
    // A reader who is no broker: the listing is logged under the requesting organisation's standing.
    expect(vt.entries.map((e) => [e.action, e.outcome, e.rule])).toEqual([['disclosure.read', 'allowed', 'requesting-organisation']]);
  });
});
