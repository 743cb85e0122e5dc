// `kenbaar register <csv>`: what a partner's nightly job does. Read a CSV of BSNs, check every
// row, pseudonymise locally, and send the rows in batches (each batch all-or-nothing at the hub).
import { HubError, type Contact, type RegistrationInput } from '../../client/client';
import { partnerPseudonym } from '../../pseudonym/pseudonymise';
import type { NodeSettings } from '../env';
import { partnerClient, progressBar, readCovenantKey, readInput, type Cli } from './common';
import { MAX_BATCH } from './defaults';
import { checkBsns, formatBsnProblems, parseCsv, type CsvRecord } from './csv';
import { localCovenant } from './lookup';
import { CliError, describeHubError, EXIT_DATA, EXIT_OK, EXIT_REFUSED, EXIT_USAGE } from './exit';

export type RegisterOptions = {
  as: string;
  role: string;
  sub?: string;
  category?: string;
  contactFunction: string;
  contactPhone?: string;
  contactEmail?: string;
  expiresAt?: string;
  url: string;
  keyFile?: string;
  batchSize: string;
  progress?: boolean;
};

type Row = { line: number; bsn: string; reference?: string; category: string };

const COLUMNS = ['bsn', 'reference', 'category'] as const;

/** Rows of a `bsn[,reference][,category]` CSV; the header names the columns (any order). */
function readRows(source: string, records: CsvRecord[], defaultCategory: string | undefined, allowed: readonly string[] | undefined): Row[] {
  const [header, ...body] = records;
  if (!header) throw new CliError(EXIT_DATA, `${source}: empty; expected a header line bsn[,reference][,category]`);
  const names = header.fields.map((f) => f.toLowerCase());
  const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
  if (!names.includes('bsn') || unknown.length || new Set(names).size !== names.length) {
    throw new CliError(EXIT_DATA, `${source}: line ${header.line}: the header must name the columns bsn[,reference][,category] (found: ${header.fields.join(',')})`);
  }
  const col = (name: (typeof COLUMNS)[number]) => names.indexOf(name);
  const problems: string[] = [];
  const rows: Row[] = [];
  for (const r of body) {
    if (r.fields.length !== names.length) {
      problems.push(`${source}: line ${r.line}: ${r.fields.length} fields, the header has ${names.length}`);
      continue;
    }
    const reference = col('reference') >= 0 ? r.fields[col('reference')] || undefined : undefined;
    const category = (col('category') >= 0 ? r.fields[col('category')] : '') || defaultCategory;
    if (!category) {
      const may = allowed ? `; the covenant lets you register: ${allowed.join(', ')}` : '';
      problems.push(`${source}: line ${r.line}: no category (give --category or fill the category column${may})`);
      continue;
    }
    if (reference !== undefined && reference.length > 100) problems.push(`${source}: line ${r.line}: reference longer than 100 characters`);
    rows.push({ line: r.line, bsn: r.fields[col('bsn')]!, category, ...(reference !== undefined ? { reference } : {}) });
  }
  if (problems.length) throw new CliError(EXIT_DATA, `${problems.slice(0, 50).join('\n')}\nnothing was sent`);
  return rows;
}

export async function registerCommand(cli: Cli, file: string, opts: RegisterOptions): Promise<number> {
  const { settings, write, warn } = cli;
  const batchSize = Number(opts.batchSize);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) throw new CliError(EXIT_USAGE, `--batch-size must be 1 to ${MAX_BATCH}`);
  if (opts.contactPhone === undefined && opts.contactEmail === undefined) {
    throw new CliError(EXIT_USAGE, 'give the contact point a phone number (--contact-phone) or an e-mail address (--contact-email)');
  }
  const contact: Contact = {
    function: opts.contactFunction,
    ...(opts.contactPhone !== undefined ? { phone: opts.contactPhone } : {}),
    ...(opts.contactEmail !== undefined ? { email: opts.contactEmail } : {}),
  };
  const source = file === '-' ? 'stdin' : file;

  let records: CsvRecord[];
  try {
    records = parseCsv(await readInput(cli.io.stdin, file));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT_DATA, `${source}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const allowed = localCovenant(settings)?.partners.get(opts.as)?.registers.categories;
  const rows = readRows(source, records, opts.category, allowed && [...allowed]);
  // Every BSN is checked before anything is sent: a partial upload is harder to repair than none.
  const { valid, problems } = checkBsns(rows);
  if (problems.length) {
    warn(formatBsnProblems(source, problems, 'nothing was sent'));
    return EXIT_DATA;
  }
  if (rows.length === 0) {
    write(`${source}: no rows; nothing to register\n`);
    return EXIT_OK;
  }

  const key = readCovenantKey(settings, opts.keyFile, warn);
  const items: RegistrationInput[] = rows.map((row, i) => ({
    subject: partnerPseudonym(key, valid[i]!),
    category: row.category,
    contact,
    ...(row.reference !== undefined ? { reference: row.reference } : {}),
    ...(opts.expiresAt !== undefined ? { expiresAt: opts.expiresAt } : {}),
  }));

  const client = partnerClient(settings, opts.url, opts.as, opts.role, opts.sub);
  const bar = progressBar(cli.io.stderr, Boolean(cli.io.stderr.isTTY || opts.progress), items.length, 'registering', 'rows');
  const started = performance.now();
  let created = 0;
  let registered = 0;
  let batches = 0;
  try {
    for (let start = 0; start < items.length; start += batchSize) {
      const batch = items.slice(start, start + batchSize);
      try {
        const res = await client.registerBatch(batch);
        created += res.created;
        registered += res.registered;
        batches++;
      } catch (e) {
        if (!(e instanceof HubError)) throw e;
        bar.stop();
        // Point at CSV lines, not at positions inside the refused batch.
        const errors = Array.isArray(e.problem.errors) ? (e.problem.errors as { index?: number; field?: string; reason?: string; rule?: string }[]) : [];
        const lines = errors.slice(0, 50).map((err) => {
          const row = err.index !== undefined ? rows[start + err.index] : undefined;
          return `${source}: ${row ? `line ${row.line}` : 'batch'}: ${err.field ?? ''}: ${err.reason ?? ''}${err.rule ? ` (rule ${err.rule})` : ''}`;
        });
        warn([describeHubError(e, { items: false }), ...lines].join('\n'));
        warn(`batch ${batches + 1} (rows ${start + 1}-${start + batch.length}) was refused and nothing of it stored; ${registered} rows in ${batches} earlier batch(es) were registered`);
        return EXIT_REFUSED;
      }
      bar.update(Math.min(start + batchSize, items.length));
    }
  } finally {
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  write(
    [
      `registered ${registered} of ${rows.length} rows as ${opts.as} (${opts.role}) at ${opts.url}`,
      `  created  ${created}`,
      `  renewed  ${registered - created} (already registered: contact and expiry refreshed)`,
      `  batches  ${batches} (up to ${batchSize} rows each)`,
      `  rate     ${Math.round(registered / Math.max(seconds, 0.001))} rows/s (${seconds.toFixed(2)} s)`,
      '',
    ].join('\n'),
  );
  return EXIT_OK;
}
