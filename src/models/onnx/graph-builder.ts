// A small builder for ONNX graphs: typed inputs/outputs with symbolic dims, initializers from typed
// arrays, nodes with explicit attribute kinds, unique value names, and a check that every node input
// is defined before use (a bug in an exporter fails here with the node's name, not deep inside ORT).

import {
  AttributeType,
  DataType,
  type AttributeProto,
  type GraphProto,
  type Int64,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
  encodeUtf8,
  floatTensor,
  int64Tensor,
} from './onnx-proto.js';

/** An attribute value with its kind spelled out (1 vs 1.0 is not ambiguous). */
export type AttrValue =
  | { kind: 'int'; value: Int64 }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: Int64[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorProto }
  | { kind: 'graph'; value: GraphProto };

export const attr = {
  int: (value: Int64): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  ints: (value: Int64[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  tensor: (value: TensorProto): AttrValue => ({ kind: 'tensor', value }),
  graph: (value: GraphProto): AttrValue => ({ kind: 'graph', value }),
};

export function toAttributeProto(name: string, v: AttrValue): AttributeProto {
  const a: AttributeProto = { name, floats: [], ints: [], strings: [], tensors: [], graphs: [] };
  switch (v.kind) {
    case 'int':
      a.type = AttributeType.INT;
      a.i = v.value;
      break;
    case 'float':
      a.type = AttributeType.FLOAT;
      a.f = v.value;
      break;
    case 'ints':
      a.type = AttributeType.INTS;
      a.ints = [...v.value];
      break;
    case 'floats':
      a.type = AttributeType.FLOATS;
      a.floats = [...v.value];
      break;
    case 'string':
      a.type = AttributeType.STRING;
      a.s = encodeUtf8(v.value);
      break;
    case 'tensor':
      a.type = AttributeType.TENSOR;
      a.t = v.value;
      break;
    case 'graph':
      a.type = AttributeType.GRAPH;
      a.g = v.value;
      break;
  }
  return a;
}

/** A dimension: a number (fixed) or a string (symbolic, e.g. 'batch'). */
export type Dim = number | string;

export function valueInfo(name: string, elemType: number, dims: readonly Dim[] | undefined): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: dims === undefined ? undefined : { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export interface ModelOptions {
  opsetVersion: number;
  /** Default 8 (the IR version of opset 17; ORT accepts newer). */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
  /** Extra operator sets, e.g. [{domain: 'com.microsoft', version: 1}]. */
  extraOpsets?: { domain: string; version: number }[];
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly defined = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constCache = new Map<string, string>();

  constructor(readonly name = 'graph') {}

  /** A value name not used yet, `${prefix}` or `${prefix}_N`. */
  fresh(prefix: string): string {
    let n = this.counters.get(prefix) ?? 0;
    let candidate = n === 0 ? prefix : `${prefix}_${n}`;
    while (this.defined.has(candidate)) candidate = `${prefix}_${++n}`;
    this.counters.set(prefix, n + 1);
    return candidate;
  }

  private define(name: string, what: string): void {
    if (name === '') return;
    if (this.defined.has(name)) throw new Error(`graph ${this.name}: value ${name} defined twice (${what})`);
    this.defined.add(name);
  }

  has(name: string): boolean {
    return this.defined.has(name);
  }

  input(name: string, elemType: number, dims: readonly Dim[]): string {
    this.define(name, 'graph input');
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declare an already defined value as a graph output. */
  output(name: string, elemType: number, dims?: readonly Dim[]): void {
    if (!this.defined.has(name)) throw new Error(`graph ${this.name}: output ${name} is not produced by any node, input or initializer`);
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  initializer(t: TensorProto): string {
    if (!t.name) throw new Error(`graph ${this.name}: initializers need a name`);
    this.define(t.name, 'initializer');
    this.initializers.push(t);
    return t.name;
  }

  /** FLOAT initializer; the data is referenced, not copied. */
  floatInitializer(name: string, dims: number[], data: Float32Array): string {
    return this.initializer(floatTensor(name, dims, data));
  }

  /** A small INT64 constant (shapes, axes), deduplicated by value. */
  int64Const(values: readonly (number | bigint)[], dims: number[] = [values.length], prefix = 'const_i64'): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh(prefix);
    this.initializer(int64Tensor(name, dims, values));
    this.constCache.set(key, name);
    return name;
  }

  /** A FLOAT scalar constant (shape []), deduplicated by value. */
  floatScalar(value: number, prefix = 'const_f32'): string {
    const key = `f32:${Object.is(value, -0) ? '-0' : String(value)}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = this.fresh(prefix);
    this.initializer(floatTensor(name, [], Float32Array.of(value)));
    this.constCache.set(key, name);
    return name;
  }

  /**
   * Add a node. `outputs` is either the output names or a count (names are generated from the op
   * type). Returns the output names. Every non-empty input must already be defined.
   */
  node(opType: string, inputs: readonly string[], outputs: readonly string[] | number = 1, attrs: Record<string, AttrValue> = {}, options: { name?: string; domain?: string } = {}): string[] {
    const nodeName = options.name ?? this.fresh(`${opType}_node`);
    for (const i of inputs) {
      if (i !== '' && !this.defined.has(i)) throw new Error(`graph ${this.name}: node ${nodeName} (${opType}) reads ${i}, which is not defined yet`);
    }
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : [...outputs];
    for (const o of outs) this.define(o, `output of node ${nodeName}`);
    this.nodes.push({
      input: [...inputs],
      output: outs,
      name: nodeName,
      opType,
      domain: options.domain,
      attribute: Object.entries(attrs).map(([k, v]) => toAttributeProto(k, v)),
    });
    return outs;
  }

  /** Single-output node; `out` names the result (generated when absent). */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.node(opType, inputs, out === undefined ? 1 : [out], attrs)[0];
  }

  build(): GraphProto {
    if (this.outputs.length === 0) throw new Error(`graph ${this.name}: no outputs declared`);
    return {
      name: this.name,
      node: [...this.nodes],
      initializer: [...this.initializers],
      input: [...this.inputs],
      output: [...this.outputs],
      valueInfo: [],
    };
  }
}

export function buildModel(graph: GraphProto, o: ModelOptions): ModelProto {
  return {
    irVersion: o.irVersion ?? 8,
    producerName: o.producerName,
    producerVersion: o.producerVersion,
    docString: o.docString,
    graph,
    opsetImport: [{ domain: '', version: o.opsetVersion }, ...(o.extraOpsets ?? []).map((x) => ({ domain: x.domain, version: x.version }))],
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
}

export { DataType };
