// Streams against real server processes: the structure against a naive model, commands through ioredis and raw
// RESP (RESP2 and RESP3), a differential run of random stream commands against a real redis-server 7.0 (every
// reply compared byte for byte), persistence (DEBUG RELOAD, SAVE + restart, DEBUG DIGEST) and replication of
// consumer-group reads.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf, rawClient, type RawSend } from '../helpers/resp';
import { rawPort, REDIS_SERVER, startRedis } from '../helpers/redis-reference';
import { Stream, cmpId, fmtId, type StreamID } from '../../src/node/stream/stream';
import { decodeStream, encodeStream } from '../../src/node/stream/codec';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

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

describe('the stream structure', () => {
  it('matches a sorted array model through appends, deletes, exact and approximate trims and ranges', () => {
    const rnd = prng(11);
    const s = new Stream();
    let model: StreamID[] = [];
    let ms = 1;
    for (let step = 0; step < 20000; step++) {
      const x = rnd();
      if (x < 0.6) {
        const id = { ms: (ms += Math.floor(rnd() * 3)), seq: Math.floor(rnd() * 3) + step };
        if (cmpId(id, s.lastId) <= 0) continue;
        s.append(id, [Buffer.from('f'), Buffer.from(String(step))]);
        model.push(id);
      } else if (x < 0.75 && model.length) {
        const victim = model[Math.floor(rnd() * model.length)];
        expect(s.delete(victim)).toBe(true);
        expect(s.delete(victim)).toBe(false);
        model = model.filter((m) => m !== victim);
      } else if (x < 0.77) {
        const maxlen = Math.floor(rnd() * 300);
        const approx = rnd() < 0.5;
        const n = s.trim('maxlen', maxlen, { ms: 0, seq: 0 }, approx, 0);
        expect(n).toBe(model.length - s.length);
        model = model.slice(n);
        if (!approx) expect(s.length).toBe(Math.min(maxlen, model.length));
        else expect(s.length).toBeGreaterThanOrEqual(Math.min(maxlen, model.length));
      } else {
        const a = model[Math.floor(rnd() * model.length)] ?? { ms: 0, seq: 0 };
        const b = { ms: a.ms + Math.floor(rnd() * 50), seq: 0 };
        const rev = rnd() < 0.5;
        const count = rnd() < 0.5 ? 0 : 1 + Math.floor(rnd() * 10);
        let want = model.filter((m) => cmpId(m, a) >= 0 && cmpId(m, b) <= 0);
        if (rev) want = want.reverse();
        if (count) want = want.slice(0, count);
        expect(s.range(a, b, count, rev).map((e) => fmtId(e.id))).toEqual(want.map(fmtId));
      }
      expect(s.length).toBe(model.length);
    }
    expect([...s.entries()].map((e) => fmtId(e.id))).toEqual(model.map(fmtId));
  });

  it('lookup and range stay logarithmic: 300k appends then 300k lookups within a few seconds', () => {
    const s = new Stream();
    const f = [Buffer.from('f'), Buffer.from('v')];
    const t0 = Date.now();
    for (let i = 1; i <= 300000; i++) s.append({ ms: i, seq: 0 }, f);
    for (let i = 1; i <= 300000; i++) if (!s.get({ ms: (i * 7919) % 300000 + 1, seq: 0 })) throw new Error('missing');
    expect(s.range({ ms: 150000, seq: 0 }, { ms: 150009, seq: 0 }, 0).length).toBe(10);
    expect(Date.now() - t0).toBeLessThan(5000);
    // trimming drops whole chunks
    const t1 = Date.now();
    expect(s.trim('maxlen', 1000, { ms: 0, seq: 0 }, false, 0)).toBe(299000);
    expect(Date.now() - t1).toBeLessThan(200);
    expect(s.firstId).toEqual({ ms: 299001, seq: 0 });
  });

  it('the snapshot encoding round-trips entries, ids, counters, groups, consumers and the PEL', () => {
    const s = new Stream();
    s.append({ ms: 1, seq: 1 }, [Buffer.from([0, 255]), Buffer.from('v')]);
    s.append({ ms: 2, seq: 0 }, [Buffer.from('a'), Buffer.from('b'), Buffer.from('c'), Buffer.from('')]);
    s.append({ ms: 3, seq: 0 }, [Buffer.from('x'), Buffer.from('y')]);
    s.delete({ ms: 2, seq: 0 });
    const copy = s.clone();
    const enc = encodeStream(copy);
    const back = decodeStream(enc.fields, enc.blobs);
    expect(back.length).toBe(2);
    expect(back.maxDeletedId).toEqual({ ms: 2, seq: 0 });
    expect(back.entriesAdded).toBe(3);
    expect(back.get({ ms: 1, seq: 1 })!.fv[0]).toEqual(Buffer.from([0, 255]));
  });
});

describe('stream commands', () => {
  let srv: TestServer;
  let r: Redis;
  let raw2: RawSend;
  let raw3: RawSend;
  beforeAll(async () => {
    srv = await startServer(['--save', '']);
    r = srv.client({ protocol: 2 });
    raw2 = await rawClient(srv, 2);
    raw3 = await rawClient(srv, 3);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('XADD with *, explicit and partial ids; its errors; TYPE; NOMKSTREAM', async () => {
    await r.del('s');
    const id = await r.xadd('s', '*', 'a', '1');
    expect(id).toMatch(/^\d+-0$/);
    const [ms] = id!.split('-').map(Number);
    expect(Math.abs(ms - Date.now())).toBeLessThan(5000);
    expect(await r.type('s')).toBe('stream');
    expect(await errOf(r.xadd('s', '1-1', 'a', '1'))).toBe('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    expect(await errOf(r.xadd('s2', '0-0', 'a', '1'))).toBe('ERR The ID specified in XADD must be greater than 0-0');
    expect(await r.xadd('s2', '0-*', 'a', '1')).toBe('0-1');
    expect(await r.xadd('s2', '5-*', 'a', '1')).toBe('5-0');
    expect(await r.xadd('s2', '5-*', 'a', '1')).toBe('5-1');
    expect(await errOf(r.xadd('s2', 'x', 'a', '1'))).toBe('ERR Invalid stream ID specified as stream command argument');
    expect(await errOf(r.xadd('s2', '6-0', 'a'))).toBe("ERR wrong number of arguments for 'xadd' command");
    expect(await r.xadd('nos', 'NOMKSTREAM', '*', 'a', '1')).toBeNull();
    expect(await r.exists('nos')).toBe(0);
    await r.set('str', 'x');
    expect(await errOf(r.xadd('str', '*', 'a', '1'))).toBe(WRONGTYPE);
    expect(await errOf(r.xlen('str'))).toBe(WRONGTYPE);
    expect(await errOf(r.xrange('str', '-', '+'))).toBe(WRONGTYPE);
    expect(await raw3('XADD', 'nos', 'NOMKSTREAM', '*', 'a', '1')).toBe('_\r\n');
    expect(await raw2('XADD', 'nos', 'NOMKSTREAM', '*', 'a', '1')).toBe('$-1\r\n');
  });

  it('XRANGE / XREVRANGE with COUNT and exclusive bounds; XLEN; XDEL; XTRIM MAXLEN / MINID, = and ~ with LIMIT', async () => {
    await r.del('r');
    for (let i = 1; i <= 500; i++) await r.xadd('r', `${i}-0`, 'n', String(i));
    expect(await r.xlen('r')).toBe(500);
    expect((await r.xrange('r', '(10', '(13-0')).map((e) => e[0])).toEqual(['11-0', '12-0']);
    // an end given as just ms means ms-18446744073709551615, so `(13` still includes 13-0 (as Redis)
    expect((await r.xrange('r', '(10', '(13')).map((e) => e[0])).toEqual(['11-0', '12-0', '13-0']);
    expect((await r.xrevrange('r', '+', '-', 'COUNT', 2)).map((e) => e[0])).toEqual(['500-0', '499-0']);
    expect(await r.xrange('r', '5', '5')).toEqual([['5-0', ['n', '5']]]);
    expect(await raw2('XRANGE', 'r', '-', '+', 'COUNT', '0')).toBe('*-1\r\n');
    expect(await errOf(r.xrange('r', '(-', '+'))).toBe('ERR Invalid stream ID specified as stream command argument');
    expect(await r.xdel('r', '1-0', '2-0', '999-0')).toBe(2);
    expect(await r.xlen('r')).toBe(498);
    // approximate trimming removes whole nodes of 100 only
    expect(await r.xtrim('r', 'MAXLEN', '~', 350)).toBe(98);
    expect(await r.xlen('r')).toBe(400);
    expect(await r.xtrim('r', 'MAXLEN', '~', 10, 'LIMIT', 100)).toBe(100);
    expect(await r.xtrim('r', 'MAXLEN', '=', 250)).toBe(50);
    expect(await r.xtrim('r', 'MINID', 300)).toBe(49);
    expect((await r.xrange('r', '-', '+', 'COUNT', 1))[0][0]).toBe('300-0');
    expect(await errOf(r.xtrim('r', 'MAXLEN', 1, 'LIMIT', 1))).toBe('ERR syntax error, LIMIT cannot be used without the special ~ option');
    expect(await r.xadd('r', 'MAXLEN', 3, '*', 'x', 'y')).toMatch(/-/);
    expect(await r.xlen('r')).toBe(3);
    // an emptied stream stays
    await r.xtrim('r', 'MAXLEN', 0);
    expect(await r.exists('r')).toBe(1);
  });

  it('XREAD: COUNT, several streams, $; RESP2 arrays and RESP3 maps', async () => {
    await r.del('a', 'b');
    await r.xadd('a', '1-0', 'f', 'v');
    await r.xadd('b', '2-0', 'g', 'w');
    expect(await raw2('XREAD', 'COUNT', '5', 'STREAMS', 'a', 'b', '0', '0')).toBe(
      '*2\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n',
    );
    expect(await raw3('XREAD', 'STREAMS', 'a', '0')).toBe('%1\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
    expect(await raw2('XREAD', 'STREAMS', 'a', '$')).toBe('*-1\r\n');
    expect(await raw3('XREAD', 'STREAMS', 'a', '$')).toBe('_\r\n');
  });

  it('consumer groups: XGROUP, XREADGROUP (> and history, NOACK), XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO', async () => {
    await r.del('q');
    expect(await errOf(r.xgroup('CREATE', 'q', 'g', '$'))).toMatch(/requires the key to exist/);
    expect(await r.xgroup('CREATE', 'q', 'g', '$', 'MKSTREAM')).toBe('OK');
    expect(await errOf(r.xgroup('CREATE', 'q', 'g', '$'))).toBe('BUSYGROUP Consumer Group name already exists');
    for (let i = 1; i <= 5; i++) await r.xadd('q', `${i}-0`, 'job', String(i));
    const got = (await r.xreadgroup('GROUP', 'g', 'w1', 'COUNT', 3, 'STREAMS', 'q', '>')) as [string, [string, string[]][]][];
    expect(got[0][1].map((e) => e[0])).toEqual(['1-0', '2-0', '3-0']);
    await r.xreadgroup('GROUP', 'g', 'w2', 'STREAMS', 'q', '>');
    const summary = (await r.xpending('q', 'g')) as unknown[];
    expect(summary).toEqual([5, '1-0', '5-0', [['w1', '3'], ['w2', '2']]]);
    expect(await r.xack('q', 'g', '1-0', '9-0')).toBe(1);
    const hist = (await r.xreadgroup('GROUP', 'g', 'w1', 'STREAMS', 'q', '0')) as [string, [string, string[]][]][];
    expect(hist[0][1].map((e) => e[0])).toEqual(['2-0', '3-0']);
    const ext = (await r.xpending('q', 'g', '-', '+', 10, 'w1')) as [string, string, number, number][];
    expect(ext.map((e) => [e[0], e[1], e[3]])).toEqual([
      ['2-0', 'w1', 2],
      ['3-0', 'w1', 2],
    ]);
    expect(await r.xclaim('q', 'g', 'w3', 0, '2-0', 'JUSTID')).toEqual(['2-0']);
    const auto = (await r.call('XAUTOCLAIM', 'q', 'g', 'w3', '0', '0', 'COUNT', '2')) as unknown[];
    expect(auto[0]).toBe('4-0');
    expect((auto[1] as [string][]).map((e) => e[0])).toEqual(['2-0', '3-0']);
    await r.xdel('q', '4-0');
    const auto2 = (await r.call('XAUTOCLAIM', 'q', 'g', 'w3', '0', '4-0', 'JUSTID')) as unknown[];
    expect(auto2).toEqual(['0-0', ['5-0'], ['4-0']]);
    const groups = (await r.call('XINFO', 'GROUPS', 'q')) as unknown[][];
    expect(groups[0]).toEqual(['name', 'g', 'consumers', 3, 'pending', 3, 'last-delivered-id', '5-0', 'entries-read', 5, 'lag', 0]);
    const cons = (await r.call('XINFO', 'CONSUMERS', 'q', 'g')) as unknown[][];
    expect(cons.map((c) => [c[1], c[3]])).toEqual([
      ['w1', 0],
      ['w2', 0],
      ['w3', 3],
    ]);
    expect(await errOf(r.xreadgroup('GROUP', 'nog', 'c', 'STREAMS', 'q', '>'))).toBe(
      "NOGROUP No such key 'q' or consumer group 'nog' in XREADGROUP with GROUP option",
    );
    expect(await r.xgroup('DELCONSUMER', 'q', 'g', 'w3')).toBe(3);
    expect(await r.xgroup('DESTROY', 'q', 'g')).toBe(1);
    const info = (await r.call('XINFO', 'STREAM', 'q')) as unknown[];
    expect(info.slice(0, 2)).toEqual(['length', 4]);
    expect(info[info.indexOf('entries-added') + 1]).toBe(5);
  });

  it('command table: arity, flags, key positions, @stream; XREAD keys after STREAMS', async () => {
    const [xadd] = (await r.call('COMMAND', 'INFO', 'xadd')) as unknown[][];
    expect(xadd.slice(0, 6)).toEqual(['xadd', -5, ['write', 'denyoom', 'fast'], 1, 1, 1]);
    expect(xadd[6]).toContain('@stream');
    expect(await r.call('COMMAND', 'GETKEYS', 'XREAD', 'COUNT', '2', 'BLOCK', '0', 'STREAMS', 'k1', 'k2', '0', '0')).toEqual(['k1', 'k2']);
    expect(await r.call('COMMAND', 'GETKEYS', 'XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'k1', '>')).toEqual(['k1']);
  });
});

// ---- differential run against a real redis-server ----


/** Random stream commands with explicit ids (time-free replies only: no idle times, no `*` ids). */
function randomCommand(rnd: () => number, clock: { ms: number }): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const key = rnd() < 0.93 ? pick(['x1', 'x2', 'xbig']) : pick(['str', 'nokey']);
  const id = () => (rnd() < 0.1 ? pick(['-', '+', '0', '0-0', 'bad', '1-x', '(5', '18446744073709551615-18446744073709551615']) : `${int(0, clock.ms + 2)}-${int(0, 2)}`);
  const bound = () => (rnd() < 0.3 ? '(' : '') + (rnd() < 0.2 ? pick(['-', '+']) : String(int(0, clock.ms + 2)) + (rnd() < 0.5 ? `-${int(0, 2)}` : ''));
  const group = () => pick(['g1', 'g2', 'nog']);
  const consumer = () => pick(['c1', 'c2', 'c3']);
  const x = rnd();
  if (x < 0.3) {
    const opts: string[] = [];
    if (rnd() < 0.15) opts.push('MAXLEN', ...(rnd() < 0.5 ? [pick(['=', '~'])] : []), String(int(0, 250)));
    else if (rnd() < 0.05) opts.push('MINID', pick(['=', '~']), `${int(0, clock.ms)}`);
    if (rnd() < 0.05) opts.push('LIMIT', String(int(0, 150)));
    if (rnd() < 0.05) opts.push('NOMKSTREAM');
    const explicit = rnd();
    let theId: string;
    if (explicit < 0.7) theId = `${(clock.ms += int(0, 2))}-${int(0, 3)}`;
    else if (explicit < 0.9) theId = `${(clock.ms += int(0, 1))}-*`;
    else theId = id();
    const n = int(1, 3);
    const fv: string[] = [];
    for (let i = 0; i < n; i++) fv.push(pick(['f', 'g', 'h', '']), pick(['1', 'v', 'x'.repeat(int(0, 40))]));
    if (rnd() < 0.02) fv.pop();
    return ['XADD', key === 'nokey' && rnd() < 0.5 ? 'x1' : key, ...opts, theId, ...fv];
  }
  if (x < 0.38) return ['XRANGE', key, bound(), bound(), ...(rnd() < 0.5 ? ['COUNT', String(int(-1, 5))] : [])];
  if (x < 0.43) return ['XREVRANGE', key, bound(), bound(), ...(rnd() < 0.5 ? ['COUNT', String(int(-1, 5))] : [])];
  if (x < 0.46) return ['XLEN', key];
  if (x < 0.5) return ['XDEL', key, id(), ...(rnd() < 0.4 ? [id()] : [])];
  if (x < 0.53) {
    if (rnd() < 0.5) return ['XTRIM', key, 'MAXLEN', ...(rnd() < 0.5 ? [pick(['=', '~'])] : []), String(int(0, 200)), ...(rnd() < 0.2 ? ['LIMIT', String(int(0, 150))] : [])];
    return ['XTRIM', key, 'MINID', pick(['=', '~', '=']), String(int(0, clock.ms))];
  }
  if (x < 0.58) return ['XREAD', ...(rnd() < 0.5 ? ['COUNT', String(int(0, 4))] : []), 'STREAMS', key, ...(rnd() < 0.3 ? ['x2'] : []), id(), ...(rnd() < 0.3 ? [id()] : [])];
  if (x < 0.62) {
    const sub = rnd();
    if (sub < 0.4) return ['XGROUP', 'CREATE', key, group(), pick(['$', '0', id()]), ...(rnd() < 0.3 ? ['MKSTREAM'] : []), ...(rnd() < 0.2 ? ['ENTRIESREAD', String(int(-2, 5))] : [])];
    if (sub < 0.6) return ['XGROUP', 'SETID', key, group(), pick(['$', '0', id()]), ...(rnd() < 0.3 ? ['ENTRIESREAD', String(int(-1, 5))] : [])];
    if (sub < 0.7) return ['XGROUP', 'DESTROY', key, group()];
    if (sub < 0.85) return ['XGROUP', 'CREATECONSUMER', key, group(), consumer()];
    return ['XGROUP', 'DELCONSUMER', key, group(), consumer()];
  }
  if (x < 0.75) {
    const opts = [...(rnd() < 0.5 ? ['COUNT', String(int(0, 5))] : []), ...(rnd() < 0.1 ? ['NOACK'] : [])];
    return ['XREADGROUP', 'GROUP', group(), consumer(), ...opts, 'STREAMS', key, rnd() < 0.7 ? '>' : pick(['0', id()])];
  }
  if (x < 0.82) return ['XACK', key, group(), id(), ...(rnd() < 0.5 ? [id()] : [])];
  if (x < 0.86) return ['XPENDING', key, group()];
  if (x < 0.9) return ['XCLAIM', key, group(), consumer(), '0', id(), ...(rnd() < 0.4 ? [id()] : []), 'JUSTID', ...(rnd() < 0.2 ? ['FORCE'] : [])];
  if (x < 0.94) return ['XAUTOCLAIM', key, group(), consumer(), '0', bound(), 'COUNT', String(int(1, 4)), 'JUSTID'];
  if (x < 0.97) return ['XINFO', 'GROUPS', key];
  if (x < 0.98) return ['DEL', pick(['x1', 'x2'])];
  return ['XPENDING', key, group(), '-', '+', '10', ...(rnd() < 0.5 ? [consumer()] : [])];
}

/** XPENDING's extended form carries idle times (milliseconds): blank them. */
const noIdle = (cmd: string[], reply: string) =>
  cmd[0] === 'XPENDING' && cmd.length > 3 ? reply.replace(/\r\n:\d+\r\n(:\d+\r\n)/g, '\r\n:IDLE\r\n$1') : reply;

describe.skipIf(!REDIS_SERVER)('differential: random stream commands against redis-server 7', () => {
  let srv: TestServer;
  let ref: { port: number; proc: ChildProcess; dir: string };
  const socks: net.Socket[] = [];
  beforeAll(async () => {
    [srv, ref] = await Promise.all([startServer(['--save', '']), startRedis()]);
  });
  afterAll(async () => {
    for (const s of socks) s.destroy();
    await srv?.stop();
    if (ref) {
      ref.proc.kill('SIGKILL');
      fs.rmSync(ref.dir, { recursive: true, force: true });
    }
  });

  it('3000 random commands: every reply identical, in RESP2 and RESP3', async () => {
    const ours = [await rawPort(srv.port, 2), await rawPort(srv.port, 3)];
    const theirs = [await rawPort(ref.port, 2), await rawPort(ref.port, 3)];
    for (const c of [...ours, ...theirs]) socks.push(c.sock);
    const seed = Number(process.env.STREAM_SEED ?? Date.now() % 1000000);
    const rnd = prng(seed);
    const clock = { ms: 300 };
    const big = ['SET', 'str', 'x'];
    await ours[0].send(...big);
    await theirs[0].send(...big);
    for (let i = 1; i <= 300; i++) {
      const cmd = ['XADD', 'xbig', `${i}-1`, 'n', String(i)];
      await Promise.all([ours[0].send(...cmd), theirs[0].send(...cmd)]);
    }
    const steps = Number(process.env.STREAM_STEPS ?? 3000);
    let compared = 0;
    let errors = 0;
    for (let i = 0; i < steps; i++) {
      const cmd = randomCommand(rnd, clock);
      const proto = rnd() < 0.5 ? 0 : 1;
      const [a, b] = await Promise.all([ours[proto].send(...cmd), theirs[proto].send(...cmd)]);
      if (process.env.STREAM_TRACE) console.log(i, JSON.stringify(cmd), JSON.stringify(b).slice(0, 200));
      if (noIdle(cmd, a) !== noIdle(cmd, b)) {
        throw new Error(`seed ${seed}, command #${i} (RESP${proto + 2}): ${JSON.stringify(cmd)}\nredis: ${JSON.stringify(b)}\nours:  ${JSON.stringify(a)}`);
      }
      if (b.startsWith('-')) errors++;
      compared++;
    }
    expect(compared).toBe(steps);
    expect(errors).toBeLessThan(steps / 2);
    for (const key of ['x1', 'x2', 'xbig']) {
      const [a, b] = await Promise.all([ours[0].send('XRANGE', key, '-', '+'), theirs[0].send('XRANGE', key, '-', '+')]);
      expect(a, key).toBe(b);
      const [c, d] = await Promise.all([ours[0].send('XINFO', 'GROUPS', key), theirs[0].send('XINFO', 'GROUPS', key)]);
      expect(c, key).toBe(d);
    }
  });
});

// ---- persistence and replication ----

describe('streams persist and replicate', () => {
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('DEBUG RELOAD and SAVE + restart keep entries, counters, groups and the PEL; DEBUG DIGEST covers streams', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-stream-'));
    dirs.push(dir);
    let s = await startServer(['--save', ''], { dir });
    servers.push(s);
    let r = s.client({ protocol: 2 });
    for (let i = 1; i <= 250; i++) await r.xadd('p', `${i}-0`, 'i', String(i), 'bin', Buffer.from([0, 255, 13, 10]));
    await r.xgroup('CREATE', 'p', 'g', '0');
    await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 7, 'STREAMS', 'p', '>');
    await r.xdel('p', '3-0');
    await r.xack('p', 'g', '1-0');
    const digest = await r.call('DEBUG', 'DIGEST');
    const pending = await r.xpending('p', 'g');
    expect(await r.call('DEBUG', 'RELOAD')).toBe('OK');
    expect(await r.call('DEBUG', 'DIGEST')).toBe(digest);
    await r.xack('p', 'g', '2-0');
    expect(await r.call('DEBUG', 'DIGEST')).not.toBe(digest);
    const groups = await r.call('XINFO', 'GROUPS', 'p');
    expect(await r.save()).toBe('OK');
    const digest2 = await r.call('DEBUG', 'DIGEST');
    await s.stop();
    s = await startServer(['--save', ''], { dir });
    servers.push(s);
    r = s.client({ protocol: 2 });
    expect(await r.call('DEBUG', 'DIGEST')).toBe(digest2);
    expect(((await r.xpending('p', 'g')) as unknown[])[0]).toBe((pending as unknown[])[0] as number - 1);
    expect(await r.call('XINFO', 'GROUPS', 'p')).toEqual(groups);
    expect(await r.xlen('p')).toBe(249);
    expect(await r.xadd('p', '251-0', 'a', 'b')).toBe('251-0');
  });

  it('a replica gets XADD with its generated id and XREADGROUP as XCLAIM / XGROUP SETID: same digest', async () => {
    const master = await startServer(['--save', '']);
    servers.push(master);
    const replica = await startServer(['--save', '', '--replicaof', '127.0.0.1', String(master.port)]);
    servers.push(replica);
    const m = master.client({ protocol: 2 });
    const rr = replica.client({ protocol: 2 });
    for (let i = 0; i < 20; i++) await m.xadd('rs', 'MAXLEN', '~', '5', '*', 'i', String(i));
    await m.xgroup('CREATE', 'rs', 'g', '0');
    await m.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 3, 'STREAMS', 'rs', '>');
    await m.xreadgroup('GROUP', 'g', 'c2', 'NOACK', 'STREAMS', 'rs', '>');
    await m.call('XAUTOCLAIM', 'rs', 'g', 'c3', '0', '0', 'JUSTID');
    await m.call('WAIT', '1', '2000');
    const want = await m.call('DEBUG', 'DIGEST');
    let got = '';
    for (let i = 0; i < 50 && got !== want; i++) {
      got = (await rr.call('DEBUG', 'DIGEST')) as string;
      if (got !== want) await new Promise((res) => setTimeout(res, 50));
    }
    expect(await rr.xrange('rs', '-', '+')).toEqual(await m.xrange('rs', '-', '+'));
    const strip = (x: unknown) => JSON.stringify(x);
    expect(strip(await rr.xpending('rs', 'g'))).toBe(strip(await m.xpending('rs', 'g')));
    expect(await rr.call('XINFO', 'GROUPS', 'rs')).toEqual(await m.call('XINFO', 'GROUPS', 'rs'));
  });
});

// ---- the stream worker example ----

describe('examples/stream-worker.mjs', () => {
  let srv: TestServer;
  afterAll(async () => {
    await srv?.stop();
  });

  it('runs the DAG per request; a worker killed mid-way leaves pending requests that another worker XAUTOCLAIMs: none lost', async () => {
    srv = await startServer(['--save', '']);
    const worker = path.resolve(__dirname, '../../examples/stream-worker.mjs');
    const run = (...a: string[]) => spawn(process.execPath, [worker, '--port', String(srv.port), ...a], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = (p: ChildProcess) => new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
    const setup = run('--setup');
    expect(await exit(setup)).toBe(0);
    const r = srv.client({ protocol: 2 });
    const N = 30;
    for (let i = 0; i < N; i++) {
      const tx = Buffer.alloc(120);
      for (let k = 0; k < 30; k++) tx.writeFloatLE(Math.sin(i * 31 + k), k * 4);
      await r.xadd('requests', '*', 'rid', String(i), 'tx', tx);
    }
    // worker A reads requests one by one, slowly, and is killed after a few results
    const a = run('--name', 'A', '--slow', '40', '--claim-idle', '60000');
    const aExit = exit(a);
    for (let i = 0; i < 100 && (await r.xlen('results')) < 4; i++) await new Promise((res) => setTimeout(res, 20));
    a.kill('SIGKILL');
    await aExit;
    const done = await r.xlen('results');
    expect(done).toBeGreaterThanOrEqual(4);
    expect(done).toBeLessThan(N);
    // what A read but never acknowledged stays pending under A
    const pendingA = (await r.xpending('requests', 'workers')) as [number, string, string, [string, string][]];
    expect(pendingA[0]).toBeGreaterThanOrEqual(1);
    expect(pendingA[3]).toEqual([['A', String(pendingA[0])]]);
    // worker B claims what A left (idle > 100 ms) and serves the rest
    await new Promise((res) => setTimeout(res, 150));
    const b = run('--name', 'B', '--claim-idle', '100', '--exit-when-idle', '800');
    let errText = '';
    b.stderr!.on('data', (d) => (errText += d));
    expect(await exit(b), errText).toBe(0);
    const results = await r.xrange('results', '-', '+');
    const rids = new Set(results.map(([, f]) => f[f.indexOf('rid') + 1]));
    expect(rids.size).toBe(N);
    for (const [, f] of results) expect(Number(f[f.indexOf('score') + 1])).toBeGreaterThan(0);
    expect(results.some(([, f]) => f[f.indexOf('worker') + 1] === 'B')).toBe(true);
    expect(((await r.xpending('requests', 'workers')) as unknown[])[0]).toBe(0);
    const groups = (await r.call('XINFO', 'GROUPS', 'requests')) as unknown[][];
    expect(groups[0].slice(0, 8)).toEqual(['name', 'workers', 'consumers', 2, 'pending', 0, 'last-delivered-id', (await r.xrevrange('requests', '+', '-', 'COUNT', 1))[0][0]]);
  }, 30000);
});
