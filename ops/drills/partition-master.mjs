#!/usr/bin/env node
// Partition drill: SIGSTOP the master of the sentinel topology (ops/sentinel/local.sh) under a SET + WAIT load for
// longer than down-after-milliseconds: the sentinels fail over; then SIGCONT: the old master comes back and is told
// to replicate the new one (+convert-to-slave). Prints the timeline and the acknowledged writes lost (0 expected:
// a write acknowledged by WAIT reached the replicas). The machinery is kill-master.mjs's, with `--fault stop`.
//   node ops/drills/partition-master.mjs [--base-port 7200] [--json]
process.argv.splice(2, 0, 'sentinel', '--fault', 'stop');
await import('./kill-master.mjs');
