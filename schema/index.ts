// The hub's tables. One aggregate per block; SQL against them lives in one data-access module each
// (`repo.ts` or `store.ts` next to the aggregate's code: src/registrations/, src/audit/, src/log/,
// src/matches/, src/disclosures/, src/idempotency/, src/staff/; used tokens in src/auth/replay.ts).
//
// Pseudonyms are stored as base64url text of the *hub* pseudonym (HMAC with the hub key): the
// partner-side pseudonym and, of course, the BSN never reach a table.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/** How a passkey-signed decision is kept (see src/staff/passkeys.ts). */
export type PasskeyProof = {
  /** The canonical JSON of the decision; its sha256 (base64url) is the WebAuthn challenge. */
  decision: string;
  credentialId: string;
  authenticatorData: string;
  clientDataJSON: string;
  signature: string;
};

export type Contact = { function: string; phone?: string; email?: string };

/** That a partner is involved with a subject: the verwijsindex "signal". Never the reason. */
export const registrations = pgTable(
  'registrations',
  {
    id: uuid('id').primaryKey(),
    partner: text('partner').notNull(),
    subject: text('subject').notNull(),
    keyVersion: integer('key_version').notNull(),
    category: text('category').notNull(),
    contact: jsonb('contact').$type<Contact>().notNull(),
    reference: text('reference'),
    registeredBy: text('registered_by').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    endedAt: ts('ended_at'),
    endReason: text('end_reason'),
  },
  (t) => [
    // Idempotency: one active registration per (partner, subject, category). Subject first, because
    // this is also the lookup's index (active registrations of a subject): its leading column is the
    // lookup's equality, so no planner, with or without statistics, prefers a scan of another index
    // (test/plan.test.ts). ON CONFLICT (partner, subject, category) infers it whatever the order.
    uniqueIndex('registrations_active_uq')
      .on(t.subject, t.partner, t.category)
      .where(sql`ended_at is null`),
    index('registrations_expires_idx').on(t.expiresAt),
  ],
);

/**
 * The audit entries. Writers insert rows, each with its leaf hash, inside the transaction of their
 * effect (no shared lock, so commits are not serialised); a statement-level trigger queues each new
 * id and leaf hash in audit_pending. Rows here are never updated: the sequencer gives committed entries their place in the log (audit_log)
 * and the RFC 6962 leaf hash, in a narrow table of its own (see auditLog).
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /**
     * The entry's RFC 6962 leaf hash as computed at append, from exactly what is stored (the one its
     * receipt carries); the sequencer puts it in the tree. Null for entries written otherwise (the
     * sequencer then computes it) and, before 0011, until sequencing. `audit verify` recomputes every
     * leaf from the content.
     */
    leafHash: text('leaf_hash'),
    /**
     * Random id given at append time (v2 entries): the leaf commits to it instead of `seq`, so the
     * leaf hash, and the receipt that carries it, exist before sequencing; and 122 random bits make
     * a leaf hash impossible to link to a guessed pseudonym. Null for v1 entries (before 0005).
     */
    uid: text('uid'),
    at: ts('at').notNull(),
    requestId: text('request_id').notNull(),
    actorPartner: text('actor_partner'),
    actorSub: text('actor_sub'),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    subject: text('subject'),
    purpose: text('purpose'),
    caseRef: text('case_ref'),
    outcome: text('outcome').notNull(),
    rule: text('rule'),
    covenantVersion: text('covenant_version').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    uniqueIndex('audit_entries_uid_uq').on(t.uid),
    index('audit_entries_subject_idx').on(t.subject),
    // The privacy officer's searches: by professional, by organisation, by time (newest first).
    index('audit_entries_actor_sub_idx').on(t.actorSub, t.id),
    index('audit_entries_actor_partner_idx').on(t.actorPartner, t.id),
    index('audit_entries_at_idx').on(t.at),
    index('audit_entries_case_ref_idx').on(t.caseRef, t.id),
    // The misuse signals (src/oversight/repo.ts), each a small partial index over what it reads:
    // allowed lookups per professional in time order, with the id, so counts and windows over a
    // month are index-only scans in the order they need (volume and its history, sweeps); refusals
    // per professional (repeated denials); the follow-ups that keep a lookup from being "fishing", by
    // organisation and person; break-glass and overdue reviews in time order.
    index('audit_entries_lookups_by_actor_idx')
      .on(t.actorPartner, t.actorSub, t.at, t.id)
      .where(sql`action = 'lookup' and outcome = 'allowed'`),
    index('audit_entries_refusals_by_actor_idx')
      .on(t.actorPartner, t.actorSub, t.at, t.id)
      .where(sql`outcome in ('denied', 'rejected')`),
    index('audit_entries_follow_ups_idx')
      .on(t.subject, t.actorPartner, t.at)
      .where(sql`action in ('registration.create', 'match.created', 'disclosure.requested')`),
    index('audit_entries_break_glass_idx')
      .on(t.action, t.at)
      .where(sql`action in ('disclosure.break-glass', 'disclosure.overdue')`),
  ],
);

/**
 * The log's order: the gap-free position (`seq`) the sequencer gave each committed entry (in id order
 * among those committed, so in commit order across its runs) and the entry's leaf hash. A narrow
 * table of its own, written by INSERT: sequencing an entry in place (an UPDATE of the wide
 * audit_entries row, with a new version in each of its indexes) cost PostgreSQL six times more
 * (bench/sequencer-shape.ts). Append-only, and prunable below the minimum index only (0011).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    entryId: bigint('entry_id', { mode: 'number' }).notNull(),
    /** Nullable so a damaged log can be migrated and reported by `audit verify`, not refused. */
    leafHash: text('leaf_hash'),
  },
  (t) => [uniqueIndex('audit_log_entry_uq').on(t.entryId)],
);

/**
 * Committed entries not yet in audit_log: the sequencer's queue. Filled by a trigger on every INSERT
 * into audit_entries; a row may leave only once its entry is in audit_log (0011).
 */
export const auditPending = pgTable('audit_pending', {
  entryId: bigint('entry_id', { mode: 'number' }).primaryKey(),
  /** audit_entries.leaf_hash, copied by the trigger: the sequencer reads the queue alone. */
  leafHash: text('leaf_hash'),
});

/**
 * The sequencer's state: tree size, root and the compact right edge of the tree; and the next feed
 * position (`seq`) it will give a match notice. One row; its lock is the sequencer's.
 */
export const logHead = pgTable('log_head', {
  id: integer('id').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  root: text('root').notNull(),
  frontier: jsonb('frontier').$type<string[]>().notNull(),
  /** Entries below this seq were pruned after the audit retention (a multiple of 256: whole tiles). */
  minIndex: bigint('min_index', { mode: 'number' }).notNull().default(0),
  updatedAt: ts('updated_at').notNull(),
  matchesSequenced: bigint('matches_sequenced', { mode: 'number' }).notNull().default(0),
});

/** Signed tree heads: the trust anchors `audit verify` checks the recomputed tree against. */
export const checkpoints = pgTable('checkpoints', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  root: text('root').notNull(),
  issuedAt: ts('issued_at').notNull(),
  kid: text('kid').notNull(),
  jws: text('jws').notNull(),
  /** The same tree head as a C2SP signed note (c2sp.org/tlog-checkpoint), signed by the log key. Null before 0005. */
  note: text('note'),
});

/** Witnesses' cosignature lines (c2sp.org/tlog-cosignature) on a checkpoint, one row per witness. */
export const checkpointCosignatures = pgTable(
  'checkpoint_cosignatures',
  {
    checkpointId: bigint('checkpoint_id', { mode: 'number' }).notNull(),
    witness: text('witness').notNull(),
    line: text('line').notNull(),
    at: ts('at').notNull(),
  },
  (t) => [uniqueIndex('checkpoint_cosignatures_uq').on(t.checkpointId, t.witness)],
);

/**
 * Hashes of the complete subtrees of 256^level leaves (level >= 1): the hash tiles above level 0
 * (c2sp.org/tlog-tiles). Level 0 is audit_log.leaf_hash by seq. Written by the sequencer; they
 * stay when entry content is pruned after the covenant's audit retention, so proofs for later entries and
 * the roots of old checkpoints remain computable.
 */
export const logSubtrees = pgTable(
  'log_subtrees',
  {
    level: integer('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [uniqueIndex('log_subtrees_pk').on(t.level, t.idx)],
);

/** Per witness the tree size it last cosigned for our log, as it told us (the tlog-witness `old`). */
export const witnessState = pgTable('witness_state', {
  witness: text('witness').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  updatedAt: ts('updated_at').notNull(),
});

/** Used token ids (`<partner>:<jti>`), kept until a minute after the token expired: a replayed `jti` is refused. */
export const usedTokens = pgTable(
  'used_tokens',
  {
    jti: text('jti').primaryKey(),
    partner: text('partner').notNull(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('used_tokens_expires_idx').on(t.expiresAt)],
);

/**
 * Match notices: `recipient` registered the same subject as `registrationId`'s partner did. `seq`,
 * the notice's position in the feeds, is given by the sequencer after commit (null until then), so
 * a notice that commits late is never behind a cursor a partner already passed; `id` is not.
 */
export const matches = pgTable(
  'matches',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    seq: bigint('seq', { mode: 'number' }),
    recipient: text('recipient').notNull(),
    recipientRegistrationId: uuid('recipient_registration_id').notNull(),
    registrationId: uuid('registration_id').notNull(),
    rule: text('rule').notNull(),
    covenantVersion: text('covenant_version').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('matches_pair_uq').on(t.recipientRegistrationId, t.registrationId),
    uniqueIndex('matches_seq_uq').on(t.seq),
    index('matches_unsequenced_idx').on(t.id).where(sql`seq is null`),
    index('matches_recipient_seq_idx').on(t.recipient, t.seq),
  ],
);

/**
 * A request for content (full disclosure): the requester's signed justification, the compact JWS it
 * arrived in kept verbatim but sealed at rest (`jws` holds a JWE under a key derived from the hub
 * key: src/disclosures/at-rest.ts, since its payload names the person), so a reader allowed to
 * unseal it can re-verify it with the requester's public key; `justificationHash` pins it in the log.
 */
export const disclosureRequests = pgTable(
  'disclosure_requests',
  {
    id: uuid('id').primaryKey(),
    requester: text('requester').notNull(),
    requesterSub: text('requester_sub').notNull(),
    requesterRole: text('requester_role').notNull(),
    holder: text('holder').notNull(),
    holderRegistrationId: uuid('holder_registration_id').notNull(),
    subject: text('subject').notNull(),
    purpose: text('purpose').notNull(),
    legalBasis: text('legal_basis').notNull(),
    categories: jsonb('categories').$type<string[]>().notNull(),
    caseRef: text('case_ref').notNull(),
    justificationHash: text('justification_hash').notNull(),
    jws: text('jws').notNull(),
    jti: text('jti').notNull(),
    urgency: text('urgency').$type<'regular' | 'emergency'>().notNull(),
    rule: text('rule').notNull(),
    approvalsNeeded: integer('approvals_needed').notNull(),
    /** Whom the approvals must come from, as the covenant said when the request was made. */
    approvers: text('approvers').$type<'distinct-partners' | 'distinct-brokers'>().notNull().default('distinct-partners'),
    status: text('status').$type<'pending' | 'approved' | 'rejected'>().notNull(),
    /** Break-glass only: the retrospective review. */
    reviewStatus: text('review_status').$type<'due' | 'justified' | 'unjustified'>(),
    reviewDueAt: ts('review_due_at'),
    overdueLoggedAt: ts('overdue_logged_at'),
    createdAt: ts('created_at').notNull(),
    closedAt: ts('closed_at'),
  },
  (t) => [
    uniqueIndex('disclosure_requests_jti_uq').on(t.requester, t.jti),
    index('disclosure_requests_status_idx').on(t.status, t.createdAt),
    index('disclosure_requests_review_idx').on(t.reviewStatus, t.reviewDueAt),
  ],
);

/** A broker's signed decision (or break-glass review). Immutable; one per broker per request and kind. */
export const disclosureDecisions = pgTable(
  'disclosure_decisions',
  {
    id: uuid('id').primaryKey(),
    requestId: uuid('request_id').notNull(),
    kind: text('kind').$type<'decision' | 'review'>().notNull(),
    broker: text('broker').notNull(),
    brokerSub: text('broker_sub').notNull(),
    brokerRole: text('broker_role').notNull(),
    outcome: text('outcome').$type<'approve' | 'reject'>().notNull(),
    categories: jsonb('categories').$type<string[]>(),
    validUntil: ts('valid_until'),
    reason: text('reason'),
    /** A partner system's decision: the compact JWS, verbatim. Null for a passkey decision. */
    jws: text('jws'),
    /**
     * A console decision: the WebAuthn assertion over sha256(canonical decision), verbatim, with
     * the canonical decision, so it can be re-verified offline with the credential's public key.
     */
    passkey: jsonb('passkey').$type<PasskeyProof>(),
    jti: text('jti').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('disclosure_decisions_broker_uq').on(t.requestId, t.kind, t.broker, t.brokerSub),
    uniqueIndex('disclosure_decisions_jti_uq').on(t.broker, t.jti),
  ],
);

/** A grant the hub signed: the holder may hand over these categories to the requester until expiry. */
export const disclosureGrants = pgTable(
  'disclosure_grants',
  {
    id: uuid('id').primaryKey(),
    requestId: uuid('request_id').notNull(),
    requester: text('requester').notNull(),
    holder: text('holder').notNull(),
    categories: jsonb('categories').$type<string[]>().notNull(),
    breakGlass: boolean('break_glass').notNull(),
    issuedAt: ts('issued_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    revokedAt: ts('revoked_at'),
    jwt: text('jwt').notNull(),
  },
  (t) => [uniqueIndex('disclosure_grants_request_uq').on(t.requestId)],
);

/** End-to-end encrypted content in transit: the hub holds ciphertext only, and only until delivery. */
export const handovers = pgTable(
  'handovers',
  {
    id: uuid('id').primaryKey(),
    grantId: uuid('grant_id').notNull(),
    requestId: uuid('request_id').notNull(),
    requester: text('requester').notNull(),
    holder: text('holder').notNull(),
    ciphertext: text('ciphertext'),
    bytes: integer('bytes').notNull(),
    postedAt: ts('posted_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    deliveredAt: ts('delivered_at'),
    deletedAt: ts('deleted_at'),
    deleteReason: text('delete_reason').$type<'delivered' | 'expired' | 'revoked'>(),
  },
  (t) => [uniqueIndex('handovers_grant_uq').on(t.grantId), index('handovers_expires_idx').on(t.expiresAt)],
);

/**
 * Idempotency keys (`Idempotency-Key`): the first answer to a partner's key, replayed to a retry.
 * The answer is sealed at rest like a stored JWS (it may quote one); kept for a bounded time (purge).
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    partner: text('partner').notNull(),
    key: text('key').notNull(),
    /** sha256 of method, path and body: the same key with another request is refused. */
    requestHash: text('request_hash').notNull(),
    requestId: text('request_id').notNull(),
    status: integer('status'),
    response: text('response'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('idempotency_keys_pk').on(t.partner, t.key), index('idempotency_keys_created_idx').on(t.createdAt)],
);

/**
 * People who use the console (informatiemakelaars, privacy officers): they belong to a partner and
 * act in one covenant role, exactly as a partner token does. Enrolled by invitation, signed in with
 * passkeys; revoking ends every session at once.
 */
export const staff = pgTable('staff', {
  id: uuid('id').primaryKey(),
  partner: text('partner').notNull(),
  role: text('role').notNull(),
  name: text('name').notNull(),
  email: text('email'),
  createdAt: ts('created_at').notNull(),
  enrolledAt: ts('enrolled_at'),
  revokedAt: ts('revoked_at'),
});

/** One-time enrolment links: only the hash of the secret in the link is stored. */
export const staffInvitations = pgTable(
  'staff_invitations',
  {
    id: uuid('id').primaryKey(),
    staffId: uuid('staff_id').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [uniqueIndex('staff_invitations_secret_uq').on(t.secretHash)],
);

/** A staff member's passkey: the public key (COSE, base64url) anyone can re-verify decisions with. */
export const staffCredentials = pgTable(
  'staff_credentials',
  {
    id: text('id').primaryKey(),
    staffId: uuid('staff_id').notNull(),
    publicKey: text('public_key').notNull(),
    counter: bigint('counter', { mode: 'number' }).notNull(),
    transports: jsonb('transports').$type<string[]>(),
    createdAt: ts('created_at').notNull(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [index('staff_credentials_staff_idx').on(t.staffId)],
);

/** A WebAuthn challenge the hub issued (enrolment or sign-in), used once, short-lived. */
export const staffChallenges = pgTable('staff_challenges', {
  id: text('id').primaryKey(),
  kind: text('kind').$type<'enrol' | 'sign-in'>().notNull(),
  challenge: text('challenge').notNull(),
  staffId: uuid('staff_id'),
  expiresAt: ts('expires_at').notNull(),
});

/** Console sessions: the cookie holds a secret, the table its hash. Idle and absolute expiry. */
export const staffSessions = pgTable(
  'staff_sessions',
  {
    id: text('id').primaryKey(),
    staffId: uuid('staff_id').notNull(),
    credentialId: text('credential_id').notNull(),
    createdAt: ts('created_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    endedAt: ts('ended_at'),
  },
  (t) => [index('staff_sessions_staff_idx').on(t.staffId)],
);

/** A privacy officer's review of a misuse signal (signal key = rule + professional + window). */
export const signalReviews = pgTable(
  'signal_reviews',
  {
    id: uuid('id').primaryKey(),
    signal: text('signal').notNull(),
    reviewer: uuid('reviewer').notNull(),
    note: text('note').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('signal_reviews_signal_uq').on(t.signal)],
);

/**
 * The webhook outbox: one row per notice a partner asked to be told of (KENBAAR_WEBHOOKS), written in
 * the transaction of the match notice or break-glass it tells of, so a rolled-back notice has none.
 * The payload holds ids and codes only; the delivery loop (src/webhooks/deliver.ts) leases due rows
 * with FOR UPDATE SKIP LOCKED, posts them signed, and marks them delivered, retried or failed.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    /** Also the `webhook-id` header: the same on every attempt, so a receiver can drop repeats. */
    id: uuid('id').primaryKey(),
    partner: text('partner').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: ts('created_at').notNull(),
    /** pending, delivered or failed. */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When a pending row is due (again): after a lease, the lease's end; after a failure, the backoff's. */
    nextAttemptAt: ts('next_attempt_at').notNull(),
    /** The last attempt's HTTP status, or an error code (timeout, connection refused, ...). */
    lastResult: text('last_result'),
    settledAt: ts('settled_at'),
  },
  (t) => [index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`)],
);

/**
 * A privacy officer's early release of an entry a subject access report withholds (AVG art. 23):
 * from then on the entry is shown to the data subject, before its deferral ends. One per entry.
 */
export const deferralReleases = pgTable(
  'deferral_releases',
  {
    id: uuid('id').primaryKey(),
    entryId: bigint('entry_id', { mode: 'number' }).notNull(),
    /** The deferral (oversight.yaml) the entry was withheld under. */
    deferral: text('deferral').notNull(),
    /** The covenant rule that allowed the release. */
    rule: text('rule').notNull(),
    releasedBy: uuid('released_by').notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [uniqueIndex('deferral_releases_entry_uq').on(t.entryId)],
);
