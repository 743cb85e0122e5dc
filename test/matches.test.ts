// Match notices (the verwijsindex "match"), retention and hub key rotation.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { integrateAll, readSequenced } from '../src/audit/store';
import { HubClient } from '../src/client/client';
import { buildHubConfig } from '../src/config';
import { rowsOf } from '../src/db/types';
import { generateHubKeySecret, parseHubKeyring } from '../src/pseudonym/hub-key';
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
    expect(page2.matches[0]!.id).toBeGreaterThan(page1.next);
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

  it('a registration may not outlive the covenant maximum for its category', async () => {
    const police = await hub.as('politie', 'partner-system');
    const max = hub.config.covenant.categories.get('politie-betrokkenheid')!.maxRetentionDays;
    const tooLate = new Date(hub.clock().getTime() + (max + 1) * DAY).toISOString();
    const err = await police.register({ subject: person().subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent'), expiresAt: tooLate }).catch((e: unknown) => e);
    expect((err as { status: number }).status).toBe(400);
  });
});

describe(`hub key rotation (${dbKind})`, () => {
  it('after rotation, registrations under the old key version are still found and new ones use the new version', async () => {
    const hub = await startTestHub();
    try {
      const p = person();
      const police = await hub.as('politie', 'partner-system');
      await police.register({ subject: p.subject, category: 'politie-betrokkenheid', contact: contact('Wijkagent') });

      const oldSecret = hub.config.hubKeys.all.map((k) => `v${k.version}:${Buffer.from(k.key).toString('base64url')}`).join(',');
      const v2 = generateHubKeySecret(2);
      const rotated = buildHubConfig({ ...hub.config, hubKeys: parseHubKeyring(`${v2},${oldSecret}`) });
      const app = createApp(() => ({ config: rotated, db: hub.database.db, clock: hub.clock }));
      const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => app.request(String(input), init)) as typeof fetch;
      const as = async (partner: string, role: string) => new HubClient('http://hub.test', rotated.hubId, await hub.identity(partner, role), fetchImpl, hub.clock);

      const vz = await as('verslavingszorg', 'partner-system');
      await vz.register({ subject: p.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
      const pr = await as('gemeente', 'procesregisseur');
      const res = await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
      expect(res.knownBy.map((k) => k.partner).sort()).toEqual(['politie', 'verslavingszorg']);
      const versions = await rowsOf<{ partner: string; key_version: number }>(hub.database.db, sql`select partner, key_version from registrations order by partner`);
      expect(versions.map((v) => [v.partner, Number(v.key_version)])).toEqual([['politie', 1], ['verslavingszorg', 2]]);
    } finally {
      await hub.close();
    }
  });
});
