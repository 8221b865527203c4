// The backend interface: what a model runtime (ONNX today; TORCH, TF later) must offer. Backends live only
// inside worker threads (./worker.ts): their load and run calls may block the thread they run on, so the
// main thread never calls them. Tensors cross this interface as bytes (RedisAI's layout, src/ai/tensor.ts:
// row-major, little-endian, tightly packed; STRING = elements each followed by one NUL), never as per-element
// JS values, so that they move between threads by transferring one ArrayBuffer.

import type { DTypeName } from '../ai/tensor';

/** A tensor as bytes: the form that crosses thread boundaries. */
export interface BackendTensor {
  dtype: DTypeName;
  shape: number[];
  /** the elements in RedisAI's blob layout; the receiver owns the memory (it was transferred or copied) */
  data: Uint8Array;
}

export interface LoadOptions {
  /** the device as typed in MODELSTORE (CPU, cpu:1, GPU:0 ...) */
  device: string;
  /** INTRA_OP_PARALLELISM / INTER_OP_PARALLELISM; 0 = the backend's default */
  intraOpThreads?: number;
  interOpThreads?: number;
  /** TF only: the input and output node names given in MODELSTORE (INPUTS n ... OUTPUTS n ...) */
  inputs?: string[];
  outputs?: string[];
  /**
   * TORCH scripts only: the blob is TorchScript source (UTF-8) to compile, not a model. `entryPoints` are
   * checked for the `(tensors: List[Tensor], keys: List[str], args: List[str])` signature (null: SCRIPTSET,
   * none declared).
   */
  script?: { entryPoints: string[] | null };
}

/** How a script function is called (AI.SCRIPTEXECUTE / SCRIPTRUN): the run request's extra fields. */
export interface ScriptCall {
  fn: string;
  keys: string[];
  args: string[];
  /** deprecated SCRIPTRUN: index of the first input after `$` (the List[Tensor] tail), or -1 */
  variadic: number;
  /** OUTPUTS n: the tensors the function must return (0: whatever it returns is ignored) */
  outputs: number;
}

/** A loaded model: its handle plus the names read from it. */
export interface LoadedModel<H = unknown> {
  handle: H;
  inputs: string[];
  /** every output, tensor or not; run() answers one entry per name */
  outputs: string[];
}

/** A failure whose message is the reply text (newlines are turned into spaces by the caller). */
export class BackendError extends Error {}

export interface Backend<H = unknown> {
  /** RedisAI's backend name: ONNX, TORCH, TF, TFLITE */
  readonly name: string;
  /** the runtime library's version (INFO MODULES: ai_onnxruntime_version ...) */
  version(): string;
  /** Builds a model from its serialized bytes; throws BackendError with the runtime's message. */
  load(blob: Uint8Array, opts: LoadOptions): Promise<LoadedModel<H>>;
  /**
   * Runs a model on inputs given in the model's input order. Answers one entry per output name: a tensor, or
   * null for an output that is not a tensor (RedisAI skips those: the key is left unwritten).
   */
  run(model: LoadedModel<H>, inputs: BackendTensor[]): Promise<(BackendTensor | null)[]>;
  /** Frees the model's native resources. */
  dispose(model: LoadedModel<H>): Promise<void>;
  /**
   * Scripts (TORCH only): compiles source (`opts.script` set) and checks its entry points; `inputs` answers
   * nothing, `outputs` the entry points. Throws BackendError with the compiler's or the check's message.
   */
  loadScript?(source: Uint8Array, opts: LoadOptions): Promise<LoadedModel<H>>;
  /** Runs a script function; answers the `call.outputs` tensors it returned, flattened (count checked here). */
  runScript?(script: LoadedModel<H>, call: ScriptCall, inputs: BackendTensor[]): Promise<BackendTensor[]>;
}

// ------------------------------------------------------------------------- worker protocol (main <-> worker)

export type WorkerRequest =
  | { op: 'load'; id: number; modelId: number; backend: string; blob: Uint8Array; opts: LoadOptions }
  /** deadline: absolute Date.now() ms (0 = none); a run reached after it is answered `timedout`, not run */
  | { op: 'run'; id: number; modelId: number; inputs: BackendTensor[]; deadline?: number; call?: ScriptCall }
  | { op: 'unload'; modelId: number };

export type WorkerReply =
  | { id: number; ok: true; inputs: string[]; outputs: string[] }
  | { id: number; ok: true; outputs: (BackendTensor | null)[]; usec: number }
  | { id: number; ok: true; timedout: true }
  | { id: number; ok: false; error: string };
