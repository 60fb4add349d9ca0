// Typed encode/decode of the ONNX protobuf messages (field numbers from onnx/onnx.proto3). Fields this
// module does not model (functions, sparse tensors, non-tensor types, newer metadata...) are kept as raw
// bytes in `unknownFields` and written back unchanged, so foreign models round-trip. Tensor bytes are views.

import { type Int64, ProtoReader, ProtoWriter, WireType, littleEndianBytes, utf8Decoder, utf8Encoder } from './protobuf.js';

export type { Int64 } from './protobuf.js';

/** TensorProto.DataType. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
  FLOAT8E8M0: 24,
} as const;

export function dataTypeName(t: number): string {
  for (const [k, v] of Object.entries(DataType)) if (v === t) return k.toLowerCase();
  return `data_type ${t}`;
}

/** AttributeProto.AttributeType. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/** Raw bytes (tag included) of fields this module does not model, in the order they were read. */
export interface HasUnknown {
  unknownFields?: Uint8Array[];
}

export interface StringStringEntryProto extends HasUnknown {
  key: string; // 1
  value: string; // 2
}

export interface OperatorSetIdProto extends HasUnknown {
  domain?: string; // 1 ('' or absent = ai.onnx)
  version: Int64; // 2
}

export interface TensorShapeDimension extends HasUnknown {
  dimValue?: number; // 1 (oneof value)
  dimParam?: string; // 2 (oneof value)
  denotation?: string; // 3
}

export interface TensorShapeProto extends HasUnknown {
  dim: TensorShapeDimension[]; // 1
}

export interface TypeProtoTensor extends HasUnknown {
  elemType?: number; // 1 (DataType)
  shape?: TensorShapeProto; // 2
}

/** Only tensor types are modelled; sequence/map/optional/sparse types stay in unknownFields. */
export interface TypeProto extends HasUnknown {
  tensorType?: TypeProtoTensor; // 1
  denotation?: string; // 6
}

export interface ValueInfoProto extends HasUnknown {
  name: string; // 1
  type?: TypeProto; // 2
  docString?: string; // 3
}

export interface TensorProto extends HasUnknown {
  dims: number[]; // 1
  dataType: number; // 2
  floatData?: Float32Array; // 4 (packed)
  int32Data?: number[]; // 5 (packed; also int8/16, uint8/16, bool, float16 bits)
  stringData?: Uint8Array[]; // 6
  int64Data?: Int64[]; // 7 (packed)
  name?: string; // 8
  rawData?: Uint8Array; // 9 (little-endian; a view into the decoded buffer)
  doubleData?: Float64Array; // 10 (packed)
  uint64Data?: Int64[]; // 11 (packed)
  docString?: string; // 12
  externalData: StringStringEntryProto[]; // 13 (location, offset, length, checksum)
  dataLocation?: number; // 14 (DataLocation)
}

export interface AttributeProto extends HasUnknown {
  name: string; // 1
  f?: number; // 2
  i?: Int64; // 3
  s?: Uint8Array; // 4
  t?: TensorProto; // 5
  g?: GraphProto; // 6
  floats: number[]; // 7
  ints: Int64[]; // 8
  strings: Uint8Array[]; // 9
  tensors: TensorProto[]; // 10
  graphs: GraphProto[]; // 11
  docString?: string; // 13
  type?: number; // 20 (AttributeType)
  refAttrName?: string; // 21
}

export interface NodeProto extends HasUnknown {
  input: string[]; // 1
  output: string[]; // 2
  name?: string; // 3
  opType: string; // 4
  attribute: AttributeProto[]; // 5
  docString?: string; // 6
  domain?: string; // 7
}

export interface GraphProto extends HasUnknown {
  node: NodeProto[]; // 1
  name?: string; // 2
  initializer: TensorProto[]; // 5
  docString?: string; // 10
  input: ValueInfoProto[]; // 11
  output: ValueInfoProto[]; // 12
  valueInfo: ValueInfoProto[]; // 13
}

export interface ModelProto extends HasUnknown {
  irVersion?: Int64; // 1
  producerName?: string; // 2
  producerVersion?: string; // 3
  domain?: string; // 4
  modelVersion?: Int64; // 5
  docString?: string; // 6
  graph?: GraphProto; // 7
  opsetImport: OperatorSetIdProto[]; // 8
  metadataProps: StringStringEntryProto[]; // 14
}

// ---------------------------------------------------------------------------------------------------
// Decoding. Each decoder reads one message; unknown field numbers (and known numbers with an unexpected
// wire type, which a newer schema might use) are kept raw.

type FieldHandler<T> = (msg: T, r: ProtoReader, wire: number, field: number) => boolean;

function decodeMessage<T extends HasUnknown>(r: ProtoReader, msg: T, handle: FieldHandler<T>): T {
  while (!r.done) {
    const tagStart = r.pos;
    const { field, wire } = r.readTag();
    if (wire === WireType.EndGroup) r.fail(`unexpected end-group tag for field ${field}`, tagStart);
    // Handlers check the wire type before reading, so on `false` nothing past the tag was consumed.
    if (!handle(msg, r, wire, field)) (msg.unknownFields ??= []).push(r.rawField(tagStart, wire, field));
  }
  return msg;
}

const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;

function str(r: ProtoReader, wire: number): string | undefined {
  return wire === LEN ? r.readString() : undefined;
}

export function decodeStringStringEntry(r: ProtoReader): StringStringEntryProto {
  return decodeMessage<StringStringEntryProto>(r, { key: '', value: '' }, (m, r, w, f) => {
    if (w !== LEN) return false;
    if (f === 1) m.key = r.readString();
    else if (f === 2) m.value = r.readString();
    else return false;
    return true;
  });
}

export function decodeOperatorSetId(r: ProtoReader): OperatorSetIdProto {
  return decodeMessage<OperatorSetIdProto>(r, { version: 0 }, (m, r, w, f) => {
    if (f === 1 && w === LEN) m.domain = r.readString();
    else if (f === 2 && w === VARINT) m.version = r.readInt64();
    else return false;
    return true;
  });
}

function readDimValue(r: ProtoReader): number {
  const v = r.readInt64();
  if (typeof v === 'bigint') r.fail(`dimension ${v} is not a safe integer`);
  return v;
}

export function decodeDimension(r: ProtoReader): TensorShapeDimension {
  return decodeMessage<TensorShapeDimension>(r, {}, (m, r, w, f) => {
    if (f === 1 && w === VARINT) m.dimValue = readDimValue(r);
    else if (f === 2 && w === LEN) m.dimParam = r.readString();
    else if (f === 3 && w === LEN) m.denotation = r.readString();
    else return false;
    return true;
  });
}

export function decodeTensorShape(r: ProtoReader): TensorShapeProto {
  return decodeMessage<TensorShapeProto>(r, { dim: [] }, (m, r, w, f) => {
    if (f === 1 && w === LEN) m.dim.push(decodeDimension(r.readMessage()));
    else return false;
    return true;
  });
}

export function decodeTypeTensor(r: ProtoReader): TypeProtoTensor {
  return decodeMessage<TypeProtoTensor>(r, {}, (m, r, w, f) => {
    if (f === 1 && w === VARINT) m.elemType = r.readInt32();
    else if (f === 2 && w === LEN) m.shape = decodeTensorShape(r.readMessage());
    else return false;
    return true;
  });
}

export function decodeType(r: ProtoReader): TypeProto {
  return decodeMessage<TypeProto>(r, {}, (m, r, w, f) => {
    if (f === 1 && w === LEN) m.tensorType = decodeTypeTensor(r.readMessage());
    else if (f === 6 && w === LEN) m.denotation = r.readString();
    else return false;
    return true;
  });
}

export function decodeValueInfo(r: ProtoReader): ValueInfoProto {
  return decodeMessage<ValueInfoProto>(r, { name: '' }, (m, r, w, f) => {
    if (f === 1 && w === LEN) m.name = r.readString();
    else if (f === 2 && w === LEN) m.type = decodeType(r.readMessage());
    else if (f === 3 && w === LEN) m.docString = r.readString();
    else return false;
    return true;
  });
}

function readFloatsInto(r: ProtoReader, wire: number, out: number[]): void {
  r.readRepeated(wire, WireType.Fixed32, (s) => out.push(s.readFloat()));
}

export function decodeTensor(r: ProtoReader): TensorProto {
  const floats: number[] = [];
  const doubles: number[] = [];
  let sawFloats = false;
  let sawDoubles = false;
  const t = decodeMessage<TensorProto>(r, { dims: [], dataType: 0, externalData: [] }, (m, r, w, f) => {
    switch (f) {
      case 1:
        if (w !== VARINT && w !== LEN) return false;
        r.readRepeated(w, VARINT, (s) => m.dims.push(readDimValue(s)));
        return true;
      case 2:
        if (w !== VARINT) return false;
        m.dataType = r.readInt32();
        return true;
      case 4:
        if (w !== WireType.Fixed32 && w !== LEN) return false;
        sawFloats = true;
        readFloatsInto(r, w, floats);
        return true;
      case 5:
        if (w !== VARINT && w !== LEN) return false;
        r.readRepeated(w, VARINT, (s) => (m.int32Data ??= []).push(s.readInt32()));
        return true;
      case 6:
        if (w !== LEN) return false;
        (m.stringData ??= []).push(r.readBytes());
        return true;
      case 7:
        if (w !== VARINT && w !== LEN) return false;
        r.readRepeated(w, VARINT, (s) => (m.int64Data ??= []).push(s.readInt64()));
        return true;
      case 8:
        if (w !== LEN) return false;
        m.name = r.readString();
        return true;
      case 9:
        if (w !== LEN) return false;
        m.rawData = r.readBytes();
        return true;
      case 10:
        if (w !== WireType.Fixed64 && w !== LEN) return false;
        sawDoubles = true;
        r.readRepeated(w, WireType.Fixed64, (s) => doubles.push(s.readDouble()));
        return true;
      case 11:
        if (w !== VARINT && w !== LEN) return false;
        r.readRepeated(w, VARINT, (s) => (m.uint64Data ??= []).push(s.readUint64()));
        return true;
      case 12:
        if (w !== LEN) return false;
        m.docString = r.readString();
        return true;
      case 13:
        if (w !== LEN) return false;
        m.externalData.push(decodeStringStringEntry(r.readMessage()));
        return true;
      case 14:
        if (w !== VARINT) return false;
        m.dataLocation = r.readInt32();
        return true;
      default:
        return false;
    }
  });
  if (sawFloats) t.floatData = Float32Array.from(floats);
  if (sawDoubles) t.doubleData = Float64Array.from(doubles);
  return t;
}

export function decodeAttribute(r: ProtoReader): AttributeProto {
  return decodeMessage<AttributeProto>(r, { name: '', floats: [], ints: [], strings: [], tensors: [], graphs: [] }, (m, r, w, f) => {
    switch (f) {
      case 1:
        if (w !== LEN) return false;
        m.name = r.readString();
        return true;
      case 2:
        if (w !== WireType.Fixed32) return false;
        m.f = r.readFloat();
        return true;
      case 3:
        if (w !== VARINT) return false;
        m.i = r.readInt64();
        return true;
      case 4:
        if (w !== LEN) return false;
        m.s = r.readBytes();
        return true;
      case 5:
        if (w !== LEN) return false;
        m.t = decodeTensor(r.readMessage());
        return true;
      case 6:
        if (w !== LEN) return false;
        m.g = decodeGraph(r.readMessage());
        return true;
      case 7:
        if (w !== WireType.Fixed32 && w !== LEN) return false;
        readFloatsInto(r, w, m.floats);
        return true;
      case 8:
        if (w !== VARINT && w !== LEN) return false;
        r.readRepeated(w, VARINT, (s) => m.ints.push(s.readInt64()));
        return true;
      case 9:
        if (w !== LEN) return false;
        m.strings.push(r.readBytes());
        return true;
      case 10:
        if (w !== LEN) return false;
        m.tensors.push(decodeTensor(r.readMessage()));
        return true;
      case 11:
        if (w !== LEN) return false;
        m.graphs.push(decodeGraph(r.readMessage()));
        return true;
      case 13:
        if (w !== LEN) return false;
        m.docString = r.readString();
        return true;
      case 20:
        if (w !== VARINT) return false;
        m.type = r.readInt32();
        return true;
      case 21:
        if (w !== LEN) return false;
        m.refAttrName = r.readString();
        return true;
      default:
        return false;
    }
  });
}

export function decodeNode(r: ProtoReader): NodeProto {
  return decodeMessage<NodeProto>(r, { input: [], output: [], opType: '', attribute: [] }, (m, r, w, f) => {
    if (w !== LEN) return false;
    switch (f) {
      case 1:
        m.input.push(r.readString());
        return true;
      case 2:
        m.output.push(r.readString());
        return true;
      case 3:
        m.name = r.readString();
        return true;
      case 4:
        m.opType = r.readString();
        return true;
      case 5:
        m.attribute.push(decodeAttribute(r.readMessage()));
        return true;
      case 6:
        m.docString = r.readString();
        return true;
      case 7:
        m.domain = r.readString();
        return true;
      default:
        return false;
    }
  });
}

export function decodeGraph(r: ProtoReader): GraphProto {
  return decodeMessage<GraphProto>(r, { node: [], initializer: [], input: [], output: [], valueInfo: [] }, (m, r, w, f) => {
    if (w !== LEN) return false;
    switch (f) {
      case 1:
        m.node.push(decodeNode(r.readMessage()));
        return true;
      case 2:
        m.name = r.readString();
        return true;
      case 5:
        m.initializer.push(decodeTensor(r.readMessage()));
        return true;
      case 10:
        m.docString = r.readString();
        return true;
      case 11:
        m.input.push(decodeValueInfo(r.readMessage()));
        return true;
      case 12:
        m.output.push(decodeValueInfo(r.readMessage()));
        return true;
      case 13:
        m.valueInfo.push(decodeValueInfo(r.readMessage()));
        return true;
      default:
        return false;
    }
  });
}

export function decodeModelFrom(r: ProtoReader): ModelProto {
  return decodeMessage<ModelProto>(r, { opsetImport: [], metadataProps: [] }, (m, r, w, f) => {
    switch (f) {
      case 1:
        if (w !== VARINT) return false;
        m.irVersion = r.readInt64();
        return true;
      case 2:
      case 3:
      case 4:
      case 6: {
        const s = str(r, w);
        if (s === undefined) return false;
        if (f === 2) m.producerName = s;
        else if (f === 3) m.producerVersion = s;
        else if (f === 4) m.domain = s;
        else m.docString = s;
        return true;
      }
      case 5:
        if (w !== VARINT) return false;
        m.modelVersion = r.readInt64();
        return true;
      case 7:
        if (w !== LEN) return false;
        m.graph = decodeGraph(r.readMessage());
        return true;
      case 8:
        if (w !== LEN) return false;
        m.opsetImport.push(decodeOperatorSetId(r.readMessage()));
        return true;
      case 14:
        if (w !== LEN) return false;
        m.metadataProps.push(decodeStringStringEntry(r.readMessage()));
        return true;
      default:
        return false;
    }
  });
}

/**
 * Decode a serialized ModelProto. Tensor `rawData` and byte fields are views into `bytes` (keep it
 * alive and unmodified while the model is used). `source` (e.g. the file path) is named in errors.
 */
export function decodeModel(bytes: Uint8Array, source = 'ONNX model'): ModelProto {
  const model = decodeModelFrom(new ProtoReader(bytes, 0, bytes.length, source));
  if (!model.graph) throw new Error(`${source}: not an ONNX model (no graph field); is this the right file?`);
  return model;
}

// ---------------------------------------------------------------------------------------------------
// Encoding. Known fields are written in field-number order, then the unknown fields as they were read.

function withUnknown(w: ProtoWriter, m: HasUnknown): ProtoWriter {
  if (m.unknownFields) for (const u of m.unknownFields) w.raw(u);
  return w;
}

function putString(w: ProtoWriter, field: number, s: string | undefined): void {
  if (s !== undefined && s !== '') w.stringField(field, s);
}

export function encodeStringStringEntry(m: StringStringEntryProto): ProtoWriter {
  const w = new ProtoWriter();
  putString(w, 1, m.key);
  putString(w, 2, m.value);
  return withUnknown(w, m);
}

export function encodeOperatorSetId(m: OperatorSetIdProto): ProtoWriter {
  const w = new ProtoWriter();
  putString(w, 1, m.domain);
  w.int64Field(2, m.version);
  return withUnknown(w, m);
}

export function encodeDimension(m: TensorShapeDimension): ProtoWriter {
  const w = new ProtoWriter();
  if (m.dimValue !== undefined) w.int64Field(1, m.dimValue);
  if (m.dimParam !== undefined) w.stringField(2, m.dimParam);
  putString(w, 3, m.denotation);
  return withUnknown(w, m);
}

export function encodeTensorShape(m: TensorShapeProto): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of m.dim) w.messageField(1, encodeDimension(d));
  return withUnknown(w, m);
}

export function encodeTypeTensor(m: TypeProtoTensor): ProtoWriter {
  const w = new ProtoWriter();
  if (m.elemType !== undefined) w.int64Field(1, m.elemType);
  if (m.shape) w.messageField(2, encodeTensorShape(m.shape));
  return withUnknown(w, m);
}

export function encodeType(m: TypeProto): ProtoWriter {
  const w = new ProtoWriter();
  if (m.tensorType) w.messageField(1, encodeTypeTensor(m.tensorType));
  putString(w, 6, m.denotation);
  return withUnknown(w, m);
}

export function encodeValueInfo(m: ValueInfoProto): ProtoWriter {
  const w = new ProtoWriter();
  putString(w, 1, m.name);
  if (m.type) w.messageField(2, encodeType(m.type));
  putString(w, 3, m.docString);
  return withUnknown(w, m);
}

export function encodeTensor(m: TensorProto): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of m.dims) w.int64Field(1, d);
  if (m.dataType !== 0) w.int64Field(2, m.dataType);
  if (m.floatData && m.floatData.length > 0) w.packedFloats(4, m.floatData);
  if (m.int32Data && m.int32Data.length > 0) w.packedVarints(5, m.int32Data);
  if (m.stringData) for (const s of m.stringData) w.bytesField(6, s);
  if (m.int64Data && m.int64Data.length > 0) w.packedVarints(7, m.int64Data);
  putString(w, 8, m.name);
  if (m.rawData !== undefined) w.bytesField(9, m.rawData);
  if (m.doubleData && m.doubleData.length > 0) w.packedDoubles(10, m.doubleData);
  if (m.uint64Data && m.uint64Data.length > 0) w.packedVarints(11, m.uint64Data);
  putString(w, 12, m.docString);
  for (const e of m.externalData) w.messageField(13, encodeStringStringEntry(e));
  if (m.dataLocation !== undefined && m.dataLocation !== 0) w.int64Field(14, m.dataLocation);
  return withUnknown(w, m);
}

export function encodeAttribute(m: AttributeProto): ProtoWriter {
  const w = new ProtoWriter();
  putString(w, 1, m.name);
  if (m.f !== undefined) w.floatField(2, m.f);
  if (m.i !== undefined) w.int64Field(3, m.i);
  if (m.s !== undefined) w.bytesField(4, m.s);
  if (m.t) w.messageField(5, encodeTensor(m.t));
  if (m.g) w.messageField(6, encodeGraph(m.g));
  for (const x of m.floats) w.floatField(7, x);
  for (const x of m.ints) w.int64Field(8, x);
  for (const x of m.strings) w.bytesField(9, x);
  for (const x of m.tensors) w.messageField(10, encodeTensor(x));
  for (const x of m.graphs) w.messageField(11, encodeGraph(x));
  putString(w, 13, m.docString);
  if (m.type !== undefined) w.int64Field(20, m.type);
  putString(w, 21, m.refAttrName);
  return withUnknown(w, m);
}

export function encodeNode(m: NodeProto): ProtoWriter {
  const w = new ProtoWriter();
  // Inputs are positional: an empty name marks an omitted optional input and must be kept.
  for (const s of m.input) w.stringField(1, s);
  for (const s of m.output) w.stringField(2, s);
  putString(w, 3, m.name);
  putString(w, 4, m.opType);
  for (const a of m.attribute) w.messageField(5, encodeAttribute(a));
  putString(w, 6, m.docString);
  putString(w, 7, m.domain);
  return withUnknown(w, m);
}

export function encodeGraph(m: GraphProto): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of m.node) w.messageField(1, encodeNode(n));
  putString(w, 2, m.name);
  for (const t of m.initializer) w.messageField(5, encodeTensor(t));
  putString(w, 10, m.docString);
  for (const v of m.input) w.messageField(11, encodeValueInfo(v));
  for (const v of m.output) w.messageField(12, encodeValueInfo(v));
  for (const v of m.valueInfo) w.messageField(13, encodeValueInfo(v));
  return withUnknown(w, m);
}

export function encodeModelWriter(m: ModelProto): ProtoWriter {
  const w = new ProtoWriter();
  if (m.irVersion !== undefined) w.int64Field(1, m.irVersion);
  putString(w, 2, m.producerName);
  putString(w, 3, m.producerVersion);
  putString(w, 4, m.domain);
  if (m.modelVersion !== undefined) w.int64Field(5, m.modelVersion);
  putString(w, 6, m.docString);
  if (m.graph) w.messageField(7, encodeGraph(m.graph));
  for (const o of m.opsetImport) w.messageField(8, encodeOperatorSetId(o));
  for (const p of m.metadataProps) w.messageField(14, encodeStringStringEntry(p));
  return withUnknown(w, m);
}

/** Serialize a ModelProto (one final copy of all bytes, initializers included). */
export function encodeModel(m: ModelProto): Uint8Array {
  return encodeModelWriter(m).finish();
}

// ---------------------------------------------------------------------------------------------------
// Tensor helpers.

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A FLOAT initializer whose raw_data is a view of `data` (not copied; do not mutate before encoding). */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  if (data.length !== elementCount(dims)) throw new Error(`tensor ${name}: ${data.length} values for shape ${JSON.stringify(dims)}`);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: littleEndianBytes(data), externalData: [] };
}

/** An INT64 initializer from numbers (must be safe integers) or bigints. */
export function int64Tensor(name: string, dims: number[], values: ArrayLike<number | bigint>): TensorProto {
  if (values.length !== elementCount(dims)) throw new Error(`tensor ${name}: ${values.length} values for shape ${JSON.stringify(dims)}`);
  const a = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = BigInt(values[i]);
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: littleEndianBytes(a), externalData: [] };
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === DataLocation.EXTERNAL;
}

/** The external_data entries as an object ({location, offset?, length?, checksum?}). */
export function externalDataInfo(t: TensorProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of t.externalData) out[e.key] = e.value;
  return out;
}

/** IEEE half-precision bits to a float. */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * The values of a FLOAT, FLOAT16, BFLOAT16 or DOUBLE tensor as float32 (a copy). External data must be
 * resolved by the caller first: the error says so.
 */
export function tensorToFloat32(t: TensorProto, source = 'ONNX model'): Float32Array {
  const n = elementCount(t.dims);
  const where = `${source}: tensor ${t.name ?? '<unnamed>'} ${JSON.stringify(t.dims)}`;
  if (isExternal(t)) throw new Error(`${where} stores its data externally (${externalDataInfo(t).location ?? '?'}); load the external data first`);
  const out = new Float32Array(n);
  const raw = t.rawData;
  const dv = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const check = (have: number) => {
    if (have !== n) throw new Error(`${where} holds ${have} values, expected ${n}`);
  };
  switch (t.dataType) {
    case DataType.FLOAT:
      if (dv) {
        check(dv.byteLength / 4);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
      } else {
        check(t.floatData?.length ?? 0);
        out.set(t.floatData ?? []);
      }
      return out;
    case DataType.DOUBLE:
      if (dv) {
        check(dv.byteLength / 8);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
      } else {
        check(t.doubleData?.length ?? 0);
        out.set(t.doubleData ?? []);
      }
      return out;
    case DataType.FLOAT16:
    case DataType.BFLOAT16: {
      const bits = (i: number) => (dv ? dv.getUint16(i * 2, true) : (t.int32Data ?? [])[i]);
      check(dv ? dv.byteLength / 2 : (t.int32Data?.length ?? 0));
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        if (t.dataType === DataType.FLOAT16) out[i] = float16ToFloat32(bits(i));
        else {
          tmp.setUint32(0, bits(i) << 16);
          out[i] = tmp.getFloat32(0);
        }
      }
      return out;
    }
    default:
      throw new Error(`${where} has type ${dataTypeName(t.dataType)}, not a floating-point type`);
  }
}

/** Decode a UTF-8 attribute string (AttributeProto.s / strings are bytes on the wire). */
export function attributeString(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}
