// The server log: one JSON line per event, with codes and ids only. A field value is an event name,
// an error code (SQLSTATE, a Node socket code, an error class), a request id, a rule id, a job name,
// a count or a code location: never a message of a database error (it quotes rows), a request body,
// a pseudonym, a contact detail or a reference. The logger is injected (Deps.log; serve.ts for the
// background jobs), so tests capture every line and scan it.
export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined | readonly string[]>;
export type Logger = (level: LogLevel, event: string, fields?: LogFields) => void;

/** JSON lines to `write` (stderr by default), with a timestamp. */
export function jsonLogger(write: (line: string) => void = (line) => console.error(line), clock: () => Date = () => new Date()): Logger {
  return (level, event, fields = {}) => {
    write(JSON.stringify({ at: clock().toISOString(), level, event, ...fields }));
  };
}

/** Where an error of our own code was thrown: up to three `path:line:col` frames, no message. */
export function codeLocation(err: unknown): string[] {
  const stack = err instanceof Error ? err.stack ?? '' : '';
  const frames: string[] = [];
  for (const line of stack.split('\n')) {
    // Only lines that are exactly a V8 frame with a file location; anything else (the message, and
    // whatever a message might have smuggled onto its own lines) is skipped.
    const m = /^ {4}at (?:[\w$.<>[\] ]+ \()?(?:file:\/\/)?(\/[\w./@+-]+:\d+:\d+)\)?$/.exec(line);
    if (m) frames.push(m[1]!.replace(/^.*\/(?=(?:src|node_modules|schema|test)\/)/, ''));
    if (frames.length === 3) break;
  }
  return frames;
}
