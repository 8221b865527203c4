// Pub/Sub registry: channel and pattern subscriptions, and message delivery (RESP2 arrays, RESP3 pushes); shard
// channels (SSUBSCRIBE / SPUBLISH, Redis 7's sharded pub/sub) are a namespace of their own, without patterns.

import type { Client } from './client';
import { globMatch } from './glob';

export class PubSub {
  readonly channels = new Map<string, Set<Client>>();
  readonly patterns = new Map<string, Set<Client>>();

  readonly shardChannels = new Map<string, Set<Client>>();
  /** each client's shard channels (kept here: the client's own sets count only SUBSCRIBE / PSUBSCRIBE) */
  private shardOf = new WeakMap<Client, Set<string>>();

  subscribe(c: Client, channel: string): boolean {
    if (c.channels.has(channel)) return false;
    c.channels.add(channel);
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(c);
    return true;
  }

  unsubscribe(c: Client, channel: string): boolean {
    if (!c.channels.delete(channel)) return false;
    const set = this.channels.get(channel);
    if (set) {
      set.delete(c);
      if (set.size === 0) this.channels.delete(channel);
    }
    return true;
  }

  psubscribe(c: Client, pattern: string): boolean {
    if (c.patterns.has(pattern)) return false;
    c.patterns.add(pattern);
    let set = this.patterns.get(pattern);
    if (!set) this.patterns.set(pattern, (set = new Set()));
    set.add(c);
    return true;
  }

  punsubscribe(c: Client, pattern: string): boolean {
    if (!c.patterns.delete(pattern)) return false;
    const set = this.patterns.get(pattern);
    if (set) {
      set.delete(c);
      if (set.size === 0) this.patterns.delete(pattern);
    }
    return true;
  }

  removeClient(c: Client): void {
    for (const ch of [...c.channels]) this.unsubscribe(c, ch);
    for (const p of [...c.patterns]) this.punsubscribe(c, p);
    for (const ch of [...this.clientShardChannels(c)]) this.sunsubscribe(c, ch);
  }

  clientShardChannels(c: Client): ReadonlySet<string> {
    return this.shardOf.get(c) ?? new Set();
  }

  ssubscribe(c: Client, channel: string): boolean {
    let mine = this.shardOf.get(c);
    if (!mine) this.shardOf.set(c, (mine = new Set()));
    if (mine.has(channel)) return false;
    mine.add(channel);
    c.shardSubscriptions = mine.size;
    let set = this.shardChannels.get(channel);
    if (!set) this.shardChannels.set(channel, (set = new Set()));
    set.add(c);
    return true;
  }

  sunsubscribe(c: Client, channel: string): boolean {
    const mine = this.shardOf.get(c);
    if (!mine?.delete(channel)) return false;
    c.shardSubscriptions = mine.size;
    const set = this.shardChannels.get(channel);
    if (set) {
      set.delete(c);
      if (set.size === 0) this.shardChannels.delete(channel);
    }
    return true;
  }

  /** SPUBLISH's local delivery: `smessage` to the channel's shard subscribers; returns their number. */
  spublish(channel: string, message: Buffer): number {
    const subs = this.shardChannels.get(channel);
    if (!subs) return 0;
    for (const c of subs) c.out.push(3).bulk('smessage').bulk(channel).bulk(message);
    return subs.size;
  }

  /** The shard channels whose slot this node no longer serves: their subscribers get an SUNSUBSCRIBE push, as Redis. */
  dropShardChannels(lost: (channel: string) => boolean): void {
    for (const [channel, subs] of [...this.shardChannels]) {
      if (!lost(channel)) continue;
      for (const c of [...subs]) {
        this.sunsubscribe(c, channel);
        c.out.push(3).bulk('sunsubscribe').bulk(channel).int(this.clientShardChannels(c).size);
      }
    }
  }

  /** Delivers a message; returns the number of clients that received it. */
  publish(channel: string, message: Buffer): number {
    let receivers = 0;
    const subs = this.channels.get(channel);
    if (subs) {
      for (const c of subs) {
        c.out.push(3).bulk('message').bulk(channel).bulk(message);
        receivers++;
      }
    }
    for (const [pattern, clients] of this.patterns) {
      if (!globMatch(pattern, channel)) continue;
      for (const c of clients) {
        c.out.push(4).bulk('pmessage').bulk(pattern).bulk(channel).bulk(message);
        receivers++;
      }
    }
    return receivers;
  }
}
