#!/usr/bin/env node
// A stream-driven inference worker (ioredis): requests arrive on the stream `requests` (field `tx`: a FLOAT
// [1,30] transaction as 120 raw bytes, field `rid`: the request id); workers of the consumer group `workers` read
// them with XREADGROUP, run the fraud-detection DAG on each (AI.DAGEXECUTE: LOAD the reference tensor, TENSORSET
// the transaction, MODELEXECUTE the model, TENSORGET the output), XADD the score to the stream `results` and XACK.
// Before reading new requests, and whenever idle, a worker XAUTOCLAIMs requests left pending longer than
// --claim-idle ms by a worker that died, so no request is lost.
//
//   node examples/stream-worker.mjs --port 6379 --setup            # store the model and reference, create the group
//   node examples/stream-worker.mjs --port 6379 --name w1 [--claim-idle 5000] [--slow ms] [--exit-when-idle ms]
//
// The model is an ONNX stand-in of the creditcardfraud shape (output = Softmax(transaction·W1 + reference·W2)),
// generated here as bench/dag-benchmark.mjs does, so the example needs no file.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Redis = require('ioredis').default ?? require('ioredis');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const port = Number(opt('port', '6379'));
const host = opt('host', '127.0.0.1');
const name = opt('name', `worker-${process.pid}`);
const claimIdle = Number(opt('claim-idle', '5000'));
const slow = Number(opt('slow', '0'));
const exitWhenIdle = Number(opt('exit-when-idle', '0'));

// ---- the model (onnx.proto by hand) ----
function varint(n) {
  const out = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const fVarint = (f, n) => Buffer.concat([varint(f << 3), varint(n)]);
const fBytes = (f, b) => {
  const buf = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint((f << 3) | 2), varint(buf.length), buf]);
};
function valueInfo(n, dims) {
  const shape = Buffer.concat(dims.map((d) => fBytes(1, typeof d === 'number' ? fVarint(1, d) : fBytes(2, d))));
  return Buffer.concat([fBytes(1, n), fBytes(2, fBytes(1, Buffer.concat([fVarint(1, 1), fBytes(2, shape)])))]);
}
function initializer(n, dims, values) {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return Buffer.concat([...dims.map((d) => fVarint(1, d)), fVarint(2, 1), fBytes(8, n), fBytes(9, raw)]);
}
export function fraudOnnx() {
  const w = (n, seed) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.1);
  const node = (ins, out, op) => fBytes(1, Buffer.concat([...ins.map((i) => fBytes(1, i)), fBytes(2, out), fBytes(4, op)]));
  const graph = Buffer.concat([
    node(['transaction', 'W1'], 'A', 'MatMul'),
    node(['reference', 'W2'], 'B', 'MatMul'),
    node(['A', 'B'], 'C', 'Add'),
    node(['C'], 'output', 'Softmax'),
    fBytes(2, 'fraud'),
    fBytes(5, initializer('W1', [30, 2], w(60, 1))),
    fBytes(5, initializer('W2', [256, 2], w(512, 2))),
    fBytes(11, valueInfo('transaction', ['N', 30])),
    fBytes(11, valueInfo('reference', [1, 256])),
    fBytes(12, valueInfo('output', ['N', 2])),
  ]);
  return Buffer.concat([fVarint(1, 7), fBytes(8, Buffer.concat([fBytes(1, ''), fVarint(2, 13)])), fBytes(7, graph)]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function setup(r) {
  await r.call('AI.MODELSTORE', 'fraud', 'ONNX', 'CPU', 'BLOB', fraudOnnx());
  const ref = Buffer.alloc(256 * 4);
  for (let i = 0; i < 256; i++) ref.writeFloatLE(Math.cos(i) * 0.5, i * 4);
  await r.call('AI.TENSORSET', 'ref', 'FLOAT', '1', '256', 'BLOB', ref);
  try {
    await r.xgroup('CREATE', 'requests', 'workers', '0', 'MKSTREAM');
  } catch (e) {
    if (!String(e.message).startsWith('BUSYGROUP')) throw e;
  }
}

/** One request: the DAG, then the result and the acknowledgement. */
async function handle(r, id, fields) {
  const f = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i].toString()] = fields[i + 1];
  if (slow) await sleep(slow);
  const reply = await r.callBuffer(
    'AI.DAGEXECUTE', 'LOAD', '1', 'ref',
    '|>', 'AI.TENSORSET', 'tx', 'FLOAT', '1', '30', 'BLOB', f.tx,
    '|>', 'AI.MODELEXECUTE', 'fraud', 'INPUTS', '2', 'tx', 'ref', 'OUTPUTS', '1', 'out',
    '|>', 'AI.TENSORGET', 'out', 'BLOB',
  );
  const out = reply[2];
  const score = out.readFloatLE(4);
  await r.xadd('results', '*', 'rid', f.rid, 'request', id, 'score', score.toFixed(6), 'worker', name);
  await r.xack('requests', 'workers', id);
}

async function work(r) {
  let idleSince = Date.now();
  let cursor = '0-0';
  for (;;) {
    // requests a dead worker left pending
    const [next, claimed] = await r.xautoclaimBuffer('requests', 'workers', name, claimIdle, cursor, 'COUNT', 10);
    cursor = next.toString();
    for (const [id, fields] of claimed) if (fields) await handle(r, id.toString(), fields);
    const res = await r.xreadgroupBuffer('GROUP', 'workers', name, 'COUNT', 1, 'BLOCK', 200, 'STREAMS', 'requests', '>');
    let did = claimed.length > 0;
    for (const [, entries] of res ?? []) {
      for (const [id, fields] of entries) {
        await handle(r, id.toString(), fields);
        did = true;
      }
    }
    if (did) idleSince = Date.now();
    else if (exitWhenIdle && Date.now() - idleSince > exitWhenIdle) return;
  }
}

const r = new Redis({ port, host, maxRetriesPerRequest: 1 });
try {
  if (args.includes('--setup')) await setup(r);
  else await work(r);
} finally {
  r.disconnect();
}
