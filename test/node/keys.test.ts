// Keyspace commands (DEL, EXISTS, KEYS, SCAN, RENAME, EXPIRE family, expiry, SELECT, FLUSH*) against a
// real server process, with Redis 7's exact replies and error texts.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sorted = (a: string[]) => [...a].sort();

describe('keyspace commands', () => {
  let srv: TestServer;
  let r: Redis;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.call('debug', 'set-active-expire', '1');
    await r.flushall();
  });

  describe('DEL / UNLINK / EXISTS / TYPE', () => {
    it('DEL counts keys actually removed (duplicates once)', async () => {
      await r.mset('a', '1', 'b', '2', 'c', '3');
      expect(await r.del('a', 'b', 'missing', 'a')).toBe(2);
      expect(await r.del('a')).toBe(0);
      expect(await r.unlink('c', 'missing')).toBe(1);
      expect(await r.dbsize()).toBe(0);
      expect(await errOf(r.call('del'))).toBe("ERR wrong number of arguments for 'del' command");
    });

    it('EXISTS counts every argument, repeats included', async () => {
      await r.mset('a', '1', 'b', '2');
      expect(await r.exists('a', 'b', 'missing', 'a')).toBe(3);
      expect(await r.exists('missing')).toBe(0);
      expect(await r.exists('a', 'a', 'a')).toBe(3);
    });

    it('TYPE names each type; none for a missing key', async () => {
      await r.set('s', 'v');
      await r.lpush('l', 'x');
      await r.hset('h', 'f', 'v');
      await r.sadd('st', 'm');
      expect(await r.type('s')).toBe('string');
      expect(await r.type('l')).toBe('list');
      expect(await r.type('h')).toBe('hash');
      expect(await r.type('st')).toBe('set');
      expect(await r.type('missing')).toBe('none');
    });

    it('string commands against a list are WRONGTYPE', async () => {
      expect(await r.lpush('l', 'x')).toBe(1);
      const wrong = 'WRONGTYPE Operation against a key holding the wrong kind of value';
      expect(await errOf(r.get('l'))).toBe(wrong);
      expect(await errOf(r.incr('l'))).toBe(wrong);
      expect(await errOf(r.append('l', 'x'))).toBe(wrong);
      expect(await errOf(r.call('set', 'l', 'v', 'GET'))).toBe(wrong);
      expect(await r.mget('l')).toEqual([null]);
      expect(await r.type('l')).toBe('list');
    });
  });

  describe('KEYS', () => {
    beforeEach(async () => {
      await r.mset('hello', '1', 'hallo', '2', 'hxllo', '3', 'hllo', '4', 'heeeello', '5', 'h[a]llo', '6', 'h*llo', '7', 'other', '8');
    });

    it('matches glob patterns', async () => {
      expect(sorted(await r.keys('h?llo'))).toEqual(['h*llo', 'hallo', 'hello', 'hxllo']);
      expect(sorted(await r.keys('h*llo'))).toEqual(['h*llo', 'h[a]llo', 'hallo', 'heeeello', 'hello', 'hllo', 'hxllo']);
      expect(sorted(await r.keys('h[ae]llo'))).toEqual(['hallo', 'hello']);
      expect(sorted(await r.keys('h[^e]llo'))).toEqual(['h*llo', 'hallo', 'hxllo']);
      expect(sorted(await r.keys('h[a-b]llo'))).toEqual(['hallo']);
      expect(await r.keys('h\\*llo')).toEqual(['h*llo']);
      expect(await r.keys('h\\[a\\]llo')).toEqual(['h[a]llo']);
      expect(await r.keys('nothing*')).toEqual([]);
      expect((await r.keys('*')).length).toBe(8);
      expect(await r.keys('other')).toEqual(['other']);
    });

    it('does not return expired keys', async () => {
      await r.call('debug', 'set-active-expire', '0');
      await r.set('hzzzz', 'v', 'PX', 20);
      await sleep(40);
      expect(await r.keys('hz*')).toEqual([]);
    });
  });

  describe('SCAN', () => {
    it('a full iteration returns every one of 1000 keys', async () => {
      const all: string[] = [];
      for (let i = 0; i < 1000; i++) all.push(`key:${i}`, String(i));
      await r.mset(...all);
      const seen = new Map<string, number>();
      let cursor = '0';
      let calls = 0;
      do {
        const [next, keys] = (await r.call('scan', cursor, 'COUNT', '37')) as [string, string[]];
        expect(typeof next).toBe('string');
        for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
        cursor = next;
        calls++;
      } while (cursor !== '0');
      expect(seen.size).toBe(1000);
      for (let i = 0; i < 1000; i++) expect(seen.has(`key:${i}`)).toBe(true);
      expect(calls).toBeGreaterThan(1);
    });

    it('keys present for the whole scan are returned even while others are added and deleted', async () => {
      const args: string[] = [];
      for (let i = 0; i < 300; i++) args.push(`stay:${i}`, 'v');
      await r.mset(...args);
      const seen = new Set<string>();
      let cursor = '0';
      let round = 0;
      do {
        const [next, keys] = (await r.call('scan', cursor, 'COUNT', '20')) as [string, string[]];
        keys.forEach((k) => seen.add(k));
        await r.set(`new:${round}`, 'v');
        await r.del(`new:${round - 1}`);
        cursor = next;
        round++;
      } while (cursor !== '0');
      for (let i = 0; i < 300; i++) expect(seen.has(`stay:${i}`)).toBe(true);
    });

    it('MATCH and TYPE filter; COUNT 1 still terminates', async () => {
      await r.mset('user:1', 'a', 'user:2', 'b', 'item:1', 'c');
      await r.lpush('user:list', 'x');
      const collect = async (...opts: string[]) => {
        const out: string[] = [];
        let cursor = '0';
        do {
          const [next, keys] = (await r.call('scan', cursor, ...opts)) as [string, string[]];
          out.push(...keys);
          cursor = next;
        } while (cursor !== '0');
        return sorted([...new Set(out)]);
      };
      expect(await collect('MATCH', 'user:*')).toEqual(['user:1', 'user:2', 'user:list']);
      expect(await collect('MATCH', 'user:*', 'TYPE', 'string')).toEqual(['user:1', 'user:2']);
      expect(await collect('TYPE', 'list')).toEqual(['user:list']);
      expect(await collect('TYPE', 'hash')).toEqual([]);
      expect(await collect('COUNT', '1')).toEqual(['item:1', 'user:1', 'user:2', 'user:list']);
      expect(await collect('match', 'item:?', 'count', '1000')).toEqual(['item:1']);
    });

    it('rejects bad cursors and options', async () => {
      expect(await errOf(r.call('scan', 'abc'))).toBe('ERR invalid cursor');
      expect(await errOf(r.call('scan', '18446744073709551616'))).toBe('ERR invalid cursor');
      expect(await errOf(r.call('scan', '0', 'COUNT', '0'))).toBe('ERR syntax error');
      expect(await errOf(r.call('scan', '0', 'COUNT', '-1'))).toBe('ERR syntax error');
      expect(await errOf(r.call('scan', '0', 'COUNT', 'x'))).toBe('ERR value is not an integer or out of range');
      expect(await errOf(r.call('scan', '0', 'MATCH'))).toBe('ERR syntax error');
      expect(await errOf(r.call('scan', '0', 'TYPE'))).toBe('ERR syntax error');
      expect(await errOf(r.call('scan', '0', 'foo', 'bar'))).toBe('ERR syntax error');
      expect(await r.call('scan', '0')).toEqual(['0', []]);
    });
  });

  describe('RANDOMKEY', () => {
    it('null when empty, otherwise one of the keys', async () => {
      expect(await r.randomkey()).toBeNull();
      await r.set('only', '1');
      expect(await r.randomkey()).toBe('only');
      await r.mset('a', '1', 'b', '2');
      for (let i = 0; i < 10; i++) expect(['only', 'a', 'b']).toContain(await r.randomkey());
    });
  });

  describe('RENAME / RENAMENX', () => {
    it('moves the value and keeps the TTL', async () => {
      await r.set('a', 'v', 'EX', 100);
      expect(await r.rename('a', 'b')).toBe('OK');
      expect(await r.exists('a')).toBe(0);
      expect(await r.get('b')).toBe('v');
      expect(await r.ttl('b')).toBe(100);
    });

    it('overwrites the destination (and its TTL)', async () => {
      await r.set('a', '1');
      await r.set('b', '2', 'EX', 100);
      expect(await r.rename('a', 'b')).toBe('OK');
      expect(await r.get('b')).toBe('1');
      expect(await r.ttl('b')).toBe(-1);
    });

    it('errors on a missing source; same-name rename', async () => {
      expect(await errOf(r.rename('missing', 'x'))).toBe('ERR no such key');
      expect(await errOf(r.renamenx('missing', 'x'))).toBe('ERR no such key');
      await r.set('k', 'v');
      expect(await r.rename('k', 'k')).toBe('OK');
      expect(await r.renamenx('k', 'k')).toBe(0);
      expect(await r.get('k')).toBe('v');
    });

    it('RENAMENX only when the destination is missing; keeps the TTL', async () => {
      await r.set('a', '1', 'EX', 100);
      await r.set('b', '2');
      expect(await r.renamenx('a', 'b')).toBe(0);
      expect(await r.get('b')).toBe('2');
      expect(await r.renamenx('a', 'c')).toBe(1);
      expect(await r.get('c')).toBe('1');
      expect(await r.ttl('c')).toBe(100);
      expect(await r.exists('a')).toBe(0);
    });

    it('renames lists as well', async () => {
      await r.rpush('l', 'a', 'b');
      expect(await r.rename('l', 'l2')).toBe('OK');
      expect(await r.lrange('l2', 0, -1)).toEqual(['a', 'b']);
    });
  });

  describe('EXPIRE family / TTL / PTTL / PERSIST', () => {
    it('TTL and PTTL: -2 for missing, -1 without TTL', async () => {
      expect(await r.ttl('missing')).toBe(-2);
      expect(await r.pttl('missing')).toBe(-2);
      await r.set('k', 'v');
      expect(await r.ttl('k')).toBe(-1);
      expect(await r.pttl('k')).toBe(-1);
      expect(await r.call('expiretime', 'k')).toBe(-1);
      expect(await r.call('expiretime', 'missing')).toBe(-2);
    });

    it('EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT', async () => {
      await r.mset('a', '1', 'b', '2', 'c', '3', 'd', '4');
      expect(await r.expire('a', 100)).toBe(1);
      expect(await r.ttl('a')).toBe(100);
      expect(await r.pexpire('b', 50000)).toBe(1);
      expect(await r.pttl('b')).toBeGreaterThan(49000);
      const at = Math.floor(Date.now() / 1000) + 1000;
      expect(await r.expireat('c', at)).toBe(1);
      expect(await r.call('expiretime', 'c')).toBe(at);
      const pat = Date.now() + 2000000;
      expect(await r.pexpireat('d', pat)).toBe(1);
      expect(await r.call('pexpiretime', 'd')).toBe(pat);
      expect(await r.expire('missing', 100)).toBe(0);
      expect(await r.expireat('missing', at)).toBe(0);
    });

    it('a time in the past deletes the key', async () => {
      await r.mset('a', '1', 'b', '2', 'c', '3', 'd', '4');
      // the most negative time that does not overflow
      expect(await r.call('expire', 'd', '-9223372036854775')).toBe(1);
      expect(await r.exists('d')).toBe(0);
      expect(await r.expire('a', -1)).toBe(1);
      expect(await r.exists('a')).toBe(0);
      expect(await r.pexpireat('b', 1)).toBe(1);
      expect(await r.exists('b')).toBe(0);
      expect(await r.expire('c', 0)).toBe(1);
      expect(await r.exists('c')).toBe(0);
    });

    it('NX / XX / GT / LT', async () => {
      await r.set('k', 'v');
      expect(await r.call('expire', 'k', '100', 'XX')).toBe(0);
      expect(await r.call('expire', 'k', '100', 'GT')).toBe(0); // no TTL counts as infinite
      expect(await r.ttl('k')).toBe(-1);
      expect(await r.call('expire', 'k', '100', 'NX')).toBe(1);
      expect(await r.call('expire', 'k', '200', 'NX')).toBe(0);
      expect(await r.ttl('k')).toBe(100);
      expect(await r.call('expire', 'k', '200', 'XX')).toBe(1);
      expect(await r.call('expire', 'k', '300', 'GT')).toBe(1);
      expect(await r.call('expire', 'k', '50', 'GT')).toBe(0);
      expect(await r.call('expire', 'k', '10', 'LT')).toBe(1);
      expect(await r.call('expire', 'k', '50', 'LT')).toBe(0);
      expect(await r.ttl('k')).toBe(10);
      await r.persist('k');
      expect(await r.call('expire', 'k', '10', 'LT')).toBe(1); // no TTL counts as infinite
      expect(await r.ttl('k')).toBe(10);
      expect(await r.call('pexpire', 'k', '5000', 'lt')).toBe(1);
      expect(await r.call('pexpireat', 'k', String(Date.now() + 999999), 'gt')).toBe(1);
    });

    it('option errors', async () => {
      await r.set('k', 'v');
      expect(await errOf(r.call('expire', 'k', '10', 'NX', 'XX'))).toBe('ERR NX and XX, GT or LT options at the same time are not compatible');
      expect(await errOf(r.call('expire', 'k', '10', 'NX', 'GT'))).toBe('ERR NX and XX, GT or LT options at the same time are not compatible');
      expect(await errOf(r.call('expire', 'k', '10', 'GT', 'LT'))).toBe('ERR GT and LT options at the same time are not compatible');
      expect(await errOf(r.call('expire', 'k', '10', 'foo'))).toBe('ERR Unsupported option foo');
      expect(await errOf(r.call('expire', 'k', 'abc'))).toBe('ERR value is not an integer or out of range');
      // the options are checked before the number
      expect(await errOf(r.call('expire', 'k', 'abc', 'foo'))).toBe('ERR Unsupported option foo');
      expect(await errOf(r.call('expire', 'k', 'abc', 'NX', 'XX'))).toBe('ERR NX and XX, GT or LT options at the same time are not compatible');
      expect(await errOf(r.call('expire', 'k', '-9223372036854776'))).toBe("ERR invalid expire time in 'expire' command");
      expect(await errOf(r.call('pexpire', 'k', '9223372036854775807'))).toBe("ERR invalid expire time in 'pexpire' command");
      expect(await errOf(r.call('expire', 'k', '9223372036854775807'))).toBe("ERR invalid expire time in 'expire' command");
      expect(await errOf(r.call('pexpire', 'k', '9223372036854775807'))).toBe("ERR invalid expire time in 'pexpire' command");
      expect(await errOf(r.call('expire', 'k'))).toBe("ERR wrong number of arguments for 'expire' command");
      expect(await r.ttl('k')).toBe(-1);
    });

    it('PERSIST', async () => {
      await r.set('k', 'v', 'EX', 100);
      expect(await r.persist('k')).toBe(1);
      expect(await r.ttl('k')).toBe(-1);
      expect(await r.persist('k')).toBe(0);
      expect(await r.persist('missing')).toBe(0);
    });

    it('TTL rounds to the nearest second', async () => {
      await r.set('k', 'v', 'PX', 1600);
      expect(await r.ttl('k')).toBe(2);
      await r.set('k', 'v', 'PX', 1400);
      expect(await r.ttl('k')).toBe(1);
    });
  });

  describe('expiry', () => {
    it('lazy: with active expiry off, a key read after its time is gone', async () => {
      expect(await r.call('debug', 'set-active-expire', '0')).toBe('OK');
      expect(await r.config('RESETSTAT')).toBe('OK');
      await r.set('k', 'v', 'PX', 50);
      await r.set('k2', 'v', 'PX', 50);
      await sleep(150);
      // not read yet: still counted
      expect(await r.dbsize()).toBe(2);
      expect(await r.get('k')).toBeNull();
      expect(await r.dbsize()).toBe(1);
      expect(await r.exists('k2')).toBe(0);
      expect(await r.dbsize()).toBe(0);
      const info = (await r.info('stats')) as string;
      expect(info).toMatch(/\r\nexpired_keys:2\r\n/);
    });

    it('active: keys with a 100 ms TTL disappear from DBSIZE without being read', async () => {
      const args: string[] = [];
      for (let i = 0; i < 50; i++) args.push(`e:${i}`, 'v');
      await r.mset(...args);
      const p = r.pipeline();
      for (let i = 0; i < 50; i++) p.pexpire(`e:${i}`, 100);
      await p.exec();
      await r.set('stays', 'v');
      expect(await r.dbsize()).toBe(51);
      const deadline = Date.now() + 3000;
      let size = 51;
      while (Date.now() < deadline) {
        size = await r.dbsize();
        if (size === 1) break;
        await sleep(50);
      }
      expect(size).toBe(1);
      expect(await r.keys('*')).toEqual(['stays']);
    });

    it('an overwrite without a TTL stops the expiry', async () => {
      await r.set('k', 'v', 'PX', 100);
      await r.set('k', 'w');
      await sleep(200);
      expect(await r.get('k')).toBe('w');
    });
  });

  describe('SELECT / DBSIZE / FLUSHDB / FLUSHALL', () => {
    it('16 databases, each its own keyspace', async () => {
      const c = srv.client();
      expect(await c.select(15)).toBe('OK');
      await c.set('k', 'in15');
      expect(await c.dbsize()).toBe(1);
      expect(await c.select(0)).toBe('OK');
      expect(await c.get('k')).toBeNull();
      expect(await c.dbsize()).toBe(0);
      await c.select(15);
      expect(await c.get('k')).toBe('in15');
      c.disconnect();
    });

    it('out-of-range and invalid indexes', async () => {
      expect(await errOf(r.select(16))).toBe('ERR DB index is out of range');
      expect(await errOf(r.select(-1))).toBe('ERR DB index is out of range');
      expect(await errOf(r.call('select', 'abc'))).toBe('ERR value is not an integer or out of range');
    });

    it('FLUSHDB empties only the current db; FLUSHALL all of them', async () => {
      const c = srv.client();
      await c.select(3);
      await c.mset('a', '1', 'b', '2');
      await r.set('zero', '1');
      expect(await c.flushdb()).toBe('OK');
      expect(await c.dbsize()).toBe(0);
      expect(await r.dbsize()).toBe(1);
      await c.set('again', '1');
      expect(await r.call('flushall', 'SYNC')).toBe('OK');
      expect(await r.dbsize()).toBe(0);
      expect(await c.dbsize()).toBe(0);
      expect(await c.call('flushdb', 'ASYNC')).toBe('OK');
      expect(await errOf(c.call('flushdb', 'foo'))).toBe('ERR syntax error');
      expect(await errOf(c.call('flushall', 'foo'))).toBe('ERR syntax error');
      expect(await errOf(c.call('dbsize', 'x'))).toBe("ERR wrong number of arguments for 'dbsize' command");
      c.disconnect();
    });

    it('INFO keyspace follows the databases', async () => {
      expect(await r.info('keyspace')).toBe('# Keyspace\r\n');
      await r.set('a', '1');
      await r.set('b', '1', 'EX', 100);
      const c = srv.client();
      await c.select(2);
      await c.set('x', '1');
      const text = (await r.info('keyspace')) as string;
      expect(text).toMatch(/^# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n$/);
      c.disconnect();
    });
  });
});
