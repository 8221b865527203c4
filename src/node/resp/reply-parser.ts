// A RESP2 reply parser for the node's own outgoing connections (sentinel links, cross-shard tensor reads). The
// caller picks how bulk / simple strings and errors are represented: the sentinel wants strings, a tensor read
// wants the bulk bytes untouched.

export interface ReplyShape<S, E> {
  /** a bulk string: buf[start, end) */
  bulk(buf: Buffer, start: number, end: number): S;
  simple(line: string): S;
  error(line: string): E;
}

export type ParsedReply<S, E> = S | E | number | null | ParsedReply<S, E>[];

/** One reply from buf at pos: [reply, next pos], or null while it is incomplete. */
export function parseReply<S, E>(buf: Buffer, pos: number, shape: ReplyShape<S, E>): [ParsedReply<S, E>, number] | null {
  if (pos >= buf.length) return null;
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) return null;
  const line = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  switch (buf[pos]) {
    case 0x2b: // +
      return [shape.simple(line), next];
    case 0x2d: // -
      return [shape.error(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return null;
      return [shape.bulk(buf, next, next + n), next + n + 2];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: ParsedReply<S, E>[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, p, shape);
        if (!r) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`protocol error from peer: ${JSON.stringify(line)}`);
  }
}
