// `kenbaar lookup <bsn>` and `kenbaar matches`: a professional asks the hub who knows a person (for a
// purpose, under a case reference), and a partner reads its feed of match notices.
import { HubError, type LookupResult, type MatchNotice } from '../../client/client';
import type { Covenant } from '../../covenant/types';
import { loadCovenantDir } from '../covenant-fs';
import type { NodeSettings } from '../env';
import { contactText, formatTable, localSubject, partnerClient, type Cli } from './common';
import { CliError, describeHubError, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from './exit';

/** The local covenant, to explain rule ids; absent (not an error) if it cannot be read. */
export function localCovenant(settings: NodeSettings): Covenant | undefined {
  try {
    return loadCovenantDir(settings.covenantDir);
  } catch {
    return undefined;
  }
}

/** `V-PR-02 (visibility, art. 12): Only the gemeente's procesregisseur learns …` */
export function describeRule(covenant: Covenant | undefined, id: string): string {
  const info = covenant?.rules.get(id);
  if (info) return `${id} (${info.kind}, art. ${info.article}): ${info.description}`;
  const fixed: Record<string, string> = {
    'deny-by-default': 'no rule of the covenant allows it (deny by default)',
    'unknown-purpose': 'the covenant has no such purpose',
    'unknown-category': 'the covenant has no such category',
    'unknown-partner': 'the partner is not in the covenant',
    'role-not-held': 'the partner does not hold this role under the covenant',
    'action-not-permitted': 'the role may not do this',
  };
  return `${id}${fixed[id] ? `: ${fixed[id]}` : ''}`;
}

export function formatLookup(result: LookupResult, covenant: Covenant | undefined): string {
  const out: string[] = [];
  if (result.knownBy.length === 0) {
    out.push('Not known by any partner you may learn of for this purpose.', '(Partners the covenant does not let you see for this purpose are never shown, known or not.)');
  } else {
    out.push(`Known by ${result.knownBy.length} partner(s); whom to call:`);
    out.push(
      formatTable(
        ['partner', 'domain', 'contact', 'since'],
        result.knownBy.map((k) => [`${k.partnerName} (${k.partner})`, k.domain, contactText(k.contact), k.since.slice(0, 10)]),
      ).trimEnd(),
    );
  }
  const versionNote = covenant && covenant.version !== result.decision.policyVersion ? ' (differs from the local covenant: rule texts may be out of date)' : '';
  out.push(`Decided under covenant ${result.decision.policyVersion}${versionNote} by:`);
  for (const rule of result.decision.rules) out.push(`  ${describeRule(covenant, rule)}`);
  out.push(`Lookup id ${result.lookupId} (this lookup is in the audit log).`);
  return out.join('\n') + '\n';
}

export type LookupOptions = { as: string; role: string; sub?: string; purpose: string; caseRef: string; url: string; json?: boolean; keyFile?: string };

export async function lookupCommand(cli: Cli, bsn: string, opts: LookupOptions): Promise<number> {
  const { settings, write, warn } = cli;
  const subject = localSubject(cli, bsn, opts.keyFile);
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  let result: LookupResult;
  try {
    result = await client.lookup(subject, opts.purpose, opts.caseRef);
  } catch (e) {
    if (!(e instanceof HubError) || e.status >= 500) throw e;
    if (opts.json) write(`${JSON.stringify(e.problem, null, 2)}\n`);
    const covenant = localCovenant(settings);
    warn(describeHubError(e, { explainRule: (id) => describeRule(covenant, id) }));
    return EXIT_REFUSED;
  }
  if (opts.json) write(`${JSON.stringify(result, null, 2)}\n`);
  else write(`Lookup for ${opts.purpose}, case ${opts.caseRef}, as ${opts.as} (${opts.role}):\n${formatLookup(result, localCovenant(settings))}`);
  return EXIT_OK;
}

export function formatNotices(notices: readonly MatchNotice[]): string {
  if (notices.length === 0) return '  (no notices)\n';
  return formatTable(
    ['id', 'your reference', 'also known by', 'contact', 'since', 'rule'],
    notices.map((n) => [String(n.id), n.reference ?? '—', `${n.knownBy.partnerName} (${n.knownBy.partner})`, contactText(n.knownBy.contact), n.knownBy.since.slice(0, 10), n.rule]),
  );
}

export type MatchesOptions = { as: string; role: string; sub?: string; after: string; url: string; json?: boolean };

export async function matchesCommand(cli: Cli, opts: MatchesOptions): Promise<number> {
  const { settings, write, warn } = cli;
  const after = Number(opts.after);
  if (!Number.isInteger(after) || after < 0) throw new CliError(EXIT_USAGE, '--after must be a feed cursor (0 or more: the value a previous run said to continue with)');
  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const notices: MatchNotice[] = [];
  let cursor = after;
  try {
    for (;;) {
      const page = await client.matches(cursor, 1000);
      notices.push(...page.matches);
      if (page.next === cursor) break; // the cursor advances past notices withheld at delivery too
      cursor = page.next;
    }
  } catch (e) {
    if (!(e instanceof HubError) || e.status >= 500) throw e;
    warn(describeHubError(e));
    return EXIT_REFUSED;
  }
  if (opts.json) {
    write(`${JSON.stringify({ matches: notices, next: cursor }, null, 2)}\n`);
    return EXIT_OK;
  }
  write(`Match notices for ${opts.as} after ${after}: ${notices.length}\n${formatNotices(notices)}`);
  if (notices.length) write(`Continue later with --after ${cursor}\n`);
  return EXIT_OK;
}
