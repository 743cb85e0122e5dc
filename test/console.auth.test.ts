// The console's front door, as people use it in a browser: an invitation becomes a passkey, the
// passkey signs in, and everything that can go wrong says so in Dutch, changes nothing and is logged.
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationPath } from '../src/console/paths';
import { rowsOf } from '../src/db/types';
import { revokeStaff } from '../src/staff/staff';
import { haveChromium, launchBrowser, newDevice } from './support/browser';
import { consoleBase, enrolled, invite, signIn } from './support/console';
import { startTestHub, type TestHub } from './support/hub';

describe.runIf(haveChromium)('console: enrolment and sign-in with passkeys', () => {
  let hub: TestHub;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    hub = await startTestHub({ http: true, console: true });
    base = consoleBase(hub);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  const entries = (action: string) =>
    rowsOf<{ outcome: string; actor_sub: string | null; detail: Record<string, unknown> }>(hub.database.db, sql`select outcome, actor_sub, detail from audit_entries where action = ${action} order by id`);

  it('an informatiemakelaar enrols from an invitation and signs in again with the passkey; both are logged', async () => {
    const inv = await invite(hub, 'zorg-en-veiligheidshuis', 'informatiemakelaar', 'Fatima Bakker');
    const device = await newDevice(browser);
    const { page } = device;
    await page.goto(`${base}${invitationPath(inv.secret)}`);
    expect(await page.locator('h1').textContent()).toBe('Welkom, Fatima Bakker');
    expect(await page.locator('html').getAttribute('lang')).toBe('nl');
    await page.click('#registreren');
    await page.waitForURL(`${base}/console/verzoeken`);
    const cookie = (await device.context.cookies()).find((c) => c.name === 'kenbaar_sessie')!;
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/console' });

    await page.click('text=Uitloggen');
    await page.waitForURL(/\/console\/inloggen\?sessie=uit/);
    await signIn(device);
    expect(new URL(page.url()).pathname).toBe('/console/verzoeken');

    const me = `staff:${inv.staff.id}`;
    expect((await entries('staff.enrolled')).filter((e) => e.actor_sub === me).map((e) => e.outcome)).toEqual(['ok']);
    expect((await entries('staff.sign-in')).filter((e) => e.actor_sub === me).map((e) => e.outcome)).toEqual(['allowed', 'allowed']);

    // The invitation works once: opened again, it says so in Dutch and the attempt is logged.
    const again = await page.goto(`${base}${invitationPath(inv.secret)}`);
    expect(again!.status()).toBe(410);
    expect(await page.locator('[role=alert]').textContent()).toMatch(/al gebruikt/);
    await device.context.close();
  });

  it('expired and forged invitations are refused in Dutch and logged', async () => {
    const inv = await invite(hub, 'gemeente', 'privacy-officer', 'Piet Privacy');
    const device = await newDevice(browser);
    const forged = await device.page.goto(`${base}${invitationPath('A'.repeat(43))}`);
    expect(forged!.status()).toBe(404);
    expect(await device.page.locator('[role=alert]').textContent()).toMatch(/bestaat niet/);
    hub.clock.advance(73 * 3_600_000);
    const expired = await device.page.goto(`${base}${invitationPath(inv.secret)}`);
    expect(expired!.status()).toBe(410);
    expect(await device.page.locator('[role=alert]').textContent()).toMatch(/verlopen/);
    const refused = (await entries('staff.enrolled')).filter((e) => e.outcome === 'denied').map((e) => e.detail.reason);
    expect(refused).toEqual(expect.arrayContaining(['onbekend', 'verlopen']));
    await device.context.close();
  });

  it("a revoked person's session ends at once, and their passkey no longer signs in (a logged failure)", async () => {
    const person = await enrolled(hub, browser, 'zorg-en-veiligheidshuis', 'informatiemakelaar', 'Jan Ingetrokken');
    await revokeStaff(hub.database.db, { at: hub.clock(), requestId: 'test-revoke', actor: null, covenantVersion: hub.config.covenant.version }, person.staffId);
    const open = await rowsOf(hub.database.db, sql`select 1 from staff_sessions where staff_id = ${person.staffId} and ended_at is null`);
    expect(open).toHaveLength(0);
    await person.page.goto(`${base}/console/verzoeken`);
    expect(new URL(person.page.url()).pathname).toBe('/console/inloggen');
    await person.page.click('#inloggen');
    await person.page.waitForSelector('[role=alert]');
    expect(await person.page.locator('[role=alert]').textContent()).toMatch(/Inloggen is niet gelukt/);
    const failed = (await entries('staff.sign-in')).filter((e) => e.outcome === 'denied');
    expect(failed.map((e) => e.detail)).toContainEqual({ reason: 'revoked', staff: person.staffId });
    expect((await entries('staff.revoked')).map((e) => e.detail.staff)).toContain(person.staffId);
    await person.context.close();
  });

  it('answers with strict security headers, and refuses a cross-site form post', async () => {
    const res = await fetch(`${base}/console/inloggen`);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const post = await fetch(`${base}/console/uitloggen`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' }, body: 'x=1' });
    expect(post.status).toBe(403);
  });
});
