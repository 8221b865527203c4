// Snapshot codecs of the AI types: tensors (dtype, shape, raw data), models (options and the blob as uploaded)
// and scripts (device, tag, entry points, source). Models and scripts are rebuilt with buildModel / buildScript
// in their device queue's worker: the loader awaits them all (in parallel) before the node accepts commands.

import { registerValueCodec } from './codecs';
import { DTYPES, TENSOR_TYPE, tensorFromBlob, type DTypeName, type Tensor, type TensorValue } from '../ai/tensor';
import { BACKENDS, MODEL_TYPE, aiRuntime, buildModel, type BackendName, type Model, type ModelValue } from '../ai/model';
import { SCRIPT_TYPE, buildScript, type Script, type ScriptValue } from '../ai/script';

function bad(what: string): never {
  throw new Error(`bad ${what} record`);
}

registerValueCodec(TENSOR_TYPE, {
  version: 1,
  encode: (v) => {
    const t = v.value as Tensor;
    return { fields: [t.dtype, t.shape], blobs: [t.data] };
  },
  decode: (f, blobs) => {
    if (!Array.isArray(f) || typeof f[0] !== 'string' || !Array.isArray(f[1])) bad('tensor');
    const dtype = DTYPES[f[0] as DTypeName];
    if (!dtype) bad('tensor');
    const shape = (f[1] as unknown[]).map(Number);
    if (!Buffer.isBuffer(blobs[0]) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad('tensor');
    // tensorFromBlob checks the bytes against dtype and shape (and rebuilds STRING offsets): a damaged RESTORE
    // payload made a tensor whose AI.TENSORGET VALUES read past its data (bench/fuzz.mjs)
    const t: Tensor = tensorFromBlob(dtype, shape, blobs[0]);
    return { type: TENSOR_TYPE, value: t } satisfies TensorValue;
  },
});

registerValueCodec(MODEL_TYPE, {
  version: 1,
  encode: (v) => {
    const m = v.value as Model;
    return {
      fields: [m.backend, m.device, m.tag, m.batchsize, m.minbatchsize, m.minbatchtimeout, m.inputs, m.outputs],
      blobs: [m.blob],
    };
  },
  decode: async (f, blobs, _version, ctx) => {
    if (!Array.isArray(f) || f.length < 8) bad('model');
    const [backend, device, tag, batchsize, minbatchsize, minbatchtimeout, inputs, outputs] = f as [
      string, string, Buffer, number, number, number, string[], string[],
    ];
    if (!(BACKENDS as readonly string[]).includes(backend)) bad('model');
    const model = await buildModel(aiRuntime(ctx.server), {
      backend: backend as BackendName,
      device,
      tag: Buffer.isBuffer(tag) ? tag : Buffer.from(String(tag)),
      batchsize,
      minbatchsize,
      minbatchtimeout,
      // only TF takes the node names from the store command; the others read them from the model
      ...(backend === 'TF' ? { inputs, outputs } : {}),
      blob: blobs[0],
    });
    return { type: MODEL_TYPE, value: model } satisfies ModelValue;
  },
});

registerValueCodec(SCRIPT_TYPE, {
  version: 1,
  encode: (v) => {
    const s = v.value as Script;
    return { fields: [s.device, s.tag, s.entryPoints], blobs: [s.source] };
  },
  decode: async (f, blobs, _version, ctx) => {
    if (!Array.isArray(f) || f.length < 3) bad('script');
    const [device, tag, entryPoints] = f as [string, Buffer, string[] | null];
    const script = await buildScript(aiRuntime(ctx.server), {
      device,
      tag: Buffer.isBuffer(tag) ? tag : Buffer.from(String(tag)),
      source: blobs[0],
      entryPoints: Array.isArray(entryPoints) ? entryPoints.map(String) : null,
    });
    return { type: SCRIPT_TYPE, value: script } satisfies ScriptValue;
  },
});
