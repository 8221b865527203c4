// The append-only log, as Redis 7's multi-part AOF: in `appenddirname` a base file (a snapshot,
// `<appendfilename>.<seq>.base.rdb`), incremental logs (`<appendfilename>.<seq>.incr.aof`, RESP commands as
// Redis writes them) and a manifest (`<appendfilename>.manifest`) naming them in order.
//
// Writes: every propagated command (Server.onPropagate) is encoded into a buffer; the buffer is written to the
// current incr file before any reply of that event-loop turn leaves (Server.replyGate.beforeReplies), so a
// process crash never loses an acknowledged write. fsync policy:
//  - always: replies wait (Server.replyGate.hold) until an fdatasync that started after their records were
//    written has finished. One fdatasync covers everything written before it, so all the writes of a turn, and
//    of the turns that arrive while a sync runs, share one (group commit); the event loop never waits for it.
//  - everysec: an asynchronous fdatasync once a second (skipped while one is still running).
//  - no: the kernel decides.
// BGREWRITEAOF: opens the next incr file and switches the log to it at once; the new base is written from a
// consistent view of that same instant (snapshot writer, copy-on-write), then the manifest names new base + new
// incr and the old files are deleted. Writes arriving during the rewrite go to the new incr file, so none is lost.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Server } from '../node/server';
import { encodeCommand } from '../node/resp/command';
import { checksumAnnotation, parseLog, type LogCommand } from './resp-log';
import { PersistenceError, fsyncDir, isSnapshot, writeSnapshot } from './snapshot';
import type { Persistence } from './index';

export interface ManifestFile {
  name: string;
  seq: number;
  type: 'b' | 'h' | 'i';
}

export interface Manifest {
  base: ManifestFile | null;
  incrs: ManifestFile[];
  history: ManifestFile[];
}

/** Reads a manifest file (Redis 7's format: `file <name> seq <n> type <b|h|i>` per line). */
export function parseManifest(text: string, path: string): Manifest {
  const m: Manifest = { base: null, incrs: [], history: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const w = line.split(/\s+/);
    const f: Partial<ManifestFile> = {};
    for (let j = 0; j + 1 < w.length; j += 2) {
      if (w[j] === 'file') f.name = w[j + 1].replace(/^"(.*)"$/, '$1');
      else if (w[j] === 'seq') f.seq = Number(w[j + 1]);
      else if (w[j] === 'type') f.type = w[j + 1] as ManifestFile['type'];
    }
    if (!f.name || !Number.isInteger(f.seq) || !['b', 'h', 'i'].includes(f.type ?? '') || f.name.includes('/')) {
      throw new PersistenceError(`Invalid AOF manifest file format in ${path} (line ${i + 1})`, path, 0);
    }
    const file = f as ManifestFile;
    if (file.type === 'b') {
      if (m.base) throw new PersistenceError(`Found duplicate base file information in ${path}`, path, 0);
      m.base = file;
    } else if (file.type === 'i') m.incrs.push(file);
    else m.history.push(file);
  });
  if (!m.base && m.incrs.length === 0) throw new PersistenceError(`Found an empty AOF manifest ${path}`, path, 0);
  return m;
}

export function formatManifest(m: Manifest): string {
  const line = (f: ManifestFile) => `file ${f.name} seq ${f.seq} type ${f.type}\n`;
  return (m.base ? line(m.base) : '') + m.history.map(line).join('') + m.incrs.map(line).join('');
}

/** Writes a manifest atomically: temp file, fsync, rename, folder fsync. */
function writeManifestSync(dir: string, name: string, m: Manifest): void {
  const tmp = nodePath.join(dir, `temp-${name}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, formatManifest(m));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, nodePath.join(dir, name));
  try {
    const d = fs.openSync(dir, 'r');
    fs.fsyncSync(d);
    fs.closeSync(d);
  } catch {
    // best effort
  }
}

const SELECT = Buffer.from('SELECT');
/** appendfsync always syncs inline (main thread) while a sync costs less than this on average (ms) */
const INLINE_SYNC_MS = 1;

export class Aof {
  /** off; on; wait-rewrite: turned on at run time, the first base is being written */
  state: 'off' | 'on' | 'wait-rewrite' = 'off';
  private fd = -1;
  private pending: Buffer[] = [];
  /** bytes of records not yet written to the file (INFO aof_buffer_length) */
  pendingBytes = 0;
  private flushScheduled = false;
  private lastDb = -1;
  private manifest: Manifest | null = null;
  private seq = 0;
  private currentIncr: ManifestFile | null = null;
  /** fds written to since their last fdatasync */
  private unsynced = new Set<number>();
  /** old incr fds to close after their final sync */
  private closing = new Set<number>();
  private syncInFlight = false;
  /** replies waiting for the next fdatasync (appendfsync always) */
  private waiters: { need: number; deliver: () => void }[] = [];
  /** count of buffer writes to the log, and how many of them an fdatasync has covered */
  private writtenSeq = 0;
  private syncedSeq = 0;
  private lastFsync = Date.now();
  // INFO fields
  rewriteInProgress = false;
  rewriteScheduled = false;
  rewriteStart = 0;
  lastRewriteTimeSec = -1;
  lastBgrewriteStatus: 'ok' | 'err' = 'ok';
  rewrites = 0;
  consecutiveFailures = 0;
  lastWriteStatus: 'ok' | 'err' = 'ok';
  lastWriteError = '';
  currentSize = 0;
  baseSize = 0;
  delayedFsync = 0;
  private lastRewriteFailure = 0;

  constructor(
    private server: Server,
    private p: Persistence,
  ) {}

  /** the folder the log was opened in (a later CONFIG SET dir does not move an open log) */
  private openedDir: string | null = null;

  get dir(): string {
    return this.openedDir ?? nodePath.resolve(this.server.config.get('appenddirname'));
  }

  private get baseName(): string {
    return this.server.config.get('appendfilename');
  }

  private get manifestName(): string {
    return `${this.baseName}.manifest`;
  }

  get manifestPath(): string {
    return nodePath.join(this.dir, this.manifestName);
  }

  private get policy(): string {
    return this.server.config.get('appendfsync');
  }

  // ------------------------------------------------------------------------------------------ writing

  /** The propagation listener: queues the command's record (nothing while off or loading). */
  feed(db: number, argv: Buffer[]): void {
    if (this.fd < 0 || this.p.loading) return;
    const isTx = argv.length === 1 && (argv[0].length === 4 || argv[0].length === 5) && /^(multi|exec)$/i.test(argv[0].toString('latin1'));
    if (!isTx && db !== this.lastDb) {
      this.pendingBytes += encodeCommand([SELECT, Buffer.from(String(db))], this.pending);
      this.lastDb = db;
    }
    this.pendingBytes += encodeCommand(argv, this.pending);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushBuffer());
    }
  }

  /** Writes the queued records to the current incr file (to the page cache: a write(2), no fsync). */
  flushBuffer(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.fd < 0) return;
    const bufs = this.pending;
    // the batch is closed by its checksum line (Redis skips such `#` annotations)
    const annotation = checksumAnnotation(bufs);
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      writeAll(this.fd, [...bufs, annotation]);
      this.lastWriteStatus = 'ok';
    } catch (e) {
      this.lastWriteStatus = 'err';
      this.lastWriteError = (e as Error).message;
      this.server.log('warning', `Error writing to the AOF file: ${(e as Error).message}`);
      if (this.policy === 'always') {
        // as Redis: with always, an acknowledged write must be on disk, and this one cannot be
        this.server.log('warning', "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
        process.exit(1);
      }
      // keep the data for the next attempt
      this.pending = bufs.concat(this.pending);
      this.pendingBytes += total;
      return;
    }
    this.currentSize += total + annotation.length;
    this.writtenSeq++;
    this.unsynced.add(this.fd);
    // always: a cheap sync is done inline before the turn's replies (beforeReplies); a slow one in the background
    if (this.policy === 'always' && !this.syncInline) this.kickSync();
  }

  /** Before replies leave: the turn's records are written (always: and their sync is started). */
  beforeReplies(): void {
    if (this.pending.length) this.flushBuffer();
    if (this.syncInline && this.policy === 'always' && this.syncedSeq < this.writtenSeq && !this.syncInFlight) this.syncNow();
  }

  /**
   * appendfsync always picks how to sync by what a sync costs (an average of the last ones): below
   * INLINE_SYNC_MS it is done on the main thread once per event-loop turn, before the turn's replies (as Redis
   * does; no thread-pool round trip); above, in the background with the replies held (group commit), so a
   * slow disk never stalls the event loop.
   */
  private get syncInline(): boolean {
    if (this.syncMode !== 'auto') return this.syncMode === 'inline';
    // a background sync's time includes the thread pool's delays: an inline one now and then measures the disk
    return this.syncCostMs < INLINE_SYNC_MS || Date.now() - this.lastInlineSync > 1000;
  }

  /** DEBUG AOF-SYNC-MODE: auto (by cost), or forced inline / background (tests, diagnosis) */
  syncMode: 'auto' | 'inline' | 'background' = 'auto';

  private lastInlineSync = 0;

  /** average fdatasync time (ms), moving */
  syncCostMs = 0;

  private noteSyncCost(ms: number): void {
    this.syncCostMs = this.syncCostMs * 0.8 + ms * 0.2;
  }

  /** Syncs every written file now, on the main thread (cheap syncs only). */
  private syncNow(): void {
    const t0 = performance.now();
    const target = this.writtenSeq;
    const fds = [...this.unsynced];
    this.unsynced.clear();
    try {
      for (const fd of fds) fs.fdatasyncSync(fd);
    } catch (e) {
      this.lastWriteStatus = 'err';
      this.server.log('warning', `Error syncing the AOF file: ${(e as Error).message}`);
      this.server.log('warning', "Can't recover from AOF fsync error when the AOF fsync policy is 'always'. Exiting...");
      process.exit(1);
    }
    this.noteSyncCost(performance.now() - t0);
    this.lastFsync = this.lastInlineSync = Date.now();
    this.syncedSeq = Math.max(this.syncedSeq, target);
    for (const fd of fds) if (this.closing.has(fd)) this.closeFd(fd);
    this.release();
  }

  /**
   * appendfsync always: whether a reply leaving now must first wait for the records written so far to be on
   * disk (then hand it to defer()).
   */
  mustHold(): boolean {
    // whatever the policy, a reply never leaves before its record was written (a process crash loses nothing)
    if (this.pending.length) this.flushBuffer();
    if (this.fd < 0 || this.syncedSeq >= this.writtenSeq || this.policy !== 'always') return false;
    if (!this.syncInline || this.syncInFlight) return true;
    this.syncNow();
    return false;
  }

  /** Takes a reply that mustHold() said must wait: it goes once everything written so far is synced. */
  defer(deliver: () => void): void {
    this.waiters.push({ need: this.writtenSeq, deliver });
    this.kickSync();
  }

  /**
   * Starts an fdatasync of every file written since the last one, unless one runs (it starts again when that
   * one ends). A sync covers every write made before it started: all replies waiting for those writes go when
   * it ends, however many there are (group commit).
   */
  private kickSync(): void {
    if (this.syncInFlight) return;
    if (this.unsynced.size === 0) {
      for (const fd of this.closing) this.closeFd(fd);
      this.release();
      return;
    }
    const fds = [...this.unsynced];
    const target = this.writtenSeq;
    this.unsynced.clear();
    this.syncInFlight = true;
    this.lastFsync = Date.now();
    const t0 = performance.now();
    let failed: Error | null = null;
    let left = fds.length;
    const done = () => {
      this.syncInFlight = false;
      this.noteSyncCost(performance.now() - t0);
      if (failed) {
        this.lastWriteStatus = 'err';
        this.server.log('warning', `Error syncing the AOF file: ${failed.message}`);
        if (this.policy === 'always') {
          this.server.log('warning', "Can't recover from AOF fsync error when the AOF fsync policy is 'always'. Exiting...");
          process.exit(1);
        }
      }
      this.syncedSeq = Math.max(this.syncedSeq, target);
      for (const fd of fds) if (this.closing.has(fd) && !this.unsynced.has(fd)) this.closeFd(fd);
      this.release();
      if (this.unsynced.size > 0 && (this.policy === 'always' || this.waiters.length > 0)) this.kickSync();
    };
    for (const fd of fds) {
      fs.fdatasync(fd, (err) => {
        if (err) failed = err;
        if (--left === 0) done();
      });
    }
  }

  /** Delivers the held replies whose records are now on disk. */
  private release(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.need <= this.syncedSeq);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.need > this.syncedSeq);
    for (const w of ready) w.deliver();
  }

  private closeFd(fd: number): void {
    this.closing.delete(fd);
    this.unsynced.delete(fd);
    try {
      fs.closeSync(fd);
    } catch {
      // already closed
    }
  }

  /** serverCron: everysec fsync, scheduled or automatic rewrites. */
  cron(now: number): void {
    if (this.fd >= 0) {
      this.flushBuffer();
      if (this.policy === 'everysec' && now - this.lastFsync >= 1000 && this.unsynced.size > 0) {
        if (this.syncInFlight) this.delayedFsync++;
        else this.kickSync();
      }
      // always: writes no reply waited for (expired keys) are synced here
      if (this.policy === 'always' && this.unsynced.size > 0 && !this.syncInFlight) this.kickSync();
    }
    if (this.rewriteInProgress) return;
    if (this.state === 'wait-rewrite' && now - this.lastRewriteFailure > 5000) {
      this.startRewrite();
      return;
    }
    if (this.rewriteScheduled && !this.p.bgsaveInProgress) {
      this.rewriteScheduled = false;
      this.startRewrite();
      return;
    }
    // auto-aof-rewrite-percentage / -min-size, as Redis
    const pct = this.server.config.getInt('auto-aof-rewrite-percentage');
    const min = this.server.config.getInt('auto-aof-rewrite-min-size');
    if (this.state === 'on' && pct > 0 && !this.p.bgsaveInProgress && this.currentSize > min && now - this.lastRewriteFailure > 5000) {
      const base = Math.max(1, this.baseSize);
      if (((this.currentSize - base) * 100) / base >= pct) {
        this.server.log('notice', `Starting automatic rewriting of AOF on ${Math.round(((this.currentSize - base) * 100) / base)}% growth`);
        this.startRewrite();
      }
    }
  }

  /** Flushes and syncs everything (SHUTDOWN); resolves once on disk. */
  async drain(): Promise<void> {
    if (this.fd < 0) return;
    this.flushBuffer();
    await new Promise<void>((resolve) => {
      this.writtenSeq++;
      this.unsynced.add(this.fd);
      this.waiters.push({ need: this.writtenSeq, deliver: resolve });
      this.kickSync();
    });
  }

  // ------------------------------------------------------------------------------------------ files

  private openIncr(seq: number): ManifestFile {
    const f: ManifestFile = { name: `${this.baseName}.${seq}.incr.aof`, seq, type: 'i' };
    const fd = fs.openSync(nodePath.join(this.dir, f.name), 'a');
    if (this.fd >= 0) {
      // the old file gets a final sync, then is closed
      this.unsynced.add(this.fd);
      this.closing.add(this.fd);
      this.kickSync();
    }
    this.fd = fd;
    this.lastDb = -1;
    this.currentIncr = f;
    return f;
  }

  /** Turns the log on at start-up, after the data set was loaded (from the AOF or otherwise). */
  async openAtStartup(loadedFromAof: boolean): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    this.openedDir = this.dir;
    if (loadedFromAof && this.manifest) {
      const last = this.manifest.incrs[this.manifest.incrs.length - 1];
      if (last) {
        this.fd = fs.openSync(nodePath.join(this.dir, last.name), 'a');
        this.currentIncr = last;
        if (this.tailSeal) {
          // records after the file's last checksum line (cut back at load, or written without): closed now, so
          // the batches appended next are checked on their own
          fs.writeSync(this.fd, this.tailSeal);
          this.currentSize += this.tailSeal.length;
          this.tailSeal = null;
        }
      } else {
        const f = this.openIncr(this.seq + 1);
        this.seq = f.seq;
        this.manifest.incrs.push(f);
        writeManifestSync(this.dir, this.manifestName, this.manifest);
      }
      this.state = 'on';
      return;
    }
    // no AOF yet: its first base is what was loaded (as a rewrite would write), written before clients come
    const seq = this.seq + 1;
    const base: ManifestFile = { name: `${this.baseName}.${seq}.base.rdb`, seq, type: 'b' };
    const view = this.p.takeView();
    try {
      const r = await writeSnapshot(nodePath.join(this.dir, base.name), view.dbs, { aofBase: true });
      this.baseSize = r.bytes;
    } finally {
      view.release();
    }
    const incr = this.openIncr(seq);
    this.seq = seq;
    this.manifest = { base, incrs: [incr], history: [] };
    writeManifestSync(this.dir, this.manifestName, this.manifest);
    this.currentSize = this.baseSize;
    this.state = 'on';
    this.server.log('notice', `Creating AOF base file ${base.name} on server start`);
  }

  /** CONFIG SET appendonly yes: the log starts with a rewrite (as Redis). */
  enable(): void {
    if (this.state !== 'off') return;
    this.openedDir = null;
    fs.mkdirSync(this.dir, { recursive: true });
    this.openedDir = this.dir;
    this.state = 'wait-rewrite';
    // the manifest on disk (if any) is from an earlier run: the rewrite replaces it
    this.manifest = null;
    if (this.rewriteInProgress) {
      this.rewriteScheduled = true;
      return;
    }
    if (this.p.bgsaveInProgress) {
      this.rewriteScheduled = true;
      return;
    }
    this.startRewrite();
  }

  /** CONFIG SET appendonly no. */
  disable(): void {
    if (this.state === 'off') return;
    this.flushBuffer();
    if (this.fd >= 0) {
      this.unsynced.add(this.fd);
      this.closing.add(this.fd);
      this.kickSync();
    }
    this.fd = -1;
    this.state = 'off';
    this.rewriteScheduled = false;
  }

  /**
   * BGREWRITEAOF. Answers the reply text: started, scheduled (a BGSAVE runs) or the error of a rewrite already
   * running.
   */
  requestRewrite(): { ok: boolean; message: string } {
    if (this.rewriteInProgress) return { ok: false, message: 'ERR Background append only file rewriting already in progress' };
    if (this.p.bgsaveInProgress) {
      this.rewriteScheduled = true;
      return { ok: true, message: 'Background append only file rewriting scheduled' };
    }
    this.startRewrite();
    return { ok: true, message: 'Background append only file rewriting started' };
  }

  private startRewrite(): void {
    if (this.rewriteInProgress) return;
    fs.mkdirSync(this.dir, { recursive: true });
    const seq = Math.max(this.seq, this.maxSeqOnDisk()) + 1;
    this.seq = seq;
    this.rewriteInProgress = true;
    this.rewriteStart = Date.now();
    const logOn = this.state !== 'off';
    let incr: ManifestFile | null = null;
    if (logOn) {
      // from this instant, writes go to the new incr file; the new base holds everything before
      this.flushBuffer();
      incr = this.openIncr(seq);
      if (this.state === 'on' && this.manifest) {
        this.manifest.incrs.push(incr);
        writeManifestSync(this.dir, this.manifestName, this.manifest);
      }
    }
    const view = this.p.takeView();
    const base: ManifestFile = { name: `${this.baseName}.${seq}.base.rdb`, seq, type: 'b' };
    this.server.log('notice', 'Background append only file rewriting started');
    writeSnapshot(nodePath.join(this.dir, base.name), view.dbs, { aofBase: true })
      .then((r) => {
        view.release();
        if (this.state === 'off' || !incr) {
          // the log was turned off meanwhile (or was off): the base alone is of no use
          fs.rmSync(nodePath.join(this.dir, base.name), { force: true });
        } else {
          const old = this.manifest;
          this.manifest = { base, incrs: [incr], history: [] };
          writeManifestSync(this.dir, this.manifestName, this.manifest);
          if (old) {
            for (const f of [old.base, ...old.incrs, ...old.history]) {
              if (f && f.name !== incr.name) fs.rmSync(nodePath.join(this.dir, f.name), { force: true });
            }
          } else {
            // turned on at run time: files of an earlier log in the folder are history now
            for (const n of fs.readdirSync(this.dir)) {
              if (n !== base.name && n !== incr.name && n.startsWith(this.baseName + '.') && /\.\d+\.(base|incr)\.(aof|rdb)$/.test(n)) {
                fs.rmSync(nodePath.join(this.dir, n), { force: true });
              }
            }
          }
          this.baseSize = r.bytes;
          let incrSize = 0;
          try {
            incrSize = fs.statSync(nodePath.join(this.dir, incr.name)).size;
          } catch {
            // not there yet
          }
          this.currentSize = r.bytes + incrSize + this.pendingBytes;
          this.state = 'on';
        }
        this.rewriteInProgress = false;
        this.lastBgrewriteStatus = 'ok';
        this.rewrites++;
        this.consecutiveFailures = 0;
        this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteStart) / 1000);
        this.server.log('notice', 'Background AOF rewrite finished successfully');
        this.p.onBackgroundDone();
      })
      .catch((e: Error) => {
        view.release();
        this.rewriteInProgress = false;
        this.lastBgrewriteStatus = 'err';
        this.consecutiveFailures++;
        this.lastRewriteFailure = Date.now();
        this.lastRewriteTimeSec = Math.round((Date.now() - this.rewriteStart) / 1000);
        this.server.log('warning', `Background AOF rewrite terminated with error: ${e.message}`);
        this.p.onBackgroundDone();
      });
  }

  private maxSeqOnDisk(): number {
    let max = 0;
    try {
      for (const n of fs.readdirSync(this.dir)) {
        const m = /\.(\d+)\.(base|incr)\.(aof|rdb)$/.exec(n);
        if (m && n.startsWith(this.baseName + '.')) max = Math.max(max, Number(m[1]));
      }
    } catch {
      // no folder yet
    }
    return max;
  }

  // ------------------------------------------------------------------------------------------ loading

  /**
   * Loads the data set from the AOF at start-up: base, then each incr file. False when there is no AOF.
   * A truncated tail of the last file is cut off (aof-load-truncated yes) with a warning; anything else that
   * is not a valid log stops start-up with a PersistenceError naming the file and offset.
   */
  async load(): Promise<boolean> {
    const mpath = this.manifestPath;
    if (!fs.existsSync(mpath)) return false;
    const m = parseManifest(fs.readFileSync(mpath, 'latin1'), mpath);
    this.manifest = m;
    this.seq = Math.max(m.base?.seq ?? 0, ...m.incrs.map((f) => f.seq), ...m.history.map((f) => f.seq));
    let total = 0;
    if (m.base) {
      const path = nodePath.join(this.dir, m.base.name);
      const buf = readAofFile(path);
      total += buf.length;
      this.baseSize = buf.length;
      if (isSnapshot(buf)) await this.p.loadSnapshotBuffer(buf, path);
      else await this.replayBuffer(buf, path, m.incrs.length === 0);
    }
    for (let i = 0; i < m.incrs.length; i++) {
      const path = nodePath.join(this.dir, m.incrs[i].name);
      const buf = readAofFile(path);
      total += await this.replayBuffer(buf, path, i === m.incrs.length - 1);
    }
    this.currentSize = total;
    return true;
  }

  /** the checksum line for the records at the end of the last incr file that no checksum covers (see load) */
  private tailSeal: Buffer | null = null;

  /** Replays one log file; answers the bytes kept. */
  private async replayBuffer(buf: Buffer, path: string, isLast: boolean): Promise<number> {
    const cmds: LogCommand[] = [];
    const outcome = parseLog(buf, (c) => cmds.push(c));
    const name = nodePath.basename(path);
    const manifest = this.manifestPath;
    if (outcome.kind === 'corrupt') {
      throw new PersistenceError(
        `Bad file format reading the append only file ${name} at offset ${outcome.offset} (${outcome.reason}): ` +
          `make a backup of your AOF file, then use inferdb --check-aof --fix ${manifest}`,
        path,
        outcome.offset,
      );
    }
    let kept = buf.length;
    if (outcome.kind === 'truncated') {
      if (!isLast || !this.server.config.getBool('aof-load-truncated')) {
        throw new PersistenceError(
          `Unexpected end of file reading the append only file ${name} at offset ${outcome.validEnd}. You can: ` +
            `1) Make a backup of your AOF file, then use inferdb --check-aof --fix ${manifest}. ` +
            `2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`,
          path,
          outcome.validEnd,
        );
      }
      this.server.log('warning', `!!! Warning: short read while loading the AOF file ${name}!!!`);
      this.server.log('warning', `!!! Truncating the AOF ${name} at offset ${outcome.validEnd} !!!`);
      fs.truncateSync(path, outcome.validEnd);
      this.server.log('warning', `AOF ${name} loaded anyway because aof-load-truncated is enabled`);
      kept = outcome.validEnd;
    }
    if (isLast) {
      this.tailSeal = kept > outcome.tailStart ? checksumAnnotation([buf.subarray(outcome.tailStart, kept)]) : null;
    }
    const base = this.p.loadingLoadedBytes;
    this.p.loadingTotalBytes += buf.length;
    this.server.log('notice', `Reading the append only file ${name} (${buf.length} bytes, ${cmds.length} commands)`);
    await this.p.replay(cmds, path, (offset) => this.p.loadProgress(base + offset));
    this.p.loadingLoadedBytes = base + buf.length;
    return kept;
  }
}

function readAofFile(path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    throw new PersistenceError(`Can't open the append-only file ${path}: ${(e as Error).message}`, path, 0);
  }
}

/** write(2) of every buffer, retrying short writes. */
function writeAll(fd: number, bufs: Buffer[]): void {
  for (let i = 0; i < bufs.length; i += 1000) {
    // writev takes at most IOV_MAX (1024) buffers
    const batch = i === 0 && bufs.length <= 1000 ? bufs : bufs.slice(i, i + 1000);
    let want = 0;
    for (const b of batch) want += b.length;
    const n = fs.writevSync(fd, batch);
    if (n < want) {
      const rest = Buffer.concat(batch).subarray(n);
      let off = 0;
      while (off < rest.length) off += fs.writeSync(fd, rest, off);
    }
  }
}

export { fsyncDir };
