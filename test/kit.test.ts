// The integration kit (docs/kit/) says what the code does: the pseudonymisation test vectors are
// the code's output, the JSON Schemas are generated from the hub's own zod schemas, every problem
// type is listed; the hub serves the kit; and a Python client written from the kit alone registers
// and looks up against a hub over real HTTP.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kitFiles } from '../scripts/kit';
import { createApp } from '../src/app';
import { fromBase64Url, toBase64Url } from '../src/encoding';
import { PROBLEMS } from '../src/errors';
import { KIT_DIR, serveKit } from '../src/node/kit';
import { InvalidBsnError } from '../src/pseudonym/bsn';
import { hubPseudonyms, parseHubKeyring } from '../src/pseudonym/hub-key';
import { partnerPseudonym } from '../src/pseudonym/pseudonymise';
import { dbKind, partnerKey, startTestHub, type TestHub } from './support/hub';

const run = promisify(execFile);
type Vectors = { covenantKey: string; hubKeyring: string; vectors: { bsn: string; partnerPseudonym: string; hubPseudonym: string }[]; refused: { bsn: string; reason: string }[] };
const vectors = JSON.parse(readFileSync(join(KIT_DIR, 'test-vectors.json'), 'utf8')) as Vectors;

describe('the integration kit matches the code', () => {
  it('pseudonymisation test vectors: BSN -> partner-side subject (test covenant key) -> hub-side stored pseudonym (test hub key)', () => {
    const covenantKey = fromBase64Url(vectors.covenantKey);
    const ring = parseHubKeyring(vectors.hubKeyring);
    expect(vectors.vectors.length).toBeGreaterThanOrEqual(3);
    for (const v of vectors.vectors) {
      expect(partnerPseudonym(covenantKey, v.bsn), v.bsn).toBe(v.partnerPseudonym);
      expect(toBase64Url(hubPseudonyms(ring, fromBase64Url(v.partnerPseudonym))[0]!.value), v.bsn).toBe(v.hubPseudonym);
    }
    for (const v of vectors.refused) {
      expect(() => partnerPseudonym(covenantKey, v.bsn)).toThrow(InvalidBsnError);
      try {
        partnerPseudonym(covenantKey, v.bsn);
      } catch (e) {
        expect((e as InvalidBsnError).reason, v.bsn).toBe(v.reason);
      }
    }
  });

  it('the JSON Schemas of the signed payloads are generated from the zod schemas and up to date (npm run kit:generate)', () => {
    for (const [path, content] of Object.entries(kitFiles())) {
      expect(readFileSync(join(KIT_DIR, path), 'utf8'), path).toBe(content);
    }
  });

  it('lists every problem type with its status', () => {
    const text = readFileSync(join(KIT_DIR, 'README.md'), 'utf8');
    for (const [type, { status }] of Object.entries(PROBLEMS)) expect(text, type).toMatch(new RegExp(`\\| \`${type}\` \\| ${status} \\|`));
  });
});

describe(`a Python client written from the kit (${dbKind})`, () => {
  let hub: TestHub;
  let python: string | undefined;
  beforeAll(async () => {
    for (const candidate of ['python3', '/usr/bin/python3']) {
      try {
        await run(candidate, ['-c', 'import cryptography']);
        python = candidate;
        break;
      } catch {
        // try the next
      }
    }
    hub = await startTestHub({ http: true });
  });
  afterAll(() => hub?.close());

  it('registers and looks up over real HTTP', async (ctx) => {
    if (!python) {
      console.warn('\n\n*** SKIPPED: no python3 with the cryptography package (Debian: apt-get install python3-cryptography) ***\n');
      ctx.skip();
      return;
    }
    // The hub's clock is the test clock; the Python client signs with the wall clock.
    hub.clock.set(new Date());
    const dir = mkdtempSync(join(tmpdir(), 'kenbaar-py-'));
    const scenario = {
      hub: { url: hub.url, id: hub.config.hubId },
      covenantKey: vectors.covenantKey,
      bsn: '123456782',
      vectors,
      holder: { id: 'verslavingszorg', sub: 'vz-py', role: 'partner-system', category: 'verslavingszorg-behandeling', jwk: (await partnerKey('verslavingszorg')).privateJwk },
      asker: { id: 'gemeente', sub: 'pr-py', role: 'procesregisseur', purpose: 'procesregie-casus-op-maat', jwk: (await partnerKey('gemeente')).privateJwk },
    };
    writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
    const { stdout } = await run(python, [new URL('./python/kenbaar_client.py', import.meta.url).pathname, join(dir, 'scenario.json')], { timeout: 30_000 });
    const out = JSON.parse(stdout) as { registered: { created: boolean }; lookup: { knownBy: { partner: string }[] } };
    expect(out.registered.created).toBe(true);
    expect(out.lookup.knownBy.map((k) => k.partner)).toContain('verslavingszorg');
  });

  it('the hub serves the kit at /docs/kit/ (Node edge), a fixed list of files only', async () => {
    const app = createApp(() => ({ config: hub.config, db: hub.database.db, clock: hub.clock }));
    serveKit(app);
    const readme = await app.request('/docs/kit/README.md');
    expect(readme.status).toBe(200);
    expect(await readme.text()).toContain('kenbaar:v1:bsn:');
    expect((await app.request('/docs/kit/schemas/disclosure-request.schema.json')).headers.get('content-type')).toBe('application/schema+json');
    expect((await app.request('/docs/kit/%2E%2E/%2E%2E/package.json')).status).toBe(404);
  });
});
