// The informatiemakelaar at work in a browser: the queue shows only what this person may decide,
// the request page shows the signed justification, and decisions are signed with the passkey and
// count exactly like a partner system's JWS decisions (four eyes, grants, break-glass review).
import { sql } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/audit/entry';
import { requestPath } from '../src/console/paths';
import { rowsOf } from '../src/db/types';
import { reverifyPasskeyDecision } from '../src/staff/passkeys';
import { getCredential } from '../src/staff/repo';
import type { PasskeyProof } from '../schema/index';
import { haveChromium, launchBrowser, type Device } from './support/browser';
import { consoleBase, enrolled, signIn } from './support/console';
import { startTestHub, type TestHub } from './support/hub';
import { contact, person } from './support/people';

const JUSTIFICATION =
  'Casus op maat (AVE 3): zorgen over de veiligheid van twee kinderen; om het plan van aanpak af te stemmen moeten we weten of moeder in behandeling is en wie haar behandelaar is.';

describe.runIf(haveChromium)('console: the informatiemakelaar decides with a passkey', () => {
  let hub: TestHub;
  let browser: Browser;
  let bakker: Device & { staffId: string };
  let yilmaz: Device & { staffId: string };

  beforeAll(async () => {
    hub = await startTestHub({ http: true, console: true });
    browser = await launchBrowser();
    bakker = await enrolled(hub, browser, 'zorg-en-veiligheidshuis', 'informatiemakelaar', 'Fatima Bakker');
    // Four eyes are two organisations: the house's informatiemakelaar and the holder's.
    yilmaz = await enrolled(hub, browser, 'verslavingszorg', 'informatiemakelaar', 'Deniz Yilmaz');
  });
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
  });

  async function askVerslavingszorg(caseRef: string) {
    const tamara = person();
    await (await hub.as('verslavingszorg', 'partner-system')).register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: contact('Intake') });
    const pr = await hub.as('gemeente', 'procesregisseur', 'pr-de-vries');
    const { request } = await pr.requestDisclosure({ subject: tamara.subject, holder: 'verslavingszorg', purpose: 'procesregie-casus-op-maat', legalBasis: 'uavg-30-33', categories: ['behandelrelatie', 'contactgegevens-behandelaar'], caseRef, justification: JUSTIFICATION });
    return request;
  }

  it('two informatiemakelaars of two organisations approve with four eyes; the grant is issued for what both allowed, and each signature re-verifies offline', async () => {
    const request = await askVerslavingszorg('ZVH-2026-0301');
    const { page } = bakker;
    await page.goto(`${consoleBase(hub)}/console/verzoeken`);
    await page.click(`a[href="${requestPath(request.id)}"]`);
    expect(await page.locator('.justification').textContent()).toBe(JUSTIFICATION);
    expect(await page.locator('text=handtekening geverifieerd').count()).toBe(1);
    await page.click('button[value=approve]');
    await page.waitForSelector('text=U hebt al besloten');

    const second = yilmaz.page;
    await second.goto(`${consoleBase(hub)}${requestPath(request.id)}`);
    await second.uncheck('input[value=contactgegevens-behandelaar]');
    await second.click('button[value=approve]');
    await second.waitForSelector('text=toestemming geldig tot');

    const decisions = await rowsOf<{ passkey: PasskeyProof; jws: string | null; broker_sub: string; categories: string[] | null }>(hub.database.db, sql`select passkey, jws, broker_sub, categories from disclosure_decisions where request_id = ${request.id} order by created_at`);
    expect(decisions.map((d) => d.broker_sub).sort()).toEqual([`staff:${bakker.staffId}`, `staff:${yilmaz.staffId}`].sort());
    const [grant] = await rowsOf<{ categories: string[] }>(hub.database.db, sql`select categories from disclosure_grants where request_id = ${request.id}`);
    expect(grant!.categories).toEqual(['behandelrelatie']);
    for (const d of decisions) {
      expect(d.jws).toBeNull();
      const credential = await getCredential(hub.database.db, d.passkey.credentialId);
      // Offline: the stored proof and the credential's public key are all a verifier needs.
      expect(await reverifyPasskeyDecision(d.passkey, credential!.publicKey)).toMatchObject({ request: request.id, outcome: 'approve' });
    }
  });

  it('a passkey assertion over a different decision than the one submitted is refused, nothing is stored, and the attempt is logged', async () => {
    const request = await askVerslavingszorg('ZVH-2026-0302');
    const { page } = bakker;
    await page.route(`**${requestPath(request.id)}/besluit`, async (route) => {
      const body = JSON.parse(route.request().postData()!) as { decision: string };
      // The signed decision approved; submit it (in canonical form) as a rejection instead.
      body.decision = canonicalJson({ ...JSON.parse(body.decision), outcome: 'reject', reason: 'anders' });
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.goto(`${consoleBase(hub)}${requestPath(request.id)}`);
    await page.click('button[value=approve]');
    await page.waitForSelector('text=De handtekening hoort niet bij dit besluit');
    await page.unroute(`**${requestPath(request.id)}/besluit`);
    const stored = await rowsOf(hub.database.db, sql`select 1 from disclosure_decisions where request_id = ${request.id}`);
    expect(stored).toHaveLength(0);
    const logged = await rowsOf<{ detail: { reason: string } }>(hub.database.db, sql`select detail from audit_entries where action = 'disclosure.decided' and outcome = 'rejected' and detail->>'request' = ${request.id}`);
    expect(logged.map((e) => e.detail.reason)).toContain('wrong-challenge');
  });

  it('a break-glass shows its review deadline in the queue, overdue stands out, and the review is signed with the passkey', async () => {
    const family = person();
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: family.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const agent = await hub.as('politie', 'professional', 'agent-8');
    const { request } = await agent.requestDisclosure({ subject: family.subject, holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', categories: ['huiselijk-geweld-meldingen'], caseRef: 'PL-2026-0303', justification: 'Melding 112: dreiging aan de deur, we willen weten of er eerdere meldingen zijn.', urgency: 'emergency' });
    const { page } = bakker;
    await page.goto(`${consoleBase(hub)}/console/verzoeken?urgency=emergency`);
    expect(await page.locator('tr', { hasText: 'PL-2026-0303' }).locator('.badge.warn').textContent()).toMatch(/toetsing binnen 24 uur/);
    hub.clock.advance(25 * 3_600_000);
    // A day later the session has long passed its idle timeout: sign in again.
    await page.reload();
    expect(await page.locator('.notice').textContent()).toMatch(/automatisch uitgelogd/);
    await signIn(bakker, '/console/verzoeken?urgency=emergency');
    const row = page.locator('tr.overdue', { hasText: 'PL-2026-0303' });
    expect(await row.locator('.badge.bad', { hasText: 'te laat' }).count()).toBe(1);
    await row.locator('a').click();
    await page.fill('#reason', 'Acuut gevaar was aannemelijk: terecht.');
    await page.click('button[value=approve]');
    await page.waitForSelector('text=terecht bevonden');
    const [r] = await rowsOf<{ review_status: string }>(hub.database.db, sql`select review_status from disclosure_requests where id = ${request.id}`);
    expect(r!.review_status).toBe('justified');
  });

  it("the review deadline counts down in the browser, from the hub's time, and turns overdue when it passes", async () => {
    const family = person();
    await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: family.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
    const agent = await hub.as('politie', 'professional', 'agent-9');
    await agent.requestDisclosure({ subject: family.subject, holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', categories: ['huiselijk-geweld-meldingen'], caseRef: 'PL-2026-0404', justification: 'Melding 112: dreiging aan de deur, we willen weten of er eerdere meldingen zijn.', urgency: 'emergency' });
    // A second tab of the same session, with the browser's clock under the test's control.
    const page = await bakker.page.context().newPage();
    try {
      await page.clock.install();
      await page.goto(`${consoleBase(hub)}/console/verzoeken?urgency=emergency`);
      const badge = page.locator('tr', { hasText: 'PL-2026-0404' }).locator('[data-deadline]');
      expect(await badge.textContent()).toMatch(/toetsing binnen 24 uur$/);
      await page.clock.fastForward('01:00');
      await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toMatch(/toetsing binnen 23 uur en 59 min\.$/);
      await page.clock.fastForward('24:00:00');
      await expect.poll(() => badge.textContent(), { timeout: 10_000 }).toMatch(/toetsing 1 min\. te laat$/);
      expect(await badge.getAttribute('class')).toMatch(/\bbad\b/);
    } finally {
      await page.close();
    }
  });

  it('a broker never sees a request the covenant does not let them decide: the queue leaves it out and its URL is a logged 404', async () => {
    const request = await askVerslavingszorg('ZVH-2026-0304');
    // An informatiemakelaar of the requesting organisation (art. 15: never one's own organisation's request).
    const own = await enrolled(hub, browser, 'gemeente', 'informatiemakelaar', 'Kees de Gemeente');
    await own.page.goto(`${consoleBase(hub)}/console/verzoeken`);
    expect(await own.page.locator(`a[href="${requestPath(request.id)}"]`).count()).toBe(0);
    const res = await own.page.goto(`${consoleBase(hub)}${requestPath(request.id)}`);
    expect(res!.status()).toBe(404);
    const logged = await rowsOf<{ rule: string }>(hub.database.db, sql`select rule from audit_entries where action = 'console.view' and outcome = 'denied' and detail->>'request' = ${request.id}`);
    expect(logged.map((e) => e.rule)).toContain('own-organisation');
    await own.context.close();
  });
});
