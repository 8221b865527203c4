// appendfsync always, with the server in this process and a slow disk: every fdatasync takes 150 ms more (the
// real call, delayed). A reply must not reach its client before the sync covering its write has finished, and the
// writes of many clients arriving together must share a few syncs (group commit), with the event loop free
// meanwhile (other replies wait too while unsynced writes exist, as in Redis, so that is shown with timers). Inline mode (the default while syncs are cheap) must sync before it replies.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';

const DELAY_MS = 150;
const events: { what: string; at: number }[] = [];
const mark = (what: string) => events.push({ what, at: performance.now() });

// the slow disk: the real fdatasync, its completion reported DELAY_MS late. The CommonJS module object is the
// one the server's code reads fs.* from at call time.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cjsFs = require('node:fs') as typeof fs;
const realAsync = cjsFs.fdatasync;
const realSync = cjsFs.fdatasyncSync;
(cjsFs as { fdatasync: unknown }).fdatasync = (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
  mark('sync-start');
  realAsync(fd, (err) =>
    setTimeout(() => {
      mark('sync-done');
      cb(err);
    }, DELAY_MS),
  );
};
(cjsFs as { fdatasyncSync: unknown }).fdatasyncSync = (fd: number) => {
  mark('sync-inline');
  realSync(fd);
};

describe('appendfsync always: replies wait for their fdatasync', () => {
  let server: { listen(): Promise<void>; close(): Promise<void>; boundPort: number };
  const cwd = process.cwd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-fsync-'));
  const clients: Redis[] = [];
  const client = async () => {
    const r = new Redis({ port: server.boundPort, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    clients.push(r);
    await r.ping();
    return r;
  };

  beforeAll(async () => {
    process.chdir(dir); // the server works in its dir, as the entry point does
    const { Config, parseCommandLine } = require(path.resolve(__dirname, '../../dist/node/config'));
    const { Server } = require(path.resolve(__dirname, '../../dist/node/server'));
    const config = new Config();
    parseCommandLine(['--port', '0', '--loglevel', 'warning', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], config);
    server = new Server(config);
    await server.listen();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await server.close();
    process.chdir(cwd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('background mode: the reply comes after the sync ends; 20 clients writing at once share a few syncs', async () => {
    const r = await client();
    expect(await r.call('DEBUG', 'AOF-SYNC-MODE', 'background')).toBe('OK');
    events.length = 0;
    const t0 = performance.now();
    expect(await r.set('a', '1')).toBe('OK');
    mark('reply');
    const lat = performance.now() - t0;
    expect(lat).toBeGreaterThanOrEqual(DELAY_MS - 5);
    const done = events.findIndex((e) => e.what === 'sync-done');
    expect(done).toBeGreaterThanOrEqual(0);
    expect(done).toBeLessThan(events.findIndex((e) => e.what === 'reply'));

    // group commit: 20 clients, one write each, sent together
    const many = await Promise.all(Array.from({ length: 20 }, () => client()));
    events.length = 0;
    // the server runs on this process's event loop: timer ticks keep coming while the syncs run
    let last = performance.now();
    let maxGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const replies: number[] = [];
    const writes = many.map((c, i) =>
      c.set(`k${i}`, String(i)).then((res) => {
        expect(res).toBe('OK');
        replies.push(performance.now());
        mark('reply');
      }),
    );
    await Promise.all(writes);
    clearInterval(ticker);
    const syncs = events.filter((e) => e.what === 'sync-start').length;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(syncs).toBeLessThanOrEqual(3);
    // every reply came after a sync had ended
    const firstDone = events.find((e) => e.what === 'sync-done')!.at;
    for (const at of replies) expect(at).toBeGreaterThanOrEqual(firstDone);
    expect(maxGap).toBeLessThan(DELAY_MS / 2);
    console.log(`background: 20 writes, ${syncs} fdatasync(s), longest event-loop gap meanwhile ${maxGap.toFixed(1)} ms`);
  });

  it('inline mode: the sync runs before the reply, once for a turn of several writes', async () => {
    const r = await client();
    expect(await r.call('DEBUG', 'AOF-SYNC-MODE', 'inline')).toBe('OK');
    events.length = 0;
    const p = r.pipeline();
    for (let i = 0; i < 50; i++) p.set(`p${i}`, 'v');
    await p.exec();
    mark('reply');
    const inline = events.filter((e) => e.what === 'sync-inline').length;
    expect(inline).toBeGreaterThanOrEqual(1);
    expect(inline).toBeLessThan(10);
    expect(events[0].what).toBe('sync-inline');
    // the records are in the file
    const incr = fs.readdirSync(path.join(dir, 'appendonlydir')).find((f) => f.endsWith('.incr.aof'))!;
    expect(fs.readFileSync(path.join(dir, 'appendonlydir', incr), 'latin1')).toContain('p49');
  });
});
