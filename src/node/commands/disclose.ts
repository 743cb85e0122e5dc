// `kenbaar disclose request|list|show|decide|overdue`: full disclosure (art. 15, 15a, 15b) from the
// command line. A requester signs a justification, informatiemakelaars sign their decisions, and
// everyone can read back what was asked and decided. The hand-over itself: handover.ts.
import { readFileSync } from 'node:fs';
import { HubError, type Disclosure, type Grant, type HubClient } from '../../client/client';
import type { Covenant } from '../../covenant/types';
import type { NodeSettings } from '../env';
import { formatTable, localSubject, partnerClient, type Cli } from './common';
import { CliError, describeHubError, EXIT_DATA, EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_USAGE } from './exit';
import { describeRule, localCovenant } from './lookup';

/** What every `disclose` subcommand takes to act as a partner. */
export type ActorOptions = { as: string; role: string; sub?: string; url: string; json?: boolean };

export type RequestOptions = ActorOptions & {
  holder: string;
  purpose: string;
  legalBasis: string;
  categories: string;
  caseRef: string;
  justification?: string;
  justificationFile?: string;
  emergency?: boolean;
  keyFile?: string;
};

export type ListOptions = ActorOptions & { status?: string; purpose?: string; holder?: string; requester?: string; urgency?: string };

export type DecideOptions = ActorOptions & { approve?: boolean; reject?: boolean; categories?: string; validUntil?: string; reason?: string };

/** `a, b,,c` → [a, b, c]; an empty list is a usage error. */
export function parseCategories(text: string, option: string): string[] {
  const list = text
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (list.length === 0) throw new CliError(EXIT_USAGE, `${option}: name at least one data category (comma-separated)`);
  return list;
}

/** What orRefused returns for a refusal it has already explained. */
export const REFUSED = Symbol('refused');

/**
 * Run a call; a refusal (4xx) is explained with the covenant's rule texts and becomes exit 3 (with
 * --json, the problem goes to stdout as well). Anything else propagates to the usual mapping.
 */
export async function orRefused<T>(cli: Cli, json: boolean | undefined, call: () => Promise<T>): Promise<T | typeof REFUSED> {
  const { settings, write, warn } = cli;
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof HubError) || e.status >= 500) throw e;
    if (json) write(`${JSON.stringify(e.problem, null, 2)}\n`);
    const covenant = localCovenant(settings);
    warn(describeHubError(e, { explainRule: (id) => describeRule(covenant, id) }));
    return REFUSED;
  }
}

const partnerLabel = (covenant: Covenant | undefined, id: string) => {
  const name = covenant?.partners.get(id)?.name;
  return name ? `${id} (${name})` : id;
};

/** Whom the approvals must come from, where more than one is needed. */
function approversNote(r: Disclosure): string {
  if (r.approvalsNeeded < 2) return '';
  return r.approvers === 'distinct-partners'
    ? ', each from another organisation'
    : ', from distinct informatiemakelaars';
}

function formatRequest(r: Disclosure, covenant: Covenant | undefined): string[] {
  const review = r.reviewStatus ? `${r.reviewStatus}${r.reviewStatus === 'due' && r.reviewDueAt ? ` by ${r.reviewDueAt}` : ''}` : null;
  return [
    `  status         ${r.status}${r.status === 'pending' ? ` (${r.approvalsNeeded} approval(s) needed)${approversNote(r)}` : ''}`,
    `  requester      ${partnerLabel(covenant, r.requester)}`,
    `  holder         ${partnerLabel(covenant, r.holder)}`,
    `  purpose        ${r.purpose}`,
    `  legal basis    ${r.legalBasis}`,
    `  categories     ${r.categories.join(', ')}`,
    `  case           ${r.caseRef}`,
    `  urgency        ${r.urgency}${r.urgency === 'emergency' ? ' (break-glass)' : ''}`,
    `  rule           ${describeRule(covenant, r.rule)}`,
    `  justification  ${r.justificationHash} (signed by the requester, kept verbatim)`,
    `  created        ${r.createdAt}`,
    ...(review ? [`  review         ${review}`] : []),
  ];
}

function formatGrant(g: Grant): string[] {
  return [
    `  grant          ${g.id}${g.breakGlass ? ' (break-glass)' : ''}${g.revokedAt ? `, REVOKED ${g.revokedAt}` : ''}`,
    `  granted        ${g.categories.join(', ')}`,
    `  valid until    ${g.expiresAt}`,
  ];
}

export async function requestCommand(cli: Cli, bsn: string, opts: RequestOptions): Promise<number> {
  const { settings, write } = cli;
  if ((opts.justification === undefined) === (opts.justificationFile === undefined)) {
    throw new CliError(EXIT_USAGE, 'give the justification with exactly one of --justification <text> or --justification-file <file>');
  }
  let justification = opts.justification;
  if (opts.justificationFile !== undefined) {
    try {
      justification = readFileSync(opts.justificationFile, 'utf8').trim();
    } catch (e) {
      throw new CliError(EXIT_DATA, `cannot read ${opts.justificationFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  }
  const categories = parseCategories(opts.categories, '--categories');
  const subject = localSubject(cli, bsn, opts.keyFile);
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const result = await orRefused(cli, opts.json, () =>
    client.requestDisclosure({
      subject,
      holder: opts.holder,
      purpose: opts.purpose,
      legalBasis: opts.legalBasis,
      categories,
      caseRef: opts.caseRef,
      justification: justification!,
      urgency: opts.emergency ? 'emergency' : 'regular',
    }),
  );
  if (result === REFUSED) return EXIT_REFUSED;
  if (opts.json) {
    write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const covenant = localCovenant(settings);
  const { request: r, grant } = result;
  const lines = [`Disclosure request ${r.id}`, ...formatRequest(r, covenant)];
  if (grant) {
    lines.push(
      '',
      `BREAK-GLASS: granted at once, for a short time (art. 15b).`,
      ...formatGrant(grant),
      `Informatiemakelaars review it afterwards (due by ${r.reviewDueAt ?? '?'}): was the emergency real?`,
      `${r.holder} can now respond: kenbaar disclose respond ${r.id} --as ${r.holder} --file <answer>`,
    );
  } else {
    lines.push('', `Next: informatiemakelaars decide (kenbaar disclose decide ${r.id} …); then ${r.holder} responds.`);
  }
  write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

export function formatRequestTable(requests: readonly Disclosure[]): string {
  if (requests.length === 0) return '  (none)\n';
  return formatTable(
    ['id', 'created', 'requester', 'holder', 'purpose', 'urgency', 'status', 'review', 'rule'],
    requests.map((r) => [
      r.id,
      r.createdAt.slice(0, 16).replace('T', ' '),
      r.requester,
      r.holder,
      r.purpose,
      r.urgency,
      r.status === 'pending' ? `pending (${r.approvalsNeeded})` : r.status,
      r.reviewStatus ? `${r.reviewStatus}${r.reviewStatus === 'due' && r.reviewDueAt ? ` by ${r.reviewDueAt.slice(0, 16).replace('T', ' ')}` : ''}` : '—',
      r.rule,
    ]),
  );
}

export async function listCommand(cli: Cli, opts: ListOptions): Promise<number> {
  const { settings, write } = cli;
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const filter = { status: opts.status, purpose: opts.purpose, holder: opts.holder, requester: opts.requester, urgency: opts.urgency };
  const result = await orRefused(cli, opts.json, () => client.listDisclosures(filter));
  if (result === REFUSED) return EXIT_REFUSED;
  if (opts.json) write(`${JSON.stringify(result, null, 2)}\n`);
  else write(`Disclosure requests ${opts.as} (${opts.role}) may see: ${result.requests.length}\n${formatRequestTable(result.requests)}`);
  return EXIT_OK;
}

export async function showCommand(cli: Cli, id: string, opts: ActorOptions): Promise<number> {
  const { settings, write } = cli;
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const result = await orRefused(cli, opts.json, () => client.getDisclosure(id));
  if (result === REFUSED) return EXIT_REFUSED;
  if (opts.json) {
    write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const covenant = localCovenant(settings);
  const { decisions } = result;
  const lines = [`Disclosure request ${result.request.id}`, ...formatRequest(result.request, covenant), '', `Decisions (${decisions.length}, each signed by its broker):`];
  if (decisions.length === 0) lines.push('  (none yet)');
  else {
    lines.push(
      formatTable(
        ['when', 'kind', 'broker', 'outcome', 'categories', 'valid until', 'reason'],
        decisions.map((d) => [d.createdAt.slice(0, 19).replace('T', ' '), d.kind, `${d.broker}/${d.brokerSub}`, d.outcome, d.categories?.join(', ') ?? 'as requested', d.validUntil ?? '—', d.reason ?? '']),
      ).trimEnd(),
    );
  }
  lines.push('', result.grant ? 'Grant (a hub-signed JWT the holder verifies with /.well-known/jwks.json):' : 'No grant.');
  if (result.grant) lines.push(...formatGrant(result.grant));
  write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

export async function decideCommand(cli: Cli, id: string, opts: DecideOptions): Promise<number> {
  const { settings, write } = cli;
  if (Boolean(opts.approve) === Boolean(opts.reject)) throw new CliError(EXIT_USAGE, 'decide with exactly one of --approve or --reject');
  if (opts.reject && !opts.reason) throw new CliError(EXIT_USAGE, '--reject needs --reason <text>: a rejection is explained');
  if (opts.reject && (opts.categories || opts.validUntil)) throw new CliError(EXIT_USAGE, '--categories and --valid-until narrow an approval; they do not go with --reject');
  let validUntil: string | undefined;
  if (opts.validUntil !== undefined) {
    const t = Date.parse(opts.validUntil);
    if (Number.isNaN(t)) throw new CliError(EXIT_USAGE, `--valid-until: "${opts.validUntil}" is not an ISO date or date-time`);
    validUntil = new Date(t).toISOString();
  }
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const result = await orRefused(cli, opts.json, () =>
    client.decide(id, {
      outcome: opts.approve ? 'approve' : 'reject',
      ...(opts.categories ? { categories: parseCategories(opts.categories, '--categories') } : {}),
      ...(validUntil ? { validUntil } : {}),
      ...(opts.reason ? { reason: opts.reason } : {}),
    }),
  );
  if (result === REFUSED) return EXIT_REFUSED;
  if (opts.json) {
    write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const r = result.request;
  const what = result.decision.kind === 'review' ? `Review of break-glass ${r.id}: ${result.decision.outcome === 'approve' ? 'justified' : 'unjustified'}` : `Decision on ${r.id}: ${result.decision.outcome}`;
  const lines = [`${what} (decision ${result.decision.id}, signed by ${opts.as}/${client.identity.sub}; final)`];
  if (result.decision.kind === 'review') {
    lines.push(`  review         ${r.reviewStatus}`);
    if (result.grant?.revokedAt) lines.push(`  the grant is revoked and content not yet delivered is wiped`);
  } else if (r.status === 'pending') {
    lines.push(`  status         pending: ${r.approvalsNeeded} approvals are needed (four eyes)${approversNote(r)}`);
  } else {
    lines.push(`  status         ${r.status}`);
  }
  if (result.grant && result.decision.kind === 'decision') lines.push(...formatGrant(result.grant), `${r.holder} can now respond: kenbaar disclose respond ${r.id} --as ${r.holder} --file <answer>`);
  write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

/** Exit 1 when any review is overdue, so a monitoring check can run it as is. */
export async function overdueCommand(cli: Cli, opts: ActorOptions): Promise<number> {
  const { settings, write } = cli;
  const client: HubClient = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const result = await orRefused(cli, opts.json, () => client.overdue());
  if (result === REFUSED) return EXIT_REFUSED;
  if (opts.json) write(`${JSON.stringify(result, null, 2)}\n`);
  else if (result.overdue.length === 0) write('No break-glass review is overdue.\n');
  else {
    write(`${result.overdue.length} break-glass request(s) past their review deadline without a review (art. 15b):\n${formatRequestTable(result.overdue)}`);
    write('Review each: kenbaar disclose decide <id> --as <partner> --role informatiemakelaar (--approve | --reject --reason <text>)\n');
  }
  return result.overdue.length === 0 ? EXIT_OK : EXIT_PROBLEMS;
}
