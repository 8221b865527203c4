// The TF backend: frozen GraphDef (.pb) models run through tfjs, inside a backend worker thread (./worker.ts).
// No TensorFlow C library can be installed here, so the GraphDef is parsed with protobufjs (./tf-graphdef.ts),
// its Const tensors become weights, and the graph is loaded into @tensorflow/tfjs-converter's GraphModel and
// executed on tfjs-backend-wasm (measured faster than tfjs-backend-cpu on these models; the cpu backend is the
// fallback when wasm cannot start, and per model when wasm lacks a kernel the graph needs). An installed
// @tensorflow/tfjs-node (optional, absent here and in CI) is preferred to both.
//
// RedisAI's rules kept: the model's inputs and outputs are the node names given in MODELSTORE, checked at load
// (`Input node named "x" not found in TF graph.`); bytes that are no GraphDef are `Invalid GraphDef`; a GPU
// device is refused. Added here: an op tfjs cannot run (among those the outputs depend on) is refused at load,
// naming it, instead of failing at the first run. Dtypes: tfjs computes in float32 / int32 / bool / string, so
// INT64 inputs become int32 (values outside its range are refused), DOUBLE becomes float32 (precision is lost),
// INT8/INT16/UINT8/UINT16 become int32; outputs are converted back to the dtype TF would answer, read from the
// graph's attributes.

import * as path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfConverter from '@tensorflow/tfjs-converter';
import type { DTypeName } from '../ai/tensor';
import { BackendError, type Backend, type BackendTensor, type LoadedModel, type LoadOptions } from './backend';
import { decodeGraphDef, num, TF_DTYPES, type AttrMsg, type GraphMsg, type NodeMsg, type TensorMsg, type TensorShapeMsg } from './tf-graphdef';

type Tf = typeof TfCore;
type TfDtype = 'float32' | 'int32' | 'bool' | 'string';
type TfBackendName = 'tensorflow' | 'wasm' | 'cpu';

export const INVALID_GRAPHDEF = 'Invalid GraphDef';
export const GPU_NOT_AVAILABLE = "ERR GPU requested but TF couldn't find CUDA";

const DT = TF_DTYPES;
const DT_NAME: Record<number, string> = Object.fromEntries(Object.entries(DT).map(([k, v]) => [v, k]));

/** TF dtype -> RedisAI dtype of an output (others answer the dtype tfjs computed in). */
const REDISAI_OF: Partial<Record<number, DTypeName>> = {
  [DT.DT_FLOAT]: 'FLOAT',
  [DT.DT_DOUBLE]: 'DOUBLE',
  [DT.DT_INT8]: 'INT8',
  [DT.DT_INT16]: 'INT16',
  [DT.DT_INT32]: 'INT32',
  [DT.DT_INT64]: 'INT64',
  [DT.DT_UINT8]: 'UINT8',
  [DT.DT_UINT16]: 'UINT16',
  [DT.DT_BOOL]: 'BOOL',
  [DT.DT_STRING]: 'STRING',
};
const TF_OF: Record<DTypeName, number> = {
  FLOAT: DT.DT_FLOAT,
  DOUBLE: DT.DT_DOUBLE,
  INT8: DT.DT_INT8,
  INT16: DT.DT_INT16,
  INT32: DT.DT_INT32,
  INT64: DT.DT_INT64,
  UINT8: DT.DT_UINT8,
  UINT16: DT.DT_UINT16,
  BOOL: DT.DT_BOOL,
  STRING: DT.DT_STRING,
};
/** TF's DataTypeString, for its "Expects arg[i] to be float but int32 is provided" */
const TF_TYPE_TEXT: Record<number, string> = {
  [DT.DT_FLOAT]: 'float',
  [DT.DT_DOUBLE]: 'double',
  [DT.DT_INT8]: 'int8',
  [DT.DT_INT16]: 'int16',
  [DT.DT_INT32]: 'int32',
  [DT.DT_INT64]: 'int64',
  [DT.DT_UINT8]: 'uint8',
  [DT.DT_UINT16]: 'uint16',
  [DT.DT_BOOL]: 'bool',
  [DT.DT_STRING]: 'string',
  [DT.DT_HALF]: 'half',
};

/** Ops whose output is bool whatever their T. */
const BOOL_OPS = new Set(['Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'LogicalNot', 'IsNan', 'IsInf', 'IsFinite']);
/** Attributes that name an op's output dtype, in the order they are looked for (before T, often the input's). */
const OUT_DTYPE_ATTRS = ['dtype', 'out_type', 'output_type', 'DstT', 'Tout'];
/** Output dtypes of ops whose output is not their T (when no attribute above says otherwise: TF's defaults). */
const OP_OUT_DTYPE: Record<string, number> = {
  Where: DT.DT_INT64,
  ArgMax: DT.DT_INT64,
  ArgMin: DT.DT_INT64,
  Shape: DT.DT_INT32,
  ShapeN: DT.DT_INT32,
  Size: DT.DT_INT32,
  Rank: DT.DT_INT32,
  Bucketize: DT.DT_INT32,
  NonMaxSuppressionV2: DT.DT_INT32,
  NonMaxSuppressionV3: DT.DT_INT32,
  NonMaxSuppressionV4: DT.DT_INT32,
  NonMaxSuppressionV5: DT.DT_INT32,
};
/** The RedisAI dtypes a tfjs result of each dtype may be converted to (anything else: the graph was misread). */
const WIDENS_TO: Record<string, readonly DTypeName[]> = {
  float32: ['FLOAT', 'DOUBLE'],
  int32: ['INT32', 'INT64', 'INT8', 'INT16', 'UINT8', 'UINT16'],
  bool: ['BOOL'],
};

interface TfHandle {
  model: TfConverter.GraphModel;
  /** the tfjs backend this model runs on */
  backend: TfBackendName;
  /** needs executeAsync (control flow / dynamic ops) */
  async: boolean;
  /** TF dtype of each input placeholder (0 = unknown) and of each output (0 = unknown) */
  inputDtypes: number[];
  outputDtypes: number[];
  /** the model's weights: an output that is a Const comes back as its weight tensor, never to be disposed */
  weights: Set<TfCore.Tensor>;
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function errorText(e: unknown): string {
  return String((e as Error)?.message ?? e).replace(/[\r\n]+/g, ' ').trim();
}

/** A tfjs run-time error in TF's words where they are known (RedisAI's tests match TF's texts). */
function tfWording(msg: string): string {
  const m = /Operands could not be broadcast together with shapes ([\d,]*) and ([\d,]*)/.exec(msg);
  if (m) return `Incompatible shapes: [${m[1]}] vs. [${m[2]}]`;
  return msg;
}

/** "name", "name:1" or "^name" (control input) -> the node name */
function nodeNameOf(ref: string): string {
  const s = ref.startsWith('^') ? ref.slice(1) : ref;
  const colon = s.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(s.slice(colon + 1)) ? s.slice(0, colon) : s;
}

function baseDtype(t: number | undefined): number {
  return t === undefined ? 0 : t > 100 ? t - 100 : t;
}

function shapeOf(s: TensorShapeMsg | undefined): number[] {
  return (s?.dim ?? []).map((d) => num(d.size));
}

// ------------------------------------------------------------------------------------------ tfjs start-up

let tfReady: Promise<{ tf: Tf; converter: typeof TfConverter; backend: TfBackendName }> | undefined;

/**
 * Loads tfjs in this worker (once): quiet (prod mode: no "Hi, looks like you are running TensorFlow.js in
 * Node.js" banner, no backend warnings), the cpu backend always registered, wasm from the package's own folder
 * (no network). If the optional @tensorflow/tfjs-node is installed (it downloads libtensorflow at install, so
 * not here nor in CI) its 'tensorflow' backend is preferred. INFERDB_TF_BACKEND=cpu|wasm|tensorflow picks one.
 */
function startTf(): Promise<{ tf: Tf; converter: typeof TfConverter; backend: TfBackendName }> {
  tfReady ??= (async () => {
    const tf = require('@tensorflow/tfjs-core') as Tf;
    tf.enableProdMode();
    require('@tensorflow/tfjs-backend-cpu');
    const converter = require('@tensorflow/tfjs-converter') as typeof TfConverter;
    const wanted = (process.env.INFERDB_TF_BACKEND ?? '').toLowerCase();
    let backend: TfBackendName = 'cpu';
    if (wanted === '' || wanted === 'tensorflow') {
      try {
        require('@tensorflow/tfjs-node'); // registers 'tensorflow' on the shared tfjs-core (when versions match)
        if (await tf.setBackend('tensorflow')) backend = 'tensorflow';
      } catch {
        backend = 'cpu';
      }
    }
    if (backend === 'cpu' && wanted !== 'cpu') {
      try {
        const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
        const dir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
        wasm.setWasmPaths(dir + path.sep);
        if (await tf.setBackend('wasm')) backend = 'wasm';
      } catch {
        backend = 'cpu';
      }
    }
    if (backend === 'cpu') await tf.setBackend('cpu');
    await tf.ready();
    return { tf, converter, backend };
  })();
  return tfReady;
}

// ---------------------------------------------------------------------------------- GraphDef -> tfjs model

interface Weight {
  name: string;
  shape: number[];
  dtype: TfDtype;
  data: Float32Array | Int32Array | Uint8Array | Uint8Array[];
}

/** Reads a TensorProto's values as the tfjs dtype it will have (TF's rule: a short value list repeats its last value). */
function tensorValues(t: TensorMsg, name: string): Weight {
  const dtype = baseDtype(t.dtype);
  const shape = shapeOf(t.tensorShape);
  const n = product(shape);
  const raw = t.tensorContent && t.tensorContent.length > 0 ? t.tensorContent : undefined;
  const fill = <T>(vals: ArrayLike<T> | undefined, out: { length: number; [i: number]: T | number }, conv: (v: T) => number) => {
    const len = vals?.length ?? 0;
    for (let i = 0; i < n; i++) out[i] = len === 0 ? 0 : conv(vals![Math.min(i, len - 1)]);
  };
  const view = (Ctor: { new (b: ArrayBuffer, o: number, l: number): ArrayLike<number | bigint>; BYTES_PER_ELEMENT: number }) => {
    const copy = new Uint8Array(raw!); // aligned, own buffer (protobufjs may hand out a Buffer view of the blob)
    if (copy.byteLength !== n * Ctor.BYTES_PER_ELEMENT) throw new BackendError(`${INVALID_GRAPHDEF}: tensor content of ${name} does not match its shape`);
    return new Ctor(copy.buffer as ArrayBuffer, 0, n);
  };
  const clampInt = (v: number) => (v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v);
  switch (dtype) {
    case DT.DT_FLOAT: {
      if (raw) return { name, shape, dtype: 'float32', data: view(Float32Array) as Float32Array };
      const out = new Float32Array(n);
      fill(t.floatVal, out, (v) => v);
      return { name, shape, dtype: 'float32', data: out };
    }
    case DT.DT_DOUBLE: {
      const out = new Float32Array(n);
      if (raw) out.set(view(Float64Array) as Float64Array);
      else fill(t.doubleVal, out, (v) => v);
      return { name, shape, dtype: 'float32', data: out };
    }
    case DT.DT_HALF: {
      const out = new Float32Array(n);
      const bits = raw ? (view(Uint16Array) as Uint16Array) : undefined;
      const half = (h: number) => {
        const s = h & 0x8000 ? -1 : 1;
        const e = (h >> 10) & 0x1f;
        const f = h & 0x3ff;
        return e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
      };
      if (bits) for (let i = 0; i < n; i++) out[i] = half(bits[i]);
      else fill(t.halfVal, out, half);
      return { name, shape, dtype: 'float32', data: out };
    }
    case DT.DT_INT32:
    case DT.DT_INT16:
    case DT.DT_INT8:
    case DT.DT_UINT8:
    case DT.DT_UINT16: {
      const out = new Int32Array(n);
      if (raw) {
        const Ctor = { [DT.DT_INT32]: Int32Array, [DT.DT_INT16]: Int16Array, [DT.DT_INT8]: Int8Array, [DT.DT_UINT8]: Uint8Array, [DT.DT_UINT16]: Uint16Array }[dtype]!;
        out.set(view(Ctor) as Int32Array);
      } else fill(t.intVal, out, (v) => v);
      return { name, shape, dtype: 'int32', data: out };
    }
    case DT.DT_INT64: {
      const out = new Int32Array(n);
      if (raw) {
        const b = view(BigInt64Array) as BigInt64Array;
        for (let i = 0; i < n; i++) out[i] = clampInt(Number(b[i]));
      } else fill(t.int64Val, out, (v) => clampInt(num(v)));
      return { name, shape, dtype: 'int32', data: out };
    }
    case DT.DT_BOOL: {
      const out = new Uint8Array(n);
      if (raw) out.set(raw.subarray(0, n));
      else fill(t.boolVal, out, (v) => (v ? 1 : 0));
      return { name, shape, dtype: 'bool', data: out };
    }
    case DT.DT_STRING: {
      const vals = t.stringVal ?? [];
      const out: Uint8Array[] = [];
      for (let i = 0; i < n; i++) out.push(vals.length ? vals[Math.min(i, vals.length - 1)] : new Uint8Array(0));
      return { name, shape, dtype: 'string', data: out };
    }
    default:
      throw new BackendError(`ERR TF backend (tfjs): constant ${name} has dtype ${DT_NAME[dtype] ?? dtype}, which tfjs does not support`);
  }
}

/** An AttrValue in the plain form tfjs-converter reads (bytes as number arrays, enums by name, int64 as numbers). */
function attrJson(a: AttrMsg): Record<string, unknown> {
  const shape = (s: TensorShapeMsg) => (s.unknownRank ? { unknownRank: true } : { dim: (s.dim ?? []).map((d) => ({ size: num(d.size) })) });
  const dtype = (t: number | undefined) => DT_NAME[baseDtype(t)] ?? baseDtype(t);
  // protobufjs keeps scalar defaults on the prototype: only the field actually set (the oneof) is an own property
  const has = (k: keyof AttrMsg) => Object.prototype.hasOwnProperty.call(a, k) && a[k] !== undefined && a[k] !== null;
  if (has('list') && a.list) {
    const l = a.list;
    const out: Record<string, unknown> = {};
    if (l.s?.length) out.s = l.s.map((b) => Array.from(b));
    if (l.i?.length) out.i = l.i.map(num);
    if (l.f?.length) out.f = l.f;
    if (l.b?.length) out.b = l.b;
    if (l.type?.length) out.type = l.type.map(dtype);
    if (l.shape?.length) out.shape = l.shape.map(shape);
    if (l.func?.length) out.func = l.func.map((f) => ({ name: f.name }));
    return { list: out };
  }
  if (has('s') && a.s !== undefined) return { s: Array.from(a.s) };
  if (has('i') && a.i !== undefined) return { i: num(a.i) };
  if (has('f') && a.f !== undefined) return { f: a.f };
  if (has('b') && a.b !== undefined) return { b: a.b };
  if (has('type') && a.type !== undefined) return { type: dtype(a.type) };
  if (has('shape') && a.shape !== undefined) return { shape: shape(a.shape) };
  if (has('func') && a.func !== undefined) return { func: { name: a.func.name } };
  if (has('tensor') && a.tensor !== undefined) return { tensor: { dtype: dtype(a.tensor.dtype), tensorShape: shape(a.tensor.tensorShape ?? {}) } };
  return {};
}

/** The TF dtype of a node's first output, from its attributes (0 when they do not say). */
function outputDtype(nodes: Map<string, NodeMsg>, name: string, seen = new Set<string>()): number {
  const node = nodes.get(name);
  if (!node || seen.has(name)) return 0;
  seen.add(name);
  if (BOOL_OPS.has(node.op ?? '')) return DT.DT_BOOL;
  const attr = node.attr ?? {};
  for (const k of OUT_DTYPE_ATTRS) {
    const t = attr[k]?.type;
    if (t !== undefined && t !== 0) return baseDtype(t);
  }
  const fixed = OP_OUT_DTYPE[node.op ?? ''];
  if (fixed !== undefined) return fixed;
  const T = attr.T?.type;
  if (T !== undefined && T !== 0) return baseDtype(T);
  const first = (node.input ?? []).find((i) => !i.startsWith('^'));
  return first === undefined ? 0 : outputDtype(nodes, nodeNameOf(first), seen);
}

/** Every node the given outputs depend on (data and control inputs). */
function ancestors(nodes: Map<string, NodeMsg>, outputs: string[]): Set<string> {
  const seen = new Set<string>();
  const stack = [...outputs];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const i of nodes.get(n)?.input ?? []) stack.push(nodeNameOf(i));
  }
  return seen;
}

interface ExecutorView {
  executor?: { graph?: { nodes?: Record<string, { op: string; category?: string }> } };
}

export class TfBackend implements Backend<TfHandle> {
  readonly name = 'TF';

  version(): string {
    try {
      return String((require('@tensorflow/tfjs-core/package.json') as { version?: string }).version ?? '');
    } catch {
      return '';
    }
  }

  async load(blob: Uint8Array, opts: LoadOptions): Promise<LoadedModel<TfHandle>> {
    if (/^gpu/i.test(opts.device)) throw new BackendError(GPU_NOT_AVAILABLE);
    const inputs = opts.inputs ?? [];
    const outputs = opts.outputs ?? [];
    let graph: GraphMsg;
    try {
      graph = decodeGraphDef(blob);
    } catch {
      throw new BackendError(INVALID_GRAPHDEF);
    }
    const nodes = new Map<string, NodeMsg>();
    for (const n of graph.node ?? []) {
      if (!n.name || !n.op || nodes.has(n.name)) throw new BackendError(INVALID_GRAPHDEF);
      nodes.set(n.name, n);
    }
    // as TF's import: every input a node names must exist
    for (const n of nodes.values()) for (const i of n.input ?? []) if (!nodes.has(nodeNameOf(i))) throw new BackendError(INVALID_GRAPHDEF);
    for (const name of inputs) if (!nodes.has(nodeNameOf(name))) throw new BackendError(`Input node named "${name}" not found in TF graph.`);
    for (const name of outputs) if (!nodes.has(nodeNameOf(name))) throw new BackendError(`Output node named "${name}" not found in TF graph`);

    const { tf, converter, backend } = await startTf();

    // the tfjs form of the graph: Const values become weights; Placeholder shapes are dropped (TF does not
    // check a fed tensor against its placeholder's declared shape, tfjs would)
    const weights: Weight[] = [];
    const jsonNodes: Record<string, unknown>[] = [];
    for (const n of nodes.values()) {
      const attr: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(n.attr ?? {})) {
        if (n.op === 'Placeholder' && k === 'shape') continue;
        attr[k] = attrJson(v);
      }
      if (n.op === 'Const') {
        const value = n.attr?.value?.tensor;
        if (!value) throw new BackendError(INVALID_GRAPHDEF);
        weights.push(tensorValues(value, n.name!));
      }
      jsonNodes.push({ name: n.name, op: n.op, input: n.input ?? [], device: n.device ?? '', attr });
    }
    const topology = { node: jsonNodes, versions: { producer: graph.versions?.producer ?? 0, minConsumer: graph.versions?.minConsumer ?? 0 } };

    if (tf.getBackend() !== backend) await tf.setBackend(backend);
    let model: TfConverter.GraphModel;
    try {
      model = new converter.GraphModel({ load: async () => ({}) });
      model.loadSync(encodeArtifacts(topology, weights));
    } catch (e) {
      throw new BackendError(`ERR TF backend (tfjs) could not load the graph: ${errorText(e)}`);
    }
    // ops tfjs has no mapping for, among those the outputs need (tfjs would fail only when one is reached)
    const mapped = (model as unknown as ExecutorView).executor?.graph?.nodes;
    if (mapped) {
      const needed = ancestors(nodes, outputs.map(nodeNameOf));
      const missing = new Set<string>();
      for (const name of needed) {
        const m = mapped[name];
        if (m && m.category === undefined) missing.add(m.op);
      }
      if (graph.library?.function?.length) {
        for (const name of needed) for (const a of Object.values(nodes.get(name)?.attr ?? {})) if (a.func) missing.add(`${nodes.get(name)!.op} (function library)`);
      }
      if (missing.size) {
        model.dispose();
        throw new BackendError(`ERR TF op${missing.size > 1 ? 's' : ''} not supported by the TF backend (tfjs): ${[...missing].sort().join(', ')}`);
      }
    }
    const handle: TfHandle = {
      model,
      backend,
      async: false,
      inputDtypes: inputs.map((i) => {
        const n = nodes.get(nodeNameOf(i))!;
        return n.op === 'Placeholder' ? baseDtype(n.attr?.dtype?.type) : 0;
      }),
      outputDtypes: outputs.map((o) => outputDtype(nodes, nodeNameOf(o))),
      weights: new Set(Object.values(model.weights).flat()),
    };
    return { handle, inputs: [...inputs], outputs: [...outputs] };
  }

  async run(model: LoadedModel<TfHandle>, inputs: BackendTensor[]): Promise<(BackendTensor | null)[]> {
    const { tf } = await startTf();
    const h = model.handle;
    for (let i = 0; i < inputs.length; i++) {
      const want = h.inputDtypes[i];
      const got = TF_OF[inputs[i].dtype];
      if (want && want !== got) {
        throw new BackendError(`Expects arg[${i}] to be ${TF_TYPE_TEXT[want] ?? DT_NAME[want]} but ${TF_TYPE_TEXT[got]} is provided`);
      }
    }
    if (tf.getBackend() !== h.backend) await tf.setBackend(h.backend);
    const feeds: Record<string, TfCore.Tensor> = {};
    const made: TfCore.Tensor[] = [];
    let results: TfCore.Tensor[] = [];
    try {
      for (let i = 0; i < inputs.length; i++) {
        const t = toTf(tf, inputs[i]);
        made.push(t);
        feeds[model.inputs[i]] = t;
      }
      results = await this.execute(tf, h, feeds, model.outputs);
      const out: BackendTensor[] = [];
      for (let i = 0; i < results.length; i++) {
        const t = results[i];
        // string elements as their bytes (dataSync would decode them as UTF-8)
        const strings = t.dtype === 'string' ? ((await t.bytes()) as Uint8Array[]) : undefined;
        out.push(fromTf(t, h.outputDtypes[i], strings));
      }
      return out;
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError(tfWording(errorText(e)));
    } finally {
      for (const t of made) t.dispose();
      for (const t of results) if (!made.includes(t) && !h.weights.has(t)) t.dispose();
    }
  }

  /** Runs the graph; switches the model to executeAsync (dynamic ops) or to the cpu backend (a kernel wasm lacks) when tfjs asks. */
  private async execute(tf: Tf, h: TfHandle, feeds: Record<string, TfCore.Tensor>, outputs: string[]): Promise<TfCore.Tensor[]> {
    const asList = (r: TfCore.Tensor | TfCore.Tensor[]) => (Array.isArray(r) ? r : [r]);
    for (let attempt = 0; ; attempt++) {
      try {
        return asList(h.async ? await h.model.executeAsync(feeds, outputs) : h.model.execute(feeds, outputs));
      } catch (e) {
        const msg = errorText(e);
        if (attempt < 2 && !h.async && /executeAsync/.test(msg)) {
          h.async = true;
          continue;
        }
        if (attempt < 2 && h.backend === 'wasm' && /not registered for backend/.test(msg)) {
          h.backend = 'cpu';
          await tf.setBackend('cpu');
          continue;
        }
        throw e;
      }
    }
  }

  async dispose(model: LoadedModel<TfHandle>): Promise<void> {
    model.handle.model.dispose();
  }
}

/** Model artifacts for GraphModel.loadSync: the topology plus the weights packed as tfjs encodes them. */
function encodeArtifacts(topology: object, weights: Weight[]): TfCore.io.ModelArtifacts {
  const parts: Uint8Array[] = [];
  const specs: TfCore.io.WeightsManifestEntry[] = [];
  for (const w of weights) {
    specs.push({ name: w.name, shape: w.shape, dtype: w.dtype });
    if (w.dtype === 'string') {
      for (const s of w.data as Uint8Array[]) {
        const len = new Uint8Array(4);
        new DataView(len.buffer).setUint32(0, s.length, true);
        parts.push(len, s);
      }
    } else {
      const a = w.data as Float32Array | Int32Array | Uint8Array;
      parts.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
  }
  let total = 0;
  for (const p of parts) total += p.length;
  const data = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    data.set(p, off);
    off += p.length;
  }
  return { modelTopology: topology, weightSpecs: specs, weightData: data.buffer, format: 'graph-model' };
}

/** A RedisAI tensor as a tfjs tensor (see the dtype notes at the top). */
function toTf(tf: Tf, t: BackendTensor): TfCore.Tensor {
  const n = product(t.shape);
  const d = t.data;
  const aligned = (bytes: number) => (d.byteOffset % bytes === 0 ? d : new Uint8Array(d));
  switch (t.dtype) {
    case 'FLOAT': {
      const a = aligned(4);
      return tf.tensor(new Float32Array(a.buffer, a.byteOffset, n), t.shape, 'float32');
    }
    case 'DOUBLE': {
      const a = aligned(8);
      return tf.tensor(Float32Array.from(new Float64Array(a.buffer, a.byteOffset, n)), t.shape, 'float32');
    }
    case 'INT32': {
      const a = aligned(4);
      return tf.tensor(new Int32Array(a.buffer, a.byteOffset, n), t.shape, 'int32');
    }
    case 'INT8':
      return tf.tensor(Int32Array.from(new Int8Array(d.buffer, d.byteOffset, n)), t.shape, 'int32');
    case 'UINT8':
      return tf.tensor(Int32Array.from(d.subarray(0, n)), t.shape, 'int32');
    case 'INT16': {
      const a = aligned(2);
      return tf.tensor(Int32Array.from(new Int16Array(a.buffer, a.byteOffset, n)), t.shape, 'int32');
    }
    case 'UINT16': {
      const a = aligned(2);
      return tf.tensor(Int32Array.from(new Uint16Array(a.buffer, a.byteOffset, n)), t.shape, 'int32');
    }
    case 'INT64': {
      const a = aligned(8);
      const src = new BigInt64Array(a.buffer, a.byteOffset, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = src[i];
        if (v > 2147483647n || v < -2147483648n) throw new BackendError(`ERR INT64 value ${v} is outside the int32 range the TF backend (tfjs) computes in`);
        out[i] = Number(v);
      }
      return tf.tensor(out, t.shape, 'int32');
    }
    case 'BOOL':
      return tf.tensor(d.slice(0, n), t.shape, 'bool');
    case 'STRING': {
      const strings: Uint8Array[] = [];
      for (let p = 0; p < d.length; ) {
        let z = d.indexOf(0, p);
        if (z < 0) z = d.length;
        strings.push(d.slice(p, z));
        p = z + 1;
      }
      return tf.tensor(strings, t.shape, 'string');
    }
  }
}

/** A tfjs result as RedisAI bytes, in the dtype TF would have answered (`tfDtype`, 0 = as tfjs computed it). */
function fromTf(t: TfCore.Tensor, tfDtype: number, strings?: Uint8Array[]): BackendTensor {
  const shape = [...t.shape];
  const n = product(shape);
  const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  if (strings) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const s of strings) {
      parts.push(s);
      total += s.length + 1;
    }
    const out = new Uint8Array(total);
    let off = 0;
    for (const s of parts) {
      out.set(s, off);
      off += s.length + 1;
    }
    return { dtype: 'STRING', shape, data: out };
  }
  if (t.dtype === 'complex64') throw new BackendError('ERR TF backend (tfjs): complex outputs are not supported');
  const v = t.dataSync() as Float32Array | Int32Array | Uint8Array;
  const natural: DTypeName = t.dtype === 'bool' ? 'BOOL' : t.dtype === 'int32' ? 'INT32' : 'FLOAT';
  const declared = REDISAI_OF[tfDtype];
  // the dtype TF would answer, when it is one tfjs's result can stand for (int64 for int32, double for float32 ...)
  const dtype: DTypeName = declared !== undefined && (WIDENS_TO[t.dtype] ?? []).includes(declared) ? declared : natural;
  switch (dtype) {
    case 'FLOAT':
      return { dtype, shape, data: bytes(v instanceof Float32Array ? v : Float32Array.from(v)) };
    case 'DOUBLE':
      return { dtype, shape, data: bytes(Float64Array.from(v)) };
    case 'INT32':
      return { dtype, shape, data: bytes(v instanceof Int32Array ? v : Int32Array.from(v, Math.trunc)) };
    case 'INT64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc(v[i]));
      return { dtype, shape, data: bytes(out) };
    }
    case 'INT8':
      return { dtype, shape, data: bytes(Int8Array.from(v, Math.trunc)) };
    case 'INT16':
      return { dtype, shape, data: bytes(Int16Array.from(v, Math.trunc)) };
    case 'UINT8':
      return { dtype, shape, data: bytes(Uint8Array.from(v, Math.trunc)) };
    case 'UINT16':
      return { dtype, shape, data: bytes(Uint16Array.from(v, Math.trunc)) };
    case 'BOOL':
      return { dtype, shape, data: bytes(Uint8Array.from(v, (x) => (x ? 1 : 0))) };
    case 'STRING':
      throw new BackendError('ERR TF backend (tfjs): a string output came back as numbers');
  }
}
