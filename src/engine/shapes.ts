// Static shape and dtype inference for the ONNX ops engine graphs use (ONNX semantics, opset 18):
// numpy broadcasting for the elementwise ops, the MatMul/Gemm contraction rules, reductions with axes
// as an input, and the shape ops whose shape/axes inputs must be known int64 constants. An op or an
// attribute combination not listed here is an error naming it.

import type { AttrValue } from '../models/onnx/graph-builder.js';
import type { DType, FloatType, Value } from './graph.js';
import { dtypeOfOnnx } from './graph.js';

export interface InferredType {
  dtype: DType;
  shape: number[];
  known?: number[];
}

const UNARY_SAME = new Set(['Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Sigmoid', 'Tanh', 'Abs', 'Relu', 'Identity', 'Erf', 'Softmax', 'LogSoftmax', 'Sign', 'Floor', 'Ceil', 'Not']);
const BINARY_SAME = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Min', 'Max']);
const BINARY_BOOL = new Set(['Equal', 'Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Xor']);
const REDUCE = new Set(['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd']);

function intAttr(attrs: Record<string, AttrValue>, name: string, fallback: number): number {
  const a = attrs[name];
  if (!a) return fallback;
  if (a.kind !== 'int') throw new Error(`attribute ${name} must be an int`);
  return Number(a.value);
}

function intsAttr(attrs: Record<string, AttrValue>, name: string): number[] | undefined {
  const a = attrs[name];
  if (!a) return undefined;
  if (a.kind !== 'ints') throw new Error(`attribute ${name} must be ints`);
  return a.value.map(Number);
}

/** Normalise a possibly negative axis for rank r. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcast of several shapes. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + k] ?? 1;
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new Error(`shapes ${shapes.map((x) => `[${x.join(', ')}]`).join(' and ')} do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

function known(v: Value | undefined, what: string): number[] {
  if (!v) throw new Error(`${what} is required`);
  if (!v.known) throw new Error(`${what} (${v.name}) must be an int64 constant known when the graph is built`);
  return [...v.known];
}

function floatInput(v: Value | undefined, what: string): Value {
  if (!v) throw new Error(`${what} is required`);
  return v;
}

export function inferShapes(op: string, inputs: readonly (Value | undefined)[], attrs: Record<string, AttrValue>, float: FloatType): InferredType[] {
  const x = inputs[0];
  if (UNARY_SAME.has(op)) {
    const a = floatInput(x, 'input');
    if (op === 'Not' && a.dtype !== 'bool') throw new Error('Not needs a bool input');
    return [{ dtype: a.dtype, shape: [...a.shape], known: op === 'Identity' ? a.known && [...a.known] : undefined }];
  }
  if (BINARY_SAME.has(op) || BINARY_BOOL.has(op)) {
    const [a, b] = [floatInput(inputs[0], 'A'), floatInput(inputs[1], 'B')];
    if (inputs.length !== 2) throw new Error(`${op} takes exactly two inputs here`);
    if (op !== 'Pow' && a.dtype !== b.dtype) throw new Error(`${op} inputs have types ${a.dtype} and ${b.dtype}`);
    const shape = broadcastShapes(a.shape, b.shape);
    return [{ dtype: BINARY_BOOL.has(op) ? 'bool' : a.dtype, shape }];
  }
  if (REDUCE.has(op)) {
    const a = floatInput(x, 'data');
    const keep = intAttr(attrs, 'keepdims', 1) === 1;
    const axes = inputs[1] ? known(inputs[1], 'axes').map((ax) => normAxis(ax, a.shape.length)) : a.shape.map((_, i) => i);
    const shape = keep ? a.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : a.shape.filter((_, i) => !axes.includes(i));
    return [{ dtype: a.dtype, shape }];
  }
  switch (op) {
    case 'MatMul': {
      const [a, b] = [floatInput(inputs[0], 'A'), floatInput(inputs[1], 'B')];
      if (a.shape.length < 2 || b.shape.length < 2) throw new Error('MatMul operands must have rank >= 2 in engine graphs');
      const [m, k] = a.shape.slice(-2);
      const [k2, n] = b.shape.slice(-2);
      if (k !== k2) throw new Error(`MatMul inner dimensions differ: ${k} vs ${k2}`);
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
      return [{ dtype: a.dtype, shape: [...batch, m, n] }];
    }
    case 'Gemm': {
      const [a, b] = [floatInput(inputs[0], 'A'), floatInput(inputs[1], 'B')];
      if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('Gemm needs 2-D A and B');
      const ta = intAttr(attrs, 'transA', 0) === 1;
      const tb = intAttr(attrs, 'transB', 0) === 1;
      const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
      const [k2, n] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
      if (k !== k2) throw new Error(`Gemm inner dimensions differ: ${k} vs ${k2}`);
      if (inputs[2]) broadcastShapes([m, n], inputs[2].shape);
      return [{ dtype: a.dtype, shape: [m, n] }];
    }
    case 'Where': {
      const [c, a, b] = [floatInput(inputs[0], 'condition'), floatInput(inputs[1], 'X'), floatInput(inputs[2], 'Y')];
      if (c.dtype !== 'bool') throw new Error('Where condition must be bool');
      if (a.dtype !== b.dtype) throw new Error(`Where branches have types ${a.dtype} and ${b.dtype}`);
      return [{ dtype: a.dtype, shape: broadcastShapes(c.shape, a.shape, b.shape) }];
    }
    case 'Cast': {
      const a = floatInput(x, 'input');
      const to = dtypeOfOnnx(intAttr(attrs, 'to', 0));
      return [{ dtype: to, shape: [...a.shape] }];
    }
    case 'Clip': {
      const a = floatInput(x, 'input');
      for (const b of inputs.slice(1)) if (b && b.shape.length !== 0) throw new Error('Clip min/max must be scalars');
      return [{ dtype: a.dtype, shape: [...a.shape] }];
    }
    case 'Transpose': {
      const a = floatInput(x, 'data');
      const perm = intsAttr(attrs, 'perm') ?? a.shape.map((_, i) => a.shape.length - 1 - i);
      if (perm.length !== a.shape.length || [...perm].sort().some((p, i) => p !== i)) throw new Error(`perm [${perm.join(', ')}] is not a permutation of rank ${a.shape.length}`);
      return [{ dtype: a.dtype, shape: perm.map((p) => a.shape[p]) }];
    }
    case 'Reshape': {
      const a = floatInput(x, 'data');
      const target = known(inputs[1], 'shape');
      const total = a.shape.reduce((p, d) => p * d, 1);
      const shape = target.map((d, i) => (d === 0 ? a.shape[i] : d));
      const minus = shape.filter((d) => d === -1).length;
      if (minus > 1) throw new Error('Reshape: at most one -1');
      const rest = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      if (minus === 1) {
        if (rest === 0 || total % rest !== 0) throw new Error(`Reshape: cannot infer -1 for ${total} values into [${target.join(', ')}]`);
        shape[shape.indexOf(-1)] = total / rest;
      }
      if (shape.reduce((p, d) => p * d, 1) !== total) throw new Error(`Reshape: ${total} values do not fit [${target.join(', ')}]`);
      return [{ dtype: a.dtype, shape, known: a.known && [...a.known] }];
    }
    case 'Flatten': {
      const a = floatInput(x, 'input');
      const axis = normAxis(intAttr(attrs, 'axis', 1), a.shape.length + 1);
      const left = a.shape.slice(0, axis).reduce((p, d) => p * d, 1);
      return [{ dtype: a.dtype, shape: [left, a.shape.slice(axis).reduce((p, d) => p * d, 1)] }];
    }
    case 'Unsqueeze': {
      const a = floatInput(x, 'data');
      const rank = a.shape.length + known(inputs[1], 'axes').length;
      const axes = known(inputs[1], 'axes').map((ax) => normAxis(ax, rank));
      const shape: number[] = [];
      let src = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : a.shape[src++]);
      return [{ dtype: a.dtype, shape, known: a.known && [...a.known] }];
    }
    case 'Squeeze': {
      const a = floatInput(x, 'data');
      const axes = inputs[1] ? known(inputs[1], 'axes').map((ax) => normAxis(ax, a.shape.length)) : a.shape.flatMap((d, i) => (d === 1 ? [i] : []));
      for (const ax of axes) if (a.shape[ax] !== 1) throw new Error(`Squeeze: axis ${ax} has size ${a.shape[ax]}, not 1`);
      return [{ dtype: a.dtype, shape: a.shape.filter((_, i) => !axes.includes(i)), known: a.known && [...a.known] }];
    }
    case 'Expand': {
      const a = floatInput(x, 'input');
      return [{ dtype: a.dtype, shape: broadcastShapes(a.shape, known(inputs[1], 'shape')) }];
    }
    case 'Concat': {
      const list = inputs.map((v, i) => floatInput(v, `input ${i}`));
      const rank = list[0].shape.length;
      const axis = normAxis(intAttr(attrs, 'axis', 0), rank);
      const shape = [...list[0].shape];
      shape[axis] = 0;
      for (const v of list) {
        if (v.shape.length !== rank || v.shape.some((d, i) => i !== axis && d !== list[0].shape[i])) throw new Error(`Concat inputs [${list.map((l) => l.shape.join('x')).join(', ')}] differ off axis ${axis}`);
        if (v.dtype !== list[0].dtype) throw new Error('Concat inputs differ in type');
        shape[axis] += v.shape[axis];
      }
      const allKnown = list.every((v) => v.known) && rank === 1 ? list.flatMap((v) => [...v.known!]) : undefined;
      return [{ dtype: list[0].dtype, shape, known: allKnown }];
    }
    case 'Slice': {
      const a = floatInput(x, 'data');
      const starts = known(inputs[1], 'starts');
      const ends = known(inputs[2], 'ends');
      const axes = inputs[3] ? known(inputs[3], 'axes') : starts.map((_, i) => i);
      const steps = inputs[4] ? known(inputs[4], 'steps') : starts.map(() => 1);
      const shape = [...a.shape];
      axes.forEach((ax0, j) => {
        const ax = normAxis(ax0, a.shape.length);
        const { start, end, step } = sliceRange(a.shape[ax], starts[j], ends[j], steps[j]);
        shape[ax] = Math.max(0, Math.ceil((end - start) / step));
      });
      return [{ dtype: a.dtype, shape }];
    }
    case 'Pad': {
      const a = floatInput(x, 'data');
      const pads = known(inputs[1], 'pads');
      const r = a.shape.length;
      if (pads.length !== 2 * r) throw new Error(`Pad: ${pads.length} pads for rank ${r}`);
      return [{ dtype: a.dtype, shape: a.shape.map((d, i) => d + pads[i] + pads[i + r]) }];
    }
    case 'Gather': {
      const [data, idx] = [floatInput(inputs[0], 'data'), floatInput(inputs[1], 'indices')];
      if (idx.dtype !== 'int64' && idx.dtype !== 'int32') throw new Error('Gather indices must be int64 or int32');
      const axis = normAxis(intAttr(attrs, 'axis', 0), data.shape.length);
      return [{ dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)] }];
    }
    case 'GatherElements': {
      const [data, idx] = [floatInput(inputs[0], 'data'), floatInput(inputs[1], 'indices')];
      if (idx.shape.length !== data.shape.length) throw new Error('GatherElements: indices must have the rank of data');
      return [{ dtype: data.dtype, shape: [...idx.shape] }];
    }
    case 'ScatterElements':
    case 'ScatterND': {
      const data = floatInput(inputs[0], 'data');
      floatInput(inputs[1], 'indices');
      floatInput(inputs[2], 'updates');
      return [{ dtype: data.dtype, shape: [...data.shape] }];
    }
    case 'OneHot': {
      const idx = floatInput(inputs[0], 'indices');
      const depth = known(inputs[1], 'depth')[0];
      const values = floatInput(inputs[2], 'values');
      const axis = intAttr(attrs, 'axis', -1);
      const shape = [...idx.shape];
      shape.splice(axis < 0 ? shape.length + 1 + axis : axis, 0, depth);
      return [{ dtype: values.dtype, shape }];
    }
    case 'ArgMax': {
      const a = floatInput(x, 'data');
      const axis = normAxis(intAttr(attrs, 'axis', 0), a.shape.length);
      const keep = intAttr(attrs, 'keepdims', 1) === 1;
      return [{ dtype: 'int64', shape: keep ? a.shape.map((d, i) => (i === axis ? 1 : d)) : a.shape.filter((_, i) => i !== axis) }];
    }
    case 'Shape': {
      const a = floatInput(x, 'data');
      return [{ dtype: 'int64', shape: [a.shape.length], known: [...a.shape] }];
    }
    case 'Split':
      throw new Error('use Slice instead of Split in engine graphs');
    default:
      void float;
      throw new Error(`op ${op} has no shape rule in src/engine/shapes.ts`);
  }
}

/** ONNX Slice clamping for one axis of size `dim`. */
export function sliceRange(dim: number, start0: number, end0: number, step: number): { start: number; end: number; step: number } {
  if (step === 0) throw new Error('Slice step 0');
  if (step < 0) throw new Error('negative Slice steps are not used in engine graphs');
  let start = start0 < 0 ? start0 + dim : start0;
  let end = end0 < 0 ? end0 + dim : end0;
  start = Math.min(Math.max(start, 0), dim);
  end = Math.min(Math.max(end, 0), dim);
  return { start, end, step };
}
