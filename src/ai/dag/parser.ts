// The DAG grammar (spec §4): AI.DAGEXECUTE[_RO] and the deprecated AI.DAGRUN[_RO], parsed completely before
// anything runs, with RedisAI's error texts and check order:
//   1. the header words LOAD / PERSIST / ROUTING / TIMEOUT up to the first `|>` (LOAD reads its keys now: a
//      snapshot, tensors being immutable values);
//   2. every op, in order (model and script keys are resolved now; TENSORSET ops build their tensor now);
//   3. the names: each op input (and TENSORGET target) must be LOADed or written by an earlier op, each PERSIST
//      key must be LOADed or written by some op;
//   4. the dependency graph between the ops that run on device queues (./plan.ts).
// Any error is thrown as a CommandError (a top-level error reply). Nothing here touches a device queue or
// writes to the keyspace.

import type { Client } from '../../node/client';
import { CommandError } from '../../node/errors';
import { parseInteger, str } from '../../node/commands/args';
import { readValue } from '../../node/commands/lookup';
import { executeCount, modelOf } from '../commands/model-commands';
import { upper } from '../commands/common';
import { AiErr } from '../errors';
import type { Model } from '../model';
import { SCRIPT_TYPE, type ScriptValue } from '../script';
import { parseTensorGetFormat, parseTensorSetArgs, TENSOR_TYPE, type Tensor, type TensorGetFormat, type TensorValue } from '../tensor';
import { DagErr } from './errors';
import type { DagOp, DagPlan } from './plan';
import type { RemoteLoads } from './remote-loads';

export interface DagVariant {
  /** AI.DAGRUN / AI.DAGRUN_RO: MODELRUN / SCRIPTRUN ops, no LOAD/PERSIST/ROUTING required */
  deprecated: boolean;
  /** the _RO forms: no PERSIST, no SCRIPTEXECUTE */
  readOnly: boolean;
  /** cluster mode: LOAD keys read from other shards beforehand (./remote-loads.ts), a tensor or the error */
  remote?: RemoteLoads | null;
}

/** The DAG's op separator (a symbol: case does not matter). */
export const isSeparator = (b: Buffer): boolean => b.length === 2 && b[0] === 0x7c && b[1] === 0x3e;


/** An op as written, before its names are mapped to slots. */
type ParsedOp =
  | { kind: 'tensorset'; name: string; tensor: Tensor }
  | { kind: 'tensorget'; name: string; format: TensorGetFormat }
  | { kind: 'model'; model: Model; inNames: string[]; outNames: string[] }
  | {
      kind: 'script';
      script: unknown;
      fn: string;
      keys: string[];
      args: Buffer[];
      inNames: string[];
      outNames: string[];
      variadic: number;
    };

/** Parses a whole DAG command (argv[0] is the command; its arity was checked by the caller). */
export function parseDag(c: Client, argv: Buffer[], v: DagVariant): DagPlan {
  const loads: { key: string; tensor: Tensor }[] = [];
  const persistKeys: string[] = [];
  let load = false;
  let persist = false;
  let routing = false;
  let timeoutSeen = false;
  let timeout = 0;
  let opsAt = -1;
  for (let pos = 1; pos < argv.length; pos++) {
    const w = upper(argv[pos]);
    if (w === 'LOAD' && !load) {
      pos = parseLoad(c, argv, pos, loads, v.remote ?? null) - 1;
      load = true;
      continue;
    }
    if (w === 'PERSIST' && !persist) {
      if (v.readOnly) throw new CommandError(DagErr.persistReadOnly);
      pos = parsePersist(argv, pos, persistKeys) - 1;
      persist = true;
      continue;
    }
    if (w === 'TIMEOUT' && !timeoutSeen) {
      if (pos + 1 >= argv.length) throw new CommandError(AiErr.timeoutNoValue);
      // ⚠ as RedisAI: any integer is taken, and 0 or less means no timeout
      timeout = Math.max(0, parseInteger(argv[pos + 1], AiErr.timeoutInvalid));
      pos++;
      timeoutSeen = true;
      continue;
    }
    if (w === 'ROUTING' && !routing) {
      if (pos + 1 >= argv.length) throw new CommandError(DagErr.routingMissing);
      pos++;
      routing = true;
      continue;
    }
    if (isSeparator(argv[pos]) && pos < argv.length - 1) {
      opsAt = pos + 1;
      break;
    }
    throw new CommandError(DagErr.unexpectedArgument(argv[pos].toString('latin1')));
  }
  if (!v.deprecated && !load && !persist && !routing) throw new CommandError(DagErr.mustContainKeyword);
  if (opsAt < 0) throw new CommandError(DagErr.empty);

  const maxZeroBytes = c.server.config.getInt('proto-max-bulk-len');
  const parsed: ParsedOp[] = [];
  let start = opsAt;
  for (let i = opsAt; i <= argv.length; i++) {
    if (i < argv.length && !isSeparator(argv[i])) continue;
    parsed.push(parseOp(c, argv.slice(start, i), v, maxZeroBytes));
    start = i + 1;
  }
  return buildPlan(parsed, loads, persistKeys, timeout);
}

/** `LOAD <n> <key>...` at argv[pos]: reads each key now; answers the position after the keys. */
function parseLoad(c: Client, argv: Buffer[], pos: number, out: { key: string; tensor: Tensor }[], remote: RemoteLoads | null): number {
  if (argv.length - pos - 1 < 2) throw new CommandError(DagErr.loadMissing);
  const n = parseInteger(argv[pos + 1], DagErr.loadCount);
  if (n <= 0) throw new CommandError(DagErr.loadCount);
  let p = pos + 2;
  let count = 0;
  for (; p < argv.length && count < n; p++) {
    if (isSeparator(argv[p])) break;
    const key = str(argv[p]);
    const fetched = remote?.get(key);
    if (typeof fetched === 'string') throw new CommandError(fetched);
    if (fetched !== undefined) {
      out.push({ key, tensor: fetched });
      count++;
      continue;
    }
    const t = readValue<TensorValue>(c, key, TENSOR_TYPE);
    if (t === undefined) throw new CommandError(AiErr.tensorKeyEmpty);
    out.push({ key, tensor: t.value });
    count++;
  }
  if (count !== n) throw new CommandError(DagErr.loadMismatch);
  return p;
}

/** `PERSIST <n> <key>...` at argv[pos]; answers the position after the keys. */
function parsePersist(argv: Buffer[], pos: number, out: string[]): number {
  if (argv.length - pos - 1 < 2) throw new CommandError(DagErr.persistMissing);
  const n = parseInteger(argv[pos + 1], DagErr.persistCount);
  if (n <= 0) throw new CommandError(DagErr.persistCount);
  const seen = new Set<string>();
  let p = pos + 2;
  for (; p < argv.length && out.length < n; p++) {
    if (isSeparator(argv[p])) break;
    const key = str(argv[p]);
    if (seen.has(key)) throw new CommandError(DagErr.persistUnique);
    seen.add(key);
    out.push(key);
  }
  if (out.length !== n) throw new CommandError(DagErr.persistMismatch);
  return p;
}

// --------------------------------------------------------------------------------------------------- ops

function parseOp(c: Client, op: Buffer[], v: DagVariant, maxZeroBytes: number): ParsedOp {
  if (op.length === 0) throw new CommandError(DagErr.unsupportedCommand);
  switch (upper(op[0])) {
    case 'AI.TENSORSET':
      if (op.length < 4) throw new CommandError(DagErr.opArity('AI.TENSORSET'));
      // the same grammar and checks as the command; the name is local to the DAG (no keyspace type check)
      return { kind: 'tensorset', name: str(op[1]), tensor: parseTensorSetArgs(op, maxZeroBytes) };
    case 'AI.TENSORGET':
      if (op.length < 2 || op.length > 4) throw new CommandError(DagErr.opArity('AI.TENSORGET'));
      return { kind: 'tensorget', name: str(op[1]), format: parseTensorGetFormat(op) };
    case 'AI.MODELEXECUTE':
      if (v.deprecated) throw new CommandError(DagErr.executeInDagrun('AI.MODELEXECUTE'));
      return parseModelExecuteOp(c, op);
    case 'AI.SCRIPTEXECUTE':
      if (v.deprecated) throw new CommandError(DagErr.executeInDagrun('AI.SCRIPTEXECUTE'));
      if (v.readOnly) throw new CommandError(DagErr.scriptExecuteReadOnly);
      return parseScriptExecuteOp(c, op);
    case 'AI.MODELRUN':
      if (!v.deprecated) throw new CommandError(DagErr.deprecatedInExecute('AI.MODELRUN'));
      return parseModelRunOp(c, op);
    case 'AI.SCRIPTRUN':
      if (!v.deprecated) throw new CommandError(DagErr.deprecatedInExecute('AI.SCRIPTRUN'));
      return parseScriptRunOp(c, op);
    default:
      throw new CommandError(DagErr.unsupportedCommand);
  }
}

/** AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <n> <out>...: as the command (spec §2.5), no TIMEOUT. */
function parseModelExecuteOp(c: Client, op: Buffer[]): ParsedOp {
  if (op.length < 8) throw new CommandError(AiErr.modelExecuteArity);
  const model = modelOf(c, str(op[1]));
  if (upper(op[2]) !== 'INPUTS') throw new CommandError(AiErr.inputsNotSpecified);
  const nin = executeCount(op[3], model.inputs.length, true);
  let pos = 4;
  if (pos + nin > op.length) throw new CommandError(AiErr.inputKeysMismatch);
  const inNames = op.slice(pos, pos + nin).map(str);
  pos += nin;
  if (upper(op[pos]) !== 'OUTPUTS') throw new CommandError(AiErr.outputsNotSpecified);
  const nout = executeCount(op[pos + 1], model.outputs.length, false);
  pos += 2;
  if (pos + nout > op.length) throw new CommandError(AiErr.outputKeysMismatch);
  const outNames = op.slice(pos, pos + nout).map(str);
  pos += nout;
  if (pos < op.length) {
    if (upper(op[pos]) === 'TIMEOUT') throw new CommandError(DagErr.timeoutInOp);
    throw new CommandError(AiErr.invalidArgument(op[pos].toString('latin1')));
  }
  return { kind: 'model', model, inNames, outNames };
}

/** AI.MODELRUN <key> INPUTS <in>... OUTPUTS <out>... (DAGRUN only; spec §2.6), no TIMEOUT. */
function parseModelRunOp(c: Client, op: Buffer[]): ParsedOp {
  if (op.length < 6) throw new CommandError(AiErr.modelRunArity);
  const model = modelOf(c, str(op[1]));
  if (upper(op[2]) === 'TIMEOUT') throw new CommandError(DagErr.timeoutInOp);
  if (upper(op[2]) !== 'INPUTS') throw new CommandError(AiErr.inputsNotSpecified);
  let outputsAt = -1;
  for (let i = 3; i < op.length; i++) {
    if (upper(op[i]) === 'OUTPUTS') {
      outputsAt = i;
      break;
    }
  }
  const inNames = op.slice(3, outputsAt < 0 ? op.length : outputsAt).map(str);
  if (inNames.length !== model.inputs.length) throw new CommandError(AiErr.inputsModelMismatch);
  if (outputsAt < 0) throw new CommandError(AiErr.outputsNotSpecified);
  const outNames = op.slice(outputsAt + 1).map(str);
  if (outNames.length !== model.outputs.length) throw new CommandError(AiErr.outputsModelMismatch);
  return { kind: 'model', model, inNames, outNames };
}

/** The script at `key` (an AI_SCRIPT value), resolved at parse time. */
function scriptOf(c: Client, key: string): unknown {
  const v = readValue<ScriptValue>(c, key, SCRIPT_TYPE);
  if (v === undefined) throw new CommandError(DagErr.scriptKeyEmpty);
  return v.value;
}

/** A count after INPUTS / ARGS / OUTPUTS of SCRIPTEXECUTE: a non-negative integer. */
function scriptCount(b: Buffer, err: string): number {
  const n = parseInteger(b, err);
  if (n < 0) throw new CommandError(err);
  return n;
}

/**
 * AI.SCRIPTEXECUTE <key> <fn> [KEYS n k...] [INPUTS n in...] [ARGS n a...] [OUTPUTS n out...] (spec §3.5): in a
 * DAG KEYS is optional and the sections come in any order, each once; TIMEOUT is refused.
 */
function parseScriptExecuteOp(c: Client, op: Buffer[]): ParsedOp {
  if (op.length < 3) throw new CommandError(DagErr.scriptExecuteArity);
  const script = scriptOf(c, str(op[1]));
  const fn = op[2].toString('utf8');
  const seen = new Set<string>();
  let keys: string[] = [];
  let args: Buffer[] = [];
  let inNames: string[] = [];
  let outNames: string[] = [];
  let pos = 3;
  while (pos < op.length) {
    const w = upper(op[pos]);
    if (w === 'TIMEOUT') throw new CommandError(DagErr.timeoutInOp);
    if (w !== 'KEYS' && w !== 'INPUTS' && w !== 'ARGS' && w !== 'OUTPUTS') {
      throw new CommandError(DagErr.scriptUnexpected(op[pos].toString('latin1')));
    }
    if (seen.has(w)) throw new CommandError(DagErr.scriptAlreadyEncountered(w));
    seen.add(w);
    let n: number;
    if (w === 'KEYS') {
      if (op.length - pos - 1 < 2) throw new CommandError(DagErr.scriptKeysMissing);
      n = parseInteger(op[pos + 1], DagErr.scriptKeysCount);
      if (n <= 0) throw new CommandError(DagErr.scriptKeysCount);
      if (pos + 2 + n > op.length) throw new CommandError(DagErr.scriptKeysMismatch);
    } else {
      if (pos + 1 >= op.length) throw new CommandError(DagErr.scriptSectionEmpty);
      const what = w === 'INPUTS' ? 'inputs' : w === 'ARGS' ? 'args' : 'outputs';
      n = scriptCount(op[pos + 1], what === 'inputs' ? DagErr.scriptInputsCount : what === 'args' ? DagErr.scriptArgsCount : DagErr.scriptOutputsCount);
      if (pos + 2 + n > op.length) throw new CommandError(DagErr.scriptSectionMismatch(what));
    }
    const items = op.slice(pos + 2, pos + 2 + n);
    if (w === 'KEYS') keys = items.map(str);
    else if (w === 'INPUTS') inNames = items.map(str);
    else if (w === 'ARGS') args = items;
    else outNames = items.map(str);
    pos += 2 + n;
  }
  return { kind: 'script', script, fn, keys, args, inNames, outNames, variadic: -1 };
}

/**
 * AI.SCRIPTRUN <key> <fn> INPUTS <in>... [$ <in>...] OUTPUTS <out>... (DAGRUN only; spec §3.6): `$` starts a
 * List[Tensor] tail of the inputs; TIMEOUT is refused.
 */
function parseScriptRunOp(c: Client, op: Buffer[]): ParsedOp {
  if (op.length < 3) throw new CommandError(DagErr.scriptRunArity);
  const script = scriptOf(c, str(op[1]));
  const fn = op[2].toString('utf8');
  const inNames: string[] = [];
  const outNames: string[] = [];
  let section: 'none' | 'inputs' | 'outputs' = 'none';
  let inputsSeen = false;
  let outputsSeen = false;
  let variadic = -1;
  for (let pos = 3; pos < op.length; pos++) {
    const w = upper(op[pos]);
    if (w === 'TIMEOUT') throw new CommandError(DagErr.timeoutInOp);
    if (w === 'INPUTS') {
      if (inputsSeen) throw new CommandError(DagErr.scriptRunInputsTwice);
      inputsSeen = true;
      section = 'inputs';
    } else if (w === 'OUTPUTS') {
      if (outputsSeen) throw new CommandError(DagErr.scriptRunOutputsTwice);
      outputsSeen = true;
      section = 'outputs';
    } else if (w === '$') {
      if (section !== 'inputs') throw new CommandError(DagErr.scriptRunVariadicOutside);
      if (variadic >= 0) throw new CommandError(DagErr.scriptRunVariadicTwice);
      variadic = inNames.length;
    } else if (section === 'inputs') {
      inNames.push(str(op[pos]));
    } else if (section === 'outputs') {
      outNames.push(str(op[pos]));
    } else {
      throw new CommandError(DagErr.scriptRunUnrecognized);
    }
  }
  return { kind: 'script', script, fn, keys: [], args: [], inNames, outNames, variadic };
}

// ---------------------------------------------------------------------------------------- names and graph

/** Maps names to slots (checking them) and builds the dependency graph. */
function buildPlan(parsed: ParsedOp[], loads: { key: string; tensor: Tensor }[], persistKeys: string[], timeout: number): DagPlan {
  const initial: (Tensor | undefined)[] = [];
  /** the op that writes each slot; -1 for values known at parse time (LOAD, TENSORSET) */
  const producer: number[] = [];
  const names = new Map<string, number>();
  const newSlot = (t: Tensor | undefined, by: number): number => {
    initial.push(t);
    producer.push(by);
    return initial.length - 1;
  };
  for (const l of loads) names.set(l.key, newSlot(l.tensor, -1));
  const resolve = (name: string): number => {
    const s = names.get(name);
    if (s === undefined) throw new CommandError(DagErr.inputNotFound);
    return s;
  };
  const outputs = (list: string[], by: number): number[] =>
    list.map((name) => {
      const s = newSlot(undefined, by);
      names.set(name, s);
      return s;
    });

  const ops: DagOp[] = parsed.map((p, i): DagOp => {
    switch (p.kind) {
      case 'tensorset': {
        const s = newSlot(p.tensor, -1);
        names.set(p.name, s);
        return { kind: 'tensorset', output: s };
      }
      case 'tensorget':
        return { kind: 'tensorget', input: resolve(p.name), format: p.format };
      case 'model': {
        const inputs = p.inNames.map(resolve); // inputs first: an op writing a name it reads reads the older value
        return { kind: 'model', model: p.model, inputs, outputs: outputs(p.outNames, i) };
      }
      case 'script': {
        const inputs = p.inNames.map(resolve);
        const { script, fn, keys, args, variadic } = p;
        return { kind: 'script', script, fn, keys, args, variadic, inputs, outputs: outputs(p.outNames, i) };
      }
    }
  });

  const persist = persistKeys.map((key) => {
    const slot = names.get(key);
    if (slot === undefined) throw new CommandError(DagErr.persistNotFound);
    return { key, slot };
  });

  const runnable: number[] = [];
  const waitCount = new Int32Array(ops.length);
  const dependents: number[][] = ops.map(() => []);
  ops.forEach((op, i) => {
    if (op.kind !== 'model' && op.kind !== 'script') return;
    runnable.push(i);
    const deps = new Set<number>();
    for (const s of op.inputs) if (producer[s] >= 0) deps.add(producer[s]);
    waitCount[i] = deps.size;
    for (const d of deps) dependents[d].push(i);
  });
  return { ops, slots: initial.length, initial, persist, timeout, runnable, waitCount, dependents };
}
