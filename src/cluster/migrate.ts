// DUMP / RESTORE / RESTORE-ASKING / MIGRATE for every value type, through the persistence codecs (the same
// record a snapshot holds: msgpack fields and raw blobs). The payload is inferdb's own, not Redis's RDB
// encoding: [type, codec version, fields, blobs] in msgpack, then a 2-byte format version and an 8-byte
// checksum (the first 8 bytes of its SHA-256), so a damaged payload is refused as Redis refuses one.
// MIGRATE sends RESTORE-ASKING commands to the target node over a plain connection, as Redis does.

import * as crypto from 'node:crypto';
import * as net from 'node:net';
import { pack, unpack } from 'msgpackr';
import type { CommandDef } from '../node/command-table';
import type { Client } from '../node/client';
import type { Value } from '../node/keyspace';
import { CommandError } from '../node/errors';
import { lower, str } from '../node/commands/args';
import { valueCodec } from '../persistence/codecs';
import { commandBytes } from '../node/resp/command';

const PAYLOAD_VERSION = 1;
const BAD_PAYLOAD = 'ERR DUMP payload version or checksum are wrong';

const checksum = (b: Buffer): Buffer => crypto.createHash('sha256').update(b).digest().subarray(0, 8);

export function dumpValue(v: Value): Buffer {
  const codec = valueCodec(v.type);
  if (!codec) throw new CommandError(`ERR DUMP is not supported for values of type ${v.type}`);
  const e = codec.encode(v);
  const body = pack([v.type, codec.version, e.fields ?? null, e.blobs ?? []]);
  const ver = Buffer.alloc(2);
  ver.writeUInt16LE(PAYLOAD_VERSION, 0);
  const head = Buffer.concat([body, ver]);
  return Buffer.concat([head, checksum(head)]);
}

export function restoreValue(payload: Buffer, c: Client): Value | Promise<Value> {
  if (payload.length < 10) throw new CommandError(BAD_PAYLOAD);
  const head = payload.subarray(0, payload.length - 8);
  if (!checksum(head).equals(payload.subarray(payload.length - 8)) || head.readUInt16LE(head.length - 2) !== PAYLOAD_VERSION) {
    throw new CommandError(BAD_PAYLOAD);
  }
  let rec: unknown;
  try {
    rec = unpack(head.subarray(0, head.length - 2));
  } catch {
    throw new CommandError('ERR Bad data format');
  }
  if (!Array.isArray(rec) || typeof rec[0] !== 'string') throw new CommandError('ERR Bad data format');
  const codec = valueCodec(rec[0]);
  if (!codec) throw new CommandError('ERR Bad data format');
  try {
    return codec.decode(rec[2], (rec[3] as Buffer[]) ?? [], Number(rec[1]), { server: c.server });
  } catch {
    throw new CommandError('ERR Bad data format');
  }
}

function dump(c: Client, argv: Buffer[]): void {
  const v = c.db.lookup(str(argv[1]));
  if (!v) return void c.out.null();
  c.out.bulk(dumpValue(v));
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] */
function restore(c: Client, argv: Buffer[]): void | Promise<void> {
  const key = str(argv[1]);
  const ttlText = str(argv[2]);
  if (!/^-?\d+$/.test(ttlText)) throw new CommandError('ERR value is not an integer or out of range');
  let ttl = Number(ttlText);
  let replace = false;
  let absttl = false;
  for (let i = 4; i < argv.length; i++) {
    const w = lower(argv[i]);
    if (w === 'replace') replace = true;
    else if (w === 'absttl') absttl = true;
    else if ((w === 'idletime' || w === 'freq') && i + 1 < argv.length) {
      const n = str(argv[++i]);
      if (!/^\d+$/.test(n)) throw new CommandError(w === 'idletime' ? 'ERR Invalid IDLETIME value, must be >= 0' : 'ERR Invalid FREQ value, must be >= 0 and <= 255');
    } else throw new CommandError('ERR syntax error');
  }
  if (ttl < 0) throw new CommandError('ERR Invalid TTL value, must be >= 0');
  if (!replace && c.db.exists(key)) throw new CommandError('BUSYKEY Target key name already exists.');
  const value = restoreValue(argv[3], c);
  const finish = (v: Value): void => {
    if (!replace && c.db.exists(key)) throw new CommandError('BUSYKEY Target key name already exists.');
    if (absttl && ttl > 0) ttl = ttl - Date.now();
    if (absttl && ttl <= 0 && Number(ttlText) > 0) {
      // already expired: as Redis, the key is not created (an existing one is deleted)
      if (c.db.delete(key)) c.server.markDirty();
      return void c.out.ok();
    }
    c.db.delete(key);
    c.db.set(key, v);
    if (ttl > 0) c.db.setExpire(key, Date.now() + ttl);
    c.server.markDirty();
    c.out.ok();
  };
  if (value instanceof Promise) {
    // a model is rebuilt in its backend first: the write (and its propagation) happens once it is ready
    return value.then(
      (v) => {
        finish(v);
        c.server.propagate(c.db.id, argv);
      },
      (e) => {
        throw e instanceof CommandError ? e : new CommandError('ERR Bad data format');
      },
    );
  }
  finish(value);
}

/** A tiny RESP reply reader for the target's answers (+OK, -ERR ..., :n, $n). */
function readReplies(sock: net.Socket, count: number, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const out: string[] = [];
    const timer = setTimeout(() => fail(new Error('timeout')), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      sock.off('data', onData);
      reject(e);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const line = buf.subarray(0, eol).toString('latin1');
        if (line[0] === '$') {
          const n = Number(line.slice(1));
          if (n >= 0 && buf.length < eol + 2 + n + 2) return;
          out.push(n < 0 ? '' : buf.subarray(eol + 2, eol + 2 + n).toString('latin1'));
          buf = buf.subarray(n < 0 ? eol + 2 : eol + 2 + n + 2);
        } else {
          out.push(line);
          buf = buf.subarray(eol + 2);
        }
        if (out.length === count) {
          clearTimeout(timer);
          sock.off('data', onData);
          return resolve(out);
        }
      }
    };
    sock.on('data', onData);
    sock.once('error', fail);
    sock.once('close', () => fail(new Error('closed')));
  });
}

/** MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw | AUTH2 user pw] [KEYS key...] */
async function migrate(c: Client, argv: Buffer[]): Promise<void> {
  const host = str(argv[1]);
  const port = Number(str(argv[2]));
  const dbText = str(argv[4]);
  const timeoutText = str(argv[5]);
  if (!/^\d+$/.test(dbText) || !/^-?\d+$/.test(timeoutText)) throw new CommandError('ERR value is not an integer or out of range');
  let timeout = Number(timeoutText);
  if (timeout <= 0) timeout = 1000;
  let copy = false;
  let replace = false;
  let auth: string[] | null = null;
  let keys: string[] = [str(argv[3])];
  for (let i = 6; i < argv.length; i++) {
    const w = lower(argv[i]);
    if (w === 'copy') copy = true;
    else if (w === 'replace') replace = true;
    else if (w === 'auth' && i + 1 < argv.length) auth = [str(argv[++i])];
    else if (w === 'auth2' && i + 2 < argv.length) auth = [str(argv[++i]), str(argv[++i])];
    else if (w === 'keys') {
      if (argv[3].length !== 0) {
        throw new CommandError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      }
      keys = argv.slice(i + 1).map(str);
      break;
    } else throw new CommandError('ERR syntax error');
  }
  const db = c.db;
  const present = keys.filter((k) => db.exists(k));
  if (present.length === 0) return void c.out.simple('NOKEY');
  const cmds: Buffer[] = [];
  if (auth) cmds.push(commandBytes('AUTH', ...auth));
  if (dbText !== '0') cmds.push(commandBytes('SELECT', dbText));
  for (const k of present) {
    const v = db.lookup(k)!;
    const ttl = db.pttl(k);
    const args: (string | Buffer)[] = ['RESTORE-ASKING', Buffer.from(k, 'latin1'), String(ttl > 0 ? ttl : 0), dumpValue(v)];
    if (replace) args.push('REPLACE');
    cmds.push(commandBytes(...args));
  }
  const sock = net.connect(port, host);
  sock.setNoDelay(true);
  let replies: string[];
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timeout')), timeout);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
    const pending = readReplies(sock, cmds.length, timeout);
    sock.write(Buffer.concat(cmds));
    replies = await pending;
  } catch {
    sock.destroy();
    throw new CommandError('IOERR error or timeout reading to target instance');
  }
  sock.destroy();
  const firstErr = replies.find((r) => r[0] === '-');
  // keys the target took are removed here (unless COPY), even when a later one failed, as Redis
  const moved: string[] = [];
  const base = cmds.length - present.length;
  for (let i = 0; i < present.length; i++) if (replies[base + i][0] === '+') moved.push(present[i]);
  if (!copy && moved.length > 0) {
    for (const k of moved) db.delete(k);
    c.server.markDirty(moved.length);
    c.server.propagate(db.id, [Buffer.from('DEL'), ...moved.map((k) => Buffer.from(k, 'latin1'))]);
  }
  if (firstErr) throw new CommandError(`ERR Target instance replied with error: ${firstErr.slice(1)}`);
  c.out.ok();
}

function migrateKeys(argv: Buffer[]): number[] {
  for (let i = 6; i < argv.length; i++) {
    const w = lower(argv[i]);
    if (w === 'auth') i++;
    else if (w === 'auth2') i += 2;
    else if (w === 'keys') return argv.slice(i + 1).map((_, j) => i + 1 + j);
  }
  return argv.length > 3 && argv[3].length > 0 ? [3] : [];
}

export const migrationCommands: CommandDef[] = [
  { name: 'dump', arity: 2, flags: ['readonly'], keys: [1, 1, 1], group: 'generic', handler: dump },
  { name: 'restore', arity: -4, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'generic', handler: restore },
  { name: 'restore-asking', arity: -4, flags: ['write', 'denyoom'], keys: [1, 1, 1], group: 'generic', handler: restore },
  { name: 'migrate', arity: -6, flags: ['write'], keys: [3, 3, 1], getKeys: migrateKeys, group: 'generic', handler: migrate },
];
