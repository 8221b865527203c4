// A sorted set as Redis's t_zset.c keeps one: a skip list with spans (O(log n) insert, delete, rank and
// rank-to-node) ordered by (score, member), beside a Map member -> score for O(1) lookups. Members are binary
// strings (latin1), so `<` on them is Redis's memcmp order.

export const MAX_LEVEL = 32;
const P = 0.25;

/** Redis's zset-max-listpack-entries / zset-max-listpack-value defaults (see ZSet.compact). */
export const COMPACT_MAX_ENTRIES = 128;
export const COMPACT_MAX_VALUE = 64;

export class ZNode {
  backward: ZNode | null = null;
  readonly next: (ZNode | null)[];
  readonly span: number[];

  constructor(
    public member: string,
    public score: number,
    level: number,
  ) {
    this.next = new Array<ZNode | null>(level).fill(null);
    this.span = new Array<number>(level).fill(0);
  }
}

/** A score interval; `ex` marks an open end. */
export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/** '-' and '+' of lex ranges: below and above every string. */
export const LEX_MIN: unique symbol = Symbol('-');
export const LEX_MAX: unique symbol = Symbol('+');
export type LexBound = string | typeof LEX_MIN | typeof LEX_MAX;

export interface LexRange {
  min: LexBound;
  max: LexBound;
  minex: boolean;
  maxex: boolean;
}

/** Redis's sdscmplex. */
export function cmpLex(a: LexBound, b: LexBound): number {
  if (a === b) return 0;
  if (a === LEX_MIN || b === LEX_MAX) return -1;
  if (a === LEX_MAX || b === LEX_MIN) return 1;
  return a < b ? -1 : 1;
}

export const scoreGteMin = (v: number, r: ScoreRange) => (r.minex ? v > r.min : v >= r.min);
export const scoreLteMax = (v: number, r: ScoreRange) => (r.maxex ? v < r.max : v <= r.max);
export const lexGteMin = (v: string, r: LexRange) => (r.minex ? cmpLex(v, r.min) > 0 : cmpLex(v, r.min) >= 0);
export const lexLteMax = (v: string, r: LexRange) => (r.maxex ? cmpLex(v, r.max) < 0 : cmpLex(v, r.max) <= 0);

// scratch for insert/delete (the server is single-threaded)
const update: ZNode[] = new Array<ZNode>(MAX_LEVEL);
const rankAt: number[] = new Array<number>(MAX_LEVEL).fill(0);

function randomLevel(): number {
  let level = 1;
  while (level < MAX_LEVEL && Math.random() < P) level++;
  return level;
}

/** (score, member) of a is before b's. */
const before = (a: ZNode, score: number, member: string) => a.score < score || (a.score === score && a.member < member);

export class ZSet {
  readonly dict = new Map<string, number>();
  private readonly header = new ZNode('', 0, MAX_LEVEL);
  private tail: ZNode | null = null;
  private level = 1;
  /**
   * Whether Redis would hold this set as a listpack (at most 128 members of at most 64 bytes, until it grows
   * past that). The one visible difference is that a listpack stores a score of -0 as 0; kept for that.
   */
  compact = true;

  get size(): number {
    return this.dict.size;
  }

  /**
   * Builds a set from members already in (score, member) order, in O(n). It is compact (and its -0 scores
   * become 0) when small enough, as a set Redis builds whole and then converts to a listpack.
   */
  static fromSorted(members: readonly string[], scores: ArrayLike<number>): ZSet {
    const z = new ZSet();
    const n = members.length;
    const last: ZNode[] = new Array<ZNode>(MAX_LEVEL).fill(z.header);
    const lastRank = new Array<number>(MAX_LEVEL).fill(0);
    let maxLen = 0;
    for (let i = 0; i < n; i++) if (members[i].length > maxLen) maxLen = members[i].length;
    z.compact = n <= COMPACT_MAX_ENTRIES && maxLen <= COMPACT_MAX_VALUE;
    let prev: ZNode | null = null;
    for (let i = 0; i < n; i++) {
      const lvl = randomLevel();
      if (lvl > z.level) z.level = lvl;
      let score = scores[i];
      if (z.compact && score === 0) score = 0;
      const node = new ZNode(members[i], score, lvl);
      const rank = i + 1;
      for (let l = 0; l < lvl; l++) {
        last[l].next[l] = node;
        last[l].span[l] = rank - lastRank[l];
        last[l] = node;
        lastRank[l] = rank;
      }
      node.backward = prev;
      prev = node;
      z.dict.set(members[i], score);
    }
    for (let l = 0; l < MAX_LEVEL; l++) last[l].span[l] = n - lastRank[l];
    z.tail = prev;
    return z;
  }

  /** A deep copy (copy-on-write while a snapshot is written). */
  clone(): ZSet {
    const members: string[] = new Array<string>(this.size);
    const scores = new Float64Array(this.size);
    let i = 0;
    for (let x = this.header.next[0]; x; x = x.next[0], i++) {
      members[i] = x.member;
      scores[i] = x.score;
    }
    const z = ZSet.fromSorted(members, scores);
    z.compact = this.compact;
    return z;
  }

  score(member: string): number | undefined {
    return this.dict.get(member);
  }

  first(): ZNode | null {
    return this.header.next[0];
  }

  last(): ZNode | null {
    return this.tail;
  }

  /** Leaves the compact (listpack-like) form when a new member makes Redis convert to a skip list. */
  private growCheck(member: string, extra = 1): void {
    if (this.compact && (this.dict.size + extra > COMPACT_MAX_ENTRIES || member.length > COMPACT_MAX_VALUE)) this.compact = false;
  }

  /** As Redis's zsetTypeCreate: a set created for `sizeHint` members whose first has length `lenHint`. */
  static create(sizeHint: number, lenHint: number): ZSet {
    const z = new ZSet();
    z.compact = sizeHint <= COMPACT_MAX_ENTRIES && lenHint <= COMPACT_MAX_VALUE;
    return z;
  }

  /** Adds a member that is not in the set. */
  insert(member: string, score: number): void {
    this.growCheck(member);
    if (this.compact && score === 0) score = 0; // -0 as a listpack stores it
    this.dict.set(member, score);
    this.slInsert(score, member);
  }

  /** Changes the score of a member in the set. */
  updateScore(member: string, score: number): void {
    const cur = this.dict.get(member)!;
    if (this.compact && score === 0) score = 0;
    this.dict.set(member, score);
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && before(f, cur, member)) x = f;
      update[i] = x;
    }
    const node = x.next[0]!;
    // in place when the order does not change (Redis's condition)
    if ((node.backward === null || node.backward.score < score) && (node.next[0] === null || node.next[0].score > score)) {
      node.score = score;
      return;
    }
    this.deleteNode(node);
    this.slInsert(score, member);
  }

  /** Removes a member; false when absent. */
  delete(member: string): boolean {
    const score = this.dict.get(member);
    if (score === undefined) return false;
    this.dict.delete(member);
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && before(f, score, member)) x = f;
      update[i] = x;
    }
    this.deleteNode(x.next[0]!);
    return true;
  }

  private slInsert(score: number, member: string): void {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      rankAt[i] = i === this.level - 1 ? 0 : rankAt[i + 1];
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && before(f, score, member)) {
        rankAt[i] += x.span[i];
        x = f;
      }
      update[i] = x;
    }
    const lvl = randomLevel();
    const length = this.dict.size - 1; // the dict already holds the new member
    if (lvl > this.level) {
      for (let i = this.level; i < lvl; i++) {
        rankAt[i] = 0;
        update[i] = this.header;
        this.header.span[i] = length;
      }
      this.level = lvl;
    }
    const node = new ZNode(member, score, lvl);
    for (let i = 0; i < lvl; i++) {
      const u = update[i];
      node.next[i] = u.next[i];
      u.next[i] = node;
      node.span[i] = u.span[i] - (rankAt[0] - rankAt[i]);
      u.span[i] = rankAt[0] - rankAt[i] + 1;
    }
    for (let i = lvl; i < this.level; i++) update[i].span[i]++;
    node.backward = update[0] === this.header ? null : update[0];
    if (node.next[0]) node.next[0].backward = node;
    else this.tail = node;
  }

  /** Unlinks x; update[] holds its predecessors at every level. */
  private deleteNode(x: ZNode): void {
    for (let i = 0; i < this.level; i++) {
      const u = update[i];
      if (u.next[i] === x) {
        u.span[i] += x.span[i] - 1;
        u.next[i] = x.next[i];
      } else u.span[i] -= 1;
    }
    if (x.next[0]) x.next[0].backward = x.backward;
    else this.tail = x.backward;
    while (this.level > 1 && this.header.next[this.level - 1] === null) this.level--;
  }

  /** 0-based rank of a member, or -1 when absent. */
  rank(member: string): number {
    const score = this.dict.get(member);
    if (score === undefined) return -1;
    let x = this.header;
    let rank = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && (f.score < score || (f.score === score && f.member <= member))) {
        rank += x.span[i];
        x = f;
      }
      if (x !== this.header && x.member === member) return rank - 1;
    }
    return -1;
  }

  /** The node at 0-based rank (null when out of range). */
  byRank(rank0: number): ZNode | null {
    if (rank0 < 0 || rank0 >= this.size) return null;
    const rank = rank0 + 1;
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.next[i] !== null && traversed + x.span[i] <= rank) {
        traversed += x.span[i];
        x = x.next[i]!;
      }
      if (traversed === rank) return x;
    }
    return null;
  }

  // ---- score ranges ----

  private inRange(r: ScoreRange): boolean {
    if (r.min > r.max || (r.min === r.max && (r.minex || r.maxex))) return false;
    if (this.tail === null || !scoreGteMin(this.tail.score, r)) return false;
    const first = this.header.next[0];
    return first !== null && scoreLteMax(first.score, r);
  }

  /** First node in range and its 0-based rank, or null. */
  firstInRange(r: ScoreRange): [ZNode, number] | null {
    if (!this.inRange(r)) return null;
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && !scoreGteMin(f.score, r)) {
        traversed += x.span[i];
        x = f;
      }
    }
    const n = x.next[0];
    if (n === null || !scoreLteMax(n.score, r)) return null;
    return [n, traversed];
  }

  /** Last node in range and its 0-based rank, or null. */
  lastInRange(r: ScoreRange): [ZNode, number] | null {
    if (!this.inRange(r)) return null;
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && scoreLteMax(f.score, r)) {
        traversed += x.span[i];
        x = f;
      }
    }
    if (x === this.header || !scoreGteMin(x.score, r)) return null;
    return [x, traversed - 1];
  }

  // ---- lex ranges ----

  private inLexRange(r: LexRange): boolean {
    const cmp = cmpLex(r.min, r.max);
    if (cmp > 0 || (cmp === 0 && (r.minex || r.maxex))) return false;
    if (this.tail === null || !lexGteMin(this.tail.member, r)) return false;
    const first = this.header.next[0];
    return first !== null && lexLteMax(first.member, r);
  }

  firstInLexRange(r: LexRange): [ZNode, number] | null {
    if (!this.inLexRange(r)) return null;
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && !lexGteMin(f.member, r)) {
        traversed += x.span[i];
        x = f;
      }
    }
    const n = x.next[0];
    if (n === null || !lexLteMax(n.member, r)) return null;
    return [n, traversed];
  }

  lastInLexRange(r: LexRange): [ZNode, number] | null {
    if (!this.inLexRange(r)) return null;
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && lexLteMax(f.member, r)) {
        traversed += x.span[i];
        x = f;
      }
    }
    if (x === this.header || !lexGteMin(x.member, r)) return null;
    return [x, traversed - 1];
  }

  // ---- range removals (Redis's zslDeleteRangeBy*) ----

  /** Whether removeRangeByScore would remove anything (without changing the set). */
  wouldRemoveByScore(r: ScoreRange): boolean {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && !scoreGteMin(f.score, r)) x = f;
    }
    const n = x.next[0];
    return n !== null && scoreLteMax(n.score, r);
  }

  /** Whether removeRangeByLex would remove anything (without changing the set). */
  wouldRemoveByLex(r: LexRange): boolean {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && !lexGteMin(f.member, r)) x = f;
    }
    const n = x.next[0];
    return n !== null && lexLteMax(n.member, r);
  }

  removeRangeByScore(r: ScoreRange): number {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && !scoreGteMin(f.score, r)) x = f;
      update[i] = x;
    }
    let n = x.next[0];
    let removed = 0;
    while (n !== null && scoreLteMax(n.score, r)) {
      const next = n.next[0];
      this.deleteNode(n);
      this.dict.delete(n.member);
      removed++;
      n = next;
    }
    return removed;
  }

  removeRangeByLex(r: LexRange): number {
    let x = this.header;
    for (let i = this.level - 1; i >= 0; i--) {
      let f: ZNode | null;
      while ((f = x.next[i]) !== null && !lexGteMin(f.member, r)) x = f;
      update[i] = x;
    }
    let n = x.next[0];
    let removed = 0;
    while (n !== null && lexLteMax(n.member, r)) {
      const next = n.next[0];
      this.deleteNode(n);
      this.dict.delete(n.member);
      removed++;
      n = next;
    }
    return removed;
  }

  /** Removes 0-based ranks start..end inclusive (already clamped). */
  removeRangeByRank(start: number, end: number): number {
    let x = this.header;
    let traversed = 0;
    for (let i = this.level - 1; i >= 0; i--) {
      while (x.next[i] !== null && traversed + x.span[i] < start + 1) {
        traversed += x.span[i];
        x = x.next[i]!;
      }
      update[i] = x;
    }
    traversed++;
    let n = x.next[0];
    let removed = 0;
    while (n !== null && traversed <= end + 1) {
      const next = n.next[0];
      this.deleteNode(n);
      this.dict.delete(n.member);
      removed++;
      traversed++;
      n = next;
    }
    return removed;
  }

  /** Checks the structure's invariants (tests). */
  check(): void {
    let count = 0;
    let prev: ZNode | null = null;
    for (let x = this.header.next[0]; x; x = x.next[0]) {
      if (x.backward !== prev) throw new Error('bad backward link');
      if (prev && !before(prev, x.score, x.member)) throw new Error('out of order');
      if (this.dict.get(x.member) !== x.score) throw new Error('dict mismatch');
      prev = x;
      count++;
    }
    if (count !== this.dict.size) throw new Error('size mismatch');
    if (this.tail !== prev) throw new Error('bad tail');
    for (let i = 0; i < this.size; i++) if (this.byRank(i) === null) throw new Error('rank lookup failed');
  }
}
