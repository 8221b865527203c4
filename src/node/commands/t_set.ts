// Set commands (Redis's t_set.c). A set is a JS Set of members (binary strings).
// An emptied set is removed from the keyspace, as Redis does.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import type { SetValue } from '../keyspace';
import { CommandError, Err } from '../errors';
import { globMatch } from '../glob';
import { parseBigInt, parsePositive, str, syntaxError } from './args';
import { cursorArg, cursorsFor, parseScanOptions } from './generic';
import { readValue } from './lookup';

const readSet = (c: Client, key: string) => readValue<SetValue>(c, key, 'set');

/** Members removed per propagated SREM, as Redis batches SPOP's effects. */
const SPOP_PROPAGATE_BATCH = 1024;

/** A uniformly random member (O(n) walk: a JS Set has no random access). */
function randomMember(set: Set<string>): string {
  let n = Math.floor(Math.random() * set.size);
  for (const m of set) if (n-- === 0) return m;
  throw new Error('randomMember on an empty set');
}

/** `count` distinct random members (count < size), by a partial Fisher-Yates shuffle. */
function sampleDistinct(set: Set<string>, count: number): string[] {
  const all = [...set];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (all.length - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  all.length = count;
  return all;
}

function sadd(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const cur = c.db.get<SetValue>(key, 'set');
  if (cur) {
    let missing = false;
    for (let i = 2; i < argv.length && !missing; i++) missing = !cur.value.has(str(argv[i]));
    if (!missing) return void c.out.int(0);
  }
  let sv = c.db.getForWrite<SetValue>(key, 'set');
  if (!sv) {
    sv = { type: 'set', value: new Set() };
    c.db.set(key, sv);
  }
  const set = sv.value;
  let added = 0;
  for (let i = 2; i < argv.length; i++) {
    const m = str(argv[i]);
    if (!set.has(m)) {
      set.add(m);
      added++;
    }
  }
  c.server.markDirty(added);
  c.out.int(added);
}

function srem(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const cur = c.db.get<SetValue>(key, 'set');
  let present = false;
  if (cur) for (let i = 2; i < argv.length && !present; i++) present = cur.value.has(str(argv[i]));
  if (!present) return void c.out.int(0);
  const set = c.db.getForWrite<SetValue>(key, 'set')!.value;
  let removed = 0;
  for (let i = 2; i < argv.length; i++) if (set.delete(str(argv[i]))) removed++;
  if (set.size === 0) c.db.delete(key);
  c.server.markDirty(removed);
  c.out.int(removed);
}

function smove(c: Client, argv: Buffer[]): void {
  const srcKey = str(argv[1]);
  const dstKey = str(argv[2]);
  const member = str(argv[3]);
  // as Redis: a missing source answers 0 before the destination's type is looked at
  const src = c.db.lookup(srcKey);
  if (!src) return void c.out.int(0);
  const dst = c.db.lookup(dstKey);
  if (src.type !== 'set' || (dst && dst.type !== 'set')) throw new CommandError(Err.wrongType);
  const srcSet = (src as SetValue).value;
  if (srcKey === dstKey) return void c.out.int(srcSet.has(member) ? 1 : 0);
  if (!srcSet.has(member)) return void c.out.int(0);
  const from = c.db.getForWrite<SetValue>(srcKey, 'set')!.value;
  from.delete(member);
  if (from.size === 0) c.db.delete(srcKey);
  c.server.markDirty();
  if (!dst || !(dst as SetValue).value.has(member)) {
    let to = c.db.getForWrite<SetValue>(dstKey, 'set');
    if (!to) {
      to = { type: 'set', value: new Set() };
      c.db.set(dstKey, to);
    }
    to.value.add(member);
    c.server.markDirty();
  }
  c.out.int(1);
}

function spop(c: Client, argv: Buffer[]): void {
  if (argv.length > 3) syntaxError();
  const hasCount = argv.length === 3;
  const count = hasCount ? parsePositive(argv[2], Err.mustBePositive) : 1;
  const key = str(argv[1]);
  const cur = c.db.get<SetValue>(key, 'set');
  if (!cur) return void (hasCount ? c.out.set(0) : c.out.null());
  if (count === 0) return void c.out.set(0);
  const set = c.db.getForWrite<SetValue>(key, 'set')!.value;
  let popped: string[];
  if (!hasCount) popped = [randomMember(set)];
  else if (count >= set.size) popped = [...set];
  else popped = sampleDistinct(set, count);
  for (const m of popped) set.delete(m);
  if (set.size === 0) c.db.delete(key);
  c.server.markDirty(popped.length);
  // the choice is random: replicas and the log get the removals it made
  const srem = Buffer.from('SREM');
  const argvs: Buffer[][] = [];
  for (let i = 0; i < popped.length; i += SPOP_PROPAGATE_BATCH) {
    const batch = popped.slice(i, i + SPOP_PROPAGATE_BATCH).map((m) => Buffer.from(m, 'latin1'));
    argvs.push([srem, argv[1], ...batch]);
  }
  c.server.rewritePropagation(...argvs);
  if (!hasCount) return void c.out.bulk(popped[0]);
  c.out.set(popped.length);
  for (const m of popped) c.out.bulk(m);
}

const LONG_MAX = 9223372036854775807n;

function srandmember(c: Client, argv: Buffer[]): void {
  if (argv.length > 3) syntaxError();
  if (argv.length === 2) {
    const sv = readSet(c, str(argv[1]));
    return void c.out.bulk(sv ? randomMember(sv.value) : null);
  }
  const n = parseBigInt(str(argv[2]));
  if (n === null) throw new CommandError(Err.notInteger);
  if (n < -LONG_MAX) throw new CommandError(Err.valueOutOfRange(String(-LONG_MAX), String(LONG_MAX)));
  const unique = n >= 0n;
  const count = Number(unique ? n : -n);
  const sv = readSet(c, str(argv[1]));
  if (!sv || count === 0) return void c.out.array(0);
  const set = sv.value;
  if (unique) {
    const out = count >= set.size ? [...set] : sampleDistinct(set, count);
    c.out.array(out.length);
    for (const m of out) c.out.bulk(m);
    return;
  }
  // negative count: members may repeat
  const all = [...set];
  c.out.array(count);
  for (let i = 0; i < count; i++) c.out.bulk(all[Math.floor(Math.random() * all.length)]);
}

type SetOp = 'inter' | 'union' | 'diff';

/** SINTER/SUNION/SDIFF and their STORE forms; keys are argv[first..]. */
function setOperation(c: Client, argv: Buffer[], first: number, op: SetOp, dst: string | null): void {
  const sets: (Set<string> | null)[] = [];
  for (let i = first; i < argv.length; i++) {
    const key = str(argv[i]);
    // every key is type-checked, even after a missing one
    const sv = dst === null ? readSet(c, key) : c.db.get<SetValue>(key, 'set');
    sets.push(sv ? sv.value : null);
  }
  const result = new Set<string>();
  if (op === 'inter') {
    if (sets.every((s) => s !== null)) {
      const sorted = (sets as Set<string>[]).slice().sort((a, b) => a.size - b.size);
      const [smallest, ...rest] = sorted;
      for (const m of smallest) if (rest.every((s) => s.has(m))) result.add(m);
    }
  } else if (op === 'union') {
    for (const s of sets) if (s) for (const m of s) result.add(m);
  } else if (sets[0]) {
    const others = sets.slice(1).filter((s): s is Set<string> => s !== null && s.size > 0);
    for (const m of sets[0]) if (!others.some((s) => s.has(m))) result.add(m);
  }
  if (dst === null) {
    c.out.set(result.size);
    for (const m of result) c.out.bulk(m);
    return;
  }
  if (result.size === 0) {
    if (c.db.delete(dst)) c.server.markDirty();
  } else {
    c.db.set(dst, { type: 'set', value: result });
    c.server.markDirty();
  }
  c.out.int(result.size);
}

function sscan(c: Client, argv: Buffer[]): void {
  const cursor = cursorArg(argv[2]);
  const set = readSet(c, str(argv[1]))?.value;
  if (!set) return void c.out.array(2).bulk('0').array(0);
  const { pattern, count } = parseScanOptions(argv, 3, false);
  const [next, members] = cursorsFor(set).scan(set, cursor, count);
  const out = pattern === null ? members : members.filter((m) => globMatch(pattern, m));
  c.out.array(2).bulk(String(next)).bulks(out);
}

const key1: [number, number, number] = [1, 1, 1];
const allKeys: [number, number, number] = [1, -1, 1];

export const setCommands: CommandDef[] = [
  { name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: key1, group: 'set', handler: sadd },
  { name: 'srem', arity: -3, flags: ['write', 'fast'], keys: key1, group: 'set', handler: srem },
  {
    name: 'smembers',
    arity: 2,
    flags: ['readonly'],
    keys: key1,
    group: 'set',
    handler: (c, argv) => {
      const set = readSet(c, str(argv[1]))?.value;
      c.out.set(set?.size ?? 0);
      if (set) for (const m of set) c.out.bulk(m);
    },
  },
  {
    name: 'sismember',
    arity: 3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'set',
    handler: (c, argv) => c.out.int(readSet(c, str(argv[1]))?.value.has(str(argv[2])) ? 1 : 0),
  },
  {
    name: 'smismember',
    arity: -3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'set',
    handler: (c, argv) => {
      const set = readSet(c, str(argv[1]))?.value;
      c.out.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) c.out.int(set?.has(str(argv[i])) ? 1 : 0);
    },
  },
  {
    name: 'scard',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'set',
    handler: (c, argv) => c.out.int(readSet(c, str(argv[1]))?.value.size ?? 0),
  },
  { name: 'spop', arity: -2, flags: ['write', 'fast'], keys: key1, group: 'set', handler: spop },
  { name: 'srandmember', arity: -2, flags: ['readonly'], keys: key1, group: 'set', handler: srandmember },
  {
    name: 'sinter',
    arity: -2,
    flags: ['readonly'],
    keys: allKeys,
    group: 'set',
    handler: (c, argv) => setOperation(c, argv, 1, 'inter', null),
  },
  {
    name: 'sunion',
    arity: -2,
    flags: ['readonly'],
    keys: allKeys,
    group: 'set',
    handler: (c, argv) => setOperation(c, argv, 1, 'union', null),
  },
  {
    name: 'sdiff',
    arity: -2,
    flags: ['readonly'],
    keys: allKeys,
    group: 'set',
    handler: (c, argv) => setOperation(c, argv, 1, 'diff', null),
  },
  {
    name: 'sinterstore',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: allKeys,
    group: 'set',
    handler: (c, argv) => setOperation(c, argv, 2, 'inter', str(argv[1])),
  },
  {
    name: 'sunionstore',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: allKeys,
    group: 'set',
    handler: (c, argv) => setOperation(c, argv, 2, 'union', str(argv[1])),
  },
  {
    name: 'sdiffstore',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: allKeys,
    group: 'set',
    handler: (c, argv) => setOperation(c, argv, 2, 'diff', str(argv[1])),
  },
  { name: 'smove', arity: 4, flags: ['write', 'fast'], keys: [1, 2, 1], group: 'set', handler: smove },
  { name: 'sscan', arity: -3, flags: ['readonly'], keys: key1, group: 'set', handler: sscan },
];
