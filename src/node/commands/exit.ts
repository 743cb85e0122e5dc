// Exit codes of `kenbaar`, and the mapping from what went wrong to one of them. Scripts that drive
// the CLI (a partner's nightly registration job, a monitoring check on `audit verify`) branch on
// these, so they are part of the CLI's contract: never renumber one.
import { CommanderError } from 'commander';
import { HubError } from '../../client/client';
import { CovenantError } from '../../covenant/errors';
import { HubKeyError } from '../../pseudonym/hub-key';
import { InvalidBsnError } from '../../pseudonym/bsn';
import { SigningKeyError } from '../../signing';

export const EXIT_OK = 0;
/** `audit verify` found problems in the log; a grant did not verify; `disclose overdue` found overdue reviews. */
export const EXIT_PROBLEMS = 1;
/** Wrong command line: unknown command or option, missing argument. */
export const EXIT_USAGE = 2;
/** The hub refused the request (4xx): not allowed by the covenant, invalid, unauthenticated. */
export const EXIT_REFUSED = 3;
/** The hub could not be reached or failed (5xx). */
export const EXIT_UNAVAILABLE = 4;
/** Invalid input data: an invalid BSN, CSV or covenant (sysexits EX_DATAERR). */
export const EXIT_DATA = 65;
/** Configuration error: missing or malformed keys or secrets (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
/** Anything unexpected: a bug (sysexits EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

export const EXIT_CODES_HELP = `
Exit codes:
  0   ok
  1   problems found: audit verify failed, a grant did not verify (disclose respond),
      break-glass reviews are overdue (disclose overdue)
  2   usage error (unknown command or option, missing argument)
  3   the hub refused the request (4xx)
  4   the hub is unreachable or failed (5xx)
  65  invalid input data (invalid BSN, CSV or covenant)
  70  internal error (a bug: please report it)
  78  configuration error (missing or malformed keys or secrets)`;

/** An error that knows its exit code; its message is printed as is (no stack). */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Node's fetch wraps connection failures in a TypeError("fetch failed") with the reason as cause. */
function isConnectionFailure(e: unknown): e is TypeError {
  return e instanceof TypeError && e.message === 'fetch failed';
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof HubError) return e.status >= 500 ? EXIT_UNAVAILABLE : EXIT_REFUSED;
  if (isConnectionFailure(e)) return EXIT_UNAVAILABLE;
  if (e instanceof InvalidBsnError || e instanceof CovenantError) return EXIT_DATA;
  if (e instanceof HubKeyError || e instanceof SigningKeyError) return EXIT_CONFIG;
  return EXIT_INTERNAL;
}

/** One line (or a few) for stderr; never a stack trace for an expected failure. */
export function describeError(e: unknown): string {
  if (e instanceof CovenantError) {
    return ['the covenant is invalid:', ...e.problems.map((p) => `  ${p.file}: ${p.path}: ${p.reason}`)].join('\n');
  }
  if (e instanceof HubError) return describeHubError(e);
  if (isConnectionFailure(e)) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return `the hub is unreachable (${cause?.code ?? cause?.message ?? 'connection failed'}); is it running? (npm start)`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * A refused request as the hub explained it: title, detail, the deciding rule (explained when the
 * caller can), and per-item errors unless the caller maps those itself.
 */
export function describeHubError(e: HubError, opts: { explainRule?: (id: string) => string; items?: boolean } = {}): string {
  const p = e.problem;
  const lines = [`the hub refused the request: ${e.status} ${p.title}`];
  if (p.detail) lines.push(`  ${p.detail}`);
  if (typeof p.rule === 'string') lines.push(`  rule: ${opts.explainRule ? opts.explainRule(p.rule) : p.rule}`);
  if (Array.isArray(p.errors) && opts.items !== false) {
    for (const err of p.errors.slice(0, 20) as { field?: string; reason?: string; index?: number }[]) {
      lines.push(`  ${err.index !== undefined ? `item ${err.index}: ` : ''}${err.field ?? ''}: ${err.reason ?? ''}`);
    }
    if (p.errors.length > 20) lines.push(`  … and ${p.errors.length - 20} more`);
  }
  lines.push(`  (${p.type})`);
  return lines.join('\n');
}
