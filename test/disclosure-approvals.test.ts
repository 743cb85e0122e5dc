// How approvals conclude a request: counted per organisation or per person as the covenant says;
// the grant covers only what every approver allowed, and when they allowed nothing in common no
// grant is issued at all. A justification is measured without the blanks around it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError, type HubClient } from '../src/client/client';
import { approverCount } from '../src/disclosures/service';
import { contact, person } from './support/people';
import { dbKind, startTestHub, type TestHub } from './support/hub';

const JUSTIFICATION =
  'Casus op maat (AVE 3): het veiligheidsplan voor de kinderen rust mede op de behandeling van moeder; de procesregisseur moet weten of zij in behandeling is en bij wie.';

describe('approvers are counted as the covenant says', () => {
  const a = (broker: string, brokerSub: string) => ({ broker, brokerSub });

  it('distinct-partners: one per organisation, however many of its people approved', () => {
    const req = { approvers: 'distinct-partners' as const };
    expect(approverCount(req, [])).toBe(0);
    expect(approverCount(req, [a('zorg-en-veiligheidshuis', 'im-1'), a('zorg-en-veiligheidshuis', 'im-2')])).toBe(1);
    expect(approverCount(req, [a('zorg-en-veiligheidshuis', 'im-1'), a('verslavingszorg', 'im-1')])).toBe(2);
  });

  it('distinct-brokers: one per person, a person being an organisation\'s sub (the same sub elsewhere is someone else)', () => {
    const req = { approvers: 'distinct-brokers' as const };
    expect(approverCount(req, [a('zorg-en-veiligheidshuis', 'im-1'), a('zorg-en-veiligheidshuis', 'im-2')])).toBe(2);
    expect(approverCount(req, [a('zorg-en-veiligheidshuis', 'im-1'), a('zorg-en-veiligheidshuis', 'im-1')])).toBe(1);
    expect(approverCount(req, [a('zorg-en-veiligheidshuis', 'im-1'), a('verslavingszorg', 'im-1')])).toBe(2);
    // Joined without ambiguity: "a","b-c" is not "a-b","c".
    expect(approverCount(req, [a('a', 'b-c'), a('a-b', 'c')])).toBe(2);
  });
});

describe(`what the approvals conclude (${dbKind})`, () => {
  let hub: TestHub;
  let pr: HubClient;
  let house: HubClient;
  let holder: HubClient;

  beforeAll(async () => {
    hub = await startTestHub();
    pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    house = await hub.as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-bakker');
    holder = await hub.as('verslavingszorg', 'informatiemakelaar', 'im-yilmaz');
  });
  afterAll(() => hub?.close());

  async function ask(justification = JUSTIFICATION) {
    const mother = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: mother.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const { request } = await pr.requestDisclosure({
      subject: mother.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33',
      categories: ['behandelrelatie', 'contactgegevens-behandelaar'], caseRef: 'ZVH-APP', justification,
    });
    return request;
  }

  it('the grant covers what every approver allowed: the intersection of their categories', async () => {
    const request = await ask();
    expect((await house.decide(request.id, { outcome: 'approve', categories: ['behandelrelatie', 'contactgegevens-behandelaar'] })).grant).toBeNull();
    const { request: after, grant } = await holder.decide(request.id, { outcome: 'approve', categories: ['behandelrelatie'] });
    expect(after).toMatchObject({ status: 'approved', closedAt: hub.clock().toISOString() });
    expect(grant).toMatchObject({ categories: ['behandelrelatie'], breakGlass: false, revokedAt: null });
  });

  it('approvals with no category in common conclude nothing: 409, the request stays pending, the last decision is not kept', async () => {
    const request = await ask();
    await house.decide(request.id, { outcome: 'approve', categories: ['behandelrelatie'] });
    const e = await holder.decide(request.id, { outcome: 'approve', categories: ['contactgegevens-behandelaar'] }).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(HubError);
    expect((e as HubError).status).toBe(409);
    expect((e as HubError).problem.detail).toBe('The approvals leave no category in common: nothing can be granted');
    const now = await house.getDisclosure(request.id);
    expect(now.request.status).toBe('pending');
    expect(now.grant).toBeNull();
    expect(now.decisions).toHaveLength(1);
  });

  it('a justification is measured without the blanks around it', async () => {
    const min = hub.config.covenant.disclosure.minJustificationLength;
    const short = 'x'.repeat(min - 1);
    const e = await ask(`   ${short}   `).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(HubError);
    expect((e as HubError).problem).toMatchObject({ status: 400, rule: 'justification-too-short', errors: [{ field: 'request.justification' }] });
    expect((await ask(`  ${'x'.repeat(min)}  `)).status).toBe('pending');
  });
});
