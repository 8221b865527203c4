// Debian's real redis-sentinel (7.0.15) drives our data nodes: it discovers the replicas (INFO slaveN lines)
// and the other sentinels (hello messages on __sentinel__:hello through our pub/sub), fails over a killed master
// with its MULTI / SLAVEOF NO ONE / CONFIG REWRITE / CLIENT KILL TYPE normal / pubsub / EXEC pipeline, repoints
// the other replica, and converts the old master into a replica when it comes back.

import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { encode, rawExchange, startServer, type TestServer } from '../helpers/server';
import { infoFields, kv, once, startSentinel, tempDir, until, type SentinelProc } from './helpers';

const hasRealSentinel = (() => {
  try {
    execFileSync('redis-sentinel', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

const servers: TestServer[] = [];
const sentinels: SentinelProc[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const s of sentinels) await s.stop();
  for (const s of servers) await s.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const info = async (port: number) => infoFields(String(await once(port, 'INFO')));

describe.skipIf(!hasRealSentinel)('real redis-sentinel drives our nodes', () => {
  it('queues every command of the reconfiguration transaction, as a real sentinel sends it', async () => {
    const m = await startServer();
    const r = await startServer(['--replicaof', `127.0.0.1 ${m.port}`]);
    servers.push(m, r);
    const normal = r.client();
    await normal.ping();
    const sub = r.client();
    await sub.subscribe('news');
    const sock = await r.raw();
    const pipeline = Buffer.concat([
      encode('CLIENT', 'SETNAME', 'sentinel-abcdef12-cmd'),
      encode('MULTI'),
      encode('SLAVEOF', 'NO', 'ONE'),
      encode('CONFIG', 'REWRITE'),
      encode('CLIENT', 'KILL', 'TYPE', 'normal'),
      encode('CLIENT', 'KILL', 'TYPE', 'pubsub'),
      encode('EXEC'),
    ]);
    const got = await rawExchange(sock, pipeline, (t) => /\*4\r\n.*\r\n.*\r\n:\d+\r\n:\d+\r\n$/s.test(t));
    // CONFIG REWRITE fails without a config file (as Redis); CLIENT KILL counts the clients, never this one
    expect(got).toMatch(/^\+OK\r\n\+OK\r\n\+QUEUED\r\n\+QUEUED\r\n\+QUEUED\r\n\+QUEUED\r\n\*4\r\n\+OK\r\n-ERR [^\r]*config file[^\r]*\r\n:1\r\n:1\r\n$/);
    expect((await info(r.port)).role).toBe('master');
    expect(sock.destroyed).toBe(false);
  });

  it('fails over a killed master, repoints the other replica and converts the old master when it returns', async () => {
    const dir = tempDir('inferdb-real-sentinel-');
    dirs.push(dir);
    const master = await startServer();
    const r1 = await startServer(['--replicaof', `127.0.0.1 ${master.port}`, '--replica-priority', '99']);
    const r2 = await startServer(['--replicaof', `127.0.0.1 ${master.port}`, '--replica-priority', '98']);
    servers.push(master, r1, r2);
    await until('both replicas online', () => info(master.port), (f) => f.connected_slaves === '2' && !!f.slave1?.includes('state=online'));
    expect((await info(master.port)).run_id).toMatch(/^[0-9a-f]{40}$/);
    await once(master.port, 'SET', 'before', '1');

    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel('real', master.port, dir));
    const s0 = sentinels[0].port;
    // replicas found through INFO, the other sentinels through hello messages published on our nodes
    const m = await until('discovery', async () => kv(await once(s0, 'SENTINEL', 'MASTER', 'mymaster')), (f) => f['num-slaves'] === '2' && f['num-other-sentinels'] === '2', 15000);
    expect(m.flags).toBe('master');
    const replicas = ((await once(s0, 'SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(kv);
    expect(replicas.map((x) => Number(x.port)).sort()).toEqual([r1.port, r2.port].sort());
    expect(replicas.find((x) => Number(x.port) === r2.port)!['slave-priority']).toBe('98');
    // sentinels named their connections as Redis's sentinels do
    expect(String(await once(master.port, 'CLIENT', 'LIST'))).toMatch(/name=sentinel-[0-9a-f]{8}-cmd/);
    expect(String(await once(master.port, 'CLIENT', 'LIST'))).toMatch(/name=sentinel-[0-9a-f]{8}-pubsub .*sub=1/);

    const t0 = Date.now();
    master.proc.kill('SIGKILL');
    // priority 98 beats 99: r2 is promoted, on every sentinel
    for (const s of sentinels) {
      await until(
        `sentinel ${s.port} to advertise the new master`,
        () => once(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster'),
        (v) => Array.isArray(v) && v[1] === String(r2.port),
        15000,
      );
    }
    const advertised = Date.now() - t0;
    process.stdout.write(`real redis-sentinel: kill -9 → new master advertised by all 3 sentinels in ${advertised} ms\n`);
    expect((await info(r2.port)).role).toBe('master');
    await until('r1 to follow r2', () => info(r1.port), (f) => f.master_port === String(r2.port) && f.master_link_status === 'up', 10000);
    await once(r2.port, 'SET', 'after', '2');
    await until('the write to reach r1', () => once(r1.port, 'GET', 'after'), (v) => v === '2');
    expect(await once(r1.port, 'GET', 'before')).toBe('1');

    // the old master comes back as a master on its old port; the sentinels convert it (after ~8 s of role:master)
    const back = await startServer(['--port', String(master.port)], { dir: master.dir });
    servers.push(back);
    await until('the old master to be converted', () => info(back.port), (f) => f.role === 'slave' && f.master_port === String(r2.port) && f.master_link_status === 'up', 25000, 200);
    expect(await once(back.port, 'GET', 'after')).toBe('2');
  }, 60000);
});
