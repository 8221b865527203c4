#!/usr/bin/env node
// Sentinel loss drill: kill -9 one of the three sentinels (quorum 2), then kill -9 the master under a SET + WAIT
// load: the two left still fail over (a majority, 2 of 3, elects the leader); then restart the killed sentinel from
// its config file: it learns the new master (hello messages / config epoch) and does not try to undo the failover.
// The machinery is kill-master.mjs's, with `--kill-sentinel`.
//   node ops/drills/kill-sentinel.mjs [--base-port 7200] [--json]
process.argv.splice(2, 0, 'sentinel', '--kill-sentinel');
await import('./kill-master.mjs');
