// maxmemory eviction, as Redis's evict.c: before a command runs while used memory (src/node/memory.ts) is over
// maxmemory, keys are evicted per maxmemory-policy until it is under or nothing is left to evict; then a
// deny-oom command gets -OOM. LRU and TTL policies sample maxmemory-samples keys per database into a pool of the
// 16 best candidates and evict the best; the random policies take keys as they come. Evictions propagate as DEL.
//
// A JS Map has no random access and iterates in insertion order, so "sampling" takes keys in turn from HANDS
// iterators kept across calls, started a 1/HANDS of the map apart (placing them walks the map once), skipping a
// random key now and then: each sample set spans old and new keys, and every key is looked at once per sweep.
// The pool re-reads each candidate's LRU stamp / expiry when choosing, so a key read since it was sampled is not
// evicted.
// *-lfu policies are accepted and run as their LRU counterparts (no access-frequency counters are kept).
// Keys are stamped on access only while an LRU / LFU policy is set (keys not accessed since it was set count as
// the most idle), so under the default noeviction GET / SET pay nothing for it. Eviction has no time budget: a
// much lower maxmemory evicts everything it must in one go.

import { Database } from './keyspace';
import type { Server } from './server';
import type { Client } from './client';
import type { Command } from './command-table';

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

const POOL_SIZE = 16;
const HANDS = 4;

/** Iterators over one database's keys (or keys with a TTL), taken in turn. */
interface Hands {
  its: (Iterator<string> | undefined)[];
  turn: number;
}

interface Candidate {
  db: Database;
  key: string;
  score: number;
}

export class Eviction {
  evictedKeys = 0;
  private pool: Candidate[] = [];
  /** per database: a cursor over its keys (allkeys-*) and one over its keys with a TTL (volatile-*) */
  private keyCursors = new WeakMap<Database, Hands>();
  private ttlCursors = new WeakMap<Database, Hands>();
  private nextDb = 0;

  constructor(private server: Server) {
    this.reset();
  }

  /**
   * Evicts until used memory + `extra` fits under maxmemory; false when it cannot (noeviction, or nothing
   * evictable left). Replicas never evict (their master's DELs do, as Redis's repl-ignore-maxmemory).
   */
  makeRoom(extra = 0): boolean {
    const mem = this.server.memory;
    const limit = mem.limit;
    if (limit <= 0 || this.server.replication.role !== 'master') return true;
    if (mem.usedForEviction() + extra <= limit) return true;
    const policy = this.server.config.get('maxmemory-policy');
    if (policy === 'noeviction') return false;
    const volatile = policy.startsWith('volatile-');
    const random = policy.endsWith('-random');
    const ttl = policy === 'volatile-ttl';
    const samples = Math.max(1, this.server.config.getInt('maxmemory-samples'));
    while (mem.usedForEviction() + extra > limit) {
      const victim = random ? this.randomVictim(volatile) : this.poolVictim(volatile, ttl, samples);
      if (victim === null) return false;
      this.evict(victim.db, victim.key);
    }
    return true;
  }

  private evict(db: Database, key: string): void {
    // delete() may find the key expired instead: then it is removed (and propagated) as expired
    if (!db.delete(key)) return;
    this.evictedKeys++;
    this.server.propagate(db.id, [Buffer.from('DEL'), Buffer.from(key, 'latin1')]);
  }

  /** The next key from a database's hands (a hand that reaches the end starts again); null when it has none. */
  private next(db: Database, volatile: boolean): string | null {
    const cursors = volatile ? this.ttlCursors : this.keyCursors;
    const source = volatile ? db.expires : db.map;
    if (source.size === 0) return null;
    let hands = cursors.get(db);
    if (!hands) cursors.set(db, (hands = { its: new Array(HANDS).fill(undefined), turn: 0 }));
    const h = hands.turn++ % HANDS;
    for (let pass = 0; pass < 2; pass++) {
      let it = hands.its[h];
      if (!it) {
        // (re)placed h/HANDS of the way in, so the hands stay spread (amortised: a hand walks the map before this)
        it = source.keys();
        for (let skip = Math.floor((h * source.size) / HANDS); skip > 0; skip--) it.next();
        hands.its[h] = it;
      }
      const r = it.next();
      if (!r.done) return r.value;
      hands.its[h] = undefined;
    }
    return null;
  }

  private randomVictim(volatile: boolean): Candidate | null {
    const dbs = this.server.dbs;
    for (let i = 0; i < dbs.length; i++) {
      const db = dbs[(this.nextDb + i) % dbs.length];
      const skip = Math.floor(Math.random() * 3);
      let key: string | null = null;
      for (let s = 0; s <= skip; s++) key = this.next(db, volatile) ?? key;
      if (key !== null) {
        this.nextDb = (this.nextDb + i + 1) % dbs.length;
        return { db, key, score: 0 };
      }
    }
    return null;
  }

  /** Higher is evicted first: idle ticks of the LRU clock, or how soon the TTL runs out; null if not a candidate. */
  private score(db: Database, key: string, volatile: boolean, ttl: boolean): number | null {
    const v = db.map.get(key);
    if (v === undefined) return null;
    if (ttl) {
      const at = db.expires.get(key);
      return at === undefined ? null : Number.MAX_SAFE_INTEGER - at;
    }
    if (volatile && !db.expires.has(key)) return null;
    return Database.lruClock - ((v as { lru?: number }).lru ?? 0);
  }

  private poolVictim(volatile: boolean, ttl: boolean, samples: number): Candidate | null {
    for (const db of this.server.dbs) {
      const source = volatile ? db.expires : db.map;
      if (source.size === 0) continue;
      const n = Math.min(samples, source.size);
      for (let i = 0; i < n; i++) {
        if (Math.random() < 0.5) this.next(db, volatile); // a random skip between samples
        const key = this.next(db, volatile);
        if (key === null) break;
        const score = this.score(db, key, volatile, ttl);
        if (score !== null) this.offer({ db, key, score });
      }
    }
    // re-score the pool (keys may have been read, deleted or persisted since they were sampled); take the best
    let best = -1;
    const kept: Candidate[] = [];
    for (const c of this.pool) {
      const score = this.score(c.db, c.key, volatile, ttl);
      if (score === null) continue;
      c.score = score;
      kept.push(c);
      if (best < 0 || score > kept[best].score) best = kept.length - 1;
    }
    this.pool = kept;
    if (best < 0) return null;
    return this.pool.splice(best, 1)[0];
  }

  private offer(c: Candidate): void {
    const pool = this.pool;
    for (const p of pool) {
      if (p.db === c.db && p.key === c.key) {
        p.score = c.score;
        return;
      }
    }
    if (pool.length < POOL_SIZE) return void pool.push(c);
    let worst = 0;
    for (let i = 1; i < pool.length; i++) if (pool[i].score < pool[worst].score) worst = i;
    if (c.score > pool[worst].score) pool[worst] = c;
  }

  /** The policy changed: forgets pooled candidates; keys get LRU stamps only under an LRU / LFU policy. */
  reset(): void {
    this.pool = [];
    const policy = this.server.config.get('maxmemory-policy');
    Database.lruTracking = policy.endsWith('-lru') || policy.endsWith('-lfu');
  }
}

/**
 * The dispatcher's maxmemory gate, as Redis's processCommand: when over the limit, evict first (for any command);
 * if still over, refuse deny-oom commands, EXEC of a transaction holding one, and anything queued into MULTI
 * (but DISCARD / QUIT / RESET). Answers the error, or null to go on.
 */
export function maxmemoryGate(server: Server, c: Client, cmd: Command): string | null {
  if (server.loading || c.kind === 'master' || server.eviction.makeRoom()) return null;
  let refuse = cmd.has('denyoom');
  if (c.multi !== null) {
    if (cmd.name === 'exec') refuse = c.multi.some((q) => q.cmd.has('denyoom'));
    else if (cmd.name !== 'discard' && cmd.name !== 'quit' && cmd.name !== 'reset') refuse = true;
  }
  return refuse ? OOM_ERROR : null;
}
