// The demo's last chapter: the console. The in-process hub keeps running with a fresh request for
// two informatiemakelaars to weigh (four eyes) and ready invitations for two demo brokers and the
// house's FG, so that a newcomer can click through the Den Ouden case in a browser.
import { writeFileSync } from 'node:fs';
import type { HubConfig } from '../config';
import type { HubClient } from '../client/client';
import { invitationPath } from '../console/paths';
import type { Db } from '../db/types';
import { toBase64Url } from '../encoding';
import { inviteStaff } from '../staff/staff';

export type ConsoleStage = {
  /** The running hub's URL (http://127.0.0.1:<port>); the console is opened at localhost. */
  url: string;
  db: Db;
  config: HubConfig;
  clock: () => Date;
  as: (partner: string, role: string, sub: string) => HubClient;
  tamara: { subject: string; bsn: string };
  covenantKey: Uint8Array;
  /** Where to put the covenant key file for the FG's search by BSN. */
  keyFile: string;
  say: (...lines: string[]) => void;
};

export const DEMO_STAFF = [
  { partner: 'zorg-en-veiligheidshuis', role: 'informatiemakelaar', name: 'Fatima Bakker (demo)' },
  { partner: 'zorg-en-veiligheidshuis', role: 'informatiemakelaar', name: 'Deniz Yilmaz (demo)' },
  { partner: 'zorg-en-veiligheidshuis', role: 'zvh-privacy-officer', name: 'Ingrid de Wit (demo FG)' },
] as const;

export async function consoleChapter(stage: ConsoleStage): Promise<{ links: string[] }> {
  const base = stage.url.replace('127.0.0.1', 'localhost');
  const pr = stage.as('gemeente', 'procesregisseur', 'pr-de-vries');
  await pr.requestDisclosure({
    subject: stage.tamara.subject,
    holder: 'verslavingszorg',
    purpose: 'procesregie-casus-op-maat',
    legalBasis: 'uavg-30-33',
    categories: ['behandelrelatie', 'contactgegevens-behandelaar'],
    caseRef: 'ZVH-2026-0042',
    justification:
      'Perspectiefgesprek gepland: om het veiligheidsplan met de grootouders, school en trainer sluitend te maken moeten we weten of moeder nog in behandeling is en wie haar behandelaar is. Minder volstaat niet.',
  });
  writeFileSync(stage.keyFile, `${toBase64Url(stage.covenantKey)}\n`, { mode: 0o600 });
  const links: string[] = [];
  for (const person of DEMO_STAFF) {
    const ctx = { at: stage.clock(), requestId: `demo-invite-${crypto.randomUUID()}`, actor: null, covenantVersion: stage.config.covenant.version };
    const inv = await inviteStaff(stage.db, ctx, stage.config.covenant, person);
    links.push(`${base}${invitationPath(inv.secret)}`);
    stage.say(`   ${person.name.padEnd(26)} ${person.role.padEnd(20)} ${links[links.length - 1]}`);
  }
  stage.say(
    '',
    `The console: ${base}/console  (open it at localhost: passkeys need a host name, not an IP address)`,
    'Open each invitation in a browser profile of its own and register a passkey. The two brokers find the',
    "procesregisseur's new request about Tamara in their queue and approve it, each signing with the passkey (four eyes).",
    `The FG searches by person: BSN ${stage.tamara.bsn} (Tamara), with the covenant key file ${stage.keyFile}`,
    '(the BSN is pseudonymised in the browser; neither it nor the key is sent), and sees the log, signals and overview.',
  );
  return { links };
}
