// The framework floor the lookup is measured against: a bare app that verifies an ES256 partner token
// with jose, parses the JSON body and answers a fixed JSON result, no database. `--adapter hono`
// (default): a Hono app on @hono/node-server's serve(); `--adapter hono-read`: the same with the body
// read before the adapter, as the hub does (src/node/serve.ts withBodyRead); `--adapter http`: the same handler on plain
// node:http, so the difference is what the adapter costs. Protocol as bench/server.ts: one JSON line
// with the URL, stops when stdin closes. Keys: KENBAAR_KEYS_DIR (the bench's partner keys).
import { createServer, type IncomingMessage } from 'node:http';
import { getRequestListener, serve } from '@hono/node-server';
import { withBodyRead } from '../src/node/serve';
import { Hono } from 'hono';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parseArgs } from 'node:util';
import { readPartnerKeys } from '../src/node/keys';

const { values: args } = parseArgs({ options: { adapter: { type: 'string', default: 'hono' } } });
const keys = readPartnerKeys(process.env.KENBAAR_KEYS_DIR!);
const sets = new Map([...keys].map(([p, jwks]) => [p, createLocalJWKSet({ keys: jwks.keys.filter((k) => k.use !== 'enc') })]));
const audience = process.env.KENBAAR_HUB_ID!;

async function handle(authorization: string | undefined, body: string): Promise<{ status: number; json: unknown }> {
  const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
  if (!token) return { status: 401, json: { error: 'no token' } };
  const iss = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss as string;
  await jwtVerify(token, sets.get(iss)!, { algorithms: ['ES256', 'EdDSA'], audience, issuer: iss });
  const input = JSON.parse(body) as { subject: string };
  return { status: 200, json: { lookupId: crypto.randomUUID(), knownBy: [], decision: { policyVersion: 'floor', rules: [input.subject.slice(0, 0) || 'floor'] } } };
}

const ready = (port: number) => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, db: 'none' })}\n`);
if (args.adapter === 'http') {
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  const server = createServer(async (req, res) => {
    const out = await handle(req.headers.authorization, await read(req)).catch(() => ({ status: 401, json: { error: 'bad token' } }));
    const text = JSON.stringify(out.json);
    res.writeHead(out.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
} else {
  const app = new Hono();
  app.post('/v1/lookups', async (c) => {
    const out = await handle(c.req.header('authorization'), await c.req.text()).catch(() => ({ status: 401, json: { error: 'bad token' } }));
    return c.json(out.json as object, out.status as 200);
  });
  if (args.adapter === 'hono-read') {
    // As the hub serves (src/node/serve.ts): the body read into a Buffer before the adapter.
    const server = createServer(withBodyRead(getRequestListener(app.fetch), 8 * 1024 * 1024));
    server.listen(0, '127.0.0.1', () => ready((server.address() as { port: number }).port));
  } else {
    serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => ready(info.port));
  }
}
process.stdin.resume();
process.stdin.on('close', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0)); // an orderly exit, so that --cpu-prof writes its profile
process.stdin.on('data', (d) => {
  if (d.toString().includes('stats')) process.stdout.write(`${JSON.stringify({ eventLoopDelayMs: { p50: 0, p99: 0, max: 0, mean: 0 } })}\n`);
});
