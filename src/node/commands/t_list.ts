import type { CommandDef } from '../command-table';

export const listCommands: CommandDef[] = [];
