// The feeds (match notices, audit entries) page in commit order, so nothing that commits late is
// ever behind a partner's cursor; and every answer of a read route has its audit entry.
import { sql } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { appendAudit, integrate, integrateAll } from '../src/audit/store';
import { buildHubConfig } from '../src/config';
import { loadCovenant, type Actor } from '../src/covenant/index';
import { rowsOf } from '../src/db/types';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';
import { checkItems, register } from '../src/registrations/service';
import { contact, person } from './support/people';
import { auditOf, send, tokenFor } from './support/http';
import { dbKind, startTestHub, type TestHub } from './support/hub';

type Notice = { id: number; seq: number; knownBy: { partner: string } };
type Entry = { id: number; seq: number; action: string; actor: { sub: string | null } };

describe(`feeds page in commit order (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  /** One page of a feed, as partner/role, with the audit entries that answer wrote. */
  async function poll(partner: string, role: string, path: string, after: number) {
    const res = await send(hub, { path: `${path}?after=${after}&limit=1000`, token: await tokenFor(hub, partner, role, `${partner}-feed`) });
    expect(res.status).toBe(200);
    return { ...res, next: res.body.next as number, entries: await auditOf(hub, res.requestId) };
  }
  const wijkteamFeed = (after: number) => poll('wijkteam-jeugd', 'partner-system', '/v1/matches', after);
  const fgFeed = (after: number) => poll('zorg-en-veiligheidshuis', 'zvh-privacy-officer', '/v1/audit/entries', after);
  /** Read a feed to its end (a short page); the cursor after everything there is now. */
  async function drain(feed: (after: number) => Promise<{ next: number; body: Record<string, unknown> }>) {
    let after = 0;
    for (;;) {
      const { next, body } = await feed(after);
      after = next;
      if ((Object.values(body).find(Array.isArray) as unknown[]).length < 1000) return after;
    }
  }
  const serial = (table: string) => sql.raw(`pg_get_serial_sequence('${table}', 'id')`);
  /** Take an id now, as a transaction's INSERT does long before its COMMIT. */
  async function takeId(table: string): Promise<number> {
    const [row] = await rowsOf<{ id: number | string }>(hub.database.db, sql`select nextval(${serial(table)}) as id`);
    return Number(row!.id);
  }
  /** Let the next rows get ids from `id` on, and afterwards go on after the highest. */
  const rewind = (table: string, id: number) => rowsOf(hub.database.db, sql`select setval(${serial(table)}, ${id}, false)`);
  const forward = (table: string) => rowsOf(hub.database.db, sql`select setval(${serial(table)}, (select max(id) from ${sql.raw(table)}))`);

  const wijkteam = () => hub.as('wijkteam-jeugd', 'partner-system');
  const vt = () => hub.as('veilig-thuis', 'partner-system');
  const registerChild = async (who: Awaited<ReturnType<typeof wijkteam>>, subject: string, category: string) =>
    who.register({ subject, category, contact: contact(category) });

  it('a match notice whose id was taken before the partner polled, but that committed after, is delivered on the next poll', async () => {
    let cursor = await drain(wijkteamFeed);
    const early = person();
    const late = person();
    // A long batch for `late` takes its notices' ids (two: one for each side) ...
    const lateIds = [await takeId('matches'), await takeId('matches')];
    // ... while a registration for `early` commits and is delivered.
    await registerChild(await wijkteam(), early.subject, 'jeugdhulp');
    await registerChild(await vt(), early.subject, 'huiselijk-geweld-melding');
    const first = await wijkteamFeed(cursor);
    expect((first.body.matches as Notice[]).map((m) => m.knownBy.partner)).toEqual(['veilig-thuis']);
    cursor = first.next;
    // Now the long batch commits, its notices carrying the ids it took before.
    await registerChild(await wijkteam(), late.subject, 'jeugdhulp');
    await rewind('matches', lateIds[0]!);
    await registerChild(await vt(), late.subject, 'huiselijk-geweld-melding');
    await forward('matches');

    const second = await wijkteamFeed(cursor);
    const delivered = second.body.matches as Notice[];
    expect(delivered).toHaveLength(1);
    expect(lateIds).toContain(delivered[0]!.id);
    expect(delivered[0]!.id).toBeLessThan((first.body.matches as Notice[])[0]!.id); // below the passed cursor's notice
    expect(delivered[0]!.seq).toBeGreaterThanOrEqual(cursor);
    expect((await wijkteamFeed(second.next)).body.matches).toEqual([]);
  });

  it("an audit entry whose id was taken before the FG polled, but that committed after, is in the FG's next page", async () => {
    let cursor = await drain(fgFeed);
    const lateId = await takeId('audit_entries');
    const p = person();
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-early');
    await pr.lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    const first = await fgFeed(cursor);
    expect((first.body.entries as Entry[]).map((e) => [e.action, e.actor.sub])).toEqual([['lookup', 'pr-early'], ['audit.read', 'zorg-en-veiligheidshuis-feed']]);
    cursor = first.next;

    await rewind('audit_entries', lateId);
    await (await hub.as('gemeente', 'procesregisseur', 'pr-late')).lookup(p.subject, 'procesregie-casus-op-maat', 'ZVH-1');
    await forward('audit_entries');

    const second = await fgFeed(cursor);
    const entries = second.body.entries as Entry[];
    expect(entries.map((e) => [e.action, e.actor.sub])).toEqual([['lookup', 'pr-late'], ['audit.read', 'zorg-en-veiligheidshuis-feed']]);
    expect(entries[0]!.id).toBe(lateId);
    expect(entries[0]!.seq).toBeGreaterThanOrEqual(cursor);
  });

  // A real second connection holding its transaction open across the poll: PostgreSQL only (PGlite
  // has one connection, so the in-process tests above take the id early by hand instead).
  it.runIf(dbKind === 'postgres')('a registration batch held open across a poll: its notice and its audit entries arrive on the next polls', async () => {
    let matchCursor = await drain(wijkteamFeed);
    let auditCursor = await drain(fgFeed);
    const late = person();
    const early = person();
    await registerChild(await vt(), late.subject, 'huiselijk-geweld-melding');

    let release!: () => void;
    let opened!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inside = new Promise<void>((r) => (opened = r));
    const actor: Actor = { partner: 'wijkteam-jeugd', role: 'partner-system', sub: 'slow-batch' };
    const now = hub.clock();
    const covenant = hub.config.covenant;
    const slow = hub.database.db.transaction(async (tx) => {
      const { ok } = checkItems(covenant, actor, [{ subject: late.subject, category: 'jeugdhulp', contact: contact('Buurtzorg Jong') }], now);
      const ctx = { at: now, requestId: 'slow-batch', actor, covenantVersion: covenant.version };
      await register(tx, { covenant, hubKeys: hub.config.hubKeys, now }, actor, ok, async (...e) => {
        await appendAudit(tx, ctx, e);
      });
      opened();
      await gate;
    });
    await inside;
    try {
      await registerChild(await wijkteam(), early.subject, 'jeugdhulp');
      await registerChild(await vt(), early.subject, 'huiselijk-geweld-melding');
      const first = await wijkteamFeed(matchCursor);
      expect((first.body.matches as Notice[])).toHaveLength(1);
      matchCursor = first.next;
      const firstLog = await fgFeed(auditCursor);
      expect((firstLog.body.entries as Entry[]).some((e) => e.actor.sub === 'slow-batch')).toBe(false);
      auditCursor = firstLog.next;
    } finally {
      release();
      await slow;
    }
    const second = await wijkteamFeed(matchCursor);
    const notices = second.body.matches as Notice[];
    expect(notices.map((m) => m.knownBy.partner)).toEqual(['veilig-thuis']);
    const secondLog = await fgFeed(auditCursor);
    expect((secondLog.body.entries as Entry[]).filter((e) => e.actor.sub === 'slow-batch').map((e) => e.action)).toEqual(['registration.create', 'match.created', 'match.created']);
  });

  it.runIf(dbKind === 'postgres')('a notice deleted (by the purge) while the sequencer gives positions leaves a gap, never a position given twice', async () => {
    await drain(wijkteamFeed); // everything so far has its position
    const child = person();
    await registerChild(await wijkteam(), child.subject, 'jeugdhulp');
    await registerChild(await vt(), child.subject, 'huiselijk-geweld-melding');
    const pending = (await rowsOf<{ id: number | string }>(hub.database.db, sql`select id from matches where seq is null order by id`)).map((r) => Number(r.id));
    expect(pending).toHaveLength(2);

    let release!: () => void;
    let deleted!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = new Promise<void>((r) => (deleted = r));
    const purging = hub.database.db.transaction(async (tx) => {
      await tx.execute(sql`delete from matches where id = ${pending[0]!}`);
      deleted();
      await gate;
    });
    await done;
    const sequencing = integrate(hub.database.db, hub.clock()); // waits for the deleted row's lock
    await new Promise((r) => setTimeout(r, 200));
    release();
    await purging;
    expect((await sequencing).notices).toBe(1);

    const next = person();
    await registerChild(await wijkteam(), next.subject, 'jeugdhulp');
    await registerChild(await vt(), next.subject, 'huiselijk-geweld-melding');
    await integrateAll(hub.database.db, hub.clock());
    const seqs = (await rowsOf<{ seq: number | string }>(hub.database.db, sql`select seq from matches order by seq`)).map((r) => Number(r.seq));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe(`every answer of a read route has its audit entry (${dbKind})`, () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(() => hub?.close());

  async function get(h: TestHub, partner: string, role: string, path: string) {
    const res = await send(h, { path, token: await tokenFor(h, partner, role) });
    return { ...res, entries: await auditOf(h, res.requestId) };
  }
  const actions = (entries: { action: string }[]) => entries.map((e) => e.action);

  it('an empty match feed: one entry, saying nothing was delivered', async () => {
    const res = await get(hub, 'reclassering', 'partner-system', '/v1/matches');
    expect(res.body).toEqual({ matches: [], next: 0 });
    expect(actions(res.entries)).toEqual(['match.feed']);
    expect(res.entries[0]).toMatchObject({ outcome: 'allowed', detail: { after: 0, next: 0, delivered: [], withheld: [] } });
  });

  it('a refused match feed: one entry, denied', async () => {
    const res = await get(hub, 'ggz', 'privacy-officer', '/v1/matches');
    expect(res.status).toBe(403);
    expect(res.entries.map((e) => [e.action, e.outcome])).toEqual([['match.feed', 'denied']]);
  });

  it('a feed with notices: one entry for the answer, and one per delivered notice about its person', async () => {
    const child = person();
    await (await hub.as('wijkteam-jeugd', 'partner-system')).register({ subject: child.subject, category: 'jeugdhulp', contact: contact('Buurtzorg Jong') });
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: child.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const res = await get(hub, 'wijkteam-jeugd', 'partner-system', '/v1/matches');
    const delivered = (res.body.matches as Notice[]).map((m) => m.id);
    expect(delivered).toHaveLength(1);
    expect(actions(res.entries)).toEqual(['match.feed', 'match.delivered']);
    expect(res.entries[0]!.detail).toMatchObject({ delivered, withheld: [] });
    expect(res.entries[1]).toMatchObject({ subject: expect.any(String), detail: { matchId: delivered[0] } });
  });

  it('a notice the covenant no longer allows at delivery is withheld, and the answer names it', async () => {
    const child = person();
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: child.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const next = (await get(hub, 'wijkteam-jeugd', 'partner-system', '/v1/matches?limit=1000')).body.next as number;
    await (await hub.as('wijkteam-jeugd', 'partner-system')).register({ subject: child.subject, category: 'jeugdhulp', contact: contact('Buurtzorg Jong') });

    // The covenant changes: the wijkteam is no longer told about Veilig Thuis.
    const files = readCovenantDir(DEFAULT_COVENANT_DIR);
    const doc = parse(files['matches.yaml']!);
    doc.matches.unshift({ id: 'MD-VT-WIJKTEAM', effect: 'deny', article: '12', description: 'Test: the wijkteam is no longer told about Veilig Thuis.', recipient: { partners: ['wijkteam-jeugd'] }, other: { partners: ['veilig-thuis'] } });
    const config = buildHubConfig({ ...hub.config, covenant: loadCovenant({ ...files, 'matches.yaml': stringify(doc) }) });
    const changed: TestHub = { ...hub, config, app: createApp(() => ({ config, db: hub.database.db, clock: hub.clock })) };

    const res = await get(changed, 'wijkteam-jeugd', 'partner-system', `/v1/matches?after=${next}`);
    expect(res.body.matches).toEqual([]);
    expect(res.body.next).toBeGreaterThan(next); // the cursor moves past it
    expect(actions(res.entries)).toEqual(['match.feed']);
    expect(res.entries[0]!.detail).toMatchObject({ delivered: [], withheld: [{ knownBy: 'veilig-thuis', rule: 'MD-VT-WIJKTEAM' }] });
  });

  it('a lookup, a read of the log and reads of disclosure requests: one entry each', async () => {
    const p = person();
    const lookup = await send(hub, { path: '/v1/lookups', token: await tokenFor(hub, 'gemeente', 'procesregisseur'), json: { subject: p.subject, purpose: 'procesregie-casus-op-maat', caseRef: 'ZVH-1' } });
    expect(actions(await auditOf(hub, lookup.requestId))).toEqual(['lookup']);
    expect(actions((await get(hub, 'ggz', 'privacy-officer', '/v1/audit/entries')).entries)).toEqual(['audit.read']);
    expect(actions((await get(hub, 'gemeente', 'procesregisseur', '/v1/disclosures')).entries)).toEqual(['disclosure.read']);
    expect(actions((await get(hub, 'gemeente', 'procesregisseur', `/v1/disclosures/${crypto.randomUUID()}`)).entries)).toEqual(['disclosure.read']);
    expect(actions((await get(hub, 'zorg-en-veiligheidshuis', 'informatiemakelaar', '/v1/disclosures/overdue')).entries)).toEqual(['disclosure.read']);
  });
});
