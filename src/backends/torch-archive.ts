// CRC-32 check of a TorchScript archive (a zip) before libtorch reads it. PyTorch builds its zip reader (miniz)
// with MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS, so a damaged record reaches libtorch's unpickler and TorchScript
// parser, which are not memory-safe on malformed input: bench/fuzz.mjs found a pt-minimal.pt with one byte of
// data.pkl changed (')' EMPTY_TUPLE -> '(' MARK) that corrupts the heap and aborts the whole server
// ("free(): invalid size"). Checking every record against the CRC the archive declares refuses such blobs.
// An archive crafted with matching CRCs is still trusted, as by torch.jit.load itself.

import * as zlib from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Returns why the archive is refused, or null when every record matches its declared CRC-32. */
export function checkTorchArchive(bytes: Uint8Array): string | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // the end-of-central-directory record: 22 bytes plus a comment of up to 64 KB
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (b.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  // not a zip at all: libtorch's own error says so
  if (eocd < 0) return null;
  const entries = b.readUInt16LE(eocd + 10);
  const cdOffset = b.readUInt32LE(eocd + 16);
  // zip64 (archives over 4 GB, or 65535+ records): left to libtorch
  if (entries === 0xffff || cdOffset === 0xffffffff) return null;
  let p = cdOffset;
  for (let n = 0; n < entries; n++) {
    if (p + 46 > b.length || b.readUInt32LE(p) !== CENTRAL) return 'central directory is damaged';
    const method = b.readUInt16LE(p + 10);
    const crc = b.readUInt32LE(p + 16);
    const compressed = b.readUInt32LE(p + 20);
    const size = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    const name = b.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (compressed === 0xffffffff || size === 0xffffffff || local === 0xffffffff) continue;
    if (local + 30 > b.length || b.readUInt32LE(local) !== LOCAL) return `local header of ${name} is damaged`;
    const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    if (start + compressed > b.length) return `${name} is truncated`;
    let data = b.subarray(start, start + compressed);
    if (method === 8) {
      try {
        data = zlib.inflateRawSync(data);
      } catch {
        return `${name} does not inflate`;
      }
    } else if (method !== 0) continue;
    if (data.length !== size || zlib.crc32(data) !== crc) return `CRC-32 check failed for ${name}`;
  }
  return null;
}
