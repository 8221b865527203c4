// AI.TENSORSET / AI.TENSORGET against a real server process: every dtype through VALUES and BLOB, scalars,
// the reply shapes on the wire in RESP2 and RESP3, every error text of the spec (§1.2, §1.3, §11) in
// RedisAI's order of checks, tensor keys under the generic key commands, and redis-cli -x.

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { startServer, type TestServer } from '../helpers/server';
import { errOf, rawClient, type RawSend } from '../helpers/resp';

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const E = {
  keyEmpty: 'ERR tensor key is empty or in a different shard',
  arity: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  dtype: 'ERR invalid data type',
  shape: 'ERR invalid or negative value found in tensor shape',
  value: 'ERR invalid value',
  valueCount: "ERR wrong number of values was given in 'AI.TENSORSET' command",
  singleBlob: "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
  blobLength: 'ERR data length does not match tensor shape and type',
  stringBlob: 'ERR Number of string elements in data blob does not match tensor length',
  cstring: 'ERR C-string value contains null character',
  bool: 'ERR BOOL tensor elements must be 0 or 1',
  format: 'ERR unsupported data format',
  blobAndValues: 'ERR both BLOB and VALUES specified',
};

describe('AI tensors', () => {
  let srv: TestServer;
  let r: Redis;
  let r2: Redis;
  let raw2: RawSend;
  let raw3: RawSend;
  const set = (...a: (string | number | Buffer)[]) => r.call('AI.TENSORSET', ...a);
  const get = (...a: (string | Buffer)[]) => r.call('AI.TENSORGET', ...a);
  const blobOf = (key: string) => r.callBuffer('AI.TENSORGET', key, 'BLOB') as Promise<Buffer>;

  beforeAll(async () => {
    srv = await startServer();
    r = srv.client();
    r2 = srv.client({ protocol: 2 });
    raw2 = await rawClient(srv, 2);
    raw3 = await rawClient(srv, 3);
  });
  afterAll(() => srv.stop());
  beforeEach(async () => {
    await r.flushall();
  });

  describe('every dtype through VALUES and BLOB', () => {
    const f32 = (xs: number[]) => {
      const b = Buffer.alloc(xs.length * 4);
      xs.forEach((x, i) => b.writeFloatLE(x, i * 4));
      return b;
    };
    const f64 = (xs: number[]) => {
      const b = Buffer.alloc(xs.length * 8);
      xs.forEach((x, i) => b.writeDoubleLE(x, i * 8));
      return b;
    };
    const cases: { dtype: string; shape: number[]; values: string[]; reply: (string | number)[]; blob: Buffer }[] = [
      {
        dtype: 'FLOAT',
        shape: [2, 2],
        values: ['0.1', '-2.5', '1e10', '3'],
        reply: ['0.10000000149011612', '-2.5', '10000000000', '3'],
        blob: f32([0.1, -2.5, 1e10, 3]),
      },
      {
        dtype: 'DOUBLE',
        shape: [3],
        values: ['0.1', '-1e-300', '1.7976931348623157e308'],
        reply: ['0.1', '-1e-300', '1.7976931348623157e+308'],
        blob: f64([0.1, -1e-300, 1.7976931348623157e308]),
      },
      { dtype: 'INT8', shape: [4], values: ['-128', '127', '0', '-1'], reply: [-128, 127, 0, -1], blob: Buffer.from([0x80, 0x7f, 0, 0xff]) },
      {
        dtype: 'INT16',
        shape: [1, 3],
        values: ['-32768', '32767', '258'],
        reply: [-32768, 32767, 258],
        blob: Buffer.from([0x00, 0x80, 0xff, 0x7f, 0x02, 0x01]),
      },
      {
        dtype: 'INT32',
        shape: [2],
        values: ['-2147483648', '2147483647'],
        reply: [-2147483648, 2147483647],
        blob: Buffer.from([0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0x7f]),
      },
      {
        dtype: 'INT64',
        shape: [3],
        values: ['-5', '1099511627776', '0'],
        reply: [-5, 1099511627776, 0],
        blob: (() => {
          const b = Buffer.alloc(24);
          b.writeBigInt64LE(-5n, 0);
          b.writeBigInt64LE(1099511627776n, 8);
          return b;
        })(),
      },
      { dtype: 'UINT8', shape: [3], values: ['0', '255', '7'], reply: [0, 255, 7], blob: Buffer.from([0, 255, 7]) },
      { dtype: 'UINT16', shape: [2], values: ['0', '65535'], reply: [0, 65535], blob: Buffer.from([0, 0, 0xff, 0xff]) },
      { dtype: 'BOOL', shape: [2, 2], values: ['0', '1', '1', '0'], reply: [0, 1, 1, 0], blob: Buffer.from([0, 1, 1, 0]) },
      {
        dtype: 'STRING',
        shape: [3],
        values: ['a', '', 'hello world'],
        reply: ['a', '', 'hello world'],
        blob: Buffer.from('a\0\0hello world\0', 'latin1'),
      },
    ];

    for (const tc of cases) {
      it(`${tc.dtype}: VALUES → exact blob and values; that BLOB → the same tensor`, async () => {
        expect(await set('v', tc.dtype, ...tc.shape, 'VALUES', ...tc.values)).toBe('OK');
        expect(await get('v', 'META')).toEqual(['dtype', tc.dtype, 'shape', tc.shape]);
        expect(await get('v', 'VALUES')).toEqual(tc.reply);
        expect(await r2.call('AI.TENSORGET', 'v', 'VALUES')).toEqual(tc.reply);
        expect((await blobOf('v')).equals(tc.blob)).toBe(true);

        expect(await set('b', tc.dtype, ...tc.shape, 'BLOB', tc.blob)).toBe('OK');
        expect((await blobOf('b')).equals(tc.blob)).toBe(true);
        expect(await get('b', 'VALUES')).toEqual(tc.reply);
        expect(await get('b', 'META', 'VALUES')).toEqual(['dtype', tc.dtype, 'shape', tc.shape, 'values', tc.reply]);
        const mb = (await r.callBuffer('AI.TENSORGET', 'b', 'META', 'BLOB')) as Buffer[];
        expect(mb.map((x) => (Buffer.isBuffer(x) ? x.toString('latin1') : x)).slice(0, 5)).toEqual(['dtype', tc.dtype, 'shape', tc.shape, 'blob']);
        expect((mb[5] as Buffer).equals(tc.blob)).toBe(true);
      });
    }

    it('INT64 keeps its whole 64-bit range exactly (checked on the wire)', async () => {
      expect(await set('i', 'INT64', 3, 'VALUES', '-9223372036854775808', '9223372036854775807', '9007199254740993')).toBe('OK');
      const blob = await blobOf('i');
      expect(blob.readBigInt64LE(0)).toBe(-9223372036854775808n);
      expect(blob.readBigInt64LE(8)).toBe(9223372036854775807n);
      expect(blob.readBigInt64LE(16)).toBe(9007199254740993n);
      const wire = '*3\r\n:-9223372036854775808\r\n:9223372036854775807\r\n:9007199254740993\r\n';
      expect(await raw2('AI.TENSORGET', 'i', 'VALUES')).toBe(wire);
      expect(await raw3('AI.TENSORGET', 'i', 'VALUES')).toBe(wire);
    });

    it('FLOAT and DOUBLE values: round-trippable text, specials, float32 rounding', async () => {
      expect(await set('f', 'FLOAT', 6, 'VALUES', '1', '-0.090524077415466309', 'inf', '-inf', '1e39', '3.4028234663852886e38')).toBe('OK');
      const vals = (await get('f', 'VALUES')) as string[];
      expect(vals).toEqual(['1', '-0.09052407741546631', 'inf', '-inf', 'inf', '3.4028234663852886e+38']);
      // every value parses back to exactly the widened float32
      expect(Number(vals[1])).toBe(Math.fround(-0.090524077415466309));
      // NaN and infinities stored through BLOB come back as nan / inf / -inf
      const b = Buffer.alloc(12);
      b.writeFloatLE(NaN, 0);
      b.writeFloatLE(Infinity, 4);
      b.writeFloatLE(-Infinity, 8);
      await set('n', 'FLOAT', 3, 'BLOB', b);
      expect(await get('n', 'VALUES')).toEqual(['nan', 'inf', '-inf']);
      // accepted double syntaxes (strtod as Redis's string2d): sign, exponent, leading/trailing dot, hex
      expect(await set('d', 'DOUBLE', 6, 'VALUES', '+1.5', '.5', '5.', '-2E-3', '0x1.8p1', 'Infinity')).toBe('OK');
      expect(await get('d', 'VALUES')).toEqual(['1.5', '0.5', '5', '-0.002', '3', 'inf']);
      expect(await set('z', 'DOUBLE', 2, 'VALUES', '0', '-0.0')).toBe('OK');
      expect((await blobOf('z')).equals(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]))).toBe(true);
    });

    it('dtype names and keywords are case-insensitive', async () => {
      expect(await set('a', 'float', 2, 'values', 1, 2)).toBe('OK');
      expect(await set('b', 'Int32', 1, 'Values', 7)).toBe('OK');
      expect(await set('c', 'uint8', 2, 'blob', Buffer.from([1, 2]))).toBe('OK');
      expect(await set('d', 'sTrInG', 1, 'VALUES', 'x')).toBe('OK');
      expect(await get('a', 'meta')).toEqual(['dtype', 'FLOAT', 'shape', [2]]);
      expect(await get('b', 'Meta', 'values')).toEqual(['dtype', 'INT32', 'shape', [1], 'values', [7]]);
      expect(await get('c', 'values')).toEqual([1, 2]);
      expect(await get('d', 'VALUES')).toEqual(['x']);
    });
  });

  describe('shapes and defaults', () => {
    it('scalar (0-dim) tensors through VALUES and BLOB', async () => {
      expect(await set('s', 'FLOAT', 'VALUES', 3)).toBe('OK');
      expect(await get('s', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [], 'values', ['3']]);
      expect(await raw2('AI.TENSORGET', 's', 'META')).toBe('*4\r\n$5\r\ndtype\r\n$5\r\nFLOAT\r\n$5\r\nshape\r\n*0\r\n');
      const four = Buffer.from([0xff, 0xff, 0xff, 0xff]);
      expect(await set('i', 'INT32', 'BLOB', four)).toBe('OK');
      expect(await get('i', 'META', 'VALUES')).toEqual(['dtype', 'INT32', 'shape', [], 'values', [-1]]);
      expect(await errOf(set('i', 'INT32', 'BLOB', Buffer.alloc(8)))).toBe(E.blobLength);
      expect(await set('t', 'STRING', 'VALUES', 'only')).toBe('OK');
      expect(await get('t', 'VALUES')).toEqual(['only']);
    });

    it('without BLOB or VALUES the tensor is zero-filled (STRING: empty strings)', async () => {
      expect(await set('z', 'FLOAT', 2, 3)).toBe('OK');
      expect(await get('z', 'META', 'VALUES')).toEqual(['dtype', 'FLOAT', 'shape', [2, 3], 'values', ['0', '0', '0', '0', '0', '0']]);
      expect((await blobOf('z')).equals(Buffer.alloc(24))).toBe(true);
      expect(await set('z64', 'INT64', 2)).toBe('OK');
      expect((await blobOf('z64')).equals(Buffer.alloc(16))).toBe(true);
      expect(await get('z64', 'VALUES')).toEqual([0, 0]);
      expect(await set('zs', 'STRING', 3)).toBe('OK');
      expect((await blobOf('zs')).equals(Buffer.alloc(3))).toBe(true);
      expect(await get('zs', 'VALUES')).toEqual(['', '', '']);
      expect(await set('zb', 'BOOL', 1, 1, 2)).toBe('OK');
      expect(await get('zb', 'META', 'VALUES')).toEqual(['dtype', 'BOOL', 'shape', [1, 1, 2], 'values', [0, 0]]);
    });

    it('a zero-filled tensor cannot be bigger than a BLOB could be (proto-max-bulk-len)', async () => {
      expect(await errOf(set('huge', 'FLOAT', 1000000000, 1000000000))).toBe(
        'ERR tensor size exceeds maximum allowed size (proto-max-bulk-len)',
      );
      expect(await r.exists('huge')).toBe(0);
      // huge shapes with data fail on the data rules, without allocating anything
      expect(await errOf(set('huge', 'STRING', 1000000, 1000000, 'BLOB', Buffer.from('a\0')))).toBe(E.stringBlob);
      expect(await errOf(set('huge', 'FLOAT', 1000000, 1000000, 'BLOB', Buffer.alloc(8)))).toBe(E.blobLength);
      expect(await errOf(set('huge', 'INT8', 1000000, 1000000, 'VALUES', 1))).toBe(E.valueCount);
      expect(await r.ping()).toBe('PONG');
    });

    it('a big tensor (8 MB FLOAT BLOB) round-trips byte-exact', async () => {
      const blob = randomBytes(8 * 1024 * 1024);
      expect(await set('big', 'FLOAT', 1024, 2048, 'BLOB', blob)).toBe('OK');
      expect((await blobOf('big')).equals(blob)).toBe(true);
      const mb = (await r.callBuffer('AI.TENSORGET', 'big')) as Buffer[];
      expect(mb).toHaveLength(6);
      expect((mb[5] as Buffer).equals(blob)).toBe(true);
      const vals = (await r2.call('AI.TENSORGET', 'big', 'VALUES')) as string[];
      expect(vals).toHaveLength(2 * 1024 * 1024);
      for (const i of [0, 1, 12345, 2 * 1024 * 1024 - 1]) {
        const f = blob.readFloatLE(i * 4);
        expect(Number.isNaN(f) ? vals[i] === 'nan' : Number(vals[i]) === f).toBe(true);
      }
    });
  });

  describe('TENSORGET formats and wire forms', () => {
    beforeEach(async () => {
      await set('t', 'FLOAT', 2, 'VALUES', 1, 2.5);
    });
    const blob = Buffer.alloc(8);
    blob.writeFloatLE(1, 0);
    blob.writeFloatLE(2.5, 4);
    const meta = '$5\r\ndtype\r\n$5\r\nFLOAT\r\n$5\r\nshape\r\n*1\r\n:2\r\n';
    const blobWire = '$8\r\n' + blob.toString('latin1') + '\r\n';

    it('no format is META BLOB; META, BLOB, VALUES and their combinations in any order', async () => {
      for (const raw of [raw2, raw3]) {
        expect(await raw('AI.TENSORGET', 't')).toBe('*6\r\n' + meta + '$4\r\nblob\r\n' + blobWire);
        expect(await raw('AI.TENSORGET', 't', 'META', 'BLOB')).toBe('*6\r\n' + meta + '$4\r\nblob\r\n' + blobWire);
        expect(await raw('AI.TENSORGET', 't', 'BLOB', 'META')).toBe('*6\r\n' + meta + '$4\r\nblob\r\n' + blobWire);
        expect(await raw('AI.TENSORGET', 't', 'META')).toBe('*4\r\n' + meta);
        expect(await raw('AI.TENSORGET', 't', 'META', 'META')).toBe('*4\r\n' + meta);
        expect(await raw('AI.TENSORGET', 't', 'BLOB')).toBe(blobWire);
        expect(await raw('AI.TENSORGET', 't', 'blob', 'BLOB')).toBe(blobWire);
      }
    });

    it('VALUES: doubles are bulk strings in RESP2 and `,` doubles in RESP3; arrays in both', async () => {
      expect(await raw2('AI.TENSORGET', 't', 'VALUES')).toBe('*2\r\n$1\r\n1\r\n$3\r\n2.5\r\n');
      expect(await raw3('AI.TENSORGET', 't', 'VALUES')).toBe('*2\r\n,1\r\n,2.5\r\n');
      expect(await raw2('AI.TENSORGET', 't', 'META', 'VALUES')).toBe('*6\r\n' + meta + '$6\r\nvalues\r\n*2\r\n$1\r\n1\r\n$3\r\n2.5\r\n');
      expect(await raw3('AI.TENSORGET', 't', 'VALUES', 'META')).toBe('*6\r\n' + meta + '$6\r\nvalues\r\n*2\r\n,1\r\n,2.5\r\n');
      await set('f', 'FLOAT', 1, 'VALUES', '0.1');
      expect(await raw2('AI.TENSORGET', 'f', 'VALUES')).toBe('*1\r\n$19\r\n0.10000000149011612\r\n');
      expect(await raw3('AI.TENSORGET', 'f', 'VALUES')).toBe('*1\r\n,0.10000000149011612\r\n');
      // integer types (and BOOL) are integers in both protocols; STRING elements are bulks
      await set('i', 'INT16', 2, 'VALUES', -3, 4);
      await set('b', 'BOOL', 2, 'VALUES', 1, 0);
      await set('s', 'STRING', 2, 'VALUES', 'ab', '');
      for (const raw of [raw2, raw3]) {
        expect(await raw('AI.TENSORGET', 'i', 'VALUES')).toBe('*2\r\n:-3\r\n:4\r\n');
        expect(await raw('AI.TENSORGET', 'b', 'VALUES')).toBe('*2\r\n:1\r\n:0\r\n');
        expect(await raw('AI.TENSORGET', 's', 'META', 'VALUES')).toBe(
          '*6\r\n$5\r\ndtype\r\n$6\r\nSTRING\r\n$5\r\nshape\r\n*1\r\n:2\r\n$6\r\nvalues\r\n*2\r\n$2\r\nab\r\n$0\r\n\r\n',
        );
        expect(await raw('AI.TENSORGET', 's', 'BLOB')).toBe('$4\r\nab\0\0\r\n');
        expect(await raw('AI.TENSORSET', 'x', 'INT8', '1')).toBe('+OK\r\n');
        expect(await raw('AI.TENSORGET', 'nokey')).toBe(`-${E.keyEmpty}\r\n`);
      }
    });

    it('format errors: unknown word, BLOB with VALUES; the key is checked first', async () => {
      expect(await errOf(get('t', 'JSON'))).toBe(E.format);
      expect(await errOf(get('t', 'META', 'blobs'))).toBe(E.format);
      expect(await errOf(get('t', 'BLOB', 'VALUES'))).toBe(E.blobAndValues);
      expect(await errOf(get('t', 'values', 'blob'))).toBe(E.blobAndValues);
      expect(await errOf(get('t', 'BLOB', 'x'))).toBe(E.format);
      expect(await errOf(get('t', 'x', 'META'))).toBe(E.format);
      // key first: missing key / wrong type before the format words
      expect(await errOf(get('missing', 'JSON'))).toBe(E.keyEmpty);
      expect(await errOf(get('missing'))).toBe(E.keyEmpty);
      await r.set('str', 'v');
      expect(await errOf(get('str', 'JSON'))).toBe(WRONGTYPE);
      expect(await errOf(get('str'))).toBe(WRONGTYPE);
    });
  });

  describe('TENSORSET errors, in RedisAI order', () => {
    it('wrong arity echoes the command name as typed', async () => {
      expect(await errOf(r.call('AI.TENSORSET'))).toBe(E.arity('AI.TENSORSET'));
      expect(await errOf(r.call('AI.TENSORSET', 'k'))).toBe(E.arity('AI.TENSORSET'));
      expect(await errOf(r.call('ai.TensorSet', 'k', 'FLOAT'))).toBe(E.arity('ai.TensorSet'));
      expect(await errOf(r.call('AI.TENSORGET'))).toBe(E.arity('AI.TENSORGET'));
      expect(await errOf(r.call('ai.tensorget', 'k', 'META', 'BLOB', 'META'))).toBe(E.arity('ai.tensorget'));
      expect(await raw2('Ai.TensorGet')).toBe("-ERR wrong number of arguments for 'Ai.TensorGet' command\r\n");
      // arity comes before the key type
      await r.set('str', 'v');
      expect(await errOf(r.call('AI.TENSORSET', 'str', 'FLOAT'))).toBe(E.arity('AI.TENSORSET'));
    });

    it('WRONGTYPE on a key of another type, before anything else is parsed', async () => {
      await r.set('str', 'v');
      await r.rpush('list', 'a');
      expect(await errOf(set('str', 'FLOAT', 1, 'VALUES', 1))).toBe(WRONGTYPE);
      expect(await errOf(set('str', 'NOTATYPE', 0, 'BLOB'))).toBe(WRONGTYPE);
      expect(await errOf(set('list', 'FLOAT', 2))).toBe(WRONGTYPE);
      expect(await r.get('str')).toBe('v');
      // and the other way round: string/list commands on a tensor key
      await set('t', 'FLOAT', 1);
      expect(await errOf(r.get('t'))).toBe(WRONGTYPE);
      expect(await errOf(r.lpush('t', 'x'))).toBe(WRONGTYPE);
      expect(await errOf(r.hget('t', 'f'))).toBe(WRONGTYPE);
    });

    it('invalid data type (before the dims)', async () => {
      for (const t of ['FLOAT32', 'UINT32', 'UINT64', 'FLOAT16', 'BFLOAT16', 'INT', '', 'float ']) {
        expect(await errOf(set('k', t, 1))).toBe(E.dtype);
      }
      expect(await errOf(set('k', 'BAD', 0, 'BLOB'))).toBe(E.dtype);
    });

    it('invalid shape: 0, negative, not an integer', async () => {
      for (const d of ['0', '-1', 'abc', '1.5', '01', ' 2', '', '99999999999999999999']) {
        expect(await errOf(set('k', 'FLOAT', d))).toBe(E.shape);
        expect(await errOf(set('k', 'FLOAT', 2, d, 'VALUES', 1, 2))).toBe(E.shape);
      }
      // dims are parsed before the BLOB/VALUES rules
      expect(await errOf(set('k', 'FLOAT', 0, 'BLOB'))).toBe(E.shape);
      expect(await errOf(set('k', 'FLOAT', -2, 'VALUES', 1))).toBe(E.shape);
    });

    it('BLOB must be followed by exactly one argument', async () => {
      expect(await errOf(set('k', 'FLOAT', 2, 'BLOB'))).toBe(E.singleBlob);
      expect(await errOf(set('k', 'FLOAT', 'BLOB'))).toBe(E.singleBlob);
      expect(await errOf(set('k', 'FLOAT', 2, 'BLOB', 'a', 'b'))).toBe(E.singleBlob);
      expect(await errOf(set('k', 'FLOAT', 'BLOB', Buffer.alloc(8), 2))).toBe(E.singleBlob);
      // VALUES after BLOB is just a second argument
      expect(await errOf(set('k', 'FLOAT', 1, 'BLOB', 'VALUES', 1))).toBe(E.singleBlob);
    });

    it('VALUES must be followed by exactly prod(dims) values (checked before the values)', async () => {
      expect(await errOf(set('k', 'FLOAT', 2, 'VALUES', 1))).toBe(E.valueCount);
      expect(await errOf(set('k', 'FLOAT', 2, 'VALUES', 1, 2, 3))).toBe(E.valueCount);
      expect(await errOf(set('k', 'FLOAT', 2, 'VALUES'))).toBe(E.valueCount);
      expect(await errOf(set('k', 'FLOAT', 'VALUES'))).toBe(E.valueCount);
      expect(await errOf(set('k', 'FLOAT', 2, 2, 'VALUES', 'x', 'y', 'z'))).toBe(E.valueCount);
      expect(await errOf(set('k', 'FLOAT', 'VALUES', 1, 2))).toBe(E.valueCount);
    });

    it('BLOB length must match shape and type', async () => {
      expect(await errOf(set('k', 'FLOAT', 2, 'BLOB', Buffer.alloc(7)))).toBe(E.blobLength);
      expect(await errOf(set('k', 'FLOAT', 2, 'BLOB', Buffer.alloc(9)))).toBe(E.blobLength);
      expect(await errOf(set('k', 'DOUBLE', 2, 2, 'BLOB', Buffer.alloc(16)))).toBe(E.blobLength);
      expect(await errOf(set('k', 'INT16', 3, 'BLOB', ''))).toBe(E.blobLength);
      expect(await errOf(set('k', 'BOOL', 2, 'BLOB', Buffer.from([1])))).toBe(E.blobLength);
    });

    it('invalid values: parse errors and out-of-range numbers', async () => {
      const bad: [string, string][] = [
        ['FLOAT', 'abc'],
        ['FLOAT', 'nan'],
        ['FLOAT', '1e400'],
        ['FLOAT', '1e-400'],
        ['FLOAT', ''],
        ['FLOAT', ' 1'],
        ['FLOAT', '1 '],
        ['FLOAT', '1,5'],
        ['DOUBLE', '-1e309'],
        ['DOUBLE', '0x'],
        ['INT32', '1.5'],
        ['INT32', '1.0'],
        ['INT32', 'abc'],
        ['INT32', '+1'],
        ['INT32', '01'],
        ['INT32', '2147483648'],
        ['INT32', '-2147483649'],
        ['INT8', '128'],
        ['INT8', '-129'],
        ['INT16', '32768'],
        ['INT16', '-32769'],
        ['INT64', '9223372036854775808'],
        ['INT64', '-9223372036854775809'],
        ['INT64', '1e3'],
        ['UINT8', '256'],
        ['UINT8', '-1'],
        ['UINT16', '65536'],
        ['UINT16', '-1'],
        ['BOOL', '2'],
        ['BOOL', '-1'],
        ['BOOL', 'true'],
      ];
      for (const [t, v] of bad) {
        expect(await errOf(set('k', t, 2, 'VALUES', 0, v)), `${t} ${v}`).toBe(E.value);
      }
      expect(await r.exists('k')).toBe(0);
    });

    it('negative signed integers are accepted (a deliberate divergence from RedisAI) and range-checked', async () => {
      expect(await set('z', 'INT8', 2, 'VALUES', -1, -128)).toBe('OK');
      expect(await get('z', 'VALUES')).toEqual([-1, -128]);
      expect((await blobOf('z')).equals(Buffer.from([0xff, 0x80]))).toBe(true);
      expect(await set('z', 'INT16', 'VALUES', -300)).toBe('OK');
      expect(await get('z', 'VALUES')).toEqual([-300]);
      expect(await set('z', 'INT32', 'VALUES', -70000)).toBe('OK');
      expect(await get('z', 'VALUES')).toEqual([-70000]);
      expect(await set('z', 'INT64', 'VALUES', -1)).toBe('OK');
      expect((await blobOf('z')).equals(Buffer.alloc(8, 0xff))).toBe(true);
      expect(await errOf(set('z', 'INT8', 2, 'VALUES', -1, -129))).toBe(E.value);
      expect(await errOf(set('z', 'INT8', 'VALUES', 128))).toBe(E.value);
    });

    it('UINT8 takes 0..255: 255 is fine, 256 is invalid', async () => {
      expect(await set('u', 'UINT8', 2, 'VALUES', 0, 255)).toBe('OK');
      expect(await get('u', 'VALUES')).toEqual([0, 255]);
      expect(await errOf(set('u', 'UINT8', 2, 'VALUES', 0, 256))).toBe(E.value);
      expect(await get('u', 'VALUES')).toEqual([0, 255]); // a failed TENSORSET leaves the key as it was
    });

    it('BOOL: VALUES must be 0/1; BLOB bytes must be 0/1 except the last (RedisAI quirk)', async () => {
      expect(await set('b', 'BOOL', 3, 'VALUES', 1, 0, 1)).toBe('OK');
      expect((await blobOf('b')).equals(Buffer.from([1, 0, 1]))).toBe(true);
      expect(await errOf(set('b', 'BOOL', 3, 'BLOB', Buffer.from([0, 2, 1])))).toBe(E.bool);
      expect(await errOf(set('b', 'BOOL', 3, 'BLOB', Buffer.from([255, 1, 1])))).toBe(E.bool);
      // RedisAI's check loop stops before the last byte, so a bad last byte goes through
      expect(await set('q', 'BOOL', 3, 'BLOB', Buffer.from([0, 1, 7]))).toBe('OK');
      expect(await get('q', 'VALUES')).toEqual([0, 1, 7]);
      expect(await set('q1', 'BOOL', 'BLOB', Buffer.from([9]))).toBe('OK');
      expect(await get('q1', 'VALUES')).toEqual([9]);
    });

    it('STRING: BLOB NUL rules; VALUES with an optional trailing NUL, never an interior one', async () => {
      // BLOB: exactly len NULs and ending in one
      expect(await errOf(set('s', 'STRING', 2, 'BLOB', Buffer.from('a\0b', 'latin1')))).toBe(E.stringBlob);
      expect(await errOf(set('s', 'STRING', 2, 'BLOB', Buffer.from('a\0b\0c', 'latin1')))).toBe(E.stringBlob);
      expect(await errOf(set('s', 'STRING', 2, 'BLOB', Buffer.from('a\0b\0c\0', 'latin1')))).toBe(E.stringBlob);
      expect(await errOf(set('s', 'STRING', 1, 'BLOB', ''))).toBe(E.stringBlob);
      expect(await errOf(set('s', 'STRING', 1, 'BLOB', 'abc'))).toBe(E.stringBlob);
      const blob = Buffer.from('\0x\xff\x01y\0', 'latin1');
      expect(await set('s', 'STRING', 2, 'BLOB', blob)).toBe('OK');
      expect((await blobOf('s')).equals(blob)).toBe(true);
      const vals = (await r.callBuffer('AI.TENSORGET', 's', 'VALUES')) as Buffer[];
      expect(vals.map((b) => b.toString('latin1'))).toEqual(['', 'x\xff\x01y']);
      // VALUES: one trailing NUL is dropped (not doubled); an interior NUL is an error
      expect(await set('v', 'STRING', 3, 'VALUES', 'ab\0', '\0', 'c')).toBe('OK');
      expect((await blobOf('v')).equals(Buffer.from('ab\0\0c\0', 'latin1'))).toBe(true);
      expect(await get('v', 'VALUES')).toEqual(['ab', '', 'c']);
      expect(await errOf(set('v', 'STRING', 2, 'VALUES', 'ok', 'a\0b'))).toBe(E.cstring);
      expect(await errOf(set('v', 'STRING', 'VALUES', '\0\0'))).toBe(E.cstring);
      expect(await errOf(set('v', 'STRING', 'VALUES', '\0a'))).toBe(E.cstring);
    });
  });

  describe('tensor keys in the keyspace', () => {
    it('TYPE is AI_TENSOR; DEL / EXISTS / RENAME / EXPIRE / SCAN TYPE work on tensor keys', async () => {
      await set('t1', 'FLOAT', 2, 'VALUES', 1, 2);
      await set('t2', 'INT8', 1);
      await r.set('s', 'v');
      expect(await r.type('t1')).toBe('AI_TENSOR');
      expect(await r2.type('t2')).toBe('AI_TENSOR');
      expect(await r.exists('t1', 't2', 's', 'nope')).toBe(3);
      const scanned: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = (await r.call('SCAN', cursor, 'TYPE', 'AI_TENSOR')) as [string, string[]];
        cursor = next;
        scanned.push(...keys);
      } while (cursor !== '0');
      expect(scanned.sort()).toEqual(['t1', 't2']);
      expect(((await r.call('SCAN', '0', 'TYPE', 'ai_tensor', 'COUNT', '100')) as [string, string[]])[1].sort()).toEqual(['t1', 't2']);
      expect(await r.rename('t1', 't3')).toBe('OK');
      expect(await r.exists('t1')).toBe(0);
      expect(await get('t3', 'VALUES')).toEqual(['1', '2']);
      expect(await errOf(get('t1'))).toBe(E.keyEmpty);
      expect(await r.expire('t3', 100)).toBe(1);
      expect(await r.ttl('t3')).toBeGreaterThan(90);
      // TENSORSET replaces the value and clears the TTL, as SET does
      expect(await set('t3', 'DOUBLE', 1)).toBe('OK');
      expect(await r.ttl('t3')).toBe(-1);
      expect(await get('t3', 'META')).toEqual(['dtype', 'DOUBLE', 'shape', [1]]);
      expect(await r.pexpire('t2', 1)).toBe(1);
      await new Promise((res) => setTimeout(res, 20));
      expect(await errOf(get('t2'))).toBe(E.keyEmpty);
      expect(await r.del('t3', 't2')).toBe(1);
      expect(await r.dbsize()).toBe(1);
    });

    it('every successful TENSORSET is a change (dirty); errors and TENSORGET are not', async () => {
      const dirty = async () => Number(/rdb_changes_since_last_save:(\d+)/.exec(await r.info('persistence'))![1]);
      const d0 = await dirty();
      await set('a', 'FLOAT', 1);
      await set('a', 'FLOAT', 1, 'VALUES', 2);
      expect(await dirty()).toBe(d0 + 2);
      await errOf(set('a', 'FLOAT', 1, 'VALUES', 'x'));
      await get('a');
      expect(await dirty()).toBe(d0 + 2);
    });

    it('works inside MULTI/EXEC; TENSORGET counts keyspace hits and misses', async () => {
      const res = await r.multi().call('AI.TENSORSET', 'm', 'INT32', 1, 'VALUES', 5).call('AI.TENSORGET', 'm', 'VALUES').exec();
      expect(res).toEqual([
        [null, 'OK'],
        [null, [5]],
      ]);
      const stat = async (f: string) => Number(new RegExp(`${f}:(\\d+)`).exec(await r.info('stats'))![1]);
      const h = await stat('keyspace_hits');
      const m = await stat('keyspace_misses');
      await get('m');
      await errOf(get('nope'));
      expect(await stat('keyspace_hits')).toBe(h + 1);
      expect(await stat('keyspace_misses')).toBe(m + 1);
    });

    it('COMMAND INFO: flags and key positions as RedisAI registers them', async () => {
      const info = (await r2.call('COMMAND', 'INFO', 'ai.tensorset', 'ai.tensorget')) as unknown[][];
      expect(info[0].slice(0, 6)).toEqual(['ai.tensorset', -1, ['write', 'denyoom'], 1, 1, 1]);
      expect(info[1].slice(0, 6)).toEqual(['ai.tensorget', -1, ['readonly'], 1, 1, 1]);
    });
  });

  const REDIS_CLI = fs.existsSync('/usr/bin/redis-cli') ? '/usr/bin/redis-cli' : 'redis-cli';
  const haveCli = spawnSync(REDIS_CLI, ['--version']).status === 0;

  it.skipIf(!haveCli)('redis-cli -x AI.TENSORSET k FLOAT 2 BLOB, then AI.TENSORGET k VALUES', async () => {
    const cli = (args: string[], input?: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const p = spawn(REDIS_CLI, ['-p', String(srv.port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        p.stdout.on('data', (d) => out.push(d));
        p.stderr.on('data', (d) => out.push(d));
        p.on('error', reject);
        p.on('close', () => resolve(Buffer.concat(out).toString('latin1')));
        p.stdin.end(input ?? Buffer.alloc(0));
      });
    const blob = Buffer.alloc(8);
    blob.writeFloatLE(1.5, 0);
    blob.writeFloatLE(-0.1, 4);
    expect(await cli(['-x', 'AI.TENSORSET', 'k', 'FLOAT', '2', 'BLOB'], blob)).toBe('OK\n');
    expect(await cli(['AI.TENSORGET', 'k', 'VALUES'])).toBe('1.5\n-0.10000000149011612\n');
    expect(await cli(['--no-raw', 'AI.TENSORGET', 'k', 'META'])).toBe('1) "dtype"\n2) "FLOAT"\n3) "shape"\n4) 1) (integer) 2\n');
    expect(await cli(['-3', '--no-raw', 'AI.TENSORGET', 'k', 'VALUES'])).toBe('1) (double) 1.5\n2) (double) -0.10000000149011612\n');
    expect(await cli(['--no-raw', 'AI.TENSORGET', 'nokey'])).toBe(`(error) ${E.keyEmpty}\n`);
  });
});
