// Every error text a client can see, defined once, exactly as Redis 7 words it.
// Handlers throw CommandError; the dispatcher turns it into a `-...` reply.

export class CommandError extends Error {
  constructor(message: string) {
    super(message);
  }
}

export const Err = {
  syntax: 'ERR syntax error',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  noSuchKey: 'ERR no such key',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authNoPassword:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  invalidExpire: (cmd: string) => `ERR invalid expire time in '${cmd}' command`,
  overflow: 'ERR increment or decrement would overflow',
  hashNotInteger: 'ERR hash value is not an integer',
  hashNotFloat: 'ERR hash value is not a float',
  notFiniteArg: 'ERR value is NaN or Infinity',
  incrNotFinite: 'ERR increment would produce NaN or Infinity',
  mustBePositive: 'ERR value is out of range, must be positive',
  /** Redis's getRangeLongFromObjectOrReply wording (sic: "must between") */
  valueOutOfRange: (min: string, max: string) => `ERR value is out of range, value must between ${min} and ${max}`,
  indexOutOfRange: 'ERR index out of range',
  lposRankZero:
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
  lposCountNegative: "ERR COUNT can't be negative",
  lposMaxlenNegative: "ERR MAXLEN can't be negative",
  stringTooLong: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  offsetOutOfRange: 'ERR offset is out of range',
  multiNested: 'ERR MULTI calls can not be nested',
  execWithoutMulti: 'ERR EXEC without MULTI',
  discardWithoutMulti: 'ERR DISCARD without MULTI',
  watchInMulti: 'ERR WATCH inside MULTI is not allowed',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  notAllowedInMulti: 'ERR Command not allowed inside a transaction',
  wrongArity: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  /** As Redis 7: the args part stops growing at 128 chars, and each arg is cut at its first NUL. */
  unknownCommand: (argv: Buffer[]) => {
    const upToNul = (b: Buffer) => {
      const z = b.indexOf(0);
      return (z >= 0 ? b.subarray(0, z) : b).toString('latin1');
    };
    let args = '';
    for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${upToNul(argv[i]).slice(0, 128 - args.length)}' `;
    return `ERR unknown command '${upToNul(argv[0]).slice(0, 128)}', with args beginning with: ${args}`;
  },
  unknownSubcommand: (sub: string, container: string) =>
    `ERR unknown subcommand '${sub}'. Try ${container.toUpperCase()} HELP.`,
  pubsubContext: (name: string) =>
    `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
  noProto: 'NOPROTO unsupported protocol version',
} as const;
