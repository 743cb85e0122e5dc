// The privacy officer (FG) at work in a browser: a subject access report for one person, searched by
// a pseudonym made in the browser (neither the BSN nor the covenant key is ever sent), with the
// covenant's deferrals withheld from the person and shown to the FG; the log searched by field;
// a misuse signal raised by a scripted sweep and reviewed; every page view is itself logged.
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../src/db/types';
import { toBase64Url } from '../src/encoding';
import { haveChromium, launchBrowser, recordRequests, type Device } from './support/browser';
import { consoleBase, enrolled } from './support/console';
import { startTestHub, type TestHub } from './support/hub';
import { COVENANT_KEY, contact, person } from './support/people';

const KEY_FILE = { name: 'covenant-key', mimeType: 'text/plain', buffer: Buffer.from(`${toBase64Url(COVENANT_KEY)}\n`) };

describe.runIf(haveChromium)('console: the privacy officer accounts for every access', () => {
  let hub: TestHub;
  let browser: Browser;
  let houseFg: Device & { staffId: string };
  let gemeenteFg: Device & { staffId: string };
  const tamara = person();

  beforeAll(async () => {
    hub = await startTestHub({ http: true, console: true });
    browser = await launchBrowser();
    // The story in the log: verslavingszorg registers Tamara; the gemeente's procesregisseur and the
    // police look her up (the police's lookup is deferred from her report by SA-UITSTEL-01).
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    await (await hub.as('gemeente', 'procesregisseur', 'pr-de-vries')).lookup(tamara.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0142');
    await (await hub.as('politie', 'professional', 'agent-12')).lookup(tamara.subject, 'acuut-veiligheidsrisico', 'PL-2026-5');
    houseFg = await enrolled(hub, browser, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer', 'Ingrid de Wit');
    gemeenteFg = await enrolled(hub, browser, 'gemeente', 'privacy-officer', 'Pieter Jansen');
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  async function searchPerson(device: Device, bsn: string) {
    const { page } = device;
    await page.goto(`${consoleBase(hub)}/console/persoon`);
    await page.fill('#bsn', bsn);
    await page.setInputFiles('#sleutel', KEY_FILE);
    await page.click('#persoon button[type=submit]');
  }

  it('search by BSN: pseudonymised in the browser, neither BSN nor key is ever sent; the report shows every access and withholds the deferred one, with its rule, to the FG only', async () => {
    const seen = recordRequests(houseFg.page);
    await searchPerson(houseFg, tamara.bsn);
    await houseFg.page.waitForSelector('h1:has-text("Inzage")');
    const report = houseFg.page.locator('table').first();
    expect(await report.textContent()).toContain('Procesregie');
    expect(await report.textContent()).not.toContain('agent-12');
    const withheld = houseFg.page.locator('section', { hasText: 'Uitgesteld' });
    expect(await withheld.textContent()).toContain('SA-UITSTEL-01');

    const key = toBase64Url(COVENANT_KEY);
    expect(seen.length).toBeGreaterThan(0);
    for (const r of seen) {
      expect(r.url + r.body).not.toContain(tamara.bsn);
      expect(r.url + r.body).not.toContain(key);
    }
    expect(seen.some((r) => r.body.includes(`subject=${tamara.subject}`))).toBe(true);

    // The CSV for the person leaves the deferred lookup out.
    const [download] = await Promise.all([houseFg.page.waitForEvent('download'), houseFg.page.click('text=Downloaden als CSV')]);
    const csv = (await (await download.createReadStream()).toArray()).join('');
    expect(csv.split('\r\n')[0]).toBe('tijdstip,organisatie,rol,handeling,doel,uitkomst,zaak');
    expect(csv).toContain('Gemeente');
    expect(csv).not.toMatch(/Politie/);

    // Reading the log is logged, by pseudonym (the hub's own), never the BSN.
    const reads = await rowsOf<{ actor_sub: string; subject: string | null }>(hub.database.db, sql`select actor_sub, subject from audit_entries where action = 'audit.read' and actor_sub = ${`staff:${houseFg.staffId}`} and detail->>'page' like 'inzage%'`);
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.every((r) => r.subject !== null && r.subject !== tamara.subject)).toBe(true);
  });

  it('a BSN that fails the elfproef is refused in the browser, in Dutch, and nothing is sent', async () => {
    const seen = recordRequests(houseFg.page);
    await houseFg.page.goto(`${consoleBase(hub)}/console/persoon`);
    const before = seen.length;
    await houseFg.page.fill('#bsn', '123456789');
    await houseFg.page.setInputFiles('#sleutel', KEY_FILE);
    await houseFg.page.click('#persoon button[type=submit]');
    expect(await houseFg.page.locator('[role=alert]').textContent()).toMatch(/elfproef/);
    expect(seen.slice(before)).toHaveLength(0);
  });

  it("a partner's own FG sees its own organisation's actions only (art. 16)", async () => {
    await searchPerson(gemeenteFg, tamara.bsn);
    await gemeenteFg.page.waitForSelector('h1:has-text("Inzage")');
    const text = await gemeenteFg.page.locator('main').textContent();
    expect(text).toContain('GEM');
    expect(text).not.toContain('SA-UITSTEL-01'); // the police lookup is not the gemeente's to see at all
    await gemeenteFg.page.goto(`${consoleBase(hub)}/console/logboek?organisation=politie`);
    expect(await gemeenteFg.page.locator('tbody tr').count()).toBe(0);
  });

  it('the log is searched by professional and action, newest first', async () => {
    await houseFg.page.goto(`${consoleBase(hub)}/console/logboek?professional=pr-de-vries&action=lookup`);
    const rows = houseFg.page.locator('tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('ZVH-2026-0142');
  });

  it('a scripted sweep raises a signal that names the rule and the entries; the FG marks it reviewed with a note (logged)', async () => {
    const agent = await hub.as('politie', 'professional', 'agent-sweep');
    for (let i = 0; i < 11; i++) {
      const p = person();
      await (await hub.as('reclassering', 'partner-system')).register({ subject: p.subject, category: 'reclasseringstoezicht', contact: contact('Reclassering') });
      hub.clock.advance(60_000);
      await agent.lookup(p.subject, 'persoonsgerichte-aanpak-top-x', `PGA-${i}`);
    }
    const { page } = houseFg;
    await page.goto(`${consoleBase(hub)}/console/signalen?dagen=1`);
    const signal = page.locator('section[data-signal=sweep]', { hasText: 'agent-sweep' });
    expect(await signal.textContent()).toContain('SIG-SWEEP');
    expect(await signal.textContent()).toMatch(/11 verschillende personen/);
    await signal.locator('textarea').fill('Besproken met teamleider politie: controle-actie na melding, verantwoord.');
    await signal.locator('button').click();
    await page.waitForSelector('section[data-signal=sweep] .badge.good');
    const logged = await rowsOf<{ outcome: string }>(hub.database.db, sql`select outcome from audit_entries where action = 'signal.reviewed'`);
    expect(logged.map((e) => e.outcome)).toEqual(['ok']);
  });

  it("the house's FG releases the police's withheld lookup early (SA-UITSTEL-01 allows it): it joins the report, and the release is logged with the rule", async () => {
    await searchPerson(houseFg, tamara.bsn);
    const { page } = houseFg;
    await page.waitForSelector('h1:has-text("Inzage")');
    const withheld = page.locator('section', { hasText: 'Uitgesteld' });
    await withheld.locator('tr', { hasText: 'SA-UITSTEL-01' }).locator('button', { hasText: 'Vrijgeven' }).click();
    await page.waitForSelector('text=De handeling is vrijgegeven');
    expect(await page.locator('table').first().textContent()).toContain('POL');
    expect(await page.locator('section', { hasText: 'Uitgesteld' }).count()).toBe(0);
    const logged = await rowsOf<{ outcome: string; rule: string }>(hub.database.db, sql`select outcome, rule from audit_entries where action = 'subject-access.released'`);
    expect(logged).toEqual([{ outcome: 'ok', rule: 'SA-UITSTEL-01' }]);
    expect(await rowsOf(hub.database.db, sql`select 1 from deferral_releases`)).toHaveLength(1);
  });

  it('a cross-site post to release an entry is refused and nothing is stored', async () => {
    const res = await fetch(`${consoleBase(hub)}/console/persoon/vrijgeven`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://elders.example' }, body: 'subject=x&entry=1' });
    expect(res.status).toBe(403);
    expect(await rowsOf(hub.database.db, sql`select 1 from deferral_releases`)).toHaveLength(1);
  });

  it('the overview shows charts drawn by Chart.js, served by the hub, with the numbers as a table; and a verifying log', async () => {
    const { page } = houseFg;
    const seen = recordRequests(page);
    await page.goto(`${consoleBase(hub)}/console/overzicht`);
    await page.waitForSelector('figure[data-drawn] canvas');
    expect(await page.locator('figure[data-chart] canvas[role=img]').count()).toBe(3);
    expect(await page.evaluate(() => (window as unknown as { Chart?: { version: string } }).Chart?.version)).toMatch(/^4\./);
    expect(seen.every((r) => r.url.startsWith(consoleBase(hub)))).toBe(true);
    // The table stays, folded under "Cijfers", for screen readers and print.
    expect(await page.locator('figure[data-chart] table').count()).toBe(3);
    await page.click('text=Hele logboek verifiëren');
    expect(await page.locator('.notice').textContent()).toMatch(/In orde/);
  });
});
