// /metrics (Prometheus text exposition), LATENCY (against a real redis-server), and log lines (text / JSON,
// logfile), with real server processes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { startServer, encode, rawExchange, type TestServer } from '../helpers/server';
import { REDIS_SERVER } from '../helpers/redis-reference';
import { replyEnd } from '../helpers/resp';
import { sumModel } from '../helpers/onnx-models';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function httpGet(port: number, urlPath: string, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses exposition format 0.0.4 strictly enough to catch mistakes: every sample belongs to a family with a TYPE
 * given before it, counters' samples end in _total, histograms' in _bucket/_sum/_count, labels and values parse,
 * a family's lines are not split.
 */
function parseExposition(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const closed = new Set<string>();
  let current = '';
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(m[3]);
        expect(types.has(m[2]), `second TYPE for ${m[2]}`).toBe(false);
        types.set(m[2], m[3]);
      }
      if (current !== m[2]) {
        if (current) closed.add(current);
        current = m[2];
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    const [, name, , labelText, valueText] = m!;
    const labels: Record<string, string> = {};
    if (labelText) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let at = 0;
      while (at < labelText.length) {
        re.lastIndex = at;
        const lm = re.exec(labelText);
        expect(lm, `bad labels: ${labelText}`).not.toBeNull();
        labels[lm![1]] = lm![2].replace(/\\(["\\n])/g, (_, ch) => (ch === 'n' ? '\n' : ch));
        at = re.lastIndex;
      }
    }
    expect(/^([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|NaN|[+-]Inf)$/.test(valueText), `bad value: ${line}`).toBe(true);
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    const family = [name, name.replace(/_total$/, ''), name.replace(/_(bucket|sum|count)$/, '')].find((f) => types.has(f));
    expect(family, `sample without TYPE: ${line}`).toBeDefined();
    expect(family).toBe(current);
    expect(closed.has(family!)).toBe(false);
    const type = types.get(family!);
    if (type === 'counter') expect(name, 'counter sample without _total').toBe(`${family}_total`);
    if (type === 'histogram') expect(['_bucket', '_sum', '_count'].map((s) => family + s)).toContain(name);
    if (type === 'gauge') expect(name).toBe(family);
    samples.push({ name, labels, value });
  }
  return samples;
}

async function scrape(port: number): Promise<Sample[]> {
  const r = await httpGet(port, '/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(r.body);
}

/** the value of one sample, NaN when absent */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s ? s.value : NaN;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('/metrics', () => {
  let srv: TestServer;
  let mport: number;
  let r: Redis;
  beforeAll(async () => {
    mport = await freePort();
    srv = await startServer(['--metrics-port', String(mport)]);
    r = srv.client();
  }, 30000);
  afterAll(async () => {
    await srv?.stop();
  });

  it('serves valid exposition whose counters and histograms move with commands', async () => {
    const before = await scrape(mport);
    const setBefore = value(before, 'inferdb_command_calls_total', { cmd: 'set' }) || 0;
    const countBefore = value(before, 'inferdb_command_latency_seconds_count', { cmd: 'set' }) || 0;
    const processedBefore = value(before, 'inferdb_commands_processed_total');
    const p = r.pipeline();
    for (let i = 0; i < 100; i++) p.set(`k${i}`, 'v');
    await p.exec();
    await r.call('config', 'set', 'nosuchparam', 'x').catch(() => undefined);
    const after = await scrape(mport);
    expect(value(after, 'inferdb_command_calls_total', { cmd: 'set' }) - setBefore).toBe(100);
    expect(value(after, 'inferdb_command_latency_seconds_count', { cmd: 'set' }) - countBefore).toBe(100);
    expect(value(after, 'inferdb_commands_processed_total') - processedBefore).toBeGreaterThanOrEqual(101);
    expect(value(after, 'inferdb_command_failed_calls_total', { cmd: 'config|set' })).toBe(1);
    expect(value(after, 'inferdb_errors_total', { code: 'ERR' })).toBeGreaterThanOrEqual(1);
    // buckets are cumulative and end at the count
    const buckets = after.filter((s) => s.name === 'inferdb_command_latency_seconds_bucket' && s.labels.cmd === 'set');
    expect(buckets.length).toBeGreaterThan(10);
    for (let i = 1; i < buckets.length; i++) {
      expect(Number(buckets[i].labels.le) > Number(buckets[i - 1].labels.le) || buckets[i].labels.le === '+Inf').toBe(true);
      expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    }
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(buckets.at(-1)!.value).toBe(value(after, 'inferdb_command_latency_seconds_count', { cmd: 'set' }));
    expect(value(after, 'inferdb_db_keys', { db: '0' })).toBe(await r.dbsize());
    expect(value(after, 'inferdb_connected_clients')).toBeGreaterThanOrEqual(1);
    // INFO memory fields, as INFO reports them
    const info = await r.info('memory');
    const maxmemory = Number(/maxmemory:(\d+)/.exec(info)![1]);
    expect(value(after, 'inferdb_memory_maxmemory')).toBe(maxmemory);
    expect(value(after, 'inferdb_memory_used_memory')).toBeGreaterThan(0);
    expect(value(after, 'inferdb_replication_role', { role: 'master' })).toBe(1);
    expect(value(after, 'inferdb_cluster_enabled')).toBe(0);
    // CONFIG RESETSTAT clears the histograms with the command stats
    await r.config('RESETSTAT');
    const reset = await scrape(mport);
    expect(value(reset, 'inferdb_command_latency_seconds_count', { cmd: 'set' })).toBeNaN();
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await httpGet(mport, '/')).status).toBe(404);
    expect((await httpGet(mport, '/metricsx')).status).toBe(404);
    expect((await httpGet(mport, '/metrics', 'POST')).status).toBe(405);
    expect((await httpGet(mport, '/metrics?x=1')).status).toBe(200);
  });

  it('counts model runs, errors, durations and batch sizes per model key, and device queues', async () => {
    const key = 'm"od\\el\n1';
    expect(await r.call('AI.MODELSTORE', key, 'ONNX', 'CPU', 'BLOB', sumModel(2))).toBe('OK');
    await r.call('AI.TENSORSET', 'a', 'FLOAT', 3, 'VALUES', 1, 2, 3);
    await r.call('AI.TENSORSET', 'b', 'FLOAT', 3, 'VALUES', 1, 2, 3);
    await r.call('AI.TENSORSET', 'bad', 'INT32', 3, 'VALUES', 1, 2, 3);
    for (let i = 0; i < 4; i++) expect(await r.call('AI.MODELEXECUTE', key, 'INPUTS', 2, 'a', 'b', 'OUTPUTS', 1, 'y')).toBe('OK');
    await expect(r.call('AI.MODELEXECUTE', key, 'INPUTS', 2, 'a', 'bad', 'OUTPUTS', 1, 'y')).rejects.toThrow();
    const info = (await r.call('AI.INFO', key)) as (string | number)[];
    const field = (n: string) => Number(info[info.indexOf(n) + 1]);
    const s = await scrape(mport);
    const labels = { db: '0', key };
    expect(value(s, 'inferdb_ai_model_runs_total', labels)).toBe(field('calls'));
    expect(field('calls')).toBe(5);
    expect(value(s, 'inferdb_ai_model_errors_total', labels)).toBe(field('errors'));
    expect(field('errors')).toBe(1);
    expect(value(s, 'inferdb_ai_model_samples_total', labels)).toBe(12); // 4 runs of batch 3
    expect(value(s, 'inferdb_ai_model_run_duration_seconds_total', labels)).toBeCloseTo(field('duration') / 1e6, 9);
    expect(value(s, 'inferdb_ai_model_info', { ...labels, backend: 'ONNX', device: 'CPU' })).toBe(1);
    expect(value(s, 'inferdb_ai_queue_length', { device: 'CPU' })).toBe(0);
    expect(value(s, 'inferdb_ai_queue_workers', { device: 'CPU' })).toBe(1);
    expect(value(s, 'inferdb_ai_queue_worker_busy_seconds_total', { device: 'CPU', worker: '1' })).toBeGreaterThan(0);
  }, 30000);
});

describe('/metrics of replication and cluster', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  it('shows the master offset and each replica offset and lag; the replica its link', async () => {
    const [mp, rp] = [await freePort(), await freePort()];
    const master = await startServer(['--metrics-port', String(mp)]);
    servers.push(master);
    const replica = await startServer(['--metrics-port', String(rp), '--replicaof', '127.0.0.1', String(master.port)]);
    servers.push(replica);
    const m = master.client();
    for (let i = 0; i < 20; i++) await m.set(`x${i}`, 'y'.repeat(100));
    // once the replica has acknowledged everything, its offset is the master's
    const s = await until('replica caught up', async () => {
      const x = await scrape(mp);
      const replicaOffset = x.find((v) => v.name === 'inferdb_replica_offset');
      const offset = value(x, 'inferdb_master_repl_offset');
      return replicaOffset && offset > 0 && replicaOffset.value === offset ? x : undefined;
    });
    expect(value(s, 'inferdb_connected_replicas')).toBe(1);
    const lag = s.find((v) => v.name === 'inferdb_replica_lag_seconds')!;
    expect(lag.labels.replica).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(lag.value).toBeGreaterThanOrEqual(0);
    const rs = await scrape(rp);
    expect(value(rs, 'inferdb_replication_role', { role: 'replica' })).toBe(1);
    expect(value(rs, 'inferdb_master_link_up')).toBe(1);
    expect(value(rs, 'inferdb_slave_repl_offset')).toBeGreaterThan(0);
  }, 60000);

  it('shows cluster state, slots and known nodes', async () => {
    const port = await freePort();
    const node = await startServer(['--metrics-port', String(port), '--cluster-enabled', 'yes']);
    servers.push(node);
    let s = await scrape(port);
    expect(value(s, 'inferdb_cluster_enabled')).toBe(1);
    expect(value(s, 'inferdb_cluster_slots_assigned')).toBe(0);
    expect(value(s, 'inferdb_cluster_known_nodes')).toBe(1);
    expect(value(s, 'inferdb_cluster_state_ok')).toBe(0);
    await node.client().call('CLUSTER', 'ADDSLOTSRANGE', 0, 16383);
    s = await until('cluster ok', async () => {
      const x = await scrape(port);
      return value(x, 'inferdb_cluster_state_ok') === 1 ? x : undefined;
    });
    expect(value(s, 'inferdb_cluster_slots_assigned')).toBe(16384);
    expect(value(s, 'inferdb_cluster_slots_ok')).toBe(16384);
    expect(value(s, 'inferdb_cluster_size')).toBe(1);
  }, 60000);
});

/** A redis-server with DEBUG allowed (Redis 7 refuses it by default), for LATENCY's reply shapes. */
async function startDebugRedis(): Promise<{ port: number; proc: ChildProcess; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-redis-lat-'));
  const port = await freePort();
  const proc = spawn(REDIS_SERVER!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--enable-debug-command', 'yes', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 15000);
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { port, proc, dir };
}

async function rawClient(port: number): Promise<{ send: (...args: string[]) => Promise<string>; sock: net.Socket }> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  return { sock, send: (...args) => rawExchange(sock, encode(...args), (t) => replyEnd(t) === t.length, 10000) };
}

/** integers masked: times and latencies differ between two servers, the shape must not */
const mask = (reply: string) => reply.replace(/:\d+\r\n/g, ':N\r\n');

describe.skipIf(!REDIS_SERVER)('LATENCY', () => {
  let ours: TestServer;
  let ref: { port: number; proc: ChildProcess; dir: string };
  let a: Awaited<ReturnType<typeof rawClient>>;
  let b: Awaited<ReturnType<typeof rawClient>>;
  beforeAll(async () => {
    ours = await startServer();
    ref = await startDebugRedis();
    a = await rawClient(ours.port);
    b = await rawClient(ref.port);
  }, 30000);
  afterAll(async () => {
    a?.sock.destroy();
    b?.sock.destroy();
    await ours?.stop();
    ref?.proc.kill('SIGKILL');
    if (ref) fs.rmSync(ref.dir, { recursive: true, force: true });
  });

  const both = async (...args: string[]) => [await a.send(...args), await b.send(...args)];

  it('records slow commands as Redis does: LATEST, HISTORY, RESET, GRAPH, HELP', async () => {
    for (const proto of ['2', '3']) {
      const [x, y] = await both('HELLO', proto);
      expect(x.slice(0, 1)).toBe(y.slice(0, 1));
      await both('LATENCY', 'RESET');
      // monitoring off: nothing is recorded
      await both('DEBUG', 'SLEEP', '0.03');
      let [h1, h2] = await both('LATENCY', 'HISTORY', 'command');
      expect(h1).toBe(h2);
      expect(h1).toBe('*0\r\n');
      // a threshold well above what a quick command can take on a loaded machine: one sample, the sleep's
      await both('CONFIG', 'SET', 'latency-monitor-threshold', '40');
      await both('LATENCY', 'RESET');
      await both('DEBUG', 'SLEEP', '0.1');
      [h1, h2] = await both('LATENCY', 'HISTORY', 'command');
      expect(mask(h1)).toBe(mask(h2));
      expect(mask(h1)).toBe('*1\r\n*2\r\n:N\r\n:N\r\n');
      const latency = Number(h1.split('\r\n')[3].slice(1));
      expect(latency).toBeGreaterThanOrEqual(100);
      // LATEST: our node may also have an eventloop entry; the command entry has Redis's shape
      const r1 = new Redis({ port: ours.port, lazyConnect: true });
      const r2 = new Redis({ port: ref.port, lazyConnect: true });
      try {
        const l1 = (await r1.call('LATENCY', 'LATEST')) as unknown[][];
        const l2 = (await r2.call('LATENCY', 'LATEST')) as unknown[][];
        const c1 = l1.find((e) => e[0] === 'command')!;
        const c2 = l2.find((e) => e[0] === 'command')!;
        expect(c1.map((v) => typeof v)).toEqual(c2.map((v) => typeof v));
        expect(c1).toHaveLength(4);
        expect(Math.abs((c1[1] as number) - Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(5);
        expect(c1[2]).toBe(latency);
        expect(c1[3]).toBeGreaterThanOrEqual(latency);
      } finally {
        r1.disconnect();
        r2.disconnect();
      }
      const [g1, g2] = await both('LATENCY', 'GRAPH', 'command');
      // title (latencies masked), the rule and the four rows of bars; the labels below are ages in seconds
      const graphShape = (g: string) => g.split('\n').slice(1, 7).map((l) => l.replace(/\d+/g, 'N'));
      expect(graphShape(g1)).toEqual(graphShape(g2));
      expect(g1.split('\n')[1]).toMatch(/command - high \d+ ms, low \d+ ms \(all time high \d+ ms\)$/);
      expect(await a.send('LATENCY', 'GRAPH', 'nosuch')).toBe(await b.send('LATENCY', 'GRAPH', 'nosuch'));
      expect(new Set(await both('LATENCY', 'RESET', 'command', 'nosuch')).size).toBe(1);
      [h1, h2] = await both('LATENCY', 'HISTORY', 'command');
      expect(h1).toBe(h2);
      expect(h1).toBe('*0\r\n');
      const [e1, e2] = await both('LATENCY', 'NOPE');
      expect(e1).toBe(e2);
      const [help1, help2] = await both('LATENCY', 'HELP');
      expect(help1).toBe(help2);
      const [w1, w2] = await both('LATENCY', 'HISTORY');
      expect(w1).toBe(w2);
      await both('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    }
  }, 60000);

  it('records event-loop stalls as eventloop events, and DOCTOR reports them', async () => {
    await a.send('HELLO', '2');
    await a.send('CONFIG', 'SET', 'latency-monitor-threshold', '20');
    // the watch measures from its first tick on: a short stall lets that tick happen
    await a.send('DEBUG', 'SLEEP', '0.02');
    await a.send('LATENCY', 'RESET');
    await a.send('DEBUG', 'SLEEP', '0.1');
    // the 10 ms timer of the watch fired at least 80 ms late (earlier, smaller stalls may be there too)
    await until('eventloop event of the 100 ms stall', async () => {
      const h = await a.send('LATENCY', 'HISTORY', 'eventloop');
      const latencies = h.split('\r\n').filter((_, i) => i % 3 === 0 && i > 0).map((l) => Number(l.slice(1)));
      return latencies.some((l) => l >= 80 && l < 1000);
    });
    const doctor = await a.send('LATENCY', 'DOCTOR');
    expect(doctor).toMatch(/eventloop: \d+ latency spikes? \(average \d+ms/);
    await a.send('LATENCY', 'RESET');
    await a.send('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  }, 30000);

  it('keeps per-command histograms for LATENCY HISTOGRAM', async () => {
    await a.send('HELLO', '2');
    for (let i = 0; i < 5; i++) await a.send('SET', 'h', String(i));
    const r1 = new Redis({ port: ours.port, lazyConnect: true });
    try {
      const reply = (await r1.call('LATENCY', 'HISTOGRAM', 'set', 'nosuch')) as unknown[];
      expect(reply[0]).toBe('set');
      const body = reply[1] as unknown[];
      expect(body[0]).toBe('calls');
      expect(body[1]).toBeGreaterThanOrEqual(5);
      expect(body[2]).toBe('histogram_usec');
      const points = body[3] as number[];
      expect(points.length % 2).toBe(0);
      expect(points.at(-1)).toBe(body[1]); // cumulative: the last bucket holds every call
    } finally {
      r1.disconnect();
    }
  });
});

describe('log lines', () => {
  it('writes one JSON object per line with --log-format json', async () => {
    const srv = await startServer(['--log-format', 'json', '--loglevel', 'verbose']);
    try {
      const c = srv.client({ retryStrategy: () => null });
      await c.config('SET', 'log-format', 'text');
      await c.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      await until('exit', async () => srv.proc.exitCode !== null);
      const lines = srv.output().split('\n').filter(Boolean);
      const json = lines.filter((l) => l.startsWith('{'));
      expect(json.length).toBeGreaterThan(0);
      for (const l of json) {
        const o = JSON.parse(l);
        expect(Object.keys(o)).toEqual(['ts', 'pid', 'role', 'level', 'msg']);
        expect(o.pid).toBe(srv.proc.pid);
        expect(o.role).toBe('master');
        expect(['debug', 'verbose', 'notice', 'warning']).toContain(o.level);
        expect(Number.isNaN(Date.parse(o.ts))).toBe(false);
      }
      expect(json.some((l) => JSON.parse(l).msg.startsWith('Ready to accept connections'))).toBe(true);
      // after CONFIG SET log-format text, Redis's text lines
      expect(lines.at(-1)).toMatch(new RegExp(`^${srv.proc.pid}:M \\d+ \\w+ \\d{4} [\\d:.]+ # Redis is now ready to exit, bye bye...$`));
    } finally {
      await srv.stop();
    }
  });

  it('appends to logfile instead of stdout', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-log-'));
    const file = path.join(dir, 'node.log');
    fs.writeFileSync(file, 'earlier line\n');
    const port = await freePort();
    const proc = spawn(process.execPath, [MAIN, '--port', String(port), '--dir', dir, '--logfile', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    try {
      await until('ready in the log file', async () => fs.readFileSync(file, 'utf8').includes('Ready to accept connections'));
      const text = fs.readFileSync(file, 'utf8');
      expect(text.startsWith('earlier line\n')).toBe(true);
      expect(text).toMatch(/\d+:M .* \* Ready to accept connections tcp on 127\.0\.0\.1 port \d+/);
      expect(stdout).toBe('');
    } finally {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
