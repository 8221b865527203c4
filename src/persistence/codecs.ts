// Value codecs: how each keyspace type is written to and read back from a snapshot record. A codec turns a
// value into `fields` (small, msgpack-encoded) and `blobs` (raw bytes, written as they are: string values,
// tensor data, model blobs, never per element), and back. Decoding may be asynchronous (a model is rebuilt in
// its backend's worker); the loader waits for every pending decode before the node accepts commands.
// Subsystems add their types with registerValueCodec(type, codec) (the AI types are in ./ai-codecs.ts); a type
// that commands change in place must also give `copy`, for copy-on-write while a snapshot is written.

import type { Server } from '../node/server';
import { registerCopyOnWrite, type Value } from '../node/keyspace';
import { ListDeque } from '../node/commands/t_list';

export interface EncodedValue {
  /** anything msgpack can encode (arrays, numbers, strings, Buffers); keep it small */
  fields?: unknown;
  /** raw byte payloads, stored length-prefixed after the record's fields */
  blobs?: Buffer[];
}

export interface DecodeContext {
  server: Server;
}

export interface ValueCodec {
  /** record format version of this type, stored in each record (decode sees it) */
  version: number;
  encode(value: Value): EncodedValue;
  decode(fields: unknown, blobs: Buffer[], version: number, ctx: DecodeContext): Value | Promise<Value>;
  /**
   * For types that commands change in place (through Database.getForWrite): a copy of the value, made the first
   * time it is written while a snapshot is being taken (copy-on-write). Types replaced on write leave it out.
   */
  copy?: (value: Value) => Value;
}

const codecs = new Map<string, ValueCodec>();

/** Adds (or replaces) the codec of a keyspace type; its name is the value's `type` (what TYPE answers). */
export function registerValueCodec(type: string, codec: ValueCodec): void {
  codecs.set(type, codec);
  if (codec.copy) registerCopyOnWrite(type, codec.copy);
}

export function valueCodec(type: string): ValueCodec | undefined {
  return codecs.get(type);
}

const latin1 = (s: string) => Buffer.from(s, 'latin1');

function asArray(x: unknown, what: string): unknown[] {
  if (!Array.isArray(x)) throw new Error(`bad ${what} record`);
  return x;
}

function asBuffer(x: unknown, what: string): Buffer {
  if (!Buffer.isBuffer(x)) throw new Error(`bad ${what} record`);
  return x;
}

registerValueCodec('string', {
  version: 1,
  encode: (v) => ({ blobs: [v.value as Buffer] }),
  // checked: a damaged RESTORE payload without its blob made a string whose every later use threw (bench/fuzz.mjs)
  decode: (_f, blobs) => ({ type: 'string', value: asBuffer(blobs[0], 'string') }),
});

registerValueCodec('list', {
  version: 1,
  encode: (v) => ({ fields: (v.value as ListDeque).toArray() }),
  decode: (f) => ({ type: 'list', value: ListDeque.from(asArray(f, 'list').map((x) => asBuffer(x, 'list'))) }),
});

registerValueCodec('hash', {
  version: 1,
  encode: (v) => {
    const flat: Buffer[] = [];
    for (const [k, x] of v.value as Map<string, Buffer>) flat.push(latin1(k), x);
    return { fields: flat };
  },
  decode: (f) => {
    const a = asArray(f, 'hash');
    const m = new Map<string, Buffer>();
    for (let i = 0; i + 1 < a.length; i += 2) m.set(asBuffer(a[i], 'hash').toString('latin1'), asBuffer(a[i + 1], 'hash'));
    return { type: 'hash', value: m };
  },
});

registerValueCodec('set', {
  version: 1,
  encode: (v) => ({ fields: [...(v.value as Set<string>)].map(latin1) }),
  decode: (f) => ({ type: 'set', value: new Set(asArray(f, 'set').map((x) => asBuffer(x, 'set').toString('latin1'))) }),
});
