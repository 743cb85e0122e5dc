// Cloudflare Workers entry (wrangler.toml `main`). The covenant, partner keys and console assets are compiled in by
// `npm run worker:bundle` (scripts/bundle-worker-config.ts), which worker:dev and worker:build run
// first; the secrets and the database come from the bindings at run time (src/worker/env.ts).
import { consoleAssets, covenantFiles, partnerKeys } from './bundled.gen';
import { createWorker } from './worker';

export default createWorker({ covenantFiles, partnerKeys, consoleAssets });
