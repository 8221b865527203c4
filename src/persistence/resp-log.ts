// The append-only log's record format: one RESP array of bulk strings per command, exactly what Redis writes
// (so redis-check-aof and `redis-cli --pipe` read our files, and we read Redis's), plus a checksum annotation
// line after each batch written (see checksumAnnotation). This file encodes commands and parses a log back,
// telling a truncated tail (a crash mid-write) from corruption in the middle.

import * as zlib from 'node:zlib';

export interface LogCommand {
  argv: Buffer[];
  /** byte offset of the record's first byte */
  start: number;
  /** byte offset just past it */
  end: number;
}

export type ParseOutcome =
  /** `tailStart`: where the records after the last checksum annotation begin (= the length when there are none) */
  | { kind: 'ok'; tailStart: number }
  /**
   * the file ends inside a record (or inside a MULTI block), or its last batch fails its checksum (a torn
   * write): everything from `validEnd` on is incomplete
   */
  | { kind: 'truncated'; validEnd: number; tailStart: number }
  /** a record that is not valid RESP, or a batch whose checksum does not match, starts or sits at `offset` */
  | { kind: 'corrupt'; offset: number; validEnd: number; reason: string; tailStart: number };

// Checksum annotations: after each batch of records it writes, the log adds a line `#CRC:<crc32 hex>` over the
// batch's bytes. Redis skips `#` lines when loading (its own `#TS:` annotations), and so does redis-check-aof,
// so the files stay Redis's format; here they turn a flipped byte anywhere in a record into a checksum error.
const ANNOTATION_LEN = 15; // "#CRC:" + 8 hex + CRLF

let crcTable: Int32Array | null = null;
/** CRC-32 (IEEE), continuing from `prev`: zlib's when this Node has it (20.15+), else a table. */
export function crc32(b: Buffer, prev = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Buffer, v?: number) => number }).crc32;
  if (native) return native(b, prev);
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~prev;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** The annotation line that closes a batch made of `bufs`. */
export function checksumAnnotation(bufs: Buffer[]): Buffer {
  let c = 0;
  for (const b of bufs) c = crc32(b, c);
  const line = Buffer.from(`#CRC:${c.toString(16).padStart(8, '0')}\r\n`, 'latin1');
  if (line.length !== ANNOTATION_LEN) throw new Error('bad annotation');
  return line;
}


/** Reads a "\r\n"-terminated decimal after a type byte at `pos`; null at EOF before the CRLF, NaN when invalid. */
function readNumberLine(buf: Buffer, pos: number): { n: number; next: number } | null {
  const cr = buf.indexOf(13, pos);
  if (cr < 0 || cr + 1 >= buf.length) {
    // no full line before the end: truncated, unless what is there already cannot be a number
    const tail = buf.subarray(pos, cr < 0 ? buf.length : cr).toString('latin1');
    return /^-?\d*$/.test(tail) && tail.length < 20 ? null : { n: NaN, next: pos };
  }
  const text = buf.subarray(pos, cr).toString('latin1');
  if (buf[cr + 1] !== 10 || !/^-?\d{1,19}$/.test(text)) return { n: NaN, next: cr };
  return { n: Number(text), next: cr + 2 };
}

/**
 * Parses the commands in `buf`, calling `onCommand` for each complete one outside a MULTI block (and for the
 * commands of a MULTI block, including MULTI and EXEC themselves, only once its EXEC has been read). Commands of
 * a batch closed by a checksum annotation are handed out once the checksum matched; those after the last
 * annotation (the tail, or a whole file written without annotations) as they are.
 */
export function parseLog(buf: Buffer, onCommand: (c: LogCommand) => void): ParseOutcome {
  let pos = 0;
  let validEnd = 0;
  let tx: LogCommand[] | null = null;
  let txStart = 0;
  let batch: LogCommand[] = [];
  let batchStart = 0;
  const flushBatch = () => {
    for (const c of batch) onCommand(c);
    batch = [];
  };
  const truncated = (): ParseOutcome => {
    flushBatch();
    return { kind: 'truncated', validEnd: tx ? txStart : validEnd, tailStart: batchStart };
  };
  while (pos < buf.length) {
    const start = pos;
    if (buf[pos] === 35 /* '#' */) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) return truncated(); // an annotation cut by the end
      pos = nl + 1;
      const m = /^#CRC:([0-9a-f]{8})\r?$/.exec(buf.toString('latin1', start, nl));
      if (!m) continue; // other annotations (Redis's #TS:...) are skipped, as Redis does
      if (crc32(buf.subarray(batchStart, start)) !== parseInt(m[1], 16)) {
        // the last batch of the file: a torn write at a crash, cut off like a truncated tail
        if (pos >= buf.length && !tx) return { kind: 'truncated', validEnd: batchStart, tailStart: batchStart };
        return { kind: 'corrupt', offset: batchStart, validEnd: batchStart, tailStart: batchStart, reason: `checksum mismatch in the records at offsets ${batchStart}..${start}` };
      }
      flushBatch();
      batchStart = pos;
      if (!tx) validEnd = pos;
      continue;
    }
    if (buf[pos] !== 42 /* '*' */) {
      return { kind: 'corrupt', offset: pos, validEnd, tailStart: batchStart, reason: `expected '*' at offset ${pos}` };
    }
    const count = readNumberLine(buf, pos + 1);
    if (count === null) return truncated();
    if (!(count.n >= 1)) return { kind: 'corrupt', offset: start, validEnd, tailStart: batchStart, reason: `bad argument count at offset ${start}` };
    pos = count.next;
    const argv: Buffer[] = [];
    for (let i = 0; i < count.n; i++) {
      if (pos >= buf.length) return truncated();
      if (buf[pos] !== 36 /* '$' */) return { kind: 'corrupt', offset: pos, validEnd, tailStart: batchStart, reason: `expected '$' at offset ${pos}` };
      const len = readNumberLine(buf, pos + 1);
      if (len === null) return truncated();
      if (!(len.n >= 0)) return { kind: 'corrupt', offset: pos, validEnd, tailStart: batchStart, reason: `bad bulk length at offset ${pos}` };
      pos = len.next;
      // the payload runs past the end: truncated
      if (pos + len.n + 2 > buf.length) return truncated();
      if (buf[pos + len.n] !== 13 || buf[pos + len.n + 1] !== 10) {
        return { kind: 'corrupt', offset: pos + len.n, validEnd, tailStart: batchStart, reason: `bulk string not followed by CRLF at offset ${pos + len.n}` };
      }
      argv.push(buf.subarray(pos, pos + len.n));
      pos += len.n + 2;
    }
    const cmd: LogCommand = { argv, start, end: pos };
    const name = argv[0].length <= 5 ? argv[0].toString('latin1').toLowerCase() : '';
    if (name === 'multi') {
      if (tx) return { kind: 'corrupt', offset: start, validEnd, tailStart: batchStart, reason: `nested MULTI at offset ${start}` };
      tx = [cmd];
      txStart = start;
      continue;
    }
    if (tx) {
      tx.push(cmd);
      if (name === 'exec') {
        batch.push(...tx);
        tx = null;
        validEnd = pos;
      }
      continue;
    }
    batch.push(cmd);
    validEnd = pos;
  }
  if (tx) return truncated();
  flushBatch();
  return { kind: 'ok', tailStart: batchStart };
}
