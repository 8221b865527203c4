// Every error text the AI commands can send, defined once, worded exactly as RedisAI sends it on the wire
// (spec §11). Handlers throw CommandError (src/node/errors.ts) with one of these; the dispatcher replies it.

export const AiErr = {
  tensorKeyEmpty: 'ERR tensor key is empty or in a different shard',
  invalidDataType: 'ERR invalid data type',
  invalidShape: 'ERR invalid or negative value found in tensor shape',
  invalidValue: 'ERR invalid value',
  wrongValueCount: "ERR wrong number of values was given in 'AI.TENSORSET' command",
  singleBlob: "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command",
  blobLength: 'ERR data length does not match tensor shape and type',
  stringBlobCount: 'ERR Number of string elements in data blob does not match tensor length',
  stringValueNul: 'ERR C-string value contains null character',
  boolElements: 'ERR BOOL tensor elements must be 0 or 1',
  unsupportedFormat: 'ERR unsupported data format',
  blobAndValues: 'ERR both BLOB and VALUES specified',
  /**
   * Not in RedisAI (which would try the allocation and die of OOM): a zero-filled tensor (no BLOB/VALUES)
   * may not be larger than a BLOB the server would accept (proto-max-bulk-len).
   */
  tensorTooLarge: 'ERR tensor size exceeds maximum allowed size (proto-max-bulk-len)',
} as const;
