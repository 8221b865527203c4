// What a parsed DAG is: its ops, the tensor slots they read and write, and the dependency graph between the ops
// that run on device queues, all fixed at parse time (./parser.ts builds it, ./executor.ts runs it).
//
// Tensor names are local to a DAG. Every value a name takes gets a slot of its own: a LOADed key, a TENSORSET op,
// each output of a model or script op. An op reads the slot its input name pointed to when the op was parsed
// (the newest earlier one), so a later op writing the same name never disturbs an earlier reader, and PERSIST
// writes the newest slot of each name.

import type { TensorGetFormat, Tensor } from '../tensor';
import type { Model } from '../model';

export interface TensorSetOp {
  kind: 'tensorset';
  /** its slot, filled at parse time (TENSORSET runs while the DAG is parsed) */
  output: number;
}

export interface TensorGetOp {
  kind: 'tensorget';
  input: number;
  format: TensorGetFormat;
}

export interface ModelOp {
  kind: 'model';
  model: Model;
  inputs: number[];
  outputs: number[];
}

export interface ScriptOp {
  kind: 'script';
  /** the AI_SCRIPT keyspace value's `value`, resolved at parse time */
  script: unknown;
  fn: string;
  /** KEYS: keyspace keys the function may touch (not tensors) */
  keys: string[];
  args: Buffer[];
  inputs: number[];
  outputs: number[];
  /** deprecated SCRIPTRUN: index in `inputs` of the first tensor after `$` (a List[Tensor] tail), or -1 */
  variadic: number;
}

export type DagOp = TensorSetOp | TensorGetOp | ModelOp | ScriptOp;
export type RunnableOp = ModelOp | ScriptOp;

export interface DagPlan {
  ops: DagOp[];
  /** number of slots; `initial[s]` holds the LOADed and TENSORSET values, the rest fill in as ops finish */
  slots: number;
  initial: (Tensor | undefined)[];
  /** PERSIST: each key with the slot holding its final value */
  persist: { key: string; slot: number }[];
  /** ms for the whole DAG; 0 = none */
  timeout: number;
  // the graph between runnable ops (model / script), by op index:
  /** indices of the runnable ops */
  runnable: number[];
  /** how many distinct runnable ops each op waits for */
  waitCount: Int32Array;
  /** the runnable ops that wait for each op */
  dependents: number[][];
}
