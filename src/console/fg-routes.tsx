/** @jsxImportSource hono/jsx */
// The privacy officer's (FG) workspace: search the log, a subject access report for one person
// (searched by a pseudonym made in the browser: the BSN and the covenant key never reach the hub),
// misuse signals with reviews, and an overview with the log's integrity. The covenant's audit-read
// rule decides the scope: a partner's FG reads its own organisation's actions, the house's FG
// (read-audit-all) the whole log. Every page that shows log data is itself an `audit.read` entry.
import type { Hono } from 'hono';
import { z } from 'zod';
import { verifyCheckpointJws } from '../audit/checkpoint';
import type { AuditEntry, AuditInput } from '../audit/entry';
import { dailyCounts, searchEntries, type AuditSearch } from '../audit/search';
import { latestCheckpoint, readHead } from '../audit/store';
import { verifyAuditLog } from '../audit/verify';
import { decideAuditRead, decideDeferralRelease, type AuditScope, type Covenant } from '../covenant/index';
import type { Queryable } from '../db/types';
import { Problem } from '../errors';
import { text } from '../http/schemas';
import { deny, readThenLog, unitOfWork } from '../http/unit-of-work';
import { storedSubject } from '../pseudonym/hub-key';
import { InvalidSubjectError } from '../pseudonym/pseudonymise';
import { computeSignals, type Signal } from '../oversight/signals';
import { insertDeferralRelease, releasedAmong } from '../oversight/repo';
import { reportCsv, subjectAccessReport } from '../oversight/subject-access';
import { insertSignalReview, listStaff, signalReviewsOf } from '../staff/repo';
import { BarChart } from './charts';
import { duration, FilterSelect, Head, Layout, Notice, ROLE_NAMES, when } from './layout';
import { CONSOLE } from './paths';
import { appContext, type ConsoleContext, type ConsoleEnv } from './session';

const DAY = 86_400_000;
const PAGE = 50;

export const ACTION_NAMES: Record<string, string> = {
  lookup: 'bevraging',
  'registration.create': 'registratie',
  'registration.renew': 'registratie verlengd',
  'registration.end': 'registratie beëindigd',
  'registration.batch': 'registraties (batch)',
  'match.created': 'match',
  'match.delivered': 'match afgeleverd',
  'match.feed': 'matches opgehaald',
  'auth.failure': 'mislukte authenticatie',
  'request.rejected': 'geweigerd verzoek',
  'audit.read': 'logboek ingezien',
  'disclosure.requested': 'verzoek om informatie',
  'disclosure.break-glass': 'noodtoegang',
  'disclosure.decided': 'besluit op verzoek',
  'disclosure.reviewed': 'toetsing noodtoegang',
  'disclosure.overdue': 'toetsing te laat',
  'disclosure.read': 'verzoek ingezien',
  'grant.issued': 'toestemming verleend',
  'grant.revoked': 'toestemming ingetrokken',
  'handover.posted': 'informatie klaargezet',
  'handover.delivered': 'informatie afgeleverd',
  'staff.sign-in': 'inloggen console',
  'staff.enrolled': 'passkey geregistreerd',
  'staff.revoked': 'toegang ingetrokken',
  'console.view': 'pagina console bekeken',
  'signal.reviewed': 'signaal beoordeeld',
  'subject-access.released': 'uitgestelde handeling vrijgegeven voor inzage',
};
const OUTCOME_NAMES: Record<string, string> = { allowed: 'toegestaan', denied: 'geweigerd', rejected: 'afgewezen', failed: 'mislukt', ok: 'ok' };

/** May this person read the log, and how much of it (art. 16)? The same decision as the API's. */
const scopeOf = (c: ConsoleContext) => decideAuditRead(c.var.config.covenant, c.var.actor);

/** Read log data and log that it was read, in one step; refused (and logged) without read-audit. */
async function readLog<T>(c: ConsoleContext, entry: Omit<AuditInput, 'action' | 'outcome' | 'rule'>, work: (q: Queryable, scope: AuditScope) => Promise<T>, detail: (t: T) => Record<string, unknown>): Promise<T> {
  const scope = scopeOf(c);
  return readThenLog(appContext(c), async (q, audit) => {
    if (!scope.allowed) {
      await audit({ ...entry, action: 'audit.read', outcome: 'denied', rule: scope.rule });
      return deny(new Problem('forbidden', ''));
    }
    const out = await work(q, scope.scope);
    await audit({ ...entry, action: 'audit.read', outcome: 'allowed', rule: scope.rule, detail: { ...entry.detail, ...detail(out), scope: scopeLabel(scope.scope) } });
    return out;
  });
}

/** Names for the people in the log: staff by name, partner systems' subs as they are. */
async function whoIs(q: Queryable): Promise<(sub: string | null) => string> {
  const names = new Map((await listStaff(q)).map((s) => [`staff:${s.id}`, `${s.name} (console)`]));
  return (sub) => (sub ? (names.get(sub) ?? sub) : '—');
}

const scopeLabel = (scope: AuditScope) => (scope.all ? 'all' : scope.ownRegistrations ? `${scope.partner}+registrations` : scope.partner);

const partnerName = (cov: Covenant, id: string | null) => (id ? (cov.partners.get(id)?.short ?? id) : 'hub');

/** What the reader sees of the log, in words, with the rule that says so. */
function ScopeText(props: { cov: Covenant; scope: ReturnType<typeof scopeOf> }) {
  const { scope } = props.scope;
  if (scope.all) return <>U ziet het hele logboek (FG van het Zorg- en Veiligheidshuis, art. 16).</>;
  const name = props.cov.partners.get(scope.partner)?.name ?? scope.partner;
  return (
    <>
      U ziet de handelingen van {name}
      {scope.ownRegistrations ? `, en iedere handeling over personen die ${name} heeft geregistreerd` : ''} (<span class="mono">{props.scope.rule}</span>, art. 16).
    </>
  );
}

export function EntriesTable(props: { cov: Covenant; rows: AuditEntry[]; who: (s: string | null) => string; caption: string }) {
  const { cov, who } = props;
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">{props.caption}</caption>
        <Head cols={['Tijdstip', 'Organisatie', 'Professional', 'Rol', 'Handeling', 'Uitkomst', 'Doel', 'Zaak', 'Regel']} />
        <tbody>
          {props.rows.map((e) => (
            <tr>
              <td>{when(e.at)}</td>
              <td>{partnerName(cov, e.actorPartner)}</td>
              <td>{who(e.actorSub)}</td>
              <td>{e.actorRole ? (ROLE_NAMES[e.actorRole] ?? e.actorRole) : '—'}</td>
              <td>{ACTION_NAMES[e.action] ?? e.action}</td>
              <td>{e.outcome === 'denied' || e.outcome === 'rejected' ? <span class="badge bad">{OUTCOME_NAMES[e.outcome]}</span> : (OUTCOME_NAMES[e.outcome] ?? e.outcome)}</td>
              <td>{e.purpose ? (cov.purposes.get(e.purpose)?.name ?? e.purpose) : '—'}</td>
              <td>{e.caseRef ?? '—'}</td>
              <td class="mono">{e.rule ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A search field: empty is absent; anything not storable as text (U+0000, lone surrogates) is ignored. */
const searchField = (max: number) => text(max, 0).optional().transform((v) => (v?.trim() ? v.trim() : undefined)).catch(undefined);
const LogFilter = z.object({
  professional: searchField(200),
  organisation: searchField(80),
  role: searchField(80),
  action: searchField(80),
  outcome: searchField(20),
  purpose: searchField(80),
  caseRef: searchField(100),
  from: z.iso.date().optional().catch(undefined),
  to: z.iso.date().optional().catch(undefined),
  before: z.coerce.number().int().positive().optional().catch(undefined),
});

export function fgRoutes(app: Hono<ConsoleEnv>) {
  app.get('/logboek', async (c) => {
    const { config, staff } = c.var;
    const cov = config.covenant;
    const f = LogFilter.parse(c.req.query());
    const search: Omit<AuditSearch, 'scope'> = {
      actorSub: f.professional,
      actorPartner: f.organisation,
      actorRole: f.role,
      action: f.action,
      outcome: f.outcome,
      purpose: f.purpose,
      caseRef: f.caseRef,
      from: f.from ? new Date(`${f.from}T00:00:00Z`) : undefined,
      to: f.to ? new Date(new Date(`${f.to}T00:00:00Z`).getTime() + DAY) : undefined,
      beforeId: f.before,
      limit: PAGE,
    };
    const { rows, who } = await readLog(
      c,
      { detail: { page: 'logboek', filter: f } },
      async (q, scope) => ({ rows: await searchEntries(q, { ...search, scope }), who: await whoIs(q) }),
      (r) => ({ count: r.rows.length, shown: r.rows.map((e) => e.id) }),
    );
    const keep = new URLSearchParams(Object.entries(f).filter(([k, v]) => v !== undefined && k !== 'before').map(([k, v]) => [k, String(v)]));
    const older = rows.length === PAGE ? `${CONSOLE}/logboek?${keep.toString()}&before=${rows[rows.length - 1]!.id}` : null;
    const field = (name: keyof typeof f, label: string, type = 'text') => (
      <div>
        <label for={`f-${name}`}>{label}</label>
        <input id={`f-${name}`} name={name} type={type} value={f[name] === undefined ? '' : String(f[name])} />
      </div>
    );
    const choose = (name: keyof typeof f, label: string, options: [string, string][]) => <FilterSelect name={name} label={label} value={f[name]} options={options} />;
    return c.html(
      <Layout title="Logboek" person={staff} nav="logboek">
        <h1>Logboek</h1>
        <p class="muted">
          <ScopeText cov={cov} scope={scopeOf(c)} /> Uw inzage wordt zelf ook gelogd.
        </p>
        <form class="filters" method="get" action={`${CONSOLE}/logboek`}>
          {field('professional', 'Professional')}
          {choose('organisation', 'Organisatie', [...cov.partners.values()].map((p) => [p.id, p.name]))}
          {choose('role', 'Rol', [...cov.roles.values()].map((r) => [r.id, r.name]))}
          {choose('action', 'Handeling', Object.entries(ACTION_NAMES))}
          {choose('outcome', 'Uitkomst', Object.entries(OUTCOME_NAMES))}
          {choose('purpose', 'Doel', [...cov.purposes.values()].map((p) => [p.id, p.name]))}
          {field('caseRef', 'Zaak')}
          {field('from', 'Vanaf', 'date')}
          {field('to', 'Tot en met', 'date')}
          <button type="submit">Zoeken</button>
        </form>
        <EntriesTable cov={cov} rows={rows} who={who} caption={`${rows.length} regels, nieuwste eerst`} />
        <div class="pager">{older ? <a href={older}>Oudere regels →</a> : <span class="muted">Geen oudere regels.</span>}</div>
      </Layout>,
    );
  });

  app.get('/persoon', (c) =>
    c.html(
      <Layout title="Zoeken op persoon" person={c.var.staff} nav="persoon" scripts={['pseudonymise.js']}>
        <h1>Zoeken op persoon</h1>
        <p>
          Het BSN verlaat uw computer niet. Uw browser maakt er met de convenantsleutel het pseudoniem van dat ook de partners gebruiken; alleen dat pseudoniem gaat naar de
          hub. Laad de sleutel uit het bestand dat u van uw organisatie hebt gekregen; ook de sleutel wordt niet verstuurd.
        </p>
        <div id="melding" aria-live="polite"></div>
        <section class="card">
          <div class="field">
            <label for="bsn">BSN</label>
            <input id="bsn" inputmode="numeric" autocomplete="off" maxlength={12} />
          </div>
          <div class="field">
            <label for="sleutel">Convenantsleutel (bestand)</label>
            <input id="sleutel" type="file" />
          </div>
          <form id="persoon" method="post" action={`${CONSOLE}/persoon`}>
            <input type="hidden" name="subject" id="subject" />
            <button type="submit" class="primary">
              Inzage maken
            </button>
          </form>
        </section>
      </Layout>,
    ),
  );

  const SubjectForm = z.object({ subject: text(100) });

  async function report(c: ConsoleContext) {
    const { config, clock } = c.var;
    const form = SubjectForm.safeParse(await c.req.parseBody());
    let stored: string[];
    try {
      if (!form.success) throw new InvalidSubjectError('not-a-string', 'missing');
      stored = storedSubject(config.hubKeys, form.data.subject).all;
    } catch (e) {
      if (!(e instanceof InvalidSubjectError)) throw e;
      throw new Problem('invalid-request', 'Er is geen geldig pseudoniem ontvangen. Gebruik het zoekformulier; het BSN zelf wordt nooit verstuurd.');
    }
    const now = clock();
    const csv = c.req.path.endsWith('/csv');
    const { rows, released, who } = await readLog(
      c,
      { subject: stored[0]!, detail: { page: csv ? 'inzage-csv' : 'inzage' } },
      async (q, scope) => {
        const rows = (await searchEntries(q, { subjects: stored, scope, limit: 10_000 })).reverse();
        return { rows, released: await releasedAmong(q, rows.map((e) => e.id)), who: await whoIs(q) };
      },
      (r) => ({ count: r.rows.length }),
    );
    return { ...subjectAccessReport(config.covenant, rows, now, released), who, csv, subject: form.data!.subject, stored };
  }

  /** The subject access report as a page, with a notice on top (after an early release). */
  async function reportPage(c: ConsoleContext, notice?: string) {
    const { config, staff, actor } = c.var;
    const cov = config.covenant;
    const r = await report(c);
    const now = c.var.clock();
    return c.html(
      <Layout title="Inzage" person={staff} nav="persoon" scripts={['console.js']}>
        <h1>Inzage: wie heeft gegevens van deze persoon ingezien</h1>
        <p class="muted">Overzicht voor de betrokkene (AVG art. 15): iedere handeling van een organisatie met gegevens over deze persoon. Opgesteld op {when(c.var.clock())}.</p>
        {notice ? <Notice kind="ok">{notice}</Notice> : null}
        <div class="actions noprint">
          <button type="button" data-print>
            Afdrukken
          </button>
          <form method="post" action={`${CONSOLE}/persoon/csv`}>
            <input type="hidden" name="subject" value={r.subject} />
            <button type="submit">Downloaden als CSV</button>
          </form>
        </div>
        {r.shown.length === 0 ? <Notice kind="info">Er zijn geen handelingen met deze persoon (die u mag zien).</Notice> : <EntriesTable cov={cov} rows={r.shown} who={r.who} caption={`${r.shown.length} handelingen`} />}
        {r.withheld.length > 0 ? (
          <section class="card noprint">
            <h2>Uitgesteld (alleen voor de FG)</h2>
            <p>Deze handelingen staan niet in het overzicht voor de betrokkene zolang het convenant de mededeling uitstelt (AVG art. 23).</p>
            <table>
              <Head cols={['Tijdstip', 'Organisatie', 'Handeling', 'Regel', 'Uitgesteld tot', 'Eerder vrijgeven']} />
              <tbody>
                {r.withheld.map((w) => {
                  const release = decideDeferralRelease(cov, actor, w.entry, now);
                  return (
                    <tr>
                      <td>{when(w.entry.at)}</td>
                      <td>{partnerName(cov, w.entry.actorPartner)}</td>
                      <td>{ACTION_NAMES[w.entry.action] ?? w.entry.action}</td>
                      <td>
                        <span class="mono">{w.rule}</span>: {w.description}
                      </td>
                      <td>{when(w.until)}</td>
                      <td>
                        {release.allowed ? (
                          <form method="post" action={`${CONSOLE}/persoon/vrijgeven`}>
                            <input type="hidden" name="subject" value={r.subject} />
                            <input type="hidden" name="entry" value={String(w.entry.id)} />
                            <button type="submit" aria-label={`Vrijgeven: ${ACTION_NAMES[w.entry.action] ?? w.entry.action} van ${when(w.entry.at)}`}>
                              Vrijgeven
                            </button>
                          </form>
                        ) : (
                          <span class="muted">niet toegestaan</span>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
        ) : null}
        {r.released.length > 0 ? (
          <section class="card noprint">
            <h2>Eerder vrijgegeven</h2>
            <p>
              {r.released.length} handeling(en) die het convenant nog zou uitstellen, zijn door een FG vrijgegeven en staan in het overzicht.
            </p>
          </section>
        ) : null}
      </Layout>,
    );
  }

  app.post('/persoon', (c) => reportPage(c));

  const ReleaseForm = z.object({ entry: z.coerce.number().int().positive() });

  // Early release of a withheld entry (AVG art. 23 ends sooner): the covenant's decision, recorded
  // and logged with its rule, in one transaction; then the report again.
  app.post('/persoon/vrijgeven', async (c) => {
    const { config, actor, clock } = c.var;
    const body = await c.req.parseBody();
    const form = ReleaseForm.safeParse(body);
    const subject = SubjectForm.safeParse(body);
    if (!form.success || !subject.success) throw new Problem('invalid-request', 'Kies een uitgestelde handeling om vrij te geven.');
    let stored: string[];
    try {
      stored = storedSubject(config.hubKeys, subject.data.subject).all;
    } catch (e) {
      if (!(e instanceof InvalidSubjectError)) throw e;
      throw new Problem('invalid-request', 'Er is geen geldig pseudoniem ontvangen.');
    }
    const now = clock();
    const scope = scopeOf(c);
    await unitOfWork(appContext(c), async (tx, audit) => {
      const id = form.data.entry;
      // The entry must be about this person and within the reader's scope.
      const [entry] = scope.allowed ? (await searchEntries(tx, { subjects: stored, scope: scope.scope, beforeId: id + 1, limit: 1 })).filter((e) => e.id === id) : [];
      const decision = entry ? decideDeferralRelease(config.covenant, actor, entry, now) : { allowed: false, rule: scope.rule, reason: 'not found' };
      if (!entry || !decision.allowed) {
        await audit({ action: 'subject-access.released', outcome: 'denied', rule: decision.rule, subject: stored[0]!, detail: { entry: id } });
        return deny(entry ? new Problem('forbidden', decision.reason, { rule: decision.rule }) : new Problem('not-found', 'Deze handeling staat niet in uw overzicht.'));
      }
      const deferral = decision.rule;
      const fresh = await insertDeferralRelease(tx, { id: crypto.randomUUID(), entryId: id, deferral, rule: decision.rule, releasedBy: c.var.staff.id, createdAt: now });
      await audit({ action: 'subject-access.released', outcome: fresh ? 'ok' : 'rejected', rule: decision.rule, subject: stored[0]!, detail: { entry: id } });
      return fresh ? null : deny(new Problem('conflict', 'Deze handeling is al vrijgegeven.'));
    });
    return reportPage(c, 'De handeling is vrijgegeven en staat nu in het overzicht voor de betrokkene. Dit is gelogd.');
  });

  app.post('/persoon/csv', async (c) => {
    const cov = c.var.config.covenant;
    const r = await report(c);
    const body = reportCsv(r.shown, (e) => [e.at.toISOString(), cov.partners.get(e.actorPartner ?? '')?.name ?? e.actorPartner ?? '', e.actorRole ?? '', ACTION_NAMES[e.action] ?? e.action, e.purpose ? (cov.purposes.get(e.purpose)?.name ?? e.purpose) : '', OUTCOME_NAMES[e.outcome] ?? e.outcome, e.caseRef ?? '']);
    return c.body(body, 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="inzage.csv"' });
  });

  /** Signals over the last `days` days, in the reader's scope, with their reviews. */
  async function signalsFor(c: ConsoleContext, q: Queryable, scope: AuditScope, days: number) {
    const o = c.var.config.covenant.oversight;
    // Up to and including this moment (the range's end is exclusive).
    const to = new Date(c.var.clock().getTime() + 1);
    const from = new Date(to.getTime() - days * DAY);
    const signals = await computeSignals(q, o, { from, to }, scope);
    const reviews = new Map((await signalReviewsOf(q, signals.map((s) => s.key))).map((r) => [r.signal, r]));
    return { signals, reviews };
  }

  const Days = z.object({ dagen: z.enum(['1', '7', '30']).default('7').catch('7') });

  app.get('/signalen', async (c) => {
    const { config, staff } = c.var;
    const days = Number(Days.parse(c.req.query()).dagen);
    const { signals, reviews, who } = await readLog(
      c,
      { detail: { page: 'signalen', days } },
      async (q, scope) => ({ ...(await signalsFor(c, q, scope, days)), who: await whoIs(q) }),
      (r) => ({ count: r.signals.length, signals: r.signals.map((s) => s.key) }),
    );
    const cov = config.covenant;
    const open = signals.filter((s) => !reviews.has(s.key));
    return c.html(
      <Layout title="Signalen" person={staff} nav="signalen">
        <h1>Signalen van mogelijk misbruik</h1>
        <p class="muted">
          Berekend uit het logboek met de drempels uit het convenant (oversight.yaml). Ingelogde medewerkers en partnersystemen tellen allebei mee. {open.length} open, {signals.length - open.length} beoordeeld.
        </p>
        <form class="filters" method="get" action={`${CONSOLE}/signalen`}>
          <div>
            <label for="dagen">Periode</label>
            <select id="dagen" name="dagen">
              {[
                ['1', 'laatste dag'],
                ['7', 'laatste 7 dagen'],
                ['30', 'laatste 30 dagen'],
              ].map(([v, t]) => (
                <option value={v} selected={String(days) === v}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Tonen</button>
        </form>
        {signals.length === 0 ? <Notice kind="ok">Geen signalen in deze periode.</Notice> : null}
        {signals.map((s: Signal) => {
          const review = reviews.get(s.key);
          return (
            <section class="card signal" data-signal={s.kind}>
              <h2>
                {s.title} {review ? <span class="badge good">beoordeeld</span> : <span class="badge warn">open</span>}
              </h2>
              <dl class="facts">
                <dt>Wie</dt>
                <dd>
                  {s.sub ? `${who(s.sub)}, ` : ''}
                  {cov.partners.get(s.partner)?.name ?? s.partner}
                </dd>
                <dt>Waarom</dt>
                <dd>{s.why}</dd>
                <dt>Regel</dt>
                <dd class="mono">{s.rule}</dd>
                <dt>Logregels</dt>
                <dd>
                  {s.entries.length} ({s.entries.slice(0, 12).join(', ')}
                  {s.entries.length > 12 ? ', …' : ''}){' '}
                  {s.sub ? <a href={`${CONSOLE}/logboek?professional=${encodeURIComponent(s.sub)}`}>bekijk in het logboek</a> : null}
                </dd>
              </dl>
              {review ? (
                <p>
                  Beoordeeld op {when(review.createdAt)}: “{review.note}”
                </p>
              ) : (
                <form method="post" action={`${CONSOLE}/signalen/beoordelen`}>
                  <input type="hidden" name="signal" value={s.key} />
                  <input type="hidden" name="dagen" value={String(days)} />
                  <div class="field">
                    <label for={`note-${s.key}`}>Notitie bij de beoordeling</label>
                    <textarea id={`note-${s.key}`} name="note" required maxlength={2000}></textarea>
                  </div>
                  <button type="submit">Markeren als beoordeeld</button>
                </form>
              )}
            </section>
          );
        })}
      </Layout>,
    );
  });

  const ReviewForm = z.object({ signal: text(300), note: text(2000).refine((n) => n.trim().length > 0), dagen: z.enum(['1', '7', '30']).default('7') });

  app.post('/signalen/beoordelen', async (c) => {
    const form = ReviewForm.safeParse(await c.req.parseBody());
    if (!form.success) throw new Problem('invalid-request', 'Schrijf een notitie bij de beoordeling.');
    const { signal, note, dagen } = form.data;
    const scope = scopeOf(c);
    const now = c.var.clock();
    await unitOfWork(appContext(c), async (tx, audit) => {
      const { signals } = scope.allowed ? await signalsFor(c, tx, scope.scope, Number(dagen)) : { signals: [] };
      if (!signals.some((s) => s.key === signal)) {
        await audit({ action: 'signal.reviewed', outcome: 'denied', rule: scope.rule, detail: { signal } });
        return deny(new Problem('not-found', 'Dit signaal bestaat niet (meer) in uw overzicht.'));
      }
      const fresh = await insertSignalReview(tx, { id: crypto.randomUUID(), signal, reviewer: c.var.staff.id, note, createdAt: now });
      await audit({ action: 'signal.reviewed', outcome: fresh ? 'ok' : 'rejected', rule: scope.rule, detail: { signal } });
      return fresh ? null : deny(new Problem('conflict', 'Dit signaal is al beoordeeld.'));
    });
    return c.redirect(`${CONSOLE}/signalen?dagen=${dagen}`, 303);
  });

  app.get('/overzicht', async (c) => {
    const { config, staff, clock } = c.var;
    const cov = config.covenant;
    const now = clock();
    const from = new Date(now.getTime() - 14 * DAY);
    const data = await readLog(
      c,
      { detail: { page: 'overzicht' } },
      async (q, scope) => ({
        lookups: await dailyCounts(q, 'lookup', from, now, scope),
        glass: await dailyCounts(q, 'disclosure.break-glass', from, now, scope),
        signals: await signalsFor(c, q, scope, 7),
        checkpoint: await latestCheckpoint(q),
        head: await readHead(q),
      }),
      () => ({}),
    );
    const days = Array.from({ length: 14 }, (_, i) => new Date(from.getTime() + (i + 1) * DAY).toLocaleDateString('sv-SE', { timeZone: 'Europe/Amsterdam' }));
    const count = (rows: typeof data.lookups, day: string, pred: (r: (typeof rows)[number]) => boolean) => rows.filter((r) => r.day === day && pred(r)).reduce((n, r) => n + Number(r.n), 0);
    const allowedDenied = days.map((d) => ({ label: d.slice(5), values: [count(data.lookups, d, (r) => r.outcome === 'allowed'), count(data.lookups, d, (r) => r.outcome !== 'allowed')] }));
    const partners = [...new Set(data.lookups.map((r) => r.partner ?? 'hub'))];
    const glass = days.map((d) => ({ label: d.slice(5), values: [count(data.glass, d, () => true)] }));
    const cp = data.checkpoint;
    const claims = cp ? await verifyCheckpointJws(cp.jws, config.signer.published) : null;
    const open = data.signals.signals.filter((s) => !data.signals.reviews.has(s.key)).length;
    return c.html(
      <Layout title="Overzicht" person={staff} nav="overzicht" scripts={['chart.umd.min.js', 'charts.js']}>
        <h1>Overzicht</h1>
        <div class="grid2">
          <section class="card">
            <h2>Bevragingen per dag</h2>
            <BarChart title="Bevragingen per dag, toegestaan en geweigerd" series={['toegestaan', 'geweigerd']} rows={allowedDenied} />
          </section>
          <section class="card">
            <h2>Noodtoegang per dag</h2>
            <BarChart title="Noodtoegang (break-glass) per dag" series={['noodtoegang']} rows={glass} />
          </section>
        </div>
        <section class="card">
          <h2>Bevragingen per organisatie</h2>
          <BarChart
            title="Bevragingen per dag, per organisatie"
            series={partners.map((p) => cov.partners.get(p)?.short ?? p)}
            rows={days.map((d) => ({ label: d.slice(5), values: partners.map((p) => count(data.lookups, d, (r) => (r.partner ?? 'hub') === p)) }))}
          />
        </section>
        <div class="grid2">
          <section class="card">
            <h2>Signalen</h2>
            <p>
              <a href={`${CONSOLE}/signalen`}>{open} open signalen</a> in de laatste 7 dagen.
            </p>
          </section>
          <section class="card">
            <h2>Integriteit van het logboek</h2>
            <dl class="facts">
              <dt>Laatste controlepunt</dt>
              <dd>{cp ? `${when(cp.issuedAt)} (${duration(now.getTime() - cp.issuedAt.getTime())} geleden)` : 'nog geen'}</dd>
              <dt>Grootte</dt>
              <dd>
                {cp ? `${cp.size} regels ondertekend` : '—'}; {data.head.size} regels in de boom
              </dd>
              <dt>Handtekening</dt>
              <dd>{cp ? claims && claims.size === cp.size && claims.root === cp.root ? <span class="badge good">geldig ({cp.kid})</span> : <span class="badge bad">ongeldig</span> : '—'}</dd>
            </dl>
            <form method="post" action={`${CONSOLE}/overzicht/verifieren`}>
              <button type="submit">Hele logboek verifiëren</button>
            </form>
          </section>
        </div>
      </Layout>,
    );
  });

  app.post('/overzicht/verifieren', async (c) => {
    const { config, staff } = c.var;
    const report = await readLog(c, { detail: { page: 'verificatie' } }, (q) => verifyAuditLog(q, config.signer.published), (r) => ({ ok: r.ok, entries: r.entries }));
    return c.html(
      <Layout title="Verificatie" person={staff} nav="overzicht">
        <h1>Verificatie van het logboek</h1>
        {report.ok ? (
          <Notice kind="ok">
            In orde: {report.entries} regels herberekend en getoetst aan {report.checkpoints} ondertekende controlepunten. Wortel <span class="mono">{report.root}</span>.
          </Notice>
        ) : (
          <Notice kind="fout">
            Problemen gevonden: {report.problems.slice(0, 5).map((p) => `${p.kind}${p.seq !== null ? ` bij regel ${p.seq}` : ''}: ${p.message}`).join('; ')}
          </Notice>
        )}
        <p>
          <a href={`${CONSOLE}/overzicht`}>← Overzicht</a>
        </p>
      </Layout>,
    );
  });
}
