// Client pause, as Redis 7.0's pauseClients(): CLIENT PAUSE (purpose 'client') and a cluster manual failover's
// master (purpose 'failover') hold back clients' commands until the pause ends. WRITE holds commands that write or
// may replicate (EVAL-like, PUBLISH), ALL holds every command (CLIENT UNPAUSE included, as Redis). The effective
// pause is the strictest type and the latest end over the purposes. A held command is not dropped: the dispatcher
// waits on `whenUnpaused()` and runs it again then, so the client's later commands wait behind it. The
// replication link from our master is never paused.

import type { Client } from './client';
import type { Command } from './command-table';

export type PauseType = 'write' | 'all';
export type PausePurpose = 'client' | 'failover';

export class ClientPause {
  private byPurpose = new Map<PausePurpose, { type: PauseType; end: number }>();
  private waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;

  /** Pauses until `end` (ms epoch); an existing pause of the purpose is only made stricter / longer. */
  pause(purpose: PausePurpose, type: PauseType, end: number): void {
    const old = this.byPurpose.get(purpose);
    if (old && old.end > Date.now()) {
      if (type === 'write' && old.type === 'all') type = 'all';
      if (old.end > end) end = old.end;
    }
    this.byPurpose.set(purpose, { type, end });
    this.schedule();
  }

  unpause(purpose: PausePurpose): void {
    if (!this.byPurpose.delete(purpose)) return;
    this.schedule();
  }

  /** The pause in effect now, or null. */
  current(): PauseType | null {
    const now = Date.now();
    let type: PauseType | null = null;
    for (const p of this.byPurpose.values()) {
      if (p.end <= now) continue;
      if (p.type === 'all') return 'all';
      type = 'write';
    }
    return type;
  }

  /** True when `cmd` from `c` must wait. */
  holds(c: Client, cmd: Command, multiWrites: boolean): boolean {
    if (this.byPurpose.size === 0 || c.kind === 'master' || c.kind === 'replica') return false;
    const type = this.current();
    if (type === null) return false;
    return type === 'all' || cmd.isWrite || cmd.has('may-replicate') || (cmd.name === 'exec' && multiWrites);
  }

  /** Resolves once no pause is in effect (a later pause makes the re-run command wait again). */
  whenUnpaused(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Wakes every waiter (each re-checks by running its command again) and arms a timer for the nearest end. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const now = Date.now();
    let next = Infinity;
    for (const [k, p] of this.byPurpose) {
      if (p.end <= now) this.byPurpose.delete(k);
      else next = Math.min(next, p.end);
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.schedule(), Math.min(next - now + 1, 2 ** 31 - 1));
    this.timer.unref();
  }
}
