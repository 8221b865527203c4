// Auth and ACL against real processes: users, passwords, command categories, key and channel patterns,
// WHOAMI/LIST/GETUSER/DELUSER/DRYRUN (LIST compared with redis-server's for the same rules), MULTI,
// redis-cli --user/--pass, requirepass, protected mode on a non-loopback address, and replication,
// sentinel and the cluster bus with passwords.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { REDIS_SERVER, rawPort, startRedis } from '../helpers/redis-reference';
import { freePort, kv, tempDir } from '../sentinel/helpers';
import { clusterArgs, clusterPort } from '../cluster/cluster-helpers';
import { sleep, until as waitUntil } from '../helpers/wait';

const until = <T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20000): Promise<T> =>
  waitUntil(what, f, ok, timeoutMs, 50);

const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

function infoFields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function redisCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('redis-cli', args, { timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

/** Sends one raw line and returns what the server answered before closing or the timeout. */
function rawAnswer(host: string, port: number, line: string, ms = 10000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const s = net.connect(port, host, () => s.write(line));
    const timer = setTimeout(() => {
      s.destroy();
      resolve(buf);
    }, ms);
    s.on('data', (d) => {
      buf += d;
      if (buf.endsWith('\r\n')) {
        clearTimeout(timer);
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('ACL users and permissions', () => {
  let srv: TestServer;
  let admin: Redis;
  beforeAll(async () => {
    srv = await startServer();
    admin = srv.client();
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('categories: +@read -@admin allows reads, refuses writes and admin commands with NOPERM', async () => {
    expect(await admin.call('ACL', 'SETUSER', 'reader', 'on', '>rpw', '~*', '+@read', '-@admin')).toBe('OK');
    await admin.set('k1', 'v1');
    const r = srv.client({ username: 'reader', password: 'rpw' });
    expect(await r.get('k1')).toBe('v1');
    expect(await errorOf(r.call('ACL', 'WHOAMI'))).toBe("NOPERM this user has no permissions to run the 'acl|whoami' command");
    expect(await errorOf(r.set('k1', 'x'))).toBe("NOPERM this user has no permissions to run the 'set' command");
    expect(await errorOf(r.call('CONFIG', 'GET', 'port'))).toBe("NOPERM this user has no permissions to run the 'config|get' command");
    // a subcommand can be allowed on its own
    await admin.call('ACL', 'SETUSER', 'reader', '+config|get');
    expect(await r.call('CONFIG', 'GET', 'maxclients')).toEqual(['maxclients', '10000']);
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxclients', '100'))).toBe("NOPERM this user has no permissions to run the 'config|set' command");
    // AI commands are in @read / @write and @ai
    const cats = (await admin.call('ACL', 'CAT', 'ai')) as string[];
    expect(cats).toContain('ai.tensorset');
    expect((await admin.call('ACL', 'CAT', 'read')) as string[]).toContain('ai.tensorget');
    expect(await errorOf(r.call('AI.TENSORSET', 't1', 'FLOAT', '1', 'VALUES', '1'))).toBe(
      "NOPERM this user has no permissions to run the 'ai.tensorset' command",
    );
  });

  it('key patterns (~ and %R~) and channel patterns', async () => {
    await admin.call('ACL', 'SETUSER', 'keyed', 'on', 'nopass', '+@all', '~app:*', '%R~ro:*', '&news.*');
    await admin.set('ro:1', 'r');
    const k = srv.client({ username: 'keyed', password: 'any' });
    expect(await k.set('app:1', 'x')).toBe('OK');
    expect(await k.get('app:1')).toBe('x');
    expect(await k.get('ro:1')).toBe('r');
    const keyErr = 'NOPERM this user has no permissions to access one of the keys used as arguments';
    expect(await errorOf(k.set('ro:1', 'w'))).toBe(keyErr);
    expect(await errorOf(k.get('other'))).toBe(keyErr);
    expect(await errorOf(k.mget('app:1', 'other'))).toBe(keyErr);
    // AI commands: keys found by their getKeys functions (DAG LOAD / PERSIST included)
    await admin.call('AI.TENSORSET', 'other', 'FLOAT', '1', 'VALUES', '1');
    expect(await k.call('AI.TENSORSET', 'app:t', 'FLOAT', '1', 'VALUES', '7')).toBe('OK');
    expect(await errorOf(k.call('AI.TENSORSET', 'other', 'FLOAT', '1', 'VALUES', '2'))).toBe(keyErr);
    expect(await k.call('AI.DAGEXECUTE', 'LOAD', '1', 'app:t', '|>', 'AI.TENSORGET', 'app:t', 'VALUES')).toEqual([['7']]);
    expect(await errorOf(k.call('AI.DAGEXECUTE', 'LOAD', '1', 'other', '|>', 'AI.TENSORGET', 'other', 'VALUES'))).toBe(keyErr);
    expect(await errorOf(k.call('AI.DAGEXECUTE', 'LOAD', '1', 'app:t', 'PERSIST', '1', 'other', '|>', 'AI.TENSORSET', 'other', 'FLOAT', '1', 'VALUES', '3'))).toBe(keyErr);
    expect(await k.publish('news.today', 'hi')).toBe(0);
    expect(await errorOf(k.publish('sport', 'hi'))).toBe('NOPERM this user has no permissions to access one of the channels used as arguments');
    expect(await admin.call('ACL', 'DRYRUN', 'keyed', 'get', 'other')).toBe("This user has no permissions to access the 'other' key");
    expect(await admin.call('ACL', 'DRYRUN', 'keyed', 'get', 'app:2')).toBe('OK');
    expect(await admin.call('ACL', 'DRYRUN', 'keyed', 'publish', 'sport', 'x')).toBe("This user has no permissions to access the 'sport' channel");
    expect(await errorOf(admin.call('ACL', 'DRYRUN', 'nosuch', 'get', 'x'))).toBe("ERR User 'nosuch' not found");
    // a subscriber whose channel is revoked is disconnected; one still allowed stays
    const sub1 = srv.client({ username: 'keyed', password: 'any', retryStrategy: () => null });
    const sub2 = srv.client({ username: 'keyed', password: 'any', retryStrategy: () => null });
    await sub1.subscribe('news.a');
    await sub2.subscribe('news.b');
    const gone = new Promise((r) => sub1.once('end', r));
    await admin.call('ACL', 'SETUSER', 'keyed', 'resetchannels', '&news.b');
    await gone;
    expect(await admin.call('PUBSUB', 'NUMSUB', 'news.a', 'news.b')).toEqual(['news.a', 0, 'news.b', 1]);
  });

  it('passwords, on/off, AUTH and HELLO AUTH errors', async () => {
    await admin.call('ACL', 'SETUSER', 'pat', 'on', '>one', '>two', '+@all', '~*');
    const raw = srv.client();
    expect(await raw.call('AUTH', 'pat', 'one')).toBe('OK');
    expect(await raw.call('ACL', 'WHOAMI')).toBe('pat');
    expect(await raw.call('AUTH', 'pat', 'two')).toBe('OK');
    const wrong = 'WRONGPASS invalid username-password pair or user is disabled.';
    expect(await errorOf(raw.call('AUTH', 'pat', 'three'))).toBe(wrong);
    expect(await errorOf(raw.call('AUTH', 'nobody', 'one'))).toBe(wrong);
    // a failed AUTH keeps the previous login
    expect(await raw.call('ACL', 'WHOAMI')).toBe('pat');
    await admin.call('ACL', 'SETUSER', 'pat', '<one');
    expect(await errorOf(raw.call('AUTH', 'pat', 'one'))).toBe(wrong);
    await admin.call('ACL', 'SETUSER', 'pat', 'off');
    expect(await errorOf(raw.call('AUTH', 'pat', 'two'))).toBe(wrong);
    expect(await errorOf(raw.call('HELLO', '3', 'AUTH', 'pat', 'two'))).toBe(wrong);
    await admin.call('ACL', 'SETUSER', 'pat', 'on');
    const hello = (await raw.call('HELLO', '2', 'AUTH', 'pat', 'two')) as unknown[];
    expect(hello[0]).toBe('server');
    expect(await raw.call('ACL', 'WHOAMI')).toBe('pat');
    expect(await errorOf(raw.call('AUTH', 'onlypass'))).toBe(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
    // rule errors name the bad rule, and a SETUSER with a bad rule changes nothing
    expect(await errorOf(admin.call('ACL', 'SETUSER', 'pat', '-get', 'bogus'))).toBe("ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
    expect(await admin.call('ACL', 'DRYRUN', 'pat', 'get', 'x')).toBe('OK');
    expect(await errorOf(admin.call('ACL', 'SETUSER', 'pat', '+nosuch'))).toBe(
      "ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL",
    );
    expect(await errorOf(admin.call('ACL', 'SETUSER', 'pat', '#abc'))).toBe(
      "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    );
  });

  it('GETUSER, USERS, CLIENT LIST user=, and DELUSER disconnecting the user', async () => {
    await admin.call('ACL', 'SETUSER', 'gone', 'on', '>pw', '+get', '~k*');
    const g = (await admin.call('ACL', 'GETUSER', 'gone')) as unknown[];
    expect(g).toEqual([
      'flags', ['on'],
      'passwords', ['30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4'],
      'commands', '-@all +get',
      'keys', '~k*',
      'channels', '',
      'selectors', [],
    ]);
    expect(await admin.call('ACL', 'GETUSER', 'nosuch')).toBeNull();
    expect(await admin.call('ACL', 'USERS')).toContain('gone');
    const victim = srv.client({ username: 'gone', password: 'pw', retryStrategy: () => null });
    expect(await victim.call('GET', 'k-none')).toBeNull();
    expect(await admin.call('CLIENT', 'LIST')).toMatch(/ user=gone /);
    const closed = new Promise((r) => victim.once('end', r));
    expect(await admin.call('ACL', 'DELUSER', 'gone', 'nosuch')).toBe(1);
    await closed;
    expect(await admin.call('CLIENT', 'LIST')).not.toMatch(/ user=gone /);
    expect(await errorOf(admin.call('ACL', 'DELUSER', 'default'))).toBe("ERR The 'default' user cannot be removed");
  });

  it('MULTI: a refused command aborts EXEC', async () => {
    await admin.call('ACL', 'SETUSER', 'tx', 'on', 'nopass', '~*', '+multi', '+exec', '+get');
    const t = srv.client({ username: 'tx', password: 'x' });
    await t.call('MULTI');
    expect(await t.call('GET', 'k1')).toBe('QUEUED');
    expect(await errorOf(t.call('SET', 'k1', 'v'))).toBe("NOPERM this user has no permissions to run the 'set' command");
    expect(await errorOf(t.call('EXEC'))).toBe('EXECABORT Transaction discarded because of previous errors.');
    // rules changed between MULTI and EXEC: the command is refused inside EXEC's reply
    await admin.call('ACL', 'SETUSER', 'tx', '+set', '+publish', 'allchannels');
    await admin.set('k1', 'v1');
    await t.call('MULTI');
    await t.call('SET', 'k1', 'v');
    await t.call('GET', 'k1');
    await t.call('PUBLISH', 'ch', 'm');
    await admin.call('ACL', 'SETUSER', 'tx', '-set', 'resetchannels');
    const res = (await t.exec())!;
    const prefix = 'NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ';
    expect(res.map(([e, v]) => (e ? e.message : v))).toEqual([
      prefix + 'no permission to execute the command or subcommand',
      'v1',
      prefix + 'no permission to access one of the channels used as arguments',
    ]);
  });

  it('ACL LOG records refused commands, keys, channels and failed logins, grouped as Redis', async () => {
    await admin.call('ACL', 'SETUSER', 'logged', 'on', '>lpw', '+get', '+set', '~k*', 'resetchannels');
    const u = srv.client({ username: 'logged', password: 'lpw' });
    expect(await u.get('k-none')).toBeNull();
    // (ioredis's own start-up commands were refused too: start from an empty log)
    expect(await admin.call('ACL', 'LOG', 'RESET')).toBe('OK');
    await errorOf(u.call('DEL', 'k'));
    await errorOf(u.call('DEL', 'k'));
    await errorOf(u.get('zz'));
    await errorOf(u.call('AUTH', 'logged', 'bad'));
    const log = ((await admin.call('ACL', 'LOG')) as unknown[][]).map((e) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < e.length; i += 2) o[e[i] as string] = e[i + 1];
      return o;
    });
    expect(log.map((e) => [e.count, e.reason, e.context, e.object, e.username])).toEqual([
      [1, 'auth', 'toplevel', 'AUTH', 'logged'],
      [1, 'key', 'toplevel', 'zz', 'logged'],
      [2, 'command', 'toplevel', 'del', 'logged'],
    ]);
    expect(log[0]['client-info']).toMatch(/ user=logged /);
    expect(Number(log[2]['age-seconds'])).toBeGreaterThanOrEqual(0);
    expect(((await admin.call('ACL', 'LOG', '1')) as unknown[]).length).toBe(1);
    expect(await errorOf(admin.call('ACL', 'LOG', 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await admin.call('ACL', 'LOG', 'RESET')).toBe('OK');
    expect(await admin.call('ACL', 'LOG')).toEqual([]);
  });

  it('redis-cli --user/--pass', async () => {
    await admin.call('ACL', 'SETUSER', 'cli', 'on', '>clipw', '~*', '+@all', '-@dangerous');
    const ok = await redisCli(['-p', String(srv.port), '--user', 'cli', '--pass', 'clipw', '--no-auth-warning', 'ACL', 'WHOAMI']);
    expect(ok.out.trim()).toBe('cli');
    const denied = await redisCli(['-p', String(srv.port), '--user', 'cli', '--pass', 'clipw', '--no-auth-warning', 'KEYS', '*']);
    expect(denied.out.trim()).toBe("NOPERM this user has no permissions to run the 'keys' command");
    const bad = await redisCli(['-p', String(srv.port), '--user', 'cli', '--pass', 'nope', '--no-auth-warning', 'PING']);
    expect(bad.out).toContain('WRONGPASS');
  });

  it('aclfile: users loaded at start, ACL SAVE and ACL LOAD (all or nothing, as Redis)', async () => {
    const dir = tempDir('inferdb-aclfile-');
    const file = path.join(dir, 'users.acl');
    fs.writeFileSync(file, '# users\nuser default on nopass ~* &* +@all\nuser bob on >pw ~k* +get\n');
    const s = await startServer(['--aclfile', file]);
    try {
      const c = s.client();
      const bob = `user bob on #${sha256('pw')} ~k* resetchannels -@all +get`;
      expect(await c.call('ACL', 'LIST')).toEqual([bob, 'user default on nopass ~* &* +@all']);
      const b = s.client({ username: 'bob', password: 'pw', retryStrategy: () => null });
      expect(await b.get('k1')).toBeNull();
      await c.call('ACL', 'SETUSER', 'carl', 'on', '>x', '+ping');
      expect(await c.call('ACL', 'SAVE')).toBe('OK');
      const carl = `user carl on #${sha256('x')} resetchannels -@all +ping`;
      expect(fs.readFileSync(file, 'utf8')).toBe([bob, carl, 'user default on nopass ~* &* +@all', ''].join('\n'));
      // a bad file changes nothing
      fs.writeFileSync(file, 'user bob on >pw +nosuch\nfoo bar\n');
      expect(await errorOf(c.call('ACL', 'LOAD'))).toBe(
        `ERR ${file}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. ${file}:2 should start with user keyword followed by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed`,
      );
      expect(((await c.call('ACL', 'LIST')) as string[]).length).toBe(3);
      // a good one replaces every user; bob's connection goes with his user
      fs.writeFileSync(file, 'user dan on >d +get\n');
      const closed = new Promise((r) => b.once('end', r));
      expect(await c.call('ACL', 'LOAD')).toBe('OK');
      await closed;
      expect(await c.call('ACL', 'USERS')).toEqual(['dan', 'default']);
    } finally {
      await s.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // start-up refuses a bad file, as Redis
    const bad = tempDir('inferdb-aclfile-');
    fs.writeFileSync(path.join(bad, 'bad.acl'), 'user x on +nosuch\n');
    const err = await errorOf(startServer(['--aclfile', path.join(bad, 'bad.acl')]));
    expect(err).toContain('Aborting Redis startup because of ACL errors');
    fs.rmSync(bad, { recursive: true, force: true });
    expect(await errorOf(srv.client().call('ACL', 'SAVE'))).toMatch(/^ERR This Redis instance is not configured to use an ACL file/);
  });

  it('requirepass is the default user password', async () => {
    const s = await startServer(['--requirepass', 'sekret']);
    try {
      expect(await rawAnswer('127.0.0.1', s.port, 'GET x\r\n')).toBe('-NOAUTH Authentication required.\r\n');
      const c = s.client({ password: 'sekret' });
      expect(await c.call('ACL', 'WHOAMI')).toBe('default');
      const list = (await c.call('ACL', 'LIST')) as string[];
      expect(list).toEqual([`user default on #${sha256('sekret')} ~* &* +@all`]);
      // changing requirepass at run time changes what AUTH accepts
      await c.call('CONFIG', 'SET', 'requirepass', 'other');
      expect(await c.call('AUTH', 'other')).toBe('OK');
      expect(await errorOf(c.call('AUTH', 'sekret'))).toBe('WRONGPASS invalid username-password pair or user is disabled.');
    } finally {
      await s.stop();
    }
  });
});

function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

describe.skipIf(!REDIS_SERVER)('ACL LIST matches redis-server', () => {
  let ours: TestServer;
  let ref: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    ours = await startServer();
    ref = await startRedis();
  });
  afterAll(async () => {
    await ours?.stop();
    ref?.proc.kill('SIGKILL');
  });

  it('gives every command redis-server has the same ACL categories', async () => {
    type Info = [string, ...unknown[]];
    const a = new Redis(ours.port, '127.0.0.1');
    const b = new Redis(ref.port, '127.0.0.1');
    try {
      const theirs = new Map(((await b.call('COMMAND')) as Info[]).map((c) => [c[0], c]));
      const diffs: string[] = [];
      let compared = 0;
      const walk = (mine: Info, ref: Info | undefined) => {
        if (!ref) return;
        compared++;
        const cats = (x: Info) => [...(x[6] as string[])].sort().join(' ');
        if (cats(mine) !== cats(ref)) diffs.push(`${mine[0]}: ours ${cats(mine)}, redis ${cats(ref)}`);
        const subs = new Map(((ref[9] as Info[]) ?? []).map((x) => [x[0], x]));
        for (const sub of (mine[9] as Info[]) ?? []) walk(sub, subs.get(sub[0]));
      };
      for (const c of (await a.call('COMMAND')) as Info[]) walk(c, theirs.get(c[0]));
      expect(diffs).toEqual([]);
      expect(compared).toBeGreaterThan(200);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('prints the same lines for the same rules', async () => {
    const rules: string[][] = [
      ['alice', 'on', '>p1', '~foo*', '+@read', '-@admin', '+set', '%R~bar*', '&ch*'],
      ['bob', 'on', 'nopass', '+get', '~k*'],
      ['carl', 'on', '>a', '+@all', '-@dangerous', '-client|kill'],
      ['dora', '+@hash', '+@set'],
      ['emil', 'reset', '+@all', '-@admin', 'allkeys', 'allchannels'],
      ['fay', '+select|0', 'off', '#' + sha256('x')],
      ['gus', 'on', '+@all', '-client', '+client|list'],
    ];
    const a = new Redis(ours.port, '127.0.0.1');
    const b = new Redis(ref.port, '127.0.0.1');
    try {
      for (const r of rules) {
        expect(await a.call('ACL', 'SETUSER', ...r)).toBe('OK');
        expect(await b.call('ACL', 'SETUSER', ...r)).toBe('OK');
      }
      const mine = (await a.call('ACL', 'LIST')) as string[];
      expect(mine).toEqual(await b.call('ACL', 'LIST'));
      expect(mine.length).toBe(rules.length + 1);
      // GETUSER byte for byte, RESP2 and RESP3
      for (const proto of [2, 3] as const) {
        const x = await rawPort(ours.port, proto);
        const y = await rawPort(ref.port, proto);
        try {
          for (const name of ['alice', 'default', 'emil', 'nosuch']) {
            const mineRaw = await x.send('ACL', 'GETUSER', name);
            expect(mineRaw).toBe(await y.send('ACL', 'GETUSER', name));
          }
        } finally {
          x.sock.destroy();
          y.sock.destroy();
        }
      }
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const EXTERNAL = externalIPv4();

// skipped when this machine has no non-loopback IPv4 address (protected mode only refuses those)
describe.skipIf(!EXTERNAL)('protected mode', () => {
  let srv: TestServer | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  it('refuses non-loopback clients while the default user has no password', async () => {
    srv = await startServer(['--bind', `127.0.0.1 ${EXTERNAL}`]);
    const answer = await rawAnswer(EXTERNAL!, srv.port, 'PING\r\n');
    expect(answer).toBe(
      '-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
        'In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
        "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
        '4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n',
    );
    // loopback is still served
    expect(await rawAnswer('127.0.0.1', srv.port, 'PING\r\n')).toBe('+PONG\r\n');
  });

  it('accepts them once a password is set', async () => {
    srv = await startServer(['--bind', `127.0.0.1 ${EXTERNAL}`, '--requirepass', 'pw']);
    expect(await rawAnswer(EXTERNAL!, srv.port, 'AUTH pw\r\n')).toBe('+OK\r\n');
  });
});

describe('replication with passwords', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });
  const start = async (args: string[]) => {
    const s = await startServer(args);
    servers.push(s);
    return s;
  };
  const linkStatus = async (r: Redis) => infoFields(await r.info('replication')).master_link_status;

  it('syncs with requirepass + masterauth, and with an ACL user (masteruser)', async () => {
    const master = await start(['--requirepass', 'mpw']);
    const m = master.client({ password: 'mpw' });
    await m.set('before', '1');
    const replica = await start(['--replicaof', `127.0.0.1 ${master.port}`, '--masterauth', 'mpw']);
    const r = replica.client();
    await until('the replica link', () => linkStatus(r), (s) => s === 'up');
    await until('the data', () => r.get('before'), (v) => v === '1');

    // a replica logging in as its own user, allowed only what replication needs
    await m.call('ACL', 'SETUSER', 'repl', 'on', '>rpw', '-@all', '+psync', '+sync', '+replconf', '+ping');
    const replica2 = await start(['--replicaof', `127.0.0.1 ${master.port}`, '--masteruser', 'repl', '--masterauth', 'rpw']);
    const r2 = replica2.client();
    await until('the second replica link', () => linkStatus(r2), (s) => s === 'up');
    await m.set('after', '2');
    await until('the stream', () => r2.get('after'), (v) => v === '2');
    expect(await m.call('CLIENT', 'LIST')).toMatch(/ user=repl /);
  });

  it('does not sync with a wrong password', async () => {
    const master = await start(['--requirepass', 'mpw']);
    const m = master.client({ password: 'mpw' });
    await m.set('k', 'v');
    const replica = await start(['--replicaof', `127.0.0.1 ${master.port}`, '--masterauth', 'wrong']);
    const r = replica.client();
    await until('a failed AUTH in the log', async () => replica.output(), (out) => out.includes('Unable to AUTH to MASTER'));
    expect(await linkStatus(r)).toBe('down');
    expect(await r.get('k')).toBeNull();
    // fixing the password at run time lets the next attempt through
    await r.call('CONFIG', 'SET', 'masterauth', 'mpw');
    await until('the replica link', () => linkStatus(r), (s) => s === 'up');
    expect(await r.get('k')).toBe('v');
  });
});

describe('sentinel with passwords', () => {
  const servers: TestServer[] = [];
  const procs: ChildProcess[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.stop()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  /** Our sentinel with requirepass set; returns its port and a logged-in client. */
  async function sentinel(masterPort: number, dir: string): Promise<{ port: number; c: Redis; out: () => string }> {
    const port = await freePort();
    const conf = path.join(dir, `sentinel-${port}.conf`);
    fs.writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        'requirepass spw',
        'sentinel sentinel-pass spw',
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 3000',
        'sentinel auth-user mymaster watcher',
        'sentinel auth-pass mymaster wpw',
        '',
      ].join('\n'),
    );
    const proc = spawn(process.execPath, [path.resolve(__dirname, '../../dist/main.js'), '--sentinel', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    await until('the sentinel to start', async () => out, (o) => o.includes('Sentinel ID is'));
    const c = new Redis({ port, host: '127.0.0.1', password: 'spw', maxRetriesPerRequest: 1 });
    return { port, c, out: () => out };
  }

  it('monitors a password-protected master through an ACL user, sentinels log in to each other, and fail over', async () => {
    const dir = tempDir('inferdb-acl-sentinel-');
    dirs.push(dir);
    const auth = ['--requirepass', 'pw', '--masterauth', 'pw'];
    const master = await startServer(auth);
    const replica = await startServer([...auth, '--replicaof', `127.0.0.1 ${master.port}`]);
    servers.push(master, replica);
    // the user Redis's documentation gives sentinels (ACL users are per node: created on both)
    for (const n of [master, replica]) {
      const c = n.client({ password: 'pw' });
      await c.call('ACL', 'SETUSER', 'watcher', 'on', '>wpw', 'allchannels', '+multi', '+slaveof', '+replicaof', '+ping', '+exec', '+subscribe',
        '+config|rewrite', '+role', '+publish', '+info', '+client|setname', '+client|kill');
    }
    const rc = replica.client({ password: 'pw' });
    await until('the replica link', async () => infoFields(await rc.info('replication')).master_link_status, (s) => s === 'up');
    const s1 = await sentinel(master.port, dir);
    const s2 = await sentinel(master.port, dir);
    // unauthenticated clients are refused by the sentinel itself
    expect(await rawAnswer('127.0.0.1', s1.port, 'PING\r\n')).toBe('-NOAUTH Authentication required.\r\n');
    await until(
      'the sentinels to find the replica and each other',
      async () => [kv(await s1.c.call('SENTINEL', 'MASTER', 'mymaster')), kv(await s2.c.call('SENTINEL', 'MASTER', 'mymaster'))],
      (m) => m.every((x) => x.flags === 'master' && x['num-slaves'] === '1' && x['num-other-sentinels'] === '1'),
    );
    const peers = ((await s1.c.call('SENTINEL', 'SENTINELS', 'mymaster')) as unknown[]).map(kv);
    expect(peers[0].flags).toBe('sentinel');
    expect(await master.client({ password: 'pw' }).call('CLIENT', 'LIST')).toMatch(/ user=watcher /);
    master.proc.kill('SIGKILL');
    await until(
      'the failover',
      () => s1.c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster') as Promise<string[]>,
      (a) => a[1] === String(replica.port),
      30000,
    );
    expect(infoFields(await rc.info('replication')).role).toBe('master');
    expect(s1.out() + s2.out()).toContain('+odown');
    s1.c.disconnect();
    s2.c.disconnect();
  }, 60000);
});

describe('cluster bus with a password', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('joins the nodes that know the password and never the one that does not', async () => {
    const start = async (pw: string) => {
      const s = await startServer([...clusterArgs(await clusterPort()), '--cluster-bus-password', pw]);
      servers.push(s);
      return s;
    };
    const [a, b, c] = [await start('bus-secret'), await start('bus-secret'), await start('bus-secret')];
    const intruder = await start('guess');
    const ca = a.client();
    const ids = await Promise.all([a, b, c, intruder].map((n) => n.client().call('CLUSTER', 'MYID') as Promise<string>));
    // MEET both ways: the good nodes try to add the intruder, and the intruder tries to join them
    expect(await ca.call('CLUSTER', 'MEET', '127.0.0.1', String(b.port))).toBe('OK');
    expect(await ca.call('CLUSTER', 'MEET', '127.0.0.1', String(c.port))).toBe('OK');
    expect(await ca.call('CLUSTER', 'MEET', '127.0.0.1', String(intruder.port))).toBe('OK');
    expect(await intruder.client().call('CLUSTER', 'MEET', '127.0.0.1', String(b.port))).toBe('OK');
    const connectedIds = async (n: TestServer) =>
      String(await n.client().call('CLUSTER', 'NODES'))
        .trim()
        .split('\n')
        .filter((l) => / connected/.test(l) && !/handshake/.test(l))
        .map((l) => l.split(' ')[0])
        .sort();
    const good = ids.slice(0, 3).sort();
    for (const n of [a, b, c]) await until('the three nodes to know each other', () => connectedIds(n), (x) => JSON.stringify(x) === JSON.stringify(good));
    // give gossip time to spread the intruder, if it could: it must stay out
    await sleep(2000);
    for (const n of [a, b, c]) expect(await connectedIds(n)).toEqual(good);
    expect(await connectedIds(intruder)).toEqual([ids[3]]);
    expect(a.output() + b.output() + c.output()).toContain('cluster-bus-password');
  }, 60000);
});
