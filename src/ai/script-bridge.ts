// The main-thread end of redis.execute() in TorchScript scripts. A script runs in a backend worker thread; when
// it calls redis.execute, the worker posts { scriptCommand: argv } (src/backends/torch.ts) and blocks on a
// shared flag. The device queue hands that message here with the handler of the script run in flight on that
// worker (the job's onCommand, made by AI.SCRIPTEXECUTE for its client). The command runs on the main thread
// like any other (keyspace, propagation), its reply goes back on the worker's bridge port, and the flag wakes
// the worker. redisAI.model_execute comes the same way as { model, inputs, outputs }. Nothing here blocks the
// event loop.

import type { MessagePort, Worker } from 'node:worker_threads';
import type { BackendTensor } from '../backends/backend';
import type { ScriptCommand, ScriptCommandReply, ScriptCommandRequest } from '../backends/torch';

export type { ScriptCommand, ScriptCommandReply, ScriptCommandRequest, ScriptModelCall } from '../backends/torch';

/**
 * Runs one command for a script (an argv: redis.execute) or one model (redisAI.model_execute); answers the
 * reply or the output tensors (errors as { error }).
 */
export type ScriptCommandHandler = (req: ScriptCommand) => Promise<ScriptCommandReply | BackendTensor[]>;

const bridges = new WeakMap<Worker, { port: MessagePort; flag: Int32Array }>();

export function isScriptCommand(msg: unknown): msg is ScriptCommandRequest {
  return typeof msg === 'object' && msg !== null && 'scriptCommand' in msg;
}

/** Answers a worker's redis.execute request (see the top of the file). */
export function answerScriptCommand(worker: Worker, msg: ScriptCommandRequest, handler: ScriptCommandHandler | undefined): void {
  if (msg.port && msg.flag) bridges.set(worker, { port: msg.port, flag: new Int32Array(msg.flag) });
  const bridge = bridges.get(worker);
  if (!bridge) return;
  const reply: Promise<ScriptCommandReply | BackendTensor[]> = handler
    ? handler(msg.scriptCommand).catch((e: unknown) => ({ error: String((e as Error)?.message ?? e) }))
    : Promise.resolve({ error: 'ERR redis.execute is not available here' });
  void reply.then((r) => {
    bridge.port.postMessage({ reply: r });
    Atomics.store(bridge.flag, 0, 1);
    Atomics.notify(bridge.flag, 0);
  });
}

/** A RESP2 reply (as a socket-less client's writer produced it) as the value redis.execute returns. */
export function parseResp2(buf: Buffer | null): ScriptCommandReply {
  if (!buf || buf.length === 0) return null;
  let p = 0;
  const line = (): string => {
    const e = buf.indexOf('\r\n', p, 'latin1');
    const s = buf.toString('latin1', p, e);
    p = e + 2;
    return s;
  };
  const one = (): ScriptCommandReply => {
    const t = String.fromCharCode(buf[p++]);
    const s = line();
    switch (t) {
      case '+':
        return s;
      case '-':
        return { error: s };
      case ':': {
        const n = Number(s);
        return Number.isSafeInteger(n) ? n : BigInt(s);
      }
      case '$': {
        const n = Number(s);
        if (n < 0) return null;
        const v = buf.toString('utf8', p, p + n);
        p += n + 2;
        return v;
      }
      case '*': {
        const n = Number(s);
        if (n < 0) return null;
        const a: ScriptCommandReply[] = [];
        for (let i = 0; i < n; i++) a.push(one());
        return a;
      }
      default:
        return { error: `ERR unexpected reply type ${t}` };
    }
  };
  return one();
}
