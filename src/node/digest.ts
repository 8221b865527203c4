// DEBUG DIGEST / DEBUG DIGEST-VALUE: a fingerprint of the data set that does not depend on key order, so that
// two nodes holding the same data (a master and its replicas, a node before and after a reload) give the same
// 40 hex chars. Not Redis's exact digest function (its values for strings would need its encodings), but the
// same contract: 40 zeros for an empty data set, one digest per key XOR-ed together, expiry included.

import * as crypto from 'node:crypto';
import { pack } from 'msgpackr';
import type { Database, Value } from './keyspace';
import type { ListDeque } from './commands/t_list';
import type { ZSet } from './zset/skiplist';
import { valueCodec } from '../persistence/codecs';
import { encodeStream } from './stream/codec';
import type { Stream } from './stream/stream';

const ZERO = '0'.repeat(40);

function lengthPrefixed(h: crypto.Hash, b: Buffer | string): void {
  const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32LE(buf.length);
  h.update(len);
  h.update(buf);
}

/** The digest of one value (DEBUG DIGEST-VALUE), or 40 zeros for a missing key. */
export function valueDigest(v: Value | undefined): Buffer {
  if (!v) return Buffer.alloc(20);
  const h = crypto.createHash('sha1');
  lengthPrefixed(h, v.type);
  switch (v.type) {
    case 'string':
      lengthPrefixed(h, v.value as Buffer);
      break;
    case 'list':
      for (const e of (v.value as ListDeque).toArray()) lengthPrefixed(h, e);
      break;
    case 'hash':
      for (const [f, x] of [...(v.value as Map<string, Buffer>)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        lengthPrefixed(h, f);
        lengthPrefixed(h, x);
      }
      break;
    case 'set':
      for (const m of [...(v.value as Set<string>)].sort()) lengthPrefixed(h, m);
      break;
    case 'zset': {
      const score = Buffer.allocUnsafe(8);
      for (const [m, s] of [...(v.value as ZSet).dict].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        lengthPrefixed(h, m);
        score.writeDoubleLE(s);
        h.update(score);
      }
      break;
    }
    case 'stream': {
      // entries in order, then the groups through the stream codec's fields (ids, PEL, consumers)
      const enc = encodeStream(v.value as Stream);
      lengthPrefixed(h, pack(enc.fields));
      for (const b of enc.blobs) lengthPrefixed(h, b);
      break;
    }
    default: {
      // other types (tensors, models, scripts ...) through their snapshot codec: the bytes they persist
      const codec = valueCodec(v.type);
      if (!codec) break;
      const enc = codec.encode(v);
      lengthPrefixed(h, pack(enc.fields ?? null));
      for (const b of enc.blobs ?? []) lengthPrefixed(h, b);
    }
  }
  return h.digest();
}

/** DEBUG DIGEST: XOR of sha1(db, key, value digest, expiry) over every key of every database. */
export function datasetDigest(dbs: Database[]): string {
  const acc = Buffer.alloc(20);
  let any = false;
  for (const db of dbs) {
    for (const [key, v] of db.map) {
      any = true;
      const h = crypto.createHash('sha1');
      h.update(String(db.id));
      lengthPrefixed(h, key);
      h.update(valueDigest(v));
      const at = db.expires.get(key);
      if (at !== undefined) h.update(String(at));
      const d = h.digest();
      for (let i = 0; i < 20; i++) acc[i] ^= d[i];
    }
  }
  return any ? acc.toString('hex') : ZERO;
}
