// AI.DAGEXECUTE, AI.DAGEXECUTE_RO and the deprecated AI.DAGRUN, AI.DAGRUN_RO (spec §4): the arity and MULTI
// checks, then the DAG engine (../dag: parser, plan, executor). The _RO forms are read-only in the command table
// (they never write the keyspace: PERSIST and SCRIPTEXECUTE are refused), so replicas serve them and routing
// treats them as reads. Key extraction is a function (../dag/keys.ts): LOAD, PERSIST, ROUTING and model/script
// keys. A DAG propagates the AI.TENSORSET ... BLOB of each key it persisted, never itself (spec §9).

import type { CommandDef, Handler } from '../../node/command-table';
import { CommandError, Err } from '../../node/errors';
import { AiErr } from '../errors';
import { DagErr } from '../dag/errors';
import { executeDag } from '../dag/executor';
import { dagKeys } from '../dag/keys';
import { parseDag } from '../dag/parser';
import { fetchRemoteLoads } from '../dag/remote-loads';

/** AI.DAGEXECUTE[_RO] [LOAD n k...] [PERSIST n k...] [ROUTING k] [TIMEOUT ms] |> op [|> op ...] */
function dagexecute(readOnly: boolean): Handler {
  const name = readOnly ? 'AI.DAGEXECUTE_RO' : 'AI.DAGEXECUTE';
  return (c, argv) => {
    if (argv.length < 6) throw new CommandError(DagErr.missingArguments(name));
    if (c.inExec) throw new CommandError(AiErr.inTransaction);
    // cluster mode: LOAD keys on other shards are read first (../dag/remote-loads.ts)
    const remote = fetchRemoteLoads(c, argv);
    if (remote) return remote.then((r) => executeDag(c, parseDag(c, argv, { deprecated: false, readOnly, remote: r })));
    return executeDag(c, parseDag(c, argv, { deprecated: false, readOnly }));
  };
}

/** AI.DAGRUN[_RO] [LOAD n k...] [PERSIST n k...] [ROUTING k] [TIMEOUT ms] |> op [|> op ...] (MODELRUN / SCRIPTRUN ops) */
function dagrun(readOnly: boolean): Handler {
  return (c, argv) => {
    // the generic arity error: it echoes the name as typed
    if (argv.length < 4) throw new CommandError(Err.wrongArity(argv[0].toString('latin1')));
    if (c.inExec) throw new CommandError(AiErr.inTransaction);
    const remote = fetchRemoteLoads(c, argv);
    if (remote) return remote.then((r) => executeDag(c, parseDag(c, argv, { deprecated: true, readOnly, remote: r })));
    return executeDag(c, parseDag(c, argv, { deprecated: true, readOnly }));
  };
}

// arity -1: the handlers check argc themselves (RedisAI's texts). Not 'no-multi': QUEUED, refused at EXEC, as
// RedisAI. keys [3,3,1] are RedisAI's placeholders (COMMAND INFO); getKeys gives the real ones.
export const dagCommands: CommandDef[] = [
  { name: 'ai.dagexecute', arity: -1, flags: ['write', 'denyoom'], keys: [3, 3, 1], getKeys: dagKeys, group: 'ai', handler: dagexecute(false) },
  { name: 'ai.dagexecute_ro', arity: -1, flags: ['readonly'], keys: [3, 3, 1], getKeys: dagKeys, group: 'ai', handler: dagexecute(true) },
  { name: 'ai.dagrun', arity: -1, flags: ['write', 'denyoom'], keys: [3, 3, 1], getKeys: dagKeys, group: 'ai', handler: dagrun(false) },
  { name: 'ai.dagrun_ro', arity: -1, flags: ['readonly'], keys: [3, 3, 1], getKeys: dagKeys, group: 'ai', handler: dagrun(true) },
];
