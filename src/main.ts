// Entry point: `inferdb [config-file] [--port N] [--bind ADDR] [--dir PATH] [--requirepass PW] [--<param> value]`.

import * as fs from 'node:fs';
import { Config, ConfigError, parseCommandLine } from './node/config';
import { Server } from './node/server';

async function main(): Promise<void> {
  const config = new Config();
  try {
    parseCommandLine(process.argv.slice(2), config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`*** FATAL CONFIG ERROR ***\n${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const dir = config.get('dir');
  fs.mkdirSync(dir, { recursive: true });
  process.chdir(dir);
  const server = new Server(config);
  server.onShutdown = () => process.exit(0);
  const stop = () => server.shutdown();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    await server.listen();
  } catch (e) {
    process.stderr.write(`Could not start the server: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

void main();
