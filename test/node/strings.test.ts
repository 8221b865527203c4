// String commands against a real server process, with Redis 7's exact replies and error texts.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { encode, rawExchange, startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';

const SYNTAX = 'ERR syntax error';
const NOT_INT = 'ERR value is not an integer or out of range';
const NOT_FLOAT = 'ERR value is not a valid float';
const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

describe('string commands', () => {
  let srv: TestServer;
  let r: Redis;
  let r2: Redis;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
    r2 = srv.client({ protocol: 2 });
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  describe('GET / SET', () => {
    it('sets and gets; a missing key is null', async () => {
      expect(await r.set('k', 'v')).toBe('OK');
      expect(await r.get('k')).toBe('v');
      expect(await r.get('missing')).toBeNull();
      expect(await r2.get('missing')).toBeNull();
      expect(await r.set('k', 'v2')).toBe('OK');
      expect(await r.get('k')).toBe('v2');
    });

    it('EX / PX / EXAT / PXAT set the TTL', async () => {
      expect(await r.call('set', 'a', '1', 'EX', '100')).toBe('OK');
      expect(await r.ttl('a')).toBe(100);
      expect(await r.call('set', 'b', '1', 'px', '100000')).toBe('OK');
      const pttl = await r.pttl('b');
      expect(pttl).toBeGreaterThan(99000);
      expect(pttl).toBeLessThanOrEqual(100000);
      const at = Math.floor(Date.now() / 1000) + 200;
      expect(await r.call('set', 'c', '1', 'EXAT', String(at))).toBe('OK');
      expect(await r.call('expiretime', 'c')).toBe(at);
      const pat = Date.now() + 300000;
      expect(await r.call('set', 'd', '1', 'PXAT', String(pat))).toBe('OK');
      expect(await r.call('pexpiretime', 'd')).toBe(pat);
    });

    it('an absolute time in the past stores nothing (the key expires at once)', async () => {
      expect(await r.call('set', 'k', 'v', 'PXAT', '1')).toBe('OK');
      expect(await r.get('k')).toBeNull();
      expect(await r.exists('k')).toBe(0);
    });

    it('a plain SET clears the TTL; KEEPTTL keeps it', async () => {
      await r.set('k', 'v', 'EX', 100);
      expect(await r.call('set', 'k', 'v2', 'KEEPTTL')).toBe('OK');
      expect(await r.ttl('k')).toBe(100);
      expect(await r.get('k')).toBe('v2');
      await r.set('k', 'v3');
      expect(await r.ttl('k')).toBe(-1);
    });

    it('NX only sets a missing key, XX only an existing one', async () => {
      expect(await r.call('set', 'k', 'v1', 'NX')).toBe('OK');
      expect(await r.call('set', 'k', 'v2', 'NX')).toBeNull();
      expect(await r.get('k')).toBe('v1');
      expect(await r.call('set', 'k', 'v3', 'XX')).toBe('OK');
      expect(await r.get('k')).toBe('v3');
      expect(await r.call('set', 'other', 'v', 'XX')).toBeNull();
      expect(await r.exists('other')).toBe(0);
      // RESP2 null bulk too
      expect(await r2.call('set', 'k', 'x', 'NX')).toBeNull();
    });

    it('GET returns the old value (null when none), also when NX/XX refuse', async () => {
      await r.set('k', 'old');
      expect(await r.call('set', 'k', 'new', 'GET')).toBe('old');
      expect(await r.get('k')).toBe('new');
      expect(await r.call('set', 'fresh', 'v', 'GET')).toBeNull();
      expect(await r.get('fresh')).toBe('v');
      expect(await r.call('set', 'k', 'nope', 'NX', 'GET')).toBe('new');
      expect(await r.get('k')).toBe('new');
      expect(await r.call('set', 'k', 'yes', 'XX', 'GET')).toBe('new');
      expect(await r.get('k')).toBe('yes');
      expect(await r.call('set', 'absent', 'v', 'XX', 'GET')).toBeNull();
      expect(await r.exists('absent')).toBe(0);
    });

    it('SET GET on a non-string is WRONGTYPE and changes nothing', async () => {
      await r.call('hset', 'h', 'f', 'v').catch(() => r.call('sadd', 'h', 'm'));
      expect(await errOf(r.call('set', 'h', 'v', 'GET'))).toBe(WRONGTYPE);
      expect(await r.type('h')).not.toBe('string');
      // a plain SET overwrites any type
      expect(await r.set('h', 'v')).toBe('OK');
      expect(await r.type('h')).toBe('string');
    });

    it('rejects invalid option combinations with a syntax error', async () => {
      for (const args of [
        ['NX', 'XX'],
        ['XX', 'NX'],
        ['EX', '10', 'PX', '100'],
        ['EX', '10', 'EXAT', '100'],
        ['PXAT', '10', 'PX', '100'],
        ['EX', '10', 'KEEPTTL'],
        ['KEEPTTL', 'EX', '10'],
        ['EX'],
        ['PX'],
        ['foo'],
        ['NX', 'foo'],
      ]) {
        expect(await errOf(r.call('set', 'k', 'v', ...args)), args.join(' ')).toBe(SYNTAX);
      }
      expect(await r.exists('k')).toBe(0);
    });

    it('rejects bad expire times', async () => {
      for (const [opt, n] of [
        ['EX', '0'],
        ['PX', '0'],
        ['EX', '-1'],
        ['EXAT', '0'],
        ['PXAT', '-5'],
        ['EX', '9223372036854775807'],
        ['PX', '9223372036854775807'],
      ]) {
        expect(await errOf(r.call('set', 'k', 'v', opt, n)), `${opt} ${n}`).toBe("ERR invalid expire time in 'set' command");
      }
      expect(await errOf(r.call('set', 'k', 'v', 'EX', 'abc'))).toBe(NOT_INT);
      expect(await errOf(r.call('set', 'k', 'v', 'EX', '1.5'))).toBe(NOT_INT);
      expect(await r.exists('k')).toBe(0);
    });

    it('a repeated option is fine (the last time wins); syntax errors win over bad numbers', async () => {
      expect(await r.call('set', 'k', 'v', 'EX', '10', 'EX', '20')).toBe('OK');
      expect(await r.ttl('k')).toBe(20);
      expect(await r.call('set', 'k', 'v', 'NX', 'NX')).toBeNull();
      expect(await r.call('set', 'k', 'w', 'XX', 'XX', 'GET', 'GET')).toBe('v');
      expect(await errOf(r.call('set', 'k', 'v', 'EX', 'abc', 'foo'))).toBe(SYNTAX);
      expect(await errOf(r.call('set', 'k', 'v', 'PXAT', '0', 'KEEPTTL'))).toBe(SYNTAX);
      expect(await errOf(r.call('set', 'k', 'v', 'EX', '0', 'EX'))).toBe(SYNTAX);
      // a far-away absolute time is fine
      expect(await r.call('set', 'far', 'v', 'EXAT', '9999999999999')).toBe('OK');
      expect(await r.ttl('far')).toBeGreaterThan(9999999999999 - Date.now() / 1000 - 5);
    });

    it('checks arity', async () => {
      expect(await errOf(r.call('set', 'k'))).toBe("ERR wrong number of arguments for 'set' command");
      expect(await errOf(r.call('get'))).toBe("ERR wrong number of arguments for 'get' command");
      expect(await errOf(r.call('get', 'a', 'b'))).toBe("ERR wrong number of arguments for 'get' command");
    });

    it('options are case-insensitive', async () => {
      expect(await r.call('set', 'k', 'v', 'nx', 'ex', '50')).toBe('OK');
      expect(await r.ttl('k')).toBe(50);
      expect(await r.call('set', 'k', 'w', 'Xx', 'kEePtTl', 'gEt')).toBe('v');
      expect(await r.ttl('k')).toBe(50);
    });
  });

  describe('binary safety', () => {
    it('round-trips values with NUL and high bytes', async () => {
      const value = Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a, 0x41, 0x00, 0xfe]);
      const key = Buffer.from([0x6b, 0x00, 0xe9]);
      expect(await r.set(key, value)).toBe('OK');
      const got = await r.getBuffer(key);
      expect(Buffer.compare(got!, value)).toBe(0);
      expect(await r.strlen(key)).toBe(8);
      expect(await r.exists(Buffer.from([0x6b, 0x00]))).toBe(0);
      const keys = await r.keysBuffer('*');
      expect(keys.map((k) => k.toString('hex'))).toEqual(['6b00e9']);
    });

    it('APPEND / SETRANGE / GETRANGE work on bytes', async () => {
      await r.set('b', Buffer.from([0xff, 0x00]));
      expect(await r.append('b', Buffer.from([0x00, 0xc3]))).toBe(4);
      expect((await r.getBuffer('b'))!.toString('hex')).toBe('ff0000c3');
      expect(await r.setrange('b', 1, Buffer.from([0xaa]))).toBe(4);
      expect((await r.getrangeBuffer('b', 1, 2)).toString('hex')).toBe('aa00');
      expect((await r.getBuffer('b'))!.toString('hex')).toBe('ffaa00c3');
    });

    it('a large value (1 MiB) round-trips', async () => {
      const big = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      await r.set('big', big);
      const got = await r.getBuffer('big');
      expect(got!.length).toBe(big.length);
      expect(Buffer.compare(got!, big)).toBe(0);
      expect(await r.strlen('big')).toBe(1024 * 1024);
    });
  });

  describe('SETNX / SETEX / PSETEX / GETSET / GETDEL', () => {
    it('SETNX', async () => {
      expect(await r.setnx('k', '1')).toBe(1);
      expect(await r.setnx('k', '2')).toBe(0);
      expect(await r.get('k')).toBe('1');
    });

    it('SETEX / PSETEX set value and TTL; non-positive times are errors', async () => {
      expect(await r.setex('k', 100, 'v')).toBe('OK');
      expect(await r.get('k')).toBe('v');
      expect(await r.ttl('k')).toBe(100);
      expect(await r.psetex('p', 5000, 'v')).toBe('OK');
      const pttl = await r.pttl('p');
      expect(pttl).toBeGreaterThan(4000);
      expect(pttl).toBeLessThanOrEqual(5000);
      expect(await errOf(r.setex('k', 0, 'v'))).toBe("ERR invalid expire time in 'setex' command");
      expect(await errOf(r.setex('k', -5, 'v'))).toBe("ERR invalid expire time in 'setex' command");
      expect(await errOf(r.psetex('k', 0, 'v'))).toBe("ERR invalid expire time in 'psetex' command");
      expect(await errOf(r.call('setex', 'k', 'abc', 'v'))).toBe(NOT_INT);
    });

    it('GETSET returns the old value and clears the TTL', async () => {
      expect(await r.getset('k', 'a')).toBeNull();
      await r.expire('k', 100);
      expect(await r.getset('k', 'b')).toBe('a');
      expect(await r.get('k')).toBe('b');
      expect(await r.ttl('k')).toBe(-1);
    });

    it('GETDEL returns the value and deletes the key', async () => {
      await r.set('k', 'v');
      expect(await r.getdel('k')).toBe('v');
      expect(await r.exists('k')).toBe(0);
      expect(await r.getdel('k')).toBeNull();
    });
  });

  describe('GETEX', () => {
    it('returns the value and sets, changes or clears the TTL', async () => {
      await r.set('k', 'v');
      expect(await r.getex('k')).toBe('v');
      expect(await r.ttl('k')).toBe(-1);
      expect(await r.call('getex', 'k', 'EX', '100')).toBe('v');
      expect(await r.ttl('k')).toBe(100);
      expect(await r.call('getex', 'k', 'px', '50000')).toBe('v');
      expect(await r.pttl('k')).toBeGreaterThan(49000);
      expect(await r.call('getex', 'k', 'PERSIST')).toBe('v');
      expect(await r.ttl('k')).toBe(-1);
      expect(await r.call('getex', 'k', 'EXAT', '99999999999')).toBe('v');
      expect(await r.call('expiretime', 'k')).toBe(99999999999);
      expect(await r.call('getex', 'k', 'PXAT', '99999999999000')).toBe('v');
      expect(await r.call('pexpiretime', 'k')).toBe(99999999999000);
      // an absolute time in the past: the value is returned, then the key is gone
      expect(await r.call('getex', 'k', 'PXAT', '1')).toBe('v');
      expect(await r.exists('k')).toBe(0);
    });

    it('a missing key is null whatever the options; errors', async () => {
      expect(await r.call('getex', 'nokey', 'EX', '10')).toBeNull();
      expect(await r.call('getex', 'nokey', 'EX', '0')).toBeNull();
      expect(await r.call('getex', 'nokey', 'PERSIST')).toBeNull();
      await r.set('k', 'v');
      expect(await errOf(r.call('getex', 'k', 'EX', '0'))).toBe("ERR invalid expire time in 'getex' command");
      expect(await errOf(r.call('getex', 'k', 'EX', '-1'))).toBe("ERR invalid expire time in 'getex' command");
      expect(await errOf(r.call('getex', 'k', 'EX', '9223372036854775807'))).toBe("ERR invalid expire time in 'getex' command");
      expect(await errOf(r.call('getex', 'k', 'EX', 'abc'))).toBe(NOT_INT);
      for (const args of [['EX', '10', 'PX', '10'], ['PERSIST', 'EX', '10'], ['EX', '10', 'PERSIST'], ['foo'], ['EX'], ['KEEPTTL'], ['NX']]) {
        expect(await errOf(r.call('getex', 'k', ...args)), args.join(' ')).toBe(SYNTAX);
      }
      expect(await errOf(r.call('getex'))).toBe("ERR wrong number of arguments for 'getex' command");
      // repeated options are fine
      expect(await r.call('getex', 'k', 'PERSIST', 'PERSIST')).toBe('v');
      expect(await r.call('getex', 'nokey', 'EXAT', '1', 'EXAT', '-3')).toBeNull();
      expect(await r.ttl('k')).toBe(-1);
      await r.rpush('l', 'x');
      expect(await errOf(r.call('getex', 'l', 'EX', '10'))).toBe(WRONGTYPE);
      expect(await r.ttl('l')).toBe(-1);
    });
  });

  describe('MGET / MSET / MSETNX', () => {
    it('MSET sets all; MGET returns null for missing and non-string keys', async () => {
      expect(await r.mset('a', '1', 'b', '2', 'c', '3')).toBe('OK');
      await r.sadd('set', 'm').catch(() => r.hset('set', 'f', 'v'));
      expect(await r.mget('a', 'missing', 'b', 'set', 'c')).toEqual(['1', null, '2', null, '3']);
      expect(await r2.mget('a', 'missing')).toEqual(['1', null]);
    });

    it('MSET with an odd number of arguments is an arity error', async () => {
      expect(await errOf(r.call('mset', 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'mset' command");
      expect(await errOf(r.call('mset', 'a'))).toBe("ERR wrong number of arguments for 'mset' command");
      expect(await r.exists('a')).toBe(0);
    });

    it('MSET clears TTLs of overwritten keys', async () => {
      await r.set('a', 'x', 'EX', 100);
      await r.mset('a', 'y');
      expect(await r.ttl('a')).toBe(-1);
    });

    it('MSETNX sets all or nothing', async () => {
      expect(await r.msetnx('a', '1', 'b', '2')).toBe(1);
      expect(await r.msetnx('b', 'x', 'c', '3')).toBe(0);
      expect(await r.exists('c')).toBe(0);
      expect(await r.get('b')).toBe('2');
      expect(await errOf(r.call('msetnx', 'x', '1', 'y'))).toBe("ERR wrong number of arguments for 'msetnx' command");
    });
  });

  describe('INCR family', () => {
    it('INCR / DECR / INCRBY / DECRBY', async () => {
      expect(await r.incr('n')).toBe(1);
      expect(await r.incr('n')).toBe(2);
      expect(await r.decr('n')).toBe(1);
      expect(await r.incrby('n', 10)).toBe(11);
      expect(await r.decrby('n', 20)).toBe(-9);
      expect(await r.get('n')).toBe('-9');
      expect(await r.decr('fresh')).toBe(-1);
    });

    it('keeps the TTL', async () => {
      await r.set('n', '5', 'EX', 100);
      expect(await r.incr('n')).toBe(6);
      expect(await r.ttl('n')).toBe(100);
    });

    it('works at the 64-bit limits and refuses to overflow', async () => {
      await r.set('max', '9223372036854775806');
      expect(await r.call('incr', 'max')).toBe(9223372036854775807);
      expect(await r.get('max')).toBe('9223372036854775807');
      expect(await errOf(r.incr('max'))).toBe('ERR increment or decrement would overflow');
      await r.set('min', '-9223372036854775808');
      expect(await errOf(r.decr('min'))).toBe('ERR increment or decrement would overflow');
      expect(await r.get('min')).toBe('-9223372036854775808');
      await r.set('n', '1');
      expect(await errOf(r.call('incrby', 'n', '9223372036854775807'))).toBe('ERR increment or decrement would overflow');
      expect(await errOf(r.call('decrby', 'n', '-9223372036854775808'))).toBe('ERR decrement would overflow');
      expect(await errOf(r.call('incrby', 'n', '9223372036854775808'))).toBe(NOT_INT);
      expect(await r.get('n')).toBe('1');
    });

    it('exact 64-bit arithmetic beyond 2^53 (raw reply)', async () => {
      await r.set('big', '9007199254740993');
      const sock = await srv.raw();
      const reply = await rawExchange(sock, encode('INCRBY', 'big', '2'), (t) => t.endsWith('\r\n'));
      expect(reply).toBe(':9007199254740995\r\n');
      expect(await r.get('big')).toBe('9007199254740995');
    });

    it('refuses values and increments that are not canonical integers', async () => {
      for (const v of ['abc', ' 1', '1 ', '01', '-0', '+1', '1.5', '', '1e3', '99999999999999999999']) {
        await r.set('s', v);
        expect(await errOf(r.incr('s')), JSON.stringify(v)).toBe(NOT_INT);
        expect(await r.get('s')).toBe(v);
      }
      await r.set('n', '1');
      for (const d of ['abc', '1.5', '-0', ' 2']) {
        expect(await errOf(r.call('incrby', 'n', d)), d).toBe(NOT_INT);
      }
      expect(await r.get('n')).toBe('1');
    });

    it('WRONGTYPE on a non-string', async () => {
      await r.sadd('s', 'm').catch(() => r.hset('s', 'f', 'v'));
      expect(await errOf(r.incr('s'))).toBe(WRONGTYPE);
      expect(await errOf(r.incrbyfloat('s', 1))).toBe(WRONGTYPE);
      expect(await errOf(r.append('s', 'x'))).toBe(WRONGTYPE);
      expect(await errOf(r.get('s'))).toBe(WRONGTYPE);
      expect(await errOf(r.strlen('s'))).toBe(WRONGTYPE);
      expect(await errOf(r.getrange('s', 0, 1))).toBe(WRONGTYPE);
      expect(await errOf(r.setrange('s', 0, 'x'))).toBe(WRONGTYPE);
      expect(await errOf(r.getset('s', 'x'))).toBe(WRONGTYPE);
      expect(await errOf(r.getdel('s'))).toBe(WRONGTYPE);
      expect(await r.setnx('s', 'x')).toBe(0);
    });
  });

  describe('INCRBYFLOAT', () => {
    it('adds in long double precision and prints like Redis (%.17Lf, trailing zeros cut)', async () => {
      expect(await r.incrbyfloat('f', '0.1')).toBe('0.1');
      expect(await r.incrbyfloat('f', '0.2')).toBe('0.3');
      expect(await r.incrbyfloat('g', '1.5')).toBe('1.5');
      expect(await r.incrbyfloat('g', '0.1')).toBe('1.6');
      expect(await r.incrbyfloat('g', '1e3')).toBe('1001.59999999999999998');
      await r.set('h', '3');
      expect(await r.incrbyfloat('h', '1.0000000000000002')).toBe('4.0000000000000002');
      await r.set('e', '5.0e3');
      expect(await r.incrbyfloat('e', '1')).toBe('5001');
      await r.set('z', '10.5');
      expect(await r.incrbyfloat('z', '-10.5')).toBe('0');
      // "%.17Lf" of -1e-20 is "-0.00000000000000000": Redis prints it as "0"
      expect(await r.incrbyfloat('neg', '-1e-20')).toBe('0');
      expect(await r.get('neg')).toBe('0');
    });

    it('goes beyond the double range (long double) and refuses infinity', async () => {
      await r.set('f', '1.7976931348623157e308');
      const doubled = await r.incrbyfloat('f', '1.7976931348623157e308');
      expect(doubled.length).toBe(309);
      expect(doubled.startsWith('35953862697246313999')).toBe(true);
      expect(await errOf(r.incrbyfloat('f', 'inf'))).toBe('ERR increment would produce NaN or Infinity');
      expect(await errOf(r.incrbyfloat('new', '1e5000'))).toBe(NOT_FLOAT);
      expect(await r.exists('new')).toBe(0);
    });

    it('accepts exponents, hex floats, leading +, trailing dot; refuses spaces and junk', async () => {
      expect(await r.incrbyfloat('a', '3.0e0')).toBe('3');
      expect(await r.incrbyfloat('b', '0x1p3')).toBe('8');
      expect(await r.incrbyfloat('c', '+2.')).toBe('2');
      expect(await r.incrbyfloat('d', '.5')).toBe('0.5');
      for (const bad of [' 1', '1 ', 'abc', '', 'nan', '1e', '1.2.3']) {
        expect(await errOf(r.incrbyfloat('x', bad)), JSON.stringify(bad)).toBe(NOT_FLOAT);
      }
      await r.set('s', 'abc');
      expect(await errOf(r.incrbyfloat('s', '1'))).toBe(NOT_FLOAT);
      expect(await r.exists('x')).toBe(0);
    });

    it('keeps the TTL', async () => {
      await r.set('f', '1', 'EX', 100);
      expect(await r.incrbyfloat('f', '0.5')).toBe('1.5');
      expect(await r.ttl('f')).toBe(100);
    });
  });

  describe('APPEND / STRLEN / GETRANGE / SUBSTR / SETRANGE', () => {
    it('APPEND creates or extends and keeps the TTL', async () => {
      expect(await r.append('s', 'hello')).toBe(5);
      await r.expire('s', 100);
      expect(await r.append('s', ' world')).toBe(11);
      expect(await r.get('s')).toBe('hello world');
      expect(await r.ttl('s')).toBe(100);
      expect(await r.strlen('s')).toBe(11);
      expect(await r.strlen('missing')).toBe(0);
    });

    it('GETRANGE / SUBSTR normalise indexes as Redis', async () => {
      await r.set('s', 'hello world');
      const cases: [number, number, string][] = [
        [0, 4, 'hello'],
        [-5, -1, 'world'],
        [5, 3, ''],
        [-1, -5, ''],
        [0, -100, 'h'],
        [-100, -100, 'h'],
        [100, 200, ''],
        [0, -1, 'hello world'],
        [6, 1000, 'world'],
        [-3, 100, 'rld'],
      ];
      for (const [a, b, want] of cases) expect(await r.getrange('s', a, b), `${a} ${b}`).toBe(want);
      expect(await r.call('substr', 's', '0', '2')).toBe('hel');
      expect(await r.getrange('missing', 0, -1)).toBe('');
      expect(await errOf(r.call('getrange', 's', 'a', '1'))).toBe(NOT_INT);
    });

    it('SETRANGE pads with zero bytes, overwrites in place, keeps the TTL', async () => {
      expect(await r.setrange('s', 5, 'hi')).toBe(7);
      expect((await r.getBuffer('s'))!.toString('hex')).toBe('00000000006869');
      await r.expire('s', 100);
      expect(await r.setrange('s', 1, 'X')).toBe(7);
      expect((await r.getBuffer('s'))!.toString('hex')).toBe('00580000006869');
      expect(await r.ttl('s')).toBe(100);
      await r.set('t', 'Hello World');
      expect(await r.setrange('t', 6, 'Redis')).toBe(11);
      expect(await r.get('t')).toBe('Hello Redis');
    });

    it('SETRANGE with an empty string does not create the key; errors', async () => {
      expect(await r.setrange('none', 0, '')).toBe(0);
      expect(await r.exists('none')).toBe(0);
      await r.set('s', 'abc');
      expect(await r.setrange('s', 10, '')).toBe(3);
      expect(await errOf(r.setrange('s', -1, 'x'))).toBe('ERR offset is out of range');
      expect(await errOf(r.setrange('s', 536870912, 'x'))).toBe('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
      expect(await errOf(r.call('setrange', 's', 'x', 'y'))).toBe(NOT_INT);
    });
  });
});
