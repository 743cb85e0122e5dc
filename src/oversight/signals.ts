// Signals of misuse, computed from the log with the covenant's thresholds (oversight.yaml). Pure:
// entries in, signals out; each names its rule, the professional, why, and the entries it rests on.
// A professional is an actor (partner + sub): a person signed in to the console and a partner
// system's `sub` count alike.
import type { AuditEntry } from '../audit/entry';
import type { Oversight } from '../covenant/index';

const MINUTE = 60_000;
const DAY = 86_400_000;

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

const actorKey = (e: AuditEntry) => `${e.actorPartner}|${e.actorSub}`;

function byActor(entries: AuditEntry[]): Map<string, AuditEntry[]> {
  const m = new Map<string, AuditEntry[]>();
  for (const e of entries) {
    if (!e.actorPartner) continue;
    const k = actorKey(e);
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  }
  return m;
}

const AMSTERDAM = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
/** Hour and weekday in Amsterdam; one Intl call per clock hour (a month's log has ~720 of them). */
const hourCache = new Map<number, { hour: number; weekday: number }>();
function localHour(d: Date): { hour: number; weekday: number } {
  const bucket = Math.floor(d.getTime() / 3_600_000);
  let v = hourCache.get(bucket);
  if (!v) {
    const parts = AMSTERDAM.formatToParts(d);
    v = { hour: Number(parts.find((p) => p.type === 'hour')?.value), weekday: WEEKDAYS[parts.find((p) => p.type === 'weekday')?.value ?? ''] ?? 0 };
    if (hourCache.size > 100_000) hourCache.clear();
    hourCache.set(bucket, v);
  }
  return v;
}
const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The densest run of time-ordered entries within `ms` of each other: most entries, or with `key`
 * most distinct keys (a sliding window, linear in the entries).
 */
function densest(items: AuditEntry[], ms: number, key: (e: AuditEntry) => unknown = (e) => e.id): { size: number; window: AuditEntry[] } {
  const counts = new Map<unknown, number>();
  let best = { size: 0, start: 0, end: -1 };
  let start = 0;
  for (let end = 0; end < items.length; end++) {
    const k = key(items[end]!);
    counts.set(k, (counts.get(k) ?? 0) + 1);
    while (items[end]!.at.getTime() - items[start]!.at.getTime() > ms) {
      const old = key(items[start]!);
      const n = counts.get(old)! - 1;
      if (n === 0) counts.delete(old);
      else counts.set(old, n);
      start++;
    }
    if (counts.size > best.size) best = { size: counts.size, start, end };
  }
  return { size: best.size, window: items.slice(best.start, best.end + 1) };
}

/**
 * Signals over `entries` (oldest first), which should cover the analysed period plus the volume
 * history before it and the fishing window after lookups. `period` is what is judged.
 */
export function computeSignals(o: Oversight, entries: AuditEntry[], period: { from: Date; to: Date }): Signal[] {
  const s = o.signals;
  const out: Signal[] = [];
  const inPeriod = (e: AuditEntry) => e.at >= period.from && e.at < period.to;
  const lookups = entries.filter((e) => e.action === 'lookup' && e.outcome === 'allowed');
  // Follow-ups by organisation and person, oldest first: what keeps a lookup from being "fishing".
  const followUps = new Map<string, number[]>();
  for (const e of entries) {
    if (!e.subject || !(e.action === 'registration.create' || e.action === 'match.created' || e.action === 'disclosure.requested')) continue;
    const k = `${e.actorPartner}|${e.subject}`;
    const list = followUps.get(k);
    if (list) list.push(e.at.getTime());
    else followUps.set(k, [e.at.getTime()]);
  }
  const followedUp = (l: AuditEntry, within: number) => (followUps.get(`${l.actorPartner}|${l.subject}`) ?? []).some((t) => t >= l.at.getTime() && t <= l.at.getTime() + within);

  for (const [k, all] of byActor(lookups)) {
    const [partner, sub] = k.split('|') as [string, string];
    const mine = all.filter(inPeriod);
    if (mine.length === 0) continue;
    const base = { partner, sub };
    // Volume: each day of the period against the average of the history days before it.
    const perDay = new Map<string, AuditEntry[]>();
    for (const e of mine) {
      const list = perDay.get(day(e.at));
      if (list) list.push(e);
      else perDay.set(day(e.at), [e]);
    }
    for (const [d, list] of perDay) {
      const dayStart = new Date(`${d}T00:00:00.000Z`).getTime();
      const history = all.filter((e) => e.at.getTime() < dayStart && e.at.getTime() >= dayStart - s.volume.historyDays * DAY).length;
      const average = history / s.volume.historyDays;
      if (list.length >= s.volume.minimum && list.length > s.volume.factor * Math.max(average, 1)) {
        out.push({ ...base, key: `${s.volume.id}|${k}|${d}`, rule: s.volume.id, kind: 'volume', title: 'Ongewoon veel bevragingen', why: `${list.length} bevragingen op ${d}, tegen gemiddeld ${average.toFixed(1)} per dag in de ${s.volume.historyDays} dagen ervoor (drempel: ${s.volume.factor}× en ten minste ${s.volume.minimum}).`, entries: list.map((e) => e.id) });
      }
    }
    // Outside working hours.
    const late = mine.filter((e) => {
      const { hour, weekday } = localHour(e.at);
      return !s.workingHours.weekdays.includes(weekday) || hour < s.workingHours.from || hour >= s.workingHours.to;
    });
    if (late.length > 0) {
      out.push({ ...base, key: `${s.workingHours.id}|${k}|${day(period.from)}`, rule: s.workingHours.id, kind: 'buiten-werktijd', title: 'Bevragingen buiten werktijd', why: `${late.length} bevraging(en) buiten ${s.workingHours.from}:00–${s.workingHours.to}:00 op werkdagen.`, entries: late.map((e) => e.id) });
    }
    // Sweep: many distinct persons within a short time.
    const sweep = densest(mine, s.sweep.withinMinutes * MINUTE, (e) => e.subject);
    if (sweep.size >= s.sweep.distinctPersons) {
      out.push({ ...base, key: `${s.sweep.id}|${k}|${day(sweep.window[0]!.at)}`, rule: s.sweep.id, kind: 'sweep', title: 'Veel verschillende personen in korte tijd', why: `${sweep.size} verschillende personen bevraagd binnen ${s.sweep.withinMinutes} minuten (drempel: ${s.sweep.distinctPersons}).`, entries: sweep.window.map((e) => e.id) });
    }
    // Fishing: lookups whose window has passed without any follow-up by the organisation.
    const window = s.fishing.windowDays * DAY;
    const fished = mine.filter((l) => l.at.getTime() + window <= period.to.getTime() && !followedUp(l, window));
    if (fished.length >= s.fishing.minimum) {
      out.push({ ...base, key: `${s.fishing.id}|${k}|${day(period.from)}`, rule: s.fishing.id, kind: 'hengelen', title: 'Bevragingen zonder vervolg', why: `${fished.length} bevragingen zonder registratie, match of verzoek van ${partner} over die persoon binnen ${s.fishing.windowDays} dagen (drempel: ${s.fishing.minimum}).`, entries: fished.map((e) => e.id) });
    }
  }

  // Repeated refusals of one professional.
  const refused = entries.filter((e) => inPeriod(e) && (e.outcome === 'denied' || e.outcome === 'rejected'));
  for (const [k, list] of byActor(refused)) {
    const [partner, sub] = k.split('|') as [string, string];
    const w = densest(list, s.denials.withinMinutes * MINUTE);
    if (w.size >= s.denials.count) {
      out.push({ partner, sub, key: `${s.denials.id}|${k}|${day(w.window[0]!.at)}`, rule: s.denials.id, kind: 'weigeringen', title: 'Herhaald geweigerd', why: `${w.size} geweigerde handelingen binnen ${s.denials.withinMinutes} minuten (drempel: ${s.denials.count}).`, entries: w.window.map((e) => e.id) });
    }
  }

  // Break-glass: frequency per organisation over 30 days, and every overdue review.
  const glass = entries.filter((e) => e.action === 'disclosure.break-glass' && e.at.getTime() > period.to.getTime() - 30 * DAY && e.at < period.to);
  const perPartner = new Map<string, AuditEntry[]>();
  for (const e of glass) {
    const list = perPartner.get(e.actorPartner ?? '');
    if (list) list.push(e);
    else perPartner.set(e.actorPartner ?? '', [e]);
  }
  for (const [partner, list] of perPartner) {
    if (list.length > s.breakGlass.perMonth) {
      out.push({ partner, sub: null, key: `${s.breakGlass.id}|${partner}|${day(period.to)}`, rule: s.breakGlass.id, kind: 'noodtoegang', title: 'Vaak noodtoegang', why: `${list.length} keer noodtoegang in 30 dagen (drempel: meer dan ${s.breakGlass.perMonth}).`, entries: list.map((e) => e.id) });
    }
  }
  for (const e of entries.filter((x) => x.action === 'disclosure.overdue' && inPeriod(x))) {
    const requester = String((e.detail as { requester?: string } | null)?.requester ?? '');
    out.push({ partner: requester, sub: null, key: `${s.breakGlass.id}|overdue|${String((e.detail as { request?: string } | null)?.request)}`, rule: s.breakGlass.id, kind: 'toetsing-te-laat', title: 'Noodtoegang niet op tijd getoetst', why: 'De toetsing achteraf door een informatiemakelaar is niet binnen de termijn van het convenant gedaan.', entries: [e.id] });
  }
  return out;
}
