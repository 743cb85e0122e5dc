#!/usr/bin/env node
// The `kenbaar` command: a thin launcher. It runs the compiled CLI (dist/node/cli.js, made by
// `npm run build`) on plain Node. In a development checkout whose sources are newer than that
// build, or that has no build, it runs the TypeScript sources through tsx instead (a dev
// dependency), so a developer never runs stale code; without either it says what to do.
// Everything is resolved relative to this file, not the working directory.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const at = (path) => fileURLToPath(new URL(path, import.meta.url));
const compiled = at('../dist/node/cli.js');
const sources = at('../src/');

/** The newest modification time under dir (the sources: ~100 files, a millisecond or two). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, statSync(`${e.parentPath ?? e.path}/${e.name}`).mtimeMs);
  }
  return t;
}

const built = existsSync(compiled) ? statSync(at('../dist/node/build.json'), { throwIfNoEntry: false })?.mtimeMs ?? 0 : -1;
const stale = built >= 0 && existsSync(sources) && newest(sources) > built;

async function load() {
  if (built >= 0 && !stale) return import(compiled);
  try {
    const { register } = await import('tsx/esm/api');
    register({ tsconfig: at('../tsconfig.json') });
    return await import('../src/node/cli.ts');
  } catch (e) {
    if (built >= 0 && e?.code === 'ERR_MODULE_NOT_FOUND') return import(compiled); // no tsx: the build is all there is
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    process.stderr.write('kenbaar: no compiled CLI in dist/ and no tsx to run the sources: run `npm run build` (or `npm ci` for development)\n');
    process.exit(78);
  }
}

// `kenbaar … | head`: a closed pipe ends the output, it is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
