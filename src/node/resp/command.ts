// RESP encoding of commands (arrays of bulk strings), for the streams this node writes as a client would: the
// append-only log, the replication stream, and the connections it opens itself (replication handshake, MIGRATE,
// a sentinel's links).

const CRLF = Buffer.from('\r\n');

/** RESP encoding of one command, appended to `out` as buffers (large arguments are not copied); answers its size. */
export function encodeCommand(argv: Buffer[], out: Buffer[]): number {
  let size = 16;
  let big = false;
  for (const a of argv) {
    if (a.length >= 1024) big = true;
    size += a.length + 16;
  }
  if (!big) {
    // the common case: one buffer, written in place (from the pool for small sizes)
    const buf = Buffer.allocUnsafe(size);
    let p = buf.write(`*${argv.length}\r\n`, 0, 'latin1');
    for (const a of argv) {
      p += buf.write(`$${a.length}\r\n`, p, 'latin1');
      p += a.copy(buf, p);
      buf[p++] = 13;
      buf[p++] = 10;
    }
    out.push(buf.subarray(0, p));
    return p;
  }
  let head = `*${argv.length}\r\n`;
  let bytes = 0;
  for (const a of argv) {
    if (a.length < 1024) {
      head += `$${a.length}\r\n` + a.toString('latin1') + '\r\n';
    } else {
      head += `$${a.length}\r\n`;
      const h = Buffer.from(head, 'latin1');
      out.push(h, a, CRLF);
      bytes += h.length + a.length + 2;
      head = '';
    }
  }
  if (head) {
    const h = Buffer.from(head, 'latin1');
    out.push(h);
    bytes += h.length;
  }
  return bytes;
}

/** One command as a single buffer (strings as UTF-8, numbers in decimal). */
export function commandBytes(...args: (string | number | Buffer)[]): Buffer {
  const parts: Buffer[] = [];
  encodeCommand(
    args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a)))),
    parts,
  );
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
