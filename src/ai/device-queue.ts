// Device queues: one FIFO of model work per device string (upper-cased: CPU, CPU:1 and GPU:0 are separate
// queues that run in parallel), served by THREADS_PER_QUEUE backend worker threads (src/backends/worker.ts).
// Owns:
// - the queue order and auto-batching (requests of a model with BATCHSIZE merged along dim 0, held back while
//   below MINBATCHSIZE until MINBATCHTIMEOUT, outputs sliced back to each request);
// - TIMEOUT: checked when a worker takes a request, and again while it runs. A run still going at its deadline
//   is answered TIMEDOUT and its worker replaced: ORT runs cannot be interrupted from JS, and terminating a
//   thread inside one aborts the process, so the old worker finishes unobserved and is stopped once idle.
//   The ONNX kill switch (MODEL_EXECUTION_TIMEOUT) works the same way, with an error reply;
// - which worker has which model loaded (a worker gets a model's bytes lazily, before its first run there);
// - worker crashes: the request in flight fails, a fresh worker takes the dead one's place and reloads models
//   as they are used.
// It must never run or load a model on the main thread, and never convert tensors element by element: their
// bytes are copied once and transferred.

import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendError, type BackendTensor, type LoadOptions, type WorkerReply, type WorkerRequest } from '../backends/backend';

export const EXECUTION_KILLED = 'Exiting due to terminate flag being set to true.';
export const WORKER_DIED = 'ERR backend worker exited unexpectedly';

export interface DeviceQueueOptions {
  /** worker threads serving the queue (THREADS_PER_QUEUE) */
  threads?: number;
  /** a run taking longer than this is killed (its worker recycled); 0 = never (MODEL_EXECUTION_TIMEOUT) */
  killAfterMs?: number;
  /** makes a worker (tests); the default runs src/backends/worker.ts */
  spawn?: () => Worker;
}

export interface LoadResult {
  inputs: string[];
  outputs: string[];
}

export type RunResult = { status: 'ok'; outputs: (BackendTensor | null)[]; usec: number } | { status: 'timedout' };

interface ModelSource {
  backend: string;
  blob: Uint8Array;
  opts: LoadOptions;
}

/** A model's auto-batching settings (spec §5): BATCHSIZE, MINBATCHSIZE, MINBATCHTIMEOUT (ms). */
export interface BatchPolicy {
  size: number;
  min: number;
  minTimeout: number;
}

export type RunInput = { dtype: BackendTensor['dtype']; shape: number[]; data: Buffer };

interface RunJob {
  kind: 'run';
  modelId: number;
  inputs: RunInput[];
  /** absolute ms (Date.now) after which the request answers TIMEDOUT; 0 = none */
  deadline: number;
  enqueuedAt: number;
  batch?: BatchPolicy;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

type Job = { kind: 'load'; modelId: number; source: ModelSource; resolve: (r: LoadResult) => void; reject: (e: Error) => void } | RunJob;

export const BATCH_SIZE_MISMATCH = 'ERR Model did not generate the expected batch size';

/** dim 0 shared by all of a request's inputs, or -1 when it cannot be batched (scalars, STRING, disagreement). */
function batchDim(job: RunJob): number {
  let d = -1;
  for (const t of job.inputs) {
    if (t.shape.length === 0 || t.dtype === 'STRING') return -1;
    if (d === -1) d = t.shape[0];
    else if (t.shape[0] !== d) return -1;
  }
  return d;
}

/** Two requests can share a batch: same model, same input dtypes, ranks and dims 1..n. */
function compatible(a: RunJob, b: RunJob): boolean {
  if (a.modelId !== b.modelId || a.inputs.length !== b.inputs.length || batchDim(b) < 0) return false;
  for (let i = 0; i < a.inputs.length; i++) {
    const x = a.inputs[i];
    const y = b.inputs[i];
    if (x.dtype !== y.dtype || x.shape.length !== y.shape.length) return false;
    for (let k = 1; k < x.shape.length; k++) if (x.shape[k] !== y.shape[k]) return false;
  }
  return true;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  jobId: number;
  timer: NodeJS.Timeout | null;
  loaded: Set<number>;
  lastError: string;
  /** Date.now() when its current job started (busy time, INFO ai_cpu) */
  startedAt: number;
}

const DEFAULT_WORKER = path.join(__dirname, '..', 'backends', 'worker.js');

/** A copy of `b` in an ArrayBuffer of its own, ready to transfer. */
function transferable(b: Uint8Array): Uint8Array {
  return new Uint8Array(b); // one memcpy
}

export class DeviceQueue {
  private readonly jobs: Job[] = [];
  private readonly slots: Slot[] = [];
  private readonly models = new Map<number, ModelSource>();
  private readonly killAfterMs: number;
  private readonly spawnWorker: () => Worker;
  private nextId = 1;
  private closed = false;
  /** workers left to finish a run that was answered already (TIMEDOUT / killed); terminated once idle */
  private readonly abandoned = new Set<Worker>();
  /** workers that died or were recycled (INFO, tests) */
  restarts = 0;
  /** ms each worker position has spent on jobs (INFO ai_queue_<DEVICE>_bthread_n<i>_used_cpu_total) */
  private readonly busy: number[] = [];

  constructor(
    readonly device: string,
    opts: DeviceQueueOptions = {},
  ) {
    this.killAfterMs = opts.killAfterMs ?? 0;
    this.spawnWorker = opts.spawn ?? (() => new Worker(DEFAULT_WORKER));
    const n = Math.max(1, opts.threads ?? 1);
    for (let i = 0; i < n; i++) this.slots.push(this.newSlot());
  }

  get length(): number {
    return this.jobs.length;
  }

  /** worker threads serving this queue (THREADS_PER_QUEUE when it was made) */
  get threads(): number {
    return this.slots.length;
  }

  /** seconds each worker position has spent on loads and runs (a stand-in for its thread's CPU time) */
  busySeconds(): number[] {
    const now = Date.now();
    return this.slots.map((s, i) => ((this.busy[i] ?? 0) + (s.job ? now - s.startedAt : 0)) / 1000);
  }

  /** Adds a slot's finished (or abandoned) job time to its position's busy total. */
  private charge(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0 && slot.startedAt > 0) this.busy[i] = (this.busy[i] ?? 0) + (Date.now() - slot.startedAt);
    slot.startedAt = 0;
  }

  /** Builds a model in a worker; resolves with its input and output names, rejects with the backend's error. */
  load(modelId: number, backend: string, blob: Uint8Array, opts: LoadOptions): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.jobs.push({ kind: 'load', modelId, source: { backend, blob, opts }, resolve, reject });
      this.pump();
    });
  }

  /**
   * Runs a loaded model. The inputs are snapshots (immutable tensors); their bytes are copied when a worker
   * takes the request. `timeoutMs` (0 = none) counts from now.
   */
  run(modelId: number, inputs: RunInput[], timeoutMs = 0, batch?: BatchPolicy): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const now = Date.now();
      this.jobs.push({ kind: 'run', modelId, inputs, deadline: timeoutMs > 0 ? now + timeoutMs : 0, enqueuedAt: now, batch, resolve, reject });
      this.pump();
    });
  }

  /** Frees a model in every worker that has it. */
  unload(modelId: number): void {
    this.models.delete(modelId);
    for (const s of this.slots) {
      if (s.loaded.delete(modelId)) s.worker.postMessage({ op: 'unload', modelId } satisfies WorkerRequest);
    }
  }

  /** Stops the workers; queued requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    for (const j of this.jobs.splice(0)) j.reject(new BackendError(WORKER_DIED));
    for (const w of this.abandoned) w.removeAllListeners();
    this.abandoned.clear();
    await Promise.all(
      this.slots.map((s) => {
        s.worker.removeAllListeners();
        if (s.timer) clearTimeout(s.timer);
        if (s.job) s.job.reject(new BackendError(WORKER_DIED));
        return s.worker.terminate();
      }),
    );
  }

  // ------------------------------------------------------------------------------------------ internals

  private newSlot(): Slot {
    const worker = this.spawnWorker();
    worker.unref(); // the server's sockets keep the process alive, not its workers
    const slot: Slot = { worker, job: null, jobId: 0, timer: null, loaded: new Set(), lastError: '', startedAt: 0 };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (e) => (slot.lastError = String(e?.message ?? e)));
    worker.on('exit', () => this.onExit(slot));
    return slot;
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.take();
      if (!job) return;
      this.start(slot, job);
    }
  }

  /**
   * The next request a free worker should run, out of the queue: TIMEOUT is checked here (measured from
   * queueing); a request of a model with BATCHSIZE is merged with compatible ones queued after it (spec §5),
   * and a batch still below MINBATCHSIZE stays queued (until MINBATCHTIMEOUT, if any) while later work runs.
   */
  private take(): Job | undefined {
    const now = Date.now();
    let wake = 0;
    for (let i = 0; i < this.jobs.length; i++) {
      const job = this.jobs[i];
      if (job.kind === 'run' && job.deadline > 0 && now >= job.deadline) {
        this.jobs.splice(i--, 1);
        job.resolve({ status: 'timedout' });
        continue;
      }
      if (job.kind !== 'run' || !job.batch || job.batch.size <= 0 || batchDim(job) < 0) {
        this.jobs.splice(i, 1);
        return job;
      }
      const picked = [i];
      let total = batchDim(job);
      for (let j = i + 1; j < this.jobs.length && total < job.batch.size; j++) {
        const other = this.jobs[j];
        if (other.kind !== 'run' || !compatible(job, other) || (other.deadline > 0 && now >= other.deadline)) continue;
        picked.push(j);
        total += batchDim(other);
      }
      if (job.batch.min > 0 && total < job.batch.min) {
        const until = job.batch.minTimeout > 0 ? job.enqueuedAt + job.batch.minTimeout : 0;
        if (until === 0 || now < until) {
          // wait for more requests, for MINBATCHTIMEOUT, or for the first TIMEOUT among them
          for (const k of picked) {
            const d = (this.jobs[k] as RunJob).deadline;
            if (d > 0 && (wake === 0 || d < wake)) wake = d;
          }
          if (until > 0 && (wake === 0 || until < wake)) wake = until;
          continue;
        }
      }
      const group = picked.map((k) => this.jobs[k] as RunJob);
      for (let k = picked.length - 1; k >= 0; k--) this.jobs.splice(picked[k], 1);
      return group.length === 1 ? group[0] : this.merge(group, total);
    }
    if (wake > 0) this.wakeAt(wake);
    return undefined;
  }

  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeTime = 0;

  private wakeAt(at: number): void {
    if (this.wakeTimer && this.wakeTime <= at) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTime = at;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.pump();
    }, Math.max(0, at - Date.now()) + 1);
    this.wakeTimer.unref();
  }

  /** One run for several requests: inputs joined along dim 0, outputs sliced back to each request. */
  private merge(group: RunJob[], total: number): RunJob {
    const first = group[0];
    const inputs: RunInput[] = first.inputs.map((t, k) => ({
      dtype: t.dtype,
      shape: [total, ...t.shape.slice(1)],
      data: Buffer.concat(group.map((j) => j.inputs[k].data)),
    }));
    const fail = (e: Error) => group.forEach((j) => j.reject(e));
    return {
      kind: 'run',
      modelId: first.modelId,
      inputs,
      deadline: 0,
      enqueuedAt: first.enqueuedAt,
      reject: fail,
      resolve: (r) => {
        if (r.status !== 'ok') return group.forEach((j) => j.resolve(r));
        for (const o of r.outputs) {
          if (o && (o.shape.length === 0 || o.shape[0] !== total || o.dtype === 'STRING')) return fail(new BackendError(BATCH_SIZE_MISMATCH));
        }
        let row = 0;
        for (const j of group) {
          const n = batchDim(j);
          const outputs = r.outputs.map((o) => {
            if (!o) return null;
            const rowBytes = o.data.byteLength / total;
            return { dtype: o.dtype, shape: [n, ...o.shape.slice(1)], data: o.data.subarray(row * rowBytes, (row + n) * rowBytes) };
          });
          row += n;
          j.resolve({ status: 'ok', outputs, usec: r.usec });
        }
      },
    };
  }

  private start(slot: Slot, job: Job): void {
    const id = this.nextId++;
    slot.job = job;
    slot.jobId = id;
    slot.startedAt = Date.now();
    if (job.kind === 'load') {
      const blob = transferable(job.source.blob);
      const req: WorkerRequest = { op: 'load', id, modelId: job.modelId, backend: job.source.backend, blob, opts: job.source.opts };
      slot.worker.postMessage(req, [blob.buffer as ArrayBuffer]);
      return;
    }
    if (!slot.loaded.has(job.modelId)) {
      const source = this.models.get(job.modelId);
      if (!source) {
        slot.job = null;
        job.reject(new BackendError('ERR model is not loaded'));
        return this.pump();
      }
      // this worker has not seen the model yet (a fresh or another worker): give it the bytes first
      const blob = transferable(source.blob);
      const req: WorkerRequest = { op: 'load', id: 0, modelId: job.modelId, backend: source.backend, blob, opts: source.opts };
      slot.worker.postMessage(req, [blob.buffer as ArrayBuffer]);
      slot.loaded.add(job.modelId);
    }
    const inputs: BackendTensor[] = job.inputs.map((t) => ({ dtype: t.dtype, shape: t.shape, data: transferable(t.data) }));
    slot.worker.postMessage({ op: 'run', id, modelId: job.modelId, inputs } satisfies WorkerRequest, inputs.map((t) => t.data.buffer as ArrayBuffer));
    const now = Date.now();
    let limit = this.killAfterMs > 0 ? now + this.killAfterMs : 0;
    if (job.deadline > 0 && (limit === 0 || job.deadline < limit)) limit = job.deadline;
    if (limit > 0) slot.timer = setTimeout(() => this.overdue(slot, id), Math.max(0, limit - now));
  }

  /** A run still going at its deadline (TIMEDOUT) or past the kill switch (error): recycle its worker. */
  private overdue(slot: Slot, id: number): void {
    slot.timer = null;
    const job = slot.job;
    if (!job || slot.jobId !== id || job.kind !== 'run') return;
    slot.job = null;
    this.charge(slot);
    this.abandon(slot, id);
    if (job.deadline > 0 && Date.now() >= job.deadline) job.resolve({ status: 'timedout' });
    else job.reject(new BackendError(EXECUTION_KILLED));
    this.pump();
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (reply.id === 0 || reply.id !== slot.jobId || !slot.job) return; // a lazy load's answer, or stale
    const job = slot.job;
    slot.job = null;
    slot.jobId = 0;
    this.charge(slot);
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    if (!reply.ok) {
      if (job.kind === 'run' && /not loaded in its backend worker/.test(reply.error)) slot.loaded.delete(job.modelId);
      job.reject(new BackendError(reply.error));
    } else if (job.kind === 'load') {
      const r = reply as { inputs: string[]; outputs: string[] };
      this.models.set(job.modelId, job.source);
      slot.loaded.add(job.modelId);
      job.resolve({ inputs: r.inputs, outputs: r.outputs });
    } else {
      const r = reply as { outputs: (BackendTensor | null)[]; usec: number };
      job.resolve({ status: 'ok', outputs: r.outputs, usec: r.usec });
    }
    this.pump();
  }

  private onExit(slot: Slot): void {
    if (this.closed || !this.slots.includes(slot)) return;
    const job = slot.job;
    slot.job = null;
    this.charge(slot);
    if (slot.timer) clearTimeout(slot.timer);
    const why = slot.lastError;
    this.replace(slot);
    job?.reject(new BackendError(why ? `${WORKER_DIED}: ${why}` : WORKER_DIED));
    this.pump();
  }

  /**
   * Gives a slot a fresh worker while its old one is still inside a run. The old one cannot be stopped now:
   * terminating a thread in the middle of a native ORT call aborts the whole process when the call returns.
   * It is left to finish, its answer is dropped, and it is terminated once it is back to idle.
   */
  private abandon(slot: Slot, id: number): void {
    this.restarts++;
    const old = slot.worker;
    old.removeAllListeners();
    if (slot.timer) clearTimeout(slot.timer);
    this.abandoned.add(old);
    old.on('message', (reply: WorkerReply) => {
      if (reply.id === id) void old.terminate().catch(() => undefined);
    });
    old.on('error', () => undefined);
    old.on('exit', () => this.abandoned.delete(old));
    this.slots[this.slots.indexOf(slot)] = this.newSlot();
  }

  /** Swaps a dead worker's slot for a fresh one (models reload lazily on their next run there). */
  private replace(slot: Slot): void {
    this.restarts++;
    const i = this.slots.indexOf(slot);
    slot.worker.removeAllListeners();
    if (slot.timer) clearTimeout(slot.timer);
    void slot.worker.terminate().catch(() => undefined);
    this.slots[i] = this.newSlot();
  }
}
