// The covenant (convenant) as the rest of kenbaar sees it once loaded: validated, cross-referenced
// and indexed by id, so that decisions on the hot path are a few map and set look-ups.

export const DOMAINS = ['zorg', 'veiligheid', 'straf', 'sociaal-domein', 'wonen'] as const;
/** The life/chain domain a partner belongs to; deny rules are often written per domain. */
export type Domain = (typeof DOMAINS)[number];

export const ACTIONS = [
  'register',
  'end-registration',
  'lookup',
  'read-matches',
  'read-audit',
  /** Read the whole log, not only one's own organisation's entries (the house's FG). */
  'read-audit-all',
  'decide-disclosure',
] as const;
export type Action = (typeof ACTIONS)[number];

/** AVE escalation level (Aanpak ter Voorkoming van Escalatie). */
export type AveLevel = 1 | 2 | 3 | 4;

/**
 * Rule ids that are not written in the covenant files but decide when no written rule does.
 * They are lower-case, written rule ids upper-case, so the two can never collide.
 */
export const FIXED_RULE_IDS = [
  'deny-by-default',
  'unknown-purpose',
  'unknown-category',
  'unknown-partner',
  'role-not-held',
  'action-not-permitted',
] as const;
export type FixedRuleId = (typeof FIXED_RULE_IDS)[number];

/** Who is acting: the partner organisation, the role the person/system acts in, and its subject id. */
export type Actor = { partner: string; role: string; sub: string };

/**
 * The outcome of every policy question. `rule` is always either a rule id from the covenant files
 * or a {@link FixedRuleId}, so an audit entry can cite exactly what decided.
 */
export type Decision = { allowed: boolean; rule: string; reason: string };

export type Article = { number: string; title: string; text: string };

export type RetentionDefaults = {
  defaultRetentionDays: number;
  /** Ceiling for every category's maxRetentionDays. */
  maxRetentionDays: number;
  /** How long ended registrations stay archived (not searchable). */
  archiveRetentionDays: number;
  /** How long audit entries are kept (NEN 7513: at least five years). */
  auditRetentionDays: number;
};

export type Partner = {
  id: string;
  name: string;
  /** Column label for tables. */
  short: string;
  domain: Domain;
  roles: ReadonlySet<string>;
  /** Which categories this partner may register, and the rule that grants it. */
  registers: { rule: string; article: string; categories: ReadonlySet<string> };
};

export type Role = {
  id: string;
  name: string;
  rule: string;
  article: string;
  description: string;
  actions: ReadonlySet<Action>;
};

export type PurposeRequester = { rule: string; partner: string; roles: readonly string[] };

export type Purpose = {
  id: string;
  name: string;
  description: string;
  aveLevels: readonly AveLevel[];
  article: string;
  legalBasis: readonly string[];
  /** In file order. */
  requesters: readonly PurposeRequester[];
};

export type Category = {
  id: string;
  name: string;
  description: string;
  maxRetentionDays: number;
  /** AVG art. 9 (health) or art. 10 (criminal) data: the registration itself is special data. */
  special: boolean;
  specialKind: 'gezondheid' | 'strafrechtelijk' | null;
};

export type Effect = 'allow' | 'deny';

/** Who asks. An absent field matches anything. */
export type RequesterSelector = {
  partners?: ReadonlySet<string>;
  domains?: ReadonlySet<Domain>;
  roles?: ReadonlySet<string>;
};

/** Whose registration. An absent field matches anything. */
export type RegistrationSelector = {
  partners?: ReadonlySet<string>;
  domains?: ReadonlySet<Domain>;
  categories?: ReadonlySet<string>;
};

export type VisibilityRule = {
  id: string;
  effect: Effect;
  article: string;
  description: string;
  /** `'*'`: every purpose (only deny rules may say so). */
  purposes: ReadonlySet<string> | '*';
  requester: RequesterSelector;
  holder: RegistrationSelector;
};

export type MatchRule = {
  id: string;
  effect: Effect;
  article: string;
  description: string;
  /** The purpose a notice serves (allow rules only; deny rules apply to every notice). */
  purpose: string | null;
  recipient: RegistrationSelector;
  other: RegistrationSelector;
  /**
   * Allow rules only: `other` must also be visible to the recipient partner acting in this role,
   * for `purpose`, under the visibility rules.
   */
  asVisibleTo: string | null;
};

export type RuleKind = 'role' | 'registration' | 'purpose' | 'visibility' | 'match';

/** Where a written rule lives, for citing it (audit, `kenbaar policy check`, error messages). */
export type RuleInfo = {
  id: string;
  kind: RuleKind;
  effect: Effect;
  article: string;
  description: string;
  file: string;
};

/** Visibility rules that can apply to one purpose, split so deny is always checked first. */
export type PurposeVisibility = { deny: readonly VisibilityRule[]; allow: readonly VisibilityRule[] };

export type Covenant = {
  /** `sha256:<hex>` over the sorted file names and their exact contents. */
  version: string;
  id: string;
  name: string;
  region: string;
  /** ISO dates (YYYY-MM-DD). */
  signed: string;
  validFrom: string;
  minJustificationLength: number;
  retention: RetentionDefaults;
  /** The file names the covenant was loaded from, sorted. */
  files: readonly string[];
  articles: ReadonlyMap<string, Article>;
  /** All maps iterate in file order. */
  partners: ReadonlyMap<string, Partner>;
  roles: ReadonlyMap<string, Role>;
  purposes: ReadonlyMap<string, Purpose>;
  categories: ReadonlyMap<string, Category>;
  /** In file order (across files: sorted by file name). */
  visibility: readonly VisibilityRule[];
  matches: readonly MatchRule[];
  /** Every written rule id, of every kind. */
  rules: ReadonlyMap<string, RuleInfo>;
  /** Precomputed indexes for the decision functions. */
  index: CovenantIndex;
};

export type CovenantIndex = {
  /** purpose → partner → role → requester rule id. */
  requesters: ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, string>>>;
  /** purpose → the visibility rules that may apply to it. */
  visibility: ReadonlyMap<string, PurposeVisibility>;
  matchDeny: readonly MatchRule[];
  matchAllow: readonly MatchRule[];
};
