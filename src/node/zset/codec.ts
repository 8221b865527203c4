// The snapshot codec of sorted sets: fields = member count; two blobs, the scores as little-endian doubles
// and the members as (uint32 LE length, bytes) runs, both in (score, member) order so loading rebuilds the
// skip list by appending, in O(n).

import { registerValueCodec } from '../../persistence/codecs';
import { ZSet } from './skiplist';
import type { ZSetValue } from './index';

export function encodeZSet(z: ZSet): { count: number; scores: Buffer; members: Buffer } {
  const n = z.size;
  const scores = Buffer.allocUnsafe(8 * n);
  let bytes = 0;
  for (let x = z.first(); x; x = x.next[0]) bytes += 4 + x.member.length;
  const members = Buffer.allocUnsafe(bytes);
  let i = 0;
  let off = 0;
  for (let x = z.first(); x; x = x.next[0], i++) {
    scores.writeDoubleLE(x.score, 8 * i);
    members.writeUInt32LE(x.member.length, off);
    off += 4;
    off += members.write(x.member, off, 'latin1');
  }
  return { count: n, scores, members };
}

export function decodeZSet(count: number, scores: Buffer, members: Buffer): ZSet {
  if (scores.length !== 8 * count) throw new Error('bad zset record');
  const names: string[] = new Array<string>(count);
  const values = new Float64Array(count);
  let off = 0;
  for (let i = 0; i < count; i++) {
    if (off + 4 > members.length) throw new Error('bad zset record');
    const len = members.readUInt32LE(off);
    off += 4;
    if (off + len > members.length) throw new Error('bad zset record');
    names[i] = members.toString('latin1', off, off + len);
    off += len;
    values[i] = scores.readDoubleLE(8 * i);
  }
  if (off !== members.length) throw new Error('bad zset record');
  return ZSet.fromSorted(names, values);
}

registerValueCodec('zset', {
  version: 1,
  // commands change sorted sets in place: copy-on-write while a snapshot is written
  copy: (v) => {
    const copy: ZSetValue = { type: 'zset', value: (v as ZSetValue).value.clone() };
    return copy;
  },
  encode: (v) => {
    const { count, scores, members } = encodeZSet((v as ZSetValue).value);
    return { fields: count, blobs: [scores, members] };
  },
  decode: (fields, blobs) => {
    if (typeof fields !== 'number' || blobs.length !== 2) throw new Error('bad zset record');
    const value: ZSetValue = { type: 'zset', value: decodeZSet(fields, blobs[0], blobs[1]) };
    return value;
  },
});
