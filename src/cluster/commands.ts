// CLUSTER and its subcommands, READONLY / READWRITE / ASKING: replies and error texts as Redis 7.0.

import * as net from 'node:net';
import type { CommandDef, CommandFlag, Handler } from '../node/command-table';
import type { Client } from '../node/client';
import { CommandError } from '../node/errors';
import { lower, str } from '../node/commands/args';
import type { Cluster } from './cluster';
import { keyHashSlot, slotOfKeyString, SLOTS } from './crc16';
import type { ClusterNode } from './nodes';
import { migrationCommands } from './migrate';

function clusterOf(c: Client): Cluster {
  const cl = c.server.cluster;
  if (!cl) throw new CommandError('ERR This instance has cluster support disabled');
  return cl;
}

function parseSlot(b: Buffer): number {
  const s = str(b);
  if (!/^\d+$/.test(s) || Number(s) >= SLOTS) throw new CommandError('ERR Invalid or out of range slot');
  return Number(s);
}

function parseInt64(b: Buffer): number | null {
  const s = str(b);
  return /^-?\d+$/.test(s) ? Number(s) : null;
}

function node(cl: Cluster, b: Buffer): ClusterNode {
  const id = str(b);
  const n = cl.state.nodes.get(id.toLowerCase());
  if (!n) throw new CommandError(`ERR Unknown node ${id}`);
  return n;
}

const ok = (c: Client) => void c.out.ok();

function info(c: Client): void {
  const cl = clusterOf(c);
  const st = cl.state;
  const assigned = st.assignedCount();
  const { pfail, fail } = st.failingSlots();
  const s = cl.stats;
  const lines: [string, string | number][] = [
    ['cluster_state', cl.stateOk() ? 'ok' : 'fail'],
    ['cluster_slots_assigned', assigned],
    ['cluster_slots_ok', assigned - pfail - fail],
    ['cluster_slots_pfail', pfail],
    ['cluster_slots_fail', fail],
    ['cluster_known_nodes', st.nodes.size],
    ['cluster_size', st.mastersWithSlots().length],
    ['cluster_current_epoch', st.currentEpoch],
    ['cluster_my_epoch', st.shownEpoch(st.myself)],
    ['cluster_stats_messages_ping_sent', s.pingSent],
    ['cluster_stats_messages_pong_sent', s.pongSent],
    ['cluster_stats_messages_meet_sent', s.meetSent],
    ['cluster_stats_messages_sent', s.sent],
    ['cluster_stats_messages_ping_received', s.pingReceived],
    ['cluster_stats_messages_pong_received', s.pongReceived],
    ['cluster_stats_messages_meet_received', s.meetReceived],
    ['cluster_stats_messages_received', s.received],
    ['total_cluster_links_buffer_limit_exceeded', 0],
  ];
  const text = lines.map(([k, v]) => `${k}:${v}\r\n`).join('');
  if (c.out.proto === 3) c.out.verbatim(text);
  else c.out.bulk(text);
}

function nodes(c: Client): void {
  const cl = clusterOf(c);
  const text = cl.state.nodesText((n) => cl.portFor(c, n));
  if (c.out.proto === 3) c.out.verbatim(text);
  else c.out.bulk(text);
}

/** Replicas shown by CLUSTER SLOTS / SHARDS: never-synced ones (offset 0) are left out, as Redis. */
function replicasOf(cl: Cluster, id: string): ClusterNode[] {
  return [...cl.state.nodes.values()].filter((n) => n.role === 'slave' && n.master === id);
}

function offsetOf(cl: Cluster, n: ClusterNode): number {
  return n.myself ? cl.server.replication.offset : n.replOffset;
}

function endpoint(c: Client, n: ClusterNode): void {
  c.out.array(4).bulk(n.ip).int(clusterOf(c).portFor(c, n)).bulk(n.id);
  if (c.out.proto === 3) c.out.map(0);
  else c.out.array(0);
}

function slots(c: Client): void {
  const cl = clusterOf(c);
  const st = cl.state;
  const ranges: [number, number, string][] = [];
  let start = -1;
  for (let s = 0; s <= SLOTS; s++) {
    const owner = s < SLOTS ? st.slots[s] : null;
    if (start >= 0 && owner !== st.slots[start]) {
      ranges.push([start, s - 1, st.slots[start]!]);
      start = -1;
    }
    if (start < 0 && owner !== null) start = s;
  }
  c.out.array(ranges.length);
  for (const [a, b, id] of ranges) {
    const master = st.nodes.get(id)!;
    const reps = replicasOf(cl, id).filter((r) => offsetOf(cl, r) > 0 && !r.fail);
    c.out.array(3 + reps.length).int(a).int(b);
    endpoint(c, master);
    for (const r of reps) endpoint(c, r);
  }
}

function shards(c: Client): void {
  const cl = clusterOf(c);
  const st = cl.state;
  const masters = [...st.nodes.values()].filter((n) => n.role === 'master');
  const kv = (n: number) => (c.out.proto === 3 ? c.out.map(n) : c.out.array(n * 2));
  c.out.array(masters.length);
  for (const m of masters) {
    kv(2);
    const ranges = st.rangesOf(m.id);
    c.out.bulk('slots').array(ranges.length * 2);
    for (const [a, b] of ranges) c.out.int(a).int(b);
    const members = [m, ...replicasOf(cl, m.id)];
    c.out.bulk('nodes').array(members.length);
    for (const n of members) {
      const off = offsetOf(cl, n);
      // as Redis 7.0: with tls-cluster, `port` is the plain-TCP port (shown only when the node has one), `tls-port` the TLS one
      const tlsCluster = c.server.config.getBool('tls-cluster');
      const plain = tlsCluster ? (n.pport ?? 0) : n.port;
      kv(6 + (plain ? 1 : 0) + (tlsCluster ? 1 : 0));
      c.out.bulk('id').bulk(n.id);
      if (plain) c.out.bulk('port').int(plain);
      if (tlsCluster) c.out.bulk('tls-port').int(n.port);
      c.out.bulk('ip').bulk(n.ip).bulk('endpoint').bulk(n.ip);
      c.out.bulk('role').bulk(n.role === 'master' ? 'master' : 'replica').bulk('replication-offset').int(off);
      c.out.bulk('health').bulk(n.role === 'slave' && off === 0 ? 'loading' : 'online');
    }
  }
}

function slotArgs(argv: Buffer[], from: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (let i = from; i < argv.length; i++) {
    const s = parseSlot(argv[i]);
    if (seen.has(s)) throw new CommandError(`ERR Slot ${s} specified multiple times`);
    seen.add(s);
    out.push(s);
  }
  return out;
}

function rangeArgs(argv: Buffer[]): number[] {
  if ((argv.length - 2) % 2 !== 0) throw new CommandError(`ERR wrong number of arguments for 'cluster|${lower(argv[1])}' command`);
  const out: number[] = [];
  const seen = new Set<number>();
  for (let i = 2; i + 1 < argv.length; i += 2) {
    const a = parseSlot(argv[i]);
    const b = parseSlot(argv[i + 1]);
    if (a > b) throw new CommandError(`ERR start slot number ${a} is greater than end slot number ${b}`);
    for (let s = a; s <= b; s++) {
      if (seen.has(s)) throw new CommandError(`ERR Slot ${s} specified multiple times`);
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

function addSlots(c: Client, list: number[]): void {
  const cl = clusterOf(c);
  const st = cl.state;
  if (st.myself.role === 'slave') throw new CommandError('ERR Please use addslots only with masters.');
  for (const s of list) if (st.slots[s] !== null) throw new CommandError(`ERR Slot ${s} is already busy`);
  for (const s of list) {
    st.importing.delete(s);
    st.slots[s] = st.myself.id;
  }
  cl.changed();
  c.out.ok();
}

function delSlots(c: Client, list: number[]): void {
  const cl = clusterOf(c);
  const st = cl.state;
  for (const s of list) if (st.slots[s] === null) throw new CommandError(`ERR Slot ${s} is already unassigned`);
  const shard = st.myself.role === 'master' ? st.myself.id : st.myself.master;
  cl.slotsLeftShard(new Set(list.filter((s) => st.slots[s] === shard)));
  for (const s of list) {
    st.slots[s] = null;
    st.importing.delete(s);
    st.migrating.delete(s);
  }
  cl.changed();
  c.out.ok();
}

function keysInSlot(c: Client, slot: number, limit: number): string[] {
  const out: string[] = [];
  for (const k of c.server.dbs[0].map.keys()) {
    if (out.length >= limit) break;
    if (slotOfKeyString(k) === slot) out.push(k);
  }
  return out;
}

function meet(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const ip = str(argv[2]);
  const port = parseInt64(argv[3]);
  if (port === null || port < 0 || port > 65535) throw new CommandError(`ERR Invalid TCP base port specified: ${str(argv[3])}`);
  let cport = port + 10000;
  if (argv.length >= 5) {
    const p = parseInt64(argv[4]);
    if (p === null || p < 0 || p > 65535) throw new CommandError(`ERR Invalid TCP bus port specified: ${str(argv[4])}`);
    cport = p;
  }
  if (!net.isIP(ip) || cport > 65535) throw new CommandError(`ERR Invalid node address specified: ${ip}:${port}`);
  cl.meet(ip, port, cport);
  c.out.ok();
}

function replicate(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const st = cl.state;
  const m = node(cl, argv[2]);
  if (m.myself) throw new CommandError("ERR Can't replicate myself");
  if (m.role === 'slave') throw new CommandError('ERR I can only replicate a master, not a replica.');
  const me = st.myself;
  if (me.role === 'master' && (st.slotsOf(me.id).length > 0 || c.server.dbs[0].size > 0)) {
    throw new CommandError('ERR To set a master the node must be empty and without assigned slots.');
  }
  cl.replicate(m);
  c.out.ok();
}

function replicas(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const m = node(cl, argv[2]);
  if (m.role !== 'master') throw new CommandError('ERR The specified node is not a master');
  const lines = replicasOf(cl, m.id).map((n) => cl.state.nodeLine(n));
  c.out.array(lines.length);
  for (const l of lines) c.out.bulk(l);
}

function setConfigEpoch(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const st = cl.state;
  const e = parseInt64(argv[2]);
  if (e === null || e < 0) throw new CommandError(`ERR Invalid config epoch specified: ${str(argv[2])}`);
  if (st.nodes.size > 1) throw new CommandError('ERR The user can assign a config epoch only when the node does not know any other node.');
  if (st.myself.configEpoch !== 0) throw new CommandError('ERR Node config epoch is already non-zero');
  st.myself.configEpoch = e;
  if (st.currentEpoch < e) st.currentEpoch = e;
  cl.changed();
  c.out.ok();
}

function bumpEpoch(c: Client): void {
  const cl = clusterOf(c);
  const bumped = cl.bumpEpoch();
  c.out.simple(`${bumped ? 'BUMPED' : 'STILL'} ${cl.state.myself.configEpoch}`);
}

/** CLUSTER SETSLOT slot IMPORTING id | MIGRATING id | NODE id | STABLE */
function setSlot(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const st = cl.state;
  const me = st.myself;
  if (me.role === 'slave') throw new CommandError('ERR Please use SETSLOT only with masters.');
  const slot = parseSlot(argv[2]);
  const action = lower(argv[3]);
  const known = (b: Buffer, text: string) => {
    const n = st.nodes.get(str(b).toLowerCase());
    if (!n) throw new CommandError(`${text} ${str(b)}`);
    return n;
  };
  if (action === 'migrating' && argv.length === 5) {
    if (st.slots[slot] !== me.id) throw new CommandError(`ERR I'm not the owner of hash slot ${slot}`);
    const n = known(argv[4], "ERR I don't know about node");
    if (n.role !== 'master') throw new CommandError('ERR Target node is not a master');
    st.migrating.set(slot, n.id);
  } else if (action === 'importing' && argv.length === 5) {
    if (st.slots[slot] === me.id) throw new CommandError(`ERR I'm already the owner of hash slot ${slot}`);
    const n = known(argv[4], "ERR I don't know about node");
    if (n.role !== 'master') throw new CommandError('ERR Target node is not a master');
    st.importing.set(slot, n.id);
  } else if (action === 'stable' && argv.length === 4) {
    st.migrating.delete(slot);
    st.importing.delete(slot);
  } else if (action === 'node' && argv.length === 5) {
    const n = known(argv[4], 'ERR Unknown node');
    if (n.role === 'slave') throw new CommandError('ERR Target node is not a master');
    if (st.slots[slot] === me.id && n.id !== me.id && keysInSlot(c, slot, 1).length > 0) {
      throw new CommandError(`ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`);
    }
    if (st.migrating.has(slot) && n.id !== me.id) st.migrating.delete(slot);
    if (st.slots[slot] === me.id && n.id !== me.id) cl.slotsLeftShard(new Set([slot]));
    const wasImporting = st.importing.has(slot) && n.id === me.id;
    st.slots[slot] = n.id;
    if (wasImporting) {
      // the import is over: a new epoch so that every node takes the slot from us (Redis does the same)
      st.importing.delete(slot);
      cl.bumpEpoch();
    }
  } else {
    throw new CommandError('ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP');
  }
  cl.changed();
  c.out.ok();
}

function forget(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const n = node(cl, argv[2]);
  const me = cl.state.myself;
  if (n.myself) throw new CommandError("ERR I tried hard but I can't forget myself...");
  if (me.role === 'slave' && me.master === n.id) throw new CommandError("ERR Can't forget my master!");
  cl.forget(n.id);
  c.out.ok();
}

function failover(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  const st = cl.state;
  let mode: 'default' | 'force' | 'takeover' = 'default';
  if (argv.length === 3) {
    const w = lower(argv[2]);
    if (w === 'force' || w === 'takeover') mode = w;
    else throw new CommandError('ERR syntax error');
  } else if (argv.length > 3) throw new CommandError('ERR syntax error');
  const me = st.myself;
  if (me.role === 'master') throw new CommandError('ERR You should send CLUSTER FAILOVER to a replica');
  const master = me.master ? st.nodes.get(me.master) : undefined;
  if (!master) throw new CommandError("ERR I'm a replica but my master is unknown to me");
  if (mode === 'default' && (master.fail || master.pfail)) {
    throw new CommandError('ERR Master is down or failed, please use CLUSTER FAILOVER FORCE');
  }
  cl.manualFailover(mode);
  c.out.ok();
}

function reset(c: Client, argv: Buffer[]): void {
  const cl = clusterOf(c);
  let hard = false;
  if (argv.length === 3) {
    const w = lower(argv[2]);
    if (w === 'hard') hard = true;
    else if (w !== 'soft') throw new CommandError('ERR syntax error');
  } else if (argv.length > 3) throw new CommandError('ERR syntax error');
  if (cl.state.myself.role === 'master' && c.server.dbs[0].size > 0) {
    throw new CommandError("ERR CLUSTER RESET can't be called with master nodes containing keys");
  }
  cl.reset(hard);
  c.out.ok();
}

const HELP = [
  'CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ADDSLOTS <slot> [<slot> ...]',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  'BUMPEPOCH',
  'COUNT-FAILURE-REPORTS <node-id>',
  'COUNTKEYSINSLOT <slot>',
  'DELSLOTS <slot> [<slot> ...]',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  'FAILOVER [FORCE|TAKEOVER]',
  'FORGET <node-id>',
  'GETKEYSINSLOT <slot> <count>',
  'INFO',
  'KEYSLOT <key>',
  'MEET <ip> <port> [<bus-port>]',
  'MYID',
  'NODES',
  'REPLICATE <node-id>',
  'RESET [HARD|SOFT]',
  'SET-CONFIG-EPOCH <epoch>',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
  'REPLICAS <node-id>',
  'SLOTS',
  'SHARDS',
  'HELP',
];

type Sub = [name: string, arity: number, handler: Handler, flags?: CommandFlag[]];

const subs: Sub[] = [
  ['help', 2, (c) => void c.out.array(HELP.length).bulks(HELP), ['loading', 'stale']],
  ['info', 2, info, ['loading', 'stale']],
  ['nodes', 2, nodes, ['loading', 'stale']],
  ['slots', 2, slots, ['loading', 'stale']],
  ['shards', 2, shards, ['loading', 'stale']],
  ['myid', 2, (c) => void c.out.bulk(clusterOf(c).state.myself.id), ['loading', 'stale']],
  ['keyslot', 3, (c, argv) => (clusterOf(c), void c.out.int(keyHashSlot(argv[2]))), ['loading', 'stale']],
  ['countkeysinslot', 3, (c, argv) => {
    clusterOf(c);
    c.out.int(keysInSlot(c, parseSlot(argv[2]), Infinity).length);
  }, ['loading', 'stale']],
  ['getkeysinslot', 4, (c, argv) => {
    clusterOf(c);
    const slot = parseInt64(argv[2]);
    const count = parseInt64(argv[3]);
    if (slot === null || count === null || slot < 0 || slot >= SLOTS || count < 0) throw new CommandError('ERR Invalid slot or number of keys');
    c.out.bulks(keysInSlot(c, slot, count));
  }, ['loading', 'stale']],
  ['addslots', -3, (c, argv) => addSlots(c, slotArgs(argv, 2))],
  ['addslotsrange', -4, (c, argv) => addSlots(c, rangeArgs(argv))],
  ['delslots', -3, (c, argv) => delSlots(c, slotArgs(argv, 2))],
  ['delslotsrange', -4, (c, argv) => delSlots(c, rangeArgs(argv))],
  ['set-config-epoch', 3, setConfigEpoch],
  ['bumpepoch', 2, bumpEpoch],
  ['setslot', -4, setSlot],
  ['meet', -4, meet],
  ['forget', 3, forget],
  ['reset', -2, reset],
  ['failover', -2, failover],
  ['replicate', 3, replicate],
  ['replicas', 3, replicas],
  ['slaves', 3, replicas],
  ['count-failure-reports', 3, (c, argv) => (node(clusterOf(c), argv[2]), void c.out.int(0))],
  ['saveconfig', 2, (c) => (clusterOf(c).saveNow(), ok(c))],
];

export const clusterCommands: CommandDef[] = [
  ...migrationCommands,
  {
    name: 'cluster',
    arity: -2,
    flags: [],
    group: 'cluster',
    subcommands: subs.map(([name, arity, handler, flags]) => ({ name, arity, flags: flags ?? ['admin', 'stale'], group: 'cluster', handler })),
  },
  {
    name: 'readonly',
    arity: 1,
    flags: ['fast', 'loading', 'stale'],
    group: 'cluster',
    handler: (c) => {
      clusterOf(c).clientFlags(c).readonly = true;
      c.out.ok();
    },
  },
  {
    name: 'readwrite',
    arity: 1,
    flags: ['fast', 'loading', 'stale'],
    group: 'cluster',
    handler: (c) => {
      clusterOf(c).clientFlags(c).readonly = false;
      c.out.ok();
    },
  },
  {
    name: 'asking',
    arity: 1,
    flags: ['fast'],
    group: 'cluster',
    handler: (c) => {
      clusterOf(c).clientFlags(c).asking = true;
      c.out.ok();
    },
  },
];
