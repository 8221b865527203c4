// The command table: the single truth about every command (name, arity, flags, key positions, ACL
// categories). The dispatcher's gates (auth, MULTI queueing, pub/sub context, and later cluster slots,
// read-only replicas, maxmemory), COMMAND, and write propagation all read it; nothing else keeps lists
// of command names.

import type { Client } from './client';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'no-multi'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'fast'
  | 'denyoom'
  | 'no-auth'
  | 'skip-monitor'
  | 'skip-slowlog'
  | 'allow-busy'
  | 'may-replicate'
  | 'sentinel'
  | 'no-mandatory-keys'
  // internal flags (not shown by COMMAND): allowed in a RESP2 subscribed context; runs at once inside MULTI
  | 'allowed-in-subscribe'
  | 'no-queue';

export const INTERNAL_FLAGS: ReadonlySet<CommandFlag> = new Set(['allowed-in-subscribe', 'no-queue']);

export interface CommandStats {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/** A handler writes its reply to client.out; it may return a promise for work done off the event loop. */
export type Handler = (c: Client, argv: Buffer[]) => void | Promise<void>;

export interface CommandDef {
  /** lowercase name; a subcommand is named by its own word, e.g. 'list' under 'client' */
  name: string;
  /** Redis arity: exact count when positive, a minimum when negative; counts the command name */
  arity: number;
  flags: CommandFlag[];
  /** key positions as Redis's first/last/step (0 = no keys; last -1 = through the end) */
  keys?: [first: number, last: number, step: number];
  /** key-extraction function for commands whose keys are not at fixed positions */
  getKeys?: (argv: Buffer[]) => number[];
  group: string;
  summary?: string;
  /** extra ACL categories beyond those derived from flags and group */
  categories?: string[];
  handler?: Handler;
  subcommands?: CommandDef[];
}

export class Command {
  readonly name: string;
  /** the name as Redis prints it: 'client|list' for subcommands */
  readonly fullName: string;
  readonly arity: number;
  readonly flags: ReadonlySet<CommandFlag>;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly getKeysFn?: (argv: Buffer[]) => number[];
  readonly group: string;
  readonly summary: string;
  readonly categories: string[];
  readonly handler?: Handler;
  readonly subcommands?: Map<string, Command>;
  readonly parent?: Command;
  readonly isWrite: boolean;
  readonly stats: CommandStats = { calls: 0, usec: 0, rejected: 0, failed: 0 };

  constructor(def: CommandDef, parent?: Command) {
    this.name = def.name;
    this.parent = parent;
    this.fullName = parent ? `${parent.name}|${def.name}` : def.name;
    this.arity = def.arity;
    this.flags = new Set(def.flags);
    [this.firstKey, this.lastKey, this.keyStep] = def.keys ?? [0, 0, 0];
    this.getKeysFn = def.getKeys;
    this.group = def.group;
    this.summary = def.summary ?? '';
    this.handler = def.handler;
    this.isWrite = this.flags.has('write');
    this.categories = deriveCategories(def, this.fullName);
    if (def.subcommands) {
      this.subcommands = new Map();
      for (const sub of def.subcommands) this.subcommands.set(sub.name, new Command(sub, this));
    }
  }

  has(flag: CommandFlag): boolean {
    return this.flags.has(flag);
  }

  /** Indices in argv of the keys this invocation touches. */
  keyIndices(argv: Buffer[]): number[] {
    if (this.getKeysFn) return this.getKeysFn(argv);
    if (this.firstKey === 0) return [];
    const last = this.lastKey < 0 ? argv.length + this.lastKey : this.lastKey;
    const out: number[] = [];
    for (let i = this.firstKey; i <= last && i < argv.length; i += this.keyStep) out.push(i);
    return out;
  }

  /** Keys of this invocation as binary strings. */
  keys(argv: Buffer[]): string[] {
    return this.keyIndices(argv).map((i) => argv[i].toString('latin1'));
  }

  /** Arity check, as Redis does it (exact when positive, minimum when negative). */
  arityOk(argc: number): boolean {
    return this.arity > 0 ? argc === this.arity : argc >= -this.arity;
  }
}

// Where Redis 7's categories differ from what flags and group give (checked against COMMAND INFO of
// redis-server 7.0): '+cat' adds, '-cat' removes.
const CATEGORY_FIXUPS: Record<string, string[]> = {
  role: ['+admin', '+dangerous'],
  wait: ['-keyspace'],
  restore: ['+dangerous'],
  'restore-asking': ['+dangerous'],
  migrate: ['+dangerous'],
  readonly: ['+connection'],
  readwrite: ['+connection'],
  asking: ['+connection'],
  'latency|help': ['-admin', '-dangerous'],
  // AI.CONFIG changes server-wide settings
  'ai.config': ['+admin', '+dangerous'],
};

function deriveCategories(def: CommandDef, fullName: string): string[] {
  const cats = new Set<string>();
  const f = new Set(def.flags);
  if (f.has('write')) cats.add('write');
  if (f.has('readonly')) cats.add('read');
  if (f.has('admin')) {
    cats.add('admin');
    cats.add('dangerous');
  }
  if (f.has('pubsub')) cats.add('pubsub'); // from the flag only, as Redis: PUBSUB HELP is not @pubsub
  if (f.has('fast')) cats.add('fast');
  else cats.add('slow');
  if (f.has('blocking')) cats.add('blocking');
  const byGroup: Record<string, string> = {
    string: 'string',
    list: 'list',
    hash: 'hash',
    set: 'set',
    generic: 'keyspace',
    connection: 'connection',
    transactions: 'transaction',
    ai: 'ai',
  };
  if (byGroup[def.group]) cats.add(byGroup[def.group]);
  for (const c of def.categories ?? []) cats.add(c);
  for (const fix of CATEGORY_FIXUPS[fullName] ?? []) {
    if (fix[0] === '+') cats.add(fix.slice(1));
    else cats.delete(fix.slice(1));
  }
  return [...cats];
}

/** Case-insensitive hash of a command name's bytes (ASCII letters folded to lower case). */
function nameHash(b: Buffer | string): number {
  let h = b.length;
  for (let i = 0; i < b.length; i++) {
    let ch = typeof b === 'string' ? b.charCodeAt(i) : b[i];
    if (ch >= 65 && ch <= 90) ch |= 32;
    h = (Math.imul(h, 31) + ch) | 0;
  }
  return h;
}

export class CommandTable {
  private byName = new Map<string, Command>();
  /** lookup straight from the request bytes, without making a string first (the hot path) */
  private byHash = new Map<number, Command[]>();

  constructor(defs: CommandDef[]) {
    for (const def of defs) {
      if (this.byName.has(def.name)) throw new Error(`command '${def.name}' defined twice`);
      const cmd = new Command(def);
      this.byName.set(def.name, cmd);
      this.byName.set(def.name.toUpperCase(), cmd);
      const h = nameHash(def.name);
      const bucket = this.byHash.get(h);
      if (bucket) bucket.push(cmd);
      else this.byHash.set(h, [cmd]);
    }
  }

  /** Looks up a top-level command by the bytes of its name, in any case. */
  lookup(name: Buffer): Command | undefined {
    if (name.length > 32) return undefined;
    const bucket = this.byHash.get(nameHash(name));
    if (!bucket) return undefined;
    outer: for (const cmd of bucket) {
      const n = cmd.name;
      if (n.length !== name.length) continue;
      for (let i = 0; i < n.length; i++) {
        let ch = name[i];
        if (ch >= 65 && ch <= 90) ch |= 32;
        if (ch !== n.charCodeAt(i)) continue outer;
      }
      return cmd;
    }
    return undefined;
  }

  /** Looks up a top-level command by name in any case. */
  get(name: string): Command | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  all(): Command[] {
    return [...new Set(this.byName.values())];
  }
}
