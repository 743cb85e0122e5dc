// Match notices (the verwijsindex "match"), retention and hub key rotation.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { integrateAll, readSequenced } from '../src/audit/store';
import { HubClient } from '../src/client/client';
import { buildHubConfig } from '../src/config';
import { rowsOf } from '../src/db/types';
import { generateHubKeySecret, parseHubKeyring, storedSubject } from '../src/pseudonym/hub-key';
import { purge } from '../src/retention/purge';
import { contact, person } from './support/people';
import { dbKind, startTestHub, type TestHub } from './support/hub';

const DAY = 86_400_000;

describe(`match notices (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('when the gemeente takes up procesregie, it is told who else knows the person, and they are told of the procesregie', async () => {
    const justin = person();
    const police = await hub.as('politie', 'partner-system');
    const vz = await hub.as('verslavingszorg', 'partner-system');
    const gemeente = await hub.as('gemeente', 'partner-system');
    await police.register({ subject: justin.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    await vz.register({ subject: justin.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const pr = await gemeente.register({ subject: justin.subject, category: 'procesregie', contact: contact('Procesregisseur ZVH'), reference: 'ZVH-2026-0142' });

    const feed = await gemeente.matches();
    const mine = feed.matches.filter((m) => m.registrationId === pr.id);
    expect(mine.map((m) => m.knownBy.partner).sort()).toEqual(['politie', 'verslavingszorg']);
    expect(mine.every((m) => m.rule === 'M-PR-01')).toBe(true);
    expect(mine[0]!.reference).toBe('ZVH-2026-0142');

    const policeFeed = await police.matches();
    expect(policeFeed.matches.map((m) => m.knownBy.partner)).toEqual(['gemeente']);
    expect(policeFeed.matches[0]!.rule).toBe('M-PR-02');
  });

  it('police is never told that verslavingszorg knows the same person (MD-ZORG-POLITIE)', async () => {
    const p = person();
    const police = await hub.as('politie', 'partner-system');
    const vz = await hub.as('verslavingszorg', 'partner-system');
    const { next } = await police.matches(0, 1000);
    const reg = await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    await vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    expect((await police.matches(next)).matches).toEqual([]);
    const [{ n }] = (await rowsOf<{ n: number }>(hub.database.db, sql`select count(*)::int as n from matches where recipient_registration_id = ${reg.id}`)) as [{ n: number }];
    expect(n).toBe(0);
  });

  it('the feed pages by cursor, and each delivery is audit-logged', async () => {
    const wijkteam = await hub.as('wijkteam-jeugd', 'partner-system');
    const vt = await hub.as('veilig-thuis', 'partner-system');
    const kids = [person(), person(), person()];
    for (const k of kids) {
      await wijkteam.register({ subject: k.subject, category: 'jeugdhulp', contact: contact('Buurtzorg Jong') });
      await vt.register({ subject: k.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    }
    const page1 = await wijkteam.matches(0, 2);
    expect(page1.matches).toHaveLength(2);
    const page2 = await wijkteam.matches(page1.next, 2);
    expect(page2.matches).toHaveLength(1);
    expect(page2.matches[0]!.seq).toBeGreaterThanOrEqual(page1.next);
    expect((await wijkteam.matches(page2.next)).matches).toEqual([]);
    await integrateAll(hub.database.db, hub.clock());
    const delivered = (await readSequenced(hub.database.db, -1, 100_000)).filter((e) => e.action === 'match.delivered' && e.actorPartner === 'wijkteam-jeugd');
    expect(delivered).toHaveLength(3);
    expect(delivered.every((e) => e.rule === 'M-VJ-01' && e.outcome === 'allowed')).toBe(true);
  });

  it('an ended registration stops matching and stops being found at once', async () => {
    const p = person();
    const wijkteam = await hub.as('wijkteam-jeugd', 'partner-system');
    const vt = await hub.as('veilig-thuis', 'partner-system');
    const w = await wijkteam.register({ subject: p.subject, category: 'jeugdhulp', contact: contact('Buurtzorg Jong') });
    const { next } = await vt.matches(0, 1000);
    await vt.register({ subject: p.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    await wijkteam.endRegistration(w.id);
    expect((await vt.matches(next)).matches).toEqual([]);
    const pr = await hub.as('gemeente', 'procesregisseur');
    const seen = await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-3');
    expect(seen.knownBy.map((k) => k.partner)).toEqual(['veilig-thuis']);
  });
});

describe(`retention (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  it('an expired registration stops matching at once; the purge ends it, later removes it, and logs both', async () => {
    const p = person();
    const police = await hub.as('politie', 'partner-system');
    const expiresAt = new Date(hub.clock().getTime() + 10 * DAY).toISOString();
    const reg = await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent'), expiresAt });
    const pr = await hub.as('gemeente', 'procesregisseur');
    expect((await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1')).knownBy).toHaveLength(1);

    hub.clock.advance(10 * DAY + 1000);
    expect((await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1')).knownBy).toEqual([]);

    const first = await purge(hub.database.db, hub.config.covenant, hub.clock());
    expect(first.expired).toBeGreaterThanOrEqual(1);
    expect(first.removed).toBe(0);
    const [ended] = await rowsOf<{ end_reason: string }>(hub.database.db, sql`select end_reason from registrations where id = ${reg.id}`);
    expect(ended?.end_reason).toBe('expired');

    hub.clock.advance(hub.config.covenant.retention.archiveRetentionDays * DAY);
    const second = await purge(hub.database.db, hub.config.covenant, hub.clock());
    expect(second.removed).toBeGreaterThanOrEqual(1);
    expect(await rowsOf(hub.database.db, sql`select id from registrations where id = ${reg.id}`)).toEqual([]);

    await integrateAll(hub.database.db, hub.clock());
    const log = await readSequenced(hub.database.db, -1, 100_000);
    const purged = log.filter((e) => e.action === 'purge' && (e.detail as { registrationId?: string })?.registrationId === reg.id);
    expect(purged).toHaveLength(1);
    expect(log.some((e) => e.action === 'registration.end' && e.rule === 'retention' && (e.detail as { registrationId?: string })?.registrationId === reg.id)).toBe(true);
  });

  it('registering a person again after the registration expired (before the purge) makes a new registration; lookups never report the lapsed since', async () => {
    const p = person();
    const police = await hub.as('politie', 'partner-system');
    const expiresAt = new Date(hub.clock().getTime() + 10 * DAY).toISOString();
    const lapsed = await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent'), expiresAt });
    hub.clock.advance(30 * DAY);

    const again = await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    expect(again.created).toBe(true);
    expect(again.id).not.toBe(lapsed.id);
    expect(again.since).toBe(hub.clock().toISOString());
    const pr = await hub.as('gemeente', 'procesregisseur');
    const seen = await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    expect(seen.knownBy.map((k) => [k.partner, k.since])).toEqual([['politie', again.since]]);

    // The lapsed one is ended as expired (as of its expiry), and that is logged with the new one.
    const [old] = await rowsOf<{ ended_at: Date | string; end_reason: string }>(hub.database.db, sql`select ended_at, end_reason from registrations where id = ${lapsed.id}`);
    expect(old).toMatchObject({ end_reason: 'expired' });
    expect(new Date(old!.ended_at).toISOString()).toBe(lapsed.expiresAt);
    await integrateAll(hub.database.db, hub.clock());
    const log = await readSequenced(hub.database.db, -1, 100_000);
    const ends = log.filter((e) => e.action === 'registration.end' && (e.detail as { registrationId?: string }).registrationId === lapsed.id);
    expect(ends.map((e) => [e.rule, (e.detail as { reason: string }).reason])).toEqual([['retention', 'expired']]);
  });

  it('a registration may not outlive the covenant maximum for its category', async () => {
    const police = await hub.as('politie', 'partner-system');
    const max = hub.config.covenant.categories.get('politie-betrokkenheid')!.maxRetentionDays;
    const tooLate = new Date(hub.clock().getTime() + (max + 1) * DAY).toISOString();
    const err = await police.register({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent'), expiresAt: tooLate }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(400);
  });
});

/** The same database behind a hub whose keyring is `secret` (a rotation: new version first, or an old one retired). */
function rotated(hub: TestHub, secret: string) {
  const config = buildHubConfig({ ...hub.config, hubKeys: parseHubKeyring(secret) });
  const app = createApp(() => ({ config, db: hub.database.db, clock: hub.clock }));
  const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => app.request(String(input), init)) as typeof fetch;
  return { config, as: async (partner: string, role: string, sub?: string) => new HubClient('http://hub.test', config.hubId, await hub.identity(partner, role, sub), fetchImpl, hub.clock) };
}

const secretOf = (hub: TestHub) => hub.config.hubKeys.all.map((k) => `v${k.version}:${Buffer.from(k.key).toString('base64url')}`).join(',');

describe(`hub key rotation (${dbKind})`, () => {
  let hub: TestHub;
  let v1: string;
  let v2: string;
  beforeAll(async () => {
    hub = await startTestHub();
    v1 = secretOf(hub);
    v2 = generateHubKeySecret(2);
  });
  afterAll(() => hub?.close());

  it('after rotation, registrations under the old key version are still found and new ones use the new version', async () => {
    const p = person();
    const police = await hub.as('politie', 'partner-system');
    await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });

    const after = rotated(hub, `${v2},${v1}`);
    const vz = await after.as('verslavingszorg', 'partner-system');
    await vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const pr = await after.as('gemeente', 'procesregisseur');
    const res = await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    expect(res.knownBy.map((k) => k.partner).sort()).toEqual(['politie', 'verslavingszorg']);
    const versions = await rowsOf<{ partner: string; key_version: number }>(hub.database.db, sql`select partner, key_version from registrations where partner in ('politie', 'verslavingszorg') order by partner`);
    expect(versions.map((v) => [v.partner, Number(v.key_version)])).toEqual([['politie', 1], ['verslavingszorg', 2]]);
  });

  it('the politie registering the same person again after a rotation renews its one registration (re-keyed), never adds a second', async () => {
    const p = person();
    const first = await (await hub.as('politie', 'partner-system')).register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    hub.clock.advance(DAY);
    const again = await (await rotated(hub, `${v2},${v1}`).as('politie', 'partner-system')).register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent Zuid') });
    expect(again).toMatchObject({ id: first.id, created: false, since: first.since });
    const active = await rowsOf<{ id: string; key_version: number }>(hub.database.db, sql`select id, key_version from registrations where partner = 'politie' and category = 'politie-betrokkenheid' and ended_at is null and id = ${first.id}`);
    expect(active.map((r) => Number(r.key_version))).toEqual([2]);
    const stored = rotated(hub, `${v2},${v1}`);
    const [{ n }] = (await rowsOf<{ n: number }>(
      hub.database.db,
      sql`select count(*)::int as n from registrations where partner = 'politie' and ended_at is null and subject in (select jsonb_array_elements_text(${JSON.stringify(storedSubject(stored.config.hubKeys, p.subject).all)}::jsonb))`,
    )) as [{ n: number }];
    expect(n).toBe(1);
  });

  it("the house's FG searching the log for a person finds the entries written under every key version", async () => {
    const p = person();
    await (await hub.as('politie', 'partner-system')).register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });
    await (await hub.as('gemeente', 'procesregisseur', 'pr-before')).lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    const after = rotated(hub, `${v2},${v1}`);
    await (await after.as('gemeente', 'procesregisseur', 'pr-after')).lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    const fg = await after.as('zorg-en-veiligheidshuis', 'zvh-privacy-officer', 'fg-zvh');
    const found = await fg.auditEntries({ subject: p.subject, limit: 1000 });
    const lookups = found.entries.filter((e) => e.action === 'lookup').map((e) => (e.actor as { sub: string }).sub);
    expect(lookups).toEqual(['pr-before', 'pr-after']);
    expect(found.entries.map((e) => e.action)).toContain('registration.create');
  });

  it('a disclosure request sealed under a retired key version does not break the listing: the others are served, it comes without its JWS', async () => {
    const JUSTIFICATION = 'Casus op maat (AVE 3): om het plan van aanpak af te stemmen moeten we weten wie de behandelaar is.';
    const ask = async (h: { as: TestHub['as'] }, subject: string) =>
      (await h.as('gemeente', 'procesregisseur')).requestDisclosure({ subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'ZVH-7', justification: JUSTIFICATION });
    const old = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: old.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const underV1 = (await ask(hub, old.subject)).request;

    const retired = rotated(hub, v2); // v1 dropped from the ring
    const fresh = person();
    await (await retired.as('verslavingszorg', 'partner-system')).register({ subject: fresh.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const underV2 = (await ask(retired, fresh.subject)).request;

    const broker = await retired.as('zorg-en-veiligheidshuis', 'informatiemakelaar');
    const list = await broker.listDisclosures();
    const byId = new Map(list.requests.map((r) => [r.id, r]));
    expect(byId.get(underV1.id)).toMatchObject({ id: underV1.id, jws: null, justificationHash: underV1.justificationHash });
    expect(byId.get(underV2.id)?.jws).toBe(underV2.jws);
    expect((await broker.getDisclosure(underV1.id)).request.jws).toBeNull();
    // With v1 back in the ring (still rotating), it opens again.
    expect((await (await rotated(hub, `${v2},${v1}`).as('zorg-en-veiligheidshuis', 'informatiemakelaar')).getDisclosure(underV1.id)).request.jws).toBe(underV1.jws);
  });
});
