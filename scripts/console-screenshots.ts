// Screenshots of the console for the README (docs/console-*.png), taken from a running demo:
//   npm run demo            # prints three invitation links, a BSN and a covenant key file
//   tsx scripts/console-screenshots.ts <broker link> <fg link> <bsn> <key file>
// Chromium with a virtual authenticator enrols each person as a browser would.
import { readFileSync } from 'node:fs';
import { launchBrowser, newDevice } from '../test/support/browser';

const [brokerLink, fgLink, bsn, keyFile] = process.argv.slice(2);
if (!brokerLink || !fgLink || !bsn || !keyFile) {
  console.error('usage: tsx scripts/console-screenshots.ts <broker invitation> <fg invitation> <bsn> <covenant key file>');
  process.exit(2);
}
const out = (name: string) => new URL(`../docs/console-${name}.png`, import.meta.url).pathname;
const browser = await launchBrowser();
try {
  const broker = await newDevice(browser);
  await broker.page.setViewportSize({ width: 1100, height: 760 });
  await broker.page.goto(brokerLink);
  await broker.page.click('#registreren');
  await broker.page.waitForURL(/\/console\/verzoeken/);
  await broker.page.screenshot({ path: out('wachtrij') });
  await broker.page.locator('tbody a').first().click();
  await broker.page.screenshot({ path: out('verzoek'), fullPage: true });

  const fg = await newDevice(browser);
  await fg.page.setViewportSize({ width: 1100, height: 760 });
  await fg.page.goto(fgLink);
  await fg.page.click('#registreren');
  await fg.page.waitForURL(/\/console\/logboek/);
  await fg.page.goto(new URL('/console/persoon', fgLink).toString());
  await fg.page.fill('#bsn', bsn);
  await fg.page.setInputFiles('#sleutel', { name: 'covenant-key', mimeType: 'text/plain', buffer: readFileSync(keyFile) });
  await fg.page.click('#persoon button[type=submit]');
  await fg.page.waitForSelector('h1:has-text("Inzage")');
  await fg.page.screenshot({ path: out('inzage') });
  await fg.page.goto(new URL('/console/overzicht', fgLink).toString());
  await fg.page.screenshot({ path: out('overzicht') });
} finally {
  await browser.close();
}
