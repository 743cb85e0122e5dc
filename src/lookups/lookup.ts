// Which of a subject's registrations a requester may learn of, for a purpose. Pure: takes the
// registrations found and the covenant; returns the hits (one per partner) and the deciding rules.
import { decideVisibility, type Actor, type Covenant } from '../covenant/index';
import type { Contact } from '../../schema/index';

export type Found = { id: string; partner: string; category: string; contact: Contact; createdAt: Date };

export type KnownBy = { partner: string; partnerName: string; domain: string; contact: Contact; since: string };

export type LookupOutcome = {
  knownBy: KnownBy[];
  /** Rules that let a hit through, in order of first use. */
  rules: string[];
  /** Registrations the covenant withheld from this requester: for the audit entry only. */
  withheld: { partner: string; rule: string }[];
};

export function decideHits(covenant: Covenant, actor: Actor, purpose: string, found: readonly Found[]): LookupOutcome {
  const byPartner = new Map<string, Found>();
  const rules = new Set<string>();
  const withheld: { partner: string; rule: string }[] = [];
  for (const reg of found) {
    if (reg.partner === actor.partner) continue; // your own registration is not a hit
    const d = decideVisibility(covenant, actor, purpose, { partner: reg.partner, category: reg.category });
    if (!d.allowed) {
      withheld.push({ partner: reg.partner, rule: d.rule });
      continue;
    }
    rules.add(d.rule);
    const seen = byPartner.get(reg.partner);
    // One hit per partner: its longest-standing involvement, with that registration's contact point.
    if (!seen || reg.createdAt < seen.createdAt) byPartner.set(reg.partner, reg);
  }
  const knownBy = [...byPartner.values()]
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.partner.localeCompare(b.partner))
    .map((r) => {
      const p = covenant.partners.get(r.partner);
      return {
        partner: r.partner,
        partnerName: p?.name ?? r.partner,
        domain: p?.domain ?? 'unknown',
        contact: r.contact,
        since: r.createdAt.toISOString(),
      };
    });
  return { knownBy, rules: [...rules], withheld };
}
