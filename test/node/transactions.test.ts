// MULTI / EXEC / DISCARD / WATCH against a real server process, checking the exact wire replies.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf, rawConn } from '../helpers/resp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('transactions', () => {
  let srv: TestServer;
  let r: Redis;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.call('debug', 'set-active-expire', '1');
    await r.flushall();
  });

  describe('MULTI / EXEC / DISCARD', () => {
    it('queues commands and runs them in order on EXEC', async () => {
      const { send } = await rawConn(srv);
      expect(await send('MULTI')).toBe('+OK\r\n');
      expect(await send('SET', 'a', '1')).toBe('+QUEUED\r\n');
      expect(await send('INCR', 'a')).toBe('+QUEUED\r\n');
      expect(await send('GET', 'a')).toBe('+QUEUED\r\n');
      expect(await send('GET', 'nokey')).toBe('+QUEUED\r\n');
      // nothing ran yet
      expect(await r.exists('a')).toBe(0);
      expect(await send('EXEC')).toBe('*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n');
      expect(await r.get('a')).toBe('2');
    });

    it('EXEC of an empty transaction is an empty array', async () => {
      const { send } = await rawConn(srv);
      expect(await send('MULTI')).toBe('+OK\r\n');
      expect(await send('EXEC')).toBe('*0\r\n');
    });

    it('ioredis multi() pipeline', async () => {
      const res = await r.multi().set('x', '10').incrby('x', 5).get('x').exec();
      expect(res).toEqual([
        [null, 'OK'],
        [null, 15],
        [null, '15'],
      ]);
    });

    it('an unknown command at queue time aborts EXEC', async () => {
      const { send } = await rawConn(srv);
      expect(await send('MULTI')).toBe('+OK\r\n');
      expect(await send('SET', 'a', '1')).toBe('+QUEUED\r\n');
      expect(await send('NOSUCHCMD', 'x')).toBe("-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \r\n");
      expect(await send('SET', 'b', '1')).toBe('+QUEUED\r\n');
      expect(await send('EXEC')).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
      expect(await r.exists('a', 'b')).toBe(0);
      // the transaction is over
      expect(await send('EXEC')).toBe('-ERR EXEC without MULTI\r\n');
    });

    it('a wrong arity at queue time aborts EXEC', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      expect(await send('SET', 'a')).toBe("-ERR wrong number of arguments for 'set' command\r\n");
      expect(await send('GET', 'a')).toBe('+QUEUED\r\n');
      expect(await send('EXEC')).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    });

    it('an unknown subcommand at queue time aborts EXEC', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      expect(await send('CONFIG', 'FOO')).toBe("-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
      expect(await send('EXEC')).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    });

    it('a runtime error inside EXEC does not stop the other commands', async () => {
      await r.set('s', 'abc');
      const { send } = await rawConn(srv);
      await send('MULTI');
      expect(await send('SET', 'a', '1')).toBe('+QUEUED\r\n');
      expect(await send('INCR', 's')).toBe('+QUEUED\r\n');
      expect(await send('SET', 'b', '2')).toBe('+QUEUED\r\n');
      expect(await send('EXEC')).toBe('*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n');
      expect(await r.mget('a', 'b', 's')).toEqual(['1', '2', 'abc']);
    });

    it('the same through ioredis: an error element among the results', async () => {
      await r.lpush('list', 'x');
      const res = await r.multi().set('k', 'v').get('list').get('k').exec();
      expect(res![0]).toEqual([null, 'OK']);
      expect((res![1][0] as Error).message).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
      expect(res![2]).toEqual([null, 'v']);
    });

    it('DISCARD drops the queue', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      await send('SET', 'a', '1');
      expect(await send('DISCARD')).toBe('+OK\r\n');
      expect(await r.exists('a')).toBe(0);
      expect(await send('EXEC')).toBe('-ERR EXEC without MULTI\r\n');
      // the connection is usable normally again
      expect(await send('SET', 'a', '2')).toBe('+OK\r\n');
    });

    it('DISCARD also forgets an aborted transaction', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      await send('NOPE');
      expect(await send('DISCARD')).toBe('+OK\r\n');
      await send('MULTI');
      await send('SET', 'a', '1');
      expect(await send('EXEC')).toBe('*1\r\n+OK\r\n');
    });

    it('nested MULTI is an error that does not abort the transaction', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      await send('SET', 'a', '1');
      expect(await send('MULTI')).toBe('-ERR MULTI calls can not be nested\r\n');
      expect(await send('EXEC')).toBe('*1\r\n+OK\r\n');
    });

    it('EXEC / DISCARD without MULTI', async () => {
      const { send } = await rawConn(srv);
      expect(await send('EXEC')).toBe('-ERR EXEC without MULTI\r\n');
      expect(await send('DISCARD')).toBe('-ERR DISCARD without MULTI\r\n');
    });

    it('a command flagged no-multi is refused at queue time and aborts EXEC', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      expect(await send('SHUTDOWN')).toBe('-ERR Command not allowed inside a transaction\r\n');
      expect(await send('EXEC')).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    });

    it('SELECT inside a transaction switches the db for the commands after it', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      await send('SELECT', '5');
      await send('SET', 'k', 'in5');
      expect(await send('EXEC')).toBe('*2\r\n+OK\r\n+OK\r\n');
      expect(await r.get('k')).toBeNull();
      expect(await send('GET', 'k')).toBe('$3\r\nin5\r\n');
    });

    it('CLIENT LIST shows the x flag and the queue length while in MULTI', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      await send('SET', 'a', '1');
      await send('SET', 'b', '1');
      const info = await send('CLIENT', 'INFO');
      expect(info).toBe('+QUEUED\r\n');
      await send('DISCARD');
      const list = (await r.call('client', 'list')) as string;
      expect(list).toMatch(/ flags=N /);
      const c2 = await rawConn(srv);
      await c2.send('MULTI');
      await c2.send('PING');
      await c2.send('PING');
      const all = (await r.call('client', 'list')) as string;
      expect(all).toMatch(/ flags=x db=0 sub=0 psub=0 ssub=0 multi=2 /);
    });
  });

  describe('WATCH', () => {
    it('a key modified by another client makes EXEC return null (RESP2 *-1)', async () => {
      await r.set('w', '1');
      const { send } = await rawConn(srv);
      expect(await send('WATCH', 'w')).toBe('+OK\r\n');
      await r.set('w', '2');
      await send('MULTI');
      expect(await send('SET', 'w', '3')).toBe('+QUEUED\r\n');
      expect(await send('EXEC')).toBe('*-1\r\n');
      expect(await r.get('w')).toBe('2');
    });

    it('... and RESP3 null', async () => {
      const { send } = await rawConn(srv, 3);
      await send('WATCH', 'w');
      await r.set('w', 'changed');
      await send('MULTI');
      await send('SET', 'w', 'mine');
      expect(await send('EXEC')).toBe('_\r\n');
      expect(await r.get('w')).toBe('changed');
    });

    it('an unmodified watched key lets EXEC run', async () => {
      await r.set('w', '1');
      const { send } = await rawConn(srv);
      await send('WATCH', 'w', 'other');
      await r.set('unrelated', 'x');
      await send('MULTI');
      await send('INCR', 'w');
      expect(await send('EXEC')).toBe('*1\r\n:2\r\n');
    });

    it('creating, deleting or expiring a watched key counts as a change', async () => {
      const c = await rawConn(srv);
      await c.send('WATCH', 'created');
      await r.set('created', '1');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*-1\r\n');

      await r.set('deleted', '1');
      await c.send('WATCH', 'deleted');
      await r.del('deleted');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*-1\r\n');

      await r.set('expiring', '1');
      await c.send('WATCH', 'expiring');
      await r.expire('expiring', 100);
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*-1\r\n');
    });

    it('a watched key whose TTL runs out before EXEC counts as changed (even when not yet removed)', async () => {
      await r.call('debug', 'set-active-expire', '0');
      await r.set('ttl', '1', 'PX', 50);
      const c = await rawConn(srv);
      await c.send('WATCH', 'ttl');
      await sleep(100);
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*-1\r\n');
    });

    it('a change by the watching client itself before MULTI also counts', async () => {
      const c = await rawConn(srv);
      await c.send('WATCH', 'own');
      await c.send('SET', 'own', 'x');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*-1\r\n');
    });

    it('FLUSHDB / FLUSHALL of a watched existing key count as a change', async () => {
      await r.set('f', '1');
      const c = await rawConn(srv);
      await c.send('WATCH', 'f');
      await r.flushall();
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*-1\r\n');
    });

    it('the same key name in another db is a different key', async () => {
      const c = await rawConn(srv);
      await c.send('WATCH', 'k');
      const other = srv.client();
      await other.select(1);
      await other.set('k', 'v');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*1\r\n+PONG\r\n');
      other.disconnect();
    });

    it('EXEC and DISCARD end the watch', async () => {
      const c = await rawConn(srv);
      await c.send('WATCH', 'k');
      await c.send('MULTI');
      expect(await c.send('EXEC')).toBe('*0\r\n');
      await r.set('k', 'changed after exec');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*1\r\n+PONG\r\n');

      await c.send('WATCH', 'k');
      await c.send('MULTI');
      await c.send('DISCARD');
      await r.set('k', 'changed after discard');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*1\r\n+PONG\r\n');
    });

    it('UNWATCH forgets the watched keys', async () => {
      const c = await rawConn(srv);
      await c.send('WATCH', 'k');
      expect(await c.send('UNWATCH')).toBe('+OK\r\n');
      await r.set('k', 'v');
      await c.send('MULTI');
      await c.send('PING');
      expect(await c.send('EXEC')).toBe('*1\r\n+PONG\r\n');
    });

    it('WATCH inside MULTI is an error that does not abort the transaction', async () => {
      const c = await rawConn(srv);
      await c.send('MULTI');
      await c.send('SET', 'a', '1');
      expect(await c.send('WATCH', 'x')).toBe('-ERR WATCH inside MULTI is not allowed\r\n');
      expect(await c.send('EXEC')).toBe('*1\r\n+OK\r\n');
    });

    it('UNWATCH inside MULTI is queued; WATCH needs a key', async () => {
      const c = await rawConn(srv);
      expect(await c.send('WATCH')).toBe("-ERR wrong number of arguments for 'watch' command\r\n");
      await c.send('MULTI');
      expect(await c.send('UNWATCH')).toBe('+QUEUED\r\n');
      expect(await c.send('EXEC')).toBe('*1\r\n+OK\r\n');
    });

    it('ioredis watch / multi / exec', async () => {
      const c = srv.client();
      await c.set('bal', '100');
      await c.watch('bal');
      await r.set('bal', '50');
      expect(await c.multi().decrby('bal', 10).exec()).toBeNull();
      await c.watch('bal');
      expect(await c.multi().decrby('bal', 10).exec()).toEqual([[null, 40]]);
      c.disconnect();
    });
  });

  describe('a sentinel-style transaction', () => {
    let cfgSrv: TestServer;
    let cfgFile: string;
    let dir: string;
    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-tx-'));
      cfgFile = path.join(dir, 'node.conf');
      fs.writeFileSync(cfgFile, 'maxclients 500\n');
      cfgSrv = await startServer([cfgFile]);
    });
    afterAll(async () => {
      await cfgSrv.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('MULTI; CONFIG REWRITE; CLIENT KILL TYPE normal; EXEC queues each and runs them', async () => {
      const victim = await rawConn(cfgSrv);
      expect(await victim.send('PING')).toBe('+PONG\r\n');
      const victimClosed = new Promise<void>((resolve) => victim.sock.once('close', () => resolve()));
      const admin = await rawConn(cfgSrv);
      expect(await admin.send('CONFIG', 'SET', 'maxclients', '600')).toBe('+OK\r\n');
      expect(await admin.send('MULTI')).toBe('+OK\r\n');
      expect(await admin.send('CONFIG', 'REWRITE')).toBe('+QUEUED\r\n');
      expect(await admin.send('CLIENT', 'KILL', 'TYPE', 'normal')).toBe('+QUEUED\r\n');
      expect(await admin.send('EXEC')).toBe('*2\r\n+OK\r\n:1\r\n');
      await victimClosed;
      // the caller itself survives (SKIPME yes is the default)
      expect(await admin.send('PING')).toBe('+PONG\r\n');
      const text = fs.readFileSync(cfgFile, 'utf8');
      expect(text).toMatch(/^maxclients 600$/m);
      expect(text).not.toMatch(/^maxclients 500$/m);
    });

    it('without a config file CONFIG REWRITE fails inside EXEC but the rest runs', async () => {
      const { send } = await rawConn(srv);
      await send('MULTI');
      await send('CONFIG', 'REWRITE');
      await send('PING');
      expect(await send('EXEC')).toBe('*2\r\n-ERR The server is running without a config file\r\n+PONG\r\n');
      expect(await errOf(r.call('config', 'rewrite'))).toBe('ERR The server is running without a config file');
    });

    it('EXEC refused by a gate aborts the transaction with the reason (execCommandAbort)', async () => {
      const { send } = await rawConn(srv);
      expect(await send('MULTI')).toBe('+OK\r\n');
      expect(await send('SET', 'k', 'v')).toBe('+QUEUED\r\n');
      expect(await send('EXEC', 'extra')).toBe(
        "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n",
      );
      // the MULTI is over: EXEC now has no MULTI, and the SET never ran
      expect(await send('EXEC')).toBe('-ERR EXEC without MULTI\r\n');
      expect(await r.exists('k')).toBe(0);
    });
  });
});
