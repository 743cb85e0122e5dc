// One error type for everything wrong with a covenant, pointing at the file and the place in it,
// because the people fixing a covenant are policy authors reading YAML, not stack traces.

export type CovenantProblem = {
  file: string;
  /** Where in the file: `purposes[2].requesters[0].partner`, or `line 4, column 7` for YAML syntax. */
  path: string;
  reason: string;
  /** 1-based line, for YAML syntax errors. */
  line?: number;
};

/**
 * Thrown by the loader. `file`, `path` and `reason` (and the message `<file>: <path>: <reason>`)
 * describe the first problem found; `problems` holds every problem found in the same pass, so
 * `kenbaar policy check` can list them all.
 */
export class CovenantError extends Error {
  override readonly name = 'CovenantError';
  readonly file: string;
  readonly path: string;
  readonly reason: string;
  readonly line: number | undefined;
  readonly problems: readonly CovenantProblem[];

  constructor(problems: readonly [CovenantProblem, ...CovenantProblem[]]) {
    const [first] = problems;
    super(formatProblem(first));
    this.file = first.file;
    this.path = first.path;
    this.reason = first.reason;
    this.line = first.line;
    this.problems = problems;
  }
}

export function formatProblem(p: CovenantProblem): string {
  return `${p.file}: ${p.path}: ${p.reason}`;
}
