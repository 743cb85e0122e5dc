// The shape of one covenant file, checked before anything is cross-referenced. Every object is
// strict: a misspelt key in a rule must fail loudly rather than silently widen or narrow it.
// A file may hold any of the sections; list sections from several files are concatenated, so a
// large covenant can split e.g. its visibility rules over several files.
import { z } from 'zod';
import { ACTIONS, APPROVERS, DOMAINS } from './types';

/** Partner, role, purpose and category ids: kebab-case, so they read well in URLs and logs. */
export const idSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'must be a kebab-case id (e.g. "wijkteam-jeugd")');

/**
 * Written rule ids: upper-case with at least one dash (e.g. `V-PR-01`), so they can never collide
 * with the fixed lower-case ids such as `deny-by-default`.
 */
export const ruleIdSchema = z
  .string()
  .regex(/^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$/, 'must be an upper-case rule id with a dash (e.g. "V-PR-01")');

/**
 * Article numbers are strings ("8", "12a", "8.2"); a bare integer in YAML is accepted too. A YAML
 * float such as 8.10 would silently become "8.1", so non-integers must be quoted.
 */
const articleRef = z.union([
  z.string().regex(/^\d+[a-z]?(\.\d+)?$/, 'must be an article number such as "8" or "8.2"'),
  z.int().positive().transform(String),
]);

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be an ISO date (YYYY-MM-DD) in quotes');
const text = z.string().trim().min(1, 'must not be empty');
const days = z.int('must be a whole number of days').positive('must be a positive number of days');
const ids = z.array(idSchema).min(1, 'must list at least one id');
const domains = z.array(z.enum(DOMAINS)).min(1, 'must list at least one domain');

const articleSchema = z.strictObject({ number: articleRef, title: text, text });

/** Lookups per minute: an overload guard and a brake on fishing. Absent: no limit. */
const rateLimitsSchema = z.strictObject({
  lookupsPerMinutePerProfessional: z.int().positive().optional(),
  lookupsPerMinutePerPartner: z.int().positive().optional(),
});

const covenantMetaSchema = z.strictObject({
  id: idSchema,
  name: text,
  region: text,
  signed: isoDate,
  validFrom: isoDate,
  retention: z.strictObject({
    defaultRetentionDays: days,
    maxRetentionDays: days,
    archiveRetentionDays: days,
    auditRetentionDays: days,
  }),
  /** The default for every partner; a partner's own `rateLimits` replaces it key by key. */
  rateLimits: rateLimitsSchema.optional(),
  articles: z.array(articleSchema).min(1),
  // The audit log's witnesses (c2sp.org/tlog-witness): partners who cosign its checkpoints. The hub
  // publishes a checkpoint only once `quorum` of them cosigned it.
  witnesses: z
    .strictObject({
      quorum: z.int().min(0),
      keys: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[^\s+]+$/, 'must be a key name without spaces or "+"'),
            partner: idSchema.optional(),
            vkey: z.string().regex(/^[^\s+]+\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/, 'must be a note verifier key <name>+<hex id>+<base64>'),
            url: z.url('must be the witness URL (its add-checkpoint endpoint is <url>/add-checkpoint)'),
          }),
        )
        .default([]),
    })
    .default({ quorum: 0, keys: [] }),
});

const partnerSchema = z.strictObject({
  id: idSchema,
  name: text,
  short: z.string().regex(/^[A-Za-z]{1,6}$/, 'must be 1–6 letters'),
  domain: z.enum(DOMAINS),
  roles: ids,
  rateLimits: rateLimitsSchema.optional(),
  registers: z.strictObject({
    rule: ruleIdSchema,
    article: articleRef,
    // A partner may register nothing (e.g. an advisory member), hence no min(1).
    categories: z.array(idSchema),
  }),
});

const roleSchema = z.strictObject({
  id: idSchema,
  name: text,
  rule: ruleIdSchema,
  article: articleRef,
  description: text,
  actions: z.array(z.enum(ACTIONS)),
});

const purposeSchema = z.strictObject({
  id: idSchema,
  name: text,
  description: text,
  aveLevels: z.array(z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)])).min(1),
  article: articleRef,
  /** Ids of `legalBases` entries. */
  legalBasis: z.array(idSchema).min(1, 'a purpose needs a legal basis'),
  requesters: z.array(z.strictObject({ rule: ruleIdSchema, partner: idSchema, roles: ids })),
});

const legalBasisSchema = z.strictObject({ id: idSchema, text });

/** The kind says which AVG article applies (9 or 10); it must be there exactly when special. */
function specialKindPresentIffSpecial(c: { special: boolean; specialKind?: string | undefined }, ctx: z.RefinementCtx): void {
  if (c.special && c.specialKind === undefined)
    ctx.addIssue({ code: 'custom', path: ['specialKind'], message: 'required when special is true' });
  if (!c.special && c.specialKind !== undefined)
    ctx.addIssue({ code: 'custom', path: ['specialKind'], message: 'only allowed when special is true' });
}
const specialKind = z.enum(['gezondheid', 'strafrechtelijk']).optional();

const categorySchema = z
  .strictObject({
    id: idSchema,
    name: text,
    description: text,
    maxRetentionDays: days,
    special: z.boolean(),
    specialKind,
  })
  .superRefine(specialKindPresentIffSpecial);

const dataCategorySchema = z
  .strictObject({ id: idSchema, name: text, description: text, special: z.boolean(), specialKind })
  .superRefine(specialKindPresentIffSpecial);

const positive = (unit: string) => z.int(`must be a whole number of ${unit}`).positive(`must be a positive number of ${unit}`);
const disclosureSettingsSchema = z.strictObject({
  minJustificationLength: z.int().nonnegative(),
  grantValidityHours: positive('hours'),
  breakGlassValidityMinutes: positive('minutes'),
  reviewDeadlineHours: positive('hours'),
  relayRetentionHours: positive('hours'),
  maxCiphertextBytes: positive('bytes'),
  defaultApprovals: positive('approvals'),
  specialApprovals: positive('approvals'),
  approvers: z.enum(APPROVERS),
  brokerPartners: ids,
});

// --- selectors: deny rules may be broad (absent = any); allow rules must be explicit ----------

const anyRequester = z.strictObject({
  partners: ids.optional(),
  domains: domains.optional(),
  roles: ids.optional(),
});
const anyRegistration = z.strictObject({
  partners: ids.optional(),
  domains: domains.optional(),
  categories: ids.optional(),
});
/** An allow rule names exactly which partners, in which roles, it grants something to. */
const explicitRequester = z.strictObject({ partners: ids, roles: ids, domains: domains.optional() });
/** An allow rule must narrow whose registrations it reveals; "everything" is never granted. */
const narrowedRegistration = anyRegistration.refine(
  (s) => s.partners !== undefined || s.domains !== undefined || s.categories !== undefined,
  'an allow rule must name partners, domains or categories',
);
/** Recipients of match notices are named explicitly, like requesters. */
const explicitRecipient = z.strictObject({ partners: ids, domains: domains.optional(), categories: ids.optional() });

const ruleHead = { id: ruleIdSchema, article: articleRef, description: text };

const visibilityRuleSchema = z.discriminatedUnion('effect', [
  z.strictObject({
    ...ruleHead,
    effect: z.literal('allow'),
    purposes: ids,
    requester: explicitRequester,
    holder: narrowedRegistration,
  }),
  z.strictObject({
    ...ruleHead,
    effect: z.literal('deny'),
    purposes: z.union([z.literal('*'), ids]),
    requester: anyRequester.default({}),
    holder: anyRegistration.default({}),
  }),
]);

/** Whose content: a holder is a partner, so no registration categories here. */
const anyHolder = z.strictObject({ partners: ids.optional(), domains: domains.optional() });
const narrowedHolder = anyHolder.refine(
  (s) => s.partners !== undefined || s.domains !== undefined,
  'an allow rule must name partners or domains',
);

const disclosureRuleSchema = z.discriminatedUnion('effect', [
  z.strictObject({
    ...ruleHead,
    effect: z.literal('allow'),
    // One purpose, so that the legal bases the rule lists are that purpose's.
    purpose: idSchema,
    requester: explicitRequester,
    holder: narrowedHolder,
    categories: ids,
    legalBasis: ids,
    approvals: positive('approvals').optional(),
    approvers: z.enum(APPROVERS).optional(),
    breakGlass: z.strictObject({ roles: ids }).optional(),
  }),
  z.strictObject({
    ...ruleHead,
    effect: z.literal('deny'),
    purposes: z.union([z.literal('*'), ids]),
    requester: anyRequester.default({}),
    holder: anyHolder.default({}),
    categories: ids.optional(),
  }),
]);

const matchRuleSchema = z.discriminatedUnion('effect', [
  z
    .strictObject({
      ...ruleHead,
      effect: z.literal('allow'),
      purpose: idSchema,
      recipient: explicitRecipient,
      other: narrowedRegistration.optional(),
      asVisibleTo: idSchema.optional(),
    })
    .refine((r) => r.other !== undefined || r.asVisibleTo !== undefined, {
      message: 'an allow rule must narrow `other` or give `asVisibleTo`',
      path: ['other'],
    }),
  z.strictObject({
    ...ruleHead,
    effect: z.literal('deny'),
    recipient: anyRegistration.default({}),
    other: anyRegistration.default({}),
  }),
]);

const signalHead = { id: ruleIdSchema };
const oversightSchema = z.strictObject({
  subjectAccess: z.strictObject({
    deferrals: z.array(
      z.strictObject({
        id: ruleIdSchema,
        article: articleRef,
        description: text,
        partners: ids,
        actions: z.array(z.string().min(1)).optional(),
        days,
        // May a privacy officer release an entry before the deferral ends (decideDeferralRelease)?
        earlyRelease: z.boolean().default(false),
      }),
    ),
  }),
  // What a partner's own privacy officer reads besides its organisation's actions (art. 16): per
  // partner and/or role; `ownRegistrations` adds every access to a person the partner registered.
  auditRead: z
    .array(z.strictObject({ id: ruleIdSchema, article: articleRef, description: text, partners: ids.optional(), roles: ids.optional(), ownRegistrations: z.boolean() }))
    .default([]),
  signals: z.strictObject({
    volume: z.strictObject({ ...signalHead, factor: z.number().positive(), minimum: z.int().positive(), historyDays: days }),
    workingHours: z.strictObject({ ...signalHead, from: z.int().min(0).max(23), to: z.int().min(1).max(24), weekdays: z.array(z.int().min(0).max(6)).min(1) }),
    sweep: z.strictObject({ ...signalHead, distinctPersons: z.int().min(2), withinMinutes: z.int().positive() }),
    denials: z.strictObject({ ...signalHead, count: z.int().min(2), withinMinutes: z.int().positive() }),
    fishing: z.strictObject({ ...signalHead, windowDays: days, minimum: z.int().positive() }),
    breakGlass: z.strictObject({ ...signalHead, perMonth: z.int().positive() }),
  }),
});

export const covenantFileSchema = z.strictObject({
  covenant: covenantMetaSchema.optional(),
  partners: z.array(partnerSchema).optional(),
  roles: z.array(roleSchema).optional(),
  purposes: z.array(purposeSchema).optional(),
  categories: z.array(categorySchema).optional(),
  visibility: z.array(visibilityRuleSchema).optional(),
  matches: z.array(matchRuleSchema).optional(),
  legalBases: z.array(legalBasisSchema).optional(),
  disclosure: disclosureSettingsSchema.optional(),
  dataCategories: z.array(dataCategorySchema).optional(),
  disclosureRules: z.array(disclosureRuleSchema).optional(),
  oversight: oversightSchema.optional(),
});

export type CovenantFile = z.infer<typeof covenantFileSchema>;
export type RawCovenantMeta = z.infer<typeof covenantMetaSchema>;
export type RawPartner = z.infer<typeof partnerSchema>;
export type RawRole = z.infer<typeof roleSchema>;
export type RawPurpose = z.infer<typeof purposeSchema>;
export type RawCategory = z.infer<typeof categorySchema>;
export type RawVisibilityRule = z.infer<typeof visibilityRuleSchema>;
export type RawMatchRule = z.infer<typeof matchRuleSchema>;
export type RawRequesterSelector = z.infer<typeof anyRequester>;
export type RawRegistrationSelector = z.infer<typeof anyRegistration>;
export type RawLegalBasis = z.infer<typeof legalBasisSchema>;
export type RawDataCategory = z.infer<typeof dataCategorySchema>;
export type RawDisclosureSettings = z.infer<typeof disclosureSettingsSchema>;
export type RawDisclosureRule = z.infer<typeof disclosureRuleSchema>;
export type RawHolderSelector = z.infer<typeof anyHolder>;
export type RawOversight = z.infer<typeof oversightSchema>;
