// A writable stream that keeps what is written to it: the stdout/stderr of an in-process CLI run.
import { Writable } from 'node:stream';

export function collector(): Writable & { text: string } {
  const out = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      out.text += chunk.toString();
      done();
    },
  }) as Writable & { text: string };
  out.text = '';
  return out;
}
