// Staff: the people who use the console. A staff member belongs to one partner and acts in one
// covenant role; the covenant decides what they may do exactly as it does for a partner token
// (`staffActor` is the Actor every decision gets). Enrolment is by a one-time, expiring invitation.
import { appendAudit } from '../audit/store';
import type { AuditContext } from '../audit/entry';
import type { Actor, Covenant } from '../covenant/index';
import type { Db, Queryable } from '../db/types';
import { toBase64Url } from '../encoding';
import { sha256Base64Url } from '../hashing';
import { endSessionsOf, getStaff, insertInvitation, insertStaff, updateStaff, type StaffRow } from './repo';

/** How long an enrolment link stays good. */
export const INVITATION_HOURS = 72;

/** The actor a staff member acts as: `sub` is the staff id, so every audit entry names the person. */
export const staffActor = (s: StaffRow): Actor => ({ partner: s.partner, role: s.role, sub: `staff:${s.id}` });

/** Stored instead of a secret (invitation links, session cookies): base64url(sha256(secret)). */
export const secretHash = sha256Base64Url;

export const newSecret = () => toBase64Url(crypto.getRandomValues(new Uint8Array(32)));

export class StaffError extends Error {}

/** The partner must exist and hold the role: staff hold covenant roles, nothing else. */
export function checkPartnerRole(covenant: Covenant, partner: string, role: string): void {
  const p = covenant.partners.get(partner);
  if (!p) throw new StaffError(`unknown partner "${partner}"; the covenant lists ${[...covenant.partners.keys()].join(', ')}`);
  if (!p.roles.has(role)) throw new StaffError(`partner "${partner}" does not hold role "${role}"; it holds ${[...p.roles].join(', ')}`);
}

export type Invitation = { staff: StaffRow; secret: string; expiresAt: Date };

/** Create a staff member and a one-time enrolment secret; logged as `staff.invited`. */
export async function inviteStaff(
  db: Db,
  ctx: AuditContext,
  covenant: Covenant,
  input: { partner: string; role: string; name: string; email?: string | undefined },
): Promise<Invitation> {
  checkPartnerRole(covenant, input.partner, input.role);
  const name = input.name.trim();
  if (name.length < 2 || name.length > 200) throw new StaffError('the name must be 2 to 200 characters');
  const now = ctx.at;
  const row: StaffRow = { id: crypto.randomUUID(), partner: input.partner, role: input.role, name, email: input.email ?? null, createdAt: now, enrolledAt: null, revokedAt: null };
  const secret = newSecret();
  const expiresAt = new Date(now.getTime() + INVITATION_HOURS * 3_600_000);
  await db.transaction(async (tx) => {
    await insertStaff(tx, row);
    await insertInvitation(tx, { id: crypto.randomUUID(), staffId: row.id, secretHash: secretHash(secret), createdAt: now, expiresAt });
    await appendAudit(tx, ctx, [
      { action: 'staff.invited', outcome: 'ok', rule: covenant.roles.get(input.role)?.rule ?? null, detail: { staff: row.id, partner: row.partner, role: row.role, expiresAt: expiresAt.toISOString() } },
    ]);
  });
  return { staff: row, secret, expiresAt };
}

/** Revoke a staff member: every session ends at once, no sign-in works after; logged. */
export async function revokeStaff(db: Db, ctx: AuditContext, id: string): Promise<StaffRow> {
  return db.transaction(async (tx) => {
    const s = await getStaff(tx, id);
    if (!s) throw new StaffError(`no staff member ${id}`);
    if (s.revokedAt) throw new StaffError(`staff member ${id} was already revoked on ${s.revokedAt.toISOString()}`);
    await updateStaff(tx, id, { revokedAt: ctx.at });
    await endSessionsOf(tx, id, ctx.at);
    await appendAudit(tx, ctx, [{ action: 'staff.revoked', outcome: 'ok', rule: null, detail: { staff: id, partner: s.partner, role: s.role } }]);
    return { ...s, revokedAt: ctx.at };
  });
}

export async function activeStaff(q: Queryable, id: string): Promise<StaffRow | undefined> {
  const s = await getStaff(q, id);
  return s && !s.revokedAt ? s : undefined;
}
