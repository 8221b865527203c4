// The sentinel's command table: the node's connection and pub/sub commands (PING, HELLO, AUTH, CLIENT,
// SUBSCRIBE…, COMMAND, SHUTDOWN) plus SENTINEL, INFO, ROLE and a PUBLISH that only takes hello messages, with
// Redis Sentinel 7.0's replies: every field value a bulk string, maps in RESP3, flat arrays in RESP2.

import type { CommandDef } from '../node/command-table';
import type { Client } from '../node/client';
import type { Server } from '../node/server';
import { CommandError } from '../node/errors';
import { allCommands } from '../node/commands';
import { lower, str } from '../node/commands/args';
import { HELLO_CHANNEL, Instance, Master, type Sentinel } from './sentinel';
import { defaultMaster } from './config';

const sentinels = new WeakMap<Server, Sentinel>();

export function attachSentinel(server: Server, s: Sentinel): void {
  sentinels.set(server, s);
}

const of = (c: Client): Sentinel => sentinels.get(c.server)!;

function flagsOf(ri: Instance): string {
  const f: string[] = [ri.kind];
  if (ri.sdown) f.push('s_down');
  if (ri instanceof Master && ri.odown) f.push('o_down');
  if (ri.disconnected) f.push('disconnected');
  if (ri.kind === 'sentinel' && ri.masterDown) f.push('master_down');
  if (ri instanceof Master && ri.failoverInProgress) f.push('failover_in_progress');
  if (ri.promoted) f.push('promoted');
  if (ri.reconfSent) f.push('reconf_sent');
  if (ri.reconfInprog) f.push('reconf_inprog');
  if (ri.reconfDone) f.push('reconf_done');
  return f.join(',');
}

/** The fields of SENTINEL MASTER(S) / REPLICAS / SENTINELS, in Redis 7.0's order. */
function instanceFields(ri: Instance, m: Master): [string, string][] {
  const now = Date.now();
  const f: [string, string][] = [
    ['name', ri.name],
    ['ip', ri.ip],
    ['port', String(ri.port)],
    ['runid', ri.runid],
    ['flags', flagsOf(ri)],
    ['link-pending-commands', String(ri.link?.pending ?? 0)],
    ['link-refcount', '1'],
    ['last-ping-sent', String(ri.link?.actPingTime ? now - ri.link.actPingTime : 0)],
    ['last-ok-ping-reply', String(now - (ri.lastOkPing || ri.createdAt))],
    ['last-ping-reply', String(now - (ri.lastPingReply || ri.createdAt))],
  ];
  if (ri.sdown) f.push(['s-down-time', String(now - ri.sdownSince)]);
  if (ri instanceof Master && ri.odown) f.push(['o-down-time', String(now - ri.odownSince)]);
  f.push(['down-after-milliseconds', String(m.downAfterMs)]);
  if (ri.kind !== 'sentinel') {
    f.push(
      ['info-refresh', String(ri.infoRefresh ? now - ri.infoRefresh : 0)],
      ['role-reported', ri.roleReported],
      ['role-reported-time', String(now - ri.roleReportedTime)],
    );
  }
  if (ri instanceof Master) {
    f.push(
      ['config-epoch', String(ri.configEpoch)],
      ['num-slaves', String(ri.slaves.size)],
      ['num-other-sentinels', String(ri.sentinels.size)],
      ['quorum', String(ri.quorum)],
      ['failover-timeout', String(ri.failoverTimeoutMs)],
      ['parallel-syncs', String(ri.parallelSyncs)],
    );
    if (ri.failoverInProgress) f.push(['failover-state', ri.failoverState]);
  } else if (ri.kind === 'slave') {
    f.push(
      ['master-link-down-time', String(ri.masterLinkDownTime)],
      ['master-link-status', ri.masterLinkStatus],
      ['master-host', ri.slaveMasterHost || '?'],
      ['master-port', String(ri.slaveMasterPort)],
      ['slave-priority', String(ri.slavePriority)],
      ['slave-repl-offset', String(ri.slaveReplOffset)],
      ['replica-announced', ri.replicaAnnounced ? '1' : '0'],
    );
  } else {
    f.push(
      ['last-hello-message', String(ri.lastHello ? now - ri.lastHello : now - ri.createdAt)],
      ['voted-leader', ri.leader || '?'],
      ['voted-leader-epoch', String(ri.leaderEpoch)],
    );
  }
  return f;
}

function replyInstance(c: Client, fields: [string, string][]): void {
  c.out.map(fields.length);
  for (const [k, v] of fields) c.out.bulk(k).bulk(v);
}

function masterByName(c: Client, name: Buffer): Master {
  const m = of(c).masters.get(str(name));
  if (!m) throw new CommandError('ERR No such master with that name');
  return m;
}

function parsePositive(v: Buffer, what: string): number {
  const s = str(v);
  if (!/^-?\d+$/.test(s)) throw new CommandError(`ERR Invalid argument '${s}' for SENTINEL SET '${what}'`);
  return Number(s);
}

function usableSentinels(m: Master): number {
  let usable = 1;
  for (const s of m.sentinels.values()) if (!s.sdown && !s.disconnected) usable++;
  return usable;
}

function sentinelCommand(c: Client, argv: Buffer[]): void {
  const s = of(c);
  const sub = lower(argv[1]);
  const n = argv.length;
  const arity = (ok: boolean) => {
    if (!ok) throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1])}'. Try SENTINEL HELP.`);
  };
  switch (sub) {
    case 'myid':
      arity(n === 2);
      return void c.out.bulk(s.myid);
    case 'masters':
      arity(n === 2);
      c.out.array(s.masters.size);
      for (const m of s.masters.values()) replyInstance(c, instanceFields(m, m));
      return;
    case 'master': {
      arity(n === 3);
      const m = masterByName(c, argv[2]);
      return replyInstance(c, instanceFields(m, m));
    }
    case 'slaves':
    case 'replicas': {
      arity(n === 3);
      const m = masterByName(c, argv[2]);
      const list = [...m.slaves.values()].filter((r) => r.replicaAnnounced);
      c.out.array(list.length);
      for (const r of list) replyInstance(c, instanceFields(r, m));
      return;
    }
    case 'sentinels': {
      arity(n === 3);
      const m = masterByName(c, argv[2]);
      c.out.array(m.sentinels.size);
      for (const r of m.sentinels.values()) replyInstance(c, instanceFields(r, m));
      return;
    }
    case 'get-master-addr-by-name': {
      arity(n === 3);
      const m = s.masters.get(str(argv[2]));
      if (!m) return void c.out.nullArray();
      const [ip, port] = s.currentMasterAddress(m);
      c.out.array(2).bulk(ip).bulk(String(port));
      return;
    }
    case 'is-master-down-by-addr': {
      arity(n === 6);
      const ip = str(argv[2]);
      const port = Number(str(argv[3]));
      const epoch = Number(str(argv[4]));
      const runid = str(argv[5]);
      if (!Number.isInteger(port) || !Number.isInteger(epoch)) throw new CommandError('ERR value is not an integer or out of range');
      const m = [...s.masters.values()].find((x) => x.ip === ip && x.port === port);
      const down = !!m && m.sdown && !s.tilt; // in TILT a sentinel's own view is not trusted (as Redis)
      let leader = '*';
      let leaderEpoch = 0;
      if (m && runid !== '*') [leader, leaderEpoch] = s.voteLeader(m, epoch, runid);
      c.out.array(3).int(down ? 1 : 0).bulk(leader || '*').int(leaderEpoch);
      return;
    }
    case 'ckquorum': {
      arity(n === 3);
      const m = masterByName(c, argv[2]);
      const usable = usableSentinels(m);
      const voters = m.sentinels.size + 1;
      const errs: string[] = [];
      if (usable < m.quorum) errs.push('Not enough available Sentinels to reach the specified quorum for this master');
      if (usable < Math.floor(voters / 2) + 1) errs.push('Not enough available Sentinels to reach the majority and authorize a failover');
      if (errs.length) throw new CommandError(`NOQUORUM ${usable} usable Sentinels. ${errs.join('. ')}`);
      return void c.out.simple(`OK ${usable} usable Sentinels. Quorum and failover authorization can be reached`);
    }
    case 'failover': {
      arity(n === 3);
      const m = masterByName(c, argv[2]);
      const r = s.forceFailover(m);
      if (r === 'inprog') throw new CommandError('INPROG Failover already in progress');
      if (r === 'noslave') throw new CommandError('NOGOODSLAVE No suitable replica to promote');
      return void c.out.ok();
    }
    case 'reset': {
      arity(n === 3);
      const pattern = str(argv[2]);
      const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      let count = 0;
      for (const m of [...s.masters.values()]) {
        if (re.test(m.name)) {
          s.resetMaster(m);
          count++;
        }
      }
      return void c.out.int(count);
    }
    case 'monitor': {
      arity(n === 6);
      const name = str(argv[2]);
      const ip = str(argv[3]);
      const port = Number(str(argv[4]));
      const quorum = Number(str(argv[5]));
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new CommandError('ERR Invalid port number');
      if (!Number.isInteger(quorum) || quorum <= 0) throw new CommandError('ERR Quorum must be 1 or greater.');
      if (s.masters.has(name)) throw new CommandError('ERR Duplicated master name');
      const m = s.addMaster(defaultMaster(name, ip, port, quorum));
      s.flushConfig();
      s.event('warning', '+monitor', m, null, `quorum ${quorum}`);
      return void c.out.ok();
    }
    case 'remove': {
      arity(n === 3);
      const m = masterByName(c, argv[2]);
      s.releaseMaster(m);
      s.masters.delete(m.name);
      s.flushConfig();
      s.event('warning', '-monitor', m, null);
      return void c.out.ok();
    }
    case 'set': {
      arity(n >= 5 && n % 2 === 1);
      const m = masterByName(c, argv[2]);
      for (let i = 3; i < n; i += 2) {
        const opt = lower(argv[i]);
        switch (opt) {
          case 'down-after-milliseconds': {
            const v = parsePositive(argv[i + 1], opt);
            if (v <= 0) throw new CommandError(`ERR Invalid argument '${str(argv[i + 1])}' for SENTINEL SET '${opt}'`);
            m.downAfterMs = v;
            break;
          }
          case 'failover-timeout': {
            const v = parsePositive(argv[i + 1], opt);
            if (v <= 0) throw new CommandError(`ERR Invalid argument '${str(argv[i + 1])}' for SENTINEL SET '${opt}'`);
            m.failoverTimeoutMs = v;
            break;
          }
          case 'parallel-syncs': {
            const v = parsePositive(argv[i + 1], opt);
            if (v <= 0) throw new CommandError(`ERR Invalid argument '${str(argv[i + 1])}' for SENTINEL SET '${opt}'`);
            m.parallelSyncs = v;
            break;
          }
          case 'quorum': {
            const v = parsePositive(argv[i + 1], opt);
            if (v <= 0) throw new CommandError(`ERR Invalid argument '${str(argv[i + 1])}' for SENTINEL SET '${opt}'`);
            m.quorum = v;
            break;
          }
          case 'auth-pass':
            m.authPass = str(argv[i + 1]);
            break;
          case 'auth-user':
            m.authUser = str(argv[i + 1]);
            break;
          default:
            throw new CommandError(`ERR Invalid argument '${str(argv[i])}' for SENTINEL SET`);
        }
        s.event('warning', '+set', m, null, `${opt} ${opt === 'auth-pass' ? '******' : str(argv[i + 1])}`);
      }
      s.flushConfig();
      return void c.out.ok();
    }
    case 'flushconfig':
      arity(n === 2);
      s.flushConfig();
      return void c.out.ok();
    case 'help':
      arity(n === 2);
      c.out.array(SENTINEL_HELP.length);
      for (const l of SENTINEL_HELP) c.out.simple(l);
      return;
    default:
      throw new CommandError(`ERR unknown subcommand '${str(argv[1]).slice(0, 128)}'. Try SENTINEL HELP.`);
  }
}

const SENTINEL_HELP = [
  'SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CKQUORUM <master-name>',
  '    Check if the current Sentinel configuration is able to reach the quorum needed to failover a master and the majority needed to authorize the failover.',
  'FAILOVER <master-name>',
  '    Manually failover a master node without asking for agreement from other Sentinels',
  'FLUSHCONFIG',
  '    Force Sentinel to rewrite its configuration on disk, including the current Sentinel state.',
  'GET-MASTER-ADDR-BY-NAME <master-name>',
  '    Return the ip and port number of the master with that name.',
  'IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>',
  '    Check if the master specified by ip:port is down from current Sentinel\'s point of view.',
  'MASTER <master-name>',
  '    Show the state and info of the specified master.',
  'MASTERS',
  '    Show a list of monitored masters and their state.',
  'MONITOR <name> <ip> <port> <quorum>',
  '    Start monitoring a new master with the specified name, ip, port and quorum.',
  'MYID',
  '    Return the ID of the Sentinel instance.',
  'REMOVE <master-name>',
  '    Remove a master from Sentinel\'s monitor list.',
  'REPLICAS <master-name>',
  '    Show a list of replicas for this master and their state.',
  'RESET <pattern>',
  '    Reset masters for specific master name matching this pattern.',
  'SENTINELS <master-name>',
  '    Show a list of Sentinel instances for this master and their state.',
  'SET <master-name> <option> <value> [<option> <value> ...]',
  '    Set configuration parameters for certain masters.',
  'HELP',
  '    Prints this help.',
];

function info(c: Client, argv: Buffer[]): void {
  const s = of(c);
  const want = argv.slice(1).map((a) => lower(a));
  const all = want.length === 0 || want.some((w) => w === 'default' || w === 'all' || w === 'everything');
  const sections = all ? ['server', 'clients', 'stats', 'cpu', 'sentinel'] : want;
  const parts: string[] = [];
  const node = sections.filter((x) => x !== 'sentinel');
  if (node.length) {
    const text = c.server.info.render(node);
    if (text) parts.push(text.replace(/\r\n$/, ''));
  }
  if (sections.includes('sentinel')) {
    const lines = [
      '# Sentinel',
      `sentinel_masters:${s.masters.size}`,
      `sentinel_tilt:${s.tilt ? 1 : 0}`,
      `sentinel_tilt_since_seconds:${s.tilt ? Math.floor((Date.now() - s.tiltStart) / 1000) : -1}`,
      'sentinel_running_scripts:0',
      'sentinel_scripts_queue_length:0',
      'sentinel_simulate_failure_flags:0',
    ];
    let i = 0;
    for (const m of s.masters.values()) {
      const status = m.odown ? 'odown' : m.sdown ? 'sdown' : 'ok';
      const [ip, port] = s.currentMasterAddress(m);
      lines.push(`master${i++}:name=${m.name},status=${status},address=${ip}:${port},slaves=${m.slaves.size},sentinels=${m.sentinels.size + 1}`);
    }
    parts.push(lines.join('\r\n'));
  }
  c.out.verbatim(parts.length ? parts.join('\r\n\r\n') + '\r\n' : '');
}

function role(c: Client): void {
  const s = of(c);
  c.out.array(2).bulk('sentinel');
  c.out.bulks([...s.masters.keys()]);
}

function publish(c: Client, argv: Buffer[]): void {
  if (str(argv[1]) !== HELLO_CHANNEL) throw new CommandError('ERR Only HELLO messages are accepted by Sentinel instances.');
  of(c).helloFromPublish(str(argv[2]));
  c.out.int(1);
}

/** The node's commands that a sentinel also answers (Redis Sentinel's table has the same ones). */
const FROM_NODE = new Set(['ping', 'echo', 'quit', 'reset', 'hello', 'auth', 'client', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'command', 'shutdown']);

export function sentinelCommands(): CommandDef[] {
  return [
    ...allCommands.filter((d) => FROM_NODE.has(d.name)),
    { name: 'sentinel', arity: -2, flags: ['admin', 'sentinel', 'loading', 'stale'], group: 'sentinel', handler: sentinelCommand },
    { name: 'info', arity: -1, flags: ['sentinel', 'loading', 'stale'], group: 'server', handler: info },
    { name: 'role', arity: 1, flags: ['sentinel', 'fast', 'loading', 'stale'], group: 'server', handler: role },
    { name: 'publish', arity: 3, flags: ['pubsub', 'sentinel', 'loading', 'stale', 'fast'], group: 'pubsub', handler: publish },
  ];
}
