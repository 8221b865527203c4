// An outgoing RESP2 connection from the sentinel to a monitored node or another sentinel (as hiredis in
// Redis's sentinel.c): commands are pipelined, replies are matched to callbacks in order; on a subscribed
// link, `message` arrays go to onMessage instead.

import * as net from 'node:net';
import { commandBytes } from '../node/resp/command';
import { parseReply, type ParsedReply, type ReplyShape } from '../node/resp/reply-parser';

export type Reply = ParsedReply<string, ReplyError>;

export class ReplyError {
  constructor(readonly message: string) {}
}

type Callback = (r: Reply) => void;

/** Opens a connection; `ready` is the event after which it is up ('connect', or 'secureConnect' for TLS). */
export type LinkDial = (host: string, port: number) => { socket: net.Socket; ready: string };

const STRINGS: ReplyShape<string, ReplyError> = {
  bulk: (buf, start, end) => buf.toString('latin1', start, end),
  simple: (line) => line,
  error: (line) => new ReplyError(line),
};

export class Link {
  private socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private callbacks: Callback[] = [];
  connected = false;
  closed = false;
  readonly createdAt = Date.now();
  /** last time anything arrived on this link */
  lastActivity = Date.now();
  /** time of the oldest PING not yet answered (0: none pending) */
  actPingTime = 0;
  /** time the last PING was sent */
  lastPingTime = 0;
  /** last reply of any kind to a PING */
  lastPongTime = Date.now();
  onMessage: ((channel: string, payload: string) => void) | null = null;
  onClose: (() => void) | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    dial?: LinkDial,
  ) {
    const opened = dial ? dial(host, port) : { socket: net.connect({ host, port }), ready: 'connect' };
    this.socket = opened.socket;
    this.socket.setNoDelay(true);
    this.socket.setTimeout(5000, () => this.close());
    this.socket.on(opened.ready, () => {
      this.connected = true;
      this.socket.setTimeout(0);
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => this.close());
    this.socket.on('close', () => this.close());
  }

  get localAddress(): string {
    return (this.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  }

  get pending(): number {
    return this.callbacks.length;
  }

  send(args: (string | number)[], cb: Callback = () => {}): void {
    if (this.closed) return cb(new ReplyError('ERR link closed'));
    this.callbacks.push(cb);
    this.socket.write(commandBytes(...args));
  }

  private onData(d: Buffer): void {
    this.lastActivity = Date.now();
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pos = 0;
    for (;;) {
      let r: [Reply, number] | null;
      try {
        r = parseReply(this.buf, pos, STRINGS);
      } catch {
        this.close();
        return;
      }
      if (!r) break;
      pos = r[1];
      const reply = r[0];
      if (this.onMessage && Array.isArray(reply) && reply.length === 3 && reply[0] === 'message') {
        this.onMessage(String(reply[1]), String(reply[2]));
        continue;
      }
      const cb = this.callbacks.shift();
      if (cb) cb(reply);
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    this.socket.destroy();
    const cbs = this.callbacks.splice(0);
    for (const cb of cbs) cb(new ReplyError('ERR link closed'));
    if (this.onClose) this.onClose();
  }
}
