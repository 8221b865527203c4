// Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT and CLIENT.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import { CommandError, Err } from '../errors';
import { lower, parseInteger, str, syntaxError } from './args';

/** Redis's version as clients see it; tools gate features on it. */
export const REDIS_VERSION = '7.0.15';

/** Logs the client in as `user` when the password is right (src/node/acl.ts); false otherwise. */
function checkPassword(c: Client, user: string, pass: string): boolean {
  if (c.server.acl.authenticate(user, pass) !== null) return true;
  c.server.acl.addLog('auth', 'toplevel', 'AUTH', user, c.infoLine());
  return false;
}

function auth(c: Client, argv: Buffer[]): void {
  if (argv.length > 3) syntaxError();
  const user = argv.length === 3 ? str(argv[1]) : 'default';
  const pass = str(argv[argv.length - 1]);
  if (argv.length === 2 && c.server.acl.defaultUser.nopass) throw new CommandError(Err.authNoPassword);
  if (!checkPassword(c, user, pass)) throw new CommandError(Err.wrongPass);
  c.authenticated = true;
  c.user = user;
  c.out.ok();
}

function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function setName(c: Client, name: string): void {
  if (!validName(name)) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
  c.name = name;
}

function hello(c: Client, argv: Buffer[]): void {
  let proto = c.out.proto;
  let i = 1;
  if (argv.length > 1) {
    let v: number;
    try {
      v = parseInteger(argv[1]);
    } catch {
      throw new CommandError('ERR Protocol version is not an integer or out of range');
    }
    if (v !== 2 && v !== 3) throw new CommandError(Err.noProto);
    proto = v as 2 | 3;
    i = 2;
  }
  let newName: string | null = null;
  for (; i < argv.length; i++) {
    const opt = lower(argv[i]);
    if (opt === 'auth' && i + 2 < argv.length) {
      const user = str(argv[i + 1]);
      const pass = str(argv[i + 2]);
      if (!checkPassword(c, user, pass)) throw new CommandError(Err.wrongPass);
      c.authenticated = true;
      c.user = user;
      i += 2;
    } else if (opt === 'setname' && i + 1 < argv.length) {
      newName = str(argv[++i]);
      if (!validName(newName)) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${str(argv[i])}'`);
    }
  }
  if (!c.authenticated) {
    throw new CommandError(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (newName !== null) c.name = newName;
  c.out.proto = proto;
  const info = c.server.roleInfo();
  c.out.map(7);
  c.out.bulk('server').bulk('redis');
  c.out.bulk('version').bulk(REDIS_VERSION);
  c.out.bulk('proto').int(proto);
  c.out.bulk('id').int(c.id);
  c.out.bulk('mode').bulk(info.mode);
  c.out.bulk('role').bulk(info.role);
  c.out.bulk('modules').array(0);
}

function clientKill(c: Client, argv: Buffer[]): void {
  const server = c.server;
  if (argv.length === 3) {
    // old form: CLIENT KILL addr:port
    const addr = str(argv[2]);
    const target = [...server.clients.values()].find((x) => addrOf(x) === addr);
    if (!target) throw new CommandError('ERR No such client');
    killClient(c, target);
    return void c.out.ok();
  }
  if (argv.length % 2 !== 0) syntaxError();
  const filters: ((x: Client) => boolean)[] = [];
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = lower(argv[i]);
    const val = str(argv[i + 1]);
    if (opt === 'id') {
      const id = parseInteger(argv[i + 1], 'ERR client-id should be greater than 0');
      if (id <= 0) throw new CommandError('ERR client-id should be greater than 0');
      filters.push((x) => x.id === id);
    } else if (opt === 'type') {
      let t = val.toLowerCase();
      if (t === 'slave') t = 'replica';
      if (!['normal', 'replica', 'master', 'pubsub'].includes(t)) throw new CommandError(`ERR Unknown client type '${val}'`);
      filters.push((x) => clientType(x) === t);
    } else if (opt === 'addr') filters.push((x) => addrOf(x) === val);
    else if (opt === 'laddr') filters.push((x) => laddrOf(x) === val);
    else if (opt === 'user') {
      if (!c.server.acl.users.has(val)) throw new CommandError(`ERR No such user '${val}'`);
      filters.push((x) => x.user === val);
    }
    else if (opt === 'skipme') {
      const v = val.toLowerCase();
      if (v !== 'yes' && v !== 'no') syntaxError();
      skipMe = v === 'yes';
    } else if (opt === 'maxage') {
      const age = parseInteger(argv[i + 1]);
      filters.push((x) => (Date.now() - x.createdAt) / 1000 >= age);
    } else syntaxError();
  }
  let killed = 0;
  for (const x of [...server.clients.values()]) {
    if (skipMe && x === c) continue;
    if (filters.every((f) => f(x))) {
      killClient(c, x);
      killed++;
    }
  }
  c.out.int(killed);
}

/** Kills a client; killing oneself closes after this reply, as Redis does. */
function killClient(self: Client, target: Client): void {
  if (target === self) self.closeAfterReply = true;
  else target.close();
}

function clientType(x: Client): string {
  if (x.kind === 'replica' || x.kind === 'master') return x.kind;
  return x.inPubSubContext ? 'pubsub' : 'normal';
}

function addrOf(x: Client): string {
  return (x.socket.remoteAddress ?? '').replace('::ffff:', '') + ':' + x.socket.remotePort;
}

function laddrOf(x: Client): string {
  return (x.socket.localAddress ?? '').replace('::ffff:', '') + ':' + x.socket.localPort;
}

function clientList(c: Client, argv: Buffer[]): void {
  let clients = [...c.server.clients.values()];
  for (let i = 2; i < argv.length; i++) {
    const opt = lower(argv[i]);
    if (opt === 'type' && i + 1 < argv.length) {
      let t = lower(argv[++i]);
      if (t === 'slave') t = 'replica';
      if (!['normal', 'replica', 'master', 'pubsub'].includes(t)) throw new CommandError(`ERR Unknown client type '${str(argv[i])}'`);
      clients = clients.filter((x) => clientType(x) === t);
    } else if (opt === 'id' && i + 1 < argv.length) {
      // as Redis: one line per given ID that names a client (in the order given); unknown IDs are skipped
      const byId: Client[] = [];
      for (i++; i < argv.length; i++) {
        const id = parseInteger(argv[i], 'ERR Invalid client ID');
        const x = c.server.clients.get(id);
        if (x && clients.includes(x)) byId.push(x);
      }
      clients = byId;
    } else syntaxError();
  }
  c.out.verbatim(clients.map((x) => x.infoLine() + '\n').join(''));
}

/** CLIENT PAUSE timeout [WRITE|ALL]: src/node/client-pause.ts (Redis's error texts) */
function clientPause(c: Client, argv: Buffer[]): void {
  if (argv.length > 4) syntaxError();
  const text = str(argv[2]);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new CommandError('ERR timeout is not an integer or out of range');
  const ms = Number(text);
  if (ms < 0) throw new CommandError('ERR timeout is negative');
  let type: 'write' | 'all' = 'all';
  if (argv.length === 4) {
    const mode = lower(argv[3]);
    if (mode !== 'write' && mode !== 'all') throw new CommandError('ERR CLIENT PAUSE mode must be WRITE or ALL');
    type = mode;
  }
  c.server.pause.pause('client', type, Date.now() + ms);
  c.out.ok();
}

// Redis 7.0's CLIENT HELP wording, for the subcommands this server has
const HELP_CLIENT = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  '    * ID <client-id>',
  '      Kill connections by client id.',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  '    * ID <client-id> [<client-id> ...]',
  '      Return clients with the specified IDs.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <LIB-NAME|LIB-VER> <value>',
  '    Set client library name or version.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'HELP',
  '    Prints this help.',
];

const sub = (name: string, arity: number, flags: CommandDef['flags'], handler: CommandDef['handler']): CommandDef => ({
  name,
  arity,
  flags,
  group: 'connection',
  handler,
});

export const connectionCommands: CommandDef[] = [
  {
    name: 'ping',
    arity: -1,
    flags: ['fast', 'allowed-in-subscribe'],
    group: 'connection',
    handler: (c, argv) => {
      if (argv.length > 2) throw new CommandError(Err.wrongArity('ping'));
      if (c.inPubSubContext && c.out.proto === 2) {
        // in a RESP2 subscribed context PING answers like a message
        c.out.array(2).bulk('pong').bulk(argv.length === 2 ? argv[1] : '');
        return;
      }
      if (argv.length === 2) c.out.bulk(argv[1]);
      else c.out.simple('PONG');
    },
  },
  { name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], group: 'connection', handler: (c, argv) => void c.out.bulk(argv[1]) },
  {
    name: 'quit',
    arity: -1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'no-auth', 'allow-busy', 'allowed-in-subscribe', 'no-queue'],
    group: 'connection',
    handler: (c) => {
      c.out.ok();
      c.closeAfterReply = true;
    },
  },
  {
    name: 'reset',
    arity: 1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'no-auth', 'allow-busy', 'allowed-in-subscribe', 'no-queue'],
    group: 'connection',
    handler: (c) => {
      c.multi = null;
      c.multiError = false;
      c.server.unwatchAll(c);
      c.server.pubsub.removeClient(c);
      c.db = c.server.dbs[0];
      c.out.proto = 2;
      c.name = '';
      c.authenticated = c.server.acl.autoAuthenticated();
      c.user = 'default';
      c.out.simple('RESET');
    },
  },
  { name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no-auth', 'allow-busy'], group: 'connection', handler: hello },
  { name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no-auth', 'allow-busy', 'allowed-in-subscribe'], group: 'connection', handler: auth },
  {
    name: 'select',
    arity: 2,
    flags: ['fast', 'loading', 'stale'],
    group: 'connection',
    handler: (c, argv) => {
      const n = parseInteger(argv[1]);
      if (n < 0 || n >= c.server.dbs.length) throw new CommandError(Err.dbIndexOutOfRange);
      c.db = c.server.dbs[n];
      c.out.ok();
    },
  },
  {
    name: 'client',
    arity: -2,
    flags: [],
    group: 'connection',
    subcommands: [
      sub('id', 2, ['noscript', 'loading', 'stale'], (c) => void c.out.int(c.id)),
      sub('info', 2, ['noscript', 'loading', 'stale'], (c) => void c.out.verbatim(c.infoLine() + '\n')),
      sub('list', -2, ['admin', 'noscript', 'loading', 'stale'], clientList),
      sub('getname', 2, ['noscript', 'loading', 'stale'], (c) => void c.out.bulk(c.name === '' ? null : c.name)),
      sub('setname', 3, ['noscript', 'loading', 'stale'], (c, argv) => {
        setName(c, str(argv[2]));
        c.out.ok();
      }),
      sub('setinfo', 4, ['noscript', 'loading', 'stale'], (c, argv) => {
        const attr = lower(argv[2]);
        const val = str(argv[3]);
        if (attr !== 'lib-name' && attr !== 'lib-ver') throw new CommandError(`ERR Unrecognized option '${str(argv[2])}'`);
        if (!validName(val) && val !== '') throw new CommandError(`ERR ${str(argv[2])} cannot contain spaces, newlines or special characters.`);
        if (attr === 'lib-name') c.libName = val;
        else c.libVer = val;
        c.out.ok();
      }),
      sub('kill', -3, ['admin', 'noscript', 'loading', 'stale'], clientKill),
      sub('no-evict', 3, ['admin', 'noscript', 'loading', 'stale'], (c, argv) => {
        const v = lower(argv[2]);
        if (v !== 'on' && v !== 'off') syntaxError();
        c.out.ok();
      }),
      sub('pause', -3, ['admin', 'noscript', 'loading', 'stale'], clientPause),
      sub('unpause', 2, ['admin', 'noscript', 'loading', 'stale'], (c) => {
        c.server.pause.unpause('client');
        c.out.ok();
      }),
      sub('help', 2, ['loading', 'stale'], (c) => {
        c.out.array(HELP_CLIENT.length);
        for (const l of HELP_CLIENT) c.out.simple(l);
      }),
    ],
  },
];
