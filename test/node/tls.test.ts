// TLS (src/node/tls.ts): the tls-port listener with ioredis and the real `redis-cli --tls`, tls-auth-clients,
// peers that cannot complete a handshake, certificate reload with CONFIG SET, replication over TLS
// (tls-replication), a cluster whose bus speaks TLS (tls-cluster), and a side-by-side check with the real
// redis-server's TLS. Certificates are made with the openssl CLI in beforeAll (test/helpers/certs.ts).

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import Redis, { type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCerts, type TestCerts } from '../helpers/certs';
import { keyHashSlot } from '../../src/cluster/crc16';
import { until as waitUntil } from '../helpers/wait';

const MAIN = path.resolve(__dirname, '../../dist/main.js');

let certs: TestCerts;
const procs: ChildProcess[] = [];
const clients: Redis[] = [];
const dirs: string[] = [];
/** the last connection error of each client (ioredis's rejections only say "Connection is closed.") */
const lastError = new WeakMap<Redis, Error>();

const until = <T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20000): Promise<T> =>
  waitUntil(what, f, ok, timeoutMs, 100);

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();
/**
 * A free port whose +10000 (a cluster bus port) is free too, both below the ephemeral range (32768+), so that
 * outgoing connections cannot take them before the server binds them; never the same one twice.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 2700);
    if (handedOut.has(p)) continue;
    if ((await canBind(p)) && (await canBind(p + 10000))) {
      handedOut.add(p);
      return p;
    }
  }
}

interface Node {
  proc: ChildProcess;
  output: () => string;
}

/** Starts dist/main.js (or `bin`) with `args`; resolves once its log names every listener in `ready`. */
async function startNode(args: string[], ready: RegExp[], bin: string[] = [process.execPath, MAIN]): Promise<Node> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-tls-'));
  dirs.push(dir);
  const proc = spawn(bin[0], [...bin.slice(1), ...args, '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await until('the server to start', async () => (proc.exitCode !== null ? 'exited' : out), (o) => o === 'exited' || ready.every((r) => r.test(o)), 20000).then((o) => {
    if (o === 'exited') throw new Error(`server exited:\n${out}`);
  });
  return { proc, output: () => out };
}

const tlsFiles = () => ['--tls-cert-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--tls-ca-cert-file', certs.ca];
const tlsReady = (port: number) => new RegExp(`Ready to accept connections tls on .* port ${port}\\b`);
const tcpReady = (port: number) => new RegExp(`Ready to accept connections tcp on .* port ${port}\\b`);

function client(port: number, o: RedisOptions = {}): Redis {
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true, ...o });
  r.on('error', (e: Error) => lastError.set(r, e));
  clients.push(r);
  return r;
}

const tlsClient = (port: number, tls: RedisOptions['tls'] = { ca: certs.read(certs.ca), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) }) =>
  client(port, { tls });

/** Resolves with the error a connection (then a PING) meets, or 'connected'. */
async function connectError(r: Redis): Promise<string> {
  try {
    await r.connect();
    await r.ping();
    return 'connected';
  } catch (e) {
    return lastError.get(r)?.message ?? (e as Error).message;
  }
}

function redisCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('redis-cli', args, { timeout: 30000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
  });
}

const cliTls = (port: number, cert = true) => ['-p', String(port), '--tls', '--cacert', certs.ca, ...(cert ? ['--cert', certs.clientCert, '--key', certs.clientKey] : [])];

function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

beforeAll(() => {
  certs = makeTestCerts();
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  for (const p of procs) {
    if (p.exitCode === null && p.signalCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await exited;
    }
  }
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  if (certs) fs.rmSync(certs.dir, { recursive: true, force: true });
});

describe('TLS client listener', () => {
  let tlsPort: number;
  let tcpPort: number;
  let node: Node;

  beforeAll(async () => {
    tlsPort = await freePort();
    tcpPort = await freePort();
    node = await startNode(['--port', String(tcpPort), '--tls-port', String(tlsPort), ...tlsFiles()], [tlsReady(tlsPort), tcpReady(tcpPort)]);
  }, 60000);

  it('ioredis over TLS runs SET/GET and AI.TENSORSET/TENSORGET; the plain port works beside it', async () => {
    const r = tlsClient(tlsPort);
    await r.connect();
    expect(await r.set('k', 'over tls')).toBe('OK');
    expect(await r.get('k')).toBe('over tls');
    expect(await r.call('AI.TENSORSET', 't', 'FLOAT', '2', '2', 'VALUES', '1', '2', '3', '4.5')).toBe('OK');
    const values = (await r.call('AI.TENSORGET', 't', 'VALUES')) as string[];
    expect(values.map(Number)).toEqual([1, 2, 3, 4.5]);
    const blob = Buffer.alloc(1 << 20, 7);
    await r.call('AI.TENSORSET', 'big', 'UINT8', String(blob.length), 'BLOB', blob);
    expect(Buffer.compare((await r.callBuffer('AI.TENSORGET', 'big', 'BLOB')) as Buffer, blob)).toBe(0);
    const plain = client(tcpPort);
    await plain.connect();
    expect(await plain.get('k')).toBe('over tls');
  });

  it('the real redis-cli --tls works, and is refused without a client certificate (tls-auth-clients yes)', async () => {
    const ok = await redisCli([...cliTls(tlsPort), 'set', 'cli', 'v1']);
    expect(ok).toEqual({ code: 0, out: 'OK\n' });
    expect((await redisCli([...cliTls(tlsPort), 'get', 'cli'])).out).toBe('v1\n');
    const noCert = await redisCli([...cliTls(tlsPort, false), 'get', 'cli']);
    expect(noCert.out).not.toContain('v1');
    expect(noCert.out).toMatch(/Server closed the connection|Connection reset|SSL/i);
  });

  it('a client without a certificate is refused with tls-auth-clients yes, accepted with no; optional refuses an untrusted one', async () => {
    const noCert = { ca: certs.read(certs.ca) };
    expect(await connectError(tlsClient(tlsPort, noCert))).not.toBe('connected');
    await (await connected(tlsClient(tlsPort))).config('SET', 'tls-auth-clients', 'no');
    expect(await connectError(tlsClient(tlsPort, noCert))).toBe('connected');
    const admin = await connected(tlsClient(tlsPort));
    await admin.config('SET', 'tls-auth-clients', 'optional');
    expect(await admin.config('GET', 'tls-auth-clients')).toEqual(['tls-auth-clients', 'optional']);
    expect(await connectError(tlsClient(tlsPort, noCert))).toBe('connected');
    const untrusted = { ca: certs.read(certs.ca), cert: certs.read(certs.otherClientCert), key: certs.read(certs.otherClientKey) };
    expect(await connectError(tlsClient(tlsPort, untrusted))).not.toBe('connected');
    await admin.config('SET', 'tls-auth-clients', 'yes');
    expect(await connectError(tlsClient(tlsPort, noCert))).not.toBe('connected');
    expect(await admin.ping()).toBe('PONG');
    await expect(admin.config('SET', 'tls-auth-clients', 'maybe')).rejects.toThrow(
      "CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional",
    );
  });

  it('a plain-TCP client on the TLS port is dropped (logged) and the server stays up', async () => {
    const sock = net.connect(tlsPort, '127.0.0.1');
    const closed = new Promise<string>((resolve) => {
      let got = '';
      sock.on('data', (d) => (got += d.toString('latin1')));
      sock.on('error', () => {});
      sock.on('close', () => resolve(got));
    });
    sock.write('PING\r\n*1\r\n$4\r\nPING\r\n');
    const got = await closed;
    expect(got).not.toContain('PONG');
    await until('the handshake error in the log', async () => node.output(), (o) => /Error accepting a client connection: .*wrong version number/.test(o));
    expect(await (await connected(tlsClient(tlsPort))).ping()).toBe('PONG');
  });

  it('a client trusting another CA fails the handshake', async () => {
    const err = await connectError(tlsClient(tlsPort, { ca: certs.read(certs.otherCa), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) }));
    expect(err).toMatch(/self[- ]signed|unable to verify|certificate/i);
    const cli = await redisCli([...['-p', String(tlsPort), '--tls', '--cacert', certs.otherCa, '--cert', certs.clientCert, '--key', certs.clientKey], 'ping']);
    expect(cli.out).toContain('certificate verify failed');
  });

  it('CONFIG SET tls-cert-file / tls-key-file reloads the certificate for new connections; a bad file keeps the old one', async () => {
    const admin = await connected(tlsClient(tlsPort));
    await admin.config('SET', 'tls-cert-file', certs.otherServerCert, 'tls-key-file', certs.otherServerKey);
    // new connections see the other CA's certificate; the open one keeps working
    const viaOther = tlsClient(tlsPort, { ca: certs.read(certs.otherCa), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) });
    expect(await connectError(viaOther)).toBe('connected');
    expect(await connectError(tlsClient(tlsPort))).not.toBe('connected');
    expect(await admin.ping()).toBe('PONG');
    // a missing file: logged, the context in use stays
    await admin.config('SET', 'tls-cert-file', '/nonexistent/cert.pem');
    await until('the reload failure in the log', async () => node.output(), (o) => o.includes('Unable to update TLS configuration'));
    expect(await connectError(tlsClient(tlsPort, { ca: certs.read(certs.otherCa), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) }))).toBe('connected');
    await admin.config('SET', 'tls-cert-file', certs.serverCert, 'tls-key-file', certs.serverKey);
    expect(await connectError(tlsClient(tlsPort))).toBe('connected');
    // the reloaded listener still asks for a client certificate (tls-auth-clients yes)
    expect(await connectError(tlsClient(tlsPort, { ca: certs.read(certs.ca) }))).not.toBe('connected');
  });

  async function connected(r: Redis): Promise<Redis> {
    await r.connect();
    return r;
  }
});

describe('TLS options', () => {
  it('an encrypted key with tls-key-file-pass, the CA from tls-ca-cert-dir, tls-protocols TLSv1.3 only', async () => {
    const caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-tls-ca-'));
    dirs.push(caDir);
    fs.copyFileSync(certs.ca, path.join(caDir, 'ca.pem'));
    const port = await freePort();
    const args = ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.serverCert, '--tls-key-file', certs.serverKeyEncrypted];
    await startNode([...args, '--tls-key-file-pass', 'secret', '--tls-ca-cert-dir', caDir, '--tls-protocols', 'TLSv1.3'], [tlsReady(port)]);
    const files = { ca: certs.read(certs.ca), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) };
    const r = tlsClient(port, files);
    expect(await connectError(r)).toBe('connected');
    expect(r.stream instanceof tls.TLSSocket && r.stream.getProtocol()).toBe('TLSv1.3');
    expect(await connectError(tlsClient(port, { ...files, maxVersion: 'TLSv1.2' }))).not.toBe('connected');
    await expect(r.config('SET', 'tls-protocols', 'TLSv1.2 SSLv3')).rejects.toThrow(
      "CONFIG SET failed (possibly related to argument 'tls-protocols') - Invalid tls-protocols specified: SSLv3",
    );
  });
});

describe('TLS start-up checks', () => {
  it('tls-port without a CA while tls-auth-clients is yes: Redis\'s fatal message', async () => {
    const port = await freePort();
    const p = spawn(process.execPath, [MAIN, '--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.serverCert, '--tls-key-file', certs.serverKey, '--dir', os.tmpdir()]);
    procs.push(p);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const code = await new Promise((r) => p.on('exit', r));
    expect(code).toBe(1);
    expect(out).toContain('Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!');
  });
});

describe('replication over TLS', () => {
  it('a replica with tls-replication yes syncs from a TLS-only master (port 0) and receives writes', async () => {
    const masterPort = await freePort();
    const replicaPort = await freePort();
    const master = await startNode(['--port', '0', '--tls-port', String(masterPort), ...tlsFiles()], [tlsReady(masterPort)]);
    expect(master.output()).not.toMatch(/Ready to accept connections tcp/);
    const m = tlsClient(masterPort);
    await m.connect();
    await m.set('before', 'sync');
    await startNode(['--port', String(replicaPort), '--tls-replication', 'yes', ...tlsFiles(), '--replicaof', '127.0.0.1', String(masterPort)], [tcpReady(replicaPort)]);
    const r = client(replicaPort);
    await r.connect();
    await until('master_link_status:up', async () => fields(await r.info('replication')).master_link_status, (s) => s === 'up');
    expect(await r.get('before')).toBe('sync');
    await m.set('after', 'stream');
    await until('the write on the replica', async () => r.get('after'), (v) => v === 'stream');
    const info = fields(await m.info('replication'));
    expect(info.connected_slaves).toBe('1');
    expect(info.slave0).toContain(`port=${replicaPort}`);
  }, 60000);
});

describe('cluster bus over TLS (tls-cluster yes)', () => {
  it('three nodes form a cluster over a TLS bus; TLS clients are shown TLS ports, plain ones plain ports; redis-cli -c follows MOVED', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const plainPorts = [await freePort(), await freePort(), await freePort()];
    for (let i = 0; i < 3; i++) {
      const args = ['--port', String(plainPorts[i]), '--tls-port', String(ports[i]), '--tls-cluster', 'yes', '--cluster-enabled', 'yes', '--cluster-node-timeout', '3000'];
      await startNode([...args, ...tlsFiles()], [tlsReady(ports[i]), tcpReady(plainPorts[i])]);
    }
    // the bus speaks TLS and wants a certificate from its peers
    const bus = tls.connect({ host: '127.0.0.1', port: ports[0] + 10000, ca: certs.read(certs.ca), cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) });
    bus.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      bus.once('secureConnect', resolve);
      bus.once('error', reject);
    });
    bus.destroy();
    const create = await redisCli([...cliTls(ports[0]), '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes']);
    expect(create.out).toContain('[OK] All 16384 slots covered');
    for (const p of ports) {
      await until(`cluster_state:ok on ${p}`, async () => fields((await redisCli([...cliTls(p), 'cluster', 'info'])).out).cluster_state, (s) => s === 'ok', 30000);
    }
    const c = tlsClient(ports[0]);
    await c.connect();
    const plain = client(plainPorts[0]);
    await plain.connect();
    type Slots = [number, number, [string, number, string]][];
    const slots = (await c.call('CLUSTER', 'SLOTS')) as Slots;
    expect(slots.map((s) => s[2][1]).sort()).toEqual([...ports].sort());
    // each node learns the others' plain ports from the bus
    await until('plain ports in CLUSTER SLOTS for a plain client', async () => ((await plain.call('CLUSTER', 'SLOTS')) as Slots).map((s) => s[2][1]).sort(), (v) => JSON.stringify(v) === JSON.stringify([...plainPorts].sort()));
    const nodes = (await c.call('CLUSTER', 'NODES')) as string;
    for (const p of ports) expect(nodes).toContain(`127.0.0.1:${p}@${p + 10000}`);
    const plainNodes = (await plain.call('CLUSTER', 'NODES')) as string;
    for (let i = 0; i < 3; i++) expect(plainNodes).toContain(`127.0.0.1:${plainPorts[i]}@${ports[i] + 10000}`);
    const shards = (await plain.call('CLUSTER', 'SHARDS')) as unknown[][];
    const entry = (shards[0][3] as string[][])[0];
    expect(entry.slice(0, 6)).toEqual(['id', entry[1], 'port', expect.any(Number), 'tls-port', expect.any(Number)]);
    expect(plainPorts.indexOf(Number(entry[3]))).toBe(ports.indexOf(Number(entry[5])));
    // a key owned by another node: MOVED names its TLS port to a TLS client, its plain port to a plain one
    const mySlots = slots.find((s) => s[2][1] === ports[0])!;
    let key = '';
    for (let i = 0; key === ''; i++) {
      const slot = keyHashSlot(Buffer.from(`k${i}`));
      if (slot < mySlots[0] || slot > mySlots[1]) key = `k${i}`;
    }
    const moved = String(await c.get(key).catch((e: Error) => e.message));
    expect(moved).toMatch(/^MOVED \d+ 127\.0\.0\.1:\d+$/);
    const target = Number(/:(\d+)$/.exec(moved)![1]);
    expect(ports).toContain(target);
    expect(target).not.toBe(ports[0]);
    const plainMoved = String(await plain.get(key).catch((e: Error) => e.message));
    expect(plainMoved).toBe(moved.replace(`:${target}`, `:${plainPorts[ports.indexOf(target)]}`));
    expect((await redisCli([...cliTls(ports[0]), '-c', 'set', key, 'followed'])).out).toBe('OK\n');
    expect((await redisCli([...cliTls(target), 'get', key])).out).toBe('followed\n');
    expect((await redisCli(['-p', String(plainPorts[0]), '-c', 'get', key])).out).toBe('followed\n');
  }, 120000);
});

describe('side by side with the real redis-server', () => {
  it('redis-cli --tls talks to both the same way (replies, refusal without a certificate)', async () => {
    const ours = await freePort();
    const theirs = await freePort();
    await startNode(['--port', '0', '--tls-port', String(ours), ...tlsFiles()], [tlsReady(ours)]);
    await startNode(['--port', '0', '--tls-port', String(theirs), ...tlsFiles()], [/Ready to accept connections/], ['redis-server']);
    const run = async (port: number) => [
      await redisCli([...cliTls(port), 'set', 'a', 'b']),
      await redisCli([...cliTls(port), 'get', 'a']),
      await redisCli([...cliTls(port), 'config', 'get', 'tls-auth-clients']),
      await redisCli([...cliTls(port), 'incr', 'a']),
      await redisCli([...cliTls(port, false), 'ping']),
    ];
    const a = await run(ours);
    const b = await run(theirs);
    expect(a[0].out).toBe('OK\n');
    expect(a.slice(0, 4)).toEqual(b.slice(0, 4));
    // refused by both; whether redis-cli then sees a FIN or a reset depends on timing (what the server read)
    for (const refused of [a[4], b[4]]) {
      expect(refused.code).toBe(1);
      expect(refused.out).toMatch(/^Error: (Server closed the connection|Connection reset by peer)/);
    }
  }, 60000);
});

describe('sentinel with tls-replication yes', () => {
  it('monitors TLS-only nodes, discovers the replica on its TLS port and fails over to it', async () => {
    const [masterPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    await startNode(['--port', '0', '--tls-port', String(masterPort), '--tls-replication', 'yes', ...tlsFiles()], [tlsReady(masterPort)]);
    await startNode(
      ['--port', '0', '--tls-port', String(replicaPort), '--tls-replication', 'yes', ...tlsFiles(), '--replicaof', '127.0.0.1', String(masterPort)],
      [tlsReady(replicaPort)],
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-tls-sentinel-'));
    dirs.push(dir);
    const conf = path.join(dir, 'sentinel.conf');
    fs.writeFileSync(
      conf,
      [
        'port 0',
        `tls-port ${sentinelPort}`,
        'tls-replication yes',
        `tls-cert-file ${certs.serverCert}`,
        `tls-key-file ${certs.serverKey}`,
        `tls-ca-cert-file ${certs.ca}`,
        `sentinel monitor mymaster 127.0.0.1 ${masterPort} 1`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 3000',
        '',
      ].join('\n'),
    );
    await startNode(['--sentinel', conf], [tlsReady(sentinelPort)]);
    const s = tlsClient(sentinelPort);
    await s.connect();
    // discovered on its TLS port, then (a later INFO, once its sync is done) with its link to the master up
    const field = (r: string[], name: string) => r[r.indexOf(name) + 1];
    await until(
      'the replica discovered on its TLS port, its master link up',
      async () => (await s.call('SENTINEL', 'REPLICAS', 'mymaster')) as string[][],
      (r) => r.length === 1 && field(r[0], 'port') === String(replicaPort) && field(r[0], 'flags') === 'slave' && field(r[0], 'master-link-status') === 'ok',
      30000, // sentinels INFO replicas every 10 s
    );
    expect(await s.call('SENTINEL', 'FAILOVER', 'mymaster')).toBe('OK');
    await until(
      'the replica to become the master',
      async () => (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[],
      (a) => a[1] === String(replicaPort),
    );
    const promoted = tlsClient(replicaPort);
    await promoted.connect();
    await until('ROLE master on the promoted replica', async () => ((await promoted.call('ROLE')) as string[])[0], (r) => r === 'master');
  }, 60000);
});

describe('tls-cluster ports side by side with the real redis-server', () => {
  it('a one-node cluster with port and tls-port: the same ports in CLUSTER SLOTS / NODES / SHARDS for plain and TLS clients', async () => {
    const shape = async (bin: string[] | undefined) => {
      const [plainPort, tlsPort] = [await freePort(), await freePort()];
      const args = ['--bind', '127.0.0.1', '--port', String(plainPort), '--tls-port', String(tlsPort), '--tls-cluster', 'yes', '--cluster-enabled', 'yes', ...tlsFiles()];
      await startNode(args, [/Ready to accept connections/], bin);
      const plain = client(plainPort);
      const secure = tlsClient(tlsPort);
      await plain.connect();
      await secure.connect();
      await plain.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      const port = (p: number) => (p === plainPort ? 'plain' : p === tlsPort ? 'tls' : p);
      const out: unknown[] = [];
      for (const r of [plain, secure]) {
        const slots = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
        const nodes = (await r.call('CLUSTER', 'NODES')) as string;
        const shard = ((await r.call('CLUSTER', 'SHARDS')) as unknown[][])[0][3] as unknown[][];
        const fieldsOf = shard[0] as (string | number)[];
        out.push({
          slots: port(slots[0][2][1]),
          nodes: port(Number(/:(\d+)@/.exec(nodes)![1])),
          shardKeys: fieldsOf.filter((_, i) => i % 2 === 0),
          shardPorts: [port(Number(fieldsOf[fieldsOf.indexOf('port') + 1])), port(Number(fieldsOf[fieldsOf.indexOf('tls-port') + 1]))],
        });
      }
      return out;
    };
    const ours = await shape(undefined);
    expect(ours[0]).toEqual({ slots: 'plain', nodes: 'plain', shardKeys: ['id', 'port', 'tls-port', 'ip', 'endpoint', 'role', 'replication-offset', 'health'], shardPorts: ['plain', 'tls'] });
    expect(ours[1]).toMatchObject({ slots: 'tls', nodes: 'tls' });
    expect(ours).toEqual(await shape(['redis-server']));
  }, 60000);
});
