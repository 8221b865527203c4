// A replica's link to its master: connect, handshake (PING, AUTH, REPLCONF listening-port, REPLCONF capa,
// PSYNC), then either load the snapshot that follows +FULLRESYNC or continue after +CONTINUE, then apply the
// command stream. Commands from the master run one at a time, in order, through the normal command path
// (an AI.MODELSTORE is awaited before the next command runs); their bytes are passed on unchanged to this
// node's backlog and sub-replicas, so offsets stay those of the master all down a chain. Every second, and
// when the master asks (REPLCONF GETACK), the link acknowledges its offset (REPLCONF ACK <offset>).

import * as net from 'node:net';
import { Client } from '../node/client';
import { RespParser } from '../node/resp/parser';
import { commandBytes as command } from '../node/resp/command';
import type { Replication } from './replication';

export type LinkState = 'connect' | 'connecting' | 'handshake' | 'sync' | 'connected';

type Mode = 'reply' | 'bulkhead' | 'bulk' | 'loading' | 'stream';
type Step = 'ping' | 'auth' | 'port' | 'capa' | 'psync';

/** Bytes of a command in the stream, as the master encodes it (RESP multibulk). */
function encodedLength(argv: Buffer[]): number {
  let n = 3 + String(argv.length).length;
  for (const a of argv) n += 5 + String(a.length).length + a.length;
  return n;
}

export class MasterLink {
  state: LinkState = 'connect';
  /** ms of the last byte read from the master */
  lastIo = 0;
  /** ms when the link went down (0 while up) */
  downSince = Date.now();
  /** bytes of the snapshot being received (INFO master_sync_total_bytes / read_bytes) */
  syncTotal = 0;
  syncRead = 0;
  fullSyncs = 0;
  partialSyncs = 0;
  private socket: net.Socket | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private mode: Mode = 'reply';
  private step: Step = 'ping';
  private inbuf: Buffer = Buffer.alloc(0);
  private bulk: Buffer | null = null;
  private parser: RespParser | null = null;
  private queue: Buffer[][] = [];
  private applying = false;
  /** the pseudo-client master commands run as (flags M in CLIENT LIST terms; never answered) */
  private readonly client: Client;

  constructor(
    private readonly repl: Replication,
    readonly host: string,
    readonly port: number,
  ) {
    this.client = new Client(repl.server, new net.Socket(), 0);
    this.client.kind = 'master';
    this.client.authenticated = true;
  }

  start(): void {
    this.connect();
  }

  /** Ends the link for good (REPLICAOF NO ONE / another master). */
  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
    this.socket = null;
    this.queue = [];
  }

  get up(): boolean {
    return this.state === 'connected';
  }

  /** REPLCONF ACK <offset>: every second and on GETACK. */
  sendAck(): void {
    if (this.state !== 'connected' || !this.socket) return;
    this.socket.write(command('REPLCONF', 'ACK', String(this.repl.offset)));
  }

  /** Called every second: acknowledge, and drop a link that has been silent for repl-timeout. */
  cron(now: number): void {
    if (this.closed) return;
    this.sendAck();
    const timeout = this.repl.server.config.getInt('repl-timeout') * 1000;
    if (this.socket && this.state !== 'connect' && this.lastIo > 0 && now - this.lastIo > timeout && this.mode !== 'loading') {
      this.repl.server.log('warning', 'MASTER timeout: no data nor PING received...');
      this.socket.destroy();
    }
  }

  // ----------------------------------------------------------------------------------------- connection

  private connect(): void {
    if (this.closed) return;
    this.state = 'connecting';
    this.mode = 'reply';
    this.inbuf = Buffer.alloc(0);
    this.parser = null;
    const server = this.repl.server;
    server.log('notice', `Connecting to MASTER ${this.host}:${this.port}`);
    // tls-replication: over TLS, presenting this node's certificate (src/node/tls.ts)
    const { socket: s, ready } = server.tls.dial(this.host, this.port, server.config.getBool('tls-replication'));
    this.socket = s;
    s.setNoDelay(true);
    s.on(ready, () => {
      server.log('notice', 'MASTER <-> REPLICA sync started');
      this.state = 'handshake';
      this.lastIo = Date.now();
      this.step = 'ping';
      s.write(command('PING'));
    });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    const down = () => {
      if (this.socket !== s) return;
      this.socket = null;
      this.onDown();
    };
    s.on('error', (e) => {
      if (this.state === 'connecting') server.log('warning', `Error condition on socket for SYNC: ${e.message}`);
      down();
    });
    s.on('close', down);
  }

  private onDown(): void {
    if (this.state === 'connected') this.repl.server.log('notice', 'Connection with master lost.');
    if (this.state === 'connected' || this.downSince === 0) this.downSince = Date.now();
    this.state = 'connect';
    this.queue = [];
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect();
    }, 1000);
  }

  private fail(why: string): void {
    this.repl.server.log('warning', why);
    this.socket?.destroy();
  }

  // ---------------------------------------------------------------------------------------- reading

  private onData(chunk: Buffer): void {
    this.lastIo = Date.now();
    if (this.mode === 'stream') return this.feedStream(chunk);
    this.inbuf = this.inbuf.length > 0 ? Buffer.concat([this.inbuf, chunk]) : chunk;
    this.process();
  }

  /** Handshake replies, the snapshot header and payload; then hands what follows to the stream parser. */
  private process(): void {
    for (;;) {
      if (this.mode === 'reply' || this.mode === 'bulkhead') {
        let i = 0;
        while (i < this.inbuf.length && this.inbuf[i] === 10) i++; // newline keepalives
        if (i > 0) this.inbuf = this.inbuf.subarray(i);
        const nl = this.inbuf.indexOf('\r\n');
        if (nl < 0) return;
        const line = this.inbuf.toString('latin1', 0, nl);
        this.inbuf = this.inbuf.subarray(nl + 2);
        if (this.mode === 'reply') this.onReply(line);
        else this.onBulkHeader(line);
        if (!this.socket) return;
        continue;
      }
      if (this.mode === 'bulk') {
        const bulk = this.bulk!;
        const n = Math.min(this.inbuf.length, bulk.length - this.syncRead);
        this.inbuf.copy(bulk, this.syncRead, 0, n);
        this.syncRead += n;
        this.inbuf = this.inbuf.subarray(n);
        if (this.syncRead < bulk.length) return;
        this.mode = 'loading';
        void this.loadSnapshot(bulk);
        return;
      }
      if (this.mode === 'stream') {
        const rest = this.inbuf;
        this.inbuf = Buffer.alloc(0);
        if (rest.length > 0) this.feedStream(rest);
        return;
      }
      return; // loading: the rest waits
    }
  }

  private onReply(line: string): void {
    const cfg = this.repl.server.config;
    const s = this.socket!;
    const err = line.startsWith('-');
    switch (this.step) {
      case 'ping':
        // -NOAUTH is a fine answer to PING: AUTH comes next
        if (err && !/^-(NOAUTH|NOPERM|ERR operation not permitted)/.test(line)) return this.fail(`Error reply to PING from master: '${line}'`);
        if (cfg.get('masterauth') !== '') {
          this.step = 'auth';
          const user = cfg.get('masteruser');
          s.write(user ? command('AUTH', user, cfg.get('masterauth')) : command('AUTH', cfg.get('masterauth')));
          return;
        }
        return this.sendPort();
      case 'auth':
        if (err) return this.fail(`Unable to AUTH to MASTER: ${line}`);
        return this.sendPort();
      case 'port':
        if (err) this.repl.server.log('notice', `(Non critical) Master does not understand REPLCONF listening-port: ${line}`);
        this.step = 'capa';
        s.write(command('REPLCONF', 'capa', 'eof', 'capa', 'psync2'));
        return;
      case 'capa': {
        this.step = 'psync';
        const [id, from] = this.repl.psyncRequest();
        s.write(command('PSYNC', id, String(from)));
        return;
      }
      case 'psync':
        return this.onPsyncReply(line);
    }
  }

  private sendPort(): void {
    this.step = 'port';
    const srv = this.repl.server;
    // as Redis: the TLS port when replicating over TLS
    const port = srv.config.getInt('replica-announce-port') || (srv.config.getBool('tls-replication') && srv.boundTlsPort ? srv.boundTlsPort : srv.boundPort);
    this.socket!.write(command('REPLCONF', 'listening-port', String(port)));
  }

  private onPsyncReply(line: string): void {
    const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)$/.exec(line);
    if (m) {
      this.repl.server.log('notice', `Full resync from master: ${m[1]}:${m[2]}`);
      this.pendingFull = { replid: m[1], offset: Number(m[2]) };
      this.state = 'sync';
      this.mode = 'bulkhead';
      return;
    }
    const c = /^\+CONTINUE(?: ([0-9a-f]{40}))?$/.exec(line);
    if (c) {
      this.repl.server.log('notice', 'Successful partial resynchronization with master.');
      this.partialSyncs++;
      this.repl.continued(c[1]);
      this.online();
      return;
    }
    if (/^-NOMASTERLINK|^-LOADING/.test(line)) {
      this.repl.server.log('notice', `Master is currently unable to PSYNC but should be in the future: ${line}`);
      return void this.socket?.destroy();
    }
    this.fail(`Unexpected reply to PSYNC from master: ${line}`);
  }

  private pendingFull: { replid: string; offset: number } | null = null;

  private onBulkHeader(line: string): void {
    const m = /^\$(\d+)$/.exec(line);
    if (!m) return this.fail(`Bad protocol from MASTER, the first byte is not '$' (we received '${line.slice(0, 64)}'), are you sure the host and port are right?`);
    this.syncTotal = Number(m[1]);
    this.syncRead = 0;
    this.bulk = Buffer.allocUnsafe(this.syncTotal);
    this.mode = 'bulk';
    this.repl.server.log('notice', `MASTER <-> REPLICA sync: receiving ${this.syncTotal} bytes from master to memory`);
  }

  private async loadSnapshot(buf: Buffer): Promise<void> {
    const full = this.pendingFull!;
    const sock = this.socket;
    sock?.pause();
    try {
      await this.repl.loadFullSync(buf, full.replid, full.offset);
    } catch (e) {
      this.bulk = null;
      return this.fail(`Failed trying to load the MASTER synchronization DB from memory: ${(e as Error).message}`);
    }
    this.bulk = null;
    this.fullSyncs++;
    if (this.socket !== sock || !sock) return;
    this.online();
    sock.resume();
  }

  private online(): void {
    this.state = 'connected';
    this.downSince = 0;
    this.mode = 'stream';
    this.parser = new RespParser({ maxBulkLen: () => Number.MAX_SAFE_INTEGER, authenticated: () => true });
    this.repl.server.log('notice', 'MASTER <-> REPLICA sync: Finished with success');
    this.sendAck();
    this.process();
  }

  // --------------------------------------------------------------------------------- the command stream

  private feedStream(chunk: Buffer): void {
    try {
      this.parser!.feed(chunk, (argv) => this.queue.push(argv));
    } catch (e) {
      return this.fail(`Protocol error in the replication stream: ${(e as Error).message}`);
    }
    if (!this.applying) void this.applyQueue();
  }

  private async applyQueue(): Promise<void> {
    this.applying = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const argv = this.queue.shift()!;
        const r = this.apply(argv);
        if (r) await r;
      }
    } finally {
      this.applying = false;
    }
  }

  /** Runs one command of the stream, then passes its bytes on. */
  private apply(argv: Buffer[]): Promise<void> | void {
    const server = this.repl.server;
    const name = argv[0].toString('latin1').toLowerCase();
    const forward = () => this.repl.forward(argv, encodedLength(argv));
    if (name === 'ping' || name === 'multi' || name === 'exec') return forward();
    if (name === 'replconf') {
      forward();
      if (argv[1]?.toString('latin1').toLowerCase() === 'getack') this.sendAck();
      return;
    }
    let cmd = server.table.lookup(argv[0]);
    if (cmd?.subcommands && argv.length >= 2) cmd = cmd.subcommands.get(argv[1].toString('latin1').toLowerCase()) ?? cmd;
    if (!cmd || !cmd.handler || !cmd.arityOk(argv.length)) {
      server.log('warning', `Replication stream: cannot run '${argv[0].toString('latin1').slice(0, 64)}' from the master`);
      return forward();
    }
    const done = () => {
      const out = this.client.out.take();
      if (out && out[0] === 45 /* '-' */) {
        server.log('warning', `'${cmd!.fullName}' from the master answered ${out.toString('latin1', 0, Math.min(out.length, 200)).trim()}`);
      }
      forward();
    };
    let r: Promise<void> | void;
    try {
      r = server.call(this.client, cmd, argv);
    } catch (e) {
      server.log('warning', `'${cmd.fullName}' from the master failed: ${(e as Error).message}`);
      return forward();
    }
    if (!r) return done();
    return r.then(done, (e: Error) => {
      server.log('warning', `'${cmd!.fullName}' from the master failed: ${e.message}`);
      forward();
    });
  }
}
