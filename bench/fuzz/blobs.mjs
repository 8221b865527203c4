// Corrupted model blobs for AI.MODELSTORE: one real model per backend, mutated by a seeded PRNG.

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The real models (../shared/testdata/redisai, see MANIFEST.md) with the MODELSTORE arguments and the inputs
 * a MODELEXECUTE of a blob that loaded gets.
 */
export function backendModels(dataDir) {
  const file = (n) => fs.readFileSync(path.join(dataDir, n));
  const one = file('one.raw');
  const f32 = (vals) => Buffer.from(new Float32Array(vals).buffer);
  return [
    {
      backend: 'ONNX', name: 'mnist.onnx', blob: file('mnist.onnx'), storeArgs: [],
      inputs: [['FLOAT', '1', '1', '28', '28', 'BLOB', one]],
    },
    {
      backend: 'TORCH', name: 'pt-minimal.pt', blob: file('pt-minimal.pt'), storeArgs: [],
      inputs: [['FLOAT', '2', '2', 'BLOB', f32([2, 3, 2, 3])], ['FLOAT', '2', '2', 'BLOB', f32([2, 3, 2, 3])]],
    },
    {
      backend: 'TF', name: 'creditcardfraud.pb', blob: file('creditcardfraud.pb'),
      storeArgs: ['INPUTS', '2', 'transaction', 'reference', 'OUTPUTS', '1', 'output'],
      inputs: [['FLOAT', '1', '30', 'BLOB', f32(Array.from({ length: 30 }, (_, i) => i / 30))], ['FLOAT', '1', '256', 'BLOB', f32(Array.from({ length: 256 }, (_, i) => (i % 7) / 7))]],
    },
    {
      backend: 'TF', name: 'graph.pb', blob: file('graph.pb'), storeArgs: ['INPUTS', '2', 'a', 'b', 'OUTPUTS', '1', 'mul'],
      inputs: [['FLOAT', '2', '2', 'BLOB', f32([2, 3, 2, 3])], ['FLOAT', '2', '2', 'BLOB', f32([2, 3, 2, 3])]],
    },
  ];
}

/** One mutation of `blob` (`other` is another model's blob, for splices); returns { kind, blob }. */
export function mutateBlob(r, blob, other) {
  const kind = r.weighted({ bitflip: 30, truncate: 15, splice: 12, zero: 12, extend: 8, overwrite: 10, duplicate: 6, multi: 7 });
  const b = Buffer.from(blob);
  const range = (max = b.length) => {
    const start = r.int(0, Math.max(0, b.length - 1));
    return [start, Math.min(b.length, start + r.int(1, Math.max(1, Math.min(max, b.length - start))))];
  };
  switch (kind) {
    case 'bitflip': {
      const n = r.pick([1, 1, 2, 4, 8, 32]);
      for (let i = 0; i < n; i++) b[r.int(0, b.length - 1)] ^= 1 << r.int(0, 7);
      return { kind: `bitflip x${n}`, blob: b };
    }
    case 'truncate': {
      const n = r.int(0, b.length - 1);
      return { kind: `truncate to ${n}`, blob: b.subarray(0, n) };
    }
    case 'splice': {
      const src = r.chance(0.5) ? b : other;
      const s = r.int(0, src.length - 1);
      const piece = src.subarray(s, s + r.int(1, Math.min(4096, src.length - s)));
      const at = r.int(0, b.length);
      return { kind: `splice ${piece.length} bytes at ${at}`, blob: Buffer.concat([b.subarray(0, at), piece, b.subarray(at + r.int(0, piece.length))]) };
    }
    case 'zero': {
      const [s, e] = range(r.pick([4, 64, 1024]));
      b.fill(0, s, e);
      return { kind: `zero ${s}..${e}`, blob: b };
    }
    case 'extend': {
      const n = r.int(1, 8192);
      return { kind: `extend +${n} junk`, blob: Buffer.concat([b, r.bytes(n)]) };
    }
    case 'overwrite': {
      const [s, e] = range(r.pick([2, 16, 256]));
      r.bytes(e - s).copy(b, s);
      return { kind: `random bytes ${s}..${e}`, blob: b };
    }
    case 'duplicate': {
      const [s, e] = range(512);
      return { kind: `duplicate ${s}..${e}`, blob: Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]) };
    }
    default: {
      // several small corruptions, often fatal only in combination
      for (let i = 0; i < 3; i++) {
        const at = r.int(0, b.length - 1);
        b[at] = r.pick([0, 0xff, 0x7f, 0x80, r.int(0, 255)]);
      }
      return { kind: 'multi-byte set x3', blob: b };
    }
  }
}
