// Every AI command definition (RedisAI's surface), gathered for the node's command table.

import type { CommandDef } from '../../node/command-table';
import { dagCommands } from './dag-commands';
import { modelCommands } from './model-commands';
import { scriptCommands } from './script-commands';
import { tensorCommands } from './tensor-commands';

export const aiCommands: CommandDef[] = [...tensorCommands, ...modelCommands, ...scriptCommands, ...dagCommands];
