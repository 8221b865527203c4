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
// - pipelining: a worker is handed up to `pipeline` runs at a time, so that it starts the next one as soon as
//   it answers the last instead of idling for a round trip through the main thread (the hand-off between
//   threads costs about as much as a small model's run). Runs handed over but not started carry their
//   deadline: the worker answers TIMEDOUT itself when it reaches one too late. Loads are never pipelined;
// - worker crashes: the request in flight fails, a fresh worker takes the dead one's place and reloads models
//   as they are used.
// It must never run or load a model on the main thread, and never convert tensors element by element: their
// bytes are copied once and transferred.

import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BackendError, type BackendTensor, type LoadOptions, type ScriptCall, type WorkerReply, type WorkerRequest } from '../backends/backend';
import { answerScriptCommand, isScriptCommand, type ScriptCommandHandler } from './script-bridge';

export const EXECUTION_KILLED = 'Exiting due to terminate flag being set to true.';
export const WORKER_DIED = 'ERR backend worker exited unexpectedly';

export interface DeviceQueueOptions {
  /** worker threads serving the queue (THREADS_PER_QUEUE) */
  threads?: number;
  /**
   * a run taking longer than this is killed (its worker recycled); 0 = never (MODEL_EXECUTION_TIMEOUT). As in
   * RedisAI it is onnxruntime's kill switch: TORCH and TF runs (and scripts) are not subject to it.
   */
  killAfterMs?: number;
  /** makes a worker (tests); the default runs src/backends/worker.ts */
  spawn?: () => Worker;
  /** runs handed to one worker at a time (default 2; 1 = hand over the next only when it answered) */
  pipeline?: number;
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
  /** a script function call (runScript): `modelId` is then the script's id */
  call?: ScriptCall;
  /** runs the Redis commands the script calls (redis.execute) on the main thread */
  onCommand?: ScriptCommandHandler;
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

interface InFlight {
  job: Job;
  id: number;
}

interface Slot {
  worker: Worker;
  /** jobs handed to the worker, in the order it runs them: the first is running */
  inflight: InFlight[];
  /** the running job's deadline / kill switch */
  timer: NodeJS.Timeout | null;
  loaded: Set<number>;
  lastError: string;
  /** Date.now() when its running job started (busy time, INFO ai_cpu) */
  startedAt: number;
}

const NO_KILL_SWITCH = new Set(['TORCH', 'TF']);

const DEFAULT_WORKER = path.join(__dirname, '..', 'backends', 'worker.js');

/** A copy of `b` in an ArrayBuffer of its own, ready to transfer. */
function transferable(b: Uint8Array): Uint8Array {
  return new Uint8Array(b); // one memcpy
}

const SHARE_SLICE = 1 << 20;

/**
 * A copy of `b` in shared memory, made 1 MB per event-loop turn: model bytes are handed to every worker that
 * loads the model without copying them again, and copying a 25 MB model in one go would stall the event loop
 * for several ms.
 */
export async function shareBytes(b: Uint8Array): Promise<Uint8Array> {
  const out = new Uint8Array(new SharedArrayBuffer(b.byteLength));
  for (let off = 0; off < b.byteLength; off += SHARE_SLICE) {
    if (off > 0) await new Promise<void>((r) => setImmediate(r));
    out.set(b.subarray(off, Math.min(b.byteLength, off + SHARE_SLICE)), off);
  }
  return out;
}

/** Bytes to post to a worker: shared memory as it is; otherwise a copy, transferred. */
function postable(b: Uint8Array): [Uint8Array, ArrayBuffer[]] {
  if (b.buffer instanceof SharedArrayBuffer) return [b, []];
  const copy = transferable(b);
  return [copy, [copy.buffer as ArrayBuffer]];
}

export class DeviceQueue {
  private readonly jobs: Job[] = [];
  private readonly slots: Slot[] = [];
  private readonly models = new Map<number, ModelSource>();
  private readonly killAfterMs: number;
  private readonly spawnWorker: () => Worker;
  private readonly pipeline: number;
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
    this.pipeline = Math.max(1, opts.pipeline ?? 2);
    const n = Math.max(1, opts.threads ?? 1);
    for (let i = 0; i < n; i++) this.slots.push(this.newSlot());
  }

  /** requests waiting: queued here, or handed to a worker (pipelined) behind the one it runs */
  get length(): number {
    let n = this.jobs.length;
    for (const s of this.slots) if (s.inflight.length > 1) n += s.inflight.length - 1;
    return n;
  }

  /** worker threads serving this queue (THREADS_PER_QUEUE when it was made) */
  get threads(): number {
    return this.slots.length;
  }

  /** seconds each worker position has spent on loads and runs (a stand-in for its thread's CPU time) */
  busySeconds(): number[] {
    const now = Date.now();
    return this.slots.map((s, i) => ((this.busy[i] ?? 0) + (s.startedAt > 0 ? now - s.startedAt : 0)) / 1000);
  }

  /** Adds a slot's finished (or abandoned) job time to its position's busy total. */
  private charge(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0 && slot.startedAt > 0) this.busy[i] = (this.busy[i] ?? 0) + (Date.now() - slot.startedAt);
    slot.startedAt = 0;
  }

  /** Puts jobs a worker was handed but never started back at the head of the queue, in their order. */
  private requeue(rest: InFlight[]): void {
    this.jobs.unshift(...rest.map((f) => f.job));
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

  /**
   * Runs a function of a script loaded with load(id, 'TORCH', source, { ...opts, script }): as run(), never
   * batched; the outputs are the tensors the function returned (`call.outputs` of them).
   */
  runScript(scriptId: number, call: ScriptCall, inputs: RunInput[], timeoutMs = 0, onCommand?: ScriptCommandHandler): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const now = Date.now();
      this.jobs.push({ kind: 'run', modelId: scriptId, inputs, deadline: timeoutMs > 0 ? now + timeoutMs : 0, enqueuedAt: now, call, onCommand, resolve, reject });
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
        for (const f of s.inflight.splice(0)) f.job.reject(new BackendError(WORKER_DIED));
        return s.worker.terminate();
      }),
    );
  }

  // ------------------------------------------------------------------------------------------ internals

  private newSlot(): Slot {
    const worker = this.spawnWorker();
    worker.unref(); // the server's sockets keep the process alive, not its workers
    const slot: Slot = { worker, inflight: [], timer: null, loaded: new Set(), lastError: '', startedAt: 0 };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (e) => (slot.lastError = String(e?.message ?? e)));
    worker.on('exit', () => this.onExit(slot));
    return slot;
  }

  /** Hands queued work to workers: the least busy first; a load only to an idle worker, nothing behind one. */
  private pump(): void {
    if (this.closed) return;
    for (;;) {
      let best: Slot | null = null;
      for (const s of this.slots) {
        const n = s.inflight.length;
        if (n >= this.pipeline || (n > 0 && s.inflight[0].job.kind === 'load')) continue;
        if (!best || n < best.inflight.length) best = s;
      }
      if (!best) return;
      const job = this.take();
      if (!job) return;
      if (job.kind === 'load' && best.inflight.length > 0) {
        this.jobs.unshift(job); // waits for an idle worker
        return;
      }
      this.start(best, job);
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
    if (job.kind === 'load') {
      slot.inflight.push({ job, id });
      this.arm(slot);
      const [blob, transfer] = postable(job.source.blob);
      const req: WorkerRequest = { op: 'load', id, modelId: job.modelId, backend: job.source.backend, blob, opts: job.source.opts };
      slot.worker.postMessage(req, transfer);
      return;
    }
    if (!slot.loaded.has(job.modelId)) {
      const source = this.models.get(job.modelId);
      if (!source) return job.reject(new BackendError('ERR model is not loaded'));
      // this worker has not seen the model yet (a fresh or another worker): give it the bytes first
      const [blob, transfer] = postable(source.blob);
      const req: WorkerRequest = { op: 'load', id: 0, modelId: job.modelId, backend: source.backend, blob, opts: source.opts };
      slot.worker.postMessage(req, transfer);
      slot.loaded.add(job.modelId);
    }
    const inputs: BackendTensor[] = job.inputs.map((t) => ({ dtype: t.dtype, shape: t.shape, data: transferable(t.data) }));
    slot.inflight.push({ job, id });
    if (slot.inflight.length === 1) this.arm(slot);
    slot.worker.postMessage(
      { op: 'run', id, modelId: job.modelId, inputs, deadline: job.deadline, call: job.call } satisfies WorkerRequest,
      inputs.map((t) => t.data.buffer as ArrayBuffer),
    );
  }

  /**
   * Starts the clock of the slot's running job (the first in flight): its TIMEOUT deadline, or the kill
   * switch counted from now (the worker started it about when it answered the one before).
   */
  private arm(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const head = slot.inflight[0];
    if (!head) return;
    const now = Date.now();
    slot.startedAt = now;
    if (head.job.kind !== 'run') return;
    const backend = this.models.get(head.job.modelId)?.backend ?? '';
    const killable = this.killAfterMs > 0 && !NO_KILL_SWITCH.has(backend);
    let limit = killable ? now + this.killAfterMs : 0;
    if (head.job.deadline > 0 && (limit === 0 || head.job.deadline < limit)) limit = head.job.deadline;
    const id = head.id;
    // a pipelined run reached after its deadline is answered TIMEDOUT by the worker itself, which is cheaper
    // than recycling it: give that answer a moment to arrive
    if (limit > 0) slot.timer = setTimeout(() => this.overdue(slot, id), Math.max(10, limit - now));
  }

  /** A run still going at its deadline (TIMEDOUT) or past the kill switch (error): recycle its worker. */
  private overdue(slot: Slot, id: number): void {
    slot.timer = null;
    const head = slot.inflight[0];
    if (!head || head.id !== id || head.job.kind !== 'run') return;
    const job = head.job;
    const rest = slot.inflight.splice(0).slice(1);
    this.charge(slot);
    this.abandon(slot, id);
    this.requeue(rest);
    if (job.deadline > 0 && Date.now() >= job.deadline) job.resolve({ status: 'timedout' });
    else job.reject(new BackendError(EXECUTION_KILLED));
    this.pump();
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const head = slot.inflight[0];
    // redis.execute from the script this worker is running (src/ai/script-bridge.ts)
    if (isScriptCommand(reply)) return answerScriptCommand(slot.worker, reply, head?.job.kind === 'run' ? head.job.onCommand : undefined);
    if (reply.id === 0 || !head || reply.id !== head.id) return; // a lazy load's answer, or stale
    const job = head.job;
    slot.inflight.shift();
    this.charge(slot);
    this.arm(slot);
    if (!reply.ok) {
      if (job.kind === 'run' && /not loaded in its backend worker/.test(reply.error)) slot.loaded.delete(job.modelId);
      job.reject(new BackendError(reply.error));
    } else if (job.kind === 'load') {
      const r = reply as { inputs: string[]; outputs: string[] };
      this.models.set(job.modelId, job.source);
      slot.loaded.add(job.modelId);
      job.resolve({ inputs: r.inputs, outputs: r.outputs });
    } else if ('timedout' in reply) {
      job.resolve({ status: 'timedout' }); // its deadline had passed when the worker reached it
    } else {
      const r = reply as { outputs: (BackendTensor | null)[]; usec: number };
      job.resolve({ status: 'ok', outputs: r.outputs, usec: r.usec });
    }
    this.pump();
  }

  private onExit(slot: Slot): void {
    if (this.closed || !this.slots.includes(slot)) return;
    const [head, ...rest] = slot.inflight.splice(0);
    this.charge(slot);
    if (slot.timer) clearTimeout(slot.timer);
    const why = slot.lastError;
    this.replace(slot);
    this.requeue(rest);
    head?.job.reject(new BackendError(why ? `${WORKER_DIED}: ${why}` : WORKER_DIED));
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
