// The visibility matrix: the whole covenant's lookup visibility, per purpose, as one table that a
// privacy officer can check against the signed text (`kenbaar policy check`). Computed from the
// same decideVisibility the hub uses, so the table cannot drift from the behaviour. Followed by a
// short disclosure table (who may ask whom for which content), whose approvals come from the
// same approvalsFor the disclosure decision uses.
import { approvalsFor, approversFor, decideVisibility } from './decide';
import type { Approvers, Covenant, Decision } from './types';

/**
 * - `visible`: the requester learns this holder's registrations in at least one category;
 * - `denied`: nothing is visible and an explicit deny rule decided it for some category;
 * - `not-granted`: nothing is visible, by default;
 * - `own`: the requester's own organisation (never shown as a hit).
 */
export type MatrixCellState = 'visible' | 'denied' | 'not-granted' | 'own';

export type MatrixCell = {
  holder: string;
  state: MatrixCellState;
  /** One decision per category the holder may register (empty for `own`). */
  decisions: readonly { category: string; decision: Decision }[];
};

export type MatrixRow = {
  partner: string;
  role: string;
  /** The purposes.yaml rule that lets this requester use the purpose. */
  requesterRule: string;
  /** Holder partners whose registrations this requester may learn. */
  visible: readonly string[];
  /** One cell per partner, in partner file order. */
  cells: readonly MatrixCell[];
};

export type PurposeMatrix = { purpose: string; rows: readonly MatrixRow[] };

/** For every purpose, every (partner, role) allowed it, and what it may learn about whom. */
export function visibilityMatrix(c: Covenant): PurposeMatrix[] {
  const holders = [...c.partners.values()];
  return [...c.purposes.values()].map((purpose) => ({
    purpose: purpose.id,
    rows: purpose.requesters.flatMap((q) =>
      q.roles.map((role): MatrixRow => {
        const actor = { partner: q.partner, role, sub: 'policy-check' };
        const cells = holders.map((h): MatrixCell => {
          if (h.id === q.partner) return { holder: h.id, state: 'own', decisions: [] };
          const decisions = [...h.registers.categories].map((category) => ({
            category,
            decision: decideVisibility(c, actor, purpose.id, { partner: h.id, category }),
          }));
          const state: MatrixCellState = decisions.some((d) => d.decision.allowed)
            ? 'visible'
            : decisions.some((d) => c.rules.has(d.decision.rule))
              ? 'denied'
              : 'not-granted';
          return { holder: h.id, state, decisions };
        });
        return {
          partner: q.partner,
          role,
          requesterRule: q.rule,
          visible: cells.filter((cell) => cell.state === 'visible').map((cell) => cell.holder),
          cells,
        };
      }),
    ),
  }));
}

const MARK: Record<MatrixCellState, string> = { visible: '✓', denied: '✗', 'not-granted': '·', own: '—' };

/** Fixed-width text tables, one per purpose: rows requester partner/role, columns holder partners. */
export function formatVisibilityMatrix(c: Covenant): string {
  const partners = [...c.partners.values()];
  const colWidth = Math.max(...partners.map((p) => p.short.length)) + 2;
  const lines: string[] = [
    `${c.name} (${c.id})`,
    `version ${c.version}`,
    '',
    `Legend: ${MARK.visible} visible   ${MARK.denied} explicit deny   ${MARK['not-granted']} not granted (deny by default)   ${MARK.own} own organisation`,
    `Columns: ${partners.map((p) => `${p.short}=${p.id}`).join(', ')}`,
  ];
  for (const m of visibilityMatrix(c)) {
    const purpose = c.purposes.get(m.purpose);
    if (!purpose) continue;
    const labels = m.rows.map((r) => `${r.partner}/${r.role} (${r.requesterRule})`);
    const labelWidth = Math.max('requester'.length, ...labels.map((l) => l.length)) + 2;
    lines.push(
      '',
      `${purpose.id}: ${purpose.name} (AVE ${purpose.aveLevels.join(', ')}; art. ${purpose.article})`,
      'requester'.padEnd(labelWidth) + partners.map((p) => p.short.padEnd(colWidth)).join('').trimEnd(),
    );
    if (m.rows.length === 0) lines.push('(no requesters)');
    m.rows.forEach((row, i) => {
      const cells = row.cells.map((cell) => MARK[cell.state].padEnd(colWidth)).join('');
      lines.push(((labels[i] ?? '').padEnd(labelWidth) + cells).trimEnd());
    });
  }
  lines.push('', ...formatDisclosureTable(c));
  return lines.join('\n') + '\n';
}

/** One disclosure allow rule as a policy table row. */
export type DisclosureTableRow = {
  rule: string;
  purpose: string;
  requester: { partners: readonly string[]; roles: readonly string[] };
  /** Holder partners the rule names (domains expanded), in partner file order. */
  holders: readonly string[];
  categories: readonly { id: string; special: boolean }[];
  /** Approvals for the least and the most a request may ask (same when the rule fixes them). */
  approvals: { min: number; max: number };
  /** Whom the approvals must come from (distinct organisations, or distinct brokers). */
  approvers: Approvers;
  /** Requester roles that may break the glass; empty when none. */
  breakGlass: readonly string[];
};

/** Every disclosure allow rule, with approvals computed by the same function the decision uses. */
export function disclosureTable(c: Covenant): DisclosureTableRow[] {
  return c.disclosureRules.flatMap((r): DisclosureTableRow[] => {
    if (r.effect !== 'allow' || r.purpose === null) return [];
    const categories = [...(r.categories ?? [])].map((id) => ({ id, special: c.dataCategories.get(id)?.special ?? false }));
    const plain = categories.filter((k) => !k.special).map((k) => k.id);
    const all = categories.map((k) => k.id);
    const max = approvalsFor(c, r, all);
    return [
      {
        rule: r.id,
        purpose: r.purpose,
        requester: { partners: [...(r.requester.partners ?? [])], roles: [...(r.requester.roles ?? [])] },
        holders: [...c.partners.values()]
          .filter((p) => (!r.holder.partners || r.holder.partners.has(p.id)) && (!r.holder.domains || r.holder.domains.has(p.domain)))
          .map((p) => p.id),
        categories,
        approvals: { min: plain.length > 0 ? approvalsFor(c, r, plain) : max, max },
        approvers: approversFor(c, r),
        breakGlass: [...(r.breakGlass?.roles ?? [])],
      },
    ];
  });
}

const APPROVERS_TEXT: Record<Approvers, string> = {
  'distinct-partners': 'each from another organisation ("orgs")',
  'distinct-brokers': 'several may be of one organisation ("brokers")',
};

/** `1`, `2 orgs`, `1–2 orgs` (distinct organisations), or `2 brokers` (one organisation may do). */
function formatApprovals(r: DisclosureTableRow): string {
  const n = r.approvals.min === r.approvals.max ? String(r.approvals.max) : `${r.approvals.min}–${r.approvals.max}`;
  if (r.approvals.max < 2) return n;
  return `${n} ${r.approvers === 'distinct-partners' ? 'orgs' : 'brokers'}`;
}

function formatDisclosureTable(c: Covenant): string[] {
  const s = c.disclosure;
  const short = (id: string) => c.partners.get(id)?.short ?? id;
  const head = ['rule', 'requester', '→ holder', 'categories (* special)', 'approvals', 'break glass'];
  const table = disclosureTable(c);
  const cells = table.map((r) => [
    r.rule,
    `${r.requester.partners.map(short).join(', ')} / ${r.requester.roles.join(', ')}`,
    r.holders.map(short).join(', '),
    r.categories.map((k) => `${k.id}${k.special ? '*' : ''}`).join(', '),
    formatApprovals(r),
    r.breakGlass.length > 0 ? r.breakGlass.join(', ') : '—',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)) + 2);
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('').trimEnd();
  const lines = [
    'Disclosure of content (art. 15): who may ask whom for what, after a lookup showed the holder knows the person',
    `Approvals: ${s.defaultApprovals}, or ${s.specialApprovals} when a special category is asked, by informatiemakelaars of ` +
      `${[...s.brokerPartners].join(', ')} or the holder, never the requester's own, ${APPROVERS_TEXT[s.approvers]}; ` +
      `grants last ${s.grantValidityHours} h.`,
    `Break glass: a grant at once for ${s.breakGlassValidityMinutes} min, the same approvals due as a review within ${s.reviewDeadlineHours} h. ` +
      `Justification at least ${s.minJustificationLength} characters.`,
  ];
  for (const purpose of c.purposes.values()) {
    const rows = cells.filter((_, i) => table[i]?.purpose === purpose.id);
    if (rows.length === 0) continue;
    lines.push('', `${purpose.id}:`, line(head), ...rows.map(line));
  }
  if (table.length === 0) lines.push('', '(no disclosure rules: no content is ever disclosed)');
  const denies = c.disclosureRules.filter((r) => r.effect === 'deny');
  if (denies.length > 0) lines.push('', 'Never:', ...denies.map((r) => `  ${r.id}: ${r.description}`));
  return lines;
}
