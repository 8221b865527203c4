// Hash commands against a real server; expected replies are what Redis 7.0 answers.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { rawClient, type RawSend } from '../helpers/resp';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_INT = 'ERR value is not an integer or out of range';

describe('hashes', () => {
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

  it('HSET sets several pairs and counts only new fields; HGET, HMGET', async () => {
    expect(await r.hset('h', 'a', '1', 'b', '2')).toBe(2);
    expect(await r.hset('h', 'a', '10', 'c', '3')).toBe(1);
    expect(await r.hset('h', 'a', '11')).toBe(0);
    expect(await r.type('h')).toBe('hash');
    expect(await r.hget('h', 'a')).toBe('11');
    expect(await r.hget('h', 'zz')).toBeNull();
    expect(await r.hget('nokey', 'a')).toBeNull();
    expect(await raw2('HGET', 'h', 'zz')).toBe('$-1\r\n');
    expect(await raw3('HGET', 'h', 'zz')).toBe('_\r\n');
    expect(await r.hmget('h', 'a', 'zz', 'c')).toEqual(['11', null, '3']);
    expect(await r.hmget('nokey', 'a', 'b')).toEqual([null, null]);
    expect(await raw2('HMGET', 'nokey', 'a', 'b')).toBe('*2\r\n$-1\r\n$-1\r\n');
  });

  it('HSET and HMSET with an odd number of arguments are arity errors', async () => {
    await expect(r.call('hset', 'h', 'a', '1', 'b')).rejects.toThrow(/^ERR wrong number of arguments for 'hset' command$/);
    await expect(r.call('hset', 'h', 'a')).rejects.toThrow(/^ERR wrong number of arguments for 'hset' command$/);
    await expect(r.call('hmset', 'h', 'a', '1', 'b')).rejects.toThrow(/^ERR wrong number of arguments for 'hmset' command$/);
    expect(await r.exists('h')).toBe(0);
    expect(await r.call('hmset', 'h', 'a', '1', 'b', '2')).toBe('OK');
    expect(await r.hgetall('h')).toEqual({ a: '1', b: '2' });
  });

  it('HSETNX', async () => {
    expect(await r.hsetnx('h', 'a', '1')).toBe(1);
    expect(await r.hsetnx('h', 'a', '2')).toBe(0);
    expect(await r.hsetnx('h', 'b', '3')).toBe(1);
    expect(await r.hgetall('h')).toEqual({ a: '1', b: '3' });
  });

  it('HGETALL is a map in RESP3 and a flat array in RESP2', async () => {
    await r.hset('h', 'f1', 'v1', 'f2', 'v2');
    expect(await r.hgetall('h')).toEqual({ f1: 'v1', f2: 'v2' });
    expect(await raw3('HGETALL', 'h')).toBe('%2\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n');
    expect(await raw2('HGETALL', 'h')).toBe('*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n');
    expect(await raw3('HGETALL', 'nokey')).toBe('%0\r\n');
    expect(await raw2('HGETALL', 'nokey')).toBe('*0\r\n');
    expect(await r.hgetall('nokey')).toEqual({});
  });

  it('HKEYS, HVALS, HLEN, HEXISTS, HSTRLEN', async () => {
    await r.hset('h', 'a', 'x', 'bb', 'hello', 'c', '');
    expect((await r.hkeys('h')).sort()).toEqual(['a', 'bb', 'c']);
    expect((await r.hvals('h')).sort()).toEqual(['', 'hello', 'x']);
    expect(await raw3('HKEYS', 'nokey')).toBe('*0\r\n');
    expect(await raw3('HVALS', 'nokey')).toBe('*0\r\n');
    expect(await r.hlen('h')).toBe(3);
    expect(await r.hlen('nokey')).toBe(0);
    expect(await r.hexists('h', 'a')).toBe(1);
    expect(await r.hexists('h', 'zz')).toBe(0);
    expect(await r.hexists('nokey', 'a')).toBe(0);
    expect(await r.hstrlen('h', 'bb')).toBe(5);
    expect(await r.hstrlen('h', 'c')).toBe(0);
    expect(await r.hstrlen('h', 'zz')).toBe(0);
    expect(await r.hstrlen('nokey', 'a')).toBe(0);
  });

  it('HDEL counts deleted fields and deletes an emptied hash', async () => {
    await r.hset('h', 'a', '1', 'b', '2', 'c', '3');
    expect(await r.hdel('h', 'a', 'zz')).toBe(1);
    expect(await r.hdel('h', 'zz')).toBe(0);
    expect(await r.hdel('nokey', 'a')).toBe(0);
    expect(await r.hdel('h', 'b', 'c', 'b')).toBe(2);
    expect(await r.exists('h')).toBe(0);
    expect(await r.hlen('h')).toBe(0);
  });

  it('HINCRBY', async () => {
    expect(await r.hincrby('h', 'n', 5)).toBe(5);
    expect(await r.hincrby('h', 'n', -7)).toBe(-2);
    await r.hset('h', 'big', '9223372036854775806');
    expect(await raw2('HINCRBY', 'h', 'big', '1')).toBe(':9223372036854775807\r\n');
    expect(await raw2('HINCRBY', 'h', 'n', '0')).toBe(':-2\r\n');
    await expect(r.hincrby('h', 'big', 1)).rejects.toThrow(/^ERR increment or decrement would overflow$/);
    await r.hset('h', 'min', '-9223372036854775808');
    await expect(r.hincrby('h', 'min', -1)).rejects.toThrow(/^ERR increment or decrement would overflow$/);
    await r.hset('h', 's', 'hello', 'sp', ' 1', 'f', '1.5');
    for (const f of ['s', 'sp', 'f']) await expect(r.hincrby('h', f, 1)).rejects.toThrow(/^ERR hash value is not an integer$/);
    await expect(r.hincrby('h', 'n', 'x' as never)).rejects.toThrow(NOT_INT);
    await expect(r.hincrby('h', 'n', '1.5' as never)).rejects.toThrow(NOT_INT);
    await expect(r.hincrby('nokey', 'n', 'x' as never)).rejects.toThrow(NOT_INT);
    expect(await r.exists('nokey')).toBe(0);
  });

  it('HINCRBYFLOAT', async () => {
    expect(await r.hincrbyfloat('h', 'f', '10.5')).toBe('10.5');
    expect(await r.hincrbyfloat('h', 'f', '0.1')).toBe('10.6');
    expect(await r.hincrbyfloat('h', 'f', '-5')).toBe('5.6');
    expect(await r.hincrbyfloat('h', 'g', '5.0e3')).toBe('5000');
    expect(await r.hincrbyfloat('h', 'g', '200')).toBe('5200');
    expect(await r.hincrbyfloat('h', 'd', '-3')).toBe('-3');
    expect(await r.hincrbyfloat('h', 'd', '1.25')).toBe('-1.75');
    expect(await r.hincrbyfloat('h', 'e', '1e21')).toBe('1000000000000000000000');
    expect(await r.hincrbyfloat('h', 'small', '1.5e-7')).toBe('0.00000015');
    await r.hset('h', 'i', '7');
    expect(await r.hincrbyfloat('h', 'i', '0.5')).toBe('7.5');
    expect(await r.hget('h', 'i')).toBe('7.5');
    await r.hset('h', 's', 'hello', 'sp', ' 1', 'ws', '1 ');
    for (const f of ['s', 'sp', 'ws']) await expect(r.hincrbyfloat('h', f, '1')).rejects.toThrow(/^ERR hash value is not a float$/);
    await expect(r.hincrbyfloat('h', 'f', 'abc')).rejects.toThrow(/^ERR value is not a valid float$/);
    await expect(r.hincrbyfloat('h', 'f', 'nan')).rejects.toThrow(/^ERR value is not a valid float$/);
    await expect(r.hincrbyfloat('h', 'f', 'inf')).rejects.toThrow(/^ERR value is NaN or Infinity$/);
    await expect(r.hincrbyfloat('h', 'f', '-inf')).rejects.toThrow(/^ERR value is NaN or Infinity$/);
    await r.hset('h', 'inf', 'inf');
    await expect(r.hincrbyfloat('h', 'inf', '1')).rejects.toThrow(/^ERR increment would produce NaN or Infinity$/);
    expect(await r.hget('h', 'inf')).toBe('inf');
  });

  it('HINCRBYFLOAT computes in long double as Redis does', async () => {
    expect(await r.hincrbyfloat('h', 'f', '0.1')).toBe('0.1');
    expect(await r.hincrbyfloat('h', 'f', '0.2')).toBe('0.3');
    expect(await r.hincrbyfloat('h', 'g3', '-0.0')).toBe('0');
    expect(await r.hincrbyfloat('h', 'big', '1e300')).toBe(
      '1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144',
    );
    // strtold accepts hex, and values beyond the double range
    await r.hset('h', 'hx', '0x10', 'huge', '1e400');
    expect(await r.hincrbyfloat('h', 'hx', '1')).toBe('17');
    expect((await r.hincrbyfloat('h', 'huge', '1')).slice(0, 30)).toBe('100000000000000000002818806839');
  });

  it('HSCAN walks every field exactly once, with MATCH and COUNT (1000 fields: past the listpack size, so Redis pages too)', async () => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) fields[`f${i}`] = `v${i}`;
    await r.hset('h', fields);
    const seen: Record<string, string> = {};
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, flat] = await r.hscan('h', cursor, 'COUNT', 50);
      for (let i = 0; i < flat.length; i += 2) {
        expect(seen[flat[i]]).toBeUndefined();
        seen[flat[i]] = flat[i + 1];
      }
      cursor = next;
      rounds++;
    } while (cursor !== '0');
    expect(rounds).toBeGreaterThan(1);
    expect(seen).toEqual(fields);

    const matched: string[] = [];
    cursor = '0';
    do {
      const [next, flat] = await r.hscan('h', cursor, 'MATCH', 'f1?', 'COUNT', 100);
      for (let i = 0; i < flat.length; i += 2) matched.push(flat[i]);
      cursor = next;
    } while (cursor !== '0');
    expect(matched.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `f1${i}`));

    expect(await raw2('HSCAN', 'nokey', '0')).toBe('*2\r\n$1\r\n0\r\n*0\r\n');
    expect(await raw3('HSCAN', 'nokey', '0', 'COUNT', '0')).toBe('*2\r\n$1\r\n0\r\n*0\r\n');
    await expect(r.hscan('h', 'abc')).rejects.toThrow(/^ERR invalid cursor$/);
    await expect(r.call('hscan', 'h', '0', 'COUNT', '0')).rejects.toThrow(/^ERR syntax error$/);
    await expect(r.call('hscan', 'h', '0', 'MATCH')).rejects.toThrow(/^ERR syntax error$/);
    await expect(r.call('hscan', 'h', '0', 'TYPE', 'string')).rejects.toThrow(/^ERR syntax error$/);
  });

  it('answers WRONGTYPE on a key of another type', async () => {
    await r.set('s', 'x');
    const calls: string[][] = [
      ['hset', 's', 'a', '1'],
      ['hmset', 's', 'a', '1'],
      ['hsetnx', 's', 'a', '1'],
      ['hget', 's', 'a'],
      ['hmget', 's', 'a'],
      ['hgetall', 's'],
      ['hdel', 's', 'a'],
      ['hkeys', 's'],
      ['hvals', 's'],
      ['hlen', 's'],
      ['hexists', 's', 'a'],
      ['hstrlen', 's', 'a'],
      ['hincrby', 's', 'a', '1'],
      ['hincrbyfloat', 's', 'a', '1'],
      ['hscan', 's', '0'],
    ];
    for (const [cmd, ...args] of calls) await expect(r.call(cmd, ...args), cmd).rejects.toThrow(WRONGTYPE);
    expect(await r.get('s')).toBe('x');
  });

  it('checks arity', async () => {
    const calls = [['hset', 'h', 'a'], ['hsetnx', 'h', 'a'], ['hget', 'h'], ['hmget', 'h'], ['hgetall'], ['hdel', 'h'], ['hlen'], ['hexists', 'h'], ['hstrlen', 'h'], ['hincrby', 'h', 'a'], ['hincrbyfloat', 'h', 'a'], ['hscan', 'h']];
    for (const [cmd, ...args] of calls) {
      await expect(r.call(cmd, ...args), cmd).rejects.toThrow(`ERR wrong number of arguments for '${cmd}' command`);
    }
  });

  it('is binary safe for fields and values', async () => {
    const f = Buffer.from([0, 0xff, 0x80, 0x0d]);
    const v = Buffer.from([0x0a, 0, 0xfe]);
    expect(await r.hset('h', f, v)).toBe(1);
    expect(await r.hgetBuffer('h', f)).toEqual(v);
    expect(await r.hkeysBuffer('h')).toEqual([f]);
    expect(await r.hexists('h', f)).toBe(1);
    expect(await r.hstrlen('h', f)).toBe(3);
    expect(await r.hdel('h', f)).toBe(1);
    expect(await r.exists('h')).toBe(0);
  });

  it('HSET keeps the TTL; WATCH sees HSET but not a no-op HDEL', async () => {
    await r.hset('h', 'a', '1');
    await r.expire('h', 100);
    await r.hset('h', 'b', '2');
    expect(await r.ttl('h')).toBeGreaterThan(90);
    const w = srv.client();
    await w.watch('h');
    await r.hdel('h', 'zz');
    expect(await w.multi().ping().exec()).toEqual([[null, 'PONG']]);
    await w.watch('h');
    await r.hset('h', 'a', '1');
    expect(await w.multi().ping().exec()).toBeNull();
  });
});
