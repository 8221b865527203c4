// Streams and sorted sets next to redis-server, same run, same machine: XADD, XREADGROUP (COUNT 10, each read
// acknowledged by nobody: the PEL grows), ZADD, ZRANGE throughput with redis-benchmark (50 clients, pipeline 16),
// then 1M-entry stream figures (XADD fill time, XRANGE of 100 entries at the middle, XTRIM MAXLEN to half) timed
// from one ioredis client. Prints a markdown table; `--write` puts it in bench/STREAMS-RESULTS.md.
//
//   npm run bench:streams [-- --write]
//   BENCH_N (default 200000) requests per redis-benchmark test; BENCH_BIG (default 1000000) entries

import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_N ?? 200000);
const BIG = Number(process.env.BENCH_BIG ?? 1000000);
const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));
const children = new Set();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function start(kind) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-sbench-'));
  const args = ['--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir];
  const proc = kind === 'redis' ? spawn(REDIS_SERVER, args) : spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), ...args]);
  children.add(proc);
  await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
    proc.on('exit', () => reject(new Error(`${kind} exited:\n${out}`)));
  });
  return { port, proc, dir };
}

function redisBenchmark(port, title, args) {
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-n', String(N), '-c', '50', '-P', '16', '-r', '100000', '--csv', ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = out.trim().split('\n').pop();
  const rps = Number(JSON.parse('[' + line + ']')[1]);
  return { title, rps };
}

async function runOne(kind) {
  const s = await start(kind);
  const r = new Redis({ port: s.port, host: '127.0.0.1' });
  const rows = {};
  rows.XADD = redisBenchmark(s.port, 'XADD', ['XADD', 'bs', '*', 'field', '__rand_int__']).rps;
  await r.xgroup('CREATE', 'bs', 'g', '0');
  rows['XREADGROUP COUNT 10'] = redisBenchmark(s.port, 'XREADGROUP', ['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'STREAMS', 'bs', '>']).rps;
  rows.ZADD = redisBenchmark(s.port, 'ZADD', ['ZADD', 'bz', '__rand_int__', 'm:__rand_int__']).rps;
  rows['ZRANGE 0 9 WITHSCORES'] = redisBenchmark(s.port, 'ZRANGE', ['ZRANGE', 'bz', '0', '9', 'WITHSCORES']).rps;
  // a large stream, timed from one client
  await r.del('big');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < BIG; i += 1000) {
    const p = r.pipeline();
    for (let j = 1; j <= 1000; j++) p.xadd('big', `${i + j}-0`, 'f', 'v');
    await p.exec();
  }
  const fillS = Number(process.hrtime.bigint() - t0) / 1e9;
  const t1 = process.hrtime.bigint();
  for (let k = 0; k < 1000; k++) await r.xrange('big', `${BIG / 2 + k}`, '+', 'COUNT', 100);
  const xrangeUs = Number(process.hrtime.bigint() - t1) / 1e3 / 1000;
  const t2 = process.hrtime.bigint();
  await r.xtrim('big', 'MAXLEN', BIG / 2);
  const trimMs = Number(process.hrtime.bigint() - t2) / 1e6;
  const t3 = process.hrtime.bigint();
  await r.xtrim('big', 'MAXLEN', '~', BIG / 4);
  const trimApproxMs = Number(process.hrtime.bigint() - t3) / 1e6;
  r.disconnect();
  s.proc.kill('SIGKILL');
  children.delete(s.proc);
  fs.rmSync(s.dir, { recursive: true, force: true });
  return { rows, fillS, xrangeUs, trimMs, trimApproxMs };
}

const ours = await runOne('inferdb');
const theirs = await runOne('redis');
const lines = [];
lines.push(`# Streams and sorted sets: inferdb vs redis-server ${execFileSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1]}`);
lines.push('');
lines.push(`Measured ${new Date().toISOString().slice(0, 16)}Z on ${os.cpus().length} shared cores (${os.cpus()[0]?.model.trim()}), same run, one server at a time;`);
lines.push(`redis-benchmark -n ${N} -c 50 -P 16 -r 100000. \`npm run bench:streams\` reproduces it.`);
lines.push('');
lines.push('| command | inferdb req/s | redis-server req/s | ratio |');
lines.push('|---|---:|---:|---:|');
for (const k of Object.keys(ours.rows)) {
  lines.push(`| ${k} | ${Math.round(ours.rows[k])} | ${Math.round(theirs.rows[k])} | ${(ours.rows[k] / theirs.rows[k]).toFixed(2)} |`);
}
lines.push('');
lines.push(`Large stream (${BIG} entries, one ioredis client):`);
lines.push('');
lines.push('| measure | inferdb | redis-server |');
lines.push('|---|---:|---:|');
lines.push(`| fill with XADD (pipelines of 1000) | ${ours.fillS.toFixed(2)} s | ${theirs.fillS.toFixed(2)} s |`);
lines.push(`| XRANGE of 100 entries from the middle, per call | ${ours.xrangeUs.toFixed(0)} µs | ${theirs.xrangeUs.toFixed(0)} µs |`);
lines.push(`| XTRIM MAXLEN ${BIG / 2} (exact, removes ${BIG / 2}) | ${ours.trimMs.toFixed(1)} ms | ${theirs.trimMs.toFixed(1)} ms |`);
lines.push(`| XTRIM MAXLEN ~ ${BIG / 4} (whole nodes, LIMIT 10000 by default) | ${ours.trimApproxMs.toFixed(2)} ms | ${theirs.trimApproxMs.toFixed(2)} ms |`);
const text = lines.join('\n') + '\n';
process.stdout.write(text);
if (process.argv.includes('--write')) fs.writeFileSync(path.join(ROOT, 'bench/STREAMS-RESULTS.md'), text);
process.exit(0);
