// The ONNX backend on onnxruntime-node. Runs only inside a backend worker thread (./worker.ts):
// InferenceSession.create() and run() block the thread they are called on. Owns the mapping between RedisAI's
// tensor layout and ORT tensors (FLOAT<->float32 ... INT64<->BigInt64Array, BOOL<->bool over bytes,
// STRING<->string[]) and RedisAI's rules: non-tensor outputs (ONNX-ML ZipMap's seq<map>) are not requested and
// come back as null; a GPU device is refused, since no CUDA execution provider can be installed here.

import type * as OrtModule from 'onnxruntime-node';
import type { DTypeName } from '../ai/tensor';
import { BackendError, type Backend, type BackendTensor, type LoadedModel, type LoadOptions } from './backend';

type Ort = typeof OrtModule;
type Session = OrtModule.InferenceSession;

interface OnnxHandle {
  session: Session;
  /** the tensor outputs' names, the only ones requested from run() */
  tensorOutputs: string[];
}

/** RedisAI dtype -> ORT tensor type and the typed array over its bytes (STRING and BOOL handled apart). */
const TO_ORT: Record<DTypeName, OrtModule.Tensor.Type> = {
  FLOAT: 'float32',
  DOUBLE: 'float64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  UINT8: 'uint8',
  UINT16: 'uint16',
  BOOL: 'bool',
  STRING: 'string',
};
const FROM_ORT: Partial<Record<string, DTypeName>> = Object.fromEntries(Object.entries(TO_ORT).map(([k, v]) => [v, k as DTypeName]));

type ArrayCtor = { new (buf: ArrayBuffer, byteOffset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT: number };
const VIEW: Partial<Record<DTypeName, ArrayCtor>> = {
  FLOAT: Float32Array,
  DOUBLE: Float64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array as unknown as ArrayCtor,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  BOOL: Uint8Array,
};

export const GPU_NOT_AVAILABLE = "ERR GPU requested but ONNX couldn't find CUDA";

function errorText(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/[\r\n]+/g, ' ').trim();
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export class OnnxBackend implements Backend<OnnxHandle> {
  readonly name = 'ONNX';
  private ort: Ort;

  constructor() {
    // loaded here, inside the worker: the main thread never loads the runtime
    this.ort = require('onnxruntime-node') as Ort;
  }

  version(): string {
    return this.ort.env.versions?.node ?? '';
  }

  async load(blob: Uint8Array, opts: LoadOptions): Promise<LoadedModel<OnnxHandle>> {
    if (/^gpu/i.test(opts.device)) throw new BackendError(GPU_NOT_AVAILABLE);
    const options: OrtModule.InferenceSession.SessionOptions = { executionProviders: ['cpu'] };
    // 0 (the default) means one thread per run, in the worker itself. ORT's own default is a pool as wide as
    // the machine whose threads spin between runs: measured with mnist and 16 clients on 2 cores, it halved
    // served throughput (11.7k vs 23k runs/s) by starving the event loop and the clients of CPU. Parallelism
    // comes from THREADS_PER_QUEUE and per-device queues; INTRA_OP_PARALLELISM > 1 widens one run.
    options.intraOpNumThreads = opts.intraOpThreads || 1;
    if (opts.interOpThreads) options.interOpNumThreads = opts.interOpThreads;
    let session: Session;
    try {
      // the native binding takes only a plain ArrayBuffer: model bytes arrive in shared memory (copied here, in
      // the worker, off the event loop)
      const bytes = blob.buffer instanceof SharedArrayBuffer ? new Uint8Array(blob) : blob;
      session = await this.ort.InferenceSession.create(bytes, options);
    } catch (e) {
      throw new BackendError(errorText(e));
    }
    const outputs = [...session.outputNames];
    const meta = session.outputMetadata as readonly { name: string; isTensor: boolean }[] | undefined;
    const nonTensor = new Set((meta ?? []).filter((m) => !m.isTensor).map((m) => m.name));
    return {
      handle: { session, tensorOutputs: outputs.filter((n) => !nonTensor.has(n)) },
      inputs: [...session.inputNames],
      outputs,
    };
  }

  async run(model: LoadedModel<OnnxHandle>, inputs: BackendTensor[]): Promise<(BackendTensor | null)[]> {
    const { session, tensorOutputs } = model.handle;
    const feeds: Record<string, OrtModule.Tensor> = {};
    for (let i = 0; i < inputs.length; i++) feeds[model.inputs[i]] = this.toOrt(inputs[i]);
    let result: OrtModule.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds, tensorOutputs);
    } catch (e) {
      throw new BackendError(errorText(e));
    }
    return model.outputs.map((name) => {
      const v = result[name];
      return v === undefined ? null : this.fromOrt(v);
    });
  }

  async dispose(model: LoadedModel<OnnxHandle>): Promise<void> {
    await model.handle.session.release();
  }

  /** A view over the tensor's bytes (its memory was transferred to this thread: no copy). */
  private toOrt(t: BackendTensor): OrtModule.Tensor {
    const type = TO_ORT[t.dtype];
    if (t.dtype === 'STRING') {
      const strings: string[] = [];
      const d = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      for (let p = 0; p < d.length; ) {
        const z = d.indexOf(0, p);
        strings.push(d.toString('utf8', p, z));
        p = z + 1;
      }
      return new this.ort.Tensor('string', strings, t.shape);
    }
    const Ctor = VIEW[t.dtype]!;
    const len = product(t.shape);
    let data = t.data;
    if (data.byteOffset % Ctor.BYTES_PER_ELEMENT !== 0) data = data.slice(); // realign (a copy)
    const view = new Ctor(data.buffer as ArrayBuffer, data.byteOffset, len);
    return new this.ort.Tensor(type, view as unknown as Float32Array, t.shape);
  }

  private fromOrt(v: OrtModule.OnnxValue): BackendTensor {
    const t = v as OrtModule.Tensor;
    const dtype = FROM_ORT[t.type];
    if (!dtype) throw new BackendError(`ERR unsupported ONNX output tensor type ${t.type}`);
    const shape = t.dims.map(Number);
    if (dtype === 'STRING') {
      const parts: Buffer[] = [];
      for (const s of t.data as string[]) parts.push(Buffer.from(s, 'utf8'), Buffer.alloc(1));
      const joined = Buffer.concat(parts);
      return { dtype, shape, data: new Uint8Array(joined.buffer, joined.byteOffset, joined.byteLength).slice() };
    }
    const a = t.data as ArrayBufferView;
    // an exact copy the caller can transfer
    return { dtype, shape, data: new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice() };
  }
}
