// Node edge: the server log's JSON lines to stderr, batched. One line per request (the access log)
// written one by one costs a write syscall each (stderr on a pipe or file is synchronous on Linux):
// here the lines of one event-loop turn go out in one write, after the turn (or sooner, once
// MAX_LINES have gathered). Nothing is lost on the way out: `flush` is called on stop and on exit.
const MAX_LINES = 256;

/** `close`: flush, and from then on write each line at once. */
export type LineSink = { write: (line: string) => void; flush: () => void; close: () => void };

export function batchedStderr(out: { write: (chunk: string) => unknown } = process.stderr): LineSink {
  let lines: string[] = [];
  let scheduled = false;
  let closed = false;
  const flush = () => {
    scheduled = false;
    if (lines.length === 0) return;
    const chunk = `${lines.join('\n')}\n`;
    lines = [];
    out.write(chunk);
  };
  const onExit = () => flush();
  process.once('exit', onExit);
  return {
    write(line) {
      lines.push(line);
      if (closed) return flush(); // after stop: no later turn to wait for
      if (lines.length >= MAX_LINES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
    close() {
      closed = true;
      flush();
      process.off('exit', onExit);
    },
  };
}
