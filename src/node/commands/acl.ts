// ACL SETUSER / GETUSER / DELUSER / LIST / USERS / WHOAMI / CAT / DRYRUN / GENPASS / HELP (src/node/acl.ts
// holds the users and the permission checks).

import * as crypto from 'node:crypto';
import type { CommandDef, CommandFlag, Handler } from '../command-table';
import type { Client } from '../client';
import { Acl, AclRuleError, CATEGORIES } from '../acl';
import { CommandError, Err } from '../errors';
import { parseInteger, str } from './args';

const HELP = [
  'ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  "    Get the user's details.",
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
  'HELP',
  '    Prints this help.',
];

function acl(c: Client): Acl {
  return c.server.acl;
}

function setuser(c: Client, argv: Buffer[]): void {
  const name = str(argv[2]);
  if (/[\s\0]/.test(name)) throw new CommandError("ERR Usernames can't contain spaces or null characters");
  const rules = argv.slice(3).map(str);
  try {
    acl(c).setUser(name, rules);
  } catch (e) {
    if (e instanceof AclRuleError) throw new CommandError(`ERR Error in ACL SETUSER modifier '${e.rule}': ${e.message}`);
    throw e;
  }
  // as Redis 7.0: clients of the user subscribed to channels it may no longer read are disconnected
  const u = acl(c).users.get(name)!;
  for (const other of [...c.server.clients.values()]) {
    if (other.user !== name || acl(c).subscriptionsAllowed(u, other.channels, other.patterns)) continue;
    if (other === c) other.closeAfterReply = true;
    else other.close();
  }
  c.out.ok();
}

function getuser(c: Client, argv: Buffer[]): void {
  const a = acl(c);
  const u = a.users.get(str(argv[2]));
  if (!u) {
    c.out.null();
    return;
  }
  const flags = a.flags(u);
  c.out.map(6);
  c.out.bulk('flags').set(flags.length);
  for (const f of flags) c.out.bulk(f);
  c.out.bulk('passwords').array(u.passwords.size);
  for (const h of u.passwords) c.out.bulk(h);
  c.out.bulk('commands').bulk(a.describeCommands(u));
  c.out.bulk('keys').bulk(a.describeKeys(u).join(' '));
  c.out.bulk('channels').bulk(a.describeChannels(u).join(' '));
  c.out.bulk('selectors').array(0);
}

function deluser(c: Client, argv: Buffer[]): void {
  const names = argv.slice(2).map(str);
  if (names.includes('default')) throw new CommandError("ERR The 'default' user cannot be removed");
  let deleted = 0;
  for (const name of names) {
    if (!acl(c).users.delete(name)) continue;
    deleted++;
    // as Redis: the connections authenticated as a deleted user are closed
    for (const other of [...c.server.clients.values()]) {
      if (other.user !== name) continue;
      if (other === c) other.closeAfterReply = true;
      else other.close();
    }
  }
  c.out.int(deleted);
}

function list(c: Client): void {
  const a = acl(c);
  const names = [...a.users.keys()].sort();
  c.out.array(names.length);
  for (const n of names) c.out.bulk(a.describe(a.users.get(n)!));
}

function users(c: Client): void {
  const names = [...acl(c).users.keys()].sort();
  c.out.array(names.length);
  for (const n of names) c.out.bulk(n);
}

function cat(c: Client, argv: Buffer[]): void {
  if (argv.length === 2) {
    c.out.array(CATEGORIES.length);
    for (const name of CATEGORIES) c.out.bulk(name);
    return;
  }
  const want = str(argv[2]).toLowerCase();
  if (!CATEGORIES.includes(want)) throw new CommandError(`ERR Unknown category '${str(argv[2])}'`);
  const names: string[] = [];
  for (const cmd of c.server.table.all()) {
    for (const x of [cmd, ...(cmd.subcommands?.values() ?? [])]) if (x.categories.includes(want)) names.push(x.fullName);
  }
  c.out.array(names.length);
  for (const n of names) c.out.bulk(n);
}

function dryrun(c: Client, argv: Buffer[]): void {
  const a = acl(c);
  const name = str(argv[2]);
  const u = a.users.get(name);
  if (!u) throw new CommandError(`ERR User '${name}' not found`);
  const args = argv.slice(3);
  let cmd = c.server.table.lookup(args[0]);
  if (cmd?.subcommands && args.length >= 2) cmd = cmd.subcommands.get(str(args[1]).toLowerCase()) ?? cmd;
  if (!cmd) throw new CommandError(`ERR Command '${str(args[0])}' not found`);
  if (!cmd.arityOk(args.length)) throw new CommandError(Err.wrongArity(cmd.fullName));
  const denial = a.check(u, cmd, args);
  if (!denial) c.out.ok();
  else if (denial.kind === 'command') c.out.bulk(`This user has no permissions to run the '${cmd.fullName}' command`);
  else if (denial.kind === 'key') c.out.bulk(`This user has no permissions to access the '${denial.key}' key`);
  else c.out.bulk(`This user has no permissions to access the '${denial.channel}' channel`);
}

/** ACL LOG [count | RESET] */
function log(c: Client, argv: Buffer[]): void {
  const a = acl(c);
  if (argv.length > 3) throw new CommandError("ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP.");
  let count = 10;
  if (argv.length === 3) {
    if (str(argv[2]).toLowerCase() === 'reset') {
      a.log = [];
      return void c.out.ok();
    }
    count = parseInteger(argv[2]);
  }
  const entries = a.log.slice(0, Math.max(0, count));
  const now = Date.now();
  c.out.array(entries.length);
  for (const e of entries) {
    c.out.map(7);
    c.out.bulk('count').int(e.count);
    c.out.bulk('reason').bulk(e.reason);
    c.out.bulk('context').bulk(e.context);
    c.out.bulk('object').bulk(e.object);
    c.out.bulk('username').bulk(e.username);
    c.out.bulk('age-seconds').double((now - e.time) / 1000);
    c.out.bulk('client-info').bulk(e.clientInfo);
  }
}

function genpass(c: Client, argv: Buffer[]): void {
  let bits = 256;
  if (argv.length === 3) {
    bits = parseInteger(argv[2], 'ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
    if (bits <= 0 || bits > 4096) {
      throw new CommandError('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
    }
  }
  const chars = Math.ceil(bits / 4);
  c.out.bulk(crypto.randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

function aclFile(c: Client): string {
  const path = c.server.config.get('aclfile');
  if (path === '') noAclFile();
  return path;
}

function save(c: Client): void {
  try {
    acl(c).saveFile(aclFile(c));
  } catch (e) {
    if (e instanceof CommandError) throw e;
    c.server.log('warning', `Opening ACL file for saving: ${(e as Error).message}`);
    throw new CommandError('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  }
  c.out.ok();
}

function load(c: Client): void {
  try {
    acl(c).loadFile(aclFile(c));
  } catch (e) {
    if (e instanceof CommandError) throw e;
    throw new CommandError('ERR ' + (e as Error).message);
  }
  // connections of users the file no longer has are closed
  for (const other of [...c.server.clients.values()]) {
    if (acl(c).users.has(other.user)) continue;
    if (other === c) other.closeAfterReply = true;
    else other.close();
  }
  c.out.ok();
}

function noAclFile(): never {
  throw new CommandError('ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.');
}

const ADMIN: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];
const PLAIN: CommandFlag[] = ['noscript', 'loading', 'stale'];

function sub(name: string, arity: number, flags: CommandFlag[], handler: Handler): CommandDef {
  return { name, arity, flags, group: 'server', handler };
}

export const aclCommands: CommandDef[] = [
  {
    name: 'acl',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      sub('setuser', -3, ADMIN, setuser),
      sub('getuser', 3, ADMIN, getuser),
      sub('deluser', -3, ADMIN, deluser),
      sub('list', 2, ADMIN, list),
      sub('users', 2, ADMIN, users),
      sub('whoami', 2, PLAIN, (c) => void c.out.bulk(c.user)),
      sub('cat', -2, PLAIN, cat),
      sub('dryrun', -4, ADMIN, dryrun),
      sub('genpass', -2, PLAIN, genpass),
      sub('log', -2, ADMIN, log),
      sub('save', 2, ADMIN, save),
      sub('load', 2, ADMIN, load),
      sub('help', 2, ['loading', 'stale'], (c) => {
        c.out.array(HELP.length);
        for (const l of HELP) c.out.simple(l);
      }),
    ],
  },
];
