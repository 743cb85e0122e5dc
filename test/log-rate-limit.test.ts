// Events a stranger can cause at will (Node's client errors: malformed requests on a socket) go to
// the server log through rateLimitedLog: a flood of them is a few lines and a count, not a flood.
import { describe, expect, it } from 'vitest';
import { rateLimitedLog, type LogFields } from '../src/log';

function capture() {
  const lines: { event: string; fields: LogFields }[] = [];
  let t = 0;
  const log = rateLimitedLog((_level, event, fields = {}) => lines.push({ event, fields }), 3, 1_000, () => t);
  return { lines, log, at: (ms: number) => (t = ms) };
}

describe('a rate-limited server log', () => {
  it('lets through at most max lines of an event per window and drops the rest', () => {
    const { lines, log } = capture();
    for (let i = 0; i < 100; i++) log('info', 'http.client-error', { code: 'HPE_INVALID_METHOD', status: 400 });
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.fields.suppressed === undefined)).toBe(true);
  });

  it('the first line of the next window says how many were dropped, once', () => {
    const { lines, log, at } = capture();
    for (let i = 0; i < 10; i++) log('info', 'http.client-error', { code: 'X' });
    at(999);
    log('info', 'http.client-error', { code: 'X' });
    expect(lines).toHaveLength(3);
    at(1_000);
    log('info', 'http.client-error', { code: 'X' });
    log('info', 'http.client-error', { code: 'X' });
    expect(lines.slice(3).map((l) => l.fields)).toEqual([{ code: 'X', suppressed: 8 }, { code: 'X' }]);
  });

  it('counts each event on its own: one flooding event does not silence another', () => {
    const { lines, log } = capture();
    for (let i = 0; i < 10; i++) log('info', 'http.client-error', {});
    log('warn', 'witness.failed', {});
    expect(lines.map((l) => l.event)).toEqual(['http.client-error', 'http.client-error', 'http.client-error', 'witness.failed']);
  });
});
