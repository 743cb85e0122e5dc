// The thinnest path through everything: a registration, a lookup, and their audit entries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubError } from '../src/client/client';
import { integrateAll, readSequenced } from '../src/audit/store';
import { contact, person } from './support/people';
import { dbKind, startTestHub, type TestHub } from './support/hub';

describe(`core loop (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('the procesregisseur learns that verslavingszorg knows a person, whom to call and since when', async () => {
    const tamara = person();
    const vz = await hub.as('verslavingszorg', 'partner-system');
    const reg = await vz.register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake verslavingszorg'), reference: 'VZ-17' });
    expect(reg.created).toBe(true);

    const pr = await hub.as('gemeente', 'procesregisseur');
    const result = await pr.lookup(tamara.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0001');
    expect(result.knownBy).toHaveLength(1);
    expect(result.knownBy[0]).toMatchObject({ partner: 'verslavingszorg', domain: 'zorg', contact: contact('Intake verslavingszorg'), since: reg.since });
    expect(result.decision.policyVersion).toBe(hub.config.covenant.version);
    expect(result.decision.rules.length).toBeGreaterThan(0);
    // Never content: no category, no reference of the holder.
    expect(JSON.stringify(result)).not.toContain('verslavingszorg-behandeling');
    expect(JSON.stringify(result)).not.toContain('VZ-17');
  });

  it('every registration and lookup is in the audit log with actor, purpose, rule and covenant version', async () => {
    const p = person();
    const police = await hub.as('politie', 'partner-system', 'system-bvh');
    await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent Zwolle-Zuid') });
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-jansen');
    const res = await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0002');
    await integrateAll(hub.database.db, hub.clock());
    const entries = await readSequenced(hub.database.db, -1, 10_000);
    const lookup = entries.find((e) => e.action === 'lookup' && (e.detail as { lookupId?: string })?.lookupId === res.lookupId);
    expect(lookup).toMatchObject({
      actorPartner: 'gemeente',
      actorSub: 'pr-jansen',
      actorRole: 'procesregisseur',
      purpose: 'procesregie-casus-op-maat',
      caseRef: 'ZVH-2026-0002',
      outcome: 'allowed',
      covenantVersion: hub.config.covenant.version,
    });
    expect(lookup!.rule).toBeTruthy();
    expect(lookup!.subject).not.toBe(p.subject); // the hub pseudonym, not the partner-side one
    const registration = entries.find((e) => e.action === 'registration.create' && e.actorSub === 'system-bvh');
    expect(registration?.subject).toBe(lookup!.subject);
    // Sequenced: gap-free from 0.
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i));
  });

  it('police may not look up for vroegsignalering jeugd: 403 naming the rule, and logged', async () => {
    const p = person();
    const police = await hub.as('politie', 'professional', 'agent-7');
    const err = await police.lookup(p.subject, 'vroegsignalering-jeugd', 'PL-1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    const problem = (err as HubError).problem;
    expect((err as HubError).status).toBe(403);
    expect(problem.type).toBe('/problems/purpose-not-allowed');
    expect(typeof problem.rule).toBe('string');
    await integrateAll(hub.database.db, hub.clock());
    const entries = await readSequenced(hub.database.db, -1, 10_000);
    const denied = entries.find((e) => e.action === 'lookup' && e.actorSub === 'agent-7');
    expect(denied).toMatchObject({ outcome: 'denied', rule: problem.rule, purpose: 'vroegsignalering-jeugd' });
  });
});
