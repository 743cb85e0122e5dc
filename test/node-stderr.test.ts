// The server log on Node goes to stderr in batches (src/node/stderr.ts): every line arrives, in
// order, whole, one write per event-loop turn, and nothing is held back once the hub stops.
import { describe, expect, it } from 'vitest';
import { batchedStderr } from '../src/node/stderr';

const turn = () => new Promise((r) => setImmediate(r));

describe('the batched server log', () => {
  it('writes the lines of one turn in one write after the turn, in order', async () => {
    const writes: string[] = [];
    const sink = batchedStderr({ write: (c) => writes.push(c) });
    sink.write('{"event":"a"}');
    sink.write('{"event":"b"}');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['{"event":"a"}\n{"event":"b"}\n']);
    sink.write('{"event":"c"}');
    await turn();
    expect(writes).toEqual(['{"event":"a"}\n{"event":"b"}\n', '{"event":"c"}\n']);
    sink.close();
  });

  it('does not hold many lines back for the turn to end', () => {
    const writes: string[] = [];
    const sink = batchedStderr({ write: (c) => writes.push(c) });
    for (let i = 0; i < 256; i++) sink.write(`{"n":${i}}`);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.split('\n')).toHaveLength(257);
    sink.close();
  });

  it('flushes on close, and writes at once after it', () => {
    const writes: string[] = [];
    const sink = batchedStderr({ write: (c) => writes.push(c) });
    sink.write('{"event":"last request"}');
    sink.close();
    expect(writes).toEqual(['{"event":"last request"}\n']);
    sink.write('{"event":"after stop"}');
    expect(writes).toEqual(['{"event":"last request"}\n', '{"event":"after stop"}\n']);
  });
});
