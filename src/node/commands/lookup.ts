// Key lookups for read commands: WRONGTYPE checks plus the keyspace_hits / keyspace_misses counters.

import type { Client } from '../client';
import type { Value } from '../keyspace';

export function readValue<T extends Value>(c: Client, key: string, type: T['type']): T | undefined {
  const v = c.db.get<T>(key, type);
  if (v === undefined) c.server.stats.keyspaceMisses++;
  else c.server.stats.keyspaceHits++;
  return v;
}
