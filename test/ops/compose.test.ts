// The deployment files against the local launchers. No Docker engine runs here, so docker-compose.cluster.yml is
// parsed (yaml) and checked against the topologies of ops/cluster/local.sh and ops/sentinel/local.sh (node counts,
// ports, cluster flags, sentinel settings and quorum, health checks, volumes); then its commands are run for real
// as local processes (addresses mapped to 127.0.0.1 and free ports): the cluster-init command joins the six nodes,
// the sentinels read the compose sentinel config and find the master and both replicas. Last, the cluster launcher
// itself: start / status / stop / restart on a free port range, checked with `redis-cli --cluster check`.

import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'dist/main.js');
const LAUNCHER = path.join(ROOT, 'ops/cluster/local.sh');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.cluster.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks: Record<string, { ipam: { config: { subnet: string }[] } }>;
};
interface Service {
  build?: unknown;
  image?: string;
  entrypoint?: string[];
  command: string[];
  ports?: string[];
  volumes?: string[];
  networks?: Record<string, { ipv4_address: string }> | string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const clusterLauncher = fs.readFileSync(LAUNCHER, 'utf8');
const sentinelLauncher = fs.readFileSync(path.join(ROOT, 'ops/sentinel/local.sh'), 'utf8');
const composeSentinelConf = fs.readFileSync(path.join(ROOT, 'ops/compose/sentinel.conf'), 'utf8');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const num = (text: string, re: RegExp): number => {
  const m = re.exec(text);
  if (!m) throw new Error(`${re} not found`);
  return Number(m[1]);
};
/** the value after `--name` in an argument list */
const arg = (argv: string[], name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
};
const ipOf = (s: Service): string => Object.values(s.networks as Record<string, { ipv4_address: string }>)[0].ipv4_address;
const byPrefix = (p: RegExp) => Object.entries(compose.services).filter(([n]) => p.test(n));

function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 30000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: number }).code : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
  });
}
const cli = async (port: number, ...a: string[]) => (await run('redis-cli', ['-p', String(port), ...a], {}, 5000)).out.trim();

async function until(what: string, f: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
/** n consecutive free ports whose bus ports (+10000) are free too */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 14000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = (await canBind(base + i)) && (await canBind(base + i + 10000));
    if (ok) return base;
  }
}

// the launchers' topologies, read from the scripts themselves
const launcher = {
  masters: num(clusterLauncher, /^MASTERS=(\d+)$/m),
  replicas: num(clusterLauncher, /^REPLICAS=(\d+)$/m),
  base: num(clusterLauncher, /^BASE=(\d+)$/m),
  nodeTimeout: num(clusterLauncher, /^NODE_TIMEOUT=(\d+)$/m),
};
const sentinelTopo = {
  quorum: num(sentinelLauncher, /sentinel monitor \$NAME 127\.0\.0\.1 \$BASE (\d+)/),
  downAfter: num(sentinelLauncher, /sentinel down-after-milliseconds \$NAME (\d+)/),
  failoverTimeout: num(sentinelLauncher, /sentinel failover-timeout \$NAME (\d+)/),
  parallelSyncs: num(sentinelLauncher, /sentinel parallel-syncs \$NAME (\d+)/),
  dataNodes: sentinelLauncher.match(/for i in ([\d ]+); do\n\s+local port=\$\(\(BASE \+ i\)\)/)![1].trim().split(' ').length,
  sentinels: sentinelLauncher.match(/for i in ([\d ]+); do\n\s+local port=\$\(\(BASE \+ 100 \+ i\)\)/)![1].trim().split(' ').length,
};

describe('docker-compose.cluster.yml against the launchers', () => {
  const nodes = byPrefix(/^cluster-node-\d+$/);
  const dataNodes = byPrefix(/^sentinel-(master|replica-\d+)$/);
  const sentinels = byPrefix(/^sentinel-\d+$/);

  it('every service builds the one image from ./Dockerfile, with a redis-cli health check on its own port and a data volume', () => {
    const df = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(df).toMatch(/^FROM node:20-bookworm-slim$/m);
    expect(df).toMatch(/apt-get install .*libtorch-dev libopenblas0-openmp redis-tools/);
    expect(df).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip/);
    expect(df).toMatch(/RUN npm install/);
    expect(df).toMatch(/RUN npm run build/);
    expect(df).toMatch(/^ENTRYPOINT \["\/app\/bin\/inferdb"\]$/m);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toBe('inferdb:local');
      expect(s.build, name).toEqual({ context: '.', dockerfile: 'Dockerfile' });
      if (name === 'cluster-init') continue;
      const port = Number(arg(s.command, '--port') ?? /s\/__PORT__\/(\d+)\//.exec(s.command.join(' '))?.[1]);
      expect(port, name).toBeGreaterThan(0);
      expect(s.healthcheck!.test, name).toEqual(['CMD-SHELL', `redis-cli -p ${port} ping | grep -q PONG`]);
      expect(s.ports, name).toContain(`${port}:${port}`);
      expect(s.volumes!.length, name).toBe(1);
      const [vol, mount] = s.volumes![0].split(':');
      expect(mount, name).toBe('/data');
      expect(Object.keys(compose.volumes), name).toContain(vol);
    }
    const vols = Object.values(compose.services).flatMap((s) => s.volumes ?? []);
    expect(new Set(vols).size).toBe(vols.length); // no two services share a data volume
  });

  it('the cluster: the launcher default topology, cluster-enabled, joined by cluster-init with redis-cli --cluster create', () => {
    const n = launcher.masters * (launcher.replicas + 1);
    expect(nodes.length).toBe(n);
    const addrs: string[] = [];
    nodes.forEach(([name, s], i) => {
      const port = Number(arg(s.command, '--port'));
      expect(port, name).toBe(launcher.base + i);
      expect(arg(s.command, '--cluster-enabled'), name).toBe('yes');
      expect(arg(s.command, '--cluster-config-file'), name).toBe('nodes.conf');
      expect(arg(s.command, '--cluster-node-timeout'), name).toBe(String(launcher.nodeTimeout));
      expect(arg(s.command, '--cluster-announce-ip'), name).toBe(ipOf(s));
      expect(arg(s.command, '--dir'), name).toBe('/data');
      expect(s.ports, name).toContain(`${port + 10000}:${port + 10000}`); // the cluster bus
      addrs.push(`${ipOf(s)}:${port}`);
    });
    const init = compose.services['cluster-init'];
    const script = init.command.join(' ');
    const create = /redis-cli --cluster create ([\d.: ]+?) --cluster-replicas (\d+) --cluster-yes/.exec(script)!;
    expect(create[1].split(' ')).toEqual(addrs);
    expect(Number(create[2])).toBe(launcher.replicas);
    expect(script).toMatch(/redis-cli --cluster check /);
    expect(Object.keys(init.depends_on!).sort()).toEqual(nodes.map(([name]) => name).sort());
    for (const d of Object.values(init.depends_on!)) expect(d.condition).toBe('service_healthy');
  });

  it('the sentinel group: master + replicas + sentinels as ops/sentinel/local.sh, same quorum and timings', () => {
    expect(dataNodes.length).toBe(sentinelTopo.dataNodes);
    expect(sentinels.length).toBe(sentinelTopo.sentinels);
    const [, master] = dataNodes[0];
    const base = Number(arg(master.command, '--port'));
    expect(arg(master.command, '--replicaof')).toBeUndefined();
    dataNodes.forEach(([name, s], i) => {
      expect(Number(arg(s.command, '--port')), name).toBe(base + i);
      expect(arg(s.command, '--cluster-enabled'), name).toBeUndefined();
      if (i > 0) {
        expect(arg(s.command, '--replicaof'), name).toBe(`${ipOf(master)} ${base}`);
        expect(arg(s.command, '--replica-priority'), name).toBe(String(100 - i)); // as local.sh: 99, 98
      }
    });
    sentinels.forEach(([name, s], i) => {
      const script = s.command.join(' ');
      expect(script, name).toContain(`s/__PORT__/${base + 100 + i}/`);
      expect(script, name).toMatch(/\/app\/ops\/compose\/sentinel\.conf > \/data\/sentinel\.conf/);
      expect(script, name).toMatch(/exec \/app\/bin\/inferdb --sentinel \/data\/sentinel\.conf/);
    });
    const conf = composeSentinelConf;
    expect(conf).toMatch(new RegExp(`^sentinel monitor mymaster ${ipOf(master).replace(/\./g, '\\.')} ${base} ${sentinelTopo.quorum}$`, 'm'));
    expect(num(conf, /^sentinel down-after-milliseconds mymaster (\d+)$/m)).toBe(sentinelTopo.downAfter);
    expect(num(conf, /^sentinel failover-timeout mymaster (\d+)$/m)).toBe(sentinelTopo.failoverTimeout);
    expect(num(conf, /^sentinel parallel-syncs mymaster (\d+)$/m)).toBe(sentinelTopo.parallelSyncs);
    expect(conf).toMatch(/^port __PORT__$/m);
  });

  it('fixed addresses lie in their network subnets and are unique', () => {
    const ips = [...nodes, ...dataNodes, ...sentinels].map(([, s]) => ipOf(s));
    expect(new Set(ips).size).toBe(ips.length);
    for (const [, s] of [...nodes, ...dataNodes, ...sentinels]) {
      const [net] = Object.keys(s.networks!);
      const subnet = compose.networks[net].ipam.config[0].subnet.replace(/0\/24$/, '');
      expect(ipOf(s).startsWith(subnet)).toBe(true);
    }
  });
});

// ---- the compose commands, run as local processes ----

const procs: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await sleep(100);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** compose address (ip, port) → a local port; rewrites a compose argument list for a local run */
function localize(argv: string[], map: Map<string, number>, dir: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a === '--port') out.push(a, String([...map].find(([k]) => k.endsWith(`:${next}`))![1]));
    else if (a === '--dir') out.push(a, dir);
    else if (a === '--bind' || a === '--cluster-announce-ip') out.push(a, '127.0.0.1');
    else if (a === '--replicaof') {
      const [ip, port] = next.split(' ');
      out.push(a, `127.0.0.1 ${map.get(`${ip}:${port}`)}`);
    } else {
      out.push(a);
      continue;
    }
    i++;
  }
  return out;
}

function startNode(argv: string[], dir: string): ChildProcess {
  const p = spawn(process.execPath, [MAIN, ...argv], { cwd: dir, stdio: 'ignore' });
  procs.push(p);
  return p;
}

describe('the compose commands run as local processes', () => {
  it('six cluster nodes from their compose commands are joined by the cluster-init command', async () => {
    const nodes = byPrefix(/^cluster-node-\d+$/);
    const base = await freeRange(nodes.length);
    const map = new Map(nodes.map(([, s], i) => [`${ipOf(s)}:${arg(s.command, '--port')}`, base + i]));
    const ports = [...map.values()];
    for (const [name, s] of nodes) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `inferdb-compose-${name}-`));
      dirs.push(dir);
      startNode(localize(s.command, map, dir).map((a) => (a === '2000' ? '1000' : a)), dir);
    }
    for (const p of ports) await until(`node ${p}`, async () => (await cli(p, 'ping')) === 'PONG');
    // the init script, with the compose `$$` escape undone and the addresses mapped
    let script = compose.services['cluster-init'].command.join(' ').replace(/\$\$/g, '$');
    for (const [addr, port] of map) script = script.split(addr).join(`127.0.0.1:${port}`);
    script = script.replace(/-h [\d.]+ -p (\d+)/g, (_, p) => `-h 127.0.0.1 -p ${map.get(`${ipOf(nodes[0][1])}:${p}`)}`);
    expect(script).not.toMatch(/172\./);
    const r = await run('sh', ['-c', script], {}, 60000);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/\[OK\] All 16384 slots covered/);
    const info = await cli(ports[0], 'cluster', 'info');
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_size:3/);
    // a second run of the one-shot service sees the cluster and leaves it alone
    const again = await run('sh', ['-c', script], {}, 30000);
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/cluster already created/);
  });

  it('the sentinel group: the sentinels read the compose sentinel config and find the master and both replicas', async () => {
    const data = byPrefix(/^sentinel-(master|replica-\d+)$/);
    const sentinels = byPrefix(/^sentinel-\d+$/);
    const base = await freeRange(3);
    const sbase = await freeRange(3);
    const map = new Map(data.map(([, s], i) => [`${ipOf(s)}:${arg(s.command, '--port')}`, base + i]));
    for (const [name, s] of data) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `inferdb-compose-${name}-`));
      dirs.push(dir);
      startNode(localize(s.command, map, dir), dir);
    }
    for (let i = 0; i < 3; i++) await until(`node ${base + i}`, async () => (await cli(base + i, 'ping')) === 'PONG');
    // the replicas follow the master from their compose --replicaof (so the sentinels' first INFO lists them)
    for (let i = 1; i < 3; i++) await until(`replica ${base + i} linked`, async () => /master_link_status:up/.test(await cli(base + i, 'info', 'replication')));
    sentinels.forEach(([name, s], i) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `inferdb-compose-${name}-`));
      dirs.push(dir);
      const composePort = /s\/__PORT__\/(\d+)\//.exec(s.command.join(' '))![1];
      let conf = composeSentinelConf.replace('__PORT__', String(sbase + i)).replace(/^dir \/data$/m, `dir ${dir}`).replace(/^bind .*$/m, 'bind 127.0.0.1');
      for (const [addr, port] of map) conf = conf.replace(addr.replace(':', ' '), `127.0.0.1 ${port}`);
      expect(composePort).toMatch(/^\d+$/);
      fs.writeFileSync(path.join(dir, 'sentinel.conf'), conf);
      const p = spawn(process.execPath, [MAIN, '--sentinel', path.join(dir, 'sentinel.conf')], { cwd: dir, stdio: 'ignore' });
      procs.push(p);
    });
    for (let i = 0; i < 3; i++) {
      await until(`sentinel ${sbase + i} to see 2 replicas and 2 other sentinels`, async () => {
        const m = await cli(sbase + i, 'sentinel', 'master', 'mymaster');
        const f = m.split('\n');
        const v = (k: string) => f[f.indexOf(k) + 1];
        return v('num-slaves') === '2' && v('num-other-sentinels') === '2' && v('port') === String(base) && v('flags') === 'master';
      }, 40000); // hellos every 2 s; generous for a loaded CI machine
    }
    let ck = '';
    await until('CKQUORUM to count the 3 sentinels', async () => /^OK 3 usable Sentinels/.test((ck = await cli(sbase, 'sentinel', 'ckquorum', 'mymaster'))), 20000).catch(() => {});
    expect(ck).toMatch(/^OK 3 usable Sentinels/);
  }, 90000);
});

describe('ops/cluster/local.sh', () => {
  it('start creates a clean 3x1 cluster with the real redis-cli; status checks it; stop ends every process; start again restarts it with its data', async () => {
    const base = await freeRange(6);
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferdb-ops-cluster-'));
    dirs.push(runDir);
    const env = { RUN_DIR: runDir };
    const sh = (...a: string[]) => run(LAUNCHER, [...a, '--base-port', String(base)], env, 40000);
    try {
      await launcherSteps(base, runDir, sh);
    } finally {
      await sh('stop'); // also after a failed step: no node outlives the test
    }
  }, 60000);
});

async function launcherSteps(base: number, runDir: string, sh: (...a: string[]) => Promise<{ code: number; out: string }>): Promise<void> {
  {
    const started = await sh('start', '--node-timeout', '1000');
    expect(started.code, started.out).toBe(0);
    expect(started.out).toContain(`RUN_DIR=${runDir}`);
    expect(started.out).toContain(`--cluster-replicas 1 --cluster-yes`);
    const pids = fs.readdirSync(runDir).filter((f) => f.endsWith('.pid')).map((f) => Number(fs.readFileSync(path.join(runDir, f), 'utf8')));
    expect(pids.length).toBe(6);
    const check = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${base + 3}`]);
    check.out = check.out.replace(/\x1b\[[0-9;]*m/g, ''); // redis-cli colours its output
    expect(check.code, check.out).toBe(0);
    expect(check.out).toMatch(/\[OK\] All nodes agree about slots configuration/);
    expect(check.out).toMatch(/\[OK\] All 16384 slots covered/);
    expect(check.out.match(/^M: /gm)!.length).toBe(3);
    expect(check.out.match(/^S: /gm)!.length).toBe(3);
    expect(check.out).not.toMatch(/\[(ERR|WARNING)\]/);
    // a second start while running is refused and changes nothing
    const twice = await sh('start');
    expect(twice.code).not.toBe(0);
    expect(twice.out).toMatch(/already running/);

    const status = await sh('status');
    expect(status.code, status.out).toBe(0);
    expect(status.out.match(/^node \d+: master \d+-\d+$/gm)!.length).toBe(3);
    expect(status.out.match(/^node \d+: slave$/gm)!.length).toBe(3);
    expect(status.out).toMatch(/\[OK\] All 16384 slots covered/);

    expect((await run('redis-cli', ['-c', '-p', String(base), 'set', 'ops-key', 'v1'])).out.trim()).toBe('OK');

    const stopped = await sh('stop');
    expect(stopped.code, stopped.out).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
    for (let i = 0; i < 6; i++) expect(await canBind(base + i)).toBe(true);
    const down = await sh('status');
    expect(down.code).not.toBe(0);
    expect(down.out.match(/: down$/gm)!.length).toBe(6);

    // start again: nodes.conf is there, so the same cluster comes back (no create), with the key
    const again = await sh('start', '--node-timeout', '1000');
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/restarted the cluster \(no create\)/);
    expect((await run('redis-cli', ['-c', '-p', String(base + 1), 'get', 'ops-key'])).out.trim()).toBe('v1');
    expect((await sh('stop')).code).toBe(0);
  }
}
