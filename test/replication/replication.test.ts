// Replication between real server processes: full sync, the command stream, partial resync from the backlog,
// promotion with replid2, chained replicas, WAIT, read-only replicas, min-replicas-to-write, and AI values
// (models are stored verbatim and built by each replica; executes arrive as the tensors they wrote).

import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { weightedMatMul } from '../helpers/onnx-models';
import { replicationStream } from '../helpers/repl-stream';
import { until as waitUntil } from '../helpers/wait';

const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
const linearIris = fs.readFileSync(path.join(DATA, 'linear_iris.onnx'));

const ADD_SCRIPT = `def add(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def count(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("INCRBY", keys[0], args[0])
    return tensors[0]
`;

const until = <T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000): Promise<T> =>
  waitUntil(what, f, ok, timeoutMs, 25);

function infoFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

const replInfo = async (r: Redis) => infoFields(await r.info('replication'));

/** Waits until the replica is linked and has everything its master has. */
async function synced(master: Redis, replica: Redis): Promise<void> {
  await until(
    'the replica to catch up',
    async () => [await replInfo(master), await replInfo(replica)],
    ([m, r]) => r.master_link_status === 'up' && r.slave_repl_offset === m.master_repl_offset,
  );
}

/** Every key of db 0 with its type and value, in a canonical form (the same data set gives the same dump). */
async function dump(r: Redis): Promise<string> {
  const keys = (await r.keys('*')).sort();
  const out: unknown[] = [];
  for (const k of keys) {
    const type = await r.type(k);
    let v: unknown;
    switch (type) {
      case 'string':
        v = await r.get(k);
        break;
      case 'list':
        v = await r.lrange(k, 0, -1);
        break;
      case 'hash':
        v = Object.entries(await r.hgetall(k)).sort();
        break;
      case 'set':
        v = (await r.smembers(k)).sort();
        break;
      case 'AI_TENSOR':
        v = [await r.call('AI.TENSORGET', k, 'META'), ((await r.callBuffer('AI.TENSORGET', k, 'BLOB')) as Buffer).toString('hex')];
        break;
      case 'AI__MODEL': {
        const blob = (await r.callBuffer('AI.MODELGET', k, 'BLOB')) as Buffer;
        v = [await r.call('AI.MODELGET', k, 'META'), blob.length, blob.subarray(0, 64).toString('hex')];
        break;
      }
      default:
        v = '?';
    }
    out.push([k, type, await r.pttl(k) > 0 ? 'ttl' : 'no-ttl', v]);
  }
  return JSON.stringify(out);
}

describe('replication', () => {
  const servers: TestServer[] = [];
  const start = async (args: string[] = []) => {
    const s = await startServer(args);
    servers.push(s);
    return s;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('master and two replicas end with the same data set of every type; replicas build models and never run them', async () => {
    const m = await start();
    const r1 = await start();
    const r2 = await start();
    const master = m.client();
    // data written before the replicas attach reaches them by full sync
    await master.set('before', 'sync');
    await master.call('AI.MODELSTORE', 'iris', 'ONNX', 'CPU', 'TAG', 'v1', 'BLOB', linearIris);
    await master.call('AI.SCRIPTSTORE', 'addsc', 'CPU', 'ENTRY_POINTS', 2, 'add', 'count', 'SOURCE', ADD_SCRIPT);
    const [a, b] = [r1.client(), r2.client()];
    expect(await a.call('REPLICAOF', '127.0.0.1', String(m.port))).toBe('OK');
    expect(await b.call('REPLICAOF', '127.0.0.1', String(m.port))).toBe('OK');
    expect(await b.call('REPLICAOF', '127.0.0.1', String(m.port))).toBe('OK Already connected to specified master');
    await synced(master, a);
    await synced(master, b);
    // then a random mix of writes through the stream
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (let i = 0; i < 400; i++) {
      const k = `k${rnd(40)}`;
      switch (rnd(9)) {
        case 0:
          await master.set(`s:${k}`, `v${i}`);
          break;
        case 1:
          await master.rpush(`l:${k}`, `e${i}`, `f${i}`);
          break;
        case 2:
          await master.hset(`h:${k}`, `f${rnd(5)}`, `${i}`);
          break;
        case 3:
          await master.sadd(`z:${k}`, `m${rnd(20)}`);
          break;
        case 4:
          await master.del(`s:${k}`, `l:${k}`);
          break;
        case 5:
          await master.call('AI.TENSORSET', `t:${k}`, 'FLOAT', 1, 4, 'VALUES', i, 3.5, 1.4, 0.2);
          break;
        case 6:
          // executes, scripts and DAGs arrive on replicas as the tensors they wrote
          await master.call('AI.MODELEXECUTE', 'iris', 'INPUTS', 1, `t:${k}`, 'OUTPUTS', 1, `o:${k}`).catch(() => undefined);
          await master.call('AI.SCRIPTEXECUTE', 'addsc', 'add', 'INPUTS', 2, `t:${k}`, `t:${k}`, 'OUTPUTS', 1, `d:${k}`).catch(() => undefined);
          // a script's redis.execute writes replicate like any command
          await master.call('AI.SCRIPTEXECUTE', 'addsc', 'count', 'KEYS', 1, 'counted', 'INPUTS', 1, `t:${k}`, 'ARGS', 1, String(i), 'OUTPUTS', 1, `c:${k}`).catch(() => undefined);
          await master
            .call('AI.DAGEXECUTE', 'LOAD', 1, `t:${k}`, 'PERSIST', 1, `g:${k}`, '|>', 'AI.MODELEXECUTE', 'iris', 'INPUTS', 1, `t:${k}`, 'OUTPUTS', 1, `g:${k}`)
            .catch(() => undefined);
          break;
        case 7:
          await master.expire(`h:${k}`, 1000);
          break;
        case 8:
          await master.incrby(`n:${k}`, i);
          break;
      }
    }
    await synced(master, a);
    await synced(master, b);
    const want = await dump(master);
    expect(want.length).toBeGreaterThan(1000);
    expect(want).toContain('"d:k'); // script outputs
    expect(want).toContain('"g:k'); // DAG outputs
    expect(Number(await master.get('counted'))).toBeGreaterThan(0); // redis.execute from scripts ran
    expect(await dump(a)).toBe(want);
    expect(await dump(b)).toBe(want);
    // DEBUG DIGEST: one fingerprint of the whole data set, order-independent
    const digest = await master.call('DEBUG', 'DIGEST');
    expect(digest).toMatch(/^[0-9a-f]{40}$/);
    expect(digest).not.toBe('0'.repeat(40));
    expect(await a.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(await b.call('DEBUG', 'DIGEST')).toBe(digest);
    expect(await a.call('DEBUG', 'DIGEST-VALUE', 'iris', 'nokey')).toEqual(await master.call('DEBUG', 'DIGEST-VALUE', 'iris', 'nokey'));
    // the replica's model works (it built its own session from the stored bytes) ...
    expect((await a.call('AI.MODELGET', 'iris', 'META')) as unknown[]).toContain('v1');
    // ... but executes are writes: a read-only replica refuses them, and never ran one (stats untouched)
    await expect(a.call('AI.MODELEXECUTE', 'iris', 'INPUTS', 1, 't:k1', 'OUTPUTS', 1, 'x')).rejects.toThrow(
      "READONLY You can't write against a read only replica.",
    );
    const stats = (await a.call('AI.INFO', 'iris')) as unknown[];
    expect(stats[stats.indexOf('calls') + 1]).toBe(0);
    await expect(a.set('x', '1')).rejects.toThrow("READONLY You can't write against a read only replica.");
    // a read-only DAG runs on the replica (its own session of the model) and answers what the master answers
    const dag = ['AI.DAGEXECUTE_RO', 'LOAD', 1, 't:k1', '|>', 'AI.MODELEXECUTE', 'iris', 'INPUTS', 1, 't:k1', 'OUTPUTS', 1, 'y', '|>', 'AI.TENSORGET', 'y', 'VALUES'];
    await master.call('AI.TENSORSET', 't:k1', 'FLOAT', 1, 4, 'VALUES', 5.1, 3.5, 1.4, 0.2);
    await synced(master, a);
    const onReplica = (await a.call(...(dag as [string, ...(string | number)[]]))) as unknown[];
    expect(onReplica).toEqual(await master.call(...(dag as [string, ...(string | number)[]])));
    expect(onReplica[0]).toBe('OK');
    await expect(a.call('AI.DAGEXECUTE', 'LOAD', 1, 't:k1', 'PERSIST', 1, 'y', '|>', 'AI.MODELEXECUTE', 'iris', 'INPUTS', 1, 't:k1', 'OUTPUTS', 1, 'y')).rejects.toThrow(/READONLY/);
    // INFO and ROLE look like Redis's
    const mi = await replInfo(master);
    expect(mi.role).toBe('master');
    expect(mi.connected_slaves).toBe('2');
    expect(mi.slave0).toMatch(/^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
    expect(mi.master_replid).toMatch(/^[0-9a-f]{40}$/);
    expect(mi.master_replid2).toBe('0'.repeat(40));
    expect(mi.second_repl_offset).toBe('-1');
    expect(mi.repl_backlog_active).toBe('1');
    const ai = await replInfo(a);
    for (const f of ['master_host', 'master_port', 'master_link_status', 'master_last_io_seconds_ago', 'master_sync_in_progress', 'slave_repl_offset', 'slave_priority', 'slave_read_only', 'master_replid', 'master_repl_offset']) {
      expect(ai, f).toHaveProperty(f);
    }
    expect(ai.role).toBe('slave');
    expect(ai.master_replid).toBe(mi.master_replid);
    const role = (await master.call('ROLE')) as unknown[];
    expect(role[0]).toBe('master');
    expect(role[1]).toBe(Number(mi.master_repl_offset));
    expect((role[2] as unknown[]).length).toBe(2);
    expect(await a.call('ROLE')).toEqual(['slave', '127.0.0.1', m.port, 'connected', Number(ai.slave_repl_offset)]);
  });

  it('a replica that loses its link continues from the backlog; WAIT counts acknowledgements', async () => {
    const m = await start();
    const r = await start();
    const master = m.client();
    const replica = r.client();
    await replica.call('REPLICAOF', '127.0.0.1', String(m.port));
    await master.set('a', '1');
    await synced(master, replica);
    expect(r.output()).toMatch(/Full resync from master/);
    expect(await master.call('WAIT', '1', '2000')).toBe(1);
    // WAIT for more replicas than there are: the count after the timeout
    const t0 = Date.now();
    expect(await master.call('WAIT', '2', '300')).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await expect(replica.call('WAIT', '1', '10')).rejects.toThrow(/WAIT cannot be used with replica instances/);
    // drop the link from the master's side; writes meanwhile come from the backlog on reconnect
    expect(await master.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    for (let i = 0; i < 50; i++) await master.rpush('list', `x${i}`);
    await synced(master, replica);
    expect(await replica.lrange('list', 0, -1)).toHaveLength(50);
    expect(r.output()).toMatch(/Successful partial resynchronization with master/);
    expect(m.output()).toMatch(/Partial resynchronization request from 127\.0\.0\.1:\d+ accepted/);
    expect(r.output().match(/Full resync from master/g)).toHaveLength(1);
  });

  it('a replica restarted from its snapshot continues with a partial resync', async () => {
    const m = await start();
    const master = m.client();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-replica-'));
    try {
      let r = await startServer(['--replicaof', '127.0.0.1', String(m.port)], { dir });
      let replica = r.client();
      for (let i = 0; i < 20; i++) await master.set(`k${i}`, `v${i}`);
      await synced(master, replica);
      const exited = new Promise((res) => r.proc.once('exit', res));
      await replica.call('SHUTDOWN', 'SAVE').catch(() => undefined); // saves the data set with its replication id and offset
      replica.disconnect();
      await exited;
      await r.stop();
      for (let i = 20; i < 40; i++) await master.set(`k${i}`, `v${i}`); // written while it is down
      r = await startServer(['--replicaof', '127.0.0.1', String(m.port)], { dir });
      servers.push(r);
      replica = r.client();
      await synced(master, replica);
      expect(await replica.get('k39')).toBe('v39');
      expect(r.output()).toMatch(/Restored the replication ID and offset from the snapshot/);
      expect(r.output()).toMatch(/Successful partial resynchronization with master/);
      expect(r.output()).not.toMatch(/Full resync from master/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promotion keeps the old id as replid2: the other replica continues partially; chains pass the stream on', async () => {
    const m = await start();
    const r1 = await start();
    const r2 = await start();
    const master = m.client();
    const [a, b] = [r1.client(), r2.client()];
    await a.call('REPLICAOF', '127.0.0.1', String(m.port));
    await b.call('REPLICAOF', '127.0.0.1', String(m.port));
    await master.set('k', 'v1');
    await master.call('AI.TENSORSET', 't', 'INT32', 2, 'VALUES', 1, 2);
    await synced(master, a);
    await synced(master, b);
    const before = await replInfo(a);
    // promote r1; r2 follows it
    expect(await a.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    const promoted = await replInfo(a);
    expect(promoted.role).toBe('master');
    expect(promoted.master_replid2).toBe(before.master_replid);
    expect(promoted.second_repl_offset).toBe(String(Number(before.master_repl_offset) + 1));
    expect(promoted.master_replid).not.toBe(before.master_replid);
    await a.set('k', 'v2'); // the promoted node takes writes now
    await b.call('REPLICAOF', '127.0.0.1', String(r1.port));
    await synced(a, b);
    expect(await b.get('k')).toBe('v2');
    expect(r1.output()).toMatch(/Partial resynchronization request from 127\.0\.0\.1:\d+ accepted/);
    expect(r2.output().match(/Full resync from master/g)).toHaveLength(1); // only the first sync was full
    expect((await replInfo(b)).master_replid).toBe(promoted.master_replid);
    // chain: the old master becomes a replica of r2 (a replica itself); writes on r1 reach it through r2
    await master.call('REPLICAOF', '127.0.0.1', String(r2.port));
    await a.set('chained', 'yes');
    await synced(a, b);
    await synced(b, master);
    expect(await master.get('chained')).toBe('yes');
    expect((await replInfo(master)).slave_repl_offset).toBe((await replInfo(a)).master_repl_offset);
  });

  it('min-replicas-to-write refuses writes without enough acknowledging replicas', async () => {
    const m = await start(['--min-replicas-to-write', '1', '--min-replicas-max-lag', '10']);
    const master = m.client();
    await expect(master.set('a', '1')).rejects.toThrow('NOREPLICAS Not enough good replicas to write.');
    expect(await master.get('a')).toBe(null); // reads still work
    const r = await start();
    const replica = r.client();
    await replica.call('REPLICAOF', '127.0.0.1', String(m.port));
    await until('the replica online', () => replInfo(master), (i) => /state=online/.test(i.slave0 ?? ''));
    expect(await master.set('a', '1')).toBe('OK');
  });

  it('expiry reaches replicas as DEL from the master; replica-read-only no lets a replica take local writes', async () => {
    const m = await start();
    const r = await start();
    const master = m.client();
    const replica = r.client();
    await replica.call('REPLICAOF', '127.0.0.1', String(m.port));
    await synced(master, replica);
    const stream = await replicationStream(m.port);
    await master.set('short', 'lived', 'PX', 150);
    await master.set('kept', 'v');
    await synced(master, replica);
    expect(await replica.exists('short')).toBe(1);
    // the master's active expiry deletes it and propagates DEL; the replica follows
    await until('the key to expire on the replica', () => replica.exists('short'), (n) => n === 0, 5000);
    await until('the DEL in the stream', async () => stream.commands, (c) => c.some((x) => x[0] === 'DEL' && x[1] === 'short'));
    expect(stream.commands.map((c) => c[0].toUpperCase())).toEqual(['SET', 'SET', 'DEL']);
    stream.close();
    await expect(replica.set('local', '1')).rejects.toThrow(/READONLY/);
    expect(await replica.config('SET', 'replica-read-only', 'no')).toBe('OK');
    expect(await replica.set('local', '1')).toBe('OK');
    expect(await master.exists('local')).toBe(0); // writes on a replica stay local
  });

  it('a 100 MB model reaches the replica and runs there once promoted', async () => {
    const m = await start();
    const r = await start();
    const master = m.client();
    const replica = r.client();
    await replica.call('REPLICAOF', '127.0.0.1', String(m.port));
    await synced(master, replica);
    const big = weightedMatMul(5000, 5000); // ~100 MB of weights
    expect(big.length).toBeGreaterThan(100e6);
    expect(await master.call('AI.MODELSTORE', 'big', 'ONNX', 'CPU', 'BLOB', big)).toBe('OK');
    await synced(master, replica);
    const blob = (await replica.callBuffer('AI.MODELGET', 'big', 'BLOB')) as Buffer;
    expect(blob.equals(big)).toBe(true);
    await replica.call('REPLICAOF', 'NO', 'ONE');
    const x = Buffer.alloc(5000 * 4);
    x.writeFloatLE(1, 0); // Y = first row of W
    await replica.call('AI.TENSORSET', 'x', 'FLOAT', 1, 5000, 'BLOB', x);
    expect(await replica.call('AI.MODELEXECUTE', 'big', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
    const y = ((await replica.call('AI.TENSORGET', 'y', 'VALUES')) as string[]).map(Number);
    expect(y.slice(0, 3)).toEqual([-48 / 4096, -47 / 4096, -46 / 4096]);
  }, 60000);
});
