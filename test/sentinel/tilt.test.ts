// TILT mode of our sentinel, as Redis: a timer run more than 2 s after the previous one (here: the sentinel process
// stopped with SIGSTOP for 3 s) publishes +tilt, INFO sentinel shows sentinel_tilt:1, and after the TILT period
// (30 s in Redis; shortened for this test by the test-only INFERDB_SENTINEL_TILT_PERIOD_MS) -tilt.

import { afterAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { infoFields, once, sleep, startSentinel, tempDir, until, type SentinelProc } from './helpers';

const servers: TestServer[] = [];
const sentinels: SentinelProc[] = [];
const dirs: string[] = [];
const clients: Redis[] = [];

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const s of sentinels) {
    s.proc.kill('SIGCONT');
    await s.stop();
  }
  for (const s of servers) await s.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('sentinel TILT mode', () => {
  it('SIGSTOP 3 s then SIGCONT: +tilt, INFO sentinel_tilt:1, no failover decisions, then -tilt after the period', async () => {
    const master = await startServer();
    servers.push(master);
    const dir = tempDir('inferdb-tilt-');
    dirs.push(dir);
    process.env.INFERDB_SENTINEL_TILT_PERIOD_MS = '4000';
    let s: SentinelProc;
    try {
      s = await startSentinel('ours', master.port, dir, { quorum: 1 });
    } finally {
      delete process.env.INFERDB_SENTINEL_TILT_PERIOD_MS;
    }
    sentinels.push(s);
    const sub = new Redis({ port: s.port, host: '127.0.0.1' });
    clients.push(sub);
    const events: [string, string, number][] = [];
    sub.on('message', (ch, msg) => events.push([ch, msg, Date.now()]));
    await sub.subscribe('+tilt', '-tilt');
    const before = infoFields(String(await once(s.port, 'INFO', 'sentinel')));
    expect(before.sentinel_tilt).toBe('0');
    expect(before.sentinel_tilt_since_seconds).toBe('-1');

    s.proc.kill('SIGSTOP');
    await sleep(3000);
    s.proc.kill('SIGCONT');
    await until('+tilt', async () => events.find((e) => e[0] === '+tilt'), (e) => !!e, 10000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${s.output()}`);
    });
    expect(events.find((e) => e[0] === '+tilt')![1]).toBe('#tilt mode entered');
    const during = infoFields(String(await once(s.port, 'INFO', 'sentinel')));
    expect(during.sentinel_tilt).toBe('1');
    expect(Number(during.sentinel_tilt_since_seconds)).toBeGreaterThanOrEqual(0);

    // kill the master while in TILT: no +sdown until TILT is over
    const tiltAt = events.find((e) => e[0] === '+tilt')![2];
    await sub.subscribe('+sdown');
    await master.stop();
    await until('-tilt', async () => events.find((e) => e[0] === '-tilt'), (e) => !!e, 20000);
    const exitAt = events.find((e) => e[0] === '-tilt')![2];
    expect(exitAt - tiltAt).toBeGreaterThanOrEqual(3500);
    expect(events.find((e) => e[0] === '+sdown' && e[2] < exitAt)).toBeUndefined();
    const after = infoFields(String(await once(s.port, 'INFO', 'sentinel')));
    expect(after.sentinel_tilt).toBe('0');
    // out of TILT, the dead master is seen down again
    await until('+sdown after TILT', async () => events.find((e) => e[0] === '+sdown'), (e) => !!e, 10000);
  }, 60000);
});
