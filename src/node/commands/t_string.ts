// String commands (Redis's t_string.c). Values are Buffers; a write replaces the value.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import type { StringValue } from '../keyspace';
import { CommandError, Err } from '../errors';
import { lower, own, parseBigInt, parseFloatArg, parseInteger, str, syntaxError } from './args';
import { readValue } from './lookup';
import { formatDouble } from '../resp/writer';

const getString = (c: Client, key: string) => readValue<StringValue>(c, key, 'string')?.value;

function setString(c: Client, key: string, value: Buffer, keepTtl = false): void {
  c.db.set(key, { type: 'string', value }, keepTtl);
  c.server.markDirty();
}

function checkSize(c: Client, size: number): void {
  if (size > c.server.config.getInt('proto-max-bulk-len')) throw new CommandError(Err.stringTooLong);
}

function setCommand(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  let nx = false;
  let xx = false;
  let get = false;
  let keepTtl = false;
  let expireAt: number | null = null;
  let expireCmd = '';
  for (let i = 3; i < argv.length; i++) {
    const opt = lower(argv[i]);
    const hasNext = i + 1 < argv.length;
    if (opt === 'nx' && !xx) nx = true;
    else if (opt === 'xx' && !nx) xx = true;
    else if (opt === 'get') get = true;
    else if (opt === 'keepttl' && expireAt === null) keepTtl = true;
    else if ((opt === 'ex' || opt === 'px' || opt === 'exat' || opt === 'pxat') && !keepTtl && expireAt === null && hasNext) {
      const n = parseInteger(argv[++i]);
      if (n <= 0) throw new CommandError(Err.invalidExpire('set'));
      const ms = opt === 'ex' || opt === 'exat' ? n * 1000 : n;
      if (!Number.isSafeInteger(ms)) throw new CommandError(Err.invalidExpire('set'));
      expireAt = opt === 'ex' || opt === 'px' ? Date.now() + ms : ms;
      expireCmd = opt;
    } else syntaxError();
  }
  const old = get ? getString(c, key) : undefined;
  const exists = nx || xx ? c.db.exists(key) : false;
  if ((nx && exists) || (xx && !exists)) {
    if (get) c.out.bulk(old ?? null);
    else c.out.null();
    return;
  }
  setString(c, key, own(argv[2]), keepTtl);
  if (expireAt !== null) {
    c.db.setExpire(key, expireAt);
    if (expireCmd === 'ex' || expireCmd === 'px') {
      // relative times are propagated as absolute ones, so replicas and the log expire at the same instant
      c.server.rewritePropagation([Buffer.from('SET'), argv[1], argv[2], Buffer.from('PXAT'), Buffer.from(String(expireAt))]);
    }
  }
  if (get) c.out.bulk(old ?? null);
  else c.out.ok();
}

function setWithExpire(c: Client, key: Buffer, seconds: Buffer, value: Buffer, unit: number, name: string): void {
  const n = parseInteger(seconds);
  if (n <= 0) throw new CommandError(Err.invalidExpire(name));
  const at = Date.now() + n * unit;
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
    handler: (c, argv) => setWithExpire(c, argv[1], argv[2], argv[3], 1000, 'setex'),
  },
  {
    name: 'psetex',
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: [1, 1, 1],
    group: 'string',
    handler: (c, argv) => setWithExpire(c, argv[1], argv[2], argv[3], 1, 'psetex'),
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
      const delta = parseFloatArg(argv[2]);
      const cur = getString(c, key);
      let n = 0;
      if (cur !== undefined) n = parseFloatArg(cur);
      const next = n + delta;
      if (!Number.isFinite(next)) throw new CommandError('ERR increment would produce NaN or Infinity');
      const text = Buffer.from(formatDouble(next));
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
