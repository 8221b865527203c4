// Wire-level tests on raw sockets against a real server process: inline and multibulk framing,
// pipelining, frames split anywhere, binary safety, big values, Redis's exact protocol-error texts
// (and the connection closing after them), back-pressure against a client that never reads, RESP3.

import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode, startServer, type TestServer } from '../helpers/server';

// ------------------------------------------------------------------ helpers

/** A raw connection that records every byte it receives and whether the peer closed. */
class Conn {
  private chunks: Buffer[] = [];
  private size = 0;
  closed = false;
  private waiters: (() => void)[] = [];

  constructor(readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.size += d.length;
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  static async open(port: number): Promise<Conn> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    return new Conn(sock);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  get length(): number {
    return this.size;
  }

  /** Everything received so far (not consumed). */
  peek(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Returns and forgets the first n received bytes (all of them by default). */
  take(n = this.size): Buffer {
    const all = this.peek();
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.size = rest.length;
    return out;
  }

  send(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Waits until `pred(received)` holds; rejects on timeout or when the socket closed first. */
  async waitFor(pred: (b: Buffer) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pred(this.peek())) return;
      if (this.closed) throw new Error(`socket closed while waiting for ${what}; got ${show(this.peek())}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; got ${show(this.peek())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitBytes(n: number, timeoutMs = 5000): Promise<Buffer> {
    await this.waitFor((b) => b.length >= n, timeoutMs, `${n} bytes`);
    return this.take(n);
  }

  /** Waits for exactly the given reply bytes, then consumes them. */
  async expectReply(expected: string | Buffer, timeoutMs = 5000): Promise<void> {
    const exp = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
    await this.waitFor((b) => b.length >= exp.length, timeoutMs, show(exp));
    const got = this.take(exp.length);
    expect(show(got)).toBe(show(exp));
  }

  /** Waits for one CRLF-terminated line (a simple reply), consumes it and compares it with `expected`. */
  async expectLine(expected: string, timeoutMs = 5000): Promise<void> {
    await this.waitFor((b) => b.indexOf('\r\n') >= 0, timeoutMs, show(Buffer.from(expected, 'latin1')));
    const got = this.take(this.peek().indexOf('\r\n') + 2);
    expect(show(got)).toBe(show(Buffer.from(expected, 'latin1')));
  }

  /** Reads n complete RESP replies and returns them parsed. */
  async replies(n: number, timeoutMs = 5000): Promise<unknown[]> {
    let parsed: { values: unknown[]; end: number } | null = null;
    await this.waitFor(
      (b) => {
        parsed = parseReplies(b, n);
        return parsed !== null;
      },
      timeoutMs,
      `${n} replies`,
    );
    const p = parsed as unknown as { values: unknown[]; end: number };
    this.take(p.end);
    return p.values;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`socket not closed by the server; got ${show(this.peek())}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  destroy(): void {
    this.sock.destroy();
  }
}

function show(b: Buffer): string {
  const s = b.length > 300 ? b.subarray(0, 300).toString('latin1') + `...(${b.length} bytes)` : b.toString('latin1');
  return JSON.stringify(s);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tiny RESP2/RESP3 reply parser: returns null while a reply is incomplete. */
type Parsed = { v: unknown; end: number } | null;
function parseReply(b: Buffer, pos: number): Parsed {
  if (pos >= b.length) return null;
  const nl = b.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const t = String.fromCharCode(b[pos]);
  const line = b.toString('latin1', pos + 1, nl);
  const next = nl + 2;
  switch (t) {
    case '+':
      return { v: line, end: next };
    case '-':
      return { v: { error: line }, end: next };
    case ':':
      return { v: Number(line), end: next };
    case '_':
      return { v: null, end: next };
    case ',':
      return { v: { double: line }, end: next };
    case '#':
      return { v: line === 't', end: next };
    case '(':
      return { v: { big: line }, end: next };
    case '$':
    case '=':
    case '!': {
      const n = Number(line);
      if (n < 0) return { v: null, end: next };
      if (next + n + 2 > b.length) return null;
      return { v: b.toString('latin1', next, next + n), end: next + n + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const n = Number(line);
      if (n < 0) return { v: null, end: next };
      const count = t === '%' || t === '|' ? 2 * n : n;
      const items: unknown[] = [];
      let p = next;
      for (let i = 0; i < count; i++) {
        const r = parseReply(b, p);
        if (!r) return null;
        items.push(r.v);
        p = r.end;
      }
      if (t === '%' || t === '|') {
        const m: Record<string, unknown> = {};
        for (let i = 0; i < items.length; i += 2) m[String(items[i])] = items[i + 1];
        return { v: { [t === '%' ? 'map' : 'attr']: m }, end: p };
      }
      return { v: t === '*' ? items : { [t === '~' ? 'set' : 'push']: items }, end: p };
    }
    default:
      throw new Error(`bad reply type ${JSON.stringify(t)} at ${pos}: ${show(b.subarray(pos, pos + 50))}`);
  }
}

function parseReplies(b: Buffer, n: number): { values: unknown[]; end: number } | null {
  const values: unknown[] = [];
  let p = 0;
  for (let i = 0; i < n; i++) {
    const r = parseReply(b, p);
    if (!r) return null;
    values.push(r.v);
    p = r.end;
  }
  return { values, end: p };
}

function bulk(v: string | Buffer): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')]);
}

function rssMB(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)]).toString().trim()) / 1024;
}

// ------------------------------------------------------------------ tests

describe('RESP protocol on raw sockets', () => {
  let srv: TestServer;
  /** a client that stays connected through all tests, to prove other clients' errors do not affect it */
  let bystander: Conn;
  const conns: Conn[] = [];
  const open = async (port = srv.port) => {
    const c = await Conn.open(port);
    conns.push(c);
    return c;
  };
  const bystanderWorks = async () => {
    bystander.send(encode('ECHO', 'still here'));
    await bystander.expectReply('$10\r\nstill here\r\n');
  };

  beforeAll(async () => {
    srv = await startServer();
    bystander = await Conn.open(srv.port);
    conns.push(bystander);
  });
  afterAll(async () => {
    for (const c of conns) c.destroy();
    await srv?.stop();
  });

  describe('inline commands', () => {
    it('PING with CRLF and with a bare LF', async () => {
      const c = await open();
      c.send('PING\r\n');
      await c.expectReply('+PONG\r\n');
      c.send('PING\n');
      await c.expectReply('+PONG\r\n');
      c.send('ping hello\r\n');
      await c.expectReply('$5\r\nhello\r\n');
    });

    it('skips empty lines and extra whitespace', async () => {
      const c = await open();
      c.send('\r\n\n   \r\n  PING   \r\n\tECHO \t  x  \n');
      await c.expectReply('+PONG\r\n$1\r\nx\r\n');
      c.send(encode('PING'));
      await c.expectReply('+PONG\r\n');
    });

    it('double quotes with escapes, single quotes', async () => {
      const c = await open();
      c.send('SET k "a b\\x41"\r\nGET k\r\n');
      await c.expectReply('+OK\r\n$4\r\na bA\r\n');
      c.send('SET k2 "\\n\\r\\t\\b\\a\\\\\\"\\x00\\xfF\\q"\r\nGET k2\r\n');
      const rep = await c.replies(2);
      expect(rep[0]).toBe('OK');
      expect(Buffer.from(rep[1] as string, 'latin1')).toEqual(Buffer.from([10, 13, 9, 8, 7, 92, 34, 0, 255, 113]));
      c.send("SET k3 'it\\'s \"quoted\" \\n'\r\nGET k3\r\n");
      expect(await c.replies(2)).toEqual(['OK', 'it\'s "quoted" \\n']);
      c.send('SET k4 ""\r\nGET k4\r\nSTRLEN k4\r\n');
      expect(await c.replies(3)).toEqual(['OK', '', 0]);
      // a quote inside an unquoted token starts a quoted part of the same argument, as sdssplitargs
      c.send('SET k5 ab"c d"\r\nGET k5\r\n');
      expect(await c.replies(2)).toEqual(['OK', 'abc d']);
    });

    it('sdssplitargs details: \\v is a blank between args but not inside a token', async () => {
      const c = await open();
      c.send('ECHO \v\fa\vb\r\n');
      await c.expectReply('$3\r\na\vb\r\n');
      c.send('ECHO "x"\vy\r\n');
      await c.expectReply("-ERR wrong number of arguments for 'echo' command\r\n");
      c.send('ECHO a\tb\r\n');
      await c.expectReply("-ERR wrong number of arguments for 'echo' command\r\n");
    });

    it('a NUL byte in an inline line: the line never ends (Redis looks for it with strchr) until the inline limit', async () => {
      const c = await open();
      c.send('ECHO a\0b c\r\nPING\r\n');
      await sleep(200);
      expect(c.length).toBe(0);
      expect(c.closed).toBe(false);
      c.send(Buffer.alloc(64 * 1024, 'x'));
      await c.expectReply('-ERR Protocol error: too big inline request\r\n');
      await c.waitClosed();
      await bystanderWorks();
    });

    it('unbalanced quotes: protocol error, then the connection is closed', async () => {
      for (const line of ['SET k "abc\r\n', "SET k 'abc\r\n", 'SET k "abc"def\r\n', "SET k 'a'b\r\n", 'ECHO "\\"\r\n']) {
        const c = await open();
        c.send(line);
        await c.expectReply('-ERR Protocol error: unbalanced quotes in request\r\n');
        await c.waitClosed();
        expect(c.length).toBe(0);
      }
      await bystanderWorks();
    });

    it('an inline line over 64 KB without a newline: too big inline request', async () => {
      const c = await open();
      c.send('SET k ' + 'a'.repeat(70 * 1024));
      await c.expectReply('-ERR Protocol error: too big inline request\r\n');
      await c.waitClosed();
      await bystanderWorks();
    });

    it('an inline line just under 64 KB is fine', async () => {
      const c = await open();
      const v = 'v'.repeat(60 * 1024);
      c.send(`SET big-inline ${v}\r\nSTRLEN big-inline\r\n`);
      expect(await c.replies(2)).toEqual(['OK', v.length]);
    });
  });

  describe('multibulk framing', () => {
    it('pipelines 5000 SET/GET pairs written at once; replies arrive complete and in order', async () => {
      const c = await open();
      const reqs: Buffer[] = [];
      const exp: Buffer[] = [];
      for (let i = 0; i < 5000; i++) {
        const v = `value-${i}-${'x'.repeat(i % 97)}`;
        reqs.push(encode('SET', `pipe:${i}`, v), encode('GET', `pipe:${i}`));
        exp.push(Buffer.from('+OK\r\n'), bulk(v));
      }
      const expected = Buffer.concat(exp);
      c.send(Buffer.concat(reqs));
      const got = await c.waitBytes(expected.length, 10000);
      expect(got.equals(expected)).toBe(true);
      await sleep(20);
      expect(c.length).toBe(0);
    });

    it('pipelines inline and multibulk commands mixed in one write', async () => {
      const c = await open();
      const parts: Buffer[] = [];
      let exp = '';
      for (let i = 0; i < 1000; i++) {
        if (i % 2) parts.push(Buffer.from(`ECHO m${i}\r\n`));
        else parts.push(encode('ECHO', `m${i}`));
        exp += bulk(`m${i}`).toString('latin1');
      }
      c.send(Buffer.concat(parts));
      await c.expectReply(exp);
    });

    it('a frame split at every byte offset', async () => {
      const c = await open();
      const frame = Buffer.concat([
        encode('SET', 'split', Buffer.from('a\r\nb\0c')),
        encode('GET', 'split'),
        Buffer.from('PING\r\n'),
        encode('ECHO', ''),
      ]);
      const expected = '+OK\r\n$6\r\na\r\nb\0c\r\n+PONG\r\n$0\r\n\r\n';
      for (let i = 1; i < frame.length; i++) {
        c.send(frame.subarray(0, i));
        await sleep(3);
        expect(c.length <= expected.length).toBe(true);
        c.send(frame.subarray(i));
        await c.expectReply(expected);
      }
    });

    it('a frame written one byte at a time', async () => {
      const c = await open();
      const frame = Buffer.concat([encode('SET', 'bytewise', 'x\r\ny'), encode('GET', 'bytewise'), Buffer.from('ECHO "q w"\r\n')]);
      for (let i = 0; i < frame.length; i++) {
        c.send(frame.subarray(i, i + 1));
        await sleep(1);
      }
      await c.expectReply('+OK\r\n$4\r\nx\r\ny\r\n$3\r\nq w\r\n');
    });

    it('a pipeline with a big (> 32 KB) bulk in random splits, including splits inside its trailing CRLF', async () => {
      const c = await open();
      const val = crypto.randomBytes(40000);
      const frame = Buffer.concat([encode('SET', 'bigsplit', val), encode('GET', 'bigsplit'), encode('STRLEN', 'bigsplit')]);
      const expected = Buffer.concat([Buffer.from('+OK\r\n'), bulk(val), Buffer.from(':40000\r\n')]);
      const valEnd = frame.indexOf(encode('GET', 'bigsplit')); // offset just after the value's CRLF
      const cuts = new Set<number>();
      for (let i = 1; i < 40; i++) cuts.add(i);
      for (let d = -4; d <= 4; d++) cuts.add(valEnd + d);
      let seed = 12345;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      for (let i = 0; i < 20; i++) cuts.add(1 + rnd(frame.length - 1));
      for (const cut of cuts) {
        c.send(frame.subarray(0, cut));
        await sleep(2);
        c.send(frame.subarray(cut));
        const got = await c.waitBytes(expected.length);
        expect(got.equals(expected), `split at ${cut}`).toBe(true);
      }
      // and in many random pieces
      for (let round = 0; round < 10; round++) {
        let p = 0;
        while (p < frame.length) {
          const n = 1 + rnd(round % 2 ? 20 : 9000);
          c.send(frame.subarray(p, p + n));
          p += n;
          if (rnd(round % 2 ? 200 : 4) === 0) await sleep(1);
        }
        const got = await c.waitBytes(expected.length);
        expect(got.equals(expected), `random round ${round}`).toBe(true);
      }
    });

    it('random splits of a long pipeline of small commands', async () => {
      const c = await open();
      const parts: Buffer[] = [];
      const exp: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        const v = crypto.randomBytes(i % 50);
        parts.push(encode('SET', `rs:${i}`, v), encode('GET', `rs:${i}`));
        exp.push(Buffer.from('+OK\r\n'), bulk(v));
      }
      const frame = Buffer.concat(parts);
      const expected = Buffer.concat(exp);
      for (let round = 0; round < 5; round++) {
        let p = 0;
        while (p < frame.length) {
          const n = 1 + Math.floor(Math.random() * 200);
          c.send(frame.subarray(p, p + n));
          p += n;
          if (Math.random() < 0.1) await sleep(1);
        }
        const got = await c.waitBytes(expected.length);
        expect(got.equals(expected)).toBe(true);
      }
    });

    it('several big bulks in one frame (big key, big values) in random splits', async () => {
      const c = await open();
      const bigKey = Buffer.concat([Buffer.from('bk:'), crypto.randomBytes(33000)]);
      const vals = [crypto.randomBytes(32 * 1024), crypto.randomBytes(100000), crypto.randomBytes(32 * 1024 - 1), crypto.randomBytes(70000)];
      const frame = Buffer.concat([
        encode('MSET', bigKey, vals[0], 'mk1', vals[1], 'mk2', vals[2], 'mk3', vals[3]),
        encode('MGET', bigKey, 'mk1', 'mk2', 'mk3', 'nokey'),
        encode('EXISTS', bigKey),
      ]);
      const expected = Buffer.concat([Buffer.from('+OK\r\n*5\r\n'), ...vals.map(bulk), Buffer.from('$-1\r\n:1\r\n')]);
      for (let round = 0; round < 12; round++) {
        let p = 0;
        while (p < frame.length) {
          const n = 1 + Math.floor(Math.random() * (round < 4 ? 70000 : round < 8 ? 5000 : 300));
          c.send(frame.subarray(p, p + n));
          p += n;
          if (Math.random() < 0.2) await sleep(1);
        }
        const got = await c.waitBytes(expected.length);
        expect(got.equals(expected), `round ${round}`).toBe(true);
      }
    });

    it('bulk values are binary safe (CR, LF, NUL, all 256 byte values), keys too', async () => {
      const c = await open();
      const all = Buffer.alloc(256 * 3);
      for (let i = 0; i < all.length; i++) all[i] = i % 256;
      const key = Buffer.from([0, 13, 10, 255, 32, 34]);
      const val = Buffer.concat([Buffer.from('\r\n\0\r\n$3\r\n*1\r\n'), all, Buffer.from('\r\n')]);
      c.send(Buffer.concat([encode('SET', key, val), encode('GET', key), encode('STRLEN', key), encode('EXISTS', key)]));
      const exp = Buffer.concat([Buffer.from('+OK\r\n'), bulk(val), Buffer.from(`:${val.length}\r\n:1\r\n`)]);
      const got = await c.waitBytes(exp.length);
      expect(got.equals(exp)).toBe(true);
      c.send(encode('SET', 'empty', ''));
      c.send(encode('GET', 'empty'));
      await c.expectReply('+OK\r\n$0\r\n\r\n');
    });

    it('a 20 MB value round-trips (SET then GET, byte for byte)', async () => {
      const c = await open();
      const val = crypto.randomBytes(20 * 1024 * 1024);
      c.send(encode('SET', 'huge', val));
      await c.expectReply('+OK\r\n', 15000);
      c.send(encode('GET', 'huge'));
      const exp = bulk(val);
      const got = await c.waitBytes(exp.length, 15000);
      expect(got.subarray(0, 11).toString('latin1')).toBe(`$${val.length}\r\n`);
      expect(got.equals(exp)).toBe(true);
      c.send(encode('STRLEN', 'huge'));
      await c.expectReply(`:${val.length}\r\n`);
      c.send(encode('DEL', 'huge'));
      await c.expectReply(':1\r\n');
    });

    it('*0 and negative multibulk lengths are ignored, as Redis does', async () => {
      const c = await open();
      c.send('*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n');
      await c.expectReply('+PONG\r\n');
    });
  });

  describe('protocol errors: exact texts, connection closed, others unaffected', () => {
    const cases: [string, string | Buffer, string][] = [
      ['non-numeric multibulk length', '*abc\r\n', 'invalid multibulk length'],
      ['empty multibulk length', '*\r\n', 'invalid multibulk length'],
      ['multibulk length with a leading zero', '*01\r\n$4\r\nPING\r\n', 'invalid multibulk length'],
      ['multibulk length over INT_MAX', '*2147483648\r\n', 'invalid multibulk length'],
      ['simple string where a bulk is expected', '*1\r\n+foo\r\n', "expected '$', got '+'"],
      ['inline text inside a multibulk', '*2\r\n$4\r\nECHO\r\nhello\r\n', "expected '$', got 'h'"],
      ['negative bulk length', '*1\r\n$-5\r\n', 'invalid bulk length'],
      ['$-1 inside a multibulk', '*1\r\n$-1\r\n', 'invalid bulk length'],
      ['non-numeric bulk length', '*1\r\n$x\r\n', 'invalid bulk length'],
      ['bulk length with a leading zero', '*1\r\n$04\r\nPING\r\n', 'invalid bulk length'],
      ['bulk length over proto-max-bulk-len (512 MB default)', '*1\r\n$9999999999\r\n', 'invalid bulk length'],
      ['over-long bulk count string', '*1\r\n$' + '1'.repeat(70 * 1024), 'too big bulk count string'],
      ['over-long multibulk count string', '*' + '1'.repeat(70 * 1024), 'too big mbulk count string'],
      // Redis finds header lines with strchr(): a NUL hides the CR, the line "goes on" to the limit
      ['NUL in a multibulk count line', '*1\0\r\n' + 'x'.repeat(70 * 1024), 'too big mbulk count string'],
      ['NUL in a bulk count line', '*1\r\n$4\0\r\nPING\r\n' + 'x'.repeat(70 * 1024), 'too big bulk count string'],
    ];
    for (const [name, input, text] of cases) {
      it(name, async () => {
        const c = await open();
        // a well-formed command first: the error must not swallow what came before it
        c.send(Buffer.concat([encode('PING'), typeof input === 'string' ? Buffer.from(input, 'latin1') : input]));
        await c.expectReply(`+PONG\r\n-ERR Protocol error: ${text}\r\n`);
        await c.waitClosed();
        expect(c.length).toBe(0);
        await bystanderWorks();
      });
    }

    it("expected '$' is reported once the header line is complete, as Redis does", async () => {
      const c = await open();
      c.send('*1\r\n+fo');
      await sleep(100);
      expect(c.length).toBe(0);
      expect(c.closed).toBe(false);
      c.send('o\r\n');
      await c.expectReply("-ERR Protocol error: expected '$', got '+'\r\n");
      await c.waitClosed();
      // a NUL where the '$' should be hides the line end (strchr): nothing happens until the limit
      const d = await open();
      d.send('*2\r\n\x004\r\nPING\r\n$0\r\n\r\n');
      await sleep(100);
      expect(d.length).toBe(0);
      expect(d.closed).toBe(false);
      d.send(Buffer.alloc(65 * 1024, 'x'));
      await d.expectReply('-ERR Protocol error: too big bulk count string\r\n');
      await d.waitClosed();
    });

    it('nothing after the protocol error is executed', async () => {
      const c = await open();
      c.send('*1\r\n$-5\r\n' + encode('SET', 'after-error', '1').toString('latin1'));
      await c.expectReply('-ERR Protocol error: invalid bulk length\r\n');
      await c.waitClosed();
      bystander.send(encode('EXISTS', 'after-error'));
      await bystander.expectReply(':0\r\n');
    });

    it('unknown command: exact Redis 7 text (trailing space), connection stays open', async () => {
      const c = await open();
      c.send(encode('foo', 'a', 'b'));
      await c.expectReply("-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
      c.send('foo\r\n');
      await c.expectReply("-ERR unknown command 'foo', with args beginning with: \r\n");
      c.send('FOO "x y"\r\n');
      await c.expectReply("-ERR unknown command 'FOO', with args beginning with: 'x y' \r\n");
      c.send(encode('PING'));
      await c.expectReply('+PONG\r\n');
    });

    it('unknown command: the args part is cut at 128 characters in all, as Redis 7 does', async () => {
      const c = await open();
      const a100 = 'a'.repeat(100);
      c.send(encode('foo', a100, a100, a100));
      // first arg in full (103 chars with quotes and space), then only 128 - 103 = 25 chars of the second
      await c.expectLine(`-ERR unknown command 'foo', with args beginning with: '${a100}' '${'a'.repeat(25)}' \r\n`);
      const many = Array.from({ length: 30 }, (_, i) => `x${i}`);
      c.send(encode('foo', ...many));
      let exp = '';
      for (const m of many) {
        if (exp.length >= 128) break;
        exp += `'${m.slice(0, 128 - exp.length)}' `;
      }
      await c.expectLine(`-ERR unknown command 'foo', with args beginning with: ${exp}\r\n`);
      c.send(encode('b'.repeat(200)));
      await c.expectLine(`-ERR unknown command '${'b'.repeat(128)}', with args beginning with: \r\n`);
      c.send(encode(''));
      await c.expectLine("-ERR unknown command '', with args beginning with: \r\n");
    });

    it('error texts map every CR and LF to a space (not runs of them to one), as Redis 7 does', async () => {
      const c = await open();
      c.send(encode('foo', 'x\r\ny', 'z\n\nw'));
      await c.expectLine("-ERR unknown command 'foo', with args beginning with: 'x  y' 'z  w' \r\n");
    });

    it('wrong arity: exact text, connection stays open', async () => {
      const c = await open();
      c.send(encode('get'));
      await c.expectReply("-ERR wrong number of arguments for 'get' command\r\n");
      c.send('GET\r\n');
      await c.expectReply("-ERR wrong number of arguments for 'get' command\r\n");
      c.send(encode('SET', 'k'));
      await c.expectReply("-ERR wrong number of arguments for 'set' command\r\n");
      c.send(encode('PING'));
      await c.expectReply('+PONG\r\n');
    });
  });

  describe('protocol limits on separate servers', () => {
    it('proto-max-bulk-len 1mb: a 2000000-byte bulk is refused, 1 MB exactly is accepted', async () => {
      const s = await startServer(['--proto-max-bulk-len', '1mb']);
      try {
        const other = await Conn.open(s.port);
        const ok = await Conn.open(s.port);
        ok.send(encode('SET', 'max', Buffer.alloc(1024 * 1024, 97)));
        await ok.expectReply('+OK\r\n');
        const c = await Conn.open(s.port);
        c.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n');
        await c.expectReply('-ERR Protocol error: invalid bulk length\r\n');
        await c.waitClosed();
        other.send(encode('STRLEN', 'max'));
        await other.expectReply(':1048576\r\n');
        for (const x of [other, ok, c]) x.destroy();
      } finally {
        await s.stop();
      }
    });

    it('CONFIG SET proto-max-bulk-len applies to connected clients at once, as in Redis', async () => {
      const s = await startServer();
      try {
        const c = await Conn.open(s.port);
        c.send(encode('CONFIG', 'SET', 'proto-max-bulk-len', '1mb'));
        await c.expectReply('+OK\r\n');
        c.send('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n');
        await c.expectReply('-ERR Protocol error: invalid bulk length\r\n', 2000);
        await c.waitClosed();
        c.destroy();
      } finally {
        await s.stop();
      }
    });

    it('client-query-buffer-limit 1mb: a client whose query buffer grows past it is closed; others are fine', async () => {
      const s = await startServer(['--client-query-buffer-limit', '1mb']);
      try {
        const other = await Conn.open(s.port);
        const c = await Conn.open(s.port);
        c.send(encode('SET', 'qb', Buffer.alloc(4 * 1024 * 1024, 1)));
        await c.waitClosed();
        expect(c.length).toBe(0);
        other.send(encode('EXISTS', 'qb'));
        await other.expectReply(':0\r\n');
        // under the limit is fine
        other.send(encode('SET', 'qb', Buffer.alloc(512 * 1024, 1)));
        other.send(encode('STRLEN', 'qb'));
        await other.expectReply('+OK\r\n:524288\r\n');
        for (const x of [other, c]) x.destroy();
      } finally {
        await s.stop();
      }
    });

    it('requirepass: unauthenticated clients may not send big frames; authenticated ones may', async () => {
      const s = await startServer(['--requirepass', 'sekret']);
      try {
        const authed = await Conn.open(s.port);
        authed.send(encode('AUTH', 'sekret'));
        await authed.expectReply('+OK\r\n');

        const a = await Conn.open(s.port);
        a.send('*100\r\n');
        await a.expectReply('-ERR Protocol error: unauthenticated multibulk length\r\n');
        await a.waitClosed();

        const b = await Conn.open(s.port);
        b.send('*1\r\n$20000\r\n');
        await b.expectReply('-ERR Protocol error: unauthenticated bulk length\r\n');
        await b.waitClosed();

        // at the limits (10 args, 16384 bytes) an unauthenticated client gets NOAUTH, not a protocol error
        const d = await Conn.open(s.port);
        d.send(encode('SET', 'k', Buffer.alloc(16384, 1)));
        d.send(encode('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e'));
        expect(await d.replies(2)).toEqual([{ error: 'NOAUTH Authentication required.' }, { error: 'NOAUTH Authentication required.' }]);
        // after AUTH, the same connection may send big frames
        d.send(encode('AUTH', 'sekret'));
        d.send(encode('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5', 'f', '6'));
        d.send(encode('SET', 'k', Buffer.alloc(20000, 1)));
        d.send(encode('STRLEN', 'k'));
        expect(await d.replies(4)).toEqual(['OK', 'OK', 'OK', 20000]);

        authed.send(encode('PING'));
        await authed.expectReply('+PONG\r\n');
        for (const x of [authed, a, b, d]) x.destroy();
      } finally {
        await s.stop();
      }
    });
  });

  describe('RESP3 reply shapes after HELLO 3', () => {
    it('HELLO 3 is a %7 map; CONFIG GET is a %1 map; a missing key is _', async () => {
      const c = await open();
      c.send(encode('HELLO', '3'));
      await c.waitFor((b) => parseReplies(b, 1) !== null);
      expect(c.peek().subarray(0, 4).toString()).toBe('%7\r\n');
      const [hello] = (await c.replies(1)) as { map: Record<string, unknown> }[];
      expect(hello.map.server).toBe('redis');
      expect(hello.map.proto).toBe(3);
      expect(hello.map.mode).toBe('standalone');
      expect(hello.map.role).toBe('master');
      expect(Object.keys(hello.map).sort()).toEqual(['id', 'mode', 'modules', 'proto', 'role', 'server', 'version']);

      c.send(encode('CONFIG', 'GET', 'port'));
      await c.waitFor((b) => parseReplies(b, 1) !== null);
      expect(c.peek().toString('latin1')).toMatch(/^%1\r\n\$4\r\nport\r\n\$\d+\r\n\d+\r\n$/);
      expect(await c.replies(1)).toEqual([{ map: { port: expect.stringMatching(/^\d+$/) } }]);
      c.send(encode('GET', 'resp3-missing'));
      await c.expectReply('_\r\n');
      c.send(encode('PING'));
      await c.expectReply('+PONG\r\n');

      // back to RESP2: the same replies in RESP2 shapes
      c.send(encode('HELLO', '2'));
      const [hello2] = (await c.replies(1)) as unknown[][];
      expect(Array.isArray(hello2)).toBe(true);
      expect(hello2.length).toBe(14);
      c.send(encode('CONFIG', 'GET', 'port'));
      await c.waitFor((b) => parseReplies(b, 1) !== null);
      expect(c.peek().toString('latin1')).toMatch(/^\*2\r\n\$4\r\nport\r\n\$\d+\r\n\d+\r\n$/);
      c.take();
      c.send(encode('GET', 'resp3-missing'));
      await c.expectReply('$-1\r\n');
    });

    it('HELLO with an unsupported version: NOPROTO, connection stays open', async () => {
      const c = await open();
      c.send(encode('HELLO', '4'));
      await c.expectReply('-NOPROTO unsupported protocol version\r\n');
      c.send(encode('PING'));
      await c.expectReply('+PONG\r\n');
    });
  });

  describe('back-pressure', () => {
    it('a slow reader of a big pipeline gets every reply, complete and in order', async () => {
      const c = await open();
      const val = Buffer.alloc(1024 * 1024, 121);
      c.send(encode('SET', 'slowbig', val));
      await c.expectReply('+OK\r\n');
      const n = 150;
      const reqs: Buffer[] = [];
      for (let i = 0; i < n; i++) reqs.push(encode('GET', 'slowbig'), encode('ECHO', `#${i}`));
      c.sock.pause();
      c.send(Buffer.concat(reqs));
      await sleep(300); // let the server hit back-pressure
      c.sock.resume();
      const one = Buffer.concat([bulk(val)]);
      for (let i = 0; i < n; i++) {
        const got = await c.waitBytes(one.length, 10000);
        expect(got.equals(one), `reply ${i}`).toBe(true);
        await c.expectReply(bulk(`#${i}`));
        if (i % 30 === 0) {
          c.sock.pause();
          await sleep(50);
          c.sock.resume();
        }
      }
      c.send(encode('PING'));
      await c.expectReply('+PONG\r\n');
    });

    it('a client that pipelines GETs of a 1 MB value and never reads cannot blow up server memory', async () => {
      const s = await startServer();
      const pid = s.proc.pid!;
      try {
        const flooder = await Conn.open(s.port);
        const probe = await Conn.open(s.port);
        flooder.send(encode('SET', 'big', Buffer.alloc(1024 * 1024, 120)));
        await flooder.expectReply('+OK\r\n');
        flooder.sock.pause(); // never read again
        const baseRss = rssMB(pid);

        const get = encode('GET', 'big');
        const block = Buffer.concat(Array.from({ length: 40000 }, () => get)); // ~1 MB of requests, ~40 GB of replies
        let sentGets = 0;
        let maxRss = baseRss;
        let maxPingMs = 0;
        let blocked = false;
        const t0 = Date.now();
        let stop = false;
        const pump = async () => {
          while (!stop && sentGets < 100_000_000) {
            sentGets += 40000;
            if (!flooder.sock.write(block)) {
              const drained = await Promise.race([
                new Promise<boolean>((r) => flooder.sock.once('drain', () => r(true))),
                sleep(1000).then(() => false),
              ]);
              if (!drained) {
                blocked = true; // the server stopped reading from the flooder
                break;
              }
            }
            if (flooder.closed) break;
          }
        };
        const pumping = pump();
        while (Date.now() - t0 < 6000) {
          await sleep(250);
          expect(s.proc.exitCode, `server died:\n${s.output().slice(-2000)}`).toBe(null);
          maxRss = Math.max(maxRss, rssMB(pid));
          const p0 = Date.now();
          probe.send(encode('PING'));
          await probe.expectReply('+PONG\r\n', 3000);
          maxPingMs = Math.max(maxPingMs, Date.now() - p0);
          if (blocked && Date.now() - t0 > 2500) break;
        }
        stop = true;
        await pumping;
        maxRss = Math.max(maxRss, rssMB(pid));
        // the flooder asked for >= 2 GB worth of replies
        expect(sentGets * 1024 * 1024).toBeGreaterThan(2 * 1024 ** 3);
        console.log(`flood: ${sentGets} GETs sent, max RSS ${maxRss.toFixed(0)} MB (baseline ${baseRss.toFixed(0)} MB), max PING ${maxPingMs} ms`);
        expect(maxRss, `RSS grew to ${maxRss.toFixed(0)} MB (baseline ${baseRss.toFixed(0)} MB)`).toBeLessThan(500);
        expect(maxPingMs).toBeLessThan(1000);
        expect(blocked || flooder.closed).toBe(true);
        flooder.destroy();
        probe.send(encode('DBSIZE'));
        await probe.expectReply(':1\r\n');
        probe.destroy();
      } finally {
        await s.stop();
      }
    }, 20000);
  });
});
