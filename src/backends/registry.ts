// Which backends this build has, and how a worker thread constructs each. `available()` is asked on the main
// thread and must not load any backend library (they are loaded lazily, inside workers); `create()` runs in a
// worker. A backend whose library is missing answers `ERR Could not load backend` at MODELSTORE.

import type { Backend } from './backend';

export interface BackendEntry {
  /** cheap check on the main thread (a file exists, a package resolves): never loads the library */
  available(): boolean;
  /** builds the backend inside a worker thread (may load the native library) */
  create(): Backend;
}

function resolves(mod: string): boolean {
  try {
    require.resolve(mod);
    return true;
  } catch {
    return false;
  }
}

export const BACKEND_ENTRIES: Record<string, BackendEntry> = {
  ONNX: {
    available: () => resolves('onnxruntime-node'),
    create: () => new (require('./onnx') as typeof import('./onnx')).OnnxBackend(),
  },
  TORCH: {
    // the addon is built at npm install only where libtorch-dev is present; torch.ts loads it lazily
    available: () => (require('./torch') as typeof import('./torch')).torchAddonBuilt(),
    create: () => new (require('./torch') as typeof import('./torch')).TorchBackend(),
  },
  TF: {
    // frozen GraphDefs through tfjs (tf.ts); tfjs itself is loaded only inside workers
    available: () => resolves('@tensorflow/tfjs-core') && resolves('@tensorflow/tfjs-converter') && resolves('protobufjs'),
    create: () => new (require('./tf') as typeof import('./tf')).TfBackend(),
  },
};

const availability = new Map<string, boolean>();

/** Whether MODELSTORE can use the backend in this build (cached after the first ask). */
export function backendAvailable(name: string): boolean {
  let ok = availability.get(name);
  if (ok === undefined) {
    const e = BACKEND_ENTRIES[name];
    try {
      ok = e !== undefined && e.available();
    } catch {
      ok = false;
    }
    availability.set(name, ok);
  }
  return ok;
}
