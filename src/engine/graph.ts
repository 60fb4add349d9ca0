// The training engine's graph IR: an ONNX graph under construction whose every value has a static dtype
// and shape (checked when the node is added, so a wrong shape fails here with the node's name instead of
// deep inside ONNX Runtime). Small int64 constants keep their values, so Reshape/Slice/Unsqueeze/Expand
// shapes are known at build time. Reverse-mode differentiation (./autodiff.ts) appends gradient nodes
// to the same graph; `toModel` encodes it (default domain only, one opset) for ONNX Runtime.
//
// Shapes are static by design: the engine caches one session per shape bucket (./session-cache.ts),
// which keeps the gradient rules simple (broadcast reductions are decided here, not at run time).

import { type AttrValue, attr, toAttributeProto, valueInfo } from '../models/onnx/graph-builder.js';
import { DataType, type ModelProto, type NodeProto, type TensorProto, encodeModel } from '../models/onnx/onnx-proto.js';
import { littleEndianBytes } from '../models/onnx/protobuf.js';
import { VERSION } from '../version.js';
import { inferShapes } from './shapes.js';

export { attr, type AttrValue };

/** The one opset of every engine graph (Reduce* take their axes as an input from 18 on). */
export const ENGINE_OPSET = 18;

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
export type FloatType = 'float32' | 'float64';

export const ONNX_DTYPE: Record<DType, number> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  int64: DataType.INT64,
  int32: DataType.INT32,
  bool: DataType.BOOL,
};

export function dtypeOfOnnx(code: number): DType {
  const hit = (Object.entries(ONNX_DTYPE) as [DType, number][]).find(([, c]) => c === code);
  if (!hit) throw new Error(`ONNX data type ${code} is not used by the engine (float32, float64, int64, int32, bool)`);
  return hit[0];
}

export function isFloat(d: DType): d is FloatType {
  return d === 'float32' || d === 'float64';
}

/** One value of the graph: a graph input, an initializer or a node output. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Values of a small int64 constant (shapes, axes, indices), when known at build time. */
  readonly known?: readonly number[];
  /** The node that computes it (undefined for inputs and initializers). */
  readonly producer?: GraphNode;
}

export interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

interface Initializer {
  value: Value;
  data: TypedArray;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constCache = new Map<string, Value>();
  /** Values gradients do not flow through (see detach). */
  readonly detached = new Set<string>();

  constructor(
    readonly name: string,
    /** The float type of activations and weights (float32 to train, float64 for gradient checks). */
    readonly float: FloatType = 'float32',
  ) {}

  /** A value name not used yet: `prefix`, else `prefix_N`. */
  fresh(prefix: string): string {
    let n = this.counters.get(prefix) ?? 0;
    let candidate = n === 0 ? prefix : `${prefix}_${n}`;
    while (this.names.has(candidate)) candidate = `${prefix}_${++n}`;
    this.counters.set(prefix, n + 1);
    return candidate;
  }

  private claim(name: string, what: string): string {
    if (this.names.has(name)) throw new Error(`graph ${this.name}: value ${name} defined twice (${what})`);
    this.names.add(name);
    return name;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  input(name: string, dtype: DType, shape: readonly number[]): Value {
    checkShape(shape, `graph ${this.name}: input ${name}`);
    const v: Value = { name: this.claim(name, 'graph input'), dtype, shape: [...shape] };
    this.inputs.push(v);
    return v;
  }

  /** A float input of the graph's float type. */
  floatInput(name: string, shape: readonly number[]): Value {
    return this.input(name, this.float, shape);
  }

  /** An initializer; `data` is referenced until the model is encoded. */
  initializer(name: string, dtype: DType, shape: readonly number[], data: TypedArray, known?: readonly number[]): Value {
    checkShape(shape, `graph ${this.name}: initializer ${name}`);
    if (data.length !== sizeOf(shape)) throw new Error(`graph ${this.name}: initializer ${name} has ${data.length} values for shape ${shapeText(shape)}`);
    const v: Value = { name: this.claim(name, 'initializer'), dtype, shape: [...shape], known };
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A float constant of the graph's float type (converted from float64 numbers or any float array). */
  floatConst(name: string, shape: readonly number[], data: ArrayLike<number>): Value {
    const arr = this.float === 'float32' ? Float32Array.from(data) : Float64Array.from(data);
    return this.initializer(this.fresh(name), this.float, shape, arr);
  }

  /** A float scalar constant (shape []), shared by value. */
  scalar(value: number): Value {
    const key = `${this.float}:${Object.is(value, -0) ? '-0' : String(value)}`;
    let v = this.constCache.get(key);
    if (!v) {
      v = this.floatConst('const_f', [], [value]);
      this.constCache.set(key, v);
    }
    return v;
  }

  /** An int64 constant (1-D by default), shared by value; its values stay known. */
  ints(values: readonly number[], shape: readonly number[] = [values.length]): Value {
    const key = `i64:${shape.join('x')}:${values.join(',')}`;
    let v = this.constCache.get(key);
    if (!v) {
      const data = BigInt64Array.from(values.map((x) => BigInt(x)));
      v = this.initializer(this.fresh('const_i'), 'int64', shape, data, [...values]);
      this.constCache.set(key, v);
    }
    return v;
  }

  /** A boolean constant. */
  bools(values: readonly boolean[], shape: readonly number[]): Value {
    return this.initializer(this.fresh('const_b'), 'bool', shape, Uint8Array.from(values.map((b) => (b ? 1 : 0))));
  }

  /**
   * Add a node; shapes and dtypes of its outputs are inferred (./shapes.ts). `inputs` may hold
   * undefined for an omitted optional input. Returns the outputs.
   */
  node(op: string, inputs: readonly (Value | undefined)[], attrs: Record<string, AttrValue> = {}, options: { outputs?: number; names?: readonly string[]; name?: string } = {}): Value[] {
    const nodeName = options.name ?? this.fresh(`${op}_node`);
    for (const i of inputs) if (i && !this.names.has(i.name)) throw new Error(`graph ${this.name}: node ${nodeName} (${op}) reads ${i.name}, which is not in this graph`);
    let types: { dtype: DType; shape: number[]; known?: number[] }[];
    try {
      types = inferShapes(op, inputs, attrs, this.float);
    } catch (error) {
      const given = inputs.map((i) => (i ? `${i.name} ${i.dtype} ${shapeText(i.shape)}` : '(none)')).join(', ');
      throw new Error(`graph ${this.name}: node ${nodeName} (${op}) with inputs ${given}: ${(error as Error).message}`, { cause: error });
    }
    const count = options.outputs ?? types.length;
    if (count > types.length) throw new Error(`graph ${this.name}: node ${nodeName} (${op}) has ${types.length} outputs, ${count} were asked`);
    const outNames = options.names ?? Array.from({ length: count }, () => this.fresh(op.toLowerCase()));
    const node: { name: string; op: string; inputs: (Value | undefined)[]; outputs: Value[]; attrs: Record<string, AttrValue> } = { name: nodeName, op, inputs: [...inputs], outputs: [], attrs };
    for (let k = 0; k < count; k++) {
      const t = types[k];
      node.outputs.push({ name: this.claim(outNames[k], `output of node ${nodeName}`), dtype: t.dtype, shape: t.shape, known: t.known, producer: node });
    }
    this.nodes.push(node);
    return node.outputs;
  }

  /** A single-output node. */
  op(op: string, inputs: readonly (Value | undefined)[], attrs: Record<string, AttrValue> = {}, name?: string): Value {
    return this.node(op, inputs, attrs, name === undefined ? { outputs: 1 } : { outputs: 1, names: [name] })[0];
  }

  /** Declare a graph output; a graph input or a value already output gets an Identity under `name`. */
  output(v: Value, name?: string): Value {
    let out = v;
    if (name !== undefined && name !== v.name) out = this.op('Identity', [v], {}, name);
    else if (!v.producer || this.outputs.some((o) => o.name === v.name)) out = this.op('Identity', [v], {}, this.fresh(`${v.name}_out`));
    this.outputs.push(out);
    return out;
  }

  // ---------------------------------------------------------------- op helpers (shapes in comments at the call sites)

  add(a: Value, b: Value): Value {
    return this.op('Add', [a, b]);
  }
  sub(a: Value, b: Value): Value {
    return this.op('Sub', [a, b]);
  }
  mul(a: Value, b: Value): Value {
    return this.op('Mul', [a, b]);
  }
  div(a: Value, b: Value): Value {
    return this.op('Div', [a, b]);
  }
  neg(a: Value): Value {
    return this.op('Neg', [a]);
  }
  exp(a: Value): Value {
    return this.op('Exp', [a]);
  }
  log(a: Value): Value {
    return this.op('Log', [a]);
  }
  sqrt(a: Value): Value {
    return this.op('Sqrt', [a]);
  }
  matmul(a: Value, b: Value): Value {
    return this.op('MatMul', [a, b]);
  }
  transpose(x: Value, perm: readonly number[]): Value {
    return this.op('Transpose', [x], { perm: attr.ints([...perm]) });
  }
  /** Swap the last two axes. */
  transposeLast(x: Value): Value {
    const r = x.shape.length;
    const perm = Array.from({ length: r }, (_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.transpose(x, perm);
  }
  reshape(x: Value, shape: readonly number[]): Value {
    return this.op('Reshape', [x, this.ints(shape)]);
  }
  unsqueeze(x: Value, axes: readonly number[]): Value {
    return this.op('Unsqueeze', [x, this.ints(axes)]);
  }
  squeeze(x: Value, axes: readonly number[]): Value {
    return this.op('Squeeze', [x, this.ints(axes)]);
  }
  expand(x: Value, shape: readonly number[]): Value {
    return this.op('Expand', [x, this.ints(shape)]);
  }
  concat(xs: readonly Value[], axis: number): Value {
    return xs.length === 1 ? xs[0] : this.op('Concat', xs, { axis: attr.int(axis) });
  }
  /** x[..., start:end, ...] along `axis` (step 1). */
  slice(x: Value, axis: number, start: number, end: number): Value {
    return this.op('Slice', [x, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
  gather(data: Value, indices: Value, axis = 0): Value {
    return this.op('Gather', [data, indices], { axis: attr.int(axis) });
  }
  reduceSum(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  reduceMean(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op('ReduceMean', [x, this.ints(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  reduceMax(x: Value, axes: readonly number[], keepdims: boolean): Value {
    return this.op('ReduceMax', [x, this.ints(axes)], { keepdims: attr.int(keepdims ? 1 : 0) });
  }
  /** Sum over every axis -> scalar []. */
  sumAll(x: Value): Value {
    return x.shape.length === 0 ? x : this.reduceSum(x, x.shape.map((_, i) => i), false);
  }
  softmax(x: Value, axis = -1): Value {
    return this.op('Softmax', [x], { axis: attr.int(axis) });
  }
  logSoftmax(x: Value, axis = -1): Value {
    return this.op('LogSoftmax', [x], { axis: attr.int(axis) });
  }
  where(cond: Value, a: Value, b: Value): Value {
    return this.op('Where', [cond, a, b]);
  }
  cast(x: Value, to: DType): Value {
    return x.dtype === to ? x : this.op('Cast', [x], { to: attr.int(ONNX_DTYPE[to]) });
  }
  /** The same value as a constant for differentiation (an Identity that gradients stop at). */
  detach(x: Value): Value {
    const out = this.op('Identity', [x], {}, this.fresh(`${x.name}_detached`));
    this.detached.add(out.name);
    return out;
  }
  /** Zeros of a shape in the graph's float type (a broadcast scalar). */
  zeros(shape: readonly number[]): Value {
    return shape.length === 0 ? this.scalar(0) : this.expand(this.scalar(0), shape);
  }

  // ---------------------------------------------------------------- encoding

  /** The ModelProto of this graph (initializer bytes are views of the given arrays). */
  toModel(options: { docString?: string; metadata?: Record<string, string> } = {}): ModelProto {
    if (this.outputs.length === 0) throw new Error(`graph ${this.name}: no outputs declared`);
    const live = this.liveNodes();
    const used = new Set<string>();
    for (const n of live) for (const i of n.inputs) if (i) used.add(i.name);
    for (const o of this.outputs) used.add(o.name);
    const initializer: TensorProto[] = this.initializers
      .filter((i) => used.has(i.value.name))
      .map((i) => ({ name: i.value.name, dims: [...i.value.shape], dataType: ONNX_DTYPE[i.value.dtype], rawData: littleEndianBytes(i.data), externalData: [] }));
    const node: NodeProto[] = live.map((n) => ({
      name: n.name,
      opType: n.op,
      input: n.inputs.map((i) => i?.name ?? ''),
      output: n.outputs.map((o) => o.name),
      attribute: Object.entries(n.attrs).map(([k, v]) => toAttributeProto(k, v)),
    }));
    return {
      irVersion: 8,
      producerName: 'musketeers-engine',
      producerVersion: VERSION,
      docString: options.docString,
      graph: {
        name: this.name,
        node,
        initializer,
        input: this.inputs.map((v) => valueInfo(v.name, ONNX_DTYPE[v.dtype], v.shape)),
        output: this.outputs.map((v) => valueInfo(v.name, ONNX_DTYPE[v.dtype], v.shape)),
        valueInfo: [],
      },
      opsetImport: [{ domain: '', version: ENGINE_OPSET }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  encode(options: { docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }

  /** Nodes some output depends on, in order (dead forward nodes are dropped from the model). */
  liveNodes(): GraphNode[] {
    const needed = new Set<string>(this.outputs.map((o) => o.name));
    const keep: boolean[] = new Array(this.nodes.length).fill(false);
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k];
      if (!n.outputs.some((o) => needed.has(o.name))) continue;
      keep[k] = true;
      for (const i of n.inputs) if (i) needed.add(i.name);
    }
    return this.nodes.filter((_, k) => keep[k]);
  }

  /** Number of float parameters held as initializers (for memory reports). */
  initializerBytes(): number {
    return this.initializers.reduce((a, i) => a + i.data.byteLength, 0);
  }
}

function checkShape(shape: readonly number[], what: string): void {
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: shape ${shapeText(shape)} must hold non-negative integers (engine graphs have static shapes)`);
}
