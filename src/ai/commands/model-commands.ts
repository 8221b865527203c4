// AI.MODELSTORE, AI.MODELGET, AI.MODELDEL, AI.MODELEXECUTE and AI.CONFIG (RedisAI's redisai.c and
// model_commands_parser.c): argument grammar and error order as RedisAI, AI__MODEL keys, and the hand-off to
// device queues. The main thread only parses, snapshots inputs, queues, writes results and replies: loading
// (MODELSTORE) and running (MODELEXECUTE) happen in backend worker threads (src/ai/device-queue.ts). Execution
// results propagate as AI.TENSORSET ... BLOB of each output written, never as the execute command (spec §9).

import type { CommandDef } from '../../node/command-table';
import type { Client } from '../../node/client';
import { CommandError, Err } from '../../node/errors';
import { own, parseInteger, str } from '../../node/commands/args';
import { readValue } from '../../node/commands/lookup';
import { AiErr } from '../errors';
import { backendError, checkOutputKeys, outputTensor, parseDevice, parseTag, parseTimeout, readTensor, tensorSetArgv, upper, wrongArity } from './common';
import { TENSOR_TYPE, type Tensor, type TensorValue } from '../tensor';
import { backendAvailable } from '../../backends/registry';
import { aiRuntime, BACKENDS, buildModel, MODEL_TYPE, type BackendName, type Model, type ModelSpec, type ModelValue } from '../model';



/** An unsigned integer argument (RedisAI's AC_GetUnsignedLongLong), or null. */
function unsigned(b: Buffer | undefined): number | null {
  if (b === undefined) return null;
  const s = b.toString('latin1');
  if (!/^\d{1,16}$/.test(s)) return null;
  return Number(s);
}


// ---------------------------------------------------------------------------------------------- MODELSTORE

type ModelStoreArgs = ModelSpec;

/** The backend word of MODELSTORE / MODELSET (argv[2]), in any case. */
function parseBackend(word: Buffer): BackendName {
  const name = upper(word);
  if (!(BACKENDS as readonly string[]).includes(name)) throw new CommandError(AiErr.unsupportedBackend);
  return name as BackendName;
}


/** MODELSTORE's arguments after the key, checked in RedisAI's order (spec §2.1). */
function parseModelStore(argv: Buffer[]): ModelStoreArgs {
  const backend = parseBackend(argv[2]);
  const device = parseDevice(argv[3]);
  let [tag, pos] = parseTag(argv, 4);
  let batchsize = 0;
  let minbatchsize = 0;
  let minbatchtimeout = 0;
  if (upper(argv[pos]) === 'BATCHSIZE') {
    const n = unsigned(argv[pos + 1]);
    if (n === null) throw new CommandError(AiErr.invalidBatchsize);
    batchsize = n;
    pos += 2;
    if (upper(argv[pos]) === 'MINBATCHSIZE') {
      const m = unsigned(argv[pos + 1]);
      if (m === null) throw new CommandError(AiErr.invalidMinbatchsize);
      minbatchsize = m;
      pos += 2;
      if (upper(argv[pos]) === 'MINBATCHTIMEOUT') {
        const t = unsigned(argv[pos + 1]);
        if (t === null) throw new CommandError(AiErr.invalidMinbatchtimeout);
        minbatchtimeout = t;
        pos += 2;
      }
    }
  }
  if (minbatchsize > 0 && batchsize === 0) throw new CommandError(AiErr.minbatchsizeWithoutBatchsize);
  if (minbatchtimeout > 0 && minbatchsize === 0) throw new CommandError(AiErr.minbatchtimeoutWithoutMinbatchsize);
  if (pos >= argv.length) throw new CommandError(AiErr.missingBlob);
  let inputs: string[] | undefined;
  let outputs: string[] | undefined;
  if (backend === 'TF') {
    // TF names its inputs and outputs in the command (the backend checks that the graph has them)
    [inputs, pos] = parseTfNames(argv, pos, 'INPUTS');
    [outputs, pos] = parseTfNames(argv, pos, 'OUTPUTS');
  } else if (upper(argv[pos]) === 'INPUTS') {
    throw new CommandError(AiErr.inputsNotForBackend);
  }
  if (upper(argv[pos]) !== 'BLOB') throw new CommandError(AiErr.expectedBlob);
  if (pos + 1 >= argv.length) throw new CommandError(AiErr.missingBlob);
  // every argument after BLOB is a chunk of the model
  const blob = joinChunks(argv.slice(pos + 1));
  return { backend, device, tag, batchsize, minbatchsize, minbatchtimeout, inputs, outputs, blob };
}

/** `INPUTS n name...` / `OUTPUTS n name...` of a TF MODELSTORE: the names and the position after them. */
function parseTfNames(argv: Buffer[], pos: number, word: 'INPUTS' | 'OUTPUTS'): [string[], number] {
  const inputs = word === 'INPUTS';
  if (upper(argv[pos]) !== word) throw new CommandError(inputs ? AiErr.tfInputsNotSpecified : AiErr.tfOutputsNotSpecified);
  const n = unsigned(argv[pos + 1]);
  if (n === null || n === 0) throw new CommandError(inputs ? AiErr.invalidInputCount : AiErr.invalidOutputCount);
  if (pos + 2 + n > argv.length) throw new CommandError(inputs ? AiErr.tfInputsCountMismatch : AiErr.tfOutputsCountMismatch);
  return [argv.slice(pos + 2, pos + 2 + n).map((b) => b.toString()), pos + 2 + n];
}

/**
 * AI.MODELSTORE <key> <backend> <device> [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT ms]]]
 *               [INPUTS n name... OUTPUTS n name...] BLOB <chunk>...
 * Parse errors reply at once; the model is then built in its device queue's worker and OK comes when it is
 * loaded. WRONGTYPE is checked after the build, as RedisAI. Replicated verbatim.
 */
function modelstore(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 6) wrongArity(argv);
  return storeModel(c, argv, parseModelStore(argv));
}

/** Builds the model in its device queue's worker, then stores it and propagates the command verbatim. */
function storeModel(c: Client, argv: Buffer[], args: ModelStoreArgs): Promise<void> {
  const key = str(argv[1]);
  if (!backendAvailable(args.backend)) throw new CommandError(AiErr.couldNotLoadBackend);
  const rt = aiRuntime(c.server);
  const db = c.db;
  // refused before loading when the blob would take its backend past BACKEND_MEMORY_LIMIT, or used memory past
  // maxmemory with nothing left to evict (src/node/memory.ts); a replica follows its master's stores
  const bytes = args.blob.length;
  const admit = c.kind !== 'master' && !c.server.loading;
  if (admit) {
    const old = db.map.get(key);
    const freed = old?.type === MODEL_TYPE && (old as ModelValue).value.backend === args.backend ? (old as ModelValue).value.blob.length : 0;
    const refused = c.server.memory.admitModel(args.backend, bytes, freed, rt.backendMemoryLimit);
    if (refused) throw new CommandError(refused);
  }
  return (async () => {
    let model: Model;
    try {
      model = await buildModel(rt, args);
    } catch (e) {
      throw backendError(e);
    } finally {
      if (admit) c.server.memory.release(args.backend, bytes);
    }
    const old = db.lookup(key);
    // the new model's session is freed with the unreferenced value
    if (old !== undefined && old.type !== MODEL_TYPE) throw new CommandError(Err.wrongType);
    const value: ModelValue = { type: MODEL_TYPE, value: model };
    db.set(key, value);
    c.server.markDirty();
    c.server.propagate(db.id, argv);
    c.out.ok();
  })();
}

const MODELSET_KEYWORDS = new Set(['TAG', 'BATCHSIZE', 'MINBATCHSIZE', 'MINBATCHTIMEOUT', 'INPUTS', 'OUTPUTS', 'BLOB']);

/**
 * AI.MODELSET (deprecated) <key> <backend> <device> [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT t]]]
 *             [INPUTS <name>... OUTPUTS <name>...] BLOB <chunk>...   (spec §2.2: names are not counted)
 */
function modelset(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 4) wrongArity(argv);
  const backend = parseBackend(argv[2]);
  const device = argv[3].toString('latin1');
  if (device.length > 10 || MODELSET_KEYWORDS.has(device.toUpperCase())) throw new CommandError(AiErr.invalidDevice);
  let [tag, pos] = parseTag(argv, 4);
  let batchsize = 0;
  let minbatchsize = 0;
  let minbatchtimeout = 0;
  if (upper(argv[pos]) === 'BATCHSIZE') {
    if (backend === 'TFLITE') throw new CommandError(AiErr.tfliteAutobatch);
    const n = unsigned(argv[pos + 1]);
    if (n === null) throw new CommandError(AiErr.invalidBatchsize);
    batchsize = n;
    pos += 2;
    if (upper(argv[pos]) === 'MINBATCHSIZE') {
      const m = unsigned(argv[pos + 1]);
      if (m === null) throw new CommandError(AiErr.invalidMinbatchsize);
      minbatchsize = m;
      pos += 2;
    }
    if (upper(argv[pos]) === 'MINBATCHTIMEOUT') {
      if (minbatchsize === 0) throw new CommandError(AiErr.minbatchtimeoutWithoutMinbatchsize);
      const t = unsigned(argv[pos + 1]);
      if (t === null) throw new CommandError(AiErr.invalidMinbatchtimeout);
      minbatchtimeout = t;
      pos += 2;
    }
  } else if (upper(argv[pos]) === 'MINBATCHSIZE') {
    throw new CommandError(AiErr.minbatchsizeWithoutBatchsize);
  } else if (upper(argv[pos]) === 'MINBATCHTIMEOUT') {
    throw new CommandError(AiErr.minbatchtimeoutWithoutBatchsize);
  }
  let inputs: string[] | undefined;
  let outputs: string[] | undefined;
  let blobAt = -1;
  for (let i = pos; i < argv.length; i++) {
    if (upper(argv[i]) === 'BLOB') {
      blobAt = i;
      break;
    }
  }
  if (backend === 'TF') {
    if (blobAt === pos || (blobAt < 0 && pos >= argv.length)) throw new CommandError(AiErr.inputsOutputsNotSpecified);
    if (upper(argv[pos]) !== 'INPUTS') throw new CommandError(AiErr.inputsNotSpecified);
    const end = blobAt < 0 ? argv.length : blobAt;
    let outputsAt = -1;
    for (let i = pos + 1; i < end; i++) if (upper(argv[i]) === 'OUTPUTS') outputsAt = outputsAt < 0 ? i : outputsAt;
    if (outputsAt < 0) throw new CommandError(AiErr.outputsNotSpecified);
    inputs = argv.slice(pos + 1, outputsAt).map((b) => b.toString());
    outputs = argv.slice(outputsAt + 1, end).map((b) => b.toString());
  }
  if (blobAt < 0 || blobAt + 1 >= argv.length) throw new CommandError(AiErr.missingBlob);
  const blob = joinChunks(argv.slice(blobAt + 1));
  return storeModel(c, argv, { backend, device, tag, batchsize, minbatchsize, minbatchtimeout, inputs, outputs, blob });
}

/** The model bytes: all the arguments after BLOB, in a buffer of their own (one big argument already is). */
function joinChunks(chunks: Buffer[]): Buffer {
  if (chunks.length === 1) return own(chunks[0]);
  let total = 0;
  for (const ch of chunks) total += ch.length;
  const blob = Buffer.allocUnsafeSlow(total);
  let off = 0;
  for (const ch of chunks) off += ch.copy(blob, off);
  return blob;
}

// ------------------------------------------------------------------------------------------ MODELGET / DEL

export function modelOf(c: Client, key: string): Model {
  const v = readValue<ModelValue>(c, key, MODEL_TYPE);
  if (v === undefined) throw new CommandError(AiErr.modelKeyEmpty);
  return v.value;
}

/** The blob as one bulk, or as an array of MODEL_CHUNK_SIZE chunks once it is that long (spec §2.3, Q7). */
function replyBlob(c: Client, blob: Buffer): void {
  const chunk = aiRuntime(c.server).modelChunkSize;
  if (blob.length < chunk) return void c.out.bulk(blob);
  const n = Math.floor(blob.length / chunk) + 1; // an exact multiple ends in an empty chunk, as RedisAI
  c.out.array(n);
  for (let i = 0; i < n; i++) c.out.bulk(blob.subarray(i * chunk, Math.min(blob.length, (i + 1) * chunk)));
}

/** AI.MODELGET <key> [META] [BLOB] */
function modelget(c: Client, argv: Buffer[]): void {
  if (argv.length < 2 || argv.length > 4) wrongArity(argv);
  const m = modelOf(c, str(argv[1]));
  let meta = false;
  let blob = false;
  for (let i = 2; i < argv.length; i++) {
    const w = upper(argv[i]);
    if (w === 'META') meta = true;
    else if (w === 'BLOB') blob = true; // other words are ignored, as RedisAI
  }
  if (!meta && !blob) meta = blob = true;
  if (!meta) return replyBlob(c, m.blob);
  const out = c.out;
  out.array(blob ? 18 : 16);
  out.bulk('backend').bulk(m.backend);
  out.bulk('device').bulk(Buffer.from(m.device, 'latin1'));
  out.bulk('tag').bulk(m.tag);
  out.bulk('batchsize').int(m.batchsize);
  out.bulk('minbatchsize').int(m.minbatchsize);
  out.bulk('inputs').bulks(m.inputs.map((s) => Buffer.from(s)));
  out.bulk('outputs').bulks(m.outputs.map((s) => Buffer.from(s)));
  out.bulk('minbatchtimeout').int(m.minbatchtimeout);
  if (blob) {
    out.bulk('blob');
    replyBlob(c, m.blob);
  }
}

/** AI.MODELDEL <key> (replicated verbatim) */
function modeldel(c: Client, argv: Buffer[]): void {
  if (argv.length !== 2) wrongArity(argv);
  const key = str(argv[1]);
  modelOf(c, key);
  c.db.delete(key);
  c.server.markDirty();
  c.out.ok();
}

// ------------------------------------------------------------------------------------------- MODELEXECUTE

interface ExecuteArgs {
  model: Model;
  inputs: Tensor[];
  outputKeys: string[];
  timeout: number;
}

/** A count after INPUTS/OUTPUTS, checked as RedisAI's parser (spec §2.5 steps 4 and 5). */
export function executeCount(b: Buffer | undefined, expected: number, inputs: boolean): number {
  let n: number;
  try {
    if (b === undefined) throw new Error();
    n = parseInteger(b);
  } catch {
    throw new CommandError(inputs ? AiErr.invalidInputCount : AiErr.invalidOutputCount);
  }
  if (n <= 0) throw new CommandError(inputs ? AiErr.inputCountPositive : AiErr.outputCountPositive);
  if (n !== expected) throw new CommandError(inputs ? AiErr.inputsModelMismatch : AiErr.outputsModelMismatch);
  return n;
}

function parseModelExecute(c: Client, argv: Buffer[]): ExecuteArgs {
  const model = modelOf(c, str(argv[1]));
  if (upper(argv[2]) !== 'INPUTS') throw new CommandError(AiErr.inputsNotSpecified);
  const nin = executeCount(argv[3], model.inputs.length, true);
  let pos = 4;
  if (pos + nin > argv.length) throw new CommandError(AiErr.inputKeysMismatch);
  const inputKeys = argv.slice(pos, pos + nin).map(str);
  pos += nin;
  if (upper(argv[pos]) !== 'OUTPUTS') throw new CommandError(AiErr.outputsNotSpecified);
  const nout = executeCount(argv[pos + 1], model.outputs.length, false);
  pos += 2;
  if (pos + nout > argv.length) throw new CommandError(AiErr.outputKeysMismatch);
  const outputKeys = argv.slice(pos, pos + nout).map(str);
  pos += nout;
  let timeout = 0;
  if (pos < argv.length) {
    if (upper(argv[pos]) !== 'TIMEOUT') throw new CommandError(AiErr.invalidArgument(argv[pos].toString('latin1')));
    if (pos + 1 >= argv.length) throw new CommandError(AiErr.timeoutNoValue);
    timeout = parseTimeout(argv[pos + 1]);
    pos += 2;
    if (pos < argv.length) throw new CommandError(AiErr.invalidArgument(argv[pos].toString('latin1')));
  }
  const inputs = snapshotInputs(c, inputKeys);
  // output keys are type-checked up front (RedisAI would reply OK and then an error: quirk Q9)
  checkOutputKeys(c, outputKeys);
  return { model, inputs, outputKeys, timeout };
}


/** Reads the input tensors now (they are immutable values: a reference is a snapshot). */
function snapshotInputs(c: Client, keys: string[]): Tensor[] {
  return keys.map((k) => readTensor(c, k));
}




/**
 * AI.MODELEXECUTE <key> INPUTS <n> <in>... OUTPUTS <n> <out>... [TIMEOUT <ms>]
 * Parse errors reply at once; the run goes to the model's device queue. On success each tensor output is
 * written (non-tensor outputs leave their key alone), propagated as AI.TENSORSET, and the reply is OK; a
 * backend error writes nothing; a timeout replies TIMEDOUT. If the client is gone by then, nothing is written.
 */
function modelexecute(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 8) throw new CommandError(AiErr.modelExecuteArity);
  if (c.inExec) throw new CommandError(AiErr.inTransaction);
  return runModel(c, parseModelExecute(c, argv));
}

/**
 * AI.MODELRUN (deprecated) <key> [TIMEOUT <ms>] INPUTS <in>... OUTPUTS <out>...: no counts; every token after
 * INPUTS up to the first OUTPUTS is an input. Otherwise as MODELEXECUTE.
 */
function modelrun(c: Client, argv: Buffer[]): Promise<void> {
  if (argv.length < 6) throw new CommandError(AiErr.modelRunArity);
  if (c.inExec) throw new CommandError(AiErr.inTransaction);
  const model = modelOf(c, str(argv[1]));
  let pos = 2;
  let timeout = 0;
  if (upper(argv[pos]) === 'TIMEOUT') {
    if (pos + 1 >= argv.length) throw new CommandError(AiErr.timeoutNoValue);
    timeout = parseTimeout(argv[pos + 1]);
    pos += 2;
  }
  if (upper(argv[pos]) !== 'INPUTS') throw new CommandError(AiErr.inputsNotSpecified);
  let outputsAt = -1;
  for (let i = pos + 1; i < argv.length; i++) {
    if (upper(argv[i]) === 'OUTPUTS') {
      outputsAt = i;
      break;
    }
  }
  const inputKeys = argv.slice(pos + 1, outputsAt < 0 ? argv.length : outputsAt).map(str);
  if (inputKeys.length !== model.inputs.length) throw new CommandError(AiErr.inputsModelMismatch);
  if (outputsAt < 0) throw new CommandError(AiErr.outputsNotSpecified);
  const outputKeys = argv.slice(outputsAt + 1).map(str);
  if (outputKeys.length !== model.outputs.length) throw new CommandError(AiErr.outputsModelMismatch);
  const inputs = snapshotInputs(c, inputKeys);
  checkOutputKeys(c, outputKeys);
  return runModel(c, { model, inputs, outputKeys, timeout });
}

/** Queues the run; on success writes and propagates each tensor output and replies OK. */
function runModel(c: Client, { model, inputs, outputKeys, timeout }: ExecuteArgs): Promise<void> {
  const db = c.db;
  return (async () => {
    let result;
    try {
      const batch = model.batchsize > 0 ? { size: model.batchsize, min: model.minbatchsize, minTimeout: model.minbatchtimeout } : undefined;
      result = await model.queue.run(model.id, inputs, timeout, batch);
    } catch (e) {
      model.stats.calls++;
      model.stats.errors++;
      throw backendError(e);
    }
    if (result.status === 'timedout') return void c.out.simple('TIMEDOUT');
    model.stats.calls++;
    model.stats.duration += result.usec;
    model.stats.samples += result.outputs[0]?.shape[0] ?? 0;
    if (c.closed) return; // as Redis: the reply callback of a disconnected client never runs
    checkOutputKeys(c, outputKeys);
    let written = 0;
    for (let i = 0; i < outputKeys.length; i++) {
      const o = result.outputs[i];
      if (!o) continue;
      const t = outputTensor(o);
      db.set(outputKeys[i], { type: TENSOR_TYPE, value: t } satisfies TensorValue);
      c.server.propagate(db.id, tensorSetArgv(outputKeys[i], t));
      written++;
    }
    if (written > 0) c.server.markDirty(written);
    c.out.ok();
  })();
}

/** Key positions of MODELRUN: the model and every token after INPUTS except OUTPUTS. */
function modelrunKeys(argv: Buffer[]): number[] {
  const keys: number[] = argv.length > 1 ? [1] : [];
  let pos = upper(argv[2]) === 'TIMEOUT' ? 4 : 2;
  if (upper(argv[pos]) !== 'INPUTS') return keys;
  for (pos++; pos < argv.length; pos++) if (upper(argv[pos]) !== 'OUTPUTS') keys.push(pos);
  return keys;
}

/** AI._MODELSCAN: [[key, tag], ...] for every model of this node (all databases). */
function modelscan(c: Client, argv: Buffer[]): void {
  if (argv.length !== 1) wrongArity(argv);
  const found: [string, Buffer][] = [];
  for (const db of c.server.dbs) {
    for (const [key, v] of db.map) if (v.type === MODEL_TYPE) found.push([key, (v as ModelValue).value.tag]);
  }
  c.out.array(found.length);
  for (const [key, tag] of found) c.out.array(2).bulk(Buffer.from(key, 'latin1')).bulk(tag);
}

/** Key positions of MODELEXECUTE: the model, every input and every output key (located by the counts). */
function modelexecuteKeys(argv: Buffer[]): number[] {
  const keys: number[] = argv.length > 1 ? [1] : [];
  const count = (b: Buffer | undefined) => {
    const n = unsigned(b);
    return n === null ? -1 : n;
  };
  if (upper(argv[2]) !== 'INPUTS') return keys;
  const nin = count(argv[3]);
  if (nin < 0) return keys;
  let pos = 4;
  for (let i = 0; i < nin && pos < argv.length; i++) keys.push(pos++);
  if (upper(argv[pos]) !== 'OUTPUTS') return keys;
  const nout = count(argv[pos + 1]);
  pos += 2;
  for (let i = 0; i < nout && pos < argv.length; i++) keys.push(pos++);
  return keys;
}

// ------------------------------------------------------------------------------------------------- AI.INFO

/** AI.INFO <key> [RESETSTAT]: the run statistics of a model (spec §6). */
function aiinfo(c: Client, argv: Buffer[]): void {
  if (argv.length < 2 || argv.length > 3) wrongArity(argv);
  const key = str(argv[1]);
  const v = c.db.lookup(key);
  if (v?.type === 'AI_SCRIPT') return (require('./script-commands') as typeof import('./script-commands')).scriptInfo(c, argv);
  if (v === undefined || v.type !== MODEL_TYPE) throw new CommandError(AiErr.noRunInfo);
  const m = (v as ModelValue).value;
  if (argv.length === 3 && upper(argv[2]) === 'RESETSTAT') {
    Object.assign(m.stats, { duration: 0, samples: 0, calls: 0, errors: 0 });
    return void c.out.ok();
  }
  const out = c.out;
  out.array(18);
  out.bulk('key').bulk(argv[1]);
  out.bulk('type').bulk('MODEL');
  out.bulk('backend').bulk(m.backend);
  out.bulk('device').bulk(Buffer.from(m.device, 'latin1'));
  out.bulk('tag').bulk(m.tag);
  out.bulk('duration').int(m.stats.duration);
  out.bulk('samples').int(m.stats.samples);
  out.bulk('calls').int(m.stats.calls);
  out.bulk('errors').int(m.stats.errors);
}

// ----------------------------------------------------------------------------------------------- AI.CONFIG

/** AI.CONFIG LOADBACKEND <backend> <path> | BACKENDSPATH <path> | MODEL_CHUNK_SIZE <n> | GET <name> */
function aiconfig(c: Client, argv: Buffer[]): void {
  if (argv.length < 2) wrongArity(argv);
  const rt = aiRuntime(c.server);
  switch (upper(argv[1])) {
    case 'LOADBACKEND': {
      if (argv.length < 4) wrongArity(argv);
      const b = upper(argv[2]);
      if (!(BACKENDS as readonly string[]).includes(b)) throw new CommandError(AiErr.unsupportedBackend);
      // backends are part of this build and load lazily in the workers: only the available ones "load"
      if (!backendAvailable(b)) throw new CommandError(AiErr.errorLoadingBackend);
      return void c.out.ok();
    }
    case 'BACKENDSPATH':
      if (argv.length < 3) throw new CommandError(AiErr.backendsPathMissing);
      rt.backendsPath = argv[2].toString('latin1');
      return void c.out.ok();
    case 'MODEL_CHUNK_SIZE': {
      if (argv.length < 3) throw new CommandError(AiErr.chunkSizeMissing);
      let n: number;
      try {
        n = parseInteger(argv[2]);
      } catch {
        throw new CommandError(AiErr.chunkSizeInvalid);
      }
      if (n <= 0) throw new CommandError(AiErr.chunkSizeInvalid);
      rt.modelChunkSize = n;
      return void c.out.ok();
    }
    case 'GET': {
      if (argv.length < 3) wrongArity(argv);
      const name = upper(argv[2]);
      if (name === 'BACKENDSPATH') return void c.out.bulk(rt.backendsPath);
      if (name === 'MODEL_CHUNK_SIZE') return void c.out.int(rt.modelChunkSize);
      // as RedisAI (spec §7): only these two; the other load-time settings answer nil here and are read with
      // CONFIG GET <name> (server parameters) or INFO ai
      return void c.out.null();
    }
    default:
      throw new CommandError(AiErr.unsupportedSubcommand);
  }
}

// arity -1: the handlers check argc themselves (RedisAI's texts); MODELEXECUTE is not 'no-multi': it is
// QUEUED and refuses to run at EXEC time, as RedisAI
export const modelCommands: CommandDef[] = [
  { name: 'ai.modelstore', arity: -1, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'ai', handler: modelstore },
  { name: 'ai.modelset', arity: -1, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'ai', handler: modelset },
  { name: 'ai.modelget', arity: -1, flags: ['readonly'], keys: [1, 1, 1], group: 'ai', handler: modelget },
  { name: 'ai.modeldel', arity: -1, flags: ['write'], keys: [1, 1, 1], group: 'ai', handler: modeldel },
  {
    name: 'ai.modelexecute',
    arity: -1,
    flags: ['write', 'denyoom'],
    keys: [4, 4, 1],
    getKeys: modelexecuteKeys,
    group: 'ai',
    handler: modelexecute,
  },
  {
    name: 'ai.modelrun',
    arity: -1,
    flags: ['write', 'denyoom'],
    keys: [3, 3, 1],
    getKeys: modelrunKeys,
    group: 'ai',
    handler: modelrun,
  },
  { name: 'ai._modelscan', arity: -1, flags: ['readonly'], group: 'ai', handler: modelscan },
  { name: 'ai.info', arity: -1, flags: ['readonly'], keys: [1, 1, 1], group: 'ai', handler: aiinfo },
  { name: 'ai.config', arity: -1, flags: ['write'], group: 'ai', handler: aiconfig },
];
