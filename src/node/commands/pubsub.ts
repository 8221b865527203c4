// Pub/Sub commands. Subscription confirmations are pushes in RESP3 and arrays in RESP2.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import { globMatch } from '../glob';
import { str } from './args';

type Op = (c: Client, name: string) => boolean;

function subscribeGeneric(c: Client, argv: Buffer[], kind: string, op: Op): void {
  for (let i = 1; i < argv.length; i++) {
    const name = str(argv[i]);
    op(c, name);
    c.out.push(3).bulk(kind).bulk(name).int(c.subscriptionCount);
  }
}

function unsubscribeGeneric(c: Client, argv: Buffer[], kind: string, current: Set<string>, op: Op): void {
  const names = argv.length > 1 ? argv.slice(1).map(str) : [...current];
  if (names.length === 0) {
    c.out.push(3).bulk(kind).null().int(c.subscriptionCount);
    return;
  }
  for (const name of names) {
    op(c, name);
    c.out.push(3).bulk(kind).bulk(name).int(c.subscriptionCount);
  }
}

const flags: CommandDef['flags'] = ['pubsub', 'noscript', 'loading', 'stale', 'allowed-in-subscribe'];

export const pubsubCommands: CommandDef[] = [
  {
    name: 'subscribe',
    arity: -2,
    flags,
    group: 'pubsub',
    handler: (c, argv) => subscribeGeneric(c, argv, 'subscribe', (cl, n) => cl.server.pubsub.subscribe(cl, n)),
  },
  {
    name: 'unsubscribe',
    arity: -1,
    flags,
    group: 'pubsub',
    handler: (c, argv) => unsubscribeGeneric(c, argv, 'unsubscribe', c.channels, (cl, n) => cl.server.pubsub.unsubscribe(cl, n)),
  },
  {
    name: 'psubscribe',
    arity: -2,
    flags,
    group: 'pubsub',
    handler: (c, argv) => subscribeGeneric(c, argv, 'psubscribe', (cl, n) => cl.server.pubsub.psubscribe(cl, n)),
  },
  {
    name: 'punsubscribe',
    arity: -1,
    flags,
    group: 'pubsub',
    handler: (c, argv) => unsubscribeGeneric(c, argv, 'punsubscribe', c.patterns, (cl, n) => cl.server.pubsub.punsubscribe(cl, n)),
  },
  {
    name: 'publish',
    arity: 3,
    flags: ['pubsub', 'loading', 'stale', 'fast', 'may-replicate'],
    group: 'pubsub',
    handler: (c, argv) => void c.out.int(c.server.pubsub.publish(str(argv[1]), argv[2])),
  },
  {
    name: 'pubsub',
    arity: -2,
    flags: [],
    group: 'pubsub',
    subcommands: [
      {
        name: 'channels',
        arity: -2,
        flags: ['pubsub', 'loading', 'stale'],
        group: 'pubsub',
        handler: (c, argv) => {
          const pattern = argv.length > 2 ? str(argv[2]) : null;
          c.out.bulks([...c.server.pubsub.channels.keys()].filter((ch) => pattern === null || globMatch(pattern, ch)));
        },
      },
      {
        name: 'numsub',
        arity: -2,
        flags: ['pubsub', 'loading', 'stale'],
        group: 'pubsub',
        handler: (c, argv) => {
          c.out.map(argv.length - 2);
          for (let i = 2; i < argv.length; i++) c.out.bulk(argv[i]).int(c.server.pubsub.channels.get(str(argv[i]))?.size ?? 0);
        },
      },
      {
        name: 'numpat',
        arity: 2,
        flags: ['pubsub', 'loading', 'stale'],
        group: 'pubsub',
        handler: (c) => void c.out.int(c.server.pubsub.patterns.size),
      },
      {
        name: 'help',
        arity: 2,
        flags: ['loading', 'stale'],
        group: 'pubsub',
        handler: (c) => {
          const lines = ['PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'CHANNELS [<pattern>]', 'NUMPAT', 'NUMSUB [<channel> ...]', 'HELP'];
          c.out.array(lines.length);
          for (const l of lines) c.out.simple(l);
        },
      },
    ],
  },
];
