// Cross-shard read-only DAGs (cluster mode): a DAG without PERSIST is routed by its model / script / ROUTING keys
// (src/cluster/cluster.ts dagRoutedKeys), so its LOAD keys may live on other masters. Before the DAG is parsed,
// those tensors are read from their owners (src/cluster/remote-tensor.ts: AI.TENSORGET META BLOB, following
// -MOVED / -ASK once); the parser then takes them as if they were local. A key the owner does not have (or that
// is not a tensor) keeps the owner's error, given by the parser at that key's turn, exactly as a local one; a node
// that cannot be read (down, timed out) fails the whole command with a clear error.

import type { Client } from '../../node/client';
import { CommandError } from '../../node/errors';
import { fetchRemoteTensors } from '../../cluster/remote-tensor';
import type { Tensor } from '../tensor';

/** LOAD key → its tensor, or the error reading it gave */
export type RemoteLoads = Map<string, Tensor | string>;

/** The remote LOAD keys of this DAG, fetched; null when every LOAD key is local (the common case). */
export function fetchRemoteLoads(c: Client, argv: Buffer[]): Promise<RemoteLoads> | null {
  const cluster = c.server.cluster;
  if (cluster === null) return null;
  const { remote, errors } = cluster.remoteLoads(argv);
  if (remote.length === 0 && errors.size === 0) return null;
  const out: RemoteLoads = new Map(errors);
  if (remote.length === 0) return Promise.resolve(out);
  const timeout = Math.max(1000, c.server.config.getInt('cluster-node-timeout'));
  return fetchRemoteTensors(remote, timeout, c.server.config.get('masterauth')).then(
    (results) => {
      for (const [key, r] of results) out.set(key, 'tensor' in r ? r.tensor : r.error);
      return out;
    },
    (e: Error) => {
      throw new CommandError(e.message);
    },
  );
}
