// Server commands: INFO, CONFIG, COMMAND, DBSIZE, FLUSHDB/FLUSHALL, TIME, SLOWLOG, SHUTDOWN, DEBUG.

import type { Command, CommandDef } from '../command-table';
import { INTERNAL_FLAGS } from '../command-table';
import type { Client } from '../client';
import { ConfigError } from '../config';
import { CommandError, Err } from '../errors';
import { globMatch } from '../glob';
import { lower, parseFloatArg, parseInteger, str, syntaxError } from './args';

function commandInfo(c: Client, cmd: Command): void {
  const out = c.out;
  out.array(10);
  out.bulk(cmd.fullName);
  out.int(cmd.arity);
  const flags = [...cmd.flags].filter((f) => !INTERNAL_FLAGS.has(f));
  if (cmd.getKeysFn) flags.push('movablekeys' as never);
  out.set(flags.length);
  for (const f of flags) out.simple(f);
  out.int(cmd.firstKey);
  out.int(cmd.lastKey);
  out.int(cmd.keyStep);
  out.set(cmd.categories.length);
  for (const cat of cmd.categories) out.simple('@' + cat);
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

function shutdown(c: Client, argv: Buffer[]): void {
  for (let i = 1; i < argv.length; i++) {
    const o = lower(argv[i]);
    if (!['nosave', 'save', 'now', 'force', 'abort'].includes(o)) syntaxError();
    if (o === 'abort') throw new CommandError('ERR No shutdown in progress.');
  }
  c.server.log('warning', 'User requested shutdown...');
  c.server.shutdown();
}

function debugSleep(seconds: number): void {
  // DEBUG SLEEP blocks the whole server, as in Redis: that is its purpose in tests
  const ms = Math.max(0, seconds * 1000);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const admin = (name: string, arity: number, flags: CommandDef['flags'], handler: CommandDef['handler'], group = 'server'): CommandDef => ({
  name,
  arity,
  flags,
  group,
  handler,
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
  '    Print this help.',
];

export const serverCommands: CommandDef[] = [
  admin('info', -1, ['loading', 'stale'], (c, argv) => {
    const text = c.server.info.render(argv.slice(1).map(str));
    c.out.verbatim(text);
  }),
  admin('dbsize', 1, ['readonly', 'fast'], (c) => void c.out.int(c.db.size), 'server'),
  admin('flushdb', -1, ['write'], (c, argv) => {
    if (argv.length > 2 || (argv.length === 2 && !['async', 'sync'].includes(lower(argv[1])))) syntaxError();
    c.server.markDirty(c.db.size + 1);
    c.db.clear();
    c.out.ok();
  }),
  admin('flushall', -1, ['write'], (c, argv) => {
    if (argv.length > 2 || (argv.length === 2 && !['async', 'sync'].includes(lower(argv[1])))) syntaxError();
    let n = 1;
    for (const db of c.server.dbs) {
      n += db.size;
      db.clear();
    }
    c.server.markDirty(n);
    c.out.ok();
  }),
  admin('time', 1, ['loading', 'stale', 'fast'], (c) => {
    const us = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    c.out.array(2).bulk(String(us / 1000000n)).bulk(String(us % 1000000n));
  }),
  admin('shutdown', -1, ['admin', 'noscript', 'loading', 'stale', 'no-multi'], shutdown),
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
        const lines = ['SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'GET [<count>]', 'LEN', 'RESET', 'HELP'];
        c.out.array(lines.length);
        for (const l of lines) c.out.simple(l);
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
        if (argv.length % 2 !== 0) throw new CommandError(Err.wrongArity('config|set'));
        const config = c.server.config;
        const pairs: [string, string][] = [];
        for (let i = 2; i < argv.length; i += 2) pairs.push([str(argv[i]), str(argv[i + 1])]);
        const before = pairs.map(([k]) => {
          try {
            return config.get(k.toLowerCase());
          } catch {
            return null;
          }
        });
        try {
          for (const [k, v] of pairs) config.set(k, v);
        } catch (e) {
          // all or nothing, as Redis 7's multi-parameter CONFIG SET
          pairs.forEach(([k], i) => {
            if (before[i] !== null) config.set(k, before[i]!, true);
          });
          if (e instanceof ConfigError) {
            const msg = e.message.startsWith('Unknown option') || e.message.startsWith('CONFIG SET failed') ? e.message : `CONFIG SET failed (possibly related to argument '${pairs[0][0]}') - ${e.message}`;
            throw new CommandError('ERR ' + msg);
          }
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
          else c.out.nullArray();
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
        let names = c.server.table.all().map((x) => x.name);
        if (argv.length > 2) {
          if (argv.length !== 5 || lower(argv[2]) !== 'filterby') syntaxError();
          const kind = lower(argv[3]);
          const val = str(argv[4]);
          if (kind === 'pattern') names = names.filter((n) => globMatch(val, n, true));
          else if (kind === 'aclcat') names = names.filter((n) => c.server.table.get(n)!.categories.includes(val.replace(/^@/, '')));
          else if (kind === 'module') names = [];
          else syntaxError();
        }
        c.out.bulks(names);
      }),
      admin('getkeys', -3, ['loading', 'stale'], (c, argv) => {
        const cmd = resolve(c, str(argv[2]));
        if (!cmd) throw new CommandError('ERR Invalid command specified');
        const sub = argv.slice(2);
        if (!cmd.arityOk(sub.length)) throw new CommandError('ERR Invalid number of arguments specified for command');
        const idx = cmd.keyIndices(sub);
        if (idx.length === 0) throw new CommandError('ERR The command has no key arguments');
        c.out.bulks(idx.map((i) => sub[i]));
      }),
      admin('help', 2, ['loading', 'stale'], (c) => {
        const lines = ['COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', '(no subcommand)', 'COUNT', 'INFO [<command-name> ...]', 'DOCS [<command-name> ...]', 'LIST [FILTERBY (MODULE|ACLCAT|PATTERN) <value>]', 'GETKEYS <full-command>', 'HELP'];
        c.out.array(lines.length);
        for (const l of lines) c.out.simple(l);
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
        debugSleep(parseFloatArg(argv[2]));
        return void c.out.ok();
      }
      if (sub === 'set-active-expire' && argv.length === 3) {
        c.server.activeExpireEnabled = parseInteger(argv[2]) !== 0;
        return void c.out.ok();
      }
      if (sub === 'object' && argv.length === 3) {
        const v = c.db.lookup(str(argv[2]));
        if (!v) throw new CommandError(Err.noSuchKey);
        return void c.out.simple(`Value at:0x0 refcount:1 encoding:${v.type === 'string' ? 'raw' : v.type} serializedlength:0 lru:0 lru_seconds_idle:0`);
      }
      throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1])}'. Try DEBUG HELP.`);
    },
  },
];
