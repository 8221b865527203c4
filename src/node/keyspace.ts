// The keyspace: databases of keys (binary strings) to typed values, with expiry times kept beside them.
// Every write to a key goes through set/delete/lookupWrite so that WATCH, and later snapshots
// (copy-on-write) and keyspace events, have one funnel to hook.

import { CommandError, Err } from './errors';
import { ListDeque } from './commands/t_list';
import { account, type AiTally } from './memory';
import { dropCursors } from './scan-cursor';

export type ValueType = 'string' | 'list' | 'hash' | 'set' | string;

export interface StringValue {
  type: 'string';
  value: Buffer;
}
export interface ListValue {
  type: 'list';
  /** a deque (ring buffer) of elements, head first: O(1) pushes and pops at both ends */
  value: ListDeque;
}
export interface HashValue {
  type: 'hash';
  value: Map<string, Buffer>;
}
export interface SetValue {
  type: 'set';
  value: Set<string>;
}
/** Other value types (tensors, models, ...) registered by their subsystems. */
export interface OtherValue {
  type: string;
  value: unknown;
}
export type Value = StringValue | ListValue | HashValue | SetValue | OtherValue;

export interface KeyspaceHooks {
  /** called for every key a write touches (WATCH invalidation) */
  keyModified(db: Database, key: string): void;
  /** called when a key expired and was removed (propagated as DEL) */
  keyExpired(db: Database, key: string): void;
}

/** A value's LRU stamp (src/node/memory.ts, eviction.ts): Database.lruClock at its last access. */
type Stamped = { lru?: number };

export class Database {
  /**
   * A logical LRU clock, one tick per key access in any database (Redis keeps a 24-bit clock per object): cheaper
   * than reading the time, and it orders accesses exactly, which is all allkeys-lru / volatile-lru need.
   */
  static lruClock = 0;
  /** stamps are only kept while an LRU (or LFU) maxmemory-policy is set (src/node/eviction.ts): free otherwise */
  static lruTracking = false;
  readonly map = new Map<string, Value>();
  /** accounted size of this database's keys and values (src/node/memory.ts), kept current by every write */
  usedBytes = 0;
  /** AI values in this database per kind (INFO memory's ai lines), kept with usedBytes */
  aiTally: AiTally | null = null;
  /** values handed out by getForWrite since the last settleSizes: their size is out of usedBytes until then */
  private resizing: Map<string, Value> | null = null;
  /** absolute unix time in ms for keys that have a TTL */
  readonly expires = new Map<string, number>();
  private expireCursor: Iterator<[string, number]> | null = null;
  /** snapshots being written from a view of this database (copy-on-write is on while > 0) */
  private snapshotViews = 0;
  /** values already copied (or made) since the newest view was taken: safe to change in place */
  private cowOwned: WeakSet<Value> | null = null;

  constructor(
    readonly id: number,
    private hooks: KeyspaceHooks,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** Removes the key if its time is up; true when it did. */
  private expireIfNeeded(key: string, now = Date.now()): boolean {
    const at = this.expires.get(key);
    if (at === undefined || at > now) return false;
    const v = this.map.get(key);
    this.map.delete(key);
    this.expires.delete(key);
    if (v !== undefined) this.forgetSize(key, v);
    this.hooks.keyExpired(this, key);
    return true;
  }

  lookup(key: string): Value | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    if (this.expires.size > 0 && this.expireIfNeeded(key)) return undefined;
    if (Database.lruTracking) (v as Stamped).lru = ++Database.lruClock;
    return v;
  }

  exists(key: string): boolean {
    return this.lookup(key) !== undefined;
  }

  /** Looks up a value that must be of `type` (WRONGTYPE otherwise). */
  get<T extends Value>(key: string, type: T['type']): T | undefined {
    const v = this.lookup(key);
    if (v !== undefined && v.type !== type) throw new CommandError(Err.wrongType);
    return v as T | undefined;
  }

  /**
   * As get, for a value the caller is about to change in place; marks the key modified. While a snapshot is
   * being written, a list / hash / set it may still read is copied first (copy-on-write), so the snapshot
   * keeps the value as it was when its view was taken.
   */
  getForWrite<T extends Value>(key: string, type: T['type']): T | undefined {
    let v = this.get<T>(key, type);
    if (v === undefined) return v;
    // the caller changes the value in place: its size is taken out now and counted again at settleSizes()
    if (this.resizing === null) this.resizing = new Map();
    if (!this.resizing.has(key)) account(this, key, v, -1);
    if (this.cowOwned !== null && !this.cowOwned.has(v)) {
      const copy = cowCopy(v);
      if (copy !== v) {
        this.map.set(key, copy);
        this.cowOwned.add(copy);
        v = copy as T;
      }
    }
    this.resizing.set(key, v);
    this.hooks.keyModified(this, key);
    return v;
  }

  /**
   * A consistent view for a snapshot: copies of the key and expiry maps (values are shared; strings, tensors
   * and models are replaced on write, never changed, and getForWrite copies the others). endSnapshot() when done.
   */
  beginSnapshot(): { map: Map<string, Value>; expires: Map<string, number> } {
    this.snapshotViews++;
    this.cowOwned = new WeakSet();
    return { map: new Map(this.map), expires: new Map(this.expires) };
  }

  endSnapshot(): void {
    if (this.snapshotViews > 0 && --this.snapshotViews === 0) this.cowOwned = null;
  }

  /** Stores a value. Clears the TTL unless keepTtl. */
  set(key: string, value: Value, keepTtl = false): void {
    const old = this.map.get(key);
    this.map.set(key, value);
    if (old !== undefined) this.forgetSize(key, old);
    // strings and AI values are replaced, never changed; containers are often filled after set (RPUSH on a new
    // key), so they are counted at the next settleSizes
    if (value.type === 'string' || value.type.charCodeAt(0) === 65 /* 'A' */) account(this, key, value, 1);
    else (this.resizing ??= new Map()).set(key, value);
    if (Database.lruTracking) (value as Stamped).lru = ++Database.lruClock;
    if (!keepTtl && this.expires.size > 0) this.expires.delete(key);
    this.hooks.keyModified(this, key);
  }

  delete(key: string): boolean {
    const v = this.lookup(key);
    if (v === undefined) return false;
    this.map.delete(key);
    this.expires.delete(key);
    this.forgetSize(key, v);
    this.hooks.keyModified(this, key);
    return true;
  }

  /** Marks a key modified after an in-place change that emptied and removed it, etc. */
  touch(key: string): void {
    this.hooks.keyModified(this, key);
  }

  setExpire(key: string, atMs: number): void {
    this.expires.set(key, atMs);
    this.hooks.keyModified(this, key);
  }

  persist(key: string): boolean {
    const had = this.expires.delete(key);
    if (had) this.hooks.keyModified(this, key);
    return had;
  }

  /** TTL in ms, -1 when the key has none, -2 when it does not exist. */
  pttl(key: string): number {
    if (this.lookup(key) === undefined) return -2;
    const at = this.expires.get(key);
    if (at === undefined) return -1;
    return Math.max(0, at - Date.now());
  }

  clear(): void {
    for (const key of this.map.keys()) this.hooks.keyModified(this, key);
    this.map.clear();
    dropCursors(this);
    this.expires.clear();
    this.expireCursor = null;
    this.usedBytes = 0;
    this.aiTally = null;
    this.resizing = null;
  }

  /** Takes a value leaving the database out of usedBytes (unless getForWrite already did). */
  private forgetSize(key: string, v: Value): void {
    if (this.resizing !== null && this.resizing.delete(key)) return;
    account(this, key, v, -1);
  }

  /** Counts again the values changed in place since the last call (O(values changed)). */
  settleSizes(): void {
    const changed = this.resizing;
    if (changed === null) return;
    this.resizing = null;
    for (const key of changed.keys()) {
      const v = this.map.get(key);
      if (v !== undefined) account(this, key, v, 1);
    }
  }

  /** Recomputes usedBytes from every key (after a load that filled the map directly); O(keys). */
  recountSizes(): void {
    this.resizing = null;
    this.usedBytes = 0;
    this.aiTally = null;
    for (const [key, v] of this.map) account(this, key, v, 1);
  }

  /**
   * One step of active expiry, as Redis's cycle: sample keys with a TTL and drop the expired ones,
   * repeating while more than a quarter of a sample had expired, within a time budget.
   */
  activeExpire(budgetMs: number): number {
    if (this.expires.size === 0) return 0;
    const deadline = Date.now() + budgetMs;
    let removed = 0;
    for (;;) {
      let sampled = 0;
      let expired = 0;
      const now = Date.now();
      while (sampled < 20) {
        if (!this.expireCursor) this.expireCursor = this.expires.entries();
        const next = this.expireCursor.next();
        if (next.done) {
          this.expireCursor = null;
          if (sampled === 0 && this.expires.size === 0) return removed;
          break;
        }
        sampled++;
        const [key, at] = next.value;
        if (at <= now && this.expireIfNeeded(key, now)) expired++;
      }
      removed += expired;
      if (expired * 4 <= sampled || Date.now() >= deadline) return removed;
    }
  }

  /** A random live key, or null when empty. */
  randomKey(): string | null {
    for (let tries = 0; tries < 100 && this.map.size > 0; tries++) {
      const n = Math.floor(Math.random() * this.map.size);
      let i = 0;
      for (const k of this.map.keys()) {
        if (i++ === n) {
          if (this.lookup(k) !== undefined) return k;
          break;
        }
      }
    }
    return null;
  }

  /** Counts for INFO keyspace: keys, keys with a TTL, average TTL in ms. */
  stats(): { keys: number; expires: number; avgTtl: number } {
    const now = Date.now();
    let sum = 0;
    for (const at of this.expires.values()) sum += Math.max(0, at - now);
    return {
      keys: this.map.size,
      expires: this.expires.size,
      avgTtl: this.expires.size ? Math.round(sum / this.expires.size) : 0,
    };
  }
}

/**
 * Copy functions of the value types that commands change in place (a snapshot being written must not see those
 * changes): lists, hashes and sets here; other such types register theirs (registerCopyOnWrite, or a value
 * codec's `copy`, src/persistence/codecs.ts). Types without one are replaced on write, never changed.
 */
const cowCopies = new Map<string, (v: Value) => Value>([
  ['list', (v) => ({ type: 'list', value: ListDeque.from((v as ListValue).value.toArray()) })],
  ['hash', (v) => ({ type: 'hash', value: new Map((v as HashValue).value) })],
  ['set', (v) => ({ type: 'set', value: new Set((v as SetValue).value) })],
]);

export function registerCopyOnWrite(type: string, copy: (v: Value) => Value): void {
  cowCopies.set(type, copy);
}

function cowCopy(v: Value): Value {
  const copy = cowCopies.get(v.type);
  return copy ? copy(v) : v;
}
