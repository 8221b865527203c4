// The subset of TensorFlow's protos that a frozen GraphDef (.pb) needs, as a protobufjs JSON descriptor with
// TF's own field numbers (tensorflow/core/framework/{graph,node_def,attr_value,tensor,tensor_shape,types,
// versions,function}.proto). Field names are camelCase, the form tfjs-converter's graph reader expects
// (tensorShape, unknownRank). The function library is kept as opaque bytes: only its presence is looked at
// (TF2 control-flow functions are not supported). Embedded as a module so that it is found from dist/.

import * as protobuf from 'protobufjs';

/** TF's DataType enum (types.proto); the *_REF variants (n + 100) are mapped back to n by the reader. */
export const TF_DTYPES: Record<string, number> = {
  DT_INVALID: 0,
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_UINT8: 4,
  DT_INT16: 5,
  DT_INT8: 6,
  DT_STRING: 7,
  DT_COMPLEX64: 8,
  DT_INT64: 9,
  DT_BOOL: 10,
  DT_QINT8: 11,
  DT_QUINT8: 12,
  DT_QINT32: 13,
  DT_BFLOAT16: 14,
  DT_QINT16: 15,
  DT_QUINT16: 16,
  DT_UINT16: 17,
  DT_COMPLEX128: 18,
  DT_HALF: 19,
  DT_RESOURCE: 20,
  DT_VARIANT: 21,
  DT_UINT32: 22,
  DT_UINT64: 23,
};

// typed loosely: protobufjs's IField type lacks the map fields' keyType
const DESCRIPTOR = {
  nested: {
    tensorflow: {
      nested: {
        DataType: { values: TF_DTYPES },
        GraphDef: {
          fields: {
            node: { rule: 'repeated', type: 'NodeDef', id: 1 },
            library: { type: 'FunctionDefLibrary', id: 2 },
            version: { type: 'int32', id: 3 },
            versions: { type: 'VersionDef', id: 4 },
          },
        },
        FunctionDefLibrary: {
          fields: {
            function: { rule: 'repeated', type: 'bytes', id: 1 },
            gradient: { rule: 'repeated', type: 'bytes', id: 2 },
          },
        },
        VersionDef: {
          fields: {
            producer: { type: 'int32', id: 1 },
            minConsumer: { type: 'int32', id: 2 },
            badConsumers: { rule: 'repeated', type: 'int32', id: 3 },
          },
        },
        NodeDef: {
          fields: {
            name: { type: 'string', id: 1 },
            op: { type: 'string', id: 2 },
            input: { rule: 'repeated', type: 'string', id: 3 },
            device: { type: 'string', id: 4 },
            attr: { keyType: 'string', type: 'AttrValue', id: 5 },
          },
        },
        AttrValue: {
          oneofs: { value: { oneof: ['s', 'i', 'f', 'b', 'type', 'shape', 'tensor', 'list', 'func', 'placeholder'] } },
          fields: {
            list: { type: 'ListValue', id: 1 },
            s: { type: 'bytes', id: 2 },
            i: { type: 'int64', id: 3 },
            f: { type: 'float', id: 4 },
            b: { type: 'bool', id: 5 },
            type: { type: 'DataType', id: 6 },
            shape: { type: 'TensorShapeProto', id: 7 },
            tensor: { type: 'TensorProto', id: 8 },
            placeholder: { type: 'string', id: 9 },
            func: { type: 'NameAttrList', id: 10 },
          },
          nested: {
            ListValue: {
              fields: {
                s: { rule: 'repeated', type: 'bytes', id: 2 },
                i: { rule: 'repeated', type: 'int64', id: 3 },
                f: { rule: 'repeated', type: 'float', id: 4 },
                b: { rule: 'repeated', type: 'bool', id: 5 },
                type: { rule: 'repeated', type: 'DataType', id: 6 },
                shape: { rule: 'repeated', type: 'TensorShapeProto', id: 7 },
                tensor: { rule: 'repeated', type: 'TensorProto', id: 8 },
                func: { rule: 'repeated', type: 'NameAttrList', id: 9 },
              },
            },
          },
        },
        NameAttrList: {
          fields: {
            name: { type: 'string', id: 1 },
            attr: { keyType: 'string', type: 'AttrValue', id: 2 },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dim', id: 2 },
            unknownRank: { type: 'bool', id: 3 },
          },
          nested: {
            Dim: {
              fields: {
                size: { type: 'int64', id: 1 },
                name: { type: 'string', id: 2 },
              },
            },
          },
        },
        TensorProto: {
          fields: {
            dtype: { type: 'DataType', id: 1 },
            tensorShape: { type: 'TensorShapeProto', id: 2 },
            versionNumber: { type: 'int32', id: 3 },
            tensorContent: { type: 'bytes', id: 4 },
            floatVal: { rule: 'repeated', type: 'float', id: 5 },
            doubleVal: { rule: 'repeated', type: 'double', id: 6 },
            intVal: { rule: 'repeated', type: 'int32', id: 7 },
            stringVal: { rule: 'repeated', type: 'bytes', id: 8 },
            scomplexVal: { rule: 'repeated', type: 'float', id: 9 },
            int64Val: { rule: 'repeated', type: 'int64', id: 10 },
            boolVal: { rule: 'repeated', type: 'bool', id: 11 },
            dcomplexVal: { rule: 'repeated', type: 'double', id: 12 },
            halfVal: { rule: 'repeated', type: 'int32', id: 13 },
            uint32Val: { rule: 'repeated', type: 'uint32', id: 16 },
            uint64Val: { rule: 'repeated', type: 'uint64', id: 17 },
          },
        },
      },
    },
  },
};

// ------------------------------------------------------------------------------------- decoded message shapes

/** int64 fields decode to numbers (safe range) or Long-like objects; `num()` reads either. */
export type Int64 = number | { toNumber(): number } | string;

export interface TensorShapeMsg {
  dim?: { size?: Int64; name?: string }[];
  unknownRank?: boolean;
}

export interface TensorMsg {
  dtype?: number;
  tensorShape?: TensorShapeMsg;
  tensorContent?: Uint8Array;
  floatVal?: number[];
  doubleVal?: number[];
  intVal?: number[];
  stringVal?: Uint8Array[];
  int64Val?: Int64[];
  boolVal?: boolean[];
  halfVal?: number[];
  uint32Val?: number[];
  uint64Val?: Int64[];
}

export interface AttrMsg {
  list?: {
    s?: Uint8Array[];
    i?: Int64[];
    f?: number[];
    b?: boolean[];
    type?: number[];
    shape?: TensorShapeMsg[];
    tensor?: TensorMsg[];
    func?: { name?: string }[];
  };
  s?: Uint8Array;
  i?: Int64;
  f?: number;
  b?: boolean;
  type?: number;
  shape?: TensorShapeMsg;
  tensor?: TensorMsg;
  placeholder?: string;
  func?: { name?: string };
}

export interface NodeMsg {
  name?: string;
  op?: string;
  input?: string[];
  device?: string;
  attr?: Record<string, AttrMsg>;
}

export interface GraphMsg {
  node?: NodeMsg[];
  library?: { function?: Uint8Array[] };
  versions?: { producer?: number; minConsumer?: number };
}

export function num(v: Int64 | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}

let graphType: protobuf.Type | undefined;

/** Decodes a binary GraphDef; throws on bytes that are not one. */
export function decodeGraphDef(bytes: Uint8Array): GraphMsg {
  graphType ??= protobuf.Root.fromJSON(DESCRIPTOR as unknown as protobuf.INamespace).lookupType('tensorflow.GraphDef');
  return graphType.decode(bytes) as unknown as GraphMsg;
}

/** Encodes a GraphDef from a plain object of the same shape (tests build small graphs with it). */
export function encodeGraphDef(graph: GraphMsg): Uint8Array {
  graphType ??= protobuf.Root.fromJSON(DESCRIPTOR as unknown as protobuf.INamespace).lookupType('tensorflow.GraphDef');
  const err = graphType.verify(graph);
  if (err) throw new Error(err);
  return graphType.encode(graphType.fromObject(graph)).finish();
}
