#!/usr/bin/env node
// Cluster benchmark (issue 8), inferdb next to real redis-server in the same run, on this machine:
//   1. `redis-benchmark --cluster` SET and GET across 3 masters (both clusters made by `redis-cli --cluster create`);
//   2. AI.MODELEXECUTE (mnist) throughput on 3 masters (a model per master, clients spread by slot owner) vs
//      the same total of clients on 1 standalone node: the scaling ratio;
//   3. failover: 3 masters + 3 replicas, kill -9 of a master, until another node reports its slots served by the
//      promoted replica (inferdb and Redis 7 with the same cluster-node-timeout).
//
//   npm run bench:cluster                          # build, then run
//   node bench/cluster-benchmark.mjs [--write]     # --write keeps the table in bench/CLUSTER-RESULTS.md
// Environment: BENCH_CLUSTER_N (redis-benchmark requests, default 200000), BENCH_CLUSTER_SECONDS (AI phase,
// default 3), BENCH_CLUSTER_NODE_TIMEOUT (ms, default 1500), REDIS_SERVER / REDIS_CLI / REDIS_BENCHMARK.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { atCleanup, children, envNum, freePort, mkTmp, startServer, tryExec } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const RESULTS = path.join(HERE, 'CLUSTER-RESULTS.md');
const require = createRequire(import.meta.url);
const Redis = require('ioredis').default ?? require('ioredis');

const N = envNum('BENCH_CLUSTER_N', 200000);
const SECONDS = envNum('BENCH_CLUSTER_SECONDS', 3);
const NODE_TIMEOUT = envNum('BENCH_CLUSTER_NODE_TIMEOUT', 1500);
const WRITE = process.argv.includes('--write');
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const REDIS_CLI = process.env.REDIS_CLI || 'redis-cli';
const REDIS_BENCHMARK = process.env.REDIS_BENCHMARK || 'redis-benchmark';
const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(ROOT, '../shared/testdata/redisai');
const log = (...a) => console.error('[bench:cluster]', ...a);

const clients = new Set();
atCleanup(() => {
  for (const c of clients) c.disconnect();
});
const client = (port) => {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null, protocol: 2 });
  clients.add(c);
  return c;
};
const run = (cmd, args) =>
  new Promise((resolve) => execFile(cmd, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, out: `${stdout}${stderr}` })));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------ clusters

async function startNode(kind, extra = []) {
  const port = await freePort();
  const dir = mkTmp(`${kind}-cluster-bench-`);
  // the bus listens on port + 10000: retry the port if that one is taken
  const args = ['--port', String(port), '--cluster-enabled', 'yes', '--cluster-node-timeout', String(NODE_TIMEOUT), '--save', '', '--appendonly', 'no', ...extra];
  const s =
    kind === 'inferdb'
      ? await startServer('inferdb', process.execPath, [MAIN, ...args, '--dir', dir], port, dir)
      : await startServer('redis-server', REDIS_SERVER, [...args, '--dir', dir, '--protected-mode', 'no', '--repl-diskless-sync-delay', '0'], port, dir);
  return { ...s, port };
}

async function makeCluster(kind, masters, replicas) {
  const nodes = [];
  for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startNode(kind));
  const r = await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
  if (r.code !== 0) throw new Error(`${kind}: redis-cli --cluster create failed:\n${r.out}`);
  for (let i = 0; i < 100; i++) {
    const c = await run(REDIS_CLI, ['--cluster', 'check', `127.0.0.1:${nodes[0].port}`]);
    const states = await Promise.all(nodes.map((n) => run(REDIS_CLI, ['-p', String(n.port), 'CLUSTER', 'INFO'])));
    if (c.code === 0 && !c.out.includes('[ERR]') && states.every((s) => s.out.includes('cluster_state:ok'))) return nodes;
    await sleep(100);
  }
  throw new Error(`${kind}: the cluster did not settle`);
}

function stopAll(nodes) {
  for (const n of nodes) {
    try {
      n.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
    children.delete(n.child);
  }
}

/** slot → port of its master, from CLUSTER SLOTS */
async function slotOwners(port) {
  const c = client(port);
  const slots = await c.call('CLUSTER', 'SLOTS');
  c.disconnect();
  const owner = new Map();
  for (const [from, to, master] of slots) for (let s = from; s <= to; s++) owner.set(s, Number(master[1]));
  return owner;
}

// ------------------------------------------------------------------------------------------ 1. SET / GET

async function clusterBenchmark(kind) {
  const nodes = await makeCluster(kind, 3, 0);
  const r = await run(REDIS_BENCHMARK, ['--cluster', '-h', '127.0.0.1', '-p', String(nodes[0].port), '-t', 'set,get', '-n', String(N), '-c', '50', '-r', '100000', '--csv']);
  stopAll(nodes);
  const rps = {};
  for (const line of r.out.split('\n')) {
    const m = /^"(SET|GET)","([\d.]+)"/.exec(line);
    if (m) rps[m[1]] = Number(m[2]);
  }
  if (!rps.SET || !rps.GET) throw new Error(`${kind}: redis-benchmark --cluster gave no numbers:\n${r.out}`);
  return rps;
}

// ------------------------------------------------------------------------------------------ 2. AI scaling

async function loadLoop(cs, seconds, op) {
  let ops = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    cs.map(async (c, i) => {
      while (performance.now() < end) {
        await op(c, i);
        ops++;
      }
    }),
  );
  return ops / ((performance.now() - t0) / 1000);
}

async function aiScaling() {
  const mnist = fs.readFileSync(path.join(DATA, 'mnist.onnx'));
  const one = fs.readFileSync(path.join(DATA, 'one.raw'));
  const CLIENTS = 24;
  const exec = (tag) => (c, i) => c.call('AI.MODELEXECUTE', `{${tag}}m`, 'INPUTS', 1, `{${tag}}in${i}`, 'OUTPUTS', 1, `{${tag}}out${i}`);
  // one standalone node
  const port = await freePort();
  const dir = mkTmp('inferdb-ai-one-');
  const single = await startServer('inferdb', process.execPath, [MAIN, '--port', String(port), '--dir', dir, '--save', ''], port, dir);
  let cs = Array.from({ length: CLIENTS }, () => client(port));
  await cs[0].call('AI.MODELSTORE', '{a}m', 'ONNX', 'CPU', 'BLOB', mnist);
  await Promise.all(cs.map((c, i) => c.call('AI.TENSORSET', `{a}in${i}`, 'FLOAT', 1, 1, 28, 28, 'BLOB', one)));
  await loadLoop(cs, 0.5, exec('a'));
  const oneNode = await loadLoop(cs, SECONDS, exec('a'));
  for (const c of cs) c.disconnect();
  stopAll([single]);
  // three masters: a hash tag owned by each, its model there, clients spread over the masters
  const nodes = await makeCluster('inferdb', 3, 0);
  const owner = await slotOwners(nodes[0].port);
  const { slotOfKeyString } = require(path.join(ROOT, 'dist', 'cluster', 'crc16.js'));
  const tagOf = new Map();
  for (let i = 0; tagOf.size < 3 && i < 10000; i++) {
    const p = owner.get(slotOfKeyString(`{t${i}}`));
    if (p !== undefined && !tagOf.has(p)) tagOf.set(p, `t${i}`);
  }
  const masters = [...tagOf.keys()];
  cs = Array.from({ length: CLIENTS }, (_, i) => client(masters[i % 3]));
  for (const [p, tag] of tagOf) {
    const admin = client(p);
    await admin.call('AI.MODELSTORE', `{${tag}}m`, 'ONNX', 'CPU', 'BLOB', mnist);
    admin.disconnect();
  }
  const tagFor = (i) => tagOf.get(masters[i % 3]);
  await Promise.all(cs.map((c, i) => c.call('AI.TENSORSET', `{${tagFor(i)}}in${i}`, 'FLOAT', 1, 1, 28, 28, 'BLOB', one)));
  const spread = (c, i) => exec(tagFor(i))(c, i);
  await loadLoop(cs, 0.5, spread);
  const threeMasters = await loadLoop(cs, SECONDS, spread);
  for (const c of cs) c.disconnect();
  stopAll(nodes);
  return { oneNode, threeMasters, clients: CLIENTS };
}

// ------------------------------------------------------------------------------------------ 3. failover

async function failover(kind) {
  const nodes = await makeCluster(kind, 3, 1);
  // a replica can take over only once it has synced (Redis refuses a replica whose data is too old)
  for (let i = 0; i < 300; i++) {
    const infos = await Promise.all(nodes.map((n) => run(REDIS_CLI, ['-p', String(n.port), 'INFO', 'replication'])));
    if (infos.filter((r) => r.out.includes('master_link_status:up')).length === 3) break;
    await sleep(100);
  }
  const owner = await slotOwners(nodes[0].port);
  const victimPort = owner.get(0);
  const victim = nodes.find((n) => n.port === victimPort);
  const watcher = nodes.find((n) => n.port !== victimPort && [...owner.values()].includes(n.port));
  const w = client(watcher.port);
  const t0 = performance.now();
  victim.child.kill('SIGKILL');
  let ms = NaN;
  while (performance.now() - t0 < 30000) {
    const slots = await w.call('CLUSTER', 'SLOTS');
    const s0 = slots.find(([from, to]) => from <= 0 && 0 <= to);
    if (s0 && Number(s0[2][1]) !== victimPort) {
      ms = performance.now() - t0;
      break;
    }
    await sleep(20);
  }
  w.disconnect();
  stopAll(nodes);
  return ms;
}

// ------------------------------------------------------------------------------------------ main

const startedAt = new Date().toISOString();
const uptimeStart = tryExec('uptime', []);
log('redis-benchmark --cluster: inferdb');
const oursRps = await clusterBenchmark('inferdb');
log('redis-benchmark --cluster: redis-server');
const redisRps = await clusterBenchmark('redis');
log('AI.MODELEXECUTE on 1 node and on 3 masters');
const ai = await aiScaling();
log('failover: inferdb');
const oursFail = await failover('inferdb');
log('failover: redis-server');
const redisFail = await failover('redis');
const uptimeEnd = tryExec('uptime', []);

const fInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const rows = [
  ['`redis-benchmark --cluster -t set -c 50`, 3 masters: SET req/s', fInt(oursRps.SET), fInt(redisRps.SET), `${f2(oursRps.SET / redisRps.SET)}x`],
  ['`redis-benchmark --cluster -t get -c 50`, 3 masters: GET req/s', fInt(oursRps.GET), fInt(redisRps.GET), `${f2(oursRps.GET / redisRps.GET)}x`],
  [`AI.MODELEXECUTE mnist, ${ai.clients} clients: 3 masters vs 1 node (runs/s)`, `${fInt(ai.threeMasters)} vs ${fInt(ai.oneNode)}`, '-', `${f2(ai.threeMasters / ai.oneNode)}x scaling`],
  [`failover: kill -9 of a master until another node serves its slots from the replica (cluster-node-timeout ${NODE_TIMEOUT} ms)`, `${fInt(oursFail)} ms`, `${fInt(redisFail)} ms`, `${f2(oursFail / redisFail)}x`],
];
const table = ['| measurement | inferdb | redis-server 7 | ratio |', '|---|---:|---:|---:|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
console.log(table);
const md = [
  '# Cluster benchmark (issue 8)',
  '',
  `Command: \`node bench/cluster-benchmark.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\` — run started ${startedAt}.`,
  '',
  table,
  '',
  '## Machine and method',
  '',
  `- ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}, ${tryExec(REDIS_SERVER, ['--version'])}`,
  `- \`uptime\` at start: \`${uptimeStart}\`; at end: \`${uptimeEnd}\`. Every node, redis-benchmark and this script share the 2 cores, so`,
  '  a 3-master cluster has no more CPU than 1 node: the AI scaling ratio shows the cost of spreading, not a speed-up.',
  '- Both clusters are made by `redis-cli --cluster create` and checked with `--cluster check` before use;',
  `  ${N} requests per redis-benchmark test, random keys over 100 000.`,
  '- Failover: node 0 slot owner killed with SIGKILL; another master is asked `CLUSTER SLOTS` every 20 ms until slot 0',
  '  is served by another node.',
].join('\n');
if (WRITE) fs.writeFileSync(RESULTS, md + '\n');
process.exit(0);
