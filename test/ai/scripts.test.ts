// TorchScript scripts against a real server process (libtorch through native/torch): AI.SCRIPTSTORE with
// several entry points, compile errors and wrong signatures reported at store time, AI.SCRIPTGET / SCRIPTDEL /
// _SCRIPTSCAN, AI.SCRIPTEXECUTE with KEYS / INPUTS / ARGS / OUTPUTS / TIMEOUT and every parse error of the spec
// (§3, §11), run-time errors, redis.execute / redis.asList / redisAI.model_execute from TorchScript, deprecated
// SCRIPTSET / SCRIPTRUN (positional and `$` variadic), AI.INFO for
// scripts, MULTI refusal, key specs (COMMAND GETKEYS), redis-cli -x, and that the event loop stays free while a
// script runs. CI installs libtorch-dev, so a missing addon is a failure here, never a skip.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';
import { TORCH_ADDON_PATH } from '../../src/backends/torch';

if (!fs.existsSync(TORCH_ADDON_PATH)) {
  throw new Error(`the TORCH addon is not built (${TORCH_ADDON_PATH}): install libtorch-dev libopenblas0-openmp and run npm install`);
}

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';

const SCRIPT = `def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]

def bar_variadic(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1:][0]

def helper(x: Tensor, k: int):
    return x * k

def with_args(tensors: List[Tensor], keys: List[str], args: List[str]):
    return helper(tensors[0], int(args[0])), torch.tensor([len(keys), len(args)], dtype=torch.int64)

def cast(tensors: List[Tensor], keys: List[str], args: List[str]):
    return [tensors[0].to(torch.int32), torch.zeros(2, dtype=torch.float64)]

def not_tensor(tensors: List[Tensor], keys: List[str], args: List[str]):
    return 1

def spin(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = 0
    for i in range(int(args[0])):
        a += 1
    return torch.tensor([a])
`;

const ENTRY = ['bar', 'bar_variadic', 'with_args', 'cast', 'not_tensor', 'spin'];

const OLD_SCRIPT = `def bar(a, b):
    return a + b

def bar_variadic(a, args: List[Tensor]):
    return args[0] + args[1]
`;

const BAD_TYPES = `def bar(tensors: List[Tensor], keys: List[str], args: List[Tensor]):
    return tensors[0]
`;

describe('TorchScript scripts', () => {
  let srv: TestServer;
  let r: Redis;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
  const err = (...a: (string | number | Buffer)[]) => errOf(call(...a));

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
    await call('AI.TENSORSET', 'b', 'FLOAT', 2, 2, 'VALUES', 1, 1, 1, 1);
  });
  const store = (key = 's', src = SCRIPT, entry = ENTRY) => call('AI.SCRIPTSTORE', key, 'CPU', 'TAG', 'v1', 'ENTRY_POINTS', entry.length, ...entry, 'SOURCE', src);

  describe('AI.SCRIPTSTORE / SCRIPTGET / SCRIPTDEL / _SCRIPTSCAN', () => {
    it('stores a script with several entry points; SCRIPTGET answers device, tag, Entry Points and source', async () => {
      expect(await store()).toBe('OK');
      expect(await r.type('s')).toBe('AI_SCRIPT');
      expect(await call('AI.SCRIPTGET', 's')).toEqual(['device', 'CPU', 'tag', 'v1', 'Entry Points', ENTRY, 'source', SCRIPT]);
      expect(await call('AI.SCRIPTGET', 's', 'META', 'SOURCE')).toEqual(['device', 'CPU', 'tag', 'v1', 'Entry Points', ENTRY, 'source', SCRIPT]);
      expect(await call('AI.SCRIPTGET', 's', 'META')).toEqual(['device', 'CPU', 'tag', 'v1', 'Entry Points', ENTRY]);
      expect(await call('AI.SCRIPTGET', 's', 'SOURCE')).toBe(SCRIPT);
      // the source is a C string in RedisAI: cut at its first NUL
      expect(await call('AI.SCRIPTSTORE', 'z', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', Buffer.concat([Buffer.from(SCRIPT), Buffer.from([0]), Buffer.from('garbage (')]))).toBe('OK');
      expect(await call('AI.SCRIPTGET', 'z', 'SOURCE')).toBe(SCRIPT);
      expect(((await call('AI.SCRIPTGET', 'z', 'META')) as unknown[]).slice(2, 4)).toEqual(['tag', '']);
      // a source without its final newline compiles (libtorch alone would refuse it) and is kept as sent
      const bare = 'def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]';
      expect(await call('AI.SCRIPTSTORE', 'bare', 'CPU', 'ENTRY_POINTS', 1, 'f', 'SOURCE', bare)).toBe('OK');
      expect(await call('AI.SCRIPTGET', 'bare', 'SOURCE')).toBe(bare);
    });

    it('SCRIPTGET / SCRIPTDEL errors; SCRIPTDEL removes the key', async () => {
      expect(await err('AI.SCRIPTGET', 'none')).toBe('ERR script key is empty');
      expect(await err('AI.SCRIPTDEL', 'none')).toBe('ERR script key is empty');
      await r.set('str', 'x');
      expect(await err('AI.SCRIPTGET', 'str')).toBe(WRONGTYPE);
      expect(await err('AI.SCRIPTDEL', 'str')).toBe(WRONGTYPE);
      expect(await err('AI.SCRIPTGET')).toBe("ERR wrong number of arguments for 'AI.SCRIPTGET' command");
      expect(await err('AI.SCRIPTGET', 's', 'META', 'SOURCE', 'x')).toBe("ERR wrong number of arguments for 'AI.SCRIPTGET' command");
      expect(await err('ai.scriptdel', 's', 'x')).toBe("ERR wrong number of arguments for 'ai.scriptdel' command");
      await store();
      expect(await call('AI.SCRIPTDEL', 's')).toBe('OK');
      expect(await r.exists('s')).toBe(0);
    });

    it('parse errors in RedisAI order', async () => {
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE')).toBe("ERR wrong number of arguments for 'AI.SCRIPTSTORE' command");
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'TAG', 't', 'SOURCE', SCRIPT, 'x')).toBe('ERR Insufficient arguments, missing script entry points');
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 'two', 'bar', 'SOURCE', SCRIPT)).toBe('ERR Non numeric entry points number provided to AI.SCRIPTSTORE command');
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 9, 'bar', 'SOURCE', SCRIPT)).toBe('ERR Insufficient arguments, missing script entry points');
      // names are taken blindly: SOURCE is eaten as the second name
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 2, 'bar', 'SOURCE', SCRIPT)).toBe('ERR Insufficient arguments, missing script SOURCE');
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCES', SCRIPT)).toBe('ERR Insufficient arguments, missing script SOURCE');
      expect(await err('AI.SCRIPTSTORE', 's', 'TPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', SCRIPT)).toBe('ERR Invalid DEVICE');
      await r.set('str', 'x');
      expect(await err('AI.SCRIPTSTORE', 'str', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', SCRIPT)).toBe(WRONGTYPE);
      expect(await r.get('str')).toBe('x');
    });

    it('compile errors are reported at store time, also in functions that are not entry points', async () => {
      const undef = `def bar(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return undefined_name\n`;
      const e1 = await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', undef);
      expect(e1).toMatch(/undefined value undefined_name/);
      expect(e1).not.toMatch(/[\r\n]/);
      const lazy = `${SCRIPT}\ndef unused(x: Tensor):\n    return x + "a string"\n`;
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', lazy)).toMatch(/unused/);
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', 'def bar(:\n')).toMatch(/expected/i);
      expect(await r.exists('s')).toBe(0);
    });

    it('entry points must exist and have the signature (tensors: List[Tensor], keys: List[str], args: List[str])', async () => {
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 2, 'bar', 'nope', 'SOURCE', SCRIPT)).toBe('Function nope does not exist in the given script.');
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'helper', 'SOURCE', SCRIPT)).toBe('Wrong number of inputs in function helper. Expected 3 but was 2');
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', OLD_SCRIPT)).toBe('Wrong number of inputs in function bar. Expected 3 but was 2');
      expect(await err('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', BAD_TYPES)).toBe(
        'Wrong inputs type in function bar. Expected signature similar to: def bar(tensors: List[Tensor], keys: List[str], args: List[str])',
      );
      expect(await r.exists('s')).toBe(0);
    });

    it('_SCRIPTSCAN lists every script with its tag; re-storing replaces the value', async () => {
      await store('s1');
      await call('AI.SCRIPTSTORE', 's2', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', SCRIPT);
      const scan = (await call('AI._SCRIPTSCAN')) as [string, string][];
      expect(scan.sort()).toEqual([
        ['s1', 'v1'],
        ['s2', ''],
      ]);
      expect(await err('AI._SCRIPTSCAN', 'x')).toBe("ERR wrong number of arguments for 'AI._SCRIPTSCAN' command");
      await call('AI.SCRIPTSTORE', 's1', 'CPU', 'TAG', 'v2', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', SCRIPT);
      expect(((await call('AI.SCRIPTGET', 's1', 'META')) as unknown[]).slice(2)).toEqual(['tag', 'v2', 'Entry Points', ['bar']]);
    });

    it('redis-cli -x AI.SCRIPTSTORE ... SOURCE < file, then SCRIPTEXECUTE', async () => {
      const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
      const out = await new Promise<string>((resolve, reject) => {
        const p = spawn(REDIS_CLI, ['-p', String(srv.port), '-x', 'AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', '2', 'bar', 'bar_variadic', 'SOURCE'], { stdio: ['pipe', 'pipe', 'pipe'] });
        const chunks: Buffer[] = [];
        p.stdout.on('data', (d) => chunks.push(d));
        p.stderr.on('data', (d) => chunks.push(d));
        p.on('error', reject);
        p.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
        p.stdin.end(SCRIPT);
      });
      expect(out).toBe('OK\n');
      expect(await call('AI.SCRIPTGET', 's', 'SOURCE')).toBe(SCRIPT);
      expect(await call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['3', '4', '3', '4']);
    });
  });

  describe('AI.SCRIPTEXECUTE', () => {
    beforeEach(async () => {
      await store();
    });

    it('runs entry points: tensors, KEYS and ARGS (as strings), dtype constants, tuple and list outputs', async () => {
      expect(await call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'values', ['3', '4', '3', '4']]);
      expect(await call('AI.SCRIPTEXECUTE', 's', 'bar_variadic', 'INPUTS', 3, 'a', 'a', 'b', 'OUTPUTS', 1, 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['4', '6', '4', '6']);
      expect(await call('AI.SCRIPTEXECUTE', 's', 'with_args', 'KEYS', 1, 'k1', 'INPUTS', 1, 'a', 'ARGS', 2, '3', 'x', 'OUTPUTS', 2, 'y', 'n')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual(['6', '9', '6', '9']);
      expect(await call('AI.TENSORGET', 'n', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [2], 'values', [1, 2]]);
      // sections in any order after the first
      expect(await call('AI.SCRIPTEXECUTE', 's', 'with_args', 'INPUTS', 1, 'b', 'OUTPUTS', 2, 'y', 'n', 'ARGS', 1, '-2')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual(['-2', '-2', '-2', '-2']);
      expect(await call('AI.TENSORGET', 'n', 'VALUES')).toEqual([0, 1]);
      expect(await call('AI.SCRIPTEXECUTE', 's', 'cast', 'INPUTS', 1, 'a', 'OUTPUTS', 2, 'i', 'd')).toBe('OK');
      expect(await call('AI.TENSORGET', 'i', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [2, 2], 'values', [2, 3, 2, 3]]);
      expect(await call('AI.TENSORGET', 'd', 'META')).toEqual(['dtype', 'DOUBLE', 'shape', [2]]);
      // no OUTPUTS: the return value is ignored
      expect(await call('AI.SCRIPTEXECUTE', 's', 'not_tensor', 'INPUTS', 1, 'a')).toBe('OK');
    });

    it('run-time errors: missing function, output count, non-tensor values, TorchScript exceptions; nothing written', async () => {
      expect(await err('AI.SCRIPTEXECUTE', 's', 'nope', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'c')).toBe('Function does not exist: nope');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 2, 'c', 'd')).toBe('Function returned unexpected number of outputs - bar');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'not_tensor', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'c')).toBe('Function returned non-tensor values' + 'not_tensor');
      const e = await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'c');
      expect(e).toMatch(/list index out of range/);
      expect(e).not.toMatch(/[\r\n]/);
      expect(await err('AI.SCRIPTEXECUTE', 's', 'with_args', 'INPUTS', 1, 'a', 'ARGS', 1, 'notanint', 'OUTPUTS', 2, 'c', 'd')).toMatch(/int\(args\[0\]\).*RuntimeError: stoll$/);
      expect(await r.exists('c', 'd')).toBe(0);
      expect(await r.ping()).toBe('PONG');
    });

    it('parse errors, in RedisAI order', async () => {
      expect(await err('AI.SCRIPTEXECUTE', 's')).toBe("ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command");
      expect(await err('AI.SCRIPTEXECUTE', 'none', 'bar', 'INPUTS', 1, 'a')).toBe('ERR script key is empty');
      await r.set('str', 'x');
      expect(await err('AI.SCRIPTEXECUTE', 'str', 'bar', 'INPUTS', 1, 'a')).toBe(WRONGTYPE);
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar')).toBe('ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'OUTPUTS', 1, 'c')).toBe('ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'INPUTS', 1, 'a')).toBe('ERR Already Encountered INPUTS scope in AI.SCRIPTEXECUTE command');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'KEYS', 1, 'k', 'keys', 1, 'k')).toBe('ERR Already Encountered KEYS scope in AI.SCRIPTEXECUTE command');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'ARGS', 1, 'x', 'ARGS', 1, 'y')).toBe('ERR Already Encountered ARGS scope in AI.SCRIPTEXECUTE command');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'c', 'OUTPUTS', 1, 'd')).toBe('ERR Already Encountered OUTPUTS scope in AI.SCRIPTEXECUTE command');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'BOGUS')).toBe('ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: BOGUS');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'KEYS', 1)).toBe('ERR Missing arguments after KEYS keyword');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'KEYS', 0, 'k')).toBe('ERR Invalid or negative value found in number of KEYS');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'KEYS', -1, 'k')).toBe('ERR Invalid or negative value found in number of KEYS');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'KEYS', 3, 'k', 'l')).toBe('ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS')).toBe('ERR Invalid arguments provided to AI.SCRIPTEXECUTE');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 'x', 'a')).toBe('ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'OUTPUTS', 'x', 'c')).toBe('ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'ARGS', 'x', 'c')).toBe('ERR Invalid argument for keys count in AI.SCRIPTEXECUTE');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 3, 'a', 'b')).toBe('ERR number of inputs to AI.SCRIPTEXECUTE command does not match the number of given arguments');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'ARGS', 2, 'x')).toBe('ERR number of args to AI.SCRIPTEXECUTE command does not match the number of given arguments');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'OUTPUTS', 2, 'c')).toBe('ERR number of outputs to AI.SCRIPTEXECUTE command does not match the number of given arguments');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'TIMEOUT')).toBe('ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'TIMEOUT', 0)).toBe('ERR Invalid value for TIMEOUT');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'TIMEOUT', 'x')).toBe('ERR Invalid value for TIMEOUT');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'TIMEOUT', 10, 'OUTPUTS', 1, 'c')).toBe('ERR Encountered problem parsing AI.SCRIPTEXECUTE');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'missing', 'OUTPUTS', 1, 'c')).toBe('ERR tensor key is empty or in a different shard');
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'str', 'OUTPUTS', 1, 'c')).toBe(WRONGTYPE);
      expect(await err('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'str')).toBe(WRONGTYPE);
      expect(await r.get('str')).toBe('x');
      // none of these ran: AI.INFO counts nothing
      expect(((await call('AI.INFO', 's')) as unknown[]).slice(14)).toEqual(['calls', 0, 'errors', 0]);
    });

    it('AI.INFO: type SCRIPT, backend TORCH, samples -1; calls, errors and duration; RESETSTAT', async () => {
      await call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c');
      await call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c');
      await errOf(call('AI.SCRIPTEXECUTE', 's', 'nope', 'INPUTS', 1, 'a'));
      const info = (await call('AI.INFO', 's')) as unknown[];
      expect(info.slice(0, 10)).toEqual(['key', 's', 'type', 'SCRIPT', 'backend', 'TORCH', 'device', 'CPU', 'tag', 'v1']);
      expect(info[10]).toBe('duration');
      expect(info[11] as number).toBeGreaterThan(0);
      expect(info.slice(12)).toEqual(['samples', -1, 'calls', 3, 'errors', 1]);
      expect(await call('AI.INFO', 's', 'RESETSTAT')).toBe('OK');
      expect(((await call('AI.INFO', 's')) as unknown[]).slice(10)).toEqual(['duration', 0, 'samples', -1, 'calls', 0, 'errors', 0]);
      // a re-store starts from zero too
      await call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c');
      await store();
      expect(((await call('AI.INFO', 's')) as unknown[]).slice(14)).toEqual(['calls', 0, 'errors', 0]);
      await call('AI.SCRIPTDEL', 's');
      expect(await err('AI.INFO', 's')).toBe('ERR cannot find run info for key');
    });

    it('inside MULTI it is QUEUED and refused at EXEC; SCRIPTSTORE runs there', async () => {
      const res = await r
        .multi()
        .call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c')
        .call('AI.SCRIPTRUN', 's', 'bar', 'INPUTS', 'a', 'b', 'OUTPUTS', 'c')
        .call('AI.SCRIPTSTORE', 's2', 'CPU', 'ENTRY_POINTS', '1', 'bar', 'SOURCE', SCRIPT)
        .exec();
      expect(res![0][0]?.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
      expect(res![1][0]?.message).toBe('ERR Cannot run RedisAI command within a transaction or a LUA script');
      expect(res![2]).toEqual([null, 'OK']);
      expect(await r.exists('c')).toBe(0);
      expect(await r.type('s2')).toBe('AI_SCRIPT');
    });

    it('COMMAND GETKEYS: the script key and the KEYS, INPUTS and OUTPUTS keys (not ARGS, not the function)', async () => {
      expect(await call('COMMAND', 'GETKEYS', 'AI.SCRIPTEXECUTE', 's', 'bar', 'KEYS', 1, 'k', 'INPUTS', 2, 'a', 'b', 'ARGS', 1, 'x', 'OUTPUTS', 1, 'c')).toEqual(['s', 'k', 'a', 'b', 'c']);
      expect(await call('COMMAND', 'GETKEYS', 'AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'c', 'TIMEOUT', 5)).toEqual(['s', 'a', 'c']);
      expect(await call('COMMAND', 'GETKEYS', 'AI.SCRIPTRUN', 's', 'bar', 'TIMEOUT', 5, 'INPUTS', 'a', '$', 'b', 'OUTPUTS', 'c')).toEqual(['s', 'a', 'b', 'c']);
      const info = (await call('COMMAND', 'INFO', 'ai.scriptexecute', 'ai.scriptget', 'ai._scriptscan')) as unknown[][];
      expect(info[0].slice(0, 3)).toEqual(['ai.scriptexecute', -1, ['write', 'denyoom', 'movablekeys']]);
      expect(info[1].slice(0, 3)).toEqual(['ai.scriptget', -1, ['readonly']]);
      expect(info[2].slice(0, 3)).toEqual(['ai._scriptscan', -1, ['readonly']]);
    });

    it('the event loop stays free while a script runs; TIMEOUT answers TIMEDOUT and writes nothing', async () => {
      const pinger = srv.client();
      await pinger.ping();
      const t0 = performance.now();
      let done = false;
      const run = call('AI.SCRIPTEXECUTE', 's', 'spin', 'INPUTS', 1, 'a', 'ARGS', 1, '20000000', 'OUTPUTS', 1, 'n').finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const p0 = performance.now();
        expect(await pinger.ping()).toBe('PONG');
        latencies.push(performance.now() - p0);
        await new Promise((res) => setTimeout(res, 10));
      }
      expect(await run).toBe('OK');
      const runMs = performance.now() - t0;
      expect(await call('AI.TENSORGET', 'n', 'VALUES')).toEqual([20000000]);
      expect(runMs).toBeGreaterThan(200); // long enough for the check to mean something
      expect(latencies.length).toBeGreaterThan(5);
      expect(Math.max(...latencies)).toBeLessThan(100);
      // the same run with a deadline far shorter than it needs
      const t1 = performance.now();
      expect(await call('AI.SCRIPTEXECUTE', 's', 'spin', 'INPUTS', 1, 'a', 'ARGS', 1, '20000000', 'OUTPUTS', 1, 'n2', 'TIMEOUT', 50)).toBe('TIMEDOUT');
      expect(performance.now() - t1).toBeLessThan(runMs);
      expect(await r.exists('n2')).toBe(0);
      // the queue serves again (a fresh worker recompiles the script)
      expect(await call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c', 'TIMEOUT', 5000)).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['3', '4', '3', '4']);
    });
  });

  describe('redis.execute from TorchScript (commands run on the main thread against the keyspace)', () => {
    const REDIS_SCRIPT = `def to_int(v: Any) -> int:
    return int(str(v))

def test_int_set_get(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])
    return torch.tensor(to_int(redis.execute("GET", keys[0])), dtype=torch.int64)

def test_int_set_incr(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0], args[0])
    return torch.tensor(to_int(redis.execute("INCR", keys[0])), dtype=torch.int64)

def test_int_list(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("RPUSH", keys[0], args[0], args[1], args[2])
    values = redis.asList(redis.execute("LRANGE", keys[0], "0", "-1"))
    out: List[List[int]] = []
    for v in values:
        out.append([to_int(v)])
    return torch.tensor(out, dtype=torch.int64)

def test_hash(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("HSET", keys[0], args[0], args[1], args[2], args[3])
    values = redis.asList(redis.execute("HVALS", keys[0]))
    out: List[List[int]] = []
    for v in values:
        out.append([to_int(v)])
    return torch.tensor(out, dtype=torch.int64)

def test_missing(tensors: List[Tensor], keys: List[str], args: List[str]):
    v = redis.execute("GET", keys[0])
    if isinstance(v, str):
        return torch.tensor([0])
    return torch.tensor([1])

def test_redis_error(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("SET", keys[0])

def test_redis_error_message(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("HSET", keys[0], "field", "value")
    redis.execute("RPUSH", keys[0], "value")

def test_not_allowed(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("MULTI")

def test_blocking_ai(tensors: List[Tensor], keys: List[str], args: List[str]):
    redis.execute("AI.SCRIPTEXECUTE", keys[0], "test_missing", "KEYS", "1", "x")
`;
    const FNS = ['test_int_set_get', 'test_int_set_incr', 'test_int_list', 'test_hash', 'test_missing', 'test_redis_error', 'test_redis_error_message', 'test_not_allowed', 'test_blocking_ai'];

    beforeEach(async () => {
      expect(await call('AI.SCRIPTSTORE', 'rs', 'CPU', 'ENTRY_POINTS', FNS.length, ...FNS, 'SOURCE', REDIS_SCRIPT)).toBe('OK');
    });

    it('SET / GET / INCR / RPUSH + LRANGE / HSET + HVALS: the writes land in the keyspace, the replies reach the script', async () => {
      expect(await call('AI.SCRIPTEXECUTE', 'rs', 'test_int_set_get', 'KEYS', 1, 'x', 'ARGS', 1, '3', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [], 'values', [3]]);
      expect(await r.get('x')).toBe('3');
      expect(await call('AI.SCRIPTEXECUTE', 'rs', 'test_int_set_incr', 'KEYS', 1, 'x', 'ARGS', 1, '3', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual([4]);
      expect(await r.get('x')).toBe('4');
      expect(await call('AI.SCRIPTEXECUTE', 'rs', 'test_int_list', 'KEYS', 1, 'list', 'ARGS', 3, '1', '2', '3', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [3, 1], 'values', [1, 2, 3]]);
      expect(await r.lrange('list', 0, -1)).toEqual(['1', '2', '3']);
      expect(await call('AI.SCRIPTEXECUTE', 'rs', 'test_hash', 'KEYS', 1, 'h', 'ARGS', 4, 'f1', '7', 'f2', '8', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual([7, 8]);
      expect(await r.hgetall('h')).toEqual({ f1: '7', f2: '8' });
      expect(await call('AI.SCRIPTEXECUTE', 'rs', 'test_missing', 'KEYS', 1, 'nokey', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual([1]); // a nil reply is None
      expect(await call('AI.SCRIPTEXECUTE', 'rs', 'test_missing', 'KEYS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual([0]); // a bulk reply is a str
    });

    it('commands run in the calling client\'s database', async () => {
      const other = srv.client();
      await other.select(3);
      expect(await other.call('AI.SCRIPTSTORE', 'rs', 'CPU', 'ENTRY_POINTS', '1', 'test_int_set_get', 'SOURCE', REDIS_SCRIPT)).toBe('OK');
      expect(await other.call('AI.SCRIPTEXECUTE', 'rs', 'test_int_set_get', 'KEYS', '1', 'x', 'ARGS', '1', '9')).toBe('OK');
      expect(await other.get('x')).toBe('9');
      expect(await r.exists('x')).toBe(0);
    });

    it('errors: a failing command raises "Redis command returned an error: ..."; noscript and blocking AI commands are refused', async () => {
      const e1 = await err('AI.SCRIPTEXECUTE', 'rs', 'test_redis_error', 'KEYS', 1, 'x');
      expect(e1).toMatch(/Redis command returned an error: ERR wrong number of arguments for 'set' command$/);
      expect(e1).not.toMatch(/[\r\n]/);
      expect(await err('AI.SCRIPTEXECUTE', 'rs', 'test_redis_error_message', 'KEYS', 1, 'hk')).toMatch(
        /Redis command returned an error: WRONGTYPE Operation against a key holding the wrong kind of value$/,
      );
      expect(await r.hgetall('hk')).toEqual({ field: 'value' }); // the first write stays, as in RedisAI
      expect(await err('AI.SCRIPTEXECUTE', 'rs', 'test_not_allowed', 'KEYS', 1, 'x')).toMatch(/Redis command returned an error: ERR This Redis command is not allowed from script$/);
      expect(await err('AI.SCRIPTEXECUTE', 'rs', 'test_blocking_ai', 'KEYS', 1, 'rs')).toMatch(
        /Redis command returned an error: ERR Cannot run RedisAI command within a transaction or a LUA script$/,
      );
      expect(((await call('AI.INFO', 'rs')) as unknown[]).slice(14)).toEqual(['calls', 4, 'errors', 4]);
      expect(await r.ping()).toBe('PONG');
    });
  });

  describe('redisAI.model_execute from TorchScript (models run in a queue of their own)', () => {
    const MODEL_SCRIPT = `def test_model_execute(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = torch.tensor([[2.0, 3.0], [2.0, 3.0]])
    b = torch.tensor([[2.0, 3.0], [2.0, 3.0]])
    return redisAI.model_execute(keys[0], [a, b], 1)

def test_model_execute_onnx(tensors: List[Tensor], keys: List[str], args: List[str]):
    return redisAI.model_execute(keys[0], [tensors[0]], 1)

def test_model_execute_onnx_bad_input(tensors: List[Tensor], keys: List[str], args: List[str]):
    a = torch.tensor([1.0, 2.0, 3.0, 4.0])
    return redisAI.model_execute(keys[0], [a], 1)
`;
    const FNS = ['test_model_execute', 'test_model_execute_onnx', 'test_model_execute_onnx_bad_input'];
    const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');

    beforeEach(async () => {
      expect(await call('AI.SCRIPTSTORE', 'ms', 'CPU', 'ENTRY_POINTS', FNS.length, ...FNS, 'SOURCE', MODEL_SCRIPT)).toBe('OK');
      expect(await call('AI.MODELSTORE', 'pt', 'TORCH', 'CPU', 'BLOB', fs.readFileSync(path.join(DATA, 'pt-minimal.pt')))).toBe('OK');
      expect(await call('AI.MODELSTORE', 'iris', 'ONNX', 'CPU', 'BLOB', fs.readFileSync(path.join(DATA, 'linear_iris.onnx')))).toBe('OK');
    });

    it('runs a TORCH and an ONNX model on tensors made in the script and gives their outputs back', async () => {
      expect(await call('AI.SCRIPTEXECUTE', 'ms', 'test_model_execute', 'KEYS', 1, 'pt', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual(['4', '6', '4', '6']);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', 5.1, 3.5, 1.4, 0.2);
      expect(await call('AI.SCRIPTEXECUTE', 'ms', 'test_model_execute_onnx', 'KEYS', 1, 'iris', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.TENSORGET', 'y', 'VALUES')).toEqual(['-0.09052407741546631']);
    });

    it('errors: a missing model key, the backend\'s own error; the queues keep serving', async () => {
      expect(await err('AI.SCRIPTEXECUTE', 'ms', 'test_model_execute', 'KEYS', 1, 'nomodel', 'OUTPUTS', 1, 'y')).toMatch(/ERR model key is empty$/);
      expect(await err('AI.SCRIPTEXECUTE', 'ms', 'test_model_execute_onnx_bad_input', 'KEYS', 1, 'iris', 'OUTPUTS', 1, 'y')).toMatch(/Invalid rank for input: float_input Got: 1 Expected: 2/);
      expect(await err('AI.SCRIPTEXECUTE', 'ms', 'test_model_execute', 'KEYS', 1, 'iris', 'OUTPUTS', 1, 'y')).toMatch(/Number of keys given as INPUTS here does not match model definition$/);
      expect(await r.exists('y')).toBe(0);
      await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', 5.1, 3.5, 1.4, 0.2);
      expect(await call('AI.MODELEXECUTE', 'iris', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
      expect(await call('AI.SCRIPTEXECUTE', 'ms', 'test_model_execute', 'KEYS', 1, 'pt', 'OUTPUTS', 1, 'y')).toBe('OK');
    });
  });

  describe('deprecated AI.SCRIPTSET / AI.SCRIPTRUN', () => {
    it('SCRIPTSET stores a script without entry points; SCRIPTRUN passes tensors positionally and the $ tail as a list', async () => {
      expect(await call('AI.SCRIPTSET', 'old', 'CPU', 'SOURCE', OLD_SCRIPT)).toBe('OK');
      expect(await call('AI.SCRIPTGET', 'old', 'META')).toEqual(['device', 'CPU', 'tag', '', 'Entry Points', []]);
      expect(await call('AI.SCRIPTSET', 'old2', 'CPU', 'TAG', 't', 'SOURCE', OLD_SCRIPT)).toBe('OK');
      expect(await call('AI.SCRIPTRUN', 'old', 'bar', 'INPUTS', 'a', 'b', 'OUTPUTS', 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['3', '4', '3', '4']);
      expect(await call('AI.SCRIPTRUN', 'old', 'bar_variadic', 'TIMEOUT', 5000, 'INPUTS', 'a', '$', 'b', 'a', 'OUTPUTS', 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['3', '4', '3', '4']);
      // a SCRIPTSTORE'd entry point runs through SCRIPTRUN too (empty keys and args)
      await store();
      expect(await call('AI.SCRIPTRUN', 's', 'bar', 'INPUTS', 'a', 'a', 'OUTPUTS', 'c')).toBe('OK');
      expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['4', '6', '4', '6']);
    });

    it('SCRIPTSET / SCRIPTRUN errors', async () => {
      expect(await err('AI.SCRIPTSET', 'old', 'CPU', 'SOURCE')).toBe("ERR wrong number of arguments for 'AI.SCRIPTSET' command");
      expect(await err('AI.SCRIPTSET', 'old', 'CPU', 'TAG', 't', 'SOURCE', OLD_SCRIPT, 'x')).toBe("ERR wrong number of arguments for 'AI.SCRIPTSET' command");
      expect(await err('AI.SCRIPTSET', 'old', 'CPU', 'SOURCES', OLD_SCRIPT)).toBe('ERR Insufficient arguments, missing script SOURCE');
      expect(await err('AI.SCRIPTSET', 'old', 'CPU', 'SOURCE', 'def bar(:\n')).toMatch(/expected/i);
      await call('AI.SCRIPTSET', 'old', 'CPU', 'SOURCE', OLD_SCRIPT);
      expect(await err('AI.SCRIPTRUN', 'old')).toBe("ERR wrong number of arguments for 'AI.SCRIPTRUN' command");
      expect(await err('AI.SCRIPTRUN', 'none', 'bar', 'INPUTS', 'a', 'OUTPUTS', 'c')).toBe('ERR script key is empty');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'TIMEOUT', 5, 'TIMEOUT', 5, 'INPUTS', 'a')).toBe('ERR Already encountered an TIMEOUT section in SCRIPTRUN');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'INPUTS', 'a', 'INPUTS', 'b')).toBe('ERR Already encountered an INPUTS section in SCRIPTRUN');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'INPUTS', 'a', 'OUTPUTS', 'c', 'OUTPUTS', 'd')).toBe('ERR Already encountered an OUTPUTS keyword in SCRIPTRUN');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'INPUTS', 'a', 'OUTPUTS', '$', 'c')).toBe('ERR Encountered a variable size list of tensors outside of input section');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'INPUTS', 'a', '$', 'b', '$', 'a')).toBe('ERR Already encountered a variable size list of tensors');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'junk', 'INPUTS', 'a')).toBe('ERR Unrecongnized parameter to SCRIPTRUN');
      expect(await err('AI.SCRIPTRUN', 'old', 'bar', 'INPUTS', 'a', 'OUTPUTS', 'c')).toBe('Wrong number of inputs provided to function bar');
      expect(await err('AI.SCRIPTRUN', 'old', 'nope', 'INPUTS', 'a', 'OUTPUTS', 'c')).toBe('Function does not exist: nope');
    });
  });
});
