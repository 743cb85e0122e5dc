/** @jsxImportSource hono/jsx */
// The informatiemakelaar's workspace: the queue of requests this person may decide (the covenant's
// own decideDisclosureDecision, exactly as for the API), the request page with everything needed to
// weigh it, and the decision signed with the person's passkey (src/staff/passkeys.ts), recorded by
// the same recordDecision as a partner system's JWS decision.
import type { Context, Hono } from 'hono';
import { decodeProtectedHeader } from 'jose';
import { z } from 'zod';
import { canonicalJson } from '../audit/entry';
import { decideAction, decideDisclosureDecision, type Actor, type Covenant } from '../covenant/index';
import { recordDecision, type DecisionPayload } from '../disclosures/decision';
import { decisionsOf, getRequest, grantOfRequest, openForBrokers, type DisclosureRequestRow } from '../disclosures/repo';
import { unseal } from '../disclosures/at-rest';
import { markOverdue } from '../disclosures/service';
import { verifyDocument } from '../disclosures/signed';
import { Problem } from '../errors';
import { text } from '../http/schemas';
import { deny, readThenLog, unitOfWork } from '../http/unit-of-work';
import { challengeOf, decisionChallenge, decisionOptions, PasskeyError, passkeyProof, verifyAssertion, type RelyingParty } from '../staff/passkeys';
import { credentialsOf, getCredential, touchCredential } from '../staff/repo';
import { logConsoleEvent } from './auth-routes';
import { duration, FilterSelect, Head, Layout, Notice, when } from './layout';
import { CONSOLE, requestPath } from './paths';
import { appContext, type ConsoleEnv } from './session';
import { unixSeconds } from '../encoding';

const HOUR = 3_600_000;
/** A prepared decision must be signed within this time. */
const SIGN_WITHIN_MS = 10 * 60_000;

const may = (covenant: Covenant, actor: Actor, r: DisclosureRequestRow) => decideDisclosureDecision(covenant, actor, { requester: r.requester, holder: r.holder, purpose: r.purpose });

const partnerName = (c: Covenant, id: string) => c.partners.get(id)?.name ?? id;
const purposeName = (c: Covenant, id: string) => c.purposes.get(id)?.name ?? id;
const categoryName = (c: Covenant, id: string) => c.dataCategories.get(id)?.name ?? id;

const QueueFilter = z.object({
  purpose: z.string().max(80).optional().catch(undefined),
  holder: z.string().max(80).optional().catch(undefined),
  requester: z.string().max(80).optional().catch(undefined),
  urgency: z.enum(['regular', 'emergency']).optional().catch(undefined),
});

function Deadline(props: { row: DisclosureRequestRow; now: Date }) {
  const due = props.row.reviewDueAt;
  if (!due || props.row.reviewStatus !== 'due') return null;
  const left = due.getTime() - props.now.getTime();
  // countdown.js ticks it in the browser from the server's time.
  const tick = { 'data-deadline': due.toISOString(), 'data-now': props.now.toISOString() };
  return left > 0 ? (
    <span class="badge warn" {...tick}>
      toetsing binnen {duration(left)}
    </span>
  ) : (
    <span class="badge bad" {...tick}>
      toetsing {duration(left)} te laat
    </span>
  );
}

export function brokerRoutes(app: Hono<ConsoleEnv>, rp: (c: Context<ConsoleEnv>) => RelyingParty) {
  app.get('/verzoeken', async (c) => {
    const { config, clock, staff } = c.var;
    const actor = c.var.actor;
    const now = clock();
    const filter = QueueFilter.parse(c.req.query());
    const rows = await unitOfWork(appContext(c), async (tx, audit) => {
      const broker = decideAction(config.covenant, actor, 'decide-disclosure');
      if (!broker.allowed) {
        await audit({ action: 'console.view', outcome: 'denied', rule: broker.rule, detail: { page: 'wachtrij' } });
        return deny(new Problem('forbidden', ''));
      }
      await markOverdue(tx, now, audit);
      const open = (await openForBrokers(tx, { ...filter, limit: 500 })).filter((r) => may(config.covenant, actor, r).allowed);
      await audit({ action: 'console.view', outcome: 'allowed', rule: broker.rule, detail: { page: 'wachtrij', filter, shown: open.map((r) => r.id) } });
      return open;
    });
    const cov = config.covenant;
    const select = (name: keyof typeof filter, label: string, options: [string, string][]) => <FilterSelect name={name} label={label} value={filter[name]} options={options} />;
    const partners = [...cov.partners.values()].map((p) => [p.id, p.name] as [string, string]);
    return c.html(
      <Layout title="Wachtrij" person={staff} nav="wachtrij" scripts={['countdown.js']}>
        <h1>Wachtrij</h1>
        <p class="muted">Verzoeken om informatie waarover u mag beslissen, en noodtoegang (break-glass) die u achteraf moet toetsen. Oudste bovenaan.</p>
        <form class="filters" method="get" action={`${CONSOLE}/verzoeken`}>
          {select('urgency', 'Urgentie', [
            ['emergency', 'Noodtoegang'],
            ['regular', 'Regulier'],
          ])}
          {select('purpose', 'Doel', [...cov.purposes.values()].map((p) => [p.id, p.name]))}
          {select('requester', 'Aanvrager', partners)}
          {select('holder', 'Houder', partners)}
          <button type="submit">Filteren</button>
        </form>
        {rows.length === 0 ? (
          <Notice kind="info">Er wacht niets op uw besluit.</Notice>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="muted">{rows.length} open</caption>
              <Head cols={['Urgentie', 'Ouderdom', 'Doel', 'Aanvrager', 'Houder', 'Zaak', 'Status']} />
              <tbody>
                {rows.map((r) => {
                  const overdue = r.reviewStatus === 'due' && r.reviewDueAt !== null && r.reviewDueAt <= now;
                  return (
                    <tr class={overdue ? 'overdue' : r.urgency === 'emergency' ? 'urgent' : ''}>
                      <td>{r.urgency === 'emergency' ? <span class="badge bad">Noodtoegang</span> : 'Regulier'}</td>
                      <td>{duration(now.getTime() - r.createdAt.getTime())}</td>
                      <td>{purposeName(cov, r.purpose)}</td>
                      <td>{partnerName(cov, r.requester)}</td>
                      <td>{partnerName(cov, r.holder)}</td>
                      <td>
                        <a href={requestPath(r.id)}>{r.caseRef}</a>
                      </td>
                      <td>{r.reviewStatus === 'due' ? <Deadline row={r} now={now} /> : `wacht op ${r.approvalsNeeded === 1 ? '1 besluit' : `${r.approvalsNeeded} goedkeuringen`}`}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Layout>,
    );
  });

  app.get('/verzoeken/:id', async (c) => {
    const { config, clock, staff, actor } = c.var;
    const id = c.req.param('id');
    const now = clock();
    const cov = config.covenant;
    const page = await readThenLog(appContext(c), async (q, audit) => {
      const req = z.uuid().safeParse(id).success ? await getRequest(q, id) : undefined;
      const decision = req ? may(cov, actor, req) : undefined;
      if (!req || !decision?.allowed) {
        await audit({ action: 'console.view', outcome: 'denied', rule: decision?.rule ?? null, detail: { page: 'verzoek', request: id } });
        return deny(new Problem('not-found', decision ? decision.reason : ''));
      }
      const decisions = await decisionsOf(q, id);
      const grant = await grantOfRequest(q, id);
      await audit({
        action: 'console.view',
        outcome: 'allowed',
        rule: decision.rule,
        subject: req.subject,
        purpose: req.purpose,
        caseRef: req.caseRef,
        detail: { page: 'verzoek', request: id, shown: ['justification', 'signer', 'decisions'] },
      });
      return { req, decisions, grant };
    });
    const { req, decisions, grant } = page;
    // The justification as the requester signed it, verified again now against their published keys.
    // (null: sealed with a hub key version no longer configured; the log's hash still pins it.)
    const jws = await unseal(config.hubKeys, req.jws);
    let signed: { sub?: string; justification?: string } = {};
    let verified = jws !== null;
    try {
      // As of when the hub received it: its freshness was checked then, its signature is checked again now.
      if (jws) signed = (await verifyDocument(config, req.requester, 'request', jws, req.createdAt)) as typeof signed;
    } catch {
      verified = false;
    }
    const kid = jws ? decodeProtectedHeader(jws).kid : undefined;
    const purpose = cov.purposes.get(req.purpose);
    const article = purpose ? cov.articles.get(purpose.article) : undefined;
    const review = req.reviewStatus !== null;
    const open = review ? req.reviewStatus === 'due' : req.status === 'pending';
    const mine = decisions.some((d) => d.brokerSub === actor.sub && d.broker === actor.partner && d.kind === (review ? 'review' : 'decision'));
    const approvals = decisions.filter((d) => d.kind === 'decision' && d.outcome === 'approve').length;
    const brokers = [...cov.disclosure.brokerPartners].map((p) => partnerName(cov, p));
    return c.html(
      <Layout title={`Verzoek ${req.caseRef}`} person={staff} nav="wachtrij" scripts={['simplewebauthn-browser.js', 'console.js', 'countdown.js']}>
        <p>
          <a href={`${CONSOLE}/verzoeken`}>← Wachtrij</a>
        </p>
        <h1>
          Verzoek om informatie · {req.caseRef} {req.urgency === 'emergency' ? <span class="badge bad">Noodtoegang</span> : null}
        </h1>
        {review ? (
          <Notice kind={req.reviewDueAt && req.reviewDueAt <= now ? 'fout' : 'info'}>
            Noodtoegang is direct verleend op {when(req.createdAt)}. Toetsing achteraf: {req.reviewStatus === 'due' ? <Deadline row={req} now={now} /> : req.reviewStatus === 'justified' ? 'terecht bevonden' : 'onterecht bevonden (toegang ingetrokken)'}
            {req.reviewDueAt ? ` (uiterlijk ${when(req.reviewDueAt)})` : ''}.
          </Notice>
        ) : null}
        <section class="card">
          <h2>Onderbouwing</h2>
          <p class="justification">{signed.justification ?? '(niet leesbaar)'}</p>
          <p>
            Ondertekend door <strong>{signed.sub ?? req.requesterSub}</strong> namens <strong>{partnerName(cov, req.requester)}</strong> met sleutel <span class="mono">{kid ?? 'onbekend'}</span>:{' '}
            {verified ? <span class="badge good">handtekening geverifieerd</span> : <span class="badge bad">handtekening klopt niet</span>}
          </p>
        </section>
        <section class="card">
          <h2>Het verzoek</h2>
          <dl class="facts">
            <dt>Aanvrager</dt>
            <dd>
              {partnerName(cov, req.requester)} ({req.requesterRole})
            </dd>
            <dt>Gevraagd aan (houder)</dt>
            <dd>{partnerName(cov, req.holder)}</dd>
            <dt>Doel</dt>
            <dd>{purpose ? `${purpose.name} — ${purpose.description}` : req.purpose}</dd>
            <dt>Grondslag</dt>
            <dd>{cov.legalBases.get(req.legalBasis)?.text ?? req.legalBasis}</dd>
            <dt>Artikel convenant</dt>
            <dd>{article ? <span>art. {article.number} {article.title}: {article.text}</span> : purpose?.article ?? '—'}</dd>
            <dt>Gevraagde categorieën</dt>
            <dd>
              <ul>
                {req.categories.map((cat) => (
                  <li>
                    {categoryName(cov, cat)} {cov.dataCategories.get(cat)?.special ? <span class="badge warn">bijzonder</span> : null}
                  </li>
                ))}
              </ul>
            </dd>
            <dt>Zaakreferentie</dt>
            <dd>{req.caseRef}</dd>
            <dt>Ingediend</dt>
            <dd>
              {when(req.createdAt)} ({duration(now.getTime() - req.createdAt.getTime())} geleden)
            </dd>
            <dt>Wat het convenant vraagt</dt>
            <dd>
              {review
                ? 'Eén informatiemakelaar toetst de noodtoegang achteraf.'
                : `${req.approvalsNeeded} ${req.approvalsNeeded === 1 ? 'goedkeuring' : 'goedkeuringen van verschillende informatiemakelaars (vier ogen)'}`}
              , van informatiemakelaars van {brokers.join(', ')} of van {partnerName(cov, req.holder)}; nooit van {partnerName(cov, req.requester)} zelf. Regel {req.rule}. Tot nu toe {approvals} goedgekeurd.
            </dd>
            <dt>Status</dt>
            <dd>{req.status === 'pending' ? 'in behandeling' : req.status === 'approved' ? 'goedgekeurd' : 'afgewezen'}{grant ? ` · toestemming geldig tot ${when(grant.expiresAt)}${grant.revokedAt ? ' (ingetrokken)' : ''}` : ''}</dd>
          </dl>
        </section>
        <section class="card">
          <h2>Eerdere besluiten</h2>
          {decisions.length === 0 ? (
            <p class="muted">Nog geen.</p>
          ) : (
            <ul>
              {decisions.map((d) => (
                <li>
                  {when(d.createdAt)}: {d.kind === 'review' ? (d.outcome === 'approve' ? 'toetsing: terecht' : 'toetsing: onterecht') : d.outcome === 'approve' ? 'goedgekeurd' : 'afgewezen'} door {d.brokerSub} ({partnerName(cov, d.broker)})
                  {d.categories ? `, alleen ${d.categories.map((x) => categoryName(cov, x)).join(', ')}` : ''}
                  {d.validUntil ? `, geldig tot ${when(d.validUntil)}` : ''}
                  {d.reason ? ` — “${d.reason}”` : ''} · {d.passkey ? 'ondertekend met passkey' : 'ondertekend door partnersysteem'}
                </li>
              ))}
            </ul>
          )}
        </section>
        {open && !mine ? (
          <section class="card">
            <h2>{review ? 'Noodtoegang toetsen' : 'Besluiten'}</h2>
            <div id="melding" aria-live="polite"></div>
            <form id="besluit" method="post" action={`${requestPath(req.id)}/besluit`}>
              {review ? null : (
                <fieldset class="checks">
                  <legend>Categorieën die u toestaat</legend>
                  {req.categories.map((cat) => (
                    <label>
                      <input type="checkbox" name="categories" value={cat} checked /> {categoryName(cov, cat)}
                    </label>
                  ))}
                </fieldset>
              )}
              {review ? null : (
                <div class="field">
                  <label for="validUntil">Geldig tot</label>
                  <select id="validUntil" name="validUntil">
                    <option value="">de standaardtermijn ({cov.disclosure.grantValidityHours / 24} dagen)</option>
                    <option value="24">1 dag</option>
                    <option value="72">3 dagen</option>
                  </select>
                </div>
              )}
              <div class="field">
                <label for="reason">Motivering (verplicht bij afwijzen{review ? ' of onterecht' : ''})</label>
                <textarea id="reason" name="reason" maxlength={5000}></textarea>
              </div>
              <p class="muted">Uw besluit is definitief. U ondertekent het met uw passkey; de hub legt het vast met de handtekening, zodat iedereen het later kan controleren.</p>
              <div class="actions">
                <button type="submit" name="outcome" value="approve" class="primary">
                  {review ? 'Terecht: ondertekenen' : 'Goedkeuren en ondertekenen'}
                </button>
                <button type="submit" name="outcome" value="reject" class="danger">
                  {review ? 'Onterecht: ondertekenen' : 'Afwijzen en ondertekenen'}
                </button>
              </div>
            </form>
          </section>
        ) : open ? (
          <Notice kind="info">U hebt al besloten. {review ? '' : 'Een tweede informatiemakelaar moet nog besluiten.'}</Notice>
        ) : null}
      </Layout>,
    );
  });

  const PrepareBody = z.object({
    outcome: z.enum(['approve', 'reject']),
    categories: z.array(text(80)).max(20).default([]),
    validUntil: z.enum(['', '24', '72']).default(''),
    reason: text(5000, 0).default(''),
  });

  const fail = async (c: Context<ConsoleEnv>, id: string, reason: string, message: string, status: 400 | 403 | 404 = 400) => {
    await logConsoleEvent(c, c.var.actor, { action: 'disclosure.decided', outcome: 'rejected', rule: 'passkey-decision', detail: { request: id, reason } });
    return c.json({ message }, status);
  };

  app.post('/verzoeken/:id/besluit/voorbereiden', async (c) => {
    const { config, clock, actor, staff, db } = c.var;
    const id = c.req.param('id');
    const now = clock();
    const body = PrepareBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return fail(c, id, 'malformed', 'Het besluit is onvolledig.');
    const req = z.uuid().safeParse(id).success ? await getRequest(db, id) : undefined;
    if (!req || !may(config.covenant, actor, req).allowed) return fail(c, id, 'not-visible', 'Dit verzoek bestaat niet of u mag er niet over beslissen.', 404);
    const { outcome, categories, validUntil, reason } = body.data;
    const review = req.reviewStatus !== null;
    if (outcome === 'reject' && reason.trim().length === 0) return c.json({ message: 'Geef bij afwijzen een motivering.' }, 400);
    if (!review && outcome === 'approve' && categories.length === 0) return c.json({ message: 'Sta ten minste één categorie toe, of wijs het verzoek af.' }, 400);
    const narrowed = !review && outcome === 'approve' && (categories.length !== req.categories.length || categories.some((x) => !req.categories.includes(x)));
    const decision = {
      type: 'kenbaar-decision',
      hub: config.hubId,
      request: id,
      outcome,
      ...(narrowed ? { categories } : {}),
      ...(!review && outcome === 'approve' && validUntil ? { validUntil: new Date(now.getTime() + Number(validUntil) * HOUR).toISOString() } : {}),
      ...(reason.trim() ? { reason: reason.trim() } : {}),
      partner: actor.partner,
      role: actor.role,
      sub: actor.sub,
      jti: crypto.randomUUID(),
      iat: unixSeconds(now),
    };
    const { text, challenge } = decisionChallenge(decision);
    const options = await decisionOptions(rp(c), challenge, await credentialsOf(db, staff.id));
    return c.json({ decision: text, options });
  });

  const SignedDecision = z.strictObject({
    type: z.literal('kenbaar-decision'),
    hub: z.string(),
    request: z.uuid(),
    outcome: z.enum(['approve', 'reject']),
    categories: z.array(text(80)).min(1).max(20).optional(),
    validUntil: z.iso.datetime({ offset: true }).optional(),
    reason: text(5000).optional(),
    partner: z.string(),
    role: z.string(),
    sub: z.string(),
    jti: z.uuid(),
    iat: z.number().int().positive(),
  });
  const DecideBody = z.object({ decision: z.string().min(2).max(20_000), response: z.object({ id: z.string().min(1).max(1024), response: z.object({}).passthrough() }).passthrough() });

  app.post('/verzoeken/:id/besluit', async (c) => {
    const { config, clock, actor, staff, db } = c.var;
    const id = c.req.param('id');
    const now = clock();
    const body = DecideBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) return fail(c, id, 'malformed', 'Het ondertekende besluit kon niet worden gelezen.');
    let parsed: z.infer<typeof SignedDecision>;
    try {
      parsed = SignedDecision.parse(JSON.parse(body.data.decision));
    } catch {
      return fail(c, id, 'malformed-decision', 'Het ondertekende besluit kon niet worden gelezen.');
    }
    if (canonicalJson(parsed) !== body.data.decision) return fail(c, id, 'not-canonical', 'Het besluit is niet in de vorm die de hub heeft voorbereid.');
    if (parsed.hub !== config.hubId || parsed.request !== id) return fail(c, id, 'other-request', 'Dit besluit gaat over een ander verzoek.');
    if (parsed.sub !== actor.sub || parsed.partner !== actor.partner || parsed.role !== actor.role) return fail(c, id, 'signer-not-actor', 'Dit besluit is voorbereid voor iemand anders.', 403);
    const age = now.getTime() - parsed.iat * 1000;
    if (age < -60_000 || age > SIGN_WITHIN_MS) return fail(c, id, 'stale', 'Het ondertekenen duurde te lang. Begin opnieuw.');
    const credential = await getCredential(db, body.data.response.id);
    if (!credential || credential.staffId !== staff.id) return fail(c, id, 'no-such-credential', 'Deze passkey hoort niet bij u.', 403);
    let counter: number;
    try {
      // The challenge is recomputed from the decision as submitted: an assertion over any other
      // decision does not verify.
      counter = await verifyAssertion(rp(c), challengeOf(body.data.decision), credential, body.data.response as never);
    } catch (e) {
      if (!(e instanceof PasskeyError)) throw e;
      return fail(c, id, e.reason, 'De handtekening hoort niet bij dit besluit of kon niet worden geverifieerd. Er is niets vastgelegd.');
    }
    const p: DecisionPayload = { aud: config.hubId, sub: parsed.sub, iat: parsed.iat, jti: parsed.jti, request: id, outcome: parsed.outcome, categories: parsed.categories, validUntil: parsed.validUntil, reason: parsed.reason };
    await unitOfWork(appContext(c), async (tx, audit) => {
      const out = await recordDecision(tx, audit, { config, actor, now }, id, p, { passkey: passkeyProof(body.data.decision, body.data.response as never) });
      await touchCredential(tx, credential.id, counter, now);
      return out;
    });
    return c.json({ next: requestPath(id) });
  });
}
