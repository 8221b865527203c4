// The cluster bus: a TCP listener on the cluster port and one outgoing link per known node. Frames are a 4-byte
// big-endian length followed by a msgpackr-encoded message. A node sends PING (or MEET, for CLUSTER MEET) on its
// outgoing links; the other side answers PONG on the same connection.

import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { pack, unpack } from 'msgpackr';

export interface GossipEntry {
  id: string;
  ip: string;
  port: number;
  cport: number;
  /** tls-cluster: the plain-TCP port (as Redis's pport) */
  pport?: number;
  role: 'master' | 'slave';
  master: string | null;
  pfail: boolean;
  fail: boolean;
}

export interface BusMessage {
  /** fail: `failing` reached FAIL; auth-req / auth-ack: a replica's election and a master's vote */
  type: 'ping' | 'pong' | 'meet' | 'fail' | 'auth-req' | 'auth-ack' | 'publish' | 'mfstart';
  id: string;
  /** the sender's announced ip ('' = use the connection's address) */
  ip: string;
  port: number;
  cport: number;
  /** tls-cluster: the sender's plain-TCP port when it has one (`port` is then its TLS port), as Redis's pport */
  pport?: number;
  role: 'master' | 'slave';
  master: string | null;
  currentEpoch: number;
  configEpoch: number;
  /** the slots the sender owns, as [start, end] pairs flattened */
  slots: number[];
  replOffset: number;
  /** the address the sender used to reach the receiver (how a node learns its own ip) */
  myip: string;
  gossip: GossipEntry[];
  failing?: string;
  /** auth-req of a manual failover: masters vote even though the master is not failing */
  force?: boolean;
  /** publish: a PUBLISH (or SPUBLISH, `shard`) to deliver to the receiver's subscribers (Cluster.publish) */
  channel?: Buffer;
  payload?: Buffer;
  shard?: boolean;
  /** a master paused for its replica's manual failover (after `mfstart`): replOffset is final */
  paused?: boolean;
}

export const normalizeIp = (ip: string | undefined): string => (ip ?? '').replace(/^::ffff:/, '');

/** Splits a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private onMessage: (m: BusMessage) => void) {}
  feed(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > 64 * 1024 * 1024) throw new Error('cluster bus frame too large');
      if (this.buf.length < 4 + len) break;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      this.onMessage(unpack(body) as BusMessage);
    }
  }
}

export function frame(m: BusMessage): Buffer {
  const body = pack(m);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Bus authentication (cluster-bus-password, by default masterauth): before any frame, each side sends a
 * random 32-byte nonce, then HMAC-SHA256(secret, peer's nonce + its own role) for the nonce it received.
 * Both sides check the other's proof, so neither accepts frames from a node without the secret; the
 * secret itself never crosses the wire. With an empty secret the bus is open, as before.
 */
export class BusHandshake {
  private readonly nonce = crypto.randomBytes(32);
  private buf: Buffer = Buffer.alloc(0);
  private peerNonce: Buffer | null = null;
  done = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly secret: string,
    /** 'dial' for the side that connected, 'accept' for the listener */
    private readonly role: 'dial' | 'accept',
  ) {
    socket.write(this.nonce);
  }

  private proof(nonce: Buffer, role: string): Buffer {
    return crypto.createHmac('sha256', this.secret).update(nonce).update(role).digest();
  }

  /**
   * Feeds received bytes; returns the bytes after the handshake once it succeeded (maybe empty), null while
   * it goes on; throws when the peer's proof is wrong.
   */
  feed(chunk: Buffer): Buffer | null {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.peerNonce && this.buf.length >= 32) {
      this.peerNonce = this.buf.subarray(0, 32);
      this.buf = this.buf.subarray(32);
      this.socket.write(this.proof(this.peerNonce, this.role));
    }
    if (!this.peerNonce || this.buf.length < 32) return null;
    const expected = this.proof(this.nonce, this.role === 'dial' ? 'accept' : 'dial');
    if (!crypto.timingSafeEqual(expected, this.buf.subarray(0, 32))) throw new Error('wrong cluster bus password');
    this.done = true;
    return this.buf.subarray(32);
  }

  /**
   * A bus socket's received bytes through the handshake: what is left for the frame reader (null: nothing yet).
   * A wrong proof calls `onFail` and destroys the socket; `onDone` runs once, when the peer has proved itself.
   */
  pass(chunk: Buffer, onFail: () => void, onDone: () => void = () => {}): Buffer | null {
    if (this.done) return chunk;
    let rest: Buffer | null;
    try {
      rest = this.feed(chunk);
    } catch {
      onFail();
      this.socket.destroy();
      return null;
    }
    if (rest === null) return null;
    onDone();
    return rest.length > 0 ? rest : null;
  }
}

/** An outgoing link to one node. */
export class Link {
  socket: net.Socket | null = null;
  up = false;
  closed = false;
  createdAt = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    private onMessage: (link: Link, m: BusMessage) => void,
    private onState: (link: Link) => void,
    /** opens the connection (tls-cluster: a TLS one, src/node/tls.ts); `ready` is when it may talk */
    private dial: (host: string, port: number) => { socket: net.Socket; ready: string } = (host, port) => ({ socket: net.connect(port, host), ready: 'connect' }),
    /** the bus secret ('' = none): the link is up only once the peer proved it knows it (BusHandshake) */
    private secret: () => string = () => '',
    private onAuthFailed: (link: Link) => void = () => {},
  ) {}

  connect(): void {
    if (this.closed || this.socket) return;
    this.createdAt = Date.now();
    const { socket: s, ready } = this.dial(this.host, this.port);
    this.socket = s;
    s.setNoDelay(true);
    const reader = new FrameReader((m) => this.onMessage(this, m));
    let handshake: BusHandshake | null = null;
    s.on(ready, () => {
      const secret = this.secret();
      if (secret !== '') {
        handshake = new BusHandshake(s, secret, 'dial');
        return;
      }
      this.up = true;
      this.onState(this);
    });
    s.on('data', (d: Buffer) => {
      try {
        const frames = handshake
          ? handshake.pass(d, () => this.onAuthFailed(this), () => {
              this.up = true;
              this.onState(this);
            })
          : d;
        if (frames !== null && frames.length > 0) reader.feed(frames);
      } catch {
        s.destroy();
      }
    });
    const gone = () => {
      if (this.socket !== s) return;
      this.socket = null;
      this.up = false;
      this.onState(this);
    };
    s.on('error', gone);
    s.on('close', gone);
  }

  send(m: BusMessage): boolean {
    if (!this.socket || !this.up) return false;
    this.socket.write(frame(m));
    return true;
  }

  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.socket = null;
    this.up = false;
  }
}
