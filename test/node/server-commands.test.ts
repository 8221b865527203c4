// Connection and server commands against real server processes: PING/ECHO/QUIT, HELLO, AUTH, CLIENT,
// INFO, CONFIG (incl. config files and REWRITE), TIME, SLOWLOG, DEBUG SLEEP, SHUTDOWN and COMMAND.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { bulk, errOf, rawConn } from '../helpers/resp';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmpDirs: string[] = [];
const tmpDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-srvcmd-'));
  tmpDirs.push(d);
  return d;
};

/** Parses an INFO text into its sections: title -> field -> value. */
function parseInfo(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | null = null;
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) out.set(line.slice(2), (cur = new Map()));
    else if (line !== '' && cur) {
      const i = line.indexOf(':');
      cur.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return out;
}

describe('server and connection commands', () => {
  let srv: TestServer;
  let r: Redis;
  let r2: Redis;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
    r2 = srv.client({ protocol: 2 });
  });
  afterAll(async () => {
    await srv.stop();
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('PING / ECHO / QUIT', () => {
    it('PING and ECHO', async () => {
      const { send } = await rawConn(srv);
      expect(await send('PING')).toBe('+PONG\r\n');
      expect(await send('PING', 'hello world')).toBe(bulk('hello world'));
      expect(await send('PING', 'a', 'b')).toBe("-ERR wrong number of arguments for 'ping' command\r\n");
      expect(await send('ECHO', 'x\r\ny')).toBe('$4\r\nx\r\ny\r\n');
      expect(await send('ECHO')).toBe("-ERR wrong number of arguments for 'echo' command\r\n");
      expect(await send('echo', 'a', 'b')).toBe("-ERR wrong number of arguments for 'echo' command\r\n");
      expect(await r.ping()).toBe('PONG');
      expect(await r.echo('hi')).toBe('hi');
    });

    it('QUIT replies OK and closes the connection', async () => {
      const c = await rawConn(srv);
      expect(await c.send('QUIT')).toBe('+OK\r\n');
      await c.closed;
    });

    it('unknown commands', async () => {
      const { send } = await rawConn(srv);
      expect(await send('NOSUCH', 'a', 'b')).toBe("-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n");
      expect(await send('NOSUCH')).toBe("-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    });
  });

  describe('HELLO', () => {
    it('HELLO 3 replies a map and switches to RESP3; HELLO 2 a flat array', async () => {
      const c = await rawConn(srv);
      const id = Number((await c.send('CLIENT', 'ID')).slice(1, -2));
      const map3 =
        `%7\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk('7.0.15')}${bulk('proto')}:3\r\n` +
        `${bulk('id')}:${id}\r\n${bulk('mode')}${bulk('standalone')}${bulk('role')}${bulk('master')}${bulk('modules')}*0\r\n`;
      expect(await c.send('HELLO', '3')).toBe(map3);
      expect(await c.send('GET', 'nokey-hello')).toBe('_\r\n');
      // no version argument: the current protocol
      expect(await c.send('HELLO')).toBe(map3);
      const arr2 =
        `*14\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk('7.0.15')}${bulk('proto')}:2\r\n` +
        `${bulk('id')}:${id}\r\n${bulk('mode')}${bulk('standalone')}${bulk('role')}${bulk('master')}${bulk('modules')}*0\r\n`;
      expect(await c.send('HELLO', '2')).toBe(arr2);
      expect(await c.send('GET', 'nokey-hello')).toBe('$-1\r\n');
    });

    it('errors: NOPROTO, bad version, bad option', async () => {
      const { send } = await rawConn(srv);
      expect(await send('HELLO', '4')).toBe('-NOPROTO unsupported protocol version\r\n');
      expect(await send('HELLO', '1')).toBe('-NOPROTO unsupported protocol version\r\n');
      expect(await send('HELLO', 'abc')).toBe('-ERR Protocol version is not an integer or out of range\r\n');
      expect(await send('HELLO', '3', 'foo')).toBe("-ERR Syntax error in HELLO option 'foo'\r\n");
      expect(await send('HELLO', '3', 'AUTH', 'default')).toBe("-ERR Syntax error in HELLO option 'AUTH'\r\n");
      expect(await send('HELLO', '3', 'SETNAME', 'a b')).toBe('-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
      // still RESP2 after the failures
      expect(await send('GET', 'nokey-hello')).toBe('$-1\r\n');
    });

    it('SETNAME sets the client name', async () => {
      const c = srv.client({ protocol: 2 });
      const reply = (await c.call('hello', '3', 'setname', 'via-hello')) as unknown[];
      expect(reply.slice(0, 6)).toEqual(['server', 'redis', 'version', '7.0.15', 'proto', 3]);
      expect(await c.call('client', 'getname')).toBe('via-hello');
      c.disconnect();
    });

    it('ioredis negotiates RESP3 by default and RESP2 on request', async () => {
      const l3 = (await r.call('client', 'info')) as string;
      const l2 = (await r2.call('client', 'info')) as string;
      expect(l3).toMatch(/ resp=3( |\n)/);
      expect(l2).toMatch(/ resp=2( |\n)/);
    });
  });

  describe('AUTH and requirepass', () => {
    let auth: TestServer;
    beforeAll(async () => {
      auth = await startServer(['--requirepass', 's3cret']);
    });
    afterAll(() => auth.stop());

    it('refuses commands before AUTH; WRONGPASS; AUTH with and without a user name', async () => {
      const { send } = await rawConn(auth);
      expect(await send('PING')).toBe('-NOAUTH Authentication required.\r\n');
      expect(await send('GET', 'x')).toBe('-NOAUTH Authentication required.\r\n');
      expect(await send('AUTH', 'wrong')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      expect(await send('AUTH', 'default', 'wrong')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      expect(await send('AUTH', 'nobody', 's3cret')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      expect(await send('AUTH', 'a', 'b', 'c')).toBe('-ERR syntax error\r\n');
      expect(await send('PING')).toBe('-NOAUTH Authentication required.\r\n');
      expect(await send('AUTH', 's3cret')).toBe('+OK\r\n');
      expect(await send('PING')).toBe('+PONG\r\n');
      const c2 = await rawConn(auth);
      expect(await c2.send('AUTH', 'default', 's3cret')).toBe('+OK\r\n');
      expect(await c2.send('SET', 'k', 'v')).toBe('+OK\r\n');
    });

    it('HELLO needs authentication or its AUTH option', async () => {
      const { send } = await rawConn(auth);
      expect(await send('HELLO', '3')).toBe(
        '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n',
      );
      expect(await send('HELLO', '3', 'AUTH', 'default', 'nope')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
      const ok = await send('HELLO', '3', 'AUTH', 'default', 's3cret', 'SETNAME', 'hx');
      expect(ok.startsWith(`%7\r\n${bulk('server')}${bulk('redis')}`)).toBe(true);
      expect(await send('CLIENT', 'GETNAME')).toBe(bulk('hx'));
    });

    it('RESET makes the connection unauthenticated again; QUIT needs no AUTH', async () => {
      const c = await rawConn(auth);
      expect(await c.send('AUTH', 's3cret')).toBe('+OK\r\n');
      expect(await c.send('RESET')).toBe('+RESET\r\n');
      expect(await c.send('PING')).toBe('-NOAUTH Authentication required.\r\n');
      expect(await c.send('QUIT')).toBe('+OK\r\n');
      await c.closed;
    });

    it('ioredis with the password option works; without it commands fail', async () => {
      const good = auth.client({ password: 's3cret' });
      expect(await good.set('a', '1')).toBe('OK');
      expect(await good.get('a')).toBe('1');
      const good2 = auth.client({ password: 's3cret', protocol: 2 });
      expect(await good2.get('a')).toBe('1');
      const named = auth.client({ username: 'default', password: 's3cret' });
      expect(await named.get('a')).toBe('1');
    });

    it('AUTH on a server without a password', async () => {
      expect(await errOf(r.call('auth', 'x'))).toBe(
        'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      );
      // the default user takes any password then
      expect(await r.call('auth', 'default', 'anything')).toBe('OK');
      expect(await errOf(r.call('auth', 'someone', 'x'))).toBe('WRONGPASS invalid username-password pair or user is disabled.');
    });
  });

  describe('CLIENT', () => {
    it('ID / SETNAME / GETNAME', async () => {
      const c = await rawConn(srv);
      const id = Number((await c.send('CLIENT', 'ID')).slice(1, -2));
      expect(id).toBeGreaterThan(0);
      expect(await c.send('CLIENT', 'GETNAME')).toBe('$-1\r\n');
      expect(await c.send('CLIENT', 'SETNAME', 'worker-1')).toBe('+OK\r\n');
      expect(await c.send('CLIENT', 'GETNAME')).toBe(bulk('worker-1'));
      expect(await c.send('CLIENT', 'SETNAME', 'bad name')).toBe('-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
      expect(await c.send('CLIENT', 'SETNAME', 'a\nb')).toBe('-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
      expect(await c.send('CLIENT', 'GETNAME')).toBe(bulk('worker-1'));
      expect(await c.send('CLIENT', 'SETNAME', '')).toBe('+OK\r\n');
      expect(await c.send('CLIENT', 'GETNAME')).toBe('$-1\r\n');
      expect(await c.send('CLIENT', 'ID', 'x')).toBe("-ERR wrong number of arguments for 'client|id' command\r\n");
      expect(await c.send('CLIENT', 'FOO')).toBe("-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
      expect(await c.send('CLIENT')).toBe("-ERR wrong number of arguments for 'client' command\r\n");
      const ids = new Set([id, Number(await r.call('client', 'id')), Number(await r2.call('client', 'id'))]);
      expect(ids.size).toBe(3);
    });

    it('LIST and INFO lines', async () => {
      const c = srv.client({ protocol: 2, connectionName: 'lister' });
      const id = Number(await c.call('client', 'id'));
      const info = (await c.call('client', 'info')) as string;
      expect(info.endsWith('\n')).toBe(true);
      expect(info.split('\n').length).toBe(2);
      expect(info).toMatch(
        new RegExp(
          `^id=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${srv.port} fd=\\d+ name=lister age=\\d+ idle=\\d+ flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 ` +
            `qbuf=\\d+ qbuf-free=\\d+ argv-mem=\\d+ multi-mem=0 rbs=\\d+ rbp=\\d+ obl=0 oll=0 omem=0 tot-mem=\\d+ events=r cmd=client\\|info user=default redir=-1 resp=2( |\\n)`,
        ),
      );
      await c.select(3);
      const list = (await r.call('client', 'list')) as string;
      const lines = list.trimEnd().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      const mine = lines.find((l) => l.startsWith(`id=${id} `))!;
      expect(mine).toMatch(/ name=lister /);
      expect(mine).toMatch(/ db=3 /);
      expect(mine).toMatch(/ cmd=select /);
      // ID filter: in the order given, unknown IDs skipped
      const byId = (await r.call('client', 'list', 'id', String(id), '999999')) as string;
      expect(byId.trimEnd().split('\n').length).toBe(1);
      expect(byId.startsWith(`id=${id} `)).toBe(true);
      expect(await r.call('client', 'list', 'id', '999999')).toBe('');
      // TYPE filter
      const sub = srv.client();
      await sub.subscribe('ch');
      const pubsubList = (await r.call('client', 'list', 'type', 'pubsub')) as string;
      expect(pubsubList.trimEnd().split('\n').length).toBe(1);
      expect(pubsubList).toMatch(/ flags=P db=0 sub=1 psub=0 /);
      const normal = (await r.call('client', 'list', 'TYPE', 'normal')) as string;
      expect(normal).not.toMatch(/ sub=1 /);
      expect(await errOf(r.call('client', 'list', 'type', 'foo'))).toBe("ERR Unknown client type 'foo'");
      expect(await errOf(r.call('client', 'list', 'id', 'abc'))).toBe('ERR Invalid client ID');
      expect(await errOf(r.call('client', 'list', 'foo'))).toBe('ERR syntax error');
      sub.disconnect();
      c.disconnect();
    });

    it('CLIENT LIST / INFO are verbatim strings in RESP3', async () => {
      const { send } = await rawConn(srv, 3);
      const reply = await send('CLIENT', 'INFO');
      expect(reply).toMatch(/^=\d+\r\ntxt:id=\d+ addr=/);
      const info = await send('INFO', 'server');
      expect(info).toMatch(/^=\d+\r\ntxt:# Server\r\n/);
    });

    it('SETINFO and NO-EVICT', async () => {
      const c = srv.client({ protocol: 2 });
      expect(await c.call('client', 'setinfo', 'lib-name', 'mylib')).toBe('OK');
      expect(await c.call('client', 'setinfo', 'LIB-VER', '1.2.3')).toBe('OK');
      const info = (await c.call('client', 'info')) as string;
      expect(info).toMatch(/ lib-name=mylib lib-ver=1\.2\.3\n$/);
      expect(await errOf(c.call('client', 'setinfo', 'lib-name', 'a b'))).toBe('ERR lib-name cannot contain spaces, newlines or special characters.');
      expect(await errOf(c.call('client', 'setinfo', 'foo', 'bar'))).toBe("ERR Unrecognized option 'foo'");
      expect(await c.call('client', 'no-evict', 'on')).toBe('OK');
      expect(await c.call('client', 'no-evict', 'OFF')).toBe('OK');
      expect(await errOf(c.call('client', 'no-evict', 'maybe'))).toBe('ERR syntax error');
      c.disconnect();
    });

    describe('KILL', () => {
      let k: TestServer;
      /** Waits until the server has exactly `n` clients (closed sockets of earlier tests gone). */
      const clientsAre = async (c: { send: (...a: string[]) => Promise<string> }, n: number) => {
        for (let i = 0; i < 100; i++) {
          const list = await c.send('CLIENT', 'LIST');
          if ((list.match(/\nid=|^\$\d+\r\nid=/g) ?? []).length === n) return;
          await sleep(10);
        }
        throw new Error(`never ${n} clients`);
      };
      beforeAll(async () => {
        k = await startServer();
      });
      afterAll(() => k.stop());

      it('by ID, and errors', async () => {
        const admin = await rawConn(k);
        const victim = await rawConn(k);
        const vid = (await victim.send('CLIENT', 'ID')).slice(1, -2);
        expect(await admin.send('CLIENT', 'KILL', 'ID', vid)).toBe(':1\r\n');
        await victim.closed;
        expect(await admin.send('CLIENT', 'KILL', 'ID', vid)).toBe(':0\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'ID', '0')).toBe('-ERR client-id should be greater than 0\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'ID', 'abc')).toBe('-ERR client-id should be greater than 0\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'TYPE', 'foo')).toBe("-ERR Unknown client type 'foo'\r\n");
        expect(await admin.send('CLIENT', 'KILL', 'SKIPME', 'maybe')).toBe('-ERR syntax error\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'FOO', 'bar')).toBe('-ERR syntax error\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'USER', 'nosuchuser')).toBe("-ERR No such user 'nosuchuser'\r\n");
        expect(await admin.send('CLIENT', 'KILL', '1.2.3.4:5')).toBe('-ERR No such client\r\n');
        expect(await admin.send('CLIENT', 'KILL')).toBe("-ERR wrong number of arguments for 'client|kill' command\r\n");
        admin.sock.destroy();
      });

      it('by ADDR (new and old form)', async () => {
        const admin = await rawConn(k);
        const v1 = await rawConn(k);
        const v2 = await rawConn(k);
        const addr1 = `127.0.0.1:${v1.sock.localPort}`;
        const addr2 = `127.0.0.1:${v2.sock.localPort}`;
        expect(await admin.send('CLIENT', 'KILL', 'ADDR', addr1)).toBe(':1\r\n');
        await v1.closed;
        expect(await admin.send('CLIENT', 'KILL', addr2)).toBe('+OK\r\n');
        await v2.closed;
        admin.sock.destroy();
      });

      it('by TYPE: pubsub only hits subscribers; normal spares the caller (SKIPME yes)', async () => {
        const admin = await rawConn(k);
        const normal = await rawConn(k);
        const sub = await rawConn(k);
        await clientsAre(admin, 3);
        await sub.send('SUBSCRIBE', 'x');
        expect(await admin.send('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBe(':1\r\n');
        await sub.closed;
        expect(await normal.send('PING')).toBe('+PONG\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'TYPE', 'normal')).toBe(':1\r\n');
        await normal.closed;
        expect(await admin.send('PING')).toBe('+PONG\r\n');
        expect(await admin.send('CLIENT', 'KILL', 'TYPE', 'master')).toBe(':0\r\n');
        admin.sock.destroy();
      });

      it('SKIPME no kills the caller too, after its reply', async () => {
        const admin = await rawConn(k);
        const other = await rawConn(k);
        await clientsAre(admin, 2);
        expect(await admin.send('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'no')).toBe(':2\r\n');
        await admin.closed;
        await other.closed;
      });

      it('USER default', async () => {
        const admin = await rawConn(k);
        const v = await rawConn(k);
        await clientsAre(admin, 2);
        expect(await admin.send('CLIENT', 'KILL', 'USER', 'default')).toBe(':1\r\n');
        await v.closed;
        admin.sock.destroy();
      });
    });
  });

  describe('INFO', () => {
    it('default sections in Redis order with \\r\\n line endings', async () => {
      const text = (await r.info()) as string;
      expect(text.startsWith('# Server\r\nredis_version:7.0.15\r\n')).toBe(true);
      expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(text.endsWith('\r\n')).toBe(true);
      const titles = [...text.matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
      expect(titles).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Errorstats', 'Cluster', 'Keyspace']);
      // sections are separated by one empty line
      expect(text).toMatch(/\r\n\r\n# Clients\r\n/);
      const info = parseInfo(text);
      expect(info.get('Server')!.get('tcp_port')).toBe(String(srv.port));
      expect(info.get('Server')!.get('redis_mode')).toBe('standalone');
      expect(info.get('Server')!.get('process_id')).toBe(String(srv.proc.pid));
      expect(Number(info.get('Server')!.get('uptime_in_seconds'))).toBeGreaterThanOrEqual(0);
      expect(info.get('Replication')!.get('role')).toBe('master');
      expect(Number(info.get('Clients')!.get('connected_clients'))).toBeGreaterThanOrEqual(2);
      expect(info.get('Cluster')!.get('cluster_enabled')).toBe('0');
      expect(info.get('Memory')!.get('maxmemory_policy')).toBe('noeviction');
    });

    it('ALL / EVERYTHING add commandstats; unknown sections are empty', async () => {
      const all = (await r.info('all')) as string;
      const titles = [...all.matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
      expect(titles.indexOf('Commandstats')).toBeGreaterThan(titles.indexOf('Modules'));
      expect(titles.indexOf('Commandstats')).toBeLessThan(titles.indexOf('Errorstats'));
      expect(titles[titles.length - 1]).toBe('Keyspace');
      const every = (await r.info('everything')) as string;
      expect(every).toMatch(/\r\n# Commandstats\r\n/);
      expect(await r.info('nosuchsection')).toBe('');
      const two = (await r.call('info', 'server', 'clients')) as string;
      expect([...two.matchAll(/^# (\w+)\r$/gm)].map((m) => m[1])).toEqual(['Server', 'Clients']);
      const cased = (await r.call('info', 'SeRvEr')) as string;
      expect(cased.startsWith('# Server\r\n')).toBe(true);
    });

    it('keyspace: no db line while empty, then keys / expires', async () => {
      const c = srv.client();
      await c.select(9);
      await c.flushdb();
      await r.flushall();
      expect(await r.info('keyspace')).toBe('# Keyspace\r\n');
      await r.set('k', 'v');
      expect(await r.info('keyspace')).toBe('# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n');
      await c.set('t', 'v', 'EX', 1000);
      expect(await r.info('keyspace')).toMatch(/^# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\ndb9:keys=1,expires=1,avg_ttl=\d+\r\n$/);
      await r.flushall();
      c.disconnect();
    });

    it('commandstats and errorstats count calls, rejections and failures; RESETSTAT clears them', async () => {
      const c = srv.client({ protocol: 2 });
      expect(await c.config('RESETSTAT')).toBe('OK');
      let stats = (await c.info('commandstats')) as string;
      // only CONFIG RESETSTAT itself so far (it is counted after it ran)
      expect(stats).toMatch(/^# Commandstats\r\ncmdstat_config\|resetstat:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n$/);
      await c.set('cs', 'abc');
      await c.set('cs', 'abc');
      await errOf(c.call('get'));
      await errOf(c.incr('cs'));
      await c.lpush('cs-list', 'x');
      await errOf(c.get('cs-list'));
      stats = (await c.info('commandstats')) as string;
      expect(stats).toMatch(/\r\ncmdstat_set:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0\r\n/);
      expect(stats).toMatch(/\r\ncmdstat_get:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=1\r\n/);
      expect(stats).toMatch(/\r\ncmdstat_incr:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1\r\n/);
      const errs = (await c.info('errorstats')) as string;
      expect(errs).toMatch(/\r\nerrorstat_ERR:count=2\r\n/);
      expect(errs).toMatch(/\r\nerrorstat_WRONGTYPE:count=1\r\n/);
      const st = parseInfo((await c.info('stats')) as string).get('Stats')!;
      expect(st.get('total_error_replies')).toBe('3');
      expect(await c.config('RESETSTAT')).toBe('OK');
      expect(await c.info('errorstats')).toBe('# Errorstats\r\n');
      expect(parseInfo((await c.info('stats')) as string).get('Stats')!.get('total_error_replies')).toBe('0');
      c.disconnect();
    });
  });

  describe('CONFIG', () => {
    it('GET with globs and several patterns', async () => {
      expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '0']);
      const mm = (await r.config('GET', 'maxmemory*')) as string[];
      const asMap = (a: string[]) => Object.fromEntries(a.flatMap((_, i) => (i % 2 ? [] : [[a[i], a[i + 1]]])));
      expect(asMap(mm)).toMatchObject({ maxmemory: '0', 'maxmemory-policy': 'noeviction' });
      expect(asMap((await r.call('config', 'get', 'hz', 'databases', 'timeout')) as string[])).toEqual({ hz: '10', databases: '16', timeout: '0' });
      expect(await r.config('GET', 'nosuchparam')).toEqual([]);
      expect(asMap((await r.config('GET', 'slowlog-*')) as string[])).toEqual({ 'slowlog-log-slower-than': '10000', 'slowlog-max-len': '128' });
      // a name without glob characters is answered under the name as given
      expect(await r.config('GET', 'HZ')).toEqual(['HZ', '10']);
      expect(await r.config('GET', 'slaveof')).toEqual(['slaveof', '']);
      expect(asMap((await r.config('GET', 'replica*')) as string[])).toMatchObject({ 'replica-read-only': 'yes', 'replica-priority': '100' });
      expect(await errOf(r.call('config', 'get'))).toBe("ERR wrong number of arguments for 'config|get' command");
    });

    it('GET replies a map in RESP3', async () => {
      const { send } = await rawConn(srv, 3);
      expect(await send('CONFIG', 'GET', 'maxmemory')).toBe(`%1\r\n${bulk('maxmemory')}${bulk('0')}`);
    });

    it('SET validates and applies; memory units; several parameters at once', async () => {
      expect(await r.config('SET', 'maxmemory', '1gb')).toBe('OK');
      expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '1073741824']);
      expect(await r.config('SET', 'maxmemory', '0')).toBe('OK');
      expect(await r.call('config', 'set', 'hz', '20', 'maxmemory-policy', 'ALLKEYS-LRU')).toBe('OK');
      expect(await r.config('GET', 'hz')).toEqual(['hz', '20']);
      expect(await r.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
      expect(await r.call('config', 'set', 'hz', '10', 'maxmemory-policy', 'noeviction')).toBe('OK');
      expect(await r.config('SET', 'client-output-buffer-limit', 'pubsub 64mb 16mb 90')).toBe('OK');
      expect(await r.config('GET', 'client-output-buffer-limit')).toEqual([
        'client-output-buffer-limit',
        'normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90',
      ]);
      expect(await r.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60')).toBe('OK');
      expect(await r.config('SET', 'save', '')).toBe('OK');
      expect(await r.config('GET', 'save')).toEqual(['save', '']);
      expect(await r.config('SET', 'save', '3600 1 300 100 60 10000')).toBe('OK');
      // Redis's quirks: hz is kept within 1..500, a backlog is at least 16 kB, an empty memory value is 0,
      // save splits at single spaces (so a trailing space is a pair's "0")
      expect(await r.config('SET', 'hz', '0')).toBe('OK');
      expect(await r.config('GET', 'hz')).toEqual(['hz', '1']);
      expect(await r.config('SET', 'hz', '100000')).toBe('OK');
      expect(await r.config('GET', 'hz')).toEqual(['hz', '500']);
      expect(await r.config('SET', 'hz', '10')).toBe('OK');
      expect(await r.config('SET', 'repl-backlog-size', '1kb')).toBe('OK');
      expect(await r.config('GET', 'repl-backlog-size')).toEqual(['repl-backlog-size', '16384']);
      expect(await r.config('SET', 'repl-backlog-size', '1mb')).toBe('OK');
      expect(await r.config('SET', 'maxmemory', '')).toBe('OK');
      expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '0']);
      expect(await r.config('SET', 'maxmemory', '18446744073709551615')).toBe('OK');
      expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '18446744073709551615']);
      expect(await r.config('SET', 'maxmemory', '0')).toBe('OK');
      expect(await r.config('SET', 'save', '5 ')).toBe('OK');
      expect(await r.config('GET', 'save')).toEqual(['save', '5 0']);
      expect(await r.config('SET', 'save', '3600 1 300 100 60 10000')).toBe('OK');
    });

    it('SET error texts', async () => {
      const failed = (arg: string, why: string) => `ERR CONFIG SET failed (possibly related to argument '${arg}') - ${why}`;
      expect(await errOf(r.config('SET', 'foo', 'bar'))).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
      expect(await errOf(r.config('SET', 'databases', '5'))).toBe(failed('databases', "can't set immutable config"));
      expect(await errOf(r.config('SET', 'DATABASES', '5'))).toBe(failed('DATABASES', "can't set immutable config"));
      expect(await errOf(r.config('SET', 'daemonize', 'yes'))).toBe(failed('daemonize', "can't set immutable config"));
      expect(await errOf(r.config('SET', 'hz', 'abc'))).toBe(failed('hz', "argument couldn't be parsed into an integer"));
      expect(await errOf(r.config('SET', 'HZ', '+5'))).toBe(failed('hz', "argument couldn't be parsed into an integer"));
      expect(await errOf(r.config('SET', 'hz', '-1'))).toBe(failed('hz', 'argument must be between 0 and 2147483647 inclusive'));
      expect(await errOf(r.config('SET', 'timeout', '9223372036854775808'))).toBe(failed('timeout', "argument couldn't be parsed into an integer"));
      expect(await errOf(r.config('SET', 'maxmemory', ' 5'))).toBe(failed('maxmemory', 'argument must be a memory value'));
      expect(await errOf(r.config('SET', 'proto-max-bulk-len', '9223372036854775808'))).toBe(
        failed('proto-max-bulk-len', 'argument must be between 1048576 and 9223372036854775807 inclusive'),
      );
      expect(await errOf(r.config('SET', 'dbfilename', 'x.rdb'))).toBe(failed('dbfilename', "can't set protected config"));
      expect(await errOf(r.config('SET', 'maxclients', '0'))).toBe(failed('maxclients', 'argument must be between 1 and 4294967295 inclusive'));
      expect(await errOf(r.config('SET', 'slowlog-log-slower-than', '-5'))).toBe(
        failed('slowlog-log-slower-than', 'argument must be between -1 and 9223372036854775807 inclusive'),
      );
      expect(await errOf(r.config('SET', 'proto-max-bulk-len', '1000'))).toBe(
        failed('proto-max-bulk-len', 'argument must be between 1048576 and 9223372036854775807 inclusive'),
      );
      expect(await errOf(r.config('SET', 'protected-mode', 'maybe'))).toBe(failed('protected-mode', "argument must be 'yes' or 'no'"));
      expect(await errOf(r.config('SET', 'maxmemory', '1x'))).toBe(failed('maxmemory', 'argument must be a memory value'));
      expect(await errOf(r.config('SET', 'maxmemory-policy', 'foo'))).toBe(
        failed(
          'maxmemory-policy',
          'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction',
        ),
      );
      expect(await errOf(r.config('SET', 'appendfsync', 'sometimes'))).toBe(failed('appendfsync', 'argument(s) must be one of the following: everysec, always, no'));
      expect(await errOf(r.config('SET', 'save', '100 x'))).toBe(failed('save', 'Invalid save parameters'));
      expect(await errOf(r.config('SET', 'save', '0 1'))).toBe(failed('save', 'Invalid save parameters'));
      expect(await errOf(r.config('SET', 'client-output-buffer-limit', 'pubsub 1 2'))).toBe(
        failed('client-output-buffer-limit', 'Wrong number of arguments in buffer limit configuration.'),
      );
      expect(await errOf(r.config('SET', 'client-output-buffer-limit', 'foo 1 2 3'))).toBe(
        failed('client-output-buffer-limit', 'Invalid client class specified in buffer limit configuration.'),
      );
      expect(await errOf(r.call('config', 'set', 'hz', '20', 'hz', '30'))).toBe(failed('hz', 'duplicate parameter'));
      expect(await errOf(r.call('config', 'set', 'hz', '5', 'foo', '1', 'databases', '3'))).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
      expect(await errOf(r.call('config', 'set', 'databases', '5', 'foo', '1'))).toBe(failed('databases', "can't set immutable config"));
      // all or nothing: hz is not changed when maxclients is bad
      expect(await errOf(r.call('config', 'set', 'hz', '5', 'maxclients', 'abc'))).toBe(failed('maxclients', "argument couldn't be parsed into an integer"));
      expect(await r.config('GET', 'hz')).toEqual(['hz', '10']);
      expect(await errOf(r.call('config', 'set', 'hz', '5', 'maxclients'))).toBe('ERR syntax error');
      expect(await errOf(r.call('config', 'set', 'hz'))).toBe("ERR wrong number of arguments for 'config|set' command");
      expect(await errOf(r.call('config', 'foo'))).toBe("ERR unknown subcommand 'foo'. Try CONFIG HELP.");
      expect(await errOf(r.call('config'))).toBe("ERR wrong number of arguments for 'config' command");
    });

    it('dir is protected by default and reported as the absolute working directory', async () => {
      expect(await r.config('GET', 'dir')).toEqual(['dir', fs.realpathSync(srv.dir)]);
      expect(await errOf(r.config('SET', 'dir', os.tmpdir()))).toBe("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
      const s = await startServer(['--enable-protected-configs', 'yes']);
      try {
        const c = s.client();
        const other = tmpDir();
        expect(await errOf(c.config('SET', 'dir', path.join(other, 'missing')))).toBe(
          "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory",
        );
        fs.writeFileSync(path.join(other, 'afile'), '');
        expect(await errOf(c.config('SET', 'dir', path.join(other, 'afile')))).toBe("ERR CONFIG SET failed (possibly related to argument 'dir') - Not a directory");
        expect(await c.config('SET', 'dir', other)).toBe('OK');
        expect(await c.config('GET', 'dir')).toEqual(['dir', fs.realpathSync(other)]);
        expect(await errOf(c.config('SET', 'enable-protected-configs', 'no'))).toBe(
          "ERR CONFIG SET failed (possibly related to argument 'enable-protected-configs') - can't set immutable config",
        );
      } finally {
        await s.stop();
      }
    });

    it('REWRITE without a config file', async () => {
      expect(await errOf(r.call('config', 'rewrite'))).toBe('ERR The server is running without a config file');
      expect(await errOf(r.call('config', 'rewrite', 'x'))).toBe("ERR wrong number of arguments for 'config|rewrite' command");
    });

    it('HELP', async () => {
      const help = (await r.call('config', 'help')) as string[];
      expect(help[0]).toBe('CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
      expect(help).toContain('GET <pattern>');
      expect(help[help.length - 1]).toBe('    Prints this help.');
    });
  });

  describe('config files', () => {
    it('a config file as the first argument, with --flags after it taking precedence', async () => {
      const dir = tmpDir();
      const file = path.join(dir, 'node.conf');
      fs.writeFileSync(
        file,
        [
          '# a comment',
          '',
          'maxclients 123',
          '   hz 20   ',
          'requirepass "p w"',
          'save 900 1',
          'save 300 10',
          'maxmemory 100mb',
          'MAXMEMORY-POLICY allkeys-lru',
          'slave-read-only no',
          'client-output-buffer-limit pubsub 64mb 16mb 90',
          '',
        ].join('\n'),
      );
      const s = await startServer([file, '--hz', '30', '--timeout', '7']);
      try {
        const c = s.client({ password: 'p w' });
        const get = async (name: string) => ((await c.config('GET', name)) as string[])[1];
        expect(await get('maxclients')).toBe('123');
        expect(await get('hz')).toBe('30');
        expect(await get('timeout')).toBe('7');
        expect(await get('requirepass')).toBe('p w');
        expect(await get('save')).toBe('900 1 300 10');
        expect(await get('maxmemory')).toBe('104857600');
        expect(await get('maxmemory-policy')).toBe('allkeys-lru');
        expect(await get('replica-read-only')).toBe('no');
        expect(await get('client-output-buffer-limit')).toBe('normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90');
        const server = parseInfo((await c.info('server')) as string).get('Server')!;
        expect(server.get('config_file')).toBe(fs.realpathSync(file));
      } finally {
        await s.stop();
      }
    });

    it('a bad config file line stops the server with a fatal error', async () => {
      const dir = tmpDir();
      const file = path.join(dir, 'bad.conf');
      fs.writeFileSync(file, 'maxclients 10\nnosuchdirective 1\n');
      await expect(startServer([file])).rejects.toThrow(/FATAL CONFIG/);
    });

    it('CONFIG REWRITE keeps comments, rewrites lines in place and appends the rest', async () => {
      const dir = tmpDir();
      const file = path.join(dir, 'rw.conf');
      fs.writeFileSync(file, ['# keep me', 'maxclients 500', '', '', 'hz 15', '# and me', 'MAXCLIENTS 700', 'slave-read-only yes', ''].join('\n'));
      const s = await startServer([file]);
      let text: string;
      try {
        const c = s.client();
        expect(await c.config('GET', 'maxclients')).toEqual(['maxclients', '700']);
        expect(await c.call('config', 'set', 'maxclients', '600', 'hz', '10', 'maxmemory-policy', 'allkeys-lru', 'masterauth', 'a b"c')).toBe('OK');
        expect(await c.config('REWRITE')).toBe('OK');
        text = fs.readFileSync(file, 'utf8');
        const lines = text.split('\n');
        expect(lines.slice(0, 7)).toEqual(['# keep me', 'maxclients 600', '', 'hz 10', '# and me', '', 'replica-read-only yes']);
        expect(lines[7]).toBe('');
        expect(lines[8]).toBe('# Generated by CONFIG REWRITE');
        const tail = lines.slice(9);
        expect(tail).toContain('maxmemory-policy allkeys-lru');
        expect(tail).toContain('masterauth "a b\\"c"');
        expect(tail.some((l) => /^port \d+$/.test(l))).toBe(true);
        expect(tail).toContain(`dir "${fs.realpathSync(s.dir)}"`);
        expect(text.endsWith('\n')).toBe(true);
        // a second rewrite changes nothing
        expect(await c.config('REWRITE')).toBe('OK');
        expect(fs.readFileSync(file, 'utf8')).toBe(text);
      } finally {
        await s.stop();
      }
      // the rewritten file loads back to the same settings
      const again = await startServer([file]);
      try {
        const c2 = again.client();
        expect(await c2.config('GET', 'maxclients')).toEqual(['maxclients', '600']);
        expect(await c2.config('GET', 'masterauth')).toEqual(['masterauth', 'a b"c']);
        expect(await c2.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
        expect(await c2.config('GET', 'save')).toEqual(['save', '3600 1 300 100 60 10000']);
      } finally {
        await again.stop();
      }
    });
  });

  describe('TIME / SLOWLOG / DEBUG SLEEP', () => {
    it('TIME is the wall clock as [seconds, microseconds]', async () => {
      const [secs, usecs] = (await r.time()) as unknown as [string, string];
      expect(typeof secs).toBe('string');
      expect(secs).toMatch(/^\d+$/);
      expect(usecs).toMatch(/^\d{1,6}$/);
      expect(Math.abs(Number(secs) - Date.now() / 1000)).toBeLessThan(5);
      let last = 0;
      for (let i = 0; i < 50; i++) {
        const [s, u] = (await r.time()) as unknown as [string, string];
        const t = Number(s) * 1e6 + Number(u);
        expect(t).toBeGreaterThanOrEqual(last);
        last = t;
      }
      expect(await errOf(r.call('time', 'x'))).toBe("ERR wrong number of arguments for 'time' command");
    });

    it('SLOWLOG GET / LEN / RESET', async () => {
      const c = srv.client({ protocol: 2, connectionName: 'slowpoke' });
      expect(await c.call('slowlog', 'reset')).toBe('OK');
      expect(await c.config('SET', 'slowlog-log-slower-than', '0')).toBe('OK');
      await c.set('slow-key', 'slow-value');
      await c.call('echo', 'x'.repeat(200));
      await c.config('SET', 'slowlog-log-slower-than', '10000');
      expect(await c.call('slowlog', 'len')).toBe(3);
      const entries = (await c.call('slowlog', 'get')) as unknown[][];
      expect(entries.length).toBe(3);
      // newest first: the CONFIG SET that switched logging on is the oldest
      const [echo, set, config] = entries;
      expect(set[3]).toEqual(['set', 'slow-key', 'slow-value']);
      expect(config[3]).toEqual(['config', 'SET', 'slowlog-log-slower-than', '0']);
      expect(echo[3]).toEqual(['echo', 'x'.repeat(128) + '... (72 more bytes)']);
      expect(Number(set[0])).toBe(Number(config[0]) + 1);
      expect(Math.abs(Number(set[1]) - Date.now() / 1000)).toBeLessThan(5);
      expect(Number(set[2])).toBeGreaterThanOrEqual(0);
      expect(set[4]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(set[5]).toBe('slowpoke');
      expect(((await c.call('slowlog', 'get', '1')) as unknown[]).length).toBe(1);
      expect(((await c.call('slowlog', 'get', '-1')) as unknown[]).length).toBe(3);
      expect(await c.call('slowlog', 'get', '0')).toEqual([]);
      expect(await errOf(c.call('slowlog', 'get', '-2'))).toBe('ERR count should be greater than or equal to -1');
      expect(await c.call('slowlog', 'reset')).toBe('OK');
      expect(await c.call('slowlog', 'len')).toBe(0);
      expect(await errOf(c.call('slowlog', 'foo'))).toBe("ERR unknown subcommand 'foo'. Try SLOWLOG HELP.");
      const help = (await c.call('slowlog', 'help')) as string[];
      expect(help[2]).toBe('    Return top <count> entries from the slowlog (default: 10, -1 mean all).');
      c.disconnect();
    });

    it('slowlog-max-len bounds the log', async () => {
      await r.call('slowlog', 'reset');
      await r.config('SET', 'slowlog-max-len', '2');
      await r.config('SET', 'slowlog-log-slower-than', '0');
      for (let i = 0; i < 5; i++) await r.ping();
      await r.config('SET', 'slowlog-log-slower-than', '10000');
      expect(await r.call('slowlog', 'len')).toBe(2);
      await r.config('SET', 'slowlog-max-len', '128');
      await r.call('slowlog', 'reset');
    });

    it('DEBUG SLEEP blocks the whole server for that long', async () => {
      const other = srv.client();
      await other.ping();
      const started = Date.now();
      const sleeping = r.call('debug', 'sleep', '0.2');
      await sleep(20);
      const t0 = Date.now();
      expect(await other.ping()).toBe('PONG');
      const blocked = Date.now() - t0;
      expect(await sleeping).toBe('OK');
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(blocked).toBeGreaterThanOrEqual(120);
      expect(await r.call('debug', 'sleep', '0')).toBe('OK');
      other.disconnect();
    });
  });

  describe('SHUTDOWN', () => {
    it('the process exits; the caller gets no reply', async () => {
      const s = await startServer();
      try {
        const exited = new Promise<number | null>((res) => s.proc.once('exit', (code) => res(code)));
        const c = await rawConn(s);
        expect(await c.send('SHUTDOWN', 'foo')).toBe('-ERR syntax error\r\n');
        expect(await c.send('SHUTDOWN', 'ABORT')).toBe('-ERR No shutdown in progress.\r\n');
        expect(await c.send('SHUTDOWN', 'NOSAVE')).toBe('');
        await c.closed;
        expect(await exited).toBe(0);
      } finally {
        await s.stop();
      }
    });
  });

  describe('COMMAND', () => {
    it('COUNT / LIST / plain COMMAND agree', async () => {
      const count = (await r.call('command', 'count')) as number;
      const list = (await r.call('command', 'list')) as string[];
      const all = (await r.call('command')) as unknown[][];
      expect(count).toBeGreaterThan(50);
      // COUNT and plain COMMAND cover the top-level commands; LIST adds the subcommands
      expect(all.length).toBe(count);
      const top = list.filter((n) => !n.includes('|'));
      expect(top.length).toBe(count);
      expect(new Set(list).size).toBe(list.length);
      expect(top.sort()).toEqual(all.map((c) => c[0] as string).sort());
      for (const name of ['get', 'set', 'multi', 'exec', 'subscribe', 'client', 'config', 'command', 'hello', 'auth']) expect(list).toContain(name);
      for (const name of ['config|get', 'client|list', 'command|info', 'pubsub|numsub', 'slowlog|get']) expect(list).toContain(name);
      expect(await errOf(r.call('command', 'count', 'x'))).toBe("ERR wrong number of arguments for 'command|count' command");
    });

    it('INFO get', async () => {
      const [get] = (await r.call('command', 'info', 'get')) as unknown[][];
      expect(get.slice(0, 7)).toEqual(['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast']]);
      expect(get.length).toBe(10);
      const [set, mset, nothing, cfgGet] = (await r.call('command', 'info', 'set', 'MSET', 'nosuchcmd', 'config|get')) as unknown[][];
      expect(set.slice(0, 7)).toEqual(['set', -3, ['write', 'denyoom'], 1, 1, 1, ['@write', '@string', '@slow']]);
      expect(mset.slice(0, 7)).toEqual(['mset', -3, ['write', 'denyoom'], 1, -1, 2, ['@write', '@string', '@slow']]);
      expect(nothing).toBeNull();
      expect(cfgGet.slice(0, 7)).toEqual(['config|get', -3, ['admin', 'noscript', 'loading', 'stale'], 0, 0, 0, ['@admin', '@slow', '@dangerous']]);
      const [auth, exec] = (await r.call('command', 'info', 'auth', 'exec')) as unknown[][];
      expect(auth.slice(0, 3)).toEqual(['auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy']]);
      expect(exec.slice(0, 3)).toEqual(['exec', 1, ['noscript', 'loading', 'stale', 'skip_slowlog']]);
    });

    it('INFO of a container lists its subcommands', async () => {
      const [config] = (await r.call('command', 'info', 'config')) as unknown[][];
      expect(config.slice(0, 7)).toEqual(['config', -2, [], 0, 0, 0, ['@slow']]);
      const subs = (config[9] as unknown[][]).map((s) => s[0]).sort();
      expect(subs).toEqual(['config|get', 'config|help', 'config|resetstat', 'config|rewrite', 'config|set']);
    });

    it('INFO unknown is a null bulk in RESP2 (not a null array)', async () => {
      const c = await rawConn(srv);
      expect(await c.send('COMMAND', 'INFO', 'nosuchcmd')).toBe('*1\r\n$-1\r\n');
    });

    it('DOCS', async () => {
      const docs = (await r.call('command', 'docs', 'get')) as unknown[];
      expect(docs[0]).toBe('get');
      const fields = docs[1] as unknown[];
      const m = Object.fromEntries(fields.flatMap((_, i) => (i % 2 ? [] : [[fields[i], fields[i + 1]]])));
      expect(m.group).toBe('string');
      expect(m.since).toBe('1.0.0');
      expect(typeof m.summary).toBe('string');
      expect(await r.call('command', 'docs', 'nosuchcmd')).toEqual([]);
    });

    it('LIST FILTERBY', async () => {
      expect(((await r.call('command', 'list', 'filterby', 'aclcat', 'transaction')) as string[]).sort()).toEqual(['discard', 'exec', 'multi', 'unwatch', 'watch']);
      expect(((await r.call('command', 'list', 'filterby', 'pattern', 'config*')) as string[]).sort()).toEqual([
        'config',
        'config|get',
        'config|help',
        'config|resetstat',
        'config|rewrite',
        'config|set',
      ]);
      const conn = (await r.call('command', 'list', 'filterby', 'aclcat', 'connection')) as string[];
      for (const n of ['ping', 'echo', 'hello', 'auth', 'select', 'client|id', 'command|info']) expect(conn).toContain(n);
      // a container has no category of its own
      expect(conn).not.toContain('client');
      expect(await r.call('command', 'list', 'filterby', 'aclcat', 'nosuchcat')).toEqual([]);
      expect(await r.call('command', 'list', 'filterby', 'module', 'x')).toEqual([]);
      const gets = (await r.call('command', 'list', 'filterby', 'pattern', 'get*')) as string[];
      for (const n of ['get', 'getdel', 'getset', 'getrange']) expect(gets).toContain(n);
      expect(gets.every((n) => n.startsWith('get'))).toBe(true);
      expect(await r.call('command', 'list', 'filterby', 'pattern', 'xyz*')).toEqual([]);
      expect(await errOf(r.call('command', 'list', 'filterby', 'foo', 'bar'))).toBe('ERR syntax error');
      expect(await errOf(r.call('command', 'list', 'foo'))).toBe('ERR syntax error');
    });

    it('GETKEYS', async () => {
      expect(await r.call('command', 'getkeys', 'get', 'k')).toEqual(['k']);
      expect(await r.call('command', 'getkeys', 'set', 'a', 'b')).toEqual(['a']);
      expect(await r.call('command', 'getkeys', 'mset', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
      expect(await r.call('command', 'getkeys', 'del', 'x', 'y', 'z')).toEqual(['x', 'y', 'z']);
      expect(await errOf(r.call('command', 'getkeys', 'get'))).toBe("ERR wrong number of arguments for 'command|getkeys' command");
      expect(await errOf(r.call('command', 'getkeys', 'get', 'a', 'b'))).toBe('ERR Invalid number of arguments specified for command');
      expect(await errOf(r.call('command', 'getkeys', 'nosuch', 'a'))).toBe('ERR Invalid command specified');
      expect(await errOf(r.call('command', 'getkeys', 'ping', 'x'))).toBe('ERR The command has no key arguments');
    });

    it('HELP', async () => {
      const help = (await r.call('command', 'help')) as string[];
      expect(help[0]).toBe('COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
      expect(help).toContain('GETKEYS <full-command>');
      expect(help[help.length - 1]).toBe('    Prints this help.');
    });
  });
});
