// ReplyWriter.truncate: a command that throws halfway through its reply has the partial reply dropped, so the
// error that follows is the whole reply (server.ts call()); once part of it was taken for the socket, it refuses.

import { describe, expect, it } from 'vitest';
import { ReplyWriter } from '../../src/node/resp/writer';

describe('ReplyWriter.truncate', () => {
  it('drops what was written after the mark, across the scratch buffer and big direct chunks', () => {
    const w = new ReplyWriter();
    w.simple('OK');
    const mark = w.mark();
    w.array(3).bulk('a').bulk(Buffer.alloc(200_000, 1)).bulk('partial');
    expect(w.truncate(mark)).toBe(true);
    w.error('ERR boom');
    expect(w.take()!.toString('latin1')).toBe('+OK\r\n-ERR boom\r\n');
  });

  it('keeps the bytes before the mark when the mark falls inside a spilled chunk', () => {
    const w = new ReplyWriter();
    const big = 'x'.repeat(100_000);
    w.bulk(big);
    const mark = w.mark();
    for (let i = 0; i < 50; i++) w.bulk('y'.repeat(3000));
    expect(w.truncate(mark)).toBe(true);
    expect(w.take()!.toString('latin1')).toBe(`$100000\r\n${big}\r\n`);
  });

  it('refuses once part of the reply after the mark was taken', () => {
    const w = new ReplyWriter();
    const mark = w.mark();
    w.array(2).bulk('a');
    expect(w.take()!.toString('latin1')).toBe('*2\r\n$1\r\na\r\n');
    w.bulk('b');
    expect(w.truncate(mark)).toBe(false);
    const later = w.mark();
    w.bulk('c');
    expect(w.truncate(later)).toBe(true);
    expect(w.take()!.toString('latin1')).toBe('$1\r\nb\r\n');
  });
});
