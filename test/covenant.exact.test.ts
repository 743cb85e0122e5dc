// Covenant decisions pinned down where mutation testing (TESTING.md) found the other covenant tests
// loose: which field a refusal names, which categories and legal bases its reason cites, unknown ids
// in a visibility question, and a match notice never telling what a lookup would not.
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  decideAuditRead,
  decideDeferralRelease,
  decideDisclosureDecision,
  decideDisclosureRequest,
  decideMatchNotice,
  decideVisibility,
  deferralOf,
  loadCovenant,
  type Actor,
  type DisclosureRequest,
} from '../src/covenant/index';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';

const files = readCovenantDir(DEFAULT_COVENANT_DIR);
const c = loadCovenant(files);
const PR = 'procesregie-casus-op-maat';
/** One covenant file with `change` applied to its YAML. */
const edit = (file: string, change: (doc: Record<string, any>) => void) => {
  const doc = parse(files[file]!);
  change(doc);
  return stringify(doc);
};
const actor = (partner: string, role: string): Actor => ({ partner, role, sub: `${partner}-${role}` });
const procesregisseur = actor('gemeente', 'procesregisseur');
const ask = (over: Partial<DisclosureRequest>): DisclosureRequest => ({
  holder: 'verslavingszorg',
  purpose: PR,
  legalBasis: 'uavg-30-33',
  categories: ['behandelrelatie'],
  urgency: 'regular',
  justificationLength: 200,
  ...over,
});

describe('visibility questions about ids the covenant does not know', () => {
  it('an unknown holder partner is unknown-partner, an unknown category unknown-category', () => {
    expect(decideVisibility(c, procesregisseur, PR, { partner: 'bureau-halt', category: 'ggz-behandeling' })).toMatchObject({ allowed: false, rule: 'unknown-partner' });
    expect(decideVisibility(c, procesregisseur, PR, { partner: 'ggz', category: 'schuldhulp' })).toMatchObject({ allowed: false, rule: 'unknown-category' });
  });
});

describe('a disclosure refusal names the part of the request that was refused, and why exactly', () => {
  it('no rule for this requester and holder: the holder is refused (the gemeente asking the woningcorporatie for top-x)', () => {
    const d = decideDisclosureRequest(c, procesregisseur, ask({ holder: 'woningcorporatie', purpose: 'persoonsgerichte-aanpak-top-x', legalBasis: 'gemeentewet-172', categories: ['woonsituatie'] }));
    expect(d).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'holder' });
    expect(d.reason).toBe('no rule lets gemeente/procesregisseur ask woningcorporatie for content for "persoonsgerichte-aanpak-top-x"');
  });

  it('categories outside every fitting rule are named, and only those', () => {
    const d = decideDisclosureRequest(c, procesregisseur, ask({ categories: ['behandelrelatie', 'woonsituatie', 'gezinssituatie'] }));
    expect(d).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'categories' });
    expect(d.reason).toBe(`gemeente/procesregisseur may not ask verslavingszorg for woonsituatie, gezinssituatie for "${PR}" (DX-PR-01)`);
  });

  it('a legal basis the rule does not list is refused, citing the bases it does', () => {
    const d = decideDisclosureRequest(c, procesregisseur, ask({ legalBasis: 'wpg-20' }));
    expect(d).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'legalBasis' });
    expect(d.reason).toBe('legal basis "wpg-20" does not cover this request; DX-PR-01 allows uavg-30-33, avg-6-1-e');
  });
});

describe('an allowed request says how it proceeds', () => {
  it('one approval: no word of organisations', () => {
    const d = decideDisclosureRequest(c, procesregisseur, ask({ holder: 'woningcorporatie', legalBasis: 'avg-6-1-e', categories: ['woonsituatie'] }));
    expect(d).toMatchObject({ allowed: true, approvalsNeeded: 1, breakGlass: false });
    expect(d.reason).toMatch(/; after 1 approval\(s\)$/);
  });

  it('four eyes: two approvals of distinct organisations', () => {
    expect(decideDisclosureRequest(c, procesregisseur, ask({})).reason).toMatch(/; after 2 approval\(s\) of distinct organisations$/);
  });

  it('break the glass: at once, reviewed afterwards', () => {
    const d = decideDisclosureRequest(c, actor('politie', 'professional'), ask({ holder: 'veilig-thuis', purpose: 'acuut-veiligheidsrisico', legalBasis: 'avg-6-1-d', categories: ['gezinssituatie'], urgency: 'emergency' }));
    expect(d).toMatchObject({ allowed: true, breakGlass: true, approvalsNeeded: 1 });
    expect(d.reason).toMatch(/; at once \(break the glass\), 1 review\(s\) afterwards$/);
  });
});

describe('a broker decision without a record of who decided yet', () => {
  it('is allowed for the house where approvals must come from distinct partners (nobody decided)', () => {
    const about = { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR, approvers: 'distinct-partners' as const };
    expect(decideDisclosureDecision(c, actor('zorg-en-veiligheidshuis', 'informatiemakelaar'), about)).toMatchObject({ allowed: true });
  });
});

describe('a match notice never tells what a lookup would not (asVisibleTo)', () => {
  // The demo's procesregisseur sees every registration for procesregie, so M-PR-01 (asVisibleTo:
  // procesregisseur) notifies of all of them. Hide GGZ from the procesregisseur (and drop GGZ as a
  // holder of DX-PR-01, which would otherwise ask a partner one cannot see): the notice goes too.
  const hidden = loadCovenant({
    ...files,
    'visibility.yaml': edit('visibility.yaml', (d) =>
      d.visibility.unshift({ id: 'V-TEST-01', effect: 'deny', article: '12', description: 'test: GGZ hidden from the procesregisseur', purposes: [PR], requester: { partners: ['gemeente'], roles: ['procesregisseur'] }, holder: { partners: ['ggz'] } }),
    ),
    'disclosure.yaml': edit('disclosure.yaml', (d) => {
      d.disclosureRules.find((r: { id: string }) => r.id === 'DX-PR-01').holder = { partners: ['verslavingszorg'] };
    }),
  });
  const gemeente = { partner: 'gemeente', category: 'procesregie' };
  const ggz = { partner: 'ggz', category: 'ggz-behandeling' };

  it('in the demo covenant the gemeente is told of a GGZ registration (M-PR-01)', () => {
    expect(decideMatchNotice(c, gemeente, ggz)).toMatchObject({ allowed: true, rule: 'M-PR-01' });
  });

  it('once the procesregisseur may not see GGZ, neither is the gemeente told of it', () => {
    expect(decideVisibility(hidden, procesregisseur, PR, ggz)).toMatchObject({ allowed: false, rule: 'V-TEST-01' });
    expect(decideMatchNotice(hidden, gemeente, ggz)).toMatchObject({ allowed: false, rule: 'deny-by-default' });
    expect(decideMatchNotice(hidden, gemeente, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' })).toMatchObject({ allowed: true, rule: 'M-PR-01' });
  });
});

describe('a requester who cannot see the holder is refused content, and the refusal cites a deny rule only where one decided', () => {
  it('no visibility rule at all: the refusal is deny-by-default and cites nothing (the woningcorporatie asking the politie)', () => {
    const d = decideDisclosureRequest(c, actor('woningcorporatie', 'professional'), ask({ holder: 'politie', legalBasis: 'avg-6-1-e', categories: ['politiele-incidenten'] }));
    expect(d).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'holder' });
    expect(d.reason).toBe(`woningcorporatie/professional cannot see politie for "${PR}", so it may not ask it for content`);
  });
});

describe('where several allow rules fit, a request is for what one of them covers', () => {
  // The demo has one fitting rule per requester and holder; give the procesregisseur a second one
  // towards verslavingszorg, for woonsituatie only.
  const twoRules = loadCovenant({
    ...files,
    'disclosure.yaml': edit('disclosure.yaml', (d) =>
      d.disclosureRules.push({ id: 'DX-TEST-WONEN', effect: 'allow', article: '15', description: 'test: the procesregisseur may ask verslavingszorg about housing', purpose: PR, requester: { partners: ['gemeente'], roles: ['procesregisseur'] }, holder: { partners: ['verslavingszorg'] }, categories: ['woonsituatie'], legalBasis: ['uavg-30-33'] }),
    ),
  });

  it('each category on its own is allowed, each under its own rule', () => {
    expect(decideDisclosureRequest(twoRules, procesregisseur, ask({ categories: ['behandelrelatie'] }))).toMatchObject({ allowed: true, rule: 'DX-PR-01' });
    expect(decideDisclosureRequest(twoRules, procesregisseur, ask({ categories: ['woonsituatie'] }))).toMatchObject({ allowed: true, rule: 'DX-TEST-WONEN' });
  });

  it('both in one request are refused: no single rule covers them, so ask in separate requests', () => {
    const d = decideDisclosureRequest(twoRules, procesregisseur, ask({ categories: ['behandelrelatie', 'woonsituatie'] }));
    expect(d).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'categories' });
    expect(d.reason).toBe('no single rule covers behandelrelatie, woonsituatie; ask for them in separate requests');
  });

  it('a category outside both rules is the one named, with both rules', () => {
    const d = decideDisclosureRequest(twoRules, procesregisseur, ask({ categories: ['behandelrelatie', 'gezinssituatie'] }));
    expect(d.reason).toBe(`gemeente/procesregisseur may not ask verslavingszorg for gezinssituatie for "${PR}" (DX-PR-01, DX-TEST-WONEN)`);
  });
});

describe('approvals that may come from two brokers of one organisation are not promised as of distinct organisations', () => {
  const brokers = loadCovenant({
    ...files,
    'disclosure.yaml': edit('disclosure.yaml', (d) => {
      d.disclosure.approvers = 'distinct-brokers';
    }),
  });

  it('a covenant whose approvers are distinct-brokers: DX-PR-01 needs two approvals, no word of organisations', () => {
    const d = decideDisclosureRequest(brokers, procesregisseur, ask({}));
    expect(d).toMatchObject({ allowed: true, rule: 'DX-PR-01', approvalsNeeded: 2, approvers: 'distinct-brokers' });
    expect(d.reason).toMatch(/; after 2 approval\(s\)$/);
  });
});

describe('art. 12 keeps diagnosis content inside the zorg domain, not away from it (DXD-DIAGNOSE names the other domains)', () => {
  // No zorg partner looks anything up in the demo; let GGZ's professionals use procesregie.
  const ggzAsks = loadCovenant({
    ...files,
    'purposes.yaml': edit('purposes.yaml', (d) => {
      d.purposes.find((p: { id: string }) => p.id === PR).requesters.push({ rule: 'P-TEST-GGZ', partner: 'ggz', roles: ['professional'] });
    }),
  });

  it('the gemeente asking verslavingszorg for diagnoses is refused by DXD-DIAGNOSE; GGZ asking is not (it fails later: GGZ cannot see verslavingszorg)', () => {
    const ask4 = ask({ categories: ['psychische-gezondheid'] });
    expect(decideDisclosureRequest(c, procesregisseur, ask4)).toMatchObject({ allowed: false, rule: 'DXD-DIAGNOSE', field: 'categories' });
    expect(decideDisclosureRequest(ggzAsks, actor('ggz', 'professional'), ask4)).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'holder' });
  });
});

describe('who reads which part of the log when no audit-read rule names the reader (art. 16)', () => {
  it('a refused reader is given its own organisation\'s actions as scope, never the accesses to its registrations', () => {
    const d = decideAuditRead(c, procesregisseur);
    expect(d).toMatchObject({ allowed: false, rule: 'action-not-permitted' });
    expect(d.scope).toEqual({ all: false, partner: 'gemeente', ownRegistrations: false });
  });

  it("a privacy officer no rule names reads its own organisation's actions only, under its role's rule", () => {
    const onlyClients = loadCovenant({
      ...files,
      'oversight.yaml': edit('oversight.yaml', (d) => {
        d.oversight.auditRead = d.oversight.auditRead.filter((r: { id: string }) => r.id === 'AR-EIGEN-CLIENTEN');
      }),
    });
    const d = decideAuditRead(onlyClients, actor('politie', 'privacy-officer'));
    expect(d).toMatchObject({ allowed: true, rule: 'A-PRIVACY-OFFICER' });
    expect(d.scope).toEqual({ all: false, partner: 'politie', ownRegistrations: false });
    expect(decideAuditRead(onlyClients, actor('verslavingszorg', 'privacy-officer')).scope).toEqual({ all: false, partner: 'verslavingszorg', ownRegistrations: true });
  });

  it('an audit-read rule for privacy officers does not reach another role that may read the log', () => {
    const withAuditor = loadCovenant({
      ...files,
      'roles.yaml': edit('roles.yaml', (d) =>
        d.roles.push({ id: 'kwaliteitsmedewerker', name: 'Kwaliteitsmedewerker', rule: 'A-TEST-KWALITEIT', article: '16', description: 'test: reads the log, is no FG', actions: ['read-audit'] }),
      ),
      'partners.yaml': edit('partners.yaml', (d) => {
        d.partners.find((p: { id: string }) => p.id === 'verslavingszorg').roles.push('kwaliteitsmedewerker');
      }),
    });
    const d = decideAuditRead(withAuditor, actor('verslavingszorg', 'kwaliteitsmedewerker'));
    expect(d).toMatchObject({ allowed: true, rule: 'A-TEST-KWALITEIT' });
    expect(d.scope).toEqual({ all: false, partner: 'verslavingszorg', ownRegistrations: false });
  });
});

describe('an audit-read rule naming only partners', () => {
  const partnersOnly = loadCovenant({
    ...files,
    'oversight.yaml': edit('oversight.yaml', (d) => {
      d.oversight.auditRead = [{ id: 'AR-TEST-VZ', article: '16', description: 'test: no roles named', partners: ['verslavingszorg'], ownRegistrations: true }];
    }),
  });

  it("reaches that partner's privacy officer, and lets no one read the log who may not read it at all", () => {
    expect(decideAuditRead(partnersOnly, actor('verslavingszorg', 'privacy-officer'))).toMatchObject({ allowed: true, rule: 'AR-TEST-VZ', scope: { ownRegistrations: true } });
    expect(decideAuditRead(partnersOnly, actor('verslavingszorg', 'professional'))).toMatchObject({ allowed: false, rule: 'action-not-permitted' });
  });
});

describe('a deferral withholds what it names, until the day it ends (oversight.yaml, AVG art. 23)', () => {
  const house = actor('zorg-en-veiligheidshuis', 'zvh-privacy-officer');
  const at = new Date('2026-01-05T09:00:00Z');
  const police = { actorPartner: 'politie', action: 'lookup', at };

  it('SA-UITSTEL-01 (365 days) may be released until its last millisecond; at 365 days it has ended', () => {
    const end = at.getTime() + 365 * 86_400_000;
    expect(decideDeferralRelease(c, house, police, new Date(end - 1))).toMatchObject({ allowed: true, rule: 'SA-UITSTEL-01' });
    expect(decideDeferralRelease(c, house, police, new Date(end))).toMatchObject({ allowed: false, rule: 'deferral-ended' });
  });

  it('a deferral naming actions withholds those actions of its partners only', () => {
    const lookupsOnly = loadCovenant({
      ...files,
      'oversight.yaml': edit('oversight.yaml', (d) => {
        d.oversight.subjectAccess.deferrals.find((r: { id: string }) => r.id === 'SA-UITSTEL-01').actions = ['lookup'];
      }),
    });
    expect(deferralOf(lookupsOnly, police)?.id).toBe('SA-UITSTEL-01');
    expect(deferralOf(lookupsOnly, { ...police, action: 'disclosure.request' })).toBeUndefined();
    expect(deferralOf(c, { ...police, action: 'disclosure.request' })?.id).toBe('SA-UITSTEL-01');
  });
});
