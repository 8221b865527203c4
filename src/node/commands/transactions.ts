// MULTI / EXEC / DISCARD / WATCH / UNWATCH. Queueing itself happens in the dispatcher (it reads the
// command table); EXEC runs the queue and wraps what it propagates in MULTI/EXEC.

import type { Command, CommandDef } from '../command-table';
import type { Client } from '../client';
import type { Database } from '../keyspace';
import { CommandError, Err } from '../errors';
import { str } from './args';

/**
 * Watched keys that were already logically expired (TTL run out, not yet removed) when WATCHed.
 * As Redis 7: at EXEC, a watched key whose TTL ran out since WATCH counts as modified even when
 * nothing has removed it yet; one that was already expired at WATCH time does not.
 */
const expiredAtWatch = new WeakMap<Client, Map<Database, Set<string>>>();

function logicallyExpired(db: Database, key: string, now: number): boolean {
  const at = db.expires.get(key);
  return at !== undefined && at <= now && db.map.has(key);
}

function watchedKeyExpired(c: Client): boolean {
  const now = Date.now();
  const before = expiredAtWatch.get(c);
  for (const [db, keys] of c.watched) {
    for (const key of keys) {
      if (before?.get(db)?.has(key)) continue;
      if (logicallyExpired(db, key, now)) return true;
    }
  }
  return false;
}

/** Starts a queued command with c.inExec set for its synchronous part (where handlers check it). */
function callInExec(c: Client, cmd: Command, argv: Buffer[]): void | Promise<void> {
  c.inExec = true;
  try {
    return c.server.call(c, cmd, argv);
  } finally {
    c.inExec = false;
  }
}

function exec(c: Client): void | Promise<void> {
  const queue = c.multi;
  if (!queue) throw new CommandError(Err.execWithoutMulti);
  const server = c.server;
  c.multi = null;
  if (c.multiError) {
    c.multiError = false;
    server.unwatchAll(c);
    throw new CommandError(Err.execAbort);
  }
  if (c.dirtyCas || watchedKeyExpired(c)) {
    server.unwatchAll(c);
    return void c.out.nullArray();
  }
  server.unwatchAll(c);
  c.out.array(queue.length);
  server.beginTransactionPropagation();
  for (let i = 0; i < queue.length; i++) {
    const { cmd, argv } = queue[i];
    const pending = callInExec(c, cmd, argv);
    if (pending) {
      // only non-blocking async work can get here (blocking commands refuse to run inside EXEC)
      return (async () => {
        await pending;
        for (let j = i + 1; j < queue.length; j++) await callInExec(c, queue[j].cmd, queue[j].argv);
        server.endTransactionPropagation();
      })();
    }
  }
  server.endTransactionPropagation();
}

export const transactionCommands: CommandDef[] = [
  {
    name: 'multi',
    arity: 1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow-busy', 'no-queue'],
    group: 'transactions',
    handler: (c) => {
      if (c.multi) throw new CommandError(Err.multiNested);
      c.multi = [];
      c.multiError = false;
      c.out.ok();
    },
  },
  { name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip-slowlog', 'no-queue'], group: 'transactions', handler: exec },
  {
    name: 'discard',
    arity: 1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow-busy', 'no-queue'],
    group: 'transactions',
    handler: (c) => {
      if (!c.multi) throw new CommandError(Err.discardWithoutMulti);
      c.multi = null;
      c.multiError = false;
      c.server.unwatchAll(c);
      c.out.ok();
    },
  },
  {
    name: 'watch',
    arity: -2,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow-busy', 'no-queue'],
    keys: [1, -1, 1],
    group: 'transactions',
    handler: (c, argv) => {
      if (c.multi) throw new CommandError(Err.watchInMulti);
      if (c.watched.size === 0) expiredAtWatch.delete(c);
      const now = Date.now();
      for (let i = 1; i < argv.length; i++) {
        const key = str(argv[i]);
        if (logicallyExpired(c.db, key, now)) {
          let byDb = expiredAtWatch.get(c);
          if (!byDb) expiredAtWatch.set(c, (byDb = new Map()));
          let keys = byDb.get(c.db);
          if (!keys) byDb.set(c.db, (keys = new Set()));
          keys.add(key);
        }
        c.server.watch(c, key);
      }
      c.out.ok();
    },
  },
  {
    name: 'unwatch',
    arity: 1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'allow-busy'],
    group: 'transactions',
    handler: (c) => {
      c.server.unwatchAll(c);
      c.out.ok();
    },
  },
];
