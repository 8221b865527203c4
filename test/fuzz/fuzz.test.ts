// The fuzzer's CI run (issue 10): bench/fuzz.mjs against a real server process with a small frame count, once
// with a fixed seed and once with a random one (printed, so a failure can be replayed with --seed), asserting on
// its JSON summary: no crash, same pid, every check afterwards passed, memory bound held, every frame category
// and reply kind exercised. The long run (1,000,000 frames) is `npm run fuzz`; its figures are in
// bench/FUZZ-RESULTS.md.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM helper of the fuzzer, no type declarations
import { FrameGenerator, CORPUS } from '../../bench/fuzz/frames.mjs';
// @ts-expect-error plain ESM helper of the fuzzer, no type declarations
import { ReplyReader } from '../../bench/fuzz/replies.mjs';

const ROOT = path.resolve(__dirname, '../..');

interface Summary {
  seed: number;
  passed: boolean;
  crashCount: number;
  samePid: boolean;
  checksOk: boolean;
  checks: { name: string; ok: boolean; detail?: string }[];
  frames: { total: number; byCategory: Record<string, number> };
  replies: { ok: number; error: number };
  oneShot: { connections: number; protocolError: number; recovered: number; noReply: number };
  anomalyCount: number;
  memory: { ok: boolean; rssGrowth: number; boundBytes: number };
  blobs: Record<string, { available: boolean; blobs: number; loaded: number; refused: number; crashes: number; timeouts: number }>;
}

function runFuzz(args: string[]): Promise<{ code: number | null; summary: Summary; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-test-'));
  const json = path.join(dir, 'summary.json');
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['bench/fuzz.mjs', ...args, `--json=${json}`, '--logdir', path.join(dir, 'logs')], {
      cwd: ROOT,
      env: { ...process.env, FUZZ_SETTLE_MS: '2000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    p.stdout.on('data', (d) => (output += d));
    p.stderr.on('data', (d) => (output += d));
    p.on('error', reject);
    p.on('exit', (code) => {
      if (!fs.existsSync(json)) return reject(new Error(`fuzz.mjs wrote no summary (exit ${code}):\n${output.slice(-4000)}`));
      const summary = JSON.parse(fs.readFileSync(json, 'utf8')) as Summary;
      // keep the server logs only when something went wrong
      if (code === 0) fs.rmSync(dir, { recursive: true, force: true });
      resolve({ code, summary, output });
    });
  });
}

function expectClean(run: { code: number | null; summary: Summary; output: string }, frames: number, blobs: number) {
  const s = run.summary;
  const context = `seed ${s.seed}\n${run.output.slice(-3000)}`;
  expect(s.crashCount, context).toBe(0);
  expect(s.samePid, context).toBe(true);
  expect(s.checks.filter((c) => !c.ok), context).toEqual([]);
  expect(s.checks.length).toBeGreaterThanOrEqual(11);
  expect(s.memory.ok, context).toBe(true);
  expect(s.memory.rssGrowth).toBeLessThanOrEqual(s.memory.boundBytes);
  expect(s.anomalyCount, context).toBe(0);
  expect(s.frames.total).toBe(frames);
  for (const cat of ['command', 'corpus', 'inline', 'protocol', 'random']) expect(s.frames.byCategory[cat], cat).toBeGreaterThan(0);
  expect(s.replies.ok).toBeGreaterThan(frames / 10);
  expect(s.replies.error).toBeGreaterThan(frames / 10);
  expect(s.oneShot.protocolError).toBeGreaterThan(0);
  expect(s.oneShot.recovered).toBeGreaterThan(0);
  // CI has every backend (onnxruntime, the libtorch addon, tfjs)
  for (const b of ['ONNX', 'TORCH', 'TF']) {
    const r = s.blobs[b];
    expect(r.available, b).toBe(true);
    expect(r.crashes, b).toBe(0);
    expect(r.loaded + r.refused + r.timeouts, b).toBe(blobs);
  }
  expect(run.code, context).toBe(0);
  expect(s.passed).toBe(true);
}

describe('bench/fuzz.mjs', () => {
  it('30,000 frames and 10 corrupted blobs per backend, fixed seed 20261122', async () => {
    const run = await runFuzz(['--frames', '30000', '--blobs', '10', '--seed', '20261122', '--connections', '4']);
    expectClean(run, 30000, 10);
  }, 120000);

  it('10,000 frames and 3 blobs per backend, random seed', async () => {
    const seed = Math.floor(Math.random() * 2 ** 31);
    console.log(`fuzz random seed ${seed} (replay: node bench/fuzz.mjs --frames 10000 --blobs 3 --seed ${seed})`);
    const run = await runFuzz(['--frames', '10000', '--blobs', '3', '--seed', String(seed), '--connections', '3']);
    expect(run.summary.seed).toBe(seed);
    expectClean(run, 10000, 3);
  }, 120000);

  it('the same seed gives the same frames, another seed other frames', () => {
    const table = [{ name: 'set', arity: -3, first: 1, last: 1, step: 1, weight: 1 }, { name: 'xadd', arity: -5, first: 1, last: 1, step: 1, weight: 1 }];
    const frames = (seed: number) => {
      const g = new FrameGenerator(seed, table);
      return Buffer.concat(Array.from({ length: 500 }, () => g.next().bytes as Buffer));
    };
    expect(frames(7).equals(frames(7))).toBe(true);
    expect(frames(7).equals(frames(8))).toBe(false);
    expect(CORPUS.length).toBeGreaterThan(50);
  });

  it('the reply reader splits RESP2 / RESP3 replies across chunks and tells errors', () => {
    const r = new ReplyReader();
    const wire = Buffer.from('+OK\r\n-ERR bad\r\n*2\r\n$1\r\na\r\n:1\r\n%1\r\n+k\r\n,1.5\r\n_\r\n!3\r\nerr\r\n|1\r\n+a\r\n+b\r\n$1\r\nx\r\n$-1\r\n');
    const got: { value: unknown; error?: string }[] = [];
    for (let i = 0; i < wire.length; i += 3) got.push(...r.push(wire.subarray(i, i + 3)));
    expect(got.map((x) => x.value)).toEqual(['OK', 'ERR bad', ['a', '1'], ['k', '1.5'], null, 'err', 'x', null]);
    expect(got.map((x) => x.error !== undefined)).toEqual([false, true, false, false, false, true, false, false]);
  });
});
