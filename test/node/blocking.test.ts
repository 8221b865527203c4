// Blocking commands against a real server process: BLPOP / BRPOP / BLMOVE / BZPOPMIN / BZPOPMAX / XREAD BLOCK /
// XREADGROUP BLOCK woken by writes from other connections, served in arrival order, timeouts (null array in
// RESP2 and RESP3), non-blocking inside MULTI, DEL / FLUSHALL leave waiters waiting, a closed client's waiter is
// dropped, and served pops reach a replica as their non-blocking form.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf, rawConn, rawPushConn } from '../helpers/resp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('blocking commands', () => {
  let srv: TestServer;
  let w: Redis;
  beforeAll(async () => {
    srv = await startServer(['--save', '']);
    w = srv.client({ protocol: 2 });
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('BLPOP / BRPOP answer at once when a list has elements, and the first non-empty key wins', async () => {
    await w.rpush('l1', 'a', 'b');
    expect(await w.blpop('nokey', 'l1', 0)).toEqual(['l1', 'a']);
    expect(await w.brpop('l1', 0)).toEqual(['l1', 'b']);
    expect(await w.exists('l1')).toBe(0);
    await w.set('str', 'x');
    expect(await errOf(w.blpop('str', 0))).toMatch(/^WRONGTYPE/);
    expect(await errOf(w.blpop('l1', 'x'))).toBe('ERR timeout is not a float or out of range');
    expect(await errOf(w.blpop('l1', -1))).toBe('ERR timeout is negative');
  });

  it('a blocked BLPOP is woken by an RPUSH from another connection; waiters are served in arrival order', async () => {
    const a = srv.client({ protocol: 2 });
    const b = srv.client({ protocol: 3 });
    const pa = a.blpop('q', 0);
    await sleep(50);
    const pb = b.blpop('q', 0);
    await sleep(50);
    expect(await w.info('clients')).toMatch(/\r\nblocked_clients:2\r\n/);
    expect(await w.rpush('q', 'first', 'second')).toBe(2);
    expect(await pa).toEqual(['q', 'first']);
    expect(await pb).toEqual(['q', 'second']);
    expect(await w.exists('q')).toBe(0);
    expect(await w.info('clients')).toMatch(/\r\nblocked_clients:0\r\n/);
    // the client runs nothing else while blocked: a pipelined PING answers after the pop
    const raw = await rawPushConn(srv, 2);
    raw.sock.write('*3\r\n$5\r\nBLPOP\r\n$2\r\nq2\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n');
    await sleep(50);
    await w.rpush('q2', 'x');
    expect(await raw.next(2)).toBe('*2\r\n$2\r\nq2\r\n$1\r\nx\r\n+PONG\r\n');
  });

  it('timeouts reply a null array in RESP2 and RESP3; inside MULTI blocking commands do not block', async () => {
    const r2 = await rawConn(srv, 2);
    const r3 = await rawConn(srv, 3);
    const t0 = Date.now();
    expect(await r2.send('BLPOP', 'none', '0.1')).toBe('*-1\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(await r3.send('BZPOPMIN', 'none', '0.05')).toBe('_\r\n');
    expect(await r2.send('XREAD', 'BLOCK', '50', 'STREAMS', 'nos', '$')).toBe('*-1\r\n');
    expect(await r3.send('BLMOVE', 'none', 'dst', 'LEFT', 'RIGHT', '0.05')).toBe('_\r\n');
    expect(await r2.send('MULTI')).toBe('+OK\r\n');
    for (const cmd of [
      ['BLPOP', 'none', '0'],
      ['BZPOPMAX', 'none', '0'],
      ['XREAD', 'BLOCK', '0', 'STREAMS', 'nos', '$'],
      ['BLMOVE', 'none', 'dst', 'LEFT', 'LEFT', '0'],
    ]) {
      expect(await r2.send(...cmd)).toBe('+QUEUED\r\n');
    }
    expect(await r2.send('EXEC')).toBe('*4\r\n*-1\r\n*-1\r\n*-1\r\n$-1\r\n');
  });

  it('BLMOVE moves once the source gets an element; LMOVE moves at once', async () => {
    await w.del('src', 'dst');
    const c = srv.client({ protocol: 2 });
    const p = c.blmove('src', 'dst', 'LEFT', 'RIGHT', 0);
    await sleep(50);
    await w.rpush('src', 'v1');
    expect(await p).toBe('v1');
    expect(await w.lrange('dst', 0, -1)).toEqual(['v1']);
    await w.rpush('src', 'v2', 'v3');
    expect(await w.lmove('src', 'dst', 'RIGHT', 'LEFT')).toBe('v3');
    expect(await w.lrange('dst', 0, -1)).toEqual(['v3', 'v1']);
    expect(await errOf(w.call('LMOVE', 'src', 'dst', 'UP', 'LEFT'))).toBe('ERR syntax error');
  });

  it('BZPOPMIN / BZPOPMAX woken by ZADD; RESP3 scores are doubles', async () => {
    const r3 = await rawPushConn(srv, 3);
    r3.sock.write('*3\r\n$8\r\nBZPOPMAX\r\n$2\r\nzz\r\n$1\r\n0\r\n');
    await sleep(50);
    await w.zadd('zz', 1.5, 'a', 2.5, 'b');
    expect(await r3.next(1)).toBe('*3\r\n$2\r\nzz\r\n$1\r\nb\r\n,2.5\r\n');
    expect(await w.bzpopmin('zz', 0)).toEqual(['zz', 'a', '1.5']);
  });

  it('LMPOP / ZMPOP pop up to COUNT from the first non-empty key; BLMPOP / BZMPOP wait for one', async () => {
    await w.rpush('m1', 'a', 'b', 'c');
    expect(await w.call('LMPOP', '2', 'none', 'm1', 'RIGHT', 'COUNT', '2')).toEqual(['m1', ['c', 'b']]);
    expect(await errOf(w.call('LMPOP', '0', 'm1', 'LEFT'))).toBe('ERR numkeys should be greater than 0');
    expect(await errOf(w.call('LMPOP', '1', 'm1', 'LEFT', 'COUNT', '0'))).toBe('ERR count should be greater than 0');
    const c = srv.client({ protocol: 2 });
    const p = c.call('BLMPOP', '0', '2', 'none', 'm2', 'LEFT', 'COUNT', '5');
    await sleep(50);
    await w.rpush('m2', 'x', 'y');
    expect(await p).toEqual(['m2', ['x', 'y']]);
    await w.zadd('mz', 1, 'a', 2, 'b');
    expect(await w.call('ZMPOP', '1', 'mz', 'MAX')).toEqual(['mz', [['b', '2']]]);
    const r3 = await rawPushConn(srv, 3);
    const pz = r3.send(1, 'BZMPOP', '0', '1', 'mz2', 'MIN');
    await sleep(50);
    await w.zadd('mz2', 0.5, 'm');
    expect(await pz).toBe('*2\r\n$3\r\nmz2\r\n*1\r\n*2\r\n$1\r\nm\r\n,0.5\r\n');
  });

  it('XREAD BLOCK with $ sees only entries added after it blocked; XREADGROUP BLOCK > gets new entries into its PEL', async () => {
    await w.del('st');
    await w.xadd('st', '1-0', 'old', '1');
    const c = srv.client({ protocol: 2 });
    const p = c.xread('BLOCK', 0, 'STREAMS', 'st', '$');
    await sleep(50);
    await w.xadd('st', '2-0', 'new', '2');
    expect(await p).toEqual([['st', [['2-0', ['new', '2']]]]]);
    await w.xgroup('CREATE', 'st', 'g', '$');
    const g = srv.client({ protocol: 2 });
    const pg = g.xreadgroup('GROUP', 'g', 'worker', 'BLOCK', 0, 'STREAMS', 'st', '>');
    await sleep(50);
    await w.xadd('st', '3-0', 'job', '3');
    expect(await pg).toEqual([['st', [['3-0', ['job', '3']]]]]);
    expect(await w.xpending('st', 'g')).toEqual([1, '3-0', '3-0', [['worker', '1']]]);
    // a group destroyed under a blocked XREADGROUP: the client gets -NOGROUP
    const pg2 = errOf(g.xreadgroup('GROUP', 'g', 'worker', 'BLOCK', 0, 'STREAMS', 'st', '>'));
    await sleep(50);
    await w.xgroup('DESTROY', 'st', 'g');
    await w.xadd('st', '4-0', 'a', 'b');
    expect(await pg2).toBe('NOGROUP the consumer group this client was blocked on no longer exists');
    // and one whose stream is deleted gets -UNBLOCKED, while a plain XREAD keeps waiting
    await w.xgroup('CREATE', 'st', 'g', '$');
    const pg3 = errOf(g.xreadgroup('GROUP', 'g', 'worker', 'BLOCK', 0, 'STREAMS', 'st', '>'));
    let xreadDone = false;
    const px = c.xread('BLOCK', 0, 'STREAMS', 'st', '$').then((v) => ((xreadDone = true), v));
    await sleep(50);
    await w.del('st');
    expect(await pg3).toBe('UNBLOCKED the stream key no longer exists');
    await sleep(30);
    expect(xreadDone).toBe(false);
    await w.xadd('st', '9-0', 'late', '1');
    expect(await px).toEqual([['st', [['9-0', ['late', '1']]]]]);
  });

  it('DEL and FLUSHALL leave waiters waiting; a closed client no longer takes elements', async () => {
    const c = srv.client({ protocol: 2 });
    let done = false;
    const p = c.blpop('dq', 0).then((v) => ((done = true), v));
    await sleep(30);
    await w.del('dq');
    await w.flushall();
    await sleep(30);
    expect(done).toBe(false);
    // a client that disconnects while blocked
    const gone = await rawConn(srv, 2);
    gone.sock.write('*3\r\n$5\r\nBLPOP\r\n$2\r\ndq\r\n$1\r\n0\r\n');
    await sleep(30);
    gone.sock.destroy();
    await sleep(30);
    await w.rpush('dq', 'e1', 'e2');
    expect(await p).toEqual(['dq', 'e1']);
    expect(await w.lrange('dq', 0, -1)).toEqual(['e2']);
    const info = (await w.info('clients')) as string;
    expect(info).toMatch(/connected_clients/);
  });
});

describe('blocking commands and the idle timeout', () => {
  it('a client blocked longer than `timeout` stays connected (as Redis); an idle one is closed', async () => {
    const srv = await startServer(['--save', '', '--timeout', '1']);
    try {
      const blocked = srv.client({ protocol: 2, retryStrategy: () => null, autoResendUnfulfilledCommands: false });
      const idle = srv.client({ protocol: 2, retryStrategy: () => null });
      const w = srv.client({ protocol: 2 });
      await idle.ping();
      const closed = new Promise((r) => idle.once('end', r));
      const popped = blocked.blpop('late', 0);
      await sleep(2500); // past `timeout` (1 s) and the cron that enforces it
      await closed;
      await w.rpush('late', 'v');
      expect(await popped).toEqual(['late', 'v']);
    } finally {
      await srv.stop();
    }
  }, 15000);
});

describe('blocking commands under replication', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('a served BLPOP / BZPOPMIN / BLMOVE reaches the replica as LPOP / ZPOPMIN / LMOVE; XREAD BLOCK on a replica is woken by replicated XADD', async () => {
    const master = await startServer(['--save', '']);
    servers.push(master);
    const replica = await startServer(['--save', '', '--replicaof', '127.0.0.1', String(master.port)]);
    servers.push(replica);
    const m = master.client({ protocol: 2 });
    const r = replica.client({ protocol: 2 });
    await m.call('WAIT', '1', '3000');
    const blocked = master.client({ protocol: 2 });
    const p1 = blocked.blpop('rl', 0);
    await sleep(50);
    await m.rpush('rl', 'a', 'b');
    expect(await p1).toEqual(['rl', 'a']);
    await m.zadd('rz', 1, 'x', 2, 'y');
    expect(await m.bzpopmin('rz', 0)).toEqual(['rz', 'x', '1']);
    const p2 = blocked.blmove('rsrc', 'rdst', 'LEFT', 'LEFT', 0);
    await sleep(50);
    await m.rpush('rsrc', 'moved');
    expect(await p2).toBe('moved');
    // a reader blocked on the replica
    const rr = replica.client({ protocol: 2 });
    const p3 = rr.xread('BLOCK', '5000', 'STREAMS', 'rst', '$');
    await sleep(50);
    await m.xadd('rst', '7-0', 'k', 'v');
    expect(await p3).toEqual([['rst', [['7-0', ['k', 'v']]]]]);
    expect(await m.call('WAIT', '1', '3000')).toBe(1);
    expect(await r.lrange('rl', 0, -1)).toEqual(['b']);
    expect(await r.zrange('rz', '0', '-1')).toEqual(['y']);
    expect(await r.lrange('rdst', 0, -1)).toEqual(['moved']);
    expect(await r.call('DEBUG', 'DIGEST')).toBe(await m.call('DEBUG', 'DIGEST'));
  });
});
