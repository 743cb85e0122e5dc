// The covenant (convenant) as the rest of kenbaar sees it once loaded: validated, cross-referenced
// and indexed by id, so that decisions on the hot path are a few map and set look-ups.
import type { RawOversight } from './schema';

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

/**
 * Whom a request's approvals must come from. `distinct-partners`: each from another organisation
 * (four eyes the hub can verify: it tells partners apart by their keys, but the `sub` of a person
 * is whatever the partner's key signs). `distinct-brokers`: distinct (partner, sub) pairs, so two
 * people of one organisation count twice on that organisation's word.
 */
export const APPROVERS = ['distinct-partners', 'distinct-brokers'] as const;
export type Approvers = (typeof APPROVERS)[number];

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
  /** A disclosure request names a data category the covenant does not define. */
  'unknown-data-category',
  /** A disclosure request names a holder partner the covenant does not define. */
  'unknown-holder',
  /** A disclosure request's justification is shorter than the covenant's minimum (art. 15). */
  'justification-too-short',
  /** Urgency `emergency` where no rule lets the requester's role break the glass (art. 15b). */
  'break-glass-not-allowed',
  /**
   * Acting on one's own organisation where the covenant wants another: asking one's own
   * organisation for content, or weighing a request one's own organisation made (art. 15).
   */
  'own-organisation',
  /**
   * Approvals must come from distinct organisations (`approvers: distinct-partners`) and the
   * broker's organisation already decided on this request.
   */
  'four-eyes',
  /** A disclosure request is read by (anyone of) the organisation that made it. */
  'requesting-organisation',
  /** An approved disclosure request is read by the holder it is addressed to. */
  'addressed-holder',
] as const;
export type FixedRuleId = (typeof FIXED_RULE_IDS)[number];

/** Who is acting: the partner organisation, the role the person/system acts in, and its subject id. */
export type Actor = { partner: string; role: string; sub: string };

/**
 * The outcome of every policy question. `rule` is always either a rule id from the covenant files
 * or a {@link FixedRuleId}, so an audit entry can cite exactly what decided.
 */
export type Decision = { allowed: boolean; rule: string; reason: string };

/**
 * How much of the audit log a reader may read (art. 16): the whole log (the house's FG,
 * read-audit-all), or one organisation's own actions and, when the covenant's audit-read rule says
 * so, every access to a person that organisation has an active registration for.
 */
export type AuditScope = { all: true } | { all: false; partner: string; ownRegistrations: boolean };

export type AuditReadDecision = Decision & { scope: AuditScope };

/** A request for content, as decided by decideDisclosureRequest. */
export type DisclosureRequest = {
  holder: string;
  purpose: string;
  /** A legal basis id (purposes.yaml `legalBases`) among those the deciding rule lists. */
  legalBasis: string;
  categories: readonly string[];
  urgency: 'regular' | 'emergency';
  justificationLength: number;
};

/**
 * A disclosure request's decision. `approvalsNeeded`: informatiemakelaars that must approve before
 * the grant (for break glass: that must review it afterwards); 0 when denied. `field` names the
 * part of the request that was refused, where one part was.
 */
export type DisclosureDecision = Decision & {
  approvalsNeeded: number;
  /** Whom the approvals must come from (the deciding rule's, else the settings'). */
  approvers: Approvers;
  breakGlass: boolean;
  field?: 'holder' | 'purpose' | 'legalBasis' | 'categories' | 'urgency' | 'justification';
};

export type Article = { number: string; title: string; text: string };

export type Witnesses = {
  quorum: number;
  /** name: the witness's key name; vkey: its note verifier key (type 0x04); url: its submission prefix. */
  keys: { name: string; partner?: string | undefined; vkey: string; url: string }[];
};

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
  /** Lookups per minute (the covenant's default, replaced key by key by the partner's own); null: no limit. */
  rateLimits: RateLimits;
};

export type RateLimits = { lookupsPerMinutePerProfessional: number | null; lookupsPerMinutePerPartner: number | null };

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
  /** Ids into Covenant.legalBases, in file order. */
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

/** A legal basis (art. 5), listed once and cited by id from purposes and disclosure requests. */
export type LegalBasis = { id: string; text: string };

/**
 * What disclosed content may be about (art. 15), at the grain a request names. Distinct from the
 * registration categories: a registration says *that* a partner is involved, a data category
 * what it may tell.
 */
export type DataCategory = {
  id: string;
  name: string;
  description: string;
  /** AVG art. 9 (health) or art. 10 (criminal) data: four eyes (specialApprovals). */
  special: boolean;
  specialKind: 'gezondheid' | 'strafrechtelijk' | null;
};

/** The covenant's settings for disclosure of content (art. 15, 15a, 15b). */
export type DisclosureSettings = {
  /** Fewest characters a request's justification may have. */
  minJustificationLength: number;
  /** How long an approved grant lets the holder answer and the requester fetch. */
  grantValidityHours: number;
  /** How long a break-glass grant lasts (granted at once, reviewed afterwards). */
  breakGlassValidityMinutes: number;
  /** Within how many hours a break-glass grant must have been reviewed. */
  reviewDeadlineHours: number;
  /** How long the hub keeps relayed ciphertext (never longer than a grant). */
  relayRetentionHours: number;
  /** Largest encrypted answer the hub relays. */
  maxCiphertextBytes: number;
  /** Approvals a request needs when no requested category is special and no rule says otherwise. */
  defaultApprovals: number;
  /** Approvals when any requested category is special (four eyes). */
  specialApprovals: number;
  /** Whom approvals must come from where a rule does not say. */
  approvers: Approvers;
  /**
   * Partners whose informatiemakelaars may weigh any request (the house); besides them only the
   * holder's own, and never the requester's organisation's.
   */
  brokerPartners: ReadonlySet<string>;
};

/** Whose content. An absent field matches anything. */
export type HolderSelector = {
  partners?: ReadonlySet<string>;
  domains?: ReadonlySet<Domain>;
};

export type DisclosureRule = {
  id: string;
  effect: Effect;
  article: string;
  description: string;
  /** Allow rules: the one purpose whose legal bases they cite. Null for deny rules. */
  purpose: string | null;
  /** `'*'`: every purpose (deny rules only); an allow rule's is `{purpose}`. */
  purposes: ReadonlySet<string> | '*';
  requester: RequesterSelector;
  holder: HolderSelector;
  /** Data categories. Allow rules: those that may be asked; deny rules: absent = any. */
  categories?: ReadonlySet<string>;
  /** Allow rules: the legal basis ids (a subset of the purpose's) a request may rest on. */
  legalBasis: readonly string[];
  /** Allow rules: approvals needed whatever is asked (only ever more than the settings say). */
  approvals: number | null;
  /** Allow rules: whom the approvals must come from, where the rule says (else the settings). */
  approvers: Approvers | null;
  /** Allow rules: the requester roles that may ask with urgency `emergency` (break the glass). */
  breakGlass: { roles: ReadonlySet<string> } | null;
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

export type RuleKind = 'role' | 'registration' | 'purpose' | 'visibility' | 'match' | 'disclosure' | 'oversight';

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

/** Disclosure rules that can apply to one purpose, split so deny is always checked first. */
export type PurposeDisclosure = { deny: readonly DisclosureRule[]; allow: readonly DisclosureRule[] };

export type Oversight = RawOversight;

export type Covenant = {
  /** `sha256:<hex>` over the sorted file names and their exact contents. */
  version: string;
  id: string;
  name: string;
  region: string;
  /** ISO dates (YYYY-MM-DD). */
  signed: string;
  validFrom: string;
  retention: RetentionDefaults;
  /** The audit log's witnesses and how many must cosign a checkpoint before it is published. */
  witnesses: Witnesses;
  /** Settings for requests for content; the one source of minJustificationLength. */
  disclosure: DisclosureSettings;
  /** The file names the covenant was loaded from, sorted. */
  files: readonly string[];
  articles: ReadonlyMap<string, Article>;
  /** All maps iterate in file order. */
  partners: ReadonlyMap<string, Partner>;
  roles: ReadonlyMap<string, Role>;
  purposes: ReadonlyMap<string, Purpose>;
  categories: ReadonlyMap<string, Category>;
  legalBases: ReadonlyMap<string, LegalBasis>;
  dataCategories: ReadonlyMap<string, DataCategory>;
  /** In file order (across files: sorted by file name). */
  visibility: readonly VisibilityRule[];
  matches: readonly MatchRule[];
  disclosureRules: readonly DisclosureRule[];
  /** Subject access deferrals and misuse-signal thresholds (oversight.yaml, art. 16). */
  oversight: Oversight;
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
  /** purpose → the disclosure rules that may apply to it. */
  disclosure: ReadonlyMap<string, PurposeDisclosure>;
};
