// Stream commands (Redis 7.0's t_stream.c): XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XGROUP XREADGROUP XACK
// XPENDING XCLAIM XAUTOCLAIM XINFO. Argument checks, their order, error texts and reply shapes follow t_stream.c;
// an emptied stream stays (as Redis). Writes propagate as Redis propagates them: XADD with the generated id and
// an exact trim, XREADGROUP as XCLAIM / XGROUP SETID / XGROUP CREATECONSUMER. XREAD / XREADGROUP BLOCK wait through
// ../blocking.ts.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import { CommandError, Err } from '../errors';
import { lower, own, parseBigInt, str, syntaxError } from './args';
import { readValue } from './lookup';
import { parseTimeoutMs } from '../blocking';
import {
  ConsumerGroup,
  ID_MAX,
  ID_MIN,
  Stream,
  U64_MAX,
  cmpId,
  decrId,
  fmtId,
  incrId,
  isZero,
  type Consumer,
  type Entry,
  type PendingEntry,
  type StreamID,
  type StreamValue,
} from '../stream/stream';
import '../stream/codec';

const XErr = {
  invalidId: 'ERR Invalid stream ID specified as stream command argument',
  zeroId: 'ERR The ID specified in XADD must be greater than 0-0',
  smallerId: 'ERR The ID specified in XADD is equal or smaller than the target stream top item',
  exhausted: 'ERR The stream has exhausted the last possible ID, unable to add more items',
  startInterval: 'ERR invalid start ID for the interval',
  endInterval: 'ERR invalid end ID for the interval',
  maxlenMinid: 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible',
  maxlenNeg: 'ERR The MAXLEN argument must be >= 0.',
  limitNeg: 'ERR The LIMIT argument must be >= 0.',
  limitNoStrategy: 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy',
  xtrimNoStrategy: 'ERR syntax error, XTRIM must be called with a trimming strategy',
  limitNoApprox: 'ERR syntax error, LIMIT cannot be used without the special ~ option',
  noGroupRead: (k: string, g: string) => `NOGROUP No such key '${k}' or consumer group '${g}' in XREADGROUP with GROUP option`,
  noGroup: (k: string, g: string) => `NOGROUP No such key '${k}' or consumer group '${g}'`,
  noGroupForKey: (g: string, k: string) => `NOGROUP No such consumer group '${g}' for key name '${k}'`,
  keyMustExist:
    'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
  busyGroup: 'BUSYGROUP Consumer Group name already exists',
  entriesRead: 'ERR value for ENTRIESREAD must be positive or -1',
};

const readS = (c: Client, key: string) => readValue<StreamValue>(c, key, 'stream');

// ---- ids ----

function parseU64(s: string): number | null {
  // string2ull: string2ll, else strtoull (leading spaces and '+' accepted, no overflow)
  if (!/^\s*\+?\d+$/.test(s)) return null;
  const n = BigInt(s.trim());
  if (n > 18446744073709551615n) return null;
  return n === 18446744073709551615n ? U64_MAX : Number(n);
}

/**
 * Redis's streamGenericParseIDOrReply. `missingSeq` fills an id given as just ms; strict refuses - and +.
 * With `allowPartial`, `ms-*` gives seqGiven = false.
 */
function parseId(b: Buffer, missingSeq: number, strict: boolean, allowPartial = false): { id: StreamID; seqGiven: boolean } {
  const s = b.toString('latin1');
  if (s.length > 127) throw new CommandError(XErr.invalidId);
  if (s === '-' || s === '+') {
    if (strict) throw new CommandError(XErr.invalidId);
    return { id: s === '-' ? ID_MIN : ID_MAX, seqGiven: true };
  }
  const dash = s.indexOf('-');
  const msPart = dash >= 0 ? s.slice(0, dash) : s;
  const ms = parseU64(msPart);
  if (ms === null) throw new CommandError(XErr.invalidId);
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const seqPart = s.slice(dash + 1);
  if (allowPartial && seqPart === '*') return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(seqPart);
  if (seq === null) throw new CommandError(XErr.invalidId);
  return { id: { ms, seq }, seqGiven: true };
}

const strictId = (b: Buffer): StreamID => parseId(b, 0, true).id;

/** An interval bound: `(id` is exclusive (strict parse), else as parseId. */
function parseInterval(b: Buffer, missingSeq: number): { id: StreamID; ex: boolean } {
  if (b.length > 1 && b[0] === 0x28) return { id: parseId(b.subarray(1), missingSeq, true).id, ex: true };
  return { id: parseId(b, missingSeq, false).id, ex: false };
}

function parseStart(b: Buffer): StreamID {
  const { id, ex } = parseInterval(b, 0);
  if (!ex) return id;
  const n = incrId(id);
  if (!n) throw new CommandError(XErr.startInterval);
  return n;
}

function parseEnd(b: Buffer): StreamID {
  const { id, ex } = parseInterval(b, U64_MAX);
  if (!ex) return id;
  const n = decrId(id);
  if (!n) throw new CommandError(XErr.endInterval);
  return n;
}

/** getLongLongFromObjectOrReply */
function parseLL(b: Buffer, err: string = Err.notInteger): number {
  const n = parseBigInt(str(b));
  if (n === null) throw new CommandError(err);
  return Number(n);
}

const idBuf = (id: StreamID) => Buffer.from(fmtId(id), 'latin1');
const B = (s: string) => Buffer.from(s, 'latin1');

// ---- replies ----

function replyEntry(c: Client, e: Entry): void {
  c.out.array(2).bulk(fmtId(e.id));
  c.out.array(e.fv.length);
  for (const b of e.fv) c.out.bulk(b);
}

function replyEntries(c: Client, entries: Entry[]): void {
  c.out.array(entries.length);
  for (const e of entries) replyEntry(c, e);
}

// ---- XADD / XTRIM ----

interface TrimArgs {
  strategy: 'none' | 'maxlen' | 'minid';
  approx: boolean;
  maxlen: number;
  minid: StreamID;
  limit: number;
  /** argv index of the threshold */
  argIdx: number;
  noMkstream: boolean;
  idGiven: boolean;
  seqGiven: boolean;
  id: StreamID;
}

function parseAddOrTrim(c: Client, argv: Buffer[], xadd: boolean): { args: TrimArgs; next: number } {
  const a: TrimArgs = {
    strategy: 'none',
    approx: false,
    maxlen: 0,
    minid: ID_MIN,
    limit: -1,
    argIdx: 0,
    noMkstream: false,
    idGiven: false,
    seqGiven: true,
    id: ID_MIN,
  };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = lower(argv[i]);
    if (xadd && opt === '*') break;
    if (opt === 'maxlen' && more) {
      if (a.strategy !== 'none') throw new CommandError(XErr.maxlenMinid);
      a.approx = false;
      const next = str(argv[i + 1]);
      if (more >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (more >= 2 && next === '=') i++;
      a.maxlen = parseLL(argv[i + 1]);
      if (a.maxlen < 0) throw new CommandError(XErr.maxlenNeg);
      i++;
      a.strategy = 'maxlen';
      a.argIdx = i;
    } else if (opt === 'minid' && more) {
      if (a.strategy !== 'none') throw new CommandError(XErr.maxlenMinid);
      a.approx = false;
      const next = str(argv[i + 1]);
      if (more >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (more >= 2 && next === '=') i++;
      a.minid = strictId(argv[i + 1]);
      i++;
      a.strategy = 'minid';
      a.argIdx = i;
    } else if (opt === 'limit' && more) {
      a.limit = parseLL(argv[i + 1]);
      if (a.limit < 0) throw new CommandError(XErr.limitNeg);
      limitGiven = true;
      i++;
    } else if (xadd && opt === 'nomkstream') {
      a.noMkstream = true;
    } else if (xadd) {
      const p = parseId(argv[i], 0, true, true);
      a.id = p.id;
      a.seqGiven = p.seqGiven;
      a.idGiven = true;
      break;
    } else syntaxError();
  }
  if (a.limit > 0 && a.strategy === 'none') throw new CommandError(XErr.limitNoStrategy);
  if (!xadd && a.strategy === 'none') throw new CommandError(XErr.xtrimNoStrategy);
  if (c.kind === 'master') a.limit = 0;
  else if (limitGiven) {
    if (!a.approx) throw new CommandError(XErr.limitNoApprox);
  } else a.limit = a.approx ? 10000 : 0;
  return { args: a, next: i };
}

/** The trim part of the propagated command: exact, with the threshold the trim reached. */
function trimRewrite(s: Stream, a: TrimArgs): Buffer[] {
  if (a.strategy === 'none') return [];
  if (!a.approx) return a.strategy === 'maxlen' ? [B('MAXLEN'), B('='), B(String(a.maxlen))] : [B('MINID'), B('='), idBuf(a.minid)];
  if (a.strategy === 'maxlen') return [B('MAXLEN'), B('='), B(String(s.length))];
  return [B('MINID'), B('='), idBuf(s.length ? s.firstId : incrId(s.lastId) ?? s.lastId)];
}

function xadd(c: Client, argv: Buffer[]): void {
  const { args: a, next } = parseAddOrTrim(c, argv, true);
  const fieldPos = next + 1;
  const nf = argv.length - fieldPos;
  if (nf < 2 || nf % 2 === 1) throw new CommandError(Err.wrongArity('xadd'));
  if (a.idGiven && a.seqGiven && isZero(a.id)) throw new CommandError(XErr.zeroId);
  const key = str(argv[1]);
  let sv = c.db.get<StreamValue>(key, 'stream');
  if (!sv && a.noMkstream) return void c.out.null();
  const s0 = sv?.value;
  if (s0 && s0.lastId.ms >= U64_MAX && s0.lastId.seq >= U64_MAX) throw new CommandError(XErr.exhausted);
  // the id, checked before anything changes
  const last = s0?.lastId ?? ID_MIN;
  let id: StreamID;
  if (a.idGiven) {
    if (a.seqGiven) id = a.id;
    else if (last.ms === a.id.ms) {
      if (last.seq >= U64_MAX) throw new CommandError(XErr.smallerId);
      id = { ms: last.ms, seq: last.seq + 1 };
    } else id = a.id;
  } else {
    const now = Date.now();
    id = now > last.ms ? { ms: now, seq: 0 } : incrId(last)!;
  }
  if (cmpId(id, last) <= 0) throw new CommandError(XErr.smallerId);
  if (!sv) {
    sv = { type: 'stream', value: new Stream() };
    c.db.set(key, sv);
  } else sv = c.db.getForWrite<StreamValue>(key, 'stream')!;
  const s = sv.value;
  const fv: Buffer[] = new Array<Buffer>(nf);
  for (let i = 0; i < nf; i++) fv[i] = own(argv[fieldPos + i]);
  s.append(id, fv);
  c.out.bulk(fmtId(id));
  c.server.markDirty();
  if (a.strategy !== 'none') s.trim(a.strategy, a.maxlen, a.minid, a.approx, a.limit);
  if (!a.idGiven || !a.seqGiven || a.approx) {
    c.server.rewritePropagation([
      argv[0],
      argv[1],
      ...(a.noMkstream ? [B('NOMKSTREAM')] : []),
      ...trimRewrite(s, a),
      idBuf(id),
      ...argv.slice(fieldPos),
    ]);
  }
}

function xtrim(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const { args: a, next } = parseAddOrTrim(c, argv, false);
  if (next < argv.length) syntaxError();
  if (!c.db.get<StreamValue>(key, 'stream')) return void c.out.int(0);
  const s = c.db.getForWrite<StreamValue>(key, 'stream')!.value;
  const n = s.trim(a.strategy as 'maxlen' | 'minid', a.maxlen, a.minid, a.approx, a.limit);
  if (n) c.server.markDirty(n);
  c.out.int(n);
  if (a.approx) c.server.rewritePropagation([argv[0], argv[1], ...trimRewrite(s, a)]);
}

function xlen(c: Client, argv: Buffer[]): void {
  c.out.int(readS(c, str(argv[1]))?.value.length ?? 0);
}

function xrange(c: Client, argv: Buffer[], rev: boolean): void {
  const start = parseStart(rev ? argv[3] : argv[2]);
  const end = parseEnd(rev ? argv[2] : argv[3]);
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (lower(argv[j]) === 'count' && j + 1 < argv.length) {
      count = parseLL(argv[j + 1]);
      if (count < 0) count = 0;
      j++;
    } else syntaxError();
  }
  const sv = readS(c, str(argv[1]));
  if (!sv) return void c.out.array(0);
  if (count === 0) return void c.out.nullArray();
  replyEntries(c, sv.value.range(start, end, count === -1 ? 0 : count, rev));
}

function xdel(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  if (!c.db.get<StreamValue>(key, 'stream')) return void c.out.int(0);
  const ids = argv.slice(2).map(strictId);
  const s = c.db.get<StreamValue>(key, 'stream')!.value;
  let hit = false;
  for (const id of ids) if (s.get(id)) hit = true;
  if (!hit) return void c.out.int(0);
  const w = c.db.getForWrite<StreamValue>(key, 'stream')!.value;
  let deleted = 0;
  for (const id of ids) if (w.delete(id)) deleted++;
  c.server.markDirty(deleted);
  c.out.int(deleted);
}

// ---- XREAD / XREADGROUP ----

interface ReadRequest {
  group: string | null;
  consumer: string;
  noack: boolean;
  count: number;
  timeout: number;
  keys: string[];
  /** per key; null for '>' */
  ids: (StreamID | null)[];
}

function parseRead(c: Client, argv: Buffer[], group: boolean): ReadRequest {
  let timeout = -1;
  let count = 0;
  let streamsArg = 0;
  let n = 0;
  let groupName: string | null = null;
  let consumer = '';
  let noack = false;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = lower(argv[i]);
    if (o === 'block' && more) {
      i++;
      timeout = parseTimeoutMs(argv[i]);
    } else if (o === 'count' && more) {
      i++;
      count = parseLL(argv[i]);
      if (count < 0) count = 0;
    } else if (o === 'streams' && more) {
      streamsArg = i + 1;
      n = argv.length - streamsArg;
      if (n % 2 !== 0) {
        throw new CommandError(
          `ERR Unbalanced ${str(argv[0])} list of streams: for each stream key an ID or '${group ? '>' : '$'}' must be specified.`,
        );
      }
      n /= 2;
      break;
    } else if (o === 'group' && more >= 2) {
      if (!group) throw new CommandError('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      groupName = str(argv[i + 1]);
      consumer = str(argv[i + 2]);
      i += 2;
    } else if (o === 'noack') {
      if (!group) throw new CommandError('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      noack = true;
    } else syntaxError();
  }
  if (streamsArg === 0) syntaxError();
  if (group && groupName === null) throw new CommandError('ERR Missing GROUP option for XREADGROUP');
  const keys: string[] = [];
  const ids: (StreamID | null)[] = [];
  for (let k = 0; k < n; k++) {
    const key = str(argv[streamsArg + k]);
    const idArg = argv[streamsArg + n + k];
    const sv = c.db.get<StreamValue>(key, 'stream');
    if (groupName !== null && (!sv || !sv.value.groups.has(groupName))) throw new CommandError(XErr.noGroupRead(key, groupName));
    keys.push(key);
    const a = str(idArg);
    if (a === '$') {
      if (group) {
        throw new CommandError(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
      }
      ids.push(sv ? sv.value.lastId : ID_MIN);
    } else if (a === '>') {
      if (!group) throw new CommandError('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
      ids.push(null);
    } else {
      const id = strictId(idArg);
      // the largest id is what '>' is kept as in Redis: XREADGROUP reads it as '>'
      ids.push(group && id.ms >= U64_MAX && id.seq >= U64_MAX ? null : id);
    }
  }
  return { group: groupName, consumer, noack, count, timeout, keys, ids };
}

/** The last id of an entry still in the stream (streamLastValidID), or 0-0. */
const lastValid = (s: Stream): StreamID => s.lastEntry()?.id ?? ID_MIN;

/**
 * One attempt at serving a read (synchronously, or a blocked one when a key got ready). Writes the reply and
 * returns true when there was something to serve. `propagate` receives the commands to replicate.
 */
function serveRead(c: Client, r: ReadRequest, propagate: (argv: Buffer[]) => void, blocked: boolean): boolean {
  const now = Date.now();
  const parts: { key: string; write: () => void }[] = [];
  for (let i = 0; i < r.keys.length; i++) {
    const key = r.keys[i];
    const sv0 = c.db.lookup(key);
    if (!sv0 || sv0.type !== 'stream') {
      // a blocked XREADGROUP whose stream was deleted (or replaced) ends, as Redis 7.0.15
      if (blocked && r.group !== null) throw new CommandError('UNBLOCKED the stream key no longer exists');
      continue;
    }
    const s0 = (sv0 as StreamValue).value;
    if (r.group === null) {
      if (s0.length && cmpId(lastValid(s0), r.ids[i]!) > 0) {
        const start = incrId(r.ids[i]!)!;
        const entries = s0.range(start, ID_MAX, r.count);
        parts.push({ key, write: () => replyEntries(c, entries) });
      }
      continue;
    }
    const g0 = s0.groups.get(r.group);
    if (!g0) {
      if (blocked) throw new CommandError('NOGROUP the consumer group this client was blocked on no longer exists');
      continue;
    }
    const history = r.ids[i] !== null;
    // nothing new: not served (and no consumer is created, as Redis)
    if (!history && !(s0.length && cmpId(lastValid(s0), g0.lastId) > 0)) continue;
    parts.push({ key, write: () => readGroup(c, key, r, r.ids[i], now, propagate) });
  }
  if (parts.length === 0) return false;
  if (c.out.proto === 3) c.out.raw('%' + parts.length + '\r\n');
  else c.out.array(parts.length);
  for (const p of parts) {
    if (c.out.proto === 2) c.out.array(2);
    c.out.bulk(p.key);
    p.write();
  }
  return true;
}

function touchConsumer(c: Client, key: string, r: ReadRequest, now: number, propagate: (argv: Buffer[]) => void): Consumer {
  const g = (c.db.lookup(key) as StreamValue).value.groups.get(r.group!)!;
  let cons = g.consumers.get(r.consumer);
  if (!cons) {
    const gw = c.db.getForWrite<StreamValue>(key, 'stream')!.value.groups.get(r.group!)!;
    cons = gw.consumer(r.consumer, now, true)!;
    c.server.markDirty();
    propagate([B('XGROUP'), B('CREATECONSUMER'), B(key), B(r.group!), B(r.consumer)]);
  } else cons.seenTime = now;
  return cons;
}

function xclaimPropagation(key: string, group: string, g: ConsumerGroup, p: PendingEntry): Buffer[] {
  return [
    B('XCLAIM'), B(key), B(group), B(p.consumer.name), B('0'), idBuf(p.id),
    B('TIME'), B(String(p.deliveryTime)), B('RETRYCOUNT'), B(String(p.deliveryCount)),
    B('FORCE'), B('JUSTID'), B('LASTID'), idBuf(g.lastId),
  ];
}

function xclaimDeletePropagation(key: string, group: string, g: ConsumerGroup, id: StreamID): Buffer[] {
  // Redis propagates the removal of a pending entry whose stream entry is gone as an XCLAIM of it (which the
  // replica, not finding the entry, turns into a removal)
  return [B('XCLAIM'), B(key), B(group), B('x'), B('0'), idBuf(id), B('TIME'), B('0'), B('RETRYCOUNT'), B('0'), B('FORCE'), B('JUSTID'), B('LASTID'), idBuf(g.lastId)];
}

/** XREADGROUP on one stream: new entries ('>', id null) or the consumer's history from `from`. */
function readGroup(c: Client, key: string, r: ReadRequest, from: StreamID | null, now: number, propagate: (argv: Buffer[]) => void): void {
  const cons0 = touchConsumer(c, key, r, now, propagate);
  const s = c.db.getForWrite<StreamValue>(key, 'stream')!.value;
  const g = s.groups.get(r.group!)!;
  const cons = g.consumers.get(cons0.name)!;
  c.server.markDirty();
  if (from !== null) {
    // history: this consumer's pending entries from `from`
    const start = incrId(from) ?? from;
    const mine = g.pendingRange(start, ID_MAX).filter((p) => p.consumer === cons);
    const list = r.count ? mine.slice(0, r.count) : mine;
    c.out.array(list.length);
    for (const p of list) {
      const e = s.get(p.id);
      if (!e) {
        // an entry deleted since: its id with a null body, and its delivery data stays as it is
        c.out.array(2).bulk(fmtId(p.id)).nullArray();
        continue;
      }
      replyEntry(c, e);
      p.deliveryCount++;
      p.deliveryTime = now;
      propagate(xclaimPropagation(key, r.group!, g, p));
    }
    return;
  }
  const entries = s.range(incrId(g.lastId) ?? ID_MAX, ID_MAX, r.count);
  c.out.array(entries.length);
  let moved = false;
  for (const e of entries) {
    replyEntry(c, e);
    if (cmpId(e.id, g.lastId) > 0) {
      if (g.entriesRead !== -1 && !s.rangeHasTombstones(e.id, null)) g.entriesRead++;
      else if (s.entriesAdded) g.entriesRead = s.estimateDistance(e.id);
      g.lastId = e.id;
      moved = true;
    }
    if (!r.noack) {
      const k = fmtId(e.id);
      const old = g.pel.get(k);
      if (old) {
        old.consumer.pel.delete(k);
        old.consumer = cons;
        old.deliveryTime = now;
        old.deliveryCount = 1;
        cons.pel.set(k, old);
        propagate(xclaimPropagation(key, r.group!, g, old));
      } else {
        const p: PendingEntry = { id: e.id, consumer: cons, deliveryTime: now, deliveryCount: 1 };
        g.addPending(p);
        propagate(xclaimPropagation(key, r.group!, g, p));
      }
    }
  }
  if (moved) {
    propagate([B('XGROUP'), B('SETID'), B(key), B(r.group!), idBuf(g.lastId), B('ENTRIESREAD'), B(String(g.entriesRead))]);
  }
}

function xread(c: Client, argv: Buffer[], group: boolean): void | Promise<void> {
  const r = parseRead(c, argv, group);
  const sync: Buffer[][] = [];
  const served = serveRead(c, r, (v) => sync.push(v), false);
  if (group) c.server.rewritePropagation(...sync);
  if (served) return;
  if (r.timeout === -1 || c.inExec) return void c.out.nullArray();
  // block: XREAD's ids are fixed now ($ already resolved); XREADGROUP '>' stays relative to the group
  const db = c.db;
  return c.server.blocking.block(
    c,
    r.keys,
    r.timeout,
    () => serveRead(c, r, (v) => c.server.propagate(db.id, v), true),
    () => c.out.nullArray(),
  );
}

// ---- XGROUP ----

function xgroupSetup(c: Client, argv: Buffer[], sub: string) {
  const key = str(argv[2]);
  const sv = c.db.get<StreamValue>(key, 'stream');
  const grp = str(argv[3]);
  return { key, sv, grp, g: sv?.value.groups.get(grp) };
}

function subSyntax(argv: Buffer[]): never {
  throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1]).slice(0, 128)}'. Try XGROUP HELP.`);
}

function parseEntriesReadOpt(argv: Buffer[], from: number, allowMk: boolean): { mkstream: boolean; entriesRead: number } {
  let mkstream = false;
  let entriesRead = -1;
  let i = from;
  while (i < argv.length) {
    const o = lower(argv[i]);
    if (allowMk && o === 'mkstream') {
      mkstream = true;
      i++;
    } else if (o === 'entriesread' && i + 1 < argv.length) {
      entriesRead = parseLL(argv[i + 1]);
      if (entriesRead < 0 && entriesRead !== -1) throw new CommandError(XErr.entriesRead);
      i += 2;
    } else subSyntax(argv);
  }
  return { mkstream, entriesRead };
}

function xgroupCreate(c: Client, argv: Buffer[]): void {
  const { mkstream, entriesRead } = parseEntriesReadOpt(argv, 5, true);
  if (argv.length > 8) subSyntax(argv);
  const { key, sv, grp, g } = xgroupSetup(c, argv, 'create');
  if (!sv && !mkstream) throw new CommandError(XErr.keyMustExist);
  let id: StreamID;
  if (str(argv[4]) === '$') id = sv ? sv.value.lastId : ID_MIN;
  else id = strictId(argv[4]);
  if (g) throw new CommandError(XErr.busyGroup);
  let s: Stream;
  if (!sv) {
    s = new Stream();
    c.db.set(key, { type: 'stream', value: s });
  } else s = c.db.getForWrite<StreamValue>(key, 'stream')!.value;
  s.groups.set(grp, new ConsumerGroup(id, entriesRead));
  c.server.markDirty();
  c.out.ok();
}

function xgroupSetid(c: Client, argv: Buffer[]): void {
  const { entriesRead } = parseEntriesReadOpt(argv, 5, false);
  const { key, sv, grp, g } = xgroupSetup(c, argv, 'setid');
  if (!sv) throw new CommandError(XErr.keyMustExist);
  if (!g) throw new CommandError(XErr.noGroupForKey(grp, key));
  if (argv.length !== 5 && argv.length !== 7) subSyntax(argv);
  const id = str(argv[4]) === '$' ? sv.value.lastId : parseId(argv[4], 0, false).id;
  const gw = c.db.getForWrite<StreamValue>(key, 'stream')!.value.groups.get(grp)!;
  gw.lastId = id;
  gw.entriesRead = entriesRead;
  c.server.markDirty();
  c.out.ok();
}

function xgroupDestroy(c: Client, argv: Buffer[]): void {
  const { key, sv, grp, g } = xgroupSetup(c, argv, 'destroy');
  if (!sv) throw new CommandError(XErr.keyMustExist);
  if (!g) return void c.out.int(0);
  c.db.getForWrite<StreamValue>(key, 'stream')!.value.groups.delete(grp);
  c.server.markDirty();
  c.out.int(1);
}

function xgroupConsumer(c: Client, argv: Buffer[], create: boolean): void {
  const { key, sv, grp, g } = xgroupSetup(c, argv, create ? 'createconsumer' : 'delconsumer');
  if (!sv) throw new CommandError(XErr.keyMustExist);
  if (!g) throw new CommandError(XErr.noGroupForKey(grp, key));
  const name = str(argv[4]);
  if (create) {
    if (g.consumers.has(name)) return void c.out.int(0);
    c.db.getForWrite<StreamValue>(key, 'stream')!.value.groups.get(grp)!.consumer(name, Date.now(), true);
    c.server.markDirty();
    return void c.out.int(1);
  }
  const gw = c.db.getForWrite<StreamValue>(key, 'stream')!.value.groups.get(grp)!;
  c.out.int(gw.deleteConsumer(name));
  c.server.markDirty();
}

// ---- XACK / XPENDING / XCLAIM / XAUTOCLAIM ----

function xack(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const sv = readS(c, key);
  const grp = str(argv[2]);
  if (!sv || !sv.value.groups.has(grp)) return void c.out.int(0);
  const ids = argv.slice(3).map(strictId);
  const g0 = sv.value.groups.get(grp)!;
  if (!ids.some((id) => g0.pel.has(fmtId(id)))) return void c.out.int(0);
  const g = c.db.getForWrite<StreamValue>(key, 'stream')!.value.groups.get(grp)!;
  let n = 0;
  for (const id of ids) if (g.removePending(fmtId(id))) n++;
  c.server.markDirty();
  c.out.int(n);
}

function xpending(c: Client, argv: Buffer[]): void {
  const justinfo = argv.length === 3;
  if (argv.length !== 3 && (argv.length < 6 || argv.length > 9)) syntaxError();
  let start = ID_MIN;
  let end = ID_MAX;
  let count = 0;
  let minidle = 0;
  let consumerName: string | null = null;
  if (argv.length >= 6) {
    let si = 3;
    if (lower(argv[3]) === 'idle') {
      minidle = parseLL(argv[4]);
      if (argv.length < 8) syntaxError();
      si += 2;
    }
    count = parseLL(argv[si + 2]);
    if (count < 0) count = 0;
    start = parseStart(argv[si]);
    end = parseEnd(argv[si + 1]);
    if (si + 3 < argv.length) consumerName = str(argv[si + 3]);
  }
  const key = str(argv[1]);
  const grp = str(argv[2]);
  const sv = readS(c, key);
  const g = sv?.value.groups.get(grp);
  if (!g) throw new CommandError(XErr.noGroup(key, grp));
  if (justinfo) {
    c.out.array(4).int(g.pel.size);
    if (g.pel.size === 0) return void c.out.null().null().nullArray();
    const all = g.pendingRange(ID_MIN, ID_MAX);
    c.out.bulk(fmtId(all[0].id)).bulk(fmtId(all[all.length - 1].id));
    const cons = [...g.consumers.values()].filter((x) => x.pel.size > 0).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    c.out.array(cons.length);
    for (const x of cons) c.out.array(2).bulk(x.name).bulk(String(x.pel.size));
    return;
  }
  let cons: Consumer | undefined;
  if (consumerName !== null) {
    cons = g.consumers.get(consumerName);
    if (!cons) return void c.out.array(0);
  }
  const now = Date.now();
  const out: PendingEntry[] = [];
  for (const p of g.pendingRange(start, end)) {
    if (!count) break;
    if (cons && p.consumer !== cons) continue;
    if (minidle && now - p.deliveryTime < minidle) continue;
    out.push(p);
    count--;
  }
  c.out.array(out.length);
  for (const p of out) c.out.array(4).bulk(fmtId(p.id)).bulk(p.consumer.name).int(Math.max(0, now - p.deliveryTime)).int(p.deliveryCount);
}

function xclaim(c: Client, argv: Buffer[]): void {
  const key = str(argv[1]);
  const grp = str(argv[2]);
  const sv = readS(c, key);
  const g0 = sv?.value.groups.get(grp);
  if (!sv || !g0) throw new CommandError(XErr.noGroup(key, grp));
  let minidle = parseLL(argv[4], 'ERR Invalid min-idle-time argument for XCLAIM');
  if (minidle < 0) minidle = 0;
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    try {
      ids.push(strictId(argv[j]));
    } catch {
      break;
    }
  }
  const now = Date.now();
  let retrycount = -1;
  let deliverytime = -1;
  let force = false;
  let justid = false;
  let lastId = ID_MIN;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lower(argv[j]);
    if (opt === 'force') force = true;
    else if (opt === 'justid') justid = true;
    else if (opt === 'idle' && more) deliverytime = now - parseLL(argv[++j], 'ERR Invalid IDLE option argument for XCLAIM');
    else if (opt === 'time' && more) deliverytime = parseLL(argv[++j], 'ERR Invalid TIME option argument for XCLAIM');
    else if (opt === 'retrycount' && more) retrycount = parseLL(argv[++j], 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
    else if (opt === 'lastid' && more) lastId = strictId(argv[++j]);
    else throw new CommandError(`ERR Unrecognized XCLAIM option '${str(argv[j])}'`);
  }
  const s = c.db.getForWrite<StreamValue>(key, 'stream')!.value;
  const g = s.groups.get(grp)!;
  const prop: Buffer[][] = [];
  let propagateLastId = false;
  if (cmpId(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  if (deliverytime !== -1) {
    if (deliverytime < 0 || deliverytime > now) deliverytime = now;
  } else deliverytime = now;
  const name = str(argv[3]);
  let cons: Consumer | undefined;
  const replies: (() => void)[] = [];
  for (const id of ids) {
    const k = fmtId(id);
    let p = g.pel.get(k);
    const entry = s.get(id);
    if (!entry) {
      if (p) {
        prop.push(xclaimDeletePropagation(key, grp, g, id));
        propagateLastId = false;
        c.server.markDirty();
        g.removePending(k);
      }
      continue;
    }
    let fresh = false;
    if (force && !p) {
      cons ??= g.consumer(name, now, true)!;
      p = { id, consumer: cons, deliveryTime: now, deliveryCount: 1 };
      fresh = true;
    }
    if (!p) continue;
    if (!fresh && minidle && now - p.deliveryTime < minidle) continue;
    if (!cons) {
      cons = g.consumer(name, now, true)!;
      cons.seenTime = now;
    }
    if (fresh) g.addPending(p);
    else if (p.consumer !== cons) {
      p.consumer.pel.delete(k);
      p.consumer = cons;
      cons.pel.set(k, p);
    }
    p.deliveryTime = deliverytime;
    if (retrycount >= 0) p.deliveryCount = retrycount;
    else if (!justid && !fresh) p.deliveryCount++;
    else if (!justid && fresh) p.deliveryCount++;
    const e = entry;
    replies.push(justid ? () => c.out.bulk(fmtId(id)) : () => replyEntry(c, e));
    prop.push(xclaimPropagation(key, grp, g, p));
    propagateLastId = false;
    c.server.markDirty();
  }
  if (propagateLastId) {
    prop.push([B('XGROUP'), B('SETID'), B(key), B(grp), idBuf(g.lastId), B('ENTRIESREAD'), B(String(g.entriesRead))]);
    c.server.markDirty();
  }
  c.out.array(replies.length);
  for (const r of replies) r();
  c.server.rewritePropagation(...prop);
}

function xautoclaim(c: Client, argv: Buffer[]): void {
  let minidle = parseLL(argv[4], 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  if (minidle < 0) minidle = 0;
  const start = parseStart(argv[5]);
  let count = 100;
  let justid = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = lower(argv[j]);
    if (opt === 'count' && more) {
      const n = parseBigInt(str(argv[j + 1]));
      const max = Math.floor(9223372036854775807 / 16);
      if (n === null || n < 1n || n > BigInt(max)) throw new CommandError('ERR COUNT must be > 0');
      count = Number(n);
      j++;
    } else if (opt === 'justid') justid = true;
    else syntaxError();
  }
  const key = str(argv[1]);
  const grp = str(argv[2]);
  const sv = readS(c, key);
  if (!sv || !sv.value.groups.has(grp)) throw new CommandError(XErr.noGroup(key, grp));
  const s = c.db.getForWrite<StreamValue>(key, 'stream')!.value;
  const g = s.groups.get(grp)!;
  const now = Date.now();
  const name = str(argv[3]);
  let attempts = count * 10;
  const pel = g.pendingRange(start, ID_MAX);
  let i = 0;
  let cons: Consumer | undefined;
  const claimed: (() => void)[] = [];
  const deleted: StreamID[] = [];
  const prop: Buffer[][] = [];
  while (attempts-- && count && i < pel.length) {
    const p = pel[i++];
    const k = fmtId(p.id);
    const e = s.get(p.id);
    if (!e) {
      prop.push(xclaimDeletePropagation(key, grp, g, p.id));
      c.server.markDirty();
      g.removePending(k);
      deleted.push(p.id);
      count--;
      continue;
    }
    if (minidle && now - p.deliveryTime < minidle) continue;
    if (!cons) {
      cons = g.consumer(name, now, true)!;
      cons.seenTime = now;
    }
    if (p.consumer !== cons) {
      p.consumer.pel.delete(k);
      p.consumer = cons;
      cons.pel.set(k, p);
    }
    p.deliveryTime = now;
    if (!justid) p.deliveryCount++;
    claimed.push(justid ? () => c.out.bulk(k) : () => replyEntry(c, e));
    count--;
    prop.push(xclaimPropagation(key, grp, g, p));
    c.server.markDirty();
  }
  const cursor = i < pel.length ? pel[i].id : ID_MIN;
  c.out.array(3).bulk(fmtId(cursor));
  c.out.array(claimed.length);
  for (const r of claimed) r();
  c.out.array(deleted.length);
  for (const d of deleted) c.out.bulk(fmtId(d));
  c.server.rewritePropagation(...prop);
}

// ---- XINFO ----

function lag(s: Stream, g: ConsumerGroup): number | null {
  if (!s.entriesAdded) return 0;
  if (g.entriesRead !== -1 && !s.rangeHasTombstones(g.lastId, null)) return s.entriesAdded - g.entriesRead;
  const er = s.estimateDistance(g.lastId);
  return er !== -1 ? s.entriesAdded - er : null;
}

/** Groups in name (byte) order, as Redis's radix tree keeps them. */
const sortedGroups = (s: Stream) => [...s.groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const intOrNull = (c: Client, n: number | null) => (n === null ? c.out.null() : c.out.int(n));

function xinfoStream(c: Client, argv: Buffer[]): void {
  const key = str(argv[2]);
  let full = false;
  let count = 10;
  if (argv.length > 3) {
    if (lower(argv[3]) !== 'full') syntaxError();
    full = true;
    if (argv.length === 6 && lower(argv[4]) === 'count') {
      count = parseLL(argv[5]);
      if (count < 0) count = 10;
    } else if (argv.length > 4) syntaxError();
  }
  const sv = readS(c, key);
  if (!sv) throw new CommandError(Err.noSuchKey);
  const s = sv.value;
  c.out.map(full ? 9 : 10);
  c.out.bulk('length').int(s.length);
  c.out.bulk('radix-tree-keys').int(s.chunks.length);
  c.out.bulk('radix-tree-nodes').int(s.chunks.length + 1);
  c.out.bulk('last-generated-id').bulk(fmtId(s.lastId));
  c.out.bulk('max-deleted-entry-id').bulk(fmtId(s.maxDeletedId));
  c.out.bulk('entries-added').int(s.entriesAdded);
  c.out.bulk('recorded-first-entry-id').bulk(fmtId(s.firstId));
  if (!full) {
    c.out.bulk('groups').int(s.groups.size);
    const first = s.firstEntry();
    const last = s.lastEntry();
    c.out.bulk('first-entry');
    if (first) replyEntry(c, first);
    else c.out.null();
    c.out.bulk('last-entry');
    if (last) replyEntry(c, last);
    else c.out.null();
    return;
  }
  c.out.bulk('entries');
  replyEntries(c, s.range(ID_MIN, ID_MAX, count));
  c.out.bulk('groups').array(s.groups.size);
  for (const [name, g] of sortedGroups(s)) {
    c.out.map(7);
    c.out.bulk('name').bulk(name);
    c.out.bulk('last-delivered-id').bulk(fmtId(g.lastId));
    c.out.bulk('entries-read');
    intOrNull(c, g.entriesRead === -1 ? null : g.entriesRead);
    c.out.bulk('lag');
    intOrNull(c, lag(s, g));
    c.out.bulk('pel-count').int(g.pel.size);
    const pel = g.pendingRange(ID_MIN, ID_MAX);
    const pl = count ? pel.slice(0, count) : pel;
    c.out.bulk('pending').array(pl.length);
    for (const p of pl) c.out.array(4).bulk(fmtId(p.id)).bulk(p.consumer.name).int(p.deliveryTime).int(p.deliveryCount);
    const cons = [...g.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    c.out.bulk('consumers').array(cons.length);
    for (const x of cons) {
      c.out.map(4);
      c.out.bulk('name').bulk(x.name);
      c.out.bulk('seen-time').int(x.seenTime);
      c.out.bulk('pel-count').int(x.pel.size);
      const mine = pel.filter((p) => p.consumer === x);
      const ml = count ? mine.slice(0, count) : mine;
      c.out.bulk('pending').array(ml.length);
      for (const p of ml) c.out.array(3).bulk(fmtId(p.id)).int(p.deliveryTime).int(p.deliveryCount);
    }
  }
}

function xinfoGroups(c: Client, argv: Buffer[]): void {
  const sv = readS(c, str(argv[2]));
  if (!sv) throw new CommandError(Err.noSuchKey);
  const s = sv.value;
  c.out.array(s.groups.size);
  for (const [name, g] of sortedGroups(s)) {
    c.out.map(6);
    c.out.bulk('name').bulk(name);
    c.out.bulk('consumers').int(g.consumers.size);
    c.out.bulk('pending').int(g.pel.size);
    c.out.bulk('last-delivered-id').bulk(fmtId(g.lastId));
    c.out.bulk('entries-read');
    intOrNull(c, g.entriesRead === -1 ? null : g.entriesRead);
    c.out.bulk('lag');
    intOrNull(c, lag(s, g));
  }
}

function xinfoConsumers(c: Client, argv: Buffer[]): void {
  const key = str(argv[2]);
  const grp = str(argv[3]);
  const sv = readS(c, key);
  if (!sv) throw new CommandError(Err.noSuchKey);
  const g = sv.value.groups.get(grp);
  if (!g) throw new CommandError(XErr.noGroupForKey(grp, key));
  const now = Date.now();
  const cons = [...g.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  c.out.array(cons.length);
  for (const x of cons) {
    c.out.map(3);
    c.out.bulk('name').bulk(x.name);
    c.out.bulk('pending').int(x.pel.size);
    c.out.bulk('idle').int(Math.max(0, now - x.seenTime));
  }
}

// ---- the table ----

/** XREAD / XREADGROUP keys: the first half of the arguments after STREAMS. */
function readKeys(argv: Buffer[]): number[] {
  for (let i = 1; i < argv.length; i++) {
    const o = lower(argv[i]);
    if (o === 'streams') {
      const n = Math.floor((argv.length - i - 1) / 2);
      return Array.from({ length: n }, (_, k) => i + 1 + k);
    }
    if (o === 'block' || o === 'count') i++;
    else if (o === 'group') i += 2;
  }
  return [];
}

const G = 'stream';
const cat = ['stream'];
const key1: [number, number, number] = [1, 1, 1];
const key2: [number, number, number] = [2, 2, 1];

export const streamCommands: CommandDef[] = [
  { name: 'xadd', arity: -5, flags: ['write', 'denyoom', 'fast'], keys: key1, group: G, categories: cat, handler: xadd },
  { name: 'xtrim', arity: -4, flags: ['write'], keys: key1, group: G, categories: cat, handler: xtrim },
  { name: 'xlen', arity: 2, flags: ['readonly', 'fast'], keys: key1, group: G, categories: cat, handler: xlen },
  { name: 'xrange', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => xrange(c, a, false) },
  { name: 'xrevrange', arity: -4, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: (c, a) => xrange(c, a, true) },
  { name: 'xdel', arity: -3, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: xdel },
  { name: 'xread', arity: -4, flags: ['readonly', 'blocking'], getKeys: readKeys, group: G, categories: cat, handler: (c, a) => xread(c, a, false) },
  { name: 'xreadgroup', arity: -7, flags: ['write', 'blocking'], getKeys: readKeys, group: G, categories: cat, handler: (c, a) => xread(c, a, true) },
  { name: 'xack', arity: -4, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: xack },
  { name: 'xpending', arity: -3, flags: ['readonly'], keys: key1, group: G, categories: cat, handler: xpending },
  { name: 'xclaim', arity: -6, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: xclaim },
  { name: 'xautoclaim', arity: -6, flags: ['write', 'fast'], keys: key1, group: G, categories: cat, handler: xautoclaim },
  {
    name: 'xgroup',
    arity: -2,
    flags: [],
    group: G,
    categories: cat,
    subcommands: [
      { name: 'create', arity: -5, flags: ['write', 'denyoom'], keys: key2, group: G, categories: cat, handler: xgroupCreate },
      { name: 'setid', arity: -5, flags: ['write'], keys: key2, group: G, categories: cat, handler: xgroupSetid },
      { name: 'destroy', arity: 4, flags: ['write'], keys: key2, group: G, categories: cat, handler: xgroupDestroy },
      { name: 'createconsumer', arity: 5, flags: ['write', 'denyoom'], keys: key2, group: G, categories: cat, handler: (c, a) => xgroupConsumer(c, a, true) },
      { name: 'delconsumer', arity: 5, flags: ['write'], keys: key2, group: G, categories: cat, handler: (c, a) => xgroupConsumer(c, a, false) },
    ],
  },
  {
    name: 'xinfo',
    arity: -2,
    flags: [],
    group: G,
    categories: cat,
    subcommands: [
      { name: 'stream', arity: -3, flags: ['readonly'], keys: key2, group: G, categories: cat, handler: xinfoStream },
      { name: 'groups', arity: 3, flags: ['readonly'], keys: key2, group: G, categories: cat, handler: xinfoGroups },
      { name: 'consumers', arity: 4, flags: ['readonly'], keys: key2, group: G, categories: cat, handler: xinfoConsumers },
    ],
  },
];
