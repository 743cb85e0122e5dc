// The demo covenant's rules, tested as the covenant reads: hand-written cases for the ones that
// matter most (Den Ouden, art. 12), and one generated test per written rule, checked against a
// small independent reading of the raw YAML so the decision functions are not their own oracle.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ACTIONS,
  categoryRetention,
  clampExpiry,
  decideAction,
  decideMatchNotice,
  decidePurpose,
  decideRegistration,
  decideVisibility,
  loadCovenant,
  maxExpiry,
  type Actor,
  type Decision,
} from '../src/covenant/index';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';

const files = readCovenantDir(DEFAULT_COVENANT_DIR);
const c = loadCovenant(files);

const actor = (partner: string, role: string): Actor => ({ partner, role, sub: `${partner}-${role}-1` });
const expectDecision = (d: Decision, allowed: boolean, rule: string) => expect({ allowed: d.allowed, rule: d.rule }).toEqual({ allowed, rule });

const PR = 'procesregie-casus-op-maat';
const VJ = 'vroegsignalering-jeugd';
const PGA = 'persoonsgerichte-aanpak-top-x';
const NZ = 'nazorg-ex-gedetineerden';

const procesregisseur = actor('gemeente', 'procesregisseur');
const informatiemakelaar = actor('gemeente', 'informatiemakelaar');
const wijkagent = actor('politie', 'professional');

describe('Den Ouden case (IJsselstraat 3): what the procesregisseur learns for procesregie-casus-op-maat', () => {
  it('the woningcorporatie may register woonoverlast for the family (R-WONINGCORPORATIE)', () => {
    expectDecision(decideRegistration(c, actor('woningcorporatie', 'partner-system'), 'woonoverlast'), true, 'R-WONINGCORPORATIE');
  });
  it('the politie may register its involvement with the father (R-POLITIE)', () => {
    expectDecision(decideRegistration(c, actor('politie', 'partner-system'), 'politie-betrokkenheid'), true, 'R-POLITIE');
  });
  it('verslavingszorg may register addiction care for the mother (R-VERSLAVINGSZORG)', () => {
    expectDecision(decideRegistration(c, actor('verslavingszorg', 'professional'), 'verslavingszorg-behandeling'), true, 'R-VERSLAVINGSZORG');
  });
  it('the procesregisseur may register procesregie for each family member (R-GEMEENTE)', () => {
    expectDecision(decideRegistration(c, procesregisseur, 'procesregie'), true, 'R-GEMEENTE');
  });
  it('the procesregisseur of the gemeente may look up for procesregie-casus-op-maat (P-PR-01)', () => {
    expectDecision(decidePurpose(c, procesregisseur, PR), true, 'P-PR-01');
  });
  it('the procesregisseur of the gemeente sees that the politie knows the father (V-PR-01)', () => {
    expectDecision(decideVisibility(c, procesregisseur, PR, { partner: 'politie', category: 'politie-betrokkenheid' }), true, 'V-PR-01');
  });
  it('the procesregisseur of the gemeente sees verslavingszorg registrations for procesregie-casus-op-maat (V-PR-02)', () => {
    expectDecision(decideVisibility(c, procesregisseur, PR, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' }), true, 'V-PR-02');
  });
  it('the procesregisseur of the gemeente sees GGZ registrations for procesregie-casus-op-maat (V-PR-02)', () => {
    expectDecision(decideVisibility(c, procesregisseur, PR, { partner: 'ggz', category: 'ggz-behandeling' }), true, 'V-PR-02');
  });
  it('the procesregisseur of the gemeente sees that the woningcorporatie registered the family (V-PR-03)', () => {
    expectDecision(decideVisibility(c, procesregisseur, PR, { partner: 'woningcorporatie', category: 'woonoverlast' }), true, 'V-PR-03');
  });
  it('the procesregisseur of the gemeente later sees the wijkteam-jeugd registrations of the children (V-PR-04)', () => {
    expectDecision(decideVisibility(c, procesregisseur, PR, { partner: 'wijkteam-jeugd', category: 'jeugdhulp' }), true, 'V-PR-04');
  });
  it('the informatiemakelaar of the gemeente sees the politie but not verslavingszorg (health data is for the procesregisseur only)', () => {
    expectDecision(decideVisibility(c, informatiemakelaar, PR, { partner: 'politie', category: 'politie-betrokkenheid' }), true, 'V-PR-01');
    expectDecision(decideVisibility(c, informatiemakelaar, PR, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' }), false, 'deny-by-default');
  });
  it('a gemeente professional may not look up for procesregie-casus-op-maat', () => {
    expectDecision(decidePurpose(c, actor('gemeente', 'professional'), PR), false, 'deny-by-default');
  });

  it('the gemeente procesregie registration is matched with the politie, verslavingszorg, woningcorporatie and wijkteam (M-PR-01)', () => {
    const procesregie = { partner: 'gemeente', category: 'procesregie' };
    for (const other of [
      { partner: 'politie', category: 'politie-betrokkenheid' },
      { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' },
      { partner: 'woningcorporatie', category: 'woonoverlast' },
      { partner: 'wijkteam-jeugd', category: 'jeugdhulp' },
    ]) {
      expectDecision(decideMatchNotice(c, procesregie, other), true, 'M-PR-01');
    }
  });
  it('the politie, verslavingszorg, wijkteam and woningcorporatie are told that the Zorg- en Veiligheidshuis holds procesregie (M-PR-02)', () => {
    const procesregie = { partner: 'gemeente', category: 'procesregie' };
    for (const recipient of [
      { partner: 'politie', category: 'politie-betrokkenheid' },
      { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' },
      { partner: 'wijkteam-jeugd', category: 'jeugdhulp' },
      { partner: 'woningcorporatie', category: 'woonoverlast' },
    ]) {
      expectDecision(decideMatchNotice(c, recipient, procesregie), true, 'M-PR-02');
    }
  });
  it('the politie is never told that verslavingszorg registered the mother (MD-ZORG-POLITIE)', () => {
    expectDecision(
      decideMatchNotice(c, { partner: 'politie', category: 'politie-betrokkenheid' }, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' }),
      false,
      'MD-ZORG-POLITIE',
    );
  });
  it('verslavingszorg is not told that the politie knows the father (deny-by-default)', () => {
    expectDecision(
      decideMatchNotice(c, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' }, { partner: 'politie', category: 'politie-betrokkenheid' }),
      false,
      'deny-by-default',
    );
  });
  it('the woningcorporatie is never told about verslavingszorg (MD-ZORG-WONEN) or Veilig Thuis (MD-VT-WONEN)', () => {
    const woco = { partner: 'woningcorporatie', category: 'woonoverlast' };
    expectDecision(decideMatchNotice(c, woco, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' }), false, 'MD-ZORG-WONEN');
    expectDecision(decideMatchNotice(c, woco, { partner: 'veilig-thuis', category: 'huiselijk-geweld-melding' }), false, 'MD-VT-WONEN');
  });
  it('the woningcorporatie learns only that the Zorg- en Veiligheidshuis took up the case it reported (V-PR-05)', () => {
    const woco = actor('woningcorporatie', 'professional');
    expectDecision(decidePurpose(c, woco, PR), true, 'P-PR-02');
    expectDecision(decideVisibility(c, woco, PR, { partner: 'gemeente', category: 'procesregie' }), true, 'V-PR-05');
    expectDecision(decideVisibility(c, woco, PR, { partner: 'gemeente', category: 'nazorg-detentie' }), false, 'deny-by-default');
    expectDecision(decideVisibility(c, woco, PR, { partner: 'politie', category: 'politie-betrokkenheid' }), false, 'deny-by-default');
  });
});

describe('art. 12: zorg registrations never reach the politie', () => {
  it('police cannot see GGZ registrations for procesregie-casus-op-maat (it may not use that purpose at all)', () => {
    expectDecision(decideVisibility(c, wijkagent, PR, { partner: 'ggz', category: 'ggz-behandeling' }), false, 'deny-by-default');
  });
  it('police cannot see GGZ registrations for persoonsgerichte-aanpak-top-x (D-ZORG-POLITIE)', () => {
    expectDecision(decideVisibility(c, wijkagent, PGA, { partner: 'ggz', category: 'ggz-behandeling' }), false, 'D-ZORG-POLITIE');
  });
  it('police cannot see verslavingszorg registrations, not even as informatiemakelaar (D-ZORG-POLITIE)', () => {
    for (const role of ['professional', 'informatiemakelaar']) {
      expectDecision(
        decideVisibility(c, actor('politie', role), PGA, { partner: 'verslavingszorg', category: 'verslavingszorg-behandeling' }),
        false,
        'D-ZORG-POLITIE',
      );
    }
  });
  it('for every purpose the politie may use, every zorg registration is denied by D-ZORG-POLITIE', () => {
    for (const purpose of c.purposes.values()) {
      for (const role of c.partners.get('politie')?.roles ?? []) {
        if (!decidePurpose(c, actor('politie', role), purpose.id).allowed) continue;
        for (const holder of c.partners.values()) {
          if (holder.domain !== 'zorg') continue;
          for (const category of holder.registers.categories) {
            expectDecision(decideVisibility(c, actor('politie', role), purpose.id, { partner: holder.id, category }), false, 'D-ZORG-POLITIE');
          }
        }
      }
    }
  });
  it('the Openbaar Ministerie cannot see GGZ registrations for persoonsgerichte-aanpak-top-x (D-ZORG-OM)', () => {
    expectDecision(decideVisibility(c, actor('openbaar-ministerie', 'professional'), PGA, { partner: 'ggz', category: 'ggz-behandeling' }), false, 'D-ZORG-OM');
  });
  it('the woningcorporatie cannot see GGZ (D-ZORG-WONEN) or Veilig Thuis (D-VT-WONEN) registrations', () => {
    const woco = actor('woningcorporatie', 'professional');
    expectDecision(decideVisibility(c, woco, PR, { partner: 'ggz', category: 'ggz-behandeling' }), false, 'D-ZORG-WONEN');
    expectDecision(decideVisibility(c, woco, PR, { partner: 'veilig-thuis', category: 'huiselijk-geweld-melding' }), false, 'D-VT-WONEN');
  });
});

describe('purpose binding (doelbinding)', () => {
  it('the politie may not look up for vroegsignalering-jeugd, a purpose it may not use', () => {
    for (const role of ['professional', 'informatiemakelaar']) expectDecision(decidePurpose(c, actor('politie', role), VJ), false, 'deny-by-default');
    expectDecision(decideVisibility(c, wijkagent, VJ, { partner: 'veilig-thuis', category: 'huiselijk-geweld-melding' }), false, 'deny-by-default');
  });
  it('a purpose that does not exist is refused as unknown-purpose', () => {
    expectDecision(decidePurpose(c, procesregisseur, 'nieuwsgierigheid'), false, 'unknown-purpose');
  });
  it('a privacy officer may read the audit log but never look up (action-not-permitted)', () => {
    expectDecision(decideAction(c, actor('ggz', 'privacy-officer'), 'read-audit'), true, 'A-PRIVACY-OFFICER');
    expectDecision(decidePurpose(c, actor('ggz', 'privacy-officer'), PR), false, 'action-not-permitted');
  });
  it('a partner system registers but never looks up (action-not-permitted)', () => {
    expectDecision(decidePurpose(c, actor('politie', 'partner-system'), PGA), false, 'action-not-permitted');
  });
  it('a role the partner does not hold is refused (role-not-held)', () => {
    expectDecision(decidePurpose(c, actor('politie', 'procesregisseur'), PR), false, 'role-not-held');
    expectDecision(decideAction(c, actor('politie', 'burgemeester'), 'lookup'), false, 'role-not-held');
  });
  it('an unknown partner is refused (unknown-partner)', () => {
    expectDecision(decideAction(c, actor('bureau-halt', 'professional'), 'lookup'), false, 'unknown-partner');
  });
});

describe('vroegsignalering-jeugd, persoonsgerichte-aanpak-top-x, nazorg-ex-gedetineerden', () => {
  const wijkteam = actor('wijkteam-jeugd', 'professional');
  it('wijkteam-jeugd professionals see Veilig Thuis and the Raad voor de Kinderbescherming for vroegsignalering-jeugd (V-VJ-01)', () => {
    expectDecision(decideVisibility(c, wijkteam, VJ, { partner: 'veilig-thuis', category: 'huiselijk-geweld-melding' }), true, 'V-VJ-01');
    expectDecision(decideVisibility(c, wijkteam, VJ, { partner: 'raad-kinderbescherming', category: 'kinderbescherming' }), true, 'V-VJ-01');
  });
  it('wijkteam-jeugd professionals do not see the politie or GGZ for vroegsignalering-jeugd', () => {
    expectDecision(decideVisibility(c, wijkteam, VJ, { partner: 'politie', category: 'politie-betrokkenheid' }), false, 'deny-by-default');
    expectDecision(decideVisibility(c, wijkteam, VJ, { partner: 'ggz', category: 'ggz-behandeling' }), false, 'deny-by-default');
  });
  it('the wijkteam and Veilig Thuis are matched with each other on the same child (M-VJ-01)', () => {
    const w = { partner: 'wijkteam-jeugd', category: 'jeugdhulp' };
    const vt = { partner: 'veilig-thuis', category: 'huiselijk-geweld-melding' };
    expectDecision(decideMatchNotice(c, w, vt), true, 'M-VJ-01');
    expectDecision(decideMatchNotice(c, vt, w), true, 'M-VJ-01');
  });
  it('politie, OM and reclassering see each other for persoonsgerichte-aanpak-top-x (V-PGA-01)', () => {
    const holders = {
      politie: 'politie-betrokkenheid',
      'openbaar-ministerie': 'justitieel-traject',
      reclassering: 'reclasseringstoezicht',
    } as const;
    for (const requester of Object.keys(holders)) {
      for (const [holder, category] of Object.entries(holders)) {
        if (holder === requester) continue;
        expectDecision(decideVisibility(c, actor(requester, 'professional'), PGA, { partner: holder, category }), true, 'V-PGA-01');
      }
    }
  });
  it('reclassering sees the woningcorporatie and the gemeente for nazorg-ex-gedetineerden (V-NZ-01)', () => {
    const recl = actor('reclassering', 'professional');
    expectDecision(decideVisibility(c, recl, NZ, { partner: 'woningcorporatie', category: 'woonoverlast' }), true, 'V-NZ-01');
    expectDecision(decideVisibility(c, recl, NZ, { partner: 'gemeente', category: 'nazorg-detentie' }), true, 'V-NZ-01');
    expectDecision(decideVisibility(c, recl, NZ, { partner: 'politie', category: 'politie-betrokkenheid' }), false, 'deny-by-default');
  });
});

describe('retention (art. 14)', () => {
  const from = new Date('2026-03-01T10:00:00Z');
  it('a woonoverlast registration lives at most 365 days', () => {
    expect(maxExpiry(c, 'woonoverlast', from).toISOString()).toBe('2027-03-01T10:00:00.000Z');
  });
  it('no category lives longer than the Verwijsindex-like two years', () => {
    for (const category of c.categories.values()) expect(category.maxRetentionDays).toBeLessThanOrEqual(730);
    expect(maxExpiry(c, 'jeugdhulp', from).getTime() - from.getTime()).toBe(730 * 86_400_000);
  });
  it('the default term is the covenant default, capped by the category', () => {
    expect(categoryRetention(c, 'jeugdhulp')).toEqual({ maxRetentionDays: 730, defaultRetentionDays: 365 });
    expect(categoryRetention(c, 'onbekend')).toBeUndefined();
    expect(clampExpiry(c, 'jeugdhulp', from).toISOString()).toBe('2027-03-01T10:00:00.000Z');
  });
  it('a requested expiry beyond the maximum is clamped; a shorter one is kept', () => {
    expect(clampExpiry(c, 'woonoverlast', from, new Date('2030-01-01T00:00:00Z')).toISOString()).toBe('2027-03-01T10:00:00.000Z');
    expect(clampExpiry(c, 'woonoverlast', from, new Date('2026-06-01T00:00:00Z')).toISOString()).toBe('2026-06-01T00:00:00.000Z');
  });
  it('an unknown category has no expiry (RangeError)', () => {
    expect(() => maxExpiry(c, 'onbekend', from)).toThrow(RangeError);
  });
});

// --- generated: one test per written rule -------------------------------------------------------

// A deliberately naive reading of the raw YAML (no indexes, no sets): if it and decide.ts agree on
// every case, and every rule decides at least one case, the covenant means what it says.
type Sel = { partners?: string[]; domains?: string[]; roles?: string[]; categories?: string[] };
type RawPartner = { id: string; domain: string; roles: string[]; registers: { rule: string; categories: string[] } };
type RawRole = { id: string; rule: string; actions: string[] };
type RawPurpose = { id: string; requesters: { rule: string; partner: string; roles: string[] }[] };
type RawVis = { id: string; effect: 'allow' | 'deny'; description: string; purposes: '*' | string[]; requester?: Sel; holder?: Sel };
type RawMatch = { id: string; effect: 'allow' | 'deny'; description: string; purpose?: string; recipient?: Sel; other?: Sel; asVisibleTo?: string };

const raw = {
  partners: (parse(files['partners.yaml'] ?? '') as { partners: RawPartner[] }).partners,
  roles: (parse(files['roles.yaml'] ?? '') as { roles: RawRole[] }).roles,
  purposes: (parse(files['purposes.yaml'] ?? '') as { purposes: RawPurpose[] }).purposes,
  visibility: (parse(files['visibility.yaml'] ?? '') as { visibility: RawVis[] }).visibility,
  matches: (parse(files['matches.yaml'] ?? '') as { matches: RawMatch[] }).matches,
};
const partnerOf = (id: string): RawPartner => {
  const p = raw.partners.find((x) => x.id === id);
  if (!p) throw new Error(`no partner ${id}`);
  return p;
};
const selects = (sel: Sel | undefined, partner: string, extra: { role?: string; category?: string }): boolean =>
  (!sel?.partners || sel.partners.includes(partner)) &&
  (!sel?.domains || sel.domains.includes(partnerOf(partner).domain)) &&
  (!sel?.roles || (extra.role !== undefined && sel.roles.includes(extra.role))) &&
  (!sel?.categories || (extra.category !== undefined && sel.categories.includes(extra.category)));

type Reg = { partner: string; category: string };
const registrations: Reg[] = raw.partners.flatMap((p) => p.registers.categories.map((category) => ({ partner: p.id, category })));

/** Expected visibility decision (rule id) for a requester already allowed the purpose. */
function oracleVisibility(purpose: string, partner: string, role: string, holder: Reg): string {
  const applies = (r: RawVis) =>
    (r.purposes === '*' || r.purposes.includes(purpose)) &&
    selects(r.requester, partner, { role }) &&
    selects(r.holder, holder.partner, { category: holder.category });
  return (raw.visibility.find((r) => r.effect === 'deny' && applies(r)) ?? raw.visibility.find((r) => r.effect === 'allow' && applies(r)))?.id ?? 'deny-by-default';
}
function oracleRequester(purpose: string, partner: string, role: string): string | undefined {
  return raw.purposes.find((p) => p.id === purpose)?.requesters.find((q) => q.partner === partner && q.roles.includes(role))?.rule;
}
function oracleMatch(recipient: Reg, other: Reg): string {
  const base = (r: RawMatch) => selects(r.recipient, recipient.partner, { category: recipient.category }) && selects(r.other, other.partner, { category: other.category });
  const denied = raw.matches.find((r) => r.effect === 'deny' && base(r));
  if (denied) return denied.id;
  const allowed = raw.matches.find((r) => {
    if (r.effect !== 'allow' || !base(r)) return false;
    if (r.asVisibleTo === undefined || r.purpose === undefined) return true;
    if (oracleRequester(r.purpose, recipient.partner, r.asVisibleTo) === undefined) return false;
    return raw.visibility.find((v) => v.id === oracleVisibility(r.purpose ?? '', recipient.partner, r.asVisibleTo ?? '', other))?.effect === 'allow';
  });
  return allowed?.id ?? 'deny-by-default';
}

type VisCase = { purpose: string; partner: string; role: string; holder: Reg; expected: string };
const visCases: VisCase[] = raw.purposes.flatMap((p) =>
  p.requesters.flatMap((q) =>
    q.roles.flatMap((role) =>
      registrations
        .filter((h) => h.partner !== q.partner)
        .map((holder) => ({ purpose: p.id, partner: q.partner, role, holder, expected: oracleVisibility(p.id, q.partner, role, holder) })),
    ),
  ),
);
const matchCases = registrations.flatMap((recipient) =>
  registrations.filter((o) => o.partner !== recipient.partner).map((other) => ({ recipient, other, expected: oracleMatch(recipient, other) })),
);
const show = (r: Reg) => `${r.partner} (${r.category})`;

describe('visibility.yaml, rule by rule', () => {
  for (const rule of raw.visibility) {
    it(`${rule.id} ${rule.effect === 'allow' ? 'allows' : 'denies'}: ${rule.description}`, () => {
      const decided = visCases.filter((k) => k.expected === rule.id);
      expect(decided.length, `${rule.id} decides no case`).toBeGreaterThan(0);
      for (const k of decided) {
        const d = decideVisibility(c, actor(k.partner, k.role), k.purpose, k.holder);
        expect({ case: `${k.partner}/${k.role} ${k.purpose} → ${show(k.holder)}`, allowed: d.allowed, rule: d.rule }).toEqual({
          case: `${k.partner}/${k.role} ${k.purpose} → ${show(k.holder)}`,
          allowed: rule.effect === 'allow',
          rule: rule.id,
        });
      }
    });
  }
  it('everything no rule covers is denied by default, for every requester, purpose and registration', () => {
    const rest = visCases.filter((k) => k.expected === 'deny-by-default');
    expect(rest.length).toBeGreaterThan(0);
    for (const k of rest) expectDecision(decideVisibility(c, actor(k.partner, k.role), k.purpose, k.holder), false, 'deny-by-default');
  });
});

describe('matches.yaml, rule by rule', () => {
  for (const rule of raw.matches) {
    it(`${rule.id} ${rule.effect === 'allow' ? 'allows' : 'denies'}: ${rule.description}`, () => {
      const decided = matchCases.filter((k) => k.expected === rule.id);
      expect(decided.length, `${rule.id} decides no case`).toBeGreaterThan(0);
      for (const k of decided) {
        const d = decideMatchNotice(c, k.recipient, k.other);
        expect({ case: `${show(k.recipient)} told of ${show(k.other)}`, allowed: d.allowed, rule: d.rule }).toEqual({
          case: `${show(k.recipient)} told of ${show(k.other)}`,
          allowed: rule.effect === 'allow',
          rule: rule.id,
        });
      }
    });
  }
  it('every other pair of registrations is not matched (deny-by-default)', () => {
    for (const k of matchCases.filter((m) => m.expected === 'deny-by-default')) {
      expectDecision(decideMatchNotice(c, k.recipient, k.other), false, 'deny-by-default');
    }
  });
});

describe('purposes.yaml, rule by rule', () => {
  for (const purpose of raw.purposes) {
    for (const q of purpose.requesters) {
      it(`${q.rule}: ${q.partner} (${q.roles.join(', ')}) may look up for ${purpose.id}`, () => {
        for (const role of q.roles) expectDecision(decidePurpose(c, actor(q.partner, role), purpose.id), true, q.rule);
      });
    }
    it(`no one else may look up for ${purpose.id}`, () => {
      for (const p of raw.partners) {
        for (const role of p.roles) {
          if (purpose.requesters.some((q) => q.partner === p.id && q.roles.includes(role))) continue;
          const mayLookUp = raw.roles.find((r) => r.id === role)?.actions.includes('lookup');
          expectDecision(decidePurpose(c, actor(p.id, role), purpose.id), false, mayLookUp ? 'deny-by-default' : 'action-not-permitted');
        }
      }
    });
  }
});

describe('partners.yaml: registration, partner by partner', () => {
  for (const p of raw.partners) {
    if (p.registers.categories.length === 0) {
      it(`${p.registers.rule}: ${p.id} registers nothing, in any role it holds`, () => {
        for (const role of p.roles) {
          const mayRegister = raw.roles.find((r) => r.id === role)?.actions.includes('register');
          for (const category of c.categories.keys()) {
            expectDecision(decideRegistration(c, actor(p.id, role), category), false, mayRegister ? 'deny-by-default' : 'action-not-permitted');
          }
        }
      });
      continue;
    }
    it(`${p.registers.rule}: ${p.id} registers ${p.registers.categories.join(', ')} and nothing else`, () => {
      for (const category of c.categories.keys()) {
        expectDecision(
          decideRegistration(c, actor(p.id, 'partner-system'), category),
          p.registers.categories.includes(category),
          p.registers.categories.includes(category) ? p.registers.rule : 'deny-by-default',
        );
      }
      expectDecision(decideRegistration(c, actor(p.id, 'privacy-officer'), p.registers.categories[0] ?? ''), false, 'action-not-permitted');
      expectDecision(decideRegistration(c, actor(p.id, 'partner-system'), 'onbekend'), false, 'unknown-category');
    });
  }
});

describe('roles.yaml, role by role', () => {
  for (const role of raw.roles) {
    it(`${role.rule}: ${role.id} may ${role.actions.join(', ')} and nothing else`, () => {
      const holder = raw.partners.find((p) => p.roles.includes(role.id));
      expect(holder).toBeDefined();
      for (const action of ACTIONS) {
        const allowed = role.actions.includes(action);
        expectDecision(decideAction(c, actor(holder?.id ?? '', role.id), action), allowed, allowed ? role.rule : 'action-not-permitted');
      }
    });
  }
});
