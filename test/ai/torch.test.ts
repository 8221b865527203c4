// TORCH models against a real server process, through the project's libtorch addon (native/torch): RedisAI's
// pt-minimal.pt and the small fixtures of test/fixtures/torch (made by generate.py there with Debian's
// python3-torch): MODELSTORE / MODELGET / MODELEXECUTE, List[Tensor] inputs and tuple outputs, integer dtypes,
// auto-batching (MINBATCHSIZE holds requests back, one run serves them, a wrong batch dim is refused), AI.INFO,
// run-time and load errors, GPU refusal, redis-cli -x, the addon called directly (the same numbers), and a
// build without the addon (TORCH and scripts answer `ERR Could not load backend`, the rest works).
// CI installs libtorch-dev, so a missing addon is a failure here, never a skip.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';
import { TORCH_ADDON_PATH, loadTorchAddon } from '../../src/backends/torch';

if (!fs.existsSync(TORCH_ADDON_PATH)) {
  throw new Error(`the TORCH addon is not built (${TORCH_ADDON_PATH}): install libtorch-dev libopenblas0-openmp and run npm install`);
}

const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
const FIX = path.resolve(__dirname, '../fixtures/torch');
const data = (name: string) => fs.readFileSync(path.join(DATA, name));
const fixture = (name: string) => fs.readFileSync(path.join(FIX, name));

const floats = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(i * 4));
const f32 = (...v: number[]) => Buffer.from(new Float32Array(v).buffer);

describe('TORCH models', () => {
  let srv: TestServer;
  let r: Redis;
  const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
  const blobOf = async (key: string) => (await r.callBuffer('AI.TENSORGET', key, 'BLOB')) as Buffer;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  it('pt-minimal.pt: a + b of FLOAT [2,2] {2,3,2,3} gives {4,6,4,6}; MODELGET names the inputs a, b and one output ""', async () => {
    expect(await call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'TAG', 'v1', 'BLOB', data('pt-minimal.pt'))).toBe('OK');
    expect(await r.type('m')).toBe('AI__MODEL');
    const meta = (await call('AI.MODELGET', 'm', 'META')) as unknown[];
    expect(meta).toEqual(['backend', 'TORCH', 'device', 'CPU', 'tag', 'v1', 'batchsize', 0, 'minbatchsize', 0, 'inputs', ['a', 'b'], 'outputs', [''], 'minbatchtimeout', 0]);
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
    await call('AI.TENSORSET', 'b', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
    expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c')).toBe('OK');
    expect(await call('AI.TENSORGET', 'c', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 2], 'values', ['4', '6', '4', '6']]);
    // the blob comes back as uploaded
    expect(((await r.callBuffer('AI.MODELGET', 'm', 'BLOB')) as Buffer).equals(data('pt-minimal.pt'))).toBe(true);
    // count checks against forward()'s parameters
    expect(await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'a', 'OUTPUTS', 1, 'c'))).toBe('Number of keys given as INPUTS here does not match model definition');
    expect(await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 2, 'c', 'd'))).toBe('Number of keys given as OUTPUTS here does not match model definition');
  });

  it('AI.INFO counts calls, samples (dim 0 of output 0) and errors; RESETSTAT zeroes them', async () => {
    await call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB', data('pt-minimal.pt'));
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
    await call('AI.TENSORSET', 'x', 'FLOAT', 3, 'VALUES', 1, 2, 3);
    for (let i = 0; i < 2; i++) expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 1, 'c')).toBe('OK');
    // a shape mismatch is libtorch's run-time error
    const err = await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'x', 'OUTPUTS', 1, 'c2'));
    expect(err).toMatch(/size of tensor a \(2\) must match the size of tensor b \(3\)/);
    expect(err).not.toMatch(/[\r\n]/);
    expect(await r.exists('c2')).toBe(0);
    const info = (await call('AI.INFO', 'm')) as unknown[];
    expect(info.slice(0, 10)).toEqual(['key', 'm', 'type', 'MODEL', 'backend', 'TORCH', 'device', 'CPU', 'tag', '']);
    expect(info.slice(12)).toEqual(['samples', 4, 'calls', 3, 'errors', 1]);
    expect(info[11] as number).toBeGreaterThan(0);
    expect(await call('AI.INFO', 'm', 'RESETSTAT')).toBe('OK');
    expect(((await call('AI.INFO', 'm')) as unknown[]).slice(10)).toEqual(['duration', 0, 'samples', 0, 'calls', 0, 'errors', 0]);
  });

  it('List[Tensor] parameter and tuple outputs (pt-list.pt): forward(a, rest) -> (a + rest[0], a * 2)', async () => {
    await call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB', fixture('pt-list.pt'));
    expect(((await call('AI.MODELGET', 'm', 'META')) as unknown[]).slice(10, 14)).toEqual(['inputs', ['a', 'rest'], 'outputs', ['', '']]);
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 'VALUES', 1, 2);
    await call('AI.TENSORSET', 'b', 'FLOAT', 2, 'VALUES', 10, 20);
    expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 2, 'sum', 'twice')).toBe('OK');
    expect(await call('AI.TENSORGET', 'sum', 'VALUES')).toEqual(['11', '22']);
    expect(await call('AI.TENSORGET', 'twice', 'VALUES')).toEqual(['2', '4']);
  });

  it('integer dtypes cross both ways (pt-int64.pt: INT32 in, INT64 out); STRING inputs are refused', async () => {
    await call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB', fixture('pt-int64.pt'));
    const neg = Buffer.alloc(12);
    [-5, 7, 2147483647].forEach((v, i) => neg.writeInt32LE(v, i * 4));
    await call('AI.TENSORSET', 'i', 'INT32', 3, 'BLOB', neg);
    expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 'i', 'OUTPUTS', 1, 'o')).toBe('OK');
    expect(await call('AI.TENSORGET', 'o', 'META', 'VALUES')).toEqual(['dtype', 'INT64', 'shape', [3], 'values', [-10, 14, -2]]);
    // int32 overflow wraps before the cast (2147483647 * 2 in int32 = -2), as torch does
    await call('AI.TENSORSET', 's', 'STRING', 1, 'VALUES', 'x');
    expect(await errOf(call('AI.MODELEXECUTE', 'm', 'INPUTS', 1, 's', 'OUTPUTS', 1, 'o2'))).toBe('ERR unsupported tensor type for the TORCH backend: STRING');
  });

  it('pt-linear.pt computes x @ W + b (checked against the same sum done here)', async () => {
    await call('AI.MODELSTORE', 'lin', 'TORCH', 'CPU', 'BLOB', fixture('pt-linear.pt'));
    await call('AI.TENSORSET', 'x', 'FLOAT', 2, 4, 'VALUES', 1, 2, 3, 4, -1, 0.5, 0, 2);
    expect(await call('AI.MODELEXECUTE', 'lin', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
    const W = [
      [1, 0],
      [0, 1],
      [1, 1],
      [2, -1],
    ];
    const expected = [
      [1, 2, 3, 4],
      [-1, 0.5, 0, 2],
    ].flatMap((row) => [0, 1].map((j) => row.reduce((s, v, k) => s + v * W[k][j], 0) + [0.5, -0.5][j]));
    expect(floats(await blobOf('y'))).toEqual(expected);
  });

  it('auto-batching: MINBATCHSIZE 3 holds two requests until a third comes, one run serves all three', async () => {
    await call('AI.MODELSTORE', 'lin', 'TORCH', 'CPU', 'BATCHSIZE', 4, 'MINBATCHSIZE', 3, 'BLOB', fixture('pt-linear.pt'));
    const rows = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 2],
    ];
    for (let i = 0; i < 3; i++) await call('AI.TENSORSET', `x${i}`, 'FLOAT', 1, 4, 'BLOB', f32(...rows[i]));
    const clients = [srv.client(), srv.client(), srv.client()];
    let answered = 0;
    const runs = [0, 1].map((i) => clients[i].call('AI.MODELEXECUTE', 'lin', 'INPUTS', '1', `x${i}`, 'OUTPUTS', '1', `y${i}`).finally(() => answered++));
    await new Promise((res) => setTimeout(res, 300));
    expect(answered).toBe(0); // held back: batch of 2 < MINBATCHSIZE 3
    runs.push(clients[2].call('AI.MODELEXECUTE', 'lin', 'INPUTS', '1', 'x2', 'OUTPUTS', '1', 'y2'));
    expect(await Promise.all(runs)).toEqual(['OK', 'OK', 'OK']);
    expect(floats(await blobOf('y0'))).toEqual([1.5, -0.5]);
    expect(floats(await blobOf('y1'))).toEqual([0.5, 0.5]);
    expect(floats(await blobOf('y2'))).toEqual([5.5, -1.5]);
    expect(await call('AI.TENSORGET', 'y2', 'META')).toEqual(['dtype', 'FLOAT', 'shape', [1, 2]]);
    const info = (await call('AI.INFO', 'lin')) as unknown[];
    expect(info.slice(12)).toEqual(['samples', 3, 'calls', 3, 'errors', 0]);
  });

  it('a batched model whose second output has the wrong batch dim (pt-minimal-bb.pt) gets the batch-size error', async () => {
    await call('AI.MODELSTORE', 'bb', 'TORCH', 'CPU', 'BATCHSIZE', 4, 'MINBATCHSIZE', 2, 'BLOB', fixture('pt-minimal-bb.pt'));
    await call('AI.TENSORSET', 'a', 'FLOAT', 1, 2, 'VALUES', 1, 2);
    const other = srv.client();
    const res = await Promise.allSettled([
      call('AI.MODELEXECUTE', 'bb', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 2, 'c', 'd'),
      other.call('AI.MODELEXECUTE', 'bb', 'INPUTS', '2', 'a', 'a', 'OUTPUTS', '2', 'c2', 'd2'),
    ]);
    for (const x of res) {
      expect(x.status).toBe('rejected');
      expect(((x as PromiseRejectedResult).reason as Error).message).toBe('ERR Model did not generate the expected batch size');
    }
    // unbatched, both outputs are written
    await call('AI.MODELSTORE', 'plain', 'TORCH', 'CPU', 'BLOB', fixture('pt-minimal-bb.pt'));
    expect(await call('AI.MODELEXECUTE', 'plain', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 2, 'c', 'd')).toBe('OK');
    expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['2', '4']);
    expect(await call('AI.TENSORGET', 'd', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [1], 'values', ['1']]);
  });

  it('a blob that is not TorchScript is refused with libtorch\'s message; GPU is refused; the server keeps serving', async () => {
    const err = await errOf(call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB', data('graph.pb')));
    expect(err.length).toBeGreaterThan(10);
    expect(err).not.toMatch(/[\r\n]/);
    expect(await r.exists('m')).toBe(0);
    expect(await errOf(call('AI.MODELSTORE', 'm', 'TORCH', 'GPU', 'BLOB', data('pt-minimal.pt')))).toBe("ERR GPU requested but Torch couldn't find CUDA");
    expect(await errOf(call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'INPUTS', 1, 'a', 'BLOB', data('pt-minimal.pt')))).toBe('ERR INPUTS argument should not be specified for this backend');
    await r.set('str', 'v');
    expect(await errOf(call('AI.MODELSTORE', 'str', 'TORCH', 'CPU', 'BLOB', data('pt-minimal.pt')))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await r.ping()).toBe('PONG');
    expect(await call('AI.MODELSTORE', 'm', 'TORCH', 'cpu:0', 'BLOB', data('pt-minimal.pt'))).toBe('OK');
    expect(await call('AI.CONFIG', 'LOADBACKEND', 'TORCH', 'backends/redisai_torch/redisai_torch.so')).toBe('OK');
  });

  it('pt-error.pt (torch.matmul): a shape mismatch is libtorch\'s error on one line, nothing written; matching shapes run', async () => {
    await call('AI.MODELSTORE', 'mm', 'TORCH', 'CPU', 'BLOB', fixture('pt-error.pt'));
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 3, 'VALUES', 1, 2, 3, 4, 5, 6);
    const e = await errOf(call('AI.MODELEXECUTE', 'mm', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 1, 'c'));
    expect(e).toMatch(/mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
    expect(e).not.toMatch(/[\r\n]/);
    expect(await r.exists('c')).toBe(0);
    await call('AI.TENSORSET', 'b', 'FLOAT', 3, 1, 'VALUES', 1, 0, -1);
    expect(await call('AI.MODELEXECUTE', 'mm', 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'c')).toBe('OK');
    expect(await call('AI.TENSORGET', 'c', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 1], 'values', ['-2', '-2']]);
  });

  it('deprecated MODELSET / MODELRUN work for TORCH', async () => {
    expect(await call('AI.MODELSET', 'm', 'TORCH', 'CPU', 'BLOB', data('pt-minimal.pt'))).toBe('OK');
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
    expect(await call('AI.MODELRUN', 'm', 'INPUTS', 'a', 'a', 'OUTPUTS', 'c')).toBe('OK');
    expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['4', '6', '4', '6']);
  });

  it('redis-cli -x AI.MODELSTORE ... TORCH ... BLOB < pt-minimal.pt', async () => {
    const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(REDIS_CLI, ['-p', String(srv.port), '-x', 'AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      p.stdout.on('data', (d) => chunks.push(d));
      p.stderr.on('data', (d) => chunks.push(d));
      p.on('error', reject);
      p.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      p.stdin.end(data('pt-minimal.pt'));
    });
    expect(out).toBe('OK\n');
    await call('AI.TENSORSET', 'a', 'FLOAT', 2, 2, 'VALUES', 2, 3, 2, 3);
    expect(await call('AI.MODELEXECUTE', 'm', 'INPUTS', 2, 'a', 'a', 'OUTPUTS', 1, 'c')).toBe('OK');
    expect(await call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['4', '6', '4', '6']);
  });

  it('the addon called in-process gives the same bytes as the server (and the server is not absurdly slower)', async () => {
    const addon = loadTorchAddon();
    const m = addon.loadModule(fixture('pt-linear.pt'));
    const x = f32(1, 2, 3, 4, -1, 0.5, 0, 2);
    const input = { dtype: 'FLOAT' as const, shape: [2, 4], data: new Uint8Array(x) };
    const direct = addon.runModule(m.handle, [input])[0]!;
    await call('AI.MODELSTORE', 'lin', 'TORCH', 'CPU', 'BLOB', fixture('pt-linear.pt'));
    await call('AI.TENSORSET', 'x', 'FLOAT', 2, 4, 'BLOB', x);
    expect(await call('AI.MODELEXECUTE', 'lin', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
    expect(Buffer.from(direct.data).equals(await blobOf('y'))).toBe(true);
    expect(direct.shape).toEqual([2, 2]);
    // latency: median of 50 (direct) vs 50 round trips through the server (a loose bound: CPU is shared)
    const median = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
    const d: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      addon.runModule(m.handle, [{ ...input, data: new Uint8Array(x) }]);
      d.push(performance.now() - t0);
    }
    const s: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await call('AI.MODELEXECUTE', 'lin', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y');
      s.push(performance.now() - t0);
    }
    console.log(`TORCH pt-linear [2,4]: in-process ${(median(d) * 1000).toFixed(0)} µs, through the server ${(median(s) * 1000).toFixed(0)} µs (medians of 50)`);
    expect(median(s)).toBeLessThan(50);
  });
});

describe('a build without the TORCH addon (libtorch-dev absent at npm install)', () => {
  // the same dist/ in a folder with no native/torch beside it: what an install without libtorch produces
  let dir: string;
  let proc: ReturnType<typeof spawn>;
  let r: Redis;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-notorch-'));
    fs.cpSync(path.resolve(__dirname, '../../dist'), path.join(dir, 'dist'), { recursive: true });
    fs.symlinkSync(path.resolve(__dirname, '../../node_modules'), path.join(dir, 'node_modules'));
    fs.mkdirSync(path.join(dir, 'data'));
    expect(fs.existsSync(path.join(dir, 'native'))).toBe(false);
    proc = spawn(process.execPath, [path.join(dir, 'dist', 'main.js'), '--port', '0', '--dir', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 15000);
      proc.stdout!.on('data', (d) => {
        out += d;
        const m = /Ready to accept connections tcp on .* port (\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    });
    r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    r?.disconnect();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((res) => proc.once('exit', res));
      proc.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs, and TORCH models and scripts answer ERR Could not load backend', async () => {
    const call = (...a: (string | number | Buffer)[]) => r.call(a[0] as string, ...a.slice(1));
    expect(await errOf(call('AI.MODELSTORE', 'm', 'TORCH', 'CPU', 'BLOB', data('pt-minimal.pt')))).toBe('ERR Could not load backend');
    expect(await errOf(call('AI.SCRIPTSTORE', 's', 'CPU', 'ENTRY_POINTS', 1, 'bar', 'SOURCE', 'def bar(a: List[Tensor], b: List[str], c: List[str]):\n    return a[0]\n'))).toBe(
      'ERR Could not load backend',
    );
    expect(await errOf(call('AI.SCRIPTSET', 's', 'CPU', 'SOURCE', 'def bar(a):\n    return a\n'))).toBe('ERR Could not load backend');
    expect(await errOf(call('AI.CONFIG', 'LOADBACKEND', 'TORCH', 'x.so'))).toBe('ERR error loading backend');
    expect(await errOf(call('AI.SCRIPTEXECUTE', 's', 'bar', 'INPUTS', 1, 'a'))).toBe('ERR script key is empty');
    // the rest of the server works: ONNX models run
    expect(await call('AI.MODELSTORE', 'iris', 'ONNX', 'CPU', 'BLOB', data('linear_iris.onnx'))).toBe('OK');
    await call('AI.TENSORSET', 'x', 'FLOAT', 1, 4, 'VALUES', 5.1, 3.5, 1.4, 0.2);
    expect(await call('AI.MODELEXECUTE', 'iris', 'INPUTS', 1, 'x', 'OUTPUTS', 1, 'y')).toBe('OK');
    expect(await r.ping()).toBe('PONG');
  });
});
