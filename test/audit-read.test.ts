// Who reads which part of the log (art. 16, oversight.yaml auditRead), through the API and the
// console alike (decideAuditRead): the house's FG reads everything; verslavingszorg's FG its own
// organisation's actions and, by AR-EIGEN-CLIENTEN, every access to a person it has an active
// registration for; the police's FG (AR-EIGEN-ORGANISATIE) its own organisation's actions only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, person } from './support/people';
import { startTestHub, type TestHub } from './support/hub';

describe("the covenant's audit-read rule decides what a partner's FG reads", () => {
  let hub: TestHub;
  const client = person();
  const stranger = person();
  let registration: string;
  const partnerOf = (e: Record<string, unknown>) => (e.actor as { partner: string | null } | null)?.partner ?? null;

  beforeAll(async () => {
    hub = await startTestHub();
    registration = (await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: client.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') })).id;
    const gemeente = await hub.as('gemeente', 'procesregisseur', 'pr-1');
    await gemeente.lookup(client.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    await gemeente.lookup(stranger.subject, 'procesregie-casus-op-maat', 'ZVH-2');
  });
  afterAll(async () => hub?.close());

  it("verslavingszorg's FG sees the gemeente's lookup of its client, not of a stranger (AR-EIGEN-CLIENTEN)", async () => {
    const fg = await hub.as('verslavingszorg', 'privacy-officer', 'fg-vz');
    const seen = (await fg.auditEntries({ limit: 1000 })).entries;
    expect(seen.filter((e) => partnerOf(e) === 'gemeente').map((e) => [e.action, e.caseRef])).toEqual([['lookup', 'ZVH-1']]);
    expect(seen.some((e) => partnerOf(e) === 'verslavingszorg' && e.action === 'registration.create')).toBe(true);
    const read = seen.find((e) => e.action === 'audit.read');
    expect(read).toMatchObject({ rule: 'AR-EIGEN-CLIENTEN' });
  });

  it("the police's FG sees neither (AR-EIGEN-ORGANISATIE): only the police's own actions", async () => {
    const fg = await hub.as('politie', 'privacy-officer', 'fg-pol');
    const seen = (await fg.auditEntries({ limit: 1000 })).entries;
    expect(seen.every((e) => partnerOf(e) === 'politie')).toBe(true);
  });

  it("the house's FG sees both lookups", async () => {
    const fg = await hub.as('zorg-en-veiligheidshuis', 'zvh-privacy-officer', 'fg-zvh');
    const seen = (await fg.auditEntries({ limit: 1000 })).entries;
    expect(seen.filter((e) => partnerOf(e) === 'gemeente').map((e) => e.caseRef)).toEqual(['ZVH-1', 'ZVH-2']);
  });

  it('once verslavingszorg ends the registration, accesses to that person are no longer its FG’s to read', async () => {
    await (await hub.as('verslavingszorg', 'partner-system')).endRegistration(registration);
    const fg = await hub.as('verslavingszorg', 'privacy-officer', 'fg-vz');
    const seen = (await fg.auditEntries({ limit: 1000 })).entries;
    expect(seen.filter((e) => partnerOf(e) === 'gemeente')).toEqual([]);
  });
});
