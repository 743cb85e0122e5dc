// Covenant loader: YAML text in, a validated and indexed Covenant out, or a CovenantError that names
// the file and the place in it. Runtime-agnostic: the caller supplies the file contents (read from
// disk on Node, bundled into the worker on workerd).
//
// Four passes, each reporting every problem it finds before giving up:
//   1. syntax (YAML) and shape (zod, strict) per file;
//   2. cross-references over all files together (ids exist, are unique, rules are coherent);
//   3. building the maps and indexes the decision functions use;
//   4. coherence of the built covenant that only its decisions can tell (a disclosure grant for a
//      holder the visibility rules never let the requester see).
import { parseVerifierKey, SIG_COSIGNATURE } from '../log/note';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { decideVisibility } from './decide';
import { toHex } from '../encoding';
import { sha256 } from '../hashing';
import { CovenantError, type CovenantProblem } from './errors';
import {
  covenantFileSchema,
  type CovenantFile,
  type RawCategory,
  type RawCovenantMeta,
  type RawDataCategory,
  type RawDisclosureRule,
  type RawDisclosureSettings,
  type RawHolderSelector,
  type RawLegalBasis,
  type RawMatchRule,
  type RawOversight,
  type RawPartner,
  type RawPurpose,
  type RawRegistrationSelector,
  type RawRequesterSelector,
  type RawRole,
  type RawVisibilityRule,
} from './schema';
import type {
  Action,
  Article,
  Category,
  Covenant,
  CovenantIndex,
  DataCategory,
  DisclosureRule,
  Effect,
  HolderSelector,
  LegalBasis,
  MatchRule,
  Partner,
  Purpose,
  PurposeDisclosure,
  PurposeVisibility,
  RegistrationSelector,
  RequesterSelector,
  Role,
  RuleInfo,
  RuleKind,
  VisibilityRule,
} from './types';

/**
 * Load a covenant from its files (file name → YAML text). Throws {@link CovenantError} on the
 * first pass that finds problems.
 */
export function loadCovenant(files: Readonly<Record<string, string>>): Covenant {
  const names = Object.keys(files).sort();
  if (names.length === 0) fail([{ file: '(none)', path: '(root)', reason: 'no covenant files given' }]);
  const bad = names.find((n) => /[\n\r]/.test(n) || n.trim() === '');
  if (bad !== undefined) fail([{ file: JSON.stringify(bad), path: '(root)', reason: 'invalid file name' }]);

  const parsed = names.map((name) => ({ name, content: parseFile(name, files[name] ?? '') }));
  throwIfAny(parsed.flatMap((f) => (f.content.ok ? [] : f.content.problems)));

  const merged = merge(parsed.map((f) => ({ name: f.name, data: (f.content as Parsed).data })));
  const checked = crossCheck(merged);
  throwIfAny(checked.problems);

  const covenant = build(merged, checked, names, covenantVersion(files));
  throwIfAny(coherence(merged, covenant));
  return covenant;
}

/**
 * `sha256:<hex>` over the canonical bytes of the files: for each file, sorted by name,
 * `<name>\n<byte length>\n<content>\n`. Length-prefixing makes the encoding unambiguous, and the
 * content is hashed as given, so any edit (even a comment) yields a new version.
 */
export function covenantVersion(files: Readonly<Record<string, string>>): string {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const name of Object.keys(files).sort()) {
    const body = enc.encode(files[name] ?? '');
    parts.push(enc.encode(`${name}\n${body.length}\n`), body, enc.encode('\n'));
  }
  return `sha256:${toHex(sha256(...parts))}`;
}

// --- pass 1: syntax and shape ---------------------------------------------------------------

type Parsed = { ok: true; data: CovenantFile };
type ParseResult = Parsed | { ok: false; problems: CovenantProblem[] };

function parseFile(file: string, text: string): ParseResult {
  // uniqueKeys (the default) turns a repeated key, which would silently override, into an error.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const reason = (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '');
        return pos
          ? { file, path: `line ${pos.line}, column ${pos.col}`, reason, line: pos.line }
          : { file, path: '(root)', reason };
      }),
    };
  }
  const value: unknown = doc.toJS();
  if (value === null || value === undefined) {
    return { ok: false, problems: [{ file, path: '(root)', reason: 'file is empty' }] };
  }
  const result = covenantFileSchema.safeParse(value);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, problems: result.error.issues.flatMap((i) => issueProblems(file, i)) };
}

function issueProblems(file: string, issue: z.core.$ZodIssue): CovenantProblem[] {
  // Point at the offending key itself, not at the object that contains it.
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ file, path: formatPath([...issue.path, k]), reason: `unknown key "${k}"` }));
  }
  return [{ file, path: formatPath(issue.path), reason: issue.message }];
}

/** `['purposes', 2, 'requesters', 0, 'partner']` → `purposes[2].requesters[0].partner`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += (out === '' ? '' : '.') + String(seg);
  }
  return out === '' ? '(root)' : out;
}

function fail(problems: CovenantProblem[]): never {
  const [first, ...rest] = problems;
  if (first === undefined) throw new Error('fail() without problems');
  throw new CovenantError([first, ...rest]);
}

function throwIfAny(problems: CovenantProblem[]): void {
  if (problems.length > 0) fail(problems);
}

// --- merging files ----------------------------------------------------------------------------

/** An item together with where it was written, so cross-reference errors can point back at it. */
type Sourced<T> = { v: T; file: string; at: string };

type Merged = {
  meta: Sourced<RawCovenantMeta>[];
  partners: Sourced<RawPartner>[];
  roles: Sourced<RawRole>[];
  purposes: Sourced<RawPurpose>[];
  categories: Sourced<RawCategory>[];
  visibility: Sourced<RawVisibilityRule>[];
  matches: Sourced<RawMatchRule>[];
  legalBases: Sourced<RawLegalBasis>[];
  disclosure: Sourced<RawDisclosureSettings>[];
  dataCategories: Sourced<RawDataCategory>[];
  disclosureRules: Sourced<RawDisclosureRule>[];
  oversight: Sourced<RawOversight>[];
};

function merge(files: { name: string; data: CovenantFile }[]): Merged {
  const m: Merged = {
    meta: [],
    partners: [],
    roles: [],
    purposes: [],
    categories: [],
    visibility: [],
    matches: [],
    legalBases: [],
    disclosure: [],
    dataCategories: [],
    disclosureRules: [],
    oversight: [],
  };
  const list = <T>(file: string, key: string, items: T[] | undefined): Sourced<T>[] =>
    (items ?? []).map((v, i) => ({ v, file, at: `${key}[${i}]` }));
  for (const { name, data } of files) {
    if (data.covenant) m.meta.push({ v: data.covenant, file: name, at: 'covenant' });
    m.partners.push(...list(name, 'partners', data.partners));
    m.roles.push(...list(name, 'roles', data.roles));
    m.purposes.push(...list(name, 'purposes', data.purposes));
    m.categories.push(...list(name, 'categories', data.categories));
    m.visibility.push(...list(name, 'visibility', data.visibility));
    m.matches.push(...list(name, 'matches', data.matches));
    m.legalBases.push(...list(name, 'legalBases', data.legalBases));
    if (data.disclosure) m.disclosure.push({ v: data.disclosure, file: name, at: 'disclosure' });
    m.dataCategories.push(...list(name, 'dataCategories', data.dataCategories));
    m.disclosureRules.push(...list(name, 'disclosureRules', data.disclosureRules));
    if (data.oversight) m.oversight.push({ v: data.oversight, file: name, at: 'oversight' });
  }
  return m;
}

/**
 * A covenant without an `oversight` section: nothing is deferred from a subject access report, and
 * the misuse signals use these thresholds.
 */
const NO_OVERSIGHT: RawOversight = {
  subjectAccess: { deferrals: [] },
  auditRead: [],
  signals: {
    volume: { id: 'SIG-VOLUME', factor: 3, minimum: 20, historyDays: 28 },
    workingHours: { id: 'SIG-NACHT', from: 7, to: 19, weekdays: [1, 2, 3, 4, 5] },
    sweep: { id: 'SIG-SWEEP', distinctPersons: 10, withinMinutes: 60 },
    denials: { id: 'SIG-WEIGERING', count: 5, withinMinutes: 60 },
    fishing: { id: 'SIG-HENGELEN', windowDays: 14, minimum: 5 },
    breakGlass: { id: 'SIG-NOODTOEGANG', perMonth: 3 },
  },
};

// --- pass 2: cross-references ------------------------------------------------------------------

type Checked = {
  problems: CovenantProblem[];
  meta: Sourced<RawCovenantMeta>;
  /** Undefined only when there are problems (the section is required). */
  disclosure: Sourced<RawDisclosureSettings> | undefined;
  /** purpose → partner → role → requester rule id. */
  requesters: Map<string, Map<string, Map<string, string>>>;
  rules: Map<string, RuleInfo>;
};

function crossCheck(m: Merged): Checked {
  const problems: CovenantProblem[] = [];
  const at = (s: Sourced<unknown>, sub: string, reason: string): void => {
    problems.push({ file: s.file, path: sub === '' ? s.at : `${s.at}.${sub}`, reason });
  };

  // The covenant section: exactly one.
  const meta = m.meta[0];
  for (const extra of m.meta.slice(1)) at(extra, '', `covenant is already defined in ${meta?.file}`);
  // Nothing else can be checked meaningfully without articles and retention limits.
  if (meta === undefined) fail([{ file: '(all files)', path: 'covenant', reason: 'no file defines the covenant section' }]);

  const articles = new Map<string, string>();
  meta.v.articles.forEach((a, i) => {
    if (articles.has(a.number)) at(meta, `articles[${i}].number`, `duplicate article "${a.number}"`);
    else articles.set(a.number, a.title);
  });
  const r = meta.v.retention;
  if (r.defaultRetentionDays > r.maxRetentionDays) {
    at(meta, 'retention.defaultRetentionDays', `exceeds maxRetentionDays (${r.maxRetentionDays})`);
  }
  const w = meta.v.witnesses;
  if (w.quorum > w.keys.length) at(meta, 'witnesses.quorum', `exceeds the number of witness keys (${w.keys.length})`);
  w.keys.forEach((k, i) => {
    try {
      const key = parseVerifierKey(k.vkey);
      if (key.name !== k.name) at(meta, `witnesses.keys[${i}].vkey`, `is the key of "${key.name}", not of "${k.name}"`);
      if (key.type !== SIG_COSIGNATURE) at(meta, `witnesses.keys[${i}].vkey`, 'must be an Ed25519 cosignature key (type 0x04)');
    } catch (e) {
      at(meta, `witnesses.keys[${i}].vkey`, (e as Error).message);
    }
    if (w.keys.findIndex((o) => o.name === k.name) !== i) at(meta, `witnesses.keys[${i}].name`, `duplicate witness "${k.name}"`);
  });

  const byId = <T extends { id: string }>(items: Sourced<T>[], kind: string): Map<string, Sourced<T>> => {
    const map = new Map<string, Sourced<T>>();
    for (const s of items) {
      const prev = map.get(s.v.id);
      if (prev) at(s, 'id', `duplicate ${kind} id "${s.v.id}" (first defined at ${prev.file}: ${prev.at})`);
      else map.set(s.v.id, s);
    }
    return map;
  };
  const partners = byId(m.partners, 'partner');
  const roles = byId(m.roles, 'role');
  const purposes = byId(m.purposes, 'purpose');
  const categories = byId(m.categories, 'category');
  const legalBases = byId(m.legalBases, 'legal basis');
  const dataCategories = byId(m.dataCategories, 'data category');

  const known = <T>(map: Map<string, T>, kind: string) => (s: Sourced<unknown>, sub: string, id: string): boolean => {
    if (map.has(id)) return true;
    at(s, sub, `unknown ${kind} "${id}"`);
    return false;
  };
  const knownPartner = known(partners, 'partner');
  const knownRole = known(roles, 'role');
  const knownPurpose = known(purposes, 'purpose');
  const knownCategory = known(categories, 'category');
  const knownArticle = known(articles, 'article');
  const knownLegalBasis = known(legalBases, 'legal basis');
  const knownDataCategory = known(dataCategories, 'data category');
  /** Check every id in a list; true when all exist. */
  const allKnown = (
    check: (s: Sourced<unknown>, sub: string, id: string) => boolean,
    s: Sourced<unknown>,
    sub: string,
    list: readonly string[] | undefined,
  ): boolean => (list ?? []).map((id, j) => check(s, `${sub}[${j}]`, id)).every(Boolean);

  // Rule ids are unique across all files and kinds, so a decision's rule id names one rule.
  const rules = new Map<string, RuleInfo>();
  const ruleAt = new Map<string, string>();
  const addRule = (s: Sourced<unknown>, sub: string, info: Omit<RuleInfo, 'file'>): void => {
    const prev = ruleAt.get(info.id);
    if (prev !== undefined) at(s, sub, `duplicate rule id "${info.id}" (first defined at ${prev})`);
    else {
      rules.set(info.id, { ...info, file: s.file });
      ruleAt.set(info.id, `${s.file}: ${sub === '' ? s.at : `${s.at}.${sub}`}`);
    }
  };

  for (const s of m.roles) {
    knownArticle(s, 'article', s.v.article);
    addRule(s, 'rule', rule(s.v.rule, 'role', 'allow', s.v.article, `${s.v.name}: ${s.v.actions.join(', ')}`));
  }

  for (const s of m.partners) {
    allKnown(knownRole, s, 'roles', s.v.roles);
    allKnown(knownCategory, s, 'registers.categories', s.v.registers.categories);
    knownArticle(s, 'registers.article', s.v.registers.article);
    const desc = `${s.v.name} registers ${s.v.registers.categories.join(', ') || 'nothing'}`;
    addRule(s, 'registers.rule', rule(s.v.registers.rule, 'registration', 'allow', s.v.registers.article, desc));
  }

  const holds = (partner: string, role: string): boolean => partners.get(partner)?.v.roles.includes(role) ?? false;
  const mayLookUp = (role: string): boolean => roles.get(role)?.v.actions.includes('lookup') ?? false;

  const requesters = new Map<string, Map<string, Map<string, string>>>();
  for (const s of m.purposes) {
    knownArticle(s, 'article', s.v.article);
    s.v.legalBasis.forEach((id, j) => {
      if (knownLegalBasis(s, `legalBasis[${j}]`, id) && s.v.legalBasis.indexOf(id) !== j) {
        at(s, `legalBasis[${j}]`, `legal basis "${id}" is listed twice`);
      }
    });
    const byPartner = new Map<string, Map<string, string>>();
    requesters.set(s.v.id, byPartner);
    s.v.requesters.forEach((q, k) => {
      const sub = `requesters[${k}]`;
      addRule(s, `${sub}.rule`, rule(q.rule, 'purpose', 'allow', s.v.article, `${q.partner} (${q.roles.join(', ')}) may look up for ${s.v.id}`));
      if (!knownPartner(s, `${sub}.partner`, q.partner)) return;
      q.roles.forEach((role, j) => {
        if (!knownRole(s, `${sub}.roles[${j}]`, role)) return;
        if (!holds(q.partner, role)) return at(s, `${sub}.roles[${j}]`, `partner "${q.partner}" does not hold role "${role}"`);
        if (!mayLookUp(role)) return at(s, `${sub}.roles[${j}]`, `role "${role}" may not look up`);
        const byRole = byPartner.get(q.partner) ?? new Map<string, string>();
        byPartner.set(q.partner, byRole);
        const prev = byRole.get(role);
        if (prev !== undefined) return at(s, `${sub}.roles[${j}]`, `"${q.partner}" as "${role}" is already a requester under ${prev}`);
        byRole.set(role, q.rule);
      });
    });
  }
  const isRequester = (purpose: string, partner: string, role: string): boolean =>
    requesters.get(purpose)?.get(partner)?.has(role) ?? false;

  for (const s of m.categories) {
    if (s.v.maxRetentionDays > r.maxRetentionDays) {
      at(s, 'maxRetentionDays', `exceeds the covenant's maxRetentionDays (${r.maxRetentionDays})`);
    }
  }

  // Selectors must not only name existing things but be coherent: a selector that can never match
  // is almost always a mistake that silently narrows (or, for deny rules, voids) what was meant.
  /** A listed partner outside the listed domains can never match; true when it is inside. */
  const inDomains = (s: Sourced<unknown>, sub: string, partner: string, domains: readonly string[] | undefined): boolean => {
    const domain = partners.get(partner)?.v.domain;
    if (!domains || !domain || domains.includes(domain)) return true;
    at(s, sub, `partner "${partner}" is in domain "${domain}", which this selector excludes`);
    return false;
  };
  const checkRequester = (s: Sourced<unknown>, sub: string, sel: RawRequesterSelector): boolean => {
    const ok = allKnown(knownPartner, s, `${sub}.partners`, sel.partners) && allKnown(knownRole, s, `${sub}.roles`, sel.roles);
    if (!ok) return false;
    sel.partners?.forEach((p, j) => {
      inDomains(s, `${sub}.partners[${j}]`, p, sel.domains);
      if (sel.roles && !sel.roles.some((role) => holds(p, role))) {
        at(s, `${sub}.partners[${j}]`, `partner "${p}" holds none of the listed roles`);
      }
    });
    return true;
  };
  const checkRegistration = (s: Sourced<unknown>, sub: string, sel: RawRegistrationSelector): void => {
    const ok =
      allKnown(knownPartner, s, `${sub}.partners`, sel.partners) &&
      allKnown(knownCategory, s, `${sub}.categories`, sel.categories);
    if (!ok) return;
    const selected = [...partners.values()].filter(
      (p) => (!sel.partners || sel.partners.includes(p.v.id)) && (!sel.domains || sel.domains.includes(p.v.domain)),
    );
    sel.partners?.forEach((p, j) => {
      const registers = partners.get(p)?.v.registers.categories ?? [];
      if (!inDomains(s, `${sub}.partners[${j}]`, p, sel.domains)) return;
      if (sel.categories && !sel.categories.some((c) => registers.includes(c))) {
        at(s, `${sub}.partners[${j}]`, `partner "${p}" registers none of the listed categories`);
      }
    });
    sel.categories?.forEach((c, j) => {
      if (!selected.some((p) => p.v.registers.categories.includes(c))) {
        at(s, `${sub}.categories[${j}]`, `no selected partner registers category "${c}"`);
      }
    });
  };

  for (const s of m.visibility) {
    const v = s.v;
    knownArticle(s, 'article', v.article);
    addRule(s, 'id', rule(v.id, 'visibility', v.effect, v.article, v.description));
    const purposesOk = v.purposes === '*' || allKnown(knownPurpose, s, 'purposes', v.purposes);
    const requesterOk = checkRequester(s, 'requester', v.requester);
    checkRegistration(s, 'holder', v.holder);
    if (v.effect !== 'allow' || !purposesOk || !requesterOk) continue;
    // An allow rule grants nothing to a requester that may not use the purpose; saying so in the
    // covenant would mislead its readers, so it is an error rather than a dead rule.
    const ps = v.purposes;
    v.requester.partners.forEach((partner, i) => {
      for (const p of ps) {
        if (!v.requester.roles.some((role) => isRequester(p, partner, role))) {
          at(s, `requester.partners[${i}]`, `partner "${partner}" may not look up for "${p}" in any listed role (see purposes)`);
        }
      }
    });
    v.requester.roles.forEach((role, j) => {
      if (!ps.some((p) => v.requester.partners.some((partner) => isRequester(p, partner, role)))) {
        at(s, `requester.roles[${j}]`, `no listed partner may look up for the listed purposes as "${role}"`);
      }
    });
  }

  for (const s of m.matches) {
    const v = s.v;
    knownArticle(s, 'article', v.article);
    addRule(s, 'id', rule(v.id, 'match', v.effect, v.article, v.description));
    checkRegistration(s, 'recipient', v.recipient);
    if (v.other) checkRegistration(s, 'other', v.other);
    if (v.effect !== 'allow') continue;
    const purposeOk = knownPurpose(s, 'purpose', v.purpose);
    const role = v.asVisibleTo;
    if (role === undefined || !knownRole(s, 'asVisibleTo', role) || !purposeOk) continue;
    v.recipient.partners.forEach((partner, i) => {
      if (!isRequester(v.purpose, partner, role)) {
        at(s, `recipient.partners[${i}]`, `partner "${partner}" may not look up for "${v.purpose}" as "${role}", so asVisibleTo grants nothing`);
      }
    });
  }

  // --- disclosure of content (art. 15) ---
  const decides = (p: string): boolean =>
    partners.get(p)?.v.roles.some((role) => roles.get(role)?.v.actions.includes('decide-disclosure')) ?? false;
  const disclosure = m.disclosure[0];
  for (const extra of m.disclosure.slice(1)) at(extra, '', `disclosure is already defined in ${disclosure?.file}`);
  if (disclosure === undefined) {
    problems.push({ file: '(all files)', path: 'disclosure', reason: 'no file defines the disclosure section' });
  } else {
    const d = disclosure.v;
    if (d.specialApprovals < d.defaultApprovals) {
      at(disclosure, 'specialApprovals', `is less than defaultApprovals (${d.defaultApprovals}); special data needs at least as many`);
    }
    if (d.breakGlassValidityMinutes > d.grantValidityHours * 60) {
      at(disclosure, 'breakGlassValidityMinutes', `exceeds grantValidityHours (${d.grantValidityHours} h); a break-glass grant is the short one`);
    }
    if (d.relayRetentionHours > d.grantValidityHours) {
      at(disclosure, 'relayRetentionHours', `exceeds grantValidityHours (${d.grantValidityHours}); relayed content must not outlive its grant`);
    }
    d.brokerPartners.forEach((p, j) => {
      if (!knownPartner(disclosure, `brokerPartners[${j}]`, p)) return;
      if (!decides(p)) at(disclosure, `brokerPartners[${j}]`, `partner "${p}" holds no role that may decide-disclosure`);
    });
  }

  const checkHolder = (s: Sourced<unknown>, sub: string, sel: RawHolderSelector): void => {
    if (!allKnown(knownPartner, s, `${sub}.partners`, sel.partners)) return;
    sel.partners?.forEach((p, j) => inDomains(s, `${sub}.partners[${j}]`, p, sel.domains));
  };
  const isSpecial = (id: string): boolean => dataCategories.get(id)?.v.special ?? false;

  // --- oversight (art. 16): deferrals name real partners and articles ---
  for (const s of m.oversight.slice(1)) at(s, '', `oversight is already defined in ${m.oversight[0]?.file}`);
  m.oversight[0]?.v.subjectAccess.deferrals.forEach((d, i) => {
    const s = m.oversight[0]!;
    knownArticle(s, `subjectAccess.deferrals[${i}].article`, d.article);
    allKnown(knownPartner, s, `subjectAccess.deferrals[${i}].partners`, d.partners);
    addRule(s, `subjectAccess.deferrals[${i}].id`, rule(d.id, 'oversight', 'deny', d.article, d.description));
  });
  m.oversight[0]?.v.auditRead.forEach((r, i) => {
    const s = m.oversight[0]!;
    knownArticle(s, `auditRead[${i}].article`, r.article);
    if (r.partners) allKnown(knownPartner, s, `auditRead[${i}].partners`, r.partners);
    if (r.roles) allKnown(knownRole, s, `auditRead[${i}].roles`, r.roles);
    addRule(s, `auditRead[${i}].id`, rule(r.id, 'oversight', 'allow', r.article, r.description));
  });

  /**
   * Four eyes across organisations must be reachable: for every requester and holder a rule names,
   * enough organisations may weigh the request (the house's and the holder's brokers, never the
   * requester's); and a rule that may be asked special data cannot settle for distinct brokers of
   * one organisation where the settings want distinct partners.
   */
  const checkApprovers = (s: Sourced<unknown>, v: RawDisclosureRule & { effect: 'allow' }, d: RawDisclosureSettings): void => {
    const special = v.categories.find(isSpecial);
    if (v.approvers === 'distinct-brokers' && d.approvers === 'distinct-partners' && special !== undefined) {
      at(s, 'approvers', `may not be distinct-brokers: special category "${special}" may be asked, and the settings want approvals from distinct partners`);
    }
    if ((v.approvers ?? d.approvers) !== 'distinct-partners') return;
    const needed = v.approvals ?? (special !== undefined ? d.specialApprovals : d.defaultApprovals);
    const holders = [...partners.values()].filter(
      (p) => (!v.holder.partners || v.holder.partners.includes(p.v.id)) && (!v.holder.domains || v.holder.domains.includes(p.v.domain)),
    );
    for (const requester of v.requester.partners) {
      for (const holder of holders) {
        if (holder.v.id === requester) continue;
        const weighers = new Set([...d.brokerPartners, holder.v.id].filter((p) => p !== requester && decides(p)));
        if (weighers.size < needed) {
          at(
            s,
            v.approvals !== undefined ? 'approvals' : 'categories',
            `needs ${needed} approvals from distinct partners, but only ${weighers.size} may weigh a request of ${requester} to ${holder.v.id} (${[...weighers].join(', ') || 'none'}): give ${holder.v.id} a role that may decide-disclosure, or add a broker partner`,
          );
          return;
        }
      }
    }
  };

  for (const s of m.disclosureRules) {
    const v = s.v;
    knownArticle(s, 'article', v.article);
    addRule(s, 'id', rule(v.id, 'disclosure', v.effect, v.article, v.description));
    const requesterOk = checkRequester(s, 'requester', v.requester);
    checkHolder(s, 'holder', v.holder);
    const categoriesOk = allKnown(knownDataCategory, s, 'categories', v.categories);
    if (v.effect === 'deny') {
      if (v.purposes !== '*') allKnown(knownPurpose, s, 'purposes', v.purposes);
      continue;
    }
    const purpose = purposes.get(v.purpose);
    if (!knownPurpose(s, 'purpose', v.purpose) || !purpose) continue;
    // A request rests on one of its purpose's legal bases; a rule cannot add bases of its own.
    v.legalBasis.forEach((id, j) => {
      if (knownLegalBasis(s, `legalBasis[${j}]`, id) && !purpose.v.legalBasis.includes(id)) {
        at(s, `legalBasis[${j}]`, `legal basis "${id}" is not one of purpose "${v.purpose}"'s legal bases`);
      }
    });
    if (requesterOk) {
      // As for visibility: granting a requester that may not use the purpose would mislead.
      v.requester.partners.forEach((partner, i) => {
        if (!v.requester.roles.some((role) => isRequester(v.purpose, partner, role))) {
          at(s, `requester.partners[${i}]`, `partner "${partner}" may not look up for "${v.purpose}" in any listed role (see purposes)`);
        }
      });
      v.requester.roles.forEach((role, j) => {
        if (!v.requester.partners.some((partner) => isRequester(v.purpose, partner, role))) {
          at(s, `requester.roles[${j}]`, `no listed partner may look up for "${v.purpose}" as "${role}"`);
        }
      });
    }
    v.breakGlass?.roles.forEach((role, j) => {
      if (!v.requester.roles.includes(role)) at(s, `breakGlass.roles[${j}]`, `role "${role}" is not one of the rule's requester roles`);
    });
    if (disclosure !== undefined && requesterOk && categoriesOk) checkApprovers(s, v, disclosure.v);
    if (v.approvals !== undefined && disclosure !== undefined) {
      // An override may only raise what the settings demand, so four eyes on special data hold
      // whatever the rules say.
      const d = disclosure.v;
      const special = categoriesOk ? v.categories.find(isSpecial) : undefined;
      if (v.approvals < d.defaultApprovals) {
        at(s, 'approvals', `is less than defaultApprovals (${d.defaultApprovals})`);
      } else if (special !== undefined && v.approvals < d.specialApprovals) {
        at(s, 'approvals', `is less than specialApprovals (${d.specialApprovals}), and special category "${special}" may be asked`);
      }
    }
  }

  return { problems, meta, disclosure, requesters, rules };
}

function rule(id: string, kind: RuleKind, effect: Effect, article: string, description: string): Omit<RuleInfo, 'file'> {
  return { id, kind, effect, article, description };
}

// --- pass 3: build -----------------------------------------------------------------------------

function build(m: Merged, checked: Checked, files: string[], version: string): Covenant {
  const meta = checked.meta.v;
  const settings = checked.disclosure?.v;
  if (settings === undefined) throw new Error('build() without a disclosure section');
  const articles = new Map<string, Article>(meta.articles.map((a) => [a.number, a]));

  const partners = new Map<string, Partner>(
    m.partners.map(({ v }) => [
      v.id,
      {
        id: v.id,
        name: v.name,
        short: v.short,
        domain: v.domain,
        roles: new Set(v.roles),
        registers: { rule: v.registers.rule, article: v.registers.article, categories: new Set(v.registers.categories) },
        rateLimits: {
          lookupsPerMinutePerProfessional: v.rateLimits?.lookupsPerMinutePerProfessional ?? meta.rateLimits?.lookupsPerMinutePerProfessional ?? null,
          lookupsPerMinutePerPartner: v.rateLimits?.lookupsPerMinutePerPartner ?? meta.rateLimits?.lookupsPerMinutePerPartner ?? null,
        },
      },
    ]),
  );
  const roles = new Map<string, Role>(
    m.roles.map(({ v }) => [
      v.id,
      { id: v.id, name: v.name, rule: v.rule, article: v.article, description: v.description, actions: new Set<Action>(v.actions) },
    ]),
  );
  const purposes = new Map<string, Purpose>(
    m.purposes.map(({ v }) => [
      v.id,
      {
        id: v.id,
        name: v.name,
        description: v.description,
        aveLevels: v.aveLevels,
        article: v.article,
        legalBasis: v.legalBasis,
        requesters: v.requesters.map((q) => ({ rule: q.rule, partner: q.partner, roles: q.roles })),
      },
    ]),
  );
  const categories = new Map<string, Category>(
    m.categories.map(({ v }) => [
      v.id,
      {
        id: v.id,
        name: v.name,
        description: v.description,
        maxRetentionDays: v.maxRetentionDays,
        special: v.special,
        specialKind: v.specialKind ?? null,
      },
    ]),
  );

  const legalBases = new Map<string, LegalBasis>(m.legalBases.map(({ v }) => [v.id, { id: v.id, text: v.text }]));
  const dataCategories = new Map<string, DataCategory>(
    m.dataCategories.map(({ v }) => [
      v.id,
      { id: v.id, name: v.name, description: v.description, special: v.special, specialKind: v.specialKind ?? null },
    ]),
  );

  const visibility: VisibilityRule[] = m.visibility.map(({ v }) => ({
    id: v.id,
    effect: v.effect,
    article: v.article,
    description: v.description,
    purposes: v.purposes === '*' ? '*' : new Set(v.purposes),
    requester: requesterSelector(v.requester),
    holder: registrationSelector(v.holder),
  }));
  const matches: MatchRule[] = m.matches.map(({ v }) => ({
    id: v.id,
    effect: v.effect,
    article: v.article,
    description: v.description,
    purpose: v.effect === 'allow' ? v.purpose : null,
    recipient: registrationSelector(v.recipient),
    other: registrationSelector(v.other ?? {}),
    asVisibleTo: v.effect === 'allow' ? (v.asVisibleTo ?? null) : null,
  }));

  const disclosureRules: DisclosureRule[] = m.disclosureRules.map(({ v }) =>
    v.effect === 'allow'
      ? {
          id: v.id,
          effect: v.effect,
          article: v.article,
          description: v.description,
          purpose: v.purpose,
          purposes: new Set([v.purpose]),
          requester: requesterSelector(v.requester),
          holder: holderSelector(v.holder),
          categories: new Set(v.categories),
          legalBasis: v.legalBasis,
          approvals: v.approvals ?? null,
          approvers: v.approvers ?? null,
          breakGlass: v.breakGlass ? { roles: new Set(v.breakGlass.roles) } : null,
        }
      : {
          id: v.id,
          effect: v.effect,
          article: v.article,
          description: v.description,
          purpose: null,
          purposes: v.purposes === '*' ? '*' : new Set(v.purposes),
          requester: requesterSelector(v.requester),
          holder: holderSelector(v.holder),
          ...(v.categories ? { categories: new Set(v.categories) } : {}),
          legalBasis: [],
          approvals: null,
          approvers: null,
          breakGlass: null,
        },
  );

  // Per purpose, the deny and allow rules that can apply, in file order: a lookup then scans only
  // a handful of rules, and deny is checked first by construction.
  const byPurpose = new Map<string, PurposeVisibility>();
  for (const p of purposes.keys()) {
    const applies = (r: VisibilityRule) => r.purposes === '*' || r.purposes.has(p);
    byPurpose.set(p, {
      deny: visibility.filter((r) => r.effect === 'deny' && applies(r)),
      allow: visibility.filter((r) => r.effect === 'allow' && applies(r)),
    });
  }
  const disclosureByPurpose = new Map<string, PurposeDisclosure>();
  for (const p of purposes.keys()) {
    const applies = (r: DisclosureRule) => r.purposes === '*' || r.purposes.has(p);
    disclosureByPurpose.set(p, {
      deny: disclosureRules.filter((r) => r.effect === 'deny' && applies(r)),
      allow: disclosureRules.filter((r) => r.effect === 'allow' && applies(r)),
    });
  }
  const index: CovenantIndex = {
    requesters: checked.requesters,
    visibility: byPurpose,
    matchDeny: matches.filter((r) => r.effect === 'deny'),
    matchAllow: matches.filter((r) => r.effect === 'allow'),
    disclosure: disclosureByPurpose,
  };

  return {
    version,
    id: meta.id,
    name: meta.name,
    region: meta.region,
    signed: meta.signed,
    validFrom: meta.validFrom,
    retention: { ...meta.retention },
    witnesses: { quorum: meta.witnesses.quorum, keys: meta.witnesses.keys.map((k) => ({ ...k })) },
    disclosure: { ...settings, brokerPartners: new Set(settings.brokerPartners) },
    files,
    articles,
    partners,
    roles,
    purposes,
    categories,
    legalBases,
    dataCategories,
    visibility,
    matches,
    disclosureRules,
    oversight: m.oversight[0]?.v ?? NO_OVERSIGHT,
    rules: checked.rules,
    index,
  };
}

function requesterSelector(raw: RawRequesterSelector): RequesterSelector {
  const s: { -readonly [K in keyof RequesterSelector]: RequesterSelector[K] } = {};
  if (raw.partners) s.partners = new Set(raw.partners);
  if (raw.domains) s.domains = new Set(raw.domains);
  if (raw.roles) s.roles = new Set(raw.roles);
  return s;
}

function holderSelector(raw: RawHolderSelector): HolderSelector {
  const s: { -readonly [K in keyof HolderSelector]: HolderSelector[K] } = {};
  if (raw.partners) s.partners = new Set(raw.partners);
  if (raw.domains) s.domains = new Set(raw.domains);
  return s;
}

// --- pass 4: coherence of the built covenant -------------------------------------------------

/**
 * A requester may only ask a holder it could have learned knows the person (art. 15): every
 * (partner, role) a disclosure allow rule grants, for every holder partner it names, must see at
 * least one of that holder's registration categories for the rule's purpose. A grant that no
 * visibility rule backs is an authoring mistake and an error; one an explicit visibility deny rule
 * overrides is not (deny wins, as everywhere; decideDisclosureRequest enforces it).
 */
function coherence(m: Merged, c: Covenant): CovenantProblem[] {
  const problems: CovenantProblem[] = [];
  m.disclosureRules.forEach((s) => {
    const v = s.v;
    if (v.effect !== 'allow') return;
    const holders = [...c.partners.values()].filter(
      (p) => (!v.holder.partners || v.holder.partners.includes(p.id)) && (!v.holder.domains || v.holder.domains.includes(p.domain)),
    );
    v.requester.partners.forEach((partner, i) => {
      for (const role of v.requester.roles) {
        if (!c.index.requesters.get(v.purpose)?.get(partner)?.has(role)) continue;
        const actor = { partner, role, sub: 'covenant-check' };
        for (const h of holders) {
          if (h.id === partner) continue;
          const decisions = [...h.registers.categories].map((category) => decideVisibility(c, actor, v.purpose, { partner: h.id, category }));
          const seen = decisions.some((d) => d.allowed);
          const deniedByRule = decisions.some((d) => c.rules.get(d.rule)?.effect === 'deny');
          if (!seen && !deniedByRule) {
            problems.push({
              file: s.file,
              path: `${s.at}.requester.partners[${i}]`,
              reason: `"${partner}" as "${role}" can never see "${h.id}" for "${v.purpose}" (visibility), so it could not ask it for content`,
            });
          }
        }
      }
    });
  });
  return problems;
}

function registrationSelector(raw: RawRegistrationSelector): RegistrationSelector {
  const s: { -readonly [K in keyof RegistrationSelector]: RegistrationSelector[K] } = {};
  if (raw.partners) s.partners = new Set(raw.partners);
  if (raw.domains) s.domains = new Set(raw.domains);
  if (raw.categories) s.categories = new Set(raw.categories);
  return s;
}
