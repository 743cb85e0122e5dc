// `kenbaar staff invite | list | revoke`: the people who use the console. Works on the hub's own
// database (like `audit` and `purge`); with PGlite, stop the hub first.
import type { AuditContext } from '../../audit/entry';
import type { HubConfig } from '../../config';
import { invitationPath } from '../../console/paths';
import { listStaff } from '../../staff/repo';
import { inviteStaff, revokeStaff, StaffError } from '../../staff/staff';
import { consoleOrigin } from '../env';
import type { Cli } from './io';
import { CliError, EXIT_DATA, EXIT_OK, EXIT_USAGE } from './exit';
import { loadHubConfig, withHubDatabase } from './hub-access';

export type InviteOptions = { partner: string; role: string; name: string; email?: string };

const cliContext = (config: HubConfig, command: string): AuditContext => ({
  at: new Date(),
  requestId: `cli-${command}-${crypto.randomUUID()}`,
  actor: null,
  covenantVersion: config.covenant.version,
});

function asCliError(e: unknown): never {
  if (e instanceof StaffError) throw new CliError(EXIT_DATA, e.message);
  throw e;
}

export async function inviteCommand(cli: Cli, opts: InviteOptions): Promise<number> {
  const { settings, write } = cli;
  if (opts.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(opts.email)) throw new CliError(EXIT_USAGE, '--email is not an e-mail address');
  const { config } = await loadHubConfig(settings);
  const inv = await withHubDatabase(settings, 'kenbaar staff invite', (database) =>
    inviteStaff(database.db, cliContext(config, 'staff-invite'), config.covenant, opts).catch(asCliError),
  );
  write(
    [
      `invited ${inv.staff.name} (${inv.staff.role} at ${inv.staff.partner}), staff id ${inv.staff.id}`,
      `enrolment link (one-time, valid until ${inv.expiresAt.toISOString()}):`,
      `  ${consoleOrigin(settings)}${invitationPath(inv.secret)}`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}

export async function listCommand(cli: Cli): Promise<number> {
  const { settings, write } = cli;
  await loadHubConfig(settings);
  const rows = await withHubDatabase(settings, 'kenbaar staff list', (database) => listStaff(database.db));
  const state = (r: (typeof rows)[number]) => (r.revokedAt ? `revoked ${r.revokedAt.toISOString()}` : r.enrolledAt ? 'enrolled' : 'invited');
  write(rows.map((r) => `${r.id}  ${r.partner.padEnd(24)} ${r.role.padEnd(20)} ${r.name.padEnd(28)} ${state(r)}\n`).join('') || '(no staff)\n');
  return EXIT_OK;
}

export async function revokeCommand(cli: Cli, id: string): Promise<number> {
  const { settings, write } = cli;
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new CliError(EXIT_USAGE, '<id> must be a staff id (see kenbaar staff list)');
  const { config } = await loadHubConfig(settings);
  const s = await withHubDatabase(settings, 'kenbaar staff revoke', (database) => revokeStaff(database.db, cliContext(config, 'staff-revoke'), id).catch(asCliError));
  write(`revoked ${s.name} (${s.role} at ${s.partner}): every session ended, no sign-in from now on\n`);
  return EXIT_OK;
}
