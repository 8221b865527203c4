// ONNX models built by hand for the benchmarks (protobuf with onnx.proto's field numbers, opset 13, FLOAT), so
// no generator or download is needed. test/helpers/onnx-models.ts is the tests' twin in TypeScript.

function varint(n) {
  const out = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const fieldVarint = (f, n) => Buffer.concat([varint(f << 3), varint(n)]);
const fieldBytes = (f, b) => {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint((f << 3) | 2), varint(buf.length), buf]);
};

/** ValueInfoProto of a FLOAT tensor; a dim is a number (dim_value) or a name (dim_param). */
function valueInfo(name, dims) {
  const shape = Buffer.concat(dims.map((d) => fieldBytes(1, typeof d === 'number' ? fieldVarint(1, d) : fieldBytes(2, d))));
  const tensorType = Buffer.concat([fieldVarint(1, 1 /* FLOAT */), fieldBytes(2, shape)]);
  return Buffer.concat([fieldBytes(1, name), fieldBytes(2, fieldBytes(1, tensorType))]);
}

/** TensorProto initializer: dims (1), data_type (2) FLOAT, name (8), raw_data (9). */
function initializer(name, dims, raw) {
  return Buffer.concat([...dims.map((d) => fieldVarint(1, d)), fieldVarint(2, 1), fieldBytes(8, name), fieldBytes(9, raw)]);
}

const node = (ins, out, op) => fieldBytes(1, Buffer.concat([...ins.map((i) => fieldBytes(1, i)), fieldBytes(2, out), fieldBytes(4, op)]));

function model(graphParts) {
  const opset = Buffer.concat([fieldBytes(1, ''), fieldVarint(2, 13)]);
  return Buffer.concat([fieldVarint(1, 7), fieldBytes(8, opset), fieldBytes(7, Buffer.concat(graphParts))]);
}

/** Y[1,m] = X[1,k] · W with W[i] = ((i % 97) - 48) / 4096: a model of about 4·k·m bytes (2560×2560 ≈ 26 MB). */
export function weightedMatMul(k, m) {
  const w = Buffer.alloc(k * m * 4);
  for (let i = 0; i < k * m; i++) w.writeFloatLE(((i % 97) - 48) / 4096, i * 4);
  return model([node(['X', 'W'], 'Y', 'MatMul'), fieldBytes(2, 'weighted'), fieldBytes(5, initializer('W', [k, m], w)), fieldBytes(11, valueInfo('X', [1, k])), fieldBytes(12, valueInfo('Y', [1, m]))]);
}

/**
 * The fraud-detection shape (RedisAI's creditcardfraud.pb): inputs transaction [N,30] and reference [1,256],
 * output [N,2] = softmax(transaction·W1 + reference·W2), with fixed pseudo-random weights.
 */
export function fraudOnnx() {
  const w = (n, seed) => {
    const raw = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) raw.writeFloatLE(Math.sin(i * 12.9898 + seed) * 0.1, i * 4);
    return raw;
  };
  return model([
    node(['transaction', 'W1'], 'A', 'MatMul'),
    node(['reference', 'W2'], 'B', 'MatMul'),
    node(['A', 'B'], 'C', 'Add'),
    node(['C'], 'output', 'Softmax'),
    fieldBytes(2, 'fraud'),
    fieldBytes(5, initializer('W1', [30, 2], w(60, 1))),
    fieldBytes(5, initializer('W2', [256, 2], w(512, 2))),
    fieldBytes(11, valueInfo('transaction', ['N', 30])),
    fieldBytes(11, valueInfo('reference', [1, 256])),
    fieldBytes(12, valueInfo('output', ['N', 2])),
  ]);
}
