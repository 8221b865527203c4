// Raw RESP access for tests that must see the exact wire form of a reply (map vs flat array,
// set vs array, `$-1` vs `*-1` vs `_`), which ioredis hides.

import { encode, rawExchange, type TestServer } from './server';

/** End offset of the one RESP2/RESP3 reply starting at `p`, or -1 when it is incomplete. */
export function replyEnd(text: string, p = 0): number {
  const nl = text.indexOf('\r\n', p);
  if (nl < 0) return -1;
  const type = text[p];
  const n = Number(text.slice(p + 1, nl));
  switch (type) {
    case '$':
    case '=':
    case '!':
      if (n < 0) return nl + 2;
      return text.length >= nl + 2 + n + 2 ? nl + 2 + n + 2 : -1;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (n < 0) return nl + 2;
      let q = nl + 2;
      const items = type === '%' || type === '|' ? 2 * n : n;
      for (let i = 0; i < items; i++) {
        q = replyEnd(text, q);
        if (q < 0) return -1;
      }
      return q;
    }
    default:
      return nl + 2;
  }
}

/** A raw connection speaking `proto`; each call sends one command and resolves to its exact reply text. */
export async function rawClient(srv: TestServer, proto: 2 | 3): Promise<(...args: (string | Buffer)[]) => Promise<string>> {
  const sock = await srv.raw();
  const send = (...args: (string | Buffer)[]) => rawExchange(sock, encode(...args), (t) => replyEnd(t) === t.length);
  if (proto === 3) await send('HELLO', '3');
  return send;
}
