// The integration kit's generated files (docs/kit/): the signed payloads as JSON Schema, from the
// zod schemas the hub validates them with. `npm run kit:generate` writes them; test/kit.test.ts
// fails when they are stale.
//   tsx scripts/kit.ts [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { DecisionPayloadSchema, RequestPayloadSchema } from '../src/disclosures/schemas';

const SCHEMAS = {
  'disclosure-request': { schema: RequestPayloadSchema, title: 'kenbaar disclosure request (payload of a compact JWS, typ kenbaar-disclosure-request+jws)' },
  'disclosure-decision': {
    schema: DecisionPayloadSchema,
    title: 'kenbaar broker decision (payload of a compact JWS, typ kenbaar-disclosure-decision+jws); a rejection also needs `reason`',
  },
} as const;

export const kitDir = new URL('../docs/kit/', import.meta.url);

/** The files as they should be: path under docs/kit -> content. */
export function kitFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, { schema, title }] of Object.entries(SCHEMAS)) {
    const json = { $id: `https://kenbaar.invalid/kit/schemas/${name}.schema.json`, title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) };
    files[`schemas/${name}.schema.json`] = `${JSON.stringify(json, null, 2)}\n`;
  }
  return files;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [path, content] of Object.entries(kitFiles())) {
    const url = new URL(path, kitDir);
    if (!check) writeFileSync(url, content);
    else if ((() => { try { return readFileSync(url, 'utf8'); } catch { return ''; } })() !== content) {
      console.error(`stale: docs/kit/${path} (npm run kit:generate)`);
      stale++;
    }
  }
  process.exit(stale ? 1 : 0);
}
