// Signals of misuse, computed from the log with the covenant's thresholds (oversight.yaml). The
// database gathers each signal's evidence in one aggregate (src/oversight/repo.ts); here, pure, the
// covenant's thresholds decide which evidence is a signal, and each signal names its rule, the
// professional, why, and the entries it rests on. A professional is an actor (partner + sub): a
// person signed in to the console and a partner system's `sub` count alike.
import type { AuditScope, Oversight } from '../covenant/index';
import type { Queryable } from '../db/types';
import { signalEvidence, type Period, type SignalEvidence } from './repo';

export type Signal = {
  /** Stable id: rule, professional and window, so a review sticks to it. */
  key: string;
  rule: string;
  kind: 'volume' | 'buiten-werktijd' | 'sweep' | 'weigeringen' | 'hengelen' | 'noodtoegang' | 'toetsing-te-laat';
  partner: string;
  sub: string | null;
  title: string;
  why: string;
  entries: number[];
};

const day = (d: Date) => d.toISOString().slice(0, 10);

/** The signals the evidence amounts to under the covenant's thresholds. Pure. */
export function explainSignals(o: Oversight, ev: SignalEvidence, period: Period): Signal[] {
  const s = o.signals;
  const out: Signal[] = [];
  const k = (e: { partner: string; sub: string | null }) => `${e.partner}|${e.sub}`;
  // Volume: a day against the professional's own daily average over the days before it.
  for (const v of ev.volume) {
    const average = v.history / s.volume.historyDays;
    if (v.count >= s.volume.minimum && v.count > s.volume.factor * Math.max(average, 1)) {
      out.push({ partner: v.partner, sub: v.sub, key: `${s.volume.id}|${k(v)}|${v.day}`, rule: s.volume.id, kind: 'volume', title: 'Ongewoon veel bevragingen', why: `${v.count} bevragingen op ${v.day}, tegen gemiddeld ${average.toFixed(1)} per dag in de ${s.volume.historyDays} dagen ervoor (drempel: ${s.volume.factor}× en ten minste ${s.volume.minimum}).`, entries: v.entries });
    }
  }
  for (const v of ev.outOfHours) {
    if (v.count === 0) continue;
    out.push({ partner: v.partner, sub: v.sub, key: `${s.workingHours.id}|${k(v)}|${day(period.from)}`, rule: s.workingHours.id, kind: 'buiten-werktijd', title: 'Bevragingen buiten werktijd', why: `${v.count} bevraging(en) buiten ${s.workingHours.from}:00–${s.workingHours.to}:00 op werkdagen.`, entries: v.entries });
  }
  for (const v of ev.sweeps) {
    if (v.persons < s.sweep.distinctPersons) continue;
    out.push({ partner: v.partner, sub: v.sub, key: `${s.sweep.id}|${k(v)}|${v.day}`, rule: s.sweep.id, kind: 'sweep', title: 'Veel verschillende personen in korte tijd', why: `${v.persons} verschillende personen bevraagd binnen ${s.sweep.withinMinutes} minuten (drempel: ${s.sweep.distinctPersons}).`, entries: v.entries });
  }
  for (const v of ev.fishing) {
    if (v.count < s.fishing.minimum) continue;
    out.push({ partner: v.partner, sub: v.sub, key: `${s.fishing.id}|${k(v)}|${day(period.from)}`, rule: s.fishing.id, kind: 'hengelen', title: 'Bevragingen zonder vervolg', why: `${v.count} bevragingen zonder registratie, match of verzoek van ${v.partner} over die persoon binnen ${s.fishing.windowDays} dagen (drempel: ${s.fishing.minimum}).`, entries: v.entries });
  }
  for (const v of ev.denials) {
    if (v.count < s.denials.count) continue;
    out.push({ partner: v.partner, sub: v.sub, key: `${s.denials.id}|${k(v)}|${v.day}`, rule: s.denials.id, kind: 'weigeringen', title: 'Herhaald geweigerd', why: `${v.count} geweigerde handelingen binnen ${s.denials.withinMinutes} minuten (drempel: ${s.denials.count}).`, entries: v.entries });
  }
  for (const v of ev.breakGlass) {
    if (v.count <= s.breakGlass.perMonth) continue;
    out.push({ partner: v.partner, sub: null, key: `${s.breakGlass.id}|${v.partner}|${day(period.to)}`, rule: s.breakGlass.id, kind: 'noodtoegang', title: 'Vaak noodtoegang', why: `${v.count} keer noodtoegang in 30 dagen (drempel: meer dan ${s.breakGlass.perMonth}).`, entries: v.entries });
  }
  for (const e of ev.overdue) {
    out.push({ partner: e.requester ?? '', sub: null, key: `${s.breakGlass.id}|overdue|${String(e.request)}`, rule: s.breakGlass.id, kind: 'toetsing-te-laat', title: 'Noodtoegang niet op tijd getoetst', why: 'De toetsing achteraf door een informatiemakelaar is niet binnen de termijn van het convenant gedaan.', entries: [e.id] });
  }
  return out;
}

/**
 * The signals over `period` in the reader's scope: the volume history before it and the fishing
 * window after each lookup are read from the log as needed.
 */
export async function computeSignals(q: Queryable, o: Oversight, period: Period, scope: AuditScope): Promise<Signal[]> {
  return explainSignals(o, await signalEvidence(q, o, period, scope), period);
}
