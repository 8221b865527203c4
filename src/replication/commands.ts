// Replication commands: REPLICAOF / SLAVEOF, ROLE, WAIT, and the ones replicas send (PSYNC, SYNC, REPLCONF).
// Replies and errors as Redis 7.

import type { CommandDef } from '../node/command-table';
import type { Client } from '../node/client';
import { CommandError } from '../node/errors';
import { lower, parseInteger, str } from '../node/commands/args';
import { SyncRefused } from './replication';

/** REPLICAOF host port | REPLICAOF NO ONE */
function replicaof(c: Client, argv: Buffer[]): void {
  const repl = c.server.replication;
  if (lower(argv[1]) === 'no' && lower(argv[2]) === 'one') {
    if (repl.role === 'replica') repl.promote();
    return void c.out.ok();
  }
  if (c.kind === 'replica') throw new CommandError('ERR Command is not valid when client is a replica.');
  const host = str(argv[1]);
  const port = parseInteger(argv[2], 'ERR Invalid master port');
  if (port < 0 || port > 65535) throw new CommandError('ERR Invalid master port');
  if (!repl.replicaOf(host, port)) return void c.out.simple('OK Already connected to specified master');
  c.server.log('notice', `REPLICAOF ${host}:${port} enabled (user request from 'id=${c.id}')`);
  c.out.ok();
}

/** ROLE: master → [master, offset, [[ip, port, offset]...]]; replica → [slave, host, port, state, offset]. */
function role(c: Client): void {
  const repl = c.server.replication;
  if (repl.role === 'master') {
    c.out.array(3).bulk('master').int(repl.offset);
    c.out.array(repl.replicas.size);
    for (const r of repl.replicas) c.out.array(3).bulk(r.ip).bulk(String(r.port)).bulk(String(r.ackOffset));
    return;
  }
  const link = repl.link!;
  const state = link.state === 'connected' ? 'connected' : link.state;
  c.out.array(5).bulk('slave').bulk(link.host).int(link.port).bulk(state).int(link.up || repl.offset > 0 ? repl.offset : -1);
}

/** WAIT numreplicas timeout */
function wait(c: Client, argv: Buffer[]): Promise<void> | void {
  const repl = c.server.replication;
  if (repl.role === 'replica') {
    throw new CommandError(
      'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
    );
  }
  const n = parseInteger(argv[1]);
  const timeout = parseInteger(argv[2], 'ERR timeout is not an integer or out of range');
  if (timeout < 0) throw new CommandError('ERR timeout is negative');
  const r = repl.wait(n, timeout);
  if (typeof r === 'number') return void c.out.int(r);
  return r.then((count) => void c.out.int(count));
}

function syncOrRefuse(c: Client, replid: string, from: number, psync: boolean): Promise<void> | void {
  try {
    return c.server.replication.sync(c, replid, from, psync);
  } catch (e) {
    if (e instanceof SyncRefused) throw new CommandError(e.message);
    throw e;
  }
}

/** PSYNC replid offset (offset = the first byte the replica wants) */
function psync(c: Client, argv: Buffer[]): Promise<void> | void {
  const replid = str(argv[1]);
  const from = parseInteger(argv[2], 'ERR value is not an integer or out of range');
  return syncOrRefuse(c, replid, from, true);
}

function sync(c: Client): Promise<void> | void {
  return syncOrRefuse(c, '?', -1, false);
}

/** REPLCONF <option> <value> ... */
function replconf(c: Client, argv: Buffer[]): void {
  if (argv.length % 2 === 0) throw new CommandError('ERR syntax error');
  const repl = c.server.replication;
  for (let i = 1; i < argv.length; i += 2) {
    const opt = lower(argv[i]);
    const val = argv[i + 1];
    switch (opt) {
      case 'listening-port': {
        const port = parseInteger(val);
        repl.announce(c, { port });
        break;
      }
      case 'ip-address':
        repl.announce(c, { ip: str(val) });
        break;
      case 'capa':
      case 'rdb-only':
      case 'rdb-filter-only':
        break;
      case 'ack':
        // replicas send ACK as part of the stream's back channel: never answered
        if (c.kind === 'replica') repl.ack(c, parseInteger(val));
        return;
      case 'getack':
        // only meaningful from a master, inside the stream (handled by the replica's link)
        return;
      default:
        throw new CommandError(`ERR Unrecognized REPLCONF option: ${str(argv[i])}`);
    }
  }
  c.out.ok();
}

export const replicationCommands: CommandDef[] = [
  { name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale'], group: 'server', handler: replicaof },
  { name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale'], group: 'server', handler: replicaof },
  { name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], group: 'server', handler: role },
  { name: 'wait', arity: 3, flags: ['noscript'], group: 'generic', categories: ['connection'], handler: wait },
  { name: 'psync', arity: -3, flags: ['admin', 'noscript', 'no-multi'], group: 'server', handler: psync },
  { name: 'sync', arity: 1, flags: ['admin', 'noscript', 'no-multi'], group: 'server', handler: sync },
  { name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow-busy'], group: 'server', handler: replconf },
];
