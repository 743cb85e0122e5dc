// The covenant's decisions as pure functions over a loaded Covenant: no I/O, no clock, no state.
// They run on every request, so each is a few map/set look-ups over pre-indexed rules. Every path
// returns a Decision naming the rule that decided it; anything not explicitly allowed is denied.
import type {
  Action,
  Actor,
  Approvers,
  AuditReadDecision,
  AuditScope,
  Covenant,
  Decision,
  DisclosureDecision,
  DisclosureRequest,
  DisclosureRule,
  DisclosureSettings,
  FixedRuleId,
  HolderSelector,
  Partner,
  RegistrationSelector,
  RequesterSelector,
} from './types';

/** Registration as seen by a decision: whose it is and in which category. */
export type RegistrationRef = { partner: string; category: string };

/** `sub` used when a match notice is decided "as if" the recipient looked up (asVisibleTo). */
export const MATCH_NOTICE_SUB = 'match-notice';

const DAY_MS = 86_400_000;

function deny(rule: FixedRuleId | string, reason: string): Decision {
  return { allowed: false, rule, reason };
}

function allow(rule: string, reason: string): Decision {
  return { allowed: true, rule, reason };
}

/** The partner exists, holds the role, and the role may perform the action (art. 4). */
export function decideAction(c: Covenant, actor: Actor, action: Action): Decision {
  const partner = c.partners.get(actor.partner);
  if (!partner) return deny('unknown-partner', `unknown partner "${actor.partner}"`);
  const role = partner.roles.has(actor.role) ? c.roles.get(actor.role) : undefined;
  if (!role) return deny('role-not-held', `partner "${actor.partner}" does not hold role "${actor.role}"`);
  if (!role.actions.has(action)) {
    return deny('action-not-permitted', `role "${role.id}" may not ${action}`);
  }
  return allow(role.rule, `${actor.partner}/${role.id} may ${action} (art. ${role.article})`);
}

/**
 * May this requester look up for this purpose at all (doelbinding, art. 7)? Includes
 * {@link decideAction} for `lookup`, so a privacy officer or partner system is refused here too.
 */
export function decidePurpose(c: Covenant, actor: Actor, purposeId: string): Decision {
  const action = decideAction(c, actor, 'lookup');
  if (!action.allowed) return action;
  const byPartner = c.index.requesters.get(purposeId);
  if (!byPartner) return deny('unknown-purpose', `unknown purpose "${purposeId}"`);
  const rule = byPartner.get(actor.partner)?.get(actor.role);
  if (rule === undefined) {
    return deny('deny-by-default', `${actor.partner}/${actor.role} may not look up for "${purposeId}"`);
  }
  return allow(rule, `${actor.partner}/${actor.role} may look up for "${purposeId}"`);
}

/**
 * May the requester learn, for this purpose, that `holder.partner` has a registration in
 * `holder.category`? Purpose first, then deny rules (which always win), then the first allow rule,
 * then deny by default. The caller filters out the requester's own organisation's registrations.
 */
export function decideVisibility(c: Covenant, actor: Actor, purposeId: string, holder: RegistrationRef): Decision {
  const purpose = decidePurpose(c, actor, purposeId);
  if (!purpose.allowed) return purpose;
  const requester = c.partners.get(actor.partner);
  const holderPartner = c.partners.get(holder.partner);
  if (!requester || !holderPartner) return deny('unknown-partner', `unknown holder partner "${holder.partner}"`);
  if (!c.categories.has(holder.category)) return deny('unknown-category', `unknown category "${holder.category}"`);

  const rules = c.index.visibility.get(purposeId);
  if (rules) {
    for (const r of rules.deny) {
      if (matchesRequester(r.requester, requester, actor.role) && matchesRegistration(r.holder, holderPartner, holder.category)) {
        return deny(r.id, `${r.description} (art. ${r.article})`);
      }
    }
    for (const r of rules.allow) {
      if (matchesRequester(r.requester, requester, actor.role) && matchesRegistration(r.holder, holderPartner, holder.category)) {
        return allow(r.id, `${r.description} (art. ${r.article})`);
      }
    }
  }
  return deny(
    'deny-by-default',
    `no rule lets ${actor.partner}/${actor.role} learn ${holder.partner} (${holder.category}) registrations for "${purposeId}"`,
  );
}

/** May this partner, in this role, register this category (art. 6)? */
export function decideRegistration(c: Covenant, actor: Actor, categoryId: string): Decision {
  const action = decideAction(c, actor, 'register');
  if (!action.allowed) return action;
  if (!c.categories.has(categoryId)) return deny('unknown-category', `unknown category "${categoryId}"`);
  const registers = c.partners.get(actor.partner)?.registers;
  if (!registers?.categories.has(categoryId)) {
    return deny('deny-by-default', `${actor.partner} may not register category "${categoryId}"`);
  }
  return allow(registers.rule, `${actor.partner} may register "${categoryId}" (art. ${registers.article})`);
}

/**
 * May `recipient` (a registration on some subject) be told that `other` registered the same subject
 * (art. 13)? Deny rules first, then the first allow rule (with `asVisibleTo`, only if the recipient
 * partner in that role may see `other` for the rule's purpose), then deny by default. Pairs of one
 * partner's own registrations are not matches; the caller skips them.
 */
export function decideMatchNotice(c: Covenant, recipient: RegistrationRef, other: RegistrationRef): Decision {
  const to = c.partners.get(recipient.partner);
  if (!to) return deny('unknown-partner', `unknown partner "${recipient.partner}"`);
  const about = c.partners.get(other.partner);
  if (!about) return deny('unknown-partner', `unknown partner "${other.partner}"`);
  if (!c.categories.has(recipient.category)) return deny('unknown-category', `unknown category "${recipient.category}"`);
  if (!c.categories.has(other.category)) return deny('unknown-category', `unknown category "${other.category}"`);

  for (const r of c.index.matchDeny) {
    if (matchesRegistration(r.recipient, to, recipient.category) && matchesRegistration(r.other, about, other.category)) {
      return deny(r.id, `${r.description} (art. ${r.article})`);
    }
  }
  for (const r of c.index.matchAllow) {
    if (!matchesRegistration(r.recipient, to, recipient.category)) continue;
    if (!matchesRegistration(r.other, about, other.category)) continue;
    if (r.asVisibleTo !== null && r.purpose !== null) {
      const actor = { partner: to.id, role: r.asVisibleTo, sub: MATCH_NOTICE_SUB };
      const seen = decideVisibility(c, actor, r.purpose, other);
      if (!seen.allowed) continue;
      return allow(r.id, `${r.description} (art. ${r.article}; visible under ${seen.rule})`);
    }
    return allow(r.id, `${r.description} (art. ${r.article})`);
  }
  return deny(
    'deny-by-default',
    `no rule tells ${recipient.partner} (${recipient.category}) about ${other.partner} (${other.category})`,
  );
}

/**
 * Retention for a category: the longest a registration may live, and the term used when the
 * registering partner does not ask for one (never longer than the maximum). Undefined when the
 * category does not exist.
 */
export function categoryRetention(
  c: Covenant,
  categoryId: string,
): { maxRetentionDays: number; defaultRetentionDays: number } | undefined {
  const category = c.categories.get(categoryId);
  if (!category) return undefined;
  return {
    maxRetentionDays: category.maxRetentionDays,
    defaultRetentionDays: Math.min(c.retention.defaultRetentionDays, category.maxRetentionDays),
  };
}

/**
 * `from` + the category's maxRetentionDays (exact 24-hour days, UTC). Throws a RangeError for an
 * unknown category: callers decide the registration first, so reaching here with one is a bug.
 */
export function maxExpiry(c: Covenant, categoryId: string, from: Date): Date {
  return addDays(from, retentionOrThrow(c, categoryId).maxRetentionDays);
}

/**
 * The expiry a registration gets: the requested one if given and not beyond {@link maxExpiry},
 * else the maximum; the category default when none is requested. A requested expiry at or before
 * `from` is returned as is; rejecting it is the caller's business.
 */
export function clampExpiry(c: Covenant, categoryId: string, from: Date, requested?: Date): Date {
  const retention = retentionOrThrow(c, categoryId);
  const max = addDays(from, retention.maxRetentionDays);
  if (requested === undefined) return addDays(from, retention.defaultRetentionDays);
  return requested.getTime() > max.getTime() ? max : new Date(requested.getTime());
}

function retentionOrThrow(c: Covenant, categoryId: string) {
  const retention = categoryRetention(c, categoryId);
  if (!retention) throw new RangeError(`unknown category "${categoryId}"`);
  return retention;
}

function addDays(from: Date, days: number): Date {
  return new Date(from.getTime() + days * DAY_MS);
}

// --- disclosure of content (art. 15, 15a, 15b) ------------------------------------------------

type DisclosureField = NonNullable<DisclosureDecision['field']>;

function refuse(rule: FixedRuleId | string, reason: string, field?: DisclosureField): DisclosureDecision {
  return { allowed: false, rule, reason, approvalsNeeded: 0, approvers: 'distinct-partners', breakGlass: false, ...(field ? { field } : {}) };
}

/**
 * May this requester ask `req.holder` for content in `req.categories`? In order: the requester may
 * use the purpose (the same check as a lookup); the holder is another, existing partner; the
 * categories exist; no disclosure deny rule matches (deny wins); the requester can see the holder
 * for the purpose (one only asks a partner a lookup could have shown); an allow rule matches
 * requester, holder and purpose and lists every category; the legal basis is one that rule lists;
 * the justification is long enough; urgency `emergency` only where the rule lets the role break
 * the glass. Where several allow rules fit, the first that accepts the request decides.
 */
export function decideDisclosureRequest(c: Covenant, actor: Actor, req: DisclosureRequest): DisclosureDecision {
  const purpose = decidePurpose(c, actor, req.purpose);
  if (!purpose.allowed) {
    const aboutPurpose = purpose.rule === 'unknown-purpose' || purpose.rule === 'deny-by-default';
    return refuse(purpose.rule, purpose.reason, aboutPurpose ? 'purpose' : undefined);
  }
  const requester = c.partners.get(actor.partner);
  if (!requester) return refuse('unknown-partner', `unknown partner "${actor.partner}"`);
  const holder = c.partners.get(req.holder);
  if (!holder) return refuse('unknown-holder', `unknown holder partner "${req.holder}"`, 'holder');
  if (holder.id === requester.id) {
    return refuse('own-organisation', `${actor.partner} asks its own organisation directly, not through the hub`, 'holder');
  }
  const categories = [...new Set(req.categories)];
  if (categories.length === 0) return refuse('deny-by-default', 'a request names at least one data category', 'categories');
  const unknown = categories.find((k) => !c.dataCategories.has(k));
  if (unknown !== undefined) return refuse('unknown-data-category', `unknown data category "${unknown}"`, 'categories');

  const rules = c.index.disclosure.get(req.purpose) ?? { deny: [], allow: [] };
  for (const r of rules.deny) {
    if (!matchesRequester(r.requester, requester, actor.role) || !matchesHolder(r.holder, holder)) continue;
    const hit = r.categories === undefined ? categories[0] : categories.find((k) => r.categories?.has(k));
    if (hit === undefined) continue;
    return refuse(r.id, `${r.description} (art. ${r.article})`, r.categories === undefined ? 'holder' : 'categories');
  }

  // Art. 15: content only from a partner the requester could have learned knows the person.
  const sight = [...holder.registers.categories].map((category) =>
    decideVisibility(c, actor, req.purpose, { partner: holder.id, category }),
  );
  if (!sight.some((d) => d.allowed)) {
    const denied = sight.find((d) => c.rules.get(d.rule)?.effect === 'deny');
    return refuse(
      denied?.rule ?? 'deny-by-default',
      `${actor.partner}/${actor.role} cannot see ${holder.id} for "${req.purpose}", so it may not ask it for content${denied ? ` (${denied.reason})` : ''}`,
      'holder',
    );
  }

  const fitting = rules.allow.filter((r) => matchesRequester(r.requester, requester, actor.role) && matchesHolder(r.holder, holder));
  if (fitting.length === 0) {
    return refuse('deny-by-default', `no rule lets ${actor.partner}/${actor.role} ask ${holder.id} for content for "${req.purpose}"`, 'holder');
  }
  const covering = fitting.filter((r) => categories.every((k) => r.categories?.has(k)));
  if (covering.length === 0) {
    const outside = categories.filter((k) => !fitting.some((r) => r.categories?.has(k)));
    const reason =
      outside.length > 0
        ? `${actor.partner}/${actor.role} may not ask ${holder.id} for ${outside.join(', ')} for "${req.purpose}" (${fitting.map((r) => r.id).join(', ')})`
        : `no single rule covers ${categories.join(', ')}; ask for them in separate requests`;
    return refuse('deny-by-default', reason, 'categories');
  }
  const based = covering.filter((r) => r.legalBasis.includes(req.legalBasis));
  if (based.length === 0) {
    const allowedBases = [...new Set(covering.flatMap((r) => r.legalBasis))];
    return refuse(
      'deny-by-default',
      `legal basis "${req.legalBasis}" does not cover this request; ${covering[0]?.id} allows ${allowedBases.join(', ')}`,
      'legalBasis',
    );
  }
  const min = c.disclosure.minJustificationLength;
  if (!(req.justificationLength >= min)) {
    return refuse('justification-too-short', `a justification needs at least ${min} characters (art. 15)`, 'justification');
  }
  let rule = based[0] as DisclosureRule;
  if (req.urgency === 'emergency') {
    const glass = based.find((r) => r.breakGlass?.roles.has(actor.role));
    if (!glass) {
      return refuse('break-glass-not-allowed', `${actor.partner}/${actor.role} may not break the glass for this request (${rule.id}; art. 15b)`, 'urgency');
    }
    rule = glass;
  }
  const approvalsNeeded = approvalsFor(c, rule, categories);
  const approvers = approversFor(c, rule);
  const from = approvalsNeeded > 1 && approvers === 'distinct-partners' ? ' of distinct organisations' : '';
  const how = req.urgency === 'emergency' ? `at once (break the glass), ${approvalsNeeded} review(s) afterwards` : `after ${approvalsNeeded} approval(s)${from}`;
  return {
    allowed: true,
    rule: rule.id,
    reason: `${rule.description} (art. ${rule.article}); ${how}`,
    approvalsNeeded,
    approvers,
    breakGlass: req.urgency === 'emergency',
  };
}

/**
 * Approvals a request under `rule` for `categories` needs: the rule's override (the loader lets it
 * only raise), else specialApprovals when any category is special (four eyes, art. 15a), else
 * defaultApprovals. Exported for the policy table, so it cannot drift from the decision.
 */
export function approvalsFor(c: Covenant, rule: DisclosureRule, categories: Iterable<string>): number {
  if (rule.approvals !== null) return rule.approvals;
  for (const k of categories) if (c.dataCategories.get(k)?.special) return c.disclosure.specialApprovals;
  return c.disclosure.defaultApprovals;
}

/**
 * Whom a request under `rule` needs its approvals from: the rule's `approvers`, else the settings'.
 * Exported for the policy table, like {@link approvalsFor}.
 */
export function approversFor(c: Covenant, rule: DisclosureRule): Approvers {
  return rule.approvers ?? c.disclosure.approvers;
}

/** A request as a broker's decision sees it; `decided` and `approvers` only once it exists. */
export type RequestUnderDecision = {
  requester: string;
  holder: string;
  purpose: string;
  /** Whom the request's approvals must come from (as decided when it was made). */
  approvers?: Approvers;
  /** The organisations whose brokers already decided (this kind) on the request. */
  decided?: readonly string[];
};

/**
 * May this informatiemakelaar weigh (approve, reject or review) a request that `request.requester`
 * made of `request.holder`? The broker holds a role that may decide-disclosure; is not of the
 * requesting organisation (art. 15: no one weighs their own organisation's request); and is of a
 * partner the covenant names as broker (the house) or of the holder itself, which answers for its
 * own content. Anyone else would learn whom the holder knows without any rule granting it. Where
 * the approvals must come from distinct organisations, an organisation decides once: a second
 * `sub` of the same partner is the same key, so the hub cannot tell it is another person.
 */
export function decideDisclosureDecision(c: Covenant, broker: Actor, request: RequestUnderDecision): Decision {
  const action = decideAction(c, broker, 'decide-disclosure');
  if (!action.allowed) return action;
  if (!c.partners.has(request.requester)) return deny('unknown-partner', `unknown requester partner "${request.requester}"`);
  if (!c.partners.has(request.holder)) return deny('unknown-holder', `unknown holder partner "${request.holder}"`);
  if (!c.purposes.has(request.purpose)) return deny('unknown-purpose', `unknown purpose "${request.purpose}"`);
  if (broker.partner === request.requester) {
    return deny('own-organisation', `an informatiemakelaar of ${broker.partner} may not weigh a request of its own organisation (art. 15)`);
  }
  if (!c.disclosure.brokerPartners.has(broker.partner) && broker.partner !== request.holder) {
    return deny(
      'deny-by-default',
      `an informatiemakelaar of ${broker.partner} may weigh only requests made of ${broker.partner} itself; the house's brokers (${[...c.disclosure.brokerPartners].join(', ')}) weigh the rest`,
    );
  }
  if (request.approvers === 'distinct-partners' && request.decided?.includes(broker.partner)) {
    return deny(
      'four-eyes',
      `${broker.partner} already decided on this request; its other approvals must come from other organisations (art. 15a)`,
    );
  }
  return allow(action.rule, `${broker.partner}/${broker.role} may weigh ${request.requester}'s request to ${request.holder} for "${request.purpose}" (art. 15)`);
}

/**
 * May this actor see a disclosure request (list it, read it with its signed justification, see it
 * overdue)? The requesting organisation sees its own requests; the holder sees them once approved
 * (it must answer them); any other reader must be a broker who may weigh this very request
 * ({@link decideDisclosureDecision}): reading is never wider than deciding. Anyone else would learn
 * whom the holder knows, and the partner-side pseudonym in the justification.
 */
export function decideDisclosureRead(
  c: Covenant,
  reader: Actor,
  request: { requester: string; holder: string; purpose: string; status: 'pending' | 'approved' | 'rejected' },
): Decision {
  if (reader.partner === request.requester && c.partners.has(reader.partner)) {
    return allow('requesting-organisation', `${reader.partner} made this request`);
  }
  if (reader.partner === request.holder && request.status === 'approved' && c.partners.has(reader.partner)) {
    return allow('addressed-holder', `${reader.partner} is asked to answer this approved request`);
  }
  return decideDisclosureDecision(c, reader, request);
}

/**
 * What may this reader read of the audit log (art. 16)? Reading at all needs `read-audit`; a role
 * with `read-audit-all` (the house's FG) reads everything; anyone else reads its own organisation's
 * actions, plus the accesses to persons it registered when the first audit-read rule
 * (oversight.yaml `auditRead`) naming its partner and role says `ownRegistrations`.
 */
export function decideAuditRead(c: Covenant, reader: Actor): AuditReadDecision {
  const own: AuditScope = { all: false, partner: reader.partner, ownRegistrations: false };
  const read = decideAction(c, reader, 'read-audit');
  if (!read.allowed) return { ...read, scope: own };
  const all = decideAction(c, reader, 'read-audit-all');
  if (all.allowed) return { ...all, reason: `${reader.partner}/${reader.role} reads the whole log (${all.reason})`, scope: { all: true } };
  const rule = c.oversight.auditRead.find((r) => (r.partners === undefined || r.partners.includes(reader.partner)) && (r.roles === undefined || r.roles.includes(reader.role)));
  if (!rule) return { ...read, reason: `${reader.partner}/${reader.role} reads its own organisation's actions (${read.reason})`, scope: own };
  return {
    ...allow(rule.id, `${reader.partner}/${reader.role} reads its own organisation's actions${rule.ownRegistrations ? ' and every access to a person it registered' : ''} (art. ${rule.article})`),
    scope: { ...own, ownRegistrations: rule.ownRegistrations },
  };
}

/** The subject access deferral (oversight.yaml) that withholds an entry like this, if any (AVG art. 23). */
export function deferralOf(c: Covenant, entry: { actorPartner: string | null; action: string }): Covenant['oversight']['subjectAccess']['deferrals'][number] | undefined {
  const partner = entry.actorPartner;
  if (partner === null) return undefined;
  return c.oversight.subjectAccess.deferrals.find((d) => d.partners.includes(partner) && (!d.actions || d.actions.includes(entry.action)));
}

/**
 * May this privacy officer release a withheld entry to the data subject before its deferral ends?
 * Only when the deferral allows early release (`earlyRelease`), while it still runs, and by an FG
 * who may read the log and answers for the entry: the house's FG (read-audit-all) or the FG of the
 * organisation that made it (whose investigation it is).
 */
export function decideDeferralRelease(c: Covenant, reader: Actor, entry: { actorPartner: string | null; action: string; at: Date }, now: Date): Decision {
  const read = decideAuditRead(c, reader);
  if (!read.allowed) return read;
  const deferral = deferralOf(c, entry);
  if (!deferral) return deny('not-deferred', 'this entry is not withheld from the subject access report');
  if (entry.at.getTime() + deferral.days * DAY_MS <= now.getTime()) return deny('deferral-ended', `the deferral ${deferral.id} has already ended`);
  if (!deferral.earlyRelease) return deny('release-not-permitted', `deferral ${deferral.id} may not be released early (art. ${deferral.article})`);
  if (!read.scope.all && entry.actorPartner !== reader.partner) {
    return deny('not-own-entry', `only the house's FG or ${entry.actorPartner ?? 'the acting organisation'}'s FG may release this entry`);
  }
  return allow(deferral.id, `${reader.partner}/${reader.role} may release an entry deferred by ${deferral.id} early (art. ${deferral.article})`);
}

/** The covenant's disclosure settings (validity, retention, approvals, justification minimum). */
export function disclosureSettings(c: Covenant): DisclosureSettings {
  return c.disclosure;
}

function matchesHolder(s: HolderSelector, partner: Partner): boolean {
  return (s.partners === undefined || s.partners.has(partner.id)) && (s.domains === undefined || s.domains.has(partner.domain));
}

function matchesRequester(s: RequesterSelector, partner: Partner, role: string): boolean {
  return (
    (s.partners === undefined || s.partners.has(partner.id)) &&
    (s.domains === undefined || s.domains.has(partner.domain)) &&
    (s.roles === undefined || s.roles.has(role))
  );
}

function matchesRegistration(s: RegistrationSelector, partner: Partner, category: string): boolean {
  return (
    (s.partners === undefined || s.partners.has(partner.id)) &&
    (s.domains === undefined || s.domains.has(partner.domain)) &&
    (s.categories === undefined || s.categories.has(category))
  );
}
