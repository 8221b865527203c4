// The replication backlog: the last `repl-backlog-size` bytes of the replication stream, in a ring buffer, so
// that a replica that lost its link for a moment (or follows a promoted peer) continues from its offset
// (PSYNC → +CONTINUE) instead of loading a whole snapshot again. Offsets count bytes of the stream since the
// replication id was made: byte number `offset` is the last one written.

export class Backlog {
  private buf: Buffer;
  /** where the next byte goes in `buf` */
  private pos = 0;
  /** bytes held (≤ size) */
  histlen = 0;
  /** stream offset of the last byte held */
  offset: number;

  constructor(
    readonly size: number,
    /** the stream offset the backlog starts after (the master's offset when it was made) */
    startOffset: number,
  ) {
    this.buf = Buffer.allocUnsafe(size);
    this.offset = startOffset;
  }

  /** repl_backlog_first_byte_offset: the offset of the oldest byte held */
  get firstByteOffset(): number {
    return this.offset - this.histlen + 1;
  }

  append(data: Buffer): void {
    this.offset += data.length;
    let src = data;
    if (src.length > this.size) src = src.subarray(src.length - this.size);
    const first = Math.min(src.length, this.size - this.pos);
    src.copy(this.buf, this.pos, 0, first);
    if (first < src.length) src.copy(this.buf, 0, first);
    this.pos = (this.pos + src.length) % this.size;
    this.histlen = Math.min(this.size, this.histlen + src.length);
  }

  /** Whether a replica that wants the stream from byte `from` on can be served from here. */
  covers(from: number): boolean {
    return from >= this.firstByteOffset && from <= this.offset + 1;
  }

  /** The bytes from stream offset `from` to the end (call covers() first). */
  readFrom(from: number): Buffer {
    const n = this.offset + 1 - from;
    if (n <= 0) return Buffer.alloc(0);
    const start = (this.pos - n + this.size) % this.size;
    if (start + n <= this.size) return Buffer.from(this.buf.subarray(start, start + n));
    return Buffer.concat([this.buf.subarray(start), this.buf.subarray(0, n - (this.size - start))]);
  }
}
