// Key extraction for the DAG commands (spec §8), for the command table's getKeys: every LOAD key, every PERSIST
// key, the ROUTING value, and the model / script key right after each AI.MODELEXECUTE / AI.SCRIPTEXECUTE (and
// AI.MODELRUN / AI.SCRIPTRUN) op word. Tensor names used only inside the DAG are not keys. Works on any argv,
// also one that does not parse (it never throws): cluster routing and CROSSSLOT checks run before the parser.

import { isSeparator } from './parser';

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
  const keys: number[] = [];
  let pos = 1;
  // the header, up to the first |>
  while (pos < argv.length && !isSeparator(argv[pos])) {
    const w = upper(argv[pos]);
    if (w === 'LOAD' || w === 'PERSIST') {
      const n = count(argv[pos + 1]);
      pos += 2;
      for (let i = 0; n > 0 && i < n && pos < argv.length && !isSeparator(argv[pos]); i++) keys.push(pos++);
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
  return keys;
}
