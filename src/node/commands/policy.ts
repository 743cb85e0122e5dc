// `kenbaar policy check`: load and validate a covenant directory, then show what it lets whom see.
// Policy authors run this before they sign a change; a problem names the file and the place in it.
import { formatVisibilityMatrix } from '../../covenant/matrix';
import { loadCovenantDir } from '../covenant-fs';
import type { NodeSettings } from '../env';
import { type Cli } from './common';
import { EXIT_OK } from './exit';

export function policyCheckCommand(cli: Cli, opts: { dir?: string }): number {
  const { settings, write } = cli;
  const dir = opts.dir ?? settings.covenantDir;
  // A CovenantError propagates: the CLI prints every problem (file: path: reason) and exits 65.
  const covenant = loadCovenantDir(dir);
  write(
    [
      `covenant ${covenant.id} is valid: ${covenant.partners.size} partners, ${covenant.purposes.size} purposes, ${covenant.categories.size} categories, ${covenant.rules.size} rules`,
      `  files  ${covenant.files.join(', ')}`,
      `  in     ${dir}`,
      '',
      formatVisibilityMatrix(covenant),
    ].join('\n'),
  );
  return EXIT_OK;
}
