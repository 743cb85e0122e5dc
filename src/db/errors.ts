// What a database failure means for the caller, decided in one place for every driver (node-postgres,
// PGlite) and every caller (routes through app.ts onError, the unit of work's retry, /health, the
// background jobs). Only codes are read, never messages, except for node-postgres' own client-side
// failures, which carry no code.

/**
 * `unavailable`: the database is away, overloaded or too slow (answer 503, try again later).
 * `retry`: a serialisation failure or deadlock; running the same transaction again may succeed.
 */
export type DbFailure = { kind: 'unavailable' | 'retry'; code: string };

const RETRY = new Set(['40001', '40P01']);

/** SQLSTATEs of an unreachable, shutting down, overloaded or timed-out server. */
function unavailableSqlState(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources: 53300 too many connections, disk full, out of memory
    code.startsWith('58') || // system error (I/O)
    code.startsWith('57P') || // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 57P04/05
    code === '57014' || // statement timeout (query canceled)
    code === '25P03' || // idle-in-transaction timeout
    code === '55P03' || // lock not available (lock timeout)
    code === '28000' || // the server refuses our login: for callers the database is away
    code === '28P01'
  );
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** node-postgres' client-side failures (no code of their own): message -> our code. */
const CLIENT_FAILURES: [RegExp, string][] = [
  [/^Connection terminated due to connection timeout/, 'connect-timeout'],
  [/^timeout exceeded when trying to connect/, 'connect-timeout'],
  [/^Connection terminated/, 'connection-terminated'],
  [/^Query read timeout/, 'query-timeout'],
  [/is not queryable/, 'connection-broken'],
  [/^Cannot use a pool after calling end on the pool/, 'pool-ended'],
];

/** The error and its causes (drizzle wraps a driver error as `cause`; Node wraps connect errors in AggregateError). */
function* chain(err: unknown): Generator<unknown> {
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    yield e;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) yield errors[0];
    e = (e as { cause?: unknown }).cause;
  }
}

function ownCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  if (e instanceof Error) for (const [pattern, ours] of CLIENT_FAILURES) if (pattern.test(e.message)) return ours;
  return undefined;
}

/** A code safe for the server log: SQLSTATE, socket code, our code for a client failure, or the error class. */
export function errorCode(err: unknown): string {
  for (const e of chain(err)) {
    const code = ownCode(e);
    if (code) return code;
  }
  return err instanceof Error ? err.name : typeof err;
}

/** What this error means, or undefined for anything else (a bug, a constraint we did not expect). */
export function classifyDbError(err: unknown): DbFailure | undefined {
  for (const e of chain(err)) {
    const code = ownCode(e);
    if (!code) continue;
    if (RETRY.has(code)) return { kind: 'retry', code };
    if (SOCKET_CODES.has(code) || unavailableSqlState(code) || CLIENT_FAILURES.some(([, ours]) => ours === code)) return { kind: 'unavailable', code };
  }
  return undefined;
}

/** An error raised by (or wrapping one from) the database: its message and stack may quote row values. */
export function isDatabaseError(err: unknown): boolean {
  for (const e of chain(err)) {
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return true;
    if (e instanceof Error && (e.name === 'DrizzleQueryError' || /^Failed query:/.test(e.message))) return true;
  }
  return false;
}
