// Every command definition, gathered into the one command table.

import type { CommandDef } from '../command-table';
import { connectionCommands } from './connection';
import { genericCommands } from './generic';
import { stringCommands } from './t_string';
import { listCommands } from './t_list';
import { hashCommands } from './t_hash';
import { setCommands } from './t_set';
import { zsetCommands } from './t_zset';
import { streamCommands } from './t_stream';
import { transactionCommands } from './transactions';
import { pubsubCommands } from './pubsub';
import { serverCommands } from './server-admin';
import { memoryCommands } from './memory';
import { latencyCommands } from './latency';
import { aiCommands } from '../../ai/commands';
import { replicationCommands } from '../../replication/commands';
import { clusterCommands } from '../../cluster/commands';
import { aclCommands } from './acl';

export const allCommands: CommandDef[] = [
  ...connectionCommands,
  ...serverCommands,
  ...memoryCommands,
  ...latencyCommands,
  ...genericCommands,
  ...stringCommands,
  ...listCommands,
  ...hashCommands,
  ...setCommands,
  ...zsetCommands,
  ...streamCommands,
  ...transactionCommands,
  ...pubsubCommands,
  ...aiCommands,
  ...replicationCommands,
  ...clusterCommands,
  ...aclCommands,
];
