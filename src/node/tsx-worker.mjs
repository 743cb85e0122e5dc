// Starts a worker thread from the TypeScript sources (tests, bin/kenbaar.js in a checkout without a
// fresh build): tsx is registered in the thread before its module is imported, as bin/kenbaar.js
// does for the main thread. The production build starts its compiled worker directly.
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register({ tsconfig: fileURLToPath(new URL('../../tsconfig.json', import.meta.url)) });
await import(workerData.entry);
