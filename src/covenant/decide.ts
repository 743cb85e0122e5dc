// The covenant's decisions as pure functions over a loaded Covenant: no I/O, no clock, no state.
// They run on every request, so each is a few map/set look-ups over pre-indexed rules. Every path
// returns a Decision naming the rule that decided it; anything not explicitly allowed is denied.
import type {
  Action,
  Actor,
  Covenant,
  Decision,
  FixedRuleId,
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
