// The node: accepts connections, runs every command through one path (table lookup, gates, handler,
// reply, propagation), and keeps the shared state the commands work on (databases, clients, pub/sub,
// stats). Subsystems (persistence, replication, cluster) plug in through the propagation listeners
// and gates here; they never reach into connection handling.

import * as net from 'node:net';
import * as crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from './client';
import { Command, CommandTable } from './command-table';
import { Config } from './config';
import { CommandError, Err } from './errors';
import { Database } from './keyspace';
import { PubSub } from './pubsub';
import { SlowLog } from './slowlog';
import { allCommands } from './commands';
import { InfoSections, registerCoreSections } from './info';
import { registerAiInfo } from '../ai/info';
import { Persistence } from '../persistence';
import { Replication } from '../replication/replication';
import { BlockingRegistry } from './blocking';
import { Cluster } from '../cluster/cluster';
import { MemoryAccounting } from './memory';
import { Eviction, maxmemoryGate } from './eviction';
import { ClientPause } from './client-pause';
import { TlsSetup } from './tls';
import { Acl } from './acl';
import { Logger } from './log';
import { CommandHistograms, EventLoopWatch, LatencyMonitor } from './latency';
import { MetricsServer } from './metrics';

export type PropagationListener = (db: number, argv: Buffer[]) => void;

/** Holds replies back until what they acknowledge is durable (persistence, appendfsync always). */
export interface ReplyGate {
  /** called once before the replies of an event-loop turn are written */
  beforeReplies(): void;
  /** true when a reply leaving now must wait (then given to defer) */
  mustHold(): boolean;
  /** calls `deliver` once what the replies so far acknowledge is durable */
  defer(deliver: () => void): void;
}

export interface ServerStats {
  startTime: number;
  connectionsReceived: number;
  rejectedConnections: number;
  commandsProcessed: number;
  netInputBytes: number;
  netOutputBytes: number;
  expiredKeys: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  errorReplies: number;
  errorsByCode: Map<string, number>;
  opsSamples: number[];
  lastOpsSample: { at: number; count: number };
}

export class Server {
  readonly config: Config;
  readonly table: CommandTable;
  readonly dbs: Database[] = [];
  readonly clients = new Map<number, Client>();
  readonly pubsub = new PubSub();
  readonly slowlog = new SlowLog();
  readonly runId = crypto.randomBytes(20).toString('hex');
  readonly stats: ServerStats;
  readonly info = new InfoSections();
  /** clients blocked on keys (BLPOP, XREAD BLOCK ...): src/node/blocking.ts */
  readonly blocking = new BlockingRegistry();
  /** CLIENT PAUSE and a manual failover's pause: src/node/client-pause.ts */
  readonly pause = new ClientPause();
  activeExpireEnabled = true;
  /** how the process ends on SHUTDOWN (the entry point sets it) */
  onShutdown: () => void = () => {};
  /** count of keyspace changes, as Redis's server.dirty: a command that raised it is propagated */
  dirty = 0;
  /** changes since the last snapshot (INFO rdb_changes_since_last_save) */
  dirtySinceSave = 0;
  private nextClientId = 1;
  private listeners: net.Server[] = [];
  private pendingFlush = new Set<Client>();
  private flushScheduled = false;
  private cron: NodeJS.Timeout | null = null;
  private propagationListeners: PropagationListener[] = [];
  /** argv vectors to propagate instead of the command's own (set by handlers via rewritePropagation) */
  private propagateOverride: Buffer[][] | null = null;
  private txPropagation: 'none' | 'pending' | 'open' = 'none';
  /** end time of the previous command in the current read batch; -1 outside a batch */
  batchClock = -1;
  /** WATCHed keys: db -> key -> clients */
  private watchers = new Map<Database, Map<string, Set<Client>>>();
  /** ports actually bound (useful with --port 0) */
  boundPort = 0;
  /** the TLS client port (tls-port), 0 when off */
  boundTlsPort = 0;
  /** certificates and TLS listeners / links (src/node/tls.ts) */
  readonly tls: TlsSetup;
  shuttingDown = false;
  /** true while the data set loads: commands without the loading flag get -LOADING */
  get loading(): boolean {
    return this.loadingFlag;
  }
  set loading(on: boolean) {
    // a load fills the databases' maps directly: their sizes are counted once it is done
    if (this.loadingFlag && !on) this.memory.recount();
    this.loadingFlag = on;
  }
  private loadingFlag = false;
  /** used memory as accounted for maxmemory and INFO memory (src/node/memory.ts) */
  readonly memory: MemoryAccounting;
  /** maxmemory eviction (src/node/eviction.ts) */
  readonly eviction: Eviction;
  replyGate: ReplyGate | null = null;
  /** snapshots, the append-only log and loading at start-up (src/persistence) */
  readonly persistence: Persistence;
  /** role, replication stream, backlog, link to the master (src/replication) */
  readonly replication: Replication;
  /** slots, the cluster bus and the routing gate (src/cluster); null unless cluster-enabled */
  readonly cluster: Cluster | null;
  /** users and permissions (src/node/acl.ts); the default user follows requirepass */
  readonly acl: Acl;
  /** LATENCY events, per-command latency histograms, the event-loop watch (src/node/latency.ts) */
  readonly latency = new LatencyMonitor();
  readonly histograms = new CommandHistograms();
  readonly eventLoop: EventLoopWatch;
  /** GET /metrics on metrics-port (src/node/metrics.ts) */
  readonly metrics: MetricsServer;
  /** text or JSON log lines, to stdout or logfile (src/node/log.ts) */
  private readonly logger: Logger;

  constructor(config: Config) {
    this.config = config;
    this.logger = new Logger(config, () => {
      const mode: string = this.roleInfo().mode;
      return mode === 'sentinel' ? 'sentinel' : (this.replication?.role ?? 'master');
    });
    this.metrics = new MetricsServer(this);
    this.eventLoop = new EventLoopWatch(this.latency, () => this.latency.threshold > 0 || config.getInt('metrics-port') > 0);
    this.latency.threshold = config.getInt('latency-monitor-threshold');
    const prevOnChange = config.onChange;
    config.onChange = (name, value) => {
      prevOnChange?.(name, value);
      if (name === 'latency-monitor-threshold') {
        this.latency.threshold = config.getInt(name);
        if (this.listeners.length > 0) this.eventLoop.update();
      }
    };
    this.table = new CommandTable(allCommands);
    this.acl = new Acl(this.table);
    this.acl.setRequirepass(config.get('requirepass'));
    this.acl.logMaxLen = config.getInt('acllog-max-len');
    const prevAclOnChange = config.onChange;
    config.onChange = (name, value) => {
      prevAclOnChange?.(name, value);
      if (name === 'requirepass') this.acl.setRequirepass(value);
      if (name === 'acllog-max-len') this.acl.logMaxLen = config.getInt(name);
    };
    if (config.get('aclfile') !== '') {
      try {
        this.acl.loadFile(config.get('aclfile'));
      } catch (e) {
        this.log('warning', `Aborting Redis startup because of ACL errors: ${(e as Error).message}`);
        process.exit(1);
      }
    }
    const hooks = {
      keyModified: (db: Database, key: string) => this.keyModified(db, key),
      keyExpired: (db: Database, key: string) => {
        this.stats.expiredKeys++;
        this.keyModified(db, key);
        this.propagate(db.id, [Buffer.from('DEL'), Buffer.from(key, 'latin1')]);
      },
    };
    const n = config.getInt('databases');
    for (let i = 0; i < n; i++) this.dbs.push(new Database(i, hooks));
    this.stats = {
      startTime: Date.now(),
      connectionsReceived: 0,
      rejectedConnections: 0,
      commandsProcessed: 0,
      netInputBytes: 0,
      netOutputBytes: 0,
      expiredKeys: 0,
      keyspaceHits: 0,
      keyspaceMisses: 0,
      errorReplies: 0,
      errorsByCode: new Map(),
      opsSamples: [],
      lastOpsSample: { at: Date.now(), count: 0 },
    };
    this.memory = new MemoryAccounting(this);
    this.tls = new TlsSetup(config, (level, msg) => this.log(level, msg));
    this.eviction = new Eviction(this);
    registerCoreSections(this.info, this);
    registerAiInfo(this.info, this);
    this.persistence = new Persistence(this);
    this.replication = new Replication(this);
    this.cluster = config.getBool('cluster-enabled') ? new Cluster(this) : null;
    this.info.register('replication', 'Replication', () => this.replication.infoFields());
    this.memory.watchConfig();
  }

  shutdown(): void {
    this.log('warning', 'Redis is now ready to exit, bye bye...');
    void this.close().then(() => this.onShutdown());
  }

  resetStats(): void {
    const s = this.stats;
    s.connectionsReceived = s.rejectedConnections = s.commandsProcessed = 0;
    s.netInputBytes = s.netOutputBytes = s.expiredKeys = s.keyspaceHits = s.keyspaceMisses = s.errorReplies = 0;
    s.errorsByCode.clear();
    this.eviction.evictedKeys = 0;
    this.histograms.reset();
    for (const cmd of this.table.all()) {
      for (const c of [cmd, ...Array.from(cmd.subcommands?.values() ?? [])]) Object.assign(c.stats, { calls: 0, usec: 0, rejected: 0, failed: 0 });
    }
  }

  // ---------------------------------------------------------------- lifecycle

  async listen(): Promise<void> {
    const port = this.config.getInt('port');
    const binds = this.config.get('bind').split(' ').filter(Boolean);
    this.tls.start();
    const tlsPort = this.config.getInt('tls-port');
    // port 0 picks a free port, unless a TLS port is set: then it turns plain TCP off, as in Redis
    for (const host of tlsPort > 0 && port === 0 ? [] : binds) {
      const srv = net.createServer((socket) => this.accept(socket));
      srv.maxConnections = this.config.getInt('maxclients') + 32;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port: this.boundPort || port, host: host === '*' ? undefined : host }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      this.boundPort = (srv.address() as net.AddressInfo).port;
      this.listeners.push(srv);
    }
    for (const host of tlsPort > 0 ? binds : []) {
      const srv = this.tls.createServer((socket) => this.accept(socket), () => this.config.get('tls-auth-clients'));
      srv.maxConnections = this.config.getInt('maxclients') + 32;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port: tlsPort, host: host === '*' ? undefined : host }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      this.boundTlsPort = tlsPort;
      this.listeners.push(srv);
    }
    // the data set is loaded before "Ready": clients that connect meanwhile get -LOADING
    await this.persistence.loadAtStartup();
    if (this.cluster) await this.cluster.start();
    const replicaof = this.config.get('replicaof').split(' ').filter(Boolean);
    if (replicaof.length === 2) this.replication.replicaOf(replicaof[0], Number(replicaof[1]));
    const hz = Math.max(1, Math.min(500, this.config.getInt('hz')));
    this.cron = setInterval(() => this.serverCron(), Math.floor(1000 / hz));
    this.cron.unref();
    await this.metrics.start();
    this.eventLoop.update();
    if (this.boundPort) this.log('notice', `Ready to accept connections tcp on ${binds.join(' ')} port ${this.boundPort}`);
    if (this.boundTlsPort) this.log('notice', `Ready to accept connections tls on ${binds.join(' ')} port ${this.boundTlsPort}`);
  }

  /** Stops listening, closes every client and stops timers. */
  async close(): Promise<void> {
    this.shuttingDown = true;
    if (this.cron) clearInterval(this.cron);
    this.eventLoop.stop();
    const metricsClosed = this.metrics.close();
    this.replication.close();
    this.cluster?.close();
    for (const c of [...this.clients.values()]) c.close();
    await Promise.all(this.listeners.map((l) => new Promise((r) => l.close(r))));
    await metricsClosed;
    this.listeners = [];
  }

  private accept(socket: net.Socket): void {
    this.stats.connectionsReceived++;
    socket.setNoDelay(true);
    const keepalive = this.config.getInt('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    if (this.clients.size >= this.config.getInt('maxclients')) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (!this.protectedModeAllows(socket)) {
      this.stats.rejectedConnections++;
      socket.end(
        '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
          'In this mode connections are only accepted from the loopback interface. ' +
          'If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
          "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
          "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
          "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
          '4) Setup a an authentication password for the default user. ' +
          'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n',
      );
      return;
    }
    const c = new Client(this, socket, this.nextClientId++);
    c.out.onData = () => this.scheduleFlush(c);
    this.clients.set(c.id, c);
    socket.on('data', (chunk: Buffer) => {
      this.stats.netInputBytes += chunk.length;
      c.onData(chunk);
    });
    socket.on('error', () => c.close());
    socket.on('close', () => c.close());
    socket.on('end', () => c.close());
  }

  private protectedModeAllows(socket: net.Socket): boolean {
    // as Redis 7: with protected mode on and no password for the default user, only loopback clients
    if (!this.config.getBool('protected-mode') || !this.acl.defaultUser.nopass) return true;
    if (socket.remoteAddress === undefined) return true; // a unix socket
    const addr = socket.remoteAddress ?? '';
    return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1' || addr.startsWith('127.');
  }

  clientClosed(c: Client): void {
    this.clients.delete(c.id);
    this.pendingFlush.delete(c);
    this.pubsub.removeClient(c);
    this.unwatchAll(c);
    this.replication.clientClosed(c);
  }

  // ---------------------------------------------------------------- dispatch

  /** Runs one command from a client; returns a promise only when the command completes later. */
  dispatch(c: Client, argv: Buffer[]): Promise<void> | void {
    let cmd = this.table.lookup(argv[0]);
    if (!cmd) {
      return this.reject(c, null, Err.unknownCommand(argv));
    }
    if (cmd.subcommands && (argv.length >= 2 || !cmd.handler)) {
      if (argv.length < 2) return this.reject(c, cmd, Err.wrongArity(cmd.fullName));
      const subName = argv[1].toString('latin1').toLowerCase();
      const sub = cmd.subcommands.get(subName);
      if (!sub) return this.reject(c, cmd, Err.unknownSubcommand(argv[1].toString('latin1').slice(0, 128), cmd.name));
      cmd = sub;
    }
    if (!cmd.arityOk(argv.length)) return this.reject(c, cmd, Err.wrongArity(cmd.fullName));
    if (!c.authenticated && !cmd.has('no-auth')) return this.reject(c, cmd, Err.noAuth);
    const user = this.acl.users.get(c.user);
    if (user && !user.unrestricted) {
      const denial = this.acl.check(user, cmd, argv);
      if (denial) {
        this.acl.logDenial(denial, cmd, 'toplevel', c.user, c.infoLine());
        return this.reject(c, cmd, Acl.denialError(denial, cmd));
      }
    }
    if (this.loading && !cmd.has('loading')) return this.reject(c, cmd, 'LOADING Redis is loading the dataset in memory');
    if (this.cluster !== null) {
      const redirect = this.cluster.route(c, cmd, argv);
      if (redirect !== null) return this.reject(c, cmd, redirect);
    }
    if (cmd.isWrite) {
      const misconf = this.persistence.writeDeniedReason();
      if (misconf) return this.reject(c, cmd, misconf);
    }
    if (cmd.isWrite) {
      const refused = this.replication.refuseWrite(c, cmd);
      if (refused) return this.reject(c, cmd, refused);
    }
    if (this.memory.limit > 0) {
      const oom = maxmemoryGate(this, c, cmd);
      if (oom) return this.reject(c, cmd, oom);
    }
    if (c.inPubSubContext && c.out.proto === 2 && !cmd.has('allowed-in-subscribe')) {
      return this.reject(c, cmd, Err.pubsubContext(cmd.fullName));
    }
    // a paused command waits, then goes through the gates again (it may be redirected by then)
    if (this.pause.holds(c, cmd, cmd.name === 'exec' && !!c.multi?.some((q) => q.cmd.isWrite || q.cmd.has('may-replicate')))) {
      return this.pause.whenUnpaused().then(() => (c.closed ? undefined : this.dispatch(c, argv)));
    }
    if (c.multi && !cmd.has('no-queue')) {
      if (cmd.has('no-multi')) return this.reject(c, cmd, Err.notAllowedInMulti);
      c.multi.push({ cmd, argv });
      c.out.simple('QUEUED');
      return;
    }
    return this.call(c, cmd, argv);
  }

  /** A command refused before it ran: inside MULTI this makes EXEC fail with EXECABORT. */
  private reject(c: Client, cmd: Command | null, message: string): void {
    if (cmd) cmd.stats.rejected++;
    if (c.multi && cmd?.name === 'exec') {
      // EXEC itself refused: the transaction ends, as Redis's execCommandAbort
      c.multi = null;
      c.multiError = false;
      this.unwatchAll(c);
      this.replyError(c, 'EXECABORT Transaction discarded because of: ' + message.replace(/^ERR /, ''));
      return;
    }
    if (c.multi) c.multiError = true;
    this.replyError(c, message);
  }

  replyError(c: Client, message: string): void {
    this.stats.errorReplies++;
    const code = message.split(' ', 1)[0];
    this.stats.errorsByCode.set(code, (this.stats.errorsByCode.get(code) ?? 0) + 1);
    c.out.error(message);
  }

  /** Executes a command (also used by EXEC for queued ones). */
  call(c: Client, cmd: Command, argv: Buffer[]): Promise<void> | void {
    // a queued command is checked again at EXEC: the user's rules may have changed since (fake clients have id 0)
    if (c.inExec && c.id !== 0) {
      const denied = this.acl.execDenial(c.user, cmd, argv, () => c.infoLine());
      if (denied) return void this.replyError(c, denied);
    }
    const dirtyBefore = this.dirty;
    // commands of one read batch run back to back: the end of one is the start of the next,
    // which halves the clock reads on the hot path
    const t0 = this.batchClock >= 0 ? this.batchClock : performance.now();
    this.propagateOverride = null;
    c.lastCommand = cmd.fullName;
    let result: void | Promise<void>;
    const replyMark = c.out.mark();
    try {
      result = cmd.handler!(c, argv);
    } catch (e) {
      // a handler that threw halfway through its reply: drop the partial reply so the error stands alone
      // (or close the connection after the error when part of it already left)
      if (!c.out.truncate(replyMark)) c.closeAfterReply = true;
      this.handlerFailed(c, cmd, e);
      // a command that changed the keyspace before failing still propagates, as in Redis
      this.propagateIfDirty(c, cmd, argv, dirtyBefore);
      this.afterCall(c, cmd, argv, t0);
      return;
    }
    if (result instanceof Promise) {
      // the latency monitor counts only the time the event loop was held, not the wait for a worker or a key
      if (this.latency.threshold > 0) this.latency.addSampleIfNeeded(cmd.has('fast') ? 'fast-command' : 'command', performance.now() - t0);
      // async commands (AI work) propagate what they wrote themselves, when they finish
      return result.then(
        () => this.afterCall(c, cmd, argv, t0, true),
        (e) => {
          this.handlerFailed(c, cmd, e);
          this.afterCall(c, cmd, argv, t0, true);
        },
      );
    }
    this.propagateIfDirty(c, cmd, argv, dirtyBefore);
    this.afterCall(c, cmd, argv, t0);
    if (!c.inExec) this.blocking.handleReady();
  }

  private propagateIfDirty(c: Client, cmd: Command, argv: Buffer[], dirtyBefore: number): void {
    if (this.dirty !== dirtyBefore && cmd.isWrite) {
      const db = c.db.id;
      const override = this.propagateOverride as Buffer[][] | null; // set by the handler, if at all
      if (override) for (const v of override) this.propagate(db, v);
      else this.propagate(db, argv);
    }
    this.propagateOverride = null;
  }

  private handlerFailed(c: Client, cmd: Command, e: unknown): void {
    cmd.stats.failed++;
    if (e instanceof CommandError) {
      this.replyError(c, e.message);
    } else {
      this.log('warning', `internal error in '${cmd.fullName}': ${(e as Error)?.stack ?? e}`);
      this.replyError(c, `ERR internal error running '${cmd.fullName}'`);
    }
  }

  private afterCall(c: Client, cmd: Command, argv: Buffer[], t0: number, async = false): void {
    const t1 = performance.now();
    this.batchClock = t1;
    const us = Math.round((t1 - t0) * 1000);
    cmd.stats.calls++;
    cmd.stats.usec += us;
    this.histograms.record(cmd, us);
    if (this.latency.threshold > 0 && !async) this.latency.addSampleIfNeeded(cmd.has('fast') ? 'fast-command' : 'command', us / 1000);
    this.stats.commandsProcessed++;
    const threshold = this.config.hot.slowlogSlowerThan;
    if (threshold >= 0 && us >= threshold && !cmd.has('skip-slowlog')) {
      this.slowlog.add(us, argv, c, this.config.getInt('slowlog-max-len'));
    }
  }

  /** Replaces what the running command propagates (e.g. relative expiry → absolute). */
  rewritePropagation(...argvs: Buffer[][]): void {
    this.propagateOverride = argvs;
  }

  /** Counts a keyspace change; a write command that made any is propagated. */
  markDirty(n = 1): void {
    this.dirty += n;
    this.dirtySinceSave += n;
  }

  onPropagate(listener: PropagationListener): void {
    this.propagationListeners.push(listener);
  }

  propagate(db: number, argv: Buffer[]): void {
    if (this.propagationListeners.length === 0) return;
    if (this.txPropagation === 'pending') {
      // first write inside EXEC: open the transaction for replicas and the log
      this.txPropagation = 'open';
      for (const l of this.propagationListeners) l(db, [Buffer.from('MULTI')]);
    }
    for (const l of this.propagationListeners) l(db, argv);
  }

  /** EXEC: the writes it propagates are wrapped in MULTI ... EXEC (only if there are any). */
  beginTransactionPropagation(): void {
    this.txPropagation = 'pending';
  }

  endTransactionPropagation(db = 0): void {
    if (this.txPropagation === 'open') for (const l of this.propagationListeners) l(db, [Buffer.from('EXEC')]);
    this.txPropagation = 'none';
  }

  /** What HELLO and INFO report about this node's role (replication and cluster fill this in later). */
  roleInfo(): { mode: 'standalone' | 'cluster'; role: 'master' | 'replica' } {
    return { mode: this.cluster ? 'cluster' : 'standalone', role: this.replication?.role ?? 'master' };
  }

  // ---------------------------------------------------------------- WATCH

  watch(c: Client, key: string): void {
    let byKey = this.watchers.get(c.db);
    if (!byKey) this.watchers.set(c.db, (byKey = new Map()));
    let set = byKey.get(key);
    if (!set) byKey.set(key, (set = new Set()));
    set.add(c);
    let mine = c.watched.get(c.db);
    if (!mine) c.watched.set(c.db, (mine = new Set()));
    mine.add(key);
  }

  unwatchAll(c: Client): void {
    for (const [db, keys] of c.watched) {
      const byKey = this.watchers.get(db);
      if (!byKey) continue;
      for (const k of keys) {
        const set = byKey.get(k);
        if (!set) continue;
        set.delete(c);
        if (set.size === 0) byKey.delete(k);
      }
      if (byKey.size === 0) this.watchers.delete(db);
    }
    c.watched.clear();
    c.dirtyCas = false;
  }

  private keyModified(db: Database, key: string): void {
    this.blocking.signal(db, key);
    if (this.watchers.size === 0) return;
    const set = this.watchers.get(db)?.get(key);
    if (set) for (const c of set) c.dirtyCas = true;
  }

  // ---------------------------------------------------------------- output

  scheduleFlush(c: Client): void {
    this.pendingFlush.add(c);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushAll());
    }
  }

  private flushAll(): void {
    this.flushScheduled = false;
    this.replyGate?.beforeReplies();
    const clients = [...this.pendingFlush];
    this.pendingFlush.clear();
    for (const c of clients) this.flush(c);
  }

  /** Writes a client's pending replies at once (back-pressure needs the socket's own count). */
  flushNow(c: Client): void {
    this.pendingFlush.delete(c);
    this.flush(c);
  }

  private flush(c: Client): void {
    if (c.closed) return;
    const data = c.out.take();
    // appendfsync always: the replies go once the log records they acknowledge are on disk
    if (this.replyGate !== null && this.replyGate.mustHold()) return this.replyGate.defer(() => this.deliver(c, data));
    this.deliver(c, data);
  }

  private deliver(c: Client, data: Buffer | null): void {
    if (c.closed) return;
    if (data) {
      this.stats.netOutputBytes += data.length;
      c.socket.write(data);
    }
    if (c.closeAfterReply) {
      // end() sends what is queued, then FIN; destroy() would drop a reply still in the socket's buffer
      c.socket.end();
      c.closed = true;
      this.clientClosed(c);
      setTimeout(() => c.socket.destroy(), 5000).unref();
      return;
    }
    this.enforceOutputLimits(c);
  }

  /** Output buffer limits per client class; normal clients get read back-pressure instead of growth. */
  private enforceOutputLimits(c: Client): void {
    const pending = c.socket.writableLength;
    const cls = c.kind === 'replica' ? 'slave' : c.inPubSubContext ? 'pubsub' : 'normal';
    const [hard, soft, softSecs] = this.outputLimit(cls);
    if (hard > 0 && pending > hard) return this.dropForOutput(c, cls);
    if (soft > 0 && pending > soft) {
      if (c.softLimitSince === 0) c.softLimitSince = Date.now();
      else if (Date.now() - c.softLimitSince > softSecs * 1000) return this.dropForOutput(c, cls);
    } else {
      c.softLimitSince = 0;
    }
  }

  private outputLimitsSource = '';
  private outputLimits = new Map<string, [number, number, number]>();

  private outputLimit(cls: string): [number, number, number] {
    const text = this.config.get('client-output-buffer-limit');
    if (text !== this.outputLimitsSource) {
      this.outputLimitsSource = text;
      this.outputLimits.clear();
      const words = text.split(' ');
      for (let i = 0; i + 3 < words.length; i += 4) {
        const name = words[i] === 'replica' ? 'slave' : words[i];
        this.outputLimits.set(name, [Number(words[i + 1]), Number(words[i + 2]), Number(words[i + 3])]);
      }
    }
    return this.outputLimits.get(cls) ?? [0, 0, 0];
  }

  private dropForOutput(c: Client, cls: string): void {
    this.log('warning', `Client id=${c.id} scheduled to be closed ASAP for overcoming of output buffer limits (${cls}).`);
    c.close();
  }

  // ---------------------------------------------------------------- cron

  private serverCron(): void {
    const now = Date.now();
    // replicas do not expire keys themselves: their master's DELs do
    // ... nor while clients are paused (as Redis: a paused master's replication offset stays put for a failover)
    if (this.activeExpireEnabled && this.replication.role === 'master' && this.pause.current() === null) for (const db of this.dbs) if (db.expires.size > 0) db.activeExpire(5);
    const timeout = this.config.getInt('timeout');
    if (timeout > 0) {
      for (const c of this.clients.values()) {
        if (c.kind === 'normal' && !c.inPubSubContext && !this.blocking.isBlocked(c) && now - c.lastInteraction > timeout * 1000) c.close();
      }
    }
    for (const c of this.clients.values()) if (c.softLimitSince > 0) this.enforceOutputLimits(c);
    this.persistence.cron(now);
    this.memory.cron();
    const s = this.stats.lastOpsSample;
    if (now - s.at >= 100) {
      const ops = ((this.stats.commandsProcessed - s.count) * 1000) / (now - s.at);
      this.stats.opsSamples.push(ops);
      if (this.stats.opsSamples.length > 16) this.stats.opsSamples.shift();
      this.stats.lastOpsSample = { at: now, count: this.stats.commandsProcessed };
    }
  }

  // ---------------------------------------------------------------- logging

  log(level: 'debug' | 'verbose' | 'notice' | 'warning', msg: string): void {
    this.logger.log(level, msg);
  }
}
