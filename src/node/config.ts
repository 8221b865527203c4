// Server configuration: one list of parameters with their types, defaults and whether CONFIG SET may
// change them. The same names are accepted in a redis.conf-style file and as --flags on the command line.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { splitArgs } from './resp/parser';
import { globMatch } from './glob';
import { validateProtocols } from './tls';

type Kind = 'string' | 'int' | 'bool' | 'memory' | 'enum' | 'list';

interface Param {
  name: string;
  kind: Kind;
  default: string;
  /** false: only at start-up (CONFIG SET refuses it) */
  mutable: boolean;
  /** CONFIG SET refuses it unless enable-protected-configs allows (as Redis 7's PROTECTED_CONFIG) */
  protected?: boolean;
  values?: string[];
  aliases?: string[];
  /** accepted range of int / memory parameters, inclusive (Redis's bounds) */
  min?: bigint;
  max?: bigint;
  /** values outside this range are silently brought into it (as Redis does for hz, repl-backlog-size) */
  clamp?: [bigint, bigint];
  /** extra validation of the normalised value; returns Redis's error text, or null when valid */
  validate?: (v: string) => string | null;
}

const INT_MAX = 2147483647n;
const UINT_MAX = 4294967295n;
const LLONG_MIN = -9223372036854775808n;
const LLONG_MAX = 9223372036854775807n;
const ULLONG_MAX = 18446744073709551615n;

/**
 * save <seconds> <changes> ...: as Redis, the value is split at single spaces (so "5 " is "5" and ""),
 * each word read as strtoll reads it ("" is 0), seconds >= 1, changes >= 0; normalised to plain numbers.
 */
function normaliseSave(v: string): string | { error: string } {
  if (v === '') return '';
  const words = v.split(' ');
  if (words.length % 2 !== 0) return { error: 'Invalid save parameters' };
  const out: string[] = [];
  for (let j = 0; j < words.length; j++) {
    if (!/^[+-]?\d*$/.test(words[j]) || /^[+-]$/.test(words[j])) return { error: 'Invalid save parameters' };
    const n = words[j] === '' ? 0n : BigInt(words[j]);
    if ((j % 2 === 0 && n < 1n) || (j % 2 === 1 && n < 0n)) return { error: 'Invalid save parameters' };
    out.push(String(n));
  }
  return out.join(' ');
}

const P = (name: string, kind: Kind, def: string, mutable = true, extra: Partial<Param> = {}): Param => ({
  name,
  kind,
  default: def,
  mutable,
  ...extra,
});

export const PARAMS: Param[] = [
  P('port', 'int', '6379', false, { min: 0n, max: 65535n }),
  P('bind', 'list', '127.0.0.1', false),
  P('dir', 'string', './data', true, { protected: true }),
  P('enable-protected-configs', 'enum', 'no', false, { values: ['no', 'yes', 'local'] }),
  P('requirepass', 'string', '', true),
  P('masterauth', 'string', '', true),
  P('masteruser', 'string', '', true),
  // the shared secret of the cluster bus (src/cluster/bus.ts BusHandshake); empty: masterauth
  P('cluster-bus-password', 'string', '', true),
  // users loaded at start-up and by ACL LOAD, written by ACL SAVE (src/node/acl.ts); relative to dir
  P('aclfile', 'string', '', false),
  P('acllog-max-len', 'int', '128', true, { min: 0n, max: INT_MAX }),
  P('protected-mode', 'bool', 'yes', true),
  P('databases', 'int', '16', false, { min: 1n, max: INT_MAX }),
  P('maxclients', 'int', '10000', true, { min: 1n, max: UINT_MAX }),
  P('timeout', 'int', '0', true, { min: 0n, max: INT_MAX }),
  P('tcp-keepalive', 'int', '300', true, { min: 0n, max: INT_MAX }),
  P('hz', 'int', '10', true, { min: 0n, max: INT_MAX, clamp: [1n, 500n] }),
  P('proto-max-bulk-len', 'memory', '536870912', true, { min: 1048576n, max: LLONG_MAX }),
  P('client-query-buffer-limit', 'memory', '1073741824', true, { min: 1048576n, max: LLONG_MAX }),
  // class hard soft soft-seconds, as Redis; "normal" is bounded by read back-pressure as well
  P('client-output-buffer-limit', 'list', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', true),
  P('slowlog-log-slower-than', 'int', '10000', true, { min: -1n, max: LLONG_MAX }),
  P('slowlog-max-len', 'int', '128', true, { min: 0n, max: LLONG_MAX }),
  P('maxmemory', 'memory', '0', true, { min: 0n, max: ULLONG_MAX }),
  P('maxmemory-policy', 'enum', 'noeviction', true, {
    // in Redis's order (its error text lists them so)
    values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'],
  }),
  P('maxmemory-samples', 'int', '5', true, { min: 1n, max: 64n }),
  P('loglevel', 'enum', 'notice', true, { values: ['debug', 'verbose', 'notice', 'warning'] }),
  P('logfile', 'string', '', false),
  // one log line per JSON object ({ts, pid, role, level, msg}) instead of Redis's text lines (src/node/log.ts)
  P('log-format', 'enum', 'text', true, { values: ['text', 'json'] }),
  P('daemonize', 'bool', 'no', false),
  P('save', 'list', '3600 1 300 100 60 10000', true),
  P('dbfilename', 'string', 'dump.rdb', true, { protected: true, validate: (v) => (v.includes('/') ? "dbfilename can't be a path, just a filename" : null) }),
  P('appendonly', 'bool', 'no', true),
  P('appendfilename', 'string', 'appendonly.aof', false),
  P('appendfsync', 'enum', 'everysec', true, { values: ['everysec', 'always', 'no'] }),
  // persistence (src/persistence): the AOF's folder (inside dir), what to do with a truncated log tail,
  // automatic rewrites; rdbcompression / rdbchecksum / aof-use-rdb-preamble are accepted and reported
  // (snapshots always carry a checksum and are not compressed; an AOF base is always a snapshot)
  P('appenddirname', 'string', 'appendonlydir', false, { validate: (v) => (v.includes('/') || v === '' ? 'appenddirname can\'t be a path, just a dirname' : null) }),
  P('aof-load-truncated', 'bool', 'yes', true),
  P('stop-writes-on-bgsave-error', 'bool', 'yes', true),
  P('aof-use-rdb-preamble', 'bool', 'yes', true),
  P('auto-aof-rewrite-percentage', 'int', '100', true, { min: 0n, max: INT_MAX }),
  P('auto-aof-rewrite-min-size', 'memory', '67108864', true, { min: 0n, max: LLONG_MAX }),
  P('rdbcompression', 'bool', 'yes', true),
  P('rdbchecksum', 'bool', 'yes', false),
  P('replicaof', 'list', '', false, { aliases: ['slaveof'] }),
  P('replica-read-only', 'bool', 'yes', true, { aliases: ['slave-read-only'] }),
  P('replica-priority', 'int', '100', true, { aliases: ['slave-priority'], min: 0n, max: INT_MAX }),
  P('repl-backlog-size', 'memory', '1048576', true, { min: 1n, max: LLONG_MAX, clamp: [16384n, LLONG_MAX] }),
  P('min-replicas-to-write', 'int', '0', true, { aliases: ['min-slaves-to-write'], min: 0n, max: INT_MAX }),
  P('min-replicas-max-lag', 'int', '10', true, { aliases: ['min-slaves-max-lag'], min: 0n, max: INT_MAX }),
  P('repl-timeout', 'int', '60', true, { min: 1n, max: INT_MAX }),
  P('repl-ping-replica-period', 'int', '10', true, { aliases: ['repl-ping-slave-period'], min: 1n, max: INT_MAX }),
  P('replica-announce-ip', 'string', '', true, { aliases: ['slave-announce-ip'] }),
  P('replica-announce-port', 'int', '0', true, { aliases: ['slave-announce-port'], min: 0n, max: 65535n }),
  P('repl-diskless-sync', 'bool', 'yes', true),
  P('repl-diskless-sync-delay', 'int', '5', true, { min: 0n, max: INT_MAX }),
  P('cluster-enabled', 'bool', 'no', false),
  P('cluster-config-file', 'string', 'nodes.conf', false),
  P('cluster-node-timeout', 'int', '15000', true, { min: 0n, max: LLONG_MAX }),
  P('cluster-port', 'int', '0', false, { min: 0n, max: 65535n }),
  P('cluster-announce-ip', 'string', '', true),
  P('cluster-announce-port', 'int', '0', true, { min: 0n, max: 65535n }),
  P('cluster-announce-bus-port', 'int', '0', true, { min: 0n, max: 65535n }),
  // TLS (src/node/tls.ts), Redis 7's names; tls-port 0 is off, and with tls-port set, port 0 turns plain TCP off
  P('tls-port', 'int', '0', false, { min: 0n, max: 65535n }),
  P('tls-cert-file', 'string', '', true),
  P('tls-key-file', 'string', '', true),
  P('tls-key-file-pass', 'string', '', true),
  P('tls-client-cert-file', 'string', '', true),
  P('tls-client-key-file', 'string', '', true),
  P('tls-client-key-file-pass', 'string', '', true),
  P('tls-ca-cert-file', 'string', '', true),
  P('tls-ca-cert-dir', 'string', '', true),
  P('tls-auth-clients', 'enum', 'yes', true, { values: ['no', 'yes', 'optional'] }),
  P('tls-replication', 'bool', 'no', true),
  P('tls-cluster', 'bool', 'no', false),
  P('tls-protocols', 'string', '', true, { validate: validateProtocols }),
  P('tls-ciphers', 'string', '', true),
  P('tls-ciphersuites', 'string', '', true),
  P('tls-prefer-server-ciphers', 'bool', 'no', true),
  P('lazyfree-lazy-user-del', 'bool', 'no', true),
  P('latency-monitor-threshold', 'int', '0', true, { min: 0n, max: LLONG_MAX }),
  // Prometheus /metrics over HTTP (src/node/metrics.ts): 0 is off; metrics-bind '' listens where `bind` does
  P('metrics-port', 'int', '0', false, { min: 0n, max: 65535n }),
  P('metrics-bind', 'list', '', false),
  // RedisAI's load-time module arguments (spec §7), under RedisAI's own names: `--THREADS_PER_QUEUE 2` or a
  // `THREADS_PER_QUEUE 2` config-file line (names are case-insensitive, as every parameter here). Start-up
  // only; AI.CONFIG changes MODEL_CHUNK_SIZE and BACKENDSPATH at run time (src/ai/commands/model-commands.ts).
  P('threads_per_queue', 'int', '1', false, { min: 1n, max: 1024n }),
  P('model_execution_timeout', 'int', '5000', false, { min: 1000n, max: INT_MAX }),
  P('intra_op_parallelism', 'int', '0', false, { min: 0n, max: 1024n }),
  P('inter_op_parallelism', 'int', '0', false, { min: 0n, max: 1024n }),
  P('backend_memory_limit', 'int', '0', false, { min: 0n, max: INT_MAX }),
  P('model_chunk_size', 'int', String(511 * 1024 * 1024), false, { min: 1n, max: INT_MAX }),
  P('backendspath', 'string', 'backends', false),
];

const byName = new Map<string, Param>();
for (const p of PARAMS) {
  byName.set(p.name, p);
  for (const a of p.aliases ?? []) byName.set(a, p);
}

export class ConfigError extends Error {}

/** Parses "512mb", "1gb", "100k", "42" into bytes, as Redis's memtoull. */
export function parseMemory(s: string): number | null {
  const n = parseMemoryExact(s);
  return n === null ? null : Number(n);
}

/**
 * As Redis's memtoull: digits (none is 0) and an optional unit b, k, kb, m, mb, g, gb in any case;
 * no sign, no spaces; null when it is not such a value (or does not fit 64 bits unsigned).
 */
export function parseMemoryExact(s: string): bigint | null {
  const m = /^(\d*)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (!m) return null;
  const mult: Record<string, bigint> = { b: 1n, k: 1000n, kb: 1024n, m: 1000000n, mb: 1048576n, g: 1000000000n, gb: 1073741824n };
  const n = BigInt(m[1] || '0') * mult[(m[2] ?? 'b').toLowerCase()];
  return n > ULLONG_MAX ? null : n;
}

export class Config {
  private values = new Map<string, string>();
  /** path of the config file the server was started with, for CONFIG REWRITE */
  file: string | null = null;
  /** called after a successful set, for parameters a subsystem must react to */
  onChange: ((name: string, value: string) => void) | null = null;

  constructor() {
    for (const p of PARAMS) this.values.set(p.name, p.default);
    this.refreshHot();
  }

  get(name: string): string {
    const p = byName.get(name);
    if (!p) throw new Error(`unknown config parameter ${name}`);
    return this.values.get(p.name)!;
  }

  /** numeric parameters are read on hot paths (every command, every flush): parsed once per change */
  private numbers = new Map<string, number>();

  /** parameters read for every command or every read, kept as plain fields (refreshed on every set) */
  readonly hot = { protoMaxBulkLen: 0, queryBufferLimit: 0, slowlogSlowerThan: 0 };

  private refreshHot(): void {
    this.hot.protoMaxBulkLen = this.getInt('proto-max-bulk-len');
    this.hot.queryBufferLimit = this.getInt('client-query-buffer-limit');
    this.hot.slowlogSlowerThan = this.getInt('slowlog-log-slower-than');
  }

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
    const v = normalise(p, value, this.values.get(p.name));
    if (typeof v !== 'string') throw new ConfigError(`CONFIG SET failed (possibly related to argument '${name.toLowerCase()}') - ${v.error}`);
    this.values.set(p.name, v);
    this.numbers.clear();
    this.refreshHot();
    if (this.onChange) this.onChange(p.name, v);
  }

  /**
   * CONFIG SET with one or more name/value pairs, all or nothing, with Redis 7's checks and error texts
   * (unknown names first, then immutable or repeated ones, then each value; the message has no "ERR ").
   */
  setMany(pairs: [string, string][]): void {
    const params: Param[] = [];
    let unknown: string | null = null;
    let failure: string | null = null;
    pairs.forEach(([name], i) => {
      const p = byName.get(name.toLowerCase());
      if (!p) {
        if (unknown === null && failure === null) unknown = name;
        return;
      }
      if (unknown !== null || failure !== null) return;
      if (!p.mutable) failure = `CONFIG SET failed (possibly related to argument '${name}') - can't set immutable config`;
      // 'local' would only allow loopback clients; every client this check sees is taken as local
      else if (p.protected && this.values.get('enable-protected-configs') === 'no') {
        failure = `CONFIG SET failed (possibly related to argument '${name}') - can't set protected config`;
      }
      else if (params.slice(0, i).includes(p)) failure = `CONFIG SET failed (possibly related to argument '${name}') - duplicate parameter`;
      params[i] = p;
    });
    if (unknown !== null) throw new ConfigError(`Unknown option or number of arguments for CONFIG SET - '${unknown}'`);
    if (failure !== null) throw new ConfigError(failure);
    const values: string[] = [];
    pairs.forEach(([, value], i) => {
      const v = normalise(params[i], value, this.values.get(params[i].name));
      // a bad value is reported with the name as given, lowercased, as Redis does
      if (typeof v !== 'string') throw new ConfigError(`CONFIG SET failed (possibly related to argument '${pairs[i][0].toLowerCase()}') - ${v.error}`);
      values.push(v);
    });
    // the one side effect, last: a new dir is where the server runs from (as Redis, which chdir()s)
    const dirAt = params.findIndex((p) => p.name === 'dir');
    if (dirAt >= 0) {
      try {
        process.chdir(values[dirAt]);
      } catch (e) {
        const why = ERRNO_TEXT[(e as NodeJS.ErrnoException).code ?? ''] ?? (e as Error).message;
        throw new ConfigError(`CONFIG SET failed (possibly related to argument '${pairs[dirAt][0].toLowerCase()}') - ${why}`);
      }
      values[dirAt] = process.cwd();
    }
    params.forEach((p, i) => this.values.set(p.name, values[i]));
    this.numbers.clear();
    this.refreshHot();
    if (this.onChange) params.forEach((p, i) => this.onChange!(p.name, values[i]));
  }

  /** CONFIG GET: name/value pairs for every parameter matching any of the patterns. */
  match(patterns: string[]): [string, string][] {
    const out = new Map<string, string>();
    for (const pat of patterns) {
      if (!/[[*?]/.test(pat)) {
        // no glob characters: a direct lookup, answered under the name as given (as Redis 7)
        const p = byName.get(pat.toLowerCase());
        if (p && !out.has(pat)) out.set(pat, this.shown(p));
        continue;
      }
      for (const [name, p] of byName) {
        if (globMatch(pat, name, true)) out.set(name, this.shown(p));
      }
    }
    return [...out];
  }

  /** A value as CONFIG GET shows it: dir is the absolute directory the server runs in (as Redis's getcwd). */
  private shown(p: Param): string {
    return p.name === 'dir' ? process.cwd() : this.values.get(p.name)!;
  }

  /** Applies `key value...` lines of a redis.conf-style file (repeated `save` lines add up, as in Redis). */
  loadFile(path: string): void {
    const text = fs.readFileSync(path, 'latin1');
    this.file = nodePath.resolve(path);
    let saveLines: string[] | null = null;
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const args = splitArgs(Buffer.from(trimmed, 'latin1'));
      if (!args || args.length < 1) throw new ConfigError(`${path}:${i + 1}: bad line '${trimmed}'`);
      const [name, ...rest] = args.map((a) => a.toString('latin1'));
      let value = rest.join(' ');
      if (name.toLowerCase() === 'save' && value !== '') {
        saveLines = [...(saveLines ?? []), value];
        value = saveLines.join(' ');
      }
      try {
        this.set(name, value, true);
      } catch (e) {
        throw new ConfigError(`${path}:${i + 1}: Bad directive or wrong number of arguments: '${trimmed}' (${(e as Error).message})`);
      }
    });
  }

  /**
   * CONFIG REWRITE, as Redis's rewriteConfig: the old file's comments and blank lines stay; each known
   * option's first line is replaced in place with the current value (even when that is the default) and
   * its other lines are dropped; options not in the file are appended after a "# Generated by CONFIG
   * REWRITE" line, but only when they differ from the default. Unknown lines are kept as they are.
   */
  rewrite(): void {
    if (!this.file) throw new ConfigError('The server is running without a config file');
    let old = '';
    try {
      old = fs.readFileSync(this.file, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`Rewriting config file: ${(e as Error).message}`);
    }
    const lines: (string | null)[] = [];
    const optionLines = new Map<string, number[]>();
    let hasTail = false;
    const oldLines = old.split('\n');
    if (oldLines.length > 0 && oldLines[oldLines.length - 1] === '') oldLines.pop();
    for (const raw of oldLines) {
      const line = raw.replace(/\r$/, '').trim();
      if (line === '' || line.startsWith('#')) {
        if (line === REWRITE_SIGNATURE) hasTail = true;
        lines.push(line);
        continue;
      }
      const args = splitArgs(Buffer.from(line, 'latin1'));
      if (!args || args.length === 0) {
        lines.push(line);
        continue;
      }
      const word = args[0].toString('latin1').toLowerCase();
      const name = byName.get(word)?.name ?? word; // an alias line is rewritten under the main name
      const at = optionLines.get(name) ?? [];
      at.push(lines.length);
      optionLines.set(name, at);
      lines.push(line);
    }
    const processed = new Set<string>();
    const rewriteLine = (name: string, text: string, force: boolean) => {
      processed.add(name);
      const at = optionLines.get(name);
      if (at && at.length > 0) {
        lines[at.shift()!] = text;
        return;
      }
      if (!force) return;
      if (!hasTail) {
        lines.push('', REWRITE_SIGNATURE);
        hasTail = true;
      }
      lines.push(text);
    };
    for (const p of PARAMS) {
      const v = this.values.get(p.name)!;
      for (const [text, force] of rewriteLines(p, v)) rewriteLine(p.name, text, force);
      processed.add(p.name);
    }
    // lines of processed options that were not reused are blanked (runs of blank lines collapse below)
    for (const name of processed) for (const i of optionLines.get(name) ?? []) lines[i] = '';
    let content = '';
    let wasEmpty = false;
    for (const l of lines) {
      if (l === null) continue;
      if (l === '') {
        if (wasEmpty) continue;
        wasEmpty = true;
      } else wasEmpty = false;
      content += l + '\n';
    }
    const tmp = nodePath.join(nodePath.dirname(this.file), `redis-rewrite.${process.pid}.tmp`);
    try {
      fs.writeFileSync(tmp, content, 'latin1');
      fs.renameSync(tmp, this.file);
    } catch (e) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // nothing to clean up
      }
      throw new ConfigError(`Rewriting config file: ${(e as Error).message}`);
    }
  }
}

const REWRITE_SIGNATURE = '# Generated by CONFIG REWRITE';

/** strerror() texts for the errors a chdir can meet */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EACCES: 'Permission denied',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
};

/**
 * The config file line(s) for a parameter's value, formatted as Redis writes them, each with whether it
 * must be written even where the file had no line for it (values other than the default).
 */
function rewriteLines(p: Param, v: string): [string, boolean][] {
  const force = v !== p.default;
  switch (p.kind) {
    case 'memory':
      return [[`${p.name} ${formatMemory(Number(v))}`, force]];
    case 'string':
      // as Redis: an empty string is not written at all (omitting it restores the default)
      if (v === '') return [];
      // the directory is written as the absolute path the server runs in
      return [[`${p.name} ${repr(p.name === 'dir' ? process.cwd() : v)}`, force]];
    case 'list': {
      // always written, one line per <seconds> <changes> pair, or save "" (so the defaults do not come back)
      if (p.name === 'save') {
        const w = v.split(' ').filter(Boolean);
        if (w.length === 0) return [['save ""', true]];
        const out: [string, boolean][] = [];
        for (let i = 0; i + 1 < w.length; i += 2) out.push([`save ${w[i]} ${w[i + 1]}`, true]);
        return out;
      }
      if (p.name === 'client-output-buffer-limit') {
        // one line per class; a class at its default is only rewritten where the file has a line for it
        const defaults = p.default.split(' ');
        const w = v.split(' ');
        const out: [string, boolean][] = [];
        for (let i = 0; i + 3 < w.length; i += 4) {
          const line = `${p.name} ${w[i]} ${formatMemory(Number(w[i + 1]))} ${formatMemory(Number(w[i + 2]))} ${w[i + 3]}`;
          out.push([line, w.slice(i, i + 4).join(' ') !== defaults.slice(i, i + 4).join(' ')]);
        }
        return out;
      }
      return v === '' ? [] : [[`${p.name} ${v}`, force]];
    }
    default:
      return [[`${p.name} ${v}`, force]];
  }
}

/** Redis's rewriteConfigFormatMemory: whole gb / mb / kb when exact. */
function formatMemory(n: number): string {
  const gb = 1024 * 1024 * 1024;
  const mb = 1024 * 1024;
  if (n && n % gb === 0) return `${n / gb}gb`;
  if (n && n % mb === 0) return `${n / mb}mb`;
  if (n && n % 1024 === 0) return `${n / 1024}kb`;
  return String(n);
}

/** Redis's sdscatrepr: a double-quoted string with \\ \" \n \r \t \a \b and \xHH escapes. */
function repr(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\\' || ch === '"') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c < 32 || c > 126) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** The stored form of a value for `p`, or Redis's error text for it. */
function normalise(p: Param, value: string, current?: string): string | { error: string } {
  if (p.name === 'client-output-buffer-limit') return outputBufferLimit(value, current ?? p.default);
  let v = value;
  switch (p.kind) {
    case 'int': {
      // string2ll: no spaces, no '+', no leading zeros, 64 bits
      if (!/^(0|-?[1-9]\d*)$/.test(v) || v.length > 20) return { error: `argument couldn't be parsed into an integer` };
      const n = BigInt(v);
      if (n < LLONG_MIN || n > LLONG_MAX) return { error: `argument couldn't be parsed into an integer` };
      if (!inRange(p, n)) return { error: rangeError(p) };
      v = String(clamp(p, n));
      break;
    }
    case 'bool':
      v = v.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: `argument must be 'yes' or 'no'` };
      break;
    case 'memory': {
      const n = parseMemoryExact(v);
      if (n === null) return { error: `argument must be a memory value` };
      if (!inRange(p, n)) return { error: rangeError(p) };
      v = String(clamp(p, n));
      break;
    }
    case 'enum':
      v = v.toLowerCase();
      if (!p.values!.includes(v)) return { error: `argument(s) must be one of the following: ${p.values!.join(', ')}` };
      break;
    case 'list':
      if (p.name === 'save') return normaliseSave(v);
      v = v.trim().split(/\s+/).filter(Boolean).join(' ');
      break;
  }
  if (p.validate) {
    const err = p.validate(v);
    if (err !== null) return { error: err };
  }
  return v;
}

/**
 * client-output-buffer-limit: `<class> <hard> <soft> <soft-seconds>` groups (memory units allowed) that
 * change only the classes given, as Redis; stored as all three classes in bytes.
 */
function outputBufferLimit(value: string, current: string): string | { error: string } {
  const words = value.split(/\s+/).filter(Boolean);
  if (words.length % 4 !== 0) return { error: 'Wrong number of arguments in buffer limit configuration.' };
  const cur = current.split(' ');
  const limits = new Map<string, string[]>();
  for (let i = 0; i + 3 < cur.length; i += 4) limits.set(cur[i], cur.slice(i + 1, i + 4));
  for (let i = 0; i < words.length; i += 4) {
    let cls = words[i].toLowerCase();
    if (cls === 'replica') cls = 'slave';
    if (cls !== 'normal' && cls !== 'slave' && cls !== 'pubsub') {
      return { error: 'Invalid client class specified in buffer limit configuration.' };
    }
    const hard = parseMemory(words[i + 1]);
    const soft = parseMemory(words[i + 2]);
    const secs = words[i + 3];
    if (hard === null || soft === null || !/^\d+$/.test(secs)) {
      return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
    }
    limits.set(cls, [String(hard), String(soft), String(Number(secs))]);
  }
  return ['normal', 'slave', 'pubsub'].map((c) => [c, ...(limits.get(c) ?? ['0', '0', '0'])].join(' ')).join(' ');
}

function inRange(p: Param, n: bigint): boolean {
  return (p.min === undefined || n >= p.min) && (p.max === undefined || n <= p.max);
}

function clamp(p: Param, n: bigint): bigint {
  if (!p.clamp) return n;
  return n < p.clamp[0] ? p.clamp[0] : n > p.clamp[1] ? p.clamp[1] : n;
}

function rangeError(p: Param): string {
  return `argument must be between ${p.min} and ${p.max} inclusive`;
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
