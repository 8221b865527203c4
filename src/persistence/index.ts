// Persistence of one node: snapshots (SAVE, BGSAVE, save points, SHUTDOWN, DEBUG RELOAD), the append-only log
// (./aof.ts) and loading at start-up. The server calls in through a few hooks only: loadAtStartup before it
// logs "Ready", cron from serverCron, the propagation listener (Aof.feed) and the reply gate (Aof.beforeReplies /
// Aof.hold, for appendfsync always).

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Server } from '../node/server';
import { Client } from '../node/client';
import type { Value } from '../node/keyspace';
import { Aof } from './aof';
import { PersistenceError, readSnapshot, snapshotHeader, writeEmptySnapshotSync, writeSnapshot, type DbView } from './snapshot';
import type { LogCommand } from './resp-log';
import './ai-codecs';

export { registerValueCodec } from './codecs';
export { PersistenceError } from './snapshot';

/** commands replayed in parallel with their neighbours (they build in a backend's worker, then store one key) */
const PARALLEL_STORES = new Set(['ai.modelstore', 'ai.modelset', 'ai.scriptstore', 'ai.scriptset']);

export interface SnapshotHandle {
  dbs: DbView[];
  release: () => void;
}

export class Persistence {
  readonly aof: Aof;
  loading = false;
  loadingStart = 0;
  loadingTotalBytes = 0;
  loadingLoadedBytes = 0;
  private bgsave: Promise<void> | null = null;
  private bgsaveStart = 0;
  private bgsaveScheduled = false;
  private lastBgsaveTry = 0;
  lastSaveMs = Date.now();
  lastBgsaveStatus: 'ok' | 'err' = 'ok';
  lastBgsaveTimeSec = -1;
  rdbSaves = 0;
  lastLoadKeysLoaded = 0;
  lastLoadKeysExpired = 0;
  saveKeysProcessed = 0;
  saveKeysTotal = 0;

  constructor(private server: Server) {
    this.aof = new Aof(server, this);
    server.onPropagate((db, argv) => this.aof.feed(db, argv));
    server.replyGate = {
      beforeReplies: () => this.aof.beforeReplies(),
      mustHold: () => this.aof.mustHold(),
      defer: (deliver) => this.aof.defer(deliver),
    };
    const prev = server.config.onChange;
    server.config.onChange = (name, value) => {
      prev?.(name, value);
      if (name === 'appendonly') {
        if (value === 'yes') this.aof.enable();
        else this.aof.disable();
      }
    };
  }

  /**
   * Why write commands are refused, as Redis's MISCONF: the last background save failed (with save points and
   * stop-writes-on-bgsave-error yes), or the log cannot be written. Null when writes are accepted.
   */
  writeDeniedReason(): string | null {
    const cfg = this.server.config;
    if (this.lastBgsaveStatus === 'err' && cfg.getBool('stop-writes-on-bgsave-error') && cfg.get('save').trim() !== '') {
      return (
        'MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk. Commands that may modify ' +
        'the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails ' +
        '(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.'
      );
    }
    if (this.aof.state !== 'off' && this.aof.lastWriteStatus === 'err') return `MISCONF Errors writing to the AOF file: ${this.aof.lastWriteError}`;
    return null;
  }

  get bgsaveInProgress(): boolean {
    return this.bgsave !== null;
  }

  private setLoading(on: boolean): void {
    this.loading = on;
    this.server.loading = on;
    if (on) {
      this.loadingStart = Date.now();
      this.loadingTotalBytes = 0;
      this.loadingLoadedBytes = 0;
    }
  }

  /** A consistent view of every database (shallow copies + copy-on-write); release() when written. */
  takeView(): SnapshotHandle {
    const dbs = this.server.dbs.map((db) => ({ id: db.id, ...db.beginSnapshot() }));
    let released = false;
    return {
      dbs,
      release: () => {
        if (released) return;
        released = true;
        for (const db of this.server.dbs) db.endSnapshot();
      },
    };
  }

  // ------------------------------------------------------------------------------------------ loading

  /** Start-up: the AOF when appendonly is on (and exists), else the snapshot; then the log is opened. */
  async loadAtStartup(): Promise<void> {
    const cfg = this.server.config;
    // temp files of a save that a crash interrupted
    for (const dir of ['.', cfg.get('appenddirname')]) {
      try {
        for (const n of fs.readdirSync(dir)) if (/^temp-\d+-.*\.rdb$/.test(n)) fs.rmSync(nodePath.join(dir, n), { force: true });
      } catch {
        // no folder
      }
    }
    this.setLoading(true);
    const t0 = performance.now();
    let fromAof = false;
    try {
      if (cfg.getBool('appendonly')) {
        fromAof = await this.aof.load();
        if (fromAof) this.server.log('notice', `DB loaded from append only file: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
      }
      if (!fromAof && (await this.loadSnapshotFile())) {
        this.server.log('notice', `DB loaded from disk: ${((performance.now() - t0) / 1000).toFixed(3)} seconds`);
      }
    } finally {
      this.setLoading(false);
    }
    if (cfg.getBool('appendonly')) await this.aof.openAtStartup(fromAof);
    this.server.dirtySinceSave = 0;
    this.lastSaveMs = Date.now();
  }

  /** Loads `dbfilename` if it exists; false when there is none. */
  private async loadSnapshotFile(): Promise<boolean> {
    const path = nodePath.resolve(this.server.config.get('dbfilename'));
    let buf: Buffer;
    try {
      buf = await fs.promises.readFile(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new PersistenceError(`Fatal error loading the DB ${path}: ${(e as Error).message}`, path, 0);
    }
    await this.loadSnapshotBuffer(buf, path);
    const h = snapshotHeader(buf);
    if (typeof h.replId === 'string' && typeof h.replOffset === 'number') this.server.replication?.restoreHistory(h.replId, h.replOffset);
    return true;
  }

  /** Decodes a snapshot into the databases; models are rebuilt in parallel and all awaited. */
  async loadSnapshotBuffer(buf: Buffer, path: string): Promise<void> {
    this.server.log('notice', `Loading RDB ${nodePath.basename(path)} (${buf.length} bytes)`);
    this.loadingTotalBytes += buf.length;
    const base = this.loadingLoadedBytes;
    const pending: Promise<void>[] = [];
    let firstError: Error | null = null;
    const stats = await readSnapshot(
      buf,
      path,
      { server: this.server },
      (dbIndex, key, value, expireAt) => {
        const db = this.server.dbs[dbIndex];
        if (!db) throw new PersistenceError(`Bad snapshot ${path}: database ${dbIndex} is out of range (databases ${this.server.dbs.length})`, path, 0);
        const store = (v: Value) => {
          db.map.set(key, v);
          if (expireAt >= 0) db.expires.set(key, expireAt);
        };
        if (value instanceof Promise) {
          pending.push(
            value.then(store, (e: Error) => {
              firstError ??= new PersistenceError(`Could not load key '${key}' from ${nodePath.basename(path)}: ${e.message}`, path, 0);
            }),
          );
        } else store(value);
      },
      (offset) => this.loadProgress(base + offset),
    ).catch(async (e) => {
      await Promise.allSettled(pending);
      throw e;
    });
    await Promise.all(pending);
    if (firstError) throw firstError;
    this.lastLoadKeysLoaded = stats.keys;
    this.lastLoadKeysExpired = stats.expired;
    this.server.log('notice', `Done loading RDB, keys loaded: ${stats.keys}, keys expired: ${stats.expired}.`);
  }

  private lastProgressLog = 0;

  /** Loading progress: INFO loading_loaded_bytes, and a log line every few seconds for long loads. */
  loadProgress(loaded: number): void {
    this.loadingLoadedBytes = loaded;
    const now = Date.now();
    if (now - this.loadingStart > 2000 && now - this.lastProgressLog > 2000 && this.loadingTotalBytes > 0) {
      this.lastProgressLog = now;
      this.server.log('notice', `Loading the dataset: ${((loaded * 100) / this.loadingTotalBytes).toFixed(2)}% of ${this.loadingTotalBytes} bytes`);
    }
  }

  /**
   * Runs logged commands through the normal command path, as a client of its own. Model and script stores
   * (built in their backends' workers) that follow one another run in parallel, up to 16 at a time, unless they
   * store the same key; any other command first waits for them, so the keyspace sees the log's order.
   */
  async replay(cmds: LogCommand[], path: string, progress?: (offset: number) => void): Promise<void> {
    const server = this.server;
    const newClient = () => {
      const fc = new Client(server, new net.Socket(), 0);
      fc.authenticated = true;
      return fc;
    };
    const c = newClient();
    const name = nodePath.basename(path);
    let errors = 0;
    const checkReply = (fc: Client, cmdName: string, start: number) => {
      const out = fc.out.take();
      if (out && out[0] === 45 /* '-' */) {
        if (errors++ < 5) server.log('warning', `AOF ${name}, offset ${start}: '${cmdName}' answered ${out.toString('latin1', 0, Math.min(out.length, 200)).trim()}`);
      }
    };
    const inFlight = new Map<string, Promise<void>>();
    const settle = async () => {
      if (inFlight.size === 0) return;
      await Promise.all(inFlight.values());
      inFlight.clear();
    };
    let slice = performance.now();
    for (const { argv, start } of cmds) {
      const word = argv[0].toString('latin1').toLowerCase();
      if (word === 'multi' || word === 'exec') continue;
      if (word === 'select') {
        const db = server.dbs[Number(argv[1]?.toString('latin1'))];
        if (!db) throw new PersistenceError(`Bad SELECT in the append only file ${name} at offset ${start}`, path, start);
        c.db = db;
        continue;
      }
      let cmd = server.table.lookup(argv[0]);
      if (cmd?.subcommands && (argv.length >= 2 || !cmd.handler)) cmd = cmd.subcommands.get(argv[1]?.toString('latin1').toLowerCase() ?? '');
      if (!cmd || !cmd.handler) {
        throw new PersistenceError(`Unknown command '${argv[0].toString('latin1').slice(0, 128)}' reading the append only file ${name} at offset ${start}`, path, start);
      }
      if (!cmd.arityOk(argv.length)) {
        throw new PersistenceError(`Wrong number of arguments for '${cmd.fullName}' reading the append only file ${name} at offset ${start}`, path, start);
      }
      if (PARALLEL_STORES.has(cmd.fullName)) {
        const slot = `${c.db.id}:${argv[1].toString('latin1')}`;
        if (inFlight.has(slot) || inFlight.size >= 16) await settle();
        const fc = newClient();
        fc.db = c.db;
        const fullName = cmd.fullName;
        const r = server.call(fc, cmd, argv);
        if (r) inFlight.set(slot, r.then(() => checkReply(fc, fullName, start)));
        else checkReply(fc, fullName, start);
        continue;
      }
      await settle();
      const r = server.call(c, cmd, argv);
      if (r) await r;
      checkReply(c, cmd.fullName, start);
      if (performance.now() - slice > 4) {
        progress?.(start);
        await new Promise((r2) => setImmediate(r2));
        slice = performance.now();
      }
    }
    await settle();
    if (errors > 0) server.log('warning', `AOF ${name}: ${errors} commands answered an error while loading`);
  }

  // ------------------------------------------------------------------------------------------ saving

  /** Writes the snapshot file from a view of this instant (SAVE, BGSAVE, SHUTDOWN, save points). */
  async saveSnapshot(): Promise<void> {
    const view = this.takeView();
    const generation = this.flushGeneration;
    const dirtyAtStart = this.server.dirtySinceSave;
    const path = nodePath.resolve(this.server.config.get('dbfilename'));
    this.saveKeysTotal = view.dbs.reduce((n, d) => n + d.map.size, 0);
    this.saveKeysProcessed = 0;
    try {
      // the replication history of this instant: a restart continues it with a partial resync (as Redis's
      // repl-id / repl-offset aux fields)
      const meta = this.server.replication?.historyForSnapshot() ?? {};
      await writeSnapshot(path, view.dbs, meta, (k) => (this.saveKeysProcessed = k), () => generation === this.flushGeneration);
      this.server.dirtySinceSave = Math.max(0, this.server.dirtySinceSave - dirtyAtStart);
      this.lastSaveMs = Date.now();
      this.lastBgsaveStatus = 'ok';
      this.rdbSaves++;
    } catch (e) {
      // a save dropped by FLUSHALL did not fail (as a child Redis kills)
      if (generation === this.flushGeneration) this.lastBgsaveStatus = 'err';
      throw e;
    } finally {
      view.release();
    }
  }

  /** BGSAVE: 'started', or why not. */
  startBgsave(schedule = false): 'started' | 'scheduled' | 'in-progress' | 'busy' {
    if (this.bgsave) return 'in-progress';
    if (this.aof.rewriteInProgress) {
      if (!schedule) return 'busy';
      this.bgsaveScheduled = true;
      return 'scheduled';
    }
    this.bgsaveStart = Date.now();
    this.lastBgsaveTry = this.bgsaveStart;
    this.server.log('notice', 'Background saving started');
    this.bgsave = this.saveSnapshot()
      .then(
        () => this.server.log('notice', 'Background saving terminated with success'),
        (e: Error) => this.server.log('warning', `Background saving error: ${e.message}`),
      )
      .finally(() => {
        this.bgsave = null;
        this.lastBgsaveTimeSec = Math.round((Date.now() - this.bgsaveStart) / 1000);
        this.onBackgroundDone();
      });
    return 'started';
  }

  /** bumped by FLUSHALL: a save of the data from before it must not land on disk after it */
  private flushGeneration = 0;

  /**
   * FLUSHALL, as Redis: a background save in progress is dropped, and with save points the (now empty) data
   * set is saved at once (a few bytes, synchronously), after which the FLUSHALL itself is the one change.
   */
  afterFlushAll(): void {
    this.flushGeneration++;
    // (replayed from the log at start-up: the data set is not complete yet, nothing to save)
    if (this.loading || this.server.config.get('save').trim() === '') return;
    try {
      writeEmptySnapshotSync(nodePath.resolve(this.server.config.get('dbfilename')));
      this.server.dirtySinceSave = 1;
      this.lastSaveMs = Date.now();
      this.lastBgsaveStatus = 'ok';
      this.rdbSaves++;
    } catch (e) {
      this.server.log('warning', `Failed saving the DB after FLUSHALL: ${(e as Error).message}`);
      this.lastBgsaveStatus = 'err';
    }
  }

  /** A background job ended: start what was scheduled behind it. */
  onBackgroundDone(): void {
    if (this.bgsaveScheduled && !this.bgsave && !this.aof.rewriteInProgress) {
      this.bgsaveScheduled = false;
      this.startBgsave();
    }
  }

  /** A promise for the background save in progress (tests, SHUTDOWN). */
  get currentBgsave(): Promise<void> | null {
    return this.bgsave;
  }

  /** serverCron: save points, then the log's own timers. */
  cron(now: number): void {
    if (this.loading) return;
    if (!this.bgsave && !this.aof.rewriteInProgress) {
      if (this.bgsaveScheduled) {
        this.onBackgroundDone();
      } else {
        const w = this.server.config.get('save').split(' ').filter(Boolean).map(Number);
        for (let i = 0; i + 1 < w.length; i += 2) {
          const [secs, changes] = [w[i], w[i + 1]];
          const canRetry = this.lastBgsaveStatus === 'ok' || now - this.lastBgsaveTry > 5000;
          if (this.server.dirtySinceSave >= changes && now - this.lastSaveMs > secs * 1000 && canRetry) {
            this.server.log('notice', `${changes} changes in ${secs} seconds. Saving...`);
            this.startBgsave();
            break;
          }
        }
      }
    }
    this.aof.cron(now);
  }

  /**
   * SHUTDOWN / SIGTERM: the log is synced; the snapshot is saved with SAVE, or by default when save points are
   * set (as Redis). False when that save failed (the node then stays up).
   */
  async prepareShutdown(mode: 'save' | 'nosave' | 'default'): Promise<boolean> {
    if (this.aof.state !== 'off') {
      this.server.log('notice', 'Calling fsync() on the AOF file.');
      await this.aof.drain();
    }
    const savePoints = this.server.config.get('save').trim() !== '';
    if (mode === 'save' || (mode === 'default' && savePoints)) {
      this.server.log('notice', 'Saving the final RDB snapshot before exiting.');
      try {
        await this.saveSnapshot();
        this.server.log('notice', 'DB saved on disk');
      } catch (e) {
        this.server.log('warning', `Error trying to save the DB, can't exit. (${(e as Error).message})`);
        return false;
      }
    }
    return true;
  }

  /** DEBUG RELOAD: save, empty the databases, load the snapshot back. */
  async debugReload(): Promise<void> {
    await this.saveSnapshot();
    for (const db of this.server.dbs) db.clear();
    this.setLoading(true);
    try {
      await this.loadSnapshotFile();
    } finally {
      this.setLoading(false);
    }
  }

  /** INFO persistence, with Redis 7's fields in its order. */
  infoFields(): [string, string | number][] {
    const now = Date.now();
    const aof = this.aof;
    const f: [string, string | number][] = [
      ['loading', this.loading ? 1 : 0],
      ['async_loading', 0],
      ['current_cow_peak', 0],
      ['current_cow_size', 0],
      ['current_cow_size_age', 0],
      ['current_fork_perc', this.bgsave && this.saveKeysTotal ? ((this.saveKeysProcessed * 100) / this.saveKeysTotal).toFixed(2) : '0.00'],
      ['current_save_keys_processed', this.bgsave ? this.saveKeysProcessed : 0],
      ['current_save_keys_total', this.bgsave ? this.saveKeysTotal : 0],
    ];
    if (this.loading) {
      const perc = this.loadingTotalBytes ? (this.loadingLoadedBytes * 100) / this.loadingTotalBytes : 0;
      const elapsed = (now - this.loadingStart) / 1000;
      const eta = perc > 0 ? Math.round((elapsed * (100 - perc)) / perc) : 1;
      f.push(
        ['loading_start_time', Math.floor(this.loadingStart / 1000)],
        ['loading_total_bytes', this.loadingTotalBytes],
        ['loading_rdb_used_mem', 0],
        ['loading_loaded_bytes', this.loadingLoadedBytes],
        ['loading_loaded_perc', perc.toFixed(2)],
        ['loading_eta_seconds', eta],
      );
    }
    f.push(
      ['rdb_changes_since_last_save', this.server.dirtySinceSave],
      ['rdb_bgsave_in_progress', this.bgsave ? 1 : 0],
      ['rdb_last_save_time', Math.floor(this.lastSaveMs / 1000)],
      ['rdb_last_bgsave_status', this.lastBgsaveStatus],
      ['rdb_last_bgsave_time_sec', this.lastBgsaveTimeSec],
      ['rdb_current_bgsave_time_sec', this.bgsave ? Math.round((now - this.bgsaveStart) / 1000) : -1],
      ['rdb_saves', this.rdbSaves],
      ['rdb_last_cow_size', 0],
      ['rdb_last_load_keys_expired', this.lastLoadKeysExpired],
      ['rdb_last_load_keys_loaded', this.lastLoadKeysLoaded],
      ['aof_enabled', aof.state !== 'off' ? 1 : 0],
      ['aof_rewrite_in_progress', aof.rewriteInProgress ? 1 : 0],
      ['aof_rewrite_scheduled', aof.rewriteScheduled ? 1 : 0],
      ['aof_last_rewrite_time_sec', aof.lastRewriteTimeSec],
      ['aof_current_rewrite_time_sec', aof.rewriteInProgress ? Math.round((now - aof.rewriteStart) / 1000) : -1],
      ['aof_last_bgrewrite_status', aof.lastBgrewriteStatus],
      ['aof_rewrites', aof.rewrites],
      ['aof_rewrites_consecutive_failures', aof.consecutiveFailures],
      ['aof_last_write_status', aof.lastWriteStatus],
      ['aof_last_cow_size', 0],
      ['module_fork_in_progress', 0],
      ['module_fork_last_cow_size', 0],
    );
    if (aof.state !== 'off') {
      f.push(
        ['aof_current_size', aof.currentSize],
        ['aof_base_size', aof.baseSize],
        ['aof_pending_rewrite', aof.rewriteScheduled ? 1 : 0],
        ['aof_buffer_length', aof.pendingBytes],
        ['aof_pending_bio_fsync', 0],
        ['aof_delayed_fsync', aof.delayedFsync],
      );
    }
    return f;
  }
}
