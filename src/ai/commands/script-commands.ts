// AI.SCRIPTSTORE, AI.SCRIPTSET, AI.SCRIPTGET, AI.SCRIPTDEL, AI.SCRIPTEXECUTE, AI.SCRIPTRUN and AI._SCRIPTSCAN
// (RedisAI's script_commands_parser.c and deprecated.c): argument grammar and error order as RedisAI, AI_SCRIPT
// keys, and the hand-off to device queues. TorchScript is compiled (store) and run (execute) in backend worker
// threads through src/ai/script.ts; the main thread parses, snapshots inputs, writes outputs and replies.
//
// For the DAG engine: `executeScript(script, fn, inputs, keys, args, timeoutMs, { outputs })` (re-exported here
// from ../script) runs a script function on tensors without touching the keyspace and answers
// { status: 'ok', outputs: Tensor[] } | { status: 'timedout' }, or rejects with the reply text. `scriptOf`
// answers the script stored at a key (or throws `ERR script key is empty` / WRONGTYPE).
//
// Execution results propagate as AI.TENSORSET ... BLOB of each output written (spec §9); SCRIPTSTORE,
// SCRIPTSET and SCRIPTDEL verbatim.

import type { CommandDef } from '../../node/command-table';
import { Client } from '../../node/client';
import type * as net from 'node:net';
import { CommandError, Err } from '../../node/errors';
import { own, str } from '../../node/commands/args';
import { readValue } from '../../node/commands/lookup';
import { AiErr } from '../errors';
import { backendError, checkOutputKeys, parseDevice, parseTag, parseTimeout, readTensor, tensorSetArgv, upper, wrongArity } from './common';
import { aiRuntime, MODEL_TYPE, type ModelValue } from '../model';
import { buildScript, executeScript, runModelForScript, SCRIPT_TYPE, type Script, type ScriptSpec, type ScriptValue } from '../script';
import { TENSOR_TYPE, type Tensor, type TensorValue } from '../tensor';
import { parseResp2, type ScriptCommandHandler } from '../script-bridge';

export { executeScript, buildScript, SCRIPT_TYPE, type Script, type ScriptValue } from '../script';

/** The script error texts of the spec (§3, §11), exactly as RedisAI sends them. */
export const ScriptErr = {
  keyEmpty: 'ERR script key is empty',
  missingEntryPoints: 'ERR Insufficient arguments, missing script entry points',
  nonNumericEntryPoints: 'ERR Non numeric entry points number provided to AI.SCRIPTSTORE command',
  missingSource: 'ERR Insufficient arguments, missing script SOURCE',
  executeArity: "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command",
  runArity: "ERR wrong number of arguments for 'AI.SCRIPTRUN' command",
  keysOrInputsFirst: 'ERR KEYS or INPUTS scope must be provided first for AI.SCRIPTEXECUTE command',
  alreadyEncountered: (scope: string) => `ERR Already Encountered ${scope} scope in AI.SCRIPTEXECUTE command`,
  unexpected: (tok: string) => `ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ${tok}`,
  keysMissing: 'ERR Missing arguments after KEYS keyword',
  keysCount: 'ERR Invalid or negative value found in number of KEYS',
  keysMismatch: 'ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments',
  sectionEmpty: 'ERR Invalid arguments provided to AI.SCRIPTEXECUTE',
  inputsCount: 'ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE',
  outputsCount: 'ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE',
  argsCount: 'ERR Invalid argument for keys count in AI.SCRIPTEXECUTE', // sic (RedisAI)
  sectionMismatch: (what: 'inputs' | 'args' | 'outputs') => `ERR number of ${what} to AI.SCRIPTEXECUTE command does not match the number of given arguments`,
  timeoutNoValue: 'ERR No value provided for TIMEOUT in AI.SCRIPTEXECUTE',
  afterTimeout: 'ERR Encountered problem parsing AI.SCRIPTEXECUTE',
  runTimeoutTwice: 'ERR Already encountered an TIMEOUT section in SCRIPTRUN',
  runInputsTwice: 'ERR Already encountered an INPUTS section in SCRIPTRUN',
  runOutputsTwice: 'ERR Already encountered an OUTPUTS keyword in SCRIPTRUN',
  runVariadicOutside: 'ERR Encountered a variable size list of tensors outside of input section',
  runVariadicTwice: 'ERR Already encountered a variable size list of tensors',
  runUnrecognized: 'ERR Unrecongnized parameter to SCRIPTRUN', // sic (RedisAI)
} as const;




/** The script stored at `key`: `ERR script key is empty` when none, WRONGTYPE for another type. */
export function scriptOf(c: Client, key: string): Script {
  const v = readValue<ScriptValue>(c, key, SCRIPT_TYPE);
  if (v === undefined) throw new CommandError(ScriptErr.keyEmpty);
  return v.value;
}

// ------------------------------------------------------------------------------------------ STORE / SET



/** AI.SCRIPTSTORE <key> <device> [TAG <tag>] ENTRY_POINTS <n> <fn>... SOURCE <script> */
function scriptstore(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 8) wrongArity(argv);
  const device = parseDevice(argv[2]);
  const [tag, at] = parseTag(argv, 3);
  let pos = at;
  if (upper(argv[pos]) !== 'ENTRY_POINTS') throw new CommandError(ScriptErr.missingEntryPoints);
  const nb = argv[pos + 1];
  if (nb === undefined) throw new CommandError(ScriptErr.missingEntryPoints);
  if (!/^\d{1,9}$/.test(nb.toString('latin1'))) throw new CommandError(ScriptErr.nonNumericEntryPoints);
  const n = Number(nb.toString('latin1'));
  pos += 2;
  // the names are taken blindly, as RedisAI (SOURCE itself can be eaten as one)
  if (pos + n > argv.length) throw new CommandError(ScriptErr.missingEntryPoints);
  const entryPoints = argv.slice(pos, pos + n).map((b) => b.toString('utf8'));
  pos += n;
  if (upper(argv[pos]) !== 'SOURCE' || pos + 1 >= argv.length) throw new CommandError(ScriptErr.missingSource);
  return storeScript(c, argv, { device, tag, source: own(argv[pos + 1]), entryPoints });
}

/** AI.SCRIPTSET (deprecated) <key> <device> [TAG <tag>] SOURCE <script>: no entry points. */
function scriptset(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length !== 5 && argv.length !== 7) wrongArity(argv);
  const device = parseDevice(argv[2]);
  const [tag, pos] = parseTag(argv, 3);
  if (upper(argv[pos]) !== 'SOURCE' || pos + 1 >= argv.length) throw new CommandError(ScriptErr.missingSource);
  return storeScript(c, argv, { device, tag, source: own(argv[pos + 1]), entryPoints: null });
}

/** Compiles in the device queue's worker, then stores (WRONGTYPE checked after, as RedisAI) and propagates. */
function storeScript(c: Client, argv: Buffer[], spec: ScriptSpec): Promise<void> {
  const key = str(argv[1]);
  const rt = aiRuntime(c.server);
  const db = c.db;
  return (async () => {
    let script: Script;
    try {
      script = await buildScript(rt, spec);
    } catch (e) {
      throw backendError(e);
    }
    const old = db.lookup(key);
    if (old !== undefined && old.type !== SCRIPT_TYPE) throw new CommandError(Err.wrongType);
    db.set(key, { type: SCRIPT_TYPE, value: script } satisfies ScriptValue);
    c.server.markDirty();
    c.server.propagate(db.id, argv);
    c.out.ok();
  })();
}

// -------------------------------------------------------------------------------------------- GET / DEL

/** AI.SCRIPTGET <key> [META] [SOURCE] */
function scriptget(c: Client, argv: Buffer[]): void {
  if (argv.length < 2 || argv.length > 4) wrongArity(argv);
  const s = scriptOf(c, str(argv[1]));
  let meta = false;
  let source = false;
  for (let i = 2; i < argv.length; i++) {
    const w = upper(argv[i]);
    if (w === 'META') meta = true;
    else if (w === 'SOURCE') source = true;
  }
  if (!meta && !source) meta = source = true;
  if (!meta) return void c.out.bulk(s.source);
  const out = c.out;
  out.array(source ? 8 : 6);
  out.bulk('device').bulk(Buffer.from(s.device, 'latin1'));
  out.bulk('tag').bulk(s.tag);
  out.bulk('Entry Points').bulks((s.entryPoints ?? []).map((f) => Buffer.from(f)));
  if (source) out.bulk('source').bulk(s.source);
}

/** AI.SCRIPTDEL <key> (replicated verbatim) */
function scriptdel(c: Client, argv: Buffer[]): void {
  if (argv.length !== 2) wrongArity(argv);
  const key = str(argv[1]);
  scriptOf(c, key);
  c.db.delete(key);
  c.server.markDirty();
  c.out.ok();
}

/** AI._SCRIPTSCAN: [[key, tag], ...] for every script of this node (all databases). */
function scriptscan(c: Client, argv: Buffer[]): void {
  if (argv.length !== 1) wrongArity(argv);
  const found: [string, Buffer][] = [];
  for (const db of c.server.dbs) {
    for (const [key, v] of db.map) if (v.type === SCRIPT_TYPE) found.push([key, (v as ScriptValue).value.tag]);
  }
  c.out.array(found.length);
  for (const [key, tag] of found) c.out.array(2).bulk(Buffer.from(key, 'latin1')).bulk(tag);
}

/** AI.INFO <script key> [RESETSTAT] (called by AI.INFO in model-commands.ts): backend TORCH, samples -1. */
export function scriptInfo(c: Client, argv: Buffer[]): void {
  const s = (c.db.lookup(str(argv[1])) as ScriptValue).value;
  if (argv.length === 3 && upper(argv[2]) === 'RESETSTAT') {
    Object.assign(s.stats, { duration: 0, calls: 0, errors: 0 });
    return void c.out.ok();
  }
  const out = c.out;
  out.array(18);
  out.bulk('key').bulk(argv[1]);
  out.bulk('type').bulk('SCRIPT');
  out.bulk('backend').bulk('TORCH');
  out.bulk('device').bulk(Buffer.from(s.device, 'latin1'));
  out.bulk('tag').bulk(s.tag);
  out.bulk('duration').int(s.stats.duration);
  out.bulk('samples').int(-1);
  out.bulk('calls').int(s.stats.calls);
  out.bulk('errors').int(s.stats.errors);
}

// ------------------------------------------------------------------------------ redis.execute in scripts

/** Commands a script may not call: those Redis refuses in scripts, and AI commands that wait for a worker. */
const NOT_FROM_SCRIPT = new Set(['ai.modelstore', 'ai.modelset', 'ai.scriptstore', 'ai.scriptset']);
const NOT_ALLOWED_FROM_SCRIPT = 'ERR This Redis command is not allowed from script';

/**
 * Runs the commands a script calls (redis.execute) for client `c`, and the models it runs
 * (redisAI.model_execute: in a queue of their own, src/ai/script.ts runModelForScript): through the normal dispatch path (lookup,
 * arity, handler, propagation) with a socket-less client in c's database, answering the parsed reply. As in a
 * Lua script, `noscript` commands are refused, and blocking AI commands answer RedisAI's
 * `Cannot run RedisAI command within a transaction or a LUA script` (the client is marked as in EXEC).
 */
export function scriptCommandRunner(c: Client): ScriptCommandHandler {
  let fake: Client | null = null;
  return async (args) => {
    if (!Array.isArray(args)) {
      // redisAI.model_execute(key, tensors, n): the model at `key` in the caller's database
      const v = c.db.get<ModelValue>(args.model, MODEL_TYPE);
      if (v === undefined) return { error: AiErr.modelKeyEmpty };
      if (args.outputs !== v.value.outputs.length) return { error: AiErr.outputsModelMismatch };
      return runModelForScript(aiRuntime(c.server), v.value, args.inputs);
    }
    if (args.length === 0) return { error: 'ERR wrong number of arguments for redis.execute' };
    const server = c.server;
    if (!fake) {
      fake = new Client(server, {} as net.Socket, 0);
      fake.db = c.db;
      fake.authenticated = true;
      fake.inExec = true;
    }
    const argv = args.map((s) => Buffer.from(s, 'utf8'));
    const cmd = server.table.lookup(argv[0]);
    if (cmd && (cmd.has('noscript') || NOT_FROM_SCRIPT.has(cmd.name))) return { error: NOT_ALLOWED_FROM_SCRIPT };
    const pending = server.dispatch(fake, argv);
    if (pending) await pending;
    return parseResp2(fake.out.take());
  };
}

// --------------------------------------------------------------------------------------- EXECUTE / RUN

interface ScriptRunArgs {
  script: Script;
  fn: string;
  inputs: Tensor[];
  keys: string[];
  args: string[];
  outputKeys: string[];
  timeout: number;
  /** SCRIPTRUN's `$`: index of the first variadic input, or -1 */
  variadic: number;
}


/** A section count: a non-negative integer, or -1. */
function count(b: Buffer | undefined): number {
  if (b === undefined) return -1;
  const s = b.toString('latin1');
  return /^\d{1,9}$/.test(s) ? Number(s) : -1;
}


function parseScriptExecute(c: Client, argv: Buffer[]): ScriptRunArgs {
  const script = scriptOf(c, str(argv[1]));
  const fn = argv[2].toString('utf8');
  const first = upper(argv[3]);
  if (first !== 'KEYS' && first !== 'INPUTS') throw new CommandError(ScriptErr.keysOrInputsFirst);
  const seen = new Set<string>();
  const r: ScriptRunArgs = { script, fn, inputs: [], keys: [], args: [], outputKeys: [], timeout: 0, variadic: -1 };
  let pos = 3;
  while (pos < argv.length) {
    const word = upper(argv[pos]);
    if (word === 'TIMEOUT') {
      if (pos + 1 >= argv.length) throw new CommandError(ScriptErr.timeoutNoValue);
      r.timeout = parseTimeout(argv[pos + 1]);
      if (pos + 2 < argv.length) throw new CommandError(ScriptErr.afterTimeout);
      break;
    }
    if (word !== 'KEYS' && word !== 'INPUTS' && word !== 'ARGS' && word !== 'OUTPUTS') {
      throw new CommandError(ScriptErr.unexpected(argv[pos].toString('latin1')));
    }
    if (seen.has(word)) throw new CommandError(ScriptErr.alreadyEncountered(word));
    seen.add(word);
    if (word === 'KEYS') {
      if (pos + 2 >= argv.length) throw new CommandError(ScriptErr.keysMissing);
      const n = count(argv[pos + 1]);
      if (n <= 0) throw new CommandError(ScriptErr.keysCount);
      if (pos + 2 + n > argv.length) throw new CommandError(ScriptErr.keysMismatch);
      r.keys = argv.slice(pos + 2, pos + 2 + n).map((b) => b.toString('utf8'));
      pos += 2 + n;
      continue;
    }
    if (pos + 1 >= argv.length) throw new CommandError(ScriptErr.sectionEmpty);
    const n = count(argv[pos + 1]);
    const what = word === 'INPUTS' ? 'inputs' : word === 'ARGS' ? 'args' : 'outputs';
    if (n < 0) throw new CommandError(what === 'inputs' ? ScriptErr.inputsCount : what === 'args' ? ScriptErr.argsCount : ScriptErr.outputsCount);
    if (pos + 2 + n > argv.length) throw new CommandError(ScriptErr.sectionMismatch(what));
    const items = argv.slice(pos + 2, pos + 2 + n);
    if (what === 'inputs') r.inputs = items.map((k) => readTensor(c, str(k))); // read now: a snapshot (spec Q4)
    else if (what === 'args') r.args = items.map((b) => b.toString('utf8'));
    else r.outputKeys = items.map(str);
    pos += 2 + n;
  }
  checkOutputKeys(c, r.outputKeys);
  return r;
}

/**
 * AI.SCRIPTEXECUTE <key> <fn> [KEYS n k...] [INPUTS n in...] [ARGS n a...] [OUTPUTS n out...] [TIMEOUT ms]
 * Parse errors reply at once; the call goes to the script's device queue. OK once every output is written,
 * TIMEDOUT past TIMEOUT, or the run-time error.
 */
function scriptexecute(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 3) throw new CommandError(ScriptErr.executeArity);
  if (c.inExec) throw new CommandError(AiErr.inTransaction);
  return runScript(c, parseScriptExecute(c, argv));
}

/** AI.SCRIPTRUN (deprecated) <key> <fn> [TIMEOUT ms] INPUTS <in>... [$ <in>...] OUTPUTS <out>... */
function scriptrun(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 3) throw new CommandError(ScriptErr.runArity);
  if (c.inExec) throw new CommandError(AiErr.inTransaction);
  const script = scriptOf(c, str(argv[1]));
  const r: ScriptRunArgs = { script, fn: argv[2].toString('utf8'), inputs: [], keys: [], args: [], outputKeys: [], timeout: 0, variadic: -1 };
  let timeoutSet = false;
  let inInputs = false;
  let inOutputs = false;
  let sawInputs = false;
  let sawOutputs = false;
  for (let pos = 3; pos < argv.length; pos++) {
    const w = upper(argv[pos]);
    if (w === 'TIMEOUT') {
      if (timeoutSet) throw new CommandError(ScriptErr.runTimeoutTwice);
      if (pos + 1 >= argv.length) throw new CommandError(AiErr.timeoutNoValue);
      r.timeout = parseTimeout(argv[++pos]);
      timeoutSet = true;
    } else if (w === 'INPUTS') {
      if (sawInputs) throw new CommandError(ScriptErr.runInputsTwice);
      sawInputs = inInputs = true;
      inOutputs = false;
    } else if (w === 'OUTPUTS') {
      if (sawOutputs) throw new CommandError(ScriptErr.runOutputsTwice);
      sawOutputs = inOutputs = true;
      inInputs = false;
    } else if (w === '$') {
      if (!inInputs) throw new CommandError(ScriptErr.runVariadicOutside);
      if (r.variadic >= 0) throw new CommandError(ScriptErr.runVariadicTwice);
      r.variadic = r.inputs.length;
    } else if (inInputs) {
      r.inputs.push(readTensor(c, str(argv[pos])));
    } else if (inOutputs) {
      r.outputKeys.push(str(argv[pos]));
    } else {
      throw new CommandError(ScriptErr.runUnrecognized);
    }
  }
  checkOutputKeys(c, r.outputKeys);
  return runScript(c, r);
}


/** Queues the call; on success writes and propagates each output and replies OK. */
function runScript(c: Client, a: ScriptRunArgs): Promise<void> {
  const db = c.db;
  return (async () => {
    let result;
    try {
      result = await executeScript(a.script, a.fn, a.inputs, a.keys, a.args, a.timeout, {
        outputs: a.outputKeys.length,
        variadic: a.variadic,
        onCommand: scriptCommandRunner(c),
      });
    } catch (e) {
      throw backendError(e);
    }
    if (result.status === 'timedout') return void c.out.simple('TIMEDOUT');
    if (c.closed) return; // as Redis: a disconnected client's reply callback never runs, nothing is written
    checkOutputKeys(c, a.outputKeys);
    for (let i = 0; i < a.outputKeys.length; i++) {
      const t = result.outputs[i];
      db.set(a.outputKeys[i], { type: TENSOR_TYPE, value: t } satisfies TensorValue);
      c.server.propagate(db.id, tensorSetArgv(a.outputKeys[i], t));
    }
    if (a.outputKeys.length > 0) c.server.markDirty(a.outputKeys.length);
    c.out.ok();
  })();
}

// ------------------------------------------------------------------------------------------- key specs

/** SCRIPTEXECUTE: the script key and every key under KEYS, INPUTS and OUTPUTS (not ARGS, not the function). */
function scriptexecuteKeys(argv: Buffer[]): number[] {
  const keys: number[] = argv.length > 1 ? [1] : [];
  let pos = 3;
  while (pos < argv.length) {
    const w = upper(argv[pos]);
    if (w !== 'KEYS' && w !== 'INPUTS' && w !== 'ARGS' && w !== 'OUTPUTS') break;
    const n = count(argv[pos + 1]);
    if (n < 0) break;
    for (let i = 0; i < n && pos + 2 + i < argv.length; i++) if (w !== 'ARGS') keys.push(pos + 2 + i);
    pos += 2 + n;
  }
  return keys;
}

/** SCRIPTRUN: the script key and every token after INPUTS except OUTPUTS and `$`. */
function scriptrunKeys(argv: Buffer[]): number[] {
  const keys: number[] = argv.length > 1 ? [1] : [];
  let pos = 3;
  while (pos < argv.length && upper(argv[pos]) !== 'INPUTS') pos += upper(argv[pos]) === 'TIMEOUT' ? 2 : 1;
  for (pos++; pos < argv.length; pos++) {
    const w = upper(argv[pos]);
    if (w === 'TIMEOUT') pos++;
    else if (w !== 'OUTPUTS' && w !== '$') keys.push(pos);
  }
  return keys;
}

// arity -1: the handlers check argc themselves (RedisAI's texts). SCRIPTEXECUTE / SCRIPTRUN are QUEUED inside
// MULTI and refuse to run at EXEC time, as MODELEXECUTE.
export const scriptCommands: CommandDef[] = [
  { name: 'ai.scriptstore', arity: -1, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'ai', handler: scriptstore },
  { name: 'ai.scriptset', arity: -1, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'ai', handler: scriptset },
  { name: 'ai.scriptget', arity: -1, flags: ['readonly'], keys: [1, 1, 1], group: 'ai', handler: scriptget },
  { name: 'ai.scriptdel', arity: -1, flags: ['write'], keys: [1, 1, 1], group: 'ai', handler: scriptdel },
  {
    name: 'ai.scriptexecute',
    arity: -1,
    flags: ['write', 'denyoom'],
    keys: [5, 5, 1],
    getKeys: scriptexecuteKeys,
    group: 'ai',
    handler: scriptexecute,
  },
  { name: 'ai.scriptrun', arity: -1, flags: ['write', 'denyoom'], keys: [4, 4, 1], getKeys: scriptrunKeys, group: 'ai', handler: scriptrun },
  { name: 'ai._scriptscan', arity: -1, flags: ['readonly'], group: 'ai', handler: scriptscan },
];
