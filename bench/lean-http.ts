// A lean HTTP/1.1 load generator for the lookup benchmarks: keep-alive sockets of its own, each
// request written as one string, each response read just far enough to know its status and body.
// node:http's client (HttpClient in ./support) spends 0.2–0.35 ms of CPU per request on the same two
// cores the hub and PostgreSQL share, against pgbench's ≈ 0.04 ms per transaction; that handicap
// belongs to the benchmark, not to the hub, so the service/pgbench ratio is measured with this one.
// Only what the hub answers is understood: a status line, headers with a Content-Length, a body.
// Anything else (chunked encoding, a closed socket mid-answer) fails the request loudly.
import net from 'node:net';
import type { Reply } from './support';

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)/i;
const CLOSES = /\r\nconnection:[ \t]*close/i;

type Pending = { resolve: (r: Reply) => void; reject: (e: Error) => void };

/** One keep-alive connection with at most one request in flight. */
class Connection {
  private readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  closed = false;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.read(chunk));
    const fail = (e: Error) => {
      this.closed = true;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('the hub closed the connection before it answered')));
  }

  send(request: string): Promise<Reply> {
    if (this.pending) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(request);
    });
  }

  private read(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const length = CONTENT_LENGTH.exec(head);
    const p = this.pending;
    if (!length) {
      this.pending = undefined;
      this.socket.destroy();
      p?.reject(new Error(`an answer without Content-Length: ${head.split('\r\n')[0]}`));
      return;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const end = bodyStart + Number(length[1]);
    if (this.buffered.length < end) return;
    const text = this.buffered.toString('utf8', bodyStart, end);
    this.buffered = this.buffered.subarray(end);
    this.pending = undefined;
    if (CLOSES.test(head)) {
      this.closed = true;
      this.socket.end();
    }
    p?.resolve({ status: Number(head.slice(9, 12)), text });
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }
}

/** The same `post` as HttpClient, over up to `sockets` keep-alive connections of its own. */
export class LeanHttpClient {
  private readonly port: number;
  private readonly host: string;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(baseUrl: string, private readonly sockets: number) {
    const u = new URL(baseUrl);
    if (u.hostname !== '127.0.0.1') throw new Error('benchmarks only talk to 127.0.0.1');
    this.port = Number(u.port);
    this.host = u.host;
  }

  async post(path: string, token: string, body: string, headers: Record<string, string> = {}): Promise<Reply> {
    let extra = '';
    for (const [k, v] of Object.entries(headers)) extra += `${k}: ${v}\r\n`;
    const request =
      `POST ${path} HTTP/1.1\r\nhost: ${this.host}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nauthorization: Bearer ${token}\r\n${extra}\r\n${body}`;
    const conn = this.take();
    try {
      return await conn.send(request);
    } finally {
      if (conn.closed) this.all.delete(conn);
      else this.idle.push(conn);
    }
  }

  private take(): Connection {
    let conn = this.idle.pop();
    while (conn?.closed) {
      this.all.delete(conn);
      conn = this.idle.pop();
    }
    if (conn) return conn;
    if (this.all.size >= this.sockets) throw new Error(`more than ${this.sockets} requests in flight`);
    conn = new Connection(this.port);
    this.all.add(conn);
    return conn;
  }

  close(): void {
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}
