// Keyspace commands that work on any value type (Redis's db.c / expire.c).

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import { CommandError, Err } from '../errors';
import { globMatch } from '../glob';
import { cursorsFor, parseCursor } from '../scan-cursor';
import { lower, parseInteger, str, syntaxError } from './args';

/** Parses [MATCH pattern] [COUNT n] [TYPE t] (TYPE only for SCAN) from argv[start]. */
export function parseScanOptions(argv: Buffer[], start: number, allowType: boolean) {
  let pattern: string | null = null;
  let count = 10;
  let type: string | null = null;
  for (let i = start; i < argv.length; i++) {
    const opt = lower(argv[i]);
    if (opt === 'match' && i + 1 < argv.length) pattern = str(argv[++i]);
    else if (opt === 'count' && i + 1 < argv.length) {
      // as Redis: any integer is parsed, then a count below 1 is a syntax error
      count = parseInteger(argv[++i]);
      if (count < 1) syntaxError();
    } else if (opt === 'type' && allowType && i + 1 < argv.length) type = str(argv[++i]);
    else syntaxError();
  }
  return { pattern: pattern === '*' ? null : pattern, count, type };
}

export { cursorsFor };

/**
 * Parses a SCAN cursor as Redis does (strtoul: an optional sign, negatives wrap, at most 2^64-1).
 * A cursor beyond what this server hands out maps to the last position: the scan ends at once.
 */
export function cursorArg(b: Buffer): number {
  const s = str(b);
  const cursor = parseCursor(s.startsWith('+') ? s.slice(1) : s);
  if (cursor !== null) return cursor;
  if (/^[+-]?\d+$/.test(s)) {
    const n = BigInt(s);
    if (n <= 18446744073709551615n && n >= -18446744073709551615n) return Number.MAX_SAFE_INTEGER;
  }
  throw new CommandError('ERR invalid cursor');
}

function scan(c: Client, argv: Buffer[]): void {
  const cursor = cursorArg(argv[1]);
  const { pattern, count, type } = parseScanOptions(argv, 2, true);
  const db = c.db;
  const [next, keys] = cursorsFor(db).scan(db.map, cursor, count);
  const out = keys.filter((k) => {
    const v = db.lookup(k);
    if (!v) return false;
    if (pattern !== null && !globMatch(pattern, k)) return false;
    return type === null || v.type.toLowerCase() === type.toLowerCase();
  });
  c.out.array(2).bulk(String(next)).bulks(out);
}

type ExpireUnit = { ms: number; absolute: boolean };

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;

function expireGeneric(c: Client, argv: Buffer[], name: string, unit: ExpireUnit): void {
  const key = str(argv[1]);
  // as Redis: the options are checked first, then the number
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  for (let i = 3; i < argv.length; i++) {
    const o = lower(argv[i]);
    if (o === 'nx') nx = true;
    else if (o === 'xx') xx = true;
    else if (o === 'gt') gt = true;
    else if (o === 'lt') lt = true;
    else throw new CommandError(`ERR Unsupported option ${str(argv[i])}`);
  }
  if (nx && (xx || gt || lt)) throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
  if (gt && lt) throw new CommandError('ERR GT and LT options at the same time are not compatible');
  parseInteger(argv[2]);
  // Redis's overflow checks, in exact 64-bit arithmetic
  let when = BigInt(str(argv[2]));
  if (unit.ms === 1000) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) throw new CommandError(Err.invalidExpire(name));
    when *= 1000n;
  }
  const base = unit.absolute ? 0n : BigInt(Date.now());
  if (when > LLONG_MAX - base) throw new CommandError(Err.invalidExpire(name));
  const at = Number(when + base);
  if (!c.db.exists(key)) return void c.out.int(0);
  const cur = c.db.expires.get(key);
  // a key without a TTL counts as an infinite TTL for GT/LT
  if (nx && cur !== undefined) return void c.out.int(0);
  if (xx && cur === undefined) return void c.out.int(0);
  if (gt && (cur === undefined || at <= cur)) return void c.out.int(0);
  if (lt && cur !== undefined && at >= cur) return void c.out.int(0);
  c.server.markDirty();
  if (at <= Date.now()) {
    c.db.delete(key);
    c.server.rewritePropagation([Buffer.from('DEL'), argv[1]]);
  } else {
    c.db.setExpire(key, at);
    c.server.rewritePropagation([Buffer.from('PEXPIREAT'), argv[1], Buffer.from(String(at))]);
  }
  c.out.int(1);
}

function ttlGeneric(c: Client, argv: Buffer[], seconds: boolean): void {
  const ms = c.db.pttl(str(argv[1]));
  if (ms < 0) return void c.out.int(ms);
  c.out.int(seconds ? Math.floor((ms + 500) / 1000) : ms);
}

function expireTime(c: Client, argv: Buffer[], seconds: boolean): void {
  const key = str(argv[1]);
  if (!c.db.exists(key)) return void c.out.int(-2);
  const at = c.db.expires.get(key);
  if (at === undefined) return void c.out.int(-1);
  c.out.int(seconds ? Math.floor(at / 1000) : at);
}

function rename(c: Client, argv: Buffer[], nx: boolean): void {
  const from = str(argv[1]);
  const to = str(argv[2]);
  const v = c.db.lookup(from);
  if (!v) throw new CommandError(Err.noSuchKey);
  if (from === to) return void (nx ? c.out.int(0) : c.out.ok());
  if (nx && c.db.exists(to)) return void c.out.int(0);
  const ttl = c.db.expires.get(from);
  c.db.delete(from);
  c.db.set(to, v);
  if (ttl !== undefined) c.db.setExpire(to, ttl);
  c.server.markDirty();
  if (nx) c.out.int(1);
  else c.out.ok();
}

function del(c: Client, argv: Buffer[]): void {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (c.db.delete(str(argv[i]))) n++;
  if (n > 0) c.server.markDirty(n);
  c.out.int(n);
}

const key1: [number, number, number] = [1, 1, 1];

export const genericCommands: CommandDef[] = [
  { name: 'del', arity: -2, flags: ['write'], keys: [1, -1, 1], group: 'generic', handler: del },
  { name: 'unlink', arity: -2, flags: ['write', 'fast'], keys: [1, -1, 1], group: 'generic', handler: del },
  {
    name: 'exists',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [1, -1, 1],
    group: 'generic',
    handler: (c, argv) => {
      let n = 0;
      for (let i = 1; i < argv.length; i++) if (c.db.exists(str(argv[i]))) n++;
      c.out.int(n);
    },
  },
  {
    name: 'touch',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [1, -1, 1],
    group: 'generic',
    handler: (c, argv) => {
      let n = 0;
      for (let i = 1; i < argv.length; i++) if (c.db.exists(str(argv[i]))) n++;
      c.out.int(n);
    },
  },
  {
    name: 'type',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => void c.out.simple(c.db.lookup(str(argv[1]))?.type ?? 'none'),
  },
  {
    name: 'keys',
    arity: 2,
    flags: ['readonly'],
    group: 'generic',
    categories: ['dangerous'],
    handler: (c, argv) => {
      const pattern = str(argv[1]);
      const out: string[] = [];
      const all = pattern === '*';
      for (const k of [...c.db.map.keys()]) {
        if ((all || globMatch(pattern, k)) && c.db.exists(k)) out.push(k);
      }
      c.out.bulks(out);
    },
  },
  { name: 'scan', arity: -2, flags: ['readonly'], group: 'generic', handler: scan },
  {
    name: 'randomkey',
    arity: 1,
    flags: ['readonly'],
    group: 'generic',
    handler: (c) => void c.out.bulk(c.db.randomKey()),
  },
  { name: 'rename', arity: 3, flags: ['write'], keys: [1, 2, 1], group: 'generic', handler: (c, argv) => rename(c, argv, false) },
  { name: 'renamenx', arity: 3, flags: ['write', 'fast'], keys: [1, 2, 1], group: 'generic', handler: (c, argv) => rename(c, argv, true) },
  {
    name: 'expire',
    arity: -3,
    flags: ['write', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => expireGeneric(c, argv, 'expire', { ms: 1000, absolute: false }),
  },
  {
    name: 'pexpire',
    arity: -3,
    flags: ['write', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => expireGeneric(c, argv, 'pexpire', { ms: 1, absolute: false }),
  },
  {
    name: 'expireat',
    arity: -3,
    flags: ['write', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => expireGeneric(c, argv, 'expireat', { ms: 1000, absolute: true }),
  },
  {
    name: 'pexpireat',
    arity: -3,
    flags: ['write', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => expireGeneric(c, argv, 'pexpireat', { ms: 1, absolute: true }),
  },
  { name: 'ttl', arity: 2, flags: ['readonly', 'fast'], keys: key1, group: 'generic', handler: (c, argv) => ttlGeneric(c, argv, true) },
  { name: 'pttl', arity: 2, flags: ['readonly', 'fast'], keys: key1, group: 'generic', handler: (c, argv) => ttlGeneric(c, argv, false) },
  {
    name: 'expiretime',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => expireTime(c, argv, true),
  },
  {
    name: 'pexpiretime',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => expireTime(c, argv, false),
  },
  {
    name: 'persist',
    arity: 2,
    flags: ['write', 'fast'],
    keys: key1,
    group: 'generic',
    handler: (c, argv) => {
      const key = str(argv[1]);
      if (!c.db.exists(key) || !c.db.persist(key)) return void c.out.int(0);
      c.server.markDirty();
      c.out.int(1);
    },
  },
];
