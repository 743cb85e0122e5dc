#!/usr/bin/env node
// Launcher for the `kenbaar` command: runs the TypeScript CLI (src/node/cli.ts) through tsx, from
// any working directory (everything is resolved relative to this file, not the cwd).
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../src/node/cli.ts');
process.exitCode = await main(process.argv);
