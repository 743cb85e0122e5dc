// People at the console: invited in-process (as `kenbaar staff invite` does), enrolled in a browser
// with a virtual authenticator, signed in. Shared by the console's browser tests.
import type { Browser } from 'playwright-core';
import { invitationPath } from '../../src/console/paths';
import { inviteStaff } from '../../src/staff/staff';
import { newDevice, type Device } from './browser';
import type { TestHub } from './hub';

export const consoleBase = (hub: TestHub) => hub.url.replace('127.0.0.1', 'localhost');

export function invite(hub: TestHub, partner: string, role: string, name: string) {
  return inviteStaff(hub.database.db, { at: hub.clock(), requestId: 'test-invite', actor: null, covenantVersion: hub.config.covenant.version }, hub.config.covenant, { partner, role, name });
}

/** Invite a person and enrol them on a fresh device; they are signed in afterwards. */
export async function enrolled(hub: TestHub, browser: Browser, partner: string, role: string, name: string): Promise<Device & { staffId: string }> {
  const inv = await invite(hub, partner, role, name);
  const device = await newDevice(browser);
  await device.page.goto(`${consoleBase(hub)}${invitationPath(inv.secret)}`);
  await device.page.click('#registreren');
  await device.page.waitForURL((u) => !u.pathname.startsWith('/console/uitnodiging'));
  return { ...device, staffId: inv.staff.id };
}

/** Sign in with the device's passkey (from wherever the page is), then go to `then`. */
export async function signIn(device: Device, then?: string): Promise<void> {
  const base = new URL(device.page.url()).origin;
  if (new URL(device.page.url()).pathname !== '/console/inloggen') await device.page.goto(`${base}/console/inloggen`);
  await device.page.click('#inloggen');
  await device.page.waitForURL((u) => u.pathname !== '/console/inloggen');
  if (then) await device.page.goto(`${base}${then}`);
}
