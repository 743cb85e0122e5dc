// The visibility matrix: the whole covenant's lookup visibility, per purpose, as one table that a
// privacy officer can check against the signed text (`kenbaar policy check`). Computed from the
// same decideVisibility the hub uses, so the table cannot drift from the behaviour.
import { decideVisibility } from './decide';
import type { Covenant, Decision } from './types';

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
  return lines.join('\n') + '\n';
}
