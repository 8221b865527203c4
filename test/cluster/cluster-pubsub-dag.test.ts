// The rest of cluster mode, on six real nodes joined by the real `redis-cli --cluster create` (3 masters, 3
// replicas): PUBLISH fanned out over the cluster bus (plain clients, redis-cli, an ioredis Cluster subscriber),
// sharded pub/sub (SSUBSCRIBE / SPUBLISH routed by slot, delivered to the shard's master and replicas), read-only
// DAGs whose LOAD keys live on other masters (fetched by the model's node; ASK during resharding; missing keys and
// unreachable nodes), and CLUSTER FAILOVER pausing the old master's writes so no acknowledged write is lost. Plus
// CLIENT PAUSE itself, side by side with the real redis-server.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import Redis from 'ioredis';
import { InferdbCluster, commandSlot } from '../../src/client';
import { encode, startServer, type TestServer } from '../helpers/server';
import { REDIS_SERVER, startRedis } from '../helpers/redis-reference';
import { errorOf, fields, linearIris, redisCli, sleep, slotOf, startSixNodeCluster, tagIn, until, type SixNodeCluster } from './cluster-helpers';

const IRIS = [5.1, 3.5, 1.4, 0.2];
const LINEAR_OUT = -0.090524077415466309; // linear_iris on IRIS (RedisAI's tests)
const MISSING = 'ERR tensor key is empty or in a different shard';

/** Whether `p` settles within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(ms);
  return done;
}

/** CLIENT PAUSE basics on a server; returns a trace to compare between servers. */
async function pauseTrace(port: number): Promise<string[]> {
  const opts = { port, host: '127.0.0.1', enableReadyCheck: false, protocol: 2 } as const;
  const [admin, writer, reader, sub] = [new Redis(opts), new Redis(opts), new Redis(opts), new Redis(opts)];
  const trace: string[] = [];
  try {
    trace.push(await errorOf(admin.call('CLIENT', 'PAUSE', 'abc')));
    trace.push(await errorOf(admin.call('CLIENT', 'PAUSE', '-1')));
    trace.push(await errorOf(admin.call('CLIENT', 'PAUSE', '10', 'FOO')));
    await writer.set('k', 'old');
    await sub.subscribe('ch');
    const got: string[] = [];
    sub.on('message', (_ch, m) => got.push(m));
    trace.push(String(await admin.call('CLIENT', 'PAUSE', '20000', 'WRITE')));
    // WRITE: reads go on, writes (and PUBLISH, which may replicate) wait, in order, and are not dropped
    trace.push(`get during WRITE pause: ${await reader.get('k')}`);
    const set = writer.set('k', 'new');
    const incr = writer.incr('n');
    const pub = reader.publish('ch', 'hello');
    trace.push(`set settled while paused: ${await settlesWithin(set, 400)}`);
    trace.push(`publish settled while paused: ${await settlesWithin(pub, 10)}`);
    trace.push(`get still served: ${await admin.get('k')}`);
    trace.push(String(await admin.call('CLIENT', 'UNPAUSE')));
    trace.push(`after unpause: ${await set} ${await incr} ${await pub} ${await reader.get('k')}`);
    await until('the message', async () => got.length, (n) => n === 1);
    // ALL: every command waits, until the pause ends by itself
    trace.push(String(await admin.call('CLIENT', 'PAUSE', '600', 'ALL')));
    const t0 = Date.now();
    const get = reader.get('k');
    trace.push(`get settled during ALL pause: ${await settlesWithin(get, 200)}`);
    trace.push(`get after the pause: ${await get}, waited >= 400 ms: ${Date.now() - t0 >= 400}`);
  } finally {
    for (const r of [admin, writer, reader, sub]) r.disconnect();
  }
  return trace;
}

describe('CLIENT PAUSE, side by side with redis-server', () => {
  let ours: TestServer;
  let ref: Awaited<ReturnType<typeof startRedis>> | undefined;

  beforeAll(async () => {
    ours = await startServer();
    if (REDIS_SERVER) ref = await startRedis();
  }, 30000);

  afterAll(async () => {
    ref?.proc.kill('SIGKILL');
    await ours?.stop();
  });

  it('holds writes (not reads) with WRITE, everything with ALL, and lets them run after', async () => {
    const trace = await pauseTrace(ours.port);
    expect(trace).toEqual([
      'ERR timeout is not an integer or out of range',
      'ERR timeout is negative',
      'ERR CLIENT PAUSE mode must be WRITE or ALL',
      'OK',
      'get during WRITE pause: old',
      'set settled while paused: false',
      'publish settled while paused: false',
      'get still served: old',
      'OK',
      'after unpause: OK 1 1 new',
      'OK',
      'get settled during ALL pause: false',
      'get after the pause: new, waited >= 400 ms: true',
    ]);
    if (ref) expect(await pauseTrace(ref.port)).toEqual(trace);
  }, 30000);
});

describe('cluster pub/sub, cross-shard DAGs and a paused manual failover (six nodes)', () => {
  let c: SixNodeCluster;
  /** one hash tag per master, with the master's and its replica's ports */
  let shards: { tag: string; master: number; replica: number }[];
  const extra: Redis[] = [];
  const extraSockets: net.Socket[] = [];
  const clientOf = (port: number) => c.clients[c.ports.indexOf(port)];
  const conn = (port: number, opts = {}) => {
    const r = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, ...opts });
    extra.push(r);
    return r;
  };

  beforeAll(async () => {
    c = await startSixNodeCluster();
    type SlotsReply = [number, number, [string, number, string], ...[string, number, string][]][];
    const first = (await c.clients[0].call('CLUSTER', 'SLOTS')) as SlotsReply;
    // CLUSTER SLOTS lists a replica once it has a replication offset: give every master a write
    for (const [lo, hi, master] of first) await clientOf(master[1]).set(`{${tagIn(lo, hi + 1, 'w')}}warm`, '1');
    const slots = await until(
      'a replica for every slot range',
      async () => (await c.clients[0].call('CLUSTER', 'SLOTS')) as SlotsReply,
      (r) => r.length === 3 && r.every((range) => range.length === 4),
    );
    shards = slots.map(([lo, hi, master, replica]) => ({ tag: tagIn(lo, hi + 1, 'q'), master: master[1], replica: replica[1] }));
  }, 60000);

  afterAll(async () => {
    for (const r of extra) r.disconnect();
    for (const sock of extraSockets) sock.destroy();
    await c?.stop();
  });

  it('fans PUBLISH out over the bus: subscribers on every node get it, the reply counts local receivers', async () => {
    const [a, b, d] = [c.ports[0], c.ports[2], c.ports[5]];
    const sub = conn(a);
    const psub = conn(d); // a replica or a master: every node delivers
    const got: string[] = [];
    sub.on('message', (ch, m) => got.push(`${a} ${ch} ${m}`));
    psub.on('pmessage', (p, ch, m) => got.push(`${d} ${p} ${ch} ${m}`));
    await sub.subscribe('news');
    await psub.psubscribe('ne*');
    expect(await clientOf(b).publish('news', 'one')).toBe(0); // nobody subscribed on b itself
    expect(await clientOf(a).publish('news', 'two')).toBe(1);
    const cli = await redisCli(['-p', String(c.ports[4]), 'PUBLISH', 'news', 'three']);
    expect(cli.out.trim()).toBe('0');
    await until('six deliveries', async () => got.length, (n) => n === 6);
    expect(got.sort()).toEqual(
      [`${a} news one`, `${a} news two`, `${a} news three`, `${d} ne* news one`, `${d} ne* news two`, `${d} ne* news three`].sort(),
    );
    // redis-cli subscribed on one node, the publisher on another
    const listener = spawn('redis-cli', ['-p', String(c.ports[1]), 'SUBSCRIBE', 'cli-chan'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let printed = '';
      listener.stdout.on('data', (d) => (printed += d));
      await until('the redis-cli subscriber', async () => printed, (t) => t.includes('cli-chan'));
      expect(await clientOf(c.ports[3]).publish('cli-chan', 'over-the-bus')).toBe(0);
      await until('redis-cli printed the message', async () => printed, (t) => t.includes('message\ncli-chan\nover-the-bus'));
    } finally {
      listener.kill();
    }
  }, 30000);

  it('delivers to an ioredis Cluster subscriber whatever node the message is published on', async () => {
    const cluster = new Redis.Cluster([{ host: '127.0.0.1', port: c.ports[0] }]);
    try {
      const got: string[] = [];
      cluster.on('message', (_ch, m) => got.push(m));
      await cluster.subscribe('cluster-news');
      await Promise.all(c.ports.map((p, i) => clientOf(p).publish('cluster-news', `from-${i}`)));
      await until('a message from every node', async () => got.length, (n) => n === 6);
      expect(got.sort()).toEqual(c.ports.map((_, i) => `from-${i}`).sort());
    } finally {
      cluster.disconnect();
    }
  }, 30000);

  it('routes sharded pub/sub by slot and delivers within the shard only', async () => {
    const [s1, s2] = shards;
    const ch = `{${s1.tag}}events`;
    const cluster = new Redis.Cluster([{ host: '127.0.0.1', port: c.ports[0] }], { shardedSubscribers: true });
    try {
      const got: string[] = [];
      cluster.on('smessage', (channel, m) => got.push(`${channel} ${m}`));
      await cluster.ssubscribe(ch);
      // ioredis put it on the slot's master
      expect(await clientOf(s1.master).call('PUBSUB', 'SHARDNUMSUB', ch)).toEqual([ch, 1]);
      expect(await clientOf(s1.master).call('PUBSUB', 'SHARDCHANNELS')).toEqual([ch]);
      // a subscriber on the shard's replica (no READONLY needed), as Redis
      const onReplica = conn(s1.replica);
      const replicaGot: string[] = [];
      onReplica.on('smessage', (channel, m) => replicaGot.push(`${channel} ${m}`));
      expect(await onReplica.ssubscribe(ch)).toBe(1);
      // other shards redirect, and a plain PUBLISH subscriber does not see shard messages
      expect(await errorOf(conn(s2.master).ssubscribe(ch))).toBe(`MOVED ${slotOf(s1.tag)} 127.0.0.1:${s1.master}`);
      expect(await errorOf(clientOf(s2.master).call('SPUBLISH', ch, 'x'))).toBe(`MOVED ${slotOf(s1.tag)} 127.0.0.1:${s1.master}`);
      expect(await clientOf(s1.master).call('SPUBLISH', ch, 'from-master')).toBe(1);
      expect(await clientOf(s1.replica).call('SPUBLISH', ch, 'from-replica')).toBe(1);
      await until('two messages on each subscriber', async () => [got.length, replicaGot.length], (n) => n[0] === 2 && n[1] === 2);
      expect(got.sort()).toEqual([`${ch} from-master`, `${ch} from-replica`]);
      expect(replicaGot.sort()).toEqual(got);
      // nodes of other shards never got it
      for (const s of shards.slice(1)) expect(await clientOf(s.master).call('PUBSUB', 'SHARDNUMSUB', ch)).toEqual([ch, 0]);
      expect(await onReplica.sunsubscribe(ch)).toBe(0);
    } finally {
      cluster.disconnect();
    }
  }, 30000);

  it('runs a read-only DAG on the model node with LOAD keys fetched from the other masters', async () => {
    const [s1, s2, s3] = shards;
    const k1 = (n: string) => `{${s1.tag}}${n}`;
    const k2 = (n: string) => `{${s2.tag}}${n}`;
    const k3 = (n: string) => `{${s3.tag}}${n}`;
    const m1 = clientOf(s1.master);
    expect(await m1.call('AI.MODELSTORE', k1('iris'), 'ONNX', 'CPU', 'BLOB', linearIris)).toBe('OK');
    for (const [r, key] of [[m1, k1('x')], [clientOf(s2.master), k2('x')], [clientOf(s3.master), k3('x')]] as const) {
      expect(await r.call('AI.TENSORSET', key, 'FLOAT', '1', '4', 'VALUES', ...IRIS.map(String))).toBe('OK');
    }
    expect(await clientOf(s3.master).call('AI.TENSORSET', k3('i'), 'INT8', '3', 'VALUES', '1', '-2', '3')).toBe('OK');
    const dag = (name: string, x: string, y: string) => [
      name, 'LOAD', '2', x, y,
      '|>', 'AI.MODELEXECUTE', k1('iris'), 'INPUTS', '1', x, 'OUTPUTS', '1', 'out',
      '|>', 'AI.TENSORGET', 'out', 'VALUES',
      '|>', 'AI.TENSORGET', y, 'META', 'BLOB',
      '|>', 'AI.TENSORGET', x, 'META', 'VALUES',
    ];
    // all local (the single-node result) vs. the inputs on the two other masters
    const local = await m1.callBuffer(...(dag('AI.DAGEXECUTE_RO', k1('x'), k1('x')) as [string, ...string[]]));
    const remote = await m1.callBuffer(...(dag('AI.DAGEXECUTE_RO', k2('x'), k3('x')) as [string, ...string[]]));
    expect(remote).toEqual(local);
    expect(Number((local as Buffer[][])[1][0].toString())).toBeCloseTo(LINEAR_OUT, 6);
    // AI.DAGEXECUTE without PERSIST (and the deprecated AI.DAGRUN_RO) too
    expect(await m1.callBuffer(...(dag('AI.DAGEXECUTE', k2('x'), k3('x')) as [string, ...string[]]))).toEqual(local);
    // no model: routed by the first LOAD key
    expect(await m1.call('AI.DAGRUN_RO', 'LOAD', '2', k1('x'), k3('i'), '|>', 'AI.TENSORGET', k3('i'), 'VALUES')).toEqual([[1, -2, 3]]);
    expect(await errorOf(m1.call('AI.DAGRUN_RO', 'LOAD', '2', k3('i'), k1('x'), '|>', 'AI.TENSORGET', k3('i'), 'VALUES'))).toBe(
      `MOVED ${slotOf(s3.tag)} 127.0.0.1:${s3.master}`,
    );
    // the DAG goes to the model's node: elsewhere MOVED there; with PERSIST still CROSSSLOT
    expect(await errorOf(clientOf(s2.master).call(...(dag('AI.DAGEXECUTE_RO', k2('x'), k3('x')) as [string, ...string[]])))).toBe(
      `MOVED ${slotOf(s1.tag)} 127.0.0.1:${s1.master}`,
    );
    expect(await errorOf(m1.call('AI.DAGEXECUTE', 'LOAD', '1', k2('x'), 'PERSIST', '1', k1('p'), '|>', 'AI.TENSORGET', k2('x'), 'VALUES'))).toBe(
      "CROSSSLOT Keys in request don't hash to the same slot",
    );
    // a missing (or non-tensor) remote key: the same error as a local one, in the same place
    await clientOf(s2.master).set(k2('str'), 'not a tensor');
    await m1.set(k1('str'), 'not a tensor');
    for (const suffix of ['missing', 'str']) {
      const mine = await errorOf(m1.call('AI.DAGEXECUTE_RO', 'LOAD', '2', k1('x'), k1(suffix), '|>', 'AI.TENSORGET', k1('x'), 'VALUES'));
      const theirs = await errorOf(m1.call('AI.DAGEXECUTE_RO', 'LOAD', '2', k1('x'), k2(suffix), '|>', 'AI.TENSORGET', k1('x'), 'VALUES'));
      expect(theirs).toBe(mine);
    }
    expect(await errorOf(m1.call('AI.DAGEXECUTE_RO', 'LOAD', '2', k1('x'), k2('missing'), '|>', 'AI.TENSORGET', k1('x'), 'VALUES'))).toBe(MISSING);
    // read-only on the model master's replica, with READONLY: loads from the other masters too
    const replica = conn(s1.replica);
    await replica.call('READONLY');
    await until('the model on the replica', async () => replica.exists(k1('iris')), (n) => n === 1);
    expect(await replica.callBuffer(...(dag('AI.DAGEXECUTE_RO', k2('x'), k3('x')) as [string, ...string[]]))).toEqual(local);
    // the client helper sends it straight to the model's master
    const cluster = new Redis.Cluster([{ host: '127.0.0.1', port: c.ports[0] }]);
    try {
      const ai = new InferdbCluster(cluster);
      const ops = [
        ['AI.MODELEXECUTE', k1('iris'), 'INPUTS', 1, k2('x'), 'OUTPUTS', 1, 'out'],
        ['AI.TENSORGET', 'out', 'VALUES'],
      ];
      expect(commandSlot(['AI.DAGEXECUTE_RO', 'LOAD', 1, k2('x'), ...ops.flatMap((o) => ['|>', ...o])])).toBe(slotOf(s1.tag));
      const reply = await ai.dagexecuteRO({ load: [k2('x')] }, ops);
      expect(ai.lastNode).toBe(`127.0.0.1:${s1.master}`);
      expect((reply[1] as unknown[]).map(Number)).toEqual([Math.fround(LINEAR_OUT)]);
    } finally {
      cluster.disconnect();
    }
  }, 60000);

  it('reads a LOAD key of a slot being migrated (ASK), and reports an unreachable owner', async () => {
    const [s1, s2, s3] = shards;
    const m1 = clientOf(s1.master);
    const [m2, m3] = [clientOf(s2.master), clientOf(s3.master)];
    const id3 = (await m3.call('CLUSTER', 'MYID')) as string;
    const id2 = (await m2.call('CLUSTER', 'MYID')) as string;
    // a fresh slot of s2 (no other test key in it), its key moved to s3 mid-migration
    const slots = ((await m2.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]).find((r) => r[2][1] === s2.master)!;
    const tag = tagIn(slots[0], slots[1] + 1, 'mig');
    const key = `{${tag}}t`;
    const slot = slotOf(tag);
    expect(await m2.call('AI.TENSORSET', key, 'INT32', '2', 'VALUES', '7', '8')).toBe('OK');
    expect(await m3.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', id2)).toBe('OK');
    expect(await m2.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', id3)).toBe('OK');
    expect(await m2.call('MIGRATE', '127.0.0.1', String(s3.master), key, '0', '5000')).toBe('OK');
    const x = `{${s1.tag}}x`; // from the DAG test: the anchor, on m1
    const run = () => m1.call('AI.DAGEXECUTE_RO', 'LOAD', '2', x, key, '|>', 'AI.TENSORGET', key, 'VALUES');
    expect(await run()).toEqual([[7, 8]]);
    // shard subscribers of the slot on s2's master and replica: unsubscribed (a push) once the slot leaves the shard
    const subscribers = await Promise.all(
      [s2.master, s2.replica].map(async (port) => {
        const sock = net.connect(port, '127.0.0.1');
        extraSockets.push(sock);
        let text = '';
        sock.on('data', (d) => (text += d.toString()));
        sock.write(encode('SSUBSCRIBE', `{${tag}}ch`));
        await until('subscribed', async () => text, (t) => t.includes('ssubscribe'));
        return () => text;
      }),
    );
    // end the migration as redis-cli does
    for (const r of [m3, m2, m1]) await r.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', id3);
    await until('the slot moved everywhere', async () => Promise.all(c.clients.map((r) => r.call('CLUSTER', 'NODES') as Promise<string>)), (all) => all.every((n) => n.split('\n').some((l) => l.startsWith(id3) && l.includes(String(slot)))));
    expect(await run()).toEqual([[7, 8]]);
    for (const text of subscribers) {
      await until('the sunsubscribe push', async () => text(), (t) => t.endsWith(`*3\r\n$12\r\nsunsubscribe\r\n$${tag.length + 4}\r\n{${tag}}ch\r\n:0\r\n`));
    }
    // an owner that does not answer in time (paused): a clear error, the node goes on
    await m3.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const err = await errorOf(run());
    expect(err).toMatch(new RegExp(`^ERR could not read LOAD keys from cluster node 127\\.0\\.0\\.1:${s3.master}: timed out after \\d+ ms$`));
    expect(await m1.ping()).toBe('PONG');
    await until('the owner unpaused', async () => run().catch((e: Error) => e.message), (r) => Array.isArray(r));
  }, 60000);

  it('CLUSTER FAILOVER pauses the old master: every write it acknowledged is on the new master', async () => {
    const s = shards[1];
    const master = conn(s.master);
    const replica = clientOf(s.replica);
    const acked: number[] = [];
    let stop = false;
    let lastError = '';
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          if ((await master.set(`{${s.tag}}w${i}`, String(i))) === 'OK') acked.push(i);
        } catch (e) {
          lastError = (e as Error).message;
          break;
        }
      }
    })();
    await until('some writes', async () => acked.length, (n) => n >= 200);
    expect(await replica.call('CLUSTER', 'FAILOVER')).toBe('OK');
    await until('the replica promoted', async () => fields((await replica.info('replication')) as string).role, (r) => r === 'master', 15000);
    await until('the writer redirected', async () => lastError, (e) => e !== '', 15000);
    stop = true;
    await writer;
    // the write held by the pause went to the old master after it became a replica: redirected, not acknowledged
    expect(lastError).toBe(`MOVED ${slotOf(s.tag)} 127.0.0.1:${s.replica}`);
    expect(acked.length).toBeGreaterThan(200);
    const values = await replica.mget(...acked.map((i) => `{${s.tag}}w${i}`));
    const lost = acked.filter((i, j) => values[j] !== String(i));
    expect(lost).toEqual([]);
    // the old master serves again (as a replica: MOVED, not held)
    expect(await errorOf(master.set(`{${s.tag}}after`, '1'))).toBe(`MOVED ${slotOf(s.tag)} 127.0.0.1:${s.replica}`);
  }, 60000);
});
