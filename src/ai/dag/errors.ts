// The DAG commands' own error texts (spec §4, §11 rows 46-57), worded exactly as RedisAI sends them. The texts the
// DAG shares with the single-op commands (model key, counts, TIMEOUT values ...) stay in ../errors.ts.

export const DagErr = {
  /** ⚠ two spaces after the colon, as RedisAI */
  unexpectedArgument: (tok: string) => `ERR Invalid DAG command. Unexpected argument:  ${tok}`,
  mustContainKeyword:
    'ERR AI.DAGEXECUTE and AI.DAGEXECUTE_RO commands must contain at least one out of ROUTING, LOAD, PERSIST keywords',
  missingArguments: (cmd: string) => `ERR missing arguments for '${cmd}' command`,
  empty: 'ERR DAG is empty',
  unsupportedCommand: 'Unsupported command within DAG',
  inputNotFound: 'ERR INPUT key cannot be found in DAG',
  persistNotFound: 'ERR PERSIST key cannot be found in DAG',
  persistUnique: 'ERR PERSIST keys must be unique',
  persistReadOnly: 'ERR PERSIST cannot be specified in a read-only DAG',
  scriptExecuteReadOnly: 'ERR AI.SCRIPTEXECUTE command cannot be specified in a read-only DAG',
  timeoutInOp: 'ERR TIMEOUT not allowed within a DAG command',
  loadMissing: 'ERR missing arguments after LOAD keyword in DAG command',
  loadCount: 'ERR invalid or negative value found in number of keys to LOAD',
  loadMismatch: 'ERR number of keys to LOAD into DAG does not match the number of given arguments',
  persistMissing: 'ERR missing arguments after PERSIST keyword in DAG command',
  persistCount: 'ERR invalid or negative value found in number of keys to PERSIST',
  persistMismatch: 'ERR number of keys to PERSIST after DAG execution does not match the number of given arguments',
  routingMissing: 'ERR Missing ROUTING value',
  deprecatedInExecute: (op: 'AI.MODELRUN' | 'AI.SCRIPTRUN') => `Deprecated ${op} cannot be used in AI.DAGEXECUTE command`,
  executeInDagrun: (op: 'AI.MODELEXECUTE' | 'AI.SCRIPTEXECUTE') => `${op} cannot be used in a deprecated AI.DAGRUN command`,
  /** TENSORSET / TENSORGET arity inside a DAG: no ERR prefix, the name in upper case */
  opArity: (op: 'AI.TENSORSET' | 'AI.TENSORGET') => `wrong number of arguments for '${op}' command`,

  // AI.SCRIPTEXECUTE / AI.SCRIPTRUN as DAG ops (spec §3.5, §3.6)
  scriptKeyEmpty: 'ERR script key is empty',
  scriptExecuteArity: "ERR wrong number of arguments for 'AI.SCRIPTEXECUTE' command",
  scriptRunArity: "ERR wrong number of arguments for 'AI.SCRIPTRUN' command",
  scriptAlreadyEncountered: (scope: string) => `ERR Already Encountered ${scope} scope in AI.SCRIPTEXECUTE command`,
  scriptUnexpected: (tok: string) => `ERR Invalid AI.SCRIPTEXECUTE command. Unexpected argument: ${tok}`,
  scriptKeysMissing: 'ERR Missing arguments after KEYS keyword',
  scriptKeysCount: 'ERR Invalid or negative value found in number of KEYS',
  scriptKeysMismatch: 'ERR Number of pre declared KEYS to be used in the command does not match the number of given arguments',
  scriptSectionEmpty: 'ERR Invalid arguments provided to AI.SCRIPTEXECUTE',
  scriptInputsCount: 'ERR Invalid argument for inputs count in AI.SCRIPTEXECUTE',
  scriptOutputsCount: 'ERR Invalid argument for outputs count in AI.SCRIPTEXECUTE',
  /** (sic) RedisAI's text for a bad ARGS count */
  scriptArgsCount: 'ERR Invalid argument for keys count in AI.SCRIPTEXECUTE',
  scriptSectionMismatch: (what: 'inputs' | 'args' | 'outputs') =>
    `ERR number of ${what} to AI.SCRIPTEXECUTE command does not match the number of given arguments`,
  scriptRunInputsTwice: 'ERR Already encountered an INPUTS section in SCRIPTRUN',
  scriptRunOutputsTwice: 'ERR Already encountered an OUTPUTS keyword in SCRIPTRUN',
  scriptRunVariadicOutside: 'ERR Encountered a variable size list of tensors outside of input section',
  scriptRunVariadicTwice: 'ERR Already encountered a variable size list of tensors',
  /** (sic) */
  scriptRunUnrecognized: 'ERR Unrecongnized parameter to SCRIPTRUN',
} as const;
