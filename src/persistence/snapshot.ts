// The snapshot file (RDB-like): a versioned header, one record per key (grouped by database), an end marker and
// a SHA-1 of everything before it. Written from a consistent view (see Database.beginSnapshot: a shallow copy of
// the key maps, with copy-on-write for the types changed in place) without blocking the event loop: records are
// encoded in time slices and written with asynchronous writes to a temp file, fsynced, then renamed over the
// target. Blobs (string values, tensor data, model blobs) are written as raw bytes, never per element.
//
// Layout:   "INFERDB\0" | u16 format version | u32 n | n bytes msgpack header {server, ctime, ...}
//           records: u8 op
//             op 0xFE SELECTDB: u32 db
//             op 0x01 KEY: u32 n | n bytes msgpack [type, key bytes, expireAt ms or -1, codec version, fields]
//                          | u16 blob count | per blob: u48 length (LE) + bytes
//             op 0xFF EOF
//           20 bytes SHA-1 of everything before

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { Packr, Unpackr } from 'msgpackr';
import type { Value } from '../node/keyspace';
import { valueCodec, type DecodeContext } from './codecs';

export const SNAPSHOT_MAGIC = Buffer.from('INFERDB\0', 'latin1');
export const SNAPSHOT_VERSION = 1;
const OP_KEY = 0x01;
const OP_SELECTDB = 0xfe;
const OP_EOF = 0xff;
const HASH_LEN = 20;

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false });

export class PersistenceError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** One database as the snapshot sees it: its own copies of the key and expiry maps. */
export interface DbView {
  id: number;
  map: Map<string, Value>;
  expires: Map<string, number>;
}

export interface WriteResult {
  bytes: number;
  keys: number;
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

/** Largest stretch of main-thread work between two yields while writing (ms). */
const SLICE_MS = 4;
/** Blobs larger than this are hashed and written in pieces of this size. */
const PIECE = 1024 * 1024;
/** Bytes gathered before a write call. */
const WRITE_CHUNK = 4 * 1024 * 1024;

/**
 * Writes the view to `target` (temp file in the same folder, fsync, rename, folder fsync). The event loop keeps
 * running: the work is cut into slices of a few ms. `progress` is told the keys written so far.
 */
export async function writeSnapshot(
  target: string,
  view: DbView[],
  meta: Record<string, unknown> = {},
  progress?: (keys: number) => void,
  /** asked before the rename: false drops the file (the data set it holds was flushed meanwhile) */
  commit: () => boolean = () => true,
): Promise<WriteResult> {
  const dir = nodePath.dirname(target);
  const tmp = nodePath.join(dir, `temp-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}.rdb`);
  const fh = await fs.promises.open(tmp, 'w');
  const hash = crypto.createHash('sha1');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  let keys = 0;
  const push = (b: Buffer) => {
    hash.update(b);
    pending.push(b);
    pendingBytes += b.length;
    total += b.length;
  };
  const flush = async () => {
    if (pending.length === 0) return;
    const bufs = pending;
    pending = [];
    pendingBytes = 0;
    // writev takes at most IOV_MAX (1024) buffers per call
    for (let i = 0; i < bufs.length; i += 1000) await fh.writev(bufs.slice(i, i + 1000));
  };
  try {
    const head = packr.pack({ server: 'inferdb', ctime: Date.now(), ...meta });
    const h = Buffer.alloc(14);
    SNAPSHOT_MAGIC.copy(h, 0);
    h.writeUInt16LE(SNAPSHOT_VERSION, 8);
    h.writeUInt32LE(head.length, 10);
    push(h);
    push(head);
    let sliceStart = performance.now();
    for (const db of view) {
      if (db.map.size === 0) continue;
      const sel = Buffer.alloc(5);
      sel[0] = OP_SELECTDB;
      sel.writeUInt32LE(db.id, 1);
      push(sel);
      for (const [key, value] of db.map) {
        const codec = valueCodec(value.type);
        if (!codec) throw new Error(`no snapshot codec for type ${value.type} (key ${key})`);
        const enc = codec.encode(value);
        const blobs = enc.blobs ?? [];
        const m = packr.pack([value.type, Buffer.from(key, 'latin1'), db.expires.get(key) ?? -1, codec.version, enc.fields ?? null]);
        const rh = Buffer.allocUnsafe(5 + m.length + 2);
        rh[0] = OP_KEY;
        rh.writeUInt32LE(m.length, 1);
        m.copy(rh, 5);
        rh.writeUInt16LE(blobs.length, 5 + m.length);
        push(rh);
        for (const b of blobs) {
          const len = Buffer.allocUnsafe(6);
          len.writeUIntLE(b.length, 0, 6);
          push(len);
          // a big blob is hashed and written in pieces, yielding between them (hashing 32 MB takes ~50 ms)
          for (let off = 0; off < b.length; off += PIECE) {
            push(off === 0 && b.length <= PIECE ? b : b.subarray(off, Math.min(off + PIECE, b.length)));
            if (pendingBytes >= WRITE_CHUNK) {
              await flush();
              sliceStart = performance.now();
            } else if (performance.now() - sliceStart > SLICE_MS) {
              await nextTick();
              sliceStart = performance.now();
            }
          }
        }
        keys++;
        if (pendingBytes >= WRITE_CHUNK) {
          await flush();
          sliceStart = performance.now();
        } else if ((keys & 63) === 0 && performance.now() - sliceStart > SLICE_MS) {
          progress?.(keys);
          await nextTick();
          sliceStart = performance.now();
        }
      }
    }
    push(Buffer.from([OP_EOF]));
    const digest = hash.digest();
    pending.push(digest);
    total += digest.length;
    await flush();
    await fh.sync();
    await fh.close();
    if (!commit()) throw new Error('snapshot discarded: the data set was flushed while it was written');
    await fs.promises.rename(tmp, target);
    await fsyncDir(dir);
    progress?.(keys);
    return { bytes: total, keys };
  } catch (e) {
    await fh.close().catch(() => {});
    await fs.promises.unlink(tmp).catch(() => {});
    throw e;
  }
}

/** An empty data set's snapshot, written synchronously (FLUSHALL with save points, as Redis's rdbSave there). */
export function writeEmptySnapshotSync(target: string): void {
  const head = packr.pack({ server: 'inferdb', ctime: Date.now() });
  const h = Buffer.alloc(14);
  SNAPSHOT_MAGIC.copy(h, 0);
  h.writeUInt16LE(SNAPSHOT_VERSION, 8);
  h.writeUInt32LE(head.length, 10);
  const body = Buffer.concat([h, head, Buffer.from([OP_EOF])]);
  const file = Buffer.concat([body, crypto.createHash('sha1').update(body).digest()]);
  const dir = nodePath.dirname(target);
  const tmp = nodePath.join(dir, `temp-${process.pid}-${Date.now()}-flushall.rdb`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, file);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
}

export async function fsyncDir(dir: string): Promise<void> {
  try {
    const d = await fs.promises.open(dir, 'r');
    await d.sync().catch(() => {});
    await d.close();
  } catch {
    // not every platform can open a folder
  }
}

export interface LoadStats {
  keys: number;
  expired: number;
}

/** Whether the bytes start like a snapshot (an AOF base may also be a plain command log). */
export function isSnapshot(buf: Buffer): boolean {
  return buf.length >= SNAPSHOT_MAGIC.length && buf.subarray(0, SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC);
}

/** Checks magic, version and checksum; throws PersistenceError naming the file and offset. */
export function verifySnapshot(buf: Buffer, file: string): void {
  checkHeader(buf, file);
  const body = buf.subarray(0, buf.length - HASH_LEN);
  checkDigest(buf, file, crypto.createHash('sha1').update(body).digest());
}

/** As verifySnapshot, hashing in pieces with yields between them (the node answers -LOADING meanwhile). */
async function verifySnapshotAsync(buf: Buffer, file: string): Promise<void> {
  checkHeader(buf, file);
  const hash = crypto.createHash('sha1');
  const end = buf.length - HASH_LEN;
  for (let off = 0; off < end; off += 4 * PIECE) {
    hash.update(buf.subarray(off, Math.min(off + 4 * PIECE, end)));
    if (off + 4 * PIECE < end) await nextTick();
  }
  checkDigest(buf, file, hash.digest());
}

function checkHeader(buf: Buffer, file: string): void {
  if (!isSnapshot(buf)) throw new PersistenceError(`Wrong signature trying to load DB from file ${file}`, file, 0);
  if (buf.length < 14 + 1 + HASH_LEN) throw new PersistenceError(`Short read or OOM loading DB. Unrecoverable error, aborting now. (${file})`, file, buf.length);
  const version = buf.readUInt16LE(8);
  if (version > SNAPSHOT_VERSION) throw new PersistenceError(`Can't handle snapshot format version ${version} in ${file}`, file, 8);
}

function checkDigest(buf: Buffer, file: string, digest: Buffer): void {
  if (!digest.equals(buf.subarray(buf.length - HASH_LEN))) {
    throw new PersistenceError(`Wrong RDB checksum in ${file}: the file is corrupt (expected at offset ${buf.length - HASH_LEN}). Aborting now.`, file, buf.length - HASH_LEN);
  }
}

/** The header fields of a verified snapshot (server, ctime, and what the writer added: replication history). */
export function snapshotHeader(buf: Buffer): Record<string, unknown> {
  const n = buf.readUInt32LE(10);
  const h = unpackr.unpack(buf.subarray(14, 14 + n)) as unknown;
  return h !== null && typeof h === 'object' ? (h as Record<string, unknown>) : {};
}

/** Called for each decoded key; `value` may be a promise (a model being rebuilt). */
export type KeySink = (db: number, key: string, value: Value | Promise<Value>, expireAt: number) => void;

/**
 * Decodes a verified snapshot, handing each key to `sink`; yields to the event loop every few ms so the node
 * can answer -LOADING meanwhile. Keys whose expiry has passed are skipped (as a master does).
 */
export async function readSnapshot(
  buf: Buffer,
  file: string,
  ctx: DecodeContext,
  sink: KeySink,
  progress?: (offset: number) => void,
): Promise<LoadStats> {
  await verifySnapshotAsync(buf, file);
  const end = buf.length - HASH_LEN;
  let pos = 14 + buf.readUInt32LE(10);
  let db = 0;
  const stats: LoadStats = { keys: 0, expired: 0 };
  const now = Date.now();
  let sliceStart = performance.now();
  const fail = (what: string, at: number): never => {
    throw new PersistenceError(`Bad snapshot format in ${file} at offset ${at}: ${what}`, file, at);
  };
  for (;;) {
    if (pos >= end) fail('missing end marker', pos);
    const op = buf[pos];
    const at = pos;
    if (op === OP_EOF) break;
    if (op === OP_SELECTDB) {
      if (pos + 5 > end) fail('truncated record', at);
      db = buf.readUInt32LE(pos + 1);
      pos += 5;
      continue;
    }
    if (op !== OP_KEY) fail(`unknown record type ${op}`, at);
    if (pos + 5 > end) fail('truncated record', at);
    const mlen = buf.readUInt32LE(pos + 1);
    pos += 5;
    if (pos + mlen + 2 > end) fail('truncated record', at);
    let meta: unknown;
    try {
      meta = unpackr.unpack(buf.subarray(pos, pos + mlen));
    } catch {
      fail('undecodable record', at);
    }
    pos += mlen;
    const nblobs = buf.readUInt16LE(pos);
    pos += 2;
    const blobs: Buffer[] = [];
    for (let i = 0; i < nblobs; i++) {
      if (pos + 6 > end) fail('truncated blob', at);
      const len = buf.readUIntLE(pos, 6);
      pos += 6;
      if (pos + len > end) fail('truncated blob', at);
      // a copy: the loaded values must not pin the whole file's buffer
      blobs.push(Buffer.from(buf.subarray(pos, pos + len)));
      pos += len;
    }
    if (!Array.isArray(meta) || meta.length < 5 || typeof meta[0] !== 'string' || !Buffer.isBuffer(meta[1])) fail('bad key record', at);
    const [type, keyBuf, expireAt, version, fields] = meta as [string, Buffer, number, number, unknown];
    const codec = valueCodec(type);
    if (!codec) fail(`no codec for value type ${type}`, at);
    if (expireAt >= 0 && expireAt <= now) {
      stats.expired++;
    } else {
      let value: Value | Promise<Value>;
      try {
        value = codec!.decode(fields, blobs, version, ctx);
      } catch (e) {
        fail(`${type} value: ${(e as Error).message}`, at);
      }
      sink(db, keyBuf.toString('latin1'), value!, expireAt);
      stats.keys++;
    }
    if ((stats.keys & 63) === 0 && performance.now() - sliceStart > SLICE_MS) {
      progress?.(pos);
      await nextTick();
      sliceStart = performance.now();
    }
  }
  progress?.(buf.length);
  return stats;
}
