// Accessibility: axe-core finds no serious or critical violation on any console page, for the
// broker's and the FG's pages alike (WCAG 2.1 AA rules).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationPath, requestPath } from '../src/console/paths';
import { haveChromium, launchBrowser, newDevice, type Device } from './support/browser';
import { consoleBase, enrolled, invite } from './support/console';
import { startTestHub, type TestHub } from './support/hub';
import { COVENANT_KEY, contact, person } from './support/people';
import { toBase64Url } from '../src/encoding';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the console's CSP (no inline script) still holds.
  await page.evaluate(AXE);
  const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then(r => r.violations)`)) as Violation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe.runIf(haveChromium)('console: accessibility (axe-core)', () => {
  let hub: TestHub;
  let browser: Browser;
  let broker: Device;
  let fg: Device;
  let requestId: string;

  beforeAll(async () => {
    hub = await startTestHub({ http: true, console: true });
    browser = await launchBrowser();
    const tamara = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    await pr.lookup(tamara.subject, 'procesregie-casus-op-maat', 'ZVH-2026-0142');
    const { request } = await pr.requestDisclosure({ subject: tamara.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie'], caseRef: 'ZVH-2026-0142', justification: 'Casus op maat (AVE 3): om het plan van aanpak af te stemmen moeten we weten wie de behandelaar is.' });
    requestId = request.id;
    broker = await enrolled(hub, browser, 'zorg-en-veiligheidshuis', 'informatiemakelaar', 'Fatima Bakker');
    fg = await enrolled(hub, browser, 'zorg-en-veiligheidshuis', 'zvh-privacy-officer', 'Ingrid de Wit');
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  it('the sign-in and invitation pages', async () => {
    const inv = await invite(hub, 'gemeente', 'privacy-officer', 'Piet Privacy');
    const device = await newDevice(browser);
    for (const path of ['/console/inloggen', invitationPath(inv.secret), invitationPath('A'.repeat(43))]) {
      await device.page.goto(`${consoleBase(hub)}${path}`);
      expect(await seriousViolations(device.page), path).toEqual([]);
    }
    await device.context.close();
  });

  it("the informatiemakelaar's queue and request page", async () => {
    for (const path of ['/console/verzoeken', requestPath(requestId)]) {
      await broker.page.goto(`${consoleBase(hub)}${path}`);
      expect(await seriousViolations(broker.page), path).toEqual([]);
    }
  });

  it("the FG's log, person search, report, signals and overview", async () => {
    for (const path of ['/console/logboek', '/console/persoon', '/console/signalen', '/console/overzicht']) {
      await fg.page.goto(`${consoleBase(hub)}${path}`);
      expect(await seriousViolations(fg.page), path).toEqual([]);
    }
    await fg.page.goto(`${consoleBase(hub)}/console/persoon`);
    await fg.page.fill('#bsn', '123456782');
    await fg.page.setInputFiles('#sleutel', { name: 'k', mimeType: 'text/plain', buffer: Buffer.from(toBase64Url(COVENANT_KEY)) });
    await fg.page.click('#persoon button[type=submit]');
    await fg.page.waitForSelector('h1:has-text("Inzage")');
    expect(await seriousViolations(fg.page), 'inzage').toEqual([]);
  });
});
