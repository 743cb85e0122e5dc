// The Den Ouden case (a municipal council session, 2023; see the domain brief), played through the
// hub's HTTP API the way the partners' systems would: BSNs are pseudonymised on the partner side,
// every call is a partner-signed request, and the privacy officer reads the audit trail afterwards.
//
// Without a URL the demo starts its own hub in this process (ephemeral port, fresh PGlite data dir
// and development keys in a temporary directory), so `npm run demo` works on a fresh clone. With a
// URL it talks to a running hub (`npm start`) using the development keys in .kenbaar/private.
// The full-disclosure chapter (request, four eyes, encrypted hand-over, break-glass) is in
// demo-disclosure.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { verifyCheckpointJws } from '../audit/checkpoint';
import { verifyAuditLog } from '../audit/verify';
import { HubClient, HubError, type AuditEntry, type KnownBy, type MatchNotice } from '../client/client';
import type { Clock, HubConfig } from '../config';
import type { Db } from '../db/types';
import type { Covenant } from '../covenant/types';
import { generateTestBsn } from '../pseudonym/bsn';
import { partnerPseudonym } from '../pseudonym/pseudonymise';
import { contactText, formatTable, readCovenantKey } from './commands/common';
import { describeRule, formatNotices } from './commands/lookup';
import { loadCovenantDir } from './covenant-fs';
import { playDisclosure, type DisclosureOutcome } from './demo-disclosure';
import { openDatabase, type Database } from './database';
import { consoleChapter } from './demo-console';
import { readSettings, type NodeSettings } from './env';
import { loadConfig, logCovenantLoaded } from './hub';
import { readPrivateKey } from './keys';
import { startServer, type Running } from './serve';

/** The in-process hub's clock, shared with the demo's partner clients; it can be moved forward. */
export type DemoClock = Clock & { advance(ms: number): void };

export function demoClock(): DemoClock {
  let offset = 0;
  const clock = (() => new Date(Date.now() + offset)) as DemoClock;
  clock.advance = (ms) => {
    offset += ms;
  };
  return clock;
}

export type DemoOptions = {
  /** A running hub; without it the demo starts its own hub in this process. */
  url?: string;
  /** Where keys, the hub id and the covenant are (default: readSettings()). */
  settings?: NodeSettings;
  /** In-process only: the hub's clock (default: a fresh demoClock(); the demo moves it forward a day). */
  clock?: DemoClock;
  /** In-process only: run the hub on this database (the caller opened it and closes it). */
  database?: Database;
  /** The covenant key to pseudonymise with (default: a random one in-process, the configured one with a URL). */
  covenantKey?: Uint8Array;
  /** Where the narration goes (default: stdout). */
  print?: (text: string) => void;
  /** Where the in-process hub's own log lines go (default: console.error, as a server's would). */
  hubLog?: (line: string) => void;
  /**
   * With a URL: leave the demo's registrations in place. By default they are ended at the end, so
   * that the story can be replayed on the same hub (the family's test BSNs are the same every run).
   */
  keep?: boolean;
  /**
   * In-process only: end with the console chapter (src/node/demo-console.ts) and keep the hub
   * running until this promise resolves (the CLI: until Ctrl-C).
   */
  consoleUntil?: Promise<void>;
};

export type FamilyMember = { name: string; role: string; bsn: string; subject: string };

export type DemoResult = {
  ok: boolean;
  mode: 'in-process' | 'remote';
  url: string;
  family: FamilyMember[];
  /** What the procesregisseur learned in the first round of lookups: person → partner ids. */
  firstLookups: Record<string, string[]>;
  refusal: { status: number; type: string; rule: string | null } | null;
  /** Match notices about this demo's registrations, per recipient partner. */
  feeds: Record<string, MatchNotice[]>;
  audit: { entriesShown: number; checkpointSize: number; verified: boolean; how: string };
  /** The disclosure chapter: the two requests and the plaintexts the requesters decrypted. */
  disclosure: DisclosureOutcome;
  /** The hub's published signing keys (public JWKs): what anyone verifies its checkpoints with. */
  hubKeys: JWK[];
  /** Expectations of the story that did not hold (empty when ok). */
  failures: string[];
};

const CASE_REF = 'ZVH-2026-0042';
const PROCESREGIE = 'procesregie-casus-op-maat';

/** The same four generated test BSNs every run (elfproef-valid; never a real person's on purpose). */
export function denOudenFamily(covenantKey: Uint8Array): FamilyMember[] {
  let seed = 20_230_614;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const people = [
    { name: 'Justin', role: 'father' },
    { name: 'Tamara', role: 'mother' },
    { name: 'Daan', role: 'son, 12' },
    { name: 'Esmee', role: 'daughter, 6' },
  ];
  return people.map((p) => {
    const bsn = generateTestBsn(random);
    return { ...p, bsn, subject: partnerPseudonym(covenantKey, bsn) };
  });
}

// Contact points are functions with e-mail addresses under the reserved .example domain.
const CONTACT = {
  politie: { function: 'Wijkagent Veenstreek-Zuid', email: 'wijkagent.veenstreek-zuid@politie.example' },
  verslavingszorg: { function: 'Intake en behandeling alcohol', email: 'intake@verslavingszorg.example' },
  woningcorporatie: { function: 'Wijkconsulent overlast', email: 'wijkconsulent@woonstichting.example' },
  gemeente: { function: 'Procesregisseur Zorg- en Veiligheidshuis', email: 'procesregie@zvh-veenstreek.example' },
  wijkteam: { function: 'Jeugd- en gezinsprofessional Buurtzorg Jong', email: 'team-zuid@buurtzorgjong.example' },
  veiligThuis: { function: 'Team Veenstreek-Noord', email: 'vt-noord@veiligthuis.example' },
} as const;

type Hub = {
  url: string;
  hubId: string;
  covenant: Covenant;
  keysDir: string;
  privateDir: string;
  clock: Clock;
  /** In-process only: move the hub's clock forward. */
  advance?: (ms: number) => void;
  hubKeys(): Promise<JWK[]>;
  /** In-process only: what the console chapter needs of the hub itself. */
  inside?: { db: Db; config: HubConfig; keyFile: string };
  /** Verifies the audit log and shuts down what the demo started; returns how it verified. */
  finish(requested: { size: number; root: string }): Promise<{ verified: boolean; how: string }>;
  cleanup(): Promise<void>;
};

async function startInProcessHub(base: NodeSettings, opts: DemoOptions, hubLog: (line: string) => void): Promise<Hub> {
  const tmp = mkdtempSync(join(tmpdir(), 'kenbaar-demo-'));
  let database: Database | undefined;
  let running: Running | undefined;
  const cleanup = async () => {
    await running?.stop().catch(() => {});
    running = undefined;
    if (database && database !== opts.database) await database.close().catch(() => {});
    database = undefined;
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    // Development keys and secrets made fresh in the temporary directory, never in the repo.
    const settings: NodeSettings = {
      ...base,
      databaseUrl: undefined,
      dataDir: join(tmp, 'data'),
      keysDir: join(tmp, 'keys'),
      localDir: tmp,
      privateDir: join(tmp, 'private'),
      hubKeySecret: undefined,
      signingKeySecret: undefined,
      covenantKeySecret: undefined,
      webhooksSecret: undefined,
      hubId: 'urn:kenbaar:hub:demo',
      production: false,
    };
    const { config } = await loadConfig(settings);
    const clock = opts.clock ?? demoClock();
    database = opts.database ?? (await openDatabase({ dataDir: settings.dataDir }));
    await logCovenantLoaded(database, config, clock());
    running = await startServer(database, config, { host: '127.0.0.1', port: 0, clock, accessLog: false });
    hubLog(`[hub] listening on ${running.url} (in-process; ${opts.database ? 'database given by the caller' : 'PGlite in a temporary directory'}; covenant ${config.covenant.version})`);
    const db = database.db;
    return {
      url: running.url,
      hubId: config.hubId,
      covenant: config.covenant,
      keysDir: settings.keysDir,
      privateDir: settings.privateDir,
      clock,
      advance: (ms) => clock.advance(ms),
      hubKeys: async () => config.signer.published,
      inside: { db, config, keyFile: join(tmp, 'covenant-key') },
      finish: async () => {
        // Stop first: the hub signs a final checkpoint, then nothing moves while we verify.
        await running!.stop();
        running = undefined;
        hubLog('[hub] stopped; final checkpoint signed');
        const report = await verifyAuditLog(db, config.signer.published);
        const how = report.ok
          ? `verifyAuditLog over the database: ${report.entries} entries recomputed into the Merkle tree, root ${report.root.slice(0, 16)}…, matches all ${report.checkpoints} signed checkpoints`
          : `verifyAuditLog found ${report.problems.length} problem(s); first: ${report.problems[0]?.message ?? '?'}`;
        return { verified: report.ok, how };
      },
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

async function connectRemoteHub(url: string, settings: NodeSettings): Promise<Hub> {
  const health = (await (await fetch(new URL('/health', url))).json()) as { covenant?: string; covenantVersion?: string };
  const covenant = loadCovenantDir(settings.covenantDir);
  return {
    url,
    hubId: settings.hubId,
    covenant,
    keysDir: settings.keysDir,
    privateDir: settings.privateDir,
    clock: () => new Date(),
    hubKeys: async () => ((await (await fetch(new URL('/.well-known/jwks.json', url))).json()) as { keys: JWK[] }).keys,
    finish: async (requested) => {
      // A partner cannot read the hub's database, but it can hold the hub to what it signed.
      const cp = (await (await fetch(new URL('/v1/audit/checkpoint', url))).json()) as { size: number; root: string; jws: string; kid: string };
      const keys = ((await (await fetch(new URL('/.well-known/jwks.json', url))).json()) as { keys: JWK[] }).keys;
      const claims = await verifyCheckpointJws(cp.jws, keys);
      const verified = !!claims && claims.size === cp.size && claims.root === cp.root && claims.iss === settings.hubId && cp.size >= requested.size;
      const how = verified
        ? `the latest checkpoint (size ${cp.size}, root ${cp.root.slice(0, 16)}…, key ${cp.kid}) is signed by the hub's published key (/.well-known/jwks.json) and covers this demo. ` +
          'The full check, recomputing every entry against every checkpoint, runs against the database: kenbaar audit verify (with PGlite, after stopping the hub).'
        : `the latest checkpoint did not verify against the hub's published keys${claims ? ` (size ${claims.size}, iss ${claims.iss})` : ''}`;
      if (health.covenantVersion && health.covenantVersion !== covenant.version) {
        return { verified, how: `${how}\n(note: the hub enforces covenant ${health.covenantVersion}, the local files are ${covenant.version})` };
      }
      return { verified, how };
    },
    cleanup: async () => {},
  };
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const print = opts.print ?? ((t: string) => void process.stdout.write(t));
  const hubLog = opts.hubLog ?? ((l: string) => console.error(l));
  const settings = opts.settings ?? readSettings();
  const say = (...lines: string[]) => print(`${lines.join('\n')}\n`);
  let stepNo = 0;
  const step = (title: string) => say('', `── ${++stepNo}. ${title} ${'─'.repeat(Math.max(3, 74 - title.length))}`);
  const failures: string[] = [];
  const expect = (cond: boolean, what: string) => {
    if (!cond) {
      failures.push(what);
      say(`   !! expected: ${what}`);
    }
  };

  const mode = opts.url ? 'remote' : 'in-process';
  const startedAt = Date.now();
  const covenantKey = opts.covenantKey ?? (opts.url ? readCovenantKey(settings, undefined, (l) => say(`(${l})`)) : crypto.getRandomValues(new Uint8Array(32)));
  const hub = opts.url ? await connectRemoteHub(opts.url, settings) : await startInProcessHub(settings, opts, hubLog);
  try {
    const covenant = hub.covenant;
    const partnerName = (id: string) => covenant.partners.get(id)?.name ?? id;
    const clients = new Map<string, HubClient>();
    const as = (partner: string, role: string, sub: string) => {
      const id = `${partner}\u0000${role}\u0000${sub}`;
      let c = clients.get(id);
      if (!c) {
        c = new HubClient(hub.url, hub.hubId, { key: { partner, jwk: readPrivateKey(hub.privateDir, partner) }, sub, role }, fetch, hub.clock);
        clients.set(id, c);
      }
      return c;
    };
    const family = denOudenFamily(covenantKey);
    const [justin, tamara, daan, esmee] = family as [FamilyMember, FamilyMember, FamilyMember, FamilyMember];
    // Every registration this run made, with the client that made it (to end it again with a URL).
    const ownRegistrations = new Map<string, HubClient>();
    const track = (client: HubClient, ids: string[]) => ids.forEach((id) => ownRegistrations.set(id, client));

    say(
      'kenbaar demo: the Den Ouden case',
      `Hub ${hub.url} (${mode === 'in-process' ? 'started in this process, with a fresh database and development keys' : 'running hub'}), covenant ${covenant.id}`,
      `(${covenant.name}; version ${covenant.version.slice(0, 19)}…)`,
    );

    step('The family at IJsselstraat 3');
    say(
      'Mr and Mrs Den Ouden at IJsselstraat 1 complain to the housing corporation (woningcorporatie) about',
      'their neighbours at no. 3: rows around dinner time, loud music after 22:00, and a visit "to settle things".',
      'The family at no. 3, with generated test BSNs (they pass the elfproef; never real people):',
    );
    say(formatTable(['name', 'in the family', 'test BSN', 'partner pseudonym (what the hub receives)'], family.map((m) => [m.name, m.role, m.bsn, m.subject])).trimEnd());
    say('Each partner derives the pseudonym itself with the covenant key (HMAC-SHA256); the BSN never leaves the partner,', 'and the hub re-keys the pseudonym with its own secret before storing anything.');

    step('Before anyone knows of the case');
    const polSystem = as('politie', 'partner-system', 'bvh-koppeling');
    const pol = await polSystem.register({ subject: justin.subject, category: 'politie-betrokkenheid', contact: CONTACT.politie, reference: 'PL-2026-0113' });
    track(polSystem, [pol.id]);
    say(`The police (politie) already know Justin: their system registers involvement "politie-betrokkenheid" (${pol.created ? 'new' : 'renewed'}).`);
    const vzSystem = as('verslavingszorg', 'partner-system', 'epd-koppeling');
    const vz = await vzSystem.register({ subject: tamara.subject, category: 'verslavingszorg-behandeling', contact: CONTACT.verslavingszorg, reference: 'VZ-2025-0877' });
    track(vzSystem, [vz.id]);
    say(`Addiction care (verslavingszorg) treats Tamara for problematic alcohol use: registered "verslavingszorg-behandeling" (${vz.created ? 'new' : 'renewed'}).`);
    const vtSystem = as('veilig-thuis', 'partner-system', 'vt-registratie');
    const vt = await vtSystem.registerBatch(family.map((m) => ({ subject: m.subject, category: 'huiselijk-geweld-melding', contact: CONTACT.veiligThuis, reference: 'VT-2025-1184' })));
    track(vtSystem, vt.items.map((i) => i.id));
    say(
      'Veilig Thuis is still monitoring the household after an earlier report, passed on by the police after a row between the',
      `parents: it registered all four, "huiselijk-geweld-melding" (${vt.created} new).`,
    );
    say('The wijkteam jeugd (Buurtzorg Jong) has never been involved with this family: it registers nothing.', 'Registrations say only *that* a partner is involved and whom to call, never why.');

    step('The woningcorporatie registers the household (woonoverlast)');
    const woco = as('woningcorporatie', 'partner-system', 'huurdersdossier');
    const wocoBatch = await woco.registerBatch(family.map((m) => ({ subject: m.subject, category: 'woonoverlast', contact: CONTACT.woningcorporatie, reference: 'IJsselstraat 3' })));
    track(woco, wocoBatch.items.map((i) => i.id));
    say(`After the neighbours' complaints the housing corporation registers all four for woonoverlast, with its own case`, `reference "IJsselstraat 3": ${wocoBatch.registered} registered in one batch (${wocoBatch.created} new), then reports the case to the gemeente.`);

    step('The procesregisseur asks who knows the family (procesregie casus op maat)');
    say(`The gemeente's procesregisseur (Zorg- en Veiligheidshuis) looks up the four family members together (one family lookup,`, `one audit entry per person) for purpose ${PROCESREGIE} (covenant art. 8, AVE 3), under case reference ${CASE_REF}:`);
    const pr = as('gemeente', 'procesregisseur', 'procesregisseur-de-vries');
    const firstLookups: Record<string, string[]> = {};
    const lookupRows: string[][] = [];
    const decidingRules = new Set<string>();
    const household = await pr.lookupFamily(family.map((m) => m.subject), PROCESREGIE, CASE_REF);
    for (const [i, m] of family.entries()) {
      const res = household.results[i]!;
      firstLookups[m.name] = res.knownBy.map((k) => k.partner);
      res.decision.rules.forEach((r) => decidingRules.add(r));
      if (res.knownBy.length === 0) lookupRows.push([m.name, '—', '', '']);
      res.knownBy.forEach((k: KnownBy, i) => lookupRows.push([i === 0 ? m.name : '', k.partnerName, contactText(k.contact), k.since.slice(0, 10)]));
    }
    say(formatTable(['person', 'known by', 'whom to call', 'since'], lookupRows).trimEnd());
    say('Deciding rules:', ...[...decidingRules].map((r) => `  ${describeRule(covenant, r)}`));
    say('Only who is involved and whom to call: no reason, no category, no case content. The wijkteam does not appear:', 'it has never been involved. Veilig Thuis does (V-PR-04): its earlier report is now known to the procesregie.');
    expect(firstLookups.Justin?.includes('politie') ?? false, 'the procesregisseur learns that the police know Justin');
    expect(firstLookups.Tamara?.includes('verslavingszorg') ?? false, 'the procesregisseur learns that verslavingszorg knows Tamara (rule V-PR-02)');
    expect(family.every((m) => firstLookups[m.name]?.includes('woningcorporatie')), 'the procesregisseur learns that the woningcorporatie registered all four');
    expect(family.every((m) => firstLookups[m.name]?.includes('veilig-thuis')), 'the procesregisseur learns that Veilig Thuis knows the household (rule V-PR-04)');
    expect(!Object.values(firstLookups).some((l) => l.includes('wijkteam-jeugd')), 'the wijkteam is not known before the perspective meeting');

    step('The Zorg- en Veiligheidshuis takes up the case');
    const prBatch = await pr.registerBatch(family.map((m) => ({ subject: m.subject, category: 'procesregie', contact: CONTACT.gemeente, reference: CASE_REF })));
    track(pr, prBatch.items.map((i) => i.id));
    say(`The procesregisseur registers procesregie for the family (${prBatch.registered} registrations), so that every partner involved`, 'learns whom to contact (match rule M-PR-02), and the procesregisseur learns of partners who join later (M-PR-01).');

    step('The perspective meeting (perspectiefgesprek)');
    say('Police, Buurtzorg Jong, the local officer and the parents meet. The parents consent to a safety assessment;', 'Buurtzorg Jong makes a safety plan with the grandparents, the school and the football coach, and registers', 'its involvement with the children (jeugdhulp):');
    const wijk = as('wijkteam-jeugd', 'professional', 'jeugdprofessional-bakker');
    const wijkBatch = await wijk.registerBatch([daan, esmee].map((m) => ({ subject: m.subject, category: 'jeugdhulp', contact: CONTACT.wijkteam, reference: 'BZJ-2026-0311' })));
    track(wijk, wijkBatch.items.map((i) => i.id));
    say(`  ${wijkBatch.registered} registrations (Daan, Esmee).`);
    const again = await pr.lookup(daan.subject, PROCESREGIE, CASE_REF);
    say(`The procesregisseur looks Daan up again: now known by ${again.knownBy.map((k) => k.partnerName).join('; ')}.`);
    expect(again.knownBy.some((k) => k.partner === 'wijkteam-jeugd'), 'after the meeting the procesregisseur sees that the wijkteam knows Daan (rule V-PR-04)');

    step('A lookup the covenant does not allow');
    say('A police officer tries to look Daan up for purpose vroegsignalering-jeugd (early signals about children, art. 9).');
    let refusal: DemoResult['refusal'] = null;
    try {
      await as('politie', 'professional', 'wijkagent-veenstreek-zuid').lookup(daan.subject, 'vroegsignalering-jeugd', 'PL-2026-0113');
      say('   The hub answered — it should not have.');
    } catch (e) {
      if (!(e instanceof HubError)) throw e;
      const rule = typeof e.problem.rule === 'string' ? e.problem.rule : null;
      refusal = { status: e.status, type: e.problem.type, rule };
      say(`The hub refuses: ${e.status} ${e.problem.title} (${e.problem.type})`, `  ${e.problem.detail ?? ''}`, `  rule: ${rule ? describeRule(covenant, rule) : '(none)'}`, 'The refusal is itself in the audit log, with the rule that decided it.');
    }
    expect(refusal?.status === 403 && refusal.type === '/problems/purpose-not-allowed', 'the police lookup for vroegsignalering-jeugd is refused (403 purpose-not-allowed)');

    step('Match notices (art. 13)');
    say('When two partners register the same person, each is told only as far as matches.yaml allows, and only', 'about its own registrations of this case. The feeds of the partners involved:');
    const readers: [string, string, string][] = [
      ['gemeente', 'procesregisseur', 'procesregisseur-de-vries'],
      ['politie', 'partner-system', 'bvh-koppeling'],
      ['verslavingszorg', 'partner-system', 'epd-koppeling'],
      ['woningcorporatie', 'partner-system', 'huurdersdossier'],
      ['veilig-thuis', 'partner-system', 'vt-registratie'],
      ['wijkteam-jeugd', 'professional', 'jeugdprofessional-bakker'],
    ];
    const feeds: Record<string, MatchNotice[]> = {};
    for (const [partner, role, sub] of readers) {
      const client = as(partner, role, sub);
      const notices: MatchNotice[] = [];
      for (let after = 0; ; ) {
        const page = await client.matches(after, 1000);
        notices.push(...page.matches.filter((n) => ownRegistrations.has(n.registrationId)));
        if (page.next === after) break;
        after = page.next;
      }
      feeds[partner] = notices;
      say('', `${partnerName(partner)} (${partner}): ${notices.length} notice(s)`);
      print(formatNotices(notices));
    }
    const rulesUsed = new Set(Object.values(feeds).flatMap((f) => f.map((n) => n.rule)));
    say('', 'Rules that sent these notices:', ...[...rulesUsed].map((r) => `  ${describeRule(covenant, r)}`));
    say(
      'Not told: the police and the woningcorporatie never hear of verslavingszorg (MD-ZORG-POLITIE, MD-ZORG-WONEN), the',
      'woningcorporatie never of Veilig Thuis (MD-VT-WONEN), and the woningcorporatie, the police and Veilig Thuis are not told',
      'of each other: no rule grants it (deny by default).',
    );
    for (const [partner] of readers) expect((feeds[partner]?.length ?? 0) > 0, `${partner} receives at least one match notice`);
    const zorg = new Set([...covenant.partners.values()].filter((p) => p.domain === 'zorg').map((p) => p.id));
    expect(!feeds.politie?.some((n) => zorg.has(n.knownBy.partner)), 'the police are never told of a zorg registration');
    expect(!feeds.woningcorporatie?.some((n) => zorg.has(n.knownBy.partner)), 'the woningcorporatie is never told of a zorg registration');
    expect(!feeds.woningcorporatie?.some((n) => n.knownBy.partner === 'veilig-thuis'), 'the woningcorporatie is never told of a Veilig Thuis report (MD-VT-WONEN)');
    expect(!feeds.politie?.some((n) => n.knownBy.partner === 'veilig-thuis'), 'the police are not told of the Veilig Thuis report by match notice');
    expect(feeds['wijkteam-jeugd']?.some((n) => n.knownBy.partner === 'veilig-thuis' && n.rule === 'M-VJ-01') ?? false, 'the wijkteam and Veilig Thuis are told of each other on the children (M-VJ-01)');

    const disclosure = await playDisclosure(
      {
        mode,
        url: hub.url,
        hubId: hub.hubId,
        covenant,
        keysDir: hub.keysDir,
        privateDir: hub.privateDir,
        clock: hub.clock,
        ...(hub.advance ? { advance: hub.advance } : {}),
        as,
        say,
        step,
        expect,
      },
      { tamara, daan },
    );

    step("The audit trail, as the FG of the Zorg- en Veiligheidshuis sees it");
    const po = as('zorg-en-veiligheidshuis', 'zvh-privacy-officer', 'fg-zvh');
    const requested = await po.checkpoint();
    say(`The FG of the house (art. 16; a partner's own privacy officer sees only its organisation's entries) asks for a checkpoint now: the log is sequenced and its Merkle root signed`, `(size ${requested.size}, root ${requested.root.slice(0, 16)}…). Then reads the entries (reading is logged too):`);
    const byId = new Map<number, AuditEntry>();
    const readAll = async (query: { subject?: string }) => {
      for (let after = 0; ; ) {
        const page = await po.auditEntries({ ...query, after, limit: 1000 });
        for (const e of page.entries) byId.set(e.id, e);
        if (page.entries.length < 1000) break;
        after = page.next;
      }
    };
    if (mode === 'in-process') await readAll({});
    else for (const m of family) await readAll({ subject: m.subject }); // a running hub's log may be long: the family's trail only
    const since = mode === 'in-process' ? 0 : startedAt - 2000;
    const entries = [...byId.values()].filter((e) => Date.parse(e.at) >= since).sort((a, b) => a.id - b.id);
    if (mode === 'remote') say('(A running hub: the entries about the four family members during this run, queried by subject.)');
    say(
      formatTable(
        ['seq', 'time', 'actor', 'role', 'action', 'purpose', 'outcome', 'rule'],
        entries.map((e) => [
          e.seq === null ? '·' : String(e.seq),
          e.at.slice(5, 23).replace('T', ' '),
          e.actor.partner ? `${e.actor.partner}/${e.actor.sub ?? ''}` : '(hub)',
          e.actor.role ?? '',
          e.action,
          e.purpose ?? '',
          e.outcome,
          e.rule ?? '',
        ]),
      ).trimEnd(),
    );
    say('(seq · = written after the checkpoint, not yet sequenced.) Subjects are the hub pseudonyms; no BSN is in the log.');
    expect(entries.some((e) => e.action === 'lookup' && e.outcome === 'denied' && e.actor.partner === 'politie'), "the police's refused lookup is in the audit trail");
    const logged = (action: string) => entries.filter((e) => e.action === action && e.outcome !== 'denied' && e.outcome !== 'rejected').length;
    expect(
      logged('disclosure.requested') >= 2 && logged('disclosure.decided') >= 2 && logged('grant.issued') >= 2 && logged('handover.posted') >= 2 && logged('handover.delivered') >= 2 && logged('handover.deleted') >= 2,
      'every step of the disclosures is in the audit trail: requested, decided twice, grant issued, handed over, delivered, deleted',
    );
    expect(logged('disclosure.break-glass') >= 1 && logged('disclosure.reviewed') >= 1, 'the break-glass and its review are in the audit trail');
    if (mode === 'in-process') expect(logged('disclosure.overdue') >= 1, 'the overdue review is in the audit trail');

    if (opts.consoleUntil && hub.inside) {
      step('The console: decide and account for it in a browser');
      await consoleChapter({ url: hub.url, ...hub.inside, clock: hub.clock, as, tamara, covenantKey, say });
      say('', 'The hub keeps running for the console; press Ctrl-C to stop it (the log is then verified).');
      await opts.consoleUntil;
    }

    step('Verifying the audit log');
    const hubKeys = await hub.hubKeys();
    const v = await hub.finish(requested);
    say(`${v.verified ? 'Verified' : 'NOT verified'}: ${v.how}`);
    expect(v.verified, 'the audit log verifies');

    if (mode === 'remote' && !opts.keep) {
      step('Closing the case');
      // Involvement ends, so registrations end (art. 14); it also lets the story be replayed here.
      for (const [id, client] of ownRegistrations) await client.endRegistration(id);
      say(`The partners end their ${ownRegistrations.size} registrations of this case (they stop matching at once and are`, 'archived until retention removes them). Run with --keep to leave them in place and explore with kenbaar lookup.');
    }

    say('', failures.length === 0 ? 'The story played out as the covenant says.' : `${failures.length} expectation(s) did not hold:`, ...failures.map((f) => `  - ${f}`));
    return {
      ok: failures.length === 0,
      mode,
      url: hub.url,
      family,
      firstLookups,
      refusal,
      feeds,
      disclosure,
      audit: { entriesShown: entries.length, checkpointSize: requested.size, verified: v.verified, how: v.how },
      hubKeys,
      failures,
    };
  } finally {
    await hub.cleanup();
  }
}
