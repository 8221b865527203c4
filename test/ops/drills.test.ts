// The failover drills for real: ops/drills/kill-master.mjs kills -9 the master of the sentinel topology
// (ops/sentinel/local.sh) and of the cluster topology (ops/cluster/local.sh) under a SET + WAIT 1 load; the drill
// must print its timeline in order, see the new master take writes, and lose no acknowledged write.

import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';

const DRILL = path.resolve(__dirname, '../../ops/drills/kill-master.mjs');

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
/** a base port whose offsets are all free */
async function freeBase(offsets: number[]): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 14000);
    let ok = true;
    for (const o of offsets) if (!(ok = await canBind(base + o))) break;
    if (ok) return base;
  }
}
function drill(mode: string, base: number, script = DRILL, extra: string[] = []): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const args = mode ? [script, mode, '--base-port', String(base), ...extra] : [script, '--base-port', String(base), ...extra];
    execFile(process.execPath, args, { timeout: 80000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
  });
}
/** the timeline lines: [ms after the kill, text] */
const timeline = (out: string) => [...out.matchAll(/^\s+\+\s*(\d+) ms {2}(.*)$/gm)].map((m) => [Number(m[1]), m[2]] as const);
const at = (tl: ReturnType<typeof timeline>, re: RegExp) => {
  const e = tl.find(([, w]) => re.test(w));
  if (!e) throw new Error(`${re} not on the timeline`);
  return e[0];
};

describe('kill -9 drills', () => {
  it('sentinel topology: +sdown, +odown, +switch-master, writes again on the promoted replica, 0 acknowledged writes lost', async () => {
    const base = await freeBase([0, 1, 2, 100, 101, 102]);
    const r = await drill('sentinel', base);
    expect(r.code, r.out).toBe(0);
    const tl = timeline(r.out);
    const sdown = at(tl, /\+sdown master mymaster/);
    const odown = at(tl, /\+odown master mymaster/);
    const sw = at(tl, /\+switch-master mymaster 127\.0\.0\.1 \d+ 127\.0\.0\.1 \d+/);
    const again = at(tl, /writer: first acknowledged write/);
    // +sdown comes down-after-milliseconds (1000) after the last PING reply, which may precede the kill by the ping
    // period (500 ms) or more on a loaded machine: all that is certain is that it follows the kill
    expect(sdown).toBeGreaterThan(0);
    expect(odown).toBeGreaterThanOrEqual(sdown);
    expect(sw).toBeGreaterThanOrEqual(odown);
    expect(again).toBeGreaterThan(odown);
    expect(again).toBeLessThan(5000);
    expect(r.out).toMatch(/acknowledged writes lost: 0$/m);
    expect(Number(/acknowledged (\d+),/.exec(r.out)![1])).toBeGreaterThan(100);
  }, 70000);

  it('cluster topology: FAIL, the replica takes the slots, writes again, the old master rejoins as a replica, 0 acknowledged writes lost', async () => {
    const base = await freeBase([0, 1, 2, 3, 4, 5, 10000, 10001, 10002, 10003, 10004, 10005]);
    const r = await drill('cluster', base);
    expect(r.code, r.out).toBe(0);
    const tl = timeline(r.out);
    const fail = at(tl, /sees \d+ FAIL$/);
    const promoted = at(tl, /master of slot \d+/);
    const again = at(tl, /writer: writing again on/);
    const rejoined = at(tl, /rejoined as a replica/);
    const acked = at(tl, /writer: first acknowledged write/);
    expect(fail).toBeGreaterThan(0); // node timeout 1500 after the last pong, which may precede the kill on a loaded machine
    expect(promoted).toBeGreaterThanOrEqual(fail);
    expect(again).toBeGreaterThanOrEqual(promoted - 100); // the writer may learn of the promotion before the watcher's poll
    expect(acked).toBeGreaterThanOrEqual(rejoined - 100);
    expect(r.out).toMatch(/acknowledged writes lost: 0$/m);
  }, 70000);
});

interface DrillSummary {
  ok: boolean;
  acked: number;
  lost: number;
  oldMaster: number;
  newMaster: number;
  oldMasterRole: string | null;
  timeline: { ms: number; what: string }[];
}
const summary = (out: string): DrillSummary => JSON.parse(out.trim().split('\n').pop()!);
const atJ = (s: DrillSummary, re: RegExp) => {
  const e = s.timeline.find((x) => re.test(x.what));
  if (!e) throw new Error(`${re} not on the timeline: ${JSON.stringify(s.timeline)}`);
  return e.ms;
};

// the old master back as a replica: +convert-to-slave comes with the sentinels' next 10 s INFO of it, as Redis
describe('sentinel drills: partition, restart of the old master, loss of a sentinel', () => {
  it('partition (SIGSTOP > down-after, then SIGCONT): failover, the old master becomes a replica, 0 acknowledged writes lost', async () => {
    const base = await freeBase([0, 1, 2, 100, 101, 102]);
    const r = await drill('', base, path.resolve(__dirname, '../../ops/drills/partition-master.mjs'), ['--json']);
    expect(r.code, r.out).toBe(0);
    const s = summary(r.out);
    expect(s.lost).toBe(0);
    expect(s.acked).toBeGreaterThan(100);
    expect(s.newMaster).not.toBe(s.oldMaster);
    expect(s.oldMasterRole).toBe('slave');
    const sw = atJ(s, /\+switch-master mymaster/);
    const cont = atJ(s, /SIGCONT old master/);
    expect(cont).toBeGreaterThanOrEqual(sw);
    expect(atJ(s, /\+convert-to-slave/)).toBeGreaterThanOrEqual(cont);
    expect(atJ(s, /is a replica again/)).toBeGreaterThanOrEqual(cont);
  }, 90000);

  it('restart of the killed master (AOF on): failover, it rejoins as a replica in sync, 0 acknowledged writes lost', async () => {
    const base = await freeBase([0, 1, 2, 100, 101, 102]);
    const r = await drill('', base, path.resolve(__dirname, '../../ops/drills/restart-old-master.mjs'), ['--json']);
    expect(r.code, r.out).toBe(0);
    const s = summary(r.out);
    expect(s.lost).toBe(0);
    expect(s.acked).toBeGreaterThan(100);
    expect(s.oldMasterRole).toBe('slave');
    const restarted = atJ(s, /old master \d+ restarted/);
    expect(restarted).toBeGreaterThanOrEqual(atJ(s, /\+switch-master mymaster/));
    expect(atJ(s, /\+convert-to-slave/)).toBeGreaterThanOrEqual(restarted);
    expect(atJ(s, /in sync with the new master/)).toBeGreaterThanOrEqual(restarted);
  }, 90000);

  it('kill -9 one of three sentinels, then the master: the two left fail over, the restarted sentinel follows the new master', async () => {
    const base = await freeBase([0, 1, 2, 100, 101, 102]);
    const r = await drill('', base, path.resolve(__dirname, '../../ops/drills/kill-sentinel.mjs'), ['--json']);
    expect(r.code, r.out).toBe(0);
    const s = summary(r.out) as DrillSummary & { sentinelLearnt: boolean; sentinelTriedFailover: boolean };
    expect(s.lost).toBe(0);
    expect(s.newMaster).not.toBe(s.oldMaster);
    const dead = base + 102;
    // the failover came from the two sentinels left
    const leader = s.timeline.find((e) => /\+elected-leader master mymaster/.test(e.what));
    expect(leader, JSON.stringify(s.timeline)).toBeDefined();
    expect(leader!.what).not.toContain(`sentinel ${dead}:`);
    const restarted = atJ(s, new RegExp(`sentinel ${dead} restarted`));
    expect(restarted).toBeGreaterThanOrEqual(atJ(s, /\+switch-master mymaster/));
    expect(atJ(s, new RegExp(`sentinel ${dead} reports master ${s.newMaster}`))).toBeGreaterThanOrEqual(restarted);
    expect(s.sentinelLearnt).toBe(true);
    expect(s.sentinelTriedFailover).toBe(false);
  }, 90000);
});
