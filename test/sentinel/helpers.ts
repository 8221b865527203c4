// Helpers for the sentinel tests: free ports, sentinel processes (Debian's redis-sentinel or ours) with their
// config files in a temp dir, polling, INFO parsing.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      last = await f();
      if (ok(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)} ${lastErr ? String(lastErr) : ''}`);
}

export function infoFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** A port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** One command on a fresh connection; null if the server cannot be reached. */
export async function once(port: number, ...args: (string | number)[]): Promise<unknown> {
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: true });
  r.on('error', () => {});
  try {
    return await r.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    r.disconnect();
  }
}

export interface SentinelProc {
  port: number;
  conf: string;
  proc: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
  /** SIGKILL without waiting */
  kill: () => void;
}

export interface SentinelOptions {
  masterName?: string;
  quorum?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** extra lines for the config file */
  extra?: string[];
}

export function sentinelConfig(port: number, masterPort: number, dir: string, o: SentinelOptions = {}): string {
  const name = o.masterName ?? 'mymaster';
  return [
    `port ${port}`,
    'bind 127.0.0.1',
    'daemonize no',
    'logfile ""',
    `dir ${dir}`,
    `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${o.quorum ?? 2}`,
    `sentinel down-after-milliseconds ${name} ${o.downAfterMs ?? 1000}`,
    `sentinel failover-timeout ${name} ${o.failoverTimeoutMs ?? 3000}`,
    `sentinel parallel-syncs ${name} 1`,
    ...(o.extra ?? []),
    '',
  ].join('\n');
}

/** Starts a sentinel: 'real' is Debian's redis-sentinel, 'ours' is dist/main.js --sentinel. */
export async function startSentinel(kind: 'real' | 'ours', masterPort: number, dir: string, o: SentinelOptions = {}): Promise<SentinelProc> {
  const port = await freePort();
  const conf = path.join(dir, `sentinel-${port}.conf`);
  fs.writeFileSync(conf, sentinelConfig(port, masterPort, dir, o));
  return runSentinel(kind, port, conf);
}

/** Starts a sentinel from an existing config file (a restart keeps the state it saved there). */
export async function runSentinel(kind: 'real' | 'ours', port: number, conf: string): Promise<SentinelProc> {
  const proc =
    kind === 'real'
      ? spawn('redis-sentinel', [conf], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [MAIN, '--sentinel', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await until(
    `sentinel on ${port} to answer`,
    () => once(port, 'PING'),
    (v) => v === 'PONG',
    10000,
    50,
  ).catch((e) => {
    proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${out}`);
  });
  return {
    port,
    conf,
    proc,
    output: () => out,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Flat [k, v, k, v…] (RESP2) or a map (RESP3) → object. */
export function kv(x: unknown): Record<string, string> {
  if (x instanceof Map) return Object.fromEntries([...x].map(([k, v]) => [String(k), String(v)]));
  const a = x as unknown[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[String(a[i])] = String(a[i + 1]);
  return out;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
