// Users and their permissions (Redis 7.0's ACL): who may log in with which password, which commands
// (by name, subcommand, first argument or category), which keys and which pub/sub channels they may
// touch. The `default` user is the one `requirepass` configures. Rules are applied to a copy, so a
// SETUSER with one bad rule changes nothing; LIST/GETUSER describe the resulting permissions the way
// Redis 7.0 does (from the set of allowed commands, not from the rules as typed).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { Command, CommandTable } from './command-table';
import { globMatch } from './glob';

/** Redis's categories, in its order (ACL CAT, and the order LIST tries them), plus our `ai`. */
export const CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo',
  'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting', 'ai',
];

export interface KeyPattern {
  pattern: string;
  read: boolean;
  write: boolean;
}

export const ERR_WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/** A bad rule: `rule` is the rule as given, the message says what is wrong with it. */
export class AclRuleError extends Error {
  constructor(
    message: string,
    readonly rule = '',
  ) {
    super(message);
  }
}

const HASH_RE = /^[0-9a-f]{64}$/;

export function hashPassword(pass: string): string {
  return crypto.createHash('sha256').update(Buffer.from(pass, 'latin1')).digest('hex');
}

export class AclUser {
  enabled = false;
  nopass = false;
  /** sha256 hex digests, in the order added */
  passwords = new Set<string>();
  /** 'sanitize-payload' after `reset`, as Redis 7.0 (no effect here: RESTORE payloads are always checked) */
  payloadFlag: '' | 'sanitize-payload' | 'skip-sanitize-payload' = '';
  /** set by +@all, cleared by -@all: the user may run commands added later (and LIST starts with +@all) */
  futureCommands = false;
  /** commands (leaf commands and containers) the user may run */
  allowed = new Set<Command>();
  /** the category rules given since the last +@all/-@all, newest first (LIST replays them, as Redis 7.0) */
  categoryRules: string[] = [];
  /** allowed first arguments of otherwise denied commands (+select|0) */
  firstArgs = new Map<Command, string[]>();
  allKeys = false;
  keys: KeyPattern[] = [];
  allChannels = false;
  channels: string[] = [];
  /** true when nothing is restricted (the dispatcher skips the checks) */
  unrestricted = false;

  constructor(readonly name: string) {}

  clone(): AclUser {
    const u = new AclUser(this.name);
    Object.assign(u, this);
    u.passwords = new Set(this.passwords);
    u.allowed = new Set(this.allowed);
    u.firstArgs = new Map([...this.firstArgs].map(([k, v]) => [k, [...v]]));
    u.keys = this.keys.map((k) => ({ ...k }));
    u.channels = [...this.channels];
    u.categoryRules = [...this.categoryRules];
    return u;
  }

  checkPassword(pass: string): boolean {
    return this.nopass || this.passwords.has(hashPassword(pass));
  }
}

/** A command with all its subcommands (what +cmd / -cmd / a category change at once). */
function withSubcommands(cmd: Command): Command[] {
  return cmd.subcommands ? [cmd, ...cmd.subcommands.values()] : [cmd];
}

/** An ACL LOG entry: equal denials within a minute are counted in one entry (Redis's grouping). */
export interface AclLogEntry {
  count: number;
  reason: 'command' | 'key' | 'channel' | 'auth';
  context: 'toplevel' | 'multi';
  object: string;
  username: string;
  /** when it last happened (ms) */
  time: number;
  clientInfo: string;
}

export type AclDenial = { kind: 'command' } | { kind: 'key'; key: string } | { kind: 'channel'; channel: string };

export class Acl {
  readonly users = new Map<string, AclUser>();
  /** ACL LOG, newest first */
  log: AclLogEntry[] = [];
  /** acllog-max-len */
  logMaxLen = 128;

  constructor(private readonly table: CommandTable) {
    const d = new AclUser('default');
    this.applyRules(d, ['reset', 'on', 'nopass', '~*', '&*', '+@all']);
    d.payloadFlag = '';
    this.users.set('default', d);
  }

  get defaultUser(): AclUser {
    return this.users.get('default')!;
  }

  /** Whether a new connection starts authenticated (as the default user): it has no password and is on. */
  autoAuthenticated(): boolean {
    const d = this.defaultUser;
    return d.nopass && d.enabled;
  }

  /** `requirepass x` is `ACL SETUSER default resetpass >x`; an empty one is `nopass`. */
  setRequirepass(pass: string): void {
    this.applyRules(this.defaultUser, pass === '' ? ['nopass'] : ['resetpass', '>' + pass]);
  }

  /** The user when the credentials are good and the user is on, else null. */
  authenticate(name: string, pass: string): AclUser | null {
    const u = this.users.get(name);
    if (!u || !u.enabled || !u.checkPassword(pass)) return null;
    return u;
  }

  /** ACL SETUSER: creates the user when needed; all rules or none are applied. */
  setUser(name: string, rules: string[]): void {
    const existing = this.users.get(name);
    const u = existing ? existing.clone() : new AclUser(name);
    if (!existing) this.applyRules(u, ['resetchannels', '-@all']);
    this.applyRules(u, rules);
    this.users.set(name, u);
  }

  /**
   * Replaces every user with those of an ACL file (`user <name> <rules…>` lines, as ACL SAVE writes them); each
   * user starts fresh, a `default` missing from the file is the usual one. On any error nothing changes and the
   * Error says what, as Redis's ACL LOAD.
   */
  loadFile(path: string): void {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`Error loading ACLs, opening file '${path}': ${code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
    }
    const users = new Map<string, AclUser>();
    const errors: string[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const words = line.split(/\s+/);
      if (words[0] !== 'user' || words.length < 2) {
        errors.push(`${path}:${i + 1} should start with user keyword followed by the username. `);
        return;
      }
      const name = words[1];
      if (users.has(name)) {
        errors.push(`${path}:${i + 1}: Duplicate user '${name}' found. `);
        return;
      }
      const u = new AclUser(name);
      try {
        this.applyRules(u, ['resetchannels', '-@all', ...words.slice(2)]);
      } catch (e) {
        if (!(e instanceof AclRuleError)) throw e;
        errors.push(`${path}:${i + 1}: Error in applying operation '${e.rule}': ${e.message}. `);
        return;
      }
      users.set(name, u);
    });
    if (errors.length > 0) throw new Error(errors.join('') + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed');
    if (!users.has('default')) {
      const d = new AclUser('default');
      this.applyRules(d, ['on', 'nopass', '~*', '&*', '+@all']);
      users.set('default', d);
    }
    this.users.clear();
    for (const [name, u] of users) this.users.set(name, u);
  }

  /** ACL SAVE: every user as ACL LIST prints it, written atomically. */
  saveFile(path: string): void {
    const lines = [...this.users.keys()].sort().map((n) => this.describe(this.users.get(n)!) + '\n');
    const tmp = `${path}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, lines.join(''));
    fs.renameSync(tmp, path);
  }

  /** Applies rules in order; throws AclRuleError naming the first bad one (the user is then half-changed). */
  applyRules(u: AclUser, rules: string[]): void {
    for (const rule of rules) {
      try {
        this.applyRule(u, rule);
      } catch (e) {
        if (e instanceof AclRuleError) throw new AclRuleError(e.message, rule);
        throw e;
      }
    }
    u.unrestricted = u.enabled && u.allKeys && u.allChannels && this.allowsEverything(u);
  }

  private allowsEverything(u: AclUser): boolean {
    for (const cmd of this.table.all()) for (const c of withSubcommands(cmd)) if (!u.allowed.has(c)) return false;
    return true;
  }

  private applyRule(u: AclUser, rule: string): void {
    const op = rule.toLowerCase();
    if (op === 'on') u.enabled = true;
    else if (op === 'off') u.enabled = false;
    else if (op === 'nopass') {
      u.nopass = true;
      u.passwords.clear();
    } else if (op === 'resetpass') {
      u.nopass = false;
      u.passwords.clear();
    } else if (op === 'allkeys' || rule === '~*') {
      u.allKeys = true;
      u.keys = [];
    } else if (op === 'resetkeys') {
      u.allKeys = false;
      u.keys = [];
    } else if (op === 'allchannels' || rule === '&*') {
      u.allChannels = true;
      u.channels = [];
    } else if (op === 'resetchannels') {
      u.allChannels = false;
      u.channels = [];
    } else if (op === 'allcommands' || op === '+@all') {
      this.setAll(u, true);
    } else if (op === 'nocommands' || op === '-@all') {
      this.setAll(u, false);
    } else if (op === 'sanitize-payload' || op === 'skip-sanitize-payload') {
      u.payloadFlag = op;
    } else if (op === 'reset') {
      for (const r of ['resetpass', 'resetkeys', 'resetchannels', 'off', '-@all']) this.applyRule(u, r);
      u.payloadFlag = 'sanitize-payload';
    } else if (rule[0] === '>') {
      u.passwords.add(hashPassword(rule.slice(1)));
      u.nopass = false;
    } else if (rule[0] === '#') {
      if (!HASH_RE.test(rule.slice(1))) throw new AclRuleError('The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters');
      u.passwords.add(rule.slice(1));
      u.nopass = false;
    } else if (rule[0] === '<' || rule[0] === '!') {
      const hash = rule[0] === '<' ? hashPassword(rule.slice(1)) : rule.slice(1);
      if (rule[0] === '!' && !HASH_RE.test(hash)) throw new AclRuleError('The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters');
      if (!u.passwords.delete(hash)) throw new AclRuleError('The password you are trying to remove from the user does not exist');
    } else if (rule[0] === '~' || rule[0] === '%') {
      this.addKeyPattern(u, rule);
    } else if (rule[0] === '&') {
      if (u.allChannels) {
        throw new AclRuleError(
          "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
        );
      }
      const ch = rule.slice(1);
      if (!u.channels.includes(ch)) u.channels.push(ch);
    } else if ((rule[0] === '+' || rule[0] === '-') && rule[1] === '@') {
      const cat = op.slice(2);
      if (!CATEGORIES.includes(cat)) throw new AclRuleError('Unknown command or category name in ACL');
      this.setCategory(u, cat, rule[0] === '+');
      u.categoryRules = [rule[0] + '@' + cat, ...u.categoryRules.filter((r) => r.slice(2) !== cat)];
    } else if (rule[0] === '+' || rule[0] === '-') {
      this.commandRule(u, op.slice(1), rule[0] === '+');
    } else {
      throw new AclRuleError('Syntax error');
    }
  }

  private addKeyPattern(u: AclUser, rule: string): void {
    let read = true;
    let write = true;
    let pattern: string;
    if (rule[0] === '%') {
      const tilde = rule.indexOf('~');
      const perms = rule.slice(1, tilde < 0 ? rule.length : tilde).toUpperCase();
      if (tilde < 0 || perms === '' || /[^RW]/.test(perms)) throw new AclRuleError('Syntax error');
      read = perms.includes('R');
      write = perms.includes('W');
      pattern = rule.slice(tilde + 1);
    } else pattern = rule.slice(1);
    if (u.allKeys) {
      throw new AclRuleError(
        "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
      );
    }
    if (pattern === '*' && read && write) {
      u.allKeys = true;
      u.keys = [];
      return;
    }
    const same = u.keys.find((k) => k.pattern === pattern);
    if (same) {
      same.read ||= read;
      same.write ||= write;
    } else u.keys.push({ pattern, read, write });
  }

  private setCategory(u: AclUser, cat: string, on: boolean): void {
    for (const cmd of this.table.all()) {
      for (const c of withSubcommands(cmd)) if (c.categories.includes(cat)) this.setCommand(u, c, on);
    }
  }

  private setAll(u: AclUser, on: boolean): void {
    u.futureCommands = on;
    u.categoryRules = [];
    u.allowed.clear();
    u.firstArgs.clear();
    if (on) for (const cmd of this.table.all()) for (const c of withSubcommands(cmd)) u.allowed.add(c);
  }

  /** Allows or denies a command and its subcommands (and forgets its allowed first arguments). */
  private setCommand(u: AclUser, cmd: Command, on: boolean): void {
    for (const c of withSubcommands(cmd)) {
      if (on) u.allowed.add(c);
      else u.allowed.delete(c);
      u.firstArgs.delete(c);
    }
  }

  private commandRule(u: AclUser, spec: string, on: boolean): void {
    const bar = spec.indexOf('|');
    const cmd = this.table.get(bar < 0 ? spec : spec.slice(0, bar));
    if (!cmd) throw new AclRuleError('Unknown command or category name in ACL');
    if (bar < 0) {
      this.setCommand(u, cmd, on);
      return;
    }
    const arg = spec.slice(bar + 1);
    const sub = cmd.subcommands?.get(arg);
    if (sub) {
      this.setCommand(u, sub, on);
      return;
    }
    if (cmd.subcommands) throw new AclRuleError('Unknown command or category name in ACL');
    // a first argument of a command without subcommands (+select|0): allow only
    if (!on || arg === '' || arg.includes('|')) throw new AclRuleError('Allowing first-arg of a subcommand is not supported');
    if (u.allowed.has(cmd)) return;
    const list = u.firstArgs.get(cmd) ?? [];
    if (!list.includes(arg)) list.push(arg);
    u.firstArgs.set(cmd, list);
  }

  // ---------------------------------------------------------------- checks

  /** Why `u` may not run this command with these arguments, or null when it may. */
  check(u: AclUser, cmd: Command, argv: Buffer[]): AclDenial | null {
    if (u.unrestricted) return null;
    if (!cmd.has('no-auth') && !u.allowed.has(cmd)) {
      const args = u.firstArgs.get(cmd);
      if (!args || argv.length < 2 || !args.includes(argv[1].toString('latin1').toLowerCase())) return { kind: 'command' };
    }
    if (!u.allKeys) {
      const write = cmd.isWrite;
      let indices: number[];
      try {
        indices = cmd.keyIndices(argv);
      } catch {
        indices = []; // malformed arguments: the command itself reports them
      }
      for (const i of indices) {
        const key = argv[i].toString('latin1');
        if (!u.keys.some((k) => (write ? k.write : k.read) && globMatch(k.pattern, key))) return { kind: 'key', key };
      }
    }
    if (!u.allChannels && cmd.has('pubsub')) {
      const name = cmd.name;
      let channels: Buffer[] = [];
      if (name === 'publish' || name === 'spublish') channels = argv.slice(1, 2);
      else if (name === 'subscribe' || name === 'ssubscribe' || name === 'psubscribe') channels = argv.slice(1);
      for (const b of channels) {
        const ch = b.toString('latin1');
        // a pattern subscription must be one of the allowed patterns literally, as in Redis
        const ok = name === 'psubscribe' ? u.channels.includes(ch) : u.channels.some((p) => globMatch(p, ch));
        if (!ok) return { kind: 'channel', channel: ch };
      }
    }
    return null;
  }

  /** The error EXEC gives a queued command the user may no longer run, or null (Redis 7.0's wording). */
  execDenial(userName: string, cmd: Command, argv: Buffer[], clientInfo: () => string): string | null {
    const u = this.users.get(userName);
    const d = u && !u.unrestricted ? this.check(u, cmd, argv) : null;
    if (!d) return null;
    this.logDenial(d, cmd, 'multi', userName, clientInfo());
    const reason =
      d.kind === 'command'
        ? 'no permission to execute the command or subcommand'
        : d.kind === 'key'
          ? 'no permission to touch the specified keys'
          : 'no permission to access one of the channels used as arguments';
    return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
  }

  /** Whether the user may still be subscribed to these channels and patterns (patterns must be allowed literally). */
  subscriptionsAllowed(u: AclUser, channels: Iterable<string>, patterns: Iterable<string>): boolean {
    if (u.allChannels) return true;
    for (const ch of channels) if (!u.channels.some((p) => globMatch(p, ch))) return false;
    for (const p of patterns) if (!u.channels.includes(p)) return false;
    return true;
  }

  /** Records a denial (or, reason 'auth', a failed login) in ACL LOG. */
  addLog(reason: AclLogEntry['reason'], context: AclLogEntry['context'], object: string, username: string, clientInfo: string): void {
    const now = Date.now();
    const i = this.log.findIndex((e) => e.reason === reason && e.context === context && e.object === object && e.username === username && now - e.time < 60000);
    if (i >= 0) {
      const [e] = this.log.splice(i, 1);
      e.count++;
      e.time = now;
      e.clientInfo = clientInfo;
      this.log.unshift(e);
      return;
    }
    this.log.unshift({ count: 1, reason, context, object, username, time: now, clientInfo });
    if (this.log.length > this.logMaxLen) this.log.length = this.logMaxLen;
  }

  /** Records a refused command in ACL LOG. */
  logDenial(d: AclDenial, cmd: Command, context: AclLogEntry['context'], username: string, clientInfo: string): void {
    const object = d.kind === 'command' ? cmd.fullName : d.kind === 'key' ? d.key : d.channel;
    this.addLog(d.kind, context, object, username, clientInfo);
  }

  static denialError(d: AclDenial, cmd: Command): string {
    if (d.kind === 'command') return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
    if (d.kind === 'key') return 'NOPERM this user has no permissions to access one of the keys used as arguments';
    return 'NOPERM this user has no permissions to access one of the channels used as arguments';
  }

  // ---------------------------------------------------------------- descriptions

  /** The user as ACL LIST prints it (config-file form). */
  describe(u: AclUser): string {
    const parts = ['user', u.name, u.enabled ? 'on' : 'off'];
    if (u.nopass) parts.push('nopass');
    if (u.payloadFlag) parts.push(u.payloadFlag);
    for (const h of u.passwords) parts.push('#' + h);
    parts.push(...this.describeSelector(u));
    return parts.join(' ');
  }

  describeKeys(u: AclUser): string[] {
    if (u.allKeys) return ['~*'];
    return u.keys.map((k) => (k.read && k.write ? '~' : `%${k.read ? 'R' : ''}${k.write ? 'W' : ''}~`) + k.pattern);
  }

  describeChannels(u: AclUser): string[] {
    return u.allChannels ? ['&*'] : u.channels.map((c) => '&' + c);
  }

  private describeSelector(u: AclUser): string[] {
    return [...this.describeKeys(u), ...(u.allChannels ? ['&*'] : ['resetchannels', ...this.describeChannels(u)]), this.describeCommands(u)];
  }

  /**
   * The command rules as Redis 7.0 prints them: +@all or -@all, the category rules that still matter (a
   * rule whose removal changes nothing is left out), then single commands where the result differs, then
   * allowed first arguments. Matches redis-server for the usual rule sets; where several single commands
   * are listed their order is our command table's (Redis's follows its hash table).
   */
  describeCommands(u: AclUser): string {
    const additive = !u.futureCommands;
    const replay = (cats: string[]): AclUser => {
      const fake = new AclUser(u.name);
      this.setAll(fake, !additive);
      for (const r of cats) this.setCategory(fake, r.slice(2), r[0] === '+');
      return fake;
    };
    const same = (a: AclUser, b: AclUser): boolean => a.allowed.size === b.allowed.size && [...a.allowed].every((c) => b.allowed.has(c));
    let cats = [...u.categoryRules];
    const full = replay(cats);
    for (let i = 0; i < cats.length; ) {
      const without = cats.filter((_, j) => j !== i);
      if (same(replay(without), full)) cats = without;
      else i++;
    }
    const fake = replay(cats);
    const rules = [additive ? '-@all' : '+@all', ...cats];
    const fix = (cmd: Command): void => {
      const userBit = u.allowed.has(cmd);
      if (userBit !== fake.allowed.has(cmd)) {
        rules.push((userBit ? '+' : '-') + cmd.fullName);
        this.setCommand(fake, cmd, userBit);
      }
      if (cmd.subcommands) for (const sub of cmd.subcommands.values()) fix(sub);
      if (!userBit) for (const arg of u.firstArgs.get(cmd) ?? []) rules.push(`+${cmd.fullName}|${arg}`);
    };
    for (const cmd of this.table.all()) fix(cmd);
    return rules.join(' ');
  }

  /** The flags GETUSER lists. */
  flags(u: AclUser): string[] {
    const f = [u.enabled ? 'on' : 'off'];
    if (u.nopass) f.push('nopass');
    if (u.payloadFlag) f.push(u.payloadFlag);
    return f;
  }
}
