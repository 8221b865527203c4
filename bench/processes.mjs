// Process bookkeeping shared by the benchmarks: every server, child and temp dir they start is registered
// here and torn down exactly once, on normal exit, on a signal, and on an uncaught error.

import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const children = new Set();
const tmpDirs = new Set();
const onCleanup = [];
let cleanedUp = false;

/** Registers extra teardown work (e.g. closing clients), run before the children are killed. */
export function atCleanup(fn) {
  onCleanup.push(fn);
}

/** Kills every registered child and removes the temp dirs (also runs by itself at exit). */
export function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const fn of onCleanup) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  children.clear();
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  tmpDirs.clear();
}

process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig} received, stopping servers\n`);
    cleanup();
    process.exit(130);
  });
}
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.on(ev, (e) => {
    process.stderr.write(`bench failed: ${e?.stack ?? e}\n`);
    cleanup();
    process.exit(1);
  });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A temp dir removed at cleanup. */
export function mkTmp(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.add(dir);
  return dir;
}

/** One PING over a fresh connection; resolves true on +PONG. */
export function ping(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

/** Spawns a server and waits until it answers PING (or fails with its output). */
export async function startServer(name, cmd, args, port, cwd) {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const collect = (d) => {
    output += d.toString();
    if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
    children.delete(child);
  });
  child.on('error', (e) => (exited = { error: String(e) }));
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${name} exited before answering PING (${JSON.stringify(exited)}):\n${output}`);
    if (await ping(port)) return { name, port, child, output: () => output };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer PING on port ${port} within 20s:\n${output}`);
}

/** A positive number from the environment, or the default; anything else stops the benchmark. */
export function envNum(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/** A command's trimmed output (versions, uptime) for the results' notes, or 'unknown'. */
export function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}
