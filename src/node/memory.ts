// Memory accounting for maxmemory, eviction and INFO memory. Node's heap figures (process.memoryUsage) only
// drop when the garbage collector runs, so a limit driven by them would evict far too much; instead every key
// has a size estimate that the keyspace adds and removes at once on each write (src/node/keyspace.ts):
// strings their length, containers their element count times the mean size of a few sampled elements (as
// Redis's MEMORY USAGE samples), tensors their buffer, models and scripts their blob / source (the weights a
// backend session holds). used_memory = a fixed start-up figure + those sizes + client buffers + models being
// loaded. Node's own heap figures are reported beside it.

import * as os from 'node:os';
import type { Database, Value } from './keyspace';
import type { Server } from './server';
import type { ListDeque } from './commands/t_list';

/** per key: hash-table entry, key and value headers (Redis spends about as much per small key) */
export const KEY_OVERHEAD = 56;
/** what used_memory starts from: the server's own structures, as a nominal figure (Redis 7 starts near 860 KB) */
export const STARTUP_BYTES = 768 * 1024;
/** elements sampled per container, as Redis's MEMORY USAGE default */
export const DEFAULT_SAMPLES = 5;

/** AI values per kind ('ONNX', 'TORCH', 'TF', 'TFLITE' models, 'SCRIPT', 'TENSOR'): how many, how many bytes */
export type AiTally = Map<string, { count: number; bytes: number }>;

const MODEL_TYPE = 'AI__MODEL';
const SCRIPT_TYPE = 'AI_SCRIPT';
const TENSOR_TYPE = 'AI_TENSOR';

/** The accounted size of a key with its value (what the keyspace adds and removes). */
export function entrySize(key: string, v: Value): number {
  return KEY_OVERHEAD + key.length + valueSize(v, DEFAULT_SAMPLES);
}

/**
 * The estimated size of a value. Containers: element count × mean size of the first `samples` elements (0: all
 * of them). Deterministic for a given content, so what was added for a value is what is taken away for it.
 */
export function valueSize(v: Value, samples: number): number {
  switch (v.type) {
    case 'string':
      return 16 + (v.value as Buffer).length;
    case 'list': {
      const d = v.value as ListDeque;
      const n = d.length;
      const k = samples > 0 ? Math.min(n, samples) : n;
      let sum = 0;
      for (let i = 0; i < k; i++) sum += d.at(i).length;
      return 48 + scaled(n, k, sum, 16);
    }
    case 'hash': {
      const m = v.value as Map<string, Buffer>;
      return 48 + sampleIterable(m.entries(), m.size, samples, ([f, val]) => f.length + val.length, 40);
    }
    case 'set': {
      const s = v.value as Set<string>;
      return 48 + sampleIterable(s.keys(), s.size, samples, (m) => m.length, 24);
    }
    case 'zset': {
      const dict = (v.value as { dict: Map<string, number> }).dict;
      // dict entry + skip list node (score, span, ~1.3 levels)
      return 64 + sampleIterable(dict.keys(), dict.size, samples, (m) => m.length, 72);
    }
    case 'stream': {
      const s = v.value as { chunks: { bytes: number }[]; groups: Map<string, { pel: Map<string, unknown> }> };
      const n = s.chunks.length;
      const k = samples > 0 ? Math.min(n, samples) : n;
      let sum = 0;
      for (let i = 0; i < k; i++) sum += s.chunks[i].bytes;
      let groups = 0;
      for (const g of s.groups.values()) groups += 128 + g.pel.size * 64;
      return 96 + scaled(n, k, sum, 64) + groups;
    }
    case TENSOR_TYPE: {
      const t = v.value as { data: Buffer; offsets?: Uint32Array; shape: number[] };
      return 96 + t.data.length + (t.offsets?.byteLength ?? 0) + t.shape.length * 8;
    }
    case MODEL_TYPE:
      return 256 + (v.value as { blob: Buffer }).blob.length;
    case SCRIPT_TYPE:
      return 256 + (v.value as { source: Buffer }).source.length;
    default:
      return 64;
  }
}

/** n elements whose first k sum to `sum` bytes, each with `per` bytes of overhead */
function scaled(n: number, k: number, sum: number, per: number): number {
  return k === 0 ? 0 : Math.round((n * sum) / k) + n * per;
}

function sampleIterable<T>(it: Iterator<T>, n: number, samples: number, size: (e: T) => number, per: number): number {
  const k = samples > 0 ? Math.min(n, samples) : n;
  let sum = 0;
  for (let i = 0; i < k; i++) sum += size(it.next().value as T);
  return scaled(n, k, sum, per);
}

/** What an AI value counts under in INFO memory's ai lines (null for other types). */
function aiKind(v: Value): { kind: string; bytes: number } | null {
  if (v.type === MODEL_TYPE) {
    const m = v.value as { backend: string; blob: Buffer };
    return { kind: m.backend, bytes: m.blob.length };
  }
  if (v.type === SCRIPT_TYPE) return { kind: 'SCRIPT', bytes: (v.value as { source: Buffer }).source.length };
  if (v.type === TENSOR_TYPE) return { kind: 'TENSOR', bytes: (v.value as { data: Buffer }).data.length };
  return null;
}

/**
 * Adds (sign 1) or removes (-1) a key's size in its database; AI values also in the database's AI tally. Strings
 * and AI values are never changed in place, so their size is computed again on removal; a container remembers the
 * size it was added with (`accounted`), so removal takes away exactly that even if it was changed unseen since.
 */
export function account(db: Database, key: string, v: Value, sign: 1 | -1): void {
  const type = v.type;
  if (type === 'string') {
    db.usedBytes += sign * (KEY_OVERHEAD + key.length + 16 + (v.value as Buffer).length);
    return;
  }
  if (type.charCodeAt(0) !== 65 /* 'A' */) {
    const sized = v as Value & { accounted?: number };
    if (sign > 0) db.usedBytes += sized.accounted = entrySize(key, v);
    else db.usedBytes -= sized.accounted ?? entrySize(key, v);
    return;
  }
  db.usedBytes += sign * entrySize(key, v);
  const ai = aiKind(v);
  if (ai === null) return;
  if (db.aiTally === null) db.aiTally = new Map();
  let t = db.aiTally.get(ai.kind);
  if (!t) db.aiTally.set(ai.kind, (t = { count: 0, bytes: 0 }));
  t.count += sign;
  t.bytes += sign * ai.bytes;
}

const BACKEND_LIBRARY: Record<string, string> = { ONNX: 'Onnxruntime', TORCH: 'Torch', TF: 'TensorFlow', TFLITE: 'TensorFlowLite' };

/** The server's memory figures: used_memory, its parts, the peak, the limit (maxmemory). */
export class MemoryAccounting {
  /** maxmemory in bytes (0: no limit), kept here because the dispatcher reads it for every command */
  limit = 0;
  peak = 0;
  /** buffers of normal / pub-sub clients (counted for eviction) and of replicas (not counted), as sampled by cron */
  private clientsNormal = 0;
  private clientsReplicas = 0;
  /** bytes of models being loaded (MODELSTORE between its check and its store), per backend */
  private loading = new Map<string, number>();
  private loadingTotal = 0;

  constructor(private server: Server) {
    this.limit = server.config.getInt('maxmemory');
  }

  /** Follows CONFIG SET: a lower maxmemory evicts at once (as Redis), a new policy starts a fresh pool. */
  watchConfig(): void {
    const config = this.server.config;
    const prev = config.onChange;
    config.onChange = (name, value) => {
      prev?.(name, value);
      if (name === 'maxmemory') {
        this.limit = config.getInt('maxmemory');
        if (this.limit > 0 && this.usedForEviction() > this.limit) {
          this.server.log(
            'warning',
            `WARNING: the new maxmemory value set via CONFIG SET (${this.limit}) is smaller than the current memory usage (${this.used()}). ` +
              'This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.',
          );
          this.server.eviction.makeRoom();
        }
      } else if (name === 'maxmemory-policy') {
        this.server.eviction.reset();
      }
    };
  }

  /** Sizes of every key and value, all databases (the dataset). */
  dataset(): number {
    let total = 0;
    for (const db of this.server.dbs) {
      db.settleSizes();
      total += db.usedBytes;
    }
    return total;
  }

  /** used_memory less what Redis does not count for eviction (replica output buffers). */
  usedForEviction(): number {
    return STARTUP_BYTES + this.dataset() + this.clientsNormal + this.loadingTotal;
  }

  used(): number {
    const u = this.usedForEviction() + this.clientsReplicas;
    if (u > this.peak) this.peak = u;
    return u;
  }

  /** Client query and reply buffers, re-read every cron tick (O(clients), so not per command). */
  sampleClients(): void {
    let normal = 0;
    let replicas = 0;
    for (const c of this.server.clients.values()) {
      const bytes = c.parser.pending + c.out.pendingBytes + c.socket.writableLength;
      if (c.kind === 'replica') replicas += bytes;
      else normal += bytes;
    }
    this.clientsNormal = normal;
    this.clientsReplicas = replicas;
  }

  /** Once per cron tick: client buffers, in-place changes, peak. */
  cron(): void {
    this.sampleClients();
    this.used();
  }

  /** After a load that filled the databases directly (snapshot, full sync): sizes from scratch. */
  recount(): void {
    for (const db of this.server.dbs) db.recountSizes();
  }

  /** AI values of every database, per kind. */
  aiTotals(): AiTally {
    const out: AiTally = new Map();
    for (const db of this.server.dbs) {
      if (db.aiTally === null) continue;
      for (const [kind, t] of db.aiTally) {
        const o = out.get(kind) ?? { count: 0, bytes: 0 };
        o.count += t.count;
        o.bytes += t.bytes;
        out.set(kind, o);
      }
    }
    return out;
  }

  /** Bytes of stored models of a backend plus those being loaded. */
  backendBytes(backend: string): number {
    return (this.aiTotals().get(backend)?.bytes ?? 0) + (this.loading.get(backend) ?? 0);
  }

  /**
   * Checks a model blob before it is loaded: against BACKEND_MEMORY_LIMIT (MB, 0: none) for its backend, and
   * against maxmemory (evicting per policy to make room). `freed`: bytes of the model it replaces. Answers the
   * error text, or null and then counts the blob as loading until release() is called.
   */
  admitModel(backend: string, bytes: number, freed: number, backendLimitMb: number): string | null {
    const limit = backendLimitMb * 1024 * 1024;
    if (limit > 0 && this.backendBytes(backend) - freed + bytes > limit) {
      return `ERR ${BACKEND_LIBRARY[backend] ?? backend} memory limit exceeded, memory allocation failed. (BACKEND_MEMORY_LIMIT ${backendLimitMb} MB)`;
    }
    if (this.limit > 0 && !this.server.eviction.makeRoom(Math.max(0, bytes - freed))) {
      return `OOM model of ${bytes} bytes does not fit under 'maxmemory' (used memory ${this.usedForEviction()}, maxmemory ${this.limit})`;
    }
    this.loading.set(backend, (this.loading.get(backend) ?? 0) + bytes);
    this.loadingTotal += bytes;
    return null;
  }

  /** A model admitted by admitModel was stored or failed to load. */
  release(backend: string, bytes: number): void {
    this.loading.set(backend, (this.loading.get(backend) ?? 0) - bytes);
    this.loadingTotal -= bytes;
  }

  /** INFO memory, as Redis 7 lists it, then the AI lines and Node's own heap figures. */
  infoFields(): [string, string | number][] {
    this.sampleClients();
    const m = process.memoryUsage();
    const used = this.used();
    const dataset = this.dataset();
    const overhead = used - dataset;
    const max = this.limit;
    const ai = this.aiTotals();
    let aiBytes = this.loadingTotal;
    const aiLines: [string, number][] = [];
    for (const backend of ['ONNX', 'TORCH', 'TF', 'TFLITE']) {
      const t = ai.get(backend);
      if (!t || t.count === 0) continue;
      aiBytes += t.bytes;
      aiLines.push([`ai_${backend.toLowerCase()}_models`, t.count], [`ai_${backend.toLowerCase()}_bytes`, t.bytes]);
    }
    const scripts = ai.get('SCRIPT');
    if (scripts && scripts.count > 0) {
      aiBytes += scripts.bytes;
      aiLines.push(['ai_scripts', scripts.count], ['ai_script_bytes', scripts.bytes]);
    }
    const tensors = ai.get('TENSOR');
    if (tensors && tensors.count > 0) aiLines.push(['ai_tensors', tensors.count], ['ai_tensor_bytes', tensors.bytes]);
    let workers = 0;
    for (const n of aiQueues(this.server)) workers += n;
    return [
      ['used_memory', used],
      ['used_memory_human', human(used)],
      ['used_memory_rss', m.rss],
      ['used_memory_rss_human', human(m.rss)],
      ['used_memory_peak', this.peak],
      ['used_memory_peak_human', human(this.peak)],
      ['used_memory_peak_perc', `${((used * 100) / Math.max(1, this.peak)).toFixed(2)}%`],
      ['used_memory_overhead', overhead],
      ['used_memory_startup', STARTUP_BYTES],
      ['used_memory_dataset', dataset],
      ['used_memory_dataset_perc', `${((dataset * 100) / Math.max(1, used - STARTUP_BYTES)).toFixed(2)}%`],
      ['total_system_memory', os.totalmem()],
      ['total_system_memory_human', human(os.totalmem())],
      ['maxmemory', max],
      ['maxmemory_human', human(max)],
      ['maxmemory_policy', this.server.config.get('maxmemory-policy')],
      ['mem_fragmentation_ratio', (m.rss / Math.max(1, used)).toFixed(2)],
      ['mem_fragmentation_bytes', m.rss - used],
      ['mem_not_counted_for_evict', this.clientsReplicas],
      ['mem_clients_slaves', this.clientsReplicas],
      ['mem_clients_normal', this.clientsNormal],
      ['mem_allocator', 'v8'],
      ['lazyfree_pending_objects', 0],
      // models and scripts (their weights / source, as the backend sessions hold them), and models loading
      ['used_memory_ai', aiBytes],
      ['ai_models_loading_bytes', this.loadingTotal],
      ...aiLines,
      ['ai_worker_threads', workers],
      // Node's own figures (they lag behind frees until the garbage collector runs)
      ['heap_used', m.heapUsed],
      ['heap_total', m.heapTotal],
      ['external_memory', m.external],
      ['array_buffers', m.arrayBuffers],
    ];
  }
}

/** Worker thread count per AI device queue, without creating the AI runtime (set by registerAiQueues). */
let aiQueues: (server: Server) => number[] = () => [];

/** The AI module tells memory accounting how to count its worker threads (src/ai/info.ts). */
export function registerAiQueues(fn: (server: Server) => number[]): void {
  aiQueues = fn;
}

export function human(n: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n}B` : `${v.toFixed(2)}${units[i]}`;
}
