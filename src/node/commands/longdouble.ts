// x86-64 `long double` (80-bit extended precision: 64-bit significand) arithmetic, exact to the bit, for
// INCRBYFLOAT / HINCRBYFLOAT. Redis parses both operands with strtold, adds them in long double and
// prints the sum with "%.17Lf" minus trailing zeros, so e.g. 0.1 + 0.2 gives "0.3" (a JS double sum
// would give "0.30000000000000004"). Values are kept as sign * m * 2^e with BigInt significands.

export interface LongDouble {
  neg: boolean;
  /** significand, < 2^64 (>= 2^63 unless subnormal or zero) */
  m: bigint;
  e: number;
  /** +/- infinity (m and e unused) */
  inf?: boolean;
}

const SIG_BITS = 64;
const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;
/** exponent of the smallest subnormal (2^-16445) as m * 2^e with m = 1 */
const MIN_E = -16445;
/** largest finite value is (2^64 - 1) * 2^16320 */
const MAX_E = 16384 - SIG_BITS;
/** strtold input is limited as Redis's string2ld (MAX_LONG_DOUBLE_CHARS) */
const MAX_CHARS = 5 * 1024;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Rounds neg * (num / den) * 2^exp2 to the nearest long double (ties to even). num, den > 0. */
function round(neg: boolean, num: bigint, den: bigint, exp2: number): LongDouble {
  if (num === 0n) return { neg, m: 0n, e: 0 };
  // pick e so that 2^63 <= num / den * 2^(exp2 - e) < 2^64
  let e = exp2 + bitLength(num) - bitLength(den) - SIG_BITS;
  const quotient = (shift: number): [bigint, bigint, bigint] => {
    // returns [q, rem, divisor] for num * 2^shift / den
    if (shift >= 0) return [(num << BigInt(shift)) / den, (num << BigInt(shift)) % den, den];
    const d = den << BigInt(-shift);
    return [num / d, num % d, d];
  };
  let [q, rem, d] = quotient(exp2 - e);
  if (q >= TWO64) {
    e++;
    [q, rem, d] = quotient(exp2 - e);
  } else if (q < TWO63) {
    e--;
    [q, rem, d] = quotient(exp2 - e);
  }
  if (e < MIN_E) {
    e = MIN_E; // subnormal: fewer significant bits
    [q, rem, d] = quotient(exp2 - e);
  }
  const twice = rem * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q++;
  if (q === TWO64) {
    q >>= 1n;
    e++;
  }
  if (e > MAX_E) return { neg, m: 0n, e: 0, inf: true };
  return { neg, m: q, e };
}

/**
 * Parses a number as Redis's string2ld (strtold, whole string, no leading space, no NaN, no overflow,
 * no underflow to zero). Returns null when Redis would answer "value is not a valid float".
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_CHARS) return null;
  let i = 0;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    i = 1;
  }
  const rest = s.slice(i).toLowerCase();
  if (rest === 'inf' || rest === 'infinity') return { neg, m: 0n, e: 0, inf: true };
  if (rest.startsWith('0x')) return parseHex(neg, rest.slice(2));
  const m = /^(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(rest);
  if (!m) return null;
  const intDigits = m[1];
  const fracDigits = m[2] ?? '';
  if (intDigits.length + fracDigits.length === 0) return null;
  const digits = (intDigits + fracDigits).replace(/^0+/, '');
  if (digits === '') return { neg, m: 0n, e: 0 };
  // value = digits * 10^exp10
  const expText = m[3] ?? '0';
  const expNum = Number(expText);
  let exp10 = (Number.isFinite(expNum) ? expNum : expText.startsWith('-') ? -1e9 : 1e9) - fracDigits.length;
  if (Math.abs(exp10) > 1e8) exp10 = Math.sign(exp10) * 1e8;
  const magnitude = digits.length + exp10; // value < 10^magnitude
  if (magnitude > 4934) return null; // overflow (max is about 1.19e4932)
  if (magnitude < -4952) return null; // underflow to zero
  const D = BigInt(digits);
  const r = exp10 >= 0 ? round(neg, D * 10n ** BigInt(exp10), 1n, 0) : round(neg, D, 10n ** BigInt(-exp10), 0);
  if (r.inf) return null;
  if (r.m === 0n) return null;
  return r;
}

function parseHex(neg: boolean, s: string): LongDouble | null {
  const m = /^([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/.exec(s);
  if (!m) return null;
  const intDigits = m[1];
  const fracDigits = m[2] ?? '';
  if (intDigits.length + fracDigits.length === 0) return null;
  const H = BigInt('0x' + (intDigits + fracDigits || '0'));
  if (H === 0n) return { neg, m: 0n, e: 0 };
  let exp2 = Number(m[3] ?? '0');
  if (!Number.isFinite(exp2) || Math.abs(exp2) > 1e8) exp2 = Math.sign(exp2 || 1) * 1e8;
  exp2 -= 4 * fracDigits.length;
  if (exp2 + bitLength(H) > 16400) return null;
  if (exp2 + bitLength(H) < -16500) return null;
  const r = round(neg, H, 1n, exp2);
  if (r.inf || r.m === 0n) return null;
  return r;
}

/** a + b, rounded once, as the x87 FPU does at extended precision. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return { neg: false, m: 0n, e: 0, inf: true }; // NaN; callers treat as error
    return { neg: a.inf ? a.neg : b.neg, m: 0n, e: 0, inf: true };
  }
  if (a.m === 0n && b.m === 0n) return { neg: a.neg && b.neg, m: 0n, e: 0 };
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const A = (a.m << BigInt(a.e - e)) * (a.neg ? -1n : 1n);
  const B = (b.m << BigInt(b.e - e)) * (b.neg ? -1n : 1n);
  const S = A + B;
  if (S === 0n) return { neg: false, m: 0n, e: 0 };
  return round(S < 0n, S < 0n ? -S : S, 1n, e);
}

/** Redis's ld2string(LD_STR_HUMAN): "%.17Lf" with trailing zeros (and a bare '.') removed; "-0" is "0". */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? '-inf' : 'inf';
  const SCALE = 10n ** 17n;
  let q: bigint;
  if (v.e >= 0) q = (v.m << BigInt(v.e)) * SCALE;
  else {
    const shift = BigInt(-v.e);
    const scaled = v.m * SCALE;
    q = scaled >> shift;
    const rem = scaled - (q << shift);
    const half = 1n << (shift - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q++;
  }
  const intPart = (q / SCALE).toString();
  const frac = (q % SCALE).toString().padStart(17, '0').replace(/0+$/, '');
  let out = (v.neg ? '-' : '') + intPart + (frac ? '.' + frac : '');
  if (out === '-0') out = '0';
  return out;
}

/**
 * INCRBYFLOAT arithmetic: `current` (the stored text, or null for a missing key) plus `increment`.
 * Returns the new text, 'invalid' when an operand is not a valid float, 'nan-or-inf' when the sum is not finite.
 */
export function incrByFloatText(current: string | null, increment: string): string | 'invalid' | 'nan-or-inf' {
  const cur = current === null ? { neg: false, m: 0n, e: 0 } : parseLongDouble(current);
  if (!cur) return 'invalid';
  const inc = parseLongDouble(increment);
  if (!inc) return 'invalid';
  const sum = addLongDouble(cur, inc);
  if (sum.inf) return 'nan-or-inf';
  return formatLongDoubleHuman(sum);
}
