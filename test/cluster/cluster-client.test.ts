// The cluster client helper (src/client) against six real nodes joined by the real `redis-cli --cluster create`
// (3 masters, 3 replicas): models, tensors, TorchScript scripts and DAGs under hash-tagged keys on every master,
// routed straight to the owning master (no MOVED at all, where plain ioredis Cluster gets redirected), a
// read-only DAG run on a replica, redirections followed (MOVED from a stale slot table, ASK from an open slot), and
// a cross-slot command refused before anything is sent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { CrossSlotError, InferdbCluster, commandSlot } from '../../src/client';
import { TORCH_ADDON_PATH } from '../../src/backends/torch';
import { errorOf, fields, linearIris, slotOf, startSixNodeCluster, tagIn, until, type SixNodeCluster } from './cluster-helpers';

if (!fs.existsSync(TORCH_ADDON_PATH)) {
  throw new Error(`the TORCH addon is not built (${TORCH_ADDON_PATH}): install libtorch-dev libopenblas0-openmp and run npm install`);
}

const IRIS = [5.1, 3.5, 1.4, 0.2];
const LINEAR_OUT = -0.090524077415466309; // linear_iris on IRIS (RedisAI's tests)
const SCRIPT = `def add(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]
`;

type SlotsReply = [number, number, [string, number, string], ...[string, number, string][]][];

describe('InferdbCluster on six nodes joined by redis-cli --cluster create', () => {
  let c: SixNodeCluster;
  let cluster: InstanceType<typeof Redis.Cluster>;
  let ai: InferdbCluster;
  /** one hash tag per master, with the master's and its replica's ports */
  let shards: { tag: string; master: number; replica: number }[];

  const clientOf = (port: number) => c.clients[c.ports.indexOf(port)];
  const info = async (port: number, section: string) => fields((await clientOf(port).info(section)) as string);
  const movedTotal = async () => {
    let n = 0;
    for (const p of c.ports) n += Number(/count=(\d+)/.exec((await info(p, 'errorstats')).errorstat_MOVED ?? '')?.[1] ?? 0);
    return n;
  };
  const calls = async (port: number, cmd: string) => Number(/calls=(\d+)/.exec((await info(port, 'commandstats'))[`cmdstat_${cmd}`] ?? '')?.[1] ?? 0);

  beforeAll(async () => {
    c = await startSixNodeCluster();
    // CLUSTER SLOTS lists a replica once it has a replication offset (as Redis): give every master a write
    const first = (await c.clients[0].call('CLUSTER', 'SLOTS')) as SlotsReply;
    for (const [lo, hi, master] of first) await clientOf(master[1]).set(`{${tagIn(lo, hi + 1, 'w')}}warm`, '1');
    const slots = await until(
      'a replica for every slot range in CLUSTER SLOTS',
      async () => (await c.clients[0].call('CLUSTER', 'SLOTS')) as SlotsReply,
      (r) => r.length === 3 && r.every((range) => range.length === 4),
    );
    shards = slots.map(([lo, hi, master, replica]) => ({ tag: tagIn(lo, hi + 1, 'm'), master: master[1], replica: replica[1] }));
    cluster = new Redis.Cluster([{ host: '127.0.0.1', port: c.ports[0] }]);
    ai = new InferdbCluster(cluster);
  }, 30000);

  afterAll(async () => {
    cluster?.disconnect();
    await c?.stop();
  });

  it('loads without ioredis: the helper imports its types only', async () => {
    const script = `require(${JSON.stringify(path.resolve(__dirname, '../../dist/client'))}); console.log(Object.keys(require.cache).filter((k) => k.includes('node_modules/ioredis')).length)`;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout.trim()))),
    );
    expect(out).toBe('0');
  });

  it('computes slots with the server command table and refuses cross-slot commands client-side', async () => {
    expect(commandSlot(['AI.MODELEXECUTE', '{a}m', 'INPUTS', 2, '{a}x', '{a}y', 'OUTPUTS', 1, '{a}z'])).toBe(slotOf('a'));
    expect(commandSlot(['AI.SCRIPTEXECUTE', '{a}s', 'fn', 'KEYS', 1, '{a}k', 'INPUTS', 1, '{a}x', 'ARGS', 1, 'not-a-key', 'OUTPUTS', 1, '{a}y'])).toBe(slotOf('a'));
    expect(commandSlot(['AI.DAGEXECUTE_RO', 'LOAD', 1, '{a}x', '|>', 'AI.MODELEXECUTE', '{a}m', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'inner', '|>', 'AI.TENSORGET', 'inner', 'VALUES'])).toBe(slotOf('a'));
    expect(commandSlot(['AI.TENSORGET', 'foo', 'VALUES'])).toBe(12182);
    expect(commandSlot(['PING'])).toBe(null);
    expect(() => commandSlot(['AI.MODELEXECUTE', '{a}m', 'INPUTS', 1, '{b}x', 'OUTPUTS', 1, '{a}z'])).toThrow(CrossSlotError);

    const [s1, s2] = shards;
    await ai.tensorset(`{${s1.tag}}x`, 'FLOAT', [1, 4], IRIS);
    const before = await Promise.all(shards.map((s) => calls(s.master, 'ai.modelexecute')));
    const crossErrors = async () => Promise.all(c.ports.map(async (p) => (await info(p, 'errorstats')).errorstat_CROSSSLOT ?? 'none'));
    const crossBefore = await crossErrors();
    expect(await errorOf(ai.modelexecute(`{${s1.tag}}iris`, [`{${s1.tag}}x`], [`{${s2.tag}}y`]))).toBe("CROSSSLOT Keys in request don't hash to the same slot");
    await expect(ai.dagexecute({ load: [`{${s1.tag}}x`], persist: [`{${s2.tag}}x`] }, [['AI.TENSORGET', `{${s1.tag}}x`, 'VALUES']])).rejects.toBeInstanceOf(CrossSlotError);
    await expect(ai.send(['MSET', `{${s1.tag}}a`, '1', `{${s2.tag}}b`, '2'])).rejects.toBeInstanceOf(CrossSlotError);
    // nothing reached a server: no call, no rejection, no CROSSSLOT answered anywhere
    expect(await Promise.all(shards.map((s) => calls(s.master, 'ai.modelexecute')))).toEqual(before);
    expect(await crossErrors()).toEqual(crossBefore);
    // readFromReplica is for read-only commands only
    expect(await errorOf(ai.send(['AI.TENSORSET', `{${s1.tag}}x`, 'FLOAT', 1, 'VALUES', 1], { readFromReplica: true }))).toBe(
      'AI.TENSORSET is not a read-only command; it cannot run on a replica',
    );
  });

  it('runs a mixed AI workload with every command sent straight to the master owning its slot', async () => {
    const moved0 = await movedTotal();
    const want = [Math.fround(LINEAR_OUT)];
    const twice = [Math.fround(LINEAR_OUT) * 2];
    for (const { tag, master } of shards) {
      const k = (name: string) => `{${tag}}${name}`;
      expect(await ai.modelstore(k('iris'), 'ONNX', 'CPU', linearIris, { tag: 'v1' })).toBe('OK');
      expect(ai.lastNode).toBe(`127.0.0.1:${master}`);
      expect(await ai.scriptstore(k('script'), 'CPU', SCRIPT, ['add'])).toBe('OK');
      expect(await ai.tensorset(k('in'), 'FLOAT', [1, 4], IRIS)).toBe('OK');
      expect(await ai.modelexecute(k('iris'), [k('in')], [k('out')])).toBe('OK');
      expect(await ai.tensorget(k('out'))).toEqual({ dtype: 'FLOAT', shape: [1, 1], values: want });
      expect(await ai.scriptexecute(k('script'), 'add', { inputs: [k('out'), k('out')], outputs: [k('sum')] })).toBe('OK');
      expect((await ai.tensorget(k('sum'))).values).toEqual(twice);
      const blob = await ai.tensorget(k('in'), 'BLOB');
      expect(blob.shape).toEqual([1, 4]);
      expect([...new Float32Array(new Uint8Array(blob.blob!).buffer)]).toEqual(IRIS.map(Math.fround));
      // a DAG: load, model, script, persist, and a reply
      const reply = await ai.dagexecute({ load: [k('in')], persist: [k('dagsum')] }, [
        ['AI.MODELEXECUTE', k('iris'), 'INPUTS', 1, k('in'), 'OUTPUTS', 1, 'y'],
        ['AI.SCRIPTEXECUTE', k('script'), 'add', 'INPUTS', 2, 'y', 'y', 'OUTPUTS', 1, k('dagsum')],
        ['AI.TENSORGET', 'y', 'VALUES'],
      ]);
      expect(reply.length).toBe(3);
      expect((reply[2] as unknown[]).map(Number)).toEqual(want);
      expect(ai.lastNode).toBe(`127.0.0.1:${master}`);
      expect((await ai.tensorget(k('dagsum'))).values).toEqual(twice);
      // the keys live on their master only
      expect(await clientOf(master).exists(k('iris'), k('script'), k('in'), k('out'), k('sum'), k('dagsum'))).toBe(6);
      for (const s of shards) {
        const n = (await clientOf(s.master).call('CLUSTER', 'COUNTKEYSINSLOT', String(slotOf(tag)))) as number;
        if (s.master === master) expect(n).toBeGreaterThanOrEqual(6);
        else expect(n).toBe(0);
      }
    }
    // many commands in flight at once, over the three masters
    const keys = Array.from({ length: 60 }, (_, i) => `{${shards[i % 3].tag}}p${i}`);
    expect(await Promise.all(keys.map((key, i) => ai.tensorset(key, 'INT32', [2], [i, 100 - i])))).toEqual(keys.map(() => 'OK'));
    expect(await Promise.all(keys.map((key) => ai.tensorget(key).then((t) => t.values)))).toEqual(keys.map((_, i) => [i, 100 - i]));
    expect(await movedTotal()).toBe(moved0);
    // the same reads through plain ioredis Cluster: right answers, but by way of MOVED (AI.* go to a random master)
    for (let i = 0; i < 12; i++) {
      const { tag } = shards[i % 3];
      expect(((await cluster.call('AI.TENSORGET', `{${tag}}out`, 'VALUES')) as unknown[]).map(Number)).toEqual(want);
    }
    expect(await movedTotal()).toBeGreaterThan(moved0);
  });

  it('runs AI.DAGEXECUTE_RO on a replica of the slot\'s master with readFromReplica, on the master otherwise', async () => {
    const { tag, master, replica } = shards[1];
    const k = (name: string) => `{${tag}}${name}`;
    await ai.modelstore(k('ro'), 'ONNX', 'CPU', linearIris);
    await ai.tensorset(k('ro-in'), 'FLOAT', [1, 4], IRIS);
    expect(await ai.nodeForSlot(slotOf(tag))!.call('WAIT', '1', '5000')).toBe(1); // on the replica too
    expect(ai.nodeForSlot(slotOf(tag), true)!.options.port).toBe(replica);
    const dag = [
      ['AI.MODELEXECUTE', k('ro'), 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y'],
      ['AI.TENSORGET', 'y', 'VALUES'],
    ];
    const [r0, m0] = [await calls(replica, 'ai.dagexecute_ro'), await calls(master, 'ai.dagexecute_ro')];
    const onReplica = await ai.dagexecuteRO({ load: [k('ro-in')] }, [['AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS], ...dag], { readFromReplica: true });
    expect((onReplica[2] as unknown[]).map(Number)).toEqual([Math.fround(LINEAR_OUT)]);
    expect(ai.lastNode).toBe(`127.0.0.1:${replica}`);
    expect([await calls(replica, 'ai.dagexecute_ro'), await calls(master, 'ai.dagexecute_ro')]).toEqual([r0 + 1, m0]);
    expect(await ai.tensorget(k('ro-in'), 'VALUES', { readFromReplica: true })).toMatchObject({ dtype: 'FLOAT', shape: [1, 4] });
    expect(ai.lastNode).toBe(`127.0.0.1:${replica}`);

    const onMaster = await ai.dagexecuteRO({ load: [k('ro-in')] }, [['AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS], ...dag]);
    expect(onMaster).toEqual(onReplica);
    expect(ai.lastNode).toBe(`127.0.0.1:${master}`);
    expect([await calls(replica, 'ai.dagexecute_ro'), await calls(master, 'ai.dagexecute_ro')]).toEqual([r0 + 1, m0 + 1]);
    // a read-only DAG cannot persist, and the replica refuses a write DAG: the helper refuses before sending it
    expect(await errorOf(ai.send(['AI.DAGEXECUTE', 'LOAD', 1, k('ro-in'), '|>', 'AI.TENSORGET', k('ro-in'), 'VALUES'], { readFromReplica: true }))).toBe(
      'AI.DAGEXECUTE is not a read-only command; it cannot run on a replica',
    );
  });

  it('follows MOVED from a stale slot table and ASK from a slot being migrated', async () => {
    const [s0, s1] = shards;
    const slot = slotOf(s0.tag);
    // make ioredis believe the slot is on another master: the first try gets MOVED, the helper follows it
    const moved0 = await movedTotal();
    cluster.slots[slot] = [`127.0.0.1:${s1.master}`];
    expect((await ai.tensorget(`{${s0.tag}}out`)).values).toEqual([Math.fround(LINEAR_OUT)]);
    expect(ai.lastNode).toBe(`127.0.0.1:${s0.master}`);
    expect(await movedTotal()).toBe(moved0 + 1);
    expect(cluster.slots[slot][0]).toBe(`127.0.0.1:${s0.master}`); // refreshed
    // an open slot: the source answers ASK for a missing key, the helper sends ASKING + the command to the target
    const tag = tagIn(3000, 3100, 'ask');
    const aSlot = slotOf(tag);
    const owner = shards.find((s) => s.master === ai.nodeForSlot(aSlot)!.options.port)!;
    const target = shards.find((s) => s !== owner)!;
    const src = clientOf(owner.master);
    const dst = clientOf(target.master);
    const [srcId, dstId] = [(await src.call('CLUSTER', 'MYID')) as string, (await dst.call('CLUSTER', 'MYID')) as string];
    expect(await dst.call('CLUSTER', 'SETSLOT', String(aSlot), 'IMPORTING', srcId)).toBe('OK');
    expect(await src.call('CLUSTER', 'SETSLOT', String(aSlot), 'MIGRATING', dstId)).toBe('OK');
    try {
      expect(await ai.tensorset(`{${tag}}new`, 'FLOAT', [2], [1, 2])).toBe('OK');
      expect(ai.lastNode).toBe(`127.0.0.1:${target.master}`);
      expect(await dst.call('CLUSTER', 'COUNTKEYSINSLOT', String(aSlot))).toBe(1);
      expect(await src.call('CLUSTER', 'COUNTKEYSINSLOT', String(aSlot))).toBe(0);
      expect((await ai.tensorget(`{${tag}}new`)).values).toEqual([1, 2]);
      expect(ai.lastNode).toBe(`127.0.0.1:${target.master}`);
    } finally {
      await dst.call('ASKING');
      await dst.del(`{${tag}}new`);
      await src.call('CLUSTER', 'SETSLOT', String(aSlot), 'STABLE');
      await dst.call('CLUSTER', 'SETSLOT', String(aSlot), 'STABLE');
    }
  });
});
