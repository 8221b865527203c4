// Server configuration: one list of parameters with their types, defaults and whether CONFIG SET may
// change them. The same names are accepted in a redis.conf-style file and as --flags on the command line.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { splitArgs } from './resp/parser';
import { globMatch } from './glob';

type Kind = 'string' | 'int' | 'bool' | 'memory' | 'enum' | 'list';

interface Param {
  name: string;
  kind: Kind;
  default: string;
  /** false: only at start-up (CONFIG SET refuses it) */
  mutable: boolean;
  values?: string[];
  aliases?: string[];
}

const P = (name: string, kind: Kind, def: string, mutable = true, extra: Partial<Param> = {}): Param => ({
  name,
  kind,
  default: def,
  mutable,
  ...extra,
});

export const PARAMS: Param[] = [
  P('port', 'int', '6379', false),
  P('bind', 'list', '127.0.0.1', false),
  P('dir', 'string', './data', true),
  P('requirepass', 'string', '', true),
  P('masterauth', 'string', '', true),
  P('masteruser', 'string', '', true),
  P('protected-mode', 'bool', 'yes', true),
  P('databases', 'int', '16', false),
  P('maxclients', 'int', '10000', true),
  P('timeout', 'int', '0', true),
  P('tcp-keepalive', 'int', '300', true),
  P('hz', 'int', '10', true),
  P('proto-max-bulk-len', 'memory', '536870912', true),
  P('client-query-buffer-limit', 'memory', '1073741824', true),
  // class hard soft soft-seconds, as Redis; "normal" is bounded by read back-pressure as well
  P('client-output-buffer-limit', 'list', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', true),
  P('slowlog-log-slower-than', 'int', '10000', true),
  P('slowlog-max-len', 'int', '128', true),
  P('maxmemory', 'memory', '0', true),
  P('maxmemory-policy', 'enum', 'noeviction', true, {
    values: ['noeviction', 'allkeys-lru', 'volatile-lru', 'allkeys-random', 'volatile-random', 'volatile-ttl', 'allkeys-lfu', 'volatile-lfu'],
  }),
  P('loglevel', 'enum', 'notice', true, { values: ['debug', 'verbose', 'notice', 'warning', 'nothing'] }),
  P('logfile', 'string', '', false),
  P('daemonize', 'bool', 'no', false),
  P('save', 'list', '3600 1 300 100 60 10000', true),
  P('dbfilename', 'string', 'dump.rdb', true),
  P('appendonly', 'bool', 'no', true),
  P('appendfilename', 'string', 'appendonly.aof', false),
  P('appendfsync', 'enum', 'everysec', true, { values: ['always', 'everysec', 'no'] }),
  P('replicaof', 'list', '', false, { aliases: ['slaveof'] }),
  P('replica-read-only', 'bool', 'yes', true, { aliases: ['slave-read-only'] }),
  P('replica-priority', 'int', '100', true, { aliases: ['slave-priority'] }),
  P('repl-backlog-size', 'memory', '1048576', true),
  P('min-replicas-to-write', 'int', '0', true, { aliases: ['min-slaves-to-write'] }),
  P('min-replicas-max-lag', 'int', '10', true, { aliases: ['min-slaves-max-lag'] }),
  P('cluster-enabled', 'bool', 'no', false),
  P('cluster-config-file', 'string', 'nodes.conf', false),
  P('cluster-node-timeout', 'int', '15000', true),
  P('lazyfree-lazy-user-del', 'bool', 'no', true),
  P('latency-monitor-threshold', 'int', '0', true),
];

const byName = new Map<string, Param>();
for (const p of PARAMS) {
  byName.set(p.name, p);
  for (const a of p.aliases ?? []) byName.set(a, p);
}

export class ConfigError extends Error {}

/** Parses "512mb", "1gb", "100k", "42" into bytes, as Redis's memtoull. */
export function parseMemory(s: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = { b: 1, k: 1000, kb: 1024, m: 1e6, mb: 1024 ** 2, g: 1e9, gb: 1024 ** 3 };
  return n * mult[unit];
}

export class Config {
  private values = new Map<string, string>();
  /** path of the config file the server was started with, for CONFIG REWRITE */
  file: string | null = null;
  /** called after a successful set, for parameters a subsystem must react to */
  onChange: ((name: string, value: string) => void) | null = null;

  constructor() {
    for (const p of PARAMS) this.values.set(p.name, p.default);
  }

  get(name: string): string {
    const p = byName.get(name);
    if (!p) throw new Error(`unknown config parameter ${name}`);
    return this.values.get(p.name)!;
  }

  /** numeric parameters are read on hot paths (every command, every flush): parsed once per change */
  private numbers = new Map<string, number>();

  getInt(name: string): number {
    let n = this.numbers.get(name);
    if (n === undefined) {
      const v = this.get(name);
      n = byName.get(name)!.kind === 'memory' ? parseMemory(v)! : Number(v);
      this.numbers.set(name, n);
    }
    return n;
  }

  getBool(name: string): boolean {
    return this.get(name) === 'yes';
  }

  /** Validates and sets one parameter. `startup` allows immutable ones. Throws ConfigError. */
  set(name: string, value: string, startup = false): void {
    const p = byName.get(name.toLowerCase());
    if (!p) throw new ConfigError(`Unknown option or number of arguments for CONFIG SET - '${name}'`);
    if (!p.mutable && !startup) throw new ConfigError(`CONFIG SET failed (possibly related to argument '${name}') - can't set immutable config`);
    let v = value;
    switch (p.kind) {
      case 'int':
        if (!/^-?\d+$/.test(v.trim())) throw new ConfigError(`argument couldn't be parsed into an integer`);
        v = String(Number(v.trim()));
        break;
      case 'bool':
        v = v.toLowerCase();
        if (v !== 'yes' && v !== 'no') throw new ConfigError(`argument must be 'yes' or 'no'`);
        break;
      case 'memory': {
        const n = parseMemory(v);
        if (n === null) throw new ConfigError(`argument must be a memory value`);
        v = String(n);
        break;
      }
      case 'enum':
        v = v.toLowerCase();
        if (!p.values!.includes(v)) throw new ConfigError(`argument(s) must be one of the following: ${p.values!.join(', ')}`);
        break;
      case 'list':
        v = v.trim().split(/\s+/).filter(Boolean).join(' ');
        break;
    }
    this.values.set(p.name, v);
    this.numbers.clear();
    if (this.onChange) this.onChange(p.name, v);
  }

  /** CONFIG GET: name/value pairs for every parameter matching any of the patterns. */
  match(patterns: string[]): [string, string][] {
    const out = new Map<string, string>();
    for (const pat of patterns) {
      for (const [name, p] of byName) {
        if (globMatch(pat, name, true)) out.set(name, this.values.get(p.name)!);
      }
    }
    return [...out];
  }

  /** Applies `key value...` lines of a redis.conf-style file. */
  loadFile(path: string): void {
    const text = fs.readFileSync(path, 'latin1');
    this.file = nodePath.resolve(path);
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const args = splitArgs(Buffer.from(trimmed, 'latin1'));
      if (!args || args.length < 1) throw new ConfigError(`${path}:${i + 1}: bad line '${trimmed}'`);
      const [name, ...rest] = args.map((a) => a.toString('latin1'));
      try {
        this.set(name, rest.join(' '), true);
      } catch (e) {
        throw new ConfigError(`${path}:${i + 1}: Bad directive or wrong number of arguments: '${trimmed}' (${(e as Error).message})`);
      }
    });
  }

  /** CONFIG REWRITE: writes every non-default parameter back to the config file. */
  rewrite(): void {
    if (!this.file) throw new ConfigError('The server is running without a config file');
    const lines = ['# Rewritten by CONFIG REWRITE'];
    for (const p of PARAMS) {
      const v = this.values.get(p.name)!;
      if (v !== p.default) lines.push(`${p.name} ${quote(v, p.kind)}`);
    }
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, lines.join('\n') + '\n');
    fs.renameSync(tmp, this.file);
  }
}

function quote(v: string, kind: Kind): string {
  if (kind === 'list') return v;
  if (v === '' || /[\s"']/.test(v)) return JSON.stringify(v);
  return v;
}

/** Parses argv: an optional config file path first, then --name value pairs (a flag may take several words). */
export function parseCommandLine(args: string[], config: Config): { sentinel: boolean } {
  let i = 0;
  let sentinel = false;
  if (args.length > 0 && !args[0].startsWith('--')) {
    config.loadFile(args[0]);
    i = 1;
  }
  while (i < args.length) {
    const a = args[i];
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument '${a}'`);
    const name = a.slice(2);
    if (name === 'sentinel') {
      sentinel = true;
      i++;
      continue;
    }
    const words: string[] = [];
    i++;
    while (i < args.length && !args[i].startsWith('--')) words.push(args[i++]);
    if (name === 'config') {
      config.loadFile(words[0]);
      continue;
    }
    config.set(name, words.join(' '), true);
  }
  return { sentinel };
}
