// The verwijsindex "match": two partners registered the same subject. Who is told about whom is a
// covenant decision (decideMatchNotice), taken for each direction separately. Pure function.
import { decideMatchNotice, type Covenant } from '../covenant/index';

export type MatchSide = { id: string; partner: string; category: string };

export type MatchNotice = {
  recipient: string;
  recipientRegistrationId: string;
  registrationId: string;
  rule: string;
};

/** Notices arising between each new registration and the other partners' registrations of its subject. */
export function matchNotices(covenant: Covenant, pairs: { fresh: MatchSide; other: MatchSide }[]): MatchNotice[] {
  const out: MatchNotice[] = [];
  for (const { fresh, other } of pairs) {
    if (fresh.partner === other.partner) continue;
    const toFresh = decideMatchNotice(covenant, fresh, other);
    if (toFresh.allowed) {
      out.push({ recipient: fresh.partner, recipientRegistrationId: fresh.id, registrationId: other.id, rule: toFresh.rule });
    }
    const toOther = decideMatchNotice(covenant, other, fresh);
    if (toOther.allowed) {
      out.push({ recipient: other.partner, recipientRegistrationId: other.id, registrationId: fresh.id, rule: toOther.rule });
    }
  }
  return out;
}
