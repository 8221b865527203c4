import type { CommandDef } from '../command-table';

export const setCommands: CommandDef[] = [];
