// What one audit entry says, and the exact bytes its Merkle leaf commits to.
// NEN 7513: what happened (action, outcome), when, about whom (stored pseudonym), by whom (partner,
// sub), in which role, why (purpose, case ref), under which covenant version and rule, via which
// request.
import { utf8 } from '../encoding';
import { leafHashOfText } from './merkle';

export type AuditAction =
  | 'registration.create'
  | 'request.replayed'
  | 'registration.renew'
  | 'registration.end'
  | 'registration.batch'
  | 'lookup'
  | 'match.created'
  | 'match.feed'
  | 'match.delivered'
  | 'auth.failure'
  | 'request.rejected'
  | 'covenant.loaded'
  | 'purge'
  | 'log.pruned'
  | 'audit.read'
  | 'checkpoint.requested'
  | 'disclosure.requested'
  | 'disclosure.break-glass'
  | 'disclosure.decided'
  | 'disclosure.reviewed'
  | 'disclosure.overdue'
  | 'disclosure.read'
  | 'grant.issued'
  | 'grant.revoked'
  | 'handover.posted'
  | 'handover.delivered'
  | 'handover.deleted'
  | 'handover.expired'
  // The console (src/console, src/staff): people, their sign-ins, and what they were shown.
  | 'staff.invited'
  | 'staff.enrolled'
  | 'staff.revoked'
  | 'staff.sign-in'
  | 'staff.sign-out'
  | 'console.view'
  | 'signal.reviewed'
  | 'subject-access.released';

export type AuditOutcome = 'allowed' | 'denied' | 'rejected' | 'failed' | 'ok';

/** What a caller appends; the store adds time, request id, actor and covenant version. */
export type AuditInput = {
  action: AuditAction;
  outcome: AuditOutcome;
  rule?: string | null;
  subject?: string | null;
  purpose?: string | null;
  caseRef?: string | null;
  detail?: Record<string, unknown> | null;
};

export type AuditContext = {
  at: Date;
  requestId: string;
  actor: { partner: string; sub: string; role: string } | null;
  covenantVersion: string;
};

/** An entry as stored, once sequenced. */
export type AuditEntry = {
  id: number;
  seq: number | null;
  leafHash: string | null;
  /** Random id given at append time (v2); null for entries written before migration 0005 (v1). */
  uid: string | null;
  at: Date;
  requestId: string;
  actorPartner: string | null;
  actorSub: string | null;
  actorRole: string | null;
  action: string;
  subject: string | null;
  purpose: string | null;
  caseRef: string | null;
  outcome: string;
  rule: string | null;
  covenantVersion: string;
  detail: Record<string, unknown> | null;
};

/**
 * An entry as its leaf commits to it, with `at` as its ISO text (UTC, to the millisecond: what
 * `toISOString` gives, and what the log's bulk reads select): `audit verify` and the sequencer hash
 * entries from it without making a Date of each and turning it back into text.
 */
export type LeafEntry = Omit<AuditEntry, 'at'> & { at: string };

/** An entry's `at` as the leaf has it. */
const atText = (e: AuditEntry | LeafEntry): string => (typeof e.at === 'string' ? e.at : e.at.toISOString());

/** JSON with object keys sorted at every level: the same entry always gives the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  // Plain loops and one string: every entry's detail goes through here when it is hashed.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const obj = value as Record<string, unknown>;
  let out = '{';
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + canonicalJson(v);
  }
  return `${out}}`;
}

/**
 * The leaf input (the log entry, c2sp.org/tlog-tiles) of an entry at position `seq`.
 * v2 (entries with a `uid`): the canonical JSON of the entry's content and its random uid, without
 * the database id or `seq`: it is fixed when the entry is appended, so a receipt can carry its leaf
 * hash before the sequencer runs; the position is committed by the tree, whose root the signed
 * checkpoints hold. v1 (before migration 0005): also the id and `seq`, as those entries were hashed.
 */
export function leafInput(e: AuditEntry | LeafEntry, seq: number): Uint8Array {
  return utf8(leafText(e, seq));
}

/** The leaf input as text (its UTF-8 bytes are the leaf input). */
function leafText(e: AuditEntry | LeafEntry, seq: number): string {
  return e.uid === null ? canonicalJson({ v: 1, ...entryView(e), seq }) : canonicalV2(e, atText(e));
}

/** RFC 6962 leaf hash of an entry at position `seq`: leafHash(leafInput(e, seq)), hashed from the text in one native call. */
export function entryLeafHash(e: AuditEntry | LeafEntry, seq: number): Uint8Array {
  return leafHashOfText(leafText(e, seq));
}

const str = JSON.stringify;

/**
 * canonicalJson({ v: 2, ...entryView(e) without id and seq }), written out with its keys already in
 * canonical order: the sequencer, both verifiers and entry bundles hash every entry, and the
 * generic writer (a sort at every level) was most of that time. Only `detail` is free-form.
 * test/audit-log.test.ts holds it byte for byte to the generic form.
 */
function canonicalV2(e: AuditEntry | LeafEntry, at: string): string {
  return (
    `{"action":${str(e.action)},"actor":{"partner":${str(e.actorPartner)},"role":${str(e.actorRole)},"sub":${str(e.actorSub)}}` +
    `,"at":${str(at)},"caseRef":${str(e.caseRef)},"covenantVersion":${str(e.covenantVersion)},"detail":${canonicalJson(e.detail)}` +
    `,"outcome":${str(e.outcome)},"purpose":${str(e.purpose)},"requestId":${str(e.requestId)},"rule":${str(e.rule)},"subject":${str(e.subject)}` +
    `,"uid":${str(e.uid)},"v":2}`
  );
}

/**
 * The entry an append will store: what the sequencer will read back and hash, byte for byte.
 * `input` is as the append sends it (prepareAppend, src/audit/store.ts, takes it from the rows' JSON
 * parameter as stored), so its detail is already what jsonb returns: undefined dropped, numbers
 * normalised. `at` is the context's: a Date (an AuditEntry), or text written out once for all of an
 * append's entries (a LeafEntry).
 */
export function pendingEntry<At extends Date | string>(
  ctx: Omit<AuditContext, 'at'> & { at: At },
  input: AuditInput,
  uid: string,
): Omit<AuditEntry, 'at'> & { at: At } {
  return {
    id: 0,
    seq: null,
    leafHash: null,
    uid,
    at: ctx.at,
    requestId: ctx.requestId,
    actorPartner: ctx.actor?.partner ?? null,
    actorSub: ctx.actor?.sub ?? null,
    actorRole: ctx.actor?.role ?? null,
    action: input.action,
    subject: input.subject ?? null,
    purpose: input.purpose ?? null,
    caseRef: input.caseRef ?? null,
    outcome: input.outcome,
    rule: input.rule ?? null,
    covenantVersion: ctx.covenantVersion,
    detail: input.detail ?? null,
  };
}

/** An entry as readers see it (API, CLI) and as its leaf commits to it. */
export function entryView(e: AuditEntry | LeafEntry) {
  return {
    id: e.id,
    seq: e.seq,
    ...(e.uid === null ? {} : { uid: e.uid }),
    at: atText(e),
    requestId: e.requestId,
    actor: { partner: e.actorPartner, sub: e.actorSub, role: e.actorRole },
    action: e.action,
    subject: e.subject,
    purpose: e.purpose,
    caseRef: e.caseRef,
    outcome: e.outcome,
    rule: e.rule,
    covenantVersion: e.covenantVersion,
    detail: e.detail,
  };
}
