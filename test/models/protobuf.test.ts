// Tests of the protobuf wire format (varint edge cases, fixed-width values, packed and unpacked
// repeated fields, errors) and of the ONNX message codec (round trips, unknown-field preservation,
// zero-copy tensor views).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ProtoReader, ProtoWriter, WireType } from '../../src/models/onnx/protobuf.js';
import {
  AttributeType,
  DataType,
  type ModelProto,
  decodeModel,
  decodeTensor,
  encodeModel,
  encodeStringStringEntry,
  encodeTensor,
  floatTensor,
  tensorToFloat32,
} from '../../src/models/onnx/onnx-proto.js';
import { GraphBuilder, attr, buildModel } from '../../src/models/onnx/graph-builder.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const varintBytes = (v: number | bigint) => new ProtoWriter().varint(v).finish();

test('varint encodings match the protobuf spec', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 31, '8080808008'],
    [2 ** 32 - 1, 'ffffffff0f'],
    [2 ** 53 - 1, 'ffffffffffffff0f'],
    [2n ** 63n - 1n, 'ffffffffffffffff7f'],
    [2n ** 64n - 1n, 'ffffffffffffffffff01'],
    [-1, 'ffffffffffffffffff01'], // int64 -1: ten bytes, two's complement
    [-(2n ** 63n), '80808080808080808001'],
  ];
  for (const [v, expected] of cases) assert.equal(hex(varintBytes(v)), expected, `varint ${v}`);
});

test('varint decoding: numbers when safe, bigint otherwise, signed and unsigned views', () => {
  const r = (h: string) => new ProtoReader(Buffer.from(h, 'hex'));
  assert.equal(r('ac02').readVarint(), 300);
  assert.equal(r('ffffffffffffff0f').readVarint(), 2 ** 53 - 1);
  assert.equal(r('ffffffffffffff0f').readInt64(), 2 ** 53 - 1);
  assert.equal(r('ffffffffffffffff7f').readInt64(), 2n ** 63n - 1n);
  assert.equal(r('ffffffffffffffffff01').readInt64(), -1);
  assert.equal(r('ffffffffffffffffff01').readUint64(), 2n ** 64n - 1n);
  assert.equal(r('80808080808080808001').readInt64(), -(2n ** 63n));
  assert.equal(r('ffffffffffffffffff01').readInt32(), -1); // negative int32 are sign-extended on the wire
  assert.equal(r('feffffff0f').readInt32(), -2); // and some writers use 5 bytes
  assert.equal(r('8000').readVarint(), 0); // non-minimal encodings are legal
  assert.equal(r('ffffffffffffff7f').readInt64(), 2n ** 56n - 1n); // 56 bits: not a safe number
  assert.equal(r('ffffffffffffff8f00').readInt64(), 2 ** 53 - 1); // non-minimal 9 bytes, value still safe
  assert.throws(() => r('ffffffffffffffff7f').readVarint(), /does not fit a JavaScript number/);
  assert.throws(() => r('ffffffffffffffffffff01').readVarintBig(), /longer than 10 bytes/);
  assert.throws(() => new ProtoReader(Buffer.from('ff', 'hex'), 0, 1, 'x.onnx').readVarint(), /x\.onnx: invalid protobuf at byte 1: unexpected end/);
  // Round trip through writer and reader for many magnitudes and signs.
  for (let e = 0; e < 63; e++) {
    for (const v of [2n ** BigInt(e), 2n ** BigInt(e) - 1n, -(2n ** BigInt(e))]) {
      const got = new ProtoReader(varintBytes(v)).readInt64();
      assert.equal(BigInt(got), v);
      assert.equal(typeof got, v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? 'number' : 'bigint');
    }
  }
  assert.throws(() => new ProtoWriter().varint(1.5), /not an integer/);
  assert.throws(() => new ProtoWriter().varint(2n ** 64n), /does not fit 64 bits/);
});

test('fixed32, float, double and length-delimited fields', () => {
  const w = new ProtoWriter();
  w.tag(1, WireType.Fixed32).fixed32(0xdeadbeef).floatField(2, -1.5).tag(3, WireType.Fixed64).double(Math.PI).stringField(4, 'héllo').bytesField(5, new Uint8Array(0));
  const r = new ProtoReader(w.finish());
  assert.deepEqual(r.readTag(), { field: 1, wire: WireType.Fixed32 });
  assert.equal(r.readFixed32(), 0xdeadbeef);
  assert.deepEqual(r.readTag(), { field: 2, wire: WireType.Fixed32 });
  assert.equal(r.readFloat(), -1.5);
  r.readTag();
  assert.equal(r.readDouble(), Math.PI);
  r.readTag();
  assert.equal(r.readString(), 'héllo');
  r.readTag();
  assert.equal(r.readBytes().length, 0);
  assert.ok(r.done);
  // A length that runs past the end names the byte offset.
  assert.throws(() => new ProtoReader(Uint8Array.of(0x0a, 0x05, 1, 2)).readTag() && new ProtoReader(Uint8Array.of(0x0a, 0x05, 1, 2), 1).readBytes(), /length 5 runs past the end/);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x0f)).readTag(), /unknown wire type 7/);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x00)).readTag(), /field number 0/);
});

test('repeated scalars decode packed and unpacked; dims keep their order', () => {
  const unpacked = new ProtoWriter().int64Field(1, 2).int64Field(1, 3).int64Field(1, 4).int64Field(2, DataType.INT64).int64Field(7, -5).int64Field(7, 2n ** 62n).finish();
  const packed = new ProtoWriter().packedVarints(1, [2, 3, 4]).int64Field(2, DataType.INT64).packedVarints(7, [-5, 2n ** 62n]).finish();
  for (const bytes of [unpacked, packed]) {
    const t = decodeTensor(new ProtoReader(bytes));
    assert.deepEqual(t.dims, [2, 3, 4]);
    assert.equal(t.dataType, DataType.INT64);
    assert.deepEqual(t.int64Data, [-5, 2n ** 62n]);
    assert.equal(t.unknownFields, undefined);
  }
  // float_data: packed (as written by ONNX) and unpacked
  const f1 = decodeTensor(new ProtoReader(new ProtoWriter().int64Field(2, 1).packedFloats(4, [1.5, -2]).finish()));
  const f2 = decodeTensor(new ProtoReader(new ProtoWriter().int64Field(2, 1).floatField(4, 1.5).floatField(4, -2).finish()));
  assert.deepEqual(Array.from(f1.floatData!), [1.5, -2]);
  assert.deepEqual(Array.from(f2.floatData!), [1.5, -2]);
});

/** A model with unknown fields at several levels, written by hand the way a newer exporter might. */
function modelWithUnknowns(): { bytes: Uint8Array; unknown: Record<string, Uint8Array> } {
  const unknown = {
    model: new ProtoWriter().messageField(25, new ProtoWriter().stringField(1, 'some_function')).finish(), // functions
    model2: new ProtoWriter().int64Field(1000, -7).finish(),
    graph: new ProtoWriter().messageField(16, encodeStringStringEntry({ key: 'gk', value: 'gv' })).finish(), // graph metadata_props
    node: new ProtoWriter().stringField(8, 'overload_x').finish(), // NodeProto.overload
    tensor: new ProtoWriter().messageField(3, new ProtoWriter().int64Field(1, 0).int64Field(2, 4)).finish(), // Segment
    type: new ProtoWriter().messageField(4, new ProtoWriter().messageField(1, new ProtoWriter())).finish(), // sequence_type
    fixed64: new ProtoWriter().tag(77, WireType.Fixed64).double(2.5).finish(),
    fixed32: new ProtoWriter().tag(78, WireType.Fixed32).fixed32(9).finish(),
  };
  const g = new GraphBuilder('g');
  g.input('x', DataType.FLOAT, ['n', 4]);
  g.floatInitializer('w', [4], Float32Array.of(1, 2, 3, 4));
  g.op('Add', ['x', 'w'], {}, 'y');
  g.output('y', DataType.FLOAT, ['n', 4]);
  const model = buildModel(g.build(), { opsetVersion: 17, producerName: 'test', metadata: { a: 'b' } });
  model.unknownFields = [unknown.model, unknown.model2];
  model.graph!.unknownFields = [unknown.graph];
  model.graph!.node[0].unknownFields = [unknown.node, unknown.fixed64, unknown.fixed32];
  model.graph!.initializer[0].unknownFields = [unknown.tensor];
  model.graph!.input[0].type!.unknownFields = [unknown.type];
  return { bytes: encodeModel(model), unknown };
}

test('unknown fields survive decode -> encode byte for byte, at every level', () => {
  const { bytes, unknown } = modelWithUnknowns();
  const m = decodeModel(bytes, 'unknowns.onnx');
  assert.deepEqual(m.unknownFields?.map(hex), [hex(unknown.model), hex(unknown.model2)]);
  assert.deepEqual(m.graph!.unknownFields?.map(hex), [hex(unknown.graph)]);
  assert.deepEqual(m.graph!.node[0].unknownFields?.map(hex), [hex(unknown.node), hex(unknown.fixed64), hex(unknown.fixed32)]);
  assert.deepEqual(m.graph!.initializer[0].unknownFields?.map(hex), [hex(unknown.tensor)]);
  assert.deepEqual(m.graph!.input[0].type!.unknownFields?.map(hex), [hex(unknown.type)]);
  assert.equal(hex(encodeModel(m)), hex(bytes));
});

test('unknown fields interleaved with known ones are kept (re-encoding groups them after the known fields)', () => {
  // NodeProto: input, <unknown 8>, output, op_type
  const nodeBytes = new ProtoWriter().stringField(1, 'x').stringField(8, 'ov').stringField(2, 'y').stringField(4, 'Relu');
  const graph = new ProtoWriter().messageField(1, nodeBytes).stringField(2, 'g');
  const bytes = new ProtoWriter().int64Field(1, 8).messageField(7, graph).messageField(8, new ProtoWriter().int64Field(2, 17)).finish();
  const m = decodeModel(bytes);
  const n = m.graph!.node[0];
  assert.deepEqual([n.input, n.output, n.opType], [['x'], ['y'], 'Relu']);
  assert.equal(hex(n.unknownFields![0]), hex(new ProtoWriter().stringField(8, 'ov').finish()));
  const again = encodeModel(m);
  assert.equal(again.length, bytes.length);
  assert.equal(hex(encodeModel(decodeModel(again))), hex(again)); // stable from then on
});

test('decoded tensors are zero-copy views; encoded raw_data is the float bytes', () => {
  const data = new Float32Array(1000).map((_, i) => i * 0.5 - 3);
  const t = floatTensor('big', [10, 100], data);
  assert.equal(t.rawData!.buffer, data.buffer); // the initializer references the weights
  const bytes = encodeTensor(t).finish();
  const back = decodeTensor(new ProtoReader(bytes));
  assert.equal(back.rawData!.buffer, bytes.buffer); // a view into the encoded buffer, not a copy
  assert.deepEqual(tensorToFloat32(back), data);
  assert.deepEqual(back.dims, [10, 100]);
  assert.equal(back.name, 'big');
});

test('float16, bfloat16, double and typed-field tensors convert to float32; external data is reported', () => {
  const f16 = decodeTensor(new ProtoReader(new ProtoWriter().int64Field(1, 4).int64Field(2, DataType.FLOAT16).bytesField(9, new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x7c00]).buffer)).finish()));
  assert.deepEqual(Array.from(tensorToFloat32(f16)), [1, -2, Math.fround(0.333251953125), Infinity]);
  const f16typed = decodeTensor(new ProtoReader(new ProtoWriter().int64Field(1, 1).int64Field(2, DataType.FLOAT16).packedVarints(5, [0x3800]).finish()));
  assert.deepEqual(Array.from(tensorToFloat32(f16typed)), [0.5]);
  const bf16 = decodeTensor(new ProtoReader(new ProtoWriter().int64Field(1, 1).int64Field(2, DataType.BFLOAT16).bytesField(9, Uint8Array.of(0xc0, 0x3f)).finish()));
  assert.deepEqual(Array.from(tensorToFloat32(bf16)), [1.5]);
  const dbl = decodeTensor(new ProtoReader(new ProtoWriter().int64Field(1, 2).int64Field(2, DataType.DOUBLE).packedDoubles(10, [0.25, -8]).finish()));
  assert.deepEqual(Array.from(tensorToFloat32(dbl)), [0.25, -8]);
  const ext = decodeTensor(
    new ProtoReader(
      new ProtoWriter()
        .int64Field(1, 2)
        .int64Field(2, DataType.FLOAT)
        .stringField(8, 'w')
        .messageField(13, encodeStringStringEntry({ key: 'location', value: 'model.onnx_data' }))
        .messageField(13, encodeStringStringEntry({ key: 'offset', value: '4096' }))
        .int64Field(14, 1)
        .finish(),
    ),
  );
  assert.deepEqual(ext.externalData, [{ key: 'location', value: 'model.onnx_data' }, { key: 'offset', value: '4096' }]);
  assert.throws(() => tensorToFloat32(ext, 'm.onnx'), /m\.onnx: tensor w \[2\] stores its data externally \(model\.onnx_data\)/);
  assert.throws(() => tensorToFloat32({ ...ext, dataLocation: 0, dims: [3], rawData: new Uint8Array(8) }), /holds 2 values, expected 3/);
});

test('attributes of every modelled kind round-trip, negative ints and subgraphs included', () => {
  const sub = new GraphBuilder('then');
  sub.floatInitializer('c', [], Float32Array.of(1));
  sub.op('Identity', ['c'], {}, 'out');
  sub.output('out', DataType.FLOAT, []);
  const g = new GraphBuilder('main');
  g.input('cond', DataType.BOOL, []);
  g.node('If', ['cond'], ['r'], { then_branch: attr.graph(sub.build()), else_branch: attr.graph(sub.build()) });
  g.node('Foo', ['r'], ['s'], { i: attr.int(-1), big: attr.int(2n ** 63n - 1n), f: attr.float(0.125), ints: attr.ints([-1, 0, 9007199254740993n]), floats: attr.floats([1.5, -0]), str: attr.string('ünï'), t: attr.tensor(floatTensor('tt', [2], Float32Array.of(3, 4))) }, { domain: 'custom' });
  g.output('s', DataType.FLOAT);
  const model: ModelProto = buildModel(g.build(), { opsetVersion: 17 });
  const bytes = encodeModel(model);
  const back = decodeModel(bytes);
  const attrs = Object.fromEntries(back.graph!.node[1].attribute.map((a) => [a.name, a]));
  assert.equal(attrs.i.i, -1);
  assert.equal(attrs.i.type, AttributeType.INT);
  assert.equal(attrs.big.i, 2n ** 63n - 1n);
  assert.equal(attrs.f.f, 0.125);
  assert.deepEqual(attrs.ints.ints, [-1, 0, 9007199254740993n]);
  assert.deepEqual(attrs.floats.floats, [1.5, -0]);
  assert.equal(Buffer.from(attrs.str.s!).toString('utf8'), 'ünï');
  assert.deepEqual(Array.from(tensorToFloat32(attrs.t.t!)), [3, 4]);
  assert.equal(back.graph!.node[1].domain, 'custom');
  assert.equal(back.graph!.node[0].attribute[0].g!.node[0].opType, 'Identity');
  assert.equal(hex(encodeModel(back)), hex(bytes));
});

test('a truncated or foreign file gives an error naming it', () => {
  const { bytes } = modelWithUnknowns();
  assert.throws(() => decodeModel(bytes.subarray(0, bytes.length - 3), 'cut.onnx'), /cut\.onnx: invalid protobuf at byte \d+/);
  assert.throws(() => decodeModel(new TextEncoder().encode('{"not": "onnx"}'), 'x.json'), /x\.json: /);
  assert.throws(() => decodeModel(new ProtoWriter().int64Field(1, 8).finish(), 'empty.onnx'), /empty\.onnx: not an ONNX model \(no graph field\)/);
});

test('graph builder rejects undefined inputs and duplicate names', () => {
  const g = new GraphBuilder('b');
  g.input('x', DataType.FLOAT, [2]);
  assert.throws(() => g.op('Relu', ['nope']), /node Relu_node \(Relu\) reads nope, which is not defined yet/);
  g.op('Relu', ['x'], {}, 'y');
  assert.throws(() => g.op('Relu', ['x'], {}, 'y'), /value y defined twice/);
  assert.throws(() => g.output('zz', DataType.FLOAT), /output zz is not produced/);
  assert.equal(g.int64Const([1, 2]), g.int64Const([1, 2])); // constants are shared
});
