// Pub/Sub against a real server process: subscription replies and message delivery in RESP2 and RESP3
// (raw wire form and ioredis subscriber mode), the RESP2 subscribed context, and PUBSUB introspection.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { bulk, errOf, rawPushConn } from '../helpers/resp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pub/sub', () => {
  let srv: TestServer;
  let pub: Redis;

  beforeAll(async () => {
    srv = await startServer();
    pub = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    // no subscriptions may leak between tests
    for (let i = 0; i < 50; i++) {
      const [chans, pats] = await Promise.all([pub.call('pubsub', 'channels'), pub.call('pubsub', 'numpat')]);
      if ((chans as string[]).length === 0 && pats === 0) break;
      await sleep(20);
    }
  });

  describe('RESP2 wire form', () => {
    it('SUBSCRIBE / PSUBSCRIBE confirm each name with the running count', async () => {
      const c = await rawPushConn(srv);
      expect(await c.send(2, 'SUBSCRIBE', 'a', 'b')).toBe(`*3\r\n${bulk('subscribe')}${bulk('a')}:1\r\n*3\r\n${bulk('subscribe')}${bulk('b')}:2\r\n`);
      // subscribing again to the same channel does not add to the count
      expect(await c.send(1, 'SUBSCRIBE', 'a')).toBe(`*3\r\n${bulk('subscribe')}${bulk('a')}:2\r\n`);
      expect(await c.send(1, 'PSUBSCRIBE', 'n.*')).toBe(`*3\r\n${bulk('psubscribe')}${bulk('n.*')}:3\r\n`);
      c.sock.destroy();
    });

    it('delivers message and pmessage arrays', async () => {
      const c = await rawPushConn(srv);
      await c.send(1, 'SUBSCRIBE', 'news.tech');
      await c.send(1, 'PSUBSCRIBE', 'news.*');
      expect(await pub.publish('news.tech', 'hello')).toBe(2);
      expect(await c.next(2)).toBe(
        `*3\r\n${bulk('message')}${bulk('news.tech')}${bulk('hello')}` + `*4\r\n${bulk('pmessage')}${bulk('news.*')}${bulk('news.tech')}${bulk('hello')}`,
      );
      expect(await pub.publish('news.sport', 'goal')).toBe(1);
      expect(await c.next(1)).toBe(`*4\r\n${bulk('pmessage')}${bulk('news.*')}${bulk('news.sport')}${bulk('goal')}`);
      expect(await pub.publish('weather', 'rain')).toBe(0);
      c.sock.destroy();
    });

    it('in the subscribed context only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed', async () => {
      const c = await rawPushConn(srv);
      await c.send(1, 'SUBSCRIBE', 'ch');
      expect(await c.send(1, 'GET', 'x')).toBe(
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
      );
      expect(await c.send(1, 'SET', 'x', '1')).toBe(
        "-ERR Can't execute 'set': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
      );
      expect(await c.send(1, 'CLIENT', 'ID')).toBe(
        "-ERR Can't execute 'client|id': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n",
      );
      // PING answers like a message
      expect(await c.send(1, 'PING')).toBe(`*2\r\n${bulk('pong')}${bulk('')}`);
      expect(await c.send(1, 'PING', 'hi')).toBe(`*2\r\n${bulk('pong')}${bulk('hi')}`);
      expect(await pub.exists('x')).toBe(0);
      // leaving every subscription ends the context
      expect(await c.send(1, 'UNSUBSCRIBE')).toBe(`*3\r\n${bulk('unsubscribe')}${bulk('ch')}:0\r\n`);
      expect(await c.send(1, 'PING')).toBe('+PONG\r\n');
      expect(await c.send(1, 'GET', 'x')).toBe('$-1\r\n');
      c.sock.destroy();
    });

    it('UNSUBSCRIBE / PUNSUBSCRIBE without arguments leave everything; with nothing left they reply a null name', async () => {
      const c = await rawPushConn(srv);
      await c.send(3, 'SUBSCRIBE', 'a', 'b', 'c');
      await c.send(1, 'PSUBSCRIBE', 'p*');
      const unsub = await c.send(3, 'UNSUBSCRIBE');
      const names = [...unsub.matchAll(/\$11\r\nunsubscribe\r\n\$1\r\n(\w)\r\n:(\d)\r\n/g)].map((m) => [m[1], m[2]]);
      expect(names.map((n) => n[0]).sort()).toEqual(['a', 'b', 'c']);
      expect(names.map((n) => n[1])).toEqual(['3', '2', '1']);
      expect(await c.send(1, 'UNSUBSCRIBE')).toBe(`*3\r\n${bulk('unsubscribe')}$-1\r\n:1\r\n`);
      expect(await c.send(1, 'PUNSUBSCRIBE')).toBe(`*3\r\n${bulk('punsubscribe')}${bulk('p*')}:0\r\n`);
      expect(await c.send(1, 'PUNSUBSCRIBE')).toBe(`*3\r\n${bulk('punsubscribe')}$-1\r\n:0\r\n`);
      // unsubscribing from a channel never subscribed still confirms it
      expect(await c.send(1, 'UNSUBSCRIBE', 'never')).toBe(`*3\r\n${bulk('unsubscribe')}${bulk('never')}:0\r\n`);
      c.sock.destroy();
    });

    it('QUIT in the subscribed context closes; RESET leaves the context', async () => {
      const c = await rawPushConn(srv);
      await c.send(1, 'SUBSCRIBE', 'ch');
      expect(await c.send(1, 'RESET')).toBe('+RESET\r\n');
      expect(await c.send(1, 'GET', 'x')).toBe('$-1\r\n');
      expect(await pub.publish('ch', 'm')).toBe(0);
      await c.send(1, 'SUBSCRIBE', 'ch');
      const closed = new Promise<void>((r) => c.sock.once('close', () => r()));
      expect(await c.send(1, 'QUIT')).toBe('+OK\r\n');
      await closed;
    });

    it('binary channel names and payloads', async () => {
      const c = await rawPushConn(srv);
      await c.send(1, 'SUBSCRIBE', 'bin');
      const payload = Buffer.from([0, 255, 13, 10, 128]);
      expect(await pub.publish('bin', payload)).toBe(1);
      const msg = await c.next(1);
      expect(msg).toBe(`*3\r\n${bulk('message')}${bulk('bin')}$5\r\n${payload.toString('latin1')}\r\n`);
      c.sock.destroy();
    });
  });

  describe('RESP3 wire form', () => {
    it('confirmations and messages are pushes; other commands work normally', async () => {
      const c = await rawPushConn(srv, 3);
      expect(await c.send(1, 'SUBSCRIBE', 'ch')).toBe(`>3\r\n${bulk('subscribe')}${bulk('ch')}:1\r\n`);
      expect(await c.send(1, 'PSUBSCRIBE', 'c*')).toBe(`>3\r\n${bulk('psubscribe')}${bulk('c*')}:2\r\n`);
      expect(await pub.publish('ch', 'hi')).toBe(2);
      expect(await c.next(2)).toBe(`>3\r\n${bulk('message')}${bulk('ch')}${bulk('hi')}>4\r\n${bulk('pmessage')}${bulk('c*')}${bulk('ch')}${bulk('hi')}`);
      expect(await c.send(1, 'GET', 'nokey')).toBe('_\r\n');
      expect(await c.send(1, 'PING')).toBe('+PONG\r\n');
      expect(await c.send(1, 'UNSUBSCRIBE', 'ch')).toBe(`>3\r\n${bulk('unsubscribe')}${bulk('ch')}:1\r\n`);
      expect(await c.send(1, 'PUNSUBSCRIBE')).toBe(`>3\r\n${bulk('punsubscribe')}${bulk('c*')}:0\r\n`);
      expect(await c.send(1, 'UNSUBSCRIBE')).toBe(`>3\r\n${bulk('unsubscribe')}_\r\n:0\r\n`);
      c.sock.destroy();
    });
  });

  describe('ioredis subscriber mode', () => {
    for (const protocol of [2, 3] as const) {
      it(`RESP${protocol}: message and pmessage events`, async () => {
        const sub = srv.client({ protocol });
        const got: string[][] = [];
        sub.on('message', (ch: string, msg: string) => got.push(['message', ch, msg]));
        sub.on('pmessage', (pat: string, ch: string, msg: string) => got.push(['pmessage', pat, ch, msg]));
        expect(await sub.subscribe('orders', 'users')).toBe(2);
        expect(await sub.psubscribe('ord*')).toBe(3);
        expect(await pub.publish('orders', 'o1')).toBe(2);
        expect(await pub.publish('users', 'u1')).toBe(1);
        expect(await pub.publish('ordinal', 'x')).toBe(1);
        expect(await pub.publish('nobody', 'x')).toBe(0);
        for (let i = 0; i < 50 && got.length < 4; i++) await sleep(10);
        expect(got).toEqual([
          ['message', 'orders', 'o1'],
          ['pmessage', 'ord*', 'orders', 'o1'],
          ['message', 'users', 'u1'],
          ['pmessage', 'ord*', 'ordinal', 'x'],
        ]);
        expect(await sub.unsubscribe('orders')).toBe(2);
        expect(await pub.publish('orders', 'o2')).toBe(1);
        expect(await sub.punsubscribe('ord*')).toBe(1);
        expect(await sub.unsubscribe('users')).toBe(0);
        expect(await pub.publish('orders', 'o3')).toBe(0);
        sub.disconnect();
      });
    }

    it('RESP2: ioredis PING in subscriber mode gets the pong array', async () => {
      const sub = srv.client({ protocol: 2 });
      await sub.subscribe('x');
      expect(await sub.ping()).toEqual(['pong', '']);
      sub.disconnect();
    });

    it('messageBuffer delivers binary payloads', async () => {
      const sub = srv.client();
      const got: Buffer[] = [];
      sub.on('messageBuffer', (_ch: Buffer, msg: Buffer) => got.push(msg));
      await sub.subscribe('bin');
      await pub.publish('bin', Buffer.from([0, 0xff, 0x80]));
      for (let i = 0; i < 50 && got.length < 1; i++) await sleep(10);
      expect(got.map((b) => b.toString('hex'))).toEqual(['00ff80']);
      sub.disconnect();
    });
  });

  describe('PUBLISH receiver counts', () => {
    it('counts every delivery: channel subscribers plus each matching pattern subscription', async () => {
      const a = await rawPushConn(srv);
      const b = await rawPushConn(srv);
      await a.send(1, 'SUBSCRIBE', 'room');
      await b.send(1, 'SUBSCRIBE', 'room');
      await b.send(2, 'PSUBSCRIBE', 'r*', 'ro?m');
      expect(await pub.publish('room', 'x')).toBe(4);
      expect(await pub.publish('rx', 'x')).toBe(1);
      a.sock.destroy();
      b.sock.destroy();
    });
  });

  describe('PUBSUB introspection', () => {
    it('CHANNELS / NUMSUB / NUMPAT', async () => {
      const a = srv.client();
      const b = srv.client();
      await a.subscribe('news.tech', 'news.art', 'misc');
      await b.subscribe('news.tech');
      await a.psubscribe('news.*', 'x*');
      await b.psubscribe('news.*');
      expect(((await pub.call('pubsub', 'channels')) as string[]).sort()).toEqual(['misc', 'news.art', 'news.tech']);
      expect(((await pub.call('pubsub', 'channels', 'news.*')) as string[]).sort()).toEqual(['news.art', 'news.tech']);
      expect(await pub.call('pubsub', 'channels', 'nothing*')).toEqual([]);
      expect(await pub.call('pubsub', 'numsub', 'news.tech', 'misc', 'none')).toEqual(['news.tech', 2, 'misc', 1, 'none', 0]);
      expect(await pub.call('pubsub', 'numsub')).toEqual([]);
      // unique patterns
      expect(await pub.call('pubsub', 'numpat')).toBe(2);
      const info = (await pub.info('stats')) as string;
      expect(info).toMatch(/\r\npubsub_channels:3\r\n/);
      expect(info).toMatch(/\r\npubsub_patterns:2\r\n/);
      const list = (await pub.call('client', 'list')) as string;
      expect(list).toMatch(/ flags=P db=0 sub=3 psub=2 /);
      // a disconnect drops the client's subscriptions
      a.disconnect();
      b.disconnect();
      for (let i = 0; i < 50 && ((await pub.call('pubsub', 'numpat')) as number) > 0; i++) await sleep(10);
      expect(await pub.call('pubsub', 'numpat')).toBe(0);
      expect(await pub.call('pubsub', 'channels')).toEqual([]);
      expect(await pub.call('pubsub', 'numsub', 'news.tech')).toEqual(['news.tech', 0]);
    });

    it('NUMSUB is a flat array in RESP3 too', async () => {
      const c = await rawPushConn(srv, 3);
      expect(await c.send(1, 'PUBSUB', 'NUMSUB', 'a', 'b')).toBe(`*4\r\n${bulk('a')}:0\r\n${bulk('b')}:0\r\n`);
      c.sock.destroy();
    });

    it('errors', async () => {
      expect(await errOf(pub.call('pubsub', 'channels', 'a', 'b'))).toBe(
        "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP.",
      );
      expect(await errOf(pub.call('pubsub', 'numpat', 'x'))).toBe("ERR wrong number of arguments for 'pubsub|numpat' command");
      expect(await errOf(pub.call('pubsub', 'foo'))).toBe("ERR unknown subcommand 'foo'. Try PUBSUB HELP.");
      expect(await errOf(pub.call('pubsub'))).toBe("ERR wrong number of arguments for 'pubsub' command");
      expect(await errOf(pub.call('publish', 'a'))).toBe("ERR wrong number of arguments for 'publish' command");
      expect(await errOf(pub.call('subscribe'))).toBe("ERR wrong number of arguments for 'subscribe' command");
      expect(await errOf(pub.call('psubscribe'))).toBe("ERR wrong number of arguments for 'psubscribe' command");
      const help = (await pub.call('pubsub', 'help')) as string[];
      expect(help[0]).toBe('PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
      expect(help).toContain('NUMSUB [<channel> ...]');
      expect(help[help.length - 1]).toBe('    Prints this help.');
    });
  });
});
