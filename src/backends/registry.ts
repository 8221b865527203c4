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
