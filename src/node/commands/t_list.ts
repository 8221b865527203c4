// List commands (Redis's t_list.c). A list is a ListDeque: a growable ring buffer of Buffers, so
// pushes and pops at either end are O(1) and LINDEX/LSET/LRANGE index in O(1) per element.
// An emptied list is removed from the keyspace, as Redis does.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import type { ListValue } from '../keyspace';
import { CommandError, Err } from '../errors';
import { lower, own, parseBigInt, parseInteger, parsePositive, str, syntaxError } from './args';
import { readValue } from './lookup';
import { parseTimeoutSeconds } from '../blocking';

const MIN_CAPACITY = 8;

/** A double-ended queue of Buffers over a power-of-two ring buffer. */
export class ListDeque {
  private buf: (Buffer | undefined)[];
  private mask: number;
  private head = 0;
  private len = 0;

  constructor(capacity = MIN_CAPACITY) {
    const cap = ListDeque.capacityFor(capacity);
    this.buf = new Array<Buffer | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  static from(items: readonly Buffer[]): ListDeque {
    const d = new ListDeque(items.length);
    for (let i = 0; i < items.length; i++) d.buf[i] = items[i];
    d.len = items.length;
    return d;
  }

  private static capacityFor(n: number): number {
    let cap = MIN_CAPACITY;
    while (cap < n) cap *= 2;
    return cap;
  }

  get length(): number {
    return this.len;
  }

  /** Element at 0 <= i < length. */
  at(i: number): Buffer {
    return this.buf[(this.head + i) & this.mask]!;
  }

  setAt(i: number, v: Buffer): void {
    this.buf[(this.head + i) & this.mask] = v;
  }

  pushBack(v: Buffer): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.buf[(this.head + this.len) & this.mask] = v;
    this.len++;
  }

  pushFront(v: Buffer): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = v;
    this.len++;
  }

  popFront(): Buffer | undefined {
    if (this.len === 0) return undefined;
    const v = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.maybeShrink();
    return v;
  }

  popBack(): Buffer | undefined {
    if (this.len === 0) return undefined;
    const i = (this.head + this.len - 1) & this.mask;
    const v = this.buf[i];
    this.buf[i] = undefined;
    this.len--;
    this.maybeShrink();
    return v;
  }

  /** Inserts v so that it ends up at index i (0 <= i <= length), shifting the shorter side. */
  insert(i: number, v: Buffer): void {
    if (this.len === this.buf.length) this.resize(this.buf.length * 2);
    if (i < this.len >>> 1) {
      this.head = (this.head - 1) & this.mask;
      this.len++;
      for (let k = 0; k < i; k++) this.setAt(k, this.at(k + 1));
    } else {
      this.len++;
      for (let k = this.len - 1; k > i; k--) this.setAt(k, this.at(k - 1));
    }
    this.setAt(i, v);
  }

  /** Drops `front` elements from the head and `back` from the tail. */
  trim(front: number, back: number): void {
    if (front + back >= this.len) return this.reset([]);
    for (let k = 0; k < front; k++) this.buf[(this.head + k) & this.mask] = undefined;
    this.head = (this.head + front) & this.mask;
    this.len -= front;
    for (let k = 0; k < back; k++) this.buf[(this.head + this.len - 1 - k) & this.mask] = undefined;
    this.len -= back;
    this.maybeShrink();
  }

  /** Replaces the whole content. */
  reset(items: readonly Buffer[]): void {
    const cap = ListDeque.capacityFor(items.length);
    this.buf = new Array<Buffer | undefined>(cap).fill(undefined);
    for (let i = 0; i < items.length; i++) this.buf[i] = items[i];
    this.mask = cap - 1;
    this.head = 0;
    this.len = items.length;
  }

  toArray(): Buffer[] {
    const out = new Array<Buffer>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.at(i);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<Buffer> {
    for (let i = 0; i < this.len; i++) yield this.at(i);
  }

  private resize(cap: number): void {
    const next = new Array<Buffer | undefined>(cap).fill(undefined);
    for (let i = 0; i < this.len; i++) next[i] = this.at(i);
    this.buf = next;
    this.mask = cap - 1;
    this.head = 0;
  }

  private maybeShrink(): void {
    const cap = this.buf.length;
    if (cap > MIN_CAPACITY && this.len <= cap >>> 2) this.resize(Math.max(MIN_CAPACITY, ListDeque.capacityFor(this.len * 2)));
  }
}

/** The list at key for a write command that will change it (marks the key modified). */
const listForWrite = (c: Client, key: string) => c.db.getForWrite<ListValue>(key, 'list');

/** Removes the key when its list became empty. */
function dropIfEmpty(c: Client, key: string, lv: ListValue): void {
  if (lv.value.length === 0) c.db.delete(key);
}

function push(c: Client, argv: Buffer[], front: boolean, onlyIfExists: boolean): void {
  const key = str(argv[1]);
  let lv = listForWrite(c, key);
  if (!lv) {
    if (onlyIfExists) return void c.out.int(0);
    lv = { type: 'list', value: new ListDeque(argv.length - 2) };
    c.db.set(key, lv);
  }
  const list = lv.value;
  for (let i = 2; i < argv.length; i++) {
    if (front) list.pushFront(own(argv[i]));
    else list.pushBack(own(argv[i]));
  }
  c.server.markDirty(argv.length - 2);
  c.out.int(list.length);
}

function pop(c: Client, argv: Buffer[], front: boolean): void {
  if (argv.length > 3) throw new CommandError(Err.wrongArity(front ? 'lpop' : 'rpop'));
  const hasCount = argv.length === 3;
  const count = hasCount ? parsePositive(argv[2], Err.mustBePositive) : 1;
  const key = str(argv[1]);
  if (!c.db.get<ListValue>(key, 'list')) return void (hasCount ? c.out.nullArray() : c.out.null());
  if (hasCount && count === 0) return void c.out.array(0);
  const lv = listForWrite(c, key)!;
  const list = lv.value;
  const n = Math.min(count, list.length);
  if (hasCount) c.out.array(n);
  for (let i = 0; i < n; i++) c.out.bulk(front ? list.popFront()! : list.popBack()!);
  dropIfEmpty(c, key, lv);
  c.server.markDirty(n);
}

/** Redis's LRANGE/LTRIM normalisation: [start, end] within the list, or null when empty. */
function normalizeRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

function lrange(c: Client, argv: Buffer[]): void {
  const start = parseInteger(argv[2]);
  const end = parseInteger(argv[3]);
  const lv = readValue<ListValue>(c, str(argv[1]), 'list');
  if (!lv) return void c.out.array(0);
  const list = lv.value;
  const r = normalizeRange(start, end, list.length);
  if (!r) return void c.out.array(0);
  c.out.array(r[1] - r[0] + 1);
  for (let i = r[0]; i <= r[1]; i++) c.out.bulk(list.at(i));
}

function ltrim(c: Client, argv: Buffer[]): void {
  const start = parseInteger(argv[2]);
  const end = parseInteger(argv[3]);
  const key = str(argv[1]);
  // as Redis, the key counts as modified even when nothing is trimmed
  const lv = listForWrite(c, key);
  if (!lv) return void c.out.ok();
  const len = lv.value.length;
  const r = normalizeRange(start, end, len);
  const front = r ? r[0] : len;
  const back = r ? len - r[1] - 1 : 0;
  lv.value.trim(front, back);
  dropIfEmpty(c, key, lv);
  if (front + back > 0) c.server.markDirty(front + back);
  c.out.ok();
}

function lindex(c: Client, argv: Buffer[]): void {
  const lv = readValue<ListValue>(c, str(argv[1]), 'list');
  if (!lv) return void c.out.null();
  let index = parseInteger(argv[2]);
  const list = lv.value;
  if (index < 0) index = list.length + index;
  c.out.bulk(index >= 0 && index < list.length ? list.at(index) : null);
}

function lset(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const cur = c.db.get<ListValue>(key, 'list');
  if (!cur) throw new CommandError(Err.noSuchKey);
  let index = parseInteger(argv[2]);
  if (index < 0) index = cur.value.length + index;
  if (index < 0 || index >= cur.value.length) throw new CommandError(Err.indexOutOfRange);
  listForWrite(c, key)!.value.setAt(index, own(argv[3]));
  c.server.markDirty();
  c.out.ok();
}

function lrem(c: Client, argv: Buffer[]): void {
  const count = parseInteger(argv[2]);
  const key = str(argv[1]);
  const elem = argv[3];
  const cur = c.db.get<ListValue>(key, 'list');
  if (!cur) return void c.out.int(0);
  const list = cur.value;
  const len = list.length;
  const limit = count === 0 ? Infinity : Math.abs(count);
  const drop = new Uint8Array(len);
  let removed = 0;
  for (let k = 0; k < len && removed < limit; k++) {
    const i = count < 0 ? len - 1 - k : k;
    if (list.at(i).equals(elem)) {
      drop[i] = 1;
      removed++;
    }
  }
  if (removed > 0) {
    const keep: Buffer[] = [];
    for (let i = 0; i < len; i++) if (!drop[i]) keep.push(list.at(i));
    const lv = listForWrite(c, key)!;
    lv.value.reset(keep);
    dropIfEmpty(c, key, lv);
    c.server.markDirty(removed);
  }
  c.out.int(removed);
}

function linsert(c: Client, argv: Buffer[]): void {
  const where = lower(argv[2]);
  if (where !== 'before' && where !== 'after') syntaxError();
  const key = str(argv[1]);
  const cur = c.db.get<ListValue>(key, 'list');
  if (!cur) return void c.out.int(0);
  const list = cur.value;
  const pivot = argv[3];
  let at = -1;
  for (let i = 0; i < list.length; i++) {
    if (list.at(i).equals(pivot)) {
      at = i;
      break;
    }
  }
  if (at < 0) return void c.out.int(-1);
  const lv = listForWrite(c, key)!;
  lv.value.insert(where === 'before' ? at : at + 1, own(argv[4]));
  c.server.markDirty();
  c.out.int(lv.value.length);
}

const LONG_MIN = -9223372036854775808n;

function lpos(c: Client, argv: Buffer[]): void {
  const elem = argv[2];
  let rank = 1;
  let fromTail = false;
  let count = -1; // -1: no COUNT option
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = lower(argv[j]);
    const more = j + 1 < argv.length;
    if (opt === 'rank' && more) {
      const r = parseBigInt(str(argv[++j]));
      if (r === null) throw new CommandError(Err.notInteger);
      if (r === 0n) throw new CommandError(Err.lposRankZero);
      // Redis negates LONG_MIN into itself, which then matches the first hit from the tail
      if (r === LONG_MIN) {
        fromTail = true;
        rank = 1;
      } else {
        fromTail = r < 0n;
        rank = Number(r < 0n ? -r : r);
      }
    } else if (opt === 'count' && more) {
      count = parsePositive(argv[++j], Err.lposCountNegative);
    } else if (opt === 'maxlen' && more) {
      maxlen = parsePositive(argv[++j], Err.lposMaxlenNegative);
    } else syntaxError();
  }
  const lv = readValue<ListValue>(c, str(argv[1]), 'list');
  if (!lv) return void (count !== -1 ? c.out.array(0) : c.out.null());
  const list = lv.value;
  const len = list.length;
  const found: number[] = [];
  let matches = 0;
  for (let k = 0; k < len && (maxlen === 0 || k < maxlen); k++) {
    const i = fromTail ? len - 1 - k : k;
    if (!list.at(i).equals(elem)) continue;
    matches++;
    if (matches < rank) continue;
    found.push(i);
    if (count === -1 || (count > 0 && found.length >= count)) break;
  }
  if (count !== -1) {
    c.out.array(found.length);
    for (const i of found) c.out.int(i);
  } else if (found.length > 0) c.out.int(found[0]);
  else c.out.null();
}

// ---- LMOVE and the blocking pops (BLPOP BRPOP BLMOVE): served at once, else the client waits (../blocking.ts) ----

const B = (s: string) => Buffer.from(s, 'latin1');

/** A list to pop from for a waiter: a non-empty list, or undefined (a key of another type just does not serve). */
function poppable(c: Client, key: string): boolean {
  const v = c.db.lookup(key);
  return v !== undefined && v.type === 'list' && (v as ListValue).value.length > 0;
}

/** Pops one element of the first non-empty list among keys; replies [key, element]; false when none. */
function bpopServe(c: Client, keys: string[], front: boolean, propagate: (argv: Buffer[]) => void): boolean {
  for (const key of keys) {
    if (!poppable(c, key)) continue;
    const lv = listForWrite(c, key)!;
    const v = front ? lv.value.popFront()! : lv.value.popBack()!;
    dropIfEmpty(c, key, lv);
    c.server.markDirty();
    c.out.array(2).bulk(key).bulk(v);
    propagate([B(front ? 'LPOP' : 'RPOP'), B(key)]);
    return true;
  }
  return false;
}

function bpop(c: Client, argv: Buffer[], front: boolean): void | Promise<void> {
  const timeout = parseTimeoutSeconds(argv[argv.length - 1]);
  const keys = argv.slice(1, -1).map(str);
  for (const k of keys) c.db.get<ListValue>(k, 'list'); // WRONGTYPE before anything
  const sync: Buffer[][] = [];
  const served = bpopServe(c, keys, front, (v) => sync.push(v));
  if (served) return void c.server.rewritePropagation(...sync);
  if (c.inExec) return void c.out.nullArray();
  const db = c.db;
  return c.server.blocking.block(c, keys, timeout, () => bpopServe(c, keys, front, (v) => c.server.propagate(db.id, v)), () => c.out.nullArray());
}

function parseWhere(b: Buffer): boolean {
  const w = lower(b);
  if (w === 'left') return true;
  if (w === 'right') return false;
  syntaxError();
}

/** LMOVE's work: pops from src (which must hold a non-empty list) and pushes to dst; replies the element. */
function moveOne(c: Client, src: string, dst: string, fromLeft: boolean, toLeft: boolean): Buffer {
  const dv = c.db.get<ListValue>(dst, 'list'); // WRONGTYPE before popping
  void dv;
  const sl = listForWrite(c, src)!;
  const v = fromLeft ? sl.value.popFront()! : sl.value.popBack()!;
  dropIfEmpty(c, src, sl);
  let dl = listForWrite(c, dst);
  if (!dl) {
    dl = { type: 'list', value: new ListDeque() };
    c.db.set(dst, dl);
  }
  if (toLeft) dl.value.pushFront(v);
  else dl.value.pushBack(v);
  c.server.markDirty();
  c.out.bulk(v);
  return v;
}

function lmove(c: Client, argv: Buffer[]): void {
  const fromLeft = parseWhere(argv[3]);
  const toLeft = parseWhere(argv[4]);
  const src = str(argv[1]);
  const sl = c.db.get<ListValue>(src, 'list');
  if (!sl || sl.value.length === 0) return void c.out.null();
  moveOne(c, src, str(argv[2]), fromLeft, toLeft);
}

function blmove(c: Client, argv: Buffer[]): void | Promise<void> {
  const fromLeft = parseWhere(argv[3]);
  const toLeft = parseWhere(argv[4]);
  const timeout = parseTimeoutSeconds(argv[5]);
  const src = str(argv[1]);
  const dst = str(argv[2]);
  const prop = [B('LMOVE'), argv[1], argv[2], argv[3], argv[4]];
  const sl = c.db.get<ListValue>(src, 'list');
  if (sl && sl.value.length > 0) {
    moveOne(c, src, dst, fromLeft, toLeft);
    return void c.server.rewritePropagation(prop);
  }
  if (c.inExec) return void c.out.null();
  const db = c.db;
  return c.server.blocking.block(
    c,
    [src],
    timeout,
    () => {
      if (!poppable(c, src)) return false;
      const d = c.db.lookup(dst);
      if (d !== undefined && d.type !== 'list') throw new CommandError(Err.wrongType);
      moveOne(c, src, dst, fromLeft, toLeft);
      c.server.propagate(db.id, prop);
      return true;
    },
    () => c.out.nullArray(),
  );
}

// ---- LMPOP / BLMPOP ----

/** Keys of LMPOP-style commands: numkeys at argv[idx], the keys after it. */
export function mpopKeys(idx: number) {
  return (argv: Buffer[]): number[] => {
    const n = parseBigInt(argv.length > idx ? str(argv[idx]) : '');
    if (n === null || n < 1n || n > BigInt(argv.length - idx - 1)) return [];
    return Array.from({ length: Number(n) }, (_, i) => idx + 1 + i);
  };
}

/** getRangeLongFromObjectOrReply(1, LONG_MAX, msg) */
function rangeLong(b: Buffer, msg: string): number {
  const n = parseBigInt(str(b));
  if (n === null || n < 1n) throw new CommandError(msg);
  return Number(n);
}

/** Parses `numkeys key... LEFT|RIGHT [COUNT n]` from argv[idx]. */
export function parseMpop(argv: Buffer[], idx: number, ends: [string, string]): { keys: string[]; first: boolean; count: number } {
  const numkeys = rangeLong(argv[idx], 'ERR numkeys should be greater than 0');
  const whereIdx = idx + numkeys + 1;
  if (whereIdx >= argv.length) syntaxError();
  const w = lower(argv[whereIdx]);
  if (w !== ends[0] && w !== ends[1]) syntaxError();
  let count = -1;
  for (let j = whereIdx + 1; j < argv.length; j++) {
    if (count === -1 && lower(argv[j]) === 'count' && j + 1 < argv.length) count = rangeLong(argv[++j], 'ERR count should be greater than 0');
    else syntaxError();
  }
  return { keys: argv.slice(idx + 1, idx + 1 + numkeys).map(str), first: w === ends[0], count: count === -1 ? 1 : count };
}

function mpopServe(c: Client, keys: string[], front: boolean, count: number, propagate: (argv: Buffer[]) => void): boolean {
  for (const key of keys) {
    if (!poppable(c, key)) continue;
    const lv = listForWrite(c, key)!;
    const n = Math.min(count, lv.value.length);
    c.out.array(2).bulk(key).array(n);
    for (let i = 0; i < n; i++) c.out.bulk(front ? lv.value.popFront()! : lv.value.popBack()!);
    dropIfEmpty(c, key, lv);
    c.server.markDirty(n);
    propagate([B(front ? 'LPOP' : 'RPOP'), B(key), B(String(n))]);
    return true;
  }
  return false;
}

function lmpop(c: Client, argv: Buffer[], blocking: boolean): void | Promise<void> {
  const timeout = blocking ? parseTimeoutSeconds(argv[1]) : 0;
  const { keys, first, count } = parseMpop(argv, blocking ? 2 : 1, ['left', 'right']);
  for (const k of keys) c.db.get<ListValue>(k, 'list');
  const sync: Buffer[][] = [];
  if (mpopServe(c, keys, first, count, (v) => sync.push(v))) return void c.server.rewritePropagation(...sync);
  if (!blocking || c.inExec) return void c.out.nullArray();
  const db = c.db;
  return c.server.blocking.block(c, keys, timeout, () => mpopServe(c, keys, first, count, (v) => c.server.propagate(db.id, v)), () => c.out.nullArray());
}

export const listCommands: CommandDef[] = [
  {
    name: 'lpush',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'list',
    handler: (c, argv) => push(c, argv, true, false),
  },
  {
    name: 'rpush',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'list',
    handler: (c, argv) => push(c, argv, false, false),
  },
  {
    name: 'lpushx',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'list',
    handler: (c, argv) => push(c, argv, true, true),
  },
  {
    name: 'rpushx',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'list',
    handler: (c, argv) => push(c, argv, false, true),
  },
  { name: 'lpop', arity: -2, flags: ['write', 'fast'], keys: [1, 1, 1], group: 'list', handler: (c, argv) => pop(c, argv, true) },
  { name: 'rpop', arity: -2, flags: ['write', 'fast'], keys: [1, 1, 1], group: 'list', handler: (c, argv) => pop(c, argv, false) },
  { name: 'lrange', arity: 4, flags: ['readonly'], keys: [1, 1, 1], group: 'list', handler: lrange },
  {
    name: 'llen',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    group: 'list',
    handler: (c, argv) => void c.out.int(readValue<ListValue>(c, str(argv[1]), 'list')?.value.length ?? 0),
  },
  { name: 'lindex', arity: 3, flags: ['readonly'], keys: [1, 1, 1], group: 'list', handler: lindex },
  { name: 'lset', arity: 4, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'list', handler: lset },
  { name: 'lrem', arity: 4, flags: ['write'], keys: [1, 1, 1], group: 'list', handler: lrem },
  { name: 'ltrim', arity: 4, flags: ['write'], keys: [1, 1, 1], group: 'list', handler: ltrim },
  { name: 'linsert', arity: 5, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'list', handler: linsert },
  { name: 'lpos', arity: -3, flags: ['readonly'], keys: [1, 1, 1], group: 'list', handler: lpos },
  { name: 'lmove', arity: 5, flags: ['write', 'denyoom'], keys: [1, 2, 1], group: 'list', handler: lmove },
  { name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], keys: [1, -2, 1], group: 'list', handler: (c, argv) => bpop(c, argv, true) },
  { name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], keys: [1, -2, 1], group: 'list', handler: (c, argv) => bpop(c, argv, false) },
  { name: 'lmpop', arity: -4, flags: ['write'], getKeys: mpopKeys(1), group: 'list', handler: (c, argv) => lmpop(c, argv, false) },
  { name: 'blmpop', arity: -5, flags: ['write', 'blocking'], getKeys: mpopKeys(2), group: 'list', handler: (c, argv) => lmpop(c, argv, true) },
  { name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], keys: [1, 2, 1], group: 'list', handler: blmove },
];
