// SLOWLOG: the most recent commands that ran longer than slowlog-log-slower-than microseconds.

import type { Client } from './client';

export interface SlowLogEntry {
  id: number;
  time: number;
  durationUs: number;
  argv: string[];
  addr: string;
  name: string;
}

const MAX_ARGS = 32;
const MAX_ARG_LEN = 128;

export class SlowLog {
  entries: SlowLogEntry[] = [];
  private nextId = 0;

  add(durationUs: number, argv: Buffer[], c: Client, maxLen: number): void {
    const args: string[] = [];
    const n = Math.min(argv.length, MAX_ARGS);
    for (let i = 0; i < n; i++) {
      // as Redis: the last kept slot says how many more arguments there were
      if (i === MAX_ARGS - 1 && argv.length > MAX_ARGS) {
        args.push(`... (${argv.length - MAX_ARGS + 1} more arguments)`);
        break;
      }
      const a = argv[i];
      args.push(
        a.length > MAX_ARG_LEN
          ? a.subarray(0, MAX_ARG_LEN).toString('latin1') + `... (${a.length - MAX_ARG_LEN} more bytes)`
          : a.toString('latin1'),
      );
    }
    const s = c.socket;
    this.entries.unshift({
      id: this.nextId++,
      time: Math.floor(Date.now() / 1000),
      durationUs,
      argv: args,
      addr: `${(s.remoteAddress ?? '').replace('::ffff:', '')}:${s.remotePort}`,
      name: c.name,
    });
    if (this.entries.length > maxLen) this.entries.length = Math.max(0, maxLen);
  }

  reset(): void {
    this.entries = [];
  }
}
