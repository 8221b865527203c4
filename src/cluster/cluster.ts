// Cluster mode (cluster-enabled yes): the node's view of the cluster (src/cluster/nodes.ts), kept in nodes.conf on
// every change; the bus (src/cluster/bus.ts) that exchanges PING/PONG with gossip so every node learns every
// other one and the slots each master claims (a higher config epoch wins a slot); and the routing gate the
// dispatcher calls before running a command: -MOVED / -ASK / -CROSSSLOT / -TRYAGAIN / -CLUSTERDOWN as Redis 7.0.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Client } from '../node/client';
import type { Command } from '../node/command-table';
import type { Server } from '../node/server';
import { keyHashSlot, SLOTS } from './crc16';
import { ClusterState, newNodeId, type ClusterNode } from './nodes';
import { BusHandshake, FrameReader, frame, Link, normalizeIp, type BusMessage } from './bus';
import { dagKeyParts, dagRoutedKeys } from '../ai/dag/keys';
import type { RemoteKey } from './remote-tensor';

interface ClientClusterFlags {
  readonly: boolean;
  asking: boolean;
}

const CRON_MS = 100;
/** DAG commands whose LOAD keys may live on other shards (read-only DAGs: no PERSIST) */
const DAG_COMMANDS = new Set(['ai.dagexecute', 'ai.dagexecute_ro', 'ai.dagrun', 'ai.dagrun_ro']);
/** how long a master stays paused for a manual failover (Redis's CLUSTER_MF_TIMEOUT) */
const MF_TIMEOUT_MS = 5000;

export class Cluster {
  state = new ClusterState(0, 0);
  readonly stats = { pingSent: 0, pongSent: 0, meetSent: 0, pingReceived: 0, pongReceived: 0, meetReceived: 0, sent: 0, received: 0 };
  private links = new Map<string, Link>();
  /** handshake nodes started by CLUSTER MEET: they get MEET instead of PING */
  private meetPending = new Set<string>();
  private handshakeStarted = new Map<string, number>();
  /** FORGET: ids ignored in gossip for a minute */
  private blacklist = new Map<string, number>();
  private busServer: net.Server | null = null;
  private inbound = new Set<net.Socket>();
  private cron: NodeJS.Timeout | null = null;
  private saveScheduled = false;
  private flags = new WeakMap<Client, ClientClusterFlags>();

  constructor(readonly server: Server) {}

  private get file(): string {
    return this.server.config.get('cluster-config-file');
  }

  private announcedIp(): string {
    return this.server.config.get('cluster-announce-ip');
  }

  /**
   * The port a client is sent to for node `n` (MOVED, ASK, CLUSTER SLOTS / NODES): as Redis 7.0, with tls-cluster
   * a plain-TCP client gets the node's plain port where it has one, a TLS client the TLS port.
   */
  portFor(c: Client, n: ClusterNode): number {
    return n.pport && !(c.socket instanceof tls.TLSSocket) && this.server.config.getBool('tls-cluster') ? n.pport : n.port;
  }

  /** Loads (or creates) nodes.conf and opens the bus; called once the client port is bound. */
  async start(): Promise<void> {
    const cfg = this.server.config;
    // tls-cluster: the bus speaks TLS and the port clients are sent to (MOVED, CLUSTER SLOTS…) is tls-port, as Redis 7.0
    const tlsCluster = cfg.getBool('tls-cluster');
    const clientPort = tlsCluster ? this.server.boundTlsPort : this.server.boundPort;
    const port = cfg.getInt('cluster-announce-port') || clientPort;
    const busPort = cfg.getInt('cluster-port') || clientPort + 10000;
    const cport = cfg.getInt('cluster-announce-bus-port') || busPort;
    if (this.state.load(this.file)) {
      this.server.log('notice', `Node configuration loaded, I'm ${this.state.myself.id}`);
    } else {
      this.server.log('notice', `No cluster configuration found, I'm ${this.state.myself.id}`);
    }
    const me = this.state.myself;
    me.port = port;
    me.cport = cport;
    me.pport = tlsCluster ? this.server.boundPort : 0;
    if (this.announcedIp()) me.ip = this.announcedIp();
    this.saveNow();
    await new Promise<void>((resolve, reject) => {
      // the bus always asks its peers for a certificate (as Redis's TLS_CLIENT_AUTH_YES on the bus)
      const srv = tlsCluster ? this.server.tls.createServer((s) => this.acceptBus(s), () => 'yes') : net.createServer((s) => this.acceptBus(s));
      srv.once('error', reject);
      const bind = this.server.config.get('bind').split(' ').filter(Boolean)[0] ?? '127.0.0.1';
      srv.listen({ port: busPort, host: bind === '*' ? undefined : bind }, () => {
        srv.off('error', reject);
        resolve();
      });
      this.busServer = srv;
    });
    if (me.role === 'slave' && me.master) this.followMaster();
    this.cron = setInterval(() => this.clusterCron(), CRON_MS);
    this.cron.unref();
  }

  close(): void {
    if (this.cron) clearInterval(this.cron);
    for (const l of this.links.values()) l.close();
    this.links.clear();
    for (const s of this.inbound) s.destroy();
    this.busServer?.close();
  }

  // ------------------------------------------------------------ persistence of the view

  /** Schedules a save of nodes.conf (once per event-loop turn, whatever the number of changes). */
  changed(): void {
    this.okCache = null;
    if (this.saveScheduled) return;
    this.saveScheduled = true;
    setImmediate(() => {
      this.saveScheduled = false;
      this.saveNow();
    });
  }

  saveNow(): void {
    try {
      this.state.save(this.file);
    } catch (e) {
      this.server.log('warning', `Could not save the cluster configuration: ${(e as Error).message}`);
    }
  }

  // ------------------------------------------------------------ state

  /** ok when every slot is served by a known node */
  stateOk(): boolean {
    // every change of slots or FAIL flags goes through changed(), which drops the cache
    if (this.okCache === null) this.okCache = this.computeStateOk();
    return this.okCache;
  }

  private okCache: boolean | null = null;

  private computeStateOk(): boolean {
    const failed = new Set<string>();
    for (const n of this.state.nodes.values()) if (n.fail) failed.add(n.id);
    for (let s = 0; s < SLOTS; s++) {
      const owner = this.state.slots[s];
      if (owner === null || failed.has(owner)) return false;
    }
    return true;
  }

  private get nodeTimeout(): number {
    return Math.max(1, this.server.config.getInt('cluster-node-timeout'));
  }

  /** Votes needed: a majority of the masters that serve slots. */
  private quorum(): number {
    return Math.floor(this.state.mastersWithSlots().length / 2) + 1;
  }

  private broadcast(m: BusMessage, onlyMasters = false): void {
    for (const [id, l] of this.links) {
      const n = this.state.nodes.get(id);
      if (!n || (onlyMasters && n.role !== 'master')) continue;
      if (l.send({ ...m, myip: l.host })) this.stats.sent++;
    }
  }

  /** PFAIL → FAIL once a majority of masters (this one included, if a master) report the node failing. */
  private markFailIfNeeded(n: ClusterNode): void {
    if (!n.pfail || n.fail || n.myself) return;
    const now = Date.now();
    const withSlots = new Set(this.state.mastersWithSlots().map((m) => m.id));
    let count = 0;
    for (const [id, at] of n.reports) if (now - at <= this.nodeTimeout * 2 && withSlots.has(id)) count++;
    if (this.state.myself.role === 'master' && withSlots.has(this.state.myself.id)) count++;
    if (count < this.quorum()) return;
    n.fail = true;
    n.failTime = now;
    this.server.log('notice', `Marking node ${n.id} as failing (quorum reached).`);
    this.broadcast({ ...this.message('fail', ''), failing: n.id });
    this.changed();
  }

  // ------------------------------------------------------------ failover (replica side)

  private election: { at: number; deadline: number; epoch: number; votes: Set<string>; started: boolean; force: boolean } | null = null;
  /**
   * CLUSTER FAILOVER (default or FORCE) in progress. Default, as Redis: the replica sends `mfstart` to its master,
   * which pauses its clients' writes and answers with its (now final) offset flagged `paused`; the replica waits
   * until it has processed that offset, then runs the election. FORCE elects at once.
   */
  private manual: { until: number; waitOffset: boolean; masterOffset: number; askedAt: number } | null = null;
  /** master side: the replica whose manual failover paused this master's writes, until `end` */
  private mfPause: { replica: string; end: number } | null = null;

  private failoverCron(now: number): void {
    const st = this.state;
    const me = st.myself;
    const master = me.role === 'slave' && me.master ? st.nodes.get(me.master) : undefined;
    if (this.manual && now > this.manual.until) {
      this.server.log('warning', 'Manual failover timed out.');
      this.manual = null;
    }
    if (!master || st.slotsOf(master.id).length === 0 || (!master.fail && !this.manual)) {
      this.election = null;
      return;
    }
    const myOffset = this.server.replication.offset;
    if (this.manual?.waitOffset) {
      if (this.manual.masterOffset < 0) {
        // (re)ask the master to pause until it answers with its paused offset
        if (now - this.manual.askedAt >= 500) this.askMasterToPause(master.id, now);
        return;
      }
      if (myOffset < this.manual.masterOffset) return;
      this.server.log('notice', 'All master replication stream processed, manual failover can start.');
      this.manual.waitOffset = false;
    }
    if (!this.election || now > this.election.deadline) {
      let rank = 0;
      for (const n of st.nodes.values()) if (n.role === 'slave' && n.master === master.id && !n.myself && !n.fail && n.replOffset > myOffset) rank++;
      const delay = this.manual ? 0 : 500 + Math.floor(Math.random() * 500) + rank * 1000;
      this.election = { at: now + delay, deadline: now + delay + Math.max(this.nodeTimeout * 2, 2000), epoch: 0, votes: new Set(), started: false, force: this.manual !== null };
      if (!this.manual) this.server.log('notice', `Start of election delayed for ${delay} milliseconds (rank #${rank}, offset ${myOffset}).`);
    }
    const e = this.election;
    if (!e.started && now >= e.at) {
      st.currentEpoch++;
      e.epoch = st.currentEpoch;
      e.started = true;
      this.server.log('notice', `Starting a failover election for epoch ${e.epoch}.`);
      this.broadcast({ ...this.message('auth-req', ''), force: e.force }, true);
      this.changed();
    }
    if (e.started && e.votes.size >= this.quorum()) {
      this.server.log('notice', 'Failover election won: I am the new master.');
      this.promoteSelf(e.epoch);
    }
  }

  /** This replica takes its master's slots with config epoch `epoch` and becomes a master. */
  promoteSelf(epoch: number): void {
    const st = this.state;
    const me = st.myself;
    const old = me.master;
    me.role = 'master';
    me.master = null;
    me.configEpoch = epoch;
    if (st.currentEpoch < epoch) st.currentEpoch = epoch;
    if (old) for (let s = 0; s < SLOTS; s++) if (st.slots[s] === old) st.slots[s] = me.id;
    if (this.server.replication.role === 'replica') this.server.replication.promote();
    this.election = null;
    this.manual = null;
    this.broadcast(this.message('ping', ''));
    this.changed();
  }

  /** CLUSTER FAILOVER [FORCE|TAKEOVER] on a replica */
  manualFailover(mode: 'default' | 'force' | 'takeover'): void {
    const st = this.state;
    if (mode === 'takeover') {
      // no agreement asked: a new epoch of our own, as Redis's clusterBumpConfigEpochWithoutConsensus
      const epoch = st.maxEpoch() + 1;
      st.currentEpoch = epoch;
      this.server.log('notice', 'Taking over the master (user request).');
      this.promoteSelf(epoch);
      return;
    }
    this.election = null;
    const now = Date.now();
    this.manual = { until: now + Math.max(this.nodeTimeout * 2, 5000), waitOffset: mode === 'default', masterOffset: -1, askedAt: 0 };
    const me = st.myself;
    if (mode === 'default' && me.master) this.askMasterToPause(me.master, now);
  }

  private askMasterToPause(master: string, now: number): void {
    if (!this.manual) return;
    this.manual.askedAt = now;
    const l = this.links.get(master);
    if (l?.send(this.message('mfstart', l.host))) this.stats.sent++;
  }

  /** Master side of `mfstart`: pause writes (Redis: CLUSTER_MF_TIMEOUT, 5 s) and tell the replica the offset. */
  private handleMfStart(sender: ClusterNode): void {
    const me = this.state.myself;
    if (me.role !== 'master' || sender.role !== 'slave' || sender.master !== me.id) return;
    const now = Date.now();
    if (!this.mfPause || this.mfPause.replica !== sender.id || this.mfPause.end <= now) {
      this.mfPause = { replica: sender.id, end: now + MF_TIMEOUT_MS };
      this.server.pause.pause('failover', 'write', this.mfPause.end);
      this.server.log('notice', `Manual failover requested by replica ${sender.id}.`);
    }
    // every message from now on carries `paused` with the offset; this one answers at once
    const l = this.links.get(sender.id);
    if (l?.send(this.message('ping', l.host))) this.stats.sent++;
  }

  /** The manual failover's pause ends: this master became a replica, or the 5 s passed. */
  private endMfPause(): void {
    if (!this.mfPause) return;
    this.mfPause = null;
    this.server.pause.unpause('failover');
  }

  private handleAuthRequest(sender: ClusterNode, m: BusMessage, socket: net.Socket | null, link: Link | null): void {
    const st = this.state;
    const me = st.myself;
    const now = Date.now();
    if (me.role !== 'master' || st.slotsOf(me.id).length === 0) return;
    if (m.currentEpoch < st.currentEpoch || st.lastVoteEpoch >= m.currentEpoch) return;
    const master = sender.role === 'slave' && sender.master ? st.nodes.get(sender.master) : undefined;
    if (!master || (!master.fail && !m.force)) return;
    if (now - master.votedAt < this.nodeTimeout * 2) return;
    st.lastVoteEpoch = m.currentEpoch;
    master.votedAt = now;
    this.saveNow();
    const ack = { ...this.message('auth-ack', ''), currentEpoch: m.currentEpoch };
    if (socket) socket.write(frame(ack));
    else link?.send(ack);
    this.stats.sent++;
    this.server.log('notice', `Failover auth granted to ${sender.id} for epoch ${m.currentEpoch}`);
  }

  clientFlags(c: Client): ClientClusterFlags {
    let f = this.flags.get(c);
    if (!f) this.flags.set(c, (f = { readonly: false, asking: false }));
    return f;
  }

  // ------------------------------------------------------------ routing gate

  /** The dispatcher's gate: null when this node runs the command, else the error to reply. */
  route(c: Client, cmd: Command, argv: Buffer[]): string | null {
    const f = this.flags.get(c);
    const asking = f?.asking ?? false;
    if (f && cmd.name !== 'asking') f.asking = false;
    if (cmd.name === 'select' && argv.length === 2 && /^-?\d+$/.test(argv[1].toString('latin1')) && Number(argv[1].toString('latin1')) !== 0) {
      return 'ERR SELECT is not allowed in cluster mode';
    }
    if (cmd.name === 'replicaof' || cmd.name === 'slaveof') return 'ERR REPLICAOF not allowed in cluster mode.';
    if (c.kind === 'master') return null;
    const work: [Command, Buffer[]][] = cmd.name === 'exec' && c.multi ? c.multi.map((q) => [q.cmd, q.argv]) : [[cmd, argv]];
    let slot = -1;
    let write = false;
    const keys: Buffer[] = [];
    for (const [cm, av] of work) {
      if (cm.isWrite) write = true;
      let indices: number[];
      try {
        indices = work.length === 1 && cmd.name !== 'exec' && DAG_COMMANDS.has(cm.name) ? dagRoutedKeys(av).keys : cm.keyIndices(av);
      } catch {
        continue; // malformed arguments: the handler answers them
      }
      for (const i of indices) {
        if (i >= av.length) continue;
        const s = keyHashSlot(av[i]);
        if (slot < 0) slot = s;
        else if (s !== slot) return "CROSSSLOT Keys in request don't hash to the same slot";
        keys.push(av[i]);
      }
    }
    if (slot < 0) return null;
    const st = this.state;
    const owner = st.slots[slot];
    // as Redis's getNodeByQuery: an unassigned slot first, then the cluster state
    if (owner === null) return 'CLUSTERDOWN Hash slot not served';
    if (!this.stateOk()) return 'CLUSTERDOWN The cluster is down';
    const me = st.myself;
    const db = this.server.dbs[0];
    // shard channels are no keys: served by the slot's owner until the migration ends, as Redis
    const shardPubsub = cmd.name === 'ssubscribe' || cmd.name === 'sunsubscribe' || cmd.name === 'spublish';
    const missing = () => (shardPubsub ? 0 : keys.filter((k) => !db.exists(k.toString('latin1'))).length);
    if (owner === me.id) {
      const to = st.migrating.get(slot);
      if (to !== undefined && cmd.name !== 'migrate') {
        const m = missing();
        if (m > 0) {
          if (m < keys.length) return 'TRYAGAIN Multiple keys request during rehashing of slot';
          const n = st.nodes.get(to);
          if (n) return `ASK ${slot} ${n.ip}:${this.portFor(c, n)}`;
        }
      }
      return null;
    }
    if (st.importing.has(slot) && (asking || cmd.name === 'restore-asking')) {
      if (keys.length > 1 && missing() > 0) return 'TRYAGAIN Multiple keys request during rehashing of slot';
      return null;
    }
    if (me.role === 'slave' && me.master === owner && (f?.readonly || shardPubsub) && !write) return null;
    const n = st.nodes.get(owner);
    return `MOVED ${slot} ${n?.ip ?? ''}:${n ? this.portFor(c, n) : 0}`;
  }

  // ------------------------------------------------------------ pub/sub over the bus

  /** PUBLISH: every other node delivers the message to its own subscribers (Redis's clusterPropagatePublish). */
  publish(channel: Buffer, payload: Buffer): void {
    this.sendPublish(channel, payload, false, [...this.links.keys()]);
  }

  /** SPUBLISH: only the other nodes of this node's shard (its master or replicas) deliver it. */
  spublish(channel: Buffer, payload: Buffer): void {
    const me = this.state.myself;
    const master = me.role === 'master' ? me.id : me.master;
    const shard = [...this.state.nodes.values()].filter((n) => !n.myself && (n.id === master || (n.role === 'slave' && n.master === master)));
    this.sendPublish(channel, payload, true, shard.map((n) => n.id));
  }

  private sendPublish(channel: Buffer, payload: Buffer, shard: boolean, to: string[]): void {
    // a light message: only the sender's id, no gossip (receive() hands it to pub/sub and stops)
    const m = { type: 'publish', id: this.state.myself.id, channel, payload, shard } as BusMessage;
    for (const id of to) {
      const n = this.state.nodes.get(id);
      if (!n || n.handshake) continue;
      if (this.links.get(id)?.send(m)) this.stats.sent++;
    }
  }

  /** As Redis's clusterDelSlot: the shard channels of slots that left this shard are unsubscribed (clients resubscribe). */
  slotsLeftShard(lost: Set<number>): void {
    if (lost.size > 0 && this.server.pubsub.shardChannels.size > 0) {
      this.server.pubsub.dropShardChannels((ch) => lost.has(keyHashSlot(Buffer.from(ch, 'latin1'))));
    }
  }

  private deliverPublish(m: BusMessage): void {
    if (!Buffer.isBuffer(m.channel) || !Buffer.isBuffer(m.payload)) return;
    const channel = m.channel.toString('latin1');
    if (m.shard) this.server.pubsub.spublish(channel, m.payload);
    else this.server.pubsub.publish(channel, m.payload);
  }

  // ------------------------------------------------------------ cross-shard read-only DAGs

  /**
   * The LOAD keys of a DAG this node does not serve itself: where to read each (the slot's owner, or the node a
   * MIGRATING slot's missing key went to, with ASKING), and errors for keys whose slot nobody serves.
   */
  remoteLoads(argv: Buffer[]): { remote: RemoteKey[]; errors: Map<string, string> } {
    const remote: RemoteKey[] = [];
    const errors = new Map<string, string>();
    const { load, persist } = dagKeyParts(argv);
    if (persist || load.length === 0) return { remote, errors };
    const { anchor } = dagRoutedKeys(argv);
    const st = this.state;
    const me = st.myself;
    const db = this.server.dbs[0];
    for (const i of load) {
      const key = argv[i];
      const slot = keyHashSlot(key);
      if (slot === anchor) continue; // routed here: read locally, as any DAG
      const owner = st.slots[slot];
      if (owner === null) {
        errors.set(key.toString('latin1'), 'CLUSTERDOWN Hash slot not served');
        continue;
      }
      if (owner === me.id || (me.role === 'slave' && owner === me.master)) {
        const to = st.migrating.get(slot);
        const n = to !== undefined && !db.exists(key.toString('latin1')) ? st.nodes.get(to) : undefined;
        if (n) remote.push({ key, host: n.ip, port: n.pport || n.port, asking: true });
        continue; // here (or missing here): the parser reads it locally
      }
      const n = st.nodes.get(owner);
      // (tls-cluster: the node's plain-TCP port; remote-tensor.ts speaks plain TCP only)
      if (n) remote.push({ key, host: n.ip, port: n.pport || n.port, asking: false });
    }
    return { remote, errors };
  }

  // ------------------------------------------------------------ operations used by the commands

  meet(ip: string, port: number, cport: number): void {
    const n = this.state.addNode({ id: newNodeId(), ip, port, cport, handshake: true });
    this.meetPending.add(n.id);
    this.handshakeStarted.set(n.id, Date.now());
    this.ensureLink(n);
  }

  /** A new config epoch without agreement, unless this node's is already the highest (CLUSTER BUMPEPOCH, SETSLOT NODE). */
  bumpEpoch(): boolean {
    const st = this.state;
    const me = st.myself;
    const max = st.maxEpoch();
    if (me.configEpoch !== 0 && me.configEpoch === max) return false;
    st.currentEpoch = max + 1;
    me.configEpoch = st.currentEpoch;
    this.changed();
    return true;
  }

  forget(id: string): void {
    this.dropNode(id);
    this.blacklist.set(id, Date.now() + 60_000);
    this.changed();
  }

  private dropNode(id: string): void {
    this.links.get(id)?.close();
    this.links.delete(id);
    this.meetPending.delete(id);
    this.handshakeStarted.delete(id);
    this.state.removeNode(id);
  }

  /** CLUSTER REPLICATE: this node becomes a replica of `master` and replicates from it. */
  replicate(master: ClusterNode): void {
    const me = this.state.myself;
    me.role = 'slave';
    me.master = master.id;
    me.configEpoch = 0;
    this.followMaster();
    this.changed();
  }

  private followMaster(): void {
    const me = this.state.myself;
    const m = me.master ? this.state.nodes.get(me.master) : undefined;
    if (m && m.ip) this.server.replication.replicaOf(m.ip, m.port);
  }

  /** CLUSTER RESET [HARD|SOFT] */
  reset(hard: boolean): void {
    const st = this.state;
    const me = st.myself;
    if (me.role === 'slave') {
      this.server.replication.promote();
      for (const db of this.server.dbs) db.clear();
    }
    me.role = 'master';
    me.master = null;
    for (const id of [...st.nodes.keys()]) if (id !== me.id) this.dropNode(id);
    st.slots.fill(null);
    st.migrating.clear();
    st.importing.clear();
    if (hard) {
      st.currentEpoch = 0;
      st.lastVoteEpoch = 0;
      me.configEpoch = 0;
      st.rename(me, newNodeId());
    }
    this.changed();
  }

  // ------------------------------------------------------------ bus

  private acceptBus(s: net.Socket): void {
    this.inbound.add(s);
    s.setNoDelay(true);
    const reader = new FrameReader((m) => this.receive(m, normalizeIp(s.remoteAddress), null, s));
    const secret = this.busSecret();
    const handshake = secret !== '' ? new BusHandshake(s, secret, 'accept') : null;
    s.on('data', (d: Buffer) => {
      try {
        const frames = handshake
          ? handshake.pass(d, () => this.busAuthFailed(normalizeIp(s.remoteAddress), 'failed the cluster-bus-password check; its connection is dropped'))
          : d;
        if (frames !== null) reader.feed(frames);
      } catch {
        s.destroy();
      }
    });
    s.on('error', () => s.destroy());
    s.on('close', () => this.inbound.delete(s));
  }

  private ensureLink(n: ClusterNode): Link | null {
    if (n.myself || !n.ip || !n.cport) return null;
    let l = this.links.get(n.id);
    if (l && (l.host !== n.ip || l.port !== n.cport)) {
      l.close();
      this.links.delete(n.id);
      l = undefined;
    }
    if (!l) {
      l = new Link(
        n.ip,
        n.cport,
        (link, m) => this.receive(m, link.host, link, null),
        (link) => {
          const node = this.nodeOfLink(link);
          if (node) node.linkUp = link.up;
          if (link.up && node) this.sendPing(node, link);
        },
        (host, port) => this.server.tls.dial(host, port, this.server.config.getBool('tls-cluster')),
        () => this.busSecret(),
        (link) => this.busAuthFailed(`${link.host}:${link.port}`, 'failed the cluster-bus-password check; no frames are exchanged with it'),
      );
      this.links.set(n.id, l);
    }
    if (!l.socket && Date.now() - l.createdAt > 500) l.connect();
    return l;
  }

  /** last warning per peer about a failed bus handshake: links retry twice a second, the log says it every 10 s */
  private busAuthWarned = new Map<string, number>();

  private busAuthFailed(peer: string, what: string): void {
    const now = Date.now();
    if (now - (this.busAuthWarned.get(peer) ?? 0) < 10000) return;
    this.busAuthWarned.set(peer, now);
    this.server.log('warning', `Cluster bus: ${peer} ${what}`);
  }

  /** The secret nodes of this cluster prove on every bus connection: cluster-bus-password, else masterauth. */
  private busSecret(): string {
    return this.server.config.get('cluster-bus-password') || this.server.config.get('masterauth');
  }

  private nodeOfLink(link: Link): ClusterNode | undefined {
    for (const [id, l] of this.links) if (l === link) return this.state.nodes.get(id);
    return undefined;
  }

  private message(type: BusMessage['type'], to: string): BusMessage {
    const st = this.state;
    const me = st.myself;
    const slots: number[] = [];
    if (me.role === 'master') for (const [a, b] of st.rangesOf(me.id)) slots.push(a, b);
    const gossip = [];
    for (const n of st.nodes.values()) {
      if (n.myself || n.handshake || !n.ip) continue;
      gossip.push({ id: n.id, ip: n.ip, port: n.port, cport: n.cport, pport: n.pport ?? 0, role: n.role, master: n.master, pfail: n.pfail, fail: n.fail });
    }
    return {
      type,
      id: me.id,
      ip: this.announcedIp(),
      port: me.port,
      cport: me.cport,
      pport: me.pport ?? 0,
      role: me.role,
      master: me.master,
      currentEpoch: st.currentEpoch,
      configEpoch: me.configEpoch,
      slots,
      replOffset: this.server.replication.offset,
      myip: to,
      gossip,
      paused: this.mfPause !== null && this.mfPause.end > Date.now(),
    };
  }

  private sendPing(n: ClusterNode, link: Link): void {
    const meet = this.meetPending.has(n.id);
    if (link.send(this.message(meet ? 'meet' : 'ping', link.host))) {
      if (meet) this.stats.meetSent++;
      else this.stats.pingSent++;
      this.stats.sent++;
      if (n.pingSent === 0) n.pingSent = Date.now();
    }
  }

  private receive(m: BusMessage, fromIp: string, link: Link | null, socket: net.Socket | null): void {
    const st = this.state;
    if (!m || typeof m.id !== 'string' || this.blacklisted(m.id)) return;
    this.stats.received++;
    // as Redis: a PUBLISH from a node we do not know is ignored
    if (m.type === 'publish') return void (st.nodes.has(m.id) && this.deliverPublish(m));
    if (m.type === 'ping') this.stats.pingReceived++;
    else if (m.type === 'pong') this.stats.pongReceived++;
    else if (m.type === 'meet') this.stats.meetReceived++;
    let dirty = false;
    const me = st.myself;
    if (m.myip && !this.announcedIp() && me.ip !== normalizeIp(m.myip)) {
      me.ip = normalizeIp(m.myip);
      dirty = true;
    }
    if (m.id === me.id) return;
    let sender = st.nodes.get(m.id);
    if (link) {
      const linked = this.nodeOfLink(link);
      if (linked && linked.handshake) {
        // the handshake is over: the node's real id is known now
        this.meetPending.delete(linked.id);
        this.handshakeStarted.delete(linked.id);
        if (sender) {
          this.links.delete(linked.id);
          st.nodes.delete(linked.id);
          if (this.links.has(sender.id)) link.close();
          else this.links.set(sender.id, link);
        } else {
          this.links.delete(linked.id);
          st.rename(linked, m.id);
          linked.handshake = false;
          this.links.set(m.id, link);
          sender = linked;
        }
        dirty = true;
      }
    }
    if (!sender) {
      // a MEET (or a PING from a node that met someone we know) introduces the sender
      sender = st.addNode({ id: m.id });
      dirty = true;
    }
    const ip = normalizeIp(m.ip) || fromIp;
    if (sender.ip !== ip || sender.port !== m.port || sender.cport !== m.cport) {
      sender.ip = ip;
      sender.port = m.port;
      sender.cport = m.cport;
      dirty = true;
    }
    sender.pport = m.pport ?? 0;
    if (m.type === 'pong') {
      sender.pongReceived = Date.now();
      sender.pingSent = 0;
    }
    // a node that talks is alive: PFAIL goes; FAIL goes for replicas and slot-less masters, or after long
    if (sender.pfail) {
      sender.pfail = false;
      dirty = true;
    }
    if (sender.fail && (m.role === 'slave' || m.slots.length === 0 || Date.now() - sender.failTime > this.nodeTimeout * 2)) {
      sender.fail = false;
      this.server.log('notice', `Clear FAIL state for node ${sender.id}: it is reachable again.`);
      dirty = true;
    }
    sender.replOffset = m.replOffset;
    if (m.paused && this.manual && sender.id === me.master) this.manual.masterOffset = m.replOffset;
    if (sender.role !== m.role || sender.master !== m.master) {
      sender.role = m.role;
      sender.master = m.master;
      dirty = true;
    }
    if (m.currentEpoch > st.currentEpoch) {
      st.currentEpoch = m.currentEpoch;
      dirty = true;
    }
    if (sender.configEpoch !== m.configEpoch) {
      sender.configEpoch = m.configEpoch;
      dirty = true;
    }
    if (sender.role === 'master' && this.claimSlots(sender, m.slots)) dirty = true;
    // two masters with one config epoch: the one with the smaller id takes a new epoch (Redis's rule)
    if (me.role === 'master' && sender.role === 'master' && sender.configEpoch === me.configEpoch && sender.id < me.id) {
      st.currentEpoch++;
      me.configEpoch = st.currentEpoch;
      dirty = true;
    }
    for (const g of m.gossip ?? []) {
      const known = st.nodes.get(g.id);
      if (known && !known.myself && sender.role === 'master') {
        if (g.pfail || g.fail) {
          known.reports.set(sender.id, Date.now());
          this.markFailIfNeeded(known);
        } else known.reports.delete(sender.id);
      }
      if (g.id === me.id || known || this.blacklisted(g.id) || !g.ip) continue;
      st.addNode({ id: g.id, ip: normalizeIp(g.ip), port: g.port, cport: g.cport, pport: g.pport ?? 0, role: g.role, master: g.master });
      dirty = true;
    }
    if (m.type === 'fail' && m.failing) {
      const f = st.nodes.get(m.failing);
      if (f && !f.myself && !f.fail) {
        f.fail = true;
        f.failTime = Date.now();
        this.server.log('notice', `FAIL message received from ${sender.id} about ${f.id}`);
        dirty = true;
      }
    } else if (m.type === 'mfstart') {
      this.handleMfStart(sender);
    } else if (m.type === 'auth-req') {
      this.handleAuthRequest(sender, m, socket, link);
    } else if (m.type === 'auth-ack') {
      if (this.election?.started && m.currentEpoch === this.election.epoch && sender.role === 'master') this.election.votes.add(sender.id);
    }
    if (socket && (m.type === 'ping' || m.type === 'meet')) {
      socket.write(frame(this.message('pong', fromIp)));
      this.stats.pongSent++;
      this.stats.sent++;
    }
    if (dirty) this.changed();
  }

  /** Applies a master's claim on its slots: a slot goes to it when free or held with a lower config epoch. */
  private claimSlots(sender: ClusterNode, flat: number[]): boolean {
    const st = this.state;
    const me = st.myself;
    let changed = false;
    let lostMine = false;
    const lost = new Set<number>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      for (let s = flat[i]; s <= flat[i + 1] && s < SLOTS; s++) {
        const owner = st.slots[s];
        if (owner === sender.id || st.importing.has(s)) continue;
        const held = owner === null ? -1 : (st.nodes.get(owner)?.configEpoch ?? -1);
        if (held < sender.configEpoch || owner === null) {
          if (owner !== null && (owner === me.id || (me.role === 'slave' && owner === me.master))) {
            lostMine = true;
            lost.add(s);
          }
          st.slots[s] = sender.id;
          changed = true;
        }
      }
    }
    this.slotsLeftShard(lost);
    if (lostMine) {
      // our slots (or our master's) moved to the sender with a newer epoch: follow it, as Redis does
      const watched = me.role === 'master' ? me.id : me.master!;
      if (st.slotsOf(watched).length === 0) {
        this.server.log('notice', `Configuration change detected. Reconfiguring myself as a replica of ${sender.id}`);
        me.role = 'slave';
        me.master = sender.id;
        me.configEpoch = 0;
        this.followMaster();
        this.endMfPause();
      }
    }
    return changed;
  }

  private blacklisted(id: string): boolean {
    const until = this.blacklist.get(id);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.blacklist.delete(id);
      return false;
    }
    return true;
  }

  private clusterCron(): void {
    const now = Date.now();
    const handshakeTimeout = Math.max(this.server.config.getInt('cluster-node-timeout'), 1000);
    for (const n of [...this.state.nodes.values()]) {
      if (n.myself) continue;
      if (n.handshake && now - (this.handshakeStarted.get(n.id) ?? now) > handshakeTimeout) {
        this.dropNode(n.id);
        this.changed();
        continue;
      }
      const l = this.ensureLink(n);
      n.linkUp = l?.up ?? false;
      if (l?.up) this.sendPing(n, l);
      else if (n.pingSent === 0) n.pingSent = now;
      if (!n.handshake && n.pingSent > 0 && now - n.pingSent > this.nodeTimeout && !n.pfail) {
        n.pfail = true;
        this.server.log('notice', `*** NODE ${n.id} possibly failing`);
        this.changed();
      }
      for (const [id, at] of n.reports) if (now - at > this.nodeTimeout * 2) n.reports.delete(id);
      this.markFailIfNeeded(n);
    }
    this.failoverCron(now);
    if (this.mfPause && now > this.mfPause.end) this.mfPause = null; // the pause itself ended on its own
    const me = this.state.myself;
    // a replica whose master's address became known (or changed) follows it
    if (me.role === 'slave' && me.master) {
      const m = this.state.nodes.get(me.master);
      const link = this.server.replication.link;
      if (m && m.ip && (this.server.replication.role !== 'replica' || !link || link.host !== m.ip || link.port !== m.port)) this.followMaster();
    }
  }
}
