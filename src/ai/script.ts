// Scripts: the value behind AI_SCRIPT keys (TorchScript source compiled by the TORCH backend), and the two
// operations on them that do not touch the keyspace, for the commands (./commands/script-commands.ts), the
// DAG engine and persistence:
//
//   buildScript(rt, spec): Promise<Script>
//     compiles `spec.source` in the device queue's worker (libtorch, off the main thread), checks every entry
//     point's signature `(tensors: List[Tensor], keys: List[str], args: List[str])`, and answers the value to
//     store. Throws CommandError(`ERR Could not load backend`) without the TORCH addon, else an Error whose
//     message is the reply text (compile error, `Function <fn> does not exist in the given script.` ...).
//
//   executeScript(script, fn, inputs, keys, args, timeoutMs, opts?): Promise<ScriptResult>
//     runs `fn` on input tensors in the script's device queue and answers { status: 'ok', outputs: Tensor[] }
//     (exactly `opts.outputs` tensors, its return value flattened; none, and the return value ignored, when
//     `opts.outputs` is 0 or absent) or { status: 'timedout' } past `timeoutMs` (0 = none). Run-time errors reject with the reply text
//     (`Function does not exist: <fn>`, libtorch's message, `Function returned unexpected number of outputs -
//     <fn>` ...). Updates the script's AI.INFO counters as RedisAI (calls, errors, duration; samples stay -1).
//     `opts.onCommand` runs the commands the script calls with redis.execute (script-commands.ts's
//     scriptCommandRunner(client) makes one that runs them as that client's db would); without it they fail.
//
//   runModelForScript(rt, model, inputs): Promise<BackendTensor[]>
//     redisAI.model_execute inside a script: runs a stored model in a device queue of its own (the script's
//     worker is blocked meanwhile, so its own queue could wait on itself).
//
// Like models, a script's compiled form lives in its queue's workers under an id and is freed when the value is
// garbage-collected. This file never talks to a backend library.

import { backendAvailable } from '../backends/registry';
import type { BackendTensor } from '../backends/backend';
import { CommandError } from '../node/errors';
import { DeviceQueue, type RunInput } from './device-queue';
import type { ScriptCommandHandler } from './script-bridge';
import { AiErr } from './errors';
import type { AiRuntime, Model, RunStats } from './model';
import { DTYPES, tensorFromBlob, tensorLength, zeroTensor, type Tensor } from './tensor';

/** The keyspace type name, as RedisAI's module type (TYPE answers it). */
export const SCRIPT_TYPE = 'AI_SCRIPT';

export interface Script {
  /** the id its queue's workers know the compiled script by (shared numbering with models) */
  id: number;
  /** as typed in SCRIPTSTORE (SCRIPTGET echoes it) */
  device: string;
  tag: Buffer;
  /** the source as stored (cut at its first NUL, as RedisAI keeps a C string) */
  source: Buffer;
  /** ENTRY_POINTS; null for a script made by the deprecated SCRIPTSET (none declared) */
  entryPoints: string[] | null;
  queue: DeviceQueue;
  /** AI.INFO counters (samples is always -1 for scripts) */
  stats: RunStats;
}

export interface ScriptValue {
  type: typeof SCRIPT_TYPE;
  value: Script;
}

/** What a script is built from: SCRIPTSTORE's / SCRIPTSET's arguments or a record read back from disk. */
export interface ScriptSpec {
  device: string;
  tag: Buffer;
  source: Buffer;
  entryPoints: string[] | null;
}

export type ScriptResult = { status: 'ok'; outputs: Tensor[] } | { status: 'timedout' };

export interface ScriptRunOptions {
  /** OUTPUTS n: how many tensors the function must return (0 / absent: its return value is ignored) */
  outputs?: number;
  /** deprecated SCRIPTRUN: index of the first input after `$`, or -1 */
  variadic?: number;
  /** runs the commands the script calls with redis.execute (absent: they fail with an error) */
  onCommand?: ScriptCommandHandler;
}

const unloader = new FinalizationRegistry<{ queue: DeviceQueue; id: number }>(({ queue, id }) => queue.unload(id));

/** The source up to its first NUL. */
export function scriptSource(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z < 0 ? b : b.subarray(0, z);
}

/** Compiles a script in its device queue's worker; answers the value to store (see the top of the file). */
export async function buildScript(rt: AiRuntime, spec: ScriptSpec): Promise<Script> {
  if (!backendAvailable('TORCH')) throw new CommandError(AiErr.couldNotLoadBackend);
  const queue = rt.queue(spec.device);
  const id = rt.newModelId();
  const source = Buffer.from(scriptSource(spec.source));
  await queue.load(id, 'TORCH', source, {
    device: spec.device,
    intraOpThreads: rt.intraOpParallelism,
    interOpThreads: rt.interOpParallelism,
    script: { entryPoints: spec.entryPoints },
  });
  rt.loadedBackends.add('TORCH');
  const script: Script = {
    id,
    device: spec.device,
    tag: spec.tag,
    source,
    entryPoints: spec.entryPoints,
    queue,
    stats: { duration: 0, samples: -1, calls: 0, errors: 0 },
  };
  unloader.register(script, { queue, id });
  return script;
}

/** A backend output (bytes handed over by the worker) as a tensor, without copying. */
function outputTensor(o: BackendTensor): Tensor {
  const data = Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength);
  if (o.dtype !== 'STRING') return { dtype: o.dtype, shape: o.shape, data };
  if (tensorLength(o.shape) === 0) return zeroTensor(DTYPES.STRING, o.shape);
  return tensorFromBlob(DTYPES.STRING, o.shape, data);
}

/** Runs a script function on tensors, off the main thread; no keyspace access (see the top of the file). */
export async function executeScript(
  script: Script,
  fn: string,
  inputs: Tensor[],
  keys: string[],
  args: string[],
  timeoutMs: number,
  opts: ScriptRunOptions = {},
): Promise<ScriptResult> {
  const call = { fn, keys, args, variadic: opts.variadic ?? -1, outputs: opts.outputs ?? 0 };
  let r;
  try {
    r = await script.queue.runScript(script.id, call, inputs, timeoutMs, opts.onCommand);
  } catch (e) {
    script.stats.calls++;
    script.stats.errors++;
    throw e;
  }
  if (r.status === 'timedout') return r;
  script.stats.calls++;
  script.stats.duration += r.usec;
  return { status: 'ok', outputs: r.outputs.filter((o): o is BackendTensor => o !== null).map(outputTensor) };
}

// ------------------------------------------------------------------------- redisAI.model_execute in scripts

/**
 * Queues of their own for models run from inside scripts (one per device, one worker each, not listed in INFO):
 * the script's own worker is blocked while the model runs, so running it on the script's queue could wait on
 * itself. Each model is loaded there on first use and freed with its value.
 */
const nestedQueues = new WeakMap<AiRuntime, Map<string, { queue: DeviceQueue; loads: Map<number, Promise<unknown>> }>>();
const nestedUnloader = new FinalizationRegistry<{ queue: DeviceQueue; id: number }>(({ queue, id }) => queue.unload(id));

/** Runs a stored model for a script (redisAI.model_execute); answers its tensor outputs. */
export async function runModelForScript(rt: AiRuntime, model: Model, inputs: BackendTensor[]): Promise<BackendTensor[]> {
  if (inputs.length !== model.inputs.length) throw new CommandError(AiErr.inputsModelMismatch);
  let byDevice = nestedQueues.get(rt);
  if (!byDevice) nestedQueues.set(rt, (byDevice = new Map()));
  const name = model.device.toUpperCase();
  let nested = byDevice.get(name);
  if (!nested) {
    nested = { queue: new DeviceQueue(name, { threads: 1, killAfterMs: rt.modelExecutionTimeout }), loads: new Map() };
    byDevice.set(name, nested);
  }
  let load = nested.loads.get(model.id);
  if (!load) {
    const names = model.backend === 'TF' ? { inputs: model.inputs, outputs: model.outputs } : {};
    load = nested.queue.load(model.id, model.backend, model.blob, {
      device: model.device,
      intraOpThreads: rt.intraOpParallelism,
      interOpThreads: rt.interOpParallelism,
      ...names,
    });
    nested.loads.set(model.id, load);
    const loads = nested.loads;
    load.catch(() => loads.delete(model.id));
    nestedUnloader.register(model, { queue: nested.queue, id: model.id });
  }
  await load;
  const runInputs: RunInput[] = inputs.map((t) => ({ dtype: t.dtype, shape: t.shape, data: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }));
  const r = await nested.queue.run(model.id, runInputs);
  if (r.status !== 'ok') return [];
  return r.outputs.filter((o): o is BackendTensor => o !== null);
}
