// Hash commands (Redis's t_hash.c). A hash is a Map from field (binary string) to value Buffer.
// An emptied hash is removed from the keyspace, as Redis does.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import type { HashValue } from '../keyspace';
import { CommandError, Err } from '../errors';
import { globMatch } from '../glob';
import { own, parseBigInt, str } from './args';
import { cursorArg, cursorsFor, parseScanOptions } from './generic';
import { readValue } from './lookup';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from './longdouble';

const readHash = (c: Client, key: string) => readValue<HashValue>(c, key, 'hash');

/** The hash at key for a change (marks the key modified), created empty when missing. */
function hashForWrite(c: Client, key: string): HashValue {
  let h = c.db.getForWrite<HashValue>(key, 'hash');
  if (!h) {
    h = { type: 'hash', value: new Map() };
    c.db.set(key, h);
  }
  return h;
}

function hset(c: Client, argv: Buffer[], name: 'hset' | 'hmset'): void {
  if (argv.length % 2 === 1) throw new CommandError(Err.wrongArity(name));
  const h = hashForWrite(c, str(argv[1])).value;
  let added = 0;
  for (let i = 2; i < argv.length; i += 2) {
    const field = str(argv[i]);
    if (!h.has(field)) added++;
    h.set(field, own(argv[i + 1]));
  }
  c.server.markDirty((argv.length - 2) / 2);
  if (name === 'hset') c.out.int(added);
  else c.out.ok();
}

function hsetnx(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const field = str(argv[2]);
  if (c.db.get<HashValue>(key, 'hash')?.value.has(field)) return void c.out.int(0);
  hashForWrite(c, key).value.set(field, own(argv[3]));
  c.server.markDirty();
  c.out.int(1);
}

function hdel(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const cur = c.db.get<HashValue>(key, 'hash');
  let present = false;
  if (cur) for (let i = 2; i < argv.length && !present; i++) present = cur.value.has(str(argv[i]));
  if (!present) return void c.out.int(0);
  const h = c.db.getForWrite<HashValue>(key, 'hash')!.value;
  let deleted = 0;
  for (let i = 2; i < argv.length; i++) if (h.delete(str(argv[i]))) deleted++;
  if (h.size === 0) c.db.delete(key);
  c.server.markDirty(deleted);
  c.out.int(deleted);
}

function hincrby(c: Client, argv: Buffer[]): void {
  const incr = parseBigInt(str(argv[3]));
  if (incr === null) throw new CommandError(Err.notInteger);
  const key = str(argv[1]);
  const field = str(argv[2]);
  const cur = c.db.get<HashValue>(key, 'hash')?.value.get(field);
  let old = 0n;
  if (cur !== undefined) {
    const parsed = parseBigInt(str(cur));
    if (parsed === null) throw new CommandError(Err.hashNotInteger);
    old = parsed;
  }
  const next = old + incr;
  if (next > 9223372036854775807n || next < -9223372036854775808n) throw new CommandError(Err.overflow);
  hashForWrite(c, key).value.set(field, Buffer.from(next.toString()));
  c.server.markDirty();
  c.out.int(next);
}

function hincrbyfloat(c: Client, argv: Buffer[]): void {
  // long double arithmetic and "%.17Lf" formatting, exactly as Redis (0.1 + 0.2 is "0.3")
  const incr = parseLongDouble(str(argv[3]));
  if (!incr) throw new CommandError(Err.notFloat);
  if (incr.inf) throw new CommandError(Err.notFiniteArg);
  const key = str(argv[1]);
  const field = str(argv[2]);
  const cur = c.db.get<HashValue>(key, 'hash')?.value.get(field);
  const old = cur === undefined ? { neg: false, m: 0n, e: 0 } : parseLongDouble(str(cur));
  if (!old) throw new CommandError(Err.hashNotFloat);
  const sum = addLongDouble(old, incr);
  if (sum.inf) throw new CommandError(Err.incrNotFinite);
  const text = Buffer.from(formatLongDoubleHuman(sum), 'latin1');
  hashForWrite(c, key).value.set(field, text);
  c.server.markDirty();
  // replicas get the result, not the increment, so rounding cannot drift
  c.server.rewritePropagation([Buffer.from('HSET'), argv[1], argv[2], text]);
  c.out.bulk(text);
}

function hgetall(c: Client, argv: Buffer[], fields: boolean, values: boolean): void {
  const h = readHash(c, str(argv[1]))?.value;
  if (fields && values) c.out.map(h?.size ?? 0);
  else c.out.array(h?.size ?? 0);
  if (!h) return;
  for (const [f, v] of h) {
    if (fields) c.out.bulk(f);
    if (values) c.out.bulk(v);
  }
}

function hscan(c: Client, argv: Buffer[]): void {
  const cursor = cursorArg(argv[2]);
  const h = readHash(c, str(argv[1]))?.value;
  if (!h) return void c.out.array(2).bulk('0').array(0);
  const { pattern, count } = parseScanOptions(argv, 3, false);
  const [next, fields] = cursorsFor(h).scan(h, cursor, count);
  const out = pattern === null ? fields : fields.filter((f) => globMatch(pattern, f));
  c.out.array(2).bulk(String(next)).array(out.length * 2);
  for (const f of out) c.out.bulk(f).bulk(h.get(f)!);
}

const key1: [number, number, number] = [1, 1, 1];

export const hashCommands: CommandDef[] = [
  {
    name: 'hset',
    arity: -4,
    flags: ['write', 'denyoom', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => hset(c, argv, 'hset'),
  },
  {
    name: 'hmset',
    arity: -4,
    flags: ['write', 'denyoom', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => hset(c, argv, 'hmset'),
  },
  { name: 'hsetnx', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1, group: 'hash', handler: hsetnx },
  {
    name: 'hget',
    arity: 3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => c.out.bulk(readHash(c, str(argv[1]))?.value.get(str(argv[2])) ?? null),
  },
  {
    name: 'hmget',
    arity: -3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => {
      const h = readHash(c, str(argv[1]))?.value;
      c.out.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) c.out.bulk(h?.get(str(argv[i])) ?? null);
    },
  },
  { name: 'hgetall', arity: 2, flags: ['readonly'], keys: key1, group: 'hash', handler: (c, argv) => hgetall(c, argv, true, true) },
  { name: 'hkeys', arity: 2, flags: ['readonly'], keys: key1, group: 'hash', handler: (c, argv) => hgetall(c, argv, true, false) },
  { name: 'hvals', arity: 2, flags: ['readonly'], keys: key1, group: 'hash', handler: (c, argv) => hgetall(c, argv, false, true) },
  { name: 'hdel', arity: -3, flags: ['write', 'fast'], keys: key1, group: 'hash', handler: hdel },
  {
    name: 'hlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => c.out.int(readHash(c, str(argv[1]))?.value.size ?? 0),
  },
  {
    name: 'hexists',
    arity: 3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => c.out.int(readHash(c, str(argv[1]))?.value.has(str(argv[2])) ? 1 : 0),
  },
  {
    name: 'hstrlen',
    arity: 3,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'hash',
    handler: (c, argv) => c.out.int(readHash(c, str(argv[1]))?.value.get(str(argv[2]))?.length ?? 0),
  },
  { name: 'hincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1, group: 'hash', handler: hincrby },
  { name: 'hincrbyfloat', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: key1, group: 'hash', handler: hincrbyfloat },
  { name: 'hscan', arity: -3, flags: ['readonly'], keys: key1, group: 'hash', handler: hscan },
];
