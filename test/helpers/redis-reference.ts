// A real redis-server on a free loopback port, next to ours, for differential tests (replies compared byte for
// byte over raw sockets).

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { encode, rawExchange } from './server';
import { replyEnd, type RawSend } from './resp';

/** Debian's redis-server, when installed (the differential tests are skipped without it). */
export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => fs.existsSync(p));

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

export async function startRedis(): Promise<{ port: number; proc: ChildProcess; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-redis-ref-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const proc = spawn(REDIS_SERVER!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10000);
      proc.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      proc.on('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ok) return { port, proc, dir };
    proc.kill('SIGKILL');
    if (attempt >= 2) throw new Error(`redis-server did not start:\n${out}`);
  }
}

export async function rawPort(port: number, proto: 2 | 3): Promise<{ send: RawSend; sock: net.Socket }> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
  const send: RawSend = (...args) => rawExchange(sock, encode(...args), (t) => replyEnd(t) === t.length);
  if (proto === 3) await send('HELLO', '3');
  return { send, sock };
}
