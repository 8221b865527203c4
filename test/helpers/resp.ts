// Raw RESP access for tests that must see the exact wire form of a reply (map vs flat array,
// set vs array, `$-1` vs `*-1` vs `_`), which ioredis hides; plus small helpers the test files share.

import type * as net from 'node:net';
import { encode, rawExchange, type TestServer } from './server';

/** Sends one command and resolves to its exact reply text. */
export type RawSend = (...args: (string | Buffer)[]) => Promise<string>;

/** End offset of the one RESP2/RESP3 reply starting at `p`, or -1 when it is incomplete. */
export function replyEnd(text: string, p = 0): number {
  const nl = text.indexOf('\r\n', p);
  if (nl < 0) return -1;
  const type = text[p];
  const n = Number(text.slice(p + 1, nl));
  switch (type) {
    case '$':
    case '=':
    case '!':
      if (n < 0) return nl + 2;
      return text.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 : -1;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (n < 0) return nl + 2;
      let q = nl + 2;
      const items = type === '%' || type === '|' ? 2 * n : n;
      for (let i = 0; i < items; i++) {
        q = replyEnd(text, q);
        if (q < 0) return -1;
      }
      return q;
    }
    default:
      return nl + 2;
  }
}

/** End offset after `count` consecutive replies from the start of `text`, or -1 when they are incomplete. */
export function repliesEnd(text: string, count: number): number {
  let p = 0;
  for (let i = 0; i < count; i++) if ((p = replyEnd(text, p)) < 0) return -1;
  return p;
}

/** A raw connection speaking `proto`: `send` sends one command and resolves to its exact reply text ('' once the server closed). */
export async function rawConn(srv: TestServer, proto: 2 | 3 = 2): Promise<{ send: RawSend; sock: net.Socket; closed: Promise<void> }> {
  const sock = await srv.raw();
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  const send: RawSend = (...args) => rawExchange(sock, encode(...args), (t) => replyEnd(t) === t.length);
  if (proto === 3) await send('HELLO', '3');
  return { send, sock, closed };
}

/** Just the `send` of a {@link rawConn}. */
export async function rawClient(srv: TestServer, proto: 2 | 3): Promise<RawSend> {
  return (await rawConn(srv, proto)).send;
}

/**
 * A raw connection that buffers everything it receives, for pushed messages: `send(n, ...args)` sends a command
 * and resolves to the next `n` replies' exact text; `next(n)` waits for `n` more replies without sending anything.
 */
export async function rawPushConn(srv: TestServer, proto: 2 | 3 = 2) {
  const sock = await srv.raw();
  let buffered = '';
  let waiter: (() => boolean) | null = null;
  sock.on('data', (d: Buffer) => {
    buffered += d.toString('latin1');
    if (waiter) waiter();
  });
  const next = (n = 1, timeoutMs = 3000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = null;
        reject(new Error(`timeout waiting for ${n} replies; buffered: ${JSON.stringify(buffered)}`));
      }, timeoutMs);
      const check = () => {
        const end = repliesEnd(buffered, n);
        if (end < 0) return false;
        waiter = null;
        clearTimeout(timer);
        const out = buffered.slice(0, end);
        buffered = buffered.slice(end);
        resolve(out);
        return true;
      };
      if (!check()) waiter = check;
    });
  const send = (n: number, ...args: (string | Buffer)[]) => {
    sock.write(encode(...args));
    return next(n);
  };
  if (proto === 3) await send(1, 'HELLO', '3');
  return { send, next, sock };
}

/** The RESP2 bulk-string encoding of `s`, as text. */
export const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

/** The error text a command fails with (fails the test if it succeeds). */
export async function errOf(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    throw new Error(`expected an error, got ${JSON.stringify(v)}`);
  } catch (e) {
    return (e as Error).message;
  }
}
