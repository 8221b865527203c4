// INFO: named sections of `field:value` lines, joined with \r\n (redis-cli and sentinels split on \r).
// Subsystems add their own sections through InfoSections.register.

import * as os from 'node:os';
import type { Server } from './server';
import { REDIS_VERSION } from './commands/connection';

export type SectionBuilder = () => [string, string | number][];

interface Section {
  name: string;
  title: string;
  build: SectionBuilder;
  inDefault: boolean;
  /** a module's section (as Redis's RM_InfoAddSection): shown only for EVERYTHING, MODULES, its own name or its module's */
  module?: string;
}

export class InfoSections {
  private sections: Section[] = [];

  /** Adds a section, or replaces one of the same name where it stands (keeping Redis's section order). */
  register(name: string, title: string, build: SectionBuilder, inDefault = true, module?: string): void {
    const section: Section = { name, title, build, inDefault: inDefault && !module, module };
    const at = this.sections.findIndex((s) => s.name === name);
    if (at >= 0) this.sections[at] = section;
    else this.sections.push(section);
  }

  /** Renders the requested sections ('default', 'all', 'everything' or names). */
  render(requested: string[]): string {
    const want = requested.map((r) => r.toLowerCase());
    const pick = (s: Section) => {
      if (s.module) return ['everything', 'modules', s.module, s.name].some((w) => want.includes(w));
      if (want.length === 0 || want.includes('default')) return s.inDefault || want.includes(s.name);
      if (want.includes('all') || want.includes('everything')) return true;
      return want.includes(s.name);
    };
    const parts: string[] = [];
    for (const s of this.sections) {
      if (!pick(s)) continue;
      const lines = s.build().map(([k, v]) => (v === '' && k.startsWith('#') ? k : `${k}:${v}`));
      parts.push(`# ${s.title}\r\n` + lines.map((l) => l + '\r\n').join(''));
    }
    return parts.join('\r\n');
  }
}

export function registerCoreSections(info: InfoSections, server: Server): void {
  const started = server.stats.startTime;
  info.register('server', 'Server', () => {
    const uptime = Math.floor((Date.now() - started) / 1000);
    return [
      ['redis_version', REDIS_VERSION],
      ['redis_git_sha1', '00000000'],
      ['redis_git_dirty', 0],
      ['redis_build_id', '0'],
      ['redis_mode', server.roleInfo().mode],
      ['server_name', 'inferdb'],
      ['os', `${os.type()} ${os.release()} ${os.machine()}`],
      ['arch_bits', 64],
      ['multiplexing_api', 'libuv'],
      ['process_id', process.pid],
      ['process_supervised', 'no'],
      ['run_id', server.runId],
      ['tcp_port', server.boundPort],
      ['server_time_usec', Date.now() * 1000],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['hz', server.config.getInt('hz')],
      ['configured_hz', server.config.getInt('hz')],
      ['executable', process.argv[1] ?? ''],
      ['config_file', server.config.file ?? ''],
      ['node_version', process.version],
    ];
  });
  info.register('clients', 'Clients', () => {
    let pubsub = 0;
    let maxIn = 0;
    let maxOut = 0;
    for (const c of server.clients.values()) {
      if (c.inPubSubContext) pubsub++;
      maxIn = Math.max(maxIn, c.parser.pending);
      maxOut = Math.max(maxOut, c.socket.writableLength + c.out.pendingBytes);
    }
    return [
      ['connected_clients', server.clients.size],
      ['cluster_connections', 0],
      ['maxclients', server.config.getInt('maxclients')],
      ['client_recent_max_input_buffer', maxIn],
      ['client_recent_max_output_buffer', maxOut],
      ['blocked_clients', server.blocking.blockedCount],
      ['tracking_clients', 0],
      ['clients_in_timeout_table', 0],
      ['pubsub_clients', pubsub],
    ];
  });
  // used_memory is the accounted figure maxmemory works on (src/node/memory.ts), Node's heap figures beside it
  info.register('memory', 'Memory', () => server.memory.infoFields());
  info.register('persistence', 'Persistence', () => server.persistence.infoFields());
  info.register('stats', 'Stats', () => {
    const s = server.stats;
    const samples = s.opsSamples;
    const ops = samples.length ? Math.round(samples.reduce((a, b) => a + b, 0) / samples.length) : 0;
    return [
      ['total_connections_received', s.connectionsReceived],
      ['total_commands_processed', s.commandsProcessed],
      ['instantaneous_ops_per_sec', ops],
      ['total_net_input_bytes', s.netInputBytes],
      ['total_net_output_bytes', s.netOutputBytes],
      ['rejected_connections', s.rejectedConnections],
      ['expired_keys', s.expiredKeys],
      ['evicted_keys', server.eviction.evictedKeys],
      ['keyspace_hits', s.keyspaceHits],
      ['keyspace_misses', s.keyspaceMisses],
      ['pubsub_channels', server.pubsub.channels.size],
      ['pubsub_patterns', server.pubsub.patterns.size],
      ['total_error_replies', s.errorReplies],
    ];
  });
  info.register('replication', 'Replication', () => [
    ['role', 'master'],
    ['connected_slaves', 0],
    ['master_failover_state', 'no-failover'],
    ['master_replid', server.runId],
    ['master_replid2', '0'.repeat(40)],
    ['master_repl_offset', 0],
    ['second_repl_offset', -1],
    ['repl_backlog_active', 0],
    ['repl_backlog_size', server.config.getInt('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', 0],
    ['repl_backlog_histlen', 0],
  ]);
  info.register('cpu', 'CPU', () => {
    const u = process.resourceUsage();
    return [
      ['used_cpu_sys', (u.systemCPUTime / 1e6).toFixed(6)],
      ['used_cpu_user', (u.userCPUTime / 1e6).toFixed(6)],
      ['used_cpu_sys_children', '0.000000'],
      ['used_cpu_user_children', '0.000000'],
    ];
  });
  info.register('modules', 'Modules', () => []);
  info.register(
    'commandstats',
    'Commandstats',
    () => {
      const out: [string, string][] = [];
      const visit = (cmd: ReturnType<Server['table']['all']>[number]) => {
        const st = cmd.stats;
        if (st.calls + st.rejected + st.failed > 0) {
          const per = st.calls ? (st.usec / st.calls).toFixed(2) : '0.00';
          out.push([
            `cmdstat_${cmd.fullName}`,
            `calls=${st.calls},usec=${st.usec},usec_per_call=${per},rejected_calls=${st.rejected},failed_calls=${st.failed}`,
          ]);
        }
        for (const sub of cmd.subcommands?.values() ?? []) visit(sub);
      };
      for (const cmd of server.table.all()) visit(cmd);
      return out;
    },
    false,
  );
  info.register('errorstats', 'Errorstats', () =>
    [...server.stats.errorsByCode].map(([code, n]) => [`errorstat_${code}`, `count=${n}`] as [string, string]),
  );
  info.register('cluster', 'Cluster', () => [['cluster_enabled', server.roleInfo().mode === 'cluster' ? 1 : 0]]);
  info.register('keyspace', 'Keyspace', () => {
    const out: [string, string][] = [];
    for (const db of server.dbs) {
      if (db.size === 0) continue; // redis-cli --cluster refuses a node whose INFO says db0: while empty
      const s = db.stats();
      out.push([`db${db.id}`, `keys=${s.keys},expires=${s.expires},avg_ttl=${s.avgTtl}`]);
    }
    return out;
  });
}
