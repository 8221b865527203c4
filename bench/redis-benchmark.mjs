#!/usr/bin/env node
// Throughput comparison: inferdb (node dist/main.js) vs a real redis-server, both measured with
// redis-benchmark in the same run, on the same machine, back to back per configuration.
//
//   npm run bench                                # build, then run
//   node bench/redis-benchmark.mjs [--write]     # run against the existing dist/ build
//
// Environment:
//   BENCH_N            requests per test at -P 1            (default 200000)
//   BENCH_N_PIPELINE   requests per test at -P 16           (default 2000000)
//   BENCH_CLIENTS      parallel connections (-c)            (default 50)
//   BENCH_REPEAT       repetitions; the median is reported  (default 1)
//   BENCH_WRITE=1      also write bench/RESULTS.md (same as --write)
//   BENCH_TIMEOUT_S    per redis-benchmark invocation limit (default 600)
//   BENCH_NODE_ARGS    extra node flags for the inferdb process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
//   BENCH_PIN=1        pin the servers to the last CPU and redis-benchmark to CPU 0 (taskset), which
//                      lowers run-to-run noise on small machines
//   REDIS_SERVER / REDIS_BENCHMARK   binaries to use (default: from PATH)
//
// Both servers and all temporary directories are removed at exit, including on error and SIGINT.

import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, cleanup, freePort, mkTmp, ping, startServer } from './processes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const RESULTS = path.join(HERE, 'RESULTS.md');

const envInt = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return n;
};

const N_P1 = envInt('BENCH_N', 200000);
const N_P16 = envInt('BENCH_N_PIPELINE', 2000000);
const CLIENTS = envInt('BENCH_CLIENTS', 50);
const REPEAT = envInt('BENCH_REPEAT', 1);
const TIMEOUT_S = envInt('BENCH_TIMEOUT_S', 600);
const WRITE = process.argv.includes('--write') || process.env.BENCH_WRITE === '1';
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const PIN = process.env.BENCH_PIN === '1';
const NCPU = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
const REDIS_BENCHMARK = process.env.REDIS_BENCHMARK || 'redis-benchmark';

const TESTS = ['PING_INLINE', 'SET', 'GET'];
const CONFIGS = [
  { pipeline: 1, n: N_P1, target: 0.8 },
  { pipeline: 16, n: N_P16, target: 0.6 },
];

// ---------------------------------------------------------------------------------------------
// helpers

/** [cmd, args] optionally wrapped in `taskset -c CPU` (taskset execs, so the pid stays the child's). */
function pinned(cpu, cmd, args) {
  return PIN && NCPU > 1 ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
}

/** Gracefully stop a server (SIGTERM, wait up to 10 s — lets node flush a --cpu-prof), then SIGKILL. */
async function stopServer(srv) {
  const child = srv.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = new Promise((r) => setTimeout(r, 10000, 'timeout'));
  if ((await Promise.race([gone, timer])) === 'timeout') child.kill('SIGKILL');
}

/** Parse redis-benchmark --csv output: { TEST: rps }. */
function parseCsv(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const cells = line
      .trim()
      .split(',')
      .map((c) => c.replace(/^"|"$/g, ''));
    if (cells.length < 2 || cells[0] === 'test') continue;
    const rps = Number(cells[1]);
    if (cells[0] && Number.isFinite(rps)) out[cells[0]] = rps;
  }
  return out;
}

/** Run redis-benchmark once against `port` for `tests`; returns { rps: {TEST: n}, seconds, noise }. */
function runBenchmark(port, pipeline, n, tests = TESTS) {
  const args = [
    '-h', '127.0.0.1', '-p', String(port),
    '-c', String(CLIENTS), '-P', String(pipeline), '-n', String(n),
    '-t', tests.map((t) => t.toLowerCase()).join(','),
    '--csv',
  ];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(...pinned(0, REDIS_BENCHMARK, args), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[bench] redis-benchmark killed after ${TIMEOUT_S}s`;
      child.kill('SIGKILL');
    }, TIMEOUT_S * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const rps = parseCsv(stdout);
      const missing = tests.filter((t) => !(t in rps));
      // redis-benchmark prints server errors on stdout ("Error from server: ...") or stderr
      const noise = (stderr + stdout.split('\n').filter((l) => l && !l.startsWith('"')).join('\n')).trim();
      if (code !== 0 || missing.length) {
        reject(
          new Error(
            `redis-benchmark ${args.join(' ')} failed (exit ${code ?? signal}, missing ${missing.join(',') || '-'}):\n` +
              `${stdout}\n${stderr}`,
          ),
        );
        return;
      }
      resolve({ rps, seconds, noise });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const fmtInt = (x) => Math.round(x).toLocaleString('en-US');

function machineFacts() {
  const tryExec = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  };
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism ? os.availableParallelism() : cpus.length,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redisServer: tryExec(REDIS_SERVER, ['--version']),
    redisBenchmark: tryExec(REDIS_BENCHMARK, ['--version']),
  };
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} not found: build first (npx tsc -p .)`);
  const facts = machineFacts();

  const [oursPort, redisPort] = [await freePort(), await freePort()];
  const oursDir = mkTmp('inferdb-bench-');
  const redisDir = mkTmp('redis-bench-');

  // Same persistence settings on both sides: no RDB snapshots, no AOF.
  const ours = await startServer(
    'inferdb',
    ...pinned(NCPU - 1, process.execPath, [...NODE_ARGS, MAIN, '--port', String(oursPort), '--dir', oursDir, '--save', '', '--appendonly', 'no']),
    oursPort,
    oursDir,
  );
  const redis = await startServer(
    'redis-server',
    ...pinned(NCPU - 1, REDIS_SERVER, ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--save', '', '--appendonly', 'no', '--daemonize', 'no']),
    redisPort,
    redisDir,
  );
  const servers = [ours, redis];
  console.error(`inferdb on ${oursPort} (pid ${ours.child.pid}), redis-server on ${redisPort} (pid ${redis.child.pid})`);

  // Short untimed warm-up on both (JIT for node, connection setup, allocator), not recorded.
  for (const srv of servers) {
    for (const cfg of CONFIGS) {
      await runBenchmark(srv.port, cfg.pipeline, Math.max(1000, Math.min(cfg.n, 50000 * cfg.pipeline) >> 2));
    }
  }

  // samples[name][pipeline][test] = [rps, ...]
  const samples = {};
  const notes = [];
  for (const srv of servers) {
    samples[srv.name] = {};
    for (const cfg of CONFIGS) samples[srv.name][cfg.pipeline] = Object.fromEntries(TESTS.map((t) => [t, []]));
  }

  // One redis-benchmark invocation per (test, pipeline, server), the two servers back to back, and
  // the order flipped at every step so that slow drifts of machine noise hit both sides alike.
  let step = 0;
  for (let rep = 0; rep < REPEAT; rep++) {
    for (const cfg of CONFIGS) {
      for (const t of TESTS) {
        const order = step++ % 2 === 0 ? [ours, redis] : [redis, ours];
        const line = [];
        for (const srv of order) {
          const r = await runBenchmark(srv.port, cfg.pipeline, cfg.n, [t]);
          samples[srv.name][cfg.pipeline][t].push(r.rps[t]);
          if (r.noise) notes.push(`${srv.name} ${t} -P ${cfg.pipeline}: ${r.noise.split('\n').slice(0, 5).join(' | ')}`);
          line.push(`${srv.name}=${fmtInt(r.rps[t])} (${r.seconds.toFixed(1)}s)`);
        }
        console.error(`[rep ${rep + 1}/${REPEAT}] ${t.padEnd(11)} -P ${String(cfg.pipeline).padEnd(2)} ${line.join('  ')}`);
      }
    }
  }

  // The servers must still be alive (a crash mid-run would have failed a benchmark, but check).
  for (const srv of servers) {
    if (!(await ping(srv.port))) notes.push(`${srv.name} did not answer PING after the run`);
  }

  // ---- table
  const rows = [];
  let allPass = true;
  for (const cfg of CONFIGS) {
    for (const t of TESTS) {
      const a = median(samples.inferdb[cfg.pipeline][t]);
      const b = median(samples['redis-server'][cfg.pipeline][t]);
      // ratio: median of the per-repetition ratios (each from a back-to-back pair), which is more
      // robust to machine noise than a ratio of medians; identical when BENCH_REPEAT=1
      const xs = samples.inferdb[cfg.pipeline][t];
      const ys = samples['redis-server'][cfg.pipeline][t];
      const ratio = median(xs.map((x, i) => x / ys[i]));
      const pass = ratio >= cfg.target;
      allPass &&= pass;
      rows.push(
        `| ${t} | ${cfg.pipeline} | ${fmtInt(a)} | ${fmtInt(b)} | ${(Math.floor(ratio * 100) / 100).toFixed(2)}x | ≥${cfg.target.toFixed(1)}x ${pass ? '✅ pass' : '❌ FAIL'} |`,
      );
    }
  }
  const table = [
    '| test | pipeline | inferdb req/s | redis-server req/s | ratio | target |',
    '|---|---:|---:|---:|---:|---|',
    ...rows,
  ].join('\n');

  const envUsed = ['BENCH_N', 'BENCH_N_PIPELINE', 'BENCH_CLIENTS', 'BENCH_REPEAT', 'BENCH_PIN', 'BENCH_NODE_ARGS']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${JSON.stringify(process.env[k])} `)
    .join('');
  const command = `${envUsed}node bench/redis-benchmark.mjs${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;

  const factsMd = [
    `- machine: ${facts.nproc} CPUs (nproc), ${facts.cpu}, ${facts.memGiB} GiB RAM, ${facts.platform}`,
    `- node: ${facts.node}`,
    `- redis-server: ${facts.redisServer}`,
    `- redis-benchmark: ${facts.redisBenchmark}`,
    `- settings: -c ${CLIENTS}, -n ${N_P1} at -P 1, -n ${N_P16} at -P 16, ` +
      `${REPEAT} repetition(s) (req/s: median per server; ratio: median of the back-to-back pair ratios), both servers with save "" and appendonly no; ` +
      (PIN && NCPU > 1 ? `servers pinned to CPU ${NCPU - 1}, redis-benchmark to CPU 0; ` : 'no CPU pinning; ') +
      `redis-benchmark runs on the same machine as the server under test`,
  ].join('\n');

  const raw =
    REPEAT > 1
      ? '\nRaw samples (req/s, in run order):\n' +
        CONFIGS.flatMap((cfg) =>
          TESTS.map(
            (t) =>
              `- ${t} -P ${cfg.pipeline}: inferdb ${samples.inferdb[cfg.pipeline][t].map(fmtInt).join(' / ')}; ` +
              `redis-server ${samples['redis-server'][cfg.pipeline][t].map(fmtInt).join(' / ')}`,
          ),
        ).join('\n') +
        '\n'
      : '';

  const report =
    `${table}\n\n` +
    `Overall: ${allPass ? '✅ all targets met' : '❌ some targets missed'} (targets: ≥0.8x redis-server at -P 1, ≥0.6x at -P 16)\n\n` +
    `${factsMd}\n` +
    raw +
    (notes.length ? `\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n` : '');

  console.log(report);

  if (WRITE) {
    const md =
      `# inferdb vs redis-server — redis-benchmark\n\n` +
      `Date: ${new Date().toISOString()}\n\n` +
      `Command: \`npx tsc -p . && ${command}\` (or \`npm run bench -- --write\`)\n\n` +
      report;
    fs.writeFileSync(RESULTS, md);
    console.error(`wrote ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
  }

  await Promise.all(servers.map(stopServer));
}

main()
  .then(() => {
    cleanup();
    process.exit(0);
  })
  .catch((e) => {
    process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
    cleanup();
    process.exit(1);
  });
