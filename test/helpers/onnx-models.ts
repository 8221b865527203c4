// Small ONNX models built by hand for tests, so no generator is needed: protobuf encoded with the ModelProto /
// GraphProto / NodeProto / ValueInfoProto field numbers from onnx.proto, opset 13, float tensors.
// matmulChain(k) is a chain of k MatMuls Y = ((X·X)·X)·X ... on a float [N,N] input (N symbolic): its run time
// scales with k and N, so a test can make a run last long enough to watch the server while it runs.
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const fieldVarint = (f: number, n: number) => Buffer.concat([varint(f << 3), varint(n)]);
const fieldBytes = (f: number, b: Buffer | string) => {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint((f << 3) | 2), varint(buf.length), buf]);
};
function valueInfo(name: string, dims: string[]): Buffer {
  const shape = Buffer.concat(dims.map((d) => fieldBytes(1, fieldBytes(2, d))));
  const tensorType = Buffer.concat([fieldVarint(1, 1 /* FLOAT */), fieldBytes(2, shape)]);
  return Buffer.concat([fieldBytes(1, name), fieldBytes(2, fieldBytes(1, tensorType))]);
}
export function onnxModel(nodes: { ins: string[]; out: string; op: string }[], inputs: [string, string[]][], output: [string, string[]]): Buffer {
  const nodeBytes = nodes.map((n) =>
    fieldBytes(1, Buffer.concat([...n.ins.map((i) => fieldBytes(1, i)), fieldBytes(2, n.out), fieldBytes(4, n.op)])),
  );
  const graph = Buffer.concat([
    ...nodeBytes,
    fieldBytes(2, 'g'),
    ...inputs.map(([name, dims]) => fieldBytes(11, valueInfo(name, dims))),
    fieldBytes(12, valueInfo(output[0], output[1])),
  ]);
  const opset = Buffer.concat([fieldBytes(1, ''), fieldVarint(2, 13)]);
  return Buffer.concat([fieldVarint(1, 7), fieldBytes(8, opset), fieldBytes(7, graph)]);
}
export function matmulChain(k: number): Buffer {
  const nodes: { ins: string[]; out: string; op: string }[] = [];
  let prev = 'X';
  for (let i = 0; i < k; i++) {
    const out = i === k - 1 ? 'Y' : `T${i}`;
    nodes.push({ ins: [prev, 'X'], out, op: 'MatMul' });
    prev = out;
  }
  return onnxModel(nodes, [['X', ['N', 'N']]], ['Y', ['N', 'N']]);
}
/** Y = I0 + I1 + ... (float [N]): a model with n inputs */
export function sumModel(n: number): Buffer {
  const names = Array.from({ length: n }, (_, i) => `I${i}`);
  return onnxModel([{ ins: names, out: 'Y', op: 'Sum' }], names.map((x) => [x, ['N']]), ['Y', ['N']]);
}
/** N×N float32 filled with 1/N: every MatMul of the chain gives 1/N again, so values stay finite */
export function slowInput(n: number): Buffer {
  const b = Buffer.alloc(n * n * 4);
  const v = 1 / n;
  for (let i = 0; i < n * n; i++) b.writeFloatLE(v, i * 4);
  return b;
}
/**
 * Y = X · W with W a constant [k, m] initializer (W[i] = ((i % 97) - 48) / 4096): a model of about 4·k·m bytes,
 * for tests that move big models around. Input X float [1, k], output Y float [1, m].
 */
export function weightedMatMul(k: number, m: number): Buffer {
  const w = Buffer.alloc(k * m * 4);
  for (let i = 0; i < k * m; i++) w.writeFloatLE(((i % 97) - 48) / 4096, i * 4);
  // TensorProto: dims=1, data_type=2 (FLOAT=1), name=8, raw_data=9
  const init = Buffer.concat([fieldVarint(1, k), fieldVarint(1, m), fieldVarint(2, 1), fieldBytes(8, 'W'), fieldBytes(9, w)]);
  const node = fieldBytes(1, Buffer.concat([fieldBytes(1, 'X'), fieldBytes(1, 'W'), fieldBytes(2, 'Y'), fieldBytes(4, 'MatMul')]));
  const graph = Buffer.concat([
    node,
    fieldBytes(2, 'weighted'),
    fieldBytes(5, init),
    fieldBytes(11, valueInfo('X', ['1', String(k)])),
    fieldBytes(12, valueInfo('Y', ['1', String(m)])),
  ]);
  const opset = Buffer.concat([fieldBytes(1, ''), fieldVarint(2, 13)]);
  return Buffer.concat([fieldVarint(1, 7), fieldBytes(8, opset), fieldBytes(7, graph)]);
}
