// What went wrong, as an exit code of `kenbaar` (the codes themselves: exit-codes.ts) and as a
// message for stderr.
import { CommanderError } from 'commander';
import { HubError } from '../../client/client';
import { CovenantError } from '../../covenant/errors';
import { HubKeyError } from '../../pseudonym/hub-key';
import { InvalidBsnError } from '../../pseudonym/bsn';
import { SigningKeyError } from '../../signing';
import { EXIT_CONFIG, EXIT_DATA, EXIT_INTERNAL, EXIT_OK, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_USAGE } from './exit-codes';

export * from './exit-codes';

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
