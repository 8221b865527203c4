// One connected client: its socket, parser, reply writer and session state (db, protocol, auth,
// MULTI queue, watched keys, subscriptions). Commands of one client run strictly in order: a command
// that returns a promise holds back the ones pipelined after it until it has replied.

import type * as net from 'node:net';
import { RespParser, ProtocolError } from './resp/parser';
import { ReplyWriter } from './resp/writer';
import type { Database } from './keyspace';
import type { Server } from './server';
import type { Command } from './command-table';

/** reply bytes waiting unread above which a client's commands are held back */
const OUTPUT_PAUSE_BYTES = 4 * 1024 * 1024;
const EMPTY: Buffer[] = [];

export type ClientKind = 'normal' | 'pubsub' | 'replica' | 'master';

export class Client {
  readonly id: number;
  readonly out = new ReplyWriter();
  readonly parser: RespParser;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  name = '';
  libName = '';
  libVer = '';
  db: Database;
  authenticated: boolean;
  user = 'default';
  /** queued commands while in MULTI; null when not in a transaction */
  multi: { cmd: Command; argv: Buffer[] }[] | null = null;
  /** set when a command failed to queue: EXEC answers EXECABORT */
  multiError = false;
  /** true while EXEC runs this client's queued commands (blocking AI commands refuse to run then) */
  inExec = false;
  /** set when a watched key was modified: EXEC answers a null array */
  dirtyCas = false;
  watched = new Map<Database, Set<string>>();
  channels = new Set<string>();
  patterns = new Set<string>();
  lastCommand = 'NULL';
  /** true while a command of this client runs asynchronously */
  private busy = false;
  private queue: Buffer[][] = [];
  private queueHead = 0;
  private protocolError: string | null = null;
  closeAfterReply = false;
  closed = false;
  /** reading paused because replies are not being read (back-pressure) */
  readPaused = false;
  /** when the soft output-buffer limit was first exceeded (0 = not exceeded) */
  softLimitSince = 0;
  kind: ClientKind = 'normal';

  constructor(
    readonly server: Server,
    readonly socket: net.Socket,
    id: number,
  ) {
    this.id = id;
    this.db = server.dbs[0];
    this.authenticated = server.acl.autoAuthenticated();
    this.parser = new RespParser({
      maxBulkLen: () => server.config.hot.protoMaxBulkLen,
      authenticated: () => this.authenticated,
    });
  }

  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size;
  }

  /** SSUBSCRIBE channels held (kept by src/node/pubsub.ts): they put the client in the pub/sub context too, as Redis 7 */
  shardSubscriptions = 0;

  get inPubSubContext(): boolean {
    return this.subscriptionCount > 0 || this.shardSubscriptions > 0;
  }

  /** Feeds bytes read from the socket and runs the complete commands. */
  onData(chunk: Buffer): void {
    this.lastInteraction = Date.now();
    this.server.batchClock = -1;
    try {
      this.parser.feed(chunk, (argv) => {
        if (this.busy || this.queueHead < this.queue.length || this.outputBlocked()) this.queue.push(argv);
        else this.run(argv);
      });
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      // the error reply goes after the replies of the commands still queued before it
      this.protocolError = 'ERR ' + e.message;
    }
    const limit = this.server.config.hot.queryBufferLimit;
    if (this.parser.pending > limit) {
      this.server.log('warning', `closing client id=${this.id}: query buffer over client-query-buffer-limit`);
      this.close();
      return;
    }
    this.drainQueue();
  }

  private run(argv: Buffer[]): void {
    if (this.closeAfterReply || this.closed) return;
    const pending = this.server.dispatch(this, argv);
    if (pending) {
      this.busy = true;
      pending.finally(() => {
        this.busy = false;
        this.server.scheduleFlush(this);
        this.drainQueue();
      });
    }
  }

  /**
   * True while this many reply bytes wait unread: commands are then held back (and reading paused)
   * instead of buffering replies without bound for a client that does not read them.
   */
  private outputBlocked(): boolean {
    return this.out.pendingBytes + this.socket.writableLength > OUTPUT_PAUSE_BYTES;
  }

  private drainQueue(): void {
    this.server.batchClock = -1;
    while (!this.busy && this.queueHead < this.queue.length) {
      if (this.closed || this.closeAfterReply) break;
      if (this.outputBlocked()) return this.waitForDrain();
      const argv = this.queue[this.queueHead];
      this.queue[this.queueHead++] = EMPTY;
      this.run(argv);
    }
    if (this.queueHead >= this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
      if (this.protocolError !== null && !this.busy) {
        this.out.error(this.protocolError);
        this.protocolError = null;
        this.closeAfterReply = true;
        this.server.scheduleFlush(this);
      }
    }
  }

  /** Sends what is pending, stops reading, and resumes the queue once the socket has drained. */
  private waitForDrain(): void {
    if (this.readPaused) return;
    this.server.flushNow(this);
    if (!this.socket.writableNeedDrain) {
      // the kernel took it all: no 'drain' will come, carry on in a later turn
      setImmediate(() => this.drainQueue());
      return;
    }
    this.readPaused = true;
    this.socket.pause();
    this.socket.once('drain', () => {
      this.readPaused = false;
      if (this.closed) return;
      this.socket.resume();
      this.drainQueue();
    });
  }

  /** Closes the connection now; pending replies are dropped. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.server.clientClosed(this);
  }

  /** The CLIENT LIST / CLIENT INFO line for this client. */
  infoLine(): string {
    const now = Date.now();
    const s = this.socket;
    const flags =
      (this.kind === 'replica' ? 'S' : this.kind === 'master' ? 'M' : '') +
      (this.subscriptionCount > 0 ? 'P' : '') +
      (this.multi ? 'x' : '') +
      (this.dirtyCas ? 'd' : '') +
      (this.closeAfterReply ? 'c' : '');
    const obl = this.out.pendingBytes;
    return [
      `id=${this.id}`,
      `addr=${fmtAddr(s.remoteAddress, s.remotePort)}`,
      `laddr=${fmtAddr(s.localAddress, s.localPort)}`,
      `fd=${(s as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1}`,
      `name=${this.name}`,
      `age=${Math.floor((now - this.createdAt) / 1000)}`,
      `idle=${Math.floor((now - this.lastInteraction) / 1000)}`,
      `flags=${flags || 'N'}`,
      `db=${this.db.id}`,
      `sub=${this.channels.size}`,
      `psub=${this.patterns.size}`,
      `ssub=${this.shardSubscriptions}`,
      `multi=${this.multi ? this.multi.length : -1}`,
      `qbuf=${this.parser.pending}`,
      `qbuf-free=0`,
      `argv-mem=0`,
      `multi-mem=0`,
      `rbs=0`,
      `rbp=0`,
      `obl=${obl}`,
      `oll=0`,
      `omem=${s.writableLength}`,
      `tot-mem=${obl + s.writableLength + this.parser.pending}`,
      `events=r`,
      `cmd=${this.lastCommand}`,
      `user=${this.user}`,
      `redir=-1`,
      `resp=${this.out.proto}`,
      `lib-name=${this.libName}`,
      `lib-ver=${this.libVer}`,
    ].join(' ');
  }
}

function fmtAddr(host: string | undefined, port: number | undefined): string {
  if (!host) return '?:0';
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
