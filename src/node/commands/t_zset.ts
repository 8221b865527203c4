// Sorted set commands (Redis 7.0's t_zset.c). A sorted set is a ZSet (../zset): a skip list with spans plus a
// Map member -> score. An emptied sorted set is removed from the keyspace, as Redis does. Replies, argument
// checks and their order follow t_zset.c; scores are written as "%.17g" (RESP3: doubles).

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import type { SetValue, Value } from '../keyspace';
import { CommandError, Err } from '../errors';
import { globMatch } from '../glob';
import { lower, parseBigInt, str, syntaxError } from './args';
import { cursorArg, cursorsFor, parseScanOptions } from './generic';
import { readValue } from './lookup';
import { parseTimeoutSeconds } from '../blocking';
import { mpopKeys, parseMpop } from './t_list';
import {
  LEX_MAX,
  LEX_MIN,
  ZSet,
  formatScore,
  parseRangeScore,
  parseScore,
  type LexBound,
  type LexRange,
  type ScoreRange,
  type ZNode,
  type ZSetValue,
} from '../zset';
import { COMPACT_MAX_ENTRIES, COMPACT_MAX_VALUE, lexGteMin, lexLteMax, scoreGteMin, scoreLteMax } from '../zset/skiplist';
import '../zset/codec';

const ZErr = {
  nan: 'ERR resulting score is not a number (NaN)',
  nxxx: 'ERR XX and NX options at the same time are not compatible',
  gtltnx: 'ERR GT, LT, and/or NX options at the same time are not compatible',
  incrPair: 'ERR INCR option supports a single increment-element pair',
  notFloatRange: 'ERR min or max is not a float',
  notLexRange: 'ERR min or max not valid string range item',
  limitRank: 'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
  withscoresLex: 'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
  weight: 'ERR weight value is not a float',
  atLeastOneKey: (cmd: string) => `ERR at least 1 input key is needed for '${cmd}' command`,
  limitNegative: "ERR LIMIT can't be negative",
  outOfRange: 'ERR value is out of range',
};

const LONG_MAX = 9223372036854775807n;

const readZ = (c: Client, key: string) => readValue<ZSetValue>(c, key, 'zset');

/** A 64-bit integer argument (getLongFromObjectOrReply). */
function parseLong(b: Buffer): number {
  const n = parseBigInt(str(b));
  if (n === null) throw new CommandError(Err.notInteger);
  return Number(n);
}

function replyScore(c: Client, d: number): void {
  if (c.out.proto === 3) c.out.raw(',' + formatScore(d) + '\r\n');
  else c.out.bulk(formatScore(d));
}

/** Members, with their scores when `scores` is given: flat pairs in RESP2, [member, score] arrays in RESP3. */
function replyMembers(c: Client, members: readonly string[], scores: readonly number[] | null): void {
  const n = members.length;
  if (scores === null) {
    c.out.array(n);
    for (let i = 0; i < n; i++) c.out.bulk(members[i]);
    return;
  }
  const nested = c.out.proto === 3;
  c.out.array(nested ? n : 2 * n);
  for (let i = 0; i < n; i++) {
    if (nested) c.out.array(2);
    c.out.bulk(members[i]);
    replyScore(c, scores[i]);
  }
}

/** The sorted set at key for a change (marks the key modified). */
function zsetForWrite(c: Client, key: string): ZSet | undefined {
  return c.db.getForWrite<ZSetValue>(key, 'zset')?.value;
}

/** Stores a computed sorted set at dst (deleting dst when it is empty) and replies its size. */
function storeResult(c: Client, dst: string, z: ZSet): void {
  if (z.size > 0) {
    const v: ZSetValue = { type: 'zset', value: z };
    c.db.set(dst, v);
    c.server.markDirty();
  } else if (c.db.delete(dst)) c.server.markDirty();
  c.out.int(z.size);
}

/** Builds a ZSet from unordered member -> score pairs. */
function zsetFromEntries(entries: [string, number][]): ZSet {
  entries.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return ZSet.fromSorted(
    entries.map((e) => e[0]),
    entries.map((e) => e[1]),
  );
}

// ---- ZADD / ZINCRBY ----

function zaddGeneric(c: Client, argv: Buffer[], incrCommand: boolean): void {
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrCommand;
  let idx = 2;
  for (; idx < argv.length; idx++) {
    const o = lower(argv[idx]);
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'ch') ch = true;
    else if (o === 'incr') incr = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else break;
  }
  const elements = argv.length - idx;
  if (elements % 2 !== 0 || elements === 0) syntaxError();
  const n = elements / 2;
  if (nx && xx) throw new CommandError(ZErr.nxxx);
  if ((gt && nx) || (lt && nx) || (gt && lt)) throw new CommandError(ZErr.gtltnx);
  if (incr && n > 1) throw new CommandError(ZErr.incrPair);
  const scores: number[] = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    const s = parseScore(argv[idx + 2 * j]);
    if (s === null) throw new CommandError(Err.notFloat);
    scores[j] = s;
  }
  const key = str(argv[1]);
  const cur = c.db.get<ZSetValue>(key, 'zset')?.value;
  if (!cur && xx) return void (incr ? c.out.null() : c.out.int(0));

  // first a dry run against the current set: a command that changes nothing does not touch the key
  // (no WATCH invalidation, no copy-on-write), as Redis signals the key only when something changed
  let changes = false;
  let processed = 0;
  let lastScore = 0;
  for (let j = 0; j < n; j++) {
    const member = str(argv[idx + 2 * j + 1]);
    const old = cur?.score(member);
    let score = scores[j];
    if (old !== undefined) {
      if (nx) continue;
      if (incr) {
        score += old;
        if (Number.isNaN(score)) throw new CommandError(ZErr.nan);
      }
      if ((lt && score >= old) || (gt && score <= old)) continue;
      processed++;
      lastScore = score;
      if (score !== old) changes = true;
    } else if (!xx) {
      processed++;
      lastScore = score;
      changes = true;
    }
  }
  if (!changes) return void (incr ? (processed ? replyScore(c, lastScore) : c.out.null()) : c.out.int(0));

  let z = zsetForWrite(c, key);
  if (!z) {
    z = ZSet.create(n, argv[idx + 1].length);
    const v: ZSetValue = { type: 'zset', value: z };
    c.db.set(key, v);
  }
  let added = 0;
  let updated = 0;
  processed = 0;
  for (let j = 0; j < n; j++) {
    const member = str(argv[idx + 2 * j + 1]);
    const old = z.score(member);
    let score = scores[j];
    if (old !== undefined) {
      if (nx) continue;
      if (incr) score += old;
      if ((lt && score >= old) || (gt && score <= old)) continue;
      processed++;
      lastScore = score;
      if (score !== old) {
        z.updateScore(member, score);
        updated++;
      }
    } else if (!xx) {
      z.insert(member, score);
      processed++;
      lastScore = score;
      added++;
    }
  }
  c.server.markDirty(added + updated);
  if (incr) {
    if (processed) replyScore(c, lastScore);
    else c.out.null();
  } else c.out.int(ch ? added + updated : added);
}

function zrem(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const cur = c.db.get<ZSetValue>(key, 'zset')?.value;
  let present = false;
  if (cur) for (let i = 2; i < argv.length && !present; i++) present = cur.score(str(argv[i])) !== undefined;
  if (!present) return void c.out.int(0);
  const z = zsetForWrite(c, key)!;
  let removed = 0;
  for (let i = 2; i < argv.length; i++) if (z.delete(str(argv[i]))) removed++;
  if (z.size === 0) c.db.delete(key);
  c.server.markDirty(removed);
  c.out.int(removed);
}

// ---- ranges ----

function parseScoreRange(minArg: Buffer, maxArg: Buffer): ScoreRange {
  const end = (b: Buffer): [number, boolean] => {
    const s = str(b);
    const ex = s.charCodeAt(0) === 40; // '('
    const v = parseRangeScore(ex ? s.slice(1) : s);
    if (v === null) throw new CommandError(ZErr.notFloatRange);
    return [v, ex];
  };
  const [min, minex] = end(minArg);
  const [max, maxex] = end(maxArg);
  return { min, max, minex, maxex };
}

function parseLexRange(minArg: Buffer, maxArg: Buffer): LexRange {
  const item = (b: Buffer): [LexBound, boolean] => {
    const c0 = b.length > 0 ? b[0] : 0;
    const endsHere = b.length === 1 || b[1] === 0; // C string: "+" followed by NUL counts as "+"
    switch (c0) {
      case 43: // '+'
        if (!endsHere) break;
        return [LEX_MAX, true];
      case 45: // '-'
        if (!endsHere) break;
        return [LEX_MIN, true];
      case 40: // '('
        return [b.toString('latin1', 1), true];
      case 91: // '['
        return [b.toString('latin1', 1), false];
    }
    throw new CommandError(ZErr.notLexRange);
  };
  const [min, minex] = item(minArg);
  const [max, maxex] = item(maxArg);
  return { min, max, minex, maxex };
}

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

interface RangeResult {
  members: string[];
  scores: number[];
}

function rangeByRank(z: ZSet, start: number, end: number, reverse: boolean): RangeResult {
  const out: RangeResult = { members: [], scores: [] };
  const llen = z.size;
  if (start < 0) start = llen + start;
  if (end < 0) end = llen + end;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return out;
  if (end >= llen) end = llen - 1;
  let n = end - start + 1;
  let x: ZNode | null = z.byRank(reverse ? llen - 1 - start : start);
  while (x !== null && n-- > 0) {
    out.members.push(x.member);
    out.scores.push(x.score);
    x = reverse ? x.backward : x.next[0];
  }
  return out;
}

/** Walks from a range's first (or, reversed, last) node: skip `offset`, then take up to `limit` while `inRange`. */
function walkRange(
  z: ZSet,
  start: [ZNode, number] | null,
  offset: number,
  limit: number,
  reverse: boolean,
  inRange: (x: ZNode) => boolean,
): RangeResult {
  const out: RangeResult = { members: [], scores: [] };
  if (offset > 0 && offset >= z.size) return out;
  if (start === null || offset < 0) return out; // Redis walks a negative offset off the end
  let x: ZNode | null = offset === 0 ? start[0] : z.byRank(reverse ? start[1] - offset : start[1] + offset);
  while (x !== null && limit-- !== 0) {
    if (!inRange(x)) break;
    out.members.push(x.member);
    out.scores.push(x.score);
    x = reverse ? x.backward : x.next[0];
  }
  return out;
}

/**
 * ZRANGE and its variants (Redis's zrangeGenericCommand). `argStart` is the source key's index; `dst` the
 * destination key of ZRANGESTORE.
 */
function zrangeGeneric(c: Client, argv: Buffer[], argStart: number, dst: string | null, rangeType: RangeType, direction: Direction): void {
  let minIdx = argStart + 1;
  let maxIdx = argStart + 2;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const o = lower(argv[j]);
    if (dst === null && o === 'withscores') withScores = true;
    else if (o === 'limit' && left >= 2) {
      offset = parseLong(argv[j + 1]);
      limit = parseLong(argv[j + 2]);
      j += 2;
    } else if (direction === 'auto' && o === 'rev') direction = 'reverse';
    else if (rangeType === 'auto' && o === 'bylex') rangeType = 'lex';
    else if (rangeType === 'auto' && o === 'byscore') rangeType = 'score';
    else syntaxError();
  }
  if (direction === 'auto') direction = 'forward';
  if (rangeType === 'auto') rangeType = 'rank';
  if (limit !== -1 && rangeType === 'rank') throw new CommandError(ZErr.limitRank);
  if (withScores && rangeType === 'lex') throw new CommandError(ZErr.withscoresLex);
  const reverse = direction === 'reverse';
  if (reverse && rangeType !== 'rank') [minIdx, maxIdx] = [maxIdx, minIdx];

  let start = 0;
  let end = 0;
  let range: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (rangeType === 'rank') {
    start = parseLong(argv[minIdx]);
    end = parseLong(argv[maxIdx]);
  } else if (rangeType === 'score') range = parseScoreRange(argv[minIdx], argv[maxIdx]);
  else lex = parseLexRange(argv[minIdx], argv[maxIdx]);

  const z = readZ(c, str(argv[argStart]))?.value;
  let result: RangeResult;
  if (!z) result = { members: [], scores: [] };
  else if (range !== null) {
    const r = range;
    const from = reverse ? z.lastInRange(r) : z.firstInRange(r);
    const inRange = reverse ? (x: ZNode) => scoreGteMin(x.score, r) : (x: ZNode) => scoreLteMax(x.score, r);
    result = walkRange(z, from, offset, limit, reverse, inRange);
  } else if (lex !== null) {
    const r = lex;
    const from = reverse ? z.lastInLexRange(r) : z.firstInLexRange(r);
    const inRange = reverse ? (x: ZNode) => lexGteMin(x.member, r) : (x: ZNode) => lexLteMax(x.member, r);
    result = walkRange(z, from, offset, limit, reverse, inRange);
  } else result = rangeByRank(z, start, end, reverse);

  if (dst !== null) {
    const { members, scores } = result;
    // Redis adds the results one by one to a new set that starts compact (a listpack) unless a rank range says
    // it is too long: a -0 added before it grows out of that form becomes 0
    let compact = rangeType !== 'rank' || members.length <= COMPACT_MAX_ENTRIES;
    for (let i = 0; i < members.length; i++) {
      if (compact && (i + 1 > COMPACT_MAX_ENTRIES || members[i].length > COMPACT_MAX_VALUE)) compact = false;
      if (compact && scores[i] === 0) scores[i] = 0;
    }
    if (reverse) {
      members.reverse();
      scores.reverse();
    }
    // a lex walk over members of different scores may come out of order: sort it then
    let ordered = true;
    for (let i = 1; i < members.length && ordered; i++)
      ordered = scores[i - 1] < scores[i] || (scores[i - 1] === scores[i] && members[i - 1] < members[i]);
    const z = ordered ? ZSet.fromSorted(members, scores) : zsetFromEntries(members.map((m, i): [string, number] => [m, scores[i]]));
    return storeResult(c, dst, z);
  }
  replyMembers(c, result.members, withScores ? result.scores : null);
}

function zcount(c: Client, argv: Buffer[]): void {
  const range = parseScoreRange(argv[2], argv[3]);
  const z = readZ(c, str(argv[1]))?.value;
  if (!z) return void c.out.int(0);
  const first = z.firstInRange(range);
  if (!first) return void c.out.int(0);
  const last = z.lastInRange(range);
  c.out.int(last ? last[1] - first[1] + 1 : z.size - first[1]);
}

function zlexcount(c: Client, argv: Buffer[]): void {
  const range = parseLexRange(argv[2], argv[3]);
  const z = readZ(c, str(argv[1]))?.value;
  if (!z) return void c.out.int(0);
  const first = z.firstInLexRange(range);
  if (!first) return void c.out.int(0);
  const last = z.lastInLexRange(range);
  c.out.int(last ? last[1] - first[1] + 1 : z.size - first[1]);
}

function zremrange(c: Client, argv: Buffer[], type: 'rank' | 'score' | 'lex'): void {
  let start = 0;
  let end = 0;
  let range: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (type === 'rank') {
    start = parseLong(argv[2]);
    end = parseLong(argv[3]);
  } else if (type === 'score') range = parseScoreRange(argv[2], argv[3]);
  else lex = parseLexRange(argv[2], argv[3]);
  const key = str(argv[1]);
  const cur = c.db.get<ZSetValue>(key, 'zset')?.value;
  if (!cur) return void c.out.int(0);
  if (type === 'rank') {
    const llen = cur.size;
    if (start < 0) start = llen + start;
    if (end < 0) end = llen + end;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return void c.out.int(0);
    if (end >= llen) end = llen - 1;
  } else if (range !== null ? !cur.wouldRemoveByScore(range) : !cur.wouldRemoveByLex(lex!)) return void c.out.int(0);
  const z = zsetForWrite(c, key)!;
  const removed = type === 'rank' ? z.removeRangeByRank(start, end) : range !== null ? z.removeRangeByScore(range) : z.removeRangeByLex(lex!);
  if (z.size === 0) c.db.delete(key);
  c.server.markDirty(removed);
  c.out.int(removed);
}

// ---- pops, random members ----

function zpop(c: Client, argv: Buffer[], max: boolean): void {
  if (argv.length > 3) syntaxError();
  const hasCount = argv.length === 3;
  let count = 1;
  if (hasCount) {
    const n = parseBigInt(str(argv[2]));
    if (n === null || n < 0n) throw new CommandError(Err.mustBePositive);
    count = Number(n);
  }
  const key = str(argv[1]);
  const cur = c.db.get<ZSetValue>(key, 'zset');
  if (!cur || count === 0) return void c.out.array(0);
  const z = zsetForWrite(c, key)!;
  const n = Math.min(count, z.size);
  const members: string[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = (max ? z.last() : z.first())!;
    members.push(x.member);
    scores.push(x.score);
    z.delete(x.member);
  }
  if (z.size === 0) c.db.delete(key);
  c.server.markDirty(n);
  if (hasCount) return replyMembers(c, members, scores);
  // one element: a flat [member, score] in both protocols
  c.out.array(2).bulk(members[0]);
  replyScore(c, scores[0]);
}

function zrandmember(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  if (argv.length === 2) {
    const z = readZ(c, key)?.value;
    if (!z) return void c.out.null();
    return void c.out.bulk(z.byRank(Math.floor(Math.random() * z.size))!.member);
  }
  const l = parseBigInt(str(argv[2]));
  if (l === null) throw new CommandError(Err.notInteger);
  if (l < -LONG_MAX) throw new CommandError(Err.valueOutOfRange(String(-LONG_MAX), String(LONG_MAX)));
  if (argv.length > 4 || (argv.length === 4 && lower(argv[3]) !== 'withscores')) syntaxError();
  const withScores = argv.length === 4;
  if (withScores && (l < -LONG_MAX / 2n || l > LONG_MAX / 2n)) throw new CommandError(ZErr.outOfRange);
  const z = readZ(c, key)?.value;
  if (!z || l === 0n) return void c.out.array(0);
  const size = z.size;
  const members: string[] = [];
  const scores: number[] = [];
  const take = (x: ZNode) => {
    members.push(x.member);
    scores.push(x.score);
  };
  if (l < 0n) {
    // repeats allowed
    const count = Number(-l);
    for (let i = 0; i < count; i++) take(z.byRank(Math.floor(Math.random() * size))!);
  } else if (l >= BigInt(size)) {
    for (let x = z.first(); x; x = x.next[0]) take(x);
  } else {
    const count = Number(l);
    if (count * 3 > size) {
      // most of the set: shuffle the ranks partially
      const ranks = Array.from({ length: size }, (_, i) => i);
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(Math.random() * (size - i));
        [ranks[i], ranks[j]] = [ranks[j], ranks[i]];
      }
      for (let i = 0; i < count; i++) take(z.byRank(ranks[i])!);
    } else {
      const picked = new Set<number>();
      while (picked.size < count) picked.add(Math.floor(Math.random() * size));
      for (const r of picked) take(z.byRank(r)!);
    }
  }
  replyMembers(c, members, withScores ? scores : null);
}

// ---- ZUNION / ZINTER / ZDIFF (and STORE), ZINTERCARD ----

type Aggregate = 'sum' | 'min' | 'max';
type SetOp = 'union' | 'inter' | 'diff';

interface Source {
  value: Value | undefined;
  weight: number;
  size: number;
}

function srcScore(src: Source, member: string): number | undefined {
  const v = src.value;
  if (!v) return undefined;
  if (v.type === 'zset') return (v as ZSetValue).value.score(member);
  return (v as SetValue).value.has(member) ? 1 : undefined;
}

function* srcEntries(src: Source): Generator<[string, number]> {
  const v = src.value;
  if (!v) return;
  if (v.type === 'zset') {
    for (let x = (v as ZSetValue).value.first(); x; x = x.next[0]) yield [x.member, x.score];
  } else for (const m of (v as SetValue).value) yield [m, 1];
}

function aggregate(target: number, val: number, agg: Aggregate): number {
  if (agg === 'sum') {
    const t = target + val;
    return Number.isNaN(t) ? 0 : t; // +inf + -inf is 0 by Redis's convention
  }
  if (agg === 'min') return val < target ? val : target;
  return val > target ? val : target;
}

/** Redis's zunionInterDiffGenericCommand. */
function zsetOp(c: Client, argv: Buffer[], name: string, numkeysIdx: number, op: SetOp, dst: string | null, cardOnly = false): void {
  const setnum = parseLong(argv[numkeysIdx]);
  if (setnum < 1) throw new CommandError(ZErr.atLeastOneKey(name));
  if (setnum > argv.length - (numkeysIdx + 1)) syntaxError();
  const srcs: Source[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const key = str(argv[j]);
    const v = c.db.lookup(key);
    if (dst === null) {
      // lookupKeyRead counts hits and misses; the STORE forms look up for write, which does not
      if (v) c.server.stats.keyspaceHits++;
      else c.server.stats.keyspaceMisses++;
    }
    if (v && v.type !== 'zset' && v.type !== 'set') throw new CommandError(Err.wrongType);
    const size = !v ? 0 : v.type === 'zset' ? (v as ZSetValue).value.size : (v as SetValue).value.size;
    srcs.push({ value: v, weight: 1, size });
  }
  let agg: Aggregate = 'sum';
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const o = lower(argv[j]);
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && o === 'weights') {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = parseScore(argv[j]);
        if (w === null) throw new CommandError(ZErr.weight);
        srcs[i].weight = w;
      }
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && o === 'aggregate') {
      const a = lower(argv[j + 1]);
      if (a !== 'sum' && a !== 'min' && a !== 'max') syntaxError();
      agg = a;
      j += 2;
    } else if (remaining >= 1 && dst === null && !cardOnly && o === 'withscores') {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && o === 'limit') {
      const n = parseBigInt(str(argv[j + 1]));
      if (n === null || n < 0n) throw new CommandError(ZErr.limitNegative);
      limit = Number(n);
      j += 2;
    } else syntaxError();
  }
  // smallest first (a stable sort, as glibc's qsort here): the order sums are made in, as Redis
  if (op !== 'diff') srcs.sort((a, b) => a.size - b.size);

  const result = new Map<string, number>();
  if (op === 'inter') {
    if (srcs[0].size > 0) {
      let card = 0;
      for (const [member, s0] of srcEntries(srcs[0])) {
        let score = srcs[0].weight * s0;
        if (Number.isNaN(score)) score = 0;
        let k = 1;
        for (; k < setnum; k++) {
          const v = srcScore(srcs[k], member);
          if (v === undefined) break;
          score = aggregate(score, v * srcs[k].weight, agg);
        }
        if (k === setnum) {
          if (cardOnly) {
            card++;
            if (limit && card >= limit) break;
          } else result.set(member, score);
        }
      }
      if (cardOnly) return void c.out.int(card);
    } else if (cardOnly) return void c.out.int(0);
  } else if (op === 'union') {
    for (const src of srcs) {
      if (src.size === 0) continue;
      for (const [member, s] of srcEntries(src)) {
        let score = src.weight * s;
        if (Number.isNaN(score)) score = 0;
        const old = result.get(member);
        result.set(member, old === undefined ? score : aggregate(old, score, agg));
      }
    }
  } else if (srcs[0].size > 0) {
    for (const [member, s] of srcEntries(srcs[0])) {
      let found = false;
      for (let k = 1; k < setnum && !found; k++) found = srcScore(srcs[k], member) !== undefined;
      if (!found) result.set(member, s);
    }
  }

  const entries = [...result];
  if (dst !== null) return storeResult(c, dst, zsetFromEntries(entries));
  entries.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  replyMembers(
    c,
    entries.map((e) => e[0]),
    withScores ? entries.map((e) => e[1]) : null,
  );
}

/** Keys of ZUNIONSTORE & co (dst, then numkeys sources) or ZUNION & co (numkeys sources). */
function numkeysKeys(withDst: boolean) {
  return (argv: Buffer[]): number[] => {
    const idx = withDst ? 2 : 1;
    if (argv.length <= idx) return [];
    const n = parseBigInt(str(argv[idx]));
    if (n === null || n < 1n || n > BigInt(argv.length - idx - 1)) return [];
    const keys = withDst ? [1] : [];
    for (let i = 0; i < Number(n); i++) keys.push(idx + 1 + i);
    return keys;
  };
}

function zscan(c: Client, argv: Buffer[]): void {
  const cursor = cursorArg(argv[2]);
  const z = readZ(c, str(argv[1]))?.value;
  if (!z) return void c.out.array(2).bulk('0').array(0);
  const { pattern, count } = parseScanOptions(argv, 3, false);
  let next = 0;
  let members: string[];
  if (z.compact) {
    // a listpack-sized set comes back whole, in order, as Redis does
    members = [];
    for (let x = z.first(); x; x = x.next[0]) members.push(x.member);
  } else [next, members] = cursorsFor(z.dict).scan(z.dict, cursor, count);
  const out = pattern === null ? members : members.filter((m) => globMatch(pattern, m));
  c.out.array(2).bulk(String(next)).array(out.length * 2);
  for (const m of out) c.out.bulk(m).bulk(formatScore(z.score(m)!));
}

const key1: [number, number, number] = [1, 1, 1];
const cat = ['sortedset'];
const G = 'sorted-set';

// ---- BZPOPMIN / BZPOPMAX: served at once, else the client waits (../blocking.ts) ----

function bzpopServe(c: Client, keys: string[], max: boolean, propagate: (argv: Buffer[]) => void): boolean {
  for (const key of keys) {
    const v = c.db.lookup(key);
    if (!v || v.type !== 'zset' || (v as ZSetValue).value.size === 0) continue;
    const z = zsetForWrite(c, key)!;
    const x = (max ? z.last() : z.first())!;
    const member = x.member;
    const score = x.score;
    z.delete(member);
    if (z.size === 0) c.db.delete(key);
    c.server.markDirty();
    c.out.array(3).bulk(key).bulk(member);
    replyScore(c, score);
    propagate([Buffer.from(max ? 'ZPOPMAX' : 'ZPOPMIN'), Buffer.from(key, 'latin1')]);
    return true;
  }
  return false;
}

function bzpop(c: Client, argv: Buffer[], max: boolean): void | Promise<void> {
  const timeout = parseTimeoutSeconds(argv[argv.length - 1]);
  const keys = argv.slice(1, -1).map(str);
  for (const k of keys) c.db.get<ZSetValue>(k, 'zset');
  const sync: Buffer[][] = [];
  if (bzpopServe(c, keys, max, (v) => sync.push(v))) return void c.server.rewritePropagation(...sync);
  if (c.inExec) return void c.out.nullArray();
  const db = c.db;
  return c.server.blocking.block(c, keys, timeout, () => bzpopServe(c, keys, max, (v) => c.server.propagate(db.id, v)), () => c.out.nullArray());
}

// ---- ZMPOP / BZMPOP ----

function zmpopServe(c: Client, keys: string[], min: boolean, count: number, propagate: (argv: Buffer[]) => void): boolean {
  for (const key of keys) {
    const v = c.db.lookup(key);
    if (!v || v.type !== 'zset' || (v as ZSetValue).value.size === 0) continue;
    const z = zsetForWrite(c, key)!;
    const n = Math.min(count, z.size);
    c.out.array(2).bulk(key).array(n);
    for (let i = 0; i < n; i++) {
      const x = (min ? z.first() : z.last())!;
      const member = x.member;
      const score = x.score;
      z.delete(member);
      c.out.array(2).bulk(member);
      replyScore(c, score);
    }
    if (z.size === 0) c.db.delete(key);
    c.server.markDirty(n);
    propagate([Buffer.from(min ? 'ZPOPMIN' : 'ZPOPMAX'), Buffer.from(key, 'latin1'), Buffer.from(String(n))]);
    return true;
  }
  return false;
}

function zmpop(c: Client, argv: Buffer[], blocking: boolean): void | Promise<void> {
  const timeout = blocking ? parseTimeoutSeconds(argv[1]) : 0;
  const { keys, first, count } = parseMpop(argv, blocking ? 2 : 1, ['min', 'max']);
  for (const k of keys) c.db.get<ZSetValue>(k, 'zset');
  const sync: Buffer[][] = [];
  if (zmpopServe(c, keys, first, count, (v) => sync.push(v))) return void c.server.rewritePropagation(...sync);
  if (!blocking || c.inExec) return void c.out.nullArray();
  const db = c.db;
  return c.server.blocking.block(c, keys, timeout, () => zmpopServe(c, keys, first, count, (v) => c.server.propagate(db.id, v)), () => c.out.nullArray());
}

export const zsetCommands: CommandDef[] = [
  { name: 'zadd', arity: -4, flags: ['write', 'denyoom', 'fast'], keys: key1, group: G, categories: cat, handler: (c, a) => zaddGeneric(c, a, false) },
  { name: 'zincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1, group: G, categories: cat, handler: (c, a) => zaddGeneric(c, a, true) },
  { name: 'zrem', arity: -3, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: zrem },
  { name: 'zremrangebyscore', arity: 4, flags: ['write'], keys: key1, group: G, categories: cat, handler: (c, a) => zremrange(c, a, 'score') },
  { name: 'zremrangebyrank', arity: 4, flags: ['write'], keys: key1, group: G, categories: cat, handler: (c, a) => zremrange(c, a, 'rank') },
  { name: 'zremrangebylex', arity: 4, flags: ['write'], keys: key1, group: G, categories: cat, handler: (c, a) => zremrange(c, a, 'lex') },
  {
    name: 'zunionstore',
    arity: -4,
    flags: ['write', 'denyoom'],
    keys: key1,
    getKeys: numkeysKeys(true),
    group: G,
    categories: cat,
    handler: (c, a) => zsetOp(c, a, 'zunionstore', 2, 'union', str(a[1])),
  },
  {
    name: 'zinterstore',
    arity: -4,
    flags: ['write', 'denyoom'],
    keys: key1,
    getKeys: numkeysKeys(true),
    group: G,
    categories: cat,
    handler: (c, a) => zsetOp(c, a, 'zinterstore', 2, 'inter', str(a[1])),
  },
  {
    name: 'zdiffstore',
    arity: -4,
    flags: ['write', 'denyoom'],
    keys: key1,
    getKeys: numkeysKeys(true),
    group: G,
    categories: cat,
    handler: (c, a) => zsetOp(c, a, 'zdiffstore', 2, 'diff', str(a[1])),
  },
  { name: 'zunion', arity: -3, flags: ['readonly'], getKeys: numkeysKeys(false), group: G, categories: cat, handler: (c, a) => zsetOp(c, a, 'zunion', 1, 'union', null) },
  { name: 'zinter', arity: -3, flags: ['readonly'], getKeys: numkeysKeys(false), group: G, categories: cat, handler: (c, a) => zsetOp(c, a, 'zinter', 1, 'inter', null) },
  { name: 'zdiff', arity: -3, flags: ['readonly'], getKeys: numkeysKeys(false), group: G, categories: cat, handler: (c, a) => zsetOp(c, a, 'zdiff', 1, 'diff', null) },
  {
    name: 'zintercard',
    arity: -3,
    flags: ['readonly'],
    getKeys: numkeysKeys(false),
    group: G,
    categories: cat,
    handler: (c, a) => zsetOp(c, a, 'zintercard', 1, 'inter', null, true),
  },
  { name: 'zrange', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => zrangeGeneric(c, a, 1, null, 'auto', 'auto') },
  {
    name: 'zrangestore',
    arity: -5,
    flags: ['write', 'denyoom'],
    keys: [1, 2, 1],
    group: G,
    categories: cat,
    handler: (c, a) => zrangeGeneric(c, a, 2, str(a[1]), 'auto', 'auto'),
  },
  { name: 'zrangebyscore', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => zrangeGeneric(c, a, 1, null, 'score', 'forward') },
  { name: 'zrevrangebyscore', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => zrangeGeneric(c, a, 1, null, 'score', 'reverse') },
  { name: 'zrangebylex', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => zrangeGeneric(c, a, 1, null, 'lex', 'forward') },
  { name: 'zrevrangebylex', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => zrangeGeneric(c, a, 1, null, 'lex', 'reverse') },
  { name: 'zcount', arity: 4, flags: ['readonly', 'fast'], keys: key1, group: G, categories: cat, handler: zcount },
  { name: 'zlexcount', arity: 4, flags: ['readonly', 'fast'], keys: key1, group: G, categories: cat, handler: zlexcount },
  { name: 'zrevrange', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => zrangeGeneric(c, a, 1, null, 'rank', 'reverse') },
  {
    name: 'zcard',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: G,
    categories: cat,
    handler: (c, a) => c.out.int(readZ(c, str(a[1]))?.value.size ?? 0),
  },
  {
    name: 'zscore',
    arity: 3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: G,
    categories: cat,
    handler: (c, a) => {
      const s = readZ(c, str(a[1]))?.value.score(str(a[2]));
      if (s === undefined) c.out.null();
      else replyScore(c, s);
    },
  },
  {
    name: 'zmscore',
    arity: -3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: G,
    categories: cat,
    handler: (c, a) => {
      const z = readZ(c, str(a[1]))?.value;
      c.out.array(a.length - 2);
      for (let i = 2; i < a.length; i++) {
        const s = z?.score(str(a[i]));
        if (s === undefined) c.out.null();
        else replyScore(c, s);
      }
    },
  },
  ...(['zrank', 'zrevrank'] as const).map(
    (name): CommandDef => ({
      name,
      arity: 3,
      flags: ['readonly', 'fast'],
      keys: key1,
      group: G,
      categories: cat,
      handler: (c, a) => {
        const z = readZ(c, str(a[1]))?.value;
        const r = z ? z.rank(str(a[2])) : -1;
        if (r < 0) return void c.out.null();
        c.out.int(name === 'zrank' ? r : z!.size - 1 - r);
      },
    }),
  ),
  { name: 'zscan', arity: -3, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: zscan },
  { name: 'zpopmin', arity: -2, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: (c, a) => zpop(c, a, false) },
  { name: 'zpopmax', arity: -2, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: (c, a) => zpop(c, a, true) },
  { name: 'zrandmember', arity: -2, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: zrandmember },
  { name: 'zmpop', arity: -4, flags: ['write'], getKeys: mpopKeys(1), group: G, categories: cat, handler: (c, a) => zmpop(c, a, false) },
  { name: 'bzmpop', arity: -5, flags: ['write', 'blocking'], getKeys: mpopKeys(2), group: G, categories: cat, handler: (c, a) => zmpop(c, a, true) },
  { name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'fast', 'blocking'], keys: [1, -2, 1], group: G, categories: cat, handler: (c, a) => bzpop(c, a, false) },
  { name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'fast', 'blocking'], keys: [1, -2, 1], group: G, categories: cat, handler: (c, a) => bzpop(c, a, true) },
];
