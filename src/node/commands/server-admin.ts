// Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, TIME, SLOWLOG, SHUTDOWN, DEBUG, and the
// persistence commands SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF (the work is in src/persistence).

import { datasetDigest, valueDigest } from '../digest';
import type { Command, CommandDef, CommandFlag } from '../command-table';
import type { Client } from '../client';
import { ConfigError } from '../config';
import { CommandError, Err } from '../errors';
import { globMatch } from '../glob';
import { lower, parseInteger, str, syntaxError } from './args';
import type { Value } from '../keyspace';

/** COMMAND INFO flag names, in the order Redis prints them (may_replicate and sentinel are hidden, as there). */
const FLAG_ORDER: [CommandFlag | 'movablekeys', string][] = [
  ['write', 'write'],
  ['readonly', 'readonly'],
  ['denyoom', 'denyoom'],
  ['admin', 'admin'],
  ['pubsub', 'pubsub'],
  ['noscript', 'noscript'],
  ['blocking', 'blocking'],
  ['loading', 'loading'],
  ['stale', 'stale'],
  ['skip-monitor', 'skip_monitor'],
  ['skip-slowlog', 'skip_slowlog'],
  ['fast', 'fast'],
  ['no-auth', 'no_auth'],
  ['no-mandatory-keys', 'no_mandatory_keys'],
  ['no-multi', 'no_multi'],
  ['movablekeys', 'movablekeys'],
  ['allow-busy', 'allow_busy'],
];

/** ACL categories in Redis's order (its ACLCommandCategories table); others (e.g. ai) follow. */
const CATEGORY_ORDER = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
];

/** A command's ACL categories as Redis shows them (a pure container has only @slow / @fast). */
function orderedCategories(cmd: Command): string[] {
  const rank = (cat: string) => {
    const i = CATEGORY_ORDER.indexOf(cat);
    return i < 0 ? CATEGORY_ORDER.length : i;
  };
  const cats = cmd.subcommands && !cmd.handler ? cmd.categories.filter((c) => c === 'slow' || c === 'fast') : cmd.categories;
  return [...cats].sort((a, b) => rank(a) - rank(b));
}

function commandInfo(c: Client, cmd: Command): void {
  const out = c.out;
  out.array(10);
  out.bulk(cmd.fullName);
  out.int(cmd.arity);
  const flags = FLAG_ORDER.filter(([f]) => (f === 'movablekeys' ? !!cmd.getKeysFn : cmd.has(f))).map(([, name]) => name);
  out.set(flags.length);
  for (const f of flags) out.simple(f);
  out.int(cmd.firstKey);
  out.int(cmd.lastKey);
  out.int(cmd.keyStep);
  const cats = orderedCategories(cmd);
  out.set(cats.length);
  for (const cat of cats) out.simple('@' + cat);
  out.array(0); // tips
  out.array(0); // key specs: first/last/step above carry the same facts
  const subs = [...(cmd.subcommands?.values() ?? [])];
  out.array(subs.length);
  for (const s of subs) commandInfo(c, s);
}

function commandDocs(c: Client, cmd: Command): void {
  const subs = [...(cmd.subcommands?.values() ?? [])];
  c.out.map(subs.length ? 4 : 3);
  c.out.bulk('summary').bulk(cmd.summary || `The ${cmd.fullName.toUpperCase()} command.`);
  c.out.bulk('since').bulk('1.0.0');
  c.out.bulk('group').bulk(cmd.group);
  if (subs.length) {
    c.out.bulk('subcommands').map(subs.length);
    for (const s of subs) {
      c.out.bulk(s.fullName);
      commandDocs(c, s);
    }
  }
}

function resolve(c: Client, name: string): Command | undefined {
  const [top, sub] = name.toLowerCase().split('|');
  const cmd = c.server.table.get(top);
  if (!cmd || sub === undefined) return cmd;
  return cmd.subcommands?.get(sub);
}

function shutdown(c: Client, argv: Buffer[]): Promise<void> {
  let mode: 'save' | 'nosave' | 'default' = 'default';
  let force = false;
  for (let i = 1; i < argv.length; i++) {
    const o = lower(argv[i]);
    if (!['nosave', 'save', 'now', 'force', 'abort'].includes(o)) syntaxError();
    if (o === 'abort') throw new CommandError('ERR No shutdown in progress.');
    if (o === 'nosave' || o === 'save') {
      if (mode !== 'default' && mode !== o) syntaxError();
      mode = o;
    }
    if (o === 'force') force = true;
  }
  c.server.log('warning', 'User requested shutdown...');
  // as Redis: the log is synced, and the snapshot saved with SAVE or when save points are set
  return c.server.persistence.prepareShutdown(mode).then((ok) => {
    if (!ok && !force) throw new CommandError('ERR Errors trying to SHUTDOWN. Check logs.');
    c.server.shutdown();
  });
}

/** SAVE: writes the snapshot and replies when it is on disk (other clients are served meanwhile). */
function save(c: Client): Promise<void> | void {
  const p = c.server.persistence;
  if (p.bgsaveInProgress) throw new CommandError('ERR Background save already in progress');
  return p.saveSnapshot().then(
    () => void c.out.ok(),
    (e: Error) => {
      c.server.log('warning', `Failed saving the DB: ${e.message}`);
      throw new CommandError('ERR');
    },
  );
}

function bgsave(c: Client, argv: Buffer[]): void {
  let schedule = false;
  if (argv.length > 2) syntaxError();
  if (argv.length === 2) {
    if (lower(argv[1]) !== 'schedule') syntaxError();
    schedule = true;
  }
  switch (c.server.persistence.startBgsave(schedule)) {
    case 'started':
      return void c.out.simple('Background saving started');
    case 'scheduled':
      return void c.out.simple('Background saving scheduled');
    case 'in-progress':
      // as Redis, even with SCHEDULE
      throw new CommandError('ERR Background save already in progress');
    case 'busy':
      throw new CommandError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
      );
  }
}

/**
 * The wall clock with microsecond resolution: the monotonic high-resolution clock plus an offset to the
 * wall clock, taken again when the wall clock has been stepped (so consecutive TIME calls never go back
 * by the sub-millisecond jitter between the two clocks).
 */
let clockOffset = Date.now() - performance.now();
function wallClockMs(): number {
  const ms = performance.now() + clockOffset;
  const wall = Date.now();
  if (Math.abs(ms - wall) <= 100) return ms;
  clockOffset = wall - performance.now();
  return wall;
}

/** The encoding Redis would report for a value (strings: int / embstr / raw). */
function encodingOf(v: Value): string {
  if (v.type !== 'string') return v.type;
  const b = v.value as Buffer;
  if (b.length <= 20 && /^(0|-?[1-9]\d*)$/.test(b.toString('latin1'))) {
    const n = BigInt(b.toString('latin1'));
    if (n >= -9223372036854775808n && n <= 9223372036854775807n) return 'int';
  }
  return b.length <= 44 ? 'embstr' : 'raw';
}

function debugSleep(seconds: number): void {
  // DEBUG SLEEP blocks the whole server, as in Redis: that is its purpose in tests
  const ms = Math.max(0, seconds * 1000);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const admin = (
  name: string,
  arity: number,
  flags: CommandDef['flags'],
  handler: CommandDef['handler'],
  group = 'server',
  categories?: string[],
): CommandDef => ({
  name,
  arity,
  flags,
  group,
  handler,
  ...(categories ? { categories } : {}),
});

const CONFIG_HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
  'HELP',
  '    Prints this help.',
];

const SLOWLOG_HELP = [
  'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
  'HELP',
  '    Prints this help.',
];

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'HELP',
  '    Prints this help.',
];

export const serverCommands: CommandDef[] = [
  admin('info', -1, ['loading', 'stale'], (c, argv) => {
    const text = c.server.info.render(argv.slice(1).map(str));
    c.out.verbatim(text);
  }, 'server', ['dangerous']),
  admin('dbsize', 1, ['readonly', 'fast'], (c) => void c.out.int(c.db.size), 'server', ['keyspace']),
  admin('flushdb', -1, ['write'], (c, argv) => {
    if (argv.length > 2 || (argv.length === 2 && !['async', 'sync'].includes(lower(argv[1])))) syntaxError();
    c.server.markDirty(c.db.size + 1);
    c.db.clear();
    c.out.ok();
  }, 'server', ['keyspace', 'dangerous']),
  admin('flushall', -1, ['write'], (c, argv) => {
    if (argv.length > 2 || (argv.length === 2 && !['async', 'sync'].includes(lower(argv[1])))) syntaxError();
    let n = 1;
    for (const db of c.server.dbs) {
      n += db.size;
      db.clear();
    }
    c.server.markDirty(n);
    c.server.persistence.afterFlushAll();
    c.out.ok();
  }, 'server', ['keyspace', 'dangerous']),
  admin('time', 1, ['loading', 'stale', 'fast'], (c) => {
    const us = BigInt(Math.floor(wallClockMs() * 1000));
    c.out.array(2).bulk(String(us / 1000000n)).bulk(String(us % 1000000n));
  }),
  admin('shutdown', -1, ['admin', 'noscript', 'loading', 'stale', 'no-multi', 'allow-busy'], shutdown),
  admin('save', 1, ['admin', 'noscript', 'no-multi'], save),
  admin('bgsave', -1, ['admin', 'noscript'], bgsave),
  admin('lastsave', 1, ['loading', 'stale', 'fast'], (c) => void c.out.int(Math.floor(c.server.persistence.lastSaveMs / 1000)), 'server', ['admin', 'dangerous']),
  admin('bgrewriteaof', 1, ['admin', 'noscript'], (c) => {
    const r = c.server.persistence.aof.requestRewrite();
    if (!r.ok) throw new CommandError(r.message);
    c.out.simple(r.message);
  }),
  {
    name: 'slowlog',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      admin('get', -2, ['admin', 'loading', 'stale'], (c, argv) => {
        let n = 10;
        if (argv.length > 2) {
          n = parseInteger(argv[2], 'ERR count should be greater than or equal to -1');
          if (n < -1) throw new CommandError('ERR count should be greater than or equal to -1');
          if (n === -1) n = Infinity;
        }
        const entries = c.server.slowlog.entries.slice(0, n);
        c.out.array(entries.length);
        for (const e of entries) {
          c.out.array(6).int(e.id).int(e.time).int(e.durationUs).bulks(e.argv).bulk(e.addr).bulk(e.name);
        }
      }),
      admin('len', 2, ['admin', 'loading', 'stale'], (c) => void c.out.int(c.server.slowlog.entries.length)),
      admin('reset', 2, ['admin', 'loading', 'stale'], (c) => {
        c.server.slowlog.reset();
        c.out.ok();
      }),
      admin('help', 2, ['loading', 'stale'], (c) => {
        c.out.array(SLOWLOG_HELP.length);
        for (const l of SLOWLOG_HELP) c.out.simple(l);
      }),
    ],
  },
  {
    name: 'config',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      admin('get', -3, ['admin', 'noscript', 'loading', 'stale'], (c, argv) => {
        const pairs = c.server.config.match(argv.slice(2).map(str));
        c.out.map(pairs.length);
        for (const [k, v] of pairs) c.out.bulk(k).bulk(v);
      }),
      admin('set', -4, ['admin', 'noscript', 'loading', 'stale'], (c, argv) => {
        if (argv.length % 2 !== 0) syntaxError();
        const pairs: [string, string][] = [];
        for (let i = 2; i < argv.length; i += 2) pairs.push([str(argv[i]), str(argv[i + 1])]);
        try {
          c.server.config.setMany(pairs);
        } catch (e) {
          if (e instanceof ConfigError) throw new CommandError('ERR ' + e.message);
          throw e;
        }
        c.out.ok();
      }),
      admin('rewrite', 2, ['admin', 'noscript', 'loading', 'stale'], (c) => {
        try {
          c.server.config.rewrite();
        } catch (e) {
          throw new CommandError('ERR ' + (e as Error).message);
        }
        c.out.ok();
      }),
      admin('resetstat', 2, ['admin', 'noscript', 'loading', 'stale'], (c) => {
        c.server.resetStats();
        c.out.ok();
      }),
      admin('help', 2, ['loading', 'stale'], (c) => {
        c.out.array(CONFIG_HELP.length);
        for (const l of CONFIG_HELP) c.out.simple(l);
      }),
    ],
  },
  {
    name: 'command',
    arity: -1,
    flags: ['loading', 'stale'],
    group: 'server',
    categories: ['connection'],
    handler: (c) => {
      // plain COMMAND (no subcommand): every command's info
      const all = c.server.table.all();
      c.out.array(all.length);
      for (const cmd of all) commandInfo(c, cmd);
    },
    subcommands: [
      admin('count', 2, ['loading', 'stale'], (c) => void c.out.int(c.server.table.all().length)),
      admin('info', -2, ['loading', 'stale'], (c, argv) => {
        const names = argv.length > 2 ? argv.slice(2).map(str) : c.server.table.all().map((x) => x.name);
        c.out.array(names.length);
        for (const n of names) {
          const cmd = resolve(c, n);
          if (cmd) commandInfo(c, cmd);
          else c.out.null();
        }
      }),
      admin('docs', -2, ['loading', 'stale'], (c, argv) => {
        const cmds = argv.length > 2 ? argv.slice(2).map((n) => resolve(c, str(n))).filter((x): x is Command => !!x) : c.server.table.all();
        c.out.map(cmds.length);
        for (const cmd of cmds) {
          c.out.bulk(cmd.fullName);
          commandDocs(c, cmd);
        }
      }),
      admin('list', -2, ['loading', 'stale'], (c, argv) => {
        // as Redis 7: subcommands are listed (as 'container|sub') beside the commands
        let cmds = c.server.table.all().flatMap((x) => [x, ...(x.subcommands?.values() ?? [])]);
        if (argv.length > 2) {
          if (argv.length !== 5 || lower(argv[2]) !== 'filterby') syntaxError();
          const kind = lower(argv[3]);
          const val = str(argv[4]);
          if (kind === 'pattern') cmds = cmds.filter((x) => globMatch(val, x.fullName, true));
          else if (kind === 'aclcat') cmds = cmds.filter((x) => orderedCategories(x).includes(val.toLowerCase()));
          else if (kind === 'module') cmds = [];
          else syntaxError();
        }
        c.out.bulks(cmds.map((x) => x.fullName));
      }),
      admin('getkeys', -4, ['loading', 'stale'], (c, argv) => {
        const cmd = resolve(c, str(argv[2]));
        if (!cmd) throw new CommandError('ERR Invalid command specified');
        const sub = argv.slice(2);
        if (!cmd.arityOk(sub.length)) throw new CommandError('ERR Invalid number of arguments specified for command');
        const idx = cmd.keyIndices(sub);
        if (idx.length === 0) throw new CommandError('ERR The command has no key arguments');
        c.out.bulks(idx.map((i) => sub[i]));
      }),
      admin('help', 2, ['loading', 'stale'], (c) => {
        c.out.array(COMMAND_HELP.length);
        for (const l of COMMAND_HELP) c.out.simple(l);
      }),
    ],
  },
  {
    name: 'debug',
    arity: -2,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    group: 'server',
    handler: (c, argv) => {
      const sub = lower(argv[1]);
      if (sub === 'sleep' && argv.length === 3) {
        // as Redis (strtod): text that is not a number sleeps 0 seconds
        const secs = parseFloat(str(argv[2]));
        debugSleep(Number.isFinite(secs) ? secs : 0);
        return void c.out.ok();
      }
      if (sub === 'set-active-expire' && argv.length === 3) {
        // as Redis (atoi): anything that does not start with a non-zero number turns it off
        c.server.activeExpireEnabled = (parseInt(str(argv[2]), 10) || 0) !== 0;
        return void c.out.ok();
      }
      if (sub === 'reload' && argv.length === 2) {
        // save, empty, load back (models are rebuilt in their backends); -LOADING for others meanwhile
        return c.server.persistence.debugReload().then(
          () => void c.out.ok(),
          (e: Error) => {
            throw new CommandError(`ERR Error trying to reload the dataset: ${e.message}`);
          },
        );
      }
      if (sub === 'digest' && argv.length === 2) return void c.out.simple(datasetDigest(c.server.dbs));
      if (sub === 'digest-value') {
        c.out.array(argv.length - 2);
        for (const k of argv.slice(2)) c.out.simple(valueDigest(c.db.lookup(str(k))).toString('hex'));
        return;
      }
      if (sub === 'aof-sync-mode' && argv.length === 3) {
        // how appendfsync always syncs: auto (inline while syncs are cheap), inline, background (group commit)
        const mode = lower(argv[2]);
        if (mode !== 'auto' && mode !== 'inline' && mode !== 'background') syntaxError();
        c.server.persistence.aof.syncMode = mode;
        return void c.out.ok();
      }
      if (sub === 'object' && argv.length === 3) {
        const v = c.db.lookup(str(argv[2]));
        if (!v) throw new CommandError(Err.noSuchKey);
        return void c.out.simple(`Value at:0x0 refcount:1 encoding:${encodingOf(v)} serializedlength:0 lru:0 lru_seconds_idle:0`);
      }
      throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1])}'. Try DEBUG HELP.`);
    },
  },
];

// COMMAND and its subcommands are in @connection in Redis
for (const def of serverCommands) {
  if (def.name === 'command') for (const sub of def.subcommands ?? []) sub.categories = ['connection'];
}
