// The shape of src/worker/bundled.gen.ts, which scripts/bundle-worker-config.ts generates (it is
// git-ignored): lets the typecheck run before `npm run worker:bundle` has. When the generated file
// exists, TypeScript reads it instead of this one.
import type { JSONWebKeySet } from 'jose';

export declare const covenantFiles: Record<string, string>;
export declare const partnerKeys: Record<string, JSONWebKeySet>;
export declare const consoleAssets: Record<string, { type: string; body: string }>;
