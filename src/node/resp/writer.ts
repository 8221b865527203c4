// RESP2/RESP3 reply encoder. Handlers write typed replies; the writer picks the wire form for the
// client's protocol (a RESP3 map is a flat array in RESP2, a null is $-1 or *-1, ...). Replies are
// collected in a reusable scratch buffer and handed out in one piece per flush.
// Strings are "binary strings" (latin1): every byte maps to one char, so keys and values round-trip.

const SCRATCH_MAX = 64 * 1024;
/** bulk payloads at least this large are queued as their own chunk instead of being copied */
const DIRECT_CHUNK = 16 * 1024;

export type Proto = 2 | 3;

export class ReplyWriter {
  proto: Proto = 2;
  private scratch: Buffer = Buffer.allocUnsafe(512);
  private off = 0;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** called the first time something is written after a take() */
  onData: (() => void) | null = null;
  private armed = true;

  get pendingBytes(): number {
    return this.off + this.chunkBytes;
  }

  /** bytes handed out by take() so far */
  private takenBytes = 0;

  /** A point in the reply stream that truncate() can go back to. */
  mark(): number {
    return this.takenBytes + this.off + this.chunkBytes;
  }

  /**
   * Drops what was written after `mark` (a reply a failing command left half-written); false when part of it
   * was already taken for the socket, so the stream can no longer be mended.
   */
  truncate(mark: number): boolean {
    if (mark < this.takenBytes) return false;
    let drop = this.mark() - mark;
    const fromScratch = Math.min(drop, this.off);
    this.off -= fromScratch;
    drop -= fromScratch;
    while (drop > 0) {
      const last = this.chunks[this.chunks.length - 1];
      const cut = Math.min(drop, last.length);
      if (cut === last.length) this.chunks.pop();
      else this.chunks[this.chunks.length - 1] = last.subarray(0, last.length - cut);
      this.chunkBytes -= cut;
      drop -= cut;
    }
    return true;
  }

  private notify(): void {
    if (this.armed) {
      this.armed = false;
      if (this.onData) this.onData();
    }
  }

  private ensure(n: number): void {
    if (this.off + n <= this.scratch.length) return;
    if (this.scratch.length < SCRATCH_MAX && n <= SCRATCH_MAX) {
      let size = this.scratch.length * 2;
      while (size < this.off + n && size < SCRATCH_MAX) size *= 2;
      if (this.off + n <= size) {
        const bigger = Buffer.allocUnsafe(size);
        this.scratch.copy(bigger, 0, 0, this.off);
        this.scratch = bigger;
        return;
      }
    }
    this.spill();
    if (n > this.scratch.length) this.scratch = Buffer.allocUnsafe(n);
  }

  /** Moves what the scratch holds into the chunk list. */
  private spill(): void {
    if (this.off === 0) return;
    this.chunks.push(Buffer.from(this.scratch.subarray(0, this.off)));
    this.chunkBytes += this.off;
    this.off = 0;
  }

  /** Raw protocol text (ASCII/latin1). */
  raw(s: string): this {
    this.notify();
    const n = s.length;
    this.ensure(n);
    if (n <= 32) {
      // short protocol text (headers, +OK): a JS loop beats a call into C++
      const buf = this.scratch;
      let off = this.off;
      for (let i = 0; i < n; i++) buf[off++] = s.charCodeAt(i);
      this.off = off;
    } else {
      this.off += this.scratch.write(s, this.off, n, 'latin1');
    }
    return this;
  }

  rawBuffer(b: Buffer): this {
    this.notify();
    if (b.length >= DIRECT_CHUNK) {
      this.spill();
      this.chunks.push(b);
      this.chunkBytes += b.length;
      return this;
    }
    this.ensure(b.length);
    this.scratch.set(b, this.off);
    this.off += b.length;
    return this;
  }

  /** Takes everything written so far, or null when nothing is pending. */
  take(): Buffer | null {
    this.armed = true;
    this.takenBytes += this.off + this.chunkBytes;
    if (this.chunks.length === 0) {
      if (this.off === 0) return null;
      const out = Buffer.allocUnsafe(this.off);
      this.scratch.copy(out, 0, 0, this.off);
      this.off = 0;
      return out;
    }
    this.spill();
    const out = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }

  // ---- typed replies ----

  ok(): this {
    return this.raw('+OK\r\n');
  }

  simple(s: string): this {
    return this.raw('+' + s + '\r\n');
  }

  /** `msg` is the full error text including its code, e.g. "ERR syntax error" or "WRONGTYPE ...". */
  error(msg: string): this {
    return this.raw('-' + msg.replace(/[\r\n]/g, ' ') + '\r\n');
  }

  int(n: number | bigint): this {
    return this.raw(':' + n + '\r\n');
  }

  bulk(v: Buffer | string | null | undefined): this {
    if (v === null || v === undefined) return this.null();
    if (typeof v === 'string') return this.raw('$' + v.length + '\r\n' + v + '\r\n');
    this.raw('$' + v.length + '\r\n');
    this.rawBuffer(v);
    return this.raw('\r\n');
  }

  /** Bulk for a number (Redis replies many numbers as bulk strings, e.g. INCRBYFLOAT, ZSCORE). */
  bulkNumber(n: number): this {
    return this.bulk(formatDouble(n));
  }

  null(): this {
    return this.raw(this.proto === 3 ? '_\r\n' : '$-1\r\n');
  }

  nullArray(): this {
    return this.raw(this.proto === 3 ? '_\r\n' : '*-1\r\n');
  }

  array(n: number): this {
    return this.raw('*' + n + '\r\n');
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n elements in RESP2. */
  map(n: number): this {
    return this.raw(this.proto === 3 ? '%' + n + '\r\n' : '*' + n * 2 + '\r\n');
  }

  set(n: number): this {
    return this.raw(this.proto === 3 ? '~' + n + '\r\n' : '*' + n + '\r\n');
  }

  /** Out-of-band push (pub/sub messages): `>` in RESP3, an array in RESP2. */
  push(n: number): this {
    return this.raw(this.proto === 3 ? '>' + n + '\r\n' : '*' + n + '\r\n');
  }

  double(d: number): this {
    if (this.proto === 3) return this.raw(',' + formatDouble(d) + '\r\n');
    return this.bulk(formatDouble(d));
  }

  bool(b: boolean): this {
    if (this.proto === 3) return this.raw(b ? '#t\r\n' : '#f\r\n');
    return this.int(b ? 1 : 0);
  }

  /** Verbatim string (INFO, CLIENT LIST ... in RESP3); a plain bulk in RESP2. */
  verbatim(text: string, format = 'txt'): this {
    if (this.proto === 3) {
      const body = format + ':' + text;
      return this.raw('=' + body.length + '\r\n' + body + '\r\n');
    }
    return this.bulk(text);
  }

  /** An array of bulk strings. */
  bulks(items: readonly (Buffer | string | null)[]): this {
    this.array(items.length);
    for (const it of items) this.bulk(it);
    return this;
  }
}

/** Redis's double formatting: inf/-inf/nan, integers without a fraction, otherwise the shortest round-trip form. */
export function formatDouble(d: number): string {
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (Number.isNaN(d)) return 'nan';
  return String(d);
}
