// Scores as Redis 7.0 reads and writes them: C strtod's grammar (inf, infinity, hex floats, exponents), the
// two ways Redis checks its result (string2d for scores, zslParseRange's looser check for ranges), and
// "%.17g" for replies.

const SPACE = ' \t\n\v\f\r';

interface Strtod {
  value: number;
  /** glibc would set ERANGE: overflow to infinity, or a non-zero literal that rounds to 0 */
  erange: boolean;
}

const DEC_RE = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX_RE = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?(?:p([+-]?\d+))?$/i;
const NAN_RE = /^nan(\([0-9a-z_]*\))?$/i;

/** C strtod over the whole of `s` (after leading white space); null when it would not consume it all. */
function strtodAll(s: string): Strtod | null {
  let i = 0;
  while (i < s.length && SPACE.includes(s[i])) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  const body = s.slice(i);
  const l = body.toLowerCase();
  let value: number;
  let erange = false;
  if (l === 'inf' || l === 'infinity') value = Infinity;
  else if (NAN_RE.test(body)) value = NaN;
  else if (DEC_RE.test(body)) {
    value = Number(body);
    if (value === Infinity) erange = true;
    else if (value === 0 && /[1-9]/.test(body.replace(/e.*$/i, ''))) erange = true;
  } else {
    const m = HEX_RE.exec(body);
    if (!m || (m[1] + (m[2] ?? '')).length === 0) return null;
    const digits = m[1] + (m[2] ?? '');
    const exp = Number(m[3] ?? '0') - 4 * (m[2]?.length ?? 0);
    const mant = Number(BigInt('0x' + digits));
    value = mant === 0 ? 0 : mant * 2 ** exp;
    if (!Number.isFinite(value) && mant !== 0) {
      // split the scaling so huge mantissas with negative exponents do not overflow on the way
      value = mant * 2 ** Math.max(exp, -1000) * 2 ** (exp - Math.max(exp, -1000));
    }
    if (value === Infinity) erange = true;
    else if (value === 0 && mant !== 0) erange = true;
  }
  return { value: neg ? -value : value, erange };
}

/** A score argument as Redis's string2d: no leading space, no overflow, no NaN. null when invalid. */
export function parseScore(b: Buffer): number | null {
  const s = b.toString('latin1');
  if (s.length === 0 || SPACE.includes(s[0])) return null;
  const r = strtodAll(s);
  if (r === null || Number.isNaN(r.value)) return null;
  if (r.erange && (r.value === 0 || !Number.isFinite(r.value))) return null;
  return r.value;
}

/** A range end as zslParseRange reads it (plain strtod up to a NUL: leading space, "" and overflow pass). */
export function parseRangeScore(s: string): number | null {
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  if (s.length === 0) return 0;
  const r = strtodAll(s);
  if (r === null || Number.isNaN(r.value)) return null;
  return r.value;
}

/** C's "%.17g" (Redis 7.0's addReplyDouble and d2string), with inf / -inf / nan. */
export function formatScore(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (Number.isInteger(d) && d < 1e17 && d > -1e17) return String(d);
  const e = d.toExponential(16); // 17 significant digits, exactly rounded
  const epos = e.indexOf('e');
  const exp = Number(e.slice(epos + 1));
  const neg = e[0] === '-';
  const digits = e.slice(neg ? 1 : 0, epos).replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 17) {
    let mant = digits[0] + '.' + digits.slice(1);
    mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const ae = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  let out: string;
  if (exp >= 0) {
    const int = digits.slice(0, exp + 1);
    const frac = digits.slice(exp + 1).replace(/0+$/, '');
    out = frac.length ? `${int}.${frac}` : int;
  } else {
    const frac = ('0'.repeat(-exp - 1) + digits).replace(/0+$/, '');
    out = `0.${frac}`;
  }
  return sign + out;
}
