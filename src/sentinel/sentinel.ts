// The sentinel's state machine, after Redis's sentinel.c (7.0):
// - every monitored master, its replicas (learnt from the master's INFO `slaveN:` lines) and the other
//   sentinels (learnt from hello messages on `__sentinel__:hello` of the master and replicas) are instances
//   with a command link (PING every min(down-after, 1 s), INFO every 10 s — every 1 s for replicas during a
//   failover —, hello PUBLISH every 2 s) and, for nodes, a pub/sub link subscribed to the hello channel;
// - SDOWN when an instance has not answered PING for down-after-milliseconds; ODOWN when at least `quorum`
//   sentinels (this one included) say the master is down (SENTINEL IS-MASTER-DOWN-BY-ADDR);
// - a failover needs a leader: a new epoch, votes asked with IS-MASTER-DOWN-BY-ADDR <runid>, one vote per
//   sentinel per epoch, a majority of the known sentinels and at least `quorum`;
// - the leader picks a replica (priority, then offset, then run id), sends it MULTI / SLAVEOF NO ONE /
//   CONFIG REWRITE / CLIENT KILL TYPE normal / CLIENT KILL TYPE pubsub / EXEC, waits for INFO to say
//   role:master, then repoints the other replicas the same way, and switches its master address; the other
//   sentinels switch when they hear a hello with the bigger config epoch;
// - an instance listed as a replica that reports role:master for 8 s (the old master coming back) is
//   converted with SLAVEOF; a replica pointing elsewhere is repointed (+fix-slave-config).

import * as crypto from 'node:crypto';
import { Link, ReplyError, type LinkDial, type Reply } from './link';
import { defaultMaster, rewriteSentinelFile, type MasterSpec } from './config';

export const HELLO_CHANNEL = '__sentinel__:hello';
const INFO_PERIOD = 10000;
const TILT_TRIGGER_MS = 2000;
/** SENTINEL_TILT_PERIOD (30 s). Redis has no knob for it; INFERDB_SENTINEL_TILT_PERIOD_MS is for tests only. */
const tiltPeriodMs = (): number => Number(process.env.INFERDB_SENTINEL_TILT_PERIOD_MS) || 30000;
const PING_PERIOD = 1000;
const ASK_PERIOD = 1000;
const PUBLISH_PERIOD = 2000;
const MAX_DESYNC = 1000;
const ELECTION_TIMEOUT = 10000;
const SLAVE_RECONF_TIMEOUT = 10000;
const MIN_LINK_RECONNECT_PERIOD = 15000;
const RECONNECT_PERIOD = 250;

export type FailoverState = 'none' | 'wait_start' | 'select_slave' | 'send_slaveof_noone' | 'wait_promotion' | 'reconf_slaves' | 'update_config';

export class Instance {
  runid = '';
  link: Link | null = null;
  pubsub: Link | null = null;
  readonly createdAt = Date.now();
  /** last time the instance answered PING acceptably (or was created) */
  lastAvailable = Date.now();
  lastOkPing = 0;
  lastPingReply = 0;
  lastPingSent = 0;
  lastHelloSent = 0;
  infoRefresh = 0;
  roleReported: 'master' | 'slave';
  roleReportedTime = Date.now();
  sdownSince = 0;
  /** when the last SDOWN ended (0: never down) */
  sdownEnded = 0;
  infoSent = 0;
  lastReconnect = 0;
  // replicas
  masterLinkDownTime = 0;
  masterLinkStatus = 'err';
  slaveMasterHost = '';
  slaveMasterPort = 0;
  slavePriority = 100;
  slaveReplOffset = 0;
  replicaAnnounced = true;
  slaveConfChangeTime = Date.now();
  promoted = false;
  reconfSent = false;
  reconfInprog = false;
  reconfDone = false;
  reconfSentTime = 0;
  // sentinels
  lastHello = 0;
  masterDown = false;
  lastMasterDownReply = 0;
  /** an IS-MASTER-DOWN-BY-ADDR question is in flight */
  asking = false;
  leader = '';
  leaderEpoch = 0;

  constructor(
    readonly kind: 'master' | 'slave' | 'sentinel',
    public ip: string,
    public port: number,
    public name: string,
  ) {
    this.roleReported = kind === 'slave' ? 'slave' : 'master';
  }

  get addr(): string {
    return `${this.ip}:${this.port}`;
  }

  get sdown(): boolean {
    return this.sdownSince > 0;
  }

  get disconnected(): boolean {
    return !this.link || !this.link.connected || (this.kind !== 'sentinel' && (!this.pubsub || !this.pubsub.connected));
  }

  closeLinks(): void {
    this.link?.close();
    this.pubsub?.close();
    this.link = this.pubsub = null;
  }
}

export class Master extends Instance {
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  parallelSyncs: number;
  authPass: string;
  authUser: string;
  configEpoch: number;
  slaves = new Map<string, Instance>();
  sentinels = new Map<string, Instance>();
  odownSince = 0;
  failoverState: FailoverState = 'none';
  failoverEpoch = 0;
  failoverStateChangeTime = 0;
  failoverStartTime = 0;
  failoverForced = false;
  promotedSlave: Instance | null = null;
  failoverDelayLogged = false;

  constructor(spec: MasterSpec) {
    super('master', spec.ip, spec.port, spec.name);
    this.quorum = spec.quorum;
    this.downAfterMs = spec.downAfterMs;
    this.failoverTimeoutMs = spec.failoverTimeoutMs;
    this.parallelSyncs = spec.parallelSyncs;
    this.authPass = spec.authPass;
    this.authUser = spec.authUser;
    this.configEpoch = spec.configEpoch;
    this.leaderEpoch = spec.leaderEpoch;
  }

  get odown(): boolean {
    return this.odownSince > 0;
  }

  get failoverInProgress(): boolean {
    return this.failoverState !== 'none';
  }

  spec(): MasterSpec {
    const s = defaultMaster(this.name, this.ip, this.port, this.quorum);
    Object.assign(s, {
      downAfterMs: this.downAfterMs,
      failoverTimeoutMs: this.failoverTimeoutMs,
      parallelSyncs: this.parallelSyncs,
      authPass: this.authPass,
      authUser: this.authUser,
      configEpoch: this.configEpoch,
      leaderEpoch: this.leaderEpoch,
    });
    s.knownReplicas = [...this.slaves.values()].map((r) => [r.ip, r.port] as [string, number]);
    s.knownSentinels = [...this.sentinels.values()].filter((x) => x.runid).map((x) => [x.ip, x.port, x.runid] as [string, number, string]);
    return s;
  }
}

export interface SentinelHost {
  /** the port clients and other sentinels reach this sentinel on */
  port(): number;
  /** publishes an event to this sentinel's own subscribers */
  publish(channel: string, message: string): void;
  log(level: 'notice' | 'warning' | 'verbose', msg: string): void;
  /** opens a link (tls-replication yes: over TLS, src/node/tls.ts); plain TCP when absent */
  dial?: LinkDial;
  /** this sentinel's own requirepass: used with other sentinels when no sentinel-pass is set (as Redis) */
  requirepass?: () => string;
}

export class Sentinel {
  myid: string;
  currentEpoch: number;
  /** `sentinel sentinel-user` / `sentinel-pass`: how this sentinel logs in to other sentinels */
  sentinelUser: string;
  sentinelPass: string;
  readonly masters = new Map<string, Master>();
  private timer: NodeJS.Timeout | null = null;
  /** TILT mode (as Redis): the timer ran late (> 2 s) or the clock went back; no acting on what was seen for a while */
  tilt = false;
  tiltStart = 0;
  private previousTick = 0;

  constructor(
    readonly host: SentinelHost,
    readonly configPath: string,
    state: { myid: string | null; currentEpoch: number; masters: MasterSpec[]; sentinelUser?: string; sentinelPass?: string },
  ) {
    this.myid = state.myid ?? crypto.randomBytes(20).toString('hex');
    this.sentinelUser = state.sentinelUser ?? '';
    this.sentinelPass = state.sentinelPass ?? '';
    this.currentEpoch = state.currentEpoch;
    for (const spec of state.masters) this.addMaster(spec);
  }

  start(): void {
    this.flushConfig();
    this.previousTick = Date.now();
    this.timer = setInterval(() => this.tick(), 100);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const m of this.masters.values()) this.releaseMaster(m);
  }

  addMaster(spec: MasterSpec): Master {
    const m = new Master(spec);
    for (const [ip, port] of spec.knownReplicas) m.slaves.set(`${ip}:${port}`, new Instance('slave', ip, port, `${ip}:${port}`));
    for (const [ip, port, id] of spec.knownSentinels) {
      if (id === this.myid) continue;
      const s = new Instance('sentinel', ip, port, id);
      s.runid = id;
      m.sentinels.set(id, s);
    }
    this.masters.set(m.name, m);
    return m;
  }

  releaseMaster(m: Master): void {
    m.closeLinks();
    for (const s of m.slaves.values()) s.closeLinks();
    for (const s of m.sentinels.values()) s.closeLinks();
  }

  flushConfig(): void {
    try {
      rewriteSentinelFile(this.configPath, {
        myid: this.myid,
        currentEpoch: this.currentEpoch,
        masters: [...this.masters.values()].map((m) => m.spec()),
        sentinelUser: this.sentinelUser,
        sentinelPass: this.sentinelPass,
      });
    } catch (e) {
      this.host.log('warning', `WARNING: Sentinel was not able to save the new configuration on disk!!!: ${(e as Error).message}`);
    }
  }

  // ------------------------------------------------------------------------------------------ events

  /** As sentinelEvent: `%@` formats the instance and, for non-masters, its master. */
  event(level: 'notice' | 'warning' | 'verbose', type: string, ri: Instance | null, master: Master | null, extra = ''): void {
    let msg = '';
    if (ri) {
      msg =
        ri instanceof Master
          ? `master ${ri.name} ${ri.ip} ${ri.port}`
          : `${ri.kind} ${ri.name} ${ri.ip} ${ri.port} @ ${master!.name} ${master!.ip} ${master!.port}`;
    }
    if (extra) msg = msg ? `${msg} ${extra}` : extra;
    this.host.log(level, `${type} ${msg}`);
    this.host.publish(type, msg);
  }

  // ------------------------------------------------------------------------------------------- timer

  private tick(): void {
    const now = Date.now();
    this.checkTiltCondition(now);
    for (const m of [...this.masters.values()]) {
      if (this.masters.get(m.name) !== m) continue;
      this.handleInstance(m, m, now);
      for (const s of [...m.slaves.values()]) this.handleInstance(s, m, now);
      for (const s of [...m.sentinels.values()]) this.handleInstance(s, m, now);
      if (this.masters.get(m.name) !== m) continue;
      if (this.tilt) continue; // still monitoring (links, PING, INFO, hello), deciding nothing
      this.checkObjectivelyDown(m, now);
      if (this.startFailoverIfNeeded(m, now)) this.askMasterStateToOtherSentinels(m, now, true);
      this.failoverStateMachine(m, now);
      this.askMasterStateToOtherSentinels(m, now, false);
    }
  }

  private handleInstance(ri: Instance, m: Master, now: number): void {
    this.reconnect(ri, m, now);
    this.sendPeriodicCommands(ri, m, now);
    if (this.tilt) {
      if (now - this.tiltStart < tiltPeriodMs()) return;
      this.tilt = false;
      this.event('warning', '-tilt', null, null, '#tilt mode exited');
    }
    this.checkSubjectivelyDown(ri, m, now);
  }

  /** sentinelCheckTiltCondition: the 100 ms timer ran more than 2 s late (process stopped, machine overloaded) or
   * the clock jumped back: the replies timed during the gap are not to be trusted, so enter TILT. */
  private checkTiltCondition(now: number): void {
    const delta = now - this.previousTick;
    if (delta < 0 || delta > TILT_TRIGGER_MS) {
      this.tilt = true;
      this.tiltStart = now;
      this.event('warning', '+tilt', null, null, '#tilt mode entered');
    }
    this.previousTick = now;
  }

  private reconnect(ri: Instance, m: Master, now: number): void {
    const name8 = this.myid.slice(0, 8);
    const linkDown = !ri.link || ri.link.closed;
    const pubsubDown = ri.kind !== 'sentinel' && (!ri.pubsub || ri.pubsub.closed);
    if (!linkDown && !pubsubDown) return;
    // at most 4 attempts a second (Redis: one per ping period) against an instance that refuses connections
    if (now - ri.lastReconnect < RECONNECT_PERIOD) return;
    ri.lastReconnect = now;
    if (linkDown) {
      const link = new Link(ri.ip, ri.port, this.host.dial);
      ri.link = link;
      link.actPingTime = 0;
      const auth = this.authFor(ri, m);
      if (auth) link.send(auth);
      link.send(['CLIENT', 'SETNAME', `sentinel-${name8}-cmd`]);
      this.sendPing(ri);
      if (ri.kind !== 'sentinel') this.sendInfo(ri, m);
    }
    if (pubsubDown) {
      const ps = new Link(ri.ip, ri.port, this.host.dial);
      ri.pubsub = ps;
      if (m.authPass) ps.send(m.authUser ? ['AUTH', m.authUser, m.authPass] : ['AUTH', m.authPass]);
      ps.send(['CLIENT', 'SETNAME', `sentinel-${name8}-pubsub`]);
      ps.onMessage = (channel, payload) => {
        if (channel === HELLO_CHANNEL) this.processHello(payload);
      };
      ps.send(['SUBSCRIBE', HELLO_CHANNEL]);
    }
  }

  /** The AUTH command for an instance, as sentinelSendAuthIfNeeded: masters and replicas get the master's
   * auth-user/auth-pass, other sentinels sentinel-user/sentinel-pass (or this sentinel's requirepass). */
  private authFor(ri: Instance, m: Master): string[] | null {
    const [user, pass] = ri.kind === 'sentinel' ? [this.sentinelUser, this.sentinelPass || (this.host.requirepass?.() ?? '')] : [m.authUser, m.authPass];
    if (!pass) return null;
    return user ? ['AUTH', user, pass] : ['AUTH', pass];
  }

  private sendPing(ri: Instance): void {
    const link = ri.link!;
    const now = Date.now();
    if (link.actPingTime === 0) link.actPingTime = now;
    link.lastPingTime = now;
    ri.lastPingSent = now;
    link.send(['PING'], (r) => {
      const t = Date.now();
      link.lastPongTime = t;
      if (link.closed && r instanceof ReplyError && r.message === 'ERR link closed') return;
      ri.lastPingReply = t;
      const ok = r === 'PONG';
      const okErr = r instanceof ReplyError && /^(LOADING|MASTERDOWN)/.test(r.message);
      if (ok || okErr) {
        link.actPingTime = 0;
        ri.lastAvailable = t;
        ri.lastOkPing = t;
      }
    });
  }

  private sendInfo(ri: Instance, m: Master): void {
    const link = ri.link!;
    link.send(['INFO'], (r) => {
      if (typeof r === 'string') this.refreshInstanceInfo(ri, m, r);
    });
  }

  private sendPeriodicCommands(ri: Instance, m: Master, now: number): void {
    const link = ri.link;
    if (!link || !link.connected) return;
    // do not pile commands up on a link that does not answer
    if (link.pending >= 100) return;
    let infoPeriod = INFO_PERIOD;
    // replicas are polled every second while their master is down (Redis: ODOWN) so that the replica chosen
    // has fresh INFO, and while one reports its link down
    if (ri.kind === 'slave' && (m.sdown || m.failoverInProgress || ri.masterLinkDownTime > 0)) infoPeriod = 1000;
    // half of Redis's period: a link dropped by CLIENT KILL is re-established before it could count as down
    const pingPeriod = Math.min(m.downAfterMs, PING_PERIOD) / 2;
    if (ri.kind !== 'sentinel' && (ri.infoRefresh === 0 || now - ri.infoRefresh > infoPeriod) && now - ri.infoSent > 250) {
      ri.infoSent = now;
      this.sendInfo(ri, m);
    }
    if (now - link.lastPongTime > pingPeriod && now - link.lastPingTime > pingPeriod / 2) this.sendPing(ri);
    if (now - ri.lastHelloSent > PUBLISH_PERIOD) this.sendHello(ri, m);
  }

  /** The address clients should use now: the promoted replica's once it has been seen as master. */
  currentMasterAddress(m: Master): [string, number] {
    if (m.failoverInProgress && m.promotedSlave && (m.failoverState === 'reconf_slaves' || m.failoverState === 'update_config')) {
      return [m.promotedSlave.ip, m.promotedSlave.port];
    }
    return [m.ip, m.port];
  }

  private sendHello(ri: Instance, m: Master): void {
    const link = ri.link;
    if (!link || !link.connected) return;
    const [mip, mport] = this.currentMasterAddress(m);
    const payload = [link.localAddress, this.host.port(), this.myid, this.currentEpoch, m.name, mip, mport, m.configEpoch].join(',');
    ri.lastHelloSent = Date.now();
    link.send(['PUBLISH', HELLO_CHANNEL, payload]);
  }

  // ---------------------------------------------------------------------------------------- INFO parse

  private refreshInstanceInfo(ri: Instance, m: Master, text: string): void {
    if (this.masters.get(m.name) !== m) return;
    const now = Date.now();
    ri.infoRefresh = now;
    let role: 'master' | 'slave' | null = null;
    let masterHost = '';
    let masterPort = 0;
    let linkDown = 0;
    for (const line of text.split('\r\n')) {
      if (line.startsWith('run_id:') && line.length >= 47) {
        const id = line.slice(7, 47);
        if (ri.runid && ri.runid !== id) this.event('notice', '+reboot', ri, m);
        ri.runid = id;
      } else if (line.startsWith('role:')) {
        role = line.slice(5) === 'master' ? 'master' : 'slave';
      } else if (role === 'master' && ri === m && /^slave\d+:/.test(line)) {
        const body = line.slice(line.indexOf(':') + 1);
        let ip = '';
        let port = 0;
        if (body.includes('=')) {
          for (const kv of body.split(',')) {
            const [k, v] = kv.split('=');
            if (k === 'ip') ip = v;
            else if (k === 'port') port = Number(v);
          }
        } else {
          const parts = body.split(',');
          ip = parts[0];
          port = Number(parts[1]);
        }
        if (ip && port > 0 && !m.slaves.has(`${ip}:${port}`)) {
          const s = new Instance('slave', ip, port, `${ip}:${port}`);
          m.slaves.set(s.name, s);
          this.event('notice', '+slave', s, m);
          this.flushConfig();
        }
      } else if (line.startsWith('master_link_down_since_seconds:')) {
        linkDown = Number(line.slice(31)) * 1000;
      } else if (role === 'slave' && line.startsWith('master_host:')) {
        masterHost = line.slice(12);
      } else if (role === 'slave' && line.startsWith('master_port:')) {
        masterPort = Number(line.slice(12));
      } else if (role === 'slave' && line.startsWith('master_link_status:')) {
        ri.masterLinkStatus = line.slice(19) === 'up' ? 'ok' : 'err';
      } else if (role === 'slave' && line.startsWith('slave_priority:')) {
        ri.slavePriority = Number(line.slice(15));
      } else if (role === 'slave' && line.startsWith('slave_repl_offset:')) {
        ri.slaveReplOffset = Number(line.slice(18));
      } else if (role === 'slave' && line.startsWith('replica_announced:')) {
        ri.replicaAnnounced = line.slice(18) !== '0';
      }
    }
    if (role === null) return;
    ri.masterLinkDownTime = role === 'slave' ? linkDown : 0;
    if (role !== ri.roleReported) {
      ri.roleReported = role;
      ri.roleReportedTime = now;
      if (ri.kind === 'master' || ri.kind === 'slave') this.event('verbose', role === (ri.kind === 'master' ? 'master' : 'slave') ? '+role-change' : '-role-change', ri, m, `new reported role is ${role}`);
    }
    if (role === 'slave') {
      if (ri.slaveMasterHost !== masterHost || ri.slaveMasterPort !== masterPort) {
        ri.slaveMasterHost = masterHost;
        ri.slaveMasterPort = masterPort;
        ri.slaveConfChangeTime = now;
      }
    }
    if (ri.kind !== 'slave') return;

    // a replica that reports master: our promotion worked, or it must be converted back
    if (role === 'master') {
      if (ri.promoted && m.failoverState === 'wait_promotion' && m.promotedSlave === ri) {
        m.configEpoch = m.failoverEpoch;
        m.failoverState = 'reconf_slaves';
        m.failoverStateChangeTime = now;
        this.flushConfig();
        this.event('warning', '+promoted-slave', ri, m);
        this.event('warning', '+failover-state-reconf-slaves', m, null);
        // tell the other sentinels at once, rather than at the next hello period
        for (const x of [m, ...m.slaves.values(), ...m.sentinels.values()]) this.sendHello(x, m);
        this.reconfSlaves(m, now);
      } else {
        const wait = PUBLISH_PERIOD * 4;
        if (!ri.promoted && this.masterLooksSane(m) && this.noDownFor(ri, wait, now) && now - ri.roleReportedTime > wait) {
          this.sendSlaveOf(ri, m.ip, m.port);
          this.event('notice', '+convert-to-slave', ri, m);
        }
      }
      return;
    }
    // a replica pointing at the wrong master
    const wait = m.failoverTimeoutMs;
    if (
      !ri.promoted &&
      this.masterLooksSane(m) &&
      (ri.slaveMasterHost !== m.ip || ri.slaveMasterPort !== m.port) &&
      !ri.reconfSent &&
      now - ri.slaveConfChangeTime > wait
    ) {
      this.sendSlaveOf(ri, m.ip, m.port);
      this.event('notice', '+fix-slave-config', ri, m);
    }
    // progress of a replica being reconfigured by our failover
    if (m.failoverState === 'reconf_slaves' && m.promotedSlave && (ri.reconfSent || ri.reconfInprog)) {
      const p = m.promotedSlave;
      if (ri.reconfSent && ri.slaveMasterHost === p.ip && ri.slaveMasterPort === p.port) {
        ri.reconfSent = false;
        ri.reconfInprog = true;
        this.event('notice', '+slave-reconf-inprog', ri, m);
      }
      if (ri.reconfInprog && ri.masterLinkStatus === 'ok') {
        ri.reconfInprog = false;
        ri.reconfDone = true;
        this.event('notice', '+slave-reconf-done', ri, m);
      }
    }
  }

  private masterLooksSane(m: Master): boolean {
    return !m.sdown && !m.odown && m.roleReported === 'master' && m.infoRefresh > 0 && Date.now() - m.infoRefresh < INFO_PERIOD * 2;
  }

  private noDownFor(ri: Instance, ms: number, now: number): boolean {
    const downSince = ri.sdownSince;
    if (downSince > 0) return false;
    return now - ri.sdownEnded > ms;
  }

  /** The reconfiguration pipeline of Redis's sentinel (the replies are ignored; INFO tells what happened). */
  sendSlaveOf(ri: Instance, host: string | null, port: number): void {
    const link = ri.link;
    if (!link || !link.connected) return;
    link.send(['MULTI']);
    link.send(host === null ? ['SLAVEOF', 'NO', 'ONE'] : ['SLAVEOF', host, port]);
    link.send(['CONFIG', 'REWRITE']);
    link.send(['CLIENT', 'KILL', 'TYPE', 'normal']);
    link.send(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    link.send(['EXEC'], () => {
      // INFO at once (Redis's sentinel waits for the next 1 s INFO)
      if (link.connected) {
        link.send(['INFO'], (r) => {
          for (const m of this.masters.values()) {
            if (m === ri || m.slaves.get(ri.name) === ri) {
              if (typeof r === 'string') this.refreshInstanceInfo(ri, m, r);
            }
          }
        });
      }
    });
  }

  // -------------------------------------------------------------------------------------- hello

  processHello(payload: string): void {
    const t = payload.split(',');
    if (t.length !== 8) return;
    const [sip, sportS, runid, epochS, mname, mip, mportS, mepochS] = t;
    const sport = Number(sportS);
    const epoch = Number(epochS);
    const mport = Number(mportS);
    const mepoch = Number(mepochS);
    if (runid === this.myid) return;
    const m = this.masters.get(mname);
    if (!m) return;
    let si = m.sentinels.get(runid);
    if (!si) {
      // a sentinel with a new run id at a known address replaces the old entry
      for (const [id, other] of m.sentinels) {
        if (other.ip === sip && other.port === sport) {
          other.closeLinks();
          m.sentinels.delete(id);
          this.event('notice', '-dup-sentinel', other, m, '#duplicate of ' + `${sip}:${sport} or ${runid}`);
        }
      }
      si = new Instance('sentinel', sip, sport, runid);
      si.runid = runid;
      m.sentinels.set(runid, si);
      this.event('notice', '+sentinel', si, m);
      this.flushConfig();
    } else if (si.ip !== sip || si.port !== sport) {
      si.closeLinks();
      si.ip = sip;
      si.port = sport;
      this.flushConfig();
    }
    si.lastHello = Date.now();
    if (epoch > this.currentEpoch) {
      this.currentEpoch = epoch;
      this.flushConfig();
      this.event('warning', '+new-epoch', null, null, String(epoch));
    }
    if (mepoch > m.configEpoch) {
      m.configEpoch = mepoch;
      if (m.ip !== mip || m.port !== mport) {
        this.event('warning', '+config-update-from', si, m);
        this.switchMaster(m, mip, mport);
      } else {
        this.flushConfig();
      }
    }
  }

  /** Accepts a hello PUBLISHed directly to this sentinel (what sentinels do to each other). */
  helloFromPublish(payload: string): void {
    this.processHello(payload);
  }

  // -------------------------------------------------------------------------------------- SDOWN / ODOWN

  private checkSubjectivelyDown(ri: Instance, m: Master, now: number): void {
    const link = ri.link;
    let elapsed = 0;
    if (link && link.connected && link.actPingTime) elapsed = now - link.actPingTime;
    else if (!link || !link.connected) elapsed = now - ri.lastAvailable;
    // a cmd link whose PING has been pending for half the down time is reconnected
    if (
      link &&
      link.connected &&
      now - link.createdAt > MIN_LINK_RECONNECT_PERIOD &&
      link.actPingTime !== 0 &&
      now - link.actPingTime > m.downAfterMs / 2 &&
      now - link.lastPongTime > m.downAfterMs / 2
    ) {
      link.close();
    }
    // a pub/sub link silent for three hello periods is reconnected
    if (ri.pubsub && ri.pubsub.connected && now - ri.pubsub.createdAt > MIN_LINK_RECONNECT_PERIOD && now - ri.pubsub.lastActivity > PUBLISH_PERIOD * 3) {
      ri.pubsub.close();
    }
    const down =
      elapsed > m.downAfterMs ||
      (ri.kind === 'master' && ri.roleReported === 'slave' && now - ri.roleReportedTime > m.downAfterMs + INFO_PERIOD * 2);
    if (down) {
      if (!ri.sdown) {
        ri.sdownSince = now;
        this.event('warning', '+sdown', ri, m);
        if (ri === m) for (const r of m.slaves.values()) r.infoRefresh = 1; // polled again at once
      }
    } else if (ri.sdown) {
      ri.sdownSince = 0;
      ri.sdownEnded = now;
      this.event('warning', '-sdown', ri, m);
    }
  }

  private checkObjectivelyDown(m: Master, now: number): void {
    let quorum = 0;
    let odown = false;
    if (m.sdown) {
      quorum = 1;
      for (const s of m.sentinels.values()) if (s.masterDown) quorum++;
      odown = quorum >= m.quorum;
    }
    if (odown) {
      if (!m.odown) {
        m.odownSince = now;
        this.event('warning', '+odown', m, null, `#quorum ${quorum}/${m.quorum}`);
      }
    } else if (m.odown) {
      m.odownSince = 0;
      this.event('warning', '-odown', m, null);
    }
  }

  private askMasterStateToOtherSentinels(m: Master, now: number, force: boolean): void {
    for (const s of m.sentinels.values()) {
      const elapsed = now - s.lastMasterDownReply;
      // an answer older than 5 ask periods no longer counts
      if (elapsed > ASK_PERIOD * 5) {
        s.masterDown = false;
        s.leader = '';
      }
      if (!m.sdown) continue;
      if (!s.link || !s.link.connected) continue;
      if (!force && elapsed < ASK_PERIOD) continue;
      if (s.asking && !force) continue;
      s.asking = true;
      const runid = m.failoverInProgress ? this.myid : '*';
      s.link.send(['SENTINEL', 'is-master-down-by-addr', m.ip, m.port, this.currentEpoch, runid], (r) => {
        s.asking = false;
        if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== 'number' || typeof r[1] !== 'string' || typeof r[2] !== 'number') return;
        s.lastMasterDownReply = Date.now();
        s.masterDown = r[0] === 1;
        if (r[1] !== '*') {
          if (s.leader !== r[1] || s.leaderEpoch !== r[2]) {
            this.host.log('notice', `${s.runid} voted for ${r[1]} ${r[2]}`);
          }
          s.leader = r[1];
          s.leaderEpoch = r[2];
        }
      });
    }
  }

  // -------------------------------------------------------------------------------------- election

  /** A vote asked by a sentinel (or by ourselves): one per epoch. Returns [leader, epoch]. */
  voteLeader(m: Master, reqEpoch: number, reqRunid: string): [string, number] {
    if (reqEpoch > this.currentEpoch) {
      this.currentEpoch = reqEpoch;
      this.flushConfig();
      this.event('warning', '+new-epoch', null, null, String(reqEpoch));
    }
    if (m.leaderEpoch < reqEpoch && this.currentEpoch <= reqEpoch) {
      m.leader = reqRunid;
      m.leaderEpoch = this.currentEpoch;
      this.flushConfig();
      this.event('warning', '+vote-for-leader', null, null, `${reqRunid} ${m.leaderEpoch}`);
      // voting for another sentinel delays our own failover attempt
      if (reqRunid !== this.myid) m.failoverStartTime = Date.now() + Math.floor(Math.random() * MAX_DESYNC);
    }
    return [m.leader, m.leaderEpoch];
  }

  private getLeader(m: Master, epoch: number): string | null {
    const counts = new Map<string, number>();
    const voters = m.sentinels.size + 1;
    for (const s of m.sentinels.values()) if (s.leader && s.leaderEpoch === epoch) counts.set(s.leader, (counts.get(s.leader) ?? 0) + 1);
    let winner: string | null = null;
    let max = 0;
    for (const [id, n] of counts) {
      if (n > max || (n === max && winner !== null && id > winner)) {
        max = n;
        winner = id;
      }
    }
    const [myvote, myEpoch] = this.voteLeader(m, epoch, winner ?? this.myid);
    if (myvote && myEpoch === epoch) {
      const n = (counts.get(myvote) ?? 0) + 1;
      counts.set(myvote, n);
      if (n > max) {
        max = n;
        winner = myvote;
      }
    }
    if (winner && (max < Math.floor(voters / 2) + 1 || max < m.quorum)) winner = null;
    return winner;
  }

  // -------------------------------------------------------------------------------------- failover

  private startFailoverIfNeeded(m: Master, now: number): boolean {
    if (!m.odown || m.failoverInProgress) return false;
    if (now - m.failoverStartTime < m.failoverTimeoutMs * 2) {
      if (m.failoverStartTime > 0 && !m.failoverDelayLogged) {
        m.failoverDelayLogged = true;
        this.host.log('warning', `Next failover delay: I will not start a failover before ${new Date(m.failoverStartTime + m.failoverTimeoutMs * 2).toUTCString()}`);
      }
      return false;
    }
    this.startFailover(m, now, false);
    return true;
  }

  private startFailover(m: Master, now: number, forced: boolean): void {
    m.failoverState = 'wait_start';
    m.failoverStateChangeTime = now;
    m.failoverForced = forced;
    this.currentEpoch++;
    m.failoverEpoch = this.currentEpoch;
    this.flushConfig();
    this.event('warning', '+new-epoch', null, null, String(this.currentEpoch));
    this.event('warning', '+try-failover', m, null);
    m.failoverStartTime = now + Math.floor(Math.random() * MAX_DESYNC);
    m.failoverDelayLogged = false;
  }

  /** SENTINEL FAILOVER: no agreement needed. */
  forceFailover(m: Master): 'ok' | 'inprog' | 'noslave' {
    if (m.failoverInProgress) return 'inprog';
    if (!this.selectSlave(m)) return 'noslave';
    this.startFailover(m, Date.now(), true);
    return 'ok';
  }

  private abortFailover(m: Master, reason: string): void {
    this.event('warning', reason, m, null);
    if (m.promotedSlave) m.promotedSlave.promoted = false;
    for (const s of m.slaves.values()) s.reconfSent = s.reconfInprog = s.reconfDone = false;
    m.promotedSlave = null;
    m.failoverState = 'none';
    m.failoverStateChangeTime = Date.now();
    m.failoverForced = false;
  }

  private setState(m: Master, state: FailoverState, ri: Instance | null): void {
    m.failoverState = state;
    m.failoverStateChangeTime = Date.now();
    this.event('notice', `+failover-state-${state.replace(/_/g, '-')}`, ri ?? m, m);
  }

  selectSlave(m: Master): Instance | null {
    const now = Date.now();
    const maxLinkDown = (m.sdown ? now - m.sdownSince : 0) + m.downAfterMs * 10;
    const validity = m.sdown ? PING_PERIOD * 5 : INFO_PERIOD * 3;
    const ok = [...m.slaves.values()].filter(
      (s) =>
        !s.sdown &&
        s.link?.connected &&
        now - s.lastAvailable <= PING_PERIOD * 5 &&
        s.slavePriority !== 0 &&
        s.infoRefresh > 0 &&
        now - s.infoRefresh <= validity &&
        s.masterLinkDownTime <= maxLinkDown &&
        s.roleReported === 'slave',
    );
    ok.sort((a, b) => a.slavePriority - b.slavePriority || b.slaveReplOffset - a.slaveReplOffset || (a.runid < b.runid ? -1 : a.runid > b.runid ? 1 : 0));
    return ok[0] ?? null;
  }

  private failoverStateMachine(m: Master, now: number): void {
    const since = now - m.failoverStateChangeTime;
    switch (m.failoverState) {
      case 'none':
        return;
      case 'wait_start': {
        const leader = m.failoverForced ? this.myid : this.getLeader(m, m.failoverEpoch);
        if (leader !== this.myid) {
          if (since > Math.min(ELECTION_TIMEOUT, m.failoverTimeoutMs)) {
            this.abortFailover(m, '-failover-abort-not-elected');
            m.failoverStartTime = now;
          }
          return;
        }
        this.event('warning', '+elected-leader', m, null);
        this.setState(m, 'select_slave', m);
        return this.failoverStateMachine(m, Date.now());
      }
      case 'select_slave': {
        const s = this.selectSlave(m);
        if (!s && since < 2000) {
          // the replicas' INFO may be older than allowed: it is asked every second while the master is down
          for (const r of m.slaves.values()) if (r.link?.connected && Date.now() - r.infoSent > 250) {
            r.infoSent = Date.now();
            this.sendInfo(r, m);
          }
          return;
        }
        if (!s) {
          this.abortFailover(m, '-failover-abort-no-good-slave');
          m.failoverStartTime = now;
          return;
        }
        s.promoted = true;
        m.promotedSlave = s;
        this.event('warning', '+selected-slave', s, m);
        this.setState(m, 'send_slaveof_noone', s);
        return this.failoverStateMachine(m, Date.now());
      }
      case 'send_slaveof_noone': {
        const s = m.promotedSlave!;
        if (!s.link?.connected) {
          if (since > m.failoverTimeoutMs) {
            this.abortFailover(m, '-failover-abort-slave-timeout');
            m.failoverStartTime = now;
          }
          return;
        }
        this.sendSlaveOf(s, null, 0);
        this.setState(m, 'wait_promotion', s);
        return;
      }
      case 'wait_promotion':
        if (since > m.failoverTimeoutMs) {
          this.abortFailover(m, '-failover-abort-slave-timeout');
          m.failoverStartTime = now;
        }
        return;
      case 'reconf_slaves':
        this.reconfSlaves(m, now);
        return;
      case 'update_config':
        return;
    }
  }

  private reconfSlaves(m: Master, now: number): void {
    const p = m.promotedSlave!;
    let inProgress = 0;
    for (const s of m.slaves.values()) if (s.reconfSent || s.reconfInprog) inProgress++;
    for (const s of m.slaves.values()) {
      if (s === p || s.reconfDone) continue;
      // a replica that takes too long counts as done
      if (s.reconfSent && now - s.reconfSentTime > SLAVE_RECONF_TIMEOUT) {
        this.event('notice', '-slave-reconf-sent-timeout', s, m);
        s.reconfSent = false;
        s.reconfDone = true;
        inProgress--;
        continue;
      }
      if (s.reconfSent || s.reconfInprog || inProgress >= m.parallelSyncs) continue;
      // replicas that are down (the old master among them) are fixed later, when they come back
      if (s.sdown || !s.link?.connected) continue;
      this.sendSlaveOf(s, p.ip, p.port);
      s.reconfSent = true;
      s.reconfSentTime = now;
      inProgress++;
      this.event('notice', '+slave-reconf-sent', s, m);
    }
    let notDone = 0;
    for (const s of m.slaves.values()) {
      if (s === p || s.reconfDone) continue;
      if (s.sdown || !s.link?.connected) continue;
      notDone++;
    }
    const timedOut = now - m.failoverStateChangeTime > m.failoverTimeoutMs;
    if (notDone === 0 || timedOut) {
      if (timedOut) this.event('warning', '+failover-end-for-timeout', m, null);
      m.failoverState = 'update_config';
      this.event('warning', '+failover-end', m, null);
      this.switchMaster(m, p.ip, p.port);
    }
  }

  /** Moves the master to a new address: the old master and the other replicas become its replicas. */
  switchMaster(m: Master, ip: string, port: number): void {
    const oldIp = m.ip;
    const oldPort = m.port;
    const slaves: [string, number][] = [];
    for (const s of m.slaves.values()) if (!(s.ip === ip && s.port === port)) slaves.push([s.ip, s.port]);
    if (!(oldIp === ip && oldPort === port) && !slaves.some(([a, b]) => a === oldIp && b === oldPort)) slaves.push([oldIp, oldPort]);
    const spec = m.spec();
    spec.ip = ip;
    spec.port = port;
    spec.knownReplicas = slaves;
    // the sentinels stay as they are (links included)
    m.closeLinks();
    for (const s of m.slaves.values()) s.closeLinks();
    const fresh = new Master(spec);
    for (const [sip, sport] of slaves) fresh.slaves.set(`${sip}:${sport}`, new Instance('slave', sip, sport, `${sip}:${sport}`));
    fresh.sentinels = m.sentinels;
    for (const s of fresh.sentinels.values()) {
      s.masterDown = false;
    }
    fresh.leader = m.leader;
    fresh.leaderEpoch = m.leaderEpoch;
    fresh.failoverStartTime = m.failoverStartTime;
    this.masters.set(m.name, fresh);
    this.flushConfig();
    if (oldIp !== ip || oldPort !== port) this.event('warning', '+switch-master', null, null, `${m.name} ${oldIp} ${oldPort} ${ip} ${port}`);
  }

  /** SENTINEL RESET: forgets replicas and sentinels, keeps the master address. */
  resetMaster(m: Master): void {
    this.releaseMaster(m);
    const spec = m.spec();
    spec.knownReplicas = [];
    spec.knownSentinels = [];
    this.masters.delete(m.name);
    this.addMaster(spec);
    this.event('warning', '+reset-master', this.masters.get(m.name)!, null);
    this.flushConfig();
  }
}
