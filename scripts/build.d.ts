/** Compile the Node edge (server and CLI) into dist/node/ with esbuild. */
export function buildNode(opts?: { quiet?: boolean }): Promise<void>;
