// One gradient rule per ONNX op, written in standard ONNX ops: given the gradients of a node's outputs,
// the gradients of its inputs (only those asked for in `wants`). Broadcast inputs get their gradient
// summed back to their own shape (`sumToShape`). Each rule is checked against central finite
// differences in float64 by test/engine/grad-rules.test.ts.

import { type AttrValue, attr, type Graph, type GraphNode, type Value, isFloat } from './graph.js';
import { normAxis, sliceRange } from './shapes.js';

export interface RuleContext {
  g: Graph;
  node: GraphNode;
  /** Gradient of each output (undefined where the output does not reach the loss). */
  outGrads: readonly (Value | undefined)[];
  /** Whether the gradient of each input is needed. */
  wants: readonly boolean[];
}

export type GradRule = (ctx: RuleContext) => (Value | undefined)[];

/** Sum a broadcast gradient back to `shape` (numpy broadcasting in reverse). */
export function sumToShape(g: Graph, d: Value, shape: readonly number[]): Value {
  if (d.shape.join(',') === shape.join(',')) return d;
  const lead = d.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < d.shape.length; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && d.shape[i] !== 1) axes.push(i);
  }
  let out = axes.length > 0 ? g.reduceSum(d, axes, true) : d;
  if (out.shape.join(',') !== shape.join(',')) out = g.reshape(out, shape);
  return out;
}

function intAttr(node: GraphNode, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.kind === 'int' ? Number(a.value) : fallback;
}

function only(ctx: RuleContext): Value {
  const d = ctx.outGrads[0];
  if (!d) throw new Error(`node ${ctx.node.name}: no output gradient`);
  return d;
}

const input = (ctx: RuleContext, k: number): Value => ctx.node.inputs[k]!;
const output = (ctx: RuleContext, k = 0): Value => ctx.node.outputs[k];

/** Gradient for inputs that pass through unchanged in shape-only ops: reshape back. */
const reshapeBack: GradRule = (ctx) => [ctx.g.reshape(only(ctx), input(ctx, 0).shape)];

/** A boolean mask as the float type of the graph. */
function asFloat(g: Graph, mask: Value): Value {
  return g.cast(mask, g.float);
}

/** The transpose that swaps the last two axes, for MatMul gradients. */
function tLast(g: Graph, x: Value): Value {
  return g.transposeLast(x);
}

function reduceAxes(ctx: RuleContext): { axes: number[]; keep: boolean } {
  const x = input(ctx, 0);
  const axesInput = ctx.node.inputs[1];
  const axes = axesInput ? [...axesInput.known!].map((a) => normAxis(a, x.shape.length)) : x.shape.map((_, i) => i);
  return { axes, keep: intAttr(ctx.node, 'keepdims', 1) === 1 };
}

/** A reduction's output gradient, reshaped with the reduced axes kept (size 1), then broadcast to x. */
function spreadReduced(ctx: RuleContext, d: Value): Value {
  const x = input(ctx, 0);
  const { axes } = reduceAxes(ctx);
  const kept = x.shape.map((s, i) => (axes.includes(i) ? 1 : s));
  const dk = d.shape.join(',') === kept.join(',') ? d : ctx.g.reshape(d, kept);
  return ctx.g.expand(dk, x.shape);
}

export const GRAD_RULES: Record<string, GradRule> = {
  Identity: (ctx) => [only(ctx)],
  Add: (ctx) => {
    const d = only(ctx);
    return [ctx.wants[0] ? sumToShape(ctx.g, d, input(ctx, 0).shape) : undefined, ctx.wants[1] ? sumToShape(ctx.g, d, input(ctx, 1).shape) : undefined];
  },
  Sub: (ctx) => {
    const d = only(ctx);
    return [ctx.wants[0] ? sumToShape(ctx.g, d, input(ctx, 0).shape) : undefined, ctx.wants[1] ? sumToShape(ctx.g, ctx.g.neg(d), input(ctx, 1).shape) : undefined];
  },
  Mul: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    return [ctx.wants[0] ? sumToShape(g, g.mul(d, b), a.shape) : undefined, ctx.wants[1] ? sumToShape(g, g.mul(d, a), b.shape) : undefined];
  },
  Div: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    const da = ctx.wants[0] ? sumToShape(g, g.div(d, b), a.shape) : undefined;
    // d(a/b)/db = -(a/b)/b
    const db = ctx.wants[1] ? sumToShape(g, g.neg(g.div(g.mul(d, output(ctx)), b)), b.shape) : undefined;
    return [da, db];
  },
  Pow: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    if (b.dtype !== a.dtype) throw new Error(`node ${ctx.node.name}: Pow gradients need the exponent in ${a.dtype}`);
    // d a^b / da = b a^(b-1); d a^b / db = a^b log a
    const da = ctx.wants[0] ? sumToShape(g, g.mul(d, g.mul(b, g.op('Pow', [a, g.sub(b, g.scalar(1))]))), a.shape) : undefined;
    const db = ctx.wants[1] ? sumToShape(g, g.mul(d, g.mul(output(ctx), g.log(a))), b.shape) : undefined;
    return [da, db];
  },
  Neg: (ctx) => [ctx.g.neg(only(ctx))],
  Exp: (ctx) => [ctx.g.mul(only(ctx), output(ctx))],
  Log: (ctx) => [ctx.g.div(only(ctx), input(ctx, 0))],
  Sqrt: (ctx) => [ctx.g.div(ctx.g.mul(only(ctx), ctx.g.scalar(0.5)), output(ctx))],
  Reciprocal: (ctx) => {
    const y = output(ctx);
    return [ctx.g.neg(ctx.g.mul(only(ctx), ctx.g.mul(y, y)))];
  },
  Sigmoid: (ctx) => {
    const { g } = ctx;
    const y = output(ctx);
    return [g.mul(only(ctx), g.mul(y, g.sub(g.scalar(1), y)))];
  },
  Tanh: (ctx) => {
    const { g } = ctx;
    const y = output(ctx);
    return [g.mul(only(ctx), g.sub(g.scalar(1), g.mul(y, y)))];
  },
  Relu: (ctx) => {
    const { g } = ctx;
    return [g.where(g.op('Greater', [input(ctx, 0), g.scalar(0)]), only(ctx), g.scalar(0))];
  },
  Abs: (ctx) => [ctx.g.mul(only(ctx), ctx.g.op('Sign', [input(ctx, 0)]))],
  Softmax: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const y = output(ctx);
    const axis = intAttr(ctx.node, 'axis', -1);
    // dx = y * (d - sum(d * y, axis))
    return [g.mul(y, g.sub(d, g.reduceSum(g.mul(d, y), [axis], true)))];
  },
  LogSoftmax: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const axis = intAttr(ctx.node, 'axis', -1);
    // dx = d - softmax(x) * sum(d, axis)
    return [g.sub(d, g.mul(g.exp(output(ctx)), g.reduceSum(d, [axis], true)))];
  },
  ReduceSum: (ctx) => [spreadReduced(ctx, only(ctx))],
  ReduceMean: (ctx) => {
    const x = input(ctx, 0);
    const { axes } = reduceAxes(ctx);
    const count = axes.reduce((p, a) => p * x.shape[a], 1);
    return [ctx.g.div(spreadReduced(ctx, only(ctx)), ctx.g.scalar(count))];
  },
  ReduceMax: (ctx) => {
    const { g } = ctx;
    const x = input(ctx, 0);
    const { axes } = reduceAxes(ctx);
    // The gradient goes to the maximal elements, split evenly between ties.
    const yk = spreadReduced(ctx, output(ctx));
    const hit = asFloat(g, g.op('Equal', [x, yk]));
    const count = g.expand(g.reduceSum(hit, axes, true), x.shape);
    return [g.div(g.mul(spreadReduced(ctx, only(ctx)), hit), count)];
  },
  MatMul: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [a, b] = [input(ctx, 0), input(ctx, 1)];
    // Y = A B: dA = dY B^T, dB = A^T dY (batch axes summed back to each operand's shape)
    return [ctx.wants[0] ? sumToShape(g, g.matmul(d, tLast(g, b)), a.shape) : undefined, ctx.wants[1] ? sumToShape(g, g.matmul(tLast(g, a), d), b.shape) : undefined];
  },
  Gemm: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [a, b, c] = [input(ctx, 0), input(ctx, 1), ctx.node.inputs[2]];
    const ta = intAttr(ctx.node, 'transA', 0) === 1;
    const tb = intAttr(ctx.node, 'transB', 0) === 1;
    const aAttr = ctx.node.attrs.alpha;
    const bAttr = ctx.node.attrs.beta;
    const alpha = aAttr && aAttr.kind === 'float' ? aAttr.value : 1;
    const beta = bAttr && bAttr.kind === 'float' ? bAttr.value : 1;
    const gemm = (x: Value, y: Value, transA: boolean, transB: boolean) => g.op('Gemm', [x, y], { alpha: attr.float(alpha), transA: attr.int(transA ? 1 : 0), transB: attr.int(transB ? 1 : 0) } as Record<string, AttrValue>);
    // Y = alpha op(A) op(B) + beta C
    const da = ctx.wants[0] ? (ta ? gemm(b, d, tb, true) : gemm(d, b, false, !tb)) : undefined;
    const db = ctx.wants[1] ? (tb ? gemm(d, a, true, ta) : gemm(a, d, !ta, false)) : undefined;
    const dc = c && ctx.wants[2] ? sumToShape(g, beta === 1 ? d : g.mul(d, g.scalar(beta)), c.shape) : undefined;
    return [da, db, dc];
  },
  Transpose: (ctx) => {
    const x = input(ctx, 0);
    const a = ctx.node.attrs.perm;
    const perm = a && a.kind === 'ints' ? a.value.map(Number) : x.shape.map((_, i) => x.shape.length - 1 - i);
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [ctx.g.transpose(only(ctx), inverse)];
  },
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Expand: (ctx) => [sumToShape(ctx.g, only(ctx), input(ctx, 0).shape)],
  Concat: (ctx) => {
    const d = only(ctx);
    const axis = normAxis(intAttr(ctx.node, 'axis', 0), d.shape.length);
    let offset = 0;
    return ctx.node.inputs.map((x, k) => {
      const size = x!.shape[axis];
      const part = ctx.wants[k] ? ctx.g.slice(d, axis, offset, offset + size) : undefined;
      offset += size;
      return part;
    });
  },
  Slice: (ctx) => {
    const { g, node } = ctx;
    const x = input(ctx, 0);
    const starts = node.inputs[1]!.known!;
    const ends = node.inputs[2]!.known!;
    const axes = node.inputs[3] ? node.inputs[3].known! : starts.map((_, i) => i);
    const steps = node.inputs[4] ? node.inputs[4].known! : starts.map(() => 1);
    const r = x.shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    axes.forEach((ax0, j) => {
      const ax = normAxis(ax0, r);
      const { start, end, step } = sliceRange(x.shape[ax], starts[j], ends[j], steps[j]);
      if (step !== 1) throw new Error(`node ${node.name}: Slice gradients are implemented for step 1 only`);
      pads[ax] = start;
      pads[ax + r] = x.shape[ax] - Math.max(start, end);
    });
    // The slice's gradient is the output gradient padded with zeros back to the input's extent.
    return [g.op('Pad', [only(ctx), g.ints(pads)], { mode: attr.string('constant') })];
  },
  Gather: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [data, idx] = [input(ctx, 0), input(ctx, 1)];
    const axis = normAxis(intAttr(ctx.node, 'axis', 0), data.shape.length);
    // Move the gathered axis to the front, scatter-add the rows, move it back.
    const r = data.shape.length;
    const toFront = [axis, ...data.shape.map((_, i) => i).filter((i) => i !== axis)];
    const frontShape = toFront.map((i) => data.shape[i]);
    const n = idx.shape.reduce((p, s) => p * s, 1);
    const rest = frontShape.slice(1);
    // d [..pre, ..idx, ..post] -> [idx..., pre..., post...] -> [n, pre*post] rows
    const pre = axis;
    const idxRank = idx.shape.length;
    const permD = [...Array.from({ length: idxRank }, (_, i) => pre + i), ...Array.from({ length: pre }, (_, i) => i), ...Array.from({ length: r - 1 - pre }, (_, i) => pre + idxRank + i)];
    const updates = g.reshape(g.transpose(d, permD), [n, ...rest]);
    const indices = g.reshape(g.cast(idx, 'int64'), [n, 1]);
    const scattered = g.op('ScatterND', [g.zeros(frontShape), indices, updates], { reduction: attr.string('add') }); // [data axis, rest...]
    const back = new Array<number>(r);
    toFront.forEach((src, i) => (back[src] = i));
    return [axis === 0 ? scattered : g.transpose(scattered, back), undefined];
  },
  GatherElements: (ctx) => {
    const { g } = ctx;
    const data = input(ctx, 0);
    const axis = intAttr(ctx.node, 'axis', 0);
    return [g.op('ScatterElements', [g.zeros(data.shape), input(ctx, 1), only(ctx)], { axis: attr.int(axis), reduction: attr.string('add') }), undefined];
  },
  Where: (ctx) => {
    const { g } = ctx;
    const d = only(ctx);
    const [c, a, b] = [input(ctx, 0), input(ctx, 1), input(ctx, 2)];
    const zero = g.scalar(0);
    return [undefined, ctx.wants[1] ? sumToShape(g, g.where(c, d, zero), a.shape) : undefined, ctx.wants[2] ? sumToShape(g, g.where(c, zero, d), b.shape) : undefined];
  },
  Cast: (ctx) => {
    const x = input(ctx, 0);
    return [isFloat(x.dtype) ? ctx.g.cast(only(ctx), x.dtype) : undefined];
  },
  Min: (ctx) => minMax(ctx, 'LessOrEqual'),
  Max: (ctx) => minMax(ctx, 'GreaterOrEqual'),
  Clip: (ctx) => {
    const { g } = ctx;
    const x = input(ctx, 0);
    const [lo, hi] = [ctx.node.inputs[1], ctx.node.inputs[2]];
    // Pass-through where lo <= x <= hi (as TensorFlow's clip_by_value), zero elsewhere.
    let inside: Value | undefined;
    if (lo) inside = g.op('GreaterOrEqual', [x, lo]);
    if (hi) {
      const below = g.op('LessOrEqual', [x, hi]);
      inside = inside ? g.op('And', [inside, below]) : below;
    }
    return [inside ? g.where(inside, only(ctx), g.scalar(0)) : only(ctx), undefined, undefined];
  },
};

/** Binary Min/Max: the gradient goes to the operand that was chosen (A on ties). */
function minMax(ctx: RuleContext, choosesA: 'LessOrEqual' | 'GreaterOrEqual'): (Value | undefined)[] {
  const { g } = ctx;
  const d = only(ctx);
  if (ctx.node.inputs.length !== 2) throw new Error(`node ${ctx.node.name}: ${ctx.node.op} gradients are implemented for two inputs`);
  const [a, b] = [input(ctx, 0), input(ctx, 1)];
  const pickA = g.op(choosesA, [a, b]);
  const zero = g.scalar(0);
  return [ctx.wants[0] ? sumToShape(g, g.where(pickA, d, zero), a.shape) : undefined, ctx.wants[1] ? sumToShape(g, g.where(pickA, zero, d), b.shape) : undefined];
}
