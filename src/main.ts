// Entry point: `inferdb [config-file] [--port N] [--bind ADDR] [--dir PATH] [--requirepass PW] [--<param> value]`,
// or `inferdb --sentinel <sentinel.conf>` for a sentinel.

import * as fs from 'node:fs';
import { Config, ConfigError, parseCommandLine } from './node/config';
import { Server } from './node/server';
import { checkAof } from './persistence/check-aof';
import { runSentinel } from './sentinel';

async function main(): Promise<void> {
  if (process.argv[2] === '--check-aof') {
    // inferdb --check-aof [--fix] <manifest|file>: checks (and repairs) an append-only file, then exits
    process.exit(checkAof(process.argv.slice(3)));
  }
  if (process.argv.includes('--sentinel')) {
    // inferdb --sentinel <sentinel.conf>: sentinel mode (src/sentinel)
    return runSentinel(process.argv.slice(2));
  }
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
  // as Redis on SIGTERM: the log is synced and, with save points, the snapshot saved before exiting
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.persistence.prepareShutdown('default').then((ok) => {
      if (ok) server.shutdown();
      else stopping = false;
    });
  };
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
