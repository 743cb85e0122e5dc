// Disclosure of content (art. 15, 15a, 15b), tested as the covenant reads: the Den Ouden requests
// by hand, art. 12 exhaustively, one generated test per disclosure rule against a naive reading of
// the raw YAML, the loader's errors for the new sections, and properties over random requests.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  CovenantError,
  FIXED_RULE_IDS,
  decideDisclosureDecision,
  decideDisclosureRead,
  decideDisclosureRequest,
  decideVisibility,
  disclosureSettings,
  disclosureTable,
  formatVisibilityMatrix,
  loadCovenant,
  type Actor,
  type Covenant,
  type DisclosureDecision,
  type DisclosureRequest,
} from '../src/covenant/index';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';

const files = readCovenantDir(DEFAULT_COVENANT_DIR);
const c = loadCovenant(files);

const actor = (partner: string, role: string, sub = `${partner}-${role}-1`): Actor => ({ partner, role, sub });
const PR = 'procesregie-casus-op-maat';
const AV = 'acuut-veiligheidsrisico';
const PGA = 'persoonsgerichte-aanpak-top-x';
const JUSTIFIED = 'Casus op maat AVE 3: afstemming veiligheidsplan gezin Den Ouden, IJsselstraat 3.'.length;

function request(over: Partial<DisclosureRequest> & Pick<DisclosureRequest, 'holder' | 'purpose' | 'categories' | 'legalBasis'>): DisclosureRequest {
  return { urgency: 'regular', justificationLength: JUSTIFIED, ...over };
}
const outcome = (d: DisclosureDecision) => ({ allowed: d.allowed, rule: d.rule, approvalsNeeded: d.approvalsNeeded, breakGlass: d.breakGlass, field: d.field });

const procesregisseur = actor('gemeente', 'procesregisseur');
const wijkagent = actor('politie', 'professional');
const broker1 = actor('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-de-vries');
const broker2 = actor('zorg-en-veiligheidshuis', 'informatiemakelaar', 'im-yilmaz');

/** The Den Ouden request: the procesregisseur asks verslavingszorg about the mother's treatment. */
const tamaraRequest = request({ holder: 'verslavingszorg', purpose: PR, legalBasis: 'uavg-30-33', categories: ['behandelrelatie', 'contactgegevens-behandelaar'] });
/** The acute night: the police at the door ask Veilig Thuis for earlier reports on the household. */
const breakGlassRequest = request({ holder: 'veilig-thuis', purpose: AV, legalBasis: 'avg-6-1-d', categories: ['huiselijk-geweld-meldingen'], urgency: 'emergency' });

describe('Den Ouden: the procesregisseur asks verslavingszorg about the mother (four eyes)', () => {
  it('the procesregisseur may ask verslavingszorg for behandelrelatie and a contact for procesregie, with four eyes (DX-PR-01)', () => {
    expect(outcome(decideDisclosureRequest(c, procesregisseur, tamaraRequest))).toEqual({
      allowed: true,
      rule: 'DX-PR-01',
      approvalsNeeded: 2,
      breakGlass: false,
      field: undefined,
    });
  });
  it('even the mere contact of a verslavingszorg professional takes four eyes: it says she is in care (DX-PR-01 approvals: 2)', () => {
    const d = decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, categories: ['contactgegevens-behandelaar'] });
    expect(outcome(d)).toMatchObject({ allowed: true, rule: 'DX-PR-01', approvalsNeeded: 2 });
  });
  it('either legal basis of DX-PR-01 will do; a basis of the purpose the rule does not list will not', () => {
    expect(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, legalBasis: 'avg-6-1-e' }).allowed).toBe(true);
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, legalBasis: 'gemeentewet-172' }))).toMatchObject({
      allowed: false,
      rule: 'deny-by-default',
      field: 'legalBasis',
    });
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, legalBasis: 'UAVG art. 30 lid 3 en art. 33' }))).toMatchObject({
      allowed: false,
      field: 'legalBasis',
    });
  });
  it('never the diagnosis: verslavingsproblematiek and psychische-gezondheid stay in the zorg domain (DXD-DIAGNOSE)', () => {
    for (const category of ['verslavingsproblematiek', 'psychische-gezondheid']) {
      const d = decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, categories: ['behandelrelatie', category] });
      expect(outcome(d)).toMatchObject({ allowed: false, rule: 'DXD-DIAGNOSE', field: 'categories' });
    }
  });
  it("a category no rule grants the procesregisseur from verslavingszorg is refused by default, naming it", () => {
    const d = decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, categories: ['behandelrelatie', 'woonsituatie'] });
    expect(outcome(d)).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'categories' });
    expect(d.reason).toContain('woonsituatie');
  });
  it("the gemeente's informatiemakelaar may not ask verslavingszorg: it cannot even see zorg registrations (V-PR-02 is for the procesregisseur only)", () => {
    const d = decideDisclosureRequest(c, actor('gemeente', 'informatiemakelaar'), tamaraRequest);
    expect(outcome(d)).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'holder' });
  });
  it('a justification of 39 characters is too short, 40 is enough (art. 15)', () => {
    expect(c.disclosure.minJustificationLength).toBe(40);
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, justificationLength: 39 }))).toMatchObject({
      allowed: false,
      rule: 'justification-too-short',
      field: 'justification',
    });
    expect(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, justificationLength: 40 }).allowed).toBe(true);
  });
  it('the procesregisseur may not break the glass for it (break-glass-not-allowed)', () => {
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, urgency: 'emergency' }))).toMatchObject({
      allowed: false,
      rule: 'break-glass-not-allowed',
      field: 'urgency',
      approvalsNeeded: 0,
      breakGlass: false,
    });
  });
  it('two informatiemakelaars of the Zorg- en Veiligheidshuis may each approve it (A-INFORMATIEMAKELAAR)', () => {
    const about = { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR };
    for (const b of [broker1, broker2]) expect(decideDisclosureDecision(c, b, about)).toMatchObject({ allowed: true, rule: 'A-INFORMATIEMAKELAAR' });
  });
  it("the gemeente's own informatiemakelaar may not weigh the gemeente's request (own-organisation)", () => {
    const d = decideDisclosureDecision(c, actor('gemeente', 'informatiemakelaar'), { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR });
    expect(d).toMatchObject({ allowed: false, rule: 'own-organisation' });
  });
  it("the politie's informatiemakelaar may not weigh it either: it would learn of a zorg holder (deny-by-default)", () => {
    const d = decideDisclosureDecision(c, actor('politie', 'informatiemakelaar'), { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR });
    expect(d).toMatchObject({ allowed: false, rule: 'deny-by-default' });
  });
  it("the house's FG, the procesregisseur and the woningcorporatie (no broker) may not decide requests", () => {
    const about = { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR };
    expect(decideDisclosureDecision(c, actor('zorg-en-veiligheidshuis', 'zvh-privacy-officer'), about)).toMatchObject({ allowed: false, rule: 'action-not-permitted' });
    expect(decideDisclosureDecision(c, procesregisseur, about)).toMatchObject({ allowed: false, rule: 'action-not-permitted' });
    expect(decideDisclosureDecision(c, actor('woningcorporatie', 'informatiemakelaar'), about)).toMatchObject({ allowed: false, rule: 'role-not-held' });
  });
  it("a holder's own informatiemakelaar may weigh requests made of it (the politie, asked by the gemeente)", () => {
    const d = decideDisclosureDecision(c, actor('politie', 'informatiemakelaar'), { requester: 'gemeente', holder: 'politie', purpose: PR });
    expect(d).toMatchObject({ allowed: true, rule: 'A-INFORMATIEMAKELAAR' });
  });
  it('a request about an unknown requester, holder or purpose is not weighed', () => {
    expect(decideDisclosureDecision(c, broker1, { requester: 'bureau-halt', holder: 'politie', purpose: PR }).rule).toBe('unknown-partner');
    expect(decideDisclosureDecision(c, broker1, { requester: 'gemeente', holder: 'bureau-halt', purpose: PR }).rule).toBe('unknown-holder');
    expect(decideDisclosureDecision(c, broker1, { requester: 'gemeente', holder: 'politie', purpose: 'nieuwsgierigheid' }).rule).toBe('unknown-purpose');
  });
});

describe('Den Ouden: break the glass at night (art. 11a, 15b)', () => {
  it('a wijkagent may break the glass to ask Veilig Thuis for earlier reports on the household: a grant at once, two reviews after (DX-AV-01)', () => {
    expect(outcome(decideDisclosureRequest(c, wijkagent, breakGlassRequest))).toEqual({
      allowed: true,
      rule: 'DX-AV-01',
      approvalsNeeded: 2,
      breakGlass: true,
      field: undefined,
    });
  });
  it('the same request without urgency waits for two approvals instead (DX-AV-01)', () => {
    expect(outcome(decideDisclosureRequest(c, wijkagent, { ...breakGlassRequest, urgency: 'regular' }))).toMatchObject({
      allowed: true,
      rule: 'DX-AV-01',
      approvalsNeeded: 2,
      breakGlass: false,
    });
  });
  it("a wijkagent may break the glass to ask the wijkteam for the children's safety plan (gezinssituatie): one review after (DX-AV-02)", () => {
    const d = decideDisclosureRequest(c, wijkagent, request({ holder: 'wijkteam-jeugd', purpose: AV, legalBasis: 'avg-6-1-d', categories: ['gezinssituatie', 'contactgegevens-behandelaar'], urgency: 'emergency' }));
    expect(outcome(d)).toMatchObject({ allowed: true, rule: 'DX-AV-02', approvalsNeeded: 1, breakGlass: true });
  });
  it('a wijkagent may break the glass to ask the gemeente whom to call about the procesregie (DX-AV-03)', () => {
    const d = decideDisclosureRequest(c, wijkagent, request({ holder: 'gemeente', purpose: AV, legalBasis: 'politiewet-3', categories: ['contactgegevens-behandelaar'], urgency: 'emergency' }));
    expect(outcome(d)).toMatchObject({ allowed: true, rule: 'DX-AV-03', approvalsNeeded: 1, breakGlass: true });
  });
  it("the politie's informatiemakelaar may not use acuut-veiligheidsrisico, so cannot break the glass", () => {
    expect(outcome(decideDisclosureRequest(c, actor('politie', 'informatiemakelaar'), breakGlassRequest))).toMatchObject({
      allowed: false,
      rule: 'deny-by-default',
      field: 'purpose',
    });
  });
  it('no break glass for top-x: the wijkagent asking OM for justitiele-gegevens in an emergency is refused (break-glass-not-allowed)', () => {
    const d = decideDisclosureRequest(c, wijkagent, request({ holder: 'openbaar-ministerie', purpose: PGA, legalBasis: 'wjsg-39f', categories: ['justitiele-gegevens'], urgency: 'emergency' }));
    expect(outcome(d)).toMatchObject({ allowed: false, rule: 'break-glass-not-allowed', field: 'urgency' });
    expect(decideDisclosureRequest(c, wijkagent, { ...request({ holder: 'openbaar-ministerie', purpose: PGA, legalBasis: 'wjsg-39f', categories: ['justitiele-gegevens'] }) })).toMatchObject({
      allowed: true,
      rule: 'DX-PGA-01',
      approvalsNeeded: 2,
    });
  });
  it('the house reviews it; the politie does not review its own break-glass (own-organisation)', () => {
    const about = { requester: 'politie', holder: 'veilig-thuis', purpose: AV };
    expect(decideDisclosureDecision(c, broker1, about)).toMatchObject({ allowed: true, rule: 'A-INFORMATIEMAKELAAR' });
    expect(decideDisclosureDecision(c, actor('politie', 'informatiemakelaar'), about)).toMatchObject({ allowed: false, rule: 'own-organisation' });
  });
  it('a break-glass grant is short and reviewed within a day; relayed content never outlives a regular grant', () => {
    expect(disclosureSettings(c)).toEqual({
      minJustificationLength: 40,
      grantValidityHours: 168,
      breakGlassValidityMinutes: 240,
      reviewDeadlineHours: 24,
      relayRetentionHours: 72,
      maxCiphertextBytes: 1024 * 1024,
      defaultApprovals: 1,
      specialApprovals: 2,
      approvers: 'distinct-partners',
      brokerPartners: new Set(['zorg-en-veiligheidshuis']),
    });
  });
});

describe('art. 12: zorg content never reaches the politie, the OM or the woningcorporatie', () => {
  const zorg = [...c.partners.values()].filter((p) => p.domain === 'zorg').map((p) => p.id);
  const allCategories = [...c.dataCategories.keys()];
  const denyFor = (partner: string, rule: string) => {
    const roles = [...(c.partners.get(partner)?.roles ?? [])];
    let checked = 0;
    for (const purpose of c.purposes.keys()) {
      for (const role of roles) {
        for (const holder of zorg) {
          for (const category of allCategories) {
            for (const urgency of ['regular', 'emergency'] as const) {
              const d = decideDisclosureRequest(c, actor(partner, role), request({ holder, purpose, legalBasis: 'avg-6-1-d', categories: [category], urgency }));
              expect(d.allowed).toBe(false);
              if (c.index.requesters.get(purpose)?.get(partner)?.has(role)) {
                expect(d.rule, `${partner}/${role} ${purpose} ${holder} ${category}`).toBe(rule);
                checked++;
              }
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  };
  it('police may never ask GGZ for psychische-gezondheid (DXD-ZORG-POLITIE)', () => {
    for (const purpose of [PGA, AV]) {
      const d = decideDisclosureRequest(c, wijkagent, request({ holder: 'ggz', purpose, legalBasis: 'avg-6-1-d', categories: ['psychische-gezondheid'], urgency: 'emergency' }));
      expect(outcome(d)).toMatchObject({ allowed: false, rule: 'DXD-ZORG-POLITIE', field: 'holder' });
    }
  });
  it('police may never ask any zorg partner for anything, for any purpose, in any role, not even breaking the glass (DXD-ZORG-POLITIE)', () => {
    denyFor('politie', 'DXD-ZORG-POLITIE');
  });
  it('the Openbaar Ministerie may never ask a zorg partner for anything (DXD-ZORG-OM)', () => {
    denyFor('openbaar-ministerie', 'DXD-ZORG-OM');
  });
  it('the woningcorporatie may never ask a zorg partner for anything (DXD-ZORG-WONEN)', () => {
    denyFor('woningcorporatie', 'DXD-ZORG-WONEN');
  });
  it('the woningcorporatie may never ask Veilig Thuis for anything (DXD-VT-WONEN)', () => {
    const woco = actor('woningcorporatie', 'professional');
    for (const category of allCategories) {
      const d = decideDisclosureRequest(c, woco, request({ holder: 'veilig-thuis', purpose: PR, legalBasis: 'avg-6-1-e', categories: [category] }));
      expect(outcome(d)).toMatchObject({ allowed: false, rule: 'DXD-VT-WONEN' });
    }
  });
  it('the woningcorporatie may ask the gemeente whom to contact about the procesregie, nothing more (DX-PR-05)', () => {
    const woco = actor('woningcorporatie', 'professional');
    expect(decideDisclosureRequest(c, woco, request({ holder: 'gemeente', purpose: PR, legalBasis: 'avg-6-1-e', categories: ['contactgegevens-behandelaar'] }))).toMatchObject({
      allowed: true,
      rule: 'DX-PR-05',
      approvalsNeeded: 1,
    });
    expect(decideDisclosureRequest(c, woco, request({ holder: 'gemeente', purpose: PR, legalBasis: 'avg-6-1-e', categories: ['gezinssituatie'] })).allowed).toBe(false);
  });
});

describe('requests that are wrong in themselves', () => {
  it('asking one\'s own organisation is refused (own-organisation)', () => {
    const d = decideDisclosureRequest(c, procesregisseur, request({ holder: 'gemeente', purpose: PR, legalBasis: 'avg-6-1-e', categories: ['gezinssituatie'] }));
    expect(outcome(d)).toMatchObject({ allowed: false, rule: 'own-organisation', field: 'holder' });
  });
  it('an unknown holder is refused (unknown-holder)', () => {
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, holder: 'bureau-halt' }))).toMatchObject({ allowed: false, rule: 'unknown-holder', field: 'holder' });
  });
  it('an unknown data category, even a registration category, is refused (unknown-data-category)', () => {
    for (const category of ['medisch-dossier', 'verslavingszorg-behandeling']) {
      const d = decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, categories: ['behandelrelatie', category] });
      expect(outcome(d)).toMatchObject({ allowed: false, rule: 'unknown-data-category', field: 'categories' });
    }
  });
  it('a request for no category at all is refused', () => {
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, categories: [] }))).toMatchObject({ allowed: false, field: 'categories' });
  });
  it('an unknown purpose, or one the requester may not use, is refused on the purpose', () => {
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, purpose: 'nieuwsgierigheid' }))).toMatchObject({ allowed: false, rule: 'unknown-purpose', field: 'purpose' });
    expect(outcome(decideDisclosureRequest(c, procesregisseur, { ...tamaraRequest, purpose: AV }))).toMatchObject({ allowed: false, rule: 'deny-by-default', field: 'purpose' });
  });
  it('a role that may not look up cannot ask for content either, and names no field', () => {
    const d = decideDisclosureRequest(c, actor('gemeente', 'privacy-officer'), tamaraRequest);
    expect(outcome(d)).toEqual({ allowed: false, rule: 'action-not-permitted', approvalsNeeded: 0, breakGlass: false, field: undefined });
  });
});

// --- generated: one test per disclosure rule ------------------------------------------------------

// A deliberately naive reading of the raw YAML (no indexes, no sets). Visibility is taken from
// decideVisibility, which covenant.rules.test.ts checks rule by rule against its own oracle.
type Sel = { partners?: string[]; domains?: string[]; roles?: string[] };
type RawPartner = { id: string; domain: string; roles: string[] };
type RawPurpose = { id: string; legalBasis: string[]; requesters: { partner: string; roles: string[] }[] };
type RawDx = {
  id: string;
  effect: 'allow' | 'deny';
  description: string;
  purpose?: string;
  purposes?: '*' | string[];
  requester?: Sel;
  holder?: Sel;
  categories?: string[];
  legalBasis?: string[];
  approvals?: number;
  breakGlass?: { roles: string[] };
};
type RawDisclosure = {
  disclosure: { defaultApprovals: number; specialApprovals: number };
  dataCategories: { id: string; special: boolean }[];
  disclosureRules: RawDx[];
};
const rawPartners = (parse(files['partners.yaml'] ?? '') as { partners: RawPartner[] }).partners;
const rawPurposes = (parse(files['purposes.yaml'] ?? '') as { purposes: RawPurpose[] }).purposes;
const rawDisclosure = parse(files['disclosure.yaml'] ?? '') as RawDisclosure;
const domainOf = (id: string) => rawPartners.find((p) => p.id === id)?.domain;
const selects = (sel: Sel | undefined, partner: string, role?: string) =>
  (!sel?.partners || sel.partners.includes(partner)) &&
  (!sel?.domains || sel.domains.includes(domainOf(partner) ?? '')) &&
  (!sel?.roles || (role !== undefined && sel.roles.includes(role)));
const isSpecial = (k: string) => rawDisclosure.dataCategories.find((d) => d.id === k)?.special === true;

type Case = { purpose: string; partner: string; role: string; holder: string; category: string };
/** Whether a lookup could have shown the requester that the holder knows the person. */
const seesHolder = (k: Omit<Case, 'category'>) =>
  [...(c.partners.get(k.holder)?.registers.categories ?? [])].some(
    (category) => decideVisibility(c, actor(k.partner, k.role), k.purpose, { partner: k.holder, category }).allowed,
  );
/** Expected deciding rule id for a one-category request, or 'not-visible' when the requester cannot see the holder. */
function oracle(k: Case): string {
  const appliesTo = (r: RawDx) => (r.effect === 'allow' ? r.purpose === k.purpose : r.purposes === '*' || (r.purposes ?? []).includes(k.purpose));
  const base = (r: RawDx) => appliesTo(r) && selects(r.requester, k.partner, k.role) && selects(r.holder, k.holder);
  const denied = rawDisclosure.disclosureRules.find((r) => r.effect === 'deny' && base(r) && (!r.categories || r.categories.includes(k.category)));
  if (denied) return denied.id;
  if (!seesHolder(k)) return 'not-visible';
  const allowed = rawDisclosure.disclosureRules.find((r) => r.effect === 'allow' && base(r) && (r.categories ?? []).includes(k.category));
  return allowed?.id ?? 'deny-by-default';
}
const rawRule = (id: string) => rawDisclosure.disclosureRules.find((r) => r.id === id);
const expectedApprovals = (r: RawDx, categories: string[]) =>
  r.approvals ?? (categories.some(isSpecial) ? rawDisclosure.disclosure.specialApprovals : rawDisclosure.disclosure.defaultApprovals);

const cases: (Case & { expected: string })[] = rawPurposes.flatMap((p) =>
  p.requesters.flatMap((q) =>
    q.roles.flatMap((role) =>
      rawPartners
        .filter((h) => h.id !== q.partner)
        .flatMap((h) =>
          rawDisclosure.dataCategories.map((d) => {
            const k = { purpose: p.id, partner: q.partner, role, holder: h.id, category: d.id };
            return { ...k, expected: oracle(k) };
          }),
        ),
    ),
  ),
);
const show = (k: Case) => `${k.partner}/${k.role} ${k.purpose} → ${k.holder} (${k.category})`;
const ask = (k: Case & { expected: string }, over: Partial<DisclosureRequest> = {}) => {
  const r = rawRule(k.expected);
  return decideDisclosureRequest(
    c,
    actor(k.partner, k.role),
    request({ holder: k.holder, purpose: k.purpose, categories: [k.category], legalBasis: r?.legalBasis?.[0] ?? 'avg-6-1-e', ...over }),
  );
};

describe('disclosure.yaml, rule by rule', () => {
  for (const rule of rawDisclosure.disclosureRules) {
    it(`${rule.id} ${rule.effect === 'allow' ? 'allows' : 'denies'}: ${rule.description}`, () => {
      const decided = cases.filter((k) => k.expected === rule.id);
      expect(decided.length, `${rule.id} decides no case`).toBeGreaterThan(0);
      for (const k of decided) {
        const d = ask(k);
        expect({ case: show(k), allowed: d.allowed, rule: d.rule }).toEqual({ case: show(k), allowed: rule.effect === 'allow', rule: rule.id });
        if (rule.effect === 'deny') continue;
        expect(d.approvalsNeeded, show(k)).toBe(expectedApprovals(rule, [k.category]));
        // Every legal basis the rule lists will do; one of the purpose's it does not list will not.
        for (const basis of rule.legalBasis ?? []) expect(ask(k, { legalBasis: basis }).allowed, `${show(k)} on ${basis}`).toBe(true);
        const other = rawPurposes.find((p) => p.id === k.purpose)?.legalBasis.find((b) => !(rule.legalBasis ?? []).includes(b));
        if (other !== undefined) expect(ask(k, { legalBasis: other }), `${show(k)} on ${other}`).toMatchObject({ allowed: false, field: 'legalBasis' });
        // Break the glass exactly where the rule names the role.
        const glass = ask(k, { urgency: 'emergency' });
        if (rule.breakGlass?.roles.includes(k.role)) expect(glass).toMatchObject({ allowed: true, breakGlass: true, rule: rule.id });
        else expect(glass).toMatchObject({ allowed: false, rule: 'break-glass-not-allowed', field: 'urgency' });
      }
      if (rule.effect === 'allow') {
        // All of the rule's categories in one request: one decision, special ones mean four eyes.
        const k = decided[0]!;
        const all = rule.categories ?? [];
        const d = decideDisclosureRequest(c, actor(k.partner, k.role), request({ holder: k.holder, purpose: k.purpose, categories: all, legalBasis: rule.legalBasis?.[0] ?? '' }));
        expect(outcome(d)).toMatchObject({ allowed: true, rule: rule.id, approvalsNeeded: expectedApprovals(rule, all) });
      }
    });
  }
  it('a requester may only ask a holder it can see for the purpose', () => {
    const unseen = cases.filter((k) => k.expected === 'not-visible');
    expect(unseen.length).toBeGreaterThan(0);
    for (const k of unseen) expect(ask(k), show(k)).toMatchObject({ allowed: false, field: 'holder' });
  });
  it('everything else is denied by default', () => {
    const rest = cases.filter((k) => k.expected === 'deny-by-default');
    expect(rest.length).toBeGreaterThan(0);
    for (const k of rest) expect(ask(k), show(k)).toMatchObject({ allowed: false, rule: 'deny-by-default' });
  });
  it('every data category can be asked of someone, or is named by a deny rule', () => {
    for (const { id } of rawDisclosure.dataCategories) {
      const used = rawDisclosure.disclosureRules.some((r) => r.categories?.includes(id));
      expect(used, id).toBe(true);
    }
  });
});

describe('the disclosure table in `kenbaar policy check`', () => {
  it('lists every allow rule once, with the approvals the decision gives', () => {
    const table = disclosureTable(c);
    expect(table.map((r) => r.rule)).toEqual(rawDisclosure.disclosureRules.filter((r) => r.effect === 'allow').map((r) => r.id));
    const pr01 = table.find((r) => r.rule === 'DX-PR-01');
    expect(pr01).toMatchObject({ purpose: PR, holders: ['ggz', 'verslavingszorg'], approvals: { min: 2, max: 2 }, breakGlass: [] });
    expect(table.find((r) => r.rule === 'DX-AV-01')).toMatchObject({ holders: ['veilig-thuis'], approvals: { min: 1, max: 2 }, breakGlass: ['professional'] });
    for (const row of table) {
      const k = cases.find((x) => x.expected === row.rule)!;
      const d = decideDisclosureRequest(c, actor(k.partner, k.role), request({ holder: k.holder, purpose: row.purpose, categories: row.categories.map((x) => x.id), legalBasis: rawRule(row.rule)?.legalBasis?.[0] ?? '' }));
      expect(d.approvalsNeeded, row.rule).toBe(row.approvals.max);
    }
  });
  it('is printed after the visibility matrix, with the deny rules', () => {
    const text = formatVisibilityMatrix(c);
    expect(text).toMatch(/^Disclosure of content \(art\. 15\)/m);
    expect(text).toMatch(/^DX-PR-01\s+GEM \/ procesregisseur\s+GGZ, VZ\s+behandelrelatie\*, contactgegevens-behandelaar\s+2 orgs\s+—$/m);
    expect(text).toMatch(/^DX-AV-01\s+POL \/ professional\s+VT\s+.*\s+1–2 orgs\s+professional$/m);
    expect(text).toMatch(/^ {2}DXD-ZORG-POLITIE: /m);
  });
});

// --- loader -----------------------------------------------------------------------------------

function mutate(file: string, change: (doc: any) => void): Record<string, string> {
  const doc = parse(files[file] ?? '');
  change(doc);
  return { ...files, [file]: stringify(doc) };
}
function loadError(input: Record<string, string>): CovenantError {
  try {
    loadCovenant(input);
  } catch (e) {
    if (e instanceof CovenantError) return e;
    throw e;
  }
  throw new Error('expected the covenant to be rejected');
}
const D = 'disclosure.yaml';
/** Index of a disclosure rule in the file, so the cases read by id. */
const at = (id: string) => rawDisclosure.disclosureRules.findIndex((r) => r.id === id);
const rule = (d: any, id: string) => d.disclosureRules[at(id)];

describe('broken disclosure sections name the file, the path and the reason', () => {
  const pr01 = at('DX-PR-01');
  const av01 = at('DX-AV-01');
  const cases: { name: string; input: () => Record<string, string>; file: string; path: string; reason: string | RegExp }[] = [
    {
      name: 'an unknown data category in a rule',
      input: () => mutate(D, (d) => rule(d, 'DX-PR-01').categories.push('medisch-dossier')),
      file: D,
      path: `disclosureRules[${pr01}].categories[2]`,
      reason: 'unknown data category "medisch-dossier"',
    },
    {
      name: 'a registration category where a data category belongs',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').categories = ['verslavingszorg-behandeling'])),
      file: D,
      path: `disclosureRules[${pr01}].categories[0]`,
      reason: 'unknown data category "verslavingszorg-behandeling"',
    },
    {
      name: "a legal basis that is not the purpose's",
      input: () => mutate(D, (d) => rule(d, 'DX-PR-01').legalBasis.push('pbw-2-3')),
      file: D,
      path: `disclosureRules[${pr01}].legalBasis[2]`,
      reason: 'legal basis "pbw-2-3" is not one of purpose "procesregie-casus-op-maat"\'s legal bases',
    },
    {
      name: 'an unknown legal basis in a rule',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').legalBasis = ['AVG art. 9'])),
      file: D,
      path: `disclosureRules[${pr01}].legalBasis[0]`,
      reason: /kebab-case/,
    },
    {
      name: 'an unknown legal basis in a purpose',
      input: () => mutate('purposes.yaml', (d) => d.purposes[1].legalBasis.push('wet-op-de-jeugdzorg')),
      file: 'purposes.yaml',
      path: 'purposes[1].legalBasis[3]',
      reason: 'unknown legal basis "wet-op-de-jeugdzorg"',
    },
    {
      name: 'a legal basis listed twice by a purpose',
      input: () => mutate('purposes.yaml', (d) => d.purposes[1].legalBasis.push('avg-6-1-e')),
      file: 'purposes.yaml',
      path: 'purposes[1].legalBasis[3]',
      reason: 'legal basis "avg-6-1-e" is listed twice',
    },
    {
      name: 'a duplicate legal basis id',
      input: () => mutate('purposes.yaml', (d) => (d.legalBases[1].id = 'avg-6-1-e')),
      file: 'purposes.yaml',
      path: 'legalBases[1].id',
      reason: 'duplicate legal basis id "avg-6-1-e" (first defined at purposes.yaml: legalBases[0])',
    },
    {
      name: 'an approvals override below four eyes on a rule with a special category',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').approvals = 1)),
      file: D,
      path: `disclosureRules[${pr01}].approvals`,
      reason: 'is less than specialApprovals (2), and special category "behandelrelatie" may be asked',
    },
    {
      name: 'a zero approvals override',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-05').approvals = 0)),
      file: D,
      path: `disclosureRules[${at('DX-PR-05')}].approvals`,
      reason: 'must be a positive number of approvals',
    },
    {
      name: 'a break-glass role that is not a requester role of the rule',
      input: () => mutate(D, (d) => (rule(d, 'DX-AV-01').breakGlass.roles = ['informatiemakelaar'])),
      file: D,
      path: `disclosureRules[${av01}].breakGlass.roles[0]`,
      reason: 'role "informatiemakelaar" is not one of the rule\'s requester roles',
    },
    {
      name: 'a grant for a requester that may not use the purpose',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').requester.partners = ['politie'])),
      file: D,
      path: `disclosureRules[${pr01}].requester.partners[0]`,
      reason: 'partner "politie" holds none of the listed roles',
    },
    {
      name: 'a grant to a role that may not use the purpose',
      input: () => mutate(D, (d) => (rule(d, 'DX-AV-01').requester = { partners: ['politie'], roles: ['informatiemakelaar'] })),
      file: D,
      path: `disclosureRules[${av01}].requester.partners[0]`,
      reason: 'partner "politie" may not look up for "acuut-veiligheidsrisico" in any listed role (see purposes)',
    },
    {
      name: 'a grant for a holder the requester can never see (no visibility rule backs it)',
      input: () => mutate(D, (d) => rule(d, 'DX-PR-01').requester.roles.push('informatiemakelaar')),
      file: D,
      path: `disclosureRules[${pr01}].requester.partners[0]`,
      reason: '"gemeente" as "informatiemakelaar" can never see "ggz" for "procesregie-casus-op-maat" (visibility), so it could not ask it for content',
    },
    {
      name: 'an allow rule for every purpose',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').purposes = '*')),
      file: D,
      path: `disclosureRules[${pr01}].purposes`,
      reason: 'unknown key "purposes"',
    },
    {
      name: 'an allow rule for every holder',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').holder = {})),
      file: D,
      path: `disclosureRules[${pr01}].holder`,
      reason: 'an allow rule must name partners or domains',
    },
    {
      name: 'registration categories in a holder selector',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').holder.categories = ['ggz-behandeling'])),
      file: D,
      path: `disclosureRules[${pr01}].holder.categories`,
      reason: 'unknown key "categories"',
    },
    {
      name: 'a rule id used elsewhere',
      input: () => mutate(D, (d) => (rule(d, 'DX-PR-01').id = 'V-PR-01')),
      file: D,
      path: `disclosureRules[${pr01}].id`,
      reason: 'duplicate rule id "V-PR-01" (first defined at visibility.yaml: visibility[4].id)',
    },
    {
      name: 'a deny rule for an unknown purpose',
      input: () => mutate(D, (d) => (d.disclosureRules[0].purposes = ['nieuwsgierigheid'])),
      file: D,
      path: 'disclosureRules[0].purposes[0]',
      reason: 'unknown purpose "nieuwsgierigheid"',
    },
    {
      name: 'a special data category without its kind',
      input: () => mutate(D, (d) => delete d.dataCategories[1].specialKind),
      file: D,
      path: 'dataCategories[1].specialKind',
      reason: 'required when special is true',
    },
    {
      name: 'a duplicate data category id',
      input: () => mutate(D, (d) => (d.dataCategories[2].id = 'behandelrelatie')),
      file: D,
      path: 'dataCategories[2].id',
      reason: 'duplicate data category id "behandelrelatie" (first defined at disclosure.yaml: dataCategories[1])',
    },
    {
      name: 'no disclosure section',
      input: () => mutate(D, (d) => delete d.disclosure),
      file: '(all files)',
      path: 'disclosure',
      reason: 'no file defines the disclosure section',
    },
    {
      name: 'a second disclosure section',
      input: () => ({ ...files, 'zz-extra.yaml': stringify({ disclosure: rawDisclosure.disclosure }) }),
      file: 'zz-extra.yaml',
      path: 'disclosure',
      reason: 'disclosure is already defined in disclosure.yaml',
    },
    {
      name: 'the minimum justification in the covenant section (one source of truth)',
      input: () => mutate('covenant.yaml', (d) => (d.covenant.minJustificationLength = 40)),
      file: 'covenant.yaml',
      path: 'covenant.minJustificationLength',
      reason: 'unknown key "minJustificationLength"',
    },
    {
      name: 'fewer approvals for special data than for other data',
      input: () => mutate(D, (d) => Object.assign(d.disclosure, { specialApprovals: 1, defaultApprovals: 2 })),
      file: D,
      path: 'disclosure.specialApprovals',
      reason: 'is less than defaultApprovals (2); special data needs at least as many',
    },
    {
      name: 'a break-glass grant longer than a regular one',
      input: () => mutate(D, (d) => (d.disclosure.breakGlassValidityMinutes = 169 * 60)),
      file: D,
      path: 'disclosure.breakGlassValidityMinutes',
      reason: 'exceeds grantValidityHours (168 h); a break-glass grant is the short one',
    },
    {
      name: 'relayed content outliving its grant',
      input: () => mutate(D, (d) => (d.disclosure.relayRetentionHours = 200)),
      file: D,
      path: 'disclosure.relayRetentionHours',
      reason: 'exceeds grantValidityHours (168); relayed content must not outlive its grant',
    },
    {
      name: 'a broker partner without brokers',
      input: () => mutate(D, (d) => d.disclosure.brokerPartners.push('woningcorporatie')),
      file: D,
      path: 'disclosure.brokerPartners[1]',
      reason: 'partner "woningcorporatie" holds no role that may decide-disclosure',
    },
    {
      name: 'an unknown broker partner',
      input: () => mutate(D, (d) => (d.disclosure.brokerPartners = ['zvh'])),
      file: D,
      path: 'disclosure.brokerPartners[0]',
      reason: 'unknown partner "zvh"',
    },
    {
      name: 'a fractional validity',
      input: () => mutate(D, (d) => (d.disclosure.grantValidityHours = 1.5)),
      file: D,
      path: 'disclosure.grantValidityHours',
      reason: 'must be a whole number of hours',
    },
  ];

  for (const k of cases) {
    it(`rejects ${k.name}`, () => {
      const e = loadError(k.input());
      expect({ file: e.file, path: e.path }).toEqual({ file: k.file, path: k.path });
      if (typeof k.reason === 'string') expect(e.reason).toBe(k.reason);
      else expect(e.reason).toMatch(k.reason);
      expect(e.message).toBe(`${e.file}: ${e.path}: ${e.reason}`);
    });
  }

  it('indexes every disclosure rule with its kind, effect, article and file', () => {
    expect(c.rules.get('DX-PR-01')).toMatchObject({ kind: 'disclosure', effect: 'allow', article: '15a', file: D });
    expect(c.rules.get('DXD-ZORG-POLITIE')).toMatchObject({ kind: 'disclosure', effect: 'deny', article: '12', file: D });
    for (const r of c.disclosureRules) expect(c.rules.get(r.id)?.kind).toBe('disclosure');
    expect(c.index.disclosure.get(PR)?.deny.map((r) => r.id)).toEqual(['DXD-ZORG-POLITIE', 'DXD-ZORG-OM', 'DXD-ZORG-WONEN', 'DXD-VT-WONEN', 'DXD-DIAGNOSE']);
    expect(c.index.disclosure.get(AV)?.allow.map((r) => r.id)).toEqual(['DX-AV-01', 'DX-AV-02', 'DX-AV-03']);
  });

  it('marks health and criminal data categories as special', () => {
    const special = [...c.dataCategories.values()].filter((k) => k.special).map((k) => `${k.id}:${k.specialKind}`);
    expect(special).toEqual([
      'behandelrelatie:gezondheid',
      'verslavingsproblematiek:gezondheid',
      'psychische-gezondheid:gezondheid',
      'justitiele-gegevens:strafrechtelijk',
      'politiele-incidenten:strafrechtelijk',
      'veiligheidsrisico:strafrechtelijk',
      'huiselijk-geweld-meldingen:strafrechtelijk',
    ]);
  });

  it('an explicit visibility deny quietly overrides a disclosure grant: the covenant loads, the request is refused by that deny', () => {
    const narrowed = mutate('visibility.yaml', (d) =>
      d.visibility.push({
        id: 'D-VT-POLITIE',
        effect: 'deny',
        article: '12',
        description: 'Veilig Thuis reports are never visible to the politie.',
        purposes: '*',
        requester: { partners: ['politie'] },
        holder: { partners: ['veilig-thuis'] },
      }),
    );
    const c2 = loadCovenant(narrowed);
    expect(outcome(decideDisclosureRequest(c2, wijkagent, breakGlassRequest))).toMatchObject({ allowed: false, rule: 'D-VT-POLITIE', field: 'holder' });
  });
});

// --- properties ---------------------------------------------------------------------------------

const fixed = new Set<string>(FIXED_RULE_IDS);
const partnerIds = [...c.partners.keys()];
const roleIds = [...c.roles.keys()];
const purposeIds = [...c.purposes.keys()];
const dataCategoryIds = [...c.dataCategories.keys()];
const legalBasisIds = [...c.legalBases.keys()];
const known = new Set([...partnerIds, ...roleIds, ...purposeIds, ...dataCategoryIds, ...legalBasisIds]);
const unknownId = fc.string({ maxLength: 20 }).filter((s) => !known.has(s));
const pick = (ids: string[]) => fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: unknownId });

/** Mostly plausible requesters (purpose requesters), some random actors. */
const requesterArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...[...c.purposes.values()].flatMap((p) => p.requesters.flatMap((q) => q.roles.map((role) => ({ partner: q.partner, role }))))) },
  { weight: 1, arbitrary: fc.record({ partner: pick(partnerIds), role: pick(roleIds) }) },
).map((a) => ({ ...a, sub: 's' }));
const requestArb: fc.Arbitrary<DisclosureRequest> = fc.record({
  holder: pick(partnerIds),
  purpose: pick(purposeIds),
  legalBasis: pick(legalBasisIds),
  categories: fc.array(pick(dataCategoryIds), { maxLength: 4 }),
  urgency: fc.constantFrom('regular' as const, 'emergency' as const),
  justificationLength: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(40), fc.constant(39)),
});

function checkDecision(cov: Covenant, a: Actor, req: DisclosureRequest, d: DisclosureDecision): void {
  expect(d.reason.length).toBeGreaterThan(0);
  if (!d.allowed) {
    expect({ approvalsNeeded: d.approvalsNeeded, breakGlass: d.breakGlass }).toEqual({ approvalsNeeded: 0, breakGlass: false });
    if (!fixed.has(d.rule)) expect(cov.rules.get(d.rule)?.effect, d.rule).toBe('deny');
    return;
  }
  expect(cov.rules.get(d.rule)).toMatchObject({ kind: 'disclosure', effect: 'allow' });
  expect(req.holder).not.toBe(a.partner);
  expect(req.justificationLength).toBeGreaterThanOrEqual(cov.disclosure.minJustificationLength);
  expect(cov.purposes.get(req.purpose)?.legalBasis).toContain(req.legalBasis);
  expect(d.breakGlass).toBe(req.urgency === 'emergency');
  expect(d.approvalsNeeded).toBeGreaterThanOrEqual(cov.disclosure.defaultApprovals);
  if (req.categories.some((k) => cov.dataCategories.get(k)?.special)) {
    expect(d.approvalsNeeded).toBeGreaterThanOrEqual(cov.disclosure.specialApprovals);
    expect(d.approvalsNeeded).toBeGreaterThanOrEqual(2);
  }
  // One only asks a partner a lookup could have shown.
  const holder = cov.partners.get(req.holder);
  expect([...(holder?.registers.categories ?? [])].some((category) => decideVisibility(cov, a, req.purpose, { partner: req.holder, category }).allowed)).toBe(true);
}

describe('disclosure properties', () => {
  it('deny by default: anything unknown is refused with a fixed rule id; every decision names a rule that exists', () => {
    fc.assert(
      fc.property(requesterArb, requestArb, (a, req) => {
        const d = decideDisclosureRequest(c, a, req);
        checkDecision(c, a, req, d);
        const unknown = [a.partner, a.role, req.holder, req.purpose, ...req.categories].some((s) => !known.has(s));
        if (unknown) {
          expect(d.allowed).toBe(false);
          expect(fixed.has(d.rule), d.rule).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('approvalsNeeded ≥ 2 whenever a special category is asked, and the order of categories does not matter', () => {
    // Requests that get past the purpose and the holder, to reach the allow rules often.
    const plausible = fc
      .constantFrom(...cases.filter((k) => rawRule(k.expected)?.effect === 'allow'))
      .chain((k) =>
        fc.record({
          k: fc.constant(k),
          categories: fc.shuffledSubarray(rawRule(k.expected)?.categories ?? [], { minLength: 1 }),
          urgency: fc.constantFrom('regular' as const, 'emergency' as const),
        }),
      );
    fc.assert(
      fc.property(plausible, ({ k, categories, urgency }) => {
        const a = actor(k.partner, k.role);
        const req = request({ holder: k.holder, purpose: k.purpose, categories, urgency, legalBasis: rawRule(k.expected)?.legalBasis?.[0] ?? '' });
        const d = decideDisclosureRequest(c, a, req);
        checkDecision(c, a, req, d);
        if (urgency === 'regular') expect(d.allowed).toBe(true);
        const reversed = decideDisclosureRequest(c, a, { ...req, categories: [...categories].reverse() });
        expect(outcome(reversed)).toEqual(outcome(d));
      }),
      { numRuns: 500 },
    );
  });

  it('a broker never weighs its own organisation\'s request, and only with a role that may decide-disclosure', () => {
    const brokerArb = fc.record({ partner: pick(partnerIds), role: pick(roleIds), sub: fc.constant('b') });
    const aboutArb = fc.record({ requester: pick(partnerIds), holder: pick(partnerIds), purpose: pick(purposeIds) });
    fc.assert(
      fc.property(brokerArb, aboutArb, (b, about) => {
        const d = decideDisclosureDecision(c, b, about);
        if (!d.allowed) {
          if (!fixed.has(d.rule)) expect(c.rules.get(d.rule)?.effect).toBe('deny');
          return;
        }
        expect(b.partner).not.toBe(about.requester);
        expect(c.roles.get(b.role)?.actions.has('decide-disclosure')).toBe(true);
        expect(c.partners.get(b.partner)?.roles.has(b.role)).toBe(true);
        expect(c.disclosure.brokerPartners.has(b.partner) || b.partner === about.holder).toBe(true);
        expect(d.rule).toBe(c.roles.get(b.role)?.rule);
      }),
      { numRuns: 1000 },
    );
  });

  it('reading a request is never wider than weighing it: outside the requesting organisation and the holder of an approved request, only brokers who may decide it read it', () => {
    const readerArb = fc.record({ partner: pick(partnerIds), role: pick(roleIds), sub: fc.constant('r') });
    const aboutArb = fc.record({ requester: pick(partnerIds), holder: pick(partnerIds), purpose: pick(purposeIds), status: fc.constantFrom('pending' as const, 'approved' as const, 'rejected' as const) });
    fc.assert(
      fc.property(readerArb, aboutArb, (r, about) => {
        const d = decideDisclosureRead(c, r, about);
        expect(fixed.has(d.rule) || c.rules.has(d.rule), d.rule).toBe(true);
        const involved = c.partners.has(r.partner) && (r.partner === about.requester || (r.partner === about.holder && about.status === 'approved'));
        expect(d.allowed).toBe(involved || decideDisclosureDecision(c, r, about).allowed);
      }),
      { numRuns: 1000 },
    );
    // The case the outsider found: the politie's broker, refused when deciding, cannot read either.
    const about = { requester: 'gemeente', holder: 'verslavingszorg', purpose: PR, status: 'pending' as const };
    expect(decideDisclosureDecision(c, actor('politie', 'informatiemakelaar'), about).allowed).toBe(false);
    expect(decideDisclosureRead(c, actor('politie', 'informatiemakelaar'), about)).toMatchObject({ allowed: false, rule: 'deny-by-default' });
    expect(decideDisclosureRead(c, actor('verslavingszorg', 'professional'), { ...about, status: 'approved' })).toMatchObject({ allowed: true, rule: 'addressed-holder' });
    expect(decideDisclosureRead(c, actor('gemeente', 'partner-system'), about)).toMatchObject({ allowed: true, rule: 'requesting-organisation' });
  });

  it('determinism: the same request gets the same answer from a freshly loaded covenant', () => {
    const again = loadCovenant({ ...files });
    fc.assert(
      fc.property(requesterArb, requestArb, (a, req) => {
        expect(decideDisclosureRequest(again, a, req)).toEqual(decideDisclosureRequest(c, a, req));
      }),
      { numRuns: 300 },
    );
  });

  it('an extra allow rule, even first in the file, never overrides a disclosure deny rule', () => {
    // Grants that pass the loader: a purpose requester, a holder it can see, some categories.
    const grantable = cases.filter(seesHolder);
    const extraArb = fc
      .constantFrom(...grantable)
      .chain((k) =>
        fc.record({
          k: fc.constant(k),
          categories: fc.subarray(dataCategoryIds, { minLength: 1 }),
          legalBasis: fc.subarray([...(c.purposes.get(k.purpose)?.legalBasis ?? [])], { minLength: 1 }),
          glass: fc.boolean(),
        }),
      );
    const denied = cases.filter((k) => rawRule(k.expected)?.effect === 'deny');
    fc.assert(
      fc.property(extraArb, ({ k, categories, legalBasis, glass }) => {
        const widened = loadCovenant(
          mutate(D, (d) => {
            d.disclosure.approvers = 'distinct-brokers'; // any holder, one that has brokers or not
            d.disclosureRules.unshift({
              id: 'DX-GEN-01',
              effect: 'allow',
              article: '15',
              description: 'generated',
              purpose: k.purpose,
              requester: { partners: [k.partner], roles: [k.role] },
              holder: { partners: [k.holder] },
              categories,
              legalBasis,
              approvals: 2,
              ...(glass ? { breakGlass: { roles: [k.role] } } : {}),
            });
          }),
        );
        for (const x of denied) {
          for (const urgency of ['regular', 'emergency'] as const) {
            const over = { urgency, legalBasis: legalBasis[0] ?? '' };
            expect(outcome(ask(x, over)), show(x)).toMatchObject({ allowed: false, rule: x.expected });
            const after = decideDisclosureRequest(widened, actor(x.partner, x.role), request({ holder: x.holder, purpose: x.purpose, categories: [x.category], ...over }));
            expect(outcome(after), show(x)).toMatchObject({ allowed: false, rule: x.expected });
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});
