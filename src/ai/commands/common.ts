// Argument and keyspace helpers shared by the AI commands (models, scripts, tensors): RedisAI's parsing rules
// and error texts in one place.

import type { Client } from '../../node/client';
import { CommandError, Err } from '../../node/errors';
import { parseInteger } from '../../node/commands/args';
import { readValue } from '../../node/commands/lookup';
import type { BackendTensor } from '../../backends/backend';
import { AiErr } from '../errors';
import { DTYPES, tensorFromBlob, tensorLength, TENSOR_TYPE, zeroTensor, type Tensor, type TensorValue } from '../tensor';

export const upper = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1').toUpperCase());

/** RedisAI's arity error (RedisModule_WrongArity) echoes the command name as the client typed it. */
export function wrongArity(argv: Buffer[]): never {
  throw new CommandError(Err.wrongArity(argv[0].toString('latin1')));
}

/** A backend failure as the reply text: the backend's own message with newlines turned into spaces. */
export function backendError(e: unknown): CommandError {
  if (e instanceof CommandError) return e;
  return new CommandError(String((e as Error)?.message ?? e).replace(/[\r\n]+/g, ' '));
}

const DEVICE_RE = /^(CPU|GPU)(:\d*)?$/i;

/** A device word (CPU, GPU:0 ...) as typed, checked as RedisAI does. */
export function parseDevice(b: Buffer): string {
  const device = b.toString('latin1');
  if (!DEVICE_RE.test(device) || device.length >= 10) throw new CommandError(AiErr.invalidDevice);
  return device;
}

/** An optional `TAG <tag>` at `pos`: the tag (empty when absent) and the position after it. */
export function parseTag(argv: Buffer[], pos: number): [Buffer, number] {
  if (upper(argv[pos]) === 'TAG' && pos + 1 < argv.length) return [Buffer.from(argv[pos + 1]), pos + 2];
  return [Buffer.alloc(0), pos];
}

/** TIMEOUT's value: an integer > 0. */
export function parseTimeout(b: Buffer): number {
  let t: number;
  try {
    t = parseInteger(b);
  } catch {
    throw new CommandError(AiErr.timeoutInvalid);
  }
  if (t <= 0) throw new CommandError(AiErr.timeoutInvalid);
  return t;
}

/** The tensor at `key`, read now (tensors are immutable values: a reference is a snapshot). */
export function readTensor(c: Client, key: string): Tensor {
  const v = readValue<TensorValue>(c, key, TENSOR_TYPE);
  if (v === undefined) throw new CommandError(AiErr.tensorKeyEmpty);
  return v.value;
}

/** Output keys must be missing or tensors (checked before a run and again before writing). */
export function checkOutputKeys(c: Client, keys: string[]): void {
  for (const k of keys) {
    const v = c.db.lookup(k);
    if (v !== undefined && v.type !== TENSOR_TYPE) throw new CommandError(Err.wrongType);
  }
}

/** A backend output (bytes it handed over) as a keyspace tensor, without copying fixed-size data. */
export function outputTensor(o: BackendTensor): Tensor {
  const data = Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength);
  if (o.dtype !== 'STRING') return { dtype: o.dtype, shape: o.shape, data };
  if (tensorLength(o.shape) === 0) return zeroTensor(DTYPES.STRING, o.shape);
  return tensorFromBlob(DTYPES.STRING, o.shape, data);
}

/** AI.TENSORSET <key> <DTYPE> <dims...> BLOB <data>: how a written output reaches replicas and the AOF. */
export function tensorSetArgv(key: string, t: Tensor): Buffer[] {
  return [Buffer.from('AI.TENSORSET'), Buffer.from(key, 'latin1'), Buffer.from(t.dtype), ...t.shape.map((d) => Buffer.from(String(d))), Buffer.from('BLOB'), t.data];
}
