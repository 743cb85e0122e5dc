// `kenbaar`: the command line. Thin on purpose: it parses arguments and hands each command to its
// module in src/node/commands/ (one file per command group), then maps the outcome to an exit code.
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Argument, Command, CommanderError, Option } from 'commander';
import { cliContext, type Cli } from './commands/io';
import { DEFAULT_URL, KEY_ALGS, MAX_BATCH, SECRET_NAMES } from './commands/defaults';
import { EXIT_CODES_HELP, EXIT_INTERNAL, EXIT_OK, EXIT_PROBLEMS } from './commands/exit-codes';
import type { ActorOptions, DecideOptions, ListOptions, RequestOptions } from './commands/disclose';
import type { FetchOptions, RespondOptions } from './commands/handover';
import type { LookupOptions, MatchesOptions } from './commands/lookup';
import type { RegisterOptions } from './commands/register';
import type { GenerateOptions, RotateOptions } from './commands/secrets';
import type { TokenOptions } from './commands/token';
import { processIo, readSettings, type CliIo } from './env';
import { staffCommands } from './commands/staff-cli';

// Each command's module is imported when the command runs: `kenbaar pseudonymise` or
// `$(kenbaar token …)` should not pay for loading the database driver and the server.
const commands = {
  audit: () => import('./commands/audit'),
  auditRemote: () => import('./commands/audit-remote'),
  witness: () => import('./commands/witness'),
  db: () => import('./commands/db'),
  disclose: () => import('./commands/disclose'),
  handover: () => import('./commands/handover'),
  keys: () => import('./commands/keys'),
  lookup: () => import('./commands/lookup'),
  policy: () => import('./commands/policy'),
  pseudonymise: () => import('./commands/pseudonymise'),
  purge: () => import('./commands/purge'),
  secrets: () => import('./commands/secrets'),
  register: () => import('./commands/register'),
  serve: () => import('./commands/serve'),
  token: () => import('./commands/token'),
  demo: () => import('./demo'),
};

export {
  EXIT_OK,
  EXIT_PROBLEMS,
  EXIT_USAGE,
  EXIT_REFUSED,
  EXIT_UNAVAILABLE,
  EXIT_DATA,
  EXIT_INTERNAL,
  EXIT_CONFIG,
} from './commands/exit-codes';

const ENVIRONMENT_HELP = `
Environment (defaults in parentheses):
  DATABASE_URL           PostgreSQL; without it the embedded PGlite in KENBAAR_DATA_DIR (data/)
  KENBAAR_COVENANT_DIR   the covenant files (policies/zvh-demo)
  KENBAAR_KEYS_DIR       partners' public keys (keys/)
  KENBAAR_LOCAL_DIR      development secrets (.kenbaar/); private keys in KENBAAR_PRIVATE_DIR (.kenbaar/private)
  KENBAAR_HUB_KEY, KENBAAR_SIGNING_KEY, KENBAAR_LOG_KEY   the hub's secrets (kenbaar secrets generate; made in .kenbaar/ in development)
  KENBAAR_LOG_ORIGIN     the audit log's origin line (kenbaar.example/<covenant id>)
  KENBAAR_URL            the hub partner-side commands call when --url is not given (http://127.0.0.1:8787)
  KENBAAR_COVENANT_KEY   partner side only: the covenant key (base64url, >= 32 bytes) to pseudonymise BSNs
  KENBAAR_HUB_ID         the hub's id, the audience of partner tokens (urn:kenbaar:hub)
  HOST, PORT             where serve listens (127.0.0.1:8787); NODE_ENV=production: never generate secrets`;

/** Options every command that calls a hub's API takes. */
const urlOption = (cli: Cli) =>
  new Option('--url <url>', 'the hub').default(cli.settings.hubUrl ?? DEFAULT_URL, cli.settings.hubUrl ? `KENBAAR_URL, ${cli.settings.hubUrl}` : `${DEFAULT_URL}; or set KENBAAR_URL`);
const subOption = () => new Option('--sub <id>', 'who acts, as put in the token (the professional or system); default cli:<your user name>');
const keyFileOption = () =>
  new Option('--key-file <path>', 'the covenant key file when KENBAAR_COVENANT_KEY is not set (default .kenbaar/covenant-key, created in development)');

export function buildProgram(cli: Cli, setExit: (code: number) => void): Command {
  const run =
    <A extends unknown[]>(fn: (...args: A) => number | Promise<number>) =>
    async (...args: A) => {
      setExit(await fn(...args));
    };

  const program = new Command('kenbaar')
    .description('kenbaar: purpose-bound "known by" lookups for the Zorg- en Veiligheidshuis covenant, with a verifiable audit log.')
    .version('0.1.0')
    .exitOverride()
    // Commander's own output (help, usage errors) goes to the run's streams too; set before the
    // subcommands are added, which inherit it.
    .configureOutput({
      writeOut: (text) => cli.io.stdout.write(text),
      writeErr: (text) => cli.io.stderr.write(text),
      getOutHelpWidth: () => cli.io.stdout.columns ?? 80,
      getErrHelpWidth: () => cli.io.stderr.columns ?? 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('afterAll', `${EXIT_CODES_HELP}\n`)
    .addHelpText('after', ENVIRONMENT_HELP);

  program
    .command('serve')
    .description('run the hub (npm start); in development, missing secrets and partner keys are created on first start')
    .option('--host <host>', 'interface to listen on (default HOST or 127.0.0.1)')
    .option('--port <port>', 'port (default PORT or 8787; 0 = any free port)')
    .option('--workers <n>', 'hub processes on that port (node:cluster; more than 1 needs DATABASE_URL)', undefined)
    .action(run(async (opts: { host?: string; port?: string; workers?: string }) => (await commands.serve()).serveCommand(cli, opts)));

  program
    .command('token')
    .description('print a fresh development token (JWT) for one API call, signed with .kenbaar/private/<partner>.jwk.json')
    .requiredOption('--as <partner>', 'the partner (token issuer)')
    .requiredOption('--role <role>', 'the role under the covenant (e.g. procesregisseur, professional, partner-system)')
    .addOption(subOption())
    .option('--lifetime <seconds>', 'lifetime, at most 300', '60')
    .action(run(async (opts: TokenOptions) => (await commands.token()).tokenCommand(cli, opts)));

  const policy = program.command('policy').description('policy check: validate the covenant and show who may see whom');
  policy
    .command('check')
    .description('load and validate the covenant; print its id, version and who may see whom for which purpose')
    .option('--dir <dir>', 'covenant directory (default KENBAAR_COVENANT_DIR or policies/zvh-demo)')
    .action(run(async (opts: { dir?: string }) => (await commands.policy()).policyCheckCommand(cli, opts)));

  const keys = program.command('keys').description("keys generate <partner>: a signing key for a partner system");
  keys
    .command('generate')
    .description('generate a signing key for a partner: public JWK into keys/<partner>.jwks.json, private into .kenbaar/private/')
    .argument('<partner>', 'partner id, as in the covenant')
    .addOption(new Option('--alg <alg>', 'signature algorithm').choices(KEY_ALGS).default('ES256'))
    .action(run(async (partner: string, opts: { alg: string }) => (await commands.keys()).keysGenerateCommand(cli, partner, opts)));

  const secrets = program
    .command('secrets')
    .description("secrets generate | secrets rotate: the hub's production secrets (hub keyring, signing key, log key)");
  secrets
    .command('generate')
    .description('new production secrets: KENBAAR_HUB_KEY, KENBAAR_SIGNING_KEY, KENBAAR_LOG_KEY, as NAME=value lines on stdout or as files (mode 0600)')
    .option('--out-dir <dir>', 'write one file per secret here (mode 0600; never inside the repository); existing files are never overwritten')
    .addOption(new Option('--only <secret>', 'just this one, its bare value on stdout (e.g. | npx wrangler secret put KENBAAR_HUB_KEY)').choices(SECRET_NAMES))
    .option('--log-origin <origin>', "the transparency log's origin, the log key's name (default KENBAAR_LOG_ORIGIN or kenbaar.example/<covenant id>)")
    .action(run(async (opts: GenerateOptions) => (await commands.secrets()).secretsGenerateCommand(cli, opts)));
  secrets
    .command('rotate')
    .description('add a new key in front of a secret and keep the old ones (retired signing and log keys: public part only)')
    .addArgument(new Argument('<secret>', 'which secret').choices(SECRET_NAMES))
    .option('--dir <dir>', 'rotate the file in this directory (as written by secrets generate --out-dir); without it: the current value from the environment, the new one on stdout')
    .option('--log-origin <origin>', 'for a log key given as verifier keys only: the origin of the new key')
    .action(run(async (which: string, opts: RotateOptions) => (await commands.secrets()).secretsRotateCommand(cli, which, opts)));

  program
    .command('pseudonymise')
    .alias('pseudonymize')
    .description('print the partner pseudonym of each BSN, one per line (input: one BSN per line, or the first CSV column)')
    .argument('[file]', 'input file; - or none: stdin')
    .addOption(keyFileOption())
    .addHelpText('after', '\nEvery line is checked first: if any BSN is invalid, each is reported on stderr by line number\n(never echoing the BSN), nothing is written to stdout, and the exit code is 65.')
    .action(run(async (file: string | undefined, opts: { keyFile?: string }) => (await commands.pseudonymise()).pseudonymiseCommand(cli, file, opts)));

  program
    .command('register')
    .description('register involvement for every row of a CSV (header bsn[,reference][,category]), pseudonymised locally, in batches')
    .argument('<csv>', 'CSV file (- for stdin)')
    .requiredOption('--as <partner>', 'your partner id')
    .option('--role <role>', 'role to act in', 'partner-system')
    .addOption(subOption())
    .option('--category <category>', 'registration category, for rows without a category column')
    .requiredOption('--contact-function <function>', "the contact point's function (e.g. 'Wijkagent Zwolle-Zuid')")
    .option('--contact-phone <phone>', "the contact point's phone number")
    .option('--contact-email <email>', "the contact point's e-mail address")
    .option('--expires-at <iso>', 'end of the registrations (default: the covenant maximum for the category)')
    .option('--batch-size <n>', `rows per request (at most ${MAX_BATCH})`, String(MAX_BATCH))
    .option('--progress', 'show the progress bar even when stderr is not a terminal')
    .addOption(urlOption(cli))
    .addOption(keyFileOption())
    .addHelpText('after', '\nAll rows are checked before anything is sent: an invalid BSN sends nothing (exit 65).\nEach batch is all-or-nothing at the hub; a refused batch stops the run (exit 3).')
    .action(run(async (csv: string, opts: RegisterOptions) => (await commands.register()).registerCommand(cli, csv, opts)));

  program
    .command('lookup')
    .description('who knows this person, as far as the covenant lets you know for the purpose: whom to call, and the deciding rules')
    .argument('<bsn>', 'the BSN (pseudonymised here; it is never sent)')
    .requiredOption('--as <partner>', 'your partner id')
    .requiredOption('--role <role>', 'role to act in (e.g. procesregisseur)')
    .addOption(subOption())
    .requiredOption('--purpose <purpose>', 'the purpose of the covenant you look up for (doelbinding)')
    .requiredOption('--case-ref <ref>', 'your case reference (logged)')
    .option('--json', 'print the hub\'s JSON answer')
    .addOption(urlOption(cli))
    .addOption(keyFileOption())
    .action(run(async (bsn: string, opts: LookupOptions) => (await commands.lookup()).lookupCommand(cli, bsn, opts)));

  program
    .command('matches')
    .description('your feed of match notices: another partner registered a person you registered')
    .requiredOption('--as <partner>', 'your partner id')
    .option('--role <role>', 'role to act in', 'partner-system')
    .addOption(subOption())
    .option('--after <cursor>', 'only notices after this cursor (0: from the start)', '0')
    .option('--json', 'print JSON')
    .addOption(urlOption(cli))
    .action(run(async (opts: MatchesOptions) => (await commands.lookup()).matchesCommand(cli, opts)));

  const disclose = program
    .command('disclose')
    .description('full disclosure (art. 15, 15a, 15b): ask a partner for content on a signed justification, decide, hand over end-to-end encrypted')
    .addHelpText(
      'after',
      `
The flow: request (signed justification) -> informatiemakelaars decide (signed; four eyes where the
covenant says so) -> the hub signs a grant -> the holder verifies it offline and responds, encrypted to
the requester's key -> the requester fetches and decrypts (the hub deletes its copy). With
--emergency (break the glass, where the covenant allows it) the grant comes at once and a review is
due afterwards. The rules: policies/zvh-demo/disclosure.yaml.`,
    );
  const actorOptions = (c: Command, role?: string) => {
    c.requiredOption('--as <partner>', 'your partner id');
    if (role) c.option('--role <role>', 'role to act in', role);
    else c.requiredOption('--role <role>', 'role to act in (e.g. procesregisseur, informatiemakelaar)');
    return c.addOption(subOption()).option('--json', "print the hub's JSON answer").addOption(urlOption(cli));
  };
  actorOptions(
    disclose
      .command('request')
      .description('ask a holder for content about a person, for a purpose and legal basis, with a written justification (signed with your key)')
      .argument('<bsn>', 'the BSN (pseudonymised here; it is never sent)')
      .requiredOption('--holder <partner>', 'the partner you ask (one a lookup showed knows the person)')
      .requiredOption('--purpose <purpose>', 'the purpose of the covenant (doelbinding)')
      .requiredOption('--legal-basis <id>', "one of the purpose's legal bases the disclosure rule lists (e.g. uavg-30-33)")
      .requiredOption('--categories <a,b>', 'the data categories you ask for, comma-separated')
      .requiredOption('--case-ref <ref>', 'your case reference (logged)')
      .option('--justification <text>', 'why this is necessary, proportionate and cannot be done with less (art. 15)')
      .option('--justification-file <file>', 'the justification from a file')
      .option('--emergency', 'break the glass: acute danger; granted at once where the covenant allows it, reviewed afterwards')
      .addOption(keyFileOption()),
  ).action(run(async (bsn: string, opts: RequestOptions) => (await commands.disclose()).requestCommand(cli, bsn, opts)));
  actorOptions(
    disclose
      .command('list')
      .description('disclosure requests you may see (informatiemakelaars: all; others: their own and approved ones addressed to them)')
      .addOption(new Option('--status <status>').choices(['pending', 'approved', 'rejected']))
      .option('--purpose <purpose>')
      .option('--holder <partner>')
      .option('--requester <partner>')
      .addOption(new Option('--urgency <urgency>').choices(['regular', 'emergency'])),
    'professional',
  ).action(run(async (opts: ListOptions) => (await commands.disclose()).listCommand(cli, opts)));
  actorOptions(
    disclose.command('show').description('one request: what was asked, the signed decisions, the grant').argument('<id>', 'request id'),
    'professional',
  ).action(run(async (id: string, opts: ActorOptions) => (await commands.disclose()).showCommand(cli, id, opts)));
  actorOptions(
    disclose
      .command('decide')
      .description("an informatiemakelaar's decision (signed, final): approve, possibly narrowed, or reject with a reason; on a break-glass request its review")
      .argument('<id>', 'request id')
      .addOption(new Option('--approve', 'approve').conflicts('reject'))
      .addOption(new Option('--reject', 'reject (needs --reason)').conflicts('approve'))
      .option('--categories <a,b>', 'approve only these of the requested categories')
      .option('--valid-until <iso>', 'approve until then at the latest (within the covenant\'s grant validity)')
      .option('--reason <text>', 'the reason (required with --reject)'),
  ).action(run(async (id: string, opts: DecideOptions) => (await commands.disclose()).decideCommand(cli, id, opts)));
  actorOptions(
    disclose
      .command('respond')
      .description("the holder answers: verify the grant offline against the hub's JWKS, encrypt to the requester's key, hand over")
      .argument('<id>', 'request id')
      .addOption(new Option('--file <file>', 'the answer, from a file').conflicts('text'))
      .addOption(new Option('--text <text>', 'the answer').conflicts('file')),
    'professional',
  ).action(run(async (id: string, opts: RespondOptions) => (await commands.handover()).respondCommand(cli, id, opts)));
  actorOptions(
    disclose
      .command('fetch')
      .description('the requester fetches the answer (once: the hub then deletes it) and decrypts it with .kenbaar/private/<partner>.enc.jwk.json')
      .argument('<id>', 'request id')
      .option('--out <file>', 'write the plaintext here (mode 0600) instead of stdout'),
    'professional',
  ).action(run(async (id: string, opts: FetchOptions) => (await commands.handover()).fetchCommand(cli, id, opts)));
  actorOptions(
    disclose
      .command('overdue')
      .description('break-glass requests past their review deadline without a review (informatiemakelaars); exit 1 when there are any')
      .addHelpText('after', '\nFor monitoring: exit 0 when no review is overdue, 1 when some are (listed on stdout), 3 when refused.'),
  ).action(run(async (opts: ActorOptions) => (await commands.disclose()).overdueCommand(cli, opts)));

  const audit = program
    .command('audit')
    .description("audit verify | audit checkpoint: the hub's audit log (on the hub's database; with PGlite, stop the hub first)");
  audit
    .command('verify')
    .description('recompute the Merkle tree from the entries and check it against every signed checkpoint; exit 1 on problems')
    .option('--json', 'print the full report as JSON')
    .option('--progress', 'show the progress bar (default: on a terminal, for large logs)')
    .option('--jwks <file>', "the hub's public keys (a saved /.well-known/jwks.json): verify without access to its secrets")
    .option('--threads <n>', 'on PostgreSQL: worker threads that read and hash the entries, each on its own connection (default: one per CPU, at least 2; 0: in this thread)')
    .option('--url <hub>', 'verify a running hub over HTTP instead (no database): checkpoint, witness quorum, tiles, entries if you may read them')
    .option('--state <file>', 'with --url: where the last verified checkpoint is kept, to catch a rolled-back or forked log (default .kenbaar/verifier-<origin>.json)')
    .option('--vkey <vkey>', "with --url: the log's verifier key (default: as saved in --state, else trusted on first use from GET /log/vkey)")
    .option('--as <partner>', 'with --url: read the entry bundles as this partner (needs read-audit-all), recomputing every leaf')
    .option('--role <role>', 'with --url and --as: the role to act in', 'zvh-privacy-officer')
    .action(
      run(async (opts: { json?: boolean; progress?: boolean; jwks?: string; threads?: string; url?: string; state?: string; vkey?: string; as?: string; role: string }) =>
        opts.url ? (await commands.auditRemote()).auditVerifyUrlCommand(cli, { ...opts, url: opts.url }) : (await commands.audit()).auditVerifyCommand(cli, opts),
      ),
    );
  audit
    .command('receipt')
    .description("check saved receipts (Kenbaar-Receipt headers, one per line) against the hub's tlog-proofs; exit 1 when an entry is missing past the promised delay")
    .argument('[file]', 'receipts file; - or none: stdin')
    .requiredOption('--as <partner>', 'your partner id (proofs are given for your own entries)')
    .option('--role <role>', 'role to act in', 'privacy-officer')
    .option('--vkey <vkey>', "the log's verifier key (default: GET /log/vkey)")
    .option('--jwks <file>', "the hub's public keys (default: GET /.well-known/jwks.json)")
    .option('--json', 'print the results as JSON')
    .addOption(urlOption(cli))
    .action(run(async (file: string | undefined, opts: { url: string; as: string; role: string; vkey?: string; jwks?: string; json?: boolean }) => (await commands.auditRemote()).auditReceiptCommand(cli, file, opts)));
  audit
    .command('checkpoint')
    .description('sequence pending entries and sign a checkpoint now')
    .action(run(async () => (await commands.audit()).auditCheckpointCommand(cli)));

  program
    .command('db')
    .description('db migrate: the hub\'s database schema')
    .command('migrate')
    .description('apply the schema migrations to the database (DATABASE_URL, --url, or the PGlite data directory); for a Worker\'s database before deploying')
    .option('--url <postgres-url>', 'the PostgreSQL database (default DATABASE_URL)')
    .action(run(async (opts: { url?: string }) => (await commands.db()).dbMigrateCommand(cli, opts)));

  const witness = program.command('witness').description('witness keygen | witness serve: cosign the hub\'s checkpoints as a partner (c2sp.org/tlog-witness)');
  witness
    .command('keygen')
    .description('make a witness key (Ed25519 cosignature key) and print its verifier key for the covenant')
    .requiredOption('--name <name>', 'the witness name, e.g. witness.politie.example')
    .requiredOption('--out <file>', 'where to write the private key (mode 0600)')
    .action(run(async (opts: { name: string; out: string }) => (await commands.witness()).witnessKeygenCommand(cli, opts)));
  witness
    .command('serve')
    .description('run a witness: POST <url>/add-checkpoint checks consistency and returns a cosignature')
    .requiredOption('--key <file>', 'the witness key (kenbaar witness keygen)')
    .requiredOption('--log <vkey...>', "the log(s) to witness: each log's verifier key (GET /log/vkey of the hub)")
    .option('--state <file>', 'where the latest cosigned size and root per log are kept', '.kenbaar/witness-state.json')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port', '8788')
    .action(run(async (opts: { key: string; log: string[]; state: string; host: string; port: string }) => (await commands.witness()).witnessServeCommand(cli, opts)));

  program
    .command('purge')
    .description("apply the covenant's retention once, now: end expired registrations, remove archived ones")
    .action(run(async () => (await commands.purge()).purgeCommand(cli)));

  staffCommands(program, cli, run);

  program
    .command('demo')
    .description('play the Den Ouden case through the API (npm run demo); without --url on a hub started in this process')
    .option('--url <url>', 'a running hub (npm start) instead of an in-process one')
    .option('--keep', "with --url: leave the demo's registrations in place (by default they are ended, so the demo can be replayed)")
    .option('--console', 'in-process: end with invitations to the web console and keep the hub running until Ctrl-C (npm run demo)')
    .addHelpText('after', '\nExit code 1 when the story did not play out as the covenant says (the demo checks each step).')
    .action(
      run(async (opts: { url?: string; keep?: boolean; console?: boolean }) => {
        const consoleUntil = opts.console && !opts.url ? new Promise<void>((resolve) => process.once('SIGINT', () => resolve())) : undefined;
        const result = await (await commands.demo()).runDemo({
          settings: cli.settings,
          print: cli.write,
          ...(opts.url ? { url: opts.url } : {}),
          keep: opts.keep === true,
          ...(consoleUntil ? { consoleUntil } : {}),
        });
        return result.ok ? EXIT_OK : EXIT_PROBLEMS;
      }),
    );

  return program;
}

/**
 * Run the CLI on `args` (the words after `kenbaar`) with the given streams and environment;
 * resolves to the exit code (serve resolves when the hub has stopped). Nothing here touches
 * `process.stdout` or `process.exit`: tests run commands in-process, bin/kenbaar.js passes the
 * process's own.
 */
export async function main(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  const cli = cliContext(readSettings(io.env), io);
  let code = EXIT_OK;
  const program = buildProgram(cli, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return code;
  } catch (e) {
    // The mapping loads every error class (jose, zod, the client): only when something failed.
    const { describeError, exitCodeFor } = await import('./commands/exit');
    const exit = exitCodeFor(e);
    // Commander has already printed its own message (usage errors, help, version).
    if (!(e instanceof CommanderError)) {
      cli.warn(`kenbaar: ${describeError(e)}`);
      if (exit === EXIT_INTERNAL && e instanceof Error && e.stack) cli.warn(e.stack);
    }
    return exit;
  }
}

/** True when this module is the program (tsx src/node/cli.ts, node dist/node/cli.js), not imported (bin/kenbaar.js, tests). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry || !existsSync(entry)) return false;
  return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}
