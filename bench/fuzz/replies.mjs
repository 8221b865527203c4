// Incremental RESP2/RESP3 reply reader for the fuzzer: splits a byte stream into top-level replies and tells
// errors from the rest. Values are decoded only as far as the fuzzer needs (strings, numbers, nested arrays).

const CRLF = 0x0a;

/** Parses one reply at `pos`; returns { end, value, error } or null when the buffer ends first. */
function parseAt(buf, pos) {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf(CRLF, pos);
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('latin1', pos + 1, nl - 1);
  const next = nl + 1;
  switch (type) {
    case '+': case ':': case ',': case '(': case '#':
      return { end: next, value: line };
    case '_':
      return { end: next, value: null };
    case '-':
      return { end: next, value: line, error: line };
    case '$': case '=': case '!': {
      const n = Number(line);
      if (n < 0) return { end: next, value: null };
      if (buf.length < next + n + 2) return null;
      const s = buf.toString('latin1', next, next + n);
      return { end: next + n + 2, value: s, error: type === '!' ? s : undefined };
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(line);
      if (n < 0) return { end: next, value: null };
      if (type === '%' || type === '|') n *= 2;
      const items = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const item = parseAt(buf, p);
        if (!item) return null;
        items.push(item.value);
        p = item.end;
      }
      // an attribute precedes the reply it describes
      if (type === '|') {
        const real = parseAt(buf, p);
        return real && { ...real };
      }
      return { end: p, value: items };
    }
    default:
      throw new Error(`unexpected reply type byte 0x${buf[pos].toString(16)} at ${pos}`);
  }
}

export class ReplyReader {
  constructor() {
    this.buf = Buffer.alloc(0);
  }
  /** Feeds bytes, returns the replies completed by them ({ value, error }). Throws on a malformed stream. */
  push(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out = [];
    let pos = 0;
    for (;;) {
      const r = parseAt(this.buf, pos);
      if (!r) break;
      out.push(r);
      pos = r.end;
    }
    if (pos) this.buf = this.buf.subarray(pos);
    return out;
  }
}
