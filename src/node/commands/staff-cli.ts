// The `staff` command group's command line; its work (database, WebAuthn) loads only when it runs.
import { Option, type Command } from 'commander';
import type { Cli } from './io';
import type { InviteOptions } from './staff';

const load = () => import('./staff');

/** The `staff` command group, registered by cli.ts; each action loads this module's work lazily. */
export function staffCommands(program: Command, cli: Cli, run: <A extends unknown[]>(fn: (...args: A) => number | Promise<number>) => (...args: A) => Promise<void>): void {
  const staff = program.command('staff').description("staff invite | list | revoke: the console's people (on the hub's database; with PGlite, stop the hub first)");
  staff
    .command('invite')
    .description('invite a person: prints a one-time, expiring enrolment link where they register a passkey')
    .requiredOption('--partner <id>', 'the partner the person works for')
    .requiredOption('--role <role>', 'the covenant role they act in (e.g. informatiemakelaar, privacy-officer)')
    .requiredOption('--name <name>', 'their name, as shown in the console and the log')
    .addOption(new Option('--email <address>', 'their e-mail address (for your records; kenbaar sends no mail)'))
    .action(run(async (opts: InviteOptions) => (await load()).inviteCommand(cli, opts)));
  staff.command('list').description('everyone invited, with their state').action(run(async () => (await load()).listCommand(cli)));
  staff
    .command('revoke')
    .description('revoke a person: their sessions end at once and their passkeys stop working')
    .argument('<id>', 'staff id')
    .action(run(async (id: string) => (await load()).revokeCommand(cli, id)));
}
