// What Node's own HTTP parser refuses, before a request reaches the app: headers over 16 KiB (431),
// bytes that are not HTTP/1.1 (a NUL, a malformed request line: 400), chunk extensions over 16 KiB
// (413), a request that does not arrive in time (408). Each is answered as problem+json with a
// stable type and `Connection: close`, the connection is closed, and the attempt is logged as
// `http.client-error` with Node's code only, never the bytes that were sent. Over a real socket to
// the Node server (src/node/serve.ts), in-process, on an ephemeral port.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogFields } from '../src/log';
import { startServer, type Running } from '../src/node/serve';
import type { Database } from '../src/node/database';
import { dbKind, testDatabase, testHubConfig } from './support/hub';

type Raw = { status: number; headers: Record<string, string>; body: string; closed: boolean };
type Line = { level: string; event: string } & LogFields;

/** Something personal-looking that the sender put in the refused bytes: it must reach no log line. */
const MARKER = 'bsn-999990019-jansen';

describe(`Node's own client errors are problem+json (${dbKind})`, () => {
  let database: Database;
  let running: Running;
  /** The same hub with short HTTP timeouts, so a 408 takes a second and not Node's 60 s. */
  let impatient: Running;
  const logs: Line[] = [];

  beforeAll(async () => {
    database = await testDatabase();
    const config = await testHubConfig();
    const opts = { host: '127.0.0.1', port: 0, background: false, log: (level: string, event: string, fields?: LogFields) => logs.push({ level, event, ...fields }) } as const;
    running = await startServer(database, config, opts);
    impatient = await startServer(database, config, { ...opts, httpTimeouts: { headersMs: 1_000, requestMs: 2_000, checkEveryMs: 200 } });
  });
  afterAll(async () => {
    await running?.stop();
    await impatient?.stop();
    await database?.close();
  });

  /** Writes raw bytes on a fresh connection and reads until the server closes it (or 10 s pass). */
  function exchange(bytes: string | Buffer, to: Running = running): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const url = new URL(to.url);
      const socket = connect(Number(url.port), url.hostname);
      const chunks: Buffer[] = [];
      let closed = false;
      const timer = setTimeout(() => socket.destroy(), 10_000);
      socket.on('data', (c) => chunks.push(c));
      socket.on('end', () => (closed = true));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('latin1');
        const at = text.indexOf('\r\n\r\n');
        if (at < 0) return reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        const [statusLine, ...fields] = text.slice(0, at).split('\r\n');
        const headers = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf(':')).toLowerCase(), f.slice(f.indexOf(':') + 1).trim()]));
        resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(at + 4), closed });
      });
      socket.write(bytes);
    });
  }

  /** The answer is the problem `type` with its status, as problem+json, and the connection is closed. */
  function expectProblem(res: Raw, status: number, type: string) {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(res.headers.connection).toBe('close');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    expect(JSON.parse(res.body)).toEqual({ type, title: expect.any(String), status });
    expect(res.closed).toBe(true);
  }

  function expectLogged(code: string | RegExp, status: number) {
    const line = logs.findLast((l) => l.event === 'http.client-error');
    expect(line).toEqual({ level: 'info', event: 'http.client-error', code: expect.stringMatching(code), status });
  }

  it('headers over 16 KiB: 431 /problems/request-header-too-large', async () => {
    const res = await exchange(`GET /livez HTTP/1.1\r\nHost: hub\r\nX-Case: ${MARKER}${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expectProblem(res, 431, '/problems/request-header-too-large');
    expectLogged('HPE_HEADER_OVERFLOW', 431);
  });

  it('a NUL in the request line: 400 /problems/malformed-request', async () => {
    const res = await exchange(`GET /v1/registrations/${MARKER}\0 HTTP/1.1\r\nHost: hub\r\n\r\n`);
    expectProblem(res, 400, '/problems/malformed-request');
    expectLogged(/^HPE_/, 400);
  });

  it('a NUL in a header value: 400 /problems/malformed-request', async () => {
    const res = await exchange(`GET /livez HTTP/1.1\r\nHost: hub\r\nX-Case: ${MARKER}\0\r\n\r\n`);
    expectProblem(res, 400, '/problems/malformed-request');
    expectLogged(/^HPE_/, 400);
  });

  it('a request line that is not HTTP: 400 /problems/malformed-request', async () => {
    const res = await exchange(`${MARKER} please\r\n\r\n`);
    expectProblem(res, 400, '/problems/malformed-request');
    expectLogged(/^HPE_/, 400);
  });

  it('chunk extensions over 16 KiB: 413 /problems/payload-too-large', async () => {
    const res = await exchange(
      'POST /v1/lookups HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `2;${MARKER}=${'x'.repeat(17 * 1024)}\r\n{}\r\n0\r\n\r\n`,
    );
    expectProblem(res, 413, '/problems/payload-too-large');
    expectLogged('HPE_CHUNK_EXTENSIONS_OVERFLOW', 413);
  });

  it('headers that do not arrive in time: 408 /problems/request-timeout', async () => {
    const res = await exchange(`GET /livez HTTP/1.1\r\nHost: hub\r\nX-Case: ${MARKER}\r\n`, impatient);
    expectProblem(res, 408, '/problems/request-timeout');
    expectLogged('ERR_HTTP_REQUEST_TIMEOUT', 408);
  });

  it('each refusal type is described at /problems/<type>, and a well-formed request is answered as before', async () => {
    for (const type of ['malformed-request', 'request-header-too-large', 'request-timeout']) {
      const res = await fetch(`${running.url}/problems/${type}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ type: `/problems/${type}` });
    }
    const live = await fetch(`${running.url}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
  });

  it('the log holds codes only: nothing the sender wrote', () => {
    expect(logs.filter((l) => l.event === 'http.client-error')).toHaveLength(6);
    for (const line of logs) expect(JSON.stringify(line)).not.toContain(MARKER);
    for (const line of logs.filter((l) => l.event === 'http.client-error')) {
      expect(Object.keys(line).sort()).toEqual(['code', 'event', 'level', 'status']);
      expect(line.code).toMatch(/^[A-Z0-9_]+$/);
    }
  });
});
