#!/usr/bin/env node
// Fuzzer (issue 10): random and mutated RESP frames, then corrupted model blobs, against one inferdb node; the node
// must stay up (same pid, PING answers), keep its memory within a bound, and answer valid commands correctly after.
//
//   npm run fuzz                                   # build, then 1,000,000 frames and 100 blobs per backend
//   node bench/fuzz.mjs --frames 30000 --blobs 10 --seed 42 --json=/tmp/fuzz.json
//
// Options (flag or environment variable):
//   --frames N        FUZZ_FRAMES       frames to send                            (default 1000000)
//   --seed S          FUZZ_SEED         PRNG seed, printed; the same seed gives the same frames per connection
//                                       and the same blobs (default: random)
//   --connections C   FUZZ_CONNECTIONS  fuzzing connections in parallel           (default 4)
//   --blobs B         FUZZ_BLOBS        corrupted blobs per backend (ONNX, TORCH, TF) (default 100)
//   --mem-bound MB    FUZZ_MEM_BOUND_MB allowed RSS growth, MB (default 200, see below)
//   --logdir DIR      FUZZ_LOGDIR       where the server log, anomalies and crash evidence are kept
//                                       (default: a new inferdb-fuzz-* folder in the temp dir; never removed)
//   --json[=FILE]                       print the JSON summary as the last stdout line (and write it to FILE)
//   FUZZ_SETTLE_MS     pause after FLUSHALL before a memory reading (default 5000)
//   FUZZ_CORE=1        let the server dump core (in its data folder) for gdb after a native crash
//   FUZZ_KEEP_SNAPSHOT=1  keep the last heap snapshot (last.heapsnapshot in the log folder) to look for leaks
//
// Crashes: the server's exit (or death seen by the 1 s PING monitor) is recorded with the frames each connection
// sent last (crash-N-recent-frames-connI.bin, the raw bytes) or the blob being stored (crash-blob-*.bin); the
// server is restarted and fuzzing goes on (at most 5 times), so that one run counts every crash; the run fails.
// "internal error" lines of the server log (exceptions a command handler threw, caught by the server) are counted
// and listed, without failing the run.
//
// Frames (bench/fuzz/frames.mjs): commands from the node's own COMMAND reply with random arguments at their arity
// and key positions, mutated valid commands (corpus; among them RESTORE of the typed keys' DUMP payloads, damaged
// and mostly signed again so that the decoders are reached), the same as inline commands, RESP protocol mutations
// and random bytes. Well-formed frames are pipelined in batches on long-lived connections, each batch followed by an
// ECHO sentinel: a batch must get exactly one reply per frame plus the sentinel's (else a "mismatch" anomaly) within
// 30 s (else a "hang" anomaly). Protocol mutations and random bytes go on a fresh connection each, followed by the
// sentinel and a half-close: outcomes are "recovered" (the sentinel came back), "protocol error" (the server
// answered -ERR Protocol error and closed, as Redis does) or "no reply" (e.g. a truncated frame ended by EOF); the
// server must close the connection within 10 s. Left out because they stop or wedge the test rather than exercise
// the node: SHUTDOWN, DEBUG, MONITOR, (P|S)(UN)SUBSCRIBE, blocking commands, WAIT, replication and cluster commands,
// MIGRATE, ACL, CLIENT KILL/PAUSE/REPLY/TRACKING, CONFIG SET/REWRITE (frames.mjs EXCLUDED).
//
// Blobs (bench/fuzz/blobs.mjs): mnist.onnx, pt-minimal.pt, creditcardfraud.pb / graph.pb mutated (bit flips,
// truncation, splices, zeroed or random ranges, duplicated ranges, junk appended), AI.MODELSTOREd, and every one
// that loads is AI.MODELEXECUTEd. A backend that cannot be loaded is reported as unavailable.
//
// Memory: RSS (/proc/<pid>/status VmRSS) and INFO memory (used_memory, heap_used, external_memory), each after
// FLUSHALL, a settle pause and a full GC in the server (SIGUSR2 -> heap snapshot, which collects first), once
// after a warm-up (every backend loaded and run once, so their one-off allocations are in the baseline), once
// between the frame and blob phases and once at the end. Bounds, checked at the end:
//   RSS growth <= 200 MB: V8 keeps its grown heap and glibc its arenas (one per worker thread) after a load peak,
//     tens of MB without any leak (measured: +50-130 MB); a leak of 200 bytes per frame over 1M frames exceeds it;
//   heap_used + external_memory growth <= 64 MB: what JS still references after a full GC (measured: ~+10 MB);
//   used_memory (the keyspace's accounting) back within 16 MB of the baseline.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { atCleanup, children, cleanup, freePort, ping } from './processes.mjs';
import { FrameGenerator, TYPED_KEYS, commandTable, encodeCommand } from './fuzz/frames.mjs';
import { ReplyReader } from './fuzz/replies.mjs';
import { backendModels, mutateBlob } from './fuzz/blobs.mjs';
import { Rng } from './fuzz/prng.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');
const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(ROOT, '../shared/testdata/redisai');
const require = createRequire(import.meta.url);
const Redis = require('ioredis').default ?? require('ioredis');

// ---------------------------------------------------------------------------------------------
// options

function option(flag, env, dflt) {
  const i = process.argv.findIndex((a) => a === flag || a.startsWith(flag + '='));
  if (i >= 0) return process.argv[i].includes('=') ? process.argv[i].split('=').slice(1).join('=') : process.argv[i + 1];
  return process.env[env] ?? dflt;
}
const num = (v, name) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
};
const FRAMES = num(option('--frames', 'FUZZ_FRAMES', 1000000), 'frames');
const SEED = num(option('--seed', 'FUZZ_SEED', Math.floor(Math.random() * 2 ** 31)), 'seed') >>> 0;
const CONNECTIONS = Math.max(1, num(option('--connections', 'FUZZ_CONNECTIONS', 4), 'connections'));
const BLOBS = num(option('--blobs', 'FUZZ_BLOBS', 100), 'blobs');
const MEM_BOUND_MB = num(option('--mem-bound', 'FUZZ_MEM_BOUND_MB', 200), 'mem-bound');
const USED_MEMORY_BOUND = 16 * 1024 * 1024;
const JS_MEMORY_BOUND = 64 * 1024 * 1024;
const SETTLE_MS = num(process.env.FUZZ_SETTLE_MS ?? 5000, 'FUZZ_SETTLE_MS');
const jsonArg = process.argv.find((a) => a === '--json' || a.startsWith('--json='));
const JSON_FILE = jsonArg?.includes('=') ? jsonArg.slice('--json='.length) : null;
const LOGDIR = option('--logdir', 'FUZZ_LOGDIR', null) ?? fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-fuzz-'));
fs.mkdirSync(LOGDIR, { recursive: true });

const BATCH = 16; // well-formed frames per pipelined write
const RECYCLE_EVERY = 3000; // frames per long-lived connection (resets MULTI, SELECT, HELLO 3 state)
const RESEED_EVERY = 25000; // frames between re-creations of the typed keys
const BATCH_TIMEOUT_MS = 30000;
const ONE_SHOT_TIMEOUT_MS = 10000;

const log = (...a) => process.stderr.write(a.join(' ') + '\n');

// ---------------------------------------------------------------------------------------------
// the server

let server = null; // { child, port, pid, logFile }
let serverStarts = 0;

async function startInferdb() {
  const port = await freePort();
  serverStarts++;
  const dataDir = path.join(LOGDIR, `data-${serverStarts}`);
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(LOGDIR, `server-${serverStarts}.log`);
  const fd = fs.openSync(logFile, 'a');
  // --heapsnapshot-signal: a heap snapshot starts with a full garbage collection, which settledMemory uses so
  // that garbage awaiting collection (freed Buffers count as external memory until then) is not taken for a leak
  const argv = ['--heapsnapshot-signal=SIGUSR2', MAIN, '--port', String(port), '--dir', dataDir, '--save', '', '--appendonly', 'no'];
  // FUZZ_CORE=1: allow a core dump (written to the data folder, as core_pattern permits) for gdb after a native crash
  const child =
    process.env.FUZZ_CORE === '1'
      ? spawn('bash', ['-c', 'ulimit -c unlimited; exec "$0" "$@"', process.execPath, ...argv], { cwd: dataDir, stdio: ['ignore', fd, fd] })
      : spawn(process.execPath, argv, { cwd: dataDir, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  children.add(child);
  child.on('exit', () => children.delete(child));
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`inferdb exited at start, see ${logFile}`);
    if (await ping(port)) return (server = { child, port, pid: child.pid, logFile, dataDir });
    await sleep(100);
  }
  throw new Error(`inferdb did not answer PING within 30 s, see ${logFile}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = () => server.child.exitCode === null && server.child.signalCode === null;
const exitInfo = () => `exit code ${server.child.exitCode}, signal ${server.child.signalCode}`;

const clients = new Set();
atCleanup(() => {
  for (const c of clients) c.disconnect();
});
function client() {
  const c = new Redis({ port: server.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: 60000 });
  c.on('error', () => {});
  clients.add(c);
  return c;
}

function memory(infoText) {
  const status = fs.readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  const field = (name) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(infoText)?.[1]);
  // heap / external figures and the client count help tell a leak (they grow) from allocator retention (RSS only)
  return {
    rss: rssKb * 1024,
    used_memory: field('used_memory'),
    heap_used: field('heap_used'),
    external_memory: field('external_memory'),
    connected_clients: field('connected_clients'),
  };
}
/** Full GC in the server: SIGUSR2 writes a heap snapshot (after a full GC) into its cwd; waits for it, deletes it. */
async function collectGarbage() {
  const snapshots = () => fs.readdirSync(server.dataDir).filter((f) => f.endsWith('.heapsnapshot'));
  for (const f of snapshots()) fs.rmSync(path.join(server.dataDir, f));
  process.kill(server.pid, 'SIGUSR2');
  const deadline = Date.now() + 60000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await sleep(250);
    const f = snapshots()[0];
    if (!f) continue;
    const size = fs.statSync(path.join(server.dataDir, f)).size;
    // written in one go, ending with a JSON '}' once complete
    if (size > 0 && size === lastSize && (await ping(server.port))) break;
    lastSize = size;
  }
  // FUZZ_KEEP_SNAPSHOT=1 keeps the last one in the log folder, to look for what holds memory
  for (const f of snapshots()) {
    if (process.env.FUZZ_KEEP_SNAPSHOT === '1') fs.renameSync(path.join(server.dataDir, f), path.join(LOGDIR, 'last.heapsnapshot'));
    else fs.rmSync(path.join(server.dataDir, f));
  }
}
async function settledMemory(c) {
  await c.call('FLUSHALL');
  await sleep(SETTLE_MS);
  await collectGarbage();
  return memory(`${await c.call('INFO', 'memory')}\n${await c.call('INFO', 'clients')}`);
}

// ---------------------------------------------------------------------------------------------
// typed keys and models

const MODELS = backendModels(DATA);
const modelOf = (backend) => MODELS.find((m) => m.backend === backend);
const ONE = fs.readFileSync(path.join(DATA, 'one.raw'));
const SCRIPT = `def bar(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] + tensors[1]
def with_args(tensors: List[Tensor], keys: List[str], args: List[str]):
    return tensors[0] * float(args[0])
`;
const available = { ONNX: false, TORCH: false, TF: false };

/** DUMP payloads of every typed key (taken once, after the first seeding): RESTORE fuzzing's raw material */
const dumps = [];
async function takeDumps(c) {
  for (const k of TYPED_KEYS) {
    const d = await c.callBuffer('DUMP', k).catch(() => null);
    if (d) dumps.push(d);
  }
  log(`${dumps.length} DUMP payloads for RESTORE mutations`);
}

/** (Re)creates the typed keys. Fuzzing goes on meanwhile, so each key is deleted and created in one MULTI. */
async function seedKeys(c) {
  const m = (b) => modelOf(b);
  const steps = [
    ['fz:str', ['SET', 'fz:str', 'hello']],
    ['fz:int', ['SET', 'fz:int', '42']],
    ['fz:list', ['RPUSH', 'fz:list', 'a', 'b', 'c', 'a']],
    ['fz:hash', ['HSET', 'fz:hash', 'f', 'v', 'g', '1']],
    ['fz:set', ['SADD', 'fz:set', 'a', 'b', 'c']],
    ['fz:zset', ['ZADD', 'fz:zset', '1', 'a', '2', 'b', '3', 'c']],
    ['fz:stream', ['XADD', 'fz:stream', '1-1', 'f', 'v'], ['XADD', 'fz:stream', '*', 'g', 'w'], ['XGROUP', 'CREATE', 'fz:stream', 'g', '0']],
    ['fz:tensor', ['AI.TENSORSET', 'fz:tensor', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4']],
    ['fz:in', ['AI.TENSORSET', 'fz:in', 'FLOAT', '1', '1', '28', '28', 'BLOB', ONE]],
    ['fz:ta', ['AI.TENSORSET', 'fz:ta', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3']],
    ['fz:tb', ['AI.TENSORSET', 'fz:tb', 'FLOAT', '2', '2', 'VALUES', '2', '3', '2', '3']],
  ];
  for (const [key, ...cmds] of steps) {
    const tx = c.multi().del(key);
    for (const [cmd, ...args] of cmds) tx.call(cmd, ...args);
    const res = await tx.exec().catch((e) => [[e]]);
    if (!res || res.some(([e]) => e)) stats.reseedFailures++;
  }
  // models load in a worker thread, which MULTI does not allow: delete, then store
  const models = [['fz:onnx', 'AI.MODELSTORE', 'fz:onnx', 'ONNX', 'CPU', 'BLOB', m('ONNX').blob]];
  if (available.TORCH) models.push(['fz:torch', 'AI.MODELSTORE', 'fz:torch', 'TORCH', 'CPU', 'BLOB', m('TORCH').blob]);
  if (available.TF) models.push(['fz:tf', 'AI.MODELSTORE', 'fz:tf', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB', MODELS[3].blob]);
  if (available.TORCH) models.push(['fz:script', 'AI.SCRIPTSTORE', 'fz:script', 'CPU', 'ENTRY_POINTS', '2', 'bar', 'with_args', 'SOURCE', SCRIPT]);
  for (const [key, cmd, ...args] of models) {
    await c.call('DEL', key);
    await c.call(cmd, ...args).catch(() => stats.reseedFailures++);
  }
}

async function probeBackends(c) {
  for (const b of Object.keys(available)) {
    const m = modelOf(b);
    try {
      available[b] = (await c.call('AI.MODELSTORE', `fz:probe:${b}`, b, 'CPU', ...m.storeArgs, 'BLOB', m.blob)) === 'OK';
    } catch (e) {
      log(`backend ${b} unavailable: ${e.message}`);
    }
  }
  await c.call('DEL', 'fz:probe:ONNX', 'fz:probe:TORCH', 'fz:probe:TF');
}

/** One MODELEXECUTE per backend, so the baseline memory includes each runtime's one-off allocations. */
async function warmUp(c) {
  for (const m of MODELS) {
    if (!available[m.backend]) continue;
    await c.call('AI.MODELSTORE', 'fz:warm', m.backend, 'CPU', ...m.storeArgs, 'BLOB', m.blob);
    const ins = m.inputs.map((_, i) => `fz:warm:in${i}`);
    for (let i = 0; i < ins.length; i++) await c.call('AI.TENSORSET', ins[i], ...m.inputs[i]);
    await c.call('AI.MODELEXECUTE', 'fz:warm', 'INPUTS', ins.length, ...ins, 'OUTPUTS', '1', 'fz:warm:out');
  }
  await c.call('AI.SCRIPTSTORE', 'fz:warm:s', 'CPU', 'ENTRY_POINTS', '1', 'bar', 'SOURCE', SCRIPT).catch(() => {});
}

// ---------------------------------------------------------------------------------------------
// statistics

const stats = {
  frames: { total: 0, bytes: 0, byCategory: { command: 0, corpus: 0, inline: 0, protocol: 0, random: 0 } },
  replies: { ok: 0, error: 0, unanswered: 0 },
  pipeline: { batches: 0, connections: 0, closedByServer: 0, closeReasons: {}, mismatches: 0, hangs: 0 },
  oneShot: { connections: 0, recovered: 0, protocolError: 0, otherReplyThenClose: 0, noReply: 0, garbledReply: 0, noCloseAfterEof: 0 },
  errorKinds: {},
  errorSamples: {},
  crashes: [],
  anomalies: [],
  pingFailures: 0,
  reseedFailures: 0,
};
let anomalyFileN = 0;
function anomaly(kind, detail, frames) {
  const entry = { kind, detail };
  if (frames) {
    const file = path.join(LOGDIR, `anomaly-${++anomalyFileN}-${kind}.bin`);
    fs.writeFileSync(file, Buffer.concat(frames.map((f) => f.bytes)));
    entry.framesFile = file;
  }
  stats.anomalies.push(entry);
  fs.appendFileSync(path.join(LOGDIR, 'anomalies.jsonl'), JSON.stringify(entry) + '\n');
  log(`anomaly: ${kind} ${detail}`);
}
function countReply(r) {
  if (r.error !== undefined) {
    stats.replies.error++;
    const k = String(r.error).split(' ')[0].slice(0, 24);
    stats.errorKinds[k] = (stats.errorKinds[k] ?? 0) + 1;
    // errors without an upper-case code (ERR, WRONGTYPE…) are not what Redis clients expect: keep an example
    if (!/^[A-Z]+$/.test(k) && Object.keys(stats.errorSamples).length < 50) stats.errorSamples[k] ??= String(r.error).slice(0, 200);
  } else stats.replies.ok++;
}

// ---------------------------------------------------------------------------------------------
// raw connections

class Conn {
  static open(port) {
    return new Promise((resolve) => {
      const sock = net.connect({ port, host: '127.0.0.1' });
      const c = new Conn(sock);
      sock.once('connect', () => resolve(c));
      sock.once('error', () => resolve(c)); // closed at once; the caller sees c.closed
    });
  }
  constructor(sock) {
    this.sock = sock;
    this.reader = new ReplyReader();
    this.replies = [];
    this.closed = false;
    this.garbled = null;
    this.waiter = null;
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      try {
        for (const r of this.reader.push(d)) this.replies.push(r);
      } catch (e) {
        this.garbled = e.message;
        sock.destroy();
      }
      this.check();
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.closed = true;
      this.check();
    });
  }
  check() {
    const w = this.waiter;
    if (w && ((w.n !== null && this.replies.length >= w.n) || this.closed)) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve({ replies: this.replies.splice(0, w.n ?? this.replies.length), closed: this.closed, timedOut: false });
    }
  }
  /** waits for n replies (or, n = null, for the close); resolves early on close, or on timeout */
  wait(n, ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve({ replies: this.replies.splice(0), closed: this.closed, timedOut: true });
      }, ms);
      this.waiter = { n, resolve, timer };
      this.check();
    });
  }
  destroy() {
    this.sock.destroy();
  }
}

let sentinelN = 0;
const sentinel = () => `fz-sentinel-${++sentinelN}`;

async function runBatch(conn, batch) {
  stats.pipeline.batches++;
  const token = sentinel();
  conn.sock.write(Buffer.concat([...batch.map((f) => f.bytes), encodeCommand(['ECHO', token])]));
  const res = await conn.wait(batch.length + 1, BATCH_TIMEOUT_MS);
  const answers = res.replies.slice(0, batch.length);
  answers.forEach(countReply);
  if (res.replies.length === batch.length + 1) {
    const last = res.replies[batch.length];
    if (last.value !== token && last.value !== 'QUEUED') {
      anomaly('mismatch', `sentinel answered ${JSON.stringify(last.value)?.slice(0, 80)}`, batch);
      stats.pipeline.mismatches++;
      return false;
    }
    return true;
  }
  stats.replies.unanswered += batch.length - answers.length;
  if (res.timedOut && !res.closed) {
    stats.pipeline.hangs++;
    anomaly('hang', `no reply to frame ${answers.length + 1} of a batch of ${batch.length} within ${BATCH_TIMEOUT_MS} ms (server ${alive() ? 'alive' : 'dead'})`, batch);
  } else if (conn.garbled) anomaly('garbled', conn.garbled, batch);
  else {
    stats.pipeline.closedByServer++;
    // what the server said last before closing (QUIT's +OK, a protocol error…), tallied for the report
    const last = answers.length ? String(answers[answers.length - 1].error ?? answers[answers.length - 1].value).slice(0, 40) : '(nothing)';
    stats.pipeline.closeReasons[last] = (stats.pipeline.closeReasons[last] ?? 0) + 1;
  }
  return false;
}

async function runOneShot(f) {
  stats.oneShot.connections++;
  const conn = await Conn.open(server.port);
  const token = sentinel();
  if (!conn.closed) {
    conn.sock.write(f.bytes);
    conn.sock.end(encodeCommand(['ECHO', token]));
  }
  const res = await conn.wait(null, ONE_SHOT_TIMEOUT_MS);
  conn.destroy();
  const sentinelSeen = res.replies.some((r) => r.value === token);
  for (const r of res.replies) if (r.value !== token) countReply(r);
  if (conn.garbled) stats.oneShot.garbledReply++;
  else if (sentinelSeen) stats.oneShot.recovered++;
  else if (res.replies.some((r) => r.error && /protocol error/i.test(r.error))) stats.oneShot.protocolError++;
  else if (res.replies.length) stats.oneShot.otherReplyThenClose++;
  else stats.oneShot.noReply++;
  if (res.timedOut) {
    stats.oneShot.noCloseAfterEof++;
    anomaly('no-close', `the server kept the connection ${ONE_SHOT_TIMEOUT_MS} ms after EOF`, [f]);
  }
}

// ---------------------------------------------------------------------------------------------
// the frame phase

let stop = false;
let taken = 0;
let nextReseed = RESEED_EVERY;
let reseeding = null;
const inflight = [];
// the last frames each connection sent, written out when the server dies (the monitor notices up to 1 s late)
const RECENT = 4000;
const recent = [];
const remember = (i, frames) => {
  const r = (recent[i] ??= []);
  r.push(...frames);
  if (r.length > RECENT * 2) r.splice(0, r.length - RECENT);
};

let restarting = null; // while the server is being restarted after a crash, workers wait on this
const MAX_RESTARTS = 5;

async function worker(i, table) {
  const gen = new FrameGenerator((SEED + Math.imul(i + 1, 0x9e3779b9)) >>> 0, table, dumps);
  let conn = null;
  let sinceOpen = 0;
  while (!stop && taken < FRAMES) {
    // a dead server: wait for the monitor to record it and restart one, rather than run frames into nothing
    while (!stop && !restarting && !alive()) await sleep(20);
    if (restarting) await restarting;
    const batch = [];
    let one = null;
    while (batch.length < BATCH && taken < FRAMES) {
      const f = gen.next();
      taken++;
      stats.frames.total++;
      stats.frames.bytes += f.bytes.length;
      stats.frames.byCategory[f.cat]++;
      if (f.oneShot) {
        one = f;
        break;
      }
      batch.push(f);
    }
    if (batch.length) {
      if (!conn || conn.closed) {
        conn = await Conn.open(server.port);
        stats.pipeline.connections++;
        sinceOpen = 0;
      }
      inflight[i] = batch;
      remember(i, batch);
      if (!(await runBatch(conn, batch))) {
        conn.destroy();
        conn = null;
      }
      sinceOpen += batch.length;
    }
    if (one && !stop) {
      inflight[i] = [one];
      remember(i, [one]);
      await runOneShot(one);
    }
    if (conn && sinceOpen >= RECYCLE_EVERY) {
      conn.destroy();
      conn = null;
    }
    if (taken >= nextReseed && !reseeding) {
      nextReseed += RESEED_EVERY;
      reseeding = seedKeys(ctl.current)
        .catch((e) => log(`re-seeding failed: ${e.message}`))
        .finally(() => (reseeding = null));
    }
  }
  conn?.destroy();
}

function crashed(phase, detail, frames) {
  const entry = { phase, detail: `${detail} (${exitInfo()})`, log: server.logFile };
  if (frames?.length) {
    entry.framesFile = path.join(LOGDIR, `crash-${stats.crashes.length + 1}-frames.bin`);
    fs.writeFileSync(entry.framesFile, Buffer.concat(frames.map((f) => f.bytes)));
  }
  stats.crashes.push(entry);
  log(`CRASH in ${phase}: ${entry.detail}; server log ${server.logFile}`);
}

/** Watches the server: process alive, PING answered. */
function monitor(onDeath) {
  let misses = 0;
  let busy = false;
  let fired = false;
  const child = server.child;
  const fire = () => {
    if (fired) return;
    fired = true;
    clearInterval(timer);
    onDeath();
  };
  child.once('exit', fire);
  const timer = setInterval(async () => {
    if (!alive()) return fire();
    if (busy) return;
    busy = true;
    if (await ping(server.port)) misses = 0;
    else {
      stats.pingFailures++;
      if (++misses === 15) anomaly('unresponsive', 'no PING answer for 15 s while the process is alive');
    }
    busy = false;
  }, 1000);
  return () => {
    clearInterval(timer);
    child.off('exit', fire);
  };
}

/** the control connection (seeding, measurements); replaced when the server is restarted after a crash */
const ctl = { current: null };

async function framePhase() {
  const reply = await ctl.current.call('COMMAND');
  const table = commandTable(reply);
  log(`fuzzing with ${table.length} commands from COMMAND, ${FRAMES} frames, ${CONNECTIONS} connections, seed ${SEED}`);
  const started = Date.now();
  let lastReport = started;
  const progress = setInterval(() => {
    const now = Date.now();
    if (now - lastReport >= 10000) {
      lastReport = now;
      log(`  ${stats.frames.total} frames, ${Math.round(stats.frames.total / ((now - started) / 1000))}/s, ${stats.replies.ok} ok / ${stats.replies.error} errors`);
    }
  }, 1000);
  // a crash is recorded (with each connection's last frames), then the server is restarted and fuzzing goes on,
  // so that one run counts every crash it can find; the run fails all the same
  let stopMonitor;
  const onDeath = () => {
    const n = stats.crashes.length + 1;
    crashed('frames', `the server died after ${stats.frames.total} frames`, inflight.flat());
    const files = recent.map((frames, i) => {
      const file = path.join(LOGDIR, `crash-${n}-recent-frames-conn${i}.bin`);
      fs.writeFileSync(file, Buffer.concat((frames ?? []).map((f) => f.bytes)));
      return file;
    });
    stats.crashes[n - 1].recentFrames = files;
    recent.length = 0;
    if (n > MAX_RESTARTS) {
      stop = true;
      return;
    }
    restarting = (async () => {
      await startInferdb();
      ctl.current = client();
      await seedKeys(ctl.current);
      stopMonitor = monitor(onDeath);
    })()
      .catch((e) => {
        log(`restart failed: ${e.message}`);
        stop = true;
      })
      .finally(() => (restarting = null));
  };
  stopMonitor = monitor(onDeath);
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => worker(i, table)));
  await reseeding;
  stopMonitor();
  clearInterval(progress);
  return (Date.now() - started) / 1000;
}

// ---------------------------------------------------------------------------------------------
// the blob phase

async function blobPhase() {
  const r = new Rng(SEED ^ 0x5bd1e995);
  const result = {};
  for (const backend of ['ONNX', 'TORCH', 'TF']) {
    const models = MODELS.filter((m) => m.backend === backend);
    const res = (result[backend] = { available: available[backend], models: models.map((m) => m.name), blobs: 0, loaded: 0, refused: 0, executedOk: 0, executeErrors: 0, crashes: 0, timeouts: 0, refusals: {} });
    if (!available[backend]) continue;
    let c = client();
    for (let n = 0; n < BLOBS; n++) {
      const m = models[n % models.length];
      const other = MODELS[(MODELS.indexOf(m) + 1) % MODELS.length].blob;
      const { kind, blob } = mutateBlob(r, m.blob, other);
      res.blobs++;
      let loaded = false;
      try {
        await c.call('AI.MODELSTORE', 'fz:blob', backend, 'CPU', ...m.storeArgs, 'BLOB', blob);
        loaded = true;
        res.loaded++;
      } catch (e) {
        if (/timeout/i.test(e.message)) res.timeouts++;
        else if (alive()) {
          res.refused++;
          const k = e.message.replace(/\d+/g, 'N').slice(0, 60);
          res.refusals[k] = (res.refusals[k] ?? 0) + 1;
        }
      }
      if (loaded) {
        try {
          const ins = m.inputs.map((_, i) => `fz:blob:in${i}`);
          for (let i = 0; i < ins.length; i++) await c.call('AI.TENSORSET', ins[i], ...m.inputs[i]);
          await c.call('AI.MODELEXECUTE', 'fz:blob', 'INPUTS', ins.length, ...ins, 'OUTPUTS', '1', 'fz:blob:out', 'TIMEOUT', '20000');
          res.executedOk++;
        } catch {
          if (alive()) res.executeErrors++;
        }
      }
      await sleep(alive() ? 0 : 200);
      if (!alive()) {
        res.crashes++;
        const file = path.join(LOGDIR, `crash-blob-${backend}-${n}.bin`);
        fs.writeFileSync(file, blob);
        crashed('blobs', `${backend} blob #${n} (${m.name}, ${kind}) ${loaded ? 'loaded, crashed at MODELEXECUTE' : 'crashed at MODELSTORE'}; blob saved as ${file}`);
        await startInferdb();
        c = client();
        await seedKeys(c);
      }
    }
    c.disconnect();
    clients.delete(c);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// afterwards: valid commands still work

async function finalChecks(c) {
  const checks = [];
  const check = async (name, fn) => {
    try {
      const detail = await fn();
      checks.push({ name, ok: detail === true, ...(detail === true ? {} : { detail: String(detail) }) });
    } catch (e) {
      checks.push({ name, ok: false, detail: e.message });
    }
  };
  const eq = (a, b) => JSON.stringify(a) === JSON.stringify(b) || `got ${JSON.stringify(a)?.slice(0, 200)}, expected ${JSON.stringify(b)}`;
  const floats = (b) => Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)));
  const runModel = async (m, key) => {
    await c.call('AI.MODELSTORE', key, m.backend, 'CPU', ...m.storeArgs, 'BLOB', m.blob);
    const ins = m.inputs.map((_, i) => `${key}:in${i}`);
    for (let i = 0; i < ins.length; i++) await c.call('AI.TENSORSET', ins[i], ...m.inputs[i]);
    await c.call('AI.MODELEXECUTE', key, 'INPUTS', ins.length, ...ins, 'OUTPUTS', '1', `${key}:out`);
    return floats(await c.callBuffer('AI.TENSORGET', `${key}:out`, 'BLOB'));
  };
  await check('PING', async () => eq(await c.call('PING'), 'PONG'));
  await check('SET/GET', async () => (await c.call('SET', 'chk:s', 'value')) === 'OK' && eq(await c.call('GET', 'chk:s'), 'value'));
  await check('LPUSH/LRANGE', async () => eq([await c.call('LPUSH', 'chk:l', 'a', 'b', 'c'), await c.call('LRANGE', 'chk:l', '0', '-1')], [3, ['c', 'b', 'a']]));
  await check('HSET/HGETALL', async () => eq([await c.call('HSET', 'chk:h', 'f1', 'v1', 'f2', 'v2'), await c.call('HGETALL', 'chk:h')], [2, ['f1', 'v1', 'f2', 'v2']]));
  await check('ZADD/ZRANGE', async () => eq([await c.call('ZADD', 'chk:z', '2', 'b', '1', 'a'), (await c.call('ZRANGE', 'chk:z', '0', '-1', 'WITHSCORES')).flat()], [2, ['a', '1', 'b', '2']]));
  await check('XADD/XRANGE', async () => eq([await c.call('XADD', 'chk:x', '1-1', 'f', 'v'), await c.call('XRANGE', 'chk:x', '-', '+')], ['1-1', [['1-1', ['f', 'v']]]]));
  await check('AI.TENSORSET/TENSORGET', async () =>
    eq([await c.call('AI.TENSORSET', 'chk:t', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4'), await c.call('AI.TENSORGET', 'chk:t', 'META', 'VALUES')], ['OK', ['dtype', 'FLOAT', 'shape', [2, 2], 'values', ['1', '2', '3', '4']]]),
  );
  await check('ONNX mnist + one.raw gives digit 1', async () => {
    const out = await runModel(modelOf('ONNX'), 'chk:onnx');
    return eq(out.indexOf(Math.max(...out)), 1);
  });
  if (available.TORCH) await check('TORCH pt-minimal gives a+b', async () => eq(await runModel(modelOf('TORCH'), 'chk:torch'), [4, 6, 4, 6]));
  if (available.TF) await check('TF graph.pb gives a*b', async () => eq(await runModel(MODELS[3], 'chk:tf'), [4, 9, 4, 9]));
  await check('DBSIZE', async () => eq(await c.call('DBSIZE'), 6 + 3 + (available.TORCH ? 4 : 0) + (available.TF ? 4 : 0)));
  return checks;
}

// ---------------------------------------------------------------------------------------------
// main

const mb = (b) => (b / 1048576).toFixed(1);
function table(rows) {
  const w = [0, 0];
  for (const r of rows) r.forEach((c, i) => (w[i] = Math.max(w[i], String(c).length)));
  return rows.map((r) => `| ${String(r[0]).padEnd(w[0])} | ${String(r[1]).padStart(w[1])} |`).join('\n');
}

async function main() {
  const t0 = Date.now();
  log(`seed ${SEED} (rerun with --seed ${SEED}); logs in ${LOGDIR}`);
  await startInferdb();
  const firstPid = server.pid;
  ctl.current = client();
  await probeBackends(ctl.current);
  await warmUp(ctl.current);
  const before = await settledMemory(ctl.current);
  await seedKeys(ctl.current);
  await takeDumps(ctl.current);

  const frameSeconds = FRAMES > 0 ? await framePhase() : 0;
  // between the phases, so growth can be told apart: frames vs model loading
  const afterFrames = alive() && BLOBS > 0 ? await settledMemory(ctl.current) : null;
  let blobs = {};
  if (alive() && BLOBS > 0) {
    log(`model blobs: ${BLOBS} per backend`);
    ctl.current.disconnect();
    blobs = await blobPhase();
  }
  let after = null;
  let checks = [];
  if (alive()) {
    const c = client();
    await c.call('SELECT', '0');
    after = await settledMemory(c);
    checks = await finalChecks(c);
    c.disconnect();
  }
  // exceptions the server caught in a command handler ("internal error in '<cmd>'"): bugs, though not crashes
  const internalErrors = {};
  for (let n = 1; n <= serverStarts; n++) {
    const text = fs.readFileSync(path.join(LOGDIR, `server-${n}.log`), 'utf8');
    for (const m of text.matchAll(/internal error in '([^']*)': ([^\n]*)/g)) {
      const k = `${m[1]}: ${m[2].slice(0, 100)}`;
      internalErrors[k] = (internalErrors[k] ?? 0) + 1;
    }
  }
  stats.internalErrors = internalErrors;
  const samePid = stats.crashes.length === 0 && server.pid === firstPid && alive();
  const rssGrowth = after ? after.rss - before.rss : null;
  const jsGrowth = after ? after.heap_used + after.external_memory - (before.heap_used + before.external_memory) : null;
  const memOk = after !== null && rssGrowth <= MEM_BOUND_MB * 1048576 && after.used_memory - before.used_memory <= USED_MEMORY_BOUND && jsGrowth <= JS_MEMORY_BOUND;
  const blobCrashes = Object.values(blobs).reduce((s, b) => s + b.crashes, 0);
  const summary = {
    seed: SEED,
    framesRequested: FRAMES,
    connections: CONNECTIONS,
    durationSeconds: Math.round((Date.now() - t0) / 100) / 10,
    frameSeconds: Math.round(frameSeconds * 10) / 10,
    framesPerSecond: frameSeconds ? Math.round(stats.frames.total / frameSeconds) : 0,
    ...stats,
    anomalies: stats.anomalies.slice(0, 50),
    anomalyCount: stats.anomalies.length,
    blobs,
    crashCount: stats.crashes.length,
    samePid,
    memory: { before, afterFrames, after, rssGrowth, jsGrowth, boundBytes: MEM_BOUND_MB * 1048576, usedMemoryBoundBytes: USED_MEMORY_BOUND, jsBoundBytes: JS_MEMORY_BOUND, ok: memOk },
    checks,
    checksOk: checks.length > 0 && checks.every((c) => c.ok),
    logDir: LOGDIR,
    node: process.version,
    cpus: os.cpus().length,
  };
  const hardAnomalies = stats.anomalies.filter((a) => a.kind !== 'unresponsive').length;
  summary.passed = stats.crashes.length === 0 && samePid && memOk && summary.checksOk && hardAnomalies === 0 && stats.frames.total === FRAMES;
  fs.writeFileSync(path.join(LOGDIR, 'summary.json'), JSON.stringify(summary, null, 2));

  const rows = [
    ['seed', SEED],
    ['frames sent', stats.frames.total],
    ...Object.entries(stats.frames.byCategory).map(([k, v]) => [`  ${k}`, v]),
    ['bytes sent', stats.frames.bytes],
    ['frames/s', summary.framesPerSecond],
    ['replies ok', stats.replies.ok],
    ['replies error', stats.replies.error],
    ['frames unanswered (connection closed)', stats.replies.unanswered],
    ['pipelined connections closed by the server', stats.pipeline.closedByServer],
    ['one-shot connections', stats.oneShot.connections],
    ['  recovered (sentinel answered)', stats.oneShot.recovered],
    ['  protocol error + close', stats.oneShot.protocolError],
    ['  other reply, then close at EOF', stats.oneShot.otherReplyThenClose],
    ['  no reply, close at EOF', stats.oneShot.noReply],
    ['hangs / mismatches / no-close / garbled', `${stats.pipeline.hangs} / ${stats.pipeline.mismatches} / ${stats.oneShot.noCloseAfterEof} / ${stats.oneShot.garbledReply}`],
    ['PING misses (1 s timeout, loaded machine)', stats.pingFailures],
    ['typed-key re-seeding steps failed (raced by fuzzing)', stats.reseedFailures],
    ['internal errors caught by the server (see its log)', Object.values(internalErrors).reduce((a, b) => a + b, 0)],
    ...Object.entries(blobs).map(([b, r]) => [`blobs ${b} (${r.models.join(', ')})`, r.available ? `${r.blobs} sent, ${r.loaded} loaded (${r.executedOk} ran ok, ${r.executeErrors} run errors), ${r.refused} refused, ${r.timeouts} timeouts, ${r.crashes} crashes` : 'backend unavailable']),
    ['crashes', stats.crashes.length],
    ['same pid throughout', samePid],
    ['RSS before / after frames / after all (MB)', `${mb(before.rss)} / ${afterFrames ? mb(afterFrames.rss) : '-'} / ${after ? mb(after.rss) : '-'}`],
    ['used_memory before / after (MB)', `${mb(before.used_memory)} / ${after ? mb(after.used_memory) : '-'}`],
    ['heap_used + external after a full GC, before / after (MB)', `${mb(before.heap_used + before.external_memory)} / ${after ? mb(after.heap_used + after.external_memory) : '-'}`],
    ['connected clients before / after', `${before.connected_clients} / ${after ? after.connected_clients : '-'}`],
    [`memory bound (RSS +${MEM_BOUND_MB} MB, used_memory +16 MB, heap+external +64 MB)`, memOk ? 'held' : 'EXCEEDED'],
    ['checks afterwards', `${checks.filter((c) => c.ok).length}/${checks.length} passed`],
    ['duration (s)', summary.durationSeconds],
    ['result', summary.passed ? 'PASSED' : 'FAILED'],
  ];
  console.log(table(rows));
  for (const c of checks.filter((x) => !x.ok)) console.log(`check failed: ${c.name}: ${c.detail}`);
  for (const c of stats.crashes) console.log(`crash: ${c.phase}: ${c.detail}`);
  for (const [k, n] of Object.entries(internalErrors)) console.log(`internal error x${n}: ${k}`);
  console.log(`logs, anomalies and summary.json in ${LOGDIR}`);
  if (JSON_FILE) fs.writeFileSync(JSON_FILE, JSON.stringify(summary, null, 2));
  if (jsonArg) console.log(JSON.stringify(summary));
  cleanup();
  process.exit(summary.passed ? 0 : 1);
}

main().catch((e) => {
  log(`fuzz failed: ${e?.stack ?? e}`);
  cleanup();
  process.exit(2);
});
