// Set commands against a real server; expected replies are what Redis 7.0 answers.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { rawClient, type RawSend } from '../helpers/resp';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_INT = 'ERR value is not an integer or out of range';
const sorted = (a: string[]) => [...a].sort();

describe('sets', () => {
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

  it('SADD counts new members; SCARD, SISMEMBER, SMISMEMBER', async () => {
    expect(await r.sadd('s', 'a', 'b', 'a')).toBe(2);
    expect(await r.sadd('s', 'b', 'c')).toBe(1);
    expect(await r.sadd('s', 'c')).toBe(0);
    expect(await r.type('s')).toBe('set');
    expect(await r.scard('s')).toBe(3);
    expect(await r.scard('nokey')).toBe(0);
    expect(await r.sismember('s', 'a')).toBe(1);
    expect(await r.sismember('s', 'zz')).toBe(0);
    expect(await r.sismember('nokey', 'a')).toBe(0);
    expect(await r.smismember('s', 'a', 'zz', 'c')).toEqual([1, 0, 1]);
    expect(await r.smismember('nokey', 'a', 'b')).toEqual([0, 0]);
    expect(await raw2('SMISMEMBER', 'nokey', 'a', 'b')).toBe('*2\r\n:0\r\n:0\r\n');
  });

  it('SMEMBERS is a set in RESP3 and an array in RESP2', async () => {
    await r.sadd('s', 'x');
    expect(await r.smembers('s')).toEqual(['x']);
    expect(await raw3('SMEMBERS', 's')).toBe('~1\r\n$1\r\nx\r\n');
    expect(await raw2('SMEMBERS', 's')).toBe('*1\r\n$1\r\nx\r\n');
    expect(await raw3('SMEMBERS', 'nokey')).toBe('~0\r\n');
    expect(await raw2('SMEMBERS', 'nokey')).toBe('*0\r\n');
    await r.sadd('s', 'y', 'z');
    expect(sorted(await r.smembers('s'))).toEqual(['x', 'y', 'z']);
  });

  it('SREM counts removed members and deletes an emptied set', async () => {
    await r.sadd('s', 'a', 'b', 'c');
    expect(await r.srem('s', 'a', 'zz')).toBe(1);
    expect(await r.srem('s', 'zz')).toBe(0);
    expect(await r.srem('nokey', 'a')).toBe(0);
    expect(await r.srem('s', 'b', 'c', 'b')).toBe(2);
    expect(await r.exists('s')).toBe(0);
  });

  it('SPOP without a count', async () => {
    await r.sadd('s', 'a', 'b', 'c');
    const popped: string[] = [];
    for (let i = 0; i < 3; i++) popped.push((await r.spop('s')) as string);
    expect(sorted(popped)).toEqual(['a', 'b', 'c']);
    expect(await r.exists('s')).toBe(0);
    expect(await r.spop('s')).toBeNull();
    expect(await raw2('SPOP', 'nokey')).toBe('$-1\r\n');
    expect(await raw3('SPOP', 'nokey')).toBe('_\r\n');
  });

  it('SPOP with a count replies a set (empty for a missing key)', async () => {
    await r.sadd('s', 'a', 'b', 'c', 'd', 'e');
    const two = await r.spop('s', 2);
    expect(two).toHaveLength(2);
    expect(new Set(two).size).toBe(2);
    expect(await r.scard('s')).toBe(3);
    for (const m of two) expect(await r.sismember('s', m)).toBe(0);
    expect(await r.spop('s', 0)).toEqual([]);
    expect(await raw3('SPOP', 's', '0')).toBe('~0\r\n');
    expect(await raw2('SPOP', 's', '0')).toBe('*0\r\n');
    const rest = await r.spop('s', 10);
    expect(sorted([...two, ...rest])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await r.exists('s')).toBe(0);
    expect(await raw3('SPOP', 's', '2')).toBe('~0\r\n');
    expect(await raw2('SPOP', 's', '2')).toBe('*0\r\n');
    await r.sadd('s', 'only');
    expect(await raw3('SPOP', 's', '1')).toBe('~1\r\n$4\r\nonly\r\n');
    await r.sadd('s', 'only');
    expect(await raw2('SPOP', 's', '1')).toBe('*1\r\n$4\r\nonly\r\n');
  });

  it('SPOP errors', async () => {
    await r.sadd('s', 'a');
    await expect(r.spop('s', -1)).rejects.toThrow(/^ERR value is out of range, must be positive$/);
    await expect(r.call('spop', 's', 'x')).rejects.toThrow(/^ERR value is out of range, must be positive$/);
    await expect(r.call('spop', 'nokey', '-1')).rejects.toThrow(/^ERR value is out of range, must be positive$/);
    await expect(r.call('spop', 's', '1', '2')).rejects.toThrow(/^ERR syntax error$/);
    expect(await r.smembers('s')).toEqual(['a']);
  });

  it('SRANDMEMBER', async () => {
    const members = ['a', 'b', 'c', 'd'];
    await r.sadd('s', ...members);
    expect(members).toContain(await r.srandmember('s'));
    const three = await r.srandmember('s', 3);
    expect(three).toHaveLength(3);
    expect(new Set(three).size).toBe(3);
    for (const m of three) expect(members).toContain(m);
    expect(sorted(await r.srandmember('s', 10))).toEqual(members);
    const many = await r.srandmember('s', -20);
    expect(many).toHaveLength(20);
    for (const m of many) expect(members).toContain(m);
    expect(await r.srandmember('s', 0)).toEqual([]);
    expect(await r.scard('s')).toBe(4);
    expect(await r.srandmember('nokey')).toBeNull();
    expect(await raw2('SRANDMEMBER', 'nokey')).toBe('$-1\r\n');
    expect(await raw3('SRANDMEMBER', 'nokey')).toBe('_\r\n');
    expect(await raw3('SRANDMEMBER', 'nokey', '-3')).toBe('*0\r\n');
    expect(await raw2('SRANDMEMBER', 'nokey', '3')).toBe('*0\r\n');
    await r.sadd('one', 'x');
    // with a count the reply is an array even in RESP3 (members may repeat)
    expect(await raw3('SRANDMEMBER', 'one', '-2')).toBe('*2\r\n$1\r\nx\r\n$1\r\nx\r\n');
    await expect(r.call('srandmember', 's', 'x')).rejects.toThrow(NOT_INT);
    await expect(r.call('srandmember', 's', '-9223372036854775808')).rejects.toThrow(
      /^ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807$/,
    );
    await expect(r.call('srandmember', 's', '1', '2')).rejects.toThrow(/^ERR syntax error$/);
  });

  it('SINTER, SUNION, SDIFF', async () => {
    await r.sadd('a', '1', '2', '3', '4');
    await r.sadd('b', '3', '4', '5');
    await r.sadd('c', '4', '6');
    expect(sorted(await r.sinter('a', 'b'))).toEqual(['3', '4']);
    expect(await r.sinter('a', 'b', 'c')).toEqual(['4']);
    expect(await r.sinter('a', 'nokey')).toEqual([]);
    expect(sorted(await r.sinter('a'))).toEqual(['1', '2', '3', '4']);
    expect(sorted(await r.sunion('a', 'b', 'nokey'))).toEqual(['1', '2', '3', '4', '5']);
    expect(await r.sunion('nokey')).toEqual([]);
    expect(sorted(await r.sdiff('a', 'b'))).toEqual(['1', '2']);
    expect(sorted(await r.sdiff('a', 'b', 'c', 'nokey'))).toEqual(['1', '2']);
    expect(await r.sdiff('nokey', 'a')).toEqual([]);
    await r.sadd('one', 'x');
    for (const cmd of ['SINTER', 'SUNION', 'SDIFF']) {
      expect(await raw3(cmd, 'one')).toBe('~1\r\n$1\r\nx\r\n');
      expect(await raw2(cmd, 'one')).toBe('*1\r\n$1\r\nx\r\n');
      expect(await raw3(cmd, 'nokey')).toBe('~0\r\n');
      expect(await raw2(cmd, 'nokey')).toBe('*0\r\n');
    }
  });

  it('set operations type-check every key, even after a missing one', async () => {
    await r.sadd('a', '1');
    await r.set('str', 'x');
    for (const cmd of ['sinter', 'sunion', 'sdiff']) {
      await expect(r.call(cmd, 'a', 'nokey', 'str'), cmd).rejects.toThrow(WRONGTYPE);
      await expect(r.call(cmd, 'nokey', 'str'), cmd).rejects.toThrow(WRONGTYPE);
      await expect(r.call(`${cmd}store`, 'dst', 'nokey', 'str'), cmd).rejects.toThrow(WRONGTYPE);
    }
    expect(await r.exists('dst')).toBe(0);
  });

  it('SINTERSTORE, SUNIONSTORE, SDIFFSTORE', async () => {
    await r.sadd('a', '1', '2', '3');
    await r.sadd('b', '2', '3', '4');
    expect(await r.sinterstore('d', 'a', 'b')).toBe(2);
    expect(sorted(await r.smembers('d'))).toEqual(['2', '3']);
    expect(await r.sunionstore('d', 'a', 'b')).toBe(4);
    expect(sorted(await r.smembers('d'))).toEqual(['1', '2', '3', '4']);
    expect(await r.sdiffstore('d', 'a', 'b')).toBe(1);
    expect(await r.smembers('d')).toEqual(['1']);
    // the destination may be a source
    expect(await r.sunionstore('a', 'a', 'b')).toBe(4);
    expect(sorted(await r.smembers('a'))).toEqual(['1', '2', '3', '4']);
    expect(sorted(await r.smembers('b'))).toEqual(['2', '3', '4']);
    // a single source is copied, not shared
    expect(await r.sunionstore('copy', 'b')).toBe(3);
    await r.sadd('copy', 'new');
    expect(await r.scard('b')).toBe(3);
    // an empty result deletes the destination, whatever it held
    expect(await r.sinterstore('d', 'a', 'nokey')).toBe(0);
    expect(await r.exists('d')).toBe(0);
    await r.set('str', 'x');
    expect(await r.sdiffstore('str', 'b', 'a')).toBe(0);
    expect(await r.exists('str')).toBe(0);
    expect(await r.sdiffstore('d2', 'nokey')).toBe(0);
    expect(await r.exists('d2')).toBe(0);
    // a non-empty result overwrites a destination of another type and drops its TTL
    await r.set('str', 'x', 'EX', 100);
    expect(await r.sunionstore('str', 'b')).toBe(3);
    expect(await r.type('str')).toBe('set');
    expect(await r.ttl('str')).toBe(-1);
  });

  it('SMOVE', async () => {
    await r.sadd('src', 'a', 'b');
    await r.sadd('dst', 'b', 'c');
    expect(await r.smove('src', 'dst', 'a')).toBe(1);
    expect(sorted(await r.smembers('dst'))).toEqual(['a', 'b', 'c']);
    expect(await r.smembers('src')).toEqual(['b']);
    expect(await r.smove('src', 'dst', 'zz')).toBe(0);
    // moving a member the destination already has still removes it from the source
    expect(await r.smove('src', 'dst', 'b')).toBe(1);
    expect(await r.exists('src')).toBe(0);
    expect(sorted(await r.smembers('dst'))).toEqual(['a', 'b', 'c']);
    expect(await r.smove('nokey', 'dst', 'a')).toBe(0);
    expect(await r.smove('dst', 'fresh', 'c')).toBe(1);
    expect(await r.smembers('fresh')).toEqual(['c']);
    expect(await r.smove('dst', 'dst', 'a')).toBe(1);
    expect(await r.smove('dst', 'dst', 'zz')).toBe(0);
    expect(sorted(await r.smembers('dst'))).toEqual(['a', 'b']);
    await r.set('str', 'x');
    await expect(r.smove('str', 'dst', 'a')).rejects.toThrow(WRONGTYPE);
    await expect(r.smove('dst', 'str', 'a')).rejects.toThrow(WRONGTYPE);
    // a missing source answers 0 before the destination's type is checked
    expect(await r.smove('nokey', 'str', 'a')).toBe(0);
    expect(sorted(await r.smembers('dst'))).toEqual(['a', 'b']);
  });

  it('SSCAN walks every member exactly once, with MATCH and COUNT', async () => {
    const members = Array.from({ length: 70 }, (_, i) => `m${i}`);
    await r.sadd('s', ...members);
    const seen: string[] = [];
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, batch] = await r.sscan('s', cursor, 'COUNT', 9);
      seen.push(...batch);
      cursor = next;
      rounds++;
    } while (cursor !== '0');
    expect(rounds).toBeGreaterThan(1);
    expect(sorted(seen)).toEqual(sorted(members));
    const [c2, matched] = await r.sscan('s', 0, 'MATCH', 'm6?', 'COUNT', 1000);
    expect(c2).toBe('0');
    expect(sorted(matched)).toEqual(Array.from({ length: 10 }, (_, i) => `m6${i}`));
    expect(await raw2('SSCAN', 'nokey', '0')).toBe('*2\r\n$1\r\n0\r\n*0\r\n');
    expect(await raw3('SSCAN', 'nokey', '0', 'COUNT', '0')).toBe('*2\r\n$1\r\n0\r\n*0\r\n');
    await expect(r.sscan('s', 'x')).rejects.toThrow(/^ERR invalid cursor$/);
    await expect(r.sscan('nokey', 'x')).rejects.toThrow(/^ERR invalid cursor$/);
    await expect(r.call('sscan', 's', '0', 'COUNT', '0')).rejects.toThrow(/^ERR syntax error$/);
  });

  it('answers WRONGTYPE on a key of another type', async () => {
    await r.set('str', 'x');
    const calls: string[][] = [
      ['sadd', 'str', 'a'],
      ['srem', 'str', 'a'],
      ['smembers', 'str'],
      ['sismember', 'str', 'a'],
      ['smismember', 'str', 'a'],
      ['scard', 'str'],
      ['spop', 'str'],
      ['spop', 'str', '1'],
      ['srandmember', 'str'],
      ['srandmember', 'str', '2'],
      ['sinter', 'str'],
      ['sunion', 'str'],
      ['sdiff', 'str'],
      ['sinterstore', 'd', 'str'],
      ['sunionstore', 'd', 'str'],
      ['sdiffstore', 'd', 'str'],
      ['sscan', 'str', '0'],
    ];
    for (const [cmd, ...args] of calls) await expect(r.call(cmd, ...args), cmd).rejects.toThrow(WRONGTYPE);
    expect(await r.get('str')).toBe('x');
  });

  it('checks arity', async () => {
    const calls = [['sadd', 's'], ['srem', 's'], ['smembers'], ['sismember', 's'], ['smismember', 's'], ['scard'], ['spop'], ['srandmember'], ['sinter'], ['sinterstore', 'd'], ['sunionstore', 'd'], ['sdiffstore', 'd'], ['smove', 'a', 'b'], ['sscan', 's']];
    for (const [cmd, ...args] of calls) {
      await expect(r.call(cmd, ...args), cmd).rejects.toThrow(`ERR wrong number of arguments for '${cmd}' command`);
    }
  });

  it('is binary safe', async () => {
    const m = Buffer.from([0, 0xff, 0x80, 0x0d, 0x0a]);
    expect(await r.sadd('s', m, Buffer.alloc(0))).toBe(2);
    expect(await r.sismember('s', m)).toBe(1);
    const got = await r.smembersBuffer('s');
    expect(got.map((b) => b.toString('hex')).sort()).toEqual(['', m.toString('hex')].sort());
    expect(await r.spopBuffer('nokey')).toBeNull();
  });

  it('WATCH sees SADD of a new member but not of an existing one', async () => {
    await r.sadd('s', 'a');
    const w = srv.client();
    await w.watch('s');
    await r.sadd('s', 'a');
    expect(await w.multi().ping().exec()).toEqual([[null, 'PONG']]);
    await w.watch('s');
    await r.sadd('s', 'b');
    expect(await w.multi().ping().exec()).toBeNull();
  });
});
