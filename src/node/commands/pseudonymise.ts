// `kenbaar pseudonymise [file]`: BSNs in, partner pseudonyms out, one per line, in input order.
// What a partner system runs before it sends anything: the BSN never leaves the partner.
import { partnerPseudonym } from '../../pseudonym/pseudonymise';
import type { NodeSettings } from '../env';
import { readCovenantKey, readInput, type Cli } from './common';
import { bsnItems, checkBsns, formatBsnProblems } from './csv';
import { CliError, EXIT_DATA, EXIT_OK } from './exit';

export type PseudonymiseOptions = { keyFile?: string };

export async function pseudonymiseCommand(cli: Cli, file: string | undefined, opts: PseudonymiseOptions): Promise<number> {
  const { settings, write, warn } = cli;
  const source = file === undefined || file === '-' ? 'stdin' : file;
  let items;
  try {
    items = bsnItems(await readInput(cli.io.stdin, file));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT_DATA, `${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // All lines are checked before a single pseudonym is printed: a half-converted file is worse than none.
  const { valid, problems } = checkBsns(items);
  if (problems.length) {
    warn(formatBsnProblems(source, problems, 'nothing was written'));
    return EXIT_DATA;
  }
  const key = readCovenantKey(settings, opts.keyFile, warn);
  write(valid.map((bsn) => `${partnerPseudonym(key, bsn)}\n`).join(''));
  return EXIT_OK;
}
