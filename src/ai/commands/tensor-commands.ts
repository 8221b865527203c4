// AI.TENSORSET and AI.TENSORGET (RedisAI's redisai.c command handlers): arity, the key check (which comes
// before any argument is parsed, as RedisAI), storing and reading AI_TENSOR values. The tensor grammar,
// layout and replies live in ../tensor.ts.

import type { CommandDef } from '../../node/command-table';
import type { Client } from '../../node/client';
import { CommandError, Err } from '../../node/errors';
import { str } from '../../node/commands/args';
import { readValue } from '../../node/commands/lookup';
import { AiErr } from '../errors';
import { wrongArity } from './common';
import { parseTensorGetFormat, parseTensorSetArgs, replyTensor, TENSOR_TYPE, type TensorValue } from '../tensor';

/** AI.TENSORSET <key> <type> [<dim> ...] [BLOB <data> | VALUES <v> [<v> ...]] */
function tensorset(c: Client, argv: Buffer[]): void {
  if (argv.length < 4) wrongArity(argv);
  const key = str(argv[1]);
  const old = c.db.lookup(key);
  if (old !== undefined && old.type !== TENSOR_TYPE) throw new CommandError(Err.wrongType);
  const tensor = parseTensorSetArgs(argv, c.server.config.getInt('proto-max-bulk-len'));
  const value: TensorValue = { type: TENSOR_TYPE, value: tensor };
  c.db.set(key, value);
  c.server.markDirty();
  c.out.ok();
}

/** AI.TENSORGET <key> [META] [BLOB | VALUES] */
function tensorget(c: Client, argv: Buffer[]): void {
  if (argv.length < 2 || argv.length > 4) wrongArity(argv);
  const v = readValue<TensorValue>(c, str(argv[1]), TENSOR_TYPE);
  if (v === undefined) throw new CommandError(AiErr.tensorKeyEmpty);
  replyTensor(c.out, v.value, parseTensorGetFormat(argv));
}

// arity -1: the handlers check argc themselves, so the error can echo the typed name as RedisAI's does
export const tensorCommands: CommandDef[] = [
  { name: 'ai.tensorset', arity: -1, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'ai', handler: tensorset },
  { name: 'ai.tensorget', arity: -1, flags: ['readonly'], keys: [1, 1, 1], group: 'ai', handler: tensorget },
];
