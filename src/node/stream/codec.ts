// The snapshot codec of streams: fields = [meta, groups], blobs = every field/value of every entry in order.
// meta = [lastMs, lastSeq, maxDelMs, maxDelSeq, entriesAdded, count, ...per entry: ms, seq, nfields].
// groups = [[name, lastMs, lastSeq, entriesRead, consumers[[name, seenTime]], pel[[ms, seq, consumer, time, count]]]].

import { registerValueCodec } from '../../persistence/codecs';
import { ConsumerGroup, Stream, type StreamValue } from './stream';

export function encodeStream(s: Stream): { fields: unknown; blobs: Buffer[] } {
  const meta: number[] = [s.lastId.ms, s.lastId.seq, s.maxDeletedId.ms, s.maxDeletedId.seq, s.entriesAdded, s.length];
  const blobs: Buffer[] = [];
  for (const e of s.entries()) {
    meta.push(e.id.ms, e.id.seq, e.fv.length);
    for (const b of e.fv) blobs.push(b);
  }
  const groups: unknown[] = [];
  for (const [name, g] of s.groups) {
    const consumers = [...g.consumers.values()].map((c) => [c.name, c.seenTime]);
    const pel = g.pendingRange({ ms: 0, seq: 0 }, { ms: 2 ** 64, seq: 2 ** 64 }).map((p) => [p.id.ms, p.id.seq, p.consumer.name, p.deliveryTime, p.deliveryCount]);
    groups.push([name, g.lastId.ms, g.lastId.seq, g.entriesRead, consumers, pel]);
  }
  return { fields: [meta, groups], blobs };
}

export function decodeStream(fields: unknown, blobs: Buffer[]): Stream {
  if (!Array.isArray(fields) || fields.length !== 2) throw new Error('bad stream record');
  const [meta, groups] = fields as [number[], unknown[][]];
  const s = new Stream();
  const n = meta[5];
  let b = 0;
  for (let i = 0; i < n; i++) {
    const ms = meta[6 + 3 * i];
    const seq = meta[7 + 3 * i];
    const nf = meta[8 + 3 * i];
    s.append({ ms, seq }, blobs.slice(b, b + nf));
    b += nf;
  }
  if (b !== blobs.length) throw new Error('bad stream record');
  s.lastId = { ms: meta[0], seq: meta[1] };
  s.maxDeletedId = { ms: meta[2], seq: meta[3] };
  s.entriesAdded = meta[4];
  for (const g of groups) {
    const [name, lms, lseq, er, consumers, pel] = g as [string, number, number, number, [string, number][], [number, number, string, number, number][]];
    const cg = new ConsumerGroup({ ms: lms, seq: lseq }, er);
    for (const [cn, seen] of consumers) cg.consumers.set(cn, { name: cn, seenTime: seen, pel: new Map() });
    for (const [ms, seq, cn, t, cnt] of pel) cg.addPending({ id: { ms, seq }, consumer: cg.consumer(cn, t, true)!, deliveryTime: t, deliveryCount: cnt });
    s.groups.set(name, cg);
  }
  return s;
}

registerValueCodec('stream', {
  version: 1,
  encode: (v) => encodeStream((v as StreamValue).value),
  decode: (f, blobs) => ({ type: 'stream', value: decodeStream(f, blobs) }),
  copy: (v) => ({ type: 'stream', value: (v as StreamValue).value.clone() }),
});
