// The real redis-cli (Debian's, /usr/bin/redis-cli) against a real server process: one-shot commands,
// -x stdin args, --pipe mass insertion, RESP3 (-3), --no-raw formatting, and the interactive mode both
// from a pipe and on a pseudo-terminal (util-linux `script`).

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server';

const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
const SCRIPT = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
const haveCli = spawnSync(REDIS_CLI, ['--version']).status === 0;

interface Run {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs a command, optionally feeding stdin, and collects its output (latin1, byte for byte). */
function run(cmd: string, args: string[], input?: string | Buffer, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d) => out.push(d));
    p.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out; stdout: ${Buffer.concat(out).toString('latin1').slice(-500)}`));
    }, opts.timeoutMs ?? 10000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1'), code });
    });
    p.stdin.on('error', () => {});
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
  });
}

describe.skipIf(!haveCli)('redis-cli against the server', () => {
  let srv: TestServer;
  const cli = (args: string[], input?: string | Buffer) => run(REDIS_CLI, ['-p', String(srv.port), ...args], input);

  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv?.stop());

  it('one-shot commands: ping, set/get, errors', async () => {
    expect((await cli(['ping'])).stdout).toBe('PONG\n');
    expect((await cli(['set', 'cli:k', 'hello world'])).stdout).toBe('OK\n');
    expect((await cli(['get', 'cli:k'])).stdout).toBe('hello world\n');
    const r = await cli(['foo', 'a', 'b']);
    expect(r.stdout + r.stderr).toContain("ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
    const a = await cli(['get']);
    expect(a.stdout + a.stderr).toContain("ERR wrong number of arguments for 'get' command");
  });

  it('-x takes the last argument from stdin, binary safe', async () => {
    expect((await cli(['-x', 'set', 'cli:x'], 'value')).stdout).toBe('OK\n');
    expect((await cli(['get', 'cli:x'])).stdout).toBe('value\n');
    const bin = Buffer.from('a\r\nb\0c\xff', 'latin1');
    expect((await cli(['-x', 'set', 'cli:bin'], bin)).stdout).toBe('OK\n');
    expect((await cli(['strlen', 'cli:bin'])).stdout).toBe(`${bin.length}\n`);
    // --raw prints the bytes as they are (plus a newline); --no-raw quotes and escapes them
    expect((await cli(['--raw', 'get', 'cli:bin'])).stdout).toBe(bin.toString('latin1') + '\n');
    expect((await cli(['--no-raw', 'get', 'cli:bin'])).stdout).toBe('"a\\r\\nb\\x00c\\xff"\n');
    // a big value through -x
    const big = Buffer.alloc(3 * 1024 * 1024, 'z');
    expect((await cli(['-x', 'set', 'cli:bigx'], big)).stdout).toBe('OK\n');
    expect((await cli(['strlen', 'cli:bigx'])).stdout).toBe(`${big.length}\n`);
  });

  it('--pipe: 10000 SETs in RESP format, then DBSIZE', async () => {
    await cli(['select', '0']);
    const before = Number((await cli(['-n', '5', 'dbsize'])).stdout.trim());
    expect(before).toBe(0);
    let data = '';
    for (let i = 0; i < 10000; i++) {
      const k = `pipe:${i}`;
      const v = `value-${i}`;
      data += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
    }
    const file = path.join(srv.dir, 'mass-insert.txt');
    fs.writeFileSync(file, data);
    const r = await cli(['-n', '5', '--pipe'], fs.readFileSync(file));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('All data transferred. Waiting for the last reply...');
    expect(r.stdout).toContain('Last reply received from server.');
    expect(r.stdout).toContain('errors: 0, replies: 10000');
    expect((await cli(['-n', '5', 'dbsize'])).stdout).toBe('10000\n');
    expect((await cli(['-n', '5', 'get', 'pipe:9999'])).stdout).toBe('value-9999\n');
  });

  it('--pipe with big values and with inline commands; errors are counted', async () => {
    const parts: Buffer[] = [];
    const val = Buffer.alloc(200 * 1024, 'q');
    for (let i = 0; i < 100; i++) {
      parts.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$8\r\npbig:${String(i).padStart(3, '0')}\r\n$${val.length}\r\n`), val, Buffer.from('\r\n'));
    }
    const r = await cli(['-n', '6', '--pipe'], Buffer.concat(parts));
    expect(r.stdout).toContain('errors: 0, replies: 100');
    expect((await cli(['-n', '6', 'strlen', 'pbig:099'])).stdout).toBe(`${val.length}\n`);

    const r2 = await cli(['-n', '6', '--pipe'], 'SET inl 1\r\nNOSUCHCMD x\r\nINCR inl\r\nGET\r\n');
    expect(r2.code).toBe(1);
    expect(r2.stdout).toContain('errors: 2, replies: 4');
    expect((await cli(['-n', '6', 'get', 'inl'])).stdout).toBe('2\n');
  });

  it('--no-raw formatting of nil, integers, arrays, errors', async () => {
    expect((await cli(['--no-raw', 'get', 'cli:nokey'])).stdout).toBe('(nil)\n');
    expect((await cli(['--no-raw', 'incr', 'cli:n'])).stdout).toBe('(integer) 1\n');
    expect((await cli(['--no-raw', 'incrby', 'cli:n', '-5'])).stdout).toBe('(integer) -4\n');
    expect((await cli(['--no-raw', 'lrange', 'cli:nolist', '0', '-1'])).stdout).toBe('(empty array)\n');
    await cli(['rpush', 'cli:l', 'a', 'b c', '']);
    expect((await cli(['--no-raw', 'lrange', 'cli:l', '0', '-1'])).stdout).toBe('1) "a"\n2) "b c"\n3) ""\n');
    expect((await cli(['--no-raw', 'mget', 'cli:k', 'cli:nokey'])).stdout).toBe('1) "hello world"\n2) (nil)\n');
    expect((await cli(['--no-raw', 'get', 'cli:l'])).stdout).toBe(
      '(error) WRONGTYPE Operation against a key holding the wrong kind of value\n',
    );
    // raw (the default when stdout is not a tty): nil is an empty line
    expect((await cli(['get', 'cli:nokey'])).stdout).toBe('\n');
    expect((await cli(['--csv', 'lrange', 'cli:l', '0', '-1'])).stdout).toBe('"a","b c",""\n');
  });

  it('-3 (RESP3): maps, sets, nulls as redis-cli prints them', async () => {
    const hello = await cli(['-3', '--no-raw', 'hello', '3']);
    const lines = hello.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('1# "server" => "redis"');
    expect(lines[2]).toBe('3# "proto" => (integer) 3');
    expect(lines[3]).toMatch(/^4# "id" => \(integer\) \d+$/);
    expect(lines[4]).toBe('5# "mode" => "standalone"');
    expect(lines[5]).toBe('6# "role" => "master"');
    expect(lines[6]).toBe('7# "modules" => (empty array)');
    expect((await cli(['-3', '--no-raw', 'config', 'get', 'maxmemory-policy'])).stdout).toBe('1# "maxmemory-policy" => "noeviction"\n');
    expect((await cli(['-3', '--no-raw', 'get', 'cli:nokey'])).stdout).toBe('(nil)\n');
    await cli(['sadd', 'cli:s', 'm1']);
    expect((await cli(['-3', '--no-raw', 'smembers', 'cli:s'])).stdout).toBe('1~ "m1"\n');
    expect((await cli(['-3', '--no-raw', 'incr', 'cli:n3'])).stdout).toBe('(integer) 1\n');
    // raw RESP3 output of a map: key and value on one line
    expect((await cli(['-3', 'config', 'get', 'maxmemory-policy'])).stdout).toBe('maxmemory-policy noeviction\n');
  });

  it('other real-client features: -n (SELECT), -r (repeat), --scan, --bigkeys', async () => {
    expect((await cli(['-n', '2', 'set', 'dbk', 'v2'])).stdout).toBe('OK\n');
    expect((await cli(['-n', '2', 'get', 'dbk'])).stdout).toBe('v2\n');
    expect((await cli(['get', 'dbk'])).stdout).toBe('\n');
    expect((await cli(['-n', '3', '-r', '50', 'incr', 'rep'])).stdout.trimEnd().split('\n').pop()).toBe('50');
    const scan = await cli(['-n', '5', '--scan', '--pattern', 'pipe:99*']);
    expect(scan.stdout.trimEnd().split('\n').sort()).toEqual(['pipe:99', ...Array.from({ length: 10 }, (_, i) => `pipe:99${i}`), ...Array.from({ length: 100 }, (_, i) => `pipe:99${String(i).padStart(2, '0')}`)].sort());
    const big = await cli(['-n', '6', '--bigkeys']);
    expect(big.stdout).toMatch(/Biggest string found '"pbig:\d+"' has 204800 bytes/);
  });

  it('interactive mode reading commands from a pipe (no command arguments)', async () => {
    const r = await cli([], 'set ia "hello world"\nget ia\nget nokey\nincr ictr\nmget ia nokey\nfoo a b\nselect 4\nset inew 1\n');
    expect(r.stdout).toBe(
      // (redis-cli prints an extra empty line after an error in raw mode)
      'OK\nhello world\n\n1\nhello world\n\n' + "ERR unknown command 'foo', with args beginning with: 'a' 'b' \n\n" + 'OK\nOK\n',
    );
    expect((await cli(['-n', '4', 'get', 'inew'])).stdout).toBe('1\n');
  });

  it.skipIf(!SCRIPT)('interactive mode on a pseudo-terminal (script): prompts, tty formatting, SELECT and MULTI prompts', async () => {
    const p = spawn(SCRIPT!, ['-qfec', `${REDIS_CLI} -p ${srv.port}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // a "dumb" terminal: linenoise reads plain lines instead of querying the cursor position
      env: { ...process.env, TERM: 'dumb' },
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    p.stderr.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const exited = new Promise<number | null>((r) => p.on('close', r));
    const prompts = () => (out.match(/127\.0\.0\.1:\d+(\[\d+\])?(\(TX\))?> /g) ?? []).length;
    const waitPrompts = async (n: number) => {
      const deadline = Date.now() + 5000;
      while (prompts() < n) {
        if (Date.now() > deadline) throw new Error(`no prompt #${n}; output so far:\n${out}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      const cmds = [
        'set tk "hello world"',
        'get tk',
        'get tnokey',
        'incr tctr',
        'mget tk tnokey',
        'hello 3',
        'get tnokey',
        'foo a b',
        'multi',
        'incr tctr',
        'exec',
        'select 3',
        'ping',
      ];
      await waitPrompts(1);
      for (let i = 0; i < cmds.length; i++) {
        p.stdin.write(cmds[i] + '\n');
        await waitPrompts(i + 2);
      }
      p.stdin.write('quit\n');
      const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
      expect(code).toBe(0);
    } finally {
      p.kill('SIGKILL');
    }
    const text = out.replace(/\r/g, '');
    const expectInOrder = (needles: string[]) => {
      let pos = 0;
      for (const n of needles) {
        const i = text.indexOf(n, pos);
        expect(i, `missing ${JSON.stringify(n)} after offset ${pos} in:\n${text}`).toBeGreaterThanOrEqual(0);
        pos = i + n.length;
      }
    };
    const port = srv.port;
    expectInOrder([
      `127.0.0.1:${port}> `,
      'OK\n',
      '"hello world"\n',
      '(nil)\n',
      '(integer) 1\n',
      '1) "hello world"\n2) (nil)\n',
      '1# "server" => "redis"\n',
      '3# "proto" => (integer) 3\n',
      '7# "modules" => (empty array)\n',
      '(nil)\n',
      "(error) ERR unknown command 'foo', with args beginning with: 'a' 'b' \n",
      'OK\n',
      `127.0.0.1:${port}(TX)> `,
      'QUEUED\n',
      '1) (integer) 2\n',
      'OK\n',
      `127.0.0.1:${port}[3]> `,
      'PONG\n',
    ]);
  });

  it('-a with requirepass; NOAUTH without it', async () => {
    const s = await startServer(['--requirepass', 'pw123']);
    try {
      const noauth = await run(REDIS_CLI, ['-p', String(s.port), 'get', 'x']);
      expect(noauth.stdout + noauth.stderr).toContain('NOAUTH Authentication required.');
      const ok = await run(REDIS_CLI, ['-p', String(s.port), '-a', 'pw123', '--no-auth-warning', 'ping']);
      expect(ok.stdout).toBe('PONG\n');
      const bad = await run(REDIS_CLI, ['-p', String(s.port), '-a', 'wrong', '--no-auth-warning', 'ping']);
      expect(bad.stdout + bad.stderr).toContain('WRONGPASS invalid username-password pair or user is disabled.');
      const okUser = await run(REDIS_CLI, ['-p', String(s.port), '--user', 'default', '--pass', 'pw123', '--no-auth-warning', '-3', 'ping']);
      expect(okUser.stdout).toBe('PONG\n');
    } finally {
      await s.stop();
    }
  });
});
