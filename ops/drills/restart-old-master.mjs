#!/usr/bin/env node
// Restart drill: kill -9 the master of the sentinel topology (ops/sentinel/local.sh) under a SET + WAIT load; after
// the failover, restart the old master (same data dir, AOF on) while the load goes on: the sentinels turn it into a
// replica of the new master (+convert-to-slave), it resyncs, and no acknowledged write is lost. The machinery is
// kill-master.mjs's, with `--restart-old`.
//   node ops/drills/restart-old-master.mjs [--base-port 7200] [--json]
process.argv.splice(2, 0, 'sentinel', '--restart-old');
await import('./kill-master.mjs');
