// RedisAI's load-time settings as server parameters (THREADS_PER_QUEUE, MODEL_EXECUTION_TIMEOUT,
// INTRA_OP_PARALLELISM, INTER_OP_PARALLELISM, BACKEND_MEMORY_LIMIT, MODEL_CHUNK_SIZE, BACKENDSPATH: spec §7),
// what AI.CONFIG GET and CONFIG GET answer for them, the INFO MODULES / INFO ai fields, and their effect on the
// device queues (workers per queue, the kill switch).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf } from '../helpers/resp';
import { matmulChain, slowInput } from '../helpers/onnx-models';
import { OnnxBackend } from '../../src/backends/onnx';

const N = 1000;

/** INFO text -> field map (sub-section headers and blank lines skipped) */
function infoFields(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** Chain length for a run of about `ms` on server `r` (best of three runs of a 4-MatMul probe). */
async function sizeChain(r: Redis, ms: number): Promise<number> {
  await r.call('AI.MODELSTORE', 'probe', 'ONNX', 'CPU', 'BLOB', matmulChain(4));
  await r.call('AI.TENSORSET', 'sx', 'FLOAT', N, N, 'BLOB', slowInput(N));
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await r.call('AI.MODELEXECUTE', 'probe', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'sy');
    best = Math.min(best, performance.now() - t0);
  }
  return Math.max(4, Math.min(1000, Math.round(ms / Math.max(1, best / 4))));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AI load-time settings', () => {
  describe('--THREADS_PER_QUEUE 2 and the other settings on the command line', () => {
    let srv: TestServer;
    let r: Redis;
    beforeAll(async () => {
      srv = await startServer([
        '--THREADS_PER_QUEUE', '2',
        '--intra_op_parallelism', '1',
        '--Inter_Op_Parallelism', '1',
        '--BACKEND_MEMORY_LIMIT', '100',
        '--MODEL_EXECUTION_TIMEOUT', '9000',
        '--MODEL_CHUNK_SIZE', '1000',
        '--BACKENDSPATH', '/opt/backends',
      ]);
      r = srv.client();
    });
    afterAll(() => srv.stop());

    it('CONFIG GET shows them (any case); CONFIG SET refuses them; AI.CONFIG GET answers as RedisAI', async () => {
      expect(await r.call('CONFIG', 'GET', 'THREADS_PER_QUEUE')).toEqual(['THREADS_PER_QUEUE', '2']);
      expect(await r.call('CONFIG', 'GET', 'model_execution_timeout')).toEqual(['model_execution_timeout', '9000']);
      expect(await r.call('CONFIG', 'GET', 'INTRA_OP_PARALLELISM')).toEqual(['INTRA_OP_PARALLELISM', '1']);
      expect(await r.call('CONFIG', 'GET', 'BACKEND_MEMORY_LIMIT')).toEqual(['BACKEND_MEMORY_LIMIT', '100']);
      expect(await errOf(r.call('CONFIG', 'SET', 'THREADS_PER_QUEUE', '3'))).toMatch(/can't set immutable config/);
      // AI.CONFIG GET knows only BACKENDSPATH and MODEL_CHUNK_SIZE (spec §7); the others are nil
      expect(await r.call('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe(1000);
      expect(await r.call('AI.CONFIG', 'GET', 'BACKENDSPATH')).toBe('/opt/backends');
      expect(await r.call('AI.CONFIG', 'GET', 'THREADS_PER_QUEUE')).toBeNull();
      // AI.CONFIG still changes the run-time ones
      expect(await r.call('AI.CONFIG', 'MODEL_CHUNK_SIZE', 2000)).toBe('OK');
      expect(await r.call('AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE')).toBe(2000);
    });

    it('INFO ai and INFO MODULES show the load-time configs in RedisAI layout', async () => {
      const ai = (await r.call('INFO', 'ai')) as string;
      const f = infoFields(ai);
      expect(f.get('ai_threads_per_queue')).toBe('2');
      expect(f.get('ai_intra_op_parallelism')).toBe('1');
      expect(f.get('ai_inter_op_parallelism')).toBe('1');
      expect(f.get('ai_model_execution_timeout')).toBe('9000');
      expect(f.get('ai_backend_memory_limit')).toBe('100');
      expect(f.get('ai_RedisAI_version')).toBe('99.99.99');
      const mods = (await r.call('INFO', 'MODULES')) as string;
      const headers = mods.split('\r\n').filter((l) => l.startsWith('#'));
      expect(headers).toEqual(['# Modules', '# ai_versions', '# ai_git', '# ai_load_time_configs', '# ai_backends_info', '# ai_cpu']);
      expect(infoFields(mods).get('ai_threads_per_queue')).toBe('2');
      for (const [k, v] of infoFields(mods)) if (k.startsWith('ai_')) expect(v).not.toMatch(/[:\s]/);
      expect(infoFields(mods).get('module')).toMatch(/^name=ai,/);
      // module sections: not in INFO / INFO ALL (as Redis), but in EVERYTHING and by their own name
      expect((await r.call('INFO')) as string).not.toContain('ai_threads_per_queue');
      expect((await r.call('INFO', 'all')) as string).not.toContain('ai_threads_per_queue');
      expect((await r.call('INFO', 'everything')) as string).toContain('ai_threads_per_queue:2');
      expect((await r.call('INFO', 'ai_load_time_configs')) as string).toMatch(/^# ai_load_time_configs\r\nai_threads_per_queue:2\r\n/);
    });

    it('the ONNX backend fields appear once a model is loaded; each queue has THREADS_PER_QUEUE workers that run at once', async () => {
      expect(infoFields((await r.call('INFO', 'ai')) as string).has('ai_onnxruntime_version')).toBe(false);
      const k = await sizeChain(r, 1500);
      const f = infoFields((await r.call('INFO', 'ai')) as string);
      expect(f.get('ai_onnxruntime_version')).toMatch(/^\d+\.\d+\.\d+/);
      expect(f.has('ai_queue_CPU_bthread_n1_used_cpu_total')).toBe(true);
      expect(f.has('ai_queue_CPU_bthread_n2_used_cpu_total')).toBe(true);
      expect(f.has('ai_queue_CPU_bthread_n3_used_cpu_total')).toBe(false);

      // two slow runs sent together: both are taken by a worker at once, so nothing waits in the queue
      await r.call('AI.MODELSTORE', 'slow', 'ONNX', 'CPU', 'BLOB', matmulChain(k));
      const other = srv.client();
      await other.ping(); // connected before the runs are sent
      const a = r.call('AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'ya');
      const b = other.call('AI.MODELEXECUTE', 'slow', 'INPUTS', '1', 'sx', 'OUTPUTS', '1', 'yb');
      await sleep(200);
      const during = infoFields((await srv.client().call('INFO', 'ai')) as string);
      expect(during.get('ai_queue_CPU_length')).toBe('0');
      expect(await Promise.all([a, b])).toEqual(['OK', 'OK']);
      const after = infoFields((await r.call('INFO', 'ai')) as string);
      expect(Number(after.get('ai_queue_CPU_bthread_n1_used_cpu_total'))).toBeGreaterThan(0);
      expect(Number(after.get('ai_queue_CPU_bthread_n2_used_cpu_total'))).toBeGreaterThan(0);
    });
  });

  describe('MODEL_EXECUTION_TIMEOUT from a config file, one thread per queue', () => {
    let srv: TestServer;
    let r: Redis;
    let conf: string;
    beforeAll(async () => {
      conf = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-aiconf-')), 'inferdb.conf');
      fs.writeFileSync(conf, 'MODEL_EXECUTION_TIMEOUT 1000\nintra_op_parallelism 1\n');
      srv = await startServer([conf]);
      r = srv.client();
    });
    afterAll(async () => {
      await srv.stop();
      fs.rmSync(path.dirname(conf), { recursive: true, force: true });
    });

    it('reads the file lines; a value out of range refuses to start', async () => {
      expect(await r.call('CONFIG', 'GET', 'MODEL_EXECUTION_TIMEOUT')).toEqual(['MODEL_EXECUTION_TIMEOUT', '1000']);
      const f = infoFields((await r.call('INFO', 'ai')) as string);
      expect(f.get('ai_model_execution_timeout')).toBe('1000');
      expect(f.get('ai_threads_per_queue')).toBe('1');
      await expect(startServer(['--MODEL_EXECUTION_TIMEOUT', '999'])).rejects.toThrow(/between 1000 and/);
      await expect(startServer(['--THREADS_PER_QUEUE', '0'])).rejects.toThrow(/between 1 and/);
    });

    it('a run past the kill switch fails with the terminate-flag error; work queued behind it then runs', async () => {
      const k = await sizeChain(r, 4000);
      await r.call('AI.MODELSTORE', 'slow', 'ONNX', 'CPU', 'BLOB', matmulChain(k));
      await r.call('AI.MODELSTORE', 'quick', 'ONNX', 'CPU', 'BLOB', matmulChain(1));
      const other = srv.client();
      await other.ping(); // connected before the runs are sent
      const t0 = performance.now();
      const killed = errOf(r.call('AI.MODELEXECUTE', 'slow', 'INPUTS', 1, 'sx', 'OUTPUTS', 1, 'ya'));
      await sleep(100); // the slow run has been taken by the queue's one worker
      const behind = other.call('AI.MODELEXECUTE', 'quick', 'INPUTS', '1', 'sx', 'OUTPUTS', '1', 'yb');
      await sleep(200);
      // one worker: the second request waits in the queue (compare: two workers leave it empty, above)
      expect(infoFields((await srv.client().call('INFO', 'ai')) as string).get('ai_queue_CPU_length')).toBe('1');
      expect(await killed).toContain('Exiting due to terminate flag being set to true');
      expect(performance.now() - t0).toBeLessThan(3500);
      expect(await behind).toBe('OK');
      expect(await r.call('EXISTS', 'ya', 'yb')).toBe(1);
    });
  });

  it('INTRA_OP_PARALLELISM / INTER_OP_PARALLELISM reach the ONNX session options (0: one intra-op thread, ORT\'s inter-op default)', async () => {
    const backend = new OnnxBackend();
    const ort = (backend as unknown as { ort: { InferenceSession: { create: (...a: unknown[]) => Promise<unknown> } } }).ort;
    const create = vi.spyOn(ort.InferenceSession, 'create');
    try {
      const m = await backend.load(matmulChain(1), { device: 'CPU', intraOpThreads: 1, interOpThreads: 2 });
      expect(create.mock.calls[0][1]).toMatchObject({ intraOpNumThreads: 1, interOpNumThreads: 2 });
      await backend.dispose(m);
      const d = await backend.load(matmulChain(1), { device: 'CPU', intraOpThreads: 0, interOpThreads: 0 });
      // one thread per run: ORT's default pool spins on every core and starves the event loop (src/backends/onnx.ts)
      expect(create.mock.calls[1][1]).toMatchObject({ intraOpNumThreads: 1 });
      expect(create.mock.calls[1][1]).not.toHaveProperty('interOpNumThreads');
      await backend.dispose(d);
    } finally {
      create.mockRestore();
    }
  });
});
