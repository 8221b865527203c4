// Starts a real server process (dist/main.js) on a free loopback port, for tests.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import Redis, { type RedisOptions } from 'ioredis';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

export interface TestServer {
  port: number;
  dir: string;
  proc: ChildProcess;
  /** everything the process printed so far */
  output: () => string;
  /** an ioredis client; RESP3 by default (ioredis 6 sends HELLO 3) */
  client: (opts?: RedisOptions) => Redis;
  /** a raw TCP socket to the server */
  raw: () => Promise<net.Socket>;
  stop: () => Promise<void>;
}

export async function startServer(args: string[] = [], opts: { dir?: string } = {}): Promise<TestServer> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-test-'));
  const proc = spawn(process.execPath, [MAIN, ...args, ...(args.includes('--port') ? [] : ['--port', '0']), '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const ready = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 15000);
    const check = () => {
      const m = /Ready to accept connections tcp on .* port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  let port: number;
  try {
    port = await ready;
  } catch (e) {
    proc.kill('SIGKILL');
    if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const clients: Redis[] = [];
  const sockets: net.Socket[] = [];
  return {
    port,
    dir,
    proc,
    output: () => out,
    client: (o?: RedisOptions) => {
      const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, ...o });
      clients.push(r);
      return r;
    },
    raw: () =>
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.on('error', reject);
        sockets.push(s);
      }),
    stop: async () => {
      for (const c of clients) c.disconnect();
      for (const s of sockets) s.destroy();
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      }
      if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sends raw bytes and collects the reply bytes until `until` matches or the socket closes. */
export function rawExchange(sock: net.Socket, data: string | Buffer, until: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const done = () => {
      clearTimeout(timer);
      sock.off('data', onData);
      sock.off('close', onClose);
      resolve(got);
    };
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (until(got)) done();
    };
    const onClose = () => done();
    const timer = setTimeout(() => {
      sock.off('data', onData);
      reject(new Error(`timeout; got so far: ${JSON.stringify(got)}`));
    }, timeoutMs);
    sock.on('data', onData);
    sock.on('close', onClose);
    if (data.length) sock.write(data);
  });
}

/** RESP-encodes a command. */
export function encode(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
