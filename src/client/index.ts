// The inferdb client helpers (ioredis-based; ioredis is the caller's, imported here for types only).

export {
  InferdbCluster,
  CrossSlotError,
  CROSSSLOT_MESSAGE,
  commandSlot,
  isReadOnlyCommand,
  parseTensorReply,
  type Arg,
  type SendOptions,
  type TensorReply,
  type ModelStoreOptions,
  type ScriptExecuteOptions,
  type DagOptions,
} from './cluster-client';
