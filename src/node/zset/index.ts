// Sorted sets: the structure (skiplist.ts), score parsing and formatting (double.ts), the snapshot codec
// (codec.ts). The commands are in ../commands/t_zset.ts.

import type { ZSet } from './skiplist';

export interface ZSetValue {
  type: 'zset';
  value: ZSet;
}

export { ZSet, ZNode, LEX_MIN, LEX_MAX, cmpLex } from './skiplist';
export type { ScoreRange, LexRange, LexBound } from './skiplist';
export { parseScore, parseRangeScore, formatScore } from './double';
