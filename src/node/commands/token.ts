// `kenbaar token`: a fresh development token for one API call (curl, the Swagger UI), signed with
// the partner's private key in .kenbaar/private. The hub refuses a token used twice.
import { signPartnerToken } from '../../client/token';
import type { NodeSettings } from '../env';
import { readPrivateKey } from '../keys';
import { covenantPartner, defaultSub, type Cli } from './common';
import { CliError, EXIT_CONFIG, EXIT_OK, EXIT_USAGE } from './exit';

export type TokenOptions = { as: string; role: string; sub?: string; lifetime: string };

export async function tokenCommand(cli: Cli, opts: TokenOptions): Promise<number> {
  const { settings, write } = cli;
  const lifetime = Number(opts.lifetime);
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 300) throw new CliError(EXIT_USAGE, '--lifetime must be 1 to 300 seconds (the hub refuses longer-lived tokens)');
  const partner = covenantPartner(settings, opts.as);
  if (!partner.roles.has(opts.role)) {
    throw new CliError(EXIT_USAGE, `the covenant does not give ${opts.as} the role "${opts.role}" (the hub would refuse the token); its roles: ${[...partner.roles].join(', ')}`);
  }
  let jwk;
  try {
    jwk = readPrivateKey(settings.privateDir, opts.as);
  } catch (e) {
    throw new CliError(EXIT_CONFIG, e instanceof Error ? e.message : String(e));
  }
  const token = await signPartnerToken({ partner: opts.as, jwk }, { sub: opts.sub ?? defaultSub(), role: opts.role, audience: settings.hubId, lifetimeSeconds: lifetime });
  write(`${token}\n`);
  return EXIT_OK;
}
