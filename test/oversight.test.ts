// The covenant's oversight rules as pure functions: which accesses a subject access report withholds
// (and until when), and which patterns in the log raise a misuse signal (oversight.yaml).
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/audit/entry';
import { computeSignals } from '../src/oversight/signals';
import { subjectAccessReport } from '../src/oversight/subject-access';
import { demoCovenant } from './support/hub';

const cov = demoCovenant();
const MINUTE = 60_000;
const DAY = 86_400_000;
let nextId = 1;

function entry(at: Date, over: Partial<AuditEntry> = {}): AuditEntry {
  return { id: nextId++, uid: null, seq: null, leafHash: null, at, requestId: 'r', actorPartner: 'gemeente', actorSub: 'pr-1', actorRole: 'procesregisseur', action: 'lookup', subject: 'S', purpose: 'procesregie-casus-op-maat', caseRef: 'Z-1', outcome: 'allowed', rule: 'X', covenantVersion: cov.version, detail: null, ...over };
}

describe('subject access report (AVG art. 15, deferred under art. 23)', () => {
  const now = new Date('2026-11-23T12:00:00Z');

  it("withholds a police lookup for a year (SA-UITSTEL-01) and shows it afterwards; the gemeente's is always shown", () => {
    const police = entry(new Date(now.getTime() - 10 * DAY), { actorPartner: 'politie', actorSub: 'agent', actorRole: 'professional' });
    const gemeente = entry(new Date(now.getTime() - 10 * DAY));
    const r = subjectAccessReport(cov, [police, gemeente], now);
    expect(r.shown).toEqual([gemeente]);
    expect(r.withheld).toMatchObject([{ entry: police, rule: 'SA-UITSTEL-01', until: new Date(police.at.getTime() + 365 * DAY) }]);
    const later = subjectAccessReport(cov, [police, gemeente], new Date(police.at.getTime() + 366 * DAY));
    expect(later.withheld).toEqual([]);
    expect(later.shown).toHaveLength(2);
  });

  it("leaves out the hub's own housekeeping (no acting organisation)", () => {
    expect(subjectAccessReport(cov, [entry(now, { actorPartner: null, actorSub: null, action: 'purge' })], now).shown).toEqual([]);
  });
});

describe('misuse signals (thresholds from oversight.yaml)', () => {
  const day = new Date('2026-11-23T00:00:00Z');
  const period = { from: day, to: new Date(day.getTime() + DAY) };
  const s = cov.oversight.signals;

  it(`a sweep: ${s.sweep.distinctPersons} distinct persons within ${s.sweep.withinMinutes} minutes raises SIG-SWEEP, one fewer does not`, () => {
    const at = (i: number) => new Date(day.getTime() + 9 * 3_600_000 + i * MINUTE);
    const sweep = Array.from({ length: s.sweep.distinctPersons }, (_, i) => entry(at(i), { subject: `P${i}` }));
    expect(computeSignals(cov.oversight, sweep, period).filter((x) => x.kind === 'sweep')).toMatchObject([{ rule: 'SIG-SWEEP', partner: 'gemeente', sub: 'pr-1', entries: sweep.map((e) => e.id) }]);
    expect(computeSignals(cov.oversight, sweep.slice(1), period).filter((x) => x.kind === 'sweep')).toEqual([]);
  });

  it('lookups at night or at the weekend (Europe/Amsterdam) raise SIG-NACHT; office hours do not', () => {
    const night = entry(new Date('2026-11-23T22:30:00Z')); // 23:30 in Amsterdam, a Monday
    const office = entry(new Date('2026-11-23T09:30:00Z'));
    const signals = computeSignals(cov.oversight, [night, office], period).filter((x) => x.kind === 'buiten-werktijd');
    expect(signals.map((x) => x.entries)).toEqual([[night.id]]);
  });

  it('repeated refusals raise SIG-WEIGERING', () => {
    const refused = Array.from({ length: s.denials.count }, (_, i) => entry(new Date(day.getTime() + 10 * 3_600_000 + i * MINUTE), { outcome: 'denied' }));
    expect(computeSignals(cov.oversight, refused, period).map((x) => x.rule)).toContain('SIG-WEIGERING');
  });

  it('unusual volume against the professional’s own history raises SIG-VOLUME', () => {
    const history = Array.from({ length: s.volume.historyDays }, (_, i) => entry(new Date(day.getTime() - (i + 1) * DAY + 10 * 3_600_000)));
    const today = Array.from({ length: s.volume.minimum }, (_, i) => entry(new Date(day.getTime() + 10 * 3_600_000 + i * 1000), { subject: `Q${i % 3}` }));
    expect(computeSignals(cov.oversight, [...history, ...today], period).map((x) => x.rule)).toContain('SIG-VOLUME');
    expect(computeSignals(cov.oversight, [...history, ...today.slice(1)], period).map((x) => x.rule)).not.toContain('SIG-VOLUME');
  });

  it('lookups never followed by a registration, match or request of the organisation raise SIG-HENGELEN once their window has passed', () => {
    const long = { from: new Date(day.getTime() - 30 * DAY), to: day };
    const lookups = Array.from({ length: s.fishing.minimum }, (_, i) => entry(new Date(day.getTime() - 20 * DAY + i * 3_600_000), { subject: `F${i}` }));
    expect(computeSignals(cov.oversight, lookups, long).map((x) => x.rule)).toContain('SIG-HENGELEN');
    const followed = entry(new Date(day.getTime() - 19 * DAY), { action: 'registration.create', subject: 'F0' });
    expect(computeSignals(cov.oversight, [...lookups, followed], long).map((x) => x.rule)).not.toContain('SIG-HENGELEN');
  });

  it('break-glass more often than the covenant allows, and an overdue review, raise SIG-NOODTOEGANG', () => {
    const glass = Array.from({ length: s.breakGlass.perMonth + 1 }, (_, i) => entry(new Date(day.getTime() - i * DAY + 3_600_000), { actorPartner: 'politie', action: 'disclosure.break-glass' }));
    const overdue = entry(new Date(day.getTime() + 3_600_000), { actorPartner: null, action: 'disclosure.overdue', detail: { request: 'R', requester: 'politie' } });
    const kinds = computeSignals(cov.oversight, [...glass, overdue], period).filter((x) => x.rule === 'SIG-NOODTOEGANG').map((x) => x.kind);
    expect(kinds.sort()).toEqual(['noodtoegang', 'toetsing-te-laat']);
  });
});
