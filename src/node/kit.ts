// Node edge: the integration kit (docs/kit/) served at /docs/kit/, from a fixed list of files.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { App } from '../app';

export const KIT_DIR = fileURLToPath(new URL('../../docs/kit/', import.meta.url));

const KIT_FILES: Record<string, string> = {
  'README.md': 'text/markdown; charset=utf-8',
  'test-vectors.json': 'application/json',
  'schemas/disclosure-request.schema.json': 'application/schema+json',
  'schemas/disclosure-decision.schema.json': 'application/schema+json',
};

export function serveKit(app: App) {
  app.get('/docs/kit', (c) => c.redirect('/docs/kit/README.md'));
  app.get('/docs/kit/*', async (c) => {
    const file = c.req.path.slice('/docs/kit/'.length);
    const type = KIT_FILES[file];
    if (!type) return c.notFound();
    return c.body(await readFile(KIT_DIR + file), 200, { 'content-type': type, 'cache-control': 'public, max-age=3600' });
  });
}
