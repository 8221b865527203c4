// The cluster's view held by one node: the known nodes (id, address, role, config epoch, link times), the owner
// of each of the 16384 slots, open slots (MIGRATING / IMPORTING), the current epoch; and nodes.conf, the file
// that keeps it across restarts (the CLUSTER NODES lines plus a `vars` line, as Redis writes it).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { SLOTS } from './crc16';

export interface ClusterNode {
  id: string;
  ip: string;
  port: number;
  cport: number;
  /** tls-cluster: the node's plain-TCP port (`port` is its TLS one), learnt from the bus; 0 or absent when none */
  pport?: number;
  myself: boolean;
  role: 'master' | 'slave';
  /** the master's id for a replica */
  master: string | null;
  /** a node added by CLUSTER MEET whose real id is not known yet */
  handshake: boolean;
  configEpoch: number;
  /** when a PING to it was sent and not answered yet (0 = none pending) */
  pingSent: number;
  pongReceived: number;
  /** true while our bus link to it is up */
  linkUp: boolean;
  /** the replication offset it reported last */
  replOffset: number;
  /** no PONG within cluster-node-timeout (PFAIL, shown as `fail?`) */
  pfail: boolean;
  /** a majority of masters agreed it is failing (FAIL) */
  fail: boolean;
  failTime: number;
  /** masters that reported it PFAIL or FAIL in their gossip: id → when */
  reports: Map<string, number>;
  /** when this node (a master) last voted for a replica of it */
  votedAt: number;
}

export const newNodeId = (): string => crypto.randomBytes(20).toString('hex');

export class ClusterState {
  readonly nodes = new Map<string, ClusterNode>();
  /** owner id of each slot, or null */
  readonly slots: (string | null)[] = new Array(SLOTS).fill(null);
  readonly migrating = new Map<number, string>();
  readonly importing = new Map<number, string>();
  currentEpoch = 0;
  lastVoteEpoch = 0;
  myself: ClusterNode;

  constructor(port: number, cport: number) {
    this.myself = this.addNode({ id: newNodeId(), ip: '', port, cport, myself: true });
  }

  addNode(p: Partial<ClusterNode> & { id: string }): ClusterNode {
    const n: ClusterNode = {
      ip: '',
      port: 0,
      cport: 0,
      myself: false,
      role: 'master',
      master: null,
      handshake: false,
      configEpoch: 0,
      pingSent: 0,
      pongReceived: 0,
      linkUp: false,
      replOffset: 0,
      pfail: false,
      fail: false,
      failTime: 0,
      reports: new Map(),
      votedAt: 0,
      ...p,
    };
    this.nodes.set(n.id, n);
    return n;
  }

  removeNode(id: string): void {
    this.nodes.delete(id);
    for (let s = 0; s < SLOTS; s++) if (this.slots[s] === id) this.slots[s] = null;
    for (const m of [this.migrating, this.importing]) for (const [s, v] of m) if (v === id) m.delete(s);
    for (const n of this.nodes.values()) if (n.master === id) n.master = null;
  }

  /** Gives a node a new id (a handshake node once its real id is known). */
  rename(n: ClusterNode, id: string): void {
    this.nodes.delete(n.id);
    n.id = id;
    this.nodes.set(id, n);
  }

  slotsOf(id: string): number[] {
    const out: number[] = [];
    for (let s = 0; s < SLOTS; s++) if (this.slots[s] === id) out.push(s);
    return out;
  }

  /** Contiguous ranges [start, end] of the slots a node owns, in order. */
  rangesOf(id: string): [number, number][] {
    const out: [number, number][] = [];
    let start = -1;
    for (let s = 0; s <= SLOTS; s++) {
      const mine = s < SLOTS && this.slots[s] === id;
      if (mine && start < 0) start = s;
      else if (!mine && start >= 0) {
        out.push([start, s - 1]);
        start = -1;
      }
    }
    return out;
  }

  assignedCount(): number {
    let n = 0;
    for (let s = 0; s < SLOTS; s++) if (this.slots[s] !== null) n++;
    return n;
  }

  /** Slots whose owner is PFAIL / FAIL (CLUSTER INFO's cluster_slots_pfail / _fail, and /metrics). */
  failingSlots(): { pfail: number; fail: number } {
    let pfail = 0;
    let fail = 0;
    for (const owner of this.slots) {
      const n = owner === null ? undefined : this.nodes.get(owner);
      if (n?.fail) fail++;
      else if (n?.pfail) pfail++;
    }
    return { pfail, fail };
  }

  /** The config epoch a replica shows is its master's. */
  shownEpoch(n: ClusterNode): number {
    if (n.role === 'slave' && n.master) return this.nodes.get(n.master)?.configEpoch ?? n.configEpoch;
    return n.configEpoch;
  }

  maxEpoch(): number {
    let m = this.currentEpoch;
    for (const n of this.nodes.values()) m = Math.max(m, n.configEpoch);
    return m;
  }

  mastersWithSlots(): ClusterNode[] {
    const owners = new Set(this.slots.filter((s): s is string => s !== null));
    return [...this.nodes.values()].filter((n) => n.role === 'master' && owners.has(n.id));
  }

  flagsOf(n: ClusterNode): string {
    const f: string[] = [];
    if (n.myself) f.push('myself');
    f.push(n.role);
    if (n.pfail && !n.fail) f.push('fail?');
    if (n.fail) f.push('fail');
    if (n.handshake) f.push('handshake');
    if (!n.myself && !n.ip) f.push('noaddr');
    return f.join(',');
  }

  /** One line of CLUSTER NODES (without the newline). */
  nodeLine(n: ClusterNode, portOf: (n: ClusterNode) => number = (x) => x.port): string {
    const parts = [
      n.id,
      `${n.ip}:${portOf(n)}@${n.cport}`,
      this.flagsOf(n),
      n.master ?? '-',
      String(n.myself ? 0 : n.pingSent),
      String(n.myself ? Math.floor(Date.now() / 1000) * 1000 : n.pongReceived),
      String(this.shownEpoch(n)),
      n.myself || n.linkUp ? 'connected' : 'disconnected',
    ];
    for (const [a, b] of this.rangesOf(n.id)) parts.push(a === b ? String(a) : `${a}-${b}`);
    if (n.myself) {
      for (const [s, to] of this.migrating) parts.push(`[${s}->-${to}]`);
      for (const [s, from] of this.importing) parts.push(`[${s}-<-${from}]`);
    }
    return parts.join(' ');
  }

  /** CLUSTER NODES and nodes.conf; `portOf` picks the port a client is shown (tls-cluster, see Cluster.portFor) */
  nodesText(portOf?: (n: ClusterNode) => number): string {
    let out = '';
    for (const n of this.nodes.values()) out += this.nodeLine(n, portOf) + '\n';
    return out;
  }

  // ------------------------------------------------------------ nodes.conf

  save(file: string): void {
    const text = this.nodesText() + `vars currentEpoch ${this.currentEpoch} lastVoteEpoch ${this.lastVoteEpoch}\n`;
    const tmp = `${file}.tmp-${process.pid}`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  }

  /** Loads nodes.conf; false when the file does not exist. Throws on a malformed file. */
  load(file: string): boolean {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) return false;
    this.nodes.clear();
    this.slots.fill(null);
    this.migrating.clear();
    this.importing.clear();
    let me: ClusterNode | null = null;
    for (const line of lines) {
      const t = line.trim().split(' ');
      if (t[0] === 'vars') {
        for (let i = 1; i + 1 < t.length; i += 2) {
          if (t[i] === 'currentEpoch') this.currentEpoch = Number(t[i + 1]);
          else if (t[i] === 'lastVoteEpoch') this.lastVoteEpoch = Number(t[i + 1]);
        }
        continue;
      }
      if (t.length < 8 || !/^[0-9a-f]{40}$/.test(t[0])) throw new Error(`Unrecoverable error: corrupted cluster config file "${line}".`);
      const m = /^(.*):(\d+)@(\d+)/.exec(t[1]);
      if (!m) throw new Error(`Unrecoverable error: corrupted cluster config file "${line}".`);
      const flags = t[2].split(',');
      const n = this.addNode({
        id: t[0],
        ip: m[1],
        port: Number(m[2]),
        cport: Number(m[3]),
        myself: flags.includes('myself'),
        role: flags.includes('slave') ? 'slave' : 'master',
        master: t[3] === '-' ? null : t[3],
        handshake: false,
        configEpoch: Number(t[6]),
        fail: flags.includes('fail'),
      });
      if (n.myself) me = n;
      for (const tok of t.slice(8)) {
        const open = /^\[(\d+)-([<>])-([0-9a-f]{40})\]$/.exec(tok);
        if (open) {
          (open[2] === '>' ? this.migrating : this.importing).set(Number(open[1]), open[3]);
          continue;
        }
        const [a, b] = tok.split('-').map(Number);
        for (let s = a; s <= (b ?? a); s++) this.slots[s] = n.id;
      }
    }
    if (!me) throw new Error('Unrecoverable error: no myself line in the cluster config file.');
    this.myself = me;
    // a replica's line carries its master's epoch; its own is 0 until it is promoted
    for (const n of this.nodes.values()) if (n.role === 'slave') n.configEpoch = 0;
    return true;
  }
}
