// The sentinel's config file, as Redis Sentinel's: `sentinel …` lines describe the monitored masters and
// the state learnt since (myid, epochs, known replicas and sentinels); other lines are node options (port,
// bind, dir, …). The state is persisted by rewriting the file: non-sentinel lines are kept as they are, the
// sentinel lines are regenerated.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';

export interface MasterSpec {
  name: string;
  ip: string;
  port: number;
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  parallelSyncs: number;
  authPass: string;
  authUser: string;
  configEpoch: number;
  leaderEpoch: number;
  knownReplicas: [string, number][];
  knownSentinels: [string, number, string][];
}

export interface SentinelFile {
  myid: string | null;
  currentEpoch: number;
  masters: MasterSpec[];
  /** node options (name, value) from the non-sentinel lines */
  options: [string, string][];
  /** credentials for other sentinels (`sentinel sentinel-user/sentinel-pass`); empty: none */
  sentinelUser?: string;
  sentinelPass?: string;
}

export class SentinelConfigError extends Error {}

export function defaultMaster(name: string, ip: string, port: number, quorum: number): MasterSpec {
  return {
    name,
    ip,
    port,
    quorum,
    downAfterMs: 30000,
    failoverTimeoutMs: 180000,
    parallelSyncs: 1,
    authPass: '',
    authUser: '',
    configEpoch: 0,
    leaderEpoch: 0,
    knownReplicas: [],
    knownSentinels: [],
  };
}

/** Splits a config line into words (double quotes group words, as Redis's sdssplitargs for plain cases). */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]);
  return out;
}

const intArg = (v: string | undefined, what: string): number => {
  if (v === undefined || !/^-?\d+$/.test(v)) throw new SentinelConfigError(`Invalid ${what}`);
  return Number(v);
};

export function parseSentinelFile(text: string): SentinelFile {
  const file: SentinelFile = { myid: null, currentEpoch: 0, masters: [], options: [] };
  const byName = new Map<string, MasterSpec>();
  const master = (name: string | undefined): MasterSpec => {
    const m = name === undefined ? undefined : byName.get(name);
    if (!m) throw new SentinelConfigError(`No such master with specified name.`);
    return m;
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const w = splitWords(line);
    try {
      if (w[0].toLowerCase() !== 'sentinel') {
        file.options.push([w[0].toLowerCase(), w.slice(1).join(' ')]);
        return;
      }
      const opt = (w[1] ?? '').toLowerCase();
      switch (opt) {
        case 'monitor': {
          if (w.length !== 6) throw new SentinelConfigError('Wrong number of arguments');
          const q = intArg(w[5], 'quorum');
          if (q <= 0) throw new SentinelConfigError('Quorum must be 1 or greater.');
          if (byName.has(w[2])) throw new SentinelConfigError('Duplicated master name.');
          const m = defaultMaster(w[2], w[3], intArg(w[4], 'port'), q);
          byName.set(m.name, m);
          file.masters.push(m);
          break;
        }
        case 'down-after-milliseconds':
          master(w[2]).downAfterMs = intArg(w[3], 'down-after-milliseconds');
          break;
        case 'failover-timeout':
          master(w[2]).failoverTimeoutMs = intArg(w[3], 'failover-timeout');
          break;
        case 'parallel-syncs':
          master(w[2]).parallelSyncs = intArg(w[3], 'parallel-syncs');
          break;
        case 'auth-pass':
          master(w[2]).authPass = w[3] ?? '';
          break;
        case 'auth-user':
          master(w[2]).authUser = w[3] ?? '';
          break;
        case 'config-epoch':
          master(w[2]).configEpoch = intArg(w[3], 'config-epoch');
          break;
        case 'leader-epoch':
          master(w[2]).leaderEpoch = intArg(w[3], 'leader-epoch');
          break;
        case 'known-replica':
        case 'known-slave':
          master(w[2]).knownReplicas.push([w[3], intArg(w[4], 'port')]);
          break;
        case 'known-sentinel':
          master(w[2]).knownSentinels.push([w[3], intArg(w[4], 'port'), w[5] ?? '']);
          break;
        case 'myid':
          if (!/^[0-9a-f]{40}$/.test(w[2] ?? '')) throw new SentinelConfigError('Malformed Sentinel id in myid option.');
          file.myid = w[2];
          break;
        case 'current-epoch':
          file.currentEpoch = intArg(w[2], 'current-epoch');
          break;
        case 'sentinel-user':
          file.sentinelUser = w[2] ?? '';
          break;
        case 'sentinel-pass':
          file.sentinelPass = w[2] ?? '';
          break;
        // accepted and ignored (Redis Sentinel options this sentinel does not implement)
        case 'deny-scripts-reconfig':
        case 'resolve-hostnames':
        case 'announce-hostnames':
        case 'announce-ip':
        case 'announce-port':
        case 'notification-script':
        case 'client-reconfig-script':
        case 'rename-command':
        case 'master-reboot-down-after-period':
          break;
        default:
          throw new SentinelConfigError(`Unrecognized sentinel configuration statement.`);
      }
    } catch (e) {
      if (e instanceof SentinelConfigError) {
        throw new SentinelConfigError(`>>> 'line ${i + 1}: ${line}'\n${e.message}`);
      }
      throw e;
    }
  });
  return file;
}

/** Rewrites the file: the non-sentinel lines stay, the sentinel lines are generated from `state`. */
export function rewriteSentinelFile(
  path: string,
  state: { myid: string; currentEpoch: number; masters: MasterSpec[]; sentinelUser?: string; sentinelPass?: string },
): void {
  let old = '';
  try {
    old = fs.readFileSync(path, 'utf8');
  } catch {
    // a new file
  }
  const kept = old
    .split(/\r?\n/)
    .filter((l) => !/^\s*sentinel\s/i.test(l) && l !== '# Generated by CONFIG REWRITE');
  while (kept.length > 0 && kept[kept.length - 1].trim() === '') kept.pop();
  const q = (s: string) => (/[\s"]/.test(s) || s === '' ? `"${s.replace(/(["\\])/g, '\\$1')}"` : s);
  const lines: string[] = [...kept, '', '# Generated by CONFIG REWRITE', `sentinel myid ${state.myid}`];
  if (state.sentinelUser) lines.push(`sentinel sentinel-user ${q(state.sentinelUser)}`);
  if (state.sentinelPass) lines.push(`sentinel sentinel-pass ${q(state.sentinelPass)}`);
  for (const m of state.masters) {
    lines.push(`sentinel monitor ${m.name} ${m.ip} ${m.port} ${m.quorum}`);
    lines.push(`sentinel down-after-milliseconds ${m.name} ${m.downAfterMs}`);
    lines.push(`sentinel failover-timeout ${m.name} ${m.failoverTimeoutMs}`);
    lines.push(`sentinel parallel-syncs ${m.name} ${m.parallelSyncs}`);
    if (m.authPass) lines.push(`sentinel auth-pass ${m.name} ${q(m.authPass)}`);
    if (m.authUser) lines.push(`sentinel auth-user ${m.name} ${q(m.authUser)}`);
    lines.push(`sentinel config-epoch ${m.name} ${m.configEpoch}`);
    lines.push(`sentinel leader-epoch ${m.name} ${m.leaderEpoch}`);
    for (const [ip, port] of m.knownReplicas) lines.push(`sentinel known-replica ${m.name} ${ip} ${port}`);
    for (const [ip, port, id] of m.knownSentinels) lines.push(`sentinel known-sentinel ${m.name} ${ip} ${port} ${id}`);
  }
  lines.push(`sentinel current-epoch ${state.currentEpoch}`, '');
  const tmp = nodePath.join(nodePath.dirname(path), `.sentinel-rewrite.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, lines.join('\n'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}
