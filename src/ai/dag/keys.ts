// Key extraction for the DAG commands (spec §8), for the command table's getKeys: every LOAD key, every PERSIST
// key, the ROUTING value, and the model / script key right after each AI.MODELEXECUTE / AI.SCRIPTEXECUTE (and
// AI.MODELRUN / AI.SCRIPTRUN) op word. Tensor names used only inside the DAG are not keys. Works on any argv,
// also one that does not parse (it never throws): cluster routing and CROSSSLOT checks run before the parser.

import { isSeparator } from './parser';
import { keyHashSlot } from '../../cluster/crc16';

const KEYED_OPS = new Set(['AI.MODELEXECUTE', 'AI.SCRIPTEXECUTE', 'AI.MODELRUN', 'AI.SCRIPTRUN']);

const upper = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1').toUpperCase());

/** A count argument, or -1. */
function count(b: Buffer | undefined): number {
  if (b === undefined) return -1;
  const s = b.toString('latin1');
  return /^[1-9]\d{0,8}$/.test(s) ? Number(s) : -1;
}

/** Indices in argv of the keys a DAG command touches. */
export function dagKeys(argv: Buffer[]): number[] {
  return dagKeyParts(argv).all;
}

/**
 * The keys split by role: `load` (LOAD keys: read only, so a cluster node may fetch them from other shards, see
 * ./remote-loads.ts), `all`, and whether the header has PERSIST.
 */
export function dagKeyParts(argv: Buffer[]): { all: number[]; load: number[]; persist: boolean } {
  const keys: number[] = [];
  const load: number[] = [];
  let persist = false;
  let pos = 1;
  // the header, up to the first |>
  while (pos < argv.length && !isSeparator(argv[pos])) {
    const w = upper(argv[pos]);
    if (w === 'LOAD' || w === 'PERSIST') {
      const n = count(argv[pos + 1]);
      pos += 2;
      if (w === 'PERSIST') persist = true;
      for (let i = 0; n > 0 && i < n && pos < argv.length && !isSeparator(argv[pos]); i++) {
        if (w === 'LOAD') load.push(pos);
        keys.push(pos++);
      }
    } else if (w === 'ROUTING') {
      if (pos + 1 < argv.length) keys.push(pos + 1);
      pos += 2;
    } else if (w === 'TIMEOUT') {
      pos += 2;
    } else {
      pos++;
    }
  }
  // the ops: the word after each |> names the op
  for (; pos < argv.length; pos++) {
    if (!isSeparator(argv[pos])) continue;
    if (pos + 2 < argv.length && KEYED_OPS.has(upper(argv[pos + 1])) && !isSeparator(argv[pos + 2])) keys.push(pos + 2);
  }
  return { all: keys, load, persist };
}

/**
 * Cluster mode: the keys a DAG is routed by (the cluster gate and the client helper agree on it). A DAG with
 * PERSIST: all its keys. Otherwise its model / script / ROUTING keys and the LOAD keys in their slot, the `anchor`
 * (the first of those keys' slot, or the first LOAD key's when it has none); its other LOAD keys are read from their
 * shards before it runs (./remote-loads.ts).
 */
export function dagRoutedKeys(argv: Buffer[]): { keys: number[]; anchor: number } {
  const { all, load, persist } = dagKeyParts(argv);
  if (all.length === 0) return { keys: all, anchor: -1 };
  if (persist) return { keys: all, anchor: keyHashSlot(argv[all[0]]) };
  const loads = new Set(load);
  const first = all.find((i) => !loads.has(i)) ?? all[0];
  const anchor = keyHashSlot(argv[first]);
  return { keys: all.filter((i) => !loads.has(i) || keyHashSlot(argv[i]) === anchor), anchor };
}
