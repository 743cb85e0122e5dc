// Disclosure scenes several test files play: the police breaking the glass at Veilig Thuis.
import type { HubClient } from '../../src/client/client';
import { contact, person } from './people';
import type { TestHub } from './hub';

/** Veilig Thuis registers a family; `agent` (police) asks it with urgency emergency: a grant at once. */
export async function breakGlassAtVeiligThuis(hub: TestHub, agent: HubClient, ask: { caseRef: string; justification: string }) {
  const family = person();
  await (await hub.as('veilig-thuis', 'partner-system')).register({ subject: family.subject, category: 'huiselijk-geweld-melding', contact: contact('Veilig Thuis') });
  const { request, grant } = await agent.requestDisclosure({
    subject: family.subject,
    holder: 'veilig-thuis',
    purpose: 'acuut-veiligheidsrisico',
    legalBasis: 'avg-6-1-d',
    categories: ['huiselijk-geweld-meldingen'],
    urgency: 'emergency',
    ...ask,
  });
  return { family, request, grant };
}
