// Where the Node edge finds things by default (each can be overridden by an environment variable,
// read only in src/node/env.ts).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_PATHS = {
  covenantDir: join(ROOT, 'policies', 'zvh-demo'),
  keysDir: join(ROOT, 'keys'),
  localDir: join(ROOT, '.kenbaar'),
  privateDir: join(ROOT, '.kenbaar', 'private'),
  dataDir: join(ROOT, 'data'),
};
