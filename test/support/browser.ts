// Headless Chromium for the console's end-to-end tests (Debian `chromium`, driven by playwright-core),
// with WebAuthn through Chromium's virtual authenticator (DevTools protocol), so passkeys are real
// ceremonies with real signatures, and user verification is on.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';

export const CHROMIUM = process.env.KENBAAR_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A person at their own device: a browser context with one platform authenticator (passkeys, UV). */
export type Device = { context: BrowserContext; page: Page; cdp: CDPSession; authenticatorId: string };

export async function newDevice(browser: Browser): Promise<Device> {
  const context = await browser.newContext({ locale: 'nl-NL', timezoneId: 'Europe/Amsterdam' });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { context, page, cdp, authenticatorId };
}

/** Every request the page makes, with its body, to assert what never leaves the browser. */
export function recordRequests(page: Page): { url: string; method: string; body: string }[] {
  const seen: { url: string; method: string; body: string }[] = [];
  page.on('request', (r) => seen.push({ url: r.url(), method: r.method(), body: r.postData() ?? '' }));
  return seen;
}
