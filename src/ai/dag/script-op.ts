// The seam between the DAG executor and scripts: runs one SCRIPTEXECUTE / SCRIPTRUN op through the scripts
// module's executeScript (../script.ts: the function runs in the script's device queue, its AI.INFO counters are
// kept there). Commands the function calls with redis.execute run for the DAG's client, as they do for
// AI.SCRIPTEXECUTE (their writes propagate as they happen, spec §9). The DAG parser resolved the AI_SCRIPT value
// already; this file only adapts the call.

import type { Client } from '../../node/client';
import { scriptCommandRunner } from '../commands/script-commands';
import { executeScript, type Script } from '../script';
import type { Tensor } from '../tensor';
import type { ScriptOp } from './plan';

export type OpOutcome = { status: 'ok'; outputs: (Tensor | null)[] } | { status: 'timedout' };

/** Runs a script op on its input tensors; rejects with the reply text of a run-time error. */
export function runScriptOp(c: Client, op: ScriptOp, inputs: Tensor[], timeoutMs: number): Promise<OpOutcome> {
  const args = op.args.map((a) => a.toString('utf8'));
  return executeScript(op.script as Script, op.fn, inputs, op.keys, args, timeoutMs, {
    outputs: op.outputs.length,
    variadic: op.variadic,
    onCommand: scriptCommandRunner(c),
  });
}
