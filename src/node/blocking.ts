// Clients blocked on keys (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK, XREADGROUP BLOCK ...), as Redis's blocked.c.
// A blocking command first tries to run at once; when it cannot, it registers a waiter on its keys and returns a
// promise, so its client runs nothing else until the promise settles (src/node/client.ts). Every keyspace write
// reports its key here (Server.keyModified); a key with waiters becomes "ready", and after the writing command
// (Server.call, or a microtask for writes made elsewhere) the waiters of each ready key are retried in arrival
// order: a retry that can serve writes its reply and propagates what it did. Waiters end on timeout (null array
// reply, as Redis), or when their client disconnects. A DEL or FLUSHALL only makes the retries fail: the waiters
// keep waiting, as in Redis.

import type { Client } from './client';
import type { Database } from './keyspace';
import { CommandError } from './errors';

export interface Waiter {
  client: Client;
  db: Database;
  keys: string[];
  /** tries to serve: true when it wrote the reply (the waiter then ends) */
  attempt: () => boolean;
  resolve: () => void;
  timer: NodeJS.Timeout | null;
  onClose: () => void;
  done: boolean;
}

export class BlockingRegistry {
  private byKey = new Map<Database, Map<string, Waiter[]>>();
  private ready: { db: Database; key: string }[] = [];
  private readySet = new Set<string>();
  private scheduled = false;
  private handling = false;
  /** clients blocked right now (INFO blocked_clients) */
  blockedCount = 0;
  /** clients inside a blocking command (the idle `timeout` does not close them, as in Redis) */
  private readonly blockedClients = new Set<Client>();

  isBlocked(c: Client): boolean {
    return this.blockedClients.has(c);
  }

  /** A key was written: if clients wait on it, retry them after the current command. */
  signal(db: Database, key: string): void {
    if (this.blockedCount === 0) return;
    const waiting = this.byKey.get(db)?.get(key);
    if (!waiting || waiting.length === 0) return;
    const id = db.id + '\0' + key;
    if (this.readySet.has(id)) return;
    this.readySet.add(id);
    this.ready.push({ db, key });
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.handleReady());
    }
  }

  /** Serves the waiters of the keys that became ready (called after each command, and as a microtask). */
  handleReady(): void {
    this.scheduled = false;
    if (this.handling || this.ready.length === 0) return;
    this.handling = true;
    try {
      while (this.ready.length > 0) {
        const batch = this.ready;
        this.ready = [];
        this.readySet.clear();
        for (const { db, key } of batch) {
          const list = this.byKey.get(db)?.get(key);
          if (!list) continue;
          for (const w of [...list]) {
            if (w.done) continue;
            let served = false;
            try {
              served = w.attempt();
            } catch (e) {
              w.client.server.replyError(w.client, e instanceof Error ? e.message : String(e));
              served = true;
            }
            if (served) this.finish(w);
          }
        }
      }
    } finally {
      this.handling = false;
    }
  }

  /** Blocks `c` on `keys` until attempt() serves, the timeout (ms, 0 = none) passes, or the client closes. */
  block(c: Client, keys: string[], timeoutMs: number, attempt: () => boolean, onTimeout: () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      const w: Waiter = {
        client: c,
        db: c.db,
        keys: [...new Set(keys)],
        attempt,
        resolve,
        timer: null,
        onClose: () => this.finish(w),
        done: false,
      };
      let byKey = this.byKey.get(w.db);
      if (!byKey) this.byKey.set(w.db, (byKey = new Map()));
      for (const k of w.keys) {
        const list = byKey.get(k);
        if (list) list.push(w);
        else byKey.set(k, [w]);
      }
      this.blockedCount++;
      this.blockedClients.add(c);
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          if (w.done) return;
          onTimeout();
          this.finish(w);
        }, timeoutMs);
      }
      c.socket.once('close', w.onClose);
    });
  }

  private finish(w: Waiter): void {
    if (w.done) return;
    w.done = true;
    this.blockedCount--;
    this.blockedClients.delete(w.client);
    if (w.timer) clearTimeout(w.timer);
    w.client.socket.off('close', w.onClose);
    const byKey = this.byKey.get(w.db);
    if (byKey) {
      for (const k of w.keys) {
        const list = byKey.get(k);
        if (!list) continue;
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) byKey.delete(k);
      }
      if (byKey.size === 0) this.byKey.delete(w.db);
    }
    w.resolve();
  }
}

/** Redis's getTimeoutFromObjectOrReply in seconds (a float): milliseconds, 0 = forever. */
export function parseTimeoutSeconds(b: Buffer): number {
  const s = b.toString('latin1');
  const n = /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(n)) throw new CommandError('ERR timeout is not a float or out of range');
  if (n < 0) throw new CommandError('ERR timeout is negative');
  return Math.ceil(n * 1000) > 0 ? Math.max(1, Math.round(n * 1000)) : 0;
}

/** Redis's getTimeoutFromObjectOrReply in milliseconds (an integer), 0 = forever. */
export function parseTimeoutMs(b: Buffer): number {
  const s = b.toString('latin1');
  if (!/^(0|-?[1-9]\d*)$/.test(s) || s.length > 20) throw new CommandError('ERR timeout is not an integer or out of range');
  const n = Number(s);
  if (n < 0) throw new CommandError('ERR timeout is negative');
  return n;
}
