// Shared setup for the cluster tests: free client+bus ports, cluster node arguments, the real redis-cli, polling,
// INFO parsing, and a six-node cluster (3 masters, 3 replicas) joined by `redis-cli --cluster create`.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { keyHashSlot } from '../../src/cluster/crc16';
import { sleep, until as waitUntil } from '../helpers/wait';

export const DATA = process.env.INFERDB_TESTDATA ?? path.resolve(__dirname, '../../../shared/testdata/redisai');
export const linearIris = fs.readFileSync(path.join(DATA, 'linear_iris.onnx'));
export const slotOf = (k: string) => keyHashSlot(Buffer.from(k));
/** A hash tag whose keys fall in [lo, hi). */
export function tagIn(lo: number, hi: number, prefix = 't'): string {
  for (let i = 0; ; i++) if (slotOf(`${prefix}${i}`) >= lo && slotOf(`${prefix}${i}`) < hi) return `${prefix}${i}`;
}

export { sleep };
export const until = <T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000): Promise<T> =>
  waitUntil(what, f, ok, timeoutMs, 50);

export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A client port whose bus port (port + 10000) is free too. */
export async function clusterPort(): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 15000);
    if ((await canBind(p)) && (await canBind(p + 10000))) return p;
  }
}

export const NODE_TIMEOUT = 1500;
export const clusterArgs = (port: number) => ['--port', String(port), '--cluster-enabled', 'yes', '--cluster-node-timeout', String(NODE_TIMEOUT)];

export function redisCli(args: string[], timeoutMs = 30000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('redis-cli', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
  });
}

export const errorOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
};

export function fields(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export interface SixNodeCluster {
  nodes: TestServer[];
  ports: number[];
  dirs: string[];
  /** one plain client per node (no READONLY), in port order */
  clients: Redis[];
  /** what `redis-cli --cluster create` printed, and its exit code */
  create: { code: number; out: string };
  stop: () => Promise<void>;
}

/** Starts six cluster nodes, joins them with `redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes` and waits for the three replicas to link. */
export async function startSixNodeCluster(): Promise<SixNodeCluster> {
  const ports: number[] = [];
  while (ports.length < 6) {
    const p = await clusterPort();
    if (!ports.includes(p)) ports.push(p);
  }
  const dirs = ports.map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-cluster-')));
  // a port found free can be taken before the node binds it (an outgoing connection's local port): another port then
  const startNode = async (i: number): Promise<TestServer> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await startServer(clusterArgs(ports[i]), { dir: dirs[i] });
      } catch (e) {
        if (attempt >= 2 || !/EADDRINUSE/.test((e as Error).message)) throw e;
        let p = await clusterPort();
        while (ports.includes(p)) p = await clusterPort();
        ports[i] = p;
      }
    }
  };
  const started = await Promise.allSettled(ports.map((_, i) => startNode(i)));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed) {
    // no node left running when one could not start
    await Promise.all(nodes.map((n) => n.stop()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    throw failed.reason;
  }
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  };
  try {
    const create = await redisCli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    if (create.code !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.out}`);
    const clients = nodes.map((n) => n.client({ enableReadyCheck: false }));
    await until(
      'three replicas linked',
      async () => Promise.all(clients.map(async (r) => fields(await r.info('replication')))),
      (infos) => infos.filter((i) => i.role === 'slave' && i.master_link_status === 'up').length === 3,
    );
    await until(
      'the cluster ok everywhere',
      async () => Promise.all(clients.map(async (r) => fields((await r.call('CLUSTER', 'INFO')) as string).cluster_state)),
      (states) => states.every((s) => s === 'ok'),
    );
    await until(
      'the replicas known everywhere',
      async () => Promise.all(clients.map(async (r) => ((await r.call('CLUSTER', 'NODES')) as string).match(/ (myself,)?slave [0-9a-f]{40} /g)?.length ?? 0)),
      (counts) => counts.every((n) => n === 3),
    );
    return { nodes, ports, dirs, clients, create, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
