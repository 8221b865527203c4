// Reads tensors from another cluster node, for a DAG whose LOAD keys live on other shards (../ai/dag/remote-loads.ts):
// a short-lived RESP2 client connection per node, the keys pipelined as `AI.TENSORGET key META BLOB` (each after
// ASKING when the slot is being migrated to that node). A -MOVED or -ASK reply is followed once. Each key's result
// is its tensor or the error text the owner answered (the same texts a local read gives: a missing key is
// `ERR tensor key is empty or in a different shard`).

import * as net from 'node:net';
import { commandBytes } from '../node/resp/command';
import { parseReply, type ParsedReply, type ReplyShape } from '../node/resp/reply-parser';
import { dtypeFromName, tensorFromBlob, type Tensor } from '../ai/tensor';

export interface RemoteKey {
  key: Buffer;
  host: string;
  port: number;
  /** send ASKING first (the slot is migrating to that node) */
  asking: boolean;
}

export type RemoteResult = { tensor: Tensor } | { error: string };

type Reply = ParsedReply<Buffer, { err: string }>;

/** bulk strings kept as bytes (tensor blobs), errors as { err } */
const BYTES: ReplyShape<Buffer, { err: string }> = {
  bulk: (buf, start, end) => buf.subarray(start, end),
  simple: (line) => Buffer.from(line, 'latin1'),
  error: (line) => ({ err: line }),
};

/** Sends `commands` on one connection and resolves with their replies, in order; rejects on timeout or a dropped link. */
function exchange(host: string, port: number, commands: (string | Buffer)[][], timeoutMs: number): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    sock.setNoDelay(true);
    const replies: Reply[] = [];
    let buf: Buffer = Buffer.alloc(0);
    let pos = 0;
    let done = false;
    const end = (e: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e);
      else resolve(replies);
    };
    const timer = setTimeout(() => end(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(Buffer.concat(commands.map((c) => commandBytes(...c)))));
    sock.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      try {
        for (let r = parseReply(buf, pos, BYTES); r; r = parseReply(buf, pos, BYTES)) {
          replies.push(r[0]);
          pos = r[1];
        }
      } catch (e) {
        return end(e as Error);
      }
      if (replies.length >= commands.length) end(null);
    });
    sock.on('error', (e) => end(e));
    sock.on('close', () => end(new Error('connection closed')));
  });
}

const isErr = (r: Reply): r is { err: string } => r !== null && typeof r === 'object' && !Buffer.isBuffer(r) && !Array.isArray(r);

/** AI.TENSORGET META BLOB's reply as a tensor. */
function tensorOf(r: Reply): Tensor {
  if (!Array.isArray(r)) throw new Error('unexpected AI.TENSORGET reply');
  let dtype: Buffer | null = null;
  let shape: number[] = [];
  let blob: Buffer | null = null;
  for (let i = 0; i + 1 < r.length; i += 2) {
    const k = Buffer.isBuffer(r[i]) ? (r[i] as Buffer).toString('latin1') : '';
    const v = r[i + 1];
    if (k === 'dtype' && Buffer.isBuffer(v)) dtype = v;
    else if (k === 'shape' && Array.isArray(v)) shape = v.map(Number);
    else if (k === 'blob' && Buffer.isBuffer(v)) blob = v;
  }
  const dt = dtype ? dtypeFromName(dtype) : undefined;
  if (!dt || !blob) throw new Error('unexpected AI.TENSORGET reply');
  // a copy: the blob is a view into the connection's read buffer
  return tensorFromBlob(dt, shape, Buffer.from(blob));
}

/**
 * Fetches every key from its node (pipelined per node, nodes in parallel); follows one -MOVED / -ASK per key.
 * `auth` is sent first when set (masterauth: the password the nodes share). Rejects when a node cannot be read.
 */
export async function fetchRemoteTensors(keys: RemoteKey[], timeoutMs: number, auth: string): Promise<Map<string, RemoteResult>> {
  const out = new Map<string, RemoteResult>();
  const round = async (todo: RemoteKey[], last: boolean): Promise<RemoteKey[]> => {
    const byNode = new Map<string, RemoteKey[]>();
    for (const k of todo) {
      const id = `${k.host}:${k.port}`;
      const list = byNode.get(id);
      if (list) list.push(k);
      else byNode.set(id, [k]);
    }
    const again: RemoteKey[] = [];
    await Promise.all(
      [...byNode.values()].map(async (list) => {
        const { host, port } = list[0];
        const cmds: (string | Buffer)[][] = [];
        if (auth) cmds.push(['AUTH', auth]);
        for (const k of list) {
          if (k.asking) cmds.push(['ASKING']);
          cmds.push(['AI.TENSORGET', k.key, 'META', 'BLOB']);
        }
        let replies: Reply[];
        try {
          replies = await exchange(host, port, cmds, timeoutMs);
        } catch (e) {
          throw new Error(`ERR could not read LOAD keys from cluster node ${host}:${port}: ${(e as Error).message}`);
        }
        let i = auth ? 1 : 0;
        if (auth && isErr(replies[0])) throw new Error(`ERR could not read LOAD keys from cluster node ${host}:${port}: ${replies[0].err}`);
        for (const k of list) {
          if (k.asking) i++;
          const r = replies[i++];
          const name = k.key.toString('latin1');
          if (isErr(r)) {
            const m = /^(MOVED|ASK) \d+ (.+):(\d+)$/.exec(r.err);
            if (m && !last) again.push({ key: k.key, host: m[2], port: Number(m[3]), asking: m[1] === 'ASK' });
            else out.set(name, { error: m ? `ERR LOAD key '${name}' moved again while being read from the cluster` : r.err });
          } else {
            out.set(name, { tensor: tensorOf(r) });
          }
        }
      }),
    );
    return again;
  };
  const redirected = await round(keys, false);
  if (redirected.length) await round(redirected, true);
  return out;
}
