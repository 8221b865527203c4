// List commands against a real server; expected replies are what Redis 7.0 answers.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { rawClient, type RawSend } from '../helpers/resp';
import { ListDeque } from '../../src/node/commands/t_list';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_INT = 'ERR value is not an integer or out of range';

describe('lists', () => {
  let srv: TestServer;
  let r: Redis;
  let raw2: RawSend;
  let raw3: RawSend;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
    raw2 = await rawClient(srv, 2);
    raw3 = await rawClient(srv, 3);
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  it('LPUSH/RPUSH return the new length and keep Redis order', async () => {
    expect(await r.lpush('l', 'a', 'b', 'c')).toBe(3);
    expect(await r.rpush('l', 'd', 'e')).toBe(5);
    expect(await r.lpush('l', 'z')).toBe(6);
    expect(await r.lrange('l', 0, -1)).toEqual(['z', 'c', 'b', 'a', 'd', 'e']);
    expect(await r.type('l')).toBe('list');
  });

  it('LPUSHX/RPUSHX push only onto an existing list', async () => {
    expect(await r.lpushx('l', 'a')).toBe(0);
    expect(await r.rpushx('l', 'a', 'b')).toBe(0);
    expect(await r.exists('l')).toBe(0);
    await r.rpush('l', 'm');
    expect(await r.lpushx('l', 'a', 'b')).toBe(3);
    expect(await r.rpushx('l', 'y', 'z')).toBe(5);
    expect(await r.lrange('l', 0, -1)).toEqual(['b', 'a', 'm', 'y', 'z']);
  });

  it('LPOP/RPOP without a count reply a bulk, or null when the key is missing', async () => {
    await r.rpush('l', 'a', 'b', 'c');
    expect(await r.lpop('l')).toBe('a');
    expect(await r.rpop('l')).toBe('c');
    expect(await r.lpop('l')).toBe('b');
    expect(await r.exists('l')).toBe(0);
    expect(await r.lpop('l')).toBeNull();
    expect(await r.rpop('l')).toBeNull();
    expect(await raw2('LPOP', 'nokey')).toBe('$-1\r\n');
    expect(await raw3('RPOP', 'nokey')).toBe('_\r\n');
  });

  it('LPOP/RPOP with a count reply an array, a null array for a missing key, [] for count 0', async () => {
    await r.rpush('l', 'a', 'b', 'c', 'd', 'e');
    expect(await r.lpop('l', 2)).toEqual(['a', 'b']);
    expect(await r.rpop('l', 2)).toEqual(['e', 'd']);
    expect(await r.lpop('l', 0)).toEqual([]);
    expect(await raw2('LPOP', 'l', '0')).toBe('*0\r\n');
    expect(await raw3('RPOP', 'l', '0')).toBe('*0\r\n');
    // a count beyond the length pops everything and removes the key
    expect(await r.rpop('l', 10)).toEqual(['c']);
    expect(await r.exists('l')).toBe(0);
    // missing key: *-1 in RESP2 (not $-1), _ in RESP3, even with count 0
    expect(await raw2('LPOP', 'l', '2')).toBe('*-1\r\n');
    expect(await raw2('RPOP', 'l', '0')).toBe('*-1\r\n');
    expect(await raw3('LPOP', 'l', '2')).toBe('_\r\n');
    expect(await raw3('RPOP', 'l', '0')).toBe('_\r\n');
    await r.rpush('l', 'x', 'y');
    expect(await raw2('RPOP', 'l', '5')).toBe('*2\r\n$1\r\ny\r\n$1\r\nx\r\n');
  });

  it('LPOP/RPOP errors', async () => {
    await r.rpush('l', 'a');
    await expect(r.lpop('l', -1)).rejects.toThrow('ERR value is out of range, must be positive');
    await expect(r.call('rpop', 'l', 'abc')).rejects.toThrow('ERR value is out of range, must be positive');
    await expect(r.call('lpop', 'l', '1', '2')).rejects.toThrow("ERR wrong number of arguments for 'lpop' command");
    await expect(r.call('rpop', 'l', '1', '2')).rejects.toThrow("ERR wrong number of arguments for 'rpop' command");
    await expect(r.call('lpop')).rejects.toThrow("ERR wrong number of arguments for 'lpop' command");
    expect(await r.lrange('l', 0, -1)).toEqual(['a']);
  });

  it('LRANGE normalises indexes as Redis does', async () => {
    await r.rpush('l', 'a', 'b', 'c', 'd', 'e');
    expect(await r.lrange('l', 0, 0)).toEqual(['a']);
    expect(await r.lrange('l', 1, 3)).toEqual(['b', 'c', 'd']);
    expect(await r.lrange('l', -2, -1)).toEqual(['d', 'e']);
    expect(await r.lrange('l', -100, 1)).toEqual(['a', 'b']);
    expect(await r.lrange('l', 3, 100)).toEqual(['d', 'e']);
    expect(await r.lrange('l', 3, 1)).toEqual([]);
    expect(await r.lrange('l', 5, 10)).toEqual([]);
    expect(await r.lrange('l', -1, -2)).toEqual([]);
    expect(await r.lrange('nokey', 0, -1)).toEqual([]);
    expect(await raw3('LRANGE', 'nokey', '0', '-1')).toBe('*0\r\n');
    await expect(r.lrange('l', 'a' as never, 1)).rejects.toThrow(NOT_INT);
    await expect(r.lrange('nokey', 0, 'b' as never)).rejects.toThrow(NOT_INT);
  });

  it('LLEN and LINDEX', async () => {
    expect(await r.llen('l')).toBe(0);
    await r.rpush('l', 'a', 'b', 'c');
    expect(await r.llen('l')).toBe(3);
    expect(await r.lindex('l', 0)).toBe('a');
    expect(await r.lindex('l', 2)).toBe('c');
    expect(await r.lindex('l', -1)).toBe('c');
    expect(await r.lindex('l', -3)).toBe('a');
    expect(await r.lindex('l', 3)).toBeNull();
    expect(await r.lindex('l', -4)).toBeNull();
    expect(await raw2('LINDEX', 'l', '9')).toBe('$-1\r\n');
    expect(await raw3('LINDEX', 'l', '9')).toBe('_\r\n');
    await expect(r.lindex('l', 'x' as never)).rejects.toThrow(NOT_INT);
    // as Redis, a missing key answers null before the index is parsed
    expect(await r.lindex('nokey', 'x' as never)).toBeNull();
  });

  it('LSET', async () => {
    await r.rpush('l', 'a', 'b', 'c');
    expect(await r.lset('l', 1, 'B')).toBe('OK');
    expect(await r.lset('l', -1, 'C')).toBe('OK');
    expect(await r.lrange('l', 0, -1)).toEqual(['a', 'B', 'C']);
    await expect(r.lset('l', 3, 'x')).rejects.toThrow(/^ERR index out of range$/);
    await expect(r.lset('l', -4, 'x')).rejects.toThrow(/^ERR index out of range$/);
    await expect(r.lset('l', 'x' as never, 'x')).rejects.toThrow(NOT_INT);
    await expect(r.lset('nokey', 0, 'x')).rejects.toThrow(/^ERR no such key$/);
    await expect(r.lset('nokey', 'x' as never, 'x')).rejects.toThrow(/^ERR no such key$/);
  });

  it('LREM by count from the head, the tail, or all; an emptied list is deleted', async () => {
    await r.rpush('l', 'a', 'x', 'b', 'x', 'c', 'x', 'd');
    expect(await r.lrem('l', 2, 'x')).toBe(2);
    expect(await r.lrange('l', 0, -1)).toEqual(['a', 'b', 'c', 'x', 'd']);
    await r.rpush('l', 'x', 'e', 'x');
    expect(await r.lrem('l', -2, 'x')).toBe(2);
    expect(await r.lrange('l', 0, -1)).toEqual(['a', 'b', 'c', 'x', 'd', 'e']);
    expect(await r.lrem('l', 0, 'x')).toBe(1);
    expect(await r.lrem('l', 0, 'nope')).toBe(0);
    expect(await r.lrange('l', 0, -1)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await r.lrem('nokey', 0, 'x')).toBe(0);
    await expect(r.lrem('l', 'x' as never, 'a')).rejects.toThrow(NOT_INT);
    await r.del('l');
    await r.rpush('l', 'q', 'q', 'q');
    expect(await r.lrem('l', 0, 'q')).toBe(3);
    expect(await r.exists('l')).toBe(0);
  });

  it('LTRIM keeps a range and deletes the key when nothing is left', async () => {
    await r.rpush('l', 'a', 'b', 'c', 'd', 'e');
    expect(await r.ltrim('l', 1, -2)).toBe('OK');
    expect(await r.lrange('l', 0, -1)).toEqual(['b', 'c', 'd']);
    expect(await r.ltrim('l', -2, 100)).toBe('OK');
    expect(await r.lrange('l', 0, -1)).toEqual(['c', 'd']);
    expect(await r.ltrim('l', 0, -1)).toBe('OK');
    expect(await r.lrange('l', 0, -1)).toEqual(['c', 'd']);
    expect(await r.ltrim('l', 1, 0)).toBe('OK');
    expect(await r.exists('l')).toBe(0);
    await r.rpush('l', 'a', 'b');
    expect(await r.ltrim('l', 5, 10)).toBe('OK');
    expect(await r.exists('l')).toBe(0);
    expect(await r.ltrim('nokey', 0, 1)).toBe('OK');
    await expect(r.ltrim('nokey', 'x' as never, 1)).rejects.toThrow(NOT_INT);
  });

  it('LINSERT', async () => {
    await r.rpush('l', 'a', 'c');
    expect(await r.linsert('l', 'BEFORE', 'c', 'b')).toBe(3);
    expect(await r.linsert('l', 'AFTER', 'c', 'd')).toBe(4);
    expect(await r.call('linsert', 'l', 'before', 'a', '0')).toBe(5);
    expect(await r.lrange('l', 0, -1)).toEqual(['0', 'a', 'b', 'c', 'd']);
    expect(await r.linsert('l', 'BEFORE', 'zz', 'x')).toBe(-1);
    expect(await r.linsert('nokey', 'BEFORE', 'a', 'x')).toBe(0);
    expect(await r.exists('nokey')).toBe(0);
    await expect(r.call('linsert', 'l', 'middle', 'a', 'x')).rejects.toThrow(/^ERR syntax error$/);
    await expect(r.call('linsert', 'nokey', 'middle', 'a', 'x')).rejects.toThrow(/^ERR syntax error$/);
  });

  it('LINSERT in the middle of a longer list', async () => {
    const items = Array.from({ length: 100 }, (_, i) => String(i));
    await r.rpush('l', ...items);
    expect(await r.linsert('l', 'AFTER', '10', 'x')).toBe(101);
    expect(await r.linsert('l', 'BEFORE', '80', 'y')).toBe(102);
    const expected = [...items];
    expected.splice(11, 0, 'x');
    expected.splice(expected.indexOf('80'), 0, 'y');
    expect(await r.lrange('l', 0, -1)).toEqual(expected);
  });

  it('LPOS with RANK, COUNT and MAXLEN', async () => {
    await r.rpush('l', 'a', 'b', 'c', 'a', 'b', 'a');
    expect(await r.lpos('l', 'a')).toBe(0);
    expect(await r.lpos('l', 'b')).toBe(1);
    expect(await r.lpos('l', 'zz')).toBeNull();
    expect(await r.call('lpos', 'l', 'a', 'RANK', '2')).toBe(3);
    expect(await r.call('lpos', 'l', 'a', 'RANK', '-1')).toBe(5);
    expect(await r.call('lpos', 'l', 'a', 'RANK', '-2')).toBe(3);
    expect(await r.call('lpos', 'l', 'a', 'RANK', '4')).toBeNull();
    expect(await r.call('lpos', 'l', 'a', 'COUNT', '0')).toEqual([0, 3, 5]);
    expect(await r.call('lpos', 'l', 'a', 'COUNT', '2')).toEqual([0, 3]);
    expect(await r.call('lpos', 'l', 'a', 'RANK', '-1', 'COUNT', '0')).toEqual([5, 3, 0]);
    expect(await r.call('lpos', 'l', 'a', 'COUNT', '0', 'MAXLEN', '4')).toEqual([0, 3]);
    expect(await r.call('lpos', 'l', 'zz', 'COUNT', '0')).toEqual([]);
    expect(await r.call('lpos', 'nokey', 'a', 'COUNT', '1')).toEqual([]);
    expect(await r.call('lpos', 'nokey', 'a')).toBeNull();
    expect(await raw2('LPOS', 'nokey', 'a')).toBe('$-1\r\n');
    expect(await raw2('LPOS', 'nokey', 'a', 'COUNT', '0')).toBe('*0\r\n');
    expect(await raw3('LPOS', 'l', 'zz')).toBe('_\r\n');
    await expect(r.call('lpos', 'l', 'a', 'RANK', '0')).rejects.toThrow(
      "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
    );
    await expect(r.call('lpos', 'l', 'a', 'RANK', 'x')).rejects.toThrow(NOT_INT);
    await expect(r.call('lpos', 'l', 'a', 'COUNT', '-1')).rejects.toThrow("ERR COUNT can't be negative");
    await expect(r.call('lpos', 'l', 'a', 'MAXLEN', '-1')).rejects.toThrow("ERR MAXLEN can't be negative");
    await expect(r.call('lpos', 'l', 'a', 'FOO')).rejects.toThrow(/^ERR syntax error$/);
    await expect(r.call('lpos', 'l', 'a', 'COUNT')).rejects.toThrow(/^ERR syntax error$/);
  });

  it('answers WRONGTYPE on a key of another type', async () => {
    await r.set('s', 'x');
    const calls: string[][] = [
      ['lpush', 's', 'a'],
      ['rpush', 's', 'a'],
      ['lpushx', 's', 'a'],
      ['rpushx', 's', 'a'],
      ['lpop', 's'],
      ['rpop', 's', '0'],
      ['lrange', 's', '0', '-1'],
      ['llen', 's'],
      ['lindex', 's', '0'],
      ['lset', 's', '0', 'a'],
      ['lrem', 's', '0', 'a'],
      ['ltrim', 's', '0', '1'],
      ['linsert', 's', 'before', 'a', 'b'],
      ['lpos', 's', 'a'],
    ];
    for (const [cmd, ...args] of calls) await expect(r.call(cmd, ...args), cmd).rejects.toThrow(WRONGTYPE);
    expect(await r.get('s')).toBe('x');
  });

  it('checks arity', async () => {
    for (const [cmd, ...args] of [['lpush', 'l'], ['rpushx', 'l'], ['lrange', 'l', '0'], ['llen'], ['lindex', 'l'], ['lset', 'l', '0'], ['lrem', 'l', '0'], ['ltrim', 'l'], ['linsert', 'l', 'before', 'a'], ['lpos', 'l']]) {
      await expect(r.call(cmd, ...args), cmd).rejects.toThrow(`ERR wrong number of arguments for '${cmd}' command`);
    }
  });

  it('is binary safe and keeps its own copy of pipelined arguments', async () => {
    const bin = Buffer.from([0, 1, 0xff, 0x0d, 0x0a, 0x80]);
    await r.rpush('b', bin, Buffer.alloc(0));
    expect(await r.lrangeBuffer('b', 0, -1)).toEqual([bin, Buffer.alloc(0)]);
    expect(await r.lindexBuffer('b', 0)).toEqual(bin);
    expect(await r.lpos('b', bin as never)).toBe(0);
    const p = r.pipeline();
    for (let i = 0; i < 2000; i++) p.rpush('p', `value-${i}-${'x'.repeat(i % 50)}`);
    await p.exec();
    const got = await r.lrange('p', 0, -1);
    expect(got).toHaveLength(2000);
    got.forEach((v, i) => expect(v).toBe(`value-${i}-${'x'.repeat(i % 50)}`));
  });

  it('handles a big list: O(1) pushes at the head, indexing at both ends', async () => {
    const n = 200_000;
    const args = Array.from({ length: n }, (_, i) => String(i));
    const t0 = Date.now();
    // one command with 200k elements: ioredis flattens an array argument (its typings do not say so)
    expect(await r.lpush('big', args as unknown as string)).toBe(n);
    const p = r.pipeline();
    for (let i = 0; i < 20_000; i++) p.lpush('big', 'h');
    await p.exec();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await r.llen('big')).toBe(n + 20_000);
    expect(await r.lindex('big', 0)).toBe('h');
    expect(await r.lindex('big', 20_000)).toBe(String(n - 1));
    expect(await r.lindex('big', -1)).toBe('0');
    expect(await r.lrange('big', -3, -1)).toEqual(['2', '1', '0']);
    expect(await r.rpop('big', 3)).toEqual(['0', '1', '2']);
    expect(await r.ltrim('big', 20_000, 20_001)).toBe('OK');
    expect(await r.lrange('big', 0, -1)).toEqual([String(n - 1), String(n - 2)]);
  });

  it('a pushed list keeps a TTL; WATCH sees changes but not no-op LREM', async () => {
    await r.rpush('l', 'a');
    await r.expire('l', 100);
    await r.lpush('l', 'b');
    expect(await r.ttl('l')).toBeGreaterThan(90);

    const w = srv.client();
    await w.watch('l');
    await r.lrem('l', 0, 'nope');
    expect(await w.multi().ping().exec()).toEqual([[null, 'PONG']]);
    await w.watch('l');
    await r.rpush('l', 'c');
    expect(await w.multi().ping().exec()).toBeNull();
    await w.watch('l');
    await r.lset('l', 0, 'x');
    expect(await w.multi().ping().exec()).toBeNull();
  });
});

describe('ListDeque', () => {
  const b = (s: string) => Buffer.from(s);
  const strs = (d: ListDeque) => d.toArray().map((x) => x.toString());

  it('matches an array model under random operations', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const d = new ListDeque();
    const model: string[] = [];
    for (let step = 0; step < 20_000; step++) {
      const op = rnd(10);
      const v = String(step);
      if (op < 3) {
        d.pushFront(b(v));
        model.unshift(v);
      } else if (op < 6) {
        d.pushBack(b(v));
        model.push(v);
      } else if (op === 6) {
        expect(d.popFront()?.toString()).toBe(model.shift());
      } else if (op === 7) {
        expect(d.popBack()?.toString()).toBe(model.pop());
      } else if (op === 8) {
        const i = rnd(model.length + 1);
        d.insert(i, b(v));
        model.splice(i, 0, v);
      } else if (model.length > 0) {
        const front = rnd(Math.min(model.length, 5) + 1);
        const back = rnd(Math.min(model.length - front, 5) + 1);
        d.trim(front, back);
        model.splice(0, front);
        model.splice(model.length - back, back);
      }
      expect(d.length).toBe(model.length);
      if (model.length > 0) {
        expect(d.at(0).toString()).toBe(model[0]);
        expect(d.at(model.length - 1).toString()).toBe(model[model.length - 1]);
      }
    }
    expect(strs(d)).toEqual(model);
    expect([...d].map((x) => x.toString())).toEqual(model);
  });

  it('grows and shrinks across many elements', () => {
    const d = ListDeque.from([b('a'), b('b')]);
    for (let i = 0; i < 1000; i++) d.pushFront(b(String(i)));
    for (let i = 0; i < 1000; i++) expect(d.popFront()!.toString()).toBe(String(999 - i));
    expect(strs(d)).toEqual(['a', 'b']);
    d.reset([b('x')]);
    expect(strs(d)).toEqual(['x']);
    d.trim(1, 0);
    expect(d.length).toBe(0);
    expect(d.popBack()).toBeUndefined();
    expect(d.popFront()).toBeUndefined();
  });

  it('pushes at the head in O(1)', () => {
    const d = new ListDeque();
    const v = b('v');
    const t0 = Date.now();
    for (let i = 0; i < 1_000_000; i++) d.pushFront(v);
    // an Array.unshift-based list takes minutes for this
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(d.length).toBe(1_000_000);
  });
});
