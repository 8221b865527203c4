// Tensors: the value behind AI_TENSOR keys (RedisAI's tensor.c). This file owns the dtype table, the memory
// layout (one contiguous, row-major, little-endian Buffer; STRING tensors add element offsets), building a tensor
// from a BLOB, from VALUES or zero-filled, the TENSORSET/TENSORGET argument grammar and the TENSORGET reply.
// It must never keep per-element JS arrays (a tensor travels to backends as its Buffer, without conversion)
// and never touches the keyspace: the commands in ./commands do the key work.

import { CommandError } from '../node/errors';
import type { ReplyWriter } from '../node/resp/writer';
import { own, parseBigInt, parseInteger } from '../node/commands/args';
import { AiErr } from './errors';

export type DTypeName = 'FLOAT' | 'DOUBLE' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'UINT8' | 'UINT16' | 'BOOL' | 'STRING';

export interface DType {
  name: DTypeName;
  /** DLPack type code: 0 int, 1 uint, 2 float, 6 bool, 7 string */
  code: number;
  bits: number;
  /** bytes per element (STRING: 1, its elements are variable-length) */
  bytes: number;
}

const dt = (name: DTypeName, code: number, bits: number): DType => ({ name, code, bits, bytes: bits / 8 });

export const DTYPES: Readonly<Record<DTypeName, DType>> = {
  FLOAT: dt('FLOAT', 2, 32),
  DOUBLE: dt('DOUBLE', 2, 64),
  INT8: dt('INT8', 0, 8),
  INT16: dt('INT16', 0, 16),
  INT32: dt('INT32', 0, 32),
  INT64: dt('INT64', 0, 64),
  UINT8: dt('UINT8', 1, 8),
  UINT16: dt('UINT16', 1, 16),
  BOOL: dt('BOOL', 6, 8),
  STRING: dt('STRING', 7, 8),
};

/** The dtype for a name in any case (`float`, `Int32`), or undefined. */
export function dtypeFromName(name: Buffer | string): DType | undefined {
  const s = (typeof name === 'string' ? name : name.toString('latin1')).toUpperCase();
  return Object.prototype.hasOwnProperty.call(DTYPES, s) ? DTYPES[s as DTypeName] : undefined;
}

export interface Tensor {
  dtype: DTypeName;
  /** dims, outermost first; [] for a scalar */
  shape: number[];
  /**
   * The elements, row-major, little-endian, tightly packed (BOOL: one byte each). STRING: the elements
   * joined, each followed by one NUL.
   */
  data: Buffer;
  /** STRING only: len+1 offsets into data; element i is data[offsets[i], offsets[i+1]-1) (its NUL excluded) */
  offsets?: Uint32Array;
}

/** The keyspace value of a tensor key; TYPE reports `AI_TENSOR`. */
export const TENSOR_TYPE = 'AI_TENSOR';
export interface TensorValue {
  type: typeof TENSOR_TYPE;
  value: Tensor;
}

/** Number of elements: the product of the dims (1 for a scalar). */
export function tensorLength(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Element i of a STRING tensor, without its NUL. */
export function stringElement(t: Tensor, i: number): Buffer {
  const o = t.offsets!;
  return t.data.subarray(o[i], o[i + 1] - 1);
}

// ------------------------------------------------------------------------------------------------ building

/** A tensor of zeros (STRING: every element the empty string, i.e. len NUL bytes). */
export function zeroTensor(dtype: DType, shape: number[]): Tensor {
  const len = tensorLength(shape);
  if (dtype.name === 'STRING') {
    const offsets = new Uint32Array(len + 1);
    for (let i = 0; i <= len; i++) offsets[i] = i;
    return { dtype: dtype.name, shape, data: Buffer.alloc(len), offsets };
  }
  return { dtype: dtype.name, shape, data: Buffer.alloc(len * dtype.bytes) };
}

/**
 * A tensor over `blob`, kept as it is (the caller passes a buffer it may keep, see args.own()). Checks as
 * RedisAI: the length for fixed-size types, 0/1 bytes for BOOL, the NUL count for STRING.
 */
export function tensorFromBlob(dtype: DType, shape: number[], blob: Buffer): Tensor {
  const len = tensorLength(shape);
  if (dtype.name === 'STRING') {
    // the elements, each NUL-terminated: exactly len NULs and the last byte a NUL
    // counted before the offsets are allocated: the shape alone may claim any number of elements
    let count = 0;
    for (let p = blob.indexOf(0); p >= 0 && count <= len; p = blob.indexOf(0, p + 1)) count++;
    if (count !== len || blob[blob.length - 1] !== 0) throw new CommandError(AiErr.stringBlobCount);
    const offsets = new Uint32Array(len + 1);
    for (let i = 1, p = blob.indexOf(0); i <= len; i++, p = blob.indexOf(0, p + 1)) offsets[i] = p + 1;
    return { dtype: dtype.name, shape, data: blob, offsets };
  }
  if (blob.length !== len * dtype.bytes) throw new CommandError(AiErr.blobLength);
  if (dtype.name === 'BOOL') {
    // RedisAI's quirk, kept on purpose: its loop runs `i < blob_len - 1`, so the LAST byte is not checked
    // (a BOOL blob ending in e.g. 7 is accepted and VALUES shows 7).
    for (let i = 0; i < blob.length - 1; i++) {
      if (blob[i] > 1) throw new CommandError(AiErr.boolElements);
    }
  }
  return { dtype: dtype.name, shape, data: blob };
}

/** Integer ranges for VALUES, by dtype. */
const INT_RANGE: Partial<Record<DTypeName, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  BOOL: [0, 1],
};

/**
 * A tensor from VALUES arguments `vals[start..start+len)`, written straight into the Buffer.
 * Floats: a strict double parse (as Redis's string2d), FLOAT stored as float32. Integers: a strict 64-bit
 * integer parse plus a range check. DELIBERATE DIVERGENCE from RedisAI: its overflow check casts to unsigned,
 * so it rejects every negative value of a signed type; here signed types take their whole range
 * (INT8 -128..127, ..., INT64 -2^63..2^63-1). Anything else is `ERR invalid value`.
 * STRING: any bytes, optionally ending in one NUL (not doubled); an interior NUL is an error.
 */
export function tensorFromValues(dtype: DType, shape: number[], vals: Buffer[], start: number): Tensor {
  const len = tensorLength(shape);
  const name = dtype.name;
  if (name === 'STRING') return stringTensorFromValues(shape, vals, start, len);
  const data = Buffer.alloc(len * dtype.bytes);
  switch (name) {
    case 'FLOAT':
      for (let i = 0; i < len; i++) data.writeFloatLE(parseTensorDouble(vals[start + i]), i * 4);
      break;
    case 'DOUBLE':
      for (let i = 0; i < len; i++) data.writeDoubleLE(parseTensorDouble(vals[start + i]), i * 8);
      break;
    case 'INT64':
      for (let i = 0; i < len; i++) {
        const v = parseBigInt(vals[start + i].toString('latin1'));
        if (v === null) throw new CommandError(AiErr.invalidValue);
        data.writeBigInt64LE(v, i * 8);
      }
      break;
    default: {
      const [min, max] = INT_RANGE[name]!;
      for (let i = 0; i < len; i++) {
        const v = parseInteger(vals[start + i], AiErr.invalidValue);
        if (v < min || v > max) throw new CommandError(AiErr.invalidValue);
        // two's complement little-endian, 1/2/4 bytes (negative values of signed types wrap as they should)
        if (dtype.bytes === 1) data[i] = v & 0xff;
        else if (dtype.bytes === 2) data.writeUInt16LE(v & 0xffff, i * 2);
        else data.writeInt32LE(v, i * 4);
      }
    }
  }
  return { dtype: name, shape, data };
}

function stringTensorFromValues(shape: number[], vals: Buffer[], start: number, len: number): Tensor {
  let total = 0;
  for (let i = 0; i < len; i++) {
    const v = vals[start + i];
    const z = v.indexOf(0);
    if (z >= 0 && z !== v.length - 1) throw new CommandError(AiErr.stringValueNul);
    total += (z >= 0 ? z : v.length) + 1;
  }
  const data = Buffer.alloc(total);
  const offsets = new Uint32Array(len + 1);
  let p = 0;
  for (let i = 0; i < len; i++) {
    const v = vals[start + i];
    const n = v.length > 0 && v[v.length - 1] === 0 ? v.length - 1 : v.length;
    v.copy(data, p, 0, n);
    p += n + 1; // the NUL is already there (Buffer.alloc)
    offsets[i + 1] = p;
  }
  return { dtype: 'STRING', shape, data, offsets };
}

const DEC_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX_RE = /^([+-]?)0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i;
const INF_RE = /^[+-]?inf(inity)?$/i;

/**
 * A double as Redis's string2d (strtod, the whole string, no leading space, no NaN, no overflow to ±inf,
 * no underflow to 0): decimal, hex floats and inf/infinity are accepted. Throws `ERR invalid value`.
 */
export function parseTensorDouble(b: Buffer): number {
  const s = b.toString('latin1');
  if (DEC_RE.test(s)) {
    const d = Number(s);
    if (!Number.isFinite(d)) throw new CommandError(AiErr.invalidValue); // ERANGE overflow
    if (d === 0 && /[1-9]/.test(s.split(/e/i)[0])) throw new CommandError(AiErr.invalidValue); // underflow
    return d;
  }
  if (INF_RE.test(s)) return s[0] === '-' ? -Infinity : Infinity;
  const h = HEX_RE.exec(s);
  if (h && (h[2].length > 0 || (h[3] ?? '').length > 0)) {
    const digits = h[2] + (h[3] ?? '');
    const exp = Number(h[4] ?? 0) - 4 * (h[3] ?? '').length;
    const mant = Number(BigInt('0x' + (digits.length ? digits : '0')));
    let d = mant * Math.pow(2, exp);
    if (!Number.isFinite(d) || (d === 0 && mant !== 0)) throw new CommandError(AiErr.invalidValue);
    if (h[1] === '-') d = -d;
    return d;
  }
  throw new CommandError(AiErr.invalidValue);
}

// -------------------------------------------------------------------------------------- command grammar

/**
 * AI.TENSORSET's arguments after the key: `<type> [<dim> ...] [BLOB <data> | VALUES <v> ...]`, with argv[0]
 * the command and argv[1] the key (the key check is the caller's, it comes first). Checks in RedisAI's
 * order: dtype; dims up to the first BLOB/VALUES; exactly one argument after BLOB; exactly len after
 * VALUES; then the data. Without BLOB/VALUES the tensor is zero-filled, up to `maxZeroBytes`.
 */
export function parseTensorSetArgs(argv: Buffer[], maxZeroBytes: number): Tensor {
  const dtype = dtypeFromName(argv[2]);
  if (!dtype) throw new CommandError(AiErr.invalidDataType);
  const shape: number[] = [];
  let fmt: 'blob' | 'values' | null = null;
  let pos = 3;
  for (; pos < argv.length; pos++) {
    const a = argv[pos];
    if (a.length === 4 && a.toString('latin1').toUpperCase() === 'BLOB') {
      fmt = 'blob';
      if (pos + 1 !== argv.length - 1) throw new CommandError(AiErr.singleBlob);
      break;
    }
    if (a.length === 6 && a.toString('latin1').toUpperCase() === 'VALUES') {
      fmt = 'values';
      break;
    }
    const d = parseInteger(a, AiErr.invalidShape);
    if (d <= 0) throw new CommandError(AiErr.invalidShape);
    shape.push(d);
  }
  const len = tensorLength(shape);
  if (fmt === 'values') {
    if (argv.length - (pos + 1) !== len) throw new CommandError(AiErr.wrongValueCount);
    return tensorFromValues(dtype, shape, argv, pos + 1);
  }
  // the BLOB becomes the tensor's data: own() copies it off the socket's read chunk unless it already owns
  // its buffer (big bulks do, so big blobs are kept without a copy)
  if (fmt === 'blob') return tensorFromBlob(dtype, shape, own(argv[pos + 1]));
  if (len * dtype.bytes > maxZeroBytes) throw new CommandError(AiErr.tensorTooLarge);
  return zeroTensor(dtype, shape);
}

export interface TensorGetFormat {
  meta: boolean;
  blob: boolean;
  values: boolean;
}

/**
 * AI.TENSORGET's format words (argv[2..]), as RedisAI's ParseTensorGetFormat: none means META BLOB; words in
 * any order and case, repeats allowed; an unknown word is checked before BLOB-with-VALUES.
 */
export function parseTensorGetFormat(argv: Buffer[], from = 2): TensorGetFormat {
  if (argv.length <= from) return { meta: true, blob: true, values: false };
  const f: TensorGetFormat = { meta: false, blob: false, values: false };
  for (let i = from; i < argv.length; i++) {
    const w = argv[i].toString('latin1').toUpperCase();
    if (w === 'META') f.meta = true;
    else if (w === 'BLOB') f.blob = true;
    else if (w === 'VALUES') f.values = true;
    else throw new CommandError(AiErr.unsupportedFormat);
  }
  if (f.blob && f.values) throw new CommandError(AiErr.blobAndValues);
  return f;
}

// ------------------------------------------------------------------------------------------------ replies

/**
 * The TENSORGET reply: META = ["dtype", TYPE, "shape", [dims]], followed by "blob", <bulk> or "values", [...];
 * without META just the bulk or the array. Plain arrays in RESP2 and RESP3, as RedisAI.
 */
export function replyTensor(out: ReplyWriter, t: Tensor, f: TensorGetFormat): void {
  if (f.meta) {
    out.array(f.blob || f.values ? 6 : 4);
    out.bulk('dtype').bulk(t.dtype).bulk('shape').array(t.shape.length);
    for (const d of t.shape) out.int(d);
    if (f.blob) out.bulk('blob');
    else if (f.values) out.bulk('values');
  }
  if (f.blob) out.bulk(t.data);
  else if (f.values) replyValues(out, t);
}

/**
 * The elements as a flat array: FLOAT (widened) and DOUBLE as doubles (bulk in RESP2, `,` in RESP3, the
 * shortest round-trip form), integer types and BOOL as integers, STRING elements as bulks.
 */
export function replyValues(out: ReplyWriter, t: Tensor): void {
  const len = tensorLength(t.shape);
  const d = t.data;
  out.array(len);
  switch (t.dtype) {
    case 'FLOAT':
      for (let i = 0; i < len; i++) out.double(d.readFloatLE(i * 4));
      break;
    case 'DOUBLE':
      for (let i = 0; i < len; i++) out.double(d.readDoubleLE(i * 8));
      break;
    case 'INT8':
      for (let i = 0; i < len; i++) out.int(d.readInt8(i));
      break;
    case 'INT16':
      for (let i = 0; i < len; i++) out.int(d.readInt16LE(i * 2));
      break;
    case 'INT32':
      for (let i = 0; i < len; i++) out.int(d.readInt32LE(i * 4));
      break;
    case 'INT64':
      for (let i = 0; i < len; i++) out.int(d.readBigInt64LE(i * 8));
      break;
    case 'UINT8':
    case 'BOOL':
      for (let i = 0; i < len; i++) out.int(d[i]);
      break;
    case 'UINT16':
      for (let i = 0; i < len; i++) out.int(d.readUInt16LE(i * 2));
      break;
    case 'STRING':
      for (let i = 0; i < len; i++) out.bulk(stringElement(t, i));
      break;
  }
}
