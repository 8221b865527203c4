// Connection limits: idle `timeout`, `maxclients`, and the pub/sub output-buffer hard limit.

import { afterEach, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { encode, rawExchange, startServer, type TestServer } from '../helpers/server';

const closed = (s: net.Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('client limits', () => {
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  it('closes a client idle for longer than `timeout` seconds, but not an active one', async () => {
    srv = await startServer(['--timeout', '1', '--hz', '50']);
    const idle = await srv.raw();
    const active = await srv.raw();
    const t0 = Date.now();
    const keepBusy = setInterval(() => active.write(encode('PING')), 200);
    await closed(idle);
    clearInterval(keepBusy);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(active.destroyed).toBe(false);
    expect(await rawExchange(active, encode('PING'), (t) => t.endsWith('+PONG\r\n'))).toContain('+PONG\r\n');
  });

  it('refuses connections beyond maxclients with the Redis error', async () => {
    srv = await startServer(['--maxclients', '2']);
    const a = await srv.raw();
    const b = await srv.raw();
    const c = await srv.raw();
    const reply = await rawExchange(c, '', (t) => t.includes('\r\n'));
    expect(reply).toBe('-ERR max number of clients reached\r\n');
    await closed(c);
    expect(await rawExchange(a, encode('PING'), (t) => t.endsWith('\r\n'))).toBe('+PONG\r\n');
    expect(await rawExchange(b, encode('PING'), (t) => t.endsWith('\r\n'))).toBe('+PONG\r\n');
  });

  it('drops a subscriber that does not read once its output passes the pubsub hard limit', async () => {
    srv = await startServer(['--client-output-buffer-limit', 'pubsub 1mb 512kb 60']);
    const sub = await srv.raw();
    await rawExchange(sub, encode('SUBSCRIBE', 'ch'), (t) => t.endsWith(':1\r\n'));
    sub.pause(); // never read again: replies pile up in the server
    const pub = srv.client();
    const payload = Buffer.alloc(64 * 1024, 120);
    let receivers = 1;
    for (let i = 0; i < 400 && receivers > 0; i++) receivers = await pub.publish('ch', payload);
    expect(receivers).toBe(0); // the subscriber was disconnected by the server
    expect(srv.output()).toMatch(/output buffer limits \(pubsub\)/);
    expect(await pub.ping()).toBe('PONG');
  });
});
