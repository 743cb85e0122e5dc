// `kenbaar keys generate <partner>`: a new signing key for a partner system. The public half goes
// to keys/ (the hub trusts what is there), the private half to .kenbaar/private/ (the partner keeps it).
import type { NodeSettings } from '../env';
import { generatePartnerKey } from '../keys';
import { covenantPartner, type Cli } from './common';
import { KEY_ALGS, type KeyAlg } from './defaults';
import { CliError, EXIT_OK, EXIT_USAGE } from './exit';

export async function keysGenerateCommand(cli: Cli, partner: string, opts: { alg: string }): Promise<number> {
  const { settings, write } = cli;
  if (!KEY_ALGS.includes(opts.alg as KeyAlg)) throw new CliError(EXIT_USAGE, `--alg must be one of ${KEY_ALGS.join(', ')}`);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(partner)) throw new CliError(EXIT_USAGE, `"${partner}" is not a partner id (lowercase letters, digits, dashes)`);
  // The hub refuses tokens of a partner its covenant does not name: a key for one is a typo.
  covenantPartner(settings, partner);
  const k = await generatePartnerKey(partner, { keysDir: settings.keysDir, privateDir: settings.privateDir }, opts.alg as KeyAlg);
  write(
    [
      `new ${opts.alg} key for ${partner}`,
      `  kid      ${k.kid}`,
      `  public   ${k.publicPath} (added to the partner's key set; the hub reads it at start)`,
      `  private  ${k.privatePath} (mode 0600; keep it with the partner system, never commit it)`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
