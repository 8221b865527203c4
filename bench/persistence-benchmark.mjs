#!/usr/bin/env node
// Persistence benchmark (issue 6):
//  1. SET throughput with the AOF off, `appendfsync everysec` and `appendfsync always`, inferdb next to a real
//     redis-server with the same settings, in the same run (redis-benchmark -t set, 50 clients, -P 1).
//  2. Time to load a snapshot holding 100 models and 100k tensors (process start to first PONG, and the
//     server's own "DB loaded from disk" time).
//
//   npm run build && node bench/persistence-benchmark.mjs [--write]     (--write: bench/PERSISTENCE-RESULTS.md)
//
// Environment: BENCH_N (requests per SET run, default 100000), BENCH_CLIENTS (default 50), BENCH_REPEAT (runs per
// server and setting, alternating, median reported; default 3), REDIS_SERVER /
// REDIS_BENCHMARK (binaries, default from PATH), INFERDB_TESTDATA (folder with mnist.onnx).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanup, freePort, mkTmp, startServer } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const N = Number(process.env.BENCH_N ?? 100000);
const C = Number(process.env.BENCH_CLIENTS ?? 50);
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';
const REDIS_BENCHMARK = process.env.REDIS_BENCHMARK ?? 'redis-benchmark';
const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(ROOT, '../shared/testdata/redisai');
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);
const write = process.argv.includes('--write');
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

function setThroughput(port) {
  const out = execFileSync(REDIS_BENCHMARK, ['-p', String(port), '-t', 'set', '-n', String(N), '-c', String(C), '-r', '1000000', '-q'], {
    encoding: 'latin1',
    timeout: 600000,
  });
  const m = /SET: ([\d.]+) requests per second/.exec(out.replace(/\r/g, '\n'));
  if (!m) throw new Error(`no SET result in:\n${out}`);
  return Number(m[1]);
}

async function startPair(aofArgs) {
  const dirA = mkTmp('inferdb-pbench-');
  const dirB = mkTmp('redis-pbench-');
  const pa = await freePort();
  const a = await startServer('inferdb', process.execPath, [MAIN, '--port', String(pa), '--dir', dirA, '--save', '', ...aofArgs], pa, dirA);
  const pb = await freePort();
  const b = await startServer('redis-server', REDIS_SERVER, ['--port', String(pb), '--dir', dirB, '--save', '', ...aofArgs], pb, dirB);
  return [a, b];
}

/** A tiny RESP client: sends commands pipelined, resolves when `count` replies arrived. */
function connect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' }, () => resolve(sock));
    sock.on('error', reject);
  });
}
function enc(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
function sendAll(sock, cmds) {
  return new Promise((resolve, reject) => {
    let got = 0;
    let tail = '';
    const onData = (d) => {
      const s = tail + d.toString('latin1');
      // every reply here is one line (+OK or -ERR)
      const lines = s.split('\r\n');
      tail = lines.pop();
      for (const l of lines) {
        if (l.startsWith('-')) return reject(new Error(l));
        got++;
      }
      if (got >= cmds.length) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
    for (let i = 0; i < cmds.length; i += 1000) sock.write(Buffer.concat(cmds.slice(i, i + 1000).map(enc)));
  });
}

async function main() {
  const rows = [];
  for (const [label, args, mode] of [
    ['AOF off', ['--appendonly', 'no']],
    ['appendfsync everysec', ['--appendonly', 'yes', '--appendfsync', 'everysec']],
    ['appendfsync always', ['--appendonly', 'yes', '--appendfsync', 'always']],
    // inferdb's background group commit, forced (auto picks it only when an fsync costs more than 1 ms)
    ['appendfsync always, inferdb syncing in the background', ['--appendonly', 'yes', '--appendfsync', 'always'], 'background'],
  ]) {
    const [a, b] = await startPair(args);
    if (mode) execFileSync('redis-cli', ['-p', String(a.port), 'DEBUG', 'AOF-SYNC-MODE', mode]);
    // alternating runs, the median of each: the machine is shared
    const ias = [];
    const rbs = [];
    for (let i = 0; i < REPEAT; i++) {
      ias.push(setThroughput(a.port));
      rbs.push(setThroughput(b.port));
    }
    const ia = median(ias);
    const rb = median(rbs);
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    rows.push([label, ia, rb]);
    console.log(`${label}: inferdb ${ia.toFixed(0)} SET/s, redis-server ${rb.toFixed(0)} SET/s, ratio ${(ia / rb).toFixed(2)}`);
  }

  // snapshot load time: 100 models + 100k tensors
  const dir = mkTmp('inferdb-pload-');
  let port = await freePort();
  let srv = await startServer('inferdb', process.execPath, [MAIN, '--port', String(port), '--dir', dir, '--save', ''], port, dir);
  const sock = await connect(port);
  const model = fs.readFileSync(path.join(DATA, 'mnist.onnx'));
  await sendAll(sock, Array.from({ length: 100 }, (_, i) => ['AI.MODELSTORE', `model:${i}`, 'ONNX', 'CPU', 'BLOB', model]));
  const t = Buffer.alloc(16 * 4, 1);
  await sendAll(sock, Array.from({ length: 100000 }, (_, i) => ['AI.TENSORSET', `tensor:${i}`, 'FLOAT', '16', 'BLOB', t]));
  await sendAll(sock, [['SAVE']]);
  sock.destroy();
  const size = fs.statSync(path.join(dir, 'dump.rdb')).size;
  srv.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  port = await freePort();
  const t0 = Date.now();
  srv = await startServer('inferdb', process.execPath, [MAIN, '--port', String(port), '--dir', dir, '--save', ''], port, dir);
  const ready = Date.now() - t0;
  const own = /DB loaded from disk: ([\d.]+) seconds/.exec(srv.output())?.[1];
  srv.child.kill('SIGKILL');
  console.log(`snapshot of 100 mnist models + 100k tensors (${(size / 1048576).toFixed(1)} MB): start to PONG ${ready} ms, load ${own} s`);

  if (write) {
    const lines = [
      '# Persistence benchmark',
      '',
      `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, ` +
        `\`node bench/persistence-benchmark.mjs\`: redis-benchmark -t set -n ${N} -c ${C} -P 1, median of ${REPEAT} alternating runs, inferdb and redis-server ` +
        'with the same settings back to back in the same run, data folders on the same disk (ext4). ' +
        `Load average at the end: ${os.loadavg()[0].toFixed(1)} (the machine is shared: ratios move by ±20% between runs).`,
      '',
      '| setting | inferdb SET/s | redis-server SET/s | ratio |',
      '|---|---:|---:|---:|',
      ...rows.map(([l, a, b]) => `| ${l} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)} |`),
      '',
      `Snapshot load: 100 models (mnist.onnx, 26 KB each) + 100k FLOAT[16] tensors, ${(size / 1048576).toFixed(1)} MB: ` +
        `${ready} ms from process start to the first PONG (the loader itself: ${own} s; models are rebuilt in parallel in the worker threads).`,
      '',
    ];
    fs.writeFileSync(path.join(HERE, 'PERSISTENCE-RESULTS.md'), lines.join('\n'));
  }
  cleanup();
}

main().catch((e) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
