// Working hours (oversight.yaml `signals.workingHours`) in Europe/Amsterdam, turned into the UTC
// stretches of a period that fall outside them, so the database compares plain timestamps instead
// of converting every entry's time zone. Pure. Amsterdam's offset is a whole number of hours, so
// judging each UTC hour by its local hour and weekday is exact, summer time included.
import type { Oversight } from '../covenant/index';

const HOUR = 3_600_000;
const AMSTERDAM = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Amsterdam', hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Hour (0–23) and weekday (0 = Sunday) in Amsterdam. */
export function amsterdam(d: Date): { hour: number; weekday: number } {
  const parts = AMSTERDAM.formatToParts(d);
  return { hour: Number(parts.find((p) => p.type === 'hour')?.value), weekday: WEEKDAYS[parts.find((p) => p.type === 'weekday')?.value ?? ''] ?? 0 };
}

export function isWorkingHour(w: Oversight['signals']['workingHours'], d: Date): boolean {
  const { hour, weekday } = amsterdam(d);
  return w.weekdays.includes(weekday) && hour >= w.from && hour < w.to;
}

/** The parts of [from, to) outside working hours, merged, oldest first. */
export function outsideWorkingHours(w: Oversight['signals']['workingHours'], period: { from: Date; to: Date }): { from: Date; to: Date }[] {
  const out: { from: Date; to: Date }[] = [];
  for (let h = Math.floor(period.from.getTime() / HOUR) * HOUR; h < period.to.getTime(); h += HOUR) {
    if (isWorkingHour(w, new Date(h))) continue;
    const from = new Date(Math.max(h, period.from.getTime()));
    const to = new Date(Math.min(h + HOUR, period.to.getTime()));
    const last = out[out.length - 1];
    if (last && last.to.getTime() === from.getTime()) last.to = to;
    else out.push({ from, to });
  }
  return out;
}
