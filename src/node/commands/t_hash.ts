import type { CommandDef } from '../command-table';

export const hashCommands: CommandDef[] = [];
