// Exit codes of `kenbaar`. Scripts that drive the CLI (a partner's nightly registration job, a
// monitoring check on `audit verify`) branch on these, so they are part of the CLI's contract:
// never renumber one. Kept apart from the mapping (exit.ts), which loads every error class: the
// CLI starts without those.
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

