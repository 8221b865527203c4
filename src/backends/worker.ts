// The backend worker thread: owns backend sessions (models loaded from their bytes) and answers load, run and
// unload messages from its device queue (src/ai/device-queue.ts), one at a time, in arrival order. Backend
// libraries are loaded here on first use, never on the main thread. Tensor bytes arrive and leave as
// transferred ArrayBuffers. A failure is answered as an error message; the thread itself never throws.

import * as os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { BACKEND_ENTRIES } from './registry';
import { BackendError, type Backend, type BackendTensor, type LoadedModel, type WorkerReply, type WorkerRequest } from './backend';

const COULD_NOT_LOAD_BACKEND = 'ERR Could not load backend';

const backends = new Map<string, Backend>();
const models = new Map<number, { backend: Backend; model: LoadedModel }>();

function backendFor(name: string): Backend {
  let b = backends.get(name);
  if (b) return b;
  try {
    b = BACKEND_ENTRIES[name]?.create();
  } catch {
    b = undefined;
  }
  if (!b) throw new BackendError(COULD_NOT_LOAD_BACKEND);
  backends.set(name, b);
  return b;
}

function message(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/[\r\n]+/g, ' ');
}

async function handle(req: WorkerRequest): Promise<void> {
  const port = parentPort!;
  switch (req.op) {
    case 'load': {
      let reply: WorkerReply;
      try {
        const backend = backendFor(req.backend);
        const old = models.get(req.modelId);
        if (old) await old.backend.dispose(old.model).catch(() => undefined);
        const model = await backend.load(req.blob, req.opts);
        models.set(req.modelId, { backend, model });
        reply = { id: req.id, ok: true, inputs: model.inputs, outputs: model.outputs };
      } catch (e) {
        reply = { id: req.id, ok: false, error: message(e) };
      }
      port.postMessage(reply);
      return;
    }
    case 'run': {
      if (req.deadline && Date.now() >= req.deadline) return port.postMessage({ id: req.id, ok: true, timedout: true } satisfies WorkerReply);
      let reply: WorkerReply;
      const transfer: ArrayBuffer[] = [];
      try {
        const m = models.get(req.modelId);
        if (!m) throw new BackendError('ERR model is not loaded in its backend worker');
        const t0 = process.hrtime.bigint();
        // a script function call (AI.SCRIPTEXECUTE) when `call` is set; `load` built the script (opts.script)
        const outputs: (BackendTensor | null)[] = req.call
          ? await (m.backend.runScript?.(m.model, req.call, req.inputs) ?? Promise.reject(new BackendError('ERR backend has no scripts')))
          : await m.backend.run(m.model, req.inputs);
        const usec = Math.max(1, Number((process.hrtime.bigint() - t0) / 1000n));
        for (const o of outputs) if (o) transfer.push(o.data.buffer as ArrayBuffer);
        reply = { id: req.id, ok: true, outputs, usec };
      } catch (e) {
        reply = { id: req.id, ok: false, error: message(e) };
        transfer.length = 0;
      }
      port.postMessage(reply, transfer);
      return;
    }
    case 'unload': {
      const m = models.get(req.modelId);
      models.delete(req.modelId);
      if (m) await m.backend.dispose(m.model).catch(() => undefined);
      return;
    }
  }
}

/**
 * Model work runs at a lower CPU priority than the event loop: on a machine with few cores a model load or run
 * otherwise takes the core the main thread needs to answer PING and reads promptly (the scheduler shares CPU
 * evenly, in slices of several ms). On Linux the nice value is per thread, so this touches only this worker
 * (and threads it starts later, such as a backend's own pool).
 */
function lowerPriority(): void {
  try {
    os.setPriority(0, WORKER_NICE);
  } catch {
    // not permitted (some containers): run at the normal priority
  }
}

const WORKER_NICE = 10;

if (parentPort) {
  lowerPriority();
  let chain: Promise<void> = Promise.resolve();
  parentPort.on('message', (req: WorkerRequest) => {
    chain = chain.then(() => handle(req));
  });
}
