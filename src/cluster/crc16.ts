// Key → hash slot, as Redis Cluster: CRC16-CCITT (XMODEM: poly 0x1021, init 0) of the key, or of the part between
// the first `{` and the next `}` when that part is not empty (a hash tag), modulo 16384.

export const SLOTS = 16384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  TABLE[i] = crc;
}

export function crc16(buf: Buffer, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc;
}

/** The hash slot of a key given as bytes. */
export function keyHashSlot(key: Buffer): number {
  const open = key.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = key.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(key, open + 1, close) & (SLOTS - 1);
  }
  return crc16(key) & (SLOTS - 1);
}

/** The hash slot of a key kept as a binary (latin1) string, as the keyspace stores them. */
export function slotOfKeyString(key: string): number {
  return keyHashSlot(Buffer.from(key, 'latin1'));
}
