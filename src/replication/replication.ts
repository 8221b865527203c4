// Replication of one node, master side and replica side (Redis's replication.c in spirit; the stream is RESP,
// so `redis-cli --replica` or a sentinel sees what it expects):
// - a replication id (40 hex chars) and a byte offset into the stream of write commands; a backlog of the last
//   repl-backlog-size bytes, for partial resyncs (PSYNC id offset → +CONTINUE);
// - full sync: +FULLRESYNC id offset, then a snapshot of that instant (src/persistence, written without
//   blocking) as `$<len>\r\n<bytes>`, then the stream bytes produced meanwhile;
// - promotion (REPLICAOF NO ONE) keeps the old id as replid2 (second_repl_offset), so the other replicas of the
//   old master continue partially against the new one;
// - replicas acknowledge their offset every second (lag, WAIT, min-replicas-to-write);
// - what is propagated is what the command path propagates (Server.onPropagate): AI execute commands and DAGs
//   as AI.TENSORSET of what they wrote, expiry as DEL. A replica passes its master's bytes on unchanged.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import type { Client } from '../node/client';
import type { Command } from '../node/command-table';
import type { Server } from '../node/server';
import { commandBytes, encodeCommand } from '../node/resp/command';
import { writeSnapshot } from '../persistence/snapshot';
import { Backlog } from './backlog';
import { MasterLink } from './master-link';

export const ZERO_REPLID = '0'.repeat(40);
const newReplid = (): string => crypto.randomBytes(20).toString('hex');

export type ReplicaState = 'wait_bgsave' | 'send_bulk' | 'online';

/** A replica connected to this node (its connection is a Client that sent PSYNC or SYNC). */
export interface ReplicaConn {
  client: Client;
  state: ReplicaState;
  /** the offset it acknowledged last */
  ackOffset: number;
  /** ms of its last ACK */
  ackTime: number;
  /** REPLCONF listening-port / ip-address (its address for INFO and ROLE) */
  port: number;
  ip: string;
  /** stream bytes produced while its snapshot is being made and sent */
  pending: Buffer[] | null;
}

interface Waiter {
  target: number;
  n: number;
  done: () => void;
}

const READONLY = "READONLY You can't write against a read only replica.";
const NOREPLICAS = 'NOREPLICAS Not enough good replicas to write.';

export class Replication {
  role: 'master' | 'replica' = 'master';
  replid = newReplid();
  replid2 = ZERO_REPLID;
  /** master_repl_offset: the last byte of the stream this node has (produced or received) */
  offset = 0;
  secondOffset = -1;
  backlog: Backlog | null = null;
  readonly replicas = new Set<ReplicaConn>();
  link: MasterLink | null = null;
  /** what replicas said in REPLCONF before PSYNC */
  private readonly announced = new WeakMap<Client, { port: number; ip: string }>();
  /** the database the stream last SELECTed (-1: the next command selects) */
  private seldb = -1;
  private waiters: Waiter[] = [];
  private lastPing = Date.now();
  private cronTimer: NodeJS.Timeout;
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;

  constructor(readonly server: Server) {
    server.onPropagate((db, argv) => this.feed(db, argv));
    this.cronTimer = setInterval(() => this.cron(), 1000);
    this.cronTimer.unref();
  }

  close(): void {
    clearInterval(this.cronTimer);
    this.link?.close();
    for (const w of this.waiters.splice(0)) w.done();
  }

  // ------------------------------------------------------------------------------------- the stream

  /** Propagated writes of this node (a master): SELECT when the database changes, then the command. */
  private feed(db: number, argv: Buffer[]): void {
    if (this.role !== 'master' || (this.backlog === null && this.replicas.size === 0)) return;
    const parts: Buffer[] = [];
    if (db !== this.seldb) {
      encodeCommand([Buffer.from('SELECT'), Buffer.from(String(db))], parts);
      this.seldb = db;
    }
    encodeCommand(argv, parts);
    this.append(parts);
  }

  /** A command of the master's stream, applied here: its bytes go on to the backlog and the sub-replicas. */
  forward(argv: Buffer[], bytes: number): void {
    const parts: Buffer[] = [];
    const n = encodeCommand(argv, parts);
    if (n !== bytes) this.server.log('warning', `replication stream: re-encoded ${n} bytes for ${bytes}`);
    this.append(parts);
  }

  /** Adds bytes to the stream: the backlog, then every replica (held back for those still syncing). */
  private append(parts: Buffer[]): void {
    const backlog = this.ensureBacklog();
    for (const p of parts) backlog.append(p);
    this.offset = backlog.offset;
    if (this.replicas.size === 0) return;
    // one write per replica per event-loop turn, not one per command (as Redis writes replica buffers before
    // it sleeps): at 16 clients × pipelined SETs that is the difference between a syscall per command and one
    // per batch
    for (const p of parts) this.outgoing.push(p);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushOutgoing());
    }
  }

  private outgoing: Buffer[] = [];
  private flushScheduled = false;

  private flushOutgoing(): void {
    this.flushScheduled = false;
    const parts = this.outgoing;
    this.outgoing = [];
    if (parts.length === 0) return;
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    for (const r of this.replicas) {
      if (r.pending) r.pending.push(data);
      else r.client.socket.write(data);
    }
  }

  private ensureBacklog(): Backlog {
    if (!this.backlog) this.backlog = new Backlog(this.server.config.getInt('repl-backlog-size'), this.offset);
    return this.backlog;
  }

  // ------------------------------------------------------------------------------ master: PSYNC / SYNC

  /** REPLCONF listening-port / ip-address, remembered for the PSYNC that follows. */
  announce(c: Client, what: { port?: number; ip?: string }): void {
    const a = this.announced.get(c) ?? { port: 0, ip: '' };
    if (what.port !== undefined) a.port = what.port;
    if (what.ip !== undefined) a.ip = what.ip;
    this.announced.set(c, a);
  }

  /** PSYNC <replid> <offset> (or SYNC: `psync` false): partial resync when the backlog has it, else full. */
  sync(c: Client, replid: string, from: number, psync: boolean): Promise<void> | void {
    if (this.role === 'replica' && !this.link?.up) throw new SyncRefused("NOMASTERLINK Can't SYNC while not connected with my master");
    if (c.kind === 'replica') return; // already a replica: ignored, as Redis
    const a = this.announced.get(c);
    const conn: ReplicaConn = {
      client: c,
      state: 'wait_bgsave',
      ackOffset: 0,
      ackTime: Date.now(),
      port: a?.port || 0,
      ip: a?.ip || normaliseIp(c.socket.remoteAddress),
      pending: [],
    };
    c.kind = 'replica';
    this.server.flushNow(c); // replies to its REPLCONFs go before the stream
    this.flushOutgoing(); // bytes before this replica's starting point go only to the others
    const addr = `${conn.ip}:${conn.port}`;
    if (psync && this.canContinue(replid, from)) {
      const bytes = this.backlog!.readFrom(from);
      c.socket.write(`+CONTINUE ${this.replid}\r\n`);
      if (bytes.length > 0) c.socket.write(bytes);
      conn.state = 'online';
      conn.pending = null;
      conn.ackOffset = from - 1;
      this.replicas.add(conn);
      this.syncPartialOk++;
      this.server.log('notice', `Partial resynchronization request from ${addr} accepted. Sending ${bytes.length} bytes of backlog starting from offset ${from}.`);
      return;
    }
    if (psync && replid !== '?') this.syncPartialErr++;
    this.syncFull++;
    this.server.log('notice', `Replica ${addr} asks for synchronization; starting a full resync`);
    return this.fullSync(conn, psync);
  }

  private canContinue(replid: string, from: number): boolean {
    if (!this.backlog) return false;
    if (replid !== this.replid && (replid !== this.replid2 || from > this.secondOffset)) return false;
    return this.backlog.covers(from);
  }

  /** Snapshot of this instant to a temp file (without blocking), sent as `$<len>\r\n<bytes>`, then the backlog since. */
  private async fullSync(conn: ReplicaConn, psync: boolean): Promise<void> {
    const c = conn.client;
    this.ensureBacklog();
    // the snapshot is of this instant; every stream byte from now on goes to conn.pending
    const view = this.server.persistence.takeView();
    const at = this.offset;
    this.replicas.add(conn);
    if (psync) c.socket.write(`+FULLRESYNC ${this.replid} ${at}\r\n`);
    // in the working directory (`dir`), named so that a crash leaves nothing behind (start-up removes temp-*)
    const tmp = nodePath.resolve(`temp-${process.pid}-repl-${c.id}.rdb`);
    // a newline every second keeps the replica's link alive while the snapshot is written
    const keepalive = setInterval(() => c.socket.write('\n'), 1000);
    try {
      try {
        await writeSnapshot(tmp, view.dbs, {});
      } finally {
        view.release();
        clearInterval(keepalive);
      }
      if (c.closed) return;
      conn.state = 'send_bulk';
      const size = (await fs.promises.stat(tmp)).size;
      c.socket.write(`$${size}\r\n`);
      await sendFile(tmp, c);
      if (c.closed) return;
      const held = conn.pending ?? [];
      conn.pending = null;
      conn.state = 'online';
      conn.ackTime = Date.now();
      c.socket.cork();
      for (const b of held) c.socket.write(b);
      c.socket.uncork();
      this.server.log('notice', `Synchronization with replica ${conn.ip}:${conn.port} succeeded`);
    } catch (e) {
      this.server.log('warning', `Full resync of replica ${conn.ip}:${conn.port} failed: ${(e as Error).message}`);
      c.close();
    } finally {
      fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  /** A replica connection closed (Server.clientClosed). */
  clientClosed(c: Client): void {
    if (c.kind !== 'replica') return;
    for (const r of this.replicas) {
      if (r.client === c) {
        this.replicas.delete(r);
        this.server.log('notice', `Connection with replica ${r.ip}:${r.port} lost.`);
      }
    }
    this.checkWaiters();
  }

  /** REPLCONF ACK <offset> from a replica. */
  ack(c: Client, offset: number): void {
    for (const r of this.replicas) {
      if (r.client !== c) continue;
      if (offset > r.ackOffset) r.ackOffset = offset;
      r.ackTime = Date.now();
    }
    this.checkWaiters();
  }

  // ------------------------------------------------------------------------------------------- WAIT

  /** WAIT numreplicas timeout: how many replicas acknowledged this node's offset, blocking up to timeout. */
  wait(numreplicas: number, timeoutMs: number): number | Promise<number> {
    const target = this.offset;
    const count = () => this.acked(target);
    if (count() >= numreplicas) return count();
    this.append([commandBytes('REPLCONF', 'GETACK', '*')]);
    return new Promise<number>((resolve) => {
      let timer: NodeJS.Timeout | null = null;
      const w: Waiter = {
        target,
        n: numreplicas,
        done: () => {
          if (timer) clearTimeout(timer);
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(count());
        },
      };
      this.waiters.push(w);
      if (timeoutMs > 0) timer = setTimeout(w.done, timeoutMs);
    });
  }

  private acked(target: number): number {
    let n = 0;
    for (const r of this.replicas) if (r.state === 'online' && r.ackOffset >= target) n++;
    return n;
  }

  private checkWaiters(): void {
    for (const w of [...this.waiters]) if (this.acked(w.target) >= w.n || this.replicas.size === 0) w.done();
  }

  // ------------------------------------------------------------------------------------ replica side

  /**
   * What PSYNC asks for: our history (id, next byte) when we have one (a backlog: we synced before, or served
   * replicas as a master), else `? -1`.
   */
  psyncRequest(): [string, number] {
    return this.backlog ? [this.replid, this.offset + 1] : ['?', -1];
  }

  /** +FULLRESYNC: the master's snapshot replaces the data set; its id and offset become ours. */
  async loadFullSync(buf: Buffer, replid: string, offset: number): Promise<void> {
    const server = this.server;
    server.loading = true;
    try {
      for (const db of server.dbs) db.clear();
      await server.persistence.loadSnapshotBuffer(buf, 'the MASTER synchronization payload');
    } finally {
      server.loading = false;
    }
    this.replid = replid;
    this.replid2 = ZERO_REPLID;
    this.secondOffset = -1;
    this.offset = offset;
    this.backlog = new Backlog(server.config.getInt('repl-backlog-size'), offset);
    // a new history: sub-replicas start over from it
    this.disconnectReplicas();
  }

  /** +CONTINUE [newid]: a master with a new id (it was promoted) continues our history. */
  continued(newReplid: string | undefined): void {
    if (newReplid && newReplid !== this.replid) {
      this.replid2 = this.replid;
      this.secondOffset = this.offset + 1;
      this.replid = newReplid;
      // sub-replicas ask again, and continue through replid2
      this.disconnectReplicas();
    }
  }

  /** What a snapshot records of the replication history (nothing before there is one). */
  historyForSnapshot(): { replId: string; replOffset: number } | Record<string, never> {
    return this.backlog ? { replId: this.replid, replOffset: this.offset } : {};
  }

  /**
   * Start-up from a snapshot that recorded a history: this node continues it, so that its master (or its
   * replicas) can resume with a partial resync instead of a full one.
   */
  restoreHistory(replid: string, offset: number): void {
    this.replid = replid;
    this.offset = offset;
    this.backlog = new Backlog(this.server.config.getInt('repl-backlog-size'), offset);
    this.server.log('notice', `Restored the replication ID and offset from the snapshot: ${replid}:${offset}`);
  }

  // ------------------------------------------------------------------------------------ role changes

  /** REPLICAOF host port. false when already replicating from there. */
  replicaOf(host: string, port: number): boolean {
    if (this.role === 'replica' && this.link && this.link.host === host && this.link.port === port) return false;
    this.link?.close();
    this.role = 'replica';
    for (const w of this.waiters.splice(0)) w.done();
    this.disconnectReplicas();
    this.link = new MasterLink(this, host, port);
    this.link.start();
    // CONFIG REWRITE keeps the role (a sentinel rewrites the config after SLAVEOF)
    this.server.config.set('replicaof', `${host} ${port}`, true);
    return true;
  }

  /** REPLICAOF NO ONE: this node becomes a master and starts a new history (the old id becomes replid2). */
  promote(): void {
    if (this.role === 'master') return;
    this.link?.close();
    this.link = null;
    this.role = 'master';
    this.server.config.set('replicaof', '', true);
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.replid = newReplid();
    this.seldb = -1;
    this.disconnectReplicas();
    this.server.log('notice', `Setting secondary replication ID to ${this.replid2}, valid up to offset: ${this.secondOffset}. New replication ID is ${this.replid}`);
    this.server.log('notice', 'MASTER MODE enabled (user request from REPLICAOF NO ONE)');
  }

  private disconnectReplicas(): void {
    for (const r of [...this.replicas]) r.client.close();
    this.replicas.clear();
  }

  /**
   * The write gate of the command path: a read-only replica refuses writes from its clients, and a master
   * with min-replicas-to-write refuses writes without enough replicas acknowledging within the lag.
   */
  refuseWrite(c: Client, cmd: Command): string | null {
    if (!cmd.isWrite || c.kind === 'master') return null;
    const cfg = this.server.config;
    if (this.role === 'replica') return cfg.getBool('replica-read-only') ? READONLY : null;
    const min = cfg.getInt('min-replicas-to-write');
    if (min > 0) {
      const maxLag = cfg.getInt('min-replicas-max-lag') * 1000;
      const now = Date.now();
      let good = 0;
      for (const r of this.replicas) if (r.state === 'online' && now - r.ackTime <= maxLag) good++;
      if (good < min) return NOREPLICAS;
    }
    return null;
  }

  // ------------------------------------------------------------------------------------------- cron

  private cron(): void {
    const now = Date.now();
    this.link?.cron(now);
    const cfg = this.server.config;
    if (this.role === 'master' && this.replicas.size > 0 && now - this.lastPing >= cfg.getInt('repl-ping-replica-period') * 1000) {
      this.lastPing = now;
      this.append([commandBytes('PING')]);
    }
    const timeout = cfg.getInt('repl-timeout') * 1000;
    for (const r of [...this.replicas]) {
      if (r.state === 'online' && now - r.ackTime > timeout) {
        this.server.log('warning', `Disconnecting timedout replica: ${r.ip}:${r.port}`);
        r.client.close();
      }
    }
  }

  // ------------------------------------------------------------------------------------------- INFO

  infoFields(): [string, string | number][] {
    const now = Date.now();
    const f: [string, string | number][] = [['role', this.role === 'master' ? 'master' : 'slave']];
    const link = this.link;
    if (this.role === 'replica' && link) {
      f.push(
        ['master_host', link.host],
        ['master_port', link.port],
        ['master_link_status', link.up ? 'up' : 'down'],
        ['master_last_io_seconds_ago', link.up && link.lastIo > 0 ? Math.floor((now - link.lastIo) / 1000) : -1],
        ['master_sync_in_progress', link.state === 'sync' ? 1 : 0],
        ['slave_read_repl_offset', this.offset],
        ['slave_repl_offset', this.offset],
      );
      if (link.state === 'sync') {
        f.push(
          ['master_sync_total_bytes', link.syncTotal],
          ['master_sync_read_bytes', link.syncRead],
          ['master_sync_left_bytes', link.syncTotal - link.syncRead],
          ['master_sync_last_io_seconds_ago', Math.floor((now - link.lastIo) / 1000)],
        );
      }
      if (!link.up) f.push(['master_link_down_since_seconds', link.downSince > 0 ? Math.floor((now - link.downSince) / 1000) : -1]);
      f.push(
        ['slave_priority', this.server.config.getInt('replica-priority')],
        ['slave_read_only', this.server.config.getBool('replica-read-only') ? 1 : 0],
        ['replica_announced', 1],
      );
    }
    f.push(['connected_slaves', this.replicas.size]);
    let i = 0;
    for (const r of this.replicas) {
      const lag = Math.floor((now - r.ackTime) / 1000);
      f.push([`slave${i++}`, `ip=${r.ip},port=${r.port},state=${r.state},offset=${r.ackOffset},lag=${lag}`]);
    }
    const b = this.backlog;
    f.push(
      ['master_failover_state', 'no-failover'],
      ['master_replid', this.replid],
      ['master_replid2', this.replid2],
      ['master_repl_offset', this.offset],
      ['second_repl_offset', this.secondOffset],
      ['repl_backlog_active', b ? 1 : 0],
      ['repl_backlog_size', b ? b.size : this.server.config.getInt('repl-backlog-size')],
      ['repl_backlog_first_byte_offset', b ? b.firstByteOffset : 0],
      ['repl_backlog_histlen', b ? b.histlen : 0],
    );
    return f;
  }
}

/** A refusal of PSYNC/SYNC with its own error code (no ERR prefix). */
export class SyncRefused extends Error {}

function normaliseIp(ip: string | undefined): string {
  if (!ip) return '?';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Streams a file into a client's socket, respecting back-pressure. */
function sendFile(path: string, c: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const rs = fs.createReadStream(path, { highWaterMark: 1 << 20 });
    rs.on('error', reject);
    rs.on('data', (chunk) => {
      if (c.closed) {
        rs.destroy();
        return resolve();
      }
      if (!c.socket.write(chunk)) {
        rs.pause();
        c.socket.once('drain', () => rs.resume());
      }
    });
    rs.on('end', () => resolve());
    c.socket.once('close', () => {
      rs.destroy();
      resolve();
    });
  });
}
