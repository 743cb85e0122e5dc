// Partner-side input files: CSV (RFC 4180: commas, double-quoted fields, "" for a quote) and plain
// lists of BSNs. Every record keeps its line number, because an error must say where to look
// without repeating the BSN (a direct identifier that should not end up in logs or tickets).
import { InvalidBsnError, normaliseBsn } from '../../pseudonym/bsn';

export type CsvRecord = { line: number; fields: string[] };

/** Parse CSV text into records; blank lines are skipped. Throws on an unterminated quote. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let wasQuoted = false;
  const endField = () => {
    fields.push(wasQuoted ? field : field.trim());
    field = '';
    wasQuoted = false;
  };
  const endRecord = () => {
    endField();
    if (fields.length > 1 || fields[0] !== '') records.push({ line: recordLine, fields });
    fields = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field.trim() === '') {
      quoted = true;
      wasQuoted = true;
      field = '';
    } else if (ch === ',') endField();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (quoted) throw new Error(`line ${recordLine}: unterminated quoted field`);
  if (field !== '' || fields.length) endRecord();
  return records;
}

export type BsnItem = { line: number; bsn: string };
export type BsnProblem = { line: number; reason: string };

/**
 * BSNs from a list (one per line) or from the first column of a CSV. A first line whose first
 * field is the word `bsn` is a header and skipped.
 */
export function bsnItems(text: string): BsnItem[] {
  const records = parseCsv(text);
  const start = records[0] && records[0].fields[0]?.toLowerCase() === 'bsn' ? 1 : 0;
  return records.slice(start).map((r) => ({ line: r.line, bsn: r.fields[0] ?? '' }));
}

/** Check every BSN before anything is sent: all problems at once, none of them echoing a BSN. */
export function checkBsns(items: readonly BsnItem[]): { valid: string[]; problems: BsnProblem[] } {
  const valid: string[] = [];
  const problems: BsnProblem[] = [];
  for (const item of items) {
    try {
      valid.push(normaliseBsn(item.bsn));
    } catch (e) {
      if (!(e instanceof InvalidBsnError)) throw e;
      problems.push({ line: item.line, reason: e.message });
    }
  }
  return { valid, problems };
}

/** One line per problem (the first 50), then what was not done because of them. */
export function formatBsnProblems(source: string, problems: readonly BsnProblem[], consequence: string): string {
  const shown = problems.slice(0, 50).map((p) => `${source}: line ${p.line}: invalid BSN: ${p.reason}`);
  if (problems.length > 50) shown.push(`${source}: … and ${problems.length - 50} more invalid BSNs`);
  shown.push(`${problems.length} invalid BSN(s); ${consequence}`);
  return shown.join('\n') + '\n';
}
