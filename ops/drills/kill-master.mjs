#!/usr/bin/env node
// Failover drill: kill -9 the master under a write load and print a timeline.
//   node ops/drills/kill-master.mjs sentinel [--base-port 7200]   # ops/sentinel/local.sh topology (ours sentinels)
//   node ops/drills/kill-master.mjs cluster  [--base-port 7300]   # ops/cluster/local.sh topology (3 masters x 1 replica)
// One writer sends `SET drill:<n> <n>` + `WAIT 1 100` in a loop; a write counts as acknowledged when SET answered OK
// and WAIT counted at least one replica. After ~1.5 s of load the master is killed with SIGKILL. The writer finds
// the new master (sentinel: SENTINEL GET-MASTER-ADDR-BY-NAME; cluster: CLUSTER SLOTS of a live node) and goes on.
// At the end every acknowledged key is read back from the new master: "lost" counts acknowledged writes missing.
// Everything runs under a fresh temp folder and is stopped at the end. Needs `npm run build` and redis-cli.
// `--fault stop` (sentinel only; ops/drills/partition-master.mjs): SIGSTOP instead of SIGKILL, which cuts the master
// off from sentinels and clients alike; once the failover is done, SIGCONT: the sentinels must turn the old master
// into a replica of the new one (+convert-to-slave; its unacknowledged stale writes are discarded, as Redis).
// `--restart-old` (sentinel only; ops/drills/restart-old-master.mjs): after the failover, restart the killed master
// (same data dir, AOF on) while the load goes on: the sentinels must turn it into a replica of the new master.
// `--kill-sentinel` (sentinel only; ops/drills/kill-sentinel.mjs): kill -9 one of the three sentinels first; the two
// left (quorum 2, majority 2 of 3) must still fail over; then the killed one is restarted from its config file and
// must learn the new master (hello messages, config epoch) without starting a failover of its own.
// `--json`: a last line with a machine-readable summary (counts, timeline).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Redis = require('ioredis').default ?? require('ioredis');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const mode = process.argv[2];
if (mode !== 'sentinel' && mode !== 'cluster') {
  console.error('usage: node ops/drills/kill-master.mjs sentinel|cluster [--base-port P]');
  process.exit(2);
}
const bi = process.argv.indexOf('--base-port');
const BASE = bi > 0 ? Number(process.argv[bi + 1]) : mode === 'sentinel' ? 7200 : 7300;
const fi = process.argv.indexOf('--fault');
const FAULT = fi > 0 ? process.argv[fi + 1] : 'kill';
const JSON_OUT = process.argv.includes('--json');
const RESTART_OLD = process.argv.includes('--restart-old');
const KILL_SENTINEL = process.argv.includes('--kill-sentinel');
if (KILL_SENTINEL && (mode !== 'sentinel' || FAULT !== 'kill' || RESTART_OLD)) {
  console.error('--kill-sentinel is for the sentinel topology with kill -9 of the master');
  process.exit(2);
}
if ((FAULT !== 'kill' || RESTART_OLD) && !(mode === 'sentinel' && (FAULT === 'stop' || FAULT === 'kill') && !(FAULT === 'stop' && RESTART_OLD))) {
  console.error('--fault stop and --restart-old are for the sentinel topology, one at a time');
  process.exit(2);
}
const RUN_DIR = fs.mkdtempSync(path.join(os.tmpdir(), `inferdb-drill-${mode}-`));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const events = [];
let tKill = 0;
const mark = (what) => {
  const t = Date.now();
  events.push({ t, what });
  if (tKill) console.log(`  +${String(t - tKill).padStart(5)} ms  ${what}`);
};
const client = (port) => {
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, lazyConnect: true, connectTimeout: 300, commandTimeout: 1000 });
  r.on('error', () => {});
  return r;
};
async function once(port, ...args) {
  const r = client(port);
  try {
    await r.connect();
    return await r.call(...args);
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}
async function until(what, f, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await f()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}
const sh = (script, args, env = {}) => execFileSync(script, args, { env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

let killedPort = 0;
let stoppedPid = 0;
let oldRole = null;
let sentinelTriedFailover = false, sentinelLearnt = false;
let switched = false;
let launcher, stop, findMaster, masterPid, watch, keyPrefix;
if (mode === 'sentinel') {
  const env = { BASE: String(BASE), RUN_DIR };
  launcher = () => sh(path.join(ROOT, 'ops/sentinel/local.sh'), ['start'], env);
  stop = () => sh(path.join(ROOT, 'ops/sentinel/local.sh'), ['stop'], env);
  const sentinels = [BASE + 100, BASE + 101, BASE + 102];
  findMaster = async () => {
    for (const s of sentinels) {
      const a = await once(s, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster');
      if (a) return Number(a[1]);
    }
    return null;
  };
  masterPid = () => Number(fs.readFileSync(path.join(RUN_DIR, `node-${BASE}.pid`), 'utf8'));
  keyPrefix = 'drill:';
  watch = async () => {
    await until('sentinels to see 2 replicas and each other', async () => {
      for (const s of sentinels) {
        const m = await once(s, 'SENTINEL', 'MASTER', 'mymaster');
        if (!m) return false;
        const f = Object.fromEntries(m.reduce((a, v, i) => (i % 2 ? a : [...a, [v, m[i + 1]]]), []));
        if (f['num-slaves'] !== '2' || f['num-other-sentinels'] !== '2') return false;
      }
      return true;
    });
    // every sentinel's events: each reaches SDOWN / ODOWN by itself; one leads the failover
    const subs = [];
    for (const port of sentinels) {
      const sub = new Redis({ port, host: '127.0.0.1' });
      sub.on('error', () => {});
      await sub.psubscribe('*');
      sub.on('pmessage', (_p, ch, msg) => {
        if (ch === '+switch-master') switched = true;
        if (((['+sdown', '+odown', '+try-failover', '+switch-master', '+elected-leader', '+promoted-slave', '+failover-end'].includes(ch) && !msg.startsWith('slave ')) || ch === '+convert-to-slave') && tKill)
          mark(`sentinel ${port}: ${ch} ${msg}`);
      });
      subs.push(sub);
    }
    return () => subs.forEach((s) => s.disconnect());
  };
} else {
  const env = { RUN_DIR };
  launcher = () => sh(path.join(ROOT, 'ops/cluster/local.sh'), ['start', '--base-port', String(BASE), '--node-timeout', '1500'], env);
  stop = () => sh(path.join(ROOT, 'ops/cluster/local.sh'), ['stop', '--base-port', String(BASE)], env);
  // keys tagged into slot range 0-5460, the first master's
  keyPrefix = '{drill}:'; // slot of "drill"
  let slot;
  findMaster = async () => {
    for (let i = 1; i < 6; i++) {
      const slots = await once(BASE + i, 'CLUSTER', 'SLOTS');
      if (!slots) continue;
      const r = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
      if (r) return Number(r[2][1]);
    }
    return null;
  };
  masterPid = async () => {
    const port = await findMaster();
    return Number(fs.readFileSync(path.join(RUN_DIR, `node-${port}.pid`), 'utf8'));
  };
  watch = async () => {
    slot = await once(BASE, 'CLUSTER', 'KEYSLOT', 'drill');
    const owner = await findMaster();
    const seen = new Set();
    let on = true;
    (async () => {
      while (on) {
        const other = [0, 1, 2, 3, 4, 5].map((i) => BASE + i).find((p) => p !== owner);
        const nodes = await once(other, 'CLUSTER', 'NODES');
        if (nodes && tKill) {
          for (const line of nodes.split('\n')) {
            const w = line.split(' ');
            if (w[1]?.startsWith(`127.0.0.1:${owner}@`) && w[2].includes('fail?') && !seen.has('pfail')) seen.add('pfail'), mark(`node ${other} sees ${owner} PFAIL (fail?)`);
            if (w[1]?.startsWith(`127.0.0.1:${owner}@`) && /(^|,)fail(,|$)/.test(w[2]) && !seen.has('fail')) seen.add('fail'), mark(`node ${other} sees ${owner} FAIL`);
            if (!w[1]?.startsWith(`127.0.0.1:${owner}@`) && w[2]?.includes('master') && w.slice(8).some((r) => { const [lo, hi] = r.split('-').map(Number); return slot >= lo && slot <= (hi ?? lo); }) && !seen.has('promo'))
              seen.add('promo'), mark(`node ${other} sees ${w[1].split('@')[0]} master of slot ${slot} (epoch ${w[6]})`);
          }
        }
        await sleep(50);
      }
    })();
    return () => (on = false);
  };
}

console.log(`[drill ${mode}] starting the topology (base port ${BASE}, files in ${RUN_DIR})`);
let unwatch;
const acked = [];
let sent = 0, errors = 0, unacked = 0;
// interrupted (Ctrl-C, a test's timeout): stop the topology before going
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    if (stoppedPid) try { process.kill(stoppedPid, 'SIGCONT'); } catch {}
    try { stop(); } catch {}
    process.exit(130);
  });
try {
  launcher();
  unwatch = await watch();
  let port = await findMaster();
  console.log(`[drill ${mode}] master ${port}; write load: SET + WAIT ${mode === 'sentinel' ? '2' : '1'} 100`);
  let conn = client(port);
  await conn.connect();
  let running = true, recovered = false, recoveredAck = false, n = 0;
  const writer = (async () => {
    while (running) {
      const i = n++;
      sent++;
      try {
        // an acknowledged write must be on every replica the sentinels may promote: the first master has two
        // (WAIT 2; they rank replicas by priority before offset), the promoted one one
        const want = mode === 'sentinel' && !tKill ? 2 : 1;
        const [[e1, ok], [e2, replicas]] = await conn.pipeline().set(`${keyPrefix}${i}`, String(i)).call('WAIT', String(want), '100').exec();
        if (e1 || e2) throw e1 || e2;
        if (ok === 'OK' && replicas >= want) {
          acked.push(i);
          if (tKill && !recoveredAck && conn.options.port !== killedPort) recoveredAck = true, mark(`writer: first acknowledged write (WAIT >= 1) on new master ${conn.options.port}`);
        } else unacked++;
        if (tKill && !recovered && conn.options.port !== killedPort && ok === 'OK') recovered = true, mark(`writer: writing again on ${conn.options.port}`);
      } catch {
        errors++;
        conn.disconnect();
        await sleep(20);
        const p = await findMaster();
        if (p) port = p;
        conn = client(port);
        await conn.connect().catch(() => {});
      }
    }
  })();
  await sleep(1500);
  killedPort = port;
  const pid = await masterPid();
  const deadSentinel = BASE + 102;
  let sentinelRestartedAt = 0;
  if (KILL_SENTINEL) {
    process.kill(Number(fs.readFileSync(path.join(RUN_DIR, `sentinel-${deadSentinel}.pid`), 'utf8')), 'SIGKILL');
    console.log(`[drill ${mode}] kill -9 sentinel ${deadSentinel} (2 of 3 left, quorum 2)`);
    await sleep(500);
  }
  tKill = Date.now();
  process.kill(pid, FAULT === 'stop' ? 'SIGSTOP' : 'SIGKILL');
  if (FAULT === 'stop') stoppedPid = pid;
  console.log(`[drill ${mode}] timeline (ms after ${FAULT === 'stop' ? 'SIGSTOP' : 'kill -9'} of master ${killedPort}, pid ${pid}):`);
  mark(`${FAULT === 'stop' ? 'SIGSTOP (partition)' : 'kill -9'} master ${killedPort}`);
  if (FAULT === 'stop' || RESTART_OLD) {
    await until('writes acknowledged on the new master', async () => recoveredAck && switched, 30000).catch((e) => console.log(`  ${e.message}`));
    if (FAULT === 'stop') {
      process.kill(pid, 'SIGCONT');
      stoppedPid = 0;
      mark(`SIGCONT old master ${killedPort}`);
    } else {
      // as ops/sentinel/local.sh started it, plus AOF
      const dir = path.join(RUN_DIR, `node-${killedPort}`);
      const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), '--port', String(killedPort), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes'],
        { stdio: 'ignore', detached: true });
      child.unref();
      fs.writeFileSync(path.join(RUN_DIR, `node-${killedPort}.pid`), String(child.pid));
      mark(`old master ${killedPort} restarted (pid ${child.pid})`);
    }
    await until(`${killedPort} to be a replica`, async () => String(await once(killedPort, 'ROLE').then((r) => r?.[0])) === 'slave', 30000)
      .then(() => mark(`old master ${killedPort} is a replica again`)).catch((e) => console.log(`  ${e.message}`));
    await until(`${killedPort} to be in sync`, async () => /master_link_status:up/.test(String(await once(killedPort, 'INFO', 'replication'))), 30000)
      .then(() => mark(`old master ${killedPort} in sync with the new master (master_link_status:up)`)).catch((e) => console.log(`  ${e.message}`));
    oldRole = String(await once(killedPort, 'ROLE').then((r) => r?.[0]));
  }
  if (mode === 'cluster') {
    // the new master has no replica left (3 x 1): WAIT 1 answers 0 until the old master comes back; restart it
    // as the launcher started it; it rejoins as a replica of the node that took its slots
    await until('writes on the new master', async () => recovered, 30000).catch((e) => console.log(`  ${e.message}`));
    const dir = path.join(RUN_DIR, `node-${killedPort}`);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), '--port', String(killedPort), '--bind', '127.0.0.1', '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '1500', '--appendonly', 'yes'],
      { stdio: 'ignore', detached: true });
    child.unref();
    fs.writeFileSync(path.join(RUN_DIR, `node-${killedPort}.pid`), String(child.pid));
    mark(`old master ${killedPort} restarted`);
    await until(`${killedPort} to be a replica`, async () => String(await once(killedPort, 'ROLE').then((r) => r?.[0])) === 'slave', 30000)
      .then(() => mark(`old master ${killedPort} rejoined as a replica`)).catch((e) => console.log(`  ${e.message}`));
  }
  await until('writes acknowledged on the new master', async () => recoveredAck && (mode === 'cluster' || switched), 30000).catch((e) => console.log(`  ${e.message}`));
  if (KILL_SENTINEL) {
    const conf = path.join(RUN_DIR, `sentinel-${deadSentinel}.conf`);
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), '--sentinel', conf], { stdio: 'ignore', detached: true });
    child.unref();
    fs.writeFileSync(path.join(RUN_DIR, `sentinel-${deadSentinel}.pid`), String(child.pid));
    sentinelRestartedAt = Date.now();
    mark(`sentinel ${deadSentinel} restarted`);
    const want = await findMaster();
    await until(`sentinel ${deadSentinel} to learn the new master`, async () => Number((await once(deadSentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'))?.[1]) === want, 30000)
      .then(() => mark(`sentinel ${deadSentinel} reports master ${want}`)).catch((e) => console.log(`  ${e.message}`));
    // a while more: it must not try to undo the failover
    await sleep(3000);
    sentinelTriedFailover = events.some((e) => e.t >= sentinelRestartedAt && e.what.startsWith(`sentinel ${deadSentinel}: +try-failover`));
    sentinelLearnt = Number((await once(deadSentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'))?.[1]) === want;
  }
  await sleep(1000);
  running = false;
  await writer;
  conn.disconnect();
  const newMaster = await findMaster();
  // read every acknowledged key back from the new master
  const r = client(newMaster);
  await r.connect();
  let lost = 0;
  for (let i = 0; i < acked.length; i += 500) {
    const keys = acked.slice(i, i + 500);
    const vals = await r.mget(...keys.map((k) => `${keyPrefix}${k}`));
    vals.forEach((v, j) => { if (v !== String(keys[j])) lost++; });
  }
  r.disconnect();
  console.log(`[drill ${mode}] writes sent ${sent}, acknowledged ${acked.length}, OK without a replica ack ${unacked}, errors ${errors}; new master ${newMaster}`);
  console.log(`[drill ${mode}] acknowledged writes lost: ${lost}`);
  const ok = lost === 0 && recoveredAck && (mode === 'cluster' || switched) && (FAULT !== 'stop' && !RESTART_OLD || oldRole === 'slave') &&
    (!KILL_SENTINEL || (sentinelLearnt && !sentinelTriedFailover));
  if (JSON_OUT)
    console.log(JSON.stringify({ drill: FAULT === 'stop' ? 'partition-master' : RESTART_OLD ? 'restart-old-master' : KILL_SENTINEL ? 'kill-sentinel' : `kill-master-${mode}`, ok, sent, acked: acked.length, lost, unacked, errors,
      oldMaster: killedPort, newMaster, oldMasterRole: oldRole, switched, ...(KILL_SENTINEL ? { sentinelLearnt, sentinelTriedFailover } : {}), timeline: events.filter((e) => e.t >= tKill).map((e) => ({ ms: e.t - tKill, what: e.what })) }));
  process.exitCode = ok ? 0 : 1;
} finally {
  unwatch?.();
  if (stoppedPid) try { process.kill(stoppedPid, 'SIGCONT'); } catch {}
  // the launchers' stop sends SIGTERM (the nodes save on the way out); wait for every process before removing
  // the folder, SIGKILL after 10 s
  const pids = fs.readdirSync(RUN_DIR).filter((f) => f.endsWith('.pid')).map((f) => Number(fs.readFileSync(path.join(RUN_DIR, f), 'utf8')));
  stop();
  const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  const end = Date.now() + 10000;
  while (pids.some(alive) && Date.now() < end) await sleep(50);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  if (!process.env.KEEP) fs.rmSync(RUN_DIR, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}
