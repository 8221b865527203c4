// The stream structure (Redis's t_stream.c / stream.h): entries in id order in chunks of at most 100 entries
// (Redis's listpack nodes, stream-node-max-entries), so that lookup by id is a binary search over chunks then
// within one (O(log n)), appends go to the last chunk, and trimming drops whole chunks from the head. The chunk
// boundaries follow Redis's node rule (a new node once the tail node has had 100 entries appended, deleted
// ones included), which is what approximate (`~`) trimming works in units of.
//
// Ids are (ms, seq) pairs of JS numbers: exact below 2^53; the largest id Redis knows (2^64-1) is kept as 2^64
// and printed as 18446744073709551615.

export const U64_MAX = 2 ** 64;

export interface StreamID {
  ms: number;
  seq: number;
}

export const ID_MIN: StreamID = { ms: 0, seq: 0 };
export const ID_MAX: StreamID = { ms: U64_MAX, seq: U64_MAX };

export function cmpId(a: StreamID, b: StreamID): number {
  return a.ms < b.ms ? -1 : a.ms > b.ms ? 1 : a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0;
}

const u64 = (n: number): string => (n >= U64_MAX ? '18446744073709551615' : String(n));
export const fmtId = (id: StreamID): string => u64(id.ms) + '-' + u64(id.seq);
export const isZero = (id: StreamID): boolean => id.ms === 0 && id.seq === 0;

/** The id after `id`, or null when it is the last possible one. */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq >= U64_MAX) return id.ms >= U64_MAX ? null : { ms: id.ms + 1, seq: 0 };
  return { ms: id.ms, seq: id.seq + 1 };
}

/** The id before `id`, or null when it is 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq === 0) return id.ms === 0 ? null : { ms: id.ms - 1, seq: U64_MAX };
  return { ms: id.ms, seq: id.seq - 1 };
}

export const NODE_MAX_ENTRIES = 100;
export const NODE_MAX_BYTES = 4096;

export interface Entry {
  id: StreamID;
  /** field, value, field, value ... */
  fv: Buffer[];
}

export class Chunk {
  entries: Entry[] = [];
  /** entries ever appended to this node (deleted ones included), as a listpack's count */
  appended = 0;
  /** an estimate of the listpack's size in bytes */
  bytes = 0;
  /** the id of the last entry ever appended (deleted or not), for MINID node trimming */
  lastAppended: StreamID = ID_MIN;
}

export interface PendingEntry {
  id: StreamID;
  consumer: Consumer;
  deliveryTime: number;
  deliveryCount: number;
}

export interface Consumer {
  name: string;
  seenTime: number;
  /** this consumer's pending entries by id string */
  pel: Map<string, PendingEntry>;
}

export class ConsumerGroup {
  lastId: StreamID;
  /** -1 = unknown (SCG_INVALID_ENTRIES_READ) */
  entriesRead: number;
  /** pending entries, id string -> entry, and the ids in order */
  readonly pel = new Map<string, PendingEntry>();
  private pelOrder: StreamID[] = [];
  private pelDirty = false;
  readonly consumers = new Map<string, Consumer>();

  constructor(lastId: StreamID, entriesRead: number) {
    this.lastId = lastId;
    this.entriesRead = entriesRead;
  }

  addPending(p: PendingEntry): void {
    const k = fmtId(p.id);
    this.pel.set(k, p);
    p.consumer.pel.set(k, p);
    const n = this.pelOrder.length;
    if (n > 0 && cmpId(this.pelOrder[n - 1], p.id) >= 0) this.pelDirty = true;
    this.pelOrder.push(p.id);
  }

  removePending(k: string): boolean {
    const p = this.pel.get(k);
    if (!p) return false;
    this.pel.delete(k);
    p.consumer.pel.delete(k);
    this.pelDirty = true;
    return true;
  }

  /** Pending entries with start <= id <= end, in id order. */
  pendingRange(start: StreamID, end: StreamID): PendingEntry[] {
    if (this.pelDirty) {
      this.pelOrder = [...this.pel.values()].map((p) => p.id).sort(cmpId);
      this.pelDirty = false;
    }
    const o = this.pelOrder;
    let lo = 0;
    let hi = o.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpId(o[mid], start) < 0) lo = mid + 1;
      else hi = mid;
    }
    const out: PendingEntry[] = [];
    for (let i = lo; i < o.length && cmpId(o[i], end) <= 0; i++) out.push(this.pel.get(fmtId(o[i]))!);
    return out;
  }

  consumer(name: string, now: number, create: boolean): Consumer | undefined {
    let c = this.consumers.get(name);
    if (!c && create) {
      c = { name, seenTime: now, pel: new Map() };
      this.consumers.set(name, c);
    }
    return c;
  }

  deleteConsumer(name: string): number {
    const c = this.consumers.get(name);
    if (!c) return 0;
    const n = c.pel.size;
    for (const k of [...c.pel.keys()]) this.removePending(k);
    this.consumers.delete(name);
    return n;
  }
}

export class Stream {
  chunks: Chunk[] = [];
  length = 0;
  lastId: StreamID = ID_MIN;
  maxDeletedId: StreamID = ID_MIN;
  entriesAdded = 0;
  groups = new Map<string, ConsumerGroup>();

  get firstId(): StreamID {
    return this.length === 0 ? ID_MIN : this.firstEntry()!.id;
  }

  firstEntry(): Entry | undefined {
    for (const ch of this.chunks) if (ch.entries.length) return ch.entries[0];
    return undefined;
  }

  lastEntry(): Entry | undefined {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const e = this.chunks[i].entries;
      if (e.length) return e[e.length - 1];
    }
    return undefined;
  }

  /** Appends an entry whose id is greater than lastId. */
  append(id: StreamID, fv: Buffer[]): void {
    let bytes = 0;
    for (const b of fv) bytes += b.length + 2;
    let tail = this.chunks[this.chunks.length - 1];
    if (!tail || tail.appended >= NODE_MAX_ENTRIES || (tail.bytes + bytes >= NODE_MAX_BYTES && tail.appended > 0)) {
      tail = new Chunk();
      this.chunks.push(tail);
    }
    tail.entries.push({ id, fv });
    tail.appended++;
    tail.bytes += bytes;
    tail.lastAppended = id;
    this.length++;
    this.lastId = id;
    this.entriesAdded++;
  }

  /** Index of the first chunk whose last entry id >= id (chunks.length when none). */
  private chunkFor(id: StreamID): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.chunks[mid].entries;
      // empty chunks are removed eagerly, so every chunk has entries
      if (cmpId(e[e.length - 1].id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private static lowerBound(entries: Entry[], id: StreamID): number {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpId(entries[mid].id, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(id: StreamID): Entry | undefined {
    const ci = this.chunkFor(id);
    if (ci >= this.chunks.length) return undefined;
    const e = this.chunks[ci].entries;
    const i = Stream.lowerBound(e, id);
    return i < e.length && cmpId(e[i].id, id) === 0 ? e[i] : undefined;
  }

  /** Entries with start <= id <= end, in order (reverse: from end down), at most count (0 = all). */
  range(start: StreamID, end: StreamID, count: number, reverse = false): Entry[] {
    const out: Entry[] = [];
    if (cmpId(start, end) > 0) return out;
    if (!reverse) {
      let ci = this.chunkFor(start);
      if (ci >= this.chunks.length) return out;
      let i = Stream.lowerBound(this.chunks[ci].entries, start);
      for (; ci < this.chunks.length; ci++, i = 0) {
        const e = this.chunks[ci].entries;
        for (; i < e.length; i++) {
          if (cmpId(e[i].id, end) > 0) return out;
          out.push(e[i]);
          if (count && out.length >= count) return out;
        }
      }
      return out;
    }
    let ci = this.chunkFor(end);
    if (ci >= this.chunks.length) ci = this.chunks.length - 1;
    if (ci < 0) return out;
    let e = this.chunks[ci].entries;
    let i = Stream.lowerBound(e, end);
    if (i >= e.length || cmpId(e[i].id, end) > 0) i--;
    for (;;) {
      for (; i >= 0; i--) {
        if (cmpId(e[i].id, start) < 0) return out;
        out.push(e[i]);
        if (count && out.length >= count) return out;
      }
      if (--ci < 0) return out;
      e = this.chunks[ci].entries;
      i = e.length - 1;
    }
  }

  /** Deletes one entry; true when it existed. */
  delete(id: StreamID): boolean {
    const ci = this.chunkFor(id);
    if (ci >= this.chunks.length) return false;
    const e = this.chunks[ci].entries;
    const i = Stream.lowerBound(e, id);
    if (i >= e.length || cmpId(e[i].id, id) !== 0) return false;
    e.splice(i, 1);
    if (e.length === 0) this.chunks.splice(ci, 1);
    this.length--;
    if (cmpId(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    return true;
  }

  /**
   * Redis's streamTrim: by MAXLEN (threshold count) or MINID (threshold id); approx trims whole nodes only;
   * limit bounds the entries removed (0 = none). Returns the number removed.
   */
  trim(strategy: 'maxlen' | 'minid', maxlen: number, minid: StreamID, approx: boolean, limit: number): number {
    let deleted = 0;
    // whole chunks are dropped with one splice at the end (head = chunks dropped so far)
    let head = 0;
    while (head < this.chunks.length) {
      if (strategy === 'maxlen' && this.length <= maxlen) break;
      const ch = this.chunks[head];
      const entries = ch.entries.length;
      if (limit && deleted + entries > limit) break;
      const removeNode =
        strategy === 'maxlen' ? this.length - entries >= maxlen : cmpId(ch.lastAppended, minid) < 0 && cmpId(ch.entries[entries - 1].id, minid) < 0;
      if (removeNode) {
        this.length -= entries;
        deleted += entries;
        head++;
        continue;
      }
      if (approx) break;
      let k = 0;
      for (; k < entries; k++) {
        if (strategy === 'maxlen' ? this.length - k <= maxlen : cmpId(ch.entries[k].id, minid) >= 0) break;
      }
      ch.entries.splice(0, k);
      this.length -= k;
      deleted += k;
      if (ch.entries.length === 0) head++;
      break;
    }
    if (head > 0) this.chunks.splice(0, head);
    return deleted;
  }

  *entries(): IterableIterator<Entry> {
    for (const ch of this.chunks) yield* ch.entries;
  }

  /** Redis's streamRangeHasTombstones. */
  rangeHasTombstones(start: StreamID | null, end: StreamID | null): boolean {
    if (this.length === 0 || isZero(this.maxDeletedId)) return false;
    if (cmpId(this.firstId, this.maxDeletedId) > 0) return false;
    const s = start ?? ID_MIN;
    const e = end ?? ID_MAX;
    return cmpId(s, this.maxDeletedId) <= 0 && cmpId(this.maxDeletedId, e) <= 0;
  }

  /** Redis's streamEstimateDistanceFromFirstEverEntry; -1 when unknown. */
  estimateDistance(id: StreamID): number {
    if (!this.entriesAdded) return 0;
    if (!this.length && cmpId(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = cmpId(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return -1;
    const cmpFirst = cmpId(id, this.firstId);
    const cmpXdelFirst = cmpId(this.maxDeletedId, this.firstId);
    if (isZero(this.maxDeletedId) || cmpXdelFirst < 0) {
      if (cmpFirst < 0) return this.entriesAdded - this.length;
      if (cmpFirst === 0) return this.entriesAdded - this.length + 1;
    }
    return -1;
  }

  /** A deep copy (copy-on-write while a snapshot is written). */
  clone(): Stream {
    const s = new Stream();
    s.chunks = this.chunks.map((ch) => {
      const n = new Chunk();
      n.entries = ch.entries.slice();
      n.appended = ch.appended;
      n.bytes = ch.bytes;
      n.lastAppended = ch.lastAppended;
      return n;
    });
    s.length = this.length;
    s.lastId = this.lastId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    for (const [name, g] of this.groups) {
      const ng = new ConsumerGroup(g.lastId, g.entriesRead);
      for (const [cn, c] of g.consumers) ng.consumers.set(cn, { name: cn, seenTime: c.seenTime, pel: new Map() });
      for (const p of g.pendingRange(ID_MIN, ID_MAX)) {
        ng.addPending({ id: p.id, consumer: ng.consumers.get(p.consumer.name)!, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount });
      }
      s.groups.set(name, ng);
    }
    return s;
  }
}

export interface StreamValue {
  type: 'stream';
  value: Stream;
}
