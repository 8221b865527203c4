// AI models with the ONNX backend against a real server process: MODELSTORE / MODELGET / MODELDEL /
// MODELEXECUTE with RedisAI's own test models (mnist, linear_iris, logreg_iris), every MODELSTORE and
// MODELEXECUTE error text of the spec that applies to ONNX (§2.1, §2.5, §11), AI.CONFIG MODEL_CHUNK_SIZE,
// MULTI refusal, TIMEOUT, auto-batching, AI.INFO, deprecated MODELSET/MODELRUN, _MODELSCAN, propagation, backend failures that must not take the server down, that the event loop stays free
// while a model runs (models load and run in worker threads), and the device queue's crash recovery.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { encode, startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';
import { matmulChain, slowInput, sumModel } from '../helpers/onnx-models';
import { DeviceQueue, EXECUTION_KILLED, WORKER_DIED } from '../../src/ai/device-queue';

// the real models live in ../shared beside the repository (as in CI); INFERDB_TESTDATA overrides
const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
if (!fs.existsSync(path.join(DATA, 'mnist.onnx'))) {
  throw new Error(`model test data not found in ${DATA} (set INFERDB_TESTDATA to the testdata/redisai folder)`);
}
const file = (name: string) => fs.readFileSync(path.join(DATA, name));

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

describe('AI models (ONNX)', () => {
  let srv: TestServer;
  let r: Redis;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
  const mnist = file('mnist.onnx');
  const one = file('one.raw');
  const linear = file('linear_iris.onnx');
  const logreg = file('logreg_iris.onnx');
  const IRIS = ['5.1', '3.5', '1.4', '0.2'];

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  const argmax = (b: Buffer) => {
    let best = 0;
    for (let i = 1; i < b.length / 4; i++) if (b.readFloatLE(i * 4) > b.readFloatLE(best * 4)) best = i;
    return best;
  };

  describe('running RedisAI test models', () => {
    it('mnist + one.raw gives argmax 1; the output is an AI_TENSOR FLOAT [1,10]', async () => {
      expect(await call('AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BLOB', mnist)).toBe('OK');
      expect(await r.type('mnist')).toBe('AI__MODEL');
      expect(await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one)).toBe('OK');
      expect(await call('AI.MODELEXECUTE', 'mnist', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('OK');
      expect(await call('AI.TENSORGET', 'out', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 10]]);
      const blob = (await r.callBuffer('AI.TENSORGET', 'out', 'BLOB')) as Buffer;
      expect(blob.length).toBe(40);
      expect(argmax(blob)).toBe(1);
      expect(await r.type('out')).toBe('AI_TENSOR');
    });

    const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
    it('redis-cli -x AI.MODELSTORE ... BLOB < mnist.onnx, then MODELEXECUTE', async () => {
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(REDIS_CLI, ['-p', String(srv.port), '-x', 'AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB'], { stdio: ['pipe', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        p.stdout.on('data', (d) => chunks.push(d));
        p.stderr.on('data', (d) => chunks.push(d));
        p.on('error', reject);
        p.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        p.stdin.end(mnist);
      });
      expect(out).toBe('OK\n');
      expect(((await r.callBuffer('AI.MODELGET', 'm', 'BLOB')) as Buffer).equals(mnist)).toBe(true);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('OK');
      expect(argmax((await r.callBuffer('AI.TENSORGET', 'out', 'BLOB')) as Buffer)).toBe(1);
    });

    it('linear_iris gives exactly -0.090524077415466309', async () => {
      expect(await call('AI.MODELSTORE', 'linear', 'ONNX', 'CPU', 'BLOB', linear)).toBe('OK');
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      expect(await call('AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      const meta = (await call('AI.TENSORGET', 'y', 'META', 'VALUES')) as unknown[];
      expect(meta.slice(0, 4)).toEqual(['dtype', 'FLOAT', 'shape', [1, 1]]);
      const [v] = meta[5] as (string | number)[];
      expect(Number(v)).toBe(-0.090524077415466309);
    });

    it('logreg_iris: output_label INT64 0; the non-tensor ZipMap output is skipped and its key not written', async () => {
      expect(await call('AI.MODELSTORE', 'logreg', 'ONNX', 'CPU', 'BLOB', logreg)).toBe('OK');
      const meta = (await call('AI.MODELGET', 'logreg', 'META')) as unknown[];
      expect(meta[13]).toEqual(['output_label', 'output_probability']);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      expect(await call('AI.MODELEXECUTE', 'logreg', 'INPUTS', 1, 'x', 'OUTPUTS', 2, 'label', 'prob')).toBe('OK');
      expect(await call('AI.TENSORGET', 'label', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [1], 'values', [0]]);
      expect(await r.exists('prob')).toBe(0);
    });

    it('outputs overwrite existing tensors; a failed run writes nothing', async () => {
      await call('AI.MODELSTORE', 'linear', 'ONNX', 'CPU', 'BLOB', linear);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      await call('AI.TENSORSET', 'y', 'INT8', 1, 'VALUES', 7);
      expect(await call('AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(((await call('AI.TENSORGET', 'y', 'META')) as unknown[])[1]).toBe('FLOAT');
      await call('AI.TENSORSET', 'bad', 'DOUBLE', 1, 4, 'VALUES', ...IRIS);
      await call('AI.TENSORSET', 'z', 'INT8', 1, 'VALUES', 7);
      const e = await errOf(call('AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'bad', 'OUTPUTS', 1, 'z'));
      expect(e).toMatch(/Unexpected input data type/);
      expect(await call('AI.TENSORGET', 'z', 'VALUES')).toEqual([7]);
    });

    it('several models and runs from several clients at once all answer correctly', async () => {
      await call('AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BLOB', mnist);
      await call('AI.MODELSTORE', 'linear', 'ONNX', 'CPU:1', 'BLOB', linear);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      const clients = [r, srv.client(), srv.client(), srv.client()];
      const runs: Promise<unknown>[] = [];
      for (let i = 0; i < 40; i++) {
        const c = clients[i % clients.length];
        runs.push(
          i % 2
            ? c.call('AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'in', 'OUTPUTS', '1', `o${i}`)
            : c.call('AI.MODELEXECUTE', 'linear', 'INPUTS', '1', 'x', 'OUTPUTS', '1', `o${i}`),
        );
      }
      expect(new Set(await Promise.all(runs))).toEqual(new Set(['OK']));
      expect(argmax((await r.callBuffer('AI.TENSORGET', 'o1', 'BLOB')) as Buffer)).toBe(1);
      expect(Number(((await call('AI.TENSORGET', 'o0', 'VALUES')) as string[])[0])).toBe(-0.090524077415466309);
    });
  });

  describe('AI.MODELGET / AI.MODELDEL', () => {
    it('META gives the 16 fields in RedisAI order; no flags or META BLOB add the blob; BLOB alone is the blob', async () => {
      expect(await call('AI.MODELSTORE', 'm', 'onnx', 'cpu:1', 'TAG', 'v1.0', 'BATCHSIZE', 4, 'MINBATCHSIZE', 2, 'MINBATCHTIMEOUT', 7, 'BLOB', linear)).toBe('OK');
      const meta = ['backend', 'ONNX', 'device', 'cpu:1', 'tag', 'v1.0', 'batchsize', 4, 'minbatchsize', 2, 'inputs', ['float_input'], 'outputs', ['variable'], 'minbatchtimeout', 7];
      expect(await call('AI.MODELGET', 'm', 'META')).toEqual(meta);
      const full = (await r.callBuffer('AI.MODELGET', 'm')) as unknown[];
      expect(full.length).toBe(18);
      expect(String(full[16])).toBe('blob');
      expect((full[17] as Buffer).equals(linear)).toBe(true);
      expect(((await r.callBuffer('AI.MODELGET', 'm', 'meta', 'blob')) as unknown[]).length).toBe(18);
      expect(((await r.callBuffer('AI.MODELGET', 'm', 'BLOB')) as Buffer).equals(linear)).toBe(true);
      expect(await call('AI.MODELGET', 'm', 'META', 'whatever')).toEqual(meta); // unknown words are ignored
      await call('AI.MODELSTORE', 'n', 'ONNX', 'CPU', 'BLOB', linear);
      expect(((await call('AI.MODELGET', 'n', 'META')) as unknown[]).slice(0, 10)).toEqual(['backend', 'ONNX', 'device', 'CPU', 'tag', '', 'batchsize', 0, 'minbatchsize', 0]);
    });

    it('the blob comes back in MODEL_CHUNK_SIZE chunks once it is that long (AI.CONFIG)', async () => {
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', mnist);
      expect(await call('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe(511 * 1024 * 1024);
      try {
        expect(await call('AI.CONFIG', 'MODEL_CHUNK_SIZE', 1000)).toBe('OK');
        expect(await call('AI.CONFIG', 'get', 'model_chunk_size')).toBe(1000);
        const chunks = (await r.callBuffer('AI.MODELGET', 'm', 'BLOB')) as Buffer[];
        expect(chunks.length).toBe(Math.floor(mnist.length / 1000) + 1);
        expect(chunks[0].length).toBe(1000);
        expect(Buffer.concat(chunks).equals(mnist)).toBe(true);
        // an exact multiple ends in an empty chunk, as RedisAI
        await call('AI.CONFIG', 'MODEL_CHUNK_SIZE', linear.length);
        await call('AI.MODELSTORE', 'l', 'ONNX', 'CPU', 'BLOB', linear);
        const two = (await r.callBuffer('AI.MODELGET', 'l', 'BLOB')) as Buffer[];
        expect(two.map((b) => b.length)).toEqual([linear.length, 0]);
        const full = (await r.callBuffer('AI.MODELGET', 'l', 'META', 'BLOB')) as unknown[];
        expect((full[17] as Buffer[]).length).toBe(2);
        // chunked upload: all the arguments after BLOB are joined
        const parts = [mnist.subarray(0, 100), mnist.subarray(100, 20000), mnist.subarray(20000)];
        expect(await call('AI.MODELSTORE', 'm2', 'ONNX', 'CPU', 'BLOB', ...parts)).toBe('OK');
        await call('AI.CONFIG', 'MODEL_CHUNK_SIZE', 1 << 30);
        expect(((await r.callBuffer('AI.MODELGET', 'm2', 'BLOB')) as Buffer).equals(mnist)).toBe(true);
      } finally {
        await call('AI.CONFIG', 'MODEL_CHUNK_SIZE', 511 * 1024 * 1024);
      }
    });

    it('AI.CONFIG errors', async () => {
      expect(await errOf(call('AI.CONFIG', 'MODEL_CHUNK_SIZE'))).toBe('ERR MODEL_CHUNK_SIZE: missing chunk size');
      expect(await errOf(call('AI.CONFIG', 'MODEL_CHUNK_SIZE', 0))).toBe('ERR MODEL_CHUNK_SIZE: invalid chunk size');
      expect(await errOf(call('AI.CONFIG', 'MODEL_CHUNK_SIZE', 'x'))).toBe('ERR MODEL_CHUNK_SIZE: invalid chunk size');
      expect(await errOf(call('AI.CONFIG', 'BACKENDSPATH'))).toBe('ERR BACKENDSPATH: missing path argument');
      expect(await call('AI.CONFIG', 'BACKENDSPATH', '/x/y')).toBe('OK');
      expect(await call('AI.CONFIG', 'GET', 'BACKENDSPATH')).toBe('/x/y');
      expect(await call('AI.CONFIG', 'GET', 'nothing')).toBe(null);
      expect(await errOf(call('AI.CONFIG', 'nothing'))).toBe('ERR unsupported subcommand');
      expect(await errOf(call('AI.CONFIG', 'LOADBACKEND', 'XX', 'p'))).toBe('ERR unsupported backend');
      expect(await call('AI.CONFIG', 'LOADBACKEND', 'ONNX', 'p')).toBe('OK');
      expect(await errOf(call('AI.config'))).toBe("ERR wrong number of arguments for 'AI.config' command");
    });

    it('MODELDEL deletes; missing keys and other types are refused; DEL works too', async () => {
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', linear);
      expect(await call('AI.MODELDEL', 'm')).toBe('OK');
      expect(await r.exists('m')).toBe(0);
      expect(await errOf(call('AI.MODELDEL', 'm'))).toBe('ERR model key is empty');
      expect(await errOf(call('AI.MODELGET', 'm'))).toBe('ERR model key is empty');
      expect(await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'b'))).toBe('ERR model key is empty');
      await r.set('s', 'v');
      expect(await errOf(call('AI.MODELDEL', 's'))).toBe(WRONGTYPE);
      expect(await errOf(call('AI.MODELGET', 's'))).toBe(WRONGTYPE);
      expect(await errOf(call('ai.modeldel'))).toBe("ERR wrong number of arguments for 'ai.modeldel' command");
      expect(await errOf(call('AI.MODELDEL', 'a', 'b'))).toBe("ERR wrong number of arguments for 'AI.MODELDEL' command");
      expect(await errOf(call('AI.MODELGET', 'a', 'b', 'c', 'd'))).toBe("ERR wrong number of arguments for 'AI.MODELGET' command");
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', linear);
      expect(await r.del('m')).toBe(1);
      expect(await r.exists('m')).toBe(0);
    });

    it('a model can be overwritten; the new one is used', async () => {
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', mnist);
      expect(await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', linear)).toBe('OK');
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(Number(((await call('AI.TENSORGET', 'y', 'VALUES')) as string[])[0])).toBe(-0.090524077415466309);
    });

    it('COMMAND GETKEYS finds the model, input and output keys of MODELEXECUTE', async () => {
      expect(await call('COMMAND', 'GETKEYS', 'AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c', 'TIMEOUT', 5)).toEqual(['m', 'a', 'b', 'c']);
      expect(await call('COMMAND', 'GETKEYS', 'AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', 'x')).toEqual(['m']);
    });
  });

  describe('AI.MODELSTORE errors (spec §2.1)', () => {
    const store = (...a: (string | number | Buffer)[]) => errOf(call('AI.MODELSTORE', ...a));
    it('argument errors, in RedisAI order', async () => {
      expect(await errOf(call('ai.modelstore', 'm', 'ONNX', 'CPU', 'BLOB'))).toBe("ERR wrong number of arguments for 'ai.modelstore' command");
      expect(await store('m', 'XX', 'CPU', 'BLOB', linear)).toBe('ERR unsupported backend');
      expect(await store('m', 'ONNX', 'XPU', 'BLOB', linear)).toBe('ERR Invalid DEVICE');
      expect(await store('m', 'ONNX', 'CPU:123456', 'BLOB', linear)).toBe('ERR Invalid DEVICE');
      expect(await store('m', 'ONNX', 'CPU:x', 'BLOB', linear)).toBe('ERR Invalid DEVICE');
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', 'x', 'BLOB', linear)).toBe('ERR Invalid argument for BATCHSIZE');
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', -1, 'BLOB', linear)).toBe('ERR Invalid argument for BATCHSIZE');
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'MINBATCHSIZE', 'x', 'BLOB', linear)).toBe('ERR Invalid argument for MINBATCHSIZE');
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'MINBATCHSIZE', 2, 'MINBATCHTIMEOUT', 'x', 'BLOB', linear)).toBe(
        'ERR Invalid argument for MINBATCHTIMEOUT',
      );
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', 0, 'MINBATCHSIZE', 2, 'BLOB', linear)).toBe('ERR MINBATCHSIZE specified without BATCHSIZE');
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'MINBATCHSIZE', 0, 'MINBATCHTIMEOUT', 5, 'BLOB', linear)).toBe(
        'ERR MINBATCHTIMEOUT specified without MINBATCHSIZE',
      );
      expect(await store('m', 'ONNX', 'CPU', 'TAG', 'a')).toBe('ERR Insufficient arguments, missing model BLOB');
      expect(await store('m', 'ONNX', 'CPU', 'TAG', 'a', 'BATCHSIZE', 2)).toBe('ERR Insufficient arguments, missing model BLOB');
      expect(await store('m', 'ONNX', 'CPU', 'TAG', 'a', 'BLOB')).toBe('ERR Insufficient arguments, missing model BLOB');
      expect(await store('m', 'ONNX', 'CPU', 'NOTBLOB', linear)).toBe('ERR Invalid argument, expected BLOB');
      expect(await store('m', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'BLOBS', linear)).toBe('ERR Invalid argument, expected BLOB');
      expect(await store('m', 'ONNX', 'CPU', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'b', 'BLOB', linear)).toBe(
        'ERR INPUTS argument should not be specified for this backend',
      );
      expect(await store('m', 'ONNX', 'CPU', 'OUTPUTS', 1, 'b', 'BLOB', linear)).toBe('ERR Invalid argument, expected BLOB');
      // TF's INPUTS/OUTPUTS grammar is checked, then its backend refuses the ONNX bytes (test/ai/tf.test.ts has TF)
      expect(await store('m', 'TF', 'CPU', 'BLOB', linear)).toBe('ERR INPUTS not specified for TF');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 0, 'BLOB', linear)).toBe('ERR Invalid argument for input_count');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 1, 'a', 'BLOB', linear)).toBe('ERR OUTPUTS not specified for TF');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 1, 'a', 'OUTPUTS', 'x', 'BLOB', linear)).toBe('ERR Invalid argument for output_count');
      expect(await store('m', 'TF', 'CPU', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'b', 'BLOB', linear)).toBe('Invalid GraphDef');
      // TORCH (test/ai/torch.test.ts) refuses ONNX bytes with libtorch's own message
      expect(await store('m', 'TORCH', 'CPU', 'BLOB', linear)).toMatch(/^PytorchStreamReader failed reading zip archive/);
      expect(await r.exists('m')).toBe(0);
      // accepted forms: bare CPU:, lower case, explicit zeros
      expect(await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU:', 'BLOB', linear)).toBe('OK');
      expect(await call('AI.MODELSTORE', 'm', 'onnx', 'Cpu', 'tag', 't', 'batchsize', 0, 'minbatchsize', 0, 'minbatchtimeout', 0, 'blob', linear)).toBe('OK');
    });

    it('backend errors pass through: a corrupt blob, a TF graph, a GPU device; the server stays up', async () => {
      expect(await store('m', 'ONNX', 'CPU', 'BLOB', 'not a model at all')).toMatch(/protobuf parsing failed/);
      expect(await store('m', 'ONNX', 'CPU', 'BLOB', file('graph.pb'))).toBe('No graph was found in the protobuf.');
      expect(await store('m', 'ONNX', 'GPU', 'BLOB', linear)).toBe("ERR GPU requested but ONNX couldn't find CUDA");
      expect(await store('m', 'ONNX', 'gpu:0', 'BLOB', linear)).toBe("ERR GPU requested but ONNX couldn't find CUDA");
      expect(await r.exists('m')).toBe(0);
      expect(await r.ping()).toBe('PONG');
      expect(await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', linear)).toBe('OK');
    });

    it('WRONGTYPE for a key of another type, checked after the model is built', async () => {
      await r.set('s', 'v');
      expect(await store('s', 'ONNX', 'CPU', 'BLOB', linear)).toBe(WRONGTYPE);
      expect(await store('s', 'ONNX', 'CPU', 'BLOB', 'garbage')).toMatch(/protobuf parsing failed/);
      expect(await r.get('s')).toBe('v');
    });
  });

  describe('AI.MODELEXECUTE errors (spec §2.5)', () => {
    const exec = (...a: (string | number)[]) => errOf(call('AI.MODELEXECUTE', ...a));
    beforeEach(async () => {
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', mnist);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
    });

    it('parse errors, in RedisAI order', async () => {
      expect(await errOf(call('ai.modelexecute', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1))).toBe("ERR wrong number of arguments for 'AI.MODELEXECUTE' command");
      expect(await exec('nokey', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('ERR model key is empty');
      expect(await exec('in', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe(WRONGTYPE);
      expect(await exec('m', 'INPUT', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('ERR INPUTS not specified');
      expect(await exec('m', 'TIMEOUT', 5, 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('ERR INPUTS not specified');
      expect(await exec('m', 'INPUTS', 'x', 'in', 'OUTPUTS', 1, 'out')).toBe('ERR Invalid argument for input_count');
      expect(await exec('m', 'INPUTS', 0, 'in', 'OUTPUTS', 1, 'out')).toBe('ERR Input count must be a positive integer');
      expect(await exec('m', 'INPUTS', -1, 'in', 'OUTPUTS', 1, 'out')).toBe('ERR Input count must be a positive integer');
      expect(await exec('m', 'INPUTS', 2, 'in', 'in', 'OUTPUTS', 1, 'out')).toBe('Number of keys given as INPUTS here does not match model definition');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUT', 1, 'out')).toBe('ERR OUTPUTS not specified');
      expect(await exec('m', 'INPUTS', 1, 'in', 'in', 'OUTPUTS', 1, 'out')).toBe('ERR OUTPUTS not specified');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 'x', 'out')).toBe('ERR Invalid argument for output_count');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 0, 'out')).toBe('ERR Output count must be a positive integer');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 2, 'o1', 'o2')).toBe('Number of keys given as OUTPUTS here does not match model definition');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out', 'TIMEOUT')).toBe('ERR No value provided for TIMEOUT');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out', 'TIMEOUT', 0)).toBe('ERR Invalid value for TIMEOUT');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out', 'TIMEOUT', 'x')).toBe('ERR Invalid value for TIMEOUT');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out', 'TIMEOUT', 5, 'extra')).toBe('Invalid argument: extra');
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out', 'junk')).toBe('Invalid argument: junk');
      expect(await exec('m', 'INPUTS', 1, 'nokey', 'OUTPUTS', 1, 'out')).toBe('ERR tensor key is empty or in a different shard');
      await r.set('s', 'v');
      expect(await exec('m', 'INPUTS', 1, 's', 'OUTPUTS', 1, 'out')).toBe(WRONGTYPE);
      expect(await exec('m', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 's')).toBe(WRONGTYPE);
      expect(await r.exists('out')).toBe(0);
    });

    it('too few keys for the counts; a many-input model runs', async () => {
      expect(await call('AI.MODELSTORE', 'sum', 'ONNX', 'CPU', 'BLOB', sumModel(5))).toBe('OK');
      expect(((await call('AI.MODELGET', 'sum', 'META')) as unknown[])[11]).toEqual(['I0', 'I1', 'I2', 'I3', 'I4']);
      expect(await exec('sum', 'INPUTS', 5, 'a', 'b', 'c', 'OUTPUTS')).toBe(
        'ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments',
      );
      for (const k of ['a', 'b', 'c', 'd', 'e']) await call('AI.TENSORSET', k, 'FLOAT', 2, 'VALUES', 1, 2);
      expect(await call('AI.MODELEXECUTE', 'sum', 'INPUTS', 5, 'a', 'b', 'c', 'd', 'e', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual(['5', '10']);
      await call('AI.MODELSTORE', 'lr', 'ONNX', 'CPU', 'BLOB', logreg);
      expect(await exec('lr', 'INPUTS', 1, 'in', 'OUTPUTS', 2, 'o1')).toBe(
        'ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments',
      );
    });

    it('a wrong input shape fails with ORT text, writes nothing, and the server stays up', async () => {
      await call('AI.TENSORSET', 'flat', 'FLOAT', 1, 784, 'BLOB', one);
      const e = await exec('m', 'INPUTS', 1, 'flat', 'OUTPUTS', 1, 'out');
      expect(e).toMatch(/^Invalid rank for input: Input3 Got: 2 Expected: 4/);
      expect(await r.exists('out')).toBe(0);
      expect(await r.ping()).toBe('PONG');
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('OK');
    });

    it('inside MULTI it is QUEUED and refused at EXEC; other AI commands run there', async () => {
      const res = await r
        .multi()
        .call('AI.MODELEXECUTE', 'm', 'INPUTS', '1', 'in', 'OUTPUTS', '1', 'out')
        .call('AI.MODELSTORE', 'm2', 'ONNX', 'CPU', 'BLOB', linear)
        .call('AI.TENSORSET', 't', 'FLOAT', '1', 'VALUES', '1')
        .exec();
      expect(res![0][0]?.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
      expect(res![1]).toEqual([null, 'OK']);
      expect(res![2]).toEqual([null, 'OK']);
      expect(await r.exists('out')).toBe(0);
      expect(await r.type('m2')).toBe('AI__MODEL');
      // outside a transaction again, it runs
      expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out')).toBe('OK');
    });
  });

  describe('deprecated AI.MODELSET / AI.MODELRUN, and AI._MODELSCAN (spec §2.2, §2.6, §2.7)', () => {
    it('MODELSET stores like MODELSTORE; MODELRUN runs without counts', async () => {
      expect(await call('AI.MODELSET', 'm', 'ONNX', 'CPU', 'TAG', 'old', 'BATCHSIZE', 2, 'BLOB', mnist)).toBe('OK');
      expect(((await call('AI.MODELGET', 'm', 'META')) as unknown[]).slice(0, 8)).toEqual(['backend', 'ONNX', 'device', 'CPU', 'tag', 'old', 'batchsize', 2]);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      expect(await call('AI.MODELRUN', 'm', 'INPUTS', 'in', 'OUTPUTS', 'out')).toBe('OK');
      expect(argmax((await r.callBuffer('AI.TENSORGET', 'out', 'BLOB')) as Buffer)).toBe(1);
      expect(await call('AI.MODELRUN', 'm', 'TIMEOUT', 5000, 'INPUTS', 'in', 'OUTPUTS', 'out2')).toBe('OK');
      expect(await r.exists('out2')).toBe(1);
      await call('AI.MODELSTORE', 'lr', 'ONNX', 'CPU', 'BLOB', logreg);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      expect(await call('AI.MODELRUN', 'lr', 'INPUTS', 'x', 'OUTPUTS', 'label', 'prob')).toBe('OK');
      expect(await call('AI.TENSORGET', 'label', 'VALUES')).toEqual([0]);
      expect(await r.exists('prob')).toBe(0);
      expect(await call('COMMAND', 'GETKEYS', 'AI.MODELRUN', 'm', 'TIMEOUT', 5, 'INPUTS', 'a', 'b', 'OUTPUTS', 'c')).toEqual(['m', 'a', 'b', 'c']);
    });

    it('MODELSET errors', async () => {
      const set = (...a: (string | number | Buffer)[]) => errOf(call('AI.MODELSET', ...a));
      expect(await errOf(call('ai.modelset', 'm', 'ONNX'))).toBe("ERR wrong number of arguments for 'ai.modelset' command");
      expect(await set('m', 'XX', 'CPU', 'BLOB', linear)).toBe('ERR unsupported backend');
      expect(await set('m', 'ONNX', 'BLOB', linear)).toBe('ERR Invalid DEVICE');
      expect(await set('m', 'ONNX', 'CPU:1234567890', 'BLOB', linear)).toBe('ERR Invalid DEVICE');
      expect(await set('m', 'ONNX', 'CPU', 'MINBATCHSIZE', 2, 'BLOB', linear)).toBe('ERR MINBATCHSIZE specified without BATCHSIZE');
      expect(await set('m', 'ONNX', 'CPU', 'MINBATCHTIMEOUT', 2, 'BLOB', linear)).toBe('ERR MINBATCHTIMEOUT specified without BATCHSIZE');
      expect(await set('m', 'ONNX', 'CPU', 'BATCHSIZE', 'x', 'BLOB', linear)).toBe('ERR Invalid argument for BATCHSIZE');
      expect(await set('m', 'TFLITE', 'CPU', 'BATCHSIZE', 2, 'BLOB', linear)).toBe('ERR Auto-batching not supported by the TFLITE backend');
      expect(await set('m', 'ONNX', 'CPU', 'TAG', 't')).toBe('ERR Insufficient arguments, missing model BLOB');
      expect(await set('m', 'ONNX', 'CPU', 'BLOB')).toBe('ERR Insufficient arguments, missing model BLOB');
      expect(await set('m', 'TF', 'CPU', 'BLOB', linear)).toBe('ERR Insufficient arguments, INPUTS and OUTPUTS not specified');
      expect(await set('m', 'TF', 'CPU', 'X', 'BLOB', linear)).toBe('ERR INPUTS not specified');
      expect(await set('m', 'TF', 'CPU', 'INPUTS', 'a', 'BLOB', linear)).toBe('ERR OUTPUTS not specified');
      expect(await set('m', 'TF', 'CPU', 'INPUTS', 'a', 'OUTPUTS', 'b', 'BLOB', linear)).toBe('Invalid GraphDef');
      expect(await set('m', 'ONNX', 'CPU', 'BLOB', 'junk')).toMatch(/protobuf parsing failed/);
    });

    it('MODELRUN errors', async () => {
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', mnist);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      const run = (...a: (string | number)[]) => errOf(call('AI.MODELRUN', ...a));
      expect(await errOf(call('ai.modelrun', 'm', 'INPUTS', 'in', 'OUTPUTS'))).toBe("ERR wrong number of arguments for 'AI.MODELRUN' command");
      expect(await run('nokey', 'INPUTS', 'in', 'OUTPUTS', 'out')).toBe('ERR model key is empty');
      expect(await run('m', 'INPUT', 'in', 'OUTPUTS', 'out')).toBe('ERR INPUTS not specified');
      expect(await run('m', 'INPUTS', 'in', 'OUTPUTS', 'out', 'TIMEOUT', 5)).toBe('Number of keys given as OUTPUTS here does not match model definition');
      expect(await run('m', 'INPUTS', 'in', 'in', 'OUTPUTS', 'out')).toBe('Number of keys given as INPUTS here does not match model definition');
      expect(await run('m', 'TIMEOUT', 0, 'INPUTS', 'in', 'OUTPUTS', 'out')).toBe('ERR Invalid value for TIMEOUT');
      expect(await run('m', 'INPUTS', 'nokey', 'OUTPUTS', 'out')).toBe('ERR tensor key is empty or in a different shard');
      const res = await r.multi().call('AI.MODELRUN', 'm', 'INPUTS', 'in', 'OUTPUTS', 'out').exec();
      expect(res![0][0]?.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
    });

    it('_MODELSCAN lists every model with its tag', async () => {
      expect(await call('AI._MODELSCAN')).toEqual([]);
      await call('AI.MODELSTORE', 'a', 'ONNX', 'CPU', 'TAG', 'ta', 'BLOB', linear);
      await call('AI.MODELSTORE', 'b', 'ONNX', 'CPU', 'BLOB', linear);
      await call('AI.TENSORSET', 't', 'FLOAT', 1);
      const scan = (await call('AI._MODELSCAN')) as [string, string][];
      expect(scan.sort()).toEqual([
        ['a', 'ta'],
        ['b', ''],
      ]);
      expect(await errOf(call('AI._MODELSCAN', 'x'))).toBe("ERR wrong number of arguments for 'AI._MODELSCAN' command");
    });
  });

  describe('AI.INFO (spec §6)', () => {
    it('counts calls, samples, duration and errors per stored model; RESETSTAT; a re-store starts over', async () => {
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'TAG', 'v1', 'BLOB', mnist);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      await call('AI.TENSORSET', 'bad', 'FLOAT', 784, 'BLOB', one);
      const info = async () => (await call('AI.INFO', 'm')) as unknown[];
      expect(await info()).toEqual(['key', 'm', 'type', 'MODEL', 'backend', 'ONNX', 'device', 'CPU', 'tag', 'v1', 'duration', 0, 'samples', 0, 'calls', 0, 'errors', 0]);
      await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out');
      const first = await info();
      expect(first[11]).toBeGreaterThan(0);
      expect(first.slice(12)).toEqual(['samples', 1, 'calls', 1, 'errors', 0]);
      await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out');
      await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'bad', 'OUTPUTS', 1, 'out'));
      await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'nokey', 'OUTPUTS', 1, 'out')); // parse errors count nothing
      const second = await info();
      expect(second[11] as number).toBeGreaterThan(first[11] as number);
      expect(second.slice(12)).toEqual(['samples', 2, 'calls', 3, 'errors', 1]);
      expect(await call('AI.INFO', 'm', 'resetstat')).toBe('OK');
      expect((await info()).slice(10)).toEqual(['duration', 0, 'samples', 0, 'calls', 0, 'errors', 0]);
      await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'out');
      await call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', mnist);
      expect((await info()).slice(8)).toEqual(['tag', '', 'duration', 0, 'samples', 0, 'calls', 0, 'errors', 0]);
      expect(await errOf(call('AI.INFO', 'in'))).toBe('ERR cannot find run info for key');
      expect(await errOf(call('AI.INFO', 'nokey'))).toBe('ERR cannot find run info for key');
      expect(await errOf(call('AI.INFO'))).toBe("ERR wrong number of arguments for 'AI.INFO' command");
    });
  });

  describe('auto-batching (spec §5)', () => {
    const batched = file('mnist_batched.onnx');
    it('MINBATCHSIZE holds a lone request until MINBATCHTIMEOUT; two requests run at once as one batch', async () => {
      expect(await call('AI.MODELSTORE', 'mb', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'MINBATCHSIZE', 2, 'MINBATCHTIMEOUT', 300, 'BLOB', batched)).toBe('OK');
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      let t0 = performance.now();
      expect(await call('AI.MODELEXECUTE', 'mb', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'alone')).toBe('OK');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
      expect(await call('AI.TENSORGET', 'alone', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 10]]);
      const other = srv.client();
      await other.ping();
      t0 = performance.now();
      const both = await Promise.all([
        call('AI.MODELEXECUTE', 'mb', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'o1'),
        other.call('AI.MODELEXECUTE', 'mb', 'INPUTS', '1', 'in', 'OUTPUTS', '1', 'o2'),
      ]);
      expect(both).toEqual(['OK', 'OK']);
      expect(performance.now() - t0).toBeLessThan(250);
      for (const k of ['alone', 'o1', 'o2']) {
        const b = (await r.callBuffer('AI.TENSORGET', k, 'BLOB')) as Buffer;
        expect(b.length).toBe(40);
        expect(argmax(b)).toBe(1);
      }
      const info = (await call('AI.INFO', 'mb')) as unknown[];
      expect(info.slice(12)).toEqual(['samples', 3, 'calls', 3, 'errors', 0]);
    });

    it('BATCHSIZE alone merges what is queued; a request with a different shape runs apart', async () => {
      await call('AI.MODELSTORE', 'mb', 'ONNX', 'CPU', 'BATCHSIZE', 4, 'BLOB', batched);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      await call('AI.TENSORSET', 'in2', 'FLOAT', 2, 1, 28, 28, 'BLOB', Buffer.concat([one, one]));
      const clients = [r, srv.client(), srv.client(), srv.client()];
      const res = await Promise.all(
        clients.map((c, i) => c.call('AI.MODELEXECUTE', 'mb', 'INPUTS', '1', i === 3 ? 'in2' : 'in', 'OUTPUTS', '1', `o${i}`)),
      );
      expect(res).toEqual(['OK', 'OK', 'OK', 'OK']);
      expect(await call('AI.TENSORGET', 'o3', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [2, 10]]);
      for (const k of ['o0', 'o1', 'o2']) expect(argmax((await r.callBuffer('AI.TENSORGET', k, 'BLOB')) as Buffer)).toBe(1);
    });
  });

  describe('off the event loop', () => {
    const N = 1000;
    let slow: Buffer;
    let slowIn: Buffer;
    /** time of one run of the chain on this machine, measured once */
    let runMs = 0;
    let k = 0;

    beforeAll(async () => {
      slowIn = slowInput(N);
      // size the chain so that one run lasts about 600 ms here (bounded: the kill switch is 5 s)
      await call('AI.MODELSTORE', 'probe', 'ONNX', 'CPU', 'BLOB', matmulChain(4));
      await call('AI.TENSORSET', 'sx', 'FLOAT', N, N, 'BLOB', slowIn);
      let best = Infinity; // the first run of a session is slower (allocations): take the best of three
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await call('AI.MODELEXECUTE', 'probe', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy');
        best = Math.min(best, performance.now() - t0);
      }
      const per = Math.max(1, best / 4);
      k = Math.max(4, Math.min(400, Math.round(600 / per)));
      slow = matmulChain(k);
    });
    beforeEach(async () => {
      await call('AI.MODELSTORE', 'slow', 'ONNX', 'CPU', 'BLOB', slow);
      await call('AI.TENSORSET', 'sx', 'FLOAT', N, N, 'BLOB', slowIn);
    });

    it('PING answers within 100 ms while a slow model runs and while models load', async () => {
      const pinger = srv.client();
      await pinger.ping();
      const t0 = performance.now();
      const run = call('AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy').then((v) => {
        runMs = performance.now() - t0;
        return v;
      });
      const loads = srv.client();
      const stores = Promise.all([1, 2, 3].map((i) => loads.call('AI.MODELSTORE', `mn${i}`, 'ONNX', 'CPU', 'BLOB', mnist)));
      let done = false;
      void run.finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const p0 = performance.now();
        expect(await pinger.ping()).toBe('PONG');
        latencies.push(performance.now() - p0);
        await new Promise((res) => setTimeout(res, 10));
      }
      expect(await run).toBe('OK');
      expect(await stores).toEqual(['OK', 'OK', 'OK']);
      // the run was long enough for the check to mean something, and PING never waited for it
      expect(runMs).toBeGreaterThan(200);
      expect(latencies.length).toBeGreaterThan(5);
      expect(Math.max(...latencies)).toBeLessThan(100);
      const out = (await r.callBuffer('AI.TENSORGET', 'sy', 'BLOB')) as Buffer;
      expect(out.length).toBe(N * N * 4);
      expect(out.readFloatLE(0)).toBeCloseTo(1 / N, 6);
    });

    it('a client that disconnects before its run ends gets nothing written', async () => {
      const sock = await srv.raw();
      sock.write(encode('AI.MODELEXECUTE', 'slow', 'INPUTS', '1', 'sx', 'OUTPUTS', '1', 'gone'));
      await new Promise((res) => setTimeout(res, 30));
      sock.destroy();
      await new Promise((res) => setTimeout(res, Math.max(300, runMs * 1.5)));
      expect(await r.exists('gone')).toBe(0);
      expect(await r.ping()).toBe('PONG');
    });

    it('TIMEOUT: a run still going at its deadline answers TIMEDOUT and writes nothing; one queued behind it too', async () => {
      const other = srv.client();
      await call('AI.MODELSTORE', 'linear', 'ONNX', 'CPU', 'BLOB', linear); // loaded in the worker about to be recycled
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
      await call('AI.MODELSTORE', 'slower', 'ONNX', 'CPU', 'BLOB', matmulChain(k * 3)); // about 1.8 s a run
      const t0 = performance.now();
      const first = call('AI.MODELEXECUTE', 'slower', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy', 'TIMEOUT', 50);
      const second = other.call('AI.MODELEXECUTE', 'slow', 'INPUTS', '1', 'sx', 'OUTPUTS', '1', 'sz', 'TIMEOUT', '20');
      expect(await first).toBe('TIMEDOUT');
      expect(await second).toBe('TIMEDOUT');
      // answered at its deadline, long before the run could end (the bound is loose: CPU is shared with other files)
      expect(performance.now() - t0).toBeLessThan(Math.max(runMs, 250) * 2);
      expect(await r.exists('sy', 'sz')).toBe(0);
      // the worker was recycled: the queue works again and its new worker reloads the models it needs
      expect(await call('AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y', 'TIMEOUT', 5000)).toBe('OK');
      expect(Number(((await call('AI.TENSORGET', 'y', 'VALUES')) as string[])[0])).toBe(-0.090524077415466309);
    });
  });
});

// ------------------------------------------------------------------------------------------ propagation
// No replication listener exists yet, so this runs the built server (dist/, as the process tests do) in this
// process and listens to Server.onPropagate: what replicas and the AOF would receive.
describe('propagation of model commands', () => {
  type Argv = Buffer[];
  let server: { listen(): Promise<void>; close(): Promise<void>; boundPort: number; onPropagate(l: (db: number, argv: Argv) => void): void };
  let r: Redis;
  const seen: string[][] = [];
  const text = (argv: Argv) => argv.map((b) => (b.length > 64 ? `<${b.length} bytes>` : b.toString('latin1')));

  beforeAll(async () => {
    const { Config, parseCommandLine } = require(path.resolve(__dirname, '../../dist/node/config'));
    const { Server } = require(path.resolve(__dirname, '../../dist/node/server'));
    const config = new Config();
    parseCommandLine(['--port', '0', '--loglevel', 'warning'], config);
    server = new Server(config);
    server.onPropagate((_db, argv) => seen.push(text(argv)));
    await server.listen();
    const { default: IORedis } = await import('ioredis');
    r = new IORedis({ port: server.boundPort, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    r.disconnect();
    await server.close();
  });

  it('MODELSTORE and MODELDEL verbatim; MODELEXECUTE as AI.TENSORSET ... BLOB of each output written', async () => {
    const linear = file('linear_iris.onnx');
    const logreg = file('logreg_iris.onnx');
    await r.call('AI.MODELSTORE', 'li', 'ONNX', 'CPU', 'TAG', 't', 'BLOB', linear);
    await r.call('AI.MODELSTORE', 'lr', 'onnx', 'CPU', 'BLOB', logreg);
    expect(seen).toEqual([
      ['AI.MODELSTORE', 'li', 'ONNX', 'CPU', 'TAG', 't', 'BLOB', `<${linear.length} bytes>`],
      ['AI.MODELSTORE', 'lr', 'onnx', 'CPU', 'BLOB', `<${logreg.length} bytes>`],
    ]);
    seen.length = 0;
    await r.call('AI.TENSORSET', 'x', 'FLOAT', '1', '4', 'VALUES', '5.1', '3.5', '1.4', '0.2');
    seen.length = 0;
    expect(await r.call('AI.MODELEXECUTE', 'li', 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'y')).toBe('OK');
    const y = (await r.callBuffer('AI.TENSORGET', 'y', 'BLOB')) as Buffer;
    expect(seen).toEqual([['AI.TENSORSET', 'y', 'FLOAT', '1', '1', 'BLOB', y.toString('latin1')]]);
    seen.length = 0;
    // the non-tensor output is neither written nor propagated
    expect(await r.call('AI.MODELEXECUTE', 'lr', 'INPUTS', '1', 'x', 'OUTPUTS', '2', 'label', 'prob')).toBe('OK');
    expect(seen).toEqual([['AI.TENSORSET', 'label', 'INT64', '1', 'BLOB', Buffer.alloc(8).toString('latin1')]]);
    seen.length = 0;
    // failures propagate nothing
    await r.call('AI.TENSORSET', 'bad', 'FLOAT', '4', 'VALUES', '1', '2', '3', '4');
    seen.length = 0;
    await expect(r.call('AI.MODELEXECUTE', 'li', 'INPUTS', '1', 'bad', 'OUTPUTS', '1', 'z')).rejects.toThrow(/Invalid rank/);
    await expect(r.call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'BLOB', 'garbage')).rejects.toThrow(/protobuf/);
    expect(seen).toEqual([]);
    expect(await r.call('AI.MODELDEL', 'li')).toBe('OK');
    expect(seen).toEqual([['AI.MODELDEL', 'li']]);
  });
});

// ------------------------------------------------------------------------------ the device queue on its own
describe('DeviceQueue', () => {
  /** A stand-in worker: answers loads; a run with data byte 0 = 1 crashes the thread, others echo the inputs. */
  const fakeWorker = () =>
    new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (m) => {
         if (m.op === 'load') return parentPort.postMessage({ id: m.id, ok: true, inputs: ['a'], outputs: ['b'] });
         if (m.op !== 'run') return;
         if (m.inputs[0].data[0] === 1) throw new Error('boom');
         parentPort.postMessage({ id: m.id, ok: true, outputs: m.inputs, usec: 1 });
       });`,
      { eval: true },
    );
  const t = (byte: number) => ({ dtype: 'UINT8' as const, shape: [1], data: Buffer.from([byte]) });

  it('a crashing worker fails the request in flight, is replaced, and models reload on the new one', async () => {
    const q = new DeviceQueue('TEST', { spawn: fakeWorker });
    try {
      expect(await q.load(1, 'FAKE', new Uint8Array([1, 2, 3]), { device: 'CPU' })).toEqual({ inputs: ['a'], outputs: ['b'] });
      const ok = await q.run(1, [t(5)]);
      expect(ok.status === 'ok' && Buffer.from(ok.outputs[0]!.data)).toEqual(Buffer.from([5]));
      const crashed = q.run(1, [t(1)]);
      const after = q.run(1, [t(7)]); // queued behind the crash
      await expect(crashed).rejects.toThrow(WORKER_DIED);
      const r = await after;
      expect(r.status === 'ok' && Buffer.from(r.outputs[0]!.data)).toEqual(Buffer.from([7]));
      expect(q.restarts).toBe(1);
    } finally {
      await q.close();
    }
  });

  it('the kill switch ends a run that takes too long and recycles its worker', async () => {
    const hanging = () =>
      new Worker(
        `const { parentPort } = require('node:worker_threads');
         parentPort.on('message', (m) => {
           if (m.op === 'load') return parentPort.postMessage({ id: m.id, ok: true, inputs: ['a'], outputs: ['b'] });
           if (m.op === 'run' && m.inputs[0].data[0] === 1) for (;;) {} // never answers, cannot be interrupted
           if (m.op === 'run') parentPort.postMessage({ id: m.id, ok: true, outputs: m.inputs, usec: 1 });
         });`,
        { eval: true },
      );
    const q = new DeviceQueue('TEST', { spawn: hanging, killAfterMs: 100 });
    try {
      await q.load(1, 'FAKE', new Uint8Array([1]), { device: 'CPU' });
      const killed = q.run(1, [t(1)]);
      const behind = q.run(1, [t(4)]); // handed to the same worker (pipelined), never started there
      await expect(killed).rejects.toThrow(EXECUTION_KILLED);
      expect(q.restarts).toBe(1);
      const b = await behind; // re-queued onto the fresh worker
      expect(b.status === 'ok' && b.outputs[0]!.data[0]).toBe(4);
      const r = await q.run(1, [t(3)]);
      expect(r.status === 'ok' && r.outputs[0]!.data[0]).toBe(3);
      expect(await q.run(1, [t(1)], 50)).toEqual({ status: 'timedout' }); // TIMEOUT comes before the kill switch
      expect(q.restarts).toBe(2);
    } finally {
      await q.close();
    }
  });

  it('auto-batching merges queued requests of one model along dim 0 and slices the outputs back', async () => {
    // echoes its inputs; reports the rows it ran as usec; answers a 1-row output to a request starting with 9
    const batcher = () =>
      new Worker(
        `const { parentPort } = require('node:worker_threads');
         parentPort.on('message', (m) => {
           if (m.op === 'load') return parentPort.postMessage({ id: m.id, ok: true, inputs: ['a'], outputs: ['b'] });
           if (m.op !== 'run') return;
           const x = m.inputs[0];
           const out = x.data[0] === 9 ? { dtype: x.dtype, shape: [1], data: x.data.subarray(0, 1) } : x;
           parentPort.postMessage({ id: m.id, ok: true, outputs: [out], usec: x.shape[0] });
         });`,
        { eval: true },
      );
    // no pipelining: a request is handed over only once the worker answered, so the grouping below is exact
    const q = new DeviceQueue('TEST', { spawn: batcher, pipeline: 1 });
    const policy = { size: 4, min: 0, minTimeout: 0 };
    const rows = (bytes: number[]) => ({ dtype: 'UINT8' as const, shape: [bytes.length], data: Buffer.from(bytes) });
    try {
      await q.load(1, 'FAKE', new Uint8Array([1]), { device: 'CPU' });
      const runs = [q.run(1, [rows([1])], 0, policy), q.run(1, [rows([2, 3])], 0, policy), q.run(1, [rows([4])], 0, policy), q.run(1, [rows([5])], 0, policy)];
      const res = await Promise.all(runs);
      // the first ran alone (the worker was free); the next three were queued and ran as one batch of 4 rows
      expect(res.map((r) => (r.status === 'ok' ? [r.usec, [...r.outputs[0]!.data], r.outputs[0]!.shape] : null))).toEqual([
        [1, [1], [1]],
        [4, [2, 3], [2]],
        [4, [4], [1]],
        [4, [5], [1]],
      ]);
      // an output whose dim 0 is not the batch's fails every request of the batch
      const busy = q.run(1, [rows([1])], 0, policy);
      const bad = [q.run(1, [rows([9])], 0, policy), q.run(1, [rows([8])], 0, policy)];
      await busy;
      for (const b of bad) await expect(b).rejects.toThrow('ERR Model did not generate the expected batch size');
      // MINBATCHSIZE without MINBATCHTIMEOUT waits; TIMEOUT still ends the wait
      const t0 = Date.now();
      expect(await q.run(1, [rows([1])], 60, { size: 4, min: 2, minTimeout: 0 })).toEqual({ status: 'timedout' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    } finally {
      await q.close();
    }
  });

  it('a pipelined run whose deadline passed before the worker reached it answers TIMEDOUT without running', async () => {
    // a run starting with 2 busy-waits 150 ms; every run's first byte is recorded in the order they ran
    const slow = () =>
      new Worker(
        `const { parentPort } = require('node:worker_threads');
         const ran = [];
         parentPort.on('message', (m) => {
           if (m.op === 'load') return parentPort.postMessage({ id: m.id, ok: true, inputs: ['a'], outputs: ['b'] });
           if (m.op !== 'run') return;
           if (m.deadline && Date.now() >= m.deadline) return parentPort.postMessage({ id: m.id, ok: true, timedout: true });
           ran.push(m.inputs[0].data[0]);
           if (m.inputs[0].data[0] === 2) { const end = Date.now() + 150; while (Date.now() < end); }
           parentPort.postMessage({ id: m.id, ok: true, outputs: [{ dtype: 'UINT8', shape: [ran.length], data: new Uint8Array(ran) }], usec: 1 });
         });`,
        { eval: true },
      );
    const q = new DeviceQueue('TEST', { spawn: slow, pipeline: 2 });
    try {
      await q.load(1, 'FAKE', new Uint8Array([1]), { device: 'CPU' });
      const first = q.run(1, [t(2)]);
      const late = q.run(1, [t(3)], 50); // handed over at once, reached after ~150 ms
      expect(await late).toEqual({ status: 'timedout' });
      await first;
      const r = await q.run(1, [t(5)]);
      expect(r.status === 'ok' && [...r.outputs[0]!.data]).toEqual([2, 5]); // 3 never ran
      expect(q.restarts).toBe(0); // the worker answered the late one itself: nothing recycled
    } finally {
      await q.close();
    }
  });

  it('runs on several workers; an unloaded model is refused', async () => {
    const q = new DeviceQueue('TEST', { spawn: fakeWorker, threads: 3 });
    try {
      await q.load(1, 'FAKE', new Uint8Array([1]), { device: 'CPU' });
      const rs = await Promise.all([2, 3, 4, 5, 6, 7].map((b) => q.run(1, [t(b)])));
      expect(rs.map((r) => (r.status === 'ok' ? r.outputs[0]!.data[0] : -1))).toEqual([2, 3, 4, 5, 6, 7]);
      q.unload(1);
      await expect(q.run(1, [t(2)])).rejects.toThrow('ERR model is not loaded');
    } finally {
      await q.close();
    }
  });
});
