// Node-only: read a covenant directory from disk. Everything else about covenants is in
// src/covenant and runs unchanged in workerd, where the files are bundled instead.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCovenant } from '../covenant/load';
import type { Covenant } from '../covenant/types';

/** `<repo>/policies/zvh-demo`, resolved from this file (src/node/ → ../../policies/zvh-demo). */
export const DEFAULT_COVENANT_DIR: string = fileURLToPath(new URL('../../policies/zvh-demo/', import.meta.url));

/**
 * All `*.yaml` / `*.yml` files directly in `dir` (not recursive), file name → text. Only the
 * file names are kept, so the covenant version does not depend on where the directory lives.
 */
export function readCovenantDir(dir: string): Record<string, string> {
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name))
    .map((e) => e.name)
    .sort();
  return Object.fromEntries(names.map((name) => [name, readFileSync(join(dir, name), 'utf8')]));
}

/** Read and load a covenant directory; throws CovenantError when it is invalid. */
export function loadCovenantDir(dir: string = DEFAULT_COVENANT_DIR): Covenant {
  return loadCovenant(readCovenantDir(dir));
}
