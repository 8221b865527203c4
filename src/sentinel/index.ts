// Sentinel mode: `inferdb --sentinel <sentinel.conf> [--port N]` (or `inferdb <sentinel.conf> --sentinel`, as
// redis-server). The same RESP server code answers clients with the sentinel's command table; the state is
// persisted by rewriting the config file (which must be writable, as Redis Sentinel requires).

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { Config, ConfigError } from '../node/config';
import { CommandTable } from '../node/command-table';
import { Server } from '../node/server';
import { parseSentinelFile, SentinelConfigError } from './config';
import { attachSentinel, sentinelCommands } from './commands';
import { Sentinel } from './sentinel';

const fatal = (msg: string): never => {
  process.stderr.write(`*** FATAL CONFIG ERROR ***\n${msg}\n`);
  process.exit(1);
};

export async function runSentinel(args: string[]): Promise<void> {
  const words = args.filter((a) => a !== '--sentinel');
  let file: string | null = null;
  const overrides: [string, string][] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (w.startsWith('--')) {
      const vals: string[] = [];
      while (i + 1 < words.length && !words[i + 1].startsWith('--')) vals.push(words[++i]);
      overrides.push([w.slice(2), vals.join(' ')]);
    } else if (file === null) file = w;
    else fatal(`unexpected argument '${w}'`);
  }
  if (file === null) return fatal('Sentinel needs config file on disk to save state.  Exiting...');
  const path = nodePath.resolve(file);
  try {
    fs.accessSync(path, fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return fatal(`Sentinel config file ${path} is not writable: ${'permission denied'}. Exiting...`);
  }
  let parsed;
  try {
    parsed = parseSentinelFile(fs.readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof SentinelConfigError) return fatal(e.message);
    throw e;
  }
  const config = new Config();
  config.set('port', '26379', true);
  // a sentinel has no data set: nothing to load or save
  config.set('save', '', true);
  for (const [name, value] of [...parsed.options, ...overrides]) {
    if (['daemonize', 'logfile', 'pidfile', 'supervised'].includes(name)) continue;
    try {
      config.set(name, value, true);
    } catch (e) {
      if (e instanceof ConfigError) fatal(`>>> '${name} ${value}'\n${e.message}`);
      throw e;
    }
  }
  const dir = config.get('dir');
  fs.mkdirSync(dir, { recursive: true });
  process.chdir(dir);
  const server = new Server(config);
  (server as unknown as { table: CommandTable }).table = new CommandTable(sentinelCommands());
  server.roleInfo = () => ({ mode: 'sentinel', role: 'master' }) as unknown as ReturnType<Server['roleInfo']>;
  const sentinel = new Sentinel(
    {
      // as Redis: with tls-replication the sentinel announces its TLS port and talks TLS to every instance
      port: () => (config.getBool('tls-replication') && server.boundTlsPort ? server.boundTlsPort : server.boundPort),
      dial: (host, port) => server.tls.dial(host, port, config.getBool('tls-replication')),
      publish: (channel, message) => void server.pubsub.publish(channel, Buffer.from(message, 'latin1')),
      log: (level, msg) => server.log(level, msg),
      requirepass: () => config.get('requirepass'),
    },
    path,
    parsed,
  );
  attachSentinel(server, sentinel);
  server.onShutdown = () => {
    sentinel.flushConfig();
    process.exit(0);
  };
  const stop = () => {
    sentinel.stop();
    sentinel.flushConfig();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await server.listen();
  } catch (e) {
    process.stderr.write(`Could not start the sentinel: ${(e as Error).message}\n`);
    process.exit(1);
  }
  server.log('notice', `Sentinel ID is ${sentinel.myid}`);
  sentinel.start();
  for (const m of sentinel.masters.values()) sentinel.event('warning', '+monitor', m, null, `quorum ${m.quorum}`);
}
