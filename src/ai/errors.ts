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

  // models (spec §2, §11)
  modelKeyEmpty: 'ERR model key is empty',
  unsupportedBackend: 'ERR unsupported backend',
  invalidDevice: 'ERR Invalid DEVICE',
  invalidBatchsize: 'ERR Invalid argument for BATCHSIZE',
  invalidMinbatchsize: 'ERR Invalid argument for MINBATCHSIZE',
  invalidMinbatchtimeout: 'ERR Invalid argument for MINBATCHTIMEOUT',
  minbatchsizeWithoutBatchsize: 'ERR MINBATCHSIZE specified without BATCHSIZE',
  minbatchtimeoutWithoutMinbatchsize: 'ERR MINBATCHTIMEOUT specified without MINBATCHSIZE',
  missingBlob: 'ERR Insufficient arguments, missing model BLOB',
  expectedBlob: 'ERR Invalid argument, expected BLOB',
  inputsNotForBackend: 'ERR INPUTS argument should not be specified for this backend',
  tfInputsNotSpecified: 'ERR INPUTS not specified for TF',
  tfOutputsNotSpecified: 'ERR OUTPUTS not specified for TF',
  tfInputsCountMismatch: 'ERR number of model inputs does not match the number of given arguments',
  tfOutputsCountMismatch: 'ERR number of model outputs does not match the number of given arguments',
  tfliteAutobatch: 'ERR Auto-batching not supported by the TFLITE backend',
  minbatchtimeoutWithoutBatchsize: 'ERR MINBATCHTIMEOUT specified without BATCHSIZE',
  inputsOutputsNotSpecified: 'ERR Insufficient arguments, INPUTS and OUTPUTS not specified',
  modelRunArity: "ERR wrong number of arguments for 'AI.MODELRUN' command",
  couldNotLoadBackend: 'ERR Could not load backend',
  invalidInputCount: 'ERR Invalid argument for input_count',
  invalidOutputCount: 'ERR Invalid argument for output_count',
  inputsNotSpecified: 'ERR INPUTS not specified',
  outputsNotSpecified: 'ERR OUTPUTS not specified',
  inputCountPositive: 'ERR Input count must be a positive integer',
  outputCountPositive: 'ERR Output count must be a positive integer',
  inputsModelMismatch: 'Number of keys given as INPUTS here does not match model definition',
  outputsModelMismatch: 'Number of keys given as OUTPUTS here does not match model definition',
  inputKeysMismatch: 'ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments',
  outputKeysMismatch: 'ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments',
  timeoutNoValue: 'ERR No value provided for TIMEOUT',
  timeoutInvalid: 'ERR Invalid value for TIMEOUT',
  invalidArgument: (tok: string) => `Invalid argument: ${tok}`,
  inTransaction: 'ERR Cannot run RedisAI command within a transaction or a LUA script',
  modelExecuteArity: "ERR wrong number of arguments for 'AI.MODELEXECUTE' command",

  noRunInfo: 'ERR cannot find run info for key',

  // AI.CONFIG (spec §7)
  unsupportedSubcommand: 'ERR unsupported subcommand',
  backendsPathMissing: 'ERR BACKENDSPATH: missing path argument',
  chunkSizeInvalid: 'ERR MODEL_CHUNK_SIZE: invalid chunk size',
  chunkSizeMissing: 'ERR MODEL_CHUNK_SIZE: missing chunk size',
  errorLoadingBackend: 'ERR error loading backend',
} as const;
