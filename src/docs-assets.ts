// Where the API reference (/docs) loads its Swagger UI files from: the installed, exactly pinned
// swagger-ui-dist, served by the hub itself (Node: src/node/serve.ts; Worker: static assets copied
// by scripts/bundle-worker-config.ts), never from a CDN. The app's `docsAssetsBase`.
export const DOCS_ASSETS_BASE = '/docs/assets';

/** The Swagger UI files /docs needs, with their content types; served under `<base>/swagger-ui-dist/`. */
export const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};
