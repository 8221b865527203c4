// A typed helper around an ioredis Cluster that routes the AI commands (and every other command) to the node owning
// their slot. ioredis only knows the key positions of the commands in its own table, so it sends AI.* to a random
// master and follows the MOVED; this helper finds the keys with the server's own command table (the same key
// specs and key functions - modelexecuteKeys, scriptexecuteKeys, the DAG's dagKeys - that the cluster gate uses),
// checks they hash to one slot (a DAG without PERSIST: its model's keys, see dagRoutedKeys), and sends the command to that slot's master, or to one of its replicas for a
// read-only command when asked (AI.DAGEXECUTE_RO with `readFromReplica`). MOVED (after a slot-table refresh), ASK,
// TRYAGAIN, CLUSTERDOWN and a lost connection are retried up to the cluster's `maxRedirections`.
//
// ioredis is imported for its types only: the caller builds the Cluster, so the server never loads ioredis.

import type { Cluster, Redis } from 'ioredis';
import { CommandTable, type Command } from '../node/command-table';
import { allCommands } from '../node/commands';
import { keyHashSlot } from '../cluster/crc16';
import { dagRoutedKeys } from '../ai/dag/keys';

const DAG_COMMANDS = new Set(['ai.dagexecute', 'ai.dagexecute_ro', 'ai.dagrun', 'ai.dagrun_ro']);

export type Arg = string | number | Buffer;

export const CROSSSLOT_MESSAGE = "CROSSSLOT Keys in request don't hash to the same slot";

/** Thrown before anything is sent when the keys of a command hash to more than one slot. */
export class CrossSlotError extends Error {
  constructor(readonly slots: number[]) {
    super(CROSSSLOT_MESSAGE);
    this.name = 'CrossSlotError';
  }
}

export interface SendOptions {
  /** run a read-only command on a replica of the slot's master (READONLY on that connection); the master when it has none */
  readFromReplica?: boolean;
}

export interface TensorReply {
  dtype: string;
  shape: number[];
  values?: (number | string)[];
  blob?: Buffer;
}

export interface ModelStoreOptions {
  tag?: string;
  batchSize?: number;
  minBatchSize?: number;
  minBatchTimeout?: number;
  /** input / output names (TF only) */
  inputs?: string[];
  outputs?: string[];
}

export interface ScriptExecuteOptions {
  keys?: string[];
  inputs?: string[];
  args?: Arg[];
  outputs?: string[];
  timeout?: number;
}

export interface DagOptions {
  load?: string[];
  persist?: string[];
  routing?: string;
  timeout?: number;
}

let table: CommandTable | undefined;
const commandTable = (): CommandTable => (table ??= new CommandTable(allCommands));

const toBuffer = (a: Arg): Buffer => (Buffer.isBuffer(a) ? a : Buffer.from(String(a)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The command (or subcommand) the server would run for this argv. */
function commandOf(argv: Buffer[]): Command | undefined {
  const cmd = commandTable().lookup(argv[0]);
  if (cmd?.subcommands && argv.length > 1) return cmd.subcommands.get(argv[1].toString('latin1').toLowerCase()) ?? cmd;
  return cmd;
}

/**
 * The slot of a command's keys as the server computes it: null when it has no keys (or is unknown), a
 * CrossSlotError when its keys hash to different slots.
 */
export function commandSlot(args: Arg[]): number | null {
  const argv = args.map(toBuffer);
  const cmd = commandOf(argv);
  if (!cmd) return null;
  let indices: number[];
  try {
    // a DAG without PERSIST goes to its model's node, which reads LOAD keys of other shards itself
    indices = DAG_COMMANDS.has(cmd.name) ? dagRoutedKeys(argv).keys : cmd.keyIndices(argv);
  } catch {
    return null;
  }
  const slots = new Set<number>();
  for (const i of indices) if (i < argv.length) slots.add(keyHashSlot(argv[i]));
  if (slots.size > 1) throw new CrossSlotError([...slots]);
  return slots.size ? [...slots][0] : null;
}

/** Whether the server's command table marks the command read-only (replicas serve it after READONLY). */
export function isReadOnlyCommand(name: string): boolean {
  return commandTable().get(name)?.has('readonly') ?? false;
}

const nodeKey = (r: Redis) => `${r.options.host}:${r.options.port}`;

export class InferdbCluster {
  /** the last node each routed command ran on, for diagnostics: "host:port" */
  lastNode: string | undefined;

  constructor(readonly cluster: Cluster) {}

  // ------------------------------------------------------------------------------------------------ routing

  /** Sends any command to the node owning its keys' slot; keyless commands go through ioredis as usual. */
  send(args: Arg[], opts: SendOptions = {}): Promise<unknown> {
    return this.route(args, opts, false);
  }

  /** send(), with bulk replies as Buffers. */
  sendBuffer(args: Arg[], opts: SendOptions = {}): Promise<unknown> {
    return this.route(args, opts, true);
  }

  private async route(args: Arg[], opts: SendOptions, buffers: boolean): Promise<unknown> {
    if (args.length === 0) throw new Error('empty command');
    const slot = commandSlot(args);
    const name = String(args[0]);
    if (opts.readFromReplica && !isReadOnlyCommand(name)) throw new Error(`${name} is not a read-only command; it cannot run on a replica`);
    if (slot === null) {
      this.lastNode = undefined;
      return buffers ? this.cluster.callBuffer(name, ...args.slice(1)) : this.cluster.call(name, ...args.slice(1));
    }
    await this.ready();
    const maxRedirections = this.cluster.options.maxRedirections ?? 16;
    let asking: string | undefined;
    let movedTo: string | undefined;
    let lastError: Error | undefined;
    for (let attempt = 0; attempt <= maxRedirections; attempt++) {
      const node = asking ? this.nodeByKey(asking) : (movedTo && this.nodeByKey(movedTo)) || this.pick(slot, opts.readFromReplica === true);
      const key = asking ?? movedTo;
      movedTo = undefined;
      if (!node) {
        // an address we have no connection for: learn the topology again
        await this.refresh();
        if (key && !this.nodeByKey(key)) await sleep(this.cluster.options.retryDelayOnFailover ?? 100);
        continue;
      }
      try {
        this.lastNode = nodeKey(node);
        // ASKING, or READONLY on a replica connection ioredis did not open read-only, goes right before the command
        const prefix = asking ? 'ASKING' : opts.readFromReplica && !node.options.readOnly && this.isReplicaFor(slot, node) ? 'READONLY' : undefined;
        asking = undefined;
        if (prefix) {
          const p = node.pipeline().call(prefix);
          const res = (await (buffers ? p.callBuffer(name, ...args.slice(1)) : p.call(name, ...args.slice(1))).exec())!;
          if (res[1][0]) throw res[1][0];
          return res[1][1];
        }
        return await (buffers ? node.callBuffer(name, ...args.slice(1)) : node.call(name, ...args.slice(1)));
      } catch (e) {
        lastError = e as Error;
        const msg = lastError.message ?? '';
        const [word, , addr] = msg.split(' ');
        if (word === 'MOVED') {
          await this.refresh();
          // the slot table may still be stale: go where we were sent (a replica read re-picks from the new table)
          if (!opts.readFromReplica) movedTo = addr;
        } else if (word === 'ASK') {
          asking = addr;
        } else if (word === 'TRYAGAIN') {
          await sleep(this.cluster.options.retryDelayOnTryAgain ?? 100);
        } else if (word === 'CLUSTERDOWN') {
          await sleep(this.cluster.options.retryDelayOnClusterDown ?? 100);
        } else if (/Connection is closed|ECONNREFUSED|ECONNRESET|Stream isn't writeable/.test(msg)) {
          await sleep(this.cluster.options.retryDelayOnFailover ?? 100);
          await this.refresh();
        } else {
          throw lastError;
        }
      }
    }
    throw new Error(`Too many Cluster redirections. Last error: ${lastError?.message}`);
  }

  /** The master (or, with `replica`, a replica) connection ioredis keeps for a slot, from its slot table. */
  nodeForSlot(slot: number, replica = false): Redis | undefined {
    return this.pick(slot, replica);
  }

  /** The slot of a key. */
  static keySlot(key: string | Buffer): number {
    return keyHashSlot(toBuffer(key));
  }

  // ------------------------------------------------------------------------------------------------ tensors

  /** AI.TENSORSET key dtype dims... VALUES v... | BLOB data */
  tensorset(key: string, dtype: string, shape: number[], data: Buffer | ArrayLike<number | string>): Promise<unknown> {
    const tail: Arg[] = Buffer.isBuffer(data) ? ['BLOB', data] : ['VALUES', ...Array.from(data)];
    return this.send(['AI.TENSORSET', key, dtype, ...shape, ...tail]);
  }

  /** AI.TENSORGET key META VALUES|BLOB, as { dtype, shape, values | blob }. */
  async tensorget(key: string, format: 'VALUES' | 'BLOB' = 'VALUES', opts: SendOptions = {}): Promise<TensorReply> {
    const args: Arg[] = ['AI.TENSORGET', key, 'META', format];
    const reply = format === 'BLOB' ? await this.sendBuffer(args, opts) : await this.send(args, opts);
    return parseTensorReply(reply);
  }

  // ------------------------------------------------------------------------------------------------ models

  /** AI.MODELSTORE key backend device [TAG t] [BATCHSIZE n [MINBATCHSIZE m [MINBATCHTIMEOUT ms]]] [INPUTS n ...] [OUTPUTS n ...] BLOB data */
  modelstore(key: string, backend: string, device: string, blob: Buffer, opts: ModelStoreOptions = {}): Promise<unknown> {
    const args: Arg[] = ['AI.MODELSTORE', key, backend, device];
    if (opts.tag !== undefined) args.push('TAG', opts.tag);
    if (opts.batchSize !== undefined) {
      args.push('BATCHSIZE', opts.batchSize);
      if (opts.minBatchSize !== undefined) {
        args.push('MINBATCHSIZE', opts.minBatchSize);
        if (opts.minBatchTimeout !== undefined) args.push('MINBATCHTIMEOUT', opts.minBatchTimeout);
      }
    }
    if (opts.inputs) args.push('INPUTS', opts.inputs.length, ...opts.inputs);
    if (opts.outputs) args.push('OUTPUTS', opts.outputs.length, ...opts.outputs);
    args.push('BLOB', blob);
    return this.send(args);
  }

  /** AI.MODELEXECUTE key INPUTS n k... OUTPUTS m k... [TIMEOUT ms] */
  modelexecute(key: string, inputs: string[], outputs: string[], opts: { timeout?: number } = {}): Promise<unknown> {
    const args: Arg[] = ['AI.MODELEXECUTE', key, 'INPUTS', inputs.length, ...inputs, 'OUTPUTS', outputs.length, ...outputs];
    if (opts.timeout !== undefined) args.push('TIMEOUT', opts.timeout);
    return this.send(args);
  }

  // ------------------------------------------------------------------------------------------------ scripts

  /** AI.SCRIPTSTORE key device [TAG t] ENTRY_POINTS n fn... SOURCE source */
  scriptstore(key: string, device: string, source: string | Buffer, entryPoints: string[], opts: { tag?: string } = {}): Promise<unknown> {
    const args: Arg[] = ['AI.SCRIPTSTORE', key, device];
    if (opts.tag !== undefined) args.push('TAG', opts.tag);
    args.push('ENTRY_POINTS', entryPoints.length, ...entryPoints, 'SOURCE', source);
    return this.send(args);
  }

  /** AI.SCRIPTEXECUTE key fn [KEYS n ...] [INPUTS n ...] [ARGS n ...] [OUTPUTS n ...] [TIMEOUT ms] */
  scriptexecute(key: string, fn: string, opts: ScriptExecuteOptions = {}): Promise<unknown> {
    const args: Arg[] = ['AI.SCRIPTEXECUTE', key, fn];
    if (opts.keys) args.push('KEYS', opts.keys.length, ...opts.keys);
    if (opts.inputs) args.push('INPUTS', opts.inputs.length, ...opts.inputs);
    if (opts.args) args.push('ARGS', opts.args.length, ...opts.args);
    if (opts.outputs) args.push('OUTPUTS', opts.outputs.length, ...opts.outputs);
    if (opts.timeout !== undefined) args.push('TIMEOUT', opts.timeout);
    return this.send(args);
  }

  // ------------------------------------------------------------------------------------------------ DAGs

  /** AI.DAGEXECUTE [LOAD ...] [PERSIST ...] [ROUTING k] [TIMEOUT ms] |> op |> op ...; each op is its argv. */
  dagexecute(dag: DagOptions, ops: Arg[][]): Promise<unknown[]> {
    return this.send(dagArgs('AI.DAGEXECUTE', dag, ops)) as Promise<unknown[]>;
  }

  /** AI.DAGEXECUTE_RO (no PERSIST); `{ readFromReplica: true }` runs it on a replica of the slot's master. */
  dagexecuteRO(dag: Omit<DagOptions, 'persist'>, ops: Arg[][], opts: SendOptions = {}): Promise<unknown[]> {
    return this.send(dagArgs('AI.DAGEXECUTE_RO', dag, ops), opts) as Promise<unknown[]>;
  }

  // ------------------------------------------------------------------------------------------------ internals

  private async ready(): Promise<void> {
    const c = this.cluster;
    if (c.status === 'ready') return;
    if (c.status === 'wait') c.connect().catch(() => {});
    if (c.status === 'end' || c.status === 'close') throw new Error('Connection is closed.');
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        c.off('end', onEnd);
        resolve();
      };
      const onEnd = () => {
        c.off('ready', onReady);
        reject(new Error('Connection is closed.'));
      };
      c.once('ready', onReady);
      c.once('end', onEnd);
    });
  }

  private refresh(): Promise<void> {
    return new Promise((resolve) => this.cluster.refreshSlotsCache(() => resolve()));
  }

  private nodeByKey(key: string): Redis | undefined {
    return this.cluster.nodes('all').find((n) => nodeKey(n) === key);
  }

  private isReplicaFor(slot: number, node: Redis): boolean {
    const keys = this.cluster.slots[slot] ?? [];
    return keys.indexOf(nodeKey(node)) > 0;
  }

  private pick(slot: number, replica: boolean): Redis | undefined {
    const keys = this.cluster.slots[slot];
    if (!keys || keys.length === 0) return undefined;
    if (replica && keys.length > 1) {
      const candidates = keys.slice(1).map((k) => this.nodeByKey(k)).filter((n): n is Redis => n !== undefined);
      if (candidates.length) return candidates[Math.floor(Math.random() * candidates.length)];
    }
    return this.nodeByKey(keys[0]);
  }
}

function dagArgs(name: string, dag: DagOptions, ops: Arg[][]): Arg[] {
  const args: Arg[] = [name];
  if (dag.load?.length) args.push('LOAD', dag.load.length, ...dag.load);
  if (dag.persist?.length) args.push('PERSIST', dag.persist.length, ...dag.persist);
  if (dag.routing !== undefined) args.push('ROUTING', dag.routing);
  if (dag.timeout !== undefined) args.push('TIMEOUT', dag.timeout);
  for (const op of ops) args.push('|>', ...op);
  return args;
}

/** AI.TENSORGET's META reply (a flat array, or a map under RESP3 when a client maps it) as an object. */
export function parseTensorReply(reply: unknown): TensorReply {
  const entries: [string, unknown][] = [];
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) entries.push([String(reply[i]), reply[i + 1]]);
  } else if (reply instanceof Map) {
    for (const [k, v] of reply) entries.push([String(k), v]);
  } else if (reply && typeof reply === 'object') {
    entries.push(...Object.entries(reply as Record<string, unknown>));
  } else {
    throw new Error(`unexpected AI.TENSORGET reply: ${String(reply)}`);
  }
  const out: TensorReply = { dtype: '', shape: [] };
  for (const [k, v] of entries) {
    if (k === 'dtype') out.dtype = String(v);
    else if (k === 'shape') out.shape = (v as unknown[]).map(Number);
    else if (k === 'values') out.values = (v as unknown[]).map((x) => (typeof x === 'number' ? x : Buffer.isBuffer(x) ? x.toString() : isNaN(Number(x)) ? String(x) : Number(x)));
    else if (k === 'blob') out.blob = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'latin1');
  }
  return out;
}
