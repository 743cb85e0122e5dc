// The console's static files, read once at start: its own CSS and scripts (src/console/assets) and
// the vendored browser libraries from node_modules, so the console works offline (no CDN).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleAssets } from '../console/index';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const typeOf = (file: string) => TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';

/** Served name -> file in an installed package, relative to the package's resolved entry. */
const VENDORED: Record<string, { pkg: string; file: string }> = {
  'simplewebauthn-browser.js': { pkg: '@simplewebauthn/browser', file: '../dist/bundle/index.es5.umd.min.js' },
  // Chart.js's UMD build (window.Chart), for the overview's charts (charts.js draws them).
  'chart.umd.min.js': { pkg: 'chart.js', file: 'chart.umd.min.js' },
};

export function readConsoleAssets(): ConsoleAssets {
  const own = fileURLToPath(new URL('../console/assets/', import.meta.url));
  const assets = new Map<string, { type: string; body: string }>();
  for (const f of readdirSync(own)) assets.set(f, { type: typeOf(f), body: readFileSync(join(own, f), 'utf8') });
  const require = createRequire(import.meta.url);
  for (const [name, { pkg, file }] of Object.entries(VENDORED)) {
    const dir = dirname(require.resolve(pkg));
    assets.set(name, { type: typeOf(name), body: readFileSync(join(dir, file), 'utf8') });
  }
  return assets;
}
