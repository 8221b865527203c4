// The append-only log against real server processes and a real disk: kill -9 under a write load with each fsync
// policy and both `always` sync modes (every acknowledged write is back, none invented), replies leaving only after
// their fdatasync (strace), a truncated tail at random offsets, corruption in the middle — framing or a flipped byte
// caught by the batch checksums — refusing start-up with file and offset (--check-aof [--fix] repairs), a torn
// last batch dropped, BGREWRITEAOF while writes keep coming, CONFIG SET appendonly yes at run time, MODELEXECUTE
// logged as the tensors it wrote, parallel replay of model stores, and Debian's redis-check-aof reading our files.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { sumModel } from '../helpers/onnx-models';
import { parseLog } from '../../src/persistence/resp-log';

const MAIN = path.resolve(__dirname, '../../dist/main.js');
const dirs: string[] = [];
const servers: TestServer[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-aof-'));
  dirs.push(d);
  return d;
}
async function start(dir: string, args: string[] = []): Promise<TestServer> {
  const s = await startServer(['--save', '', '--appendonly', 'yes', ...args], { dir });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const info = async (r: Redis, field: string) => new RegExp(`${field}:(\\S+)`).exec(await r.info('persistence'))?.[1];
async function until(cond: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
const aofDir = (dir: string) => path.join(dir, 'appendonlydir');
const manifest = (dir: string) => fs.readFileSync(path.join(aofDir(dir), 'appendonly.aof.manifest'), 'latin1');
function lastIncr(dir: string): string {
  const names = [...manifest(dir).matchAll(/file (\S+) seq \d+ type i/g)].map((m) => m[1]);
  return path.join(aofDir(dir), names[names.length - 1]);
}
function checkAof(args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [MAIN, '--check-aof', ...args], { encoding: 'latin1' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

/** Writers that SET unique keys until the server dies; answers the keys acknowledged and the keys sent. */
async function writeUntilKilled(s: TestServer, clients: number, killAfterMs: number): Promise<{ acked: Set<string>; sent: Set<string> }> {
  const acked = new Set<string>();
  const sent = new Set<string>();
  let stop = false;
  const work = Array.from({ length: clients }, async (_, w) => {
    const r = s.client({ maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    r.on('error', () => {});
    await new Promise((res) => r.once('ready', res));
    for (let i = 0; !stop; i++) {
      // small pipelines: several writes of one client in flight at once, as a loaded server sees them
      const keys = Array.from({ length: 8 }, (_, j) => `w${w}:${i * 8 + j}`);
      const p = r.pipeline();
      for (const k of keys) {
        sent.add(k);
        p.set(k, `val-${k}`);
      }
      let res;
      try {
        res = await p.exec();
      } catch {
        return;
      }
      if (!res) return;
      let failed = false;
      res.forEach(([err], j) => {
        if (!err) acked.add(keys[j]);
        else failed = true;
      });
      if (failed) return;
    }
  });
  await new Promise((r) => setTimeout(r, killAfterMs));
  s.proc.kill('SIGKILL');
  stop = true;
  await Promise.all(work);
  return { acked, sent };
}

describe('append-only log', () => {
  // always is run with both sync modes: inline (main thread, while syncs are cheap) and background (group commit)
  for (const [policy, mode] of [['always', 'inline'], ['always', 'background'], ['everysec', 'auto'], ['no', 'auto']]) {
    it(`appendfsync ${policy}${policy === 'always' ? ` (${mode} sync)` : ''}: kill -9 under a write load keeps every acknowledged write and invents none`, async () => {
      const dir = tempDir();
      let s = await start(dir, ['--appendfsync', policy]);
      const dc = s.client();
      expect(await dc.call('DEBUG', 'AOF-SYNC-MODE', mode)).toBe('OK');
      dc.disconnect();
      const { acked, sent } = await writeUntilKilled(s, 4, 700);
      await new Promise((r) => s.proc.exitCode !== null || s.proc.signalCode !== null ? r(null) : s.proc.once('exit', r));
      expect(acked.size).toBeGreaterThan(100);
      s = await start(dir, ['--appendfsync', policy]);
      const r = s.client();
      const keys = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await r.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const k of batch) keys.add(k);
      } while (cursor !== '0');
      for (const k of acked) expect(keys.has(k)).toBe(true);
      for (const k of keys) expect(sent.has(k)).toBe(true);
      const sample = [...acked].slice(-20);
      expect(await r.mget(...sample)).toEqual(sample.map((k) => `val-${k}`));
      console.log(`appendfsync ${policy} (${mode}): ${acked.size} acknowledged, ${keys.size} restored, ${sent.size} sent`);
    });
  }

  it('a truncated tail (crash mid-write) is dropped with a warning; the data up to the cut is there', async () => {
    const dir = tempDir();
    const s = await start(dir, ['--appendfsync', 'always']);
    const r = s.client();
    for (let i = 0; i < 200; i++) await r.set(`k${i}`, `v${i}`.repeat(1 + (i % 7)));
    await s.stop();
    const file = lastIncr(dir);
    const full = fs.readFileSync(file);
    // record boundaries, to know which SETs are complete before a cut
    const ends: number[] = [];
    parseLog(full, (c) => {
      if (c.argv[0].toString() === 'SET' || c.argv[0].toString() === 'set') ends.push(c.end);
    });
    expect(ends.length).toBe(200);
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const cuts = [full.length - 1, ...Array.from({ length: 3 }, () => Math.floor(rand() * (full.length - 40)) + 20)];
    for (const cut of cuts) {
      fs.writeFileSync(file, full.subarray(0, cut));
      const t = await start(dir);
      const c = t.client();
      const complete = ends.filter((e) => e <= cut).length;
      expect(await c.dbsize()).toBe(complete);
      if (complete > 0) expect(await c.get(`k${complete - 1}`)).toBe(`v${complete - 1}`.repeat(1 + ((complete - 1) % 7)));
      if (ends[complete - 1] !== cut) expect(t.output()).toMatch(/Warning: short read while loading the AOF file appendonly\.aof\.\d+\.incr\.aof/);
      // the file was cut back to the last complete record: new writes append after it
      await c.set('new', 'x');
      await t.stop();
      const t2 = await start(dir);
      expect(await t2.client().get('new')).toBe('x');
      expect(await t2.client().dbsize()).toBe(complete + 1);
      await t2.stop();
    }
  });

  it('aof-load-truncated no refuses a truncated log', async () => {
    const dir = tempDir();
    const s = await start(dir);
    await s.client().set('a', '1');
    await s.client().set('b', '2');
    await s.stop();
    const file = lastIncr(dir);
    fs.truncateSync(file, fs.statSync(file).size - 3);
    await expect(startServer(['--save', '', '--appendonly', 'yes', '--aof-load-truncated', 'no'], { dir })).rejects.toThrow(
      /Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof at offset \d+/,
    );
  });

  it('corruption in the middle stops start-up naming file and offset; --check-aof finds it and --fix repairs', async () => {
    const dir = tempDir();
    const s = await start(dir);
    const r = s.client();
    for (let i = 0; i < 50; i++) await r.set(`k${i}`, `v${i}`);
    await s.stop();
    const file = lastIncr(dir);
    const buf = fs.readFileSync(file);
    const starts: number[] = [];
    parseLog(buf, (c) => starts.push(c.start));
    const bad = starts[30]; // the '*' of a record in the middle
    buf[bad] = 'X'.charCodeAt(0);
    fs.writeFileSync(file, buf);
    await expect(startServer(['--save', '', '--appendonly', 'yes'], { dir })).rejects.toThrow(
      new RegExp(`Bad file format reading the append only file appendonly\\.aof\\.1\\.incr\\.aof at offset ${bad}`),
    );
    // a bulk length digit changed: also refused
    const check = checkAof([path.join(aofDir(dir), 'appendonly.aof.manifest')]);
    expect(check.code).toBe(1);
    expect(check.out).toMatch(new RegExp(`ok_up_to=${bad}`));
    expect(check.out).toMatch(/Use the --fix option/);
    const fixed = checkAof(['--fix', path.join(aofDir(dir), 'appendonly.aof.manifest')]);
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/Successfully truncated/);
    expect(fs.statSync(file).size).toBe(bad);
    expect(checkAof([path.join(aofDir(dir), 'appendonly.aof.manifest')]).code).toBe(0);
    const t = await start(dir);
    const c = t.client();
    // records 0 .. 29 (a SELECT comes first, then the SETs)
    expect(await c.dbsize()).toBe(29);
    expect(await c.get('k28')).toBe('v28');
  });

  it('a payload length changed in the middle is corruption too', async () => {
    const dir = tempDir();
    const s = await start(dir);
    for (let i = 0; i < 20; i++) await s.client().set(`key${i}`, 'abcdef');
    await s.stop();
    const file = lastIncr(dir);
    const text = fs.readFileSync(file, 'latin1');
    const at = text.indexOf('$6\r\nabcdef', Math.floor(text.length / 2));
    fs.writeFileSync(file, text.slice(0, at) + '$7' + text.slice(at + 2), 'latin1');
    await expect(startServer(['--save', '', '--appendonly', 'yes'], { dir })).rejects.toThrow(/Bad file format .* at offset \d+/);
  });

  it('a flipped byte inside a value in the middle fails its batch checksum: start-up refused, --check-aof --fix repairs', async () => {
    const dir = tempDir();
    const s = await start(dir);
    const r = s.client();
    for (let i = 0; i < 40; i++) await r.set(`key${i}`, `value-${i}`);
    await s.stop();
    const file = lastIncr(dir);
    const buf = fs.readFileSync(file);
    expect(buf.toString('latin1')).toMatch(/#CRC:[0-9a-f]{8}\r\n$/);
    const at = buf.indexOf('value-20');
    buf[at + 2] ^= 0x01; // 'value-20' -> 'vblue-20': still valid RESP
    fs.writeFileSync(file, buf);
    const batchStart = buf.lastIndexOf('#CRC:', at);
    const batchFrom = buf.indexOf('\n', batchStart) + 1;
    await expect(startServer(['--save', '', '--appendonly', 'yes'], { dir })).rejects.toThrow(
      new RegExp(`Bad file format reading the append only file appendonly\\.aof\\.1\\.incr\\.aof at offset ${batchFrom} \\(checksum mismatch`),
    );
    const fixed = checkAof(['--fix', path.join(aofDir(dir), 'appendonly.aof.manifest')]);
    expect(fixed.code).toBe(0);
    const t = await start(dir);
    expect(await t.client().dbsize()).toBe(20);
    expect(await t.client().get('key19')).toBe('value-19');
  });

  it('a flipped byte in the last batch (a torn write) drops that batch with the truncation warning', async () => {
    const dir = tempDir();
    const s = await start(dir);
    const r = s.client();
    for (let i = 0; i < 10; i++) await r.set(`key${i}`, `value-${i}`);
    await s.stop();
    const file = lastIncr(dir);
    const buf = fs.readFileSync(file);
    buf[buf.indexOf('value-9') + 1] ^= 0x01;
    fs.writeFileSync(file, buf);
    const t = await start(dir);
    expect(t.output()).toMatch(/short read while loading the AOF file/);
    expect(await t.client().dbsize()).toBe(9);
    // and the log goes on after the cut
    await t.client().set('after', '1');
    await t.stop();
    const u = await start(dir);
    expect(await u.client().get('after')).toBe('1');
    expect(await u.client().dbsize()).toBe(10);
  });

  it('BGREWRITEAOF while writes keep arriving loses nothing; the manifest then names one base and one incr', async () => {
    const dir = tempDir();
    let s = await start(dir, ['--appendfsync', 'everysec']);
    const r = s.client();
    const ctl = s.client();
    await r.rpush('list', 'start');
    let stop = false;
    let n = 0;
    const writer = (async () => {
      while (!stop) {
        const p = r.pipeline();
        for (let j = 0; j < 20; j++, n++) {
          p.set(`k${n}`, String(n));
          p.rpush('list', String(n));
          p.incr('counter');
        }
        await p.exec();
      }
    })();
    for (let i = 0; i < 3; i++) {
      await new Promise((res) => setTimeout(res, 150));
      expect(await ctl.bgrewriteaof()).toBe('Background append only file rewriting started');
      await until(async () => (await info(ctl, 'aof_rewrite_in_progress')) === '0');
      expect(await info(ctl, 'aof_last_bgrewrite_status')).toBe('ok');
    }
    await new Promise((res) => setTimeout(res, 100));
    stop = true;
    await writer;
    expect(await info(ctl, 'aof_rewrites')).toBe('3');
    const m = manifest(dir);
    expect(m.match(/type b/g)!.length).toBe(1);
    expect(m.match(/type i/g)!.length).toBe(1);
    expect(fs.readdirSync(aofDir(dir)).sort()).toEqual(['appendonly.aof.4.base.rdb', 'appendonly.aof.4.incr.aof', 'appendonly.aof.manifest']);
    await s.stop();
    s = await start(dir);
    const c = s.client();
    expect(await c.get('counter')).toBe(String(n));
    expect(await c.llen('list')).toBe(n + 1);
    expect(await c.get(`k${n - 1}`)).toBe(String(n - 1));
    expect(await c.dbsize()).toBe(n + 2);
  });

  it('BGREWRITEAOF twice answers the in-progress error; BGSAVE meanwhile is refused, BGSAVE SCHEDULE runs after', async () => {
    const dir = tempDir();
    const s = await start(dir);
    const r = s.client();
    const p = r.pipeline();
    for (let i = 0; i < 30000; i++) p.set(`f${i}`, 'x'.repeat(50));
    await p.exec();
    const q = r.pipeline();
    q.bgrewriteaof();
    q.bgrewriteaof();
    q.bgsave();
    q.call('BGSAVE', 'SCHEDULE');
    const res = (await q.exec())!;
    expect(res[0][1]).toBe('Background append only file rewriting started');
    expect(res[1][0]?.message).toBe('ERR Background append only file rewriting already in progress');
    expect(res[2][0]?.message).toMatch(/^ERR Another child process is active \(AOF\?\): can't BGSAVE right now/);
    expect(res[3][1]).toBe('Background saving scheduled');
    await until(async () => (await info(r, 'rdb_saves')) === '1');
    expect(fs.existsSync(path.join(dir, 'dump.rdb'))).toBe(true);
  });

  it('CONFIG SET appendonly yes starts the log with a rewrite; a restart with appendonly yes loads it', async () => {
    const dir = tempDir();
    let s = await startServer(['--save', ''], { dir });
    servers.push(s);
    let r = s.client();
    await r.set('before', '1');
    await r.call('AI.TENSORSET', 't', 'FLOAT', '2', 'VALUES', '1', '2');
    expect(await info(r, 'aof_enabled')).toBe('0');
    expect(await r.config('SET', 'appendonly', 'yes')).toBe('OK');
    await until(async () => (await info(r, 'aof_rewrites')) === '1');
    expect(await info(r, 'aof_enabled')).toBe('1');
    await r.set('after', '2');
    await s.stop();
    s = await start(dir);
    r = s.client();
    expect(await r.mget('before', 'after')).toEqual(['1', '2']);
    expect(await r.call('AI.TENSORGET', 't', 'VALUES')).toEqual(['1', '2']);
    expect(Number(await info(r, 'aof_current_size'))).toBeGreaterThan(0);
    expect(await r.config('SET', 'appendonly', 'no')).toBe('OK');
    expect(await info(r, 'aof_enabled')).toBe('0');
  });

  it('MODELEXECUTE is logged as AI.TENSORSET of its outputs (never re-run on replay); MODELSTORE replays into a model that runs', async () => {
    const dir = tempDir();
    let s = await start(dir, ['--appendfsync', 'always']);
    let r = s.client();
    await r.call('AI.MODELSTORE', 'm', 'ONNX', 'CPU', 'TAG', 'x', 'BLOB', sumModel(2));
    await r.call('AI.TENSORSET', 'a', 'FLOAT', '2', 'VALUES', '1', '2');
    await r.call('AI.TENSORSET', 'b', 'FLOAT', '2', 'VALUES', '3', '4');
    expect(await r.call('AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'c')).toBe('OK');
    await r.del('a');
    const log = fs.readFileSync(lastIncr(dir), 'latin1');
    expect(log).not.toMatch(/MODELEXECUTE/i);
    expect(log).toMatch(/AI\.TENSORSET\r\n\$1\r\nc\r\n/);
    await s.stop();
    s = await start(dir);
    r = s.client();
    expect(await r.exists('a')).toBe(0);
    expect(await r.call('AI.TENSORGET', 'c', 'VALUES')).toEqual(['4', '6']);
    const stats = (await r.call('AI.INFO', 'm')) as unknown[];
    expect(stats[stats.indexOf('calls') + 1]).toBe(0);
    expect(await r.call('AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'b', 'b', 'OUTPUTS', '1', 'd')).toBe('OK');
    expect(await r.call('AI.TENSORGET', 'd', 'VALUES')).toEqual(['6', '8']);
    // after a rewrite the model lives in the base snapshot, and still loads
    await r.bgrewriteaof();
    await until(async () => (await info(r, 'aof_rewrite_in_progress')) === '0');
    await s.stop();
    s = await start(dir);
    r = s.client();
    expect(await r.call('AI.MODELEXECUTE', 'm', 'INPUTS', '2', 'b', 'd', 'OUTPUTS', '1', 'e')).toBe('OK');
    expect(await r.call('AI.TENSORGET', 'e', 'VALUES')).toEqual(['9', '12']);
  });

  it('model stores in the log replay in parallel, in log order per key', async () => {
    const dir = tempDir();
    let s = await start(dir);
    let r = s.client();
    for (let i = 0; i < 6; i++) await r.call('AI.MODELSTORE', `m${i}`, 'ONNX', 'CPU', 'TAG', `t${i}`, 'BLOB', sumModel(2));
    await r.call('AI.MODELSTORE', 'm1', 'ONNX', 'CPU', 'TAG', 'second', 'BLOB', sumModel(3));
    await r.call('AI.MODELDEL', 'm2');
    await r.call('AI.MODELSTORE', 'm3', 'ONNX', 'CPU', 'TAG', 'third', 'BLOB', sumModel(2));
    await s.stop();
    s = await start(dir);
    r = s.client();
    const tag = async (k: string) => {
      const meta = (await r.call('AI.MODELGET', k, 'META')) as unknown[];
      return meta[meta.indexOf('tag') + 1];
    };
    expect(await tag('m0')).toBe('t0');
    expect(await tag('m1')).toBe('second');
    expect(await r.exists('m2')).toBe(0);
    expect(await tag('m3')).toBe('third');
    expect(await tag('m5')).toBe('t5');
    const meta = (await r.call('AI.MODELGET', 'm1', 'META')) as unknown[];
    expect((meta[meta.indexOf('inputs') + 1] as unknown[]).length).toBe(3);
  });

  it('MULTI/EXEC is logged as a block; a block cut by a crash is dropped whole', async () => {
    const dir = tempDir();
    const s = await start(dir);
    const r = s.client();
    await r.set('x', '0');
    await r.multi().set('x', '1').set('y', '1').exec();
    await s.stop();
    const file = lastIncr(dir);
    const text = fs.readFileSync(file, 'latin1');
    expect(text).toMatch(/MULTI[\s\S]*x[\s\S]*y[\s\S]*EXEC/);
    // cut inside EXEC's record
    fs.truncateSync(file, text.lastIndexOf('EXEC') + 2);
    const t = await start(dir);
    expect(await t.client().mget('x', 'y')).toEqual(['0', null]);
  });

  it("the incr files are valid for Debian's redis-check-aof", async (ctx) => {
    const which = spawnSync('which', ['redis-check-aof']);
    if (which.status !== 0) return ctx.skip(); // the CI image installs redis-server, which brings it
    const dir = tempDir();
    const s = await start(dir);
    const r = s.client();
    await r.set('a', Buffer.from([0, 13, 10, 255]));
    await r.select(2);
    await r.rpush('l', 'x', 'y');
    await r.call('AI.TENSORSET', 't', 'INT8', '2', 'VALUES', '1', '-1');
    await s.stop();
    const out = spawnSync('redis-check-aof', [lastIncr(dir)], { encoding: 'latin1' });
    expect(out.stdout).toMatch(/is valid/);
    expect(out.status).toBe(0);
  });

  for (const mode of ['inline', 'background']) it(`appendfsync always (${mode} sync): each reply leaves only after an fdatasync that followed its log write (traced with strace)`, async (ctx) => {
    if (spawnSync('strace', ['-o', '/dev/null', 'true']).status !== 0) return ctx.skip(); // no strace / no ptrace here
    const dir = tempDir();
    const trace = path.join(dir, 'trace.txt');
    const proc = spawn('strace', ['-f', '-s', '64', '-e', 'trace=write,writev,fdatasync', '-o', trace, process.execPath, MAIN,
      '--port', '0', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d));
    let serverPid = 0; // the traced server: killing strace does not end its tracee
    try {
      await until(async () => /port (\d+)/.test(out), 15000);
      const r = new Redis({ port: Number(/port (\d+)/.exec(out)![1]), host: '127.0.0.1', protocol: 2 } as never);
      serverPid = Number(/process_id:(\d+)/.exec((await r.info('server')) as string)![1]);
      expect(await r.call('DEBUG', 'AOF-SYNC-MODE', mode)).toBe('OK');
      for (let i = 0; i < 30; i++) expect(await r.set(`traced${i}`, 'v')).toBe('OK');
      r.disconnect();
    } finally {
      if (serverPid > 0) process.kill(serverPid, 'SIGKILL');
      proc.kill('SIGKILL');
      await new Promise((res) => proc.once('exit', res));
    }
    const lines = fs.readFileSync(trace, 'latin1').split('\n');
    let logged = 0;
    let unsynced = false;
    let checked = 0;
    for (const l of lines) {
      if (/writev?\(\d+, .*traced\d+/.test(l)) {
        logged++;
        unsynced = true;
      } else if (/fdatasync/.test(l) && /= 0\s*$/.test(l)) {
        unsynced = false;
      } else if (/write(v)?\(\d+, .*\+OK\\r\\n/.test(l)) {
        if (logged > 0) {
          expect(unsynced).toBe(false);
          checked++;
        }
      }
    }
    expect(logged).toBe(30);
    expect(checked).toBeGreaterThanOrEqual(29);
  });
});

