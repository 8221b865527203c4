// Frame generator of the fuzzer. Every frame is { cat, bytes, oneShot }:
//   cat      'command'  a command from the node's own COMMAND table (arity, key positions) with random arguments
//            'corpus'   a valid command from CORPUS below with 0-3 argument mutations
//            'inline'   a command (either kind) rendered as an inline command (quoted where needed)
//            'protocol' a RESP protocol mutation (truncated, bad type byte, huge / negative lengths, missing CRLF,
//                       nested arrays, RESP3 types as requests, bad inline quoting, over-long lines…)
//            'random'   random bytes
//   oneShot  false: a well-formed request that gets exactly one reply, pipelined on a long-lived connection;
//            true: may stall or close the connection, so it is sent on a fresh connection of its own.

import { createHash } from 'node:crypto';
import { Rng } from './prng.mjs';
import { mutateBlob } from './blobs.mjs';

/** Commands that would stop or wedge the test rather than exercise the node (see fuzz.mjs's header). */
export const EXCLUDED = new Set([
  'shutdown', 'monitor', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe',
  'blpop', 'brpop', 'blmove', 'blmpop', 'bzpopmin', 'bzpopmax', 'bzmpop', 'brpoplpush', 'wait', 'waitaof',
  'replicaof', 'slaveof', 'sync', 'psync', 'replconf', 'failover', 'cluster', 'migrate', 'sentinel', 'acl', 'module',
  'client|kill', 'client|pause', 'client|unpause', 'client|reply', 'client|tracking', 'client|unblock', 'client|caching',
  'config|set', 'config|rewrite', 'debug',
]);
/** Allowed but rare: they are slow or wipe the typed keys. */
const RARE = { save: 0.02, bgsave: 0.02, bgrewriteaof: 0.02, flushall: 0.05, flushdb: 0.05, 'memory|purge': 0.1, 'ai.config': 0.2 };

/** Keys seeded (and re-seeded) by fuzz.mjs, one per type, so that commands hit every type (WRONGTYPE paths). */
export const TYPED_KEYS = ['fz:str', 'fz:int', 'fz:list', 'fz:hash', 'fz:set', 'fz:zset', 'fz:stream', 'fz:tensor', 'fz:in', 'fz:ta', 'fz:tb', 'fz:onnx', 'fz:torch', 'fz:tf', 'fz:script'];
const OTHER_KEYS = ['fz:new', 'fz:new2', 'fz:out', 'fz:missing', '{fz}x', ''];

const NUMBERS = [
  '0', '1', '-1', '2', '3', '10', '100', '-100', '1000', '65536', '2147483647', '-2147483648', '2147483648', '4294967295',
  '4294967296', '9007199254740993', '9223372036854775807', '-9223372036854775808', '9223372036854775808',
  '18446744073709551615', '18446744073709551616', '99999999999999999999999999', '1e308', '-1e308', '1e400', '5e-324',
  'inf', '-inf', '+inf', 'infinity', 'nan', 'NaN', '-nan', '1.5', '-0', '0.0', '-0.0', ' 1', '1 ', '0x10', '1e3', '01',
  '+1', '--1', '1.', '.5', '1,5', 'abc', '', '(1', '(-inf', '[a', '(', '[', '-', '+', '$', '>', '*', '~', '=', '#',
  '0-0', '0-1', '1-*', '*-1', '1-18446744073709551615', '18446744073709551615-18446744073709551615',
  '18446744073709551616-0', '-1-1', '1-', '-0-0', '1.5-2',
];
const KEYWORDS = [
  'EX', 'PX', 'EXAT', 'PXAT', 'KEEPTTL', 'GET', 'NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'WITHSCORES', 'WITHSCORE', 'LIMIT',
  'BYSCORE', 'BYLEX', 'REV', 'COUNT', 'MATCH', 'TYPE', 'MAXLEN', 'MINID', 'NOMKSTREAM', 'LEFT', 'RIGHT', 'BEFORE',
  'AFTER', 'RANK', 'MAXLEN', 'WEIGHTS', 'AGGREGATE', 'SUM', 'MIN', 'MAX', 'STREAMS', 'GROUP', 'CREATE', 'SETID',
  'DESTROY', 'CREATECONSUMER', 'DELCONSUMER', 'MKSTREAM', 'ENTRIESREAD', 'IDLE', 'TIME', 'RETRYCOUNT', 'FORCE',
  'JUSTID', 'LASTID', 'NOACK', 'FULL', 'REPLACE', 'ABSTTL', 'FREQ', 'ASYNC', 'SYNC', 'SCHEDULE', 'SAMPLES', 'PERSIST',
  'BLOB', 'VALUES', 'META', 'FLOAT', 'DOUBLE', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'BOOL', 'STRING',
  'INPUTS', 'OUTPUTS', 'KEYS', 'ARGS', 'ENTRY_POINTS', 'SOURCE', 'TIMEOUT', 'CPU', 'GPU', 'GPU:0', 'ONNX', 'TORCH',
  'TF', 'TFLITE', 'TAG', 'BATCHSIZE', 'MINBATCHSIZE', 'MINBATCHTIMEOUT', 'LOAD', 'PERSIST', 'ROUTING', '|>',
  'AI.TENSORSET', 'AI.TENSORGET', 'AI.MODELEXECUTE', 'AI.SCRIPTEXECUTE', 'RESETSTAT', 'MODEL_CHUNK_SIZE',
  'LOADBACKEND', 'SETNAME', 'ID', 'INFO', 'LIST', 'GETNAME', 'SETINFO', 'LIB-NAME', 'AUTH', 'default', '2', '3',
  'memory', 'server', 'all', 'everything', 'keyspace', 'replication', 'ai', 'bar', 'bar_variadic', 'with_args',
];

/** Valid commands (RESP arrays of strings) that reach deeper than random arguments do; mutated before use. */
export const CORPUS = [
  ['SET', 'fz:str', 'hello', 'EX', '100'], ['SET', 'fz:new', 'v', 'NX', 'GET'], ['GET', 'fz:str'], ['GETEX', 'fz:str', 'PX', '5000'],
  ['INCRBY', 'fz:int', '5'], ['INCRBYFLOAT', 'fz:int', '1.5'], ['APPEND', 'fz:str', 'xyz'], ['GETRANGE', 'fz:str', '0', '-1'],
  ['SETRANGE', 'fz:str', '3', 'abc'], ['MSET', 'fz:a', '1', 'fz:b', '2'], ['MGET', 'fz:str', 'fz:int', 'fz:list'],
  ['EXPIRE', 'fz:new', '100', 'GT'], ['PEXPIREAT', 'fz:new', '99999999999999'], ['RENAME', 'fz:new', 'fz:new2'],
  ['LPUSH', 'fz:list', 'a', 'b'], ['LRANGE', 'fz:list', '0', '-1'], ['LINSERT', 'fz:list', 'BEFORE', 'a', 'z'],
  ['LPOS', 'fz:list', 'a', 'RANK', '-1', 'COUNT', '0', 'MAXLEN', '10'], ['LMOVE', 'fz:list', 'fz:list2', 'LEFT', 'RIGHT'],
  ['LMPOP', '2', 'fz:list', 'fz:missing', 'LEFT', 'COUNT', '2'], ['LSET', 'fz:list', '0', 'q'], ['LTRIM', 'fz:list', '0', '50'],
  ['LREM', 'fz:list', '-2', 'a'], ['HSET', 'fz:hash', 'f', 'v', 'g', '1'], ['HINCRBYFLOAT', 'fz:hash', 'g', '2.5'],
  ['HGETALL', 'fz:hash'], ['HSCAN', 'fz:hash', '0', 'MATCH', 'f*', 'COUNT', '10'], ['HMGET', 'fz:hash', 'f', 'x'],
  ['SADD', 'fz:set', 'a', 'b', 'c'], ['SINTERSTORE', 'fz:set2', 'fz:set', 'fz:set'], ['SPOP', 'fz:set', '2'],
  ['SRANDMEMBER', 'fz:set', '-5'], ['SMOVE', 'fz:set', 'fz:set2', 'a'], ['SSCAN', 'fz:set', '0', 'COUNT', '100'],
  ['ZADD', 'fz:zset', 'NX', 'CH', '1', 'a', '2.5', 'b'], ['ZADD', 'fz:zset', 'XX', 'INCR', '1', 'a'],
  ['ZRANGE', 'fz:zset', '(1', '+inf', 'BYSCORE', 'LIMIT', '0', '10', 'WITHSCORES'], ['ZRANGE', 'fz:zset', '[a', '+', 'BYLEX', 'REV'],
  ['ZRANGESTORE', 'fz:zset2', 'fz:zset', '0', '-1'], ['ZUNIONSTORE', 'fz:zset2', '2', 'fz:zset', 'fz:set', 'WEIGHTS', '2', '3', 'AGGREGATE', 'MAX'],
  ['ZINTERCARD', '2', 'fz:zset', 'fz:zset', 'LIMIT', '1'], ['ZMPOP', '1', 'fz:zset', 'MIN', 'COUNT', '2'],
  ['ZRANDMEMBER', 'fz:zset', '3', 'WITHSCORES'], ['ZREMRANGEBYLEX', 'fz:zset', '[a', '(c'], ['ZSCAN', 'fz:zset', '0'],
  ['XADD', 'fz:stream', 'MAXLEN', '~', '100', '*', 'f', 'v'], ['XADD', 'fz:stream', 'NOMKSTREAM', 'MINID', '=', '0-1', 'LIMIT', '10', '*', 'a', 'b'],
  ['XRANGE', 'fz:stream', '-', '+', 'COUNT', '5'], ['XREVRANGE', 'fz:stream', '+', '(0-1'], ['XREAD', 'COUNT', '2', 'STREAMS', 'fz:stream', '0'],
  ['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '2', 'STREAMS', 'fz:stream', '>'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'NOACK', 'STREAMS', 'fz:stream', '0'],
  ['XACK', 'fz:stream', 'g', '0-1', '1-1'], ['XPENDING', 'fz:stream', 'g', 'IDLE', '0', '-', '+', '10', 'c1'],
  ['XCLAIM', 'fz:stream', 'g', 'c2', '0', '0-1', 'JUSTID', 'FORCE', 'RETRYCOUNT', '3'], ['XAUTOCLAIM', 'fz:stream', 'g', 'c2', '0', '0-0', 'COUNT', '10', 'JUSTID'],
  ['XGROUP', 'CREATE', 'fz:stream', 'g2', '$', 'MKSTREAM', 'ENTRIESREAD', '3'], ['XGROUP', 'SETID', 'fz:stream', 'g', '0', 'ENTRIESREAD', '1'],
  ['XGROUP', 'CREATECONSUMER', 'fz:stream', 'g', 'c3'], ['XINFO', 'STREAM', 'fz:stream', 'FULL', 'COUNT', '2'], ['XINFO', 'CONSUMERS', 'fz:stream', 'g'],
  ['XTRIM', 'fz:stream', 'MAXLEN', '=', '50'], ['XDEL', 'fz:stream', '0-1'], ['XSETID', 'fz:stream', '99-0'],
  ['TYPE', 'fz:tensor'], ['DEL', 'fz:new', 'fz:new2'], ['EXISTS', 'fz:str', 'fz:str'], ['SCAN', '0', 'MATCH', 'fz:*', 'COUNT', '100', 'TYPE', 'hash'],
  ['OBJECT', 'ENCODING', 'fz:str'], ['MEMORY', 'USAGE', 'fz:hash', 'SAMPLES', '0'], ['INFO', 'all'], ['CLIENT', 'SETNAME', 'fuzz'],
  ['HELLO', '3'], ['HELLO', '2', 'SETNAME', 'x'], ['SELECT', '1'], ['SELECT', '0'], ['MULTI'], ['EXEC'], ['DISCARD'], ['WATCH', 'fz:str'],
  ['PUBLISH', 'ch', 'msg'], ['PUBSUB', 'NUMSUB', 'ch'], ['COMMAND', 'GETKEYS', 'SET', 'a', 'b'], ['COMMAND', 'INFO', 'get', 'xadd'],
  ['SLOWLOG', 'GET', '2'], ['CONFIG', 'GET', 'maxmemory*'], ['TIME'], ['DBSIZE'], ['ECHO', 'x'], ['PING'], ['RESET'],
  ['AI.TENSORSET', 'fz:tensor', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4'], ['AI.TENSORSET', 'fz:t8', 'INT8', '3', 'BLOB', '\x01\x02\x03'],
  ['AI.TENSORSET', 'fz:tb', 'DOUBLE', '1', '2', 'BLOB', '\0\0\0\0\0\0\xf0\x3f\0\0\0\0\0\0\0\x40'], ['AI.TENSORSET', 'fz:ts', 'STRING', '2', 'VALUES', 'a', 'b'],
  ['AI.TENSORSET', 'fz:tz', 'FLOAT', '0'], ['AI.TENSORSET', 'fz:tbool', 'BOOL', '2', 'VALUES', '1', '0'],
  ['AI.TENSORGET', 'fz:tensor', 'META', 'VALUES'], ['AI.TENSORGET', 'fz:tensor', 'BLOB'],
  ['AI.MODELEXECUTE', 'fz:onnx', 'INPUTS', '1', 'fz:in', 'OUTPUTS', '1', 'fz:out', 'TIMEOUT', '5000'],
  ['AI.MODELEXECUTE', 'fz:torch', 'INPUTS', '2', 'fz:ta', 'fz:tb', 'OUTPUTS', '1', 'fz:out'],
  ['AI.MODELEXECUTE', 'fz:tf', 'INPUTS', '2', 'fz:ta', 'fz:ta', 'OUTPUTS', '1', 'fz:out'],
  ['AI.MODELRUN', 'fz:tf', 'INPUTS', 'fz:ta', 'fz:tb', 'OUTPUTS', 'fz:out'], ['AI.MODELGET', 'fz:onnx', 'META'], ['AI.MODELGET', 'fz:torch', 'BLOB'],
  ['AI.MODELSTORE', 'fz:m2', 'ONNX', 'CPU', 'TAG', 't', 'BATCHSIZE', '2', 'MINBATCHSIZE', '1', 'BLOB', 'notamodel'],
  ['AI.MODELSTORE', 'fz:m3', 'TF', 'CPU', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul', 'BLOB', 'junk'],
  ['AI.MODELDEL', 'fz:m2'], ['AI._MODELSCAN'], ['AI._SCRIPTSCAN'], ['AI.INFO', 'fz:onnx'], ['AI.INFO', 'fz:onnx', 'RESETSTAT'],
  ['AI.SCRIPTEXECUTE', 'fz:script', 'bar', 'KEYS', '1', 'fz:ta', 'INPUTS', '2', 'fz:ta', 'fz:tb', 'OUTPUTS', '1', 'fz:out'],
  ['AI.SCRIPTEXECUTE', 'fz:script', 'with_args', 'INPUTS', '1', 'fz:ta', 'ARGS', '2', '3', '4', 'OUTPUTS', '1', 'fz:out'],
  ['AI.SCRIPTSTORE', 'fz:s2', 'CPU', 'ENTRY_POINTS', '1', 'f', 'SOURCE', 'def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]'],
  ['AI.SCRIPTGET', 'fz:script', 'SOURCE'], ['AI.SCRIPTDEL', 'fz:s2'], ['AI.CONFIG', 'GET', 'MODEL_CHUNK_SIZE'], ['AI.CONFIG', 'MODEL_CHUNK_SIZE', '1000'],
  ['AI.DAGEXECUTE', 'LOAD', '1', 'fz:in', 'PERSIST', '1', 'fz:out', '|>', 'AI.MODELEXECUTE', 'fz:onnx', 'INPUTS', '1', 'fz:in', 'OUTPUTS', '1', 'fz:out'],
  ['AI.DAGEXECUTE_RO', 'ROUTING', 'fz:ta', '|>', 'AI.TENSORSET', 'x', 'FLOAT', '2', 'VALUES', '1', '2', '|>', 'AI.TENSORGET', 'x', 'VALUES'],
  ['AI.DAGRUN', 'LOAD', '2', 'fz:ta', 'fz:tb', '|>', 'AI.MODELRUN', 'fz:torch', 'INPUTS', 'fz:ta', 'fz:tb', 'OUTPUTS', 'o', '|>', 'AI.TENSORGET', 'o', 'META'],
  ['AI.DAGEXECUTE', 'KEYS', '1', 'fz:ta', '|>', 'AI.SCRIPTEXECUTE', 'fz:script', 'bar', 'INPUTS', '2', 'fz:ta', 'fz:tb', 'OUTPUTS', '1', 'y', '|>', 'AI.TENSORGET', 'y', 'BLOB'],
];

/** Random count-like arguments of these commands are kept small: Redis itself would build replies or values of
 *  that size (SRANDMEMBER s -2147483648 answers 2^31 elements), which measures memory, not robustness. */
const AMPLIFIERS = new Set(['srandmember', 'zrandmember', 'hrandfield', 'setrange', 'setbit', 'ai.config']);

const bulk = (b) => Buffer.concat([Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n')]);
export function encodeCommand(args) {
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map((a) => bulk(Buffer.isBuffer(a) ? a : Buffer.from(a, 'latin1')))]);
}
const asBuf = (a) => (Buffer.isBuffer(a) ? a : Buffer.from(a, 'latin1'));

/** Inline rendering in sdssplitargs syntax: plain words stay bare, others are double-quoted with \xNN escapes. */
function inlineArg(a) {
  const b = asBuf(a);
  if (b.length > 0 && b.every((c) => c > 32 && c < 127 && c !== 34 && c !== 39 && c !== 92)) return b.toString('latin1');
  let s = '"';
  for (const c of b) s += c > 31 && c < 127 && c !== 34 && c !== 92 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s + '"';
}

/** The node's COMMAND reply (parsed by replies.mjs into nested arrays) as a flat list of fuzzable commands. */
export function commandTable(reply) {
  const out = [];
  const add = (row, parent) => {
    const name = String(row[0]).toLowerCase();
    const entry = { name, arity: Number(row[1]), first: Number(row[3]), last: Number(row[4]), step: Number(row[5]), parent };
    const subs = Array.isArray(row[9]) ? row[9] : [];
    if (subs.length) for (const s of subs) add(s, name);
    else if (!EXCLUDED.has(name) && !EXCLUDED.has(name.split('|')[0])) out.push(entry);
  };
  for (const row of reply) add(row, null);
  return out.map((e) => ({ ...e, weight: RARE[e.name] ?? RARE[e.name.split('|')[0]] ?? 1 }));
}

export class FrameGenerator {
  /** dumps: DUMP payloads of the typed keys, mutated into RESTORE commands (the snapshot decoder's input) */
  constructor(seed, table, dumps = []) {
    this.r = new Rng(seed);
    this.table = table;
    this.dumps = dumps;
    this.totalWeight = table.reduce((s, e) => s + e.weight, 0);
    this.n = 0;
  }

  value(cmd) {
    const r = this.r;
    const kind = r.weighted({ number: 25, keyword: 18, key: 15, word: 10, bytes: 10, empty: 5, long: 2, huge: 0.05, idish: 10, small: 5 });
    let v;
    switch (kind) {
      case 'number': v = r.pick(NUMBERS); break;
      case 'keyword': v = r.chance(0.3) ? r.pick(KEYWORDS).toLowerCase() : r.pick(KEYWORDS); break;
      case 'key': v = r.chance(0.8) ? r.pick(TYPED_KEYS) : r.pick(OTHER_KEYS); break;
      case 'word': v = r.bytes(r.int(1, 12)).toString('base64').replace(/[^A-Za-z0-9]/g, ''); break;
      case 'bytes': v = r.bytes(r.int(1, 32)); break;
      case 'empty': v = ''; break;
      case 'long': v = Buffer.alloc(r.int(1024, 65536), r.int(0, 255)); break;
      case 'huge': v = Buffer.alloc(r.int(1 << 19, 1 << 21), 120); break;
      case 'idish': v = `${r.int(0, 3) === 0 ? r.pick(NUMBERS) : r.int(0, 1e6)}-${r.pick(['0', '1', '*', String(r.int(0, 99))])}`; break;
      default: v = String(r.int(-20, 20));
    }
    if (AMPLIFIERS.has(cmd)) {
      const n = Number(Buffer.isBuffer(v) ? NaN : v);
      if (Number.isFinite(n) && Math.abs(n) > 1000) v = String(r.int(-100, 100));
    }
    return v;
  }

  /** a command from the COMMAND table with random arguments at its arity (sometimes one off) */
  fromTable() {
    const r = this.r;
    let x = r.float() * this.totalWeight;
    let e = this.table[0];
    for (const t of this.table) {
      x -= t.weight;
      if (x < 0) {
        e = t;
        break;
      }
    }
    const words = e.name.split('|');
    let argc = Math.abs(e.arity) + (e.arity < 0 ? r.int(0, 5) : 0);
    if (r.chance(0.05)) argc += r.pick([-1, 1]);
    const args = words.map((w) => (r.chance(0.2) ? w.toUpperCase() : w));
    const base = words[0];
    for (let i = args.length; i < Math.max(argc, 1); i++) {
      const isKey = e.first > 0 && i >= e.first && (e.last < 0 || i <= e.last) && (i - e.first) % Math.max(e.step, 1) === 0;
      args.push(isKey && r.chance(0.9) ? (r.chance(0.85) ? r.pick(TYPED_KEYS) : r.pick(OTHER_KEYS)) : this.value(base));
    }
    return args;
  }

  /** a CORPUS command with 0-3 mutations (replace / insert / delete / duplicate / swap an argument, case) */
  fromCorpus() {
    const r = this.r;
    if (this.dumps.length && r.chance(0.08)) {
      const d = r.pick(this.dumps);
      let blob;
      if (r.chance(0.75)) {
        // mutate the msgpack body and sign it again (src/cluster/migrate.ts: body, 2-byte version, first 8
        // bytes of the SHA-256 of both), so the decoder itself is reached, not just the checksum test
        const body = mutateBlob(r, d.subarray(0, d.length - 10), r.pick(this.dumps)).blob;
        const head = Buffer.concat([body, d.subarray(d.length - 10, d.length - 8)]);
        blob = Buffer.concat([head, createHash('sha256').update(head).digest().subarray(0, 8)]);
      } else blob = mutateBlob(r, d, r.pick(this.dumps)).blob;
      return ['RESTORE', r.pick(['fz:restored', r.pick(TYPED_KEYS)]), r.pick(['0', '0', '100000', '-1']), blob, ...(r.chance(0.7) ? ['REPLACE'] : [])];
    }
    const args = [...r.pick(CORPUS)];
    const base = String(args[0]).toLowerCase();
    const n = r.weighted({ 0: 15, 1: 50, 2: 25, 3: 10 });
    for (let k = 0; k < Number(n); k++) {
      const i = r.int(1, Math.max(1, args.length - 1));
      switch (r.weighted({ replace: 50, insert: 12, remove: 12, dup: 6, swap: 8, key: 10, truncate: 2 })) {
        case 'replace': args[i] = this.value(base); break;
        case 'insert': args.splice(i, 0, this.value(base)); break;
        case 'remove': if (args.length > 1) args.splice(i, 1); break;
        case 'dup': args.splice(i, 0, args[i] ?? 'x'); break;
        case 'swap': { const j = r.int(1, Math.max(1, args.length - 1)); [args[i], args[j]] = [args[j], args[i]]; break; }
        case 'key': args[i] = r.pick(TYPED_KEYS); break;
        default: args.length = Math.max(1, i);
      }
    }
    if (args[0] !== undefined && r.chance(0.1)) args[0] = String(args[0]).toLowerCase();
    return args.map((a) => (a === undefined ? '' : a));
  }

  /** one of the RESP protocol mutations; all are sent on a connection of their own */
  protocol() {
    const r = this.r;
    const f = encodeCommand(this.fromCorpus());
    const HUGE = ['536870912', '536870911', '2147483647', '2147483648', '9223372036854775807', '99999999999999999999', '4294967296', '1048577', '1000000000'];
    const NEG = ['-1', '-2', '-100', '-2147483648', '-9223372036854775808', '-0'];
    const GARBAGE = ['abc', ' 1', '1 ', '+1', '0x1', '1.0', '1e2', '', '\0', '1\0', '١'];
    const kind = r.weighted({ truncate: 15, typeByte: 10, hugeBulk: 8, hugeMulti: 6, negative: 8, garbageLen: 8, crlf: 10, nested: 6, resp3: 10, lenMismatch: 8, inlineQuotes: 5, longLine: 2, bitflip: 10, empty: 3, mixed: 5 });
    const bulkPos = () => {
      const pos = [];
      for (let i = 0; i < f.length; i++) if (f[i] === 36 /* $ */ && (i === 0 || f[i - 1] === 10)) pos.push(i);
      return pos;
    };
    const replaceLen = (buf, at, text) => {
      const end = buf.indexOf('\r\n', at);
      return Buffer.concat([buf.subarray(0, at + 1), Buffer.from(text, 'utf8'), buf.subarray(end)]);
    };
    let b;
    switch (kind) {
      case 'truncate': b = f.subarray(0, r.int(1, f.length - 1)); break;
      case 'typeByte': b = Buffer.from(f); b[0] = r.chance(0.7) ? r.pick([...'!%~>#,(_=|:+-$.?\0 \r\n']).charCodeAt(0) : r.int(0, 255); break;
      case 'hugeBulk': b = replaceLen(f, r.pick(bulkPos()), r.pick(HUGE)); break;
      case 'hugeMulti': b = replaceLen(f, 0, r.pick(HUGE)); break;
      case 'negative': b = r.chance(0.5) ? replaceLen(f, 0, r.pick(NEG)) : replaceLen(f, r.pick(bulkPos()), r.pick(NEG)); break;
      case 'garbageLen': b = r.chance(0.5) ? replaceLen(f, 0, r.pick(GARBAGE)) : replaceLen(f, r.pick(bulkPos()), r.pick(GARBAGE)); break;
      case 'crlf': {
        const s = f.toString('latin1');
        const idx = [];
        for (let i = s.indexOf('\r\n'); i >= 0; i = s.indexOf('\r\n', i + 1)) idx.push(i);
        const at = r.pick(idx);
        const repl = r.pick(['', '\n', '\r', '\n\r', 'xx', '\r\r\n']);
        b = Buffer.from(s.slice(0, at) + repl + s.slice(at + 2), 'latin1');
        if (r.chance(0.3)) b = Buffer.from(s.replace(/\r\n/g, '\n'), 'latin1');
        break;
      }
      case 'nested': b = Buffer.concat([Buffer.from('*2\r\n'), f, Buffer.from(r.pick(['$1\r\nx\r\n', '*0\r\n', '*-1\r\n', ':1\r\n']))]); break;
      case 'resp3':
        b = Buffer.from(r.pick([
          '%1\r\n+a\r\n+b\r\n', '~1\r\n$4\r\nPING\r\n', '*1\r\n:1\r\n', '*2\r\n$4\r\nECHO\r\n#t\r\n', '*1\r\n_\r\n',
          '*2\r\n$4\r\nECHO\r\n,1.5\r\n', '*2\r\n$4\r\nECHO\r\n(123\r\n', '*2\r\n$4\r\nECHO\r\n=7\r\ntxt:abc\r\n',
          '|1\r\n+a\r\n+b\r\n*1\r\n$4\r\nPING\r\n', '>2\r\n$4\r\nECHO\r\n$1\r\nx\r\n', '*2\r\n$4\r\nECHO\r\n!3\r\nerr\r\n',
          '$?\r\n;4\r\nPING\r\n;0\r\n', '*?\r\n$4\r\nPING\r\n.\r\n', '*1\r\n+PING\r\n', '*2\r\n$3\r\nGET\r\n%0\r\n',
        ]));
        break;
      case 'lenMismatch': {
        const at = r.pick(bulkPos());
        const end = f.indexOf('\r\n', at);
        const n = Number(f.subarray(at + 1, end).toString());
        b = replaceLen(f, at, String(Math.max(0, n + r.pick([-3, -1, 1, 2, 5, 100]))));
        break;
      }
      case 'inlineQuotes':
        b = Buffer.from(r.pick(['SET "a b\r\n', "GET 'abc\r\n", 'SET "a"b c\r\n', "ECHO 'a'b\r\n", 'ECHO "\\x4\r\n', 'ECHO "\\xZZ"\r\n', 'ECHO "\\\r\n', '"\r\n', "'\r\n", 'ECHO "a\\"\r\n']));
        break;
      case 'longLine':
        b = r.chance(0.5) ? Buffer.alloc(70000, 97) : Buffer.concat([Buffer.from('*'), Buffer.alloc(70000, 49)]);
        if (r.chance(0.5)) b = Buffer.concat([Buffer.from('*1\r\n$'), Buffer.alloc(70000, 49)]);
        break;
      case 'bitflip': {
        b = Buffer.from(f);
        for (let k = r.int(1, 4); k > 0; k--) b[r.int(0, b.length - 1)] ^= 1 << r.int(0, 7);
        break;
      }
      case 'empty': b = Buffer.from(r.pick(['*0\r\n', '\r\n', '\n', '\0', ' \r\n', '*\r\n', '$\r\n', '*1\r\n$0\r\n\r\n'])); break;
      default: b = Buffer.concat([encodeCommand(['PING']), f.subarray(0, r.int(1, f.length)), r.bytes(r.int(0, 8)), encodeCommand(['PING'])]);
    }
    return b;
  }

  random() {
    const r = this.r;
    const b = r.bytes(r.int(1, r.chance(0.1) ? 4096 : 256));
    if (r.chance(0.3)) b[0] = r.pick([42, 36, 42, 43, 58]);
    return b;
  }

  next() {
    this.n++;
    const cat = this.r.weighted({ command: 45, corpus: 32, inline: 8, protocol: 10, random: 5 });
    if (cat === 'command') return { cat, oneShot: false, bytes: encodeCommand(this.fromTable()) };
    if (cat === 'corpus') return { cat, oneShot: false, bytes: encodeCommand(this.fromCorpus()) };
    if (cat === 'inline') {
      const args = this.r.chance(0.5) ? this.fromTable() : this.fromCorpus();
      if (!asBuf(args[0]).length) args[0] = 'PING';
      const line = args.map(inlineArg).join(' ');
      // longer than an inline request may be (64 KB): send it as RESP instead
      if (line.length > 8192) return { cat: 'command', oneShot: false, bytes: encodeCommand(args) };
      return { cat, oneShot: false, bytes: Buffer.from(line + '\r\n', 'latin1') };
    }
    if (cat === 'protocol') return { cat, oneShot: true, bytes: this.protocol() };
    return { cat, oneShot: true, bytes: this.random() };
  }
}
