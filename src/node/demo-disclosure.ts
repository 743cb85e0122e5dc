// The Den Ouden demo, continued: full disclosure (art. 15, 15a, 15b). The procesregisseur asks
// verslavingszorg for Tamara's treatment contact, informatiemakelaars of the house and of
// verslavingszorg approve (four eyes: two organisations), and
// verslavingszorg answers end-to-end encrypted; later the police break the glass at Veilig Thuis in
// an acute situation, and the review that is due afterwards is first overdue, then done.
import type { Disclosure, HubClient } from '../client/client';
import { HubError } from '../client/client';
import type { Covenant } from '../covenant/types';
import { formatRequestTable } from './commands/disclose';
import { fetchHubJwks, requesterEncryptionKey, verifyGrantOffline } from './commands/handover';
import { describeRule } from './commands/lookup';
import { readPrivateKey } from './keys';

const HOUR = 3_600_000;
const PROCESREGIE = 'procesregie-casus-op-maat';
const CASE_REF = 'ZVH-2026-0042';

/** What the demo's chapters share: the hub, who may act, and how to narrate and check. */
export type Stage = {
  mode: 'in-process' | 'remote';
  url: string;
  hubId: string;
  covenant: Covenant;
  /** Partners' public JWKS (keys/): where a holder finds the requester's encryption key. */
  keysDir: string;
  /** Partners' private keys (.kenbaar/private): signing and encryption. */
  privateDir: string;
  /** The hub's clock, which the partners' clients share (in-process it can be moved). */
  clock: () => Date;
  /** In-process only: move the hub's and the partners' clock forward. */
  advance?: (ms: number) => void;
  as(partner: string, role: string, sub: string): HubClient;
  say(...lines: string[]): void;
  step(title: string): void;
  expect(cond: boolean, what: string): void;
};

export type DisclosureOutcome = {
  /** The procesregisseur's request to verslavingszorg. */
  request: Disclosure | null;
  /** The police's break-glass request to Veilig Thuis. */
  breakGlass: Disclosure | null;
  /** What the holders handed over, as the requesters decrypted it (the hub must never hold it). */
  plaintexts: string[];
};

const JUSTIFICATION_PR =
  'Casus op maat IJsselstraat 3 (AVE 3), procesregie door het Zorg- en Veiligheidshuis. ' +
  'Noodzaak: het veiligheidsplan voor Daan (12) en Esmee (6) rust mede op de behandeling van moeder; om het plan van aanpak ' +
  'af te stemmen moet de procesregisseur weten of zij in behandeling is en wie haar behandelaar is. ' +
  'Proportionaliteit: gevraagd worden alleen de behandelrelatie en de contactgegevens van de behandelaar, geen diagnose en geen behandelinhoud. ' +
  'Subsidiariteit: moeder is in het perspectiefgesprek gevraagd zelf het contact met haar behandelaar te leggen; dat is niet gelukt, ' +
  'en zonder die afstemming kan het veiligheidsplan niet sluiten.';

const JUSTIFICATION_BREAK_GLASS =
  'Melding 112 om 21:40: hevige ruzie met geweld aan de IJsselstraat 3, twee kinderen (12 en 6) in huis. ' +
  'Om ter plekke de veiligheid van de kinderen in te schatten moeten wij nu weten of Veilig Thuis eerdere meldingen over dit gezin heeft ' +
  'en welke veiligheidsafspraken er gelden. De reguliere route (verzoek met twee beoordelaars) kost dagen: dat is hier niet verantwoord.';

const answerVz = (id: string) =>
  `Verslavingszorg Noord, antwoord op verzoek ${id} (behandelrelatie, contactgegevens-behandelaar): ` +
  'mevrouw is sinds september 2025 in ambulante behandeling; de behandelrelatie loopt. ' +
  'Behandelaar: J. Smit, verslavingsarts, j.smit@verslavingszorg.example. Mevrouw weet van dit verzoek.';

const answerVt = (id: string) =>
  `Veilig Thuis Veenstreek-Noord, antwoord op verzoek ${id} (huiselijk-geweld-meldingen): ` +
  'één eerdere melding, doorgezet door de politie na een ruzie tussen de ouders; nog in monitoring. ' +
  'Veiligheidsafspraak: bij escalatie gaan Daan en Esmee naar de grootouders. Contact: team Veenstreek-Noord, vt-noord@veiligthuis.example.';

/** A refusal's status, or null when the call succeeded (the demo expects some calls to fail). */
async function statusOf(call: Promise<unknown>): Promise<number | null> {
  try {
    await call;
    return null;
  } catch (e) {
    if (e instanceof HubError) return e.status;
    throw e;
  }
}

/** The holder's side of a grant: verify it offline, encrypt to the requester, hand over. */
async function handOver(stage: Stage, holder: HubClient, id: string, answer: string): Promise<boolean> {
  const { say, expect } = stage;
  const { request, grant } = await holder.getDisclosure(id);
  if (!grant) {
    expect(false, `${request.holder} finds a grant for request ${id}`);
    return false;
  }
  // Only jose and the hub's published keys: the holder need not take the hub's word for it.
  const jwks = await fetchHubJwks(stage.url);
  const v = await verifyGrantOffline(grant.jwt, jwks, { hubId: stage.hubId, holder: holder.identity.key.partner, request: id, now: stage.clock() }).catch((e: unknown) => {
    expect(false, `the grant verifies offline against the hub's JWKS (${e instanceof Error ? e.message : String(e)})`);
    return null;
  });
  if (!v) return false;
  say(
    `${request.holder} fetches the hub's public keys (/.well-known/jwks.json) and verifies the grant offline with jose: verified`,
    `  (key ${v.kid}; for ${v.requester}, categories ${v.categories.join(', ')}, valid until ${v.expiresAt.toISOString()}${v.breakGlass ? ', break-glass' : ''}).`,
  );
  const key = requesterEncryptionKey(stage.keysDir, v.requester);
  const sent = await holder.handOver({ id: v.grant, jwt: grant.jwt }, key, answer);
  say(
    `It encrypts its answer to ${v.requester}'s public encryption key ${key.kid} (ECDH-ES, A256GCM) and hands it over:`,
    `  ${sent.bytes} bytes of ciphertext, which the hub relays until they are fetched (at most until ${sent.expiresAt}).`,
  );
  return true;
}

/** The requester's side: fetch (the hub deletes its copy) and decrypt with the private key. */
async function fetchAnswer(stage: Stage, requester: HubClient, id: string): Promise<string> {
  const partner = requester.identity.key.partner;
  const got = await requester.fetchHandover(id, readPrivateKey(stage.privateDir, partner, 'enc'));
  stage.say(`${partner} fetches and decrypts it with its private encryption key; the plaintext:`, ...wrap(got.content, 100).map((l) => `  │ ${l}`));
  return got.content;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

export async function playDisclosure(stage: Stage, people: { tamara: { subject: string }; daan: { subject: string } }): Promise<DisclosureOutcome> {
  const { say, step, expect, as, covenant } = stage;
  const outcome: DisclosureOutcome = { request: null, breakGlass: null, plaintexts: [] };
  const pr = as('gemeente', 'procesregisseur', 'procesregisseur-de-vries');
  const broker1 = as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'informatiemakelaar-jansen');
  const colleague = as('zorg-en-veiligheidshuis', 'informatiemakelaar', 'informatiemakelaar-yilmaz');
  const broker2 = as('verslavingszorg', 'informatiemakelaar', 'informatiemakelaar-de-boer');

  step('The procesregisseur asks verslavingszorg for content (art. 15, 15a)');
  say(
    "The lookup showed *that* verslavingszorg knows Tamara, not what it knows. To align the safety plan, the procesregisseur",
    'needs to know whether she is in treatment and whom to contact. The request names the purpose, a legal basis, the data',
    'categories and a written justification, signed with the gemeente\'s key (the hub keeps it verbatim, and its hash in the log):',
    ...wrap(JUSTIFICATION_PR, 100).map((l) => `  │ ${l}`),
  );
  const asked = await pr.requestDisclosure({
    subject: people.tamara.subject,
    holder: 'verslavingszorg',
    purpose: PROCESREGIE,
    legalBasis: 'uavg-30-33',
    categories: ['behandelrelatie', 'contactgegevens-behandelaar'],
    caseRef: CASE_REF,
    justification: JUSTIFICATION_PR,
    urgency: 'regular',
  });
  const req = asked.request;
  outcome.request = req;
  say(
    `Request ${req.id}: ${req.status}, ${req.approvalsNeeded} approvals needed, legal basis ${req.legalBasis} (UAVG art. 30–33: criminal and health data in a covenant).`,
    `  rule: ${describeRule(covenant, req.rule)}`,
  );
  expect(req.status === 'pending' && req.rule === 'DX-PR-01' && req.approvalsNeeded === 2 && asked.grant === null, 'the request is pending under rule DX-PR-01 and needs two approvals');

  step('Informatiemakelaars of two organisations weigh it (four eyes)');
  const pending = await broker1.listDisclosures({ status: 'pending' });
  say(
    "An informatiemakelaar of the Zorg- en Veiligheidshuis (never one of the requester's own organisation) lists the pending",
    `requests (${pending.requests.length}); among them this one:`,
    formatRequestTable(pending.requests.filter((r) => r.id === req.id)).trimEnd(),
  );
  expect(pending.requests.some((r) => r.id === req.id), 'the informatiemakelaars see the pending request');
  const first = await broker1.decide(req.id, { outcome: 'approve', reason: 'Noodzakelijk voor het veiligheidsplan; alleen behandelrelatie en contact, geen inhoud.' });
  say(`${broker1.identity.sub} approves (a signed decision): the request is still ${first.request.status}, one approval is not enough.`);
  expect(first.request.status === 'pending' && first.grant === null, 'one approval leaves the request pending');
  const same = await statusOf(colleague.decide(req.id, { outcome: 'approve', reason: 'Eens met mijn collega.' }));
  say(
    `A colleague at the house, ${colleague.identity.sub}, cannot be the second pair of eyes (${same ?? 'accepted?!'}${same === 403 ? ', rule four-eyes' : ''}):`,
    '  the hub tells organisations apart by their keys, not people within one; the covenant wants the holder\'s informatiemakelaar too.',
  );
  expect(same === 403, 'a second informatiemakelaar of the same organisation does not make four eyes');
  const second = await broker2.decide(req.id, { outcome: 'approve', reason: 'Eens: proportioneel, en moeder is op de hoogte gebracht.' });
  const grant = second.grant;
  say(
    `${broker2.identity.sub} (verslavingszorg's informatiemakelaar) approves too: the request is ${second.request.status}, and the hub signs a grant for verslavingszorg`,
    grant ? `  (grant ${grant.id}: ${grant.categories.join(', ')}, valid until ${grant.expiresAt}).` : '  (no grant?)',
  );
  expect(second.request.status === 'approved' && grant !== null && !grant.breakGlass, 'approvals by the house and by the holder approve the request and issue a grant');

  step('Verslavingszorg answers, encrypted end to end');
  const vz = as('verslavingszorg', 'professional', 'behandelaar-smit');
  const vzAnswer = answerVz(req.id);
  const vzSent = grant ? await handOver(stage, vz, req.id, vzAnswer) : false;
  expect(vzSent, 'verslavingszorg verifies the grant offline and hands over its answer');
  if (vzSent) {
    const got = await fetchAnswer(stage, pr, req.id);
    outcome.plaintexts.push(got);
    expect(got === vzAnswer, "the procesregisseur decrypts exactly verslavingszorg's answer");
    const again = await statusOf(pr.call('GET', `/v1/disclosures/${req.id}/handover`));
    say(`The hub deleted its copy on delivery: a second fetch is refused (${again ?? 'answered?!'}${again === 410 ? ' Gone' : ''}). It never held the plaintext.`);
    expect(again === 410, 'the hand-over is delivered once; a second fetch is 410 Gone');
  }

  step('An acute situation: the police break the glass (art. 15b)');
  const agent = as('politie', 'professional', 'noodhulp-veenstreek-3');
  say(
    'Later, on a Friday night, the neighbours call 112: a violent row at IJsselstraat 3, the children are at home.',
    'The police officer on the spot looks Daan up for acuut-veiligheidsrisico (art. 11a):',
  );
  const seen = await agent.lookup(people.daan.subject, 'acuut-veiligheidsrisico', 'PL-2026-0187');
  say(...(seen.knownBy.length ? seen.knownBy.map((k) => `  known by ${k.partnerName} (${k.contact.function})`) : ['  known by nobody the police may see']));
  expect(seen.knownBy.some((k) => k.partner === 'veilig-thuis'), 'in acute danger the police learn that Veilig Thuis knows Daan (V-AV-01)');
  say('There is no time for two reviewers: the officer asks Veilig Thuis with urgency "emergency" (break the glass):', ...wrap(JUSTIFICATION_BREAK_GLASS, 100).map((l) => `  │ ${l}`));
  const glass = await agent.requestDisclosure({
    subject: people.daan.subject,
    holder: 'veilig-thuis',
    purpose: 'acuut-veiligheidsrisico',
    legalBasis: 'avg-6-1-d',
    categories: ['huiselijk-geweld-meldingen'],
    caseRef: 'PL-2026-0187',
    justification: JUSTIFICATION_BREAK_GLASS,
    urgency: 'emergency',
  });
  const bg = glass.request;
  outcome.breakGlass = bg;
  const validMinutes = glass.grant ? Math.round((Date.parse(glass.grant.expiresAt) - stage.clock().getTime()) / 60_000) : 0;
  say(
    `Granted at once (${bg.status}).`,
    `  rule: ${describeRule(covenant, bg.rule)}`,
    glass.grant ? `  grant ${glass.grant.id}: ${glass.grant.categories.join(', ')}, valid ${validMinutes} minutes (until ${glass.grant.expiresAt})` : '  (no grant?)',
    `  a review by an informatiemakelaar is due by ${bg.reviewDueAt} (within ${covenant.disclosure.reviewDeadlineHours} hours); the break-glass is logged as such.`,
  );
  expect(
    bg.status === 'approved' && bg.rule === 'DX-AV-01' && bg.reviewStatus === 'due' && glass.grant?.breakGlass === true && validMinutes <= covenant.disclosure.breakGlassValidityMinutes,
    'the break-glass request is granted at once under DX-AV-01, for at most the covenant\'s break-glass validity, with a review due',
  );
  const vt = as('veilig-thuis', 'professional', 'vt-dienstdoende');
  const vtAnswer = answerVt(bg.id);
  const vtSent = glass.grant ? await handOver(stage, vt, bg.id, vtAnswer) : false;
  expect(vtSent, 'Veilig Thuis verifies the break-glass grant offline and hands over its answer');
  if (vtSent) {
    const got = await fetchAnswer(stage, agent, bg.id);
    outcome.plaintexts.push(got);
    expect(got === vtAnswer, "the police officer decrypts exactly Veilig Thuis's answer");
  }

  step('The review afterwards');
  const inList = async () => (await broker1.overdue()).overdue.some((r) => r.id === bg.id);
  if (stage.advance) {
    say(`Nobody reviews the break-glass in time. The demo moves the hub's clock (and the partners') forward ${covenant.disclosure.reviewDeadlineHours} hours and a minute:`);
    stage.advance(covenant.disclosure.reviewDeadlineHours * HOUR + 60_000);
    const overdue = (await broker1.overdue()).overdue;
    say('kenbaar disclose overdue (a monitoring check; exit 1 while anything is listed) now shows:', formatRequestTable(overdue).trimEnd(), 'The hub logs each overdue review once (disclosure.overdue), also when nobody asks (with the hourly purge).');
    expect(overdue.some((r) => r.id === bg.id), 'after the deadline the break-glass review is listed as overdue');
  } else {
    const listed = await inList();
    say(
      `A running hub's clock cannot be moved, so the deadline cannot pass here: the review is due by ${bg.reviewDueAt}, and the overdue`,
      `list does ${listed ? '' : 'not yet '}contain it (kenbaar disclose overdue exits 1 once it does; in-process, npm run demo lets the deadline pass).`,
    );
    expect(!listed, 'before its deadline the break-glass review is not overdue');
  }
  const review = await broker1.decide(bg.id, { outcome: 'approve', reason: 'Terecht: 112-melding met geweld en kinderen in huis; gevraagd zijn alleen eerdere meldingen.' });
  say(`${broker1.identity.sub} reviews it: ${review.decision.kind}, ${review.request.reviewStatus} (a signed, final decision).`);
  expect(review.decision.kind === 'review' && review.request.reviewStatus === 'justified', 'the broker\'s decision on the break-glass is its review, and it is justified');
  const still = await inList();
  say(`The overdue list ${still ? 'STILL contains it' : 'no longer contains it'}.`);
  expect(!still, 'after the review the break-glass is no longer overdue');
  return outcome;
}
