// Streaming RESP request parser: multibulk frames and inline commands, split anywhere across chunks.
// It owns framing only; it never interprets commands. Errors carry Redis's exact protocol-error texts
// and leave the parser unusable (the connection is closed after the error reply, as Redis does).

const CR = 13;
const LF = 10;
/** Redis's PROTO_INLINE_MAX_SIZE: an inline command or a header line longer than this is refused. */
const INLINE_MAX = 64 * 1024;
/** Bulk strings at least this big are copied into one exact-size buffer as they arrive, never re-concatenated. */
const BIG_BULK = 32 * 1024;
/** Before AUTH, Redis refuses big frames so that an unauthenticated peer cannot make it allocate much. */
const UNAUTH_MAX_MULTIBULK = 10;
const UNAUTH_MAX_BULK = 16384;
/** Redis 7 refuses multibulk lengths above INT_MAX */
const INT_MAX = 2147483647;

const EMPTY = Buffer.alloc(0);

export class ProtocolError extends Error {}

export interface ParserLimits {
  /** proto-max-bulk-len; a function reads it live (CONFIG SET applies to connected clients, as in Redis) */
  maxBulkLen: number | (() => number);
  /** false until the client is authenticated, when a password is set */
  authenticated: () => boolean;
}

export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** args still expected by the multibulk frame in progress (0 = none in progress) */
  private remaining = 0;
  private args: Buffer[] = [];
  /** exact-size buffer being filled for a big bulk string */
  private big: Buffer | null = null;
  private bigFilled = 0;
  /** set once a protocol error was raised: the parser accepts no more input */
  failed = false;

  constructor(private limits: ParserLimits) {}

  private maxBulkLen(): number {
    const m = this.limits.maxBulkLen;
    return typeof m === 'function' ? m() : m;
  }

  /** Bytes held but not yet parsed into a command (the query buffer). */
  get pending(): number {
    return this.buf.length - this.pos + (this.big ? this.bigFilled : 0);
  }

  /** Feeds a chunk and calls `onCommand` for every complete command. Throws ProtocolError. */
  feed(chunk: Buffer, onCommand: (argv: Buffer[]) => void): void {
    if (this.failed) return;
    if (this.big) {
      chunk = this.fillBig(chunk);
      if (this.big) return;
      if (this.remaining === 0) {
        const argv = this.args;
        this.args = [];
        onCommand(argv);
      }
      if (chunk.length === 0) return;
    }
    if (this.pos < this.buf.length) {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    try {
      this.parse(onCommand);
    } catch (e) {
      this.failed = true;
      throw e;
    }
  }

  private fillBig(chunk: Buffer): Buffer {
    const big = this.big!;
    // the payload is followed by CRLF, which we consume (and check) once the payload is full
    const need = big.length + 2 - this.bigFilled;
    const take = Math.min(need, chunk.length);
    if (this.bigFilled < big.length) {
      const dataTake = Math.min(take, big.length - this.bigFilled);
      chunk.copy(big, this.bigFilled, 0, dataTake);
    }
    this.bigFilled += take;
    if (this.bigFilled < big.length + 2) return chunk.subarray(chunk.length);
    // CRLF bytes are not checked byte by byte when split; Redis does not check them either
    this.big = null;
    this.bigFilled = 0;
    this.args.push(big);
    this.remaining--;
    return chunk.subarray(take);
  }

  private parse(onCommand: (argv: Buffer[]) => void): void {
    const buf = this.buf;
    const len = buf.length;
    for (;;) {
      if (this.remaining === 0) {
        if (this.pos >= len) break;
        if (buf[this.pos] !== 42 /* '*' */) {
          const argv = this.parseInline();
          if (argv === null) break;
          if (argv.length > 0) onCommand(argv);
          continue;
        }
        const nl = this.findLine(true);
        if (nl < 0) break;
        const n = parseIntStrict(buf, this.pos + 1, nl);
        if (n === null || n > INT_MAX) throw new ProtocolError('Protocol error: invalid multibulk length');
        if (n > UNAUTH_MAX_MULTIBULK && !this.limits.authenticated()) {
          throw new ProtocolError('Protocol error: unauthenticated multibulk length');
        }
        this.pos = nl + 2;
        if (n <= 0) continue; // "*0" and "*-1" are skipped, as Redis does
        this.remaining = n;
        this.args = [];
      }
      // bulk strings of the multibulk in progress
      while (this.remaining > 0) {
        if (this.pos >= len) return this.compact();
        // as Redis: the whole header line first, then its type byte
        const nl = this.findLine(false);
        if (nl < 0) return this.compact();
        if (buf[this.pos] !== 36 /* '$' */) {
          throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(buf[this.pos])}'`);
        }
        const blen = parseIntStrict(buf, this.pos + 1, nl);
        if (blen === null || blen < 0 || blen > this.maxBulkLen()) {
          throw new ProtocolError('Protocol error: invalid bulk length');
        }
        if (blen > UNAUTH_MAX_BULK && !this.limits.authenticated()) {
          throw new ProtocolError('Protocol error: unauthenticated bulk length');
        }
        const start = nl + 2;
        if (start + blen + 2 <= len) {
          this.args.push(buf.subarray(start, start + blen));
          this.pos = start + blen + 2;
          this.remaining--;
          continue;
        }
        if (blen >= BIG_BULK) {
          // start an exact-size buffer and stream the rest straight into it
          this.big = Buffer.allocUnsafe(blen);
          const avail = len - start;
          buf.copy(this.big, 0, start, len);
          this.bigFilled = avail;
          this.pos = len;
          return this.compact();
        }
        return this.compact(); // wait for more data
      }
      const argv = this.args;
      this.args = [];
      onCommand(argv);
    }
    this.compact();
  }

  /** Drops consumed bytes; copies a small leftover so that it does not pin the big socket chunk. */
  private compact(): void {
    if (this.pos >= this.buf.length) {
      this.buf = EMPTY;
      this.pos = 0;
    } else if (this.pos > 0 && this.buf.length - this.pos < 4096) {
      this.buf = Buffer.from(this.buf.subarray(this.pos));
      this.pos = 0;
    }
    // args that reference the old chunk are subarrays: they stay valid
  }

  /** Index of '\r' of the CRLF ending the line at pos, or -1 when incomplete. */
  private findLine(multibulk: boolean): number {
    // header lines are a few bytes: a JS scan beats indexOf's call into C++
    const idx = scanFor(this.buf, this.pos, CR);
    if (idx < 0 || idx + 1 >= this.buf.length) {
      if (this.buf.length - this.pos > INLINE_MAX) {
        throw new ProtocolError(`Protocol error: too big ${multibulk ? 'mbulk' : 'bulk'} count string`);
      }
      return -1;
    }
    if (idx - this.pos > INLINE_MAX) {
      throw new ProtocolError(`Protocol error: too big ${multibulk ? 'mbulk' : 'bulk'} count string`);
    }
    return idx;
  }

  /** Parses one inline command; null when the line is not complete yet. */
  private parseInline(): Buffer[] | null {
    const buf = this.buf;
    const nl = scanFor(buf, this.pos, LF);
    if (nl < 0) {
      if (buf.length - this.pos > INLINE_MAX) throw new ProtocolError('Protocol error: too big inline request');
      return null;
    }
    if (nl - this.pos > INLINE_MAX) throw new ProtocolError('Protocol error: too big inline request');
    let end = nl;
    if (end > this.pos && buf[end - 1] === CR) end--;
    const line = buf.subarray(this.pos, end);
    this.pos = nl + 1;
    const argv = splitArgs(line);
    if (argv === null) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    return argv;
  }
}

/**
 * Index of the first `byte` at or after `from`, or -1. Redis finds line ends with strchr(), which stops
 * at a NUL byte: a NUL before the end means the line never ends (the client then waits until the
 * inline limit is exceeded, as in Redis). The scan is bounded by that limit.
 */
function scanFor(buf: Buffer, from: number, byte: number): number {
  const end = Math.min(buf.length, from + INLINE_MAX + 2);
  for (let i = from; i < end; i++) {
    const ch = buf[i];
    if (ch === byte) return i;
    if (ch === 0) return -1;
  }
  return -1;
}

/**
 * Parses a decimal integer in buf[start, end) as Redis's string2ll does: no sign other than a leading
 * '-', no leading zeros ("0" alone is fine, "01" and "-0" are not); null when it is not such an integer.
 */
function parseIntStrict(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 18) return null;
  if (end - start === 1 && buf[start] === 48 /* '0' */) return 0;
  let neg = false;
  let i = start;
  if (buf[i] === 45 /* '-' */) {
    neg = true;
    i++;
    if (i >= end) return null;
  }
  if (buf[i] < 49 /* '1' */ || buf[i] > 57 /* '9' */) return null;
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i] - 48;
    if (c < 0 || c > 9) return null;
    n = n * 10 + c;
  }
  return neg ? -n : n;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * Redis's sdssplitargs: whitespace-separated args, "double quotes" with \n \r \t \b \a \\ \" \xHH escapes,
 * 'single quotes' with \' only. A closing quote must be followed by a space or the end. Null on bad quoting.
 * Exactly as the C original, which works on a C string: a NUL byte ends the line (inside quotes that makes
 * the quotes unterminated), blanks between args are isspace() (space, \t \n \v \f \r), but an unquoted
 * arg ends only at a space, \t, \n or \r.
 */
export function splitArgs(line: Buffer): Buffer[] | null {
  const nul = line.indexOf(0);
  if (nul >= 0) line = line.subarray(0, nul);
  const out: Buffer[] = [];
  const n = line.length;
  let i = 0;
  for (;;) {
    while (i < n && isCSpace(line[i])) i++;
    if (i >= n) return out;
    // fast path: a plain token, no quotes in it
    const tokStart = i;
    while (i < n && !endsToken(line[i]) && line[i] !== 34 && line[i] !== 39) i++;
    if (i >= n || endsToken(line[i])) {
      out.push(Buffer.from(line.subarray(tokStart, i)));
      continue;
    }
    const bytes: number[] = [];
    for (let j = tokStart; j < i; j++) bytes.push(line[j]);
    let inq = false;
    let insq = false;
    for (;;) {
      if (inq) {
        if (i >= n) return null; // unterminated quotes
        const c = line[i];
        if (c === 92 /* \ */ && i + 3 < n && line[i + 1] === 120 /* x */ && isHex(line[i + 2]) && isHex(line[i + 3])) {
          bytes.push(parseInt(String.fromCharCode(line[i + 2], line[i + 3]), 16));
          i += 3;
        } else if (c === 92 && i + 1 < n) {
          i++;
          const e = line[i];
          bytes.push(e === 110 ? 10 : e === 114 ? 13 : e === 116 ? 9 : e === 98 ? 8 : e === 97 ? 7 : e);
        } else if (c === 34) {
          if (i + 1 < n && !isCSpace(line[i + 1])) return null;
          i++;
          break;
        } else {
          bytes.push(c);
        }
        i++;
      } else if (insq) {
        if (i >= n) return null;
        const c = line[i];
        if (c === 92 && i + 1 < n && line[i + 1] === 39) {
          i++;
          bytes.push(39);
        } else if (c === 39) {
          if (i + 1 < n && !isCSpace(line[i + 1])) return null;
          i++;
          break;
        } else {
          bytes.push(c);
        }
        i++;
      } else {
        if (i >= n) break;
        const c = line[i];
        i++;
        if (endsToken(c)) break;
        if (c === 34) inq = true;
        else if (c === 39) insq = true;
        else bytes.push(c);
      }
    }
    out.push(Buffer.from(bytes));
  }
}

/** C isspace(): space, \t, \n, \v, \f, \r */
function isCSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** the bytes that end an unquoted arg in sdssplitargs */
function endsToken(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}
