// Our sentinel (dist/main.js --sentinel): discovery of replicas and sentinels, the SENTINEL API as Redis Sentinel
// 7.0 replies (RESP2 and RESP3), persisted state, and a failover after kill -9 of the master (SDOWN, ODOWN,
// election, promotion, repointing, conversion of the old master when it returns) followed by an ioredis
// `sentinels:` client.

import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import Redis from 'ioredis';
import { encode, rawExchange, startServer, type TestServer } from '../helpers/server';
import { infoFields, kv, once, runSentinel, startSentinel, tempDir, until, type SentinelProc } from './helpers';
import * as net from 'node:net';
import * as path from 'node:path';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

/** Debian's python3-redis (redis-py), installed by .ci/run */
const hasPyRedis = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import redis.sentinel']);
    return true;
  } catch {
    return false;
  }
})();

const servers: TestServer[] = [];
const sentinels: SentinelProc[] = [];
const dirs: string[] = [];
const clients: Redis[] = [];
const procs: ChildProcess[] = [];

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const s of sentinels) await s.stop();
  for (const s of servers) await s.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const info = async (port: number) => infoFields(String(await once(port, 'INFO')));

async function group(priorities: number[], auth: string[] = []): Promise<{ master: TestServer; replicas: TestServer[] }> {
  const master = await startServer(auth);
  const replicas: TestServer[] = [];
  for (const p of priorities) replicas.push(await startServer([...auth, '--replicaof', `127.0.0.1 ${master.port}`, '--replica-priority', String(p)]));
  servers.push(master, ...replicas);
  const mc = master.client(auth.length ? { password: 'pw' } : {});
  await until(
    'replicas online',
    async () => infoFields(await mc.info()),
    (f) => f.connected_slaves === String(priorities.length) && priorities.every((_, i) => f[`slave${i}`]?.includes('state=online')),
  );
  mc.disconnect();
  return { master, replicas };
}

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

describe('our sentinel', () => {
  it('discovers, answers the SENTINEL API as Redis Sentinel, fails over a killed master and ioredis follows', async () => {
    const dir = tempDir('inferdb-sentinel-');
    dirs.push(dir);
    const { master, replicas } = await group([99, 98]);
    const [r1, r2] = replicas;
    await once(master.port, 'SET', 'before', '1');
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel('ours', master.port, dir));
    const s0 = sentinels[0].port;
    for (const s of sentinels) {
      await until(`discovery on ${s.port}`, async () => kv(await once(s.port, 'SENTINEL', 'MASTER', 'mymaster')), (f) => f['num-slaves'] === '2' && f['num-other-sentinels'] === '2', 15000);
    }

    // ---- replies, byte for byte where clients parse them (§4.4)
    const sock = await rawConnect(s0);
    const got = await rawExchange(sock, encode('SENTINEL', 'get-master-addr-by-name', 'mymaster'), (t) => t.split('\r\n').length >= 6);
    expect(got).toBe(`*2\r\n$9\r\n127.0.0.1\r\n$${String(master.port).length}\r\n${master.port}\r\n`);
    expect(await rawExchange(sock, encode('SENTINEL', 'get-master-addr-by-name', 'nope'), (t) => t.endsWith('\r\n'))).toBe('*-1\r\n');
    const hello3 = await rawExchange(sock, encode('HELLO', '3'), (t) => t.includes('modules'));
    expect(hello3).toContain('sentinel');
    const m3 = await rawExchange(sock, encode('SENTINEL', 'MASTER', 'mymaster'), (t) => t.includes('parallel-syncs\r\n$1\r\n1\r\n'));
    expect(m3.startsWith('%20\r\n')).toBe(true);
    expect(m3).not.toMatch(/\r\n:/); // every value a bulk string
    sock.destroy();
    const fields = (await once(s0, 'SENTINEL', 'MASTER', 'mymaster')) as string[];
    expect(fields.filter((_, i) => i % 2 === 0)).toEqual(
      'name ip port runid flags link-pending-commands link-refcount last-ping-sent last-ok-ping-reply last-ping-reply down-after-milliseconds info-refresh role-reported role-reported-time config-epoch num-slaves num-other-sentinels quorum failover-timeout parallel-syncs'.split(' '),
    );
    const mf = kv(fields);
    expect(mf.flags).toBe('master');
    expect(mf.runid).toBe((await info(master.port)).run_id);
    const reps = ((await once(s0, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(kv);
    expect(Object.keys(reps[0])).toEqual(
      'name ip port runid flags link-pending-commands link-refcount last-ping-sent last-ok-ping-reply last-ping-reply down-after-milliseconds info-refresh role-reported role-reported-time master-link-down-time master-link-status master-host master-port slave-priority slave-repl-offset replica-announced'.split(' '),
    );
    expect(reps.map((r) => `${r.port}:${r['slave-priority']}:${r.flags}:${r['master-link-status']}`).sort()).toEqual([`${r1.port}:99:slave:ok`, `${r2.port}:98:slave:ok`].sort());
    expect(((await once(s0, 'SENTINEL', 'SLAVES', 'mymaster')) as unknown[]).length).toBe(2);
    const sens = ((await once(s0, 'SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).map(kv);
    const ids = await Promise.all(sentinels.slice(1).map((s) => once(s.port, 'SENTINEL', 'MYID')));
    expect(sens.map((x) => x.runid).sort()).toEqual(ids.map(String).sort());
    expect(Object.keys(sens[0]).slice(-4)).toEqual(['down-after-milliseconds', 'last-hello-message', 'voted-leader', 'voted-leader-epoch']);
    expect(sens.every((x) => x.flags === 'sentinel' && x.name === x.runid)).toBe(true);
    expect(String(await once(s0, 'SENTINEL', 'MYID'))).toMatch(/^[0-9a-f]{40}$/);
    expect(await once(s0, 'SENTINEL', 'CKQUORUM', 'mymaster')).toBe('OK 3 usable Sentinels. Quorum and failover authorization can be reached');
    expect(await once(s0, 'ROLE')).toEqual(['sentinel', ['mymaster']]);
    const sinfo = String(await once(s0, 'INFO'));
    expect(sinfo).toContain(`master0:name=mymaster,status=ok,address=127.0.0.1:${master.port},slaves=2,sentinels=3\r\n`);
    expect(sinfo).toContain('redis_mode:sentinel');
    await expect(once(s0, 'SENTINEL', 'MASTER', 'nope')).rejects.toThrow('ERR No such master with that name');
    await expect(once(s0, 'PUBLISH', 'x', 'y')).rejects.toThrow('ERR Only HELLO messages are accepted by Sentinel instances.');
    await expect(once(s0, 'GET', 'x')).rejects.toThrow(/unknown command/);
    // the state is in the config file
    const conf = fs.readFileSync(sentinels[0].conf, 'utf8');
    expect(conf).toMatch(/^sentinel myid [0-9a-f]{40}$/m);
    expect(conf).toContain(`sentinel known-replica mymaster 127.0.0.1 ${r2.port}`);
    expect(conf).toContain(`sentinel known-sentinel mymaster 127.0.0.1 ${sentinels[1].port} ${ids[0]}`);

    // ---- a client through the sentinels, and a subscriber to the sentinel's events
    const app = new Redis({ sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })), name: 'mymaster', maxRetriesPerRequest: 1 });
    app.on('error', () => {});
    clients.push(app);
    expect(await app.set('k', 'v0')).toBe('OK');
    const events = new Redis({ port: sentinels[2].port, host: '127.0.0.1' });
    clients.push(events);
    const seen: string[] = [];
    events.on('message', (ch: string, msg: string) => seen.push(`${ch} ${msg}`));
    await events.subscribe('+switch-master', '+odown', '+sdown');

    // redis-py's Sentinel client writing through master_for() meanwhile
    let pyOut = '';
    let pyNewAt = 0;
    const py = hasPyRedis
      ? spawn('/usr/bin/python3', [path.join(__dirname, 'py-sentinel-client.py'), sentinels.map((s) => s.port).join(',')], { stdio: ['pipe', 'pipe', 'pipe'] })
      : null;
    if (py) {
      procs.push(py);
      py.stdout!.on('data', (d) => {
        pyOut += d;
        if (pyNewAt === 0 && pyOut.includes(`ok ${r2.port} `)) pyNewAt = Date.now();
      });
      py.stderr!.on('data', (d) => (pyOut += d));
      await until('redis-py to write to the master', async () => pyOut, (o) => o.includes(`ok ${master.port} `), 10000, 50);
    } else {
      process.stdout.write('python3-redis is not installed: the redis-py part is skipped\n');
    }

    // ---- kill -9 the master
    const t0 = Date.now();
    master.proc.kill('SIGKILL');
    for (const s of sentinels) {
      await until(`sentinel ${s.port} to advertise the new master`, () => once(s.port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster'), (v) => Array.isArray(v) && v[1] === String(r2.port), 15000, 20);
    }
    const advertised = Date.now() - t0;
    process.stdout.write(`our sentinel: kill -9 → new master advertised by all 3 sentinels in ${advertised} ms\n`);
    expect(advertised).toBeLessThan(8000);
    expect((await info(r2.port)).role).toBe('master');
    await until('r1 to follow r2', () => info(r1.port), (f) => f.master_port === String(r2.port) && f.master_link_status === 'up');
    await until('+switch-master on the sentinel', async () => seen, (s) => s.some((x) => x === `+switch-master mymaster 127.0.0.1 ${master.port} 127.0.0.1 ${r2.port}`));
    expect(seen.some((x) => x.startsWith(`+sdown master mymaster 127.0.0.1 ${master.port}`))).toBe(true);
    // the ones that saw SDOWN before hearing of the switch agreed on ODOWN (at least the leader)
    expect(sentinels.some((x) => /\+odown master mymaster 127\.0\.0\.1 \d+ #quorum [23]\/2/.test(x.output()))).toBe(true);
    expect(sentinels.filter((x) => x.output().includes('+elected-leader master mymaster')).length).toBe(1);

    // ioredis re-resolves and writes land on the new master (and replicate to r1)
    const resumed = await until('ioredis writes to resume', () => app.set('k', 'v1'), (v) => v === 'OK', 15000, 100);
    const ioAt = Date.now();
    expect(resumed).toBe('OK');
    expect(await once(r2.port, 'GET', 'k')).toBe('v1');
    await until('the write to reach r1', () => once(r1.port, 'GET', 'k'), (v) => v === 'v1');
    expect(await once(r1.port, 'GET', 'before')).toBe('1');
    process.stdout.write(`our sentinel: ioredis writing again ${ioAt - t0} ms after the kill\n`);
    if (py) {
      // redis-py rediscovers the master through SENTINEL MASTERS and writes to r2
      await until('redis-py to write to the new master', async () => pyOut, (o) => o.includes(`ok ${r2.port} `), 15000, 50);
      process.stdout.write(`our sentinel: redis-py writing again ${pyNewAt - t0} ms after the kill\n`);
      const last = Number(/ok \d+ (\d+)\n(?![\s\S]*ok )/.exec(pyOut)![1]);
      expect(Number(await once(r2.port, 'GET', 'py'))).toBeGreaterThanOrEqual(last);
      py.kill('SIGKILL');
    }

    // the leader switches its own record once the other replica is reconfigured (+failover-end)
    const after = await until('the switch on s0', async () => kv(await once(s0, 'SENTINEL', 'MASTER', 'mymaster')), (f) => f.port === String(r2.port) && f.flags === 'master');
    expect(Number(after['config-epoch'])).toBeGreaterThanOrEqual(1);
    await until('the new config on disk', async () => fs.readFileSync(sentinels[0].conf, 'utf8'), (t) => t.includes(`sentinel monitor mymaster 127.0.0.1 ${r2.port} 2`));

    // ---- the old master comes back: listed as a replica, converted after 8 s of role:master
    const back = await startServer(['--port', String(master.port)], { dir: master.dir });
    servers.push(back);
    await until('the old master to be converted', () => info(back.port), (f) => f.role === 'slave' && f.master_port === String(r2.port) && f.master_link_status === 'up', 25000, 200);
    expect(await once(back.port, 'GET', 'k')).toBe('v1');
    const listed = ((await once(s0, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(kv).map((r) => r.port);
    expect(listed.sort()).toEqual([String(master.port), String(r1.port)].sort());
  }, 60000);

  it('SENTINEL FAILOVER, SET, MONITOR, REMOVE, RESET and IS-MASTER-DOWN-BY-ADDR on a single sentinel', async () => {
    const dir = tempDir('inferdb-sentinel-');
    dirs.push(dir);
    const { master, replicas } = await group([100]);
    const s = await startSentinel('ours', master.port, dir, { quorum: 1 });
    sentinels.push(s);
    await until('the replica', async () => ((await once(s.port, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(kv), (r) => r.length === 1 && r[0]['master-link-status'] === 'ok');
    // CKQUORUM with one sentinel and quorum 1
    expect(await once(s.port, 'SENTINEL', 'CKQUORUM', 'mymaster')).toBe('OK 1 usable Sentinels. Quorum and failover authorization can be reached');
    // an up master is not down; a vote is given once per epoch
    expect(await once(s.port, 'SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', String(master.port), '5', 'a'.repeat(40))).toEqual([0, 'a'.repeat(40), 5]);
    expect(await once(s.port, 'SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', String(master.port), '5', 'b'.repeat(40))).toEqual([0, 'a'.repeat(40), 5]);
    expect(await once(s.port, 'SENTINEL', 'IS-MASTER-DOWN-BY-ADDR', '127.0.0.1', '1', '5', '*')).toEqual([0, '*', 0]);
    expect(fs.readFileSync(s.conf, 'utf8')).toContain('sentinel current-epoch 5');

    expect(await once(s.port, 'SENTINEL', 'SET', 'mymaster', 'down-after-milliseconds', '1500', 'quorum', '1')).toBe('OK');
    expect(kv(await once(s.port, 'SENTINEL', 'MASTER', 'mymaster'))['down-after-milliseconds']).toBe('1500');
    await expect(once(s.port, 'SENTINEL', 'SET', 'mymaster', 'quorum', 'x')).rejects.toThrow("ERR Invalid argument 'x' for SENTINEL SET 'quorum'");
    expect(fs.readFileSync(s.conf, 'utf8')).toContain('sentinel down-after-milliseconds mymaster 1500');

    // a forced failover needs no agreement: the replica is promoted
    expect(await once(s.port, 'SENTINEL', 'FAILOVER', 'mymaster')).toBe('OK');
    await until('the forced failover', () => once(s.port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster'), (v) => Array.isArray(v) && v[1] === String(replicas[0].port), 10000);
    expect((await info(replicas[0].port)).role).toBe('master');
    // the old master (alive) is converted into a replica of the new one
    await until('the old master to follow', () => info(master.port), (f) => f.role === 'slave' && f.master_port === String(replicas[0].port), 15000, 200);

    expect(await once(s.port, 'SENTINEL', 'MONITOR', 'other', '127.0.0.1', String(master.port), '1')).toBe('OK');
    await expect(once(s.port, 'SENTINEL', 'MONITOR', 'other', '127.0.0.1', String(master.port), '1')).rejects.toThrow('ERR Duplicated master name');
    expect(((await once(s.port, 'SENTINEL', 'MASTERS')) as unknown[]).map(kv).map((x) => x.name).sort()).toEqual(['mymaster', 'other']);
    expect(fs.readFileSync(s.conf, 'utf8')).toContain(`sentinel monitor other 127.0.0.1 ${master.port} 1`);
    expect(await once(s.port, 'SENTINEL', 'RESET', 'myma*')).toBe(1);
    expect(kv(await once(s.port, 'SENTINEL', 'MASTER', 'mymaster'))['num-slaves']).toBe('0');
    expect(await once(s.port, 'SENTINEL', 'REMOVE', 'other')).toBe('OK');
    expect(await once(s.port, 'SENTINEL', 'get-master-addr-by-name', 'other')).toBe(null);
    expect(fs.readFileSync(s.conf, 'utf8')).not.toContain('sentinel monitor other');

    // restarted from its config file, the sentinel has the same id, epoch and master
    const id = await once(s.port, 'SENTINEL', 'MYID');
    await s.stop();
    const again = await runSentinel('ours', s.port, s.conf);
    sentinels.push(again);
    expect(await once(again.port, 'SENTINEL', 'MYID')).toBe(id);
    expect(await once(again.port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster')).toEqual(['127.0.0.1', String(replicas[0].port)]);
    const mm = kv(await once(again.port, 'SENTINEL', 'MASTER', 'mymaster'));
    expect(Number(mm['config-epoch'])).toBeGreaterThanOrEqual(6);
    expect(mm['down-after-milliseconds']).toBe('1500');
    await until('the replica again', async () => kv(await once(again.port, 'SENTINEL', 'MASTER', 'mymaster')), (f) => f['num-slaves'] === '1');
  }, 40000);

  it('monitors and fails over nodes that need a password (sentinel auth-pass)', async () => {
    const dir = tempDir('inferdb-sentinel-');
    dirs.push(dir);
    const { master, replicas } = await group([100], ['--requirepass', 'pw', '--masterauth', 'pw']);
    const s = await startSentinel('ours', master.port, dir, { quorum: 1, extra: ['sentinel auth-pass mymaster pw'] });
    sentinels.push(s);
    const r = await until('the replica, through AUTH', async () => ((await once(s.port, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(kv), (x) => x.length === 1 && x[0]['master-link-status'] === 'ok');
    expect(r[0].port).toBe(String(replicas[0].port));
    expect(kv(await once(s.port, 'SENTINEL', 'MASTER', 'mymaster')).flags).toBe('master');
    expect(fs.readFileSync(s.conf, 'utf8')).toContain('sentinel auth-pass mymaster pw');
    expect(await once(s.port, 'SENTINEL', 'FAILOVER', 'mymaster')).toBe('OK');
    const rc = replicas[0].client({ password: 'pw' });
    await until('the replica promoted', async () => infoFields(await rc.info('replication')), (f) => f.role === 'master', 10000);
    await until('advertised', () => once(s.port, 'SENTINEL', 'get-master-addr-by-name', 'mymaster'), (v) => Array.isArray(v) && v[1] === String(replicas[0].port), 10000);
  }, 30000);
});
