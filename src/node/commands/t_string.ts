// String commands (Redis's t_string.c). Values are Buffers; a write replaces the value.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import type { StringValue } from '../keyspace';
import { CommandError, Err } from '../errors';
import { lower, own, parseBigInt, parseInteger, str, syntaxError } from './args';
import { incrByFloatText } from './longdouble';
import { readValue } from './lookup';

const getString = (c: Client, key: string) => readValue<StringValue>(c, key, 'string')?.value;

function setString(c: Client, key: string, value: Buffer, keepTtl = false): void {
  c.db.set(key, { type: 'string', value }, keepTtl);
  c.server.markDirty();
}

function checkSize(c: Client, size: number): void {
  if (size > c.server.config.getInt('proto-max-bulk-len')) throw new CommandError(Err.stringTooLong);
}

interface ExtendedStringArgs {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  unit: 'ex' | 'px' | 'exat' | 'pxat' | null;
  expire: Buffer | null;
}

/**
 * The options of SET (from argv[3]) or GETEX (from argv[2]), as Redis's parseExtendedStringArgumentsOrReply:
 * a repeated option is fine (the last time wins), conflicting ones are a syntax error, and the time is
 * only checked afterwards (getExpireMs), so a syntax error anywhere wins over a bad number.
 */
function parseExtendedStringArgs(argv: Buffer[], forSet: boolean): ExtendedStringArgs {
  const a: ExtendedStringArgs = { nx: false, xx: false, get: false, keepTtl: false, persist: false, unit: null, expire: null };
  for (let i = forSet ? 3 : 2; i < argv.length; i++) {
    const opt = lower(argv[i]);
    const hasNext = i + 1 < argv.length;
    const otherTime = (u: string) => a.unit !== null && a.unit !== u;
    if (forSet && opt === 'nx' && !a.xx) a.nx = true;
    else if (forSet && opt === 'xx' && !a.nx) a.xx = true;
    else if (forSet && opt === 'get') a.get = true;
    else if (forSet && opt === 'keepttl' && a.unit === null) a.keepTtl = true;
    else if (!forSet && opt === 'persist' && a.unit === null) a.persist = true;
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && !a.keepTtl && !a.persist && !otherTime(opt) && hasNext) {
      a.unit = opt;
      a.expire = argv[++i];
    } else syntaxError();
  }
  return a;
}

const LLONG_MAX = 9223372036854775807n;

/** The absolute expiry time in ms for EX/PX/EXAT/PXAT, as Redis's getExpireMillisecondsOrReply. */
function getExpireMs(a: ExtendedStringArgs, command: string): number {
  parseInteger(a.expire!); // "value is not an integer or out of range" unless a 64-bit integer
  const n = BigInt(str(a.expire!));
  const seconds = a.unit === 'ex' || a.unit === 'exat';
  if (n <= 0n || (seconds && n > LLONG_MAX / 1000n)) throw new CommandError(Err.invalidExpire(command));
  let ms = seconds ? n * 1000n : n;
  if (a.unit === 'ex' || a.unit === 'px') ms += BigInt(Date.now());
  if (ms > LLONG_MAX) throw new CommandError(Err.invalidExpire(command));
  return Number(ms);
}

function setCommand(c: Client, argv: Buffer[]): void {
  if (argv.length === 3) {
    // plain SET key value: the common case, without option parsing
    setString(c, str(argv[1]), own(argv[2]));
    return void c.out.ok();
  }
  const key = str(argv[1]);
  const a = parseExtendedStringArgs(argv, true);
  const expireAt = a.unit !== null ? getExpireMs(a, 'set') : null;
  const old = a.get ? getString(c, key) : undefined;
  const exists = a.nx || a.xx ? c.db.exists(key) : false;
  if ((a.nx && exists) || (a.xx && !exists)) {
    if (a.get) c.out.bulk(old ?? null);
    else c.out.null();
    return;
  }
  setString(c, key, own(argv[2]), a.keepTtl);
  if (expireAt !== null) {
    c.db.setExpire(key, expireAt);
    if (a.unit !== 'pxat') {
      // as Redis: propagated as SET key value PXAT <ms>, so replicas and the log expire at the same instant
      c.server.rewritePropagation([Buffer.from('SET'), argv[1], argv[2], Buffer.from('PXAT'), Buffer.from(String(expireAt))]);
    }
  }
  if (a.get) c.out.bulk(old ?? null);
  else c.out.ok();
}

/** GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]: GET that also sets or clears the TTL. */
function getex(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const a = parseExtendedStringArgs(argv, false);
  // as Redis: a missing key answers null before the time is even checked; then WRONGTYPE; then the time
  const v = getString(c, key);
  if (v === undefined) return void c.out.null();
  const at = a.unit !== null ? getExpireMs(a, 'getex') : 0;
  c.out.bulk(v);
  if (a.unit !== null) {
    c.server.markDirty();
    if ((a.unit === 'exat' || a.unit === 'pxat') && at <= Date.now()) {
      c.db.delete(key);
      c.server.rewritePropagation([Buffer.from('DEL'), argv[1]]);
    } else {
      c.db.setExpire(key, at);
      c.server.rewritePropagation([Buffer.from('PEXPIREAT'), argv[1], Buffer.from(String(at))]);
    }
  } else if (a.persist && c.db.persist(key)) {
    c.server.markDirty();
    c.server.rewritePropagation([Buffer.from('PERSIST'), argv[1]]);
  }
}

function setWithExpire(c: Client, key: Buffer, amount: Buffer, value: Buffer, unit: 'ex' | 'px', name: string): void {
  const at = getExpireMs({ nx: false, xx: false, get: false, keepTtl: false, persist: false, unit, expire: amount }, name);
  setString(c, str(key), own(value));
  c.db.setExpire(str(key), at);
  c.server.rewritePropagation([Buffer.from('SET'), key, value, Buffer.from('PXAT'), Buffer.from(String(at))]);
  c.out.ok();
}

function incrBy(c: Client, key: string, delta: bigint): void {
  const cur = getString(c, key);
  let n = 0n;
  if (cur !== undefined) {
    const parsed = parseBigInt(cur.toString('latin1'));
    if (parsed === null) throw new CommandError(Err.notInteger);
    n = parsed;
  }
  const next = n + delta;
  if (next > 9223372036854775807n || next < -9223372036854775808n) throw new CommandError(Err.overflow);
  setString(c, key, Buffer.from(next.toString()), true);
  c.out.int(next);
}

function parseDelta(b: Buffer): bigint {
  const d = parseBigInt(str(b));
  if (d === null) throw new CommandError(Err.notInteger);
  return d;
}

/** Redis's GETRANGE index normalisation. */
function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0 && end < 0 && start > end) return null;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) return null;
  return [start, end];
}

const getrange = (c: Client, argv: Buffer[]) => {
  const start = parseInteger(argv[2]);
  const end = parseInteger(argv[3]);
  const v = getString(c, str(argv[1]));
  const r = v ? clampRange(start, end, v.length) : null;
  c.out.bulk(r ? v!.subarray(r[0], r[1] + 1) : Buffer.alloc(0));
};

export const stringCommands: CommandDef[] = [
  {
    name: 'get',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => c.out.bulk(getString(c, str(argv[1])) ?? null),
  },
  { name: 'set', arity: -3, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'string', handler: setCommand },
  { name: 'getex', arity: -2, flags: ['write', 'fast'], keys: [1, 1, 1], group: 'string', handler: getex },
  {
    name: 'setnx',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const key = str(argv[1]);
      if (c.db.exists(key)) return void c.out.int(0);
      setString(c, key, own(argv[2]));
      c.out.int(1);
    },
  },
  {
    name: 'setex',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => setWithExpire(c, argv[1], argv[2], argv[3], 'ex', 'setex'),
  },
  {
    name: 'psetex',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => setWithExpire(c, argv[1], argv[2], argv[3], 'px', 'psetex'),
  },
  {
    name: 'getset',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const key = str(argv[1]);
      const old = getString(c, key);
      setString(c, key, own(argv[2]));
      c.out.bulk(old ?? null);
    },
  },
  {
    name: 'getdel',
    arity: 2,
    flags: ['write', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const key = str(argv[1]);
      const old = getString(c, key);
      if (old !== undefined) {
        c.db.delete(key);
        c.server.markDirty();
        c.server.rewritePropagation([Buffer.from('DEL'), argv[1]]);
      }
      c.out.bulk(old ?? null);
    },
  },
  {
    name: 'mget',
    arity: -2,
    flags: ['readonly', 'fast'],
    keys: [1, -1, 1],
    group: 'string',
    handler: (c, argv) => {
      c.out.array(argv.length - 1);
      for (let i = 1; i < argv.length; i++) {
        const v = c.db.lookup(str(argv[i]));
        c.out.bulk(v && v.type === 'string' ? (v.value as Buffer) : null);
      }
    },
  },
  {
    name: 'mset',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [1, -1, 2],
    group: 'string',
    handler: (c, argv) => {
      if (argv.length % 2 === 0) throw new CommandError(Err.wrongArity('mset'));
      for (let i = 1; i < argv.length; i += 2) setString(c, str(argv[i]), own(argv[i + 1]));
      c.out.ok();
    },
  },
  {
    name: 'msetnx',
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [1, -1, 2],
    group: 'string',
    handler: (c, argv) => {
      if (argv.length % 2 === 0) throw new CommandError(Err.wrongArity('msetnx'));
      for (let i = 1; i < argv.length; i += 2) if (c.db.exists(str(argv[i]))) return void c.out.int(0);
      for (let i = 1; i < argv.length; i += 2) setString(c, str(argv[i]), own(argv[i + 1]));
      c.out.int(1);
    },
  },
  {
    name: 'incr',
    arity: 2,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => incrBy(c, str(argv[1]), 1n),
  },
  {
    name: 'decr',
    arity: 2,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => incrBy(c, str(argv[1]), -1n),
  },
  {
    name: 'incrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => incrBy(c, str(argv[1]), parseDelta(argv[2])),
  },
  {
    name: 'decrby',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const d = parseDelta(argv[2]);
      if (d === -9223372036854775808n) throw new CommandError('ERR decrement would overflow');
      incrBy(c, str(argv[1]), -d);
    },
  },
  {
    name: 'incrbyfloat',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const key = str(argv[1]);
      const cur = getString(c, key);
      // long double arithmetic and "%.17Lf" formatting, exactly as Redis (0.1 + 0.2 is "0.3")
      const result = incrByFloatText(cur === undefined ? null : cur.toString('latin1'), argv[2].toString('latin1'));
      if (result === 'invalid') throw new CommandError(Err.notFloat);
      if (result === 'nan-or-inf') throw new CommandError('ERR increment would produce NaN or Infinity');
      const text = Buffer.from(result, 'latin1');
      setString(c, key, text, true);
      // replicas get the result, not the increment, so rounding cannot drift
      c.server.rewritePropagation([Buffer.from('SET'), argv[1], text, Buffer.from('KEEPTTL')]);
      c.out.bulk(text);
    },
  },
  {
    name: 'append',
    arity: 3,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const key = str(argv[1]);
      const cur = getString(c, key);
      const len = (cur?.length ?? 0) + argv[2].length;
      checkSize(c, len);
      const next = cur ? Buffer.concat([cur, argv[2]], len) : Buffer.from(argv[2]);
      setString(c, key, next, true);
      c.out.int(next.length);
    },
  },
  {
    name: 'strlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => c.out.int(getString(c, str(argv[1]))?.length ?? 0),
  },
  { name: 'getrange', arity: 4, flags: ['readonly'], keys: [1, 1, 1], group: 'string', handler: getrange },
  { name: 'substr', arity: 4, flags: ['readonly'], keys: [1, 1, 1], group: 'string', handler: getrange },
  {
    name: 'setrange',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => {
      const key = str(argv[1]);
      const offset = parseInteger(argv[2]);
      if (offset < 0) throw new CommandError(Err.offsetOutOfRange);
      const cur = getString(c, key);
      const patch = argv[3];
      if (patch.length === 0) return void c.out.int(cur?.length ?? 0);
      const len = Math.max(cur?.length ?? 0, offset + patch.length);
      checkSize(c, len);
      const next = Buffer.alloc(len);
      if (cur) cur.copy(next);
      patch.copy(next, offset);
      setString(c, key, next, true);
      c.out.int(len);
    },
  },
];
