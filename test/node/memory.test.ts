// maxmemory, eviction policies, INFO memory and MEMORY: real server processes over real sockets, beside a real
// redis-server for the error texts (src/node/memory.ts, src/node/eviction.ts, src/node/commands/memory.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { REDIS_SERVER, startRedis } from '../helpers/redis-reference';
import { weightedMatMul } from '../helpers/onnx-models';
import { until as waitUntil } from '../helpers/wait';

const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

const until = <T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15000): Promise<T> =>
  waitUntil(what, f, ok, timeoutMs, 25);

async function info(r: Redis, section: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await r.info(section)).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

const num = async (r: Redis, section: string, field: string) => Number((await info(r, section))[field]);

/** The reply or the error text of a command. */
async function reply(r: Redis, ...args: (string | Buffer | number)[]): Promise<unknown> {
  try {
    return await r.call(String(args[0]), ...args.slice(1).map((a) => (typeof a === 'number' ? String(a) : a)));
  } catch (e) {
    return (e as Error).message;
  }
}

const servers: TestServer[] = [];
async function server(args: string[] = []): Promise<{ s: TestServer; r: Redis }> {
  const s = await startServer(['--save', '', ...args]);
  servers.push(s);
  return { s, r: s.client() };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const value = (n: number, fill = 'x') => fill.repeat(n);

describe('noeviction', () => {
  let ref: { port: number; proc: ChildProcess; dir: string } | null = null;
  afterAll(() => {
    if (ref) {
      ref.proc.kill('SIGKILL');
      fs.rmSync(ref.dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!REDIS_SERVER)('refuses deny-oom commands with the OOM error while reads and DEL work, as redis-server', async () => {
    ref = await startRedis();
    const theirs = new Redis({ port: ref.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    const { r: ours } = await server();
    try {
      const script = async (r: Redis) => {
        const out: unknown[] = [];
        for (const k of ['a', 'b', 'c']) out.push(await reply(r, 'SET', k, value(100)));
        out.push(await reply(r, 'CONFIG', 'SET', 'maxmemory', '1'));
        out.push(await reply(r, 'SET', 'd', 'x'));
        out.push(await reply(r, 'APPEND', 'a', 'x'));
        out.push(await reply(r, 'LPUSH', 'l', 'x'));
        out.push(await reply(r, 'GET', 'a'));
        out.push(await reply(r, 'EXISTS', 'd'));
        out.push(await reply(r, 'DEL', 'b'));
        out.push(await reply(r, 'INCR', 'counter'));
        // in MULTI every queued command is refused while out of memory, so EXEC aborts
        out.push(await reply(r, 'MULTI'));
        out.push(await reply(r, 'GET', 'a'));
        out.push(await reply(r, 'EXEC'));
        out.push((await info(r, 'stats')).evicted_keys);
        out.push(await reply(r, 'CONFIG', 'SET', 'maxmemory', '0'));
        out.push(await reply(r, 'SET', 'd', 'x'));
        return out;
      };
      const expected = await script(theirs);
      expect(expected[4]).toBe(OOM);
      expect(await script(ours)).toEqual(expected);
    } finally {
      theirs.disconnect();
    }
  });

  it('refuses AI.TENSORSET and EXEC of a queued write, keeps serving reads', async () => {
    const { s, r } = await server(['--maxmemory-policy', 'noeviction']);
    await r.set('k', 'v');
    await r.call('AI.TENSORSET', 't1', 'FLOAT', '2', 'VALUES', '1', '2');
    await r.config('SET', 'maxmemory', '1');
    expect(await reply(r, 'AI.TENSORSET', 't2', 'FLOAT', '2', 'VALUES', '1', '2')).toBe(OOM);
    expect(await reply(r, 'AI.TENSORGET', 't1', 'VALUES')).toEqual(['1', '2']);
    expect(await r.get('k')).toBe('v');
    expect(await r.exists('t2')).toBe(0);
    // a transaction queued before memory ran out: EXEC is refused because it holds a deny-oom command
    await r.config('SET', 'maxmemory', '0');
    const other = s.client();
    await r.call('MULTI');
    await r.call('SET', 'q', '1');
    await r.call('GET', 'k');
    await other.config('SET', 'maxmemory', '1');
    expect(await reply(r, 'EXEC')).toBe(`EXECABORT Transaction discarded because of: ${OOM}`);
    expect(await r.exists('q')).toBe(0);
    // one of reads only runs
    await other.config('SET', 'maxmemory', '0');
    await r.call('MULTI');
    await r.call('GET', 'k');
    await other.config('SET', 'maxmemory', '1');
    expect(await reply(r, 'EXEC')).toEqual(['v']);
    expect(await num(r, 'stats', 'evicted_keys')).toBe(0);
  });
});

describe('eviction policies', () => {
  it('allkeys-lru keeps keys that are read while writing far more than maxmemory', async () => {
    const { r } = await server(['--maxmemory-policy', 'allkeys-lru']);
    const hot = Array.from({ length: 20 }, (_, i) => `hot:${i}`);
    for (const k of hot) await r.set(k, value(1000, 'h'));
    const limit = (await num(r, 'memory', 'used_memory')) + 200 * 1024;
    await r.config('SET', 'maxmemory', String(limit));
    let maxUsed = 0;
    for (let batch = 0; batch < 40; batch++) {
      const p = r.pipeline();
      for (let i = 0; i < 50; i++) p.set(`cold:${batch}:${i}`, value(1000));
      await p.exec();
      const got = await r.mget(...hot);
      expect(got.every((v) => v === value(1000, 'h'))).toBe(true);
      maxUsed = Math.max(maxUsed, await num(r, 'memory', 'used_memory'));
    }
    expect(await r.exists(...hot)).toBe(hot.length);
    const evicted = await num(r, 'stats', 'evicted_keys');
    expect(evicted).toBeGreaterThan(1500);
    expect(await r.dbsize()).toBe(2000 + 20 - evicted);
    // eviction runs before each write, so used memory passes the limit by at most one value
    expect(maxUsed).toBeLessThanOrEqual(limit + 2000);
    expect(maxUsed).toBeGreaterThan(limit - 50 * 1024);
  });

  it('volatile-lru evicts only keys with a TTL, least recently used first, then answers OOM', async () => {
    const { r } = await server(['--maxmemory-policy', 'volatile-lru', '--maxmemory-samples', '64']);
    for (let i = 0; i < 30; i++) await r.set(`keep:${i}`, value(1000));
    for (let i = 0; i < 30; i++) await r.set(`vol:${i}`, value(1000), 'EX', 10000);
    // vol:0..9 read last: the most recently used of the volatile keys
    for (let i = 0; i < 10; i++) await r.get(`vol:${i}`);
    await r.config('SET', 'maxmemory', String((await num(r, 'memory', 'used_memory')) + 1000));
    for (let i = 0; i < 10; i++) expect(await r.set(`new:${i}`, value(1000))).toBe('OK');
    expect(await num(r, 'stats', 'evicted_keys')).toBeGreaterThanOrEqual(9);
    expect(await r.exists(...Array.from({ length: 10 }, (_, i) => `vol:${i}`))).toBe(10);
    let oom: unknown = null;
    for (let i = 10; i < 60 && oom === null; i++) {
      const res = await reply(r, 'SET', `new:${i}`, value(1000));
      if (res !== 'OK') oom = res;
    }
    expect(oom).toBe(OOM);
    expect(await num(r, 'stats', 'evicted_keys')).toBe(30);
    expect(await r.exists(...Array.from({ length: 30 }, (_, i) => `keep:${i}`))).toBe(30);
    expect((await r.keys('vol:*')).length).toBe(0);
    // reads and deletes still work, and a delete makes room again
    expect(await r.get('keep:0')).toBe(value(1000));
    expect(await r.del('keep:0', 'keep:1')).toBe(2);
    expect(await r.set('after', 'x')).toBe('OK');
  });

  it('volatile-ttl evicts the keys closest to expiring first, never a key without TTL', async () => {
    const { r } = await server(['--maxmemory-policy', 'volatile-ttl', '--maxmemory-samples', '64']);
    // TTLs in a shuffled order: ttl:i expires after (100 + i) seconds
    const order = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
    for (const i of order) await r.set(`ttl:${i}`, value(1000), 'EX', 100 + i);
    for (let i = 0; i < 10; i++) await r.set(`keep:${i}`, value(1000));
    const used = await num(r, 'memory', 'used_memory');
    await r.config('SET', 'maxmemory', String(used - 10 * 1100));
    const evicted = await num(r, 'stats', 'evicted_keys');
    expect(evicted).toBeGreaterThanOrEqual(10);
    const left = (await r.keys('ttl:*')).map((k) => Number(k.slice(4))).sort((a, b) => a - b);
    // exactly the `evicted` shortest TTLs are gone
    expect(left).toEqual(Array.from({ length: 40 - evicted }, (_, i) => i + evicted));
    expect(await r.exists(...Array.from({ length: 10 }, (_, i) => `keep:${i}`))).toBe(10);
  });

  it('allkeys-random evicts while writing past maxmemory and keeps used memory near it', async () => {
    const { r } = await server(['--maxmemory-policy', 'allkeys-random']);
    const limit = (await num(r, 'memory', 'used_memory')) + 100 * 1024;
    await r.config('SET', 'maxmemory', String(limit));
    for (let batch = 0; batch < 10; batch++) {
      const p = r.pipeline();
      for (let i = 0; i < 100; i++) p.set(`k:${batch}:${i}`, value(1000));
      const res = await p.exec();
      expect(res!.every(([err, v]) => err === null && v === 'OK')).toBe(true);
    }
    const evicted = await num(r, 'stats', 'evicted_keys');
    expect(evicted).toBeGreaterThan(800);
    expect(await r.dbsize()).toBe(1000 - evicted);
    expect(await num(r, 'memory', 'used_memory')).toBeLessThanOrEqual(limit + 2000);
    // CONFIG RESETSTAT clears the count
    await r.config('RESETSTAT');
    expect(await num(r, 'stats', 'evicted_keys')).toBe(0);
  });

  it('a lower maxmemory set at run time evicts at once, and the evictions reach a replica as DEL', async () => {
    const { s: ms, r: master } = await server();
    // the replica has a tiny maxmemory of its own: replicas do not evict, they follow their master
    const { r: replica } = await server(['--replicaof', '127.0.0.1', String(ms.port), '--maxmemory', '1', '--maxmemory-policy', 'allkeys-lru']);
    const p = master.pipeline();
    for (let i = 0; i < 200; i++) p.set(`k:${i}`, value(1000));
    await p.exec();
    await until('the replica to load the keys', () => replica.dbsize(), (n) => n === 200);
    await master.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await master.config('SET', 'maxmemory', String((await num(master, 'memory', 'used_memory')) - 100 * 1100));
    const evicted = await num(master, 'stats', 'evicted_keys');
    expect(evicted).toBeGreaterThanOrEqual(100);
    expect(await master.dbsize()).toBe(200 - evicted);
    const kept = (await master.keys('*')).sort();
    await until('the replica to apply the DELs', () => replica.dbsize(), (n) => n === kept.length);
    expect((await replica.keys('*')).sort()).toEqual(kept);
    expect(await num(replica, 'stats', 'evicted_keys')).toBe(0);
  });
});

describe('accounting', () => {
  it('used_memory_dataset follows writes, in-place changes and deletes back to zero', async () => {
    const { r } = await server();
    expect(await num(r, 'memory', 'used_memory_dataset')).toBe(0);
    await r.set('s', value(5000));
    const afterString = await num(r, 'memory', 'used_memory_dataset');
    expect(afterString).toBeGreaterThan(5000);
    expect(afterString).toBeLessThan(5300);
    await r.rpush('l', ...Array.from({ length: 200 }, () => value(100)));
    await r.hset('h', Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, value(50)])));
    await r.sadd('set', ...Array.from({ length: 100 }, (_, i) => `member-${i}`));
    await r.zadd('z', ...Array.from({ length: 100 }, (_, i) => [String(i), `m${i}`]).flat());
    for (let i = 0; i < 50; i++) await r.xadd('x', '*', 'f', value(100));
    await r.append('s', value(1000));
    await r.set('ttl', 'v', 'PX', 50);
    const full = await num(r, 'memory', 'used_memory_dataset');
    expect(full).toBeGreaterThan(afterString + 200 * 100 + 100 * 50 + 50 * 100);
    // shrinking a list in place lowers it
    await r.ltrim('l', 0, 9);
    const trimmed = await num(r, 'memory', 'used_memory_dataset');
    expect(trimmed).toBeLessThan(full - 150 * 100);
    await until('the TTL key to expire', () => r.exists('ttl'), (n) => n === 0);
    expect(await r.del('s', 'l', 'h', 'set', 'z', 'x')).toBe(6);
    expect(await num(r, 'memory', 'used_memory_dataset')).toBe(0);
    await r.set('a', value(100));
    await r.flushall();
    expect(await num(r, 'memory', 'used_memory_dataset')).toBe(0);
    const m = await info(r, 'memory');
    for (const f of ['used_memory_rss', 'used_memory_peak', 'used_memory_startup', 'maxmemory', 'maxmemory_policy', 'mem_fragmentation_ratio', 'heap_used']) {
      expect(m[f], f).toBeDefined();
    }
    expect(Number(m.used_memory_peak)).toBeGreaterThanOrEqual(Number(m.used_memory_startup) + full);
  });

  it('after a random mix of writes of every type, deleting every key brings the dataset back to zero', async () => {
    const { r } = await server();
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const key = () => `k${rand(12)}`;
    const v = () => value(1 + rand(300), String.fromCharCode(97 + rand(26)));
    const ops: (() => (string | number)[])[] = [
      () => ['SET', key(), v()],
      () => ['APPEND', key(), v()],
      () => ['SETRANGE', key(), rand(50), v()],
      () => ['INCR', key()],
      () => ['GETDEL', key()],
      () => ['RPUSH', key(), v(), v()],
      () => ['LPOP', key(), rand(3) + 1],
      () => ['LMOVE', key(), key(), 'LEFT', 'RIGHT'],
      () => ['LTRIM', key(), 0, rand(5)],
      () => ['HSET', key(), `f${rand(20)}`, v()],
      () => ['HDEL', key(), `f${rand(20)}`],
      () => ['HINCRBY', key(), `n${rand(3)}`, 5],
      () => ['SADD', key(), `m${rand(40)}`, v()],
      () => ['SREM', key(), `m${rand(40)}`],
      () => ['SMOVE', key(), key(), `m${rand(40)}`],
      () => ['SINTERSTORE', key(), key(), key()],
      () => ['ZADD', key(), rand(100), `z${rand(30)}`],
      () => ['ZREM', key(), `z${rand(30)}`],
      () => ['ZUNIONSTORE', key(), 2, key(), key()],
      () => ['XADD', key(), '*', 'f', v()],
      () => ['XTRIM', key(), 'MAXLEN', rand(5)],
      () => ['XGROUP', 'CREATE', key(), 'g', '0', 'MKSTREAM'],
      () => ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', 3, 'STREAMS', key(), '>'],
      () => ['XACK', key(), 'g', '0-1'],
      () => ['RENAME', key(), key()],
      () => ['EXPIRE', key(), 1000],
      () => ['PERSIST', key()],
      () => ['DEL', key()],
      () => ['AI.TENSORSET', key(), 'FLOAT', 1 + rand(8), 'VALUES', ...Array.from({ length: 8 }, () => 1)],
    ];
    for (let i = 0; i < 3000; i++) {
      const op = ops[rand(ops.length)]();
      if (op[0] === 'AI.TENSORSET') op.splice(5, 8 - Number(op[3]));
      await reply(r, ...op);
    }
    expect(await num(r, 'memory', 'used_memory_dataset')).toBeGreaterThan(0);
    for (const k of await r.keys('*')) await r.del(k);
    expect(await r.dbsize()).toBe(0);
    expect(await num(r, 'memory', 'used_memory_dataset')).toBe(0);
  });

  it('sizes are counted again after a snapshot is loaded at start', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-memory-'));
    try {
      const first = await startServer(['--save', ''], { dir });
      servers.push(first);
      const r1 = first.client();
      await r1.set('s', value(3000));
      await r1.rpush('l', ...Array.from({ length: 50 }, () => value(100)));
      await r1.call('AI.TENSORSET', 't', 'FLOAT', '2', 'VALUES', '1', '2');
      const before = await info(r1, 'memory');
      expect(await r1.save()).toBe('OK');
      await first.stop();
      const second = await startServer(['--save', ''], { dir });
      servers.push(second);
      const r2 = second.client();
      await until('the data set to load', () => r2.dbsize(), (n) => n === 3);
      const after = await info(r2, 'memory');
      expect(after.used_memory_dataset).toBe(before.used_memory_dataset);
      expect(after.ai_tensors).toBe('1');
      // and stay right through writes to loaded keys
      await r2.del('s', 'l', 't');
      expect(await num(r2, 'memory', 'used_memory_dataset')).toBe(0);
    } finally {
      await Promise.all(servers.splice(0).map((s) => s.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('MEMORY USAGE, SAMPLES and errors; MEMORY STATS', async () => {
    const { r } = await server();
    await r.set('k1', 'x');
    await r.set('k2', value(10000));
    const small = Number(await r.call('MEMORY', 'USAGE', 'k1'));
    const big = Number(await r.call('MEMORY', 'USAGE', 'k2'));
    expect(big - small).toBe(9999);
    expect(await r.call('MEMORY', 'USAGE', 'missing')).toBeNull();
    await r.rpush('l', 'a', value(1000));
    // the default samples the first 5 elements; SAMPLES 0 reads them all
    expect(Number(await r.call('MEMORY', 'USAGE', 'l', 'SAMPLES', '1'))).toBeLessThan(Number(await r.call('MEMORY', 'USAGE', 'l', 'SAMPLES', '0')));
    expect(await reply(r, 'MEMORY', 'USAGE', 'l', 'SAMPLES', '-1')).toBe('ERR syntax error');
    expect(await reply(r, 'MEMORY', 'USAGE', 'l', 'SAMPLES', 'x')).toBe('ERR value is not an integer or out of range');
    expect(await reply(r, 'MEMORY', 'USAGE', 'l', 'FOO')).toBe('ERR syntax error');
    const stats = (await r.call('MEMORY', 'STATS')) as (string | number)[];
    const byName = new Map<string, unknown>();
    for (let i = 0; i < stats.length; i += 2) byName.set(String(stats[i]), stats[i + 1]);
    expect(byName.get('keys.count')).toBe(3);
    expect(byName.get('total.allocated')).toBe(await num(r, 'memory', 'used_memory'));
  });
});

describe('AI memory', () => {
  it('INFO memory counts models per backend, from MODELSTORE to MODELDEL', async () => {
    const { r } = await server();
    const blob = fs.readFileSync(path.join(DATA, 'mnist.onnx'));
    const before = await info(r, 'memory');
    expect(before.used_memory_ai).toBe('0');
    expect(before.ai_onnx_models).toBeUndefined();
    expect(await r.call('AI.MODELSTORE', 'm1', 'ONNX', 'CPU', 'BLOB', blob)).toBe('OK');
    expect(await r.call('AI.MODELSTORE', 'm2', 'ONNX', 'CPU', 'BLOB', blob)).toBe('OK');
    const after = await info(r, 'memory');
    expect(after.ai_onnx_models).toBe('2');
    expect(Number(after.ai_onnx_bytes)).toBe(2 * blob.length);
    expect(Number(after.used_memory_ai)).toBe(2 * blob.length);
    expect(Number(after.used_memory) - Number(before.used_memory)).toBeGreaterThanOrEqual(2 * blob.length);
    expect(Number(after.ai_worker_threads)).toBeGreaterThanOrEqual(1);
    expect(await r.call('AI.MODELDEL', 'm1')).toBe('OK');
    expect((await info(r, 'memory')).ai_onnx_models).toBe('1');
    expect(await r.call('AI.MODELDEL', 'm2')).toBe('OK');
    const gone = await info(r, 'memory');
    expect(gone.ai_onnx_models).toBeUndefined();
    expect(gone.used_memory_ai).toBe('0');
    expect(gone.used_memory_dataset).toBe('0');
  });

  it('refuses a model over BACKEND_MEMORY_LIMIT or maxmemory before loading it; the server stays up', async () => {
    const { r } = await server(['--BACKEND_MEMORY_LIMIT', '1']);
    const model = weightedMatMul(256, 400); // about 400 KB of weights
    expect(model.length).toBeGreaterThan(400 * 1024);
    expect(await r.call('AI.MODELSTORE', 'a', 'ONNX', 'CPU', 'BLOB', model)).toBe('OK');
    expect(await r.call('AI.MODELSTORE', 'b', 'ONNX', 'CPU', 'BLOB', model)).toBe('OK');
    expect(await reply(r, 'AI.MODELSTORE', 'c', 'ONNX', 'CPU', 'BLOB', model)).toMatch(/^ERR Onnxruntime memory limit exceeded, memory allocation failed\./);
    expect(await reply(r, 'AI.MODELSET', 'c', 'ONNX', 'CPU', 'BLOB', model)).toMatch(/^ERR Onnxruntime memory limit exceeded/);
    expect(await r.exists('c')).toBe(0);
    // replacing a model frees its share first
    expect(await r.call('AI.MODELSTORE', 'a', 'ONNX', 'CPU', 'BLOB', model)).toBe('OK');
    expect(await r.ping()).toBe('PONG');
    // maxmemory (noeviction): the blob would not fit
    await r.call('AI.MODELDEL', 'b');
    await r.config('SET', 'maxmemory', String((await num(r, 'memory', 'used_memory')) + 100 * 1024));
    expect(await reply(r, 'AI.MODELSTORE', 'b', 'ONNX', 'CPU', 'BLOB', model)).toMatch(/^OOM model of \d+ bytes does not fit under 'maxmemory'/);
    expect(await r.exists('b')).toBe(0);
    // with allkeys-lru, other keys are evicted to make room
    await r.call('AI.MODELDEL', 'a');
    await r.config('SET', 'maxmemory', '0');
    for (let i = 0; i < 90; i++) await r.set(`k${i}`, value(1000));
    await r.config('SET', 'maxmemory', String((await num(r, 'memory', 'used_memory')) + 150 * 1024));
    await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const small = weightedMatMul(64, 400); // about 100 KB
    expect(await r.call('AI.MODELSTORE', 'b', 'ONNX', 'CPU', 'BLOB', small)).toBe('OK');
    expect(await r.call('AI.MODELSTORE', 'c', 'ONNX', 'CPU', 'BLOB', small)).toBe('OK');
    const evicted = await num(r, 'stats', 'evicted_keys');
    expect(evicted).toBeGreaterThan(20);
    expect(await r.dbsize()).toBe(90 - evicted + 2);
    expect(await num(r, 'memory', 'used_memory')).toBeLessThanOrEqual(Number(await r.config('GET', 'maxmemory').then((v) => (v as string[])[1])));
    expect(await r.ping()).toBe('PONG');
  });
});
