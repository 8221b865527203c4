// Runs a parsed DAG (./plan.ts): model and script ops go to their device queues as soon as the ops they read from
// are done, so independent ops run at the same time (on different queues, or batched together on one) and an op
// waits only for its own inputs. The main thread only starts ops, keeps their outputs in the DAG's slots and, at
// the end, replies and writes the PERSIST keys:
// - an op that fails records its error; ops not started by then are skipped (`NA`), and nothing is persisted;
// - TIMEOUT covers the whole DAG: at its deadline the reply is `TIMEDOUT` and nothing is persisted (runs still
//   in a queue carry the same deadline and are answered TIMEDOUT there);
// - PERSIST keys are all checked before any is written; each write propagates as AI.TENSORSET ... BLOB (several
//   in one MULTI/EXEC), never the DAG command itself (spec §9);
// - a client gone by the end gets nothing written (as single-op commands).
// It never parses arguments and never touches the keyspace before the end.

import type { Client } from '../../node/client';
import type { Database } from '../../node/keyspace';
import { Err } from '../../node/errors';
import { backendError, outputTensor, tensorSetArgv } from '../commands/common';
import { replyTensor, TENSOR_TYPE, type Tensor, type TensorValue } from '../tensor';
import { DagErr } from './errors';
import type { DagPlan, ModelOp, RunnableOp } from './plan';
import { runScriptOp, type OpOutcome } from './script-op';

// op states (0: not started yet)
const RUNNING = 1;
const DONE = 2;
const FAILED = 3;
const SKIPPED = 4;

/** One model op on its device queue, with the model's AI.INFO counters kept as MODELEXECUTE keeps them. */
async function runModelOp(op: ModelOp, inputs: Tensor[], timeoutMs: number): Promise<OpOutcome> {
  const m = op.model;
  const batch = m.batchsize > 0 ? { size: m.batchsize, min: m.minbatchsize, minTimeout: m.minbatchtimeout } : undefined;
  let r;
  try {
    r = await m.queue.run(m.id, inputs, timeoutMs, batch);
  } catch (e) {
    m.stats.calls++;
    m.stats.errors++;
    throw e;
  }
  if (r.status === 'timedout') return r;
  m.stats.calls++;
  m.stats.duration += r.usec;
  m.stats.samples += r.outputs[0]?.shape[0] ?? 0;
  return { status: 'ok', outputs: r.outputs.map((o) => (o ? outputTensor(o) : null)) };
}

/** Where a run of a DAG stands. */
interface RunState {
  values: (Tensor | undefined)[];
  state: Uint8Array;
  errors: string[];
  /** index of the first op (in op order) that failed; -1 when none did */
  failedAt: number;
  timedOut: boolean;
}

/** Runs the DAG, then replies and persists; resolves once the reply is written. */
export function executeDag(c: Client, plan: DagPlan): Promise<void> {
  const db = c.db;
  return new Promise<void>((resolve, reject) => {
    const run: RunState = {
      values: plan.initial.slice(),
      state: new Uint8Array(plan.ops.length),
      errors: [],
      failedAt: -1,
      timedOut: false,
    };
    const waiting = plan.waitCount.slice();
    let unsettled = plan.runnable.length;
    let finished = false;
    const deadline = plan.timeout > 0 ? Date.now() + plan.timeout : 0;
    let timer: NodeJS.Timeout | undefined;

    const finish = (): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      try {
        complete(c, db, plan, run);
        resolve();
      } catch (e) {
        reject(e);
      }
    };
    /** a bug of ours in a completion callback: the command fails (internal error) instead of hanging */
    const abort = (e: unknown): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      reject(e);
    };
    const timeOut = (): void => {
      run.timedOut = true;
      finish();
    };
    const fail = (i: number, message: string): void => {
      run.state[i] = FAILED;
      run.errors[i] = message;
      if (run.failedAt < 0 || i < run.failedAt) run.failedAt = i;
    };
    const settle = (i: number): void => {
      unsettled--;
      for (const d of plan.dependents[i]) if (--waiting[d] === 0) start(d);
      if (unsettled === 0) finish();
    };
    const start = (i: number): void => {
      if (finished) return;
      if (run.failedAt >= 0) {
        run.state[i] = SKIPPED;
        return settle(i);
      }
      const op = plan.ops[i] as RunnableOp;
      const inputs: Tensor[] = [];
      for (const s of op.inputs) {
        const t = run.values[s];
        // only when the op that should have written it produced no tensor there (a non-tensor ONNX output)
        if (t === undefined) {
          fail(i, DagErr.inputNotFound);
          return settle(i);
        }
        inputs.push(t);
      }
      let remaining = 0;
      if (deadline > 0) {
        remaining = deadline - Date.now();
        if (remaining <= 0) return timeOut();
      }
      run.state[i] = RUNNING;
      const pending = op.kind === 'model' ? runModelOp(op, inputs, remaining) : runScriptOp(c, op, inputs, remaining);
      pending
        .then(
          (r) => {
            if (finished) return;
            if (r.status === 'timedout') return timeOut();
            op.outputs.forEach((s, k) => (run.values[s] = r.outputs[k] ?? undefined));
            run.state[i] = DONE;
            settle(i);
          },
          (e: unknown) => {
            if (finished) return;
            fail(i, backendError(e).message);
            settle(i);
          },
        )
        .catch(abort);
    };

    if (deadline > 0) timer = setTimeout(timeOut, plan.timeout);
    // the ops with nothing to wait for, listed before any starts (a start can settle others synchronously)
    const ready = plan.runnable.filter((i) => waiting[i] === 0);
    for (const i of ready) start(i);
    if (unsettled === 0) finish();
  });
}

/** The end of a DAG: the reply, then the PERSIST writes and their propagation. */
function complete(c: Client, db: Database, plan: DagPlan, run: RunState): void {
  if (c.closed) return; // as Redis: the reply callback of a disconnected client never runs
  const out = c.out;
  if (run.timedOut) return void out.simple('TIMEDOUT');
  const failed = run.failedAt >= 0;

  // every PERSIST key is checked before any is written: one of another type writes none
  let persistError: string | null = null;
  const writes: [string, Tensor][] = [];
  if (!failed) {
    for (const { key, slot } of plan.persist) {
      const t = run.values[slot];
      if (t === undefined) continue; // a non-tensor model output: its key is left alone, as MODELEXECUTE
      const old = db.lookup(key);
      if (old !== undefined && old.type !== TENSOR_TYPE) {
        persistError = Err.wrongType;
        writes.length = 0;
        break;
      }
      writes.push([key, t]);
    }
  }

  out.array(plan.ops.length + (persistError ? 1 : 0));
  plan.ops.forEach((op, i) => {
    if (op.kind === 'tensorset') return void out.ok();
    if (op.kind === 'tensorget') {
      // a read after the op that failed counts as not run, as RedisAI's in-order execution would leave it
      const t = run.values[op.input];
      if (t !== undefined && !(failed && i > run.failedAt)) replyTensor(out, t, op.format);
      else out.simple('NA');
      return;
    }
    const s = run.state[i];
    if (s === DONE) out.ok();
    else if (s === FAILED) out.error(run.errors[i]);
    else out.simple('NA'); // not started, or skipped: never ran
  });
  if (persistError) out.error(persistError);

  if (writes.length === 0) return;
  const server = c.server;
  // several writes reach replicas and the AOF as one transaction, as RedisAI's several RM_Replicate calls
  if (writes.length > 1) server.beginTransactionPropagation();
  for (const [key, t] of writes) {
    db.set(key, { type: TENSOR_TYPE, value: t } satisfies TensorValue);
    server.propagate(db.id, tensorSetArgv(key, t));
  }
  if (writes.length > 1) server.endTransactionPropagation(db.id);
  server.markDirty(writes.length);
}
