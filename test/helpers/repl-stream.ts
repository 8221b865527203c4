// Watches what a server propagates, as one of its replicas would: a raw connection that sends PSYNC ? -1, skips
// the snapshot, then reads the command stream. Each command comes back as strings (bulk bytes as latin1);
// SELECT, PING and REPLCONF (stream housekeeping) are left out.

import * as net from 'node:net';

export interface ReplStream {
  /** every command read so far */
  commands: string[][];
  /** waits until at least `n` commands have been read after index `from`, and answers them */
  after(from: number, n: number, timeoutMs?: number): Promise<string[][]>;
  close(): void;
}

const HOUSEKEEPING = new Set(['SELECT', 'PING', 'REPLCONF']);

export async function replicationStream(port: number): Promise<ReplStream> {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  const commands: string[][] = [];
  let buf = Buffer.alloc(0);
  let phase: 'port' | 'psync' | 'bulkhead' | 'bulk' | 'stream' = 'port';
  let bulkLeft = 0;
  let ready!: () => void;
  const synced = new Promise<void>((r) => (ready = r));

  /** One RESP multibulk command at the start of `buf`, or null when it is not all there yet. */
  function parseCommand(): { argv: string[]; used: number } | null {
    let p = 0;
    const line = (): string | null => {
      const nl = buf.indexOf('\r\n', p);
      if (nl < 0) return null;
      const s = buf.toString('latin1', p, nl);
      p = nl + 2;
      return s;
    };
    const head = line();
    if (head === null) return null;
    if (!head.startsWith('*')) throw new Error(`unexpected replication stream bytes: ${JSON.stringify(head)}`);
    const argv: string[] = [];
    for (let i = 0; i < Number(head.slice(1)); i++) {
      const len = line();
      if (len === null) return null;
      const n = Number(len.slice(1));
      if (p + n + 2 > buf.length) return null;
      argv.push(buf.toString('latin1', p, p + n));
      p += n + 2;
    }
    return { argv, used: p };
  }

  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (phase === 'port' || phase === 'psync' || phase === 'bulkhead') {
        while (buf.length > 0 && buf[0] === 10) buf = buf.subarray(1); // keepalive newlines
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const l = buf.toString('latin1', 0, nl);
        buf = buf.subarray(nl + 2);
        if (phase === 'port') {
          if (l !== '+OK') throw new Error(`REPLCONF answered ${l}`);
          phase = 'psync';
        } else if (phase === 'psync') {
          if (!l.startsWith('+FULLRESYNC')) throw new Error(`PSYNC answered ${l}`);
          phase = 'bulkhead';
        } else {
          bulkLeft = Number(l.slice(1));
          phase = 'bulk';
        }
        continue;
      }
      if (phase === 'bulk') {
        const n = Math.min(bulkLeft, buf.length);
        buf = buf.subarray(n);
        bulkLeft -= n;
        if (bulkLeft > 0) return;
        phase = 'stream';
        ready();
        continue;
      }
      const c = parseCommand();
      if (!c) return;
      buf = buf.subarray(c.used);
      if (!HOUSEKEEPING.has(c.argv[0].toUpperCase())) commands.push(c.argv);
    }
  });
  sock.write('*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n$1\r\n0\r\n*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n');
  await synced;
  return {
    commands,
    async after(from: number, n: number, timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (commands.length < from + n) {
        if (Date.now() > end) throw new Error(`the stream has ${commands.length - from} commands after ${from}, expected ${n}: ${JSON.stringify(commands.slice(from))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return commands.slice(from, from + n);
    },
    close: () => sock.destroy(),
  };
}
