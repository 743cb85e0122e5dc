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

/**
 * At most `max` lines per event in each window of `windowMs`; the lines beyond are dropped and
 * counted, and the next line of that event let through says how many (`suppressed`). For events a
 * stranger can cause at will (malformed requests on a socket), so that a flood of them cannot
 * become a flood of log lines. No timers: a window ends when the next line of its event comes.
 */
export function rateLimitedLog(log: Logger, max: number, windowMs: number, now: () => number = Date.now): Logger {
  const windows = new Map<string, { start: number; lines: number; suppressed: number }>();
  return (level, event, fields = {}) => {
    const t = now();
    let w = windows.get(event);
    if (!w || t - w.start >= windowMs) {
      const suppressed = w?.suppressed ?? 0;
      w = { start: t, lines: 0, suppressed: 0 };
      windows.set(event, w);
      if (suppressed > 0) fields = { ...fields, suppressed };
    }
    if (w.lines >= max) {
      w.suppressed++;
      return;
    }
    w.lines++;
    log(level, event, fields);
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
