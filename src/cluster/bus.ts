// The cluster bus: a TCP listener on the cluster port and one outgoing link per known node. Frames are a 4-byte
// big-endian length followed by a msgpackr-encoded message. A node sends PING (or MEET, for CLUSTER MEET) on its
// outgoing links; the other side answers PONG on the same connection.

import * as net from 'node:net';
import { pack, unpack } from 'msgpackr';

export interface GossipEntry {
  id: string;
  ip: string;
  port: number;
  cport: number;
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
  ) {}

  connect(): void {
    if (this.closed || this.socket) return;
    this.createdAt = Date.now();
    const s = net.connect(this.port, this.host);
    this.socket = s;
    s.setNoDelay(true);
    const reader = new FrameReader((m) => this.onMessage(this, m));
    s.on('connect', () => {
      this.up = true;
      this.onState(this);
    });
    s.on('data', (d: Buffer) => {
      try {
        reader.feed(d);
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
