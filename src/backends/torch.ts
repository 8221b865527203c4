// The TORCH backend: TorchScript models and scripts through the project's own N-API addon over Debian's
// libtorch (native/torch, built by scripts/build-torch-addon.js at npm install). Runs only inside backend
// worker threads (./worker.ts): the addon's calls are synchronous and block the thread they run on, which is
// what a worker is for; libtorch (~0.5 s and ~140 MB to load) is never loaded on the main thread.
// Owns RedisAI's TORCH rules: model inputs are forward()'s parameters (names from its schema), outputs one per
// element of a returned tuple (named ""), UINT16 and STRING tensors are refused (libtorch has no such dtypes);
// scripts are compiled eagerly and each entry point must have the signature
// `(tensors: List[Tensor], keys: List[str], args: List[str])`. GPU devices are refused (Debian's libtorch is
// CPU-only). `redis.execute(cmd, args...)` in a script blocks its worker thread while the main thread runs the
// command against the keyspace (see runOnMainThread and src/ai/script-bridge.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, parentPort, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { BackendError, type Backend, type BackendTensor, type LoadedModel, type LoadOptions, type ScriptCall } from './backend';
import { checkTorchArchive } from './torch-archive';

/** Where the build puts the addon (the same from src/backends and dist/backends). */
export const TORCH_ADDON_PATH = path.resolve(__dirname, '..', '..', 'native', 'torch', 'build', 'Release', 'inferdb_torch.node');

export function torchAddonBuilt(): boolean {
  return fs.existsSync(TORCH_ADDON_PATH);
}

export const TORCH_GPU_NOT_AVAILABLE = "ERR GPU requested but Torch couldn't find CUDA";

type Handle = { readonly __brand: 'torch handle' };

/** The addon's surface (native/torch/torch_addon.cc). */
export interface TorchAddon {
  version(): string;
  setThreads(intra: number, inter: number): void;
  loadModule(bytes: Uint8Array): { handle: Handle; inputs: string[]; inputTypes: string[]; outputs: number };
  runModule(handle: Handle, inputs: BackendTensor[]): (BackendTensor | null)[];
  compileScript(source: string): Handle;
  scriptFunction(handle: Handle, name: string): string[] | null;
  runScript(
    handle: Handle,
    fn: string,
    inputs: BackendTensor[],
    keys: string[],
    args: string[],
    variadic: number,
    runCommand?: (req: ScriptCommand) => ScriptCommandReply | BackendTensor[],
  ): BackendTensor[] | null;
}

/** A Redis reply as redis.execute() hands it to TorchScript (an error becomes a TorchScript exception). */
export type ScriptCommandReply = null | number | bigint | string | ScriptCommandReply[] | { error: string };

/** redisAI.model_execute(key, tensors, n) in a script. */
export interface ScriptModelCall {
  model: string;
  inputs: BackendTensor[];
  outputs: number;
}

/** What a script asks the main thread for: a Redis command (redis.execute) or a model run. */
export type ScriptCommand = string[] | ScriptModelCall;

/**
 * The worker's message asking the main thread to run a command for the script it is running
 * (src/ai/script-bridge.ts answers it). The first one carries the reply port and the wake-up flag.
 */
export interface ScriptCommandRequest {
  scriptCommand: ScriptCommand;
  port?: MessagePort;
  flag?: SharedArrayBuffer;
}

/** How long a script's redis.execute waits for the main thread before giving up (the run's TIMEOUT still applies). */
const COMMAND_WAIT_MS = 60_000;
let bridge: { port: MessagePort; flag: Int32Array } | null = null;

/**
 * redis.execute inside a script: sends the command to the main thread and blocks this worker thread
 * (Atomics.wait) until the reply is on the bridge port. The main thread's event loop is never blocked.
 */
function runOnMainThread(argv: ScriptCommand): ScriptCommandReply | BackendTensor[] {
  const port = parentPort;
  if (!port) return { error: 'ERR redis.execute needs a backend worker thread' };
  if (!bridge) {
    const ch = new MessageChannel();
    const sab = new SharedArrayBuffer(4);
    bridge = { port: ch.port1, flag: new Int32Array(sab) };
    port.postMessage({ scriptCommand: argv, port: ch.port2, flag: sab } satisfies ScriptCommandRequest, [ch.port2]);
  } else {
    port.postMessage({ scriptCommand: argv } satisfies ScriptCommandRequest);
  }
  const until = Date.now() + COMMAND_WAIT_MS;
  for (;;) {
    const m = receiveMessageOnPort(bridge.port);
    if (m) return (m.message as { reply: ScriptCommandReply | BackendTensor[] }).reply;
    const left = until - Date.now();
    if (left <= 0) return { error: 'ERR timed out waiting for the main thread' };
    Atomics.wait(bridge.flag, 0, 0, left);
    Atomics.store(bridge.flag, 0, 0);
  }
}

export function loadTorchAddon(): TorchAddon {
  return require(TORCH_ADDON_PATH) as TorchAddon;
}

interface TorchHandle {
  kind: 'module' | 'script';
  native: Handle;
}

const ENTRY_SIGNATURE = ['List[Tensor]', 'List[str]', 'List[str]'];

function errorText(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .replace(/[\r\n]+/g, ' ')
    .trim();
}

/**
 * The source to compile: a C string in RedisAI, so it ends at the first NUL; a final newline is added when
 * missing (libtorch's lexer refuses an indented block that ends the source without one).
 */
function sourceText(b: Uint8Array): string {
  const z = b.indexOf(0);
  const text = Buffer.from(b.buffer, b.byteOffset, z < 0 ? b.byteLength : z).toString('utf8');
  return text.endsWith('\n') ? text : text + '\n';
}

function checkTensor(t: BackendTensor): void {
  if (t.dtype === 'STRING' || t.dtype === 'UINT16') throw new BackendError(`ERR unsupported tensor type for the TORCH backend: ${t.dtype}`);
}

export class TorchBackend implements Backend<TorchHandle> {
  readonly name = 'TORCH';
  private readonly addon: TorchAddon;
  private threadsSet = false;

  constructor() {
    // loaded here, inside the worker
    this.addon = loadTorchAddon();
  }

  version(): string {
    return this.addon.version();
  }

  private prepare(opts: LoadOptions): void {
    if (/^gpu/i.test(opts.device)) throw new BackendError(TORCH_GPU_NOT_AVAILABLE);
    if (!this.threadsSet) {
      // per worker thread (OpenMP's thread count is per calling thread)
      this.addon.setThreads(opts.intraOpThreads ?? 0, opts.interOpThreads ?? 0);
      this.threadsSet = true;
    }
  }

  async load(blob: Uint8Array, opts: LoadOptions): Promise<LoadedModel<TorchHandle>> {
    if (opts.script) return this.loadScript(blob, opts);
    this.prepare(opts);
    // libtorch does not check record CRCs, and a damaged record can corrupt its heap (torch-archive.ts)
    const damaged = checkTorchArchive(blob);
    if (damaged) throw new BackendError(`PytorchStreamReader failed reading zip archive: ${damaged}`);
    let m: ReturnType<TorchAddon['loadModule']>;
    try {
      m = this.addon.loadModule(blob);
    } catch (e) {
      throw new BackendError(errorText(e));
    }
    return { handle: { kind: 'module', native: m.handle }, inputs: m.inputs, outputs: new Array<string>(m.outputs).fill('') };
  }

  async run(model: LoadedModel<TorchHandle>, inputs: BackendTensor[]): Promise<(BackendTensor | null)[]> {
    if (model.handle.kind !== 'module') throw new BackendError('ERR not a TORCH model');
    inputs.forEach(checkTensor);
    let outs: (BackendTensor | null)[];
    try {
      outs = this.addon.runModule(model.handle.native, inputs);
    } catch (e) {
      throw new BackendError(errorText(e));
    }
    // one entry per declared output (a model returning fewer leaves the rest unwritten)
    return model.outputs.map((_, i) => outs[i] ?? null);
  }

  async dispose(_model: LoadedModel<TorchHandle>): Promise<void> {
    // the native module / compilation unit is freed with its handle (an N-API external) once unreferenced
  }

  async loadScript(source: Uint8Array, opts: LoadOptions): Promise<LoadedModel<TorchHandle>> {
    this.prepare(opts);
    let native: Handle;
    try {
      native = this.addon.compileScript(sourceText(source));
    } catch (e) {
      throw new BackendError(errorText(e));
    }
    const entryPoints = opts.script?.entryPoints ?? [];
    for (const fn of entryPoints) {
      const types = this.addon.scriptFunction(native, fn);
      if (types === null) throw new BackendError(`Function ${fn} does not exist in the given script.`);
      if (types.length !== 3) throw new BackendError(`Wrong number of inputs in function ${fn}. Expected 3 but was ${types.length}`);
      if (types.some((t, i) => t !== ENTRY_SIGNATURE[i])) {
        throw new BackendError(
          `Wrong inputs type in function ${fn}. Expected signature similar to: def ${fn}(tensors: List[Tensor], keys: List[str], args: List[str])`,
        );
      }
    }
    return { handle: { kind: 'script', native }, inputs: [], outputs: [...entryPoints] };
  }

  async runScript(script: LoadedModel<TorchHandle>, call: ScriptCall, inputs: BackendTensor[]): Promise<BackendTensor[]> {
    if (script.handle.kind !== 'script') throw new BackendError('ERR not a TORCH script');
    inputs.forEach(checkTensor);
    let outs: BackendTensor[] | null;
    try {
      outs = this.addon.runScript(script.handle.native, call.fn, inputs, call.keys, call.args, call.variadic, runOnMainThread);
    } catch (e) {
      throw new BackendError(errorText(e));
    }
    if (call.outputs === 0) return [];
    if (outs === null) throw new BackendError(`Function returned non-tensor values${call.fn}`);
    if (outs.length !== call.outputs) throw new BackendError(`Function returned unexpected number of outputs - ${call.fn}`);
    return outs;
  }
}
