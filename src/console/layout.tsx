/** @jsxImportSource hono/jsx */
// The console's page frame: Dutch, calm, legible; every asset from the hub itself (no CDN), no
// inline script or style (the Content-Security-Policy forbids them).
import type { Child } from 'hono/jsx';
import type { StaffRow } from '../staff/repo';
import { ASSETS, CONSOLE } from './paths';

export type Nav = 'wachtrij' | 'logboek' | 'persoon' | 'signalen' | 'overzicht' | 'none';

export const ROLE_NAMES: Record<string, string> = {
  informatiemakelaar: 'Informatiemakelaar',
  'privacy-officer': 'Functionaris gegevensbescherming',
  'zvh-privacy-officer': 'FG Zorg- en Veiligheidshuis',
};

export function Layout(props: { title: string; person?: StaffRow | undefined; nav?: Nav; scripts?: string[]; children: Child }) {
  const { person } = props;
  const broker = person?.role === 'informatiemakelaar';
  const fg = person && (person.role === 'privacy-officer' || person.role === 'zvh-privacy-officer');
  const link = (id: Nav, href: string, text: string) => (
    <li>
      <a href={href} aria-current={props.nav === id ? 'page' : undefined}>
        {text}
      </a>
    </li>
  );
  return (
    <html lang="nl">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · kenbaar`}</title>
        <link rel="stylesheet" href={`${ASSETS}/console.css`} />
        {(props.scripts ?? []).map((s) => (
          <script src={`${ASSETS}/${s}`} defer></script>
        ))}
      </head>
      <body>
        <a class="skip" href="#inhoud">
          Naar de inhoud
        </a>
        <header class="top">
          <a class="brand" href={CONSOLE}>
            kenbaar
          </a>
          {person ? (
            <nav aria-label="Hoofdmenu">
              <ul>
                {broker ? link('wachtrij', `${CONSOLE}/verzoeken`, 'Wachtrij') : null}
                {fg ? link('logboek', `${CONSOLE}/logboek`, 'Logboek') : null}
                {fg ? link('persoon', `${CONSOLE}/persoon`, 'Zoeken op persoon') : null}
                {fg ? link('signalen', `${CONSOLE}/signalen`, 'Signalen') : null}
                {fg ? link('overzicht', `${CONSOLE}/overzicht`, 'Overzicht') : null}
              </ul>
            </nav>
          ) : null}
          {person ? (
            <form method="post" action={`${CONSOLE}/uitloggen`} class="who">
              <span>
                {person.name} · {ROLE_NAMES[person.role] ?? person.role} · {person.partner}
              </span>
              <button type="submit" class="link">
                Uitloggen
              </button>
            </form>
          ) : null}
        </header>
        <main id="inhoud">{props.children}</main>
      </body>
    </html>
  );
}

/** A message box; `role="alert"` for errors so screen readers announce them. */
export function Notice(props: { kind: 'fout' | 'info' | 'ok'; children: Child }) {
  return (
    <div class={`notice ${props.kind}`} role={props.kind === 'fout' ? 'alert' : 'status'}>
      {props.children}
    </div>
  );
}

const DATE_TIME = new Intl.DateTimeFormat('nl-NL', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Amsterdam' });
export const when = (d: Date | string | null | undefined) => (d ? DATE_TIME.format(typeof d === 'string' ? new Date(d) : d) : '—');

/** "3 uur en 12 minuten" / "over 2 uur": durations in words, for ages and deadlines. */
export function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(Math.abs(ms) / 60_000));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  // Under two days in hours: a review deadline of 24 hours reads as "24 uur", not "1 dag".
  if (days > 1) return `${days} dagen${hours ? ` en ${hours} uur` : ''}`;
  if (minutes >= 60) return `${Math.floor(minutes / 60)} uur${mins ? ` en ${mins} min.` : ''}`;
  return `${mins} min.`;
}

/** A table's column headers. */
export function Head(props: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {props.cols.map((c) => (
          <th scope="col">{c}</th>
        ))}
      </tr>
    </thead>
  );
}

/** A filter's drop-down: `alle` (no filter) first, then the options, the current value selected. */
export function FilterSelect(props: { name: string; label: string; value: unknown; options: [string, string][] }) {
  return (
    <div>
      <label for={`f-${props.name}`}>{props.label}</label>
      <select id={`f-${props.name}`} name={props.name}>
        <option value="">alle</option>
        {props.options.map(([v, t]) => (
          <option value={v} selected={props.value === v}>
            {t}
          </option>
        ))}
      </select>
    </div>
  );
}
