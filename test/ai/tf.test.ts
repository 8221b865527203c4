// AI models with the TF backend (frozen GraphDefs run through tfjs in the backend workers) against a real
// server process: RedisAI's own TF test graphs (graph.pb, graph_v2.pb, creditcardfraud.pb), MODELGET's
// input/output names, the TF errors of the spec (unknown input/output node, Invalid GraphDef, GPU), ops tfjs
// cannot run refused at MODELSTORE, run-time errors that leave the server up, input and output order, the
// dtype conversions around tfjs (INT64 / DOUBLE / BOOL), auto-batching, deprecated MODELSET/MODELRUN and
// redis-cli -x. Small graphs are built here with the backend's own GraphDef encoder (protobufjs).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';
import { encodeGraphDef, TF_DTYPES, type NodeMsg, type TensorMsg } from '../../src/backends/tf-graphdef';

const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
if (!fs.existsSync(path.join(DATA, 'graph.pb'))) {
  throw new Error(`model test data not found in ${DATA} (set INFERDB_TESTDATA to the testdata/redisai folder)`);
}
const file = (name: string) => fs.readFileSync(path.join(DATA, name));

const { DT_FLOAT, DT_DOUBLE, DT_INT64, DT_INT32, DT_BOOL } = TF_DTYPES;

// ------------------------------------------------------------------------------------- tiny GraphDef builder
const placeholder = (name: string, dtype: number): NodeMsg => ({ name, op: 'Placeholder', attr: { dtype: { type: dtype } } });
const op = (name: string, kind: string, input: string[], T = DT_FLOAT): NodeMsg => ({ name, op: kind, input, attr: { T: { type: T } } });
const konst = (name: string, tensor: TensorMsg): NodeMsg => ({ name, op: 'Const', attr: { dtype: { type: tensor.dtype! }, value: { tensor } } });
const graph = (...node: NodeMsg[]) => Buffer.from(encodeGraphDef({ node }));

const floats = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(i * 4));
const f32 = (...v: number[]) => {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
};

describe('AI models (TF backend on tfjs)', () => {
  let srv: TestServer;
  let r: Redis;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
  const blob = async (key: string) => (await r.callBuffer('AI.TENSORGET', key, 'BLOB')) as Buffer;
  const graphPb = file('graph.pb');
  const storeGraph = (key = 'g', ...opts: (string | number)[]) =>
    call('AI.MODELSTORE', key, 'TF', 'CPU', ...opts, 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'mul', 'BLOB', graphPb);

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  describe("RedisAI's TF test graphs", () => {
    it('graph.pb: a = b = {2,3,2,3} gives mul {4,9,4,9}, FLOAT [2,2]', async () => {
      expect(await storeGraph()).toBe('OK');
      expect(await r.type('g')).toBe('AI__MODEL');
      await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
      await call('AI.TENSORSET', 'b', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
      expect(await call('AI.MODELEXECUTE', 'g', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2]]);
      expect(floats(await blob('c'))).toEqual([4, 9, 4, 9]);
      // the c = Identity(mul) node works as an output as well, and so does "mul:0"
      expect(await call('AI.MODELSTORE', 'g2', 'TF', 'CPU', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 2, 'c', 'mul:0', 'BLOB', graphPb)).toBe('OK');
      expect(await call('AI.MODELEXECUTE', 'g2', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 2, 'o1', 'o2')).toBe('OK');
      expect(floats(await blob('o1'))).toEqual([4, 9, 4, 9]);
      expect(floats(await blob('o2'))).toEqual([4, 9, 4, 9]);
    });

    it('graph_v2.pb (TF2 Keras FCN): an all-zero FLOAT 1 1 28 28 input gives ten outputs of about 0.1', async () => {
      expect(await call('AI.MODELSTORE', 'v2', 'TF', 'CPU', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'Identity', 'BLOB', file('graph_v2.pb'))).toBe('OK');
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 1, 28, 28);
      expect(await call('AI.MODELEXECUTE', 'v2', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 10]]);
      const y = floats(await blob('y'));
      expect(y).toHaveLength(10);
      for (const v of y) expect(v).toBeCloseTo(0.1, 5);
    });

    it('creditcardfraud.pb: one transaction gives FLOAT [1,2] probabilities summing to 1; three give [3,2]', async () => {
      const cc = file('creditcardfraud.pb');
      expect(await call('AI.MODELSTORE', 'cc', 'TF', 'CPU', 'INPUTS', 2, 'transaction', 'reference', 'OUTPUTS', 1, 'output', 'BLOB', cc)).toBe('OK');
      const row = Array.from({ length: 30 }, (_, i) => ((i * 7) % 11) / 5 - 1);
      await call('AI.TENSORSET', 'tx', 'FLOAT', 1, 30, 'BLOB', f32(...row));
      await call('AI.TENSORSET', 'ref', 'FLOAT', 1, 256, 'BLOB', f32(...Array.from({ length: 256 }, (_, i) => i / 256)));
      expect(await call('AI.MODELEXECUTE', 'cc', 'INPUTS', 2, 'tx', 'ref', 'OUTPUTS', 1, 'out')).toBe('OK');
      expect(await call('AI.TENSORGET', 'out', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 2]]);
      const p = floats(await blob('out'));
      for (const v of p) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(1);
      }
      expect(p[0] + p[1]).toBeCloseTo(1, 5);
      await call('AI.TENSORSET', 'tx3', 'FLOAT', 3, 30, 'BLOB', f32(...row, ...row.map((v) => -v), ...row.map((v) => v * 2)));
      expect(await call('AI.MODELEXECUTE', 'cc', 'INPUTS', 2, 'tx3', 'ref', 'OUTPUTS', 1, 'out3')).toBe('OK');
      expect(await call('AI.TENSORGET', 'out3', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [3, 2]]);
      const q = floats(await blob('out3'));
      for (let i = 0; i < 3; i++) expect(q[2 * i] + q[2 * i + 1]).toBeCloseTo(1, 5);
    });

    it('MODELGET META shows the INPUTS/OUTPUTS names as given; BLOB is the graph as uploaded', async () => {
      expect(await storeGraph('g', 'TAG', 'v1', 'BATCHSIZE', 4, 'MINBATCHSIZE', 2)).toBe('OK');
      expect(await call('AI.MODELGET', 'g', 'META')).toEqual([
        'backend', 'TF', 'device', 'CPU', 'tag', 'v1', 'batchsize', 4, 'minbatchsize', 2,
        'inputs', ['a', 'b'], 'outputs', ['mul'], 'minbatchtimeout', 0,
      ]);
      expect(((await r.callBuffer('AI.MODELGET', 'g', 'BLOB')) as Buffer).equals(graphPb)).toBe(true);
    });

    it('inputs are fed in the INPUTS order and outputs answered in the OUTPUTS order', async () => {
      // d = a - b; e = b (Identity)
      const sub = graph(placeholder('a', DT_FLOAT), placeholder('b', DT_FLOAT), op('d', 'Sub', ['a', 'b']), op('e', 'Identity', ['b']));
      expect(await call('AI.MODELSTORE', 's', 'TF', 'CPU', 'INPUTS', 2, 'b', 'a', 'OUTPUTS', 2, 'e', 'd', 'BLOB', sub)).toBe('OK');
      expect(((await call('AI.MODELGET', 's', 'META')) as unknown[]).slice(10, 14)).toEqual(['inputs', ['b', 'a'], 'outputs', ['e', 'd']]);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 'VALUES', 10);
      await call('AI.TENSORSET', 'y', 'FLOAT', 1, 'VALUES', 1);
      expect(await call('AI.MODELEXECUTE', 's', 'INPUTS', 2, 'x', 'y', 'OUTPUTS', 2, 'o1', 'o2')).toBe('OK');
      expect(floats(await blob('o1'))).toEqual([10]); // e = b = x
      expect(floats(await blob('o2'))).toEqual([-9]); // d = a - b = y - x
    });

    const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
    it('redis-cli -x AI.MODELSTORE ... TF ... BLOB < graph.pb, then MODELEXECUTE', async () => {
      const out = await new Promise<string>((resolve, reject) => {
        const args = ['-p', String(srv.port), '-x', 'AI.MODELSTORE', 'cli', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB'];
        const p = spawn(REDIS_CLI, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        p.stdout.on('data', (d) => chunks.push(d));
        p.stderr.on('data', (d) => chunks.push(d));
        p.on('error', reject);
        p.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        p.stdin.end(graphPb);
      });
      expect(out).toBe('OK\n');
      await call('AI.TENSORSET', 'a', 'FLOAT', 2, 'VALUES', 3, 4);
      expect(await call('AI.MODELEXECUTE', 'cli', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 1, 'c')).toBe('OK');
      expect(floats(await blob('c'))).toEqual([9, 16]);
    });

    it('deprecated MODELSET (names without counts) and MODELRUN', async () => {
      expect(await call('AI.MODELSET', 'g', 'TF', 'CPU', 'INPUTS', 'a', 'b', 'OUTPUTS', 'mul', 'BLOB', graphPb)).toBe('OK');
      expect(((await call('AI.MODELGET', 'g', 'META')) as unknown[]).slice(10, 14)).toEqual(['inputs', ['a', 'b'], 'outputs', ['mul']]);
      await call('AI.TENSORSET', 'a', 'FLOAT', 2, 'VALUES', 2, 5);
      await call('AI.TENSORSET', 'b', 'FLOAT', 2, 'VALUES', 3, 7);
      expect(await call('AI.MODELRUN', 'g', 'INPUTS', 'a', 'b', 'OUTPUTS', 'c')).toBe('OK');
      expect(floats(await blob('c'))).toEqual([6, 35]);
    });
  });

  describe('errors', () => {
    const store = (...a: (string | number | Buffer)[]) => errOf(call('AI.MODELSTORE', ...a));
    it("RedisAI's MODELSTORE errors: grammar, unknown input/output node, Invalid GraphDef, GPU; nothing stored", async () => {
      expect(await store('m', 'TF', 'CPU', 'BLOB', graphPb)).toBe('ERR INPUTS not specified for TF');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 2, 'a', 'b', 'BLOB', graphPb)).toBe('ERR OUTPUTS not specified for TF');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 3, 'a', 'b')).toBe('ERR number of model inputs does not match the number of given arguments');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 2, 'a', 'x', 'OUTPUTS', 1, 'mul', 'BLOB', graphPb)).toBe('Input node named "x" not found in TF graph.');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'nope', 'BLOB', graphPb)).toBe('Output node named "nope" not found in TF graph');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'mul', 'BLOB', 'not a graph at all')).toBe('Invalid GraphDef');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'mul', 'BLOB', file('pt-minimal.pt'))).toBe('Invalid GraphDef');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'mul', 'BLOB', graphPb.subarray(0, 100))).toBe('Invalid GraphDef');
      expect(await store('m', 'TF', 'GPU:0', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'mul', 'BLOB', graphPb)).toBe("ERR GPU requested but TF couldn't find CUDA");
      const set = (...a: (string | number | Buffer)[]) => errOf(call('AI.MODELSET', ...a));
      expect(await set('m', 'TF', 'CPU', 'INPUTS', 'a', 'z', 'OUTPUTS', 'mul', 'BLOB', graphPb)).toBe('Input node named "z" not found in TF graph.');
      expect(await r.exists('m')).toBe(0);
      expect(await r.ping()).toBe('PONG');
    });

    it('an op tfjs cannot run is refused at MODELSTORE, naming it; the server stays up', async () => {
      const bad = graph(placeholder('x', DT_FLOAT), op('y', 'FancyUnknownOp', ['x']), op('z', 'Identity', ['y']), op('w', 'Relu', ['x']));
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'z', 'BLOB', bad)).toBe('ERR TF op not supported by the TF backend (tfjs): FancyUnknownOp');
      const two = graph(placeholder('x', DT_FLOAT), op('y', 'FancyUnknownOp', ['x']), op('v', 'OtherMissingOp', ['y']));
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'v', 'BLOB', two)).toBe(
        'ERR TF ops not supported by the TF backend (tfjs): FancyUnknownOp, OtherMissingOp',
      );
      expect(await r.exists('m')).toBe(0);
      expect(await r.ping()).toBe('PONG');
      // only the ops the outputs depend on count: w = Relu(x) does not need FancyUnknownOp
      expect(await call('AI.MODELSTORE', 'm', 'TF', 'CPU', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'w', 'BLOB', bad)).toBe('OK');
      await call('AI.TENSORSET', 'in', 'FLOAT', 3, 'VALUES', -1, 0, 2);
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('OK');
      expect(floats(await blob('out'))).toEqual([0, 0, 2]);
    });

    it('a model needing a kernel tfjs-backend-wasm lacks (Einsum) moves to the cpu backend; others keep working beside it', async () => {
      const einsum: NodeMsg = {
        name: 'e',
        op: 'Einsum',
        input: ['x', 'y'],
        attr: { equation: { s: Buffer.from('ij,jk->ik') }, N: { i: 2 }, T: { type: DT_FLOAT } },
      };
      const g = graph(placeholder('x', DT_FLOAT), placeholder('y', DT_FLOAT), einsum);
      expect(await call('AI.MODELSTORE', 'ein', 'TF', 'CPU', 'INPUTS', 2, 'x', 'y', 'OUTPUTS', 1, 'e', 'BLOB', g)).toBe('OK');
      await storeGraph();
      await call('AI.TENSORSET', 'x', 'FLOAT', 2, 3, 'VALUES', 1, 2, 3, 4, 5, 6);
      await call('AI.TENSORSET', 'y', 'FLOAT', 3, 2, 'VALUES', 1, 0, 0, 1, 1, 1);
      await call('AI.TENSORSET', 'a', 'FLOAT', 2, 'VALUES', 2, 3);
      for (let i = 0; i < 2; i++) {
        expect(await call('AI.MODELEXECUTE', 'ein', 'INPUTS', 2, 'x', 'y', 'OUTPUTS', 1, 'p')).toBe('OK');
        expect(await call('AI.TENSORGET', 'p', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2]]);
        expect(floats(await blob('p'))).toEqual([4, 5, 10, 11]);
        expect(await call('AI.MODELEXECUTE', 'g', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 1, 'c')).toBe('OK');
        expect(floats(await blob('c'))).toEqual([4, 9]);
      }
    });

    it('run-time errors (dtype, shapes) reply the error, write nothing, and leave the server and model usable', async () => {
      await storeGraph();
      await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
      await call('AI.TENSORSET', 'i', 'INT32', 2, 2, 'VALUES', 2, 3, 2, 3);
      await call('AI.TENSORSET', 'short', 'FLOAT', 3, 'VALUES', 1, 2, 3);
      await call('AI.TENSORSET', 'c', 'INT8', 1, 'VALUES', 7);
      expect(await errOf(call('AI.MODELEXECUTE', 'g', 'INPUTS', 2, 'i', 'a', 'OUTPUTS', 1, 'c'))).toBe('Expects arg[0] to be float but int32 is provided');
      expect(await errOf(call('AI.MODELEXECUTE', 'g', 'INPUTS', 2, 'a', 'short', 'OUTPUTS', 1, 'c'))).toBe('Incompatible shapes: [2,2] vs. [3]');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual([7]);
      expect(await r.ping()).toBe('PONG');
      expect(await call('AI.MODELEXECUTE', 'g', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 1, 'c')).toBe('OK');
      expect(floats(await blob('c'))).toEqual([4, 9, 4, 9]);
      const info = (await call('AI.INFO', 'g')) as unknown[];
      expect(info.slice(4, 6)).toEqual(['backend', 'TF']);
      expect(info.slice(14)).toEqual(['calls', 3, 'errors', 2]);
    });
  });

  describe('dtypes around tfjs (float32 / int32 / bool inside)', () => {
    it('INT64 in and out: TF would answer INT64, so the int32 result is widened back', async () => {
      const g = graph(
        placeholder('x', DT_INT64),
        konst('k', { dtype: DT_INT64, tensorShape: {}, int64Val: [5] }),
        op('y', 'Add', ['x', 'k'], DT_INT64),
        op('big', 'Greater', ['x', 'k'], DT_INT64),
      );
      // k (a Const) as an output too: answered as a copy, the model's weight stays usable run after run
      expect(await call('AI.MODELSTORE', 'm', 'TF', 'CPU', 'INPUTS', 1, 'x', 'OUTPUTS', 3, 'y', 'big', 'k', 'BLOB', g)).toBe('OK');
      await call('AI.TENSORSET', 'x', 'INT64', 4, 'VALUES', -7, 1, 6, 2147483000);
      for (let i = 0; i < 2; i++) {
        expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'x', 'OUTPUTS', 3, 'y', 'b', 'k')).toBe('OK');
        expect(await call('AI.TENSORGET', 'y', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [4], 'values', [-2, 6, 11, 2147483005]]);
        expect(await call('AI.TENSORGET', 'b', 'META', 'VALUES')).toEqual(['dtype', 'BOOL', 'shape', [4], 'values', [0, 0, 1, 1]]);
        expect(await call('AI.TENSORGET', 'k', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [], 'values', [5]]);
      }
      // values tfjs cannot hold are refused, not wrapped
      await call('AI.TENSORSET', 'huge', 'INT64', 1, 'VALUES', '5000000000');
      expect(await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'huge', 'OUTPUTS', 3, 'y2', 'b2', 'k2'))).toBe(
        'ERR INT64 value 5000000000 is outside the int32 range the TF backend (tfjs) computes in',
      );
      expect(await r.exists('y2')).toBe(0);
    });

    it('DOUBLE in and out (computed in float32 inside tfjs); INT32 stays INT32', async () => {
      const g = graph(
        placeholder('x', DT_DOUBLE),
        konst('half', { dtype: DT_DOUBLE, tensorShape: {}, doubleVal: [0.5] }),
        op('y', 'Mul', ['x', 'half'], DT_DOUBLE),
        placeholder('i', DT_INT32),
        konst('two', { dtype: DT_INT32, tensorShape: { dim: [{ size: 2 }] }, intVal: [2, 3] }),
        op('j', 'Mul', ['i', 'two'], DT_INT32),
      );
      expect(await call('AI.MODELSTORE', 'm', 'TF', 'CPU', 'INPUTS', 2, 'x', 'i', 'OUTPUTS', 2, 'y', 'j', 'BLOB', g)).toBe('OK');
      await call('AI.TENSORSET', 'x', 'DOUBLE', 2, 'VALUES', 3, 0.1);
      await call('AI.TENSORSET', 'i', 'INT32', 2, 'VALUES', -4, 5);
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'x', 'i', 'OUTPUTS', 2, 'y', 'j')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'META')).toEqual(['dtype', 'DOUBLE', 'shape', [2]]);
      const y = await blob('y');
      expect(y.readDoubleLE(0)).toBe(1.5);
      // 0.1 went through float32: equal to 0.05 only to float32 precision (the documented divergence)
      expect(y.readDoubleLE(8)).toBeCloseTo(0.05, 7);
      expect(y.readDoubleLE(8)).not.toBe(0.05);
      expect(await call('AI.TENSORGET', 'j', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [2], 'values', [-8, 15]]);
    });

    it('STRING in and out (identity_string.pb recipe: input_str -> Identity c)', async () => {
      const g = graph(placeholder('input_str', TF_DTYPES.DT_STRING), op('c', 'Identity', ['input_str'], TF_DTYPES.DT_STRING));
      expect(await call('AI.MODELSTORE', 'm', 'TF', 'CPU', 'INPUTS', 1, 'input_str', 'OUTPUTS', 1, 'c', 'BLOB', g)).toBe('OK');
      await call('AI.TENSORSET', 's', 'STRING', 2, 2, 'VALUES', 'test1', '', 'über', 'test4');
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 's', 'OUTPUTS', 1, 'o')).toBe('OK');
      expect(await call('AI.TENSORGET', 'o', 'META', 'VALUES')).toEqual(['dtype', 'STRING', 'shape', [2, 2], 'values', ['test1', '', 'über', 'test4']]);
    });

    it('each output has the dtype the graph declares for it (ArgMax int64, Shape int32, Cast to double); attributes reach tfjs', async () => {
      const g = graph(
        placeholder('x', DT_FLOAT),
        konst('axis', { dtype: DT_INT32, tensorShape: {}, intVal: [1] }),
        { name: 'am', op: 'ArgMax', input: ['x', 'axis'], attr: { T: { type: DT_FLOAT }, Tidx: { type: DT_INT32 }, output_type: { type: DT_INT64 } } },
        { name: 'sh', op: 'Shape', input: ['x'], attr: { T: { type: DT_FLOAT }, out_type: { type: DT_INT32 } } },
        { name: 'd', op: 'Cast', input: ['x'], attr: { SrcT: { type: DT_FLOAT }, DstT: { type: DT_DOUBLE } } },
        // attributes reach tfjs: x times its transpose
        { name: 'mm', op: 'MatMul', input: ['x', 'x'], attr: { T: { type: DT_FLOAT }, transpose_a: { b: false }, transpose_b: { b: true } } },
      );
      expect(await call('AI.MODELSTORE', 'm', 'TF', 'CPU', 'INPUTS', 1, 'x', 'OUTPUTS', 4, 'am', 'sh', 'd', 'mm', 'BLOB', g)).toBe('OK');
      await call('AI.TENSORSET', 'x', 'FLOAT', 2, 3, 'VALUES', 1, 5, 2, 9, 0, 3);
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'x', 'OUTPUTS', 4, 'o1', 'o2', 'o3', 'o4')).toBe('OK');
      expect(await call('AI.TENSORGET', 'o4', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2]]);
      expect(floats(await blob('o4'))).toEqual([30, 15, 15, 90]);
      expect(await call('AI.TENSORGET', 'o1', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [2], 'values', [1, 0]]);
      expect(await call('AI.TENSORGET', 'o2', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [2], 'values', [2, 3]]);
      expect(await call('AI.TENSORGET', 'o3', 'META')).toEqual(['dtype', 'DOUBLE', 'shape', [2, 3]]);
      const d = await blob('o3');
      expect(Array.from({ length: 6 }, (_, i) => d.readDoubleLE(i * 8))).toEqual([1, 5, 2, 9, 0, 3]);
    });

    it('BOOL in and out', async () => {
      const g = graph(placeholder('p', DT_BOOL), placeholder('q', DT_BOOL), op('and', 'LogicalAnd', ['p', 'q'], DT_BOOL), op('not', 'LogicalNot', ['p'], DT_BOOL));
      expect(await call('AI.MODELSTORE', 'm', 'TF', 'CPU', 'INPUTS', 2, 'p', 'q', 'OUTPUTS', 2, 'and', 'not', 'BLOB', g)).toBe('OK');
      await call('AI.TENSORSET', 'p', 'BOOL', 4, 'VALUES', 1, 1, 0, 0);
      await call('AI.TENSORSET', 'q', 'BOOL', 4, 'VALUES', 1, 0, 1, 0);
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'p', 'q', 'OUTPUTS', 2, 'o1', 'o2')).toBe('OK');
      expect(await call('AI.TENSORGET', 'o1', 'META', 'VALUES')).toEqual(['dtype', 'BOOL', 'shape', [4], 'values', [1, 0, 0, 0]]);
      expect(await call('AI.TENSORGET', 'o2', 'META', 'VALUES')).toEqual(['dtype', 'BOOL', 'shape', [4], 'values', [0, 0, 1, 1]]);
    });
  });

  describe('auto-batching (as for ONNX)', () => {
    it('MINBATCHSIZE holds a lone request until MINBATCHTIMEOUT; concurrent requests run as one batch, each gets its rows', async () => {
      expect(await storeGraph('g', 'BATCHSIZE', 4, 'MINBATCHSIZE', 3, 'MINBATCHTIMEOUT', 300)).toBe('OK');
      for (let i = 0; i < 3; i++) {
        await call('AI.TENSORSET', `a${i}`, 'FLOAT', 1, 2, 'VALUES', i + 1, i + 2);
        await call('AI.TENSORSET', `b${i}`, 'FLOAT', 1, 2, 'VALUES', 10, 100);
      }
      let t0 = performance.now();
      expect(await call('AI.MODELEXECUTE', 'g', 'INPUTS', 2, 'a0', 'b0', 'OUTPUTS', 1, 'alone')).toBe('OK');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
      expect(await call('AI.TENSORGET', 'alone', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 2]]);
      const clients = [r, srv.client(), srv.client()];
      await Promise.all(clients.map((c) => c.ping()));
      t0 = performance.now();
      const res = await Promise.all(clients.map((c, i) => c.call('AI.MODELEXECUTE', 'g', 'INPUTS', '2', `a${i}`, `b${i}`, 'OUTPUTS', '1', `o${i}`)));
      expect(res).toEqual(['OK', 'OK', 'OK']);
      expect(performance.now() - t0).toBeLessThan(250);
      for (let i = 0; i < 3; i++) {
        expect(await call('AI.TENSORGET', `o${i}`, 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 2]]);
        expect(floats(await blob(`o${i}`))).toEqual([10 * (i + 1), 100 * (i + 2)]);
      }
      expect(((await call('AI.INFO', 'g')) as unknown[]).slice(12)).toEqual(['samples', 4, 'calls', 4, 'errors', 0]);
    });
  });

  describe('on the tfjs cpu backend (INFERDB_TF_BACKEND=cpu; the fallback when wasm cannot start)', () => {
    let cpu: TestServer;
    beforeAll(async () => {
      process.env.INFERDB_TF_BACKEND = 'cpu';
      try {
        cpu = await startServer();
      } finally {
        delete process.env.INFERDB_TF_BACKEND;
      }
    });
    afterAll(() => cpu.stop());

    it('gives the same results, and the server prints nothing of tfjs (no Node.js banner, no warnings)', async () => {
      const c = cpu.client();
      const cc = file('creditcardfraud.pb');
      expect(await c.call('AI.MODELSTORE', 'cc', 'TF', 'CPU', 'INPUTS', '2', 'transaction', 'reference', 'OUTPUTS', '1', 'output', 'BLOB', cc)).toBe('OK');
      await c.call('AI.TENSORSET', 'tx', 'FLOAT', '2', '30', 'BLOB', f32(...Array.from({ length: 60 }, (_, i) => (i % 13) / 6 - 1)));
      await c.call('AI.TENSORSET', 'ref', 'FLOAT', '1', '256');
      expect(await c.call('AI.MODELEXECUTE', 'cc', 'INPUTS', '2', 'tx', 'ref', 'OUTPUTS', '1', 'out')).toBe('OK');
      const p = floats((await c.callBuffer('AI.TENSORGET', 'out', 'BLOB')) as Buffer);
      expect(p).toHaveLength(4);
      expect(p[0] + p[1]).toBeCloseTo(1, 5);
      expect(p[2] + p[3]).toBeCloseTo(1, 5);
      expect(await c.call('AI.MODELSTORE', 'g', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB', graphPb)).toBe('OK');
      await c.call('AI.TENSORSET', 'a', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3');
      expect(await c.call('AI.MODELEXECUTE', 'g', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '1', 'c')).toBe('OK');
      expect(floats((await c.callBuffer('AI.TENSORGET', 'c', 'BLOB')) as Buffer)).toEqual([4, 9, 4, 9]);
      expect(cpu.output()).not.toMatch(/TensorFlow\.js|tfjs|Hi,|=====/);
      expect(srv.output()).not.toMatch(/TensorFlow\.js|tfjs|Hi,|=====/);
    });
  });
});
