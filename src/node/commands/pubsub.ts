// Pub/Sub commands. Subscription confirmations are pushes in RESP3 and arrays in RESP2.

import type { CommandDef } from '../command-table';
import type { Client } from '../client';
import { globMatch } from '../glob';
import { str } from './args';
import { CommandError } from '../errors';

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

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

const flags: CommandDef['flags'] = ['pubsub', 'noscript', 'loading', 'stale', 'allowed-in-subscribe'];

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]: the channels with subscribers, matching the pattern. */
function channelsReply(c: Client, argv: Buffer[], subscribers: Map<string, Set<Client>>): void {
  if (argv.length > 3) throw new CommandError(`ERR unknown subcommand or wrong number of arguments for '${str(argv[1])}'. Try PUBSUB HELP.`);
  const pattern = argv.length > 2 ? str(argv[2]) : null;
  c.out.bulks([...subscribers.keys()].filter((ch) => pattern === null || globMatch(pattern, ch)));
}

/** PUBSUB NUMSUB / SHARDNUMSUB channel...: a flat array in RESP3 too, as Redis 7.0. */
function numsubReply(c: Client, argv: Buffer[], subscribers: Map<string, Set<Client>>): void {
  c.out.array((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) c.out.bulk(argv[i]).int(subscribers.get(str(argv[i]))?.size ?? 0);
}

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
    handler: (c, argv) => {
      // in cluster mode every other node delivers it too (over the bus); the reply counts this node's receivers
      c.server.cluster?.publish(argv[1], argv[2]);
      c.out.int(c.server.pubsub.publish(str(argv[1]), argv[2]));
    },
  },
  // sharded pub/sub (Redis 7): the channel is a key, so cluster routing sends it to the slot's shard
  {
    name: 'ssubscribe',
    arity: -2,
    flags,
    keys: [1, -1, 1],
    group: 'pubsub',
    handler: (c, argv) => {
      for (let i = 1; i < argv.length; i++) {
        const name = str(argv[i]);
        c.server.pubsub.ssubscribe(c, name);
        c.out.push(3).bulk('ssubscribe').bulk(name).int(c.server.pubsub.clientShardChannels(c).size);
      }
    },
  },
  {
    name: 'sunsubscribe',
    arity: -1,
    flags,
    keys: [1, -1, 1],
    group: 'pubsub',
    handler: (c, argv) => {
      const ps = c.server.pubsub;
      const names = argv.length > 1 ? argv.slice(1).map(str) : [...ps.clientShardChannels(c)];
      if (names.length === 0) return void c.out.push(3).bulk('sunsubscribe').null().int(0);
      for (const name of names) {
        ps.sunsubscribe(c, name);
        c.out.push(3).bulk('sunsubscribe').bulk(name).int(ps.clientShardChannels(c).size);
      }
    },
  },
  {
    name: 'spublish',
    arity: 3,
    // no may-replicate (as Redis 7.0): a WRITE pause does not hold it
    flags: ['pubsub', 'loading', 'stale', 'fast'],
    keys: [1, 1, 1],
    group: 'pubsub',
    handler: (c, argv) => {
      // the other nodes of this shard (master and replicas) deliver it too
      c.server.cluster?.spublish(argv[1], argv[2]);
      c.out.int(c.server.pubsub.spublish(str(argv[1]), argv[2]));
    },
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
        handler: (c, argv) => channelsReply(c, argv, c.server.pubsub.channels),
      },
      {
        name: 'numsub',
        arity: -2,
        flags: ['pubsub', 'loading', 'stale'],
        group: 'pubsub',
        handler: (c, argv) => numsubReply(c, argv, c.server.pubsub.channels),
      },
      {
        name: 'shardchannels',
        arity: -2,
        flags: ['pubsub', 'loading', 'stale'],
        group: 'pubsub',
        handler: (c, argv) => channelsReply(c, argv, c.server.pubsub.shardChannels),
      },
      {
        name: 'shardnumsub',
        arity: -2,
        flags: ['pubsub', 'loading', 'stale'],
        group: 'pubsub',
        handler: (c, argv) => numsubReply(c, argv, c.server.pubsub.shardChannels),
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
          c.out.array(PUBSUB_HELP.length);
          for (const l of PUBSUB_HELP) c.out.simple(l);
        },
      },
    ],
  },
];
