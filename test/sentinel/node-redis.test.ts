// node-redis's sentinel client (`createSentinel`, redis 5.x) through our sentinels: it resolves the master,
// writes, and after a kill -9 of the master follows the promotion and writes to the new one.

import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { createSentinel } from 'redis';
import { startServer, type TestServer } from '../helpers/server';
import { once, startSentinel, tempDir, until, type SentinelProc } from './helpers';

const servers: TestServer[] = [];
const sentinels: SentinelProc[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const s of sentinels) await s.stop();
  for (const s of servers) await s.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('node-redis createSentinel', () => {
  it('resolves the master through our sentinels and follows a failover', async () => {
    const master = await startServer();
    const replica = await startServer(['--replicaof', `127.0.0.1 ${master.port}`]);
    servers.push(master, replica);
    await until('the replica online', () => once(master.port, 'INFO', 'replication'), (t) => /slave0:.*state=online/.test(String(t)));
    const dir = tempDir('inferdb-node-redis-sentinel-');
    dirs.push(dir);
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel('ours', master.port, dir));
    for (const s of sentinels) {
      await until(`sentinel ${s.port} to know the replica and the other sentinels`, async () => [await once(s.port, 'SENTINEL', 'REPLICAS', 'mymaster'), await once(s.port, 'SENTINEL', 'SENTINELS', 'mymaster')], ([r, o]) => (r as unknown[]).length === 1 && (o as unknown[]).length === 2, 15000, 50);
    }

    const client = createSentinel({ name: 'mymaster', sentinelRootNodes: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })) });
    client.on('error', () => undefined); // connection errors while the master is down are expected
    await client.connect();
    try {
      expect(await client.set('k', 'v0')).toBe('OK');
      expect(await once(master.port, 'GET', 'k')).toBe('v0');

      const t0 = Date.now();
      master.proc.kill('SIGKILL');
      await until(
        'node-redis to write again',
        () => client.set('k', 'v1').then((r) => r, () => 'failed'),
        (r) => r === 'OK',
        20000,
        100,
      );
      process.stdout.write(`node-redis writing again ${Date.now() - t0} ms after the kill\n`);
      // the write went to the promoted replica
      expect(await once(replica.port, 'GET', 'k')).toBe('v1');
      expect(String(await once(replica.port, 'INFO', 'replication'))).toContain('role:master');
    } finally {
      await client.close().catch(() => undefined);
    }
  }, 60000);
});
