#!/usr/bin/env node
// Replication benchmark (issue 7): inferdb next to real redis-server, same machine, same run.
//   1. full sync of a ~1 GB data set (1 MB FLOAT tensors + 25 MB ONNX models; 1 MB / 25 MB strings for Redis):
//      seconds from REPLICAOF until the replica is linked and at the master's offset, and MB/s;
//   2. replication lag under a 16-client SET load (redis-benchmark): the master's offset minus the replica's,
//      sampled every 10 ms (bytes, p50 / p99);
//   3. master SET throughput (redis-benchmark -c 16) with 0, 1 and 2 replicas attached, and the ratios.
//
//   npm run bench:replication                          # build, then run
//   node bench/replication-benchmark.mjs [--write]     # run against the existing dist/ build; --write keeps
//                                                      # the table in bench/REPLICATION-RESULTS.md
// Environment: BENCH_REPL_DATASET_MB (default 1024), BENCH_REPL_SECONDS (lag window, default 5),
// BENCH_REPL_N (SET requests per throughput run, default 200000), REDIS_SERVER / REDIS_BENCHMARK.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { atCleanup, children, envNum, freePort, mkTmp, startServer, tryExec } from './processes.mjs';
import { weightedMatMul } from './onnx-models.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const RESULTS = path.join(HERE, 'REPLICATION-RESULTS.md');
const require = createRequire(import.meta.url);
const Redis = require('ioredis').default ?? require('ioredis');

const DATASET_MB = envNum('BENCH_REPL_DATASET_MB', 1024);
const LAG_SECONDS = envNum('BENCH_REPL_SECONDS', 5);
const SET_N = envNum('BENCH_REPL_N', 200000);
const WRITE = process.argv.includes('--write');
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const REDIS_BENCHMARK = process.env.REDIS_BENCHMARK || 'redis-benchmark';
const log = (...a) => console.error('[bench:replication]', ...a);

const clients = new Set();
atCleanup(() => {
  for (const c of clients) c.disconnect();
});
function client(port) {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, enableAutoPipelining: false, protocol: 2 });
  clients.add(c);
  return c;
}

// ------------------------------------------------------------------------------------------ servers

async function startOurs(extra = []) {
  const port = await freePort();
  const dir = mkTmp('inferdb-repl-bench-');
  const s = await startServer('inferdb', process.execPath, [MAIN, '--port', String(port), '--dir', dir, '--save', '', ...extra], port, dir);
  return { ...s, kind: 'inferdb' };
}

async function startRedis(extra = []) {
  const port = await freePort();
  const dir = mkTmp('redis-repl-bench-');
  const args = ['--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', '--protected-mode', 'no', ...extra];
  const s = await startServer('redis-server', REDIS_SERVER, args, port, dir);
  return { ...s, kind: 'redis' };
}

const stop = (s) => {
  try {
    s.child.kill('SIGKILL');
  } catch {
    /* gone */
  }
  children.delete(s.child);
};

async function replInfo(c) {
  const out = {};
  for (const line of (await c.info('replication')).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

async function waitSynced(master, replica, timeoutMs = 600000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const [m, r] = await Promise.all([replInfo(master), replInfo(replica)]);
    if (r.master_link_status === 'up' && r.slave_repl_offset === m.master_repl_offset) return;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('replica did not catch up');
}

// ------------------------------------------------------------------------------------------ data

/** Fills a master with ~DATASET_MB: four 25 MB models (strings for Redis) and 1 MB tensors (strings). */
async function fill(server, c) {
  const model = weightedMatMul(2560, 2560);
  const models = 4;
  const tensors = Math.max(1, Math.round(DATASET_MB - (models * model.length) / 2 ** 20));
  for (let i = 0; i < models; i++) {
    if (server.kind === 'inferdb') await c.call('AI.MODELSTORE', `model:${i}`, 'ONNX', 'CPU', 'BLOB', model);
    else await c.set(`model:${i}`, model);
  }
  const t = Buffer.alloc(1 << 20);
  for (let i = 0; i < t.length; i += 4) t.writeFloatLE(i / t.length, i);
  for (let i = 0; i < tensors; i += 16) {
    const batch = [];
    for (let j = i; j < Math.min(tensors, i + 16); j++) {
      batch.push(server.kind === 'inferdb' ? c.call('AI.TENSORSET', `tensor:${j}`, 'FLOAT', t.length / 4, 'BLOB', t) : c.set(`tensor:${j}`, t));
    }
    await Promise.all(batch);
  }
  return (models * model.length + tensors * t.length) / 1e6;
}

// ------------------------------------------------------------------------------------------ measurements

async function fullSync(start) {
  const master = await start();
  const mc = client(master.port);
  const mb = await fill(master, mc);
  const replica = await start();
  const rc = client(replica.port);
  const t0 = performance.now();
  await rc.call('REPLICAOF', '127.0.0.1', String(master.port));
  await waitSynced(mc, rc);
  const secs = (performance.now() - t0) / 1000;
  mc.disconnect();
  rc.disconnect();
  stop(master);
  stop(replica);
  return { secs, mb, rate: mb / secs };
}

function runBenchmark(port, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(REDIS_BENCHMARK, ['-h', '127.0.0.1', '-p', String(port), '--csv', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      children.delete(p);
      if (code !== 0) return reject(new Error(`redis-benchmark exited ${code}: ${out}`));
      const line = out.trim().split('\n').find((l) => l.startsWith('"SET"'));
      resolve(line ? Number(JSON.parse(`[${line}]`)[1]) : NaN);
    });
  });
}

async function lagAndThroughput(start) {
  const master = await start();
  const mc = client(master.port);
  const reps = [];
  const rps = [];
  rps.push(await runBenchmark(master.port, ['-t', 'set', '-c', '16', '-n', String(SET_N), '-d', '100']));
  for (let i = 0; i < 2; i++) {
    const r = await start();
    const rc = client(r.port);
    await rc.call('REPLICAOF', '127.0.0.1', String(master.port));
    await waitSynced(mc, rc);
    reps.push({ r, rc });
    rps.push(await runBenchmark(master.port, ['-t', 'set', '-c', '16', '-n', String(SET_N), '-d', '100']));
  }
  // lag: a 16-client SET load for LAG_SECONDS, offsets sampled every 10 ms on separate connections
  const sampler = [client(master.port), client(reps[0].r.port)];
  const load = runBenchmark(master.port, ['-t', 'set', '-c', '16', '-n', '100000000', '-d', '100']).catch(() => undefined);
  const lags = [];
  const end = Date.now() + LAG_SECONDS * 1000;
  await new Promise((r) => setTimeout(r, 300));
  while (Date.now() < end) {
    const [m, r] = await Promise.all([replInfo(sampler[0]), replInfo(sampler[1])]);
    lags.push(Math.max(0, Number(m.master_repl_offset) - Number(r.slave_repl_offset)));
    await new Promise((res) => setTimeout(res, 10));
  }
  for (const p of children) if (p.spawnargs?.[0] === REDIS_BENCHMARK) p.kill('SIGKILL');
  await load;
  for (const c of sampler) c.disconnect();
  for (const { r, rc } of reps) {
    rc.disconnect();
    stop(r);
  }
  mc.disconnect();
  stop(master);
  lags.sort((a, b) => a - b);
  const pct = (p) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))];
  return { rps, lag: { p50: pct(50), p99: pct(99), max: lags.at(-1), n: lags.length } };
}

// ------------------------------------------------------------------------------------------ main


const startedAt = new Date().toISOString();
const uptimeStart = tryExec('uptime', []);
log(`full sync of ~${DATASET_MB} MB: inferdb`);
const oursSync = await fullSync(() => startOurs());
log(`full sync: redis-server`);
const redisSync = await fullSync(() => startRedis());
log('lag and throughput: inferdb');
const oursLoad = await lagAndThroughput(() => startOurs());
log('lag and throughput: redis-server');
const redisLoad = await lagAndThroughput(() => startRedis());
const uptimeEnd = tryExec('uptime', []);

const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const fInt = (x) => Math.round(x).toLocaleString('en-US');
const rows = [
  ['full sync, ' + `${fInt(oursSync.mb)} MB (inferdb: tensors + models; redis: strings)`, `${f2(oursSync.secs)} s (${fInt(oursSync.rate)} MB/s)`, `${f2(redisSync.secs)} s (${fInt(redisSync.rate)} MB/s)`, `${f2(oursSync.rate / redisSync.rate)}x`],
  [
    `replication lag under 16-client SET load: offset difference p50 / p99 / max (bytes; ${oursLoad.lag.n} / ${redisLoad.lag.n} samples)`,
    `${fInt(oursLoad.lag.p50)} / ${fInt(oursLoad.lag.p99)} / ${fInt(oursLoad.lag.max)}`,
    `${fInt(redisLoad.lag.p50)} / ${fInt(redisLoad.lag.p99)} / ${fInt(redisLoad.lag.max)}`,
    '-',
  ],
  ...[0, 1, 2].map((n) => [
    `master SET rps (-c 16, -d 100) with ${n} replica(s); ratio to 0 replicas`,
    `${fInt(oursLoad.rps[n])} (${f2(oursLoad.rps[n] / oursLoad.rps[0])}x)`,
    `${fInt(redisLoad.rps[n])} (${f2(redisLoad.rps[n] / redisLoad.rps[0])}x)`,
    `${f2(oursLoad.rps[n] / redisLoad.rps[n])}x`,
  ]),
];
const table = ['| measurement | inferdb | redis-server | inferdb / redis |', '|---|---:|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
const md = [
  '# Replication benchmark (issue 7)',
  '',
  `Command: \`node bench/replication-benchmark.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\` — run started ${startedAt}.`,
  '',
  table,
  '',
  '## Machine and method',
  '',
  `- ${os.cpus().length} CPUs, ${f1(os.totalmem() / 2 ** 30)} GiB RAM, node ${process.version}, ${tryExec(REDIS_SERVER, ['--version'])}`,
  `- \`uptime\` at start: \`${uptimeStart}\`; at end: \`${uptimeEnd}\` (a shared 2-core machine: masters, replicas and the load generator share the cores)`,
  '- Full sync: the master is filled first, then a fresh replica gets REPLICAOF; the time runs until its link is up and its',
  '  offset equals the master\'s. inferdb writes the snapshot to a temp file (fsynced) and streams it; redis-server runs',
  '  with diskless sync and `repl-diskless-sync-delay 0`. The replica rebuilds every model from its bytes before it is "up".',
  '- Lag: `INFO replication` on master and replica on two connections, every 10 ms, during `redis-benchmark -t set -c 16 -d 100`.',
  '- Throughput: `redis-benchmark -t set -c 16 -d 100 -n ' + SET_N + '` against the master with 0, then 1, then 2 replicas attached.',
].join('\n');
console.log(table);
if (WRITE) fs.writeFileSync(RESULTS, md + '\n');
process.exit(0);
