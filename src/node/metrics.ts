// `metrics-port`: an HTTP endpoint serving GET /metrics in Prometheus' text exposition format 0.0.4. Everything is
// read at scrape time from what the node keeps anyway (command table stats, the latency histograms, AI.INFO's model
// counters, the device queues, replication and cluster state, the INFO memory / persistence sections), so a scrape
// costs nothing between scrapes. Memory and persistence figures come through the INFO section builders: fields
// added there show up here without a change.

import * as http from 'node:http';
import type { Server } from './server';
import { HIST_BUCKETS } from './latency';
import { aiRuntime, MODEL_TYPE, type RunStats } from '../ai/model';

type Labels = Record<string, string | number>;
type MetricType = 'counter' | 'gauge' | 'histogram';

interface Family {
  type: MetricType;
  help: string;
  lines: string[];
}

/** Escapes a label value: backslash, double quote and newline, as the format requires. */
export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Collects samples by family (a family's lines must be together, after its HELP and TYPE). */
class Exposition {
  private families = new Map<string, Family>();

  /** `name` is the family name; counters are given without `_total`, which is added to their samples. */
  add(name: string, type: MetricType, help: string, value: number, labels: Labels = {}, suffix = ''): void {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { type, help, lines: [] }));
    const sampleName = name + (type === 'counter' ? '_total' : suffix);
    const keys = Object.keys(labels);
    const l = keys.length === 0 ? '' : '{' + keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(',') + '}';
    f.lines.push(`${sampleName}${l} ${formatValue(value)}`);
  }

  render(): string {
    let out = '';
    for (const [name, f] of this.families) {
      out += `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${f.type}\n`;
      out += f.lines.join('\n') + '\n';
    }
    return out;
  }
}

/** `field:value` lines of INFO sections, as the node renders them. */
function infoFields(server: Server, section: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of server.info.render([section]).split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.indexOf(':');
    if (at > 0) out.push([line.slice(0, at), line.slice(at + 1)]);
  }
  return out;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** Every numeric field of an INFO section as a gauge `inferdb_<prefix>_<field>`. */
function infoGauges(e: Exposition, server: Server, section: string, prefix: string): void {
  for (const [k, v] of infoFields(server, section)) {
    if (!NUMERIC.test(v) || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(k)) continue;
    e.add(`inferdb_${prefix}_${k}`, 'gauge', `INFO ${section} field ${k}`, Number(v));
  }
}

function generic(e: Exposition, server: Server): void {
  const s = server.stats;
  e.add('inferdb_uptime_seconds', 'gauge', 'Seconds since the node started', Math.floor((Date.now() - s.startTime) / 1000));
  e.add('inferdb_connected_clients', 'gauge', 'Client connections open', server.clients.size);
  e.add('inferdb_blocked_clients', 'gauge', 'Clients blocked on keys', server.blocking.blockedCount);
  e.add('inferdb_commands_processed', 'counter', 'Commands run (INFO total_commands_processed)', s.commandsProcessed);
  e.add('inferdb_connections_received', 'counter', 'Connections accepted', s.connectionsReceived);
  e.add('inferdb_rejected_connections', 'counter', 'Connections refused (maxclients, protected mode)', s.rejectedConnections);
  e.add('inferdb_net_input_bytes', 'counter', 'Bytes read from clients', s.netInputBytes);
  e.add('inferdb_net_output_bytes', 'counter', 'Bytes written to clients', s.netOutputBytes);
  e.add('inferdb_expired_keys', 'counter', 'Keys removed by expiry', s.expiredKeys);
  e.add('inferdb_evicted_keys', 'counter', 'Keys evicted by maxmemory', server.eviction.evictedKeys);
  e.add('inferdb_keyspace_hits', 'counter', 'Key lookups that found the key', s.keyspaceHits);
  e.add('inferdb_keyspace_misses', 'counter', 'Key lookups that did not find the key', s.keyspaceMisses);
  e.add('inferdb_error_replies', 'counter', 'Error replies sent', s.errorReplies);
  for (const [code, n] of s.errorsByCode) e.add('inferdb_errors', 'counter', 'Error replies by error code', n, { code });
  for (const db of server.dbs) {
    if (db.map.size === 0 && db.expires.size === 0) continue;
    e.add('inferdb_db_keys', 'gauge', 'Keys per database', db.map.size, { db: db.id });
    e.add('inferdb_db_expiring_keys', 'gauge', 'Keys with a TTL per database', db.expires.size, { db: db.id });
  }
  const cpu = process.resourceUsage();
  e.add('inferdb_cpu_user_seconds', 'counter', 'User CPU time of the process', cpu.userCPUTime / 1e6);
  e.add('inferdb_cpu_system_seconds', 'counter', 'System CPU time of the process', cpu.systemCPUTime / 1e6);
  const loop = server.eventLoop.last;
  const help = (what: string) => `Event-loop delay ${what} over the last second (0 while no one watches: metrics-port or latency-monitor-threshold)`;
  e.add('inferdb_eventloop_delay_max_seconds', 'gauge', help('maximum'), loop.max);
  e.add('inferdb_eventloop_delay_mean_seconds', 'gauge', help('mean'), loop.mean);
  e.add('inferdb_eventloop_delay_p99_seconds', 'gauge', help('99th percentile'), loop.p99);
}

function commands(e: Exposition, server: Server): void {
  const hists = server.histograms.byCommand;
  const visit = (cmd: ReturnType<Server['table']['all']>[number]) => {
    const st = cmd.stats;
    if (st.calls + st.rejected + st.failed > 0) {
      const labels = { cmd: cmd.fullName };
      e.add('inferdb_command_calls', 'counter', 'Calls per command (INFO commandstats calls)', st.calls, labels);
      e.add('inferdb_command_duration_seconds', 'counter', 'Time spent per command (INFO commandstats usec)', st.usec / 1e6, labels);
      e.add('inferdb_command_rejected_calls', 'counter', 'Calls refused before running (arity, auth, OOM, redirects ...)', st.rejected, labels);
      e.add('inferdb_command_failed_calls', 'counter', 'Calls that ran and answered an error', st.failed, labels);
    }
    for (const sub of cmd.subcommands?.values() ?? []) visit(sub);
  };
  for (const cmd of server.table.all()) visit(cmd);
  const name = 'inferdb_command_latency_seconds';
  const help = 'Latency per command (power-of-two buckets from 1 microsecond)';
  for (const [cmd, h] of hists) {
    if (h.count === 0) continue;
    let cumulative = 0;
    for (let k = 0; k < HIST_BUCKETS; k++) {
      cumulative += h.buckets[k];
      e.add(name, 'histogram', help, cumulative, { cmd: cmd.fullName, le: String(2 ** k / 1e6) }, '_bucket');
    }
    e.add(name, 'histogram', help, h.count, { cmd: cmd.fullName, le: '+Inf' }, '_bucket');
    e.add(name, 'histogram', help, h.sum / 1e6, { cmd: cmd.fullName }, '_sum');
    e.add(name, 'histogram', help, h.count, { cmd: cmd.fullName }, '_count');
  }
}

interface AiValue {
  type: string;
  value: { stats: RunStats; backend?: string; device: string; queue: { device: string } };
}

function ai(e: Exposition, server: Server): void {
  const rt = aiRuntime(server);
  for (const [device, q] of rt.queues) {
    e.add('inferdb_ai_queue_length', 'gauge', 'Requests waiting in a device queue', q.length, { device });
    e.add('inferdb_ai_queue_workers', 'gauge', 'Worker threads serving a device queue', q.threads, { device });
    // rate() of this, summed over workers, is the average number of busy workers
    q.busySeconds().forEach((s, i) =>
      e.add('inferdb_ai_queue_worker_busy_seconds', 'counter', 'Time a device queue worker spent on loads and runs', s, { device, worker: i + 1 }),
    );
  }
  for (const db of server.dbs) {
    // INFO memory's tally of AI values (src/node/memory.ts) spares a walk of databases without models or scripts
    const tally = (db as unknown as { aiTally?: Map<string, { count: number }> | null }).aiTally;
    if (tally === null) continue;
    if (tally !== undefined && ![...tally].some(([kind, t]) => kind !== 'TENSOR' && t.count > 0)) continue;
    for (const [key, v] of db.map) {
      const t = (v as unknown as AiValue).type;
      if (t !== MODEL_TYPE && t !== 'AI_SCRIPT') continue;
      const m = (v as unknown as AiValue).value;
      const kind = t === MODEL_TYPE ? 'model' : 'script';
      const labels = { db: db.id, key: Buffer.from(key, 'latin1').toString('utf8') };
      const st = m.stats;
      e.add(`inferdb_ai_${kind}_info`, 'gauge', `Stored ${kind}s: backend and device`, 1, { ...labels, backend: m.backend ?? 'TORCH', device: m.device });
      e.add(`inferdb_ai_${kind}_runs`, 'counter', `Runs per ${kind} (AI.INFO calls)`, st.calls, labels);
      e.add(`inferdb_ai_${kind}_errors`, 'counter', `Failed runs per ${kind} (AI.INFO errors)`, st.errors, labels);
      e.add(`inferdb_ai_${kind}_run_duration_seconds`, 'counter', `Time in successful runs per ${kind} (AI.INFO duration)`, st.duration / 1e6, labels);
      if (kind === 'model') {
        // samples / runs is the average batch size
        e.add('inferdb_ai_model_samples', 'counter', 'Batch sizes (dim 0 of output 0) summed over successful runs (AI.INFO samples)', st.samples, labels);
      }
    }
  }
}

function replication(e: Exposition, server: Server): void {
  const r = server.replication;
  e.add('inferdb_replication_role', 'gauge', 'Replication role of the node (1 for the current one)', 1, { role: r.role === 'master' ? 'master' : 'replica' });
  const fields = new Map(r.infoFields().map(([k, v]) => [k, String(v)]));
  e.add('inferdb_master_repl_offset', 'gauge', 'Replication offset of this node (INFO master_repl_offset)', Number(fields.get('master_repl_offset') ?? 0));
  e.add('inferdb_connected_replicas', 'gauge', 'Replicas connected to this node', Number(fields.get('connected_slaves') ?? 0));
  e.add('inferdb_repl_backlog_histlen', 'gauge', 'Bytes held in the replication backlog', Number(fields.get('repl_backlog_histlen') ?? 0));
  for (const [k, v] of fields) {
    if (!/^slave\d+$/.test(k)) continue;
    const f = new Map(v.split(',').map((kv) => kv.split('=') as [string, string]));
    const labels = { replica: `${f.get('ip')}:${f.get('port')}`, state: f.get('state') ?? '' };
    e.add('inferdb_replica_offset', 'gauge', 'Replication offset a replica acknowledged', Number(f.get('offset')), labels);
    e.add('inferdb_replica_lag_seconds', 'gauge', 'Seconds since a replica last acknowledged', Number(f.get('lag')), labels);
  }
  if (r.role === 'replica') {
    e.add('inferdb_master_link_up', 'gauge', 'Whether the link to the master is up', fields.get('master_link_status') === 'up' ? 1 : 0);
    e.add('inferdb_slave_repl_offset', 'gauge', 'Replication offset this replica has processed', Number(fields.get('slave_repl_offset') ?? 0));
    e.add('inferdb_master_last_io_seconds', 'gauge', 'Seconds since the last byte from the master (-1: none)', Number(fields.get('master_last_io_seconds_ago') ?? -1));
  }
}

function cluster(e: Exposition, server: Server): void {
  const cl = server.cluster;
  e.add('inferdb_cluster_enabled', 'gauge', 'Whether cluster mode is on', cl ? 1 : 0);
  if (!cl) return;
  const st = cl.state;
  const assigned = st.assignedCount();
  const { pfail, fail } = st.failingSlots();
  e.add('inferdb_cluster_state_ok', 'gauge', 'Cluster state as this node sees it (1 ok, 0 fail)', cl.stateOk() ? 1 : 0);
  e.add('inferdb_cluster_slots_assigned', 'gauge', 'Slots assigned to a node', assigned);
  e.add('inferdb_cluster_slots_ok', 'gauge', 'Slots served by a node not failing', assigned - pfail - fail);
  e.add('inferdb_cluster_slots_pfail', 'gauge', 'Slots of nodes flagged PFAIL', pfail);
  e.add('inferdb_cluster_slots_fail', 'gauge', 'Slots of nodes flagged FAIL', fail);
  e.add('inferdb_cluster_known_nodes', 'gauge', 'Nodes this node knows of', st.nodes.size);
  e.add('inferdb_cluster_size', 'gauge', 'Masters serving at least one slot', st.mastersWithSlots().length);
  e.add('inferdb_cluster_current_epoch', 'gauge', 'Cluster current epoch', st.currentEpoch);
}

/** The whole /metrics page. */
export function renderMetrics(server: Server): string {
  const e = new Exposition();
  generic(e, server);
  commands(e, server);
  infoGauges(e, server, 'memory', 'memory');
  infoGauges(e, server, 'persistence', 'persistence');
  replication(e, server);
  cluster(e, server);
  ai(e, server);
  return e.render();
}

export class MetricsServer {
  private servers: http.Server[] = [];
  /** the port actually bound (metrics-port 0 means off, so this is the configured one once started) */
  port = 0;

  constructor(private readonly server: Server) {}

  async start(): Promise<void> {
    const port = this.server.config.getInt('metrics-port');
    if (port <= 0) return;
    const bind = this.server.config.get('metrics-bind') || this.server.config.get('bind');
    for (const host of bind.split(' ').filter(Boolean)) {
      const srv = http.createServer((req, res) => this.handle(req, res));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port, host: host === '*' ? undefined : host }, () => {
          srv.off('error', reject);
          resolve();
        });
      });
      this.servers.push(srv);
    }
    this.port = port;
    this.server.log('notice', `Metrics available on http://${bind.split(' ')[0]}:${port}/metrics`);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
      return;
    }
    let body: string;
    try {
      body = renderMetrics(this.server);
    } catch (err) {
      this.server.log('warning', `metrics scrape failed: ${(err as Error).stack ?? err}`);
      res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async close(): Promise<void> {
    const all = this.servers;
    this.servers = [];
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections?.();
          }),
      ),
    );
  }
}
