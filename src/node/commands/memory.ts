// MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP, over the accounted sizes of src/node/memory.ts
// (the figures maxmemory and INFO memory use), not Node's heap.

import type { CommandDef } from '../command-table';
import { entrySize, KEY_OVERHEAD, STARTUP_BYTES, valueSize } from '../memory';
import { parseInteger, str, syntaxError } from './args';

const MEMORY_HELP = [
  'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
  'HELP',
  '    Print this help.',
];

export const memoryCommands: CommandDef[] = [
  {
    name: 'memory',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      {
        name: 'usage',
        arity: -3,
        flags: ['readonly'],
        keys: [2, 2, 1],
        group: 'server',
        handler: (c, argv) => {
          let samples = 5;
          for (let j = 3; j < argv.length; j++) {
            if (str(argv[j]).toLowerCase() === 'samples' && j + 1 < argv.length) {
              samples = parseInteger(argv[++j]);
              if (samples < 0) syntaxError();
            } else {
              syntaxError();
            }
          }
          const key = str(argv[2]);
          // no LRU touch, as Redis's MEMORY USAGE; a key past its TTL is absent
          const v = c.db.map.get(key);
          const at = c.db.expires.get(key);
          if (v === undefined || (at !== undefined && at <= Date.now())) return void c.out.null();
          c.out.int(samples === 5 ? entrySize(key, v) : KEY_OVERHEAD + key.length + valueSize(v, samples));
        },
      },
      {
        name: 'stats',
        arity: 2,
        flags: [],
        group: 'server',
        handler: (c) => {
          const mem = c.server.memory;
          const used = mem.used();
          const dataset = mem.dataset();
          let keys = 0;
          const dbs: [string, number][] = [];
          for (const db of c.server.dbs) {
            if (db.size === 0) continue;
            keys += db.size;
            dbs.push([`db.${db.id}`, db.usedBytes]);
          }
          const fields: [string, number | string][] = [
            ['peak.allocated', mem.peak],
            ['total.allocated', used],
            ['startup.allocated', STARTUP_BYTES],
            ['keys.count', keys],
            ['keys.bytes-per-key', keys ? Math.floor((used - STARTUP_BYTES) / keys) : 0],
            ['dataset.bytes', dataset],
            ['dataset.percentage', (dataset * 100) / Math.max(1, used - STARTUP_BYTES)],
            ['peak.percentage', (used * 100) / Math.max(1, mem.peak)],
          ];
          c.out.map(fields.length + dbs.length);
          for (const [k, v] of fields) {
            c.out.bulk(k);
            if (typeof v === 'number' && !Number.isInteger(v)) c.out.double(v);
            else c.out.int(Number(v));
          }
          // Redis shows db.N as a map of overhead figures; here the accounted bytes of the database
          for (const [k, v] of dbs) c.out.bulk(k).int(v);
        },
      },
      {
        name: 'doctor',
        arity: 2,
        flags: [],
        group: 'server',
        handler: (c) => {
          const mem = c.server.memory;
          const used = mem.used();
          const text =
            mem.limit > 0 && used > mem.limit
              ? `Sam, used memory (${used} bytes) is over maxmemory (${mem.limit} bytes): keys are evicted per maxmemory-policy '${c.server.config.get('maxmemory-policy')}' or deny-oom commands are refused.\n`
              : 'Hi Sam, I can\'t find any memory issue in your instance. I can only account for what happens on this base.\n';
          c.out.verbatim(text);
        },
      },
      {
        name: 'malloc-stats',
        arity: 2,
        flags: [],
        group: 'server',
        handler: (c) => {
          const m = process.memoryUsage();
          c.out.verbatim(`Stats not supported for the current allocator (v8: heapUsed=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external} rss=${m.rss})\n`);
        },
      },
      {
        name: 'purge',
        arity: 2,
        flags: [],
        group: 'server',
        handler: (c) => void c.out.ok(),
      },
      {
        name: 'help',
        arity: 2,
        flags: ['loading', 'stale'],
        group: 'server',
        handler: (c) => {
          c.out.array(MEMORY_HELP.length);
          for (const l of MEMORY_HELP) c.out.simple(l);
        },
      },
    ],
  },
];
