#!/usr/bin/env node
// `npm run build`: compile the Node edge (server and CLI) to plain JavaScript in dist/node/, so that
// `kenbaar` and `kenbaar serve` run on Node alone, without tsx or any TypeScript tooling.
//
// esbuild, not tsc: the sources import each other without file extensions (moduleResolution
// "Bundler"), which Node's ESM loader cannot resolve in tsc's one-file-per-module output. esbuild
// bundles our code (dependencies stay external: they are loaded from node_modules as installed) and
// splits each lazily imported command into its own chunk, so `kenbaar token` still does not load
// the database driver. Type checking stays with `npm run typecheck`.
//
// Every file lands directly in dist/node/, at the same depth as src/node/: the `../../` paths in
// src/node (schema/migrations, policies/, keys/, the package root) resolve to the same places
// from the compiled files as from the sources. The console's own assets (src/console/assets) are
// copied to dist/console/assets, where `../console/assets/` from dist/node finds them.
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/node`;
const consoleAssetsDir = `${root}dist/console/assets`;

export async function buildNode({ quiet = false } = {}) {
  const started = performance.now();
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    // The audit verifier's worker thread is a module of its own, started by file (audit-hash-pool.ts).
    entryPoints: ['src/node/cli.ts', 'src/node/audit-hash-worker.ts'],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    packages: 'external',
    sourcemap: true,
    chunkNames: '[name]-[hash]',
    logLevel: quiet ? 'error' : 'warning',
  });
  rmSync(consoleAssetsDir, { recursive: true, force: true });
  cpSync(`${root}src/console/assets`, consoleAssetsDir, { recursive: true });
  // Built with what, and when: bin/kenbaar.js compares this file's time with the sources'.
  writeFileSync(`${outdir}/build.json`, `${JSON.stringify({ builtAt: new Date().toISOString(), node: process.version }, null, 2)}\n`);
  if (!quiet) console.log(`built dist/node/ in ${Math.round(performance.now() - started)} ms (run: node dist/node/cli.js, or bin/kenbaar.js)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildNode();
