// How a command reads and writes; light on purpose (cli.ts loads it before any command).
import type { CliIo, NodeSettings } from '../env';

/**
 * What a command runs with: its settings and its streams (the process's, or a test's). Commands
 * write through `write` (stdout: the result) and `warn` (stderr: notes and errors), never to
 * `process.stdout` directly, so that `main(argv, io)` runs a whole command in-process.
 */
export type Cli = {
  settings: NodeSettings;
  io: CliIo;
  write(text: string): void;
  warn(text: string): void;
};

export function cliContext(settings: NodeSettings, io: CliIo): Cli {
  return {
    settings,
    io,
    write: (text) => void io.stdout.write(text),
    warn: (text) => void io.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}
