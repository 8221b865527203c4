// Sorted sets against real server processes (ioredis RESP2 and RESP3, raw RESP, redis-cli), the skip list
// itself against a naive model, a differential run of a few thousand random commands against a real
// redis-server 7.0 (every reply compared byte for byte, in RESP2 and RESP3), and persistence (SAVE + restart,
// DEBUG RELOAD, copy-on-write under BGSAVE).

import { spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf, rawClient, type RawSend } from '../helpers/resp';
import { rawPort, REDIS_SERVER, startRedis } from '../helpers/redis-reference';
import { ZSet, formatScore, parseScore, parseRangeScore } from '../../src/node/zset';
import { decodeZSet, encodeZSet } from '../../src/node/zset/codec';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
const haveCli = spawnSync(REDIS_CLI, ['--version']).status === 0;

/** A small deterministic PRNG (mulberry32), so a failing differential run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('the skip list', () => {
  it('matches a naive sorted model through random inserts, updates, deletes and range removals', () => {
    const rnd = prng(7);
    const z = new ZSet();
    z.compact = false;
    const model = new Map<string, number>();
    const sorted = () =>
      [...model].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let step = 0; step < 6000; step++) {
      const m = `m${Math.floor(rnd() * 400)}`;
      const s = Math.floor(rnd() * 50) - 25;
      const op = rnd();
      if (op < 0.5) {
        if (model.has(m)) z.updateScore(m, s);
        else z.insert(m, s);
        model.set(m, s);
      } else if (op < 0.8) {
        expect(z.delete(m)).toBe(model.delete(m));
      } else if (op < 0.85) {
        const min = s;
        const max = s + Math.floor(rnd() * 5);
        const n = z.removeRangeByScore({ min, max, minex: false, maxex: true });
        let expected = 0;
        for (const [k, v] of model) if (v >= min && v < max) model.delete(k), expected++;
        expect(n).toBe(expected);
      } else if (op < 0.88 && model.size > 0) {
        const start = Math.floor(rnd() * model.size);
        const end = Math.min(model.size - 1, start + Math.floor(rnd() * 4));
        const victims = sorted().slice(start, end + 1);
        expect(z.removeRangeByRank(start, end)).toBe(victims.length);
        for (const [k] of victims) model.delete(k);
      } else {
        const all = sorted();
        const i = all.findIndex(([k]) => k === m);
        expect(z.rank(m)).toBe(i);
        if (all.length) {
          const r = Math.floor(rnd() * all.length);
          expect(z.byRank(r)!.member).toBe(all[r][0]);
        }
        const range = { min: s, max: s + 3, minex: rnd() < 0.5, maxex: rnd() < 0.5 };
        const inRange = all
          .map(([, v], idx) => [v, idx] as const)
          .filter(([v]) => (range.minex ? v > range.min : v >= range.min) && (range.maxex ? v < range.max : v <= range.max));
        const first = z.firstInRange(range);
        const last = z.lastInRange(range);
        if (inRange.length === 0) {
          expect(first).toBeNull();
          expect(last).toBeNull();
        } else {
          expect(first![1]).toBe(inRange[0][1]);
          expect(last![1]).toBe(inRange[inRange.length - 1][1]);
        }
      }
      if (step % 500 === 0) z.check();
    }
    z.check();
    const all = sorted();
    const walked: [string, number][] = [];
    for (let x = z.first(); x; x = x.next[0]) walked.push([x.member, x.score]);
    expect(walked).toEqual(all);
    // a clone is independent and equal
    const copy = z.clone();
    copy.check();
    copy.insert('zzz-new', 1e9);
    expect(z.score('zzz-new')).toBeUndefined();
    expect(copy.size).toBe(z.size + 1);
  });

  it('rank and range stay logarithmic: 200k inserts and 200k rank lookups within 5 s each', () => {
    const z = new ZSet();
    const n = 200000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) z.insert(`member:${i}`, (i * 7919) % n);
    const tInsert = performance.now() - t0;
    const t1 = performance.now();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += z.rank(`member:${(i * 31) % n}`);
    const tRank = performance.now() - t1;
    expect(sum).toBeGreaterThan(0);
    expect(z.byRank(n - 1)!.score).toBe(n - 1);
    // a sorted array rebuilt per insert would need ~n^2/2 = 2e10 element moves here
    expect(tInsert).toBeLessThan(5000);
    expect(tRank).toBeLessThan(5000);
  });

  it('the snapshot encoding round-trips, member bytes and every score included', () => {
    const z = new ZSet();
    const members = ['', 'a', '\u00ff\u0000\u0001', 'x'.repeat(1000)];
    const scores = [-Infinity, -0.5, 1e-300, Infinity];
    members.forEach((m, i) => z.insert(m, scores[i]));
    const { count, scores: sb, members: mb } = encodeZSet(z);
    expect(sb.length).toBe(8 * 4);
    const back = decodeZSet(count, sb, mb);
    back.check();
    expect([...back.dict]).toEqual([...z.dict]);
    expect(() => decodeZSet(count + 1, sb, mb)).toThrow(/bad zset record/);
  });

  it('scores parse as strtod and format as %.17g', () => {
    const p = (s: string) => parseScore(Buffer.from(s));
    expect(p('1.5')).toBe(1.5);
    expect(p('-inf')).toBe(-Infinity);
    expect(p('+Infinity')).toBe(Infinity);
    expect(p('0x10')).toBe(16);
    expect(p('0x1.8p1')).toBe(3);
    expect(p('1e5')).toBe(100000);
    expect(p('.5')).toBe(0.5);
    for (const bad of ['', ' 1', '1 ', 'nan', '1e400', '1e-400', '1e', 'abc', '--1', '0x']) expect(p(bad)).toBeNull();
    expect(parseRangeScore('')).toBe(0);
    expect(parseRangeScore(' 1')).toBe(1);
    expect(parseRangeScore('1e400')).toBe(Infinity);
    expect(parseRangeScore('nan')).toBeNull();
    const cases: [number, string][] = [
      [0.1, '0.10000000000000001'],
      [1.5e-7, '1.4999999999999999e-07'],
      [1e17, '1e+17'],
      [1e16, '10000000000000000'],
      [123456789012345678, '1.2345678901234568e+17'],
      [-2.5e-5, '-2.5000000000000001e-05'],
      [3.14159, '3.1415899999999999'],
      [0.0001, '0.0001'],
      [1e-300, '1e-300'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [-0, '-0'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
      [42, '42'],
    ];
    for (const [d, s] of cases) expect(formatScore(d)).toBe(s);
  });
});

describe('sorted set commands', () => {
  let srv: TestServer;
  let r: Redis; // RESP3
  let r2: Redis; // RESP2
  let raw2: RawSend;
  let raw3: RawSend;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
    r2 = srv.client({ protocol: 2 });
    raw2 = await rawClient(srv, 2);
    raw3 = await rawClient(srv, 3);
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  it('ZADD adds and updates; ZCARD, ZSCORE, ZMSCORE, TYPE', async () => {
    expect(await r2.zadd('z', 1, 'a', 2, 'b', 3, 'a')).toBe(2);
    expect(await r2.zscore('z', 'a')).toBe('3');
    expect(await r2.type('z')).toBe('zset');
    expect(await r2.zcard('z')).toBe(2);
    expect(await r2.zcard('nokey')).toBe(0);
    expect(await r2.zmscore('z', 'a', 'x', 'b')).toEqual(['3', null, '2']);
    expect(await r2.zmscore('nokey', 'a')).toEqual([null]);
    expect(await r2.zscore('z', 'x')).toBeNull();
    expect(await raw2('ZSCORE', 'z', 'b')).toBe('$1\r\n2\r\n');
    expect(await raw3('ZSCORE', 'z', 'b')).toBe(',2\r\n');
    expect(await raw3('ZSCORE', 'z', 'nope')).toBe('_\r\n');
    expect(await raw2('ZSCORE', 'z', 'nope')).toBe('$-1\r\n');
    expect(await raw3('ZMSCORE', 'z', 'a', 'nope')).toBe('*2\r\n,3\r\n_\r\n');
    await r.zadd('f', '0.1', 'x', 'inf', 'y', '-inf', 'w', '1e17', 'v');
    expect(await raw2('ZSCORE', 'f', 'x')).toBe('$19\r\n0.10000000000000001\r\n');
    expect(await raw3('ZSCORE', 'f', 'y')).toBe(',inf\r\n');
    expect(await raw3('ZSCORE', 'f', 'w')).toBe(',-inf\r\n');
    expect(await raw2('ZSCORE', 'f', 'v')).toBe('$5\r\n1e+17\r\n');
  });

  it('ZADD options NX XX GT LT CH INCR and their errors', async () => {
    await r2.zadd('z', 5, 'a');
    expect(await r2.zadd('z', 'NX', 1, 'a', 1, 'b')).toBe(1);
    expect(await r2.zscore('z', 'a')).toBe('5');
    expect(await r2.zadd('z', 'XX', 7, 'a', 1, 'c')).toBe(0);
    expect(await r2.zscore('z', 'a')).toBe('7');
    expect(await r2.zscore('z', 'c')).toBeNull();
    expect(await r2.zadd('z', 'GT', 'CH', 6, 'a', 2, 'b', 9, 'd')).toBe(2); // b 1->2, d added; a not lowered
    expect(await r2.zscore('z', 'a')).toBe('7');
    expect(await r2.zadd('z', 'LT', 'CH', 8, 'a', 0, 'b')).toBe(1);
    expect(await r2.zadd('z', 'XX', 'GT', 'CH', 10, 'a')).toBe(1);
    expect(await r2.zadd('z', 'INCR', 2.5, 'a')).toBe('12.5');
    expect(await r2.zincrby('z', -0.5, 'a')).toBe('12');
    expect(await r2.zincrby('z', 3, 'new')).toBe('3');
    expect(await raw2('ZADD', 'z', 'NX', 'INCR', '1', 'a')).toBe('$-1\r\n');
    expect(await raw3('ZADD', 'z', 'NX', 'INCR', '1', 'a')).toBe('_\r\n');
    expect(await raw3('ZADD', 'z', 'INCR', '1', 'a')).toBe(',13\r\n');
    expect(await raw2('ZADD', 'nokey', 'XX', '1', 'a')).toBe(':0\r\n');
    expect(await r2.exists('nokey')).toBe(0);
    const errs: [string[], string][] = [
      [['z', 'NX', 'XX', '1', 'a'], 'ERR XX and NX options at the same time are not compatible'],
      [['z', 'GT', 'LT', '1', 'a'], 'ERR GT, LT, and/or NX options at the same time are not compatible'],
      [['z', 'NX', 'GT', '1', 'a'], 'ERR GT, LT, and/or NX options at the same time are not compatible'],
      [['z', 'INCR', '1', 'a', '2', 'b'], 'ERR INCR option supports a single increment-element pair'],
      [['z', '1', 'a', '2'], 'ERR syntax error'],
      [['z', 'xx', '1'], 'ERR syntax error'],
      [['z', 'nan', 'a'], 'ERR value is not a valid float'],
      [['z', '1e400', 'a'], 'ERR value is not a valid float'],
      [['z', ' 1', 'a'], 'ERR value is not a valid float'],
      [['z', 'abc', 'a'], 'ERR value is not a valid float'],
    ];
    for (const [args, msg] of errs) expect(await errOf(r2.call('ZADD', ...args))).toBe(msg);
    expect(await errOf(r2.call('ZADD', 'z', '1'))).toBe("ERR wrong number of arguments for 'zadd' command");
    await r2.zadd('inf', 'inf', 'a');
    expect(await errOf(r2.call('ZADD', 'inf', 'INCR', '-inf', 'a'))).toBe('ERR resulting score is not a number (NaN)');
    expect(await errOf(r2.call('ZINCRBY', 'inf', '-inf', 'a'))).toBe('ERR resulting score is not a number (NaN)');
    expect(await errOf(r2.call('ZINCRBY', 'z', 'nx', 'a'))).toBe('ERR syntax error');
    expect(await errOf(r2.call('ZINCRBY', 'z', 'x', 'a'))).toBe('ERR value is not a valid float');
    // a failed command changed nothing
    expect(await r2.zscore('z', 'b')).toBe('0');
    expect(await r2.zadd('z', 'CH', 0, 'b')).toBe(0);
  });

  it('every command refuses keys of another type with WRONGTYPE', async () => {
    await r2.set('str', 'x');
    const calls: string[][] = [
      ['ZADD', 'str', '1', 'a'],
      ['ZINCRBY', 'str', '1', 'a'],
      ['ZREM', 'str', 'a'],
      ['ZSCORE', 'str', 'a'],
      ['ZMSCORE', 'str', 'a'],
      ['ZCARD', 'str'],
      ['ZCOUNT', 'str', '0', '1'],
      ['ZLEXCOUNT', 'str', '-', '+'],
      ['ZRANK', 'str', 'a'],
      ['ZREVRANK', 'str', 'a'],
      ['ZRANGE', 'str', '0', '-1'],
      ['ZRANGEBYSCORE', 'str', '0', '1'],
      ['ZREVRANGEBYSCORE', 'str', '1', '0'],
      ['ZRANGEBYLEX', 'str', '-', '+'],
      ['ZREVRANGEBYLEX', 'str', '+', '-'],
      ['ZREVRANGE', 'str', '0', '-1'],
      ['ZPOPMIN', 'str'],
      ['ZPOPMAX', 'str', '0'],
      ['ZRANGESTORE', 'd', 'str', '0', '-1'],
      ['ZUNIONSTORE', 'd', '1', 'str'],
      ['ZINTERSTORE', 'd', '1', 'str'],
      ['ZREMRANGEBYSCORE', 'str', '0', '1'],
      ['ZREMRANGEBYRANK', 'str', '0', '1'],
      ['ZREMRANGEBYLEX', 'str', '-', '+'],
      ['ZRANDMEMBER', 'str'],
      ['ZSCAN', 'str', '0'],
    ];
    for (const c of calls) expect(await errOf(r2.call(c[0], ...c.slice(1))), c.join(' ')).toBe(WRONGTYPE);
    await r2.zadd('z', 1, 'a');
    expect(await errOf(r2.sadd('z', 'x'))).toBe(WRONGTYPE);
    expect(await errOf(r2.get('z'))).toBe(WRONGTYPE);
  });

  it('ZRANGE by rank, score and lex; REV, LIMIT, WITHSCORES; RESP2 flat pairs, RESP3 [member, score] arrays', async () => {
    await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 'inf', 'e', '-inf', 'f');
    expect(await r2.zrange('z', '0', '-1')).toEqual(['f', 'a', 'b', 'c', 'd', 'e']);
    expect(await r2.zrange('z', '-2', '100')).toEqual(['d', 'e']);
    expect(await r2.zrange('z', '3', '1')).toEqual([]);
    expect(await r2.zrange('z', '0', '1', 'WITHSCORES')).toEqual(['f', '-inf', 'a', '1']);
    expect(await r2.zrevrange('z', 0, 1, 'WITHSCORES')).toEqual(['e', 'inf', 'd', '4']);
    expect(await raw3('ZRANGE', 'z', '0', '1', 'WITHSCORES')).toBe('*2\r\n*2\r\n$1\r\nf\r\n,-inf\r\n*2\r\n$1\r\na\r\n,1\r\n');
    expect(await raw2('ZRANGE', 'z', '0', '0', 'WITHSCORES')).toBe('*2\r\n$1\r\nf\r\n$4\r\n-inf\r\n');
    expect(await r.call('ZRANGE', 'z', '0', '1', 'WITHSCORES')).toEqual([
      ['f', '-inf'],
      ['a', '1'],
    ]);
    expect(await r2.zrangebyscore('z', '(1', 3)).toEqual(['b', 'c']);
    expect(await r2.zrangebyscore('z', '-inf', '+inf', 'LIMIT', 1, 2)).toEqual(['a', 'b']);
    expect(await r2.zrangebyscore('z', '-inf', '+inf', 'LIMIT', 4, -1)).toEqual(['d', 'e']);
    expect(await r2.zrangebyscore('z', '-inf', '+inf', 'LIMIT', -1, 5)).toEqual([]);
    expect(await r2.zrevrangebyscore('z', 3, '(1', 'WITHSCORES')).toEqual(['c', '3', 'b', '2']);
    expect(await r2.call('ZRANGE', 'z', '(4', '-inf', 'BYSCORE', 'REV', 'LIMIT', '1', '2')).toEqual(['b', 'a']);
    expect(await r2.call('ZRANGE', 'z', '5', '1', 'BYSCORE')).toEqual([]);
    await r.zadd('l', 0, 'a', 0, 'b', 0, 'c', 0, 'd', 0, '');
    expect(await r2.zrangebylex('l', '-', '+')).toEqual(['', 'a', 'b', 'c', 'd']);
    expect(await r2.zrangebylex('l', '(a', '[c')).toEqual(['b', 'c']);
    expect(await r2.zrangebylex('l', '[', '(b')).toEqual(['', 'a']);
    expect(await r2.zrevrangebylex('l', '+', '-', 'LIMIT', 1, 2)).toEqual(['c', 'b']);
    expect(await r2.call('ZRANGE', 'l', '[d', '(b', 'BYLEX', 'REV')).toEqual(['d', 'c']);
    expect(await r2.zrangebylex('l', '+', '-')).toEqual([]);
    expect(await r2.zlexcount('l', '(a', '+')).toBe(3);
    expect(await r2.zcount('z', '(1', '+inf')).toBe(4);
    expect(await r2.zcount('z', '-inf', '+inf')).toBe(6);
    expect(await r2.zcount('z', 5, 1)).toBe(0);
    expect(await r2.zcount('nokey', 0, 1)).toBe(0);
    const errs: [string[], string][] = [
      [['ZRANGE', 'z', '0', '-1', 'LIMIT', '0', '1'], 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX'],
      [['ZRANGEBYLEX', 'l', '-', '+', 'WITHSCORES'], 'ERR syntax error, WITHSCORES not supported in combination with BYLEX'],
      [['ZRANGE', 'l', '-', '+', 'BYLEX', 'WITHSCORES'], 'ERR syntax error, WITHSCORES not supported in combination with BYLEX'],
      [['ZRANGEBYSCORE', 'z', '0', '1', 'REV'], 'ERR syntax error'],
      [['ZRANGE', 'z', '0', '1', 'BYSCORE', 'BYLEX'], 'ERR syntax error'],
      [['ZRANGEBYSCORE', 'z', 'nan', '1'], 'ERR min or max is not a float'],
      [['ZRANGEBYSCORE', 'z', 'a', '1'], 'ERR min or max is not a float'],
      [['ZCOUNT', 'z', '1', 'x'], 'ERR min or max is not a float'],
      [['ZRANGEBYLEX', 'l', 'a', '+'], 'ERR min or max not valid string range item'],
      [['ZLEXCOUNT', 'l', '-x', '+'], 'ERR min or max not valid string range item'],
      [['ZRANGE', 'z', 'a', '1'], 'ERR value is not an integer or out of range'],
      [['ZRANGEBYSCORE', 'z', '0', '1', 'LIMIT', 'x', '1'], 'ERR value is not an integer or out of range'],
      [['ZRANGESTORE', 'd', 'z', '0', '-1', 'WITHSCORES'], 'ERR syntax error'],
    ];
    for (const [c, msg] of errs) expect(await errOf(r2.call(c[0], ...c.slice(1))), c.join(' ')).toBe(msg);
  });

  it('ZRANK, ZREVRANK, ZREM, ZPOPMIN / ZPOPMAX and their reply shapes', async () => {
    await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    expect(await r2.zrank('z', 'c')).toBe(2);
    expect(await r2.zrevrank('z', 'c')).toBe(1);
    expect(await r2.zrank('z', 'x')).toBeNull();
    expect(await raw3('ZRANK', 'nokey', 'a')).toBe('_\r\n');
    expect(await errOf(r2.call('ZRANK', 'z', 'a', 'WITHSCORE'))).toBe("ERR wrong number of arguments for 'zrank' command");
    expect(await raw2('ZPOPMIN', 'z')).toBe('*2\r\n$1\r\na\r\n$1\r\n1\r\n');
    expect(await raw3('ZPOPMIN', 'z')).toBe('*2\r\n$1\r\nb\r\n,2\r\n');
    await r.zadd('z', 1, 'a', 2, 'b');
    expect(await raw3('ZPOPMAX', 'z', '2')).toBe('*2\r\n*2\r\n$1\r\nd\r\n,4\r\n*2\r\n$1\r\nc\r\n,3\r\n');
    expect(await r2.zpopmin('z', 10)).toEqual(['a', '1', 'b', '2']);
    expect(await r2.exists('z')).toBe(0);
    expect(await raw2('ZPOPMIN', 'z')).toBe('*0\r\n');
    expect(await raw3('ZPOPMIN', 'z', '3')).toBe('*0\r\n');
    await r.zadd('z', 1, 'a');
    expect(await raw3('ZPOPMIN', 'z', '0')).toBe('*0\r\n');
    expect(await errOf(r2.call('ZPOPMIN', 'z', '-1'))).toBe('ERR value is out of range, must be positive');
    expect(await errOf(r2.call('ZPOPMIN', 'z', 'x'))).toBe('ERR value is out of range, must be positive');
    expect(await errOf(r2.call('ZPOPMIN', 'z', '1', '2'))).toBe('ERR syntax error');
    await r.zadd('z', 2, 'b', 3, 'c');
    expect(await r2.zrem('z', 'a', 'x', 'a')).toBe(1);
    expect(await r2.zrem('nokey', 'a')).toBe(0);
    expect(await r2.zrem('z', 'b', 'c')).toBe(2);
    expect(await r2.exists('z')).toBe(0);
  });

  it('ZREMRANGEBYSCORE / BYRANK / BYLEX', async () => {
    const fill = () => r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
    await fill();
    expect(await r2.zremrangebyscore('z', '(1', 3)).toBe(2);
    expect(await r2.zrange('z', '0', '-1')).toEqual(['a', 'd', 'e']);
    expect(await r2.zremrangebyrank('z', 1, -2)).toBe(1);
    expect(await r2.zrange('z', '0', '-1')).toEqual(['a', 'e']);
    expect(await r2.zremrangebyrank('z', 5, 1)).toBe(0);
    expect(await r2.zremrangebyrank('z', -100, 100)).toBe(2);
    expect(await r2.exists('z')).toBe(0);
    await r.zadd('l', 0, 'a', 0, 'b', 0, 'c');
    expect(await r2.zremrangebylex('l', '[b', '+')).toBe(2);
    expect(await r2.zrange('l', '0', '-1')).toEqual(['a']);
    expect(await errOf(r2.zremrangebylex('l', 'b', '+'))).toBe('ERR min or max not valid string range item');
    expect(await errOf(r2.zremrangebyscore('l', 'b', '+inf'))).toBe('ERR min or max is not a float');
    expect(await errOf(r2.zremrangebyrank('l', 'b', 1))).toBe('ERR value is not an integer or out of range');
    expect(await r2.zremrangebyscore('nokey', 0, 1)).toBe(0);
  });

  it('ZUNIONSTORE / ZINTERSTORE with WEIGHTS and AGGREGATE, sets counting as score 1; ZUNION / ZINTER / ZDIFF', async () => {
    await r.zadd('z1', 1, 'a', 2, 'b', 3, 'c');
    await r.zadd('z2', 10, 'b', 20, 'c', 30, 'd');
    await r.sadd('s', 'a', 'd', 'x');
    expect(await r2.zunionstore('u', 3, 'z1', 'z2', 's')).toBe(5);
    expect(await r2.zrange('u', '0', '-1', 'WITHSCORES')).toEqual(['x', '1', 'a', '2', 'b', '12', 'c', '23', 'd', '31']);
    expect(await r2.zinterstore('i', 2, 'z1', 'z2', 'WEIGHTS', 2, 0.5)).toBe(2);
    expect(await r2.zrange('i', '0', '-1', 'WITHSCORES')).toEqual(['b', '9', 'c', '16']);
    expect(await r2.zinterstore('i', 2, 'z1', 'z2', 'AGGREGATE', 'MAX')).toBe(2);
    expect(await r2.zrange('i', '0', '-1', 'WITHSCORES')).toEqual(['b', '10', 'c', '20']);
    expect(await r2.zunionstore('u', 2, 'z1', 'z2', 'AGGREGATE', 'MIN', 'WEIGHTS', 1, -1)).toBe(4);
    expect(await r2.zrange('u', '0', '-1', 'WITHSCORES')).toEqual(['d', '-30', 'c', '-20', 'b', '-10', 'a', '1']);
    // +inf + -inf aggregates to 0; inf * 0 weights to 0
    await r.zadd('inf', 'inf', 'p', '-inf', 'n');
    expect(await r2.zunionstore('u', 2, 'inf', 'inf', 'WEIGHTS', 1, -1)).toBe(2);
    expect(await r2.zrange('u', '0', '-1', 'WITHSCORES')).toEqual(['n', '0', 'p', '0']);
    // an empty result deletes the destination
    await r.set('dst', 'old');
    expect(await r2.zinterstore('dst', 2, 'z1', 'nokey')).toBe(0);
    expect(await r2.exists('dst')).toBe(0);
    expect(await r2.call('ZUNION', '2', 'z1', 's', 'WITHSCORES')).toEqual(['d', '1', 'x', '1', 'a', '2', 'b', '2', 'c', '3']);
    expect(await r.call('ZINTER', '2', 'z1', 'z2', 'WITHSCORES')).toEqual([
      ['b', '12'],
      ['c', '23'],
    ]);
    expect(await r2.call('ZDIFF', '2', 'z1', 'z2', 'WITHSCORES')).toEqual(['a', '1']);
    expect(await r2.call('ZDIFFSTORE', 'df', '2', 'z2', 's')).toBe(2);
    expect(await r2.call('ZINTERCARD', '2', 'z1', 'z2')).toBe(2);
    expect(await r2.call('ZINTERCARD', '2', 'z1', 'z2', 'LIMIT', '1')).toBe(1);
    const errs: [string[], string][] = [
      [['ZUNIONSTORE', 'd', '0', 'z1'], "ERR at least 1 input key is needed for 'zunionstore' command"],
      [['ZINTERSTORE', 'd', '-1', 'z1'], "ERR at least 1 input key is needed for 'zinterstore' command"],
      [['ZUNIONSTORE', 'd', '3', 'z1'], 'ERR syntax error'],
      [['ZUNIONSTORE', 'd', 'x', 'z1'], 'ERR value is not an integer or out of range'],
      [['ZUNIONSTORE', 'd', '1', 'z1', 'WEIGHTS', 'x'], 'ERR weight value is not a float'],
      [['ZUNIONSTORE', 'd', '1', 'z1', 'WEIGHTS', '1', '2'], 'ERR syntax error'],
      [['ZUNIONSTORE', 'd', '1', 'z1', 'AGGREGATE', 'avg'], 'ERR syntax error'],
      [['ZUNIONSTORE', 'd', '1', 'z1', 'WITHSCORES'], 'ERR syntax error'],
      [['ZDIFF', '1', 'z1', 'WEIGHTS', '1'], 'ERR syntax error'],
      [['ZINTERCARD', '1', 'z1', 'LIMIT', '-1'], "ERR LIMIT can't be negative"],
    ];
    for (const [c, msg] of errs) expect(await errOf(r2.call(c[0], ...c.slice(1))), c.join(' ')).toBe(msg);
    await r.set('str', 'x');
    expect(await errOf(r2.zunionstore('d', 2, 'z1', 'str'))).toBe(WRONGTYPE);
  });

  it('ZRANGESTORE stores a range (deleting the destination when empty)', async () => {
    await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
    expect(await r2.call('ZRANGESTORE', 'd', 'z', '1', '2')).toBe(2);
    expect(await r2.zrange('d', '0', '-1', 'WITHSCORES')).toEqual(['b', '2', 'c', '3']);
    expect(await r2.call('ZRANGESTORE', 'd', 'z', '+inf', '(1', 'BYSCORE', 'REV', 'LIMIT', '0', '2')).toBe(2);
    expect(await r2.zrange('d', '0', '-1')).toEqual(['c', 'd']);
    expect(await r2.call('ZRANGESTORE', 'd', 'nokey', '0', '-1')).toBe(0);
    expect(await r2.exists('d')).toBe(0);
    expect(await r2.call('ZRANGESTORE', 'z', 'z', '0', '0')).toBe(1);
    expect(await r2.zrange('z', '0', '-1')).toEqual(['a']);
  });

  it('ZRANDMEMBER: distinct members for a positive count, repeats for a negative one, WITHSCORES pairs', async () => {
    const members = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await r.zadd('z', ...members.flatMap((m, i) => [i, m]));
    expect(members).toContain(await r2.zrandmember('z'));
    for (const n of [1, 5, 7, 19, 20, 50]) {
      const got = (await r2.zrandmember('z', n)) as string[];
      expect(got.length).toBe(Math.min(n, 20));
      expect(new Set(got).size).toBe(got.length);
      for (const m of got) expect(members).toContain(m);
    }
    const rep = (await r2.zrandmember('z', -100)) as string[];
    expect(rep.length).toBe(100);
    expect(new Set(rep).size).toBeLessThan(21);
    const ws = (await r2.zrandmember('z', 3, 'WITHSCORES')) as string[];
    expect(ws.length).toBe(6);
    for (let i = 0; i < 6; i += 2) expect(ws[i + 1]).toBe(String(members.indexOf(ws[i])));
    const nested = (await r.call('ZRANDMEMBER', 'z', '-2', 'WITHSCORES')) as [string, string][];
    expect(nested.length).toBe(2);
    for (const [m, s] of nested) expect(s).toBe(String(members.indexOf(m)));
    expect(await raw3('ZRANDMEMBER', 'nokey')).toBe('_\r\n');
    expect(await raw2('ZRANDMEMBER', 'nokey', '3')).toBe('*0\r\n');
    expect(await raw2('ZRANDMEMBER', 'z', '0')).toBe('*0\r\n');
    expect(await errOf(r2.call('ZRANDMEMBER', 'z', '1', 'x'))).toBe('ERR syntax error');
    expect(await errOf(r2.call('ZRANDMEMBER', 'z', '9223372036854775807', 'WITHSCORES'))).toBe('ERR value is out of range');
    expect(await errOf(r2.call('ZRANDMEMBER', 'z', '-9223372036854775808'))).toBe(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  });

  it('ZSCAN: a small set comes whole in order; a large one by cursor, every member once', async () => {
    await r.zadd('small', 2, 'b', 1, 'a');
    expect(await r2.zscan('small', 0, 'COUNT', 1)).toEqual(['0', ['a', '1', 'b', '2']]);
    expect(await r2.zscan('small', 0, 'MATCH', 'b*')).toEqual(['0', ['b', '2']]);
    expect(await r2.zscan('nokey', 0)).toEqual(['0', []]);
    expect(await errOf(r2.zscan('small', 'x'))).toBe('ERR invalid cursor');
    expect(await errOf(r2.zscan('small', 0, 'COUNT', 0))).toBe('ERR syntax error');
    const p = r.pipeline();
    for (let i = 0; i < 1000; i++) p.zadd('big', i / 4, `m${i}`);
    await p.exec();
    const seen = new Map<string, string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, items] = await r2.zscan('big', cursor, 'COUNT', 100);
      for (let i = 0; i < items.length; i += 2) seen.set(items[i], items[i + 1]);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    expect(calls).toBeGreaterThan(5);
    expect(seen.size).toBe(1000);
    expect(seen.get('m6')).toBe('1.5');
  });

  it('command table: arity, flags, key positions and @sortedset', async () => {
    const info = (await r2.call('COMMAND', 'INFO', 'zadd', 'zrange', 'zunionstore', 'zrangestore', 'zcount')) as unknown[][];
    expect(info[0].slice(0, 6)).toEqual(['zadd', -4, ['write', 'denyoom', 'fast'], 1, 1, 1]);
    expect(info[0][6]).toEqual(['@write', '@sortedset', '@fast']);
    expect(info[1].slice(0, 6)).toEqual(['zrange', -4, ['readonly'], 1, 1, 1]);
    expect(info[1][6]).toEqual(['@read', '@sortedset', '@slow']);
    expect(info[2].slice(0, 3)).toEqual(['zunionstore', -4, ['write', 'denyoom', 'movablekeys']]);
    expect(info[3].slice(0, 6)).toEqual(['zrangestore', -5, ['write', 'denyoom'], 1, 2, 1]);
    expect(info[4].slice(0, 3)).toEqual(['zcount', 4, ['readonly', 'fast']]);
    expect(await r2.call('COMMAND', 'GETKEYS', 'ZUNIONSTORE', 'd', '2', 'a', 'b', 'WEIGHTS', '1', '2')).toEqual(['d', 'a', 'b']);
    expect(await r2.call('COMMAND', 'GETKEYS', 'ZINTER', '2', 'a', 'b')).toEqual(['a', 'b']);
    expect(await r2.call('COMMAND', 'GETKEYS', 'ZRANGESTORE', 'd', 's', '0', '1')).toEqual(['d', 's']);
  });

  it('WATCH: a ZADD that changes nothing does not abort a transaction; one that changes the set does', async () => {
    await r.zadd('z', 1, 'a');
    const w = srv.client({ protocol: 2 });
    await w.watch('z');
    await r.zadd('z', 'NX', 5, 'a');
    await r.zadd('z', 'GT', 0, 'a');
    await r.zrem('z', 'nope');
    expect(await w.multi().get('x').exec()).toEqual([[null, null]]);
    await w.watch('z');
    await r.zincrby('z', 1, 'a');
    expect(await w.multi().get('x').exec()).toBeNull();
    await w.watch('z');
    await r.zpopmin('z');
    expect(await w.multi().get('x').exec()).toBeNull();
    w.disconnect();
  });
});

// ---- differential run against a real redis-server ----


/** A random sorted-set command over a few keys (one a set, one a string, one kept all-zero-score for lex). */
function randomCommand(rnd: () => number): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const zkeys = ['z1', 'z2', 'z3', 'zbig'];
  const anyKey = () => (rnd() < 0.93 ? pick(zkeys) : pick(['s1', 'str', 'nokey']));
  const scores = ['0', '1', '2', '3', '-1', '-2', '1.5', '0.1', '2.5', 'inf', '-inf', '+inf', '-0', '1e-7', '3e5', '7', '0.30000000000000004'];
  const member = (key: string) => (key === 'zbig' ? `m${int(0, 299)}` : pick(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', '', 'long-' + 'x'.repeat(70)]));
  const lexMember = () => pick(['', 'a', 'aa', 'ab', 'a\u0000b', '\u0000', 'b', 'ba', 'bb', 'c', 'ca', 'd', 'e', 'z', '\u00ff']);
  const bound = () => {
    const v = rnd() < 0.2 ? pick(['-inf', '+inf', 'inf']) : pick(['0', '1', '1.5', '2', '3', '-1', '7', '0.1']);
    return rnd() < 0.3 ? '(' + v : v;
  };
  const lexBound = () => (rnd() < 0.15 ? pick(['-', '+']) : (rnd() < 0.5 ? '(' : '[') + lexMember());
  const limit = () => (rnd() < 0.3 ? ['LIMIT', String(int(-1, 5)), String(int(-1, 5))] : []);
  const ws = () => (rnd() < 0.5 ? ['WITHSCORES'] : []);
  const x = rnd();
  const key = anyKey();
  if (x < 0.2) {
    const opts: string[] = [];
    for (const o of ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']) if (rnd() < 0.12) opts.push(o);
    const n = opts.includes('INCR') && rnd() < 0.9 ? 1 : int(1, key === 'zbig' ? 12 : 4);
    const pairs: string[] = [];
    for (let i = 0; i < n; i++) pairs.push(pick(scores), member(key));
    return ['ZADD', key, ...opts, ...pairs];
  }
  if (x < 0.27) return ['ZINCRBY', key, pick(scores), member(key)];
  if (x < 0.33) return ['ZREM', key, member(key), ...(rnd() < 0.5 ? [member(key)] : [])];
  if (x < 0.38) return ['ZRANGE', key, String(int(-5, 5)), String(int(-5, 5)), ...ws()];
  if (x < 0.42) return ['ZREVRANGE', key, String(int(-5, 5)), String(int(-5, 5)), ...ws()];
  if (x < 0.47) return ['ZRANGEBYSCORE', key, bound(), bound(), ...ws(), ...limit()];
  if (x < 0.51) return ['ZREVRANGEBYSCORE', key, bound(), bound(), ...ws(), ...limit()];
  if (x < 0.55) return ['ZRANGE', key, bound(), bound(), 'BYSCORE', ...(rnd() < 0.5 ? ['REV'] : []), ...ws(), ...limit()];
  if (x < 0.58) return [pick(['ZRANK', 'ZREVRANK']), key, member(key)];
  if (x < 0.6) return ['ZSCORE', key, member(key)];
  if (x < 0.61) return ['ZMSCORE', key, member(key), member(key)];
  if (x < 0.62) return ['ZCARD', key];
  if (x < 0.64) return ['ZCOUNT', key, bound(), bound()];
  if (x < 0.67) return [pick(['ZPOPMIN', 'ZPOPMAX']), key, ...(rnd() < 0.6 ? [String(int(0, 3))] : [])];
  if (x < 0.68) return ['ZSCAN', 'zbig', '0', 'COUNT', '1000'];
  if (x < 0.72) {
    const op = pick(['ZUNIONSTORE', 'ZINTERSTORE', 'ZUNION', 'ZINTER', 'ZDIFF', 'ZDIFFSTORE']);
    const n = int(1, 3);
    const srcs = Array.from({ length: n }, () => (rnd() < 0.85 ? pick([...zkeys, 's1']) : pick(['nokey', 'str'])));
    const args: string[] = [];
    if (!op.startsWith('ZDIFF')) {
      if (rnd() < 0.4) args.push('WEIGHTS', ...srcs.map(() => pick(['1', '2', '-1', '0', '0.5', 'inf'])));
      if (rnd() < 0.4) args.push('AGGREGATE', pick(['SUM', 'MIN', 'MAX']));
    }
    if (!op.endsWith('STORE') && rnd() < 0.6) args.push('WITHSCORES');
    const dst = pick(['z1', 'z2', 'z3', 'dst']);
    return op.endsWith('STORE') ? [op, dst, String(n), ...srcs, ...args] : [op, String(n), ...srcs, ...args];
  }
  if (x < 0.75) {
    const dst = pick(['z3', 'dst']);
    if (rnd() < 0.5) return ['ZRANGESTORE', dst, key, String(int(-4, 4)), String(int(-4, 4)), ...(rnd() < 0.3 ? ['REV'] : [])];
    return ['ZRANGESTORE', dst, key, bound(), bound(), 'BYSCORE', ...(rnd() < 0.4 ? ['REV'] : []), ...limit()];
  }
  // range removals mostly spare zbig, which must stay large
  const small = key === 'zbig' && rnd() < 0.9 ? pick(['z1', 'z2', 'z3']) : key;
  if (x < 0.77) return ['ZREMRANGEBYSCORE', small, bound(), bound()];
  if (x < 0.78) return ['ZREMRANGEBYRANK', small, String(int(-4, 4)), String(int(-4, 4))];
  // lex commands on zlex, whose scores are all 0 (lex order on mixed scores is undefined in Redis)
  if (x < 0.83) return ['ZADD', 'zlex', '0', lexMember(), ...(rnd() < 0.5 ? ['0', lexMember()] : [])];
  if (x < 0.88) return ['ZRANGEBYLEX', 'zlex', lexBound(), lexBound(), ...limit()];
  if (x < 0.91) return ['ZREVRANGEBYLEX', 'zlex', lexBound(), lexBound(), ...limit()];
  if (x < 0.93) return ['ZRANGE', 'zlex', lexBound(), lexBound(), 'BYLEX', ...(rnd() < 0.5 ? ['REV'] : []), ...limit()];
  if (x < 0.95) return ['ZLEXCOUNT', 'zlex', lexBound(), lexBound()];
  if (x < 0.96) return ['ZREMRANGEBYLEX', 'zlex', lexBound(), lexBound()];
  if (x < 0.97) return ['ZRANGESTORE', 'dst', 'zlex', lexBound(), lexBound(), 'BYLEX', ...limit()];
  if (x < 0.98) return ['SADD', 's1', pick(['a', 'b', 'x', 'y'])];
  if (x < 0.99) return ['DEL', pick(['z1', 'z2', 'z3', 'dst', 's1'])];
  return ['ZSCAN', pick(['z1', 'z2', 'z3', 'zlex', 'str']), '0', 'COUNT', '1000'];
}

/** A ZSCAN reply with its (member, score) pairs sorted: a hash table's scan order is its own. */
function sortedScan(reply: string): string {
  const m = /^\*2\r\n\$1\r\n0\r\n\*(\d+)\r\n/.exec(reply);
  if (!m) return reply;
  const items: string[] = [];
  let p = m[0].length;
  for (let i = 0; i < Number(m[1]); i++) {
    const nl = reply.indexOf('\r\n', p);
    const len = Number(reply.slice(p + 1, nl));
    items.push(reply.slice(nl + 2, nl + 2 + len));
    p = nl + 2 + len + 2;
  }
  const pairs: string[] = [];
  for (let i = 0; i < items.length; i += 2) pairs.push(JSON.stringify([items[i], items[i + 1]]));
  return m[0] + pairs.sort().join('|');
}

describe.skipIf(!REDIS_SERVER)('differential: the same random commands against redis-server 7', () => {
  let srv: TestServer;
  let ref: { port: number; proc: ChildProcess; dir: string };
  const socks: net.Socket[] = [];

  beforeAll(async () => {
    [srv, ref] = await Promise.all([startServer(), startRedis()]);
  });
  afterAll(async () => {
    for (const s of socks) s.destroy();
    await srv?.stop();
    if (ref) {
      ref.proc.kill('SIGKILL');
      fs.rmSync(ref.dir, { recursive: true, force: true });
    }
  });

  it('5000 random commands: every reply identical, in RESP2 and RESP3', async () => {
    const ours = [await rawPort(srv.port, 2), await rawPort(srv.port, 3)];
    const theirs = [await rawPort(ref.port, 2), await rawPort(ref.port, 3)];
    for (const c of [...ours, ...theirs]) socks.push(c.sock);
    const seed = Number(process.env.ZSET_SEED ?? Date.now() % 1000000);
    const rnd = prng(seed);
    await ours[0].send('FLUSHALL');
    await theirs[0].send('FLUSHALL');
    const big = ['ZADD', 'zbig'];
    for (let i = 0; i < 300; i += 2) big.push(String(i % 7), `m${i}`);
    for (const setup of [['SET', 'str', 'x'], ['SADD', 's1', 'a', 'c', 'x'], big]) {
      await ours[0].send(...setup);
      await theirs[0].send(...setup);
    }
    const steps = Number(process.env.ZSET_STEPS ?? 5000);
    let compared = 0;
    for (let i = 0; i < steps; i++) {
      const cmd = randomCommand(rnd);
      const proto = rnd() < 0.5 ? 0 : 1;
      let [a, b] = await Promise.all([ours[proto].send(...cmd), theirs[proto].send(...cmd)]);
      if (cmd[0] === 'ZSCAN') [a, b] = [sortedScan(a), sortedScan(b)];
      if (process.env.ZSET_TRACE) console.log(i, JSON.stringify(cmd), JSON.stringify(b));
      if (a !== b) {
        throw new Error(`seed ${seed}, command #${i} (RESP${proto + 2}): ${JSON.stringify(cmd)}\nredis: ${JSON.stringify(b)}\nours:  ${JSON.stringify(a)}`);
      }
      compared++;
    }
    expect(compared).toBe(steps);
    // and the final contents agree
    for (const key of ['z1', 'z2', 'z3', 'zbig', 'zlex', 'dst']) {
      const [a, b] = await Promise.all([
        ours[0].send('ZRANGE', key, '0', '-1', 'WITHSCORES'),
        theirs[0].send('ZRANGE', key, '0', '-1', 'WITHSCORES'),
      ]);
      expect(a, key).toBe(b);
    }
    // the big key really went past the compact size in both
    // the big key went past the compact (listpack) size in Redis, so both of its forms were compared
    expect(await theirs[0].send('OBJECT', 'ENCODING', 'zbig')).toBe('$8\r\nskiplist\r\n');
  });
});

// ---- persistence ----

describe('sorted sets persist', () => {
  const dirs: string[] = [];
  const servers: TestServer[] = [];
  const start = async (dir: string) => {
    const s = await startServer(['--save', ''], { dir });
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('SAVE + restart and DEBUG RELOAD keep every member and score; DEBUG DIGEST covers zsets', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-zset-'));
    dirs.push(dir);
    let s = await start(dir);
    let r = s.client({ protocol: 2 });
    const bin = Buffer.from([0, 255, 13, 10, 7]);
    await r.zadd('z', 'inf', 'top', '-inf', 'bottom', '0.1', 'tenth', '-2.5', bin);
    const p = r.pipeline();
    for (let i = 0; i < 3000; i++) p.zadd('big', (i * 37) % 1000, `m${i}`);
    await p.exec();
    await r.select(3);
    await r.zadd('in3', 1, 'x');
    await r.select(0);
    const digest = await r.call('DEBUG', 'DIGEST');
    expect(digest).not.toBe('0'.repeat(40));
    const before = await r.zrangeBuffer('z', '0', '-1', 'WITHSCORES');
    const bigBefore = await r.zrange('big', '0', '-1', 'WITHSCORES');
    // the digest sees scores, not the order members were added in
    const dv = await r.call('DEBUG', 'DIGEST-VALUE', 'z');
    await r.zadd('zcopy', '-2.5', bin, '0.1', 'tenth', '-inf', 'bottom', 'inf', 'top');
    const [d1, d2] = (await r.call('DEBUG', 'DIGEST-VALUE', 'z', 'zcopy')) as string[];
    expect(d1).toBe(d2);
    expect(d1).not.toBe('0'.repeat(40));
    await r.del('zcopy');
    await r.zincrby('z', 1, 'tenth');
    expect(await r.call('DEBUG', 'DIGEST-VALUE', 'z')).not.toEqual(dv);
    await r.zincrby('z', -1, 'tenth');
    await r.zadd('z', '0.1', 'tenth');
    expect(await r.call('DEBUG', 'DIGEST')).toEqual(digest);
    expect(await r.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await r.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(await r.type('big')).toBe('zset');
    expect(await r.save()).toBe('OK');
    await s.stop();
    s = await start(dir);
    r = s.client({ protocol: 2 });
    expect(await r.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(await r.zrangeBuffer('z', '0', '-1', 'WITHSCORES')).toEqual(before);
    expect(await r.zrange('big', '0', '-1', 'WITHSCORES')).toEqual(bigBefore);
    expect(await r.zrank('big', 'm1')).toBe(bigBefore.indexOf('m1') / 2);
    expect(await r.zscore('z', bin)).toBe('-2.5');
    await r.select(3);
    expect(await r.zscore('in3', 'x')).toBe('1');
    // the loaded set is a working skip list
    await r.select(0);
    await r.zadd('big', -1, 'first');
    expect(await r.zrange('big', '0', '0')).toEqual(['first']);
  });

  it('the append-only file replays sorted set writes to the same contents after kill -9', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-zset-'));
    dirs.push(dir);
    let s = await startServer(['--save', '', '--appendonly', 'yes'], { dir });
    servers.push(s);
    let r = s.client({ protocol: 2, retryStrategy: () => null });
    r.on('error', () => {});
    await r.zadd('a', 1, 'x', 2, 'y', 3, 'z', '0.1', 'w');
    await r.zincrby('a', '0.2', 'w');
    await r.zadd('b', 'GT', 'CH', 5, 'x', 1, 'q');
    await r.zpopmax('a');
    await r.zunionstore('u', 2, 'a', 'b', 'WEIGHTS', 2, 3, 'AGGREGATE', 'MAX');
    await r.call('ZRANGESTORE', 'rs', 'u', '(1', '+inf', 'BYSCORE', 'REV', 'LIMIT', '0', '2');
    await r.zremrangebyscore('b', '-inf', '(2');
    const keys = ['a', 'b', 'u', 'rs'];
    const want = await Promise.all(keys.map((k) => r.zrange(k, '0', '-1', 'WITHSCORES')));
    const digest = await r.call('DEBUG', 'DIGEST');
    s.proc.kill('SIGKILL');
    await new Promise((ok) => s.proc.once('exit', ok));
    s = await startServer(['--save', '', '--appendonly', 'yes'], { dir });
    servers.push(s);
    r = s.client({ protocol: 2 });
    expect(await Promise.all(keys.map((k) => r.zrange(k, '0', '-1', 'WITHSCORES')))).toEqual(want);
    expect(await r.call('DEBUG', 'DIGEST')).toBe(digest);
  });

  it('BGSAVE keeps the view of its instant: sorted sets changed during it are copied (copy-on-write)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-zset-'));
    dirs.push(dir);
    let s = await start(dir);
    let r = s.client({ protocol: 2 });
    const filler = r.pipeline();
    for (let i = 0; i < 20000; i++) filler.set(`f${i}`, 'x'.repeat(100));
    await filler.exec();
    await r.zadd('Z', 1, 'a', 2, 'b');
    const p = r.pipeline();
    p.bgsave();
    p.zadd('Z', 3, 'c');
    p.zincrby('Z', 10, 'a');
    p.zrem('Z', 'b');
    const res = (await p.exec())!;
    expect(res[0][1]).toBe('Background saving started');
    for (let i = 0; i < 500; i++) {
      if (/rdb_bgsave_in_progress:0/.test(await r.info('persistence'))) break;
      await new Promise((ok) => setTimeout(ok, 20));
    }
    expect(await r.zrange('Z', '0', '-1', 'WITHSCORES')).toEqual(['c', '3', 'a', '11']);
    await s.stop();
    s = await start(dir);
    r = s.client({ protocol: 2 });
    expect(await r.zrange('Z', '0', '-1', 'WITHSCORES')).toEqual(['a', '1', 'b', '2']);
  });
});

describe.skipIf(!haveCli)('redis-cli', () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv?.stop());

  it('prints sorted sets as it does for Redis, in RESP2 and RESP3', async () => {
    const cli = (...args: string[]) => spawnSync(REDIS_CLI, ['-p', String(srv.port), ...args], { encoding: 'latin1' }).stdout;
    expect(cli('ZADD', 'z', '1', 'a', '2.5', 'b')).toBe('2\n');
    expect(cli('ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toBe('a\n1\nb\n2.5\n');
    expect(cli('--no-raw', 'ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toBe('1) "a"\n2) "1"\n3) "b"\n4) "2.5"\n');
    expect(cli('-3', '--no-raw', 'ZRANGE', 'z', '0', '-1', 'WITHSCORES')).toBe('1) 1) "a"\n   2) (double) 1\n2) 1) "b"\n   2) (double) 2.5\n');
    expect(cli('-3', '--no-raw', 'ZSCORE', 'z', 'b')).toBe('(double) 2.5\n');
    expect(cli('ZINCRBY', 'z', '0.1', 'a')).toBe('1.1000000000000001\n');
  });
});
