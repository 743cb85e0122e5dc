// Properties every covenant decision must have, whatever the input: deny by default, deny beats
// allow, determinism, and every decision names a rule that exists.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  ACTIONS,
  FIXED_RULE_IDS,
  decideAction,
  decideMatchNotice,
  decidePurpose,
  decideRegistration,
  decideVisibility,
  loadCovenant,
  type Action,
  type Covenant,
  type Decision,
  type RuleKind,
} from '../src/covenant/index';
import { DEFAULT_COVENANT_DIR, readCovenantDir } from '../src/node/covenant-fs';

const files = readCovenantDir(DEFAULT_COVENANT_DIR);
const c = loadCovenant(files);

const fixed = new Set<string>(FIXED_RULE_IDS);
const partnerIds = [...c.partners.keys()];
const roleIds = [...c.roles.keys()];
const purposeIds = [...c.purposes.keys()];
const categoryIds = [...c.categories.keys()];
const known = new Set([...partnerIds, ...roleIds, ...purposeIds, ...categoryIds]);

const unknownId = fc.string({ maxLength: 24 }).filter((s) => !known.has(s));
const partnerArb = fc.oneof(fc.constantFrom(...partnerIds), unknownId);
const roleArb = fc.oneof(fc.constantFrom(...roleIds), unknownId);
const purposeArb = fc.oneof(fc.constantFrom(...purposeIds), unknownId);
const categoryArb = fc.oneof(fc.constantFrom(...categoryIds), unknownId);
const actionArb = fc.constantFrom<Action>(...ACTIONS);
const actorArb = fc.record({ partner: partnerArb, role: roleArb, sub: fc.string({ maxLength: 8 }) });
const regArb = fc.record({ partner: partnerArb, category: categoryArb });

/** Every decision, for one random input. */
type Input = {
  actor: { partner: string; role: string; sub: string };
  action: Action;
  purpose: string;
  holder: { partner: string; category: string };
  other: { partner: string; category: string };
};
const inputArb: fc.Arbitrary<Input> = fc.record({ actor: actorArb, action: actionArb, purpose: purposeArb, holder: regArb, other: regArb });

function decideAll(cov: Covenant, i: Input): [RuleKind, Decision][] {
  return [
    ['role', decideAction(cov, i.actor, i.action)],
    ['purpose', decidePurpose(cov, i.actor, i.purpose)],
    ['visibility', decideVisibility(cov, i.actor, i.purpose, i.holder)],
    ['registration', decideRegistration(cov, i.actor, i.holder.category)],
    ['match', decideMatchNotice(cov, i.holder, i.other)],
  ];
}

describe('deny by default', () => {
  it('an unknown partner, role, purpose or category is never allowed, and is refused with a fixed rule id', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        const unknown = (s: string) => !known.has(s);
        const anyUnknown = unknown(i.actor.partner) || unknown(i.actor.role) || unknown(i.purpose) || unknown(i.holder.partner) || unknown(i.holder.category);
        fc.pre(anyUnknown);
        const visibility = decideVisibility(c, i.actor, i.purpose, i.holder);
        expect(visibility.allowed).toBe(false);
        expect(fixed.has(visibility.rule)).toBe(true);
        if (unknown(i.actor.partner)) {
          for (const [, d] of decideAll(c, i).slice(0, 4)) expect(d).toMatchObject({ allowed: false, rule: 'unknown-partner' });
        }
        if (known.has(i.actor.partner) && unknown(i.actor.role)) {
          expect(decideAction(c, i.actor, i.action)).toMatchObject({ allowed: false, rule: 'role-not-held' });
        }
        if (unknown(i.holder.partner) || unknown(i.other.partner) || unknown(i.holder.category) || unknown(i.other.category)) {
          const m = decideMatchNotice(c, i.holder, i.other);
          expect(m.allowed).toBe(false);
          expect(['unknown-partner', 'unknown-category']).toContain(m.rule);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('every decision names a rule that exists', () => {
  it('allowed decisions name an allow rule of the right kind; denials a deny rule or a fixed id', () => {
    fc.assert(
      fc.property(inputArb, (i) => {
        for (const [kind, d] of decideAll(c, i)) {
          const rule = c.rules.get(d.rule);
          if (d.allowed) {
            expect(rule, `${kind}: ${d.rule}`).toMatchObject({ kind, effect: 'allow' });
          } else if (!fixed.has(d.rule)) {
            expect(rule, `${kind}: ${d.rule}`).toMatchObject({ effect: 'deny' });
          }
          expect(d.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('determinism', () => {
  it('the same question gets the same answer, from the same or a freshly loaded covenant', () => {
    const again = loadCovenant({ ...files });
    fc.assert(
      fc.property(inputArb, (i) => {
        const first = decideAll(c, i);
        expect(decideAll(c, i)).toEqual(first);
        expect(decideAll(again, i)).toEqual(first);
      }),
      { numRuns: 300 },
    );
  });
});

// --- deny beats allow: add random rules to the covenant, reload, compare -----------------------

type Reg = { partner: string; category: string };
const registrations: Reg[] = [...c.partners.values()].flatMap((p) => [...p.registers.categories].map((category) => ({ partner: p.id, category })));
/** Every (purpose, requester, role, holder registration) the covenant lets reach the visibility rules. */
const lookups = [...c.purposes.values()].flatMap((p) =>
  p.requesters.flatMap((q) => q.roles.flatMap((role) => registrations.map((holder) => ({ purpose: p.id, actor: { partner: q.partner, role, sub: 's' }, holder })))),
);
const isWrittenDeny = (cov: Covenant, d: Decision) => !d.allowed && cov.rules.get(d.rule)?.effect === 'deny';

const holderSelectorArb = fc.oneof(
  fc.record({ partners: fc.subarray(partnerIds, { minLength: 1 }) }),
  fc.record({ domains: fc.subarray(['zorg', 'veiligheid', 'straf', 'sociaal-domein', 'wonen'], { minLength: 1 }) }),
  fc.record({ categories: fc.subarray(categoryIds, { minLength: 1 }) }),
);

/** A random allow rule that passes the loader's coherence checks. */
const allowRuleArb = fc
  .constantFrom(...c.purposes.values())
  .chain((p) => fc.tuple(fc.constant(p.id), fc.subarray([...p.requesters], { minLength: 1 }), holderSelectorArb))
  .map(([purpose, requesters, holder]) => ({
    id: 'V-GEN-01',
    effect: 'allow',
    article: '7',
    description: 'generated',
    purposes: [purpose],
    requester: { partners: [...new Set(requesters.map((q) => q.partner))], roles: [...new Set(requesters.flatMap((q) => q.roles))] },
    holder,
  }));

const denyRuleArb = fc.record({
  id: fc.constant('D-GEN-01'),
  effect: fc.constant('deny'),
  article: fc.constant('12'),
  description: fc.constant('generated'),
  purposes: fc.oneof(fc.constant('*'), fc.subarray(purposeIds, { minLength: 1 })),
  requester: fc.oneof(fc.constant({}), fc.record({ partners: fc.subarray(partnerIds, { minLength: 1 }) })),
  holder: holderSelectorArb,
});

function withVisibilityRule(rule: object, where: 'first' | 'last'): Covenant {
  const doc = parse(files['visibility.yaml'] ?? '') as { visibility: object[] };
  if (where === 'first') doc.visibility.unshift(rule);
  else doc.visibility.push(rule);
  return loadCovenant({ ...files, 'visibility.yaml': stringify(doc) });
}

describe('deny beats allow', () => {
  it('an extra allow rule, even first in the file, never overrides a deny rule', () => {
    fc.assert(
      fc.property(allowRuleArb, (rule) => {
        const widened = withVisibilityRule(rule, 'first');
        for (const k of lookups) {
          const before = decideVisibility(c, k.actor, k.purpose, k.holder);
          const after = decideVisibility(widened, k.actor, k.purpose, k.holder);
          if (isWrittenDeny(c, before)) expect(after).toEqual(before);
          else if (after.rule !== 'V-GEN-01') expect(after).toEqual(before);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('an extra deny rule, even last in the file, denies everything it covers', () => {
    fc.assert(
      fc.property(denyRuleArb, (rule) => {
        const narrowed = withVisibilityRule(rule, 'last');
        const gen = narrowed.visibility.find((r) => r.id === 'D-GEN-01');
        if (!gen) throw new Error('generated rule not loaded');
        for (const k of lookups) {
          const partner = narrowed.partners.get(k.holder.partner);
          const covered =
            (gen.purposes === '*' || gen.purposes.has(k.purpose)) &&
            (!gen.requester.partners || gen.requester.partners.has(k.actor.partner)) &&
            (!gen.holder.partners || gen.holder.partners.has(k.holder.partner)) &&
            (!gen.holder.domains || (partner !== undefined && gen.holder.domains.has(partner.domain))) &&
            (!gen.holder.categories || gen.holder.categories.has(k.holder.category));
          const after = decideVisibility(narrowed, k.actor, k.purpose, k.holder);
          if (covered) expect(isWrittenDeny(narrowed, after), `${k.actor.partner} ${k.purpose} ${k.holder.partner}`).toBe(true);
          else expect(after).toEqual(decideVisibility(c, k.actor, k.purpose, k.holder));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('an extra match allow rule never overrides a match deny rule', () => {
    const matchAllowArb = fc.record({
      id: fc.constant('M-GEN-01'),
      effect: fc.constant('allow'),
      purpose: fc.constantFrom(...purposeIds),
      article: fc.constant('13'),
      description: fc.constant('generated'),
      recipient: fc.record({ partners: fc.subarray(partnerIds, { minLength: 1 }) }),
      other: holderSelectorArb,
    });
    fc.assert(
      fc.property(matchAllowArb, (rule) => {
        const doc = parse(files['matches.yaml'] ?? '') as { matches: object[] };
        doc.matches.unshift(rule);
        const widened = loadCovenant({ ...files, 'matches.yaml': stringify(doc) });
        for (const recipient of registrations) {
          for (const other of registrations) {
            const before = decideMatchNotice(c, recipient, other);
            const after = decideMatchNotice(widened, recipient, other);
            if (isWrittenDeny(c, before)) expect(after).toEqual(before);
            else if (after.rule !== 'M-GEN-01') expect(after).toEqual(before);
          }
        }
      }),
      { numRuns: 30 },
    );
  });
});
