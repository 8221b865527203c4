// Models: the value behind AI__MODEL keys, and the per-server AI runtime that holds the device queues and the
// AI settings (MODEL_CHUNK_SIZE ...). A model value keeps its blob (MODELGET BLOB, AOF/RDB later) and the id
// under which its device queue's workers hold the loaded session. The session is freed when the value is
// garbage-collected (deleted, overwritten, flushed, and no run still holds it), through a FinalizationRegistry:
// the keyspace needs no hook for it. This file never talks to a backend library.

import type { Server } from '../node/server';
import { backendAvailable } from '../backends/registry';
import { CommandError } from '../node/errors';
import { DeviceQueue, shareBytes } from './device-queue';
import { AiErr } from './errors';

/** The keyspace type name, as RedisAI's module type (TYPE answers it). */
export const MODEL_TYPE = 'AI__MODEL';

export const BACKENDS = ['TF', 'TFLITE', 'TORCH', 'ONNX'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface Model {
  /** the id its queue's workers know the loaded session by */
  id: number;
  backend: BackendName;
  /** as typed in MODELSTORE (MODELGET echoes it) */
  device: string;
  tag: Buffer;
  batchsize: number;
  minbatchsize: number;
  minbatchtimeout: number;
  inputs: string[];
  outputs: string[];
  /** the model bytes as uploaded (all BLOB chunks joined) */
  blob: Buffer;
  queue: DeviceQueue;
  /** AI.INFO counters (spec §6): per stored model, so a re-store starts from zero */
  stats: RunStats;
}

export interface RunStats {
  /** µs spent in successful runs */
  duration: number;
  /** dim 0 of output 0, summed over successful runs */
  samples: number;
  calls: number;
  errors: number;
}

/** What a model is built from: MODELSTORE's arguments, or a model record read back from disk. */
export interface ModelSpec {
  backend: BackendName;
  device: string;
  tag: Buffer;
  batchsize: number;
  minbatchsize: number;
  minbatchtimeout: number;
  /** TF only: the node names given in MODELSTORE (other backends read them from the model) */
  inputs?: string[];
  outputs?: string[];
  blob: Buffer;
}

/**
 * Loads a model in its device queue's worker and answers it, ready to be stored under a key (its session is
 * tied to the value's life). Throws when the backend is missing or refuses the blob (Error: the backend's
 * message; CommandError for our own texts).
 */
export async function buildModel(rt: AiRuntime, spec: ModelSpec): Promise<Model> {
  if (!backendAvailable(spec.backend)) throw new CommandError(AiErr.couldNotLoadBackend);
  const queue = rt.queue(spec.device);
  const id = rt.newModelId();
  // one copy of the bytes, in shared memory: MODELGET replies from it and every worker loads from it
  const blob = Buffer.from((await shareBytes(spec.blob)).buffer);
  const names = await queue.load(id, spec.backend, blob, {
    device: spec.device,
    intraOpThreads: rt.intraOpParallelism,
    interOpThreads: rt.interOpParallelism,
    inputs: spec.inputs,
    outputs: spec.outputs,
  });
  rt.loadedBackends.add(spec.backend);
  const stats = { duration: 0, samples: 0, calls: 0, errors: 0 };
  const model: Model = { id, ...spec, blob, inputs: names.inputs, outputs: names.outputs, queue, stats };
  rt.track(model);
  return model;
}

export interface ModelValue {
  type: typeof MODEL_TYPE;
  value: Model;
}

/** RedisAI's defaults (spec §7) */
export const DEFAULT_MODEL_CHUNK_SIZE = 511 * 1024 * 1024;
export const DEFAULT_MODEL_EXECUTION_TIMEOUT = 5000;

export class AiRuntime {
  readonly queues = new Map<string, DeviceQueue>();
  modelChunkSize = DEFAULT_MODEL_CHUNK_SIZE;
  backendsPath = 'backends';
  /** load-time settings (spec §7), read from the server's parameters (src/node/config.ts) */
  threadsPerQueue = 1;
  modelExecutionTimeout = DEFAULT_MODEL_EXECUTION_TIMEOUT;
  intraOpParallelism = 0;
  interOpParallelism = 0;
  /**
   * BACKEND_MEMORY_LIMIT (MB), per backend. onnxruntime-node offers no allocator cap (RedisAI wraps ORT's
   * allocator in C), so it is enforced at MODELSTORE on the accounted model sizes (src/node/memory.ts).
   */
  backendMemoryLimit = 0;
  /** backends that have loaded a model (INFO shows a backend's fields only from then on, as RedisAI) */
  readonly loadedBackends = new Set<BackendName>();
  private nextModelId = 1;
  private readonly sessions = new FinalizationRegistry<{ queue: DeviceQueue; id: number }>(({ queue, id }) => queue.unload(id));

  /** The queue for a device string, by its upper-cased form; created on first use. */
  queue(device: string): DeviceQueue {
    const name = device.toUpperCase();
    let q = this.queues.get(name);
    if (!q) {
      q = new DeviceQueue(name, { threads: this.threadsPerQueue, killAfterMs: this.modelExecutionTimeout });
      this.queues.set(name, q);
    }
    return q;
  }

  newModelId(): number {
    return this.nextModelId++;
  }

  /** Ties a loaded session's life to its model (held by its keyspace value and by runs in flight). */
  track(model: Model): void {
    this.sessions.register(model, { queue: model.queue, id: model.id });
  }
}

const runtimes = new WeakMap<Server, AiRuntime>();

export function aiRuntime(server: Server): AiRuntime {
  let r = runtimes.get(server);
  if (!r) {
    r = new AiRuntime();
    const cfg = server.config;
    r.threadsPerQueue = cfg.getInt('threads_per_queue');
    r.modelExecutionTimeout = cfg.getInt('model_execution_timeout');
    r.intraOpParallelism = cfg.getInt('intra_op_parallelism');
    r.interOpParallelism = cfg.getInt('inter_op_parallelism');
    r.backendMemoryLimit = cfg.getInt('backend_memory_limit');
    r.modelChunkSize = cfg.getInt('model_chunk_size');
    r.backendsPath = cfg.get('backendspath');
    runtimes.set(server, r);
  }
  return r;
}
