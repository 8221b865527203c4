// The DAG engine against real server processes (spec §4): AI.DAGEXECUTE / _RO and the deprecated AI.DAGRUN / _RO
// with RedisAI's test models and hand-built ONNX models. Covers ensembles and dependent ops, names local to the
// DAG (LOAD snapshots, shadowing, PERSIST of the newest value), a failure in the middle (error element, NA,
// nothing persisted), TIMEOUT, every parse error of the spec, the _RO refusals, MULTI, key extraction
// (COMMAND GETKEYS / INFO), AI.INFO counters, a script pre-process → model → script post-process pipeline (when
// the TORCH backend is built), and two proofs that independent MODELEXECUTE ops run at the same time: one that
// cannot pass unless both are in flight together (a MINBATCHSIZE 2 batch), one by wall-clock time on two queues.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { encode, startServer, type TestServer } from '../helpers/server';
import { replicationStream, type ReplStream } from '../helpers/repl-stream';
import { errOf } from '../helpers/resp';
import { matmulChain, onnxModel, slowInput, sumModel } from '../helpers/onnx-models';

const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
if (!fs.existsSync(path.join(DATA, 'mnist.onnx'))) {
  throw new Error(`model test data not found in ${DATA} (set INFERDB_TESTDATA to the testdata/redisai folder)`);
}
const file = (name: string) => fs.readFileSync(path.join(DATA, name));

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const IRIS = ['5.1', '3.5', '1.4', '0.2'];
const LINEAR_OUT = -0.090524077415466309; // linear_iris on IRIS, exactly (spec, RedisAI's tests)
/** Y = I0 + I1 on float [A,B]: joins two model outputs */
const ADD = onnxModel([{ ins: ['I0', 'I1'], out: 'Y', op: 'Sum' }], [['I0', ['A', 'B']], ['I1', ['A', 'B']]], ['Y', ['A', 'B']]);
const f32 = (x: number) => Math.fround(x);

/** An array reply element that is an error (ioredis gives nested errors as Error objects). */
const errText = (e: unknown) => (e instanceof Error ? e.message : `not an error: ${JSON.stringify(e)}`);

describe('AI.DAGEXECUTE / AI.DAGRUN', () => {
  let srv: TestServer;
  let r: Redis;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
  const dag = (...a: (string | number | Buffer)[]) => call('AI.DAGEXECUTE', ...a) as Promise<unknown[]>;
  const linear = file('linear_iris.onnx');
  const logreg = file('logreg_iris.onnx');
  const mnist = file('mnist.onnx');
  const one = file('one.raw');

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
    await call('AI.MODELSTORE', 'linear', 'ONNX', 'CPU', 'BLOB', linear);
    await call('AI.MODELSTORE', 'linear1', 'ONNX', 'CPU:1', 'BLOB', linear);
    await call('AI.MODELSTORE', 'add', 'ONNX', 'CPU', 'BLOB', ADD);
    await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
  });

  const values = async (key: string) => ((await call('AI.TENSORGET', key, 'VALUES')) as string[]).map(Number);

  describe('running', () => {
    it('an ensemble: two models on the same LOADed input, joined by a third; outputs PERSISTed and propagated shape', async () => {
      const reply = await dag(
        'LOAD', 1, 'x', 'PERSIST', 2, 'y1', 'sum',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y1',
        '|>', 'AI.MODELEXECUTE', 'linear1', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y2',
        '|>', 'AI.MODELEXECUTE', 'add', 'INPUTS', 2, 'y1', 'y2', 'OUTPUTS', 1, 'sum',
        '|>', 'AI.TENSORGET', 'sum', 'META', 'VALUES',
      );
      const twice = f32(f32(LINEAR_OUT) + f32(LINEAR_OUT));
      expect(reply.slice(0, 3)).toEqual(['OK', 'OK', 'OK']);
      const meta = reply[3] as unknown[];
      expect(meta.slice(0, 4)).toEqual(['dtype', 'FLOAT', 'shape', [1, 1]]);
      expect((meta[5] as string[]).map(Number)).toEqual([twice]);
      // PERSIST writes the keys named; y2 stayed local to the DAG
      expect(await values('y1')).toEqual([LINEAR_OUT]);
      expect(await values('sum')).toEqual([twice]);
      expect(await r.exists('y2')).toBe(0);
      expect(await r.type('sum')).toBe('AI_TENSOR');
      // the model ops counted in AI.INFO as single runs do
      const info = (await call('AI.INFO', 'linear')) as unknown[];
      expect(info[info.indexOf('calls') + 1]).toBe(1);
      expect(info[info.indexOf('samples') + 1]).toBe(1);
    });

    it('names are local: TENSORSET ops, ROUTING only, nothing written without PERSIST', async () => {
      const reply = await dag(
        'ROUTING', '{tag}',
        '|>', 'AI.TENSORSET', 'a', 'FLOAT', 1, 4, 'VALUES', ...IRIS,
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'b',
        '|>', 'AI.TENSORGET', 'b', 'VALUES',
        '|>', 'AI.TENSORGET', 'a', 'META',
      );
      expect(reply).toEqual(['OK', 'OK', [String(LINEAR_OUT)], ['dtype', 'FLOAT', 'shape', [1, 4]]]);
      expect(await r.exists('a', 'b')).toBe(0);
      // a TENSORSET op persisted; BLOB data and the raw TENSORGET BLOB reply
      const blob = Buffer.alloc(8);
      blob.writeFloatLE(1.5, 0);
      blob.writeFloatLE(-2, 4);
      const got = (await r.callBuffer('AI.DAGEXECUTE', 'PERSIST', 1, 't', '|>', 'AI.TENSORSET', 't', 'FLOAT', 2, 'BLOB', blob, '|>', 'AI.TENSORGET', 't', 'BLOB')) as Buffer[];
      expect(got.length).toBe(2);
      expect(got[0].toString()).toBe('OK');
      expect(got[1].equals(blob)).toBe(true);
      expect(await values('t')).toEqual([1.5, -2]);
    });

    it('an input must be LOADed or produced earlier even if the key exists; LOAD is a snapshot', async () => {
      // x exists in the keyspace but is not LOADed
      expect(await errOf(dag('ROUTING', 'x', '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y'))).toBe(
        'ERR INPUT key cannot be found in DAG',
      );
      expect(await errOf(dag('ROUTING', 'x', '|>', 'AI.TENSORGET', 'x', 'VALUES'))).toBe('ERR INPUT key cannot be found in DAG');
      // produced by a LATER op does not count either
      expect(
        await errOf(dag('ROUTING', 'r', '|>', 'AI.TENSORGET', 'a', 'VALUES', '|>', 'AI.TENSORSET', 'a', 'INT8', 1, 'VALUES', 1)),
      ).toBe('ERR INPUT key cannot be found in DAG');
      const reply = await dag('LOAD', 1, 'x', '|>', 'AI.TENSORGET', 'x', 'VALUES');
      expect((reply[0] as string[]).map(Number)).toEqual(IRIS.map((v) => f32(Number(v))));
    });

    it('shadowing: a later op writing a name gives later readers and PERSIST the newest value; earlier readers keep theirs', async () => {
      const reply = await dag(
        'LOAD', 1, 'x', 'PERSIST', 1, 'x',
        '|>', 'AI.TENSORGET', 'x', 'VALUES',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'x',
        '|>', 'AI.TENSORGET', 'x', 'VALUES',
        '|>', 'AI.TENSORSET', 'x', 'INT8', 1, 'VALUES', 9,
        '|>', 'AI.TENSORGET', 'x', 'META', 'VALUES',
      );
      expect((reply[0] as string[]).map(Number)).toEqual(IRIS.map((v) => f32(Number(v))));
      expect(reply[1]).toBe('OK');
      expect(reply[2]).toEqual([String(LINEAR_OUT)]);
      expect(reply[3]).toBe('OK');
      expect(reply[4]).toEqual(['dtype', 'INT8', 'shape', [1], 'values', [9]]);
      expect(await call('AI.TENSORGET', 'x', 'VALUES')).toEqual([9]);
    });

    it('a failure in the middle: error element, later ops NA, nothing persisted, earlier keys untouched', async () => {
      await call('AI.TENSORSET', 'bad', 'DOUBLE', 1, 4, 'VALUES', ...IRIS);
      await call('AI.TENSORSET', 'y', 'INT8', 1, 'VALUES', 7);
      const reply = await dag(
        'LOAD', 2, 'x', 'bad', 'PERSIST', 3, 'y', 'z', 'w',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y',
        '|>', 'AI.TENSORGET', 'y', 'VALUES',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'bad', 'OUTPUTS', 1, 'z',
        '|>', 'AI.MODELEXECUTE', 'linear1', 'INPUTS', 1, 'z', 'OUTPUTS', 1, 'w',
        '|>', 'AI.TENSORGET', 'x', 'VALUES',
      );
      expect(reply.length).toBe(5);
      expect(reply[0]).toBe('OK');
      expect(reply[1]).toEqual([String(LINEAR_OUT)]);
      expect(errText(reply[2])).toMatch(/Unexpected input data type/);
      expect(reply.slice(3)).toEqual(['NA', 'NA']);
      // y kept its old value although its op succeeded; z and w were never written
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual([7]);
      expect(await r.exists('z', 'w')).toBe(0);
      // the failed run is counted, the op that never ran is not
      const info = (await call('AI.INFO', 'linear1')) as unknown[];
      expect(info[info.indexOf('calls') + 1]).toBe(0);
      const info0 = (await call('AI.INFO', 'linear')) as unknown[];
      expect(info0[info0.indexOf('calls') + 1]).toBe(2);
      expect(info0[info0.indexOf('errors') + 1]).toBe(1);
    });

    it('a PERSIST key of another type: an error element is appended and no key is written', async () => {
      await r.set('s', 'string');
      const reply = await dag(
        'LOAD', 1, 'x', 'PERSIST', 2, 'y', 's',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y',
        '|>', 'AI.TENSORSET', 's', 'INT8', 1, 'VALUES', 1,
      );
      expect(reply.slice(0, 2)).toEqual(['OK', 'OK']);
      expect(reply.length).toBe(3);
      expect(errText(reply[2])).toBe(WRONGTYPE);
      expect(await r.exists('y')).toBe(0);
      expect(await r.get('s')).toBe('string');
    });

    it('a non-tensor model output is left unwritten (PERSIST skips it), as MODELEXECUTE', async () => {
      await call('AI.MODELSTORE', 'logreg', 'ONNX', 'CPU', 'BLOB', logreg);
      const reply = await dag(
        'LOAD', 1, 'x', 'PERSIST', 2, 'label', 'prob',
        '|>', 'AI.MODELEXECUTE', 'logreg', 'INPUTS', 1, 'x', 'OUTPUTS', 2, 'label', 'prob',
        '|>', 'AI.TENSORGET', 'label', 'VALUES',
        '|>', 'AI.TENSORGET', 'prob', 'VALUES',
      );
      expect(reply).toEqual(['OK', [0], 'NA']);
      expect(await call('AI.TENSORGET', 'label', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [1], 'values', [0]]);
      expect(await r.exists('prob')).toBe(0);
    });

    it('mnist in a DAG: TENSORSET BLOB → MODELEXECUTE → TENSORGET, in RESP2 and RESP3 the same array', async () => {
      await call('AI.MODELSTORE', 'mnist', 'ONNX', 'CPU', 'BLOB', mnist);
      for (const protocol of [2, 3] as const) {
        const c = srv.client(protocol === 2 ? { protocol: 2 } : {});
        const reply = (await c.callBuffer(
          'AI.DAGEXECUTE', 'ROUTING', 'mnist',
          '|>', 'AI.TENSORSET', 'in', 'FLOAT', '1', '1', '28', '28', 'BLOB', one,
          '|>', 'AI.MODELEXECUTE', 'mnist', 'INPUTS', '1', 'in', 'OUTPUTS', '1', 'out',
          '|>', 'AI.TENSORGET', 'out', 'BLOB',
        )) as Buffer[];
        expect(reply.length).toBe(3);
        const out = reply[2];
        expect(out.length).toBe(40);
        let best = 0;
        for (let i = 1; i < 10; i++) if (out.readFloatLE(i * 4) > out.readFloatLE(best * 4)) best = i;
        expect(best).toBe(1);
        c.disconnect();
      }
    });

    it('TIMEOUT 0 and negative values mean no timeout (as RedisAI)', async () => {
      for (const t of [0, -5]) {
        expect(await dag('LOAD', 1, 'x', 'TIMEOUT', t, '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toEqual(['OK']);
      }
    });
  });

  describe('parse errors (spec §4.1, §11)', () => {
    const E = (...a: (string | number | Buffer)[]) => errOf(call(...a));
    const D = (...a: (string | number | Buffer)[]) => E('AI.DAGEXECUTE', ...a);
    const GET_X = ['|>', 'AI.TENSORGET', 'x', 'VALUES'];

    it('arity, header words, LOAD, PERSIST, ROUTING, TIMEOUT', async () => {
      expect(await E('AI.DAGEXECUTE', 'LOAD', 1, 'x', '|>')).toBe("ERR missing arguments for 'AI.DAGEXECUTE' command");
      expect(await E('ai.dagexecute_ro', 'LOAD', 1, 'x')).toBe("ERR missing arguments for 'AI.DAGEXECUTE_RO' command");
      expect(await D('LOAD', 1, 'x', 'FOO', ...GET_X)).toBe('ERR Invalid DAG command. Unexpected argument:  FOO');
      expect(await D('LOAD', 1, 'x', 'LOAD', 1, 'x', ...GET_X)).toBe('ERR Invalid DAG command. Unexpected argument:  LOAD');
      expect(await D('LOAD', 1, 'x', 'ROUTING', 'r', '|>')).toBe('ERR Invalid DAG command. Unexpected argument:  |>');
      expect(await D('ROUTING', 'r', 'TIMEOUT', 5, 'LOAD')).toBe('ERR missing arguments after LOAD keyword in DAG command');
      expect(await D('LOAD', 0, 'x', ...GET_X)).toBe('ERR invalid or negative value found in number of keys to LOAD');
      expect(await D('LOAD', 'one', 'x', ...GET_X)).toBe('ERR invalid or negative value found in number of keys to LOAD');
      expect(await D('LOAD', 1, 'nokey', ...GET_X)).toBe('ERR tensor key is empty or in a different shard');
      await r.set('str', 'v');
      expect(await D('LOAD', 1, 'str', ...GET_X)).toBe(WRONGTYPE);
      expect(await D('LOAD', 2, 'x', ...GET_X)).toBe('ERR number of keys to LOAD into DAG does not match the number of given arguments');
      expect(await D('ROUTING', 'r', 'TIMEOUT', 5, 'PERSIST')).toBe('ERR missing arguments after PERSIST keyword in DAG command');
      expect(await D('PERSIST', -1, 'x', ...GET_X)).toBe('ERR invalid or negative value found in number of keys to PERSIST');
      expect(await D('LOAD', 1, 'x', 'PERSIST', 2, 'x', 'x', ...GET_X)).toBe('ERR PERSIST keys must be unique');
      expect(await D('LOAD', 1, 'x', 'PERSIST', 2, 'x', ...GET_X)).toBe(
        'ERR number of keys to PERSIST after DAG execution does not match the number of given arguments',
      );
      expect(await D('LOAD', 1, 'x', 'PERSIST', 1, 'nope', ...GET_X)).toBe('ERR PERSIST key cannot be found in DAG');
      expect(await D('LOAD', 1, 'x', 'TIMEOUT', 5, 'ROUTING')).toBe('ERR Missing ROUTING value');
      expect(await D('LOAD', 1, 'x', 'ROUTING', 'r', 'TIMEOUT')).toBe('ERR No value provided for TIMEOUT');
      expect(await D('LOAD', 1, 'x', 'TIMEOUT', 'soon', ...GET_X)).toBe('ERR Invalid value for TIMEOUT');
      expect(await D('TIMEOUT', 5, '|>', 'AI.TENSORSET', 'a', 'INT8', 1)).toBe(
        'ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords',
      );
      expect(await D('LOAD', 1, 'x', 'PERSIST', 1, 'x')).toBe('ERR DAG is empty');
    });

    it('ops: unknown, deprecated, arity, TENSORSET/TENSORGET arguments, MODELEXECUTE arguments, TIMEOUT in an op', async () => {
      const L = ['LOAD', 1, 'x'];
      expect(await D(...L, '|>', 'SET', 'a', 'b')).toBe('Unsupported command within DAG');
      expect(await D(...L, '|>', '|>', 'AI.TENSORGET', 'x')).toBe('Unsupported command within DAG');
      expect(await D(...L, '|>', 'AI.MODELRUN', 'linear', 'INPUTS', 'x', 'OUTPUTS', 'y')).toBe(
        'Deprecated AI.MODELRUN cannot be used in AI.DAGEXECUTE command',
      );
      expect(await D(...L, '|>', 'AI.SCRIPTRUN', 's', 'f', 'INPUTS', 'x')).toBe('Deprecated AI.SCRIPTRUN cannot be used in AI.DAGEXECUTE command');
      expect(await D(...L, '|>', 'AI.TENSORGET')).toBe("wrong number of arguments for 'AI.TENSORGET' command");
      expect(await D(...L, '|>', 'AI.TENSORGET', 'x', 'META', 'BLOB', 'VALUES')).toBe("wrong number of arguments for 'AI.TENSORGET' command");
      expect(await D(...L, '|>', 'AI.TENSORSET', 'a', 'FLOAT')).toBe("wrong number of arguments for 'AI.TENSORSET' command");
      expect(await D(...L, '|>', 'AI.TENSORGET', 'x', 'JSON')).toBe('ERR unsupported data format');
      expect(await D(...L, '|>', 'AI.TENSORGET', 'x', 'BLOB', 'VALUES')).toBe('ERR both BLOB and VALUES specified');
      expect(await D(...L, '|>', 'AI.TENSORSET', 'a', 'FLOAT16', 1)).toBe('ERR invalid data type');
      expect(await D(...L, '|>', 'AI.TENSORSET', 'a', 'FLOAT', 0)).toBe('ERR invalid or negative value found in tensor shape');
      expect(await D(...L, '|>', 'AI.TENSORSET', 'a', 'FLOAT', 2, 'VALUES', 1)).toBe("ERR wrong number of values was given in 'AI.TENSORSET' command");
      expect(await D(...L, '|>', 'AI.TENSORSET', 'a', 'FLOAT', 2, 'BLOB', 'abc')).toBe('ERR data length does not match tensor shape and type');
      const M = (...rest: (string | number)[]) => D(...L, '|>', 'AI.MODELEXECUTE', ...rest);
      expect(await M('linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1)).toBe("ERR wrong number of arguments for 'AI.MODELEXECUTE' command");
      expect(await M('nomodel', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('ERR model key is empty');
      expect(await M('x', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe(WRONGTYPE);
      expect(await M('linear', 'INPUT', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('ERR INPUTS not specified');
      expect(await M('linear', 'INPUTS', 'a', 'x', 'OUTPUTS', 1, 'y')).toBe('ERR Invalid argument for input_count');
      expect(await M('linear', 'INPUTS', 0, 'x', 'OUTPUTS', 1, 'y')).toBe('ERR Input count must be a positive integer');
      expect(await M('linear', 'INPUTS', 2, 'x', 'x', 'OUTPUTS', 1, 'y')).toBe('Number of keys given as INPUTS here does not match model definition');
      await call('AI.MODELSTORE', 'add5', 'ONNX', 'CPU', 'BLOB', sumModel(5));
      await call('AI.MODELSTORE', 'logreg', 'ONNX', 'CPU', 'BLOB', logreg);
      expect(await M('add5', 'INPUTS', 5, 'x', 'OUTPUTS', 1, 'y')).toBe(
        'ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments',
      );
      expect(await M('linear', 'INPUTS', 1, 'x', 'OUTPUT', 1, 'y')).toBe('ERR OUTPUTS not specified');
      expect(await M('linear', 'INPUTS', 1, 'x', 'OUTPUTS', -1, 'y')).toBe('ERR Output count must be a positive integer');
      expect(await M('linear', 'INPUTS', 1, 'x', 'OUTPUTS', 2, 'y', 'z')).toBe('Number of keys given as OUTPUTS here does not match model definition');
      expect(await M('logreg', 'INPUTS', 1, 'x', 'OUTPUTS', 2, 'y')).toBe(
        'ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments',
      );
      expect(await M('linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y', 'TIMEOUT', 10)).toBe('ERR TIMEOUT not allowed within a DAG command');
      expect(await M('linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y', 'junk')).toBe('Invalid argument: junk');
      expect(await M('linear', 'INPUTS', 1, 'nope', 'OUTPUTS', 1, 'y')).toBe('ERR INPUT key cannot be found in DAG');
      // SCRIPTEXECUTE: the script key is resolved at parse time
      expect(await D(...L, '|>', 'AI.SCRIPTEXECUTE', 'noscript', 'f', 'INPUTS', 1, 'x')).toBe('ERR script key is empty');
      expect(await D(...L, '|>', 'AI.SCRIPTEXECUTE', 'x', 'f', 'INPUTS', 1, 'x')).toBe(WRONGTYPE);
      expect(await D(...L, '|>', 'AI.SCRIPTEXECUTE', 'x')).toBe("ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command");
    });

    it('the order of checks: every op is parsed before names are mapped; nothing runs or persists on a parse error', async () => {
      // the missing name comes first in the DAG, the missing model later: the model error wins
      expect(
        await D('LOAD', 1, 'x', '|>', 'AI.TENSORGET', 'nothere', '|>', 'AI.MODELEXECUTE', 'nomodel', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y'),
      ).toBe('ERR model key is empty');
      // LOAD keys are read before ops are parsed
      expect(await D('LOAD', 1, 'missing', '|>', 'FOO')).toBe('ERR tensor key is empty or in a different shard');
      expect(
        await D('LOAD', 1, 'x', 'PERSIST', 1, 'y', '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y', '|>', 'AI.TENSORGET', 'q'),
      ).toBe('ERR INPUT key cannot be found in DAG');
      expect(await r.exists('y')).toBe(0);
      const info = (await call('AI.INFO', 'linear')) as unknown[];
      expect(info[info.indexOf('calls') + 1]).toBe(0);
    });

    it('_RO: PERSIST and SCRIPTEXECUTE refused; reads and local TENSORSETs work; flagged readonly', async () => {
      const RO = (...a: (string | number)[]) => E('AI.DAGEXECUTE_RO', ...a);
      expect(await RO('LOAD', 1, 'x', 'PERSIST', 1, 'x', ...GET_X)).toBe('ERR PERSIST cannot be specified in a read-only DAG');
      expect(await RO('LOAD', 1, 'x', '|>', 'AI.SCRIPTEXECUTE', 's', 'f', 'INPUTS', 1, 'x')).toBe(
        'ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG',
      );
      expect(await RO('TIMEOUT', 5, '|>', 'AI.TENSORGET', 'x')).toBe(
        'ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords',
      );
      expect(await E('AI.DAGRUN_RO', 'PERSIST', 1, 'a', '|>', 'AI.TENSORSET', 'a', 'INT8', 1)).toBe(
        'ERR PERSIST cannot be specified in a read-only DAG',
      );
      const reply = await call(
        'AI.DAGEXECUTE_RO', 'LOAD', 1, 'x',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y',
        '|>', 'AI.TENSORSET', 'k', 'INT8', 1, 'VALUES', 4,
        '|>', 'AI.TENSORGET', 'y', 'VALUES',
      );
      expect(reply).toEqual(['OK', 'OK', [String(LINEAR_OUT)]]);
      expect(await r.exists('y', 'k')).toBe(0);
      const info = (await call('COMMAND', 'INFO', 'AI.DAGEXECUTE_RO', 'AI.DAGEXECUTE', 'AI.DAGRUN_RO', 'AI.DAGRUN')) as unknown[][];
      const flags = info.map((i) => i[2] as string[]);
      expect(flags[0]).toContain('readonly');
      expect(flags[0]).not.toContain('write');
      expect(flags[1]).toContain('write');
      expect(flags[1]).toContain('denyoom');
      expect(flags[2]).toContain('readonly');
      expect(flags[3]).toContain('write');
      for (const f of flags) expect(f).toContain('movablekeys');
    });

    it('refused inside MULTI/EXEC with RedisAI\'s error, after being QUEUED', async () => {
      const res = await r
        .multi()
        .call('AI.DAGEXECUTE', 'LOAD', '1', 'x', 'PERSIST', '1', 'y', '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', '1', 'x', 'OUTPUTS', '1', 'y')
        .call('AI.DAGRUN_RO', '|>', 'AI.TENSORSET', 'a', 'INT8', '1')
        .call('AI.TENSORSET', 't', 'INT8', '1', 'VALUES', '1')
        .exec();
      expect(res![0][0]?.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
      expect(res![1][0]?.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
      expect(res![2]).toEqual([null, 'OK']);
      expect(await r.exists('y')).toBe(0);
    });
  });

  describe('deprecated AI.DAGRUN / AI.DAGRUN_RO (spec §4.2)', () => {
    it('MODELRUN ops without counts; no LOAD/PERSIST/ROUTING needed; MODELEXECUTE refused; arity', async () => {
      expect(
        await call(
          'AI.DAGRUN', 'LOAD', 1, 'x', 'PERSIST', 1, 'y',
          '|>', 'AI.MODELRUN', 'linear', 'INPUTS', 'x', 'OUTPUTS', 'y',
          '|>', 'AI.TENSORGET', 'y', 'VALUES',
        ),
      ).toEqual(['OK', [String(LINEAR_OUT)]]);
      expect(await values('y')).toEqual([LINEAR_OUT]);
      expect(await call('AI.DAGRUN_RO', '|>', 'AI.TENSORSET', 'a', 'INT8', 2, 'VALUES', 1, 2, '|>', 'AI.TENSORGET', 'a', 'VALUES')).toEqual([
        'OK',
        [1, 2],
      ]);
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y'))).toBe(
        'AI.MODELEXECUTE cannot be used in a deprecated AI.DAGRUN command',
      );
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.SCRIPTEXECUTE', 's', 'f'))).toBe(
        'AI.SCRIPTEXECUTE cannot be used in a deprecated AI.DAGRUN command',
      );
      expect(await errOf(call('ai.dagrun', '|>', 'AI.TENSORGET'))).toBe("ERR wrong number of arguments for 'ai.dagrun' command");
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELRUN', 'linear', 'TIMEOUT', 5, 'INPUTS', 'x', 'OUTPUTS', 'y'))).toBe(
        'ERR TIMEOUT not allowed within a DAG command',
      );
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELRUN', 'linear', 'INPUTS', 'x', 'x', 'OUTPUTS', 'y'))).toBe(
        'Number of keys given as INPUTS here does not match model definition',
      );
      await call('AI.MODELSTORE', 'add4', 'ONNX', 'CPU', 'BLOB', sumModel(4));
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELRUN', 'add4', 'INPUTS', 'x', 'x', 'x', 'x'))).toBe('ERR OUTPUTS not specified');
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELRUN', 'linear', 'INPUTS', 'x', 'OUTPUTS', 'y', 'z'))).toBe(
        'Number of keys given as OUTPUTS here does not match model definition',
      );
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELRUN', 'linear', 'INPUT', 'x', 'OUTPUTS', 'y'))).toBe('ERR INPUTS not specified');
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.MODELRUN', 'linear', 'INPUTS'))).toBe(
        "ERR wrong number of arguments for 'AI.MODELRUN' command",
      );
      expect(await errOf(call('AI.DAGRUN', 'LOAD', 1, 'x', '|>', 'AI.SCRIPTRUN', 'nos', 'f', 'INPUTS', 'x'))).toBe('ERR script key is empty');
    });
  });

  describe('scripts (TORCH): pre-process → model → post-process', () => {
    const SOURCE = [
      'def double(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    return tensors[0] + tensors[0]',
      '',
      'def negate(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    return tensors[0] * -1',
      '',
      'def scale(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    return tensors[0] * float(args[0]), tensors[0]',
      '',
      'def touch(tensors: List[Tensor], keys: List[str], args: List[str]):',
      '    redis.execute("SET", keys[0], args[0])',
      '    return tensors[0]',
      '',
    ].join('\n');
    /** null once SCRIPTSTORE answered that the TORCH backend is not built here (the tests then skip) */
    const storeScript = async () => {
      try {
        return await call('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 4, 'double', 'negate', 'scale', 'touch', 'SOURCE', SOURCE);
      } catch (e) {
        if ((e as Error).message === 'ERR Could not load backend') return null;
        throw e;
      }
    };

    it('a script pre-processes, a model runs, a script post-processes; outputs persisted; AI.INFO counts the script', async (ctx) => {
      if ((await storeScript()) === null) return ctx.skip();
      // the expected value, by single commands: linear(2x), negated
      await call('AI.TENSORSET', 'x2', 'FLOAT', 1, 4, 'VALUES', ...IRIS.map((v) => String(f32(Number(v)) * 2)));
      await call('AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x2', 'OUTPUTS', 1, 'ref');
      const [ref] = await values('ref');
      const reply = await dag(
        'LOAD', 1, 'x', 'PERSIST', 1, 'final',
        '|>', 'AI.SCRIPTEXECUTE', 's', 'double', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'pre',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'pre', 'OUTPUTS', 1, 'y',
        '|>', 'AI.SCRIPTEXECUTE', 's', 'negate', 'INPUTS', 1, 'y', 'OUTPUTS', 1, 'final',
        '|>', 'AI.TENSORGET', 'final', 'VALUES',
      );
      expect(reply.slice(0, 3)).toEqual(['OK', 'OK', 'OK']);
      expect((reply[3] as string[]).map(Number)).toEqual([-ref]);
      expect(await values('final')).toEqual([-ref]);
      expect(await r.exists('pre', 'y')).toBe(0);
      const info = (await call('AI.INFO', 's')) as unknown[];
      expect(info[info.indexOf('calls') + 1]).toBe(2);
      // ARGS reach the function as strings; two outputs; KEYS optional and sections in any order inside a DAG
      const two = await dag(
        'LOAD', 1, 'x',
        '|>', 'AI.SCRIPTEXECUTE', 's', 'scale', 'OUTPUTS', 2, 'a', 'b', 'ARGS', 1, '3', 'INPUTS', 1, 'x',
        '|>', 'AI.TENSORGET', 'a', 'VALUES',
        '|>', 'AI.TENSORGET', 'b', 'VALUES',
      );
      expect(two[0]).toBe('OK');
      expect((two[1] as string[]).map(Number)).toEqual(IRIS.map((v) => f32(f32(Number(v)) * 3)));
      expect((two[2] as string[]).map(Number)).toEqual(IRIS.map((v) => f32(Number(v))));
      // redis.execute inside a DAG's script runs for the client (KEYS names the keys it touches)
      expect(
        await dag('LOAD', 1, 'x', '|>', 'AI.SCRIPTEXECUTE', 's', 'touch', 'KEYS', 1, 'marker', 'INPUTS', 1, 'x', 'ARGS', 1, 'hello', 'OUTPUTS', 1, 'z'),
      ).toEqual(['OK']);
      expect(await r.get('marker')).toBe('hello');
    });

    it('a script failing at run time is an error element; later ops NA; nothing persisted', async (ctx) => {
      if ((await storeScript()) === null) return ctx.skip();
      const reply = await dag(
        'LOAD', 1, 'x', 'PERSIST', 1, 'y',
        '|>', 'AI.SCRIPTEXECUTE', 's', 'nofn', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'pre',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'pre', 'OUTPUTS', 1, 'y',
      );
      expect(errText(reply[0])).toBe('Function does not exist: nofn');
      expect(reply[1]).toBe('NA');
      expect(await r.exists('y')).toBe(0);
    });

    it('SCRIPTEXECUTE op parse errors (spec §3.5, DAG rules)', async (ctx) => {
      if ((await storeScript()) === null) return ctx.skip();
      const S = (...a: (string | number)[]) => errOf(dag('LOAD', 1, 'x', '|>', 'AI.SCRIPTEXECUTE', 's', 'double', ...a));
      expect(await S('INPUTS', 1, 'x', 'INPUTS', 1, 'x')).toBe('ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command');
      expect(await S('INPUTS', 1, 'x', 'FOO')).toBe('ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: FOO');
      expect(await S('KEYS', 1)).toBe('ERR Missing arguments after KEYS keyword');
      expect(await S('KEYS', 0, 'k')).toBe('ERR Invalid or negative value found in number of KEYS');
      expect(await S('KEYS', 3, 'k', 'j')).toBe(
        'ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments',
      );
      expect(await S('INPUTS')).toBe('ERR Invalid arguments provided to AI.SCRIPTEXECUTE');
      expect(await S('INPUTS', 'one', 'x')).toBe('ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE');
      expect(await S('INPUTS', 1, 'x', 'ARGS', 'z', 'a')).toBe('ERR Invalid argument for keys count in AI.SCRIPTEXECUTE');
      expect(await S('INPUTS', 1, 'x', 'OUTPUTS', 'z', 'a')).toBe('ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE');
      expect(await S('INPUTS', 2, 'x')).toBe('ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments');
      expect(await S('INPUTS', 1, 'x', 'ARGS', 2, 'a')).toBe('ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments');
      expect(await S('INPUTS', 1, 'x', 'OUTPUTS', 2, 'a')).toBe(
        'ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments',
      );
      expect(await S('INPUTS', 1, 'x', 'TIMEOUT', 5)).toBe('ERR TIMEOUT not allowed within a DAG command');
      expect(await S('INPUTS', 1, 'nope')).toBe('ERR INPUT key cannot be found in DAG');
    });
  });

  describe('keys (spec §8)', () => {
    it('COMMAND GETKEYS: LOAD, PERSIST, ROUTING and the model/script key of each op; DAG-local names are not keys', async () => {
      expect(
        await call(
          'COMMAND', 'GETKEYS', 'AI.DAGEXECUTE', 'LOAD', 2, 'a', 'b', 'PERSIST', 1, 'c', 'ROUTING', '{r}', 'TIMEOUT', 5,
          '|>', 'AI.MODELEXECUTE', 'm1', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'local',
          '|>', 'AI.SCRIPTEXECUTE', 's1', 'f', 'INPUTS', 1, 'local', 'OUTPUTS', 1, 'c',
          '|>', 'AI.TENSORGET', 'c',
        ),
      ).toEqual(['a', 'b', 'c', '{r}', 'm1', 's1']);
      expect(
        await call('COMMAND', 'GETKEYS', 'AI.DAGRUN_RO', 'LOAD', 1, 'a', '|>', 'AI.MODELRUN', 'm', 'INPUTS', 'a', 'OUTPUTS', 'b', '|>', 'AI.SCRIPTRUN', 's', 'f'),
      ).toEqual(['a', 'm', 's']);
    });
  });

  describe('TIMEOUT and overlap', () => {
    const N = 400;
    let slowIn: Buffer;
    let k = 0;
    /** ms of one run of the sized chain here, measured in beforeAll */
    let runMs = 0;

    beforeAll(async () => {
      slowIn = slowInput(N);
      await call('AI.MODELSTORE', 'probe', 'ONNX', 'CPU', 'BLOB', matmulChain(4));
      await call('AI.TENSORSET', 'sx', 'FLOAT', N, N, 'BLOB', slowIn);
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        await call('AI.MODELEXECUTE', 'probe', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy');
        best = Math.min(best, performance.now() - t0);
      }
      // about 500 ms a run
      k = Math.max(4, Math.min(1000, Math.round(500 / Math.max(0.2, best / 4))));
    });
    beforeEach(async () => {
      await call('AI.MODELSTORE', 'slow', 'ONNX', 'CPU', 'BLOB', matmulChain(k));
      await call('AI.TENSORSET', 'sx', 'FLOAT', N, N, 'BLOB', slowIn);
      const t0 = performance.now();
      await call('AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy');
      runMs = performance.now() - t0;
    });

    it('a DAG past its TIMEOUT replies TIMEDOUT at the deadline and persists nothing; ops waiting on it never run', async () => {
      const t0 = performance.now();
      const reply = await call(
        'AI.DAGEXECUTE', 'LOAD', 1, 'sx', 'PERSIST', 2, 'a', 'b', 'TIMEOUT', 60,
        '|>', 'AI.TENSORSET', 'b', 'INT8', 1, 'VALUES', 1,
        '|>', 'AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'a',
        '|>', 'AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'a',
      );
      const took = performance.now() - t0;
      expect(reply).toBe('TIMEDOUT');
      expect(runMs).toBeGreaterThan(150);
      // answered at its deadline, well before even one run could end (two would be needed)
      expect(took).toBeLessThan(Math.max(runMs, 300));
      expect(await r.exists('a', 'b')).toBe(0);
      // the queue serves again
      expect(await dag('LOAD', 1, 'x', 'TIMEOUT', 5000, '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toEqual(['OK']);
    });

    it('LOAD is a snapshot: a key changed while the DAG runs is seen by the DAG as it was', async () => {
      await call('AI.TENSORSET', 'v', 'INT8', 1, 'VALUES', 1);
      const run = dag(
        'LOAD', 2, 'sx', 'v', 'PERSIST', 1, 'v',
        '|>', 'AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'a',
        '|>', 'AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'a',
        '|>', 'AI.TENSORGET', 'v', 'VALUES',
      );
      await new Promise((res) => setTimeout(res, 50));
      const other = srv.client();
      expect(await other.call('AI.TENSORSET', 'v', 'INT8', 1, 'VALUES', 2)).toBe('OK');
      expect(await other.call('AI.TENSORGET', 'v', 'VALUES')).toEqual([2]);
      expect(await run).toEqual(['OK', 'OK', [1]]);
      // and PERSIST wrote the DAG's value (the snapshot) back at the end
      expect(await call('AI.TENSORGET', 'v', 'VALUES')).toEqual([1]);
    });

    it('a client that disconnects before its DAG ends gets nothing persisted', async () => {
      const sock = await srv.raw();
      sock.write(
        encode(
          'AI.DAGEXECUTE', 'LOAD', '1', 'sx', 'PERSIST', '2', 'gone', 'gone2',
          '|>', 'AI.TENSORSET', 'gone2', 'INT8', '1',
          '|>', 'AI.MODELEXECUTE', 'slow', 'INPUTS', '1', 'sx', 'OUTPUTS', '1', 'gone',
        ),
      );
      await new Promise((res) => setTimeout(res, 30));
      sock.destroy();
      await new Promise((res) => setTimeout(res, Math.max(300, runMs * 1.5)));
      expect(await r.exists('gone', 'gone2')).toBe(0);
      expect(await r.ping()).toBe('PONG');
    });

    it('the server answers other clients while a DAG runs', async () => {
      const other = srv.client();
      await other.ping();
      let done = false;
      const run = dag('LOAD', 1, 'sx', '|>', 'AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'a').finally(() => (done = true));
      let pings = 0;
      while (!done) {
        expect(await other.ping()).toBe('PONG');
        pings++;
        await new Promise((res) => setTimeout(res, 10));
      }
      expect(await run).toEqual(['OK']);
      expect(pings).toBeGreaterThan(3);
    });
  });

  describe('independent ops run at the same time', () => {
    it('two ops on one MINBATCHSIZE 2 model complete only if both are in flight together (no timing involved)', async () => {
      const batched = file('mnist_batched.onnx');
      // MINBATCHSIZE 2 without MINBATCHTIMEOUT: a request waits until a second one joins it
      await call('AI.MODELSTORE', 'pair', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'MINBATCHSIZE', 2, 'BLOB', batched);
      await call('AI.MODELSTORE', 'lonely', 'ONNX', 'CPU', 'BATCHSIZE', 2, 'MINBATCHSIZE', 2, 'BLOB', batched);
      await call('AI.TENSORSET', 'in', 'FLOAT', 1, 1, 28, 28, 'BLOB', one);
      // the control: one op alone never completes
      expect(await dag('LOAD', 1, 'in', 'TIMEOUT', 300, '|>', 'AI.MODELEXECUTE', 'lonely', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'o')).toBe('TIMEDOUT');
      // two independent ops: both were queued at once, ran as one batch of 2
      const reply = await dag(
        'LOAD', 1, 'in', 'PERSIST', 2, 'o1', 'o2', 'TIMEOUT', 20000,
        '|>', 'AI.MODELEXECUTE', 'pair', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'o1',
        '|>', 'AI.MODELEXECUTE', 'pair', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'o2',
      );
      expect(reply).toEqual(['OK', 'OK']);
      const a = (await r.callBuffer('AI.TENSORGET', 'o1', 'BLOB')) as Buffer;
      const b = (await r.callBuffer('AI.TENSORGET', 'o2', 'BLOB')) as Buffer;
      expect(a.length).toBe(40);
      expect(a.equals(b)).toBe(true);
      const info = (await call('AI.INFO', 'pair')) as unknown[];
      expect(info[info.indexOf('calls') + 1]).toBe(2);
      // a dependent op on the same model cannot overlap with what it reads: it would wait forever
      expect(
        await dag(
          'LOAD', 1, 'in', 'TIMEOUT', 300,
          '|>', 'AI.MODELEXECUTE', 'lonely', 'INPUTS', 1, 'in', 'OUTPUTS', 1, 'p',
          '|>', 'AI.MODELEXECUTE', 'lonely', 'INPUTS', 1, 'p', 'OUTPUTS', 1, 'q',
        ),
      ).toBe('TIMEDOUT');
    });
  });
});

describe('overlap in time on two device queues', () => {
  // one ORT thread per run, so that two runs at once can use the two cores instead of sharing them
  let srv: TestServer;
  let r: Redis;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
  const N = 400;
  const op = (m: string, input: string, out: string) => ['|>', 'AI.MODELEXECUTE', m, 'INPUTS', 1, input, 'OUTPUTS', 1, out];
  const timed = async (...ops: (string | number)[]) => {
    const t0 = performance.now();
    const reply = await call('AI.DAGEXECUTE', 'LOAD', 1, 'sx', ...ops);
    return { ms: performance.now() - t0, reply };
  };

  beforeAll(async () => {
    srv = await startServer(['--INTRA_OP_PARALLELISM', '1', '--INTER_OP_PARALLELISM', '1']);
    r = srv.client();
    await call('AI.TENSORSET', 'sx', 'FLOAT', N, N, 'BLOB', slowInput(N));
    await call('AI.MODELSTORE', 'probe', 'ONNX', 'CPU', 'BLOB', matmulChain(4));
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await call('AI.MODELEXECUTE', 'probe', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy');
      best = Math.min(best, performance.now() - t0);
    }
    // about 500 ms a run
    const k = Math.max(4, Math.min(1000, Math.round(500 / Math.max(0.2, best / 4))));
    const chain = matmulChain(k);
    await call('AI.MODELSTORE', 'a', 'ONNX', 'CPU', 'BLOB', chain);
    await call('AI.MODELSTORE', 'b', 'ONNX', 'CPU:1', 'BLOB', chain);
    await timed(...op('a', 'sx', 'o'), ...op('b', 'sx', 'o2')); // warm both workers
  });
  afterAll(() => srv.stop());

  /**
   * Runs a DAG while another connection polls INFO ai every ~15 ms. Answers how many polls saw the busy time of
   * BOTH queues' workers grow since the previous poll (it grows only while a run is in progress there), the
   * DAG's wall time and the busy time the two workers added during it (ms).
   */
  async function observe(...ops: (string | number)[]) {
    const probe = srv.client();
    const busy = async (): Promise<[number, number]> => {
      const text = String(await probe.info('ai'));
      const get = (q: string) => 1000 * Number(new RegExp(`ai_queue_${q}_bthread_n1_used_cpu_total:([\\d.]+)`).exec(text)?.[1] ?? NaN);
      return [get('CPU'), get('CPU_1')];
    };
    const start = await busy();
    let prev = start;
    let done = false;
    const t0 = performance.now();
    const run = call('AI.DAGEXECUTE', 'LOAD', 1, 'sx', ...ops).finally(() => (done = true));
    let polls = 0;
    let both = 0;
    while (!done) {
      await new Promise((res) => setTimeout(res, 15));
      const cur = await busy();
      expect(cur.every(Number.isFinite)).toBe(true);
      polls++;
      if (cur[0] > prev[0] && cur[1] > prev[1]) both++;
      prev = cur;
    }
    const reply = await run;
    const wall = performance.now() - t0;
    const end = await busy();
    probe.disconnect();
    return { polls, both, wall, busySum: end[0] - start[0] + (end[1] - start[1]), reply };
  }

  it('both workers are busy at the same moments during one DAG, and their run times add up to well over its wall time', async () => {
    const par = await observe(...op('a', 'sx', 'o1'), ...op('b', 'sx', 'o2'), '|>', 'AI.TENSORGET', 'o2', 'META');
    expect(par.reply).toEqual(['OK', 'OK', ['dtype', 'FLOAT', 'shape', [N, N]]]);
    // the control: b reads a's output, so the runs follow each other: at most the poll spanning the hand-over
    // sees both grow, and two runs one after the other cannot add up to more than the time they took
    const seq = await observe(...op('a', 'sx', 'o1'), ...op('b', 'o1', 'o2'));
    expect(seq.reply).toEqual(['OK', 'OK']);
    expect(seq.polls).toBeGreaterThan(5);
    expect(seq.both).toBeLessThanOrEqual(1);
    expect(seq.busySum).toBeGreaterThan(200);
    expect(seq.busySum).toBeLessThanOrEqual(seq.wall + 5);
    // the DAG: both at once. By wall clock: disjoint runs would sum to at most the wall time; these sum to far
    // more (about twice), whatever else loads the machine
    expect(par.polls).toBeGreaterThan(5);
    expect(par.both).toBeGreaterThanOrEqual(3);
    expect(par.busySum, `wall ${par.wall.toFixed(0)} ms, busy ${par.busySum.toFixed(0)} ms`).toBeGreaterThan(1.3 * par.wall);
  });
});

describe('propagation (spec §9), seen in the replication stream', () => {
  let srv: TestServer;
  let r: Redis;
  let stream: ReplStream;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
    stream = await replicationStream(srv.port);
  });
  afterAll(async () => {
    stream.close();
    await srv.stop();
  });

  it('a DAG writes the AI.TENSORSET ... BLOB of each PERSIST key, several in MULTI/EXEC, never itself; a failed one nothing', async () => {
    await call('AI.MODELSTORE', 'linear', 'ONNX', 'CPU', 'BLOB', file('linear_iris.onnx'));
    await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', ...IRIS);
    await call('AI.TENSORSET', 'bad', 'DOUBLE', 1, 4, 'VALUES', ...IRIS);
    const before = await stream.after(0, 3);
    expect(before.map((c) => [c[0], c[1]])).toEqual([
      ['AI.MODELSTORE', 'linear'],
      ['AI.TENSORSET', 'x'],
      ['AI.TENSORSET', 'bad'],
    ]);
    const base = 3;
    // a failed DAG and a DAG without PERSIST log nothing
    const failed = (await call(
      'AI.DAGEXECUTE', 'LOAD', 1, 'bad', 'PERSIST', 1, 'y', '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'bad', 'OUTPUTS', 1, 'y',
    )) as unknown[];
    expect(errText(failed[0])).toMatch(/Unexpected input data type/);
    expect(await call('AI.DAGEXECUTE', 'LOAD', 1, 'x', '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toEqual(['OK']);
    // one persisted key: one AI.TENSORSET
    expect(await call('AI.DAGEXECUTE', 'PERSIST', 1, 't', '|>', 'AI.TENSORSET', 't', 'INT8', 2, 'VALUES', 1, -2)).toEqual(['OK']);
    const one = await stream.after(base, 1);
    expect(one).toEqual([['AI.TENSORSET', 't', 'INT8', '2', 'BLOB', '\x01\xfe']]);
    // two: MULTI, AI.TENSORSET y (the model output's bytes), AI.TENSORSET t2, EXEC
    expect(
      await call(
        'AI.DAGEXECUTE', 'LOAD', 1, 'x', 'PERSIST', 2, 'y', 't2',
        '|>', 'AI.MODELEXECUTE', 'linear', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y',
        '|>', 'AI.TENSORSET', 't2', 'FLOAT', 1, 'VALUES', 0.5,
      ),
    ).toEqual(['OK', 'OK']);
    const two = await stream.after(base + 1, 4);
    expect(two.length).toBe(4);
    const y = Buffer.alloc(4);
    y.writeFloatLE(LINEAR_OUT, 0);
    const half = Buffer.alloc(4);
    half.writeFloatLE(0.5, 0);
    expect(two).toEqual([
      ['MULTI'],
      ['AI.TENSORSET', 'y', 'FLOAT', '1', '1', 'BLOB', y.toString('latin1')],
      ['AI.TENSORSET', 't2', 'FLOAT', '1', 'BLOB', half.toString('latin1')],
      ['EXEC'],
    ]);
    expect(stream.commands.some((c) => c[0].toUpperCase().startsWith('AI.DAG'))).toBe(false);
    expect(stream.commands).toHaveLength(base + 5);
  });
});
