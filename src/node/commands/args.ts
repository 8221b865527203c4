// Argument parsing shared by command handlers, with Redis's exact error texts.

import { CommandError, Err } from '../errors';

const INT_RE = /^(0|-?[1-9]\d*)$/; // as string2ll: "-0", "01", "+1", " 1" are not integers

// latin1Slice skips toString's argument checks: keys are decoded for nearly every command
type Latin1 = { latin1Slice(start: number, end: number): string };
export const str = (b: Buffer): string => (b as unknown as Latin1).latin1Slice(0, b.length);
export const lower = (b: Buffer): string => b.toString('latin1').toLowerCase();

/** A 64-bit signed integer as a JS number (Redis's string2ll); exact within ±2^53. */
export function parseInteger(b: Buffer, err: string = Err.notInteger): number {
  const s = b.toString('latin1');
  if (!INT_RE.test(s) || s.length > 20) throw new CommandError(err);
  const n = Number(s);
  if (n > 9223372036854775807 || n < -9223372036854775808) throw new CommandError(err);
  return n;
}

/** An exact 64-bit signed integer (for INCR/DECR arithmetic); null when not one. */
export function parseBigInt(s: string): bigint | null {
  if (!INT_RE.test(s) || s.length > 20) return null;
  const n = BigInt(s);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return null;
  return n;
}

/** A double as Redis's string2ld/getDoubleFromObject: accepts inf, -inf, exponents; not NaN or spaces. */
export function parseFloatArg(b: Buffer, err: string = Err.notFloat): number {
  const s = b.toString('latin1');
  if (s.length === 0 || /\s/.test(s)) throw new CommandError(err);
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw new CommandError(err);
  return Number(s);
}

/** A non-negative integer count (e.g. COUNT of SCAN / LPOP). */
export function parsePositive(b: Buffer, err: string = Err.notInteger): number {
  const n = parseInteger(b, err);
  if (n < 0) throw new CommandError(err);
  return n;
}

export function syntaxError(): never {
  throw new CommandError(Err.syntax);
}

/**
 * A Buffer safe to keep in the keyspace. Argument buffers are views into the socket's read chunk;
 * keeping one would pin the whole chunk, so small ones are copied. Big bulk strings already own
 * an exact-size buffer and are kept as they are.
 */
export function own(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const copy = Buffer.allocUnsafe(b.length); // pooled for small sizes; faster than Buffer.from(buffer)
  copy.set(b);
  return copy;
}
