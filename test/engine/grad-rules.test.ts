// Every gradient rule of src/engine/grad-rules.ts against central finite differences in float64 on
// random shapes, broadcasting included; a coverage check that no rule goes untested; and the error for
// an op without a rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gradients } from '../../src/engine/autodiff.js';
import { GRAD_RULES } from '../../src/engine/grad-rules.js';
import { Graph, attr, type Value } from '../../src/engine/graph.js';
import { type GradCase, checkGradients } from '../helpers/gradcheck.js';

type Case = GradCase & { op: string; label?: string };

const unary = (op: string, lo = -1, hi = 1): Case => ({ op, inputs: [{ name: 'x', shape: [2, 3], lo, hi }], build: (g, [x]) => g.op(op, [x]) });
const binary = (op: string, a: number[], b: number[], lo = -1, hi = 1): Case => ({
  op,
  label: `${op} [${a}] x [${b}]`,
  inputs: [
    { name: 'a', shape: a, lo, hi },
    { name: 'b', shape: b, lo, hi },
  ],
  build: (g, [x, y]) => g.op(op, [x, y]),
});

const CASES: Case[] = [
  { op: 'Identity', inputs: [{ name: 'x', shape: [3] }], build: (g, [x]) => g.op('Identity', [x]) },
  binary('Add', [2, 3], [2, 3]),
  binary('Add', [2, 1, 4], [3, 1]),
  binary('Sub', [2, 3], [3]),
  binary('Sub', [1], [2, 2]),
  binary('Mul', [2, 3, 2], [3, 1]),
  binary('Div', [2, 3], [2, 1], 0.5, 2),
  binary('Pow', [2, 3], [3], 0.5, 2),
  { op: 'Pow', label: 'Pow by a constant exponent', inputs: [{ name: 'x', shape: [4], lo: 0.2, hi: 2 }], build: (g, [x]) => g.op('Pow', [x, g.scalar(3)]) },
  binary('Min', [2, 3], [3]),
  binary('Max', [2, 1], [2, 4]),
  unary('Neg'),
  unary('Exp'),
  unary('Log', 0.2, 3),
  unary('Sqrt', 0.2, 3),
  unary('Reciprocal', 0.5, 2),
  unary('Sigmoid', -3, 3),
  unary('Tanh', -2, 2),
  unary('Relu'),
  unary('Abs'),
  { op: 'Softmax', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (g, [x]) => g.softmax(x, -1) },
  { op: 'Softmax', label: 'Softmax axis 1', inputs: [{ name: 'x', shape: [2, 3, 2] }], build: (g, [x]) => g.softmax(x, 1) },
  { op: 'LogSoftmax', inputs: [{ name: 'x', shape: [3, 5] }], build: (g, [x]) => g.logSoftmax(x, -1) },
  { op: 'ReduceSum', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (g, [x]) => g.reduceSum(x, [0, 2], false) },
  { op: 'ReduceSum', label: 'ReduceSum keepdims', inputs: [{ name: 'x', shape: [2, 3] }], build: (g, [x]) => g.reduceSum(x, [-1], true) },
  { op: 'ReduceMean', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (g, [x]) => g.reduceMean(x, [1], false) },
  { op: 'ReduceMax', inputs: [{ name: 'x', shape: [3, 4] }], build: (g, [x]) => g.reduceMax(x, [1], true) },
  binary('MatMul', [3, 4], [4, 2]),
  binary('MatMul', [2, 3, 4], [4, 5]),
  binary('MatMul', [2, 1, 3, 4], [3, 4, 2]),
  ...[false, true].flatMap((ta) =>
    [false, true].map(
      (tb): Case => ({
        op: 'Gemm',
        label: `Gemm transA=${ta} transB=${tb} with C`,
        inputs: [
          { name: 'a', shape: ta ? [4, 3] : [3, 4] },
          { name: 'b', shape: tb ? [2, 4] : [4, 2] },
          { name: 'c', shape: [2] },
        ],
        build: (g, [a, b, c]) => g.op('Gemm', [a, b, c], { alpha: attr.float(0.7), beta: attr.float(1.3), transA: attr.int(ta ? 1 : 0), transB: attr.int(tb ? 1 : 0) }),
      }),
    ),
  ),
  { op: 'Transpose', inputs: [{ name: 'x', shape: [2, 3, 4] }], build: (g, [x]) => g.transpose(x, [2, 0, 1]) },
  { op: 'Reshape', inputs: [{ name: 'x', shape: [2, 6] }], build: (g, [x]) => g.reshape(x, [3, -1, 2]) },
  { op: 'Flatten', inputs: [{ name: 'x', shape: [2, 3, 2] }], build: (g, [x]) => g.op('Flatten', [x], { axis: attr.int(1) }) },
  { op: 'Squeeze', inputs: [{ name: 'x', shape: [2, 1, 3] }], build: (g, [x]) => g.squeeze(x, [1]) },
  { op: 'Unsqueeze', inputs: [{ name: 'x', shape: [2, 3] }], build: (g, [x]) => g.unsqueeze(x, [0, 3]) },
  { op: 'Expand', inputs: [{ name: 'x', shape: [3, 1] }], build: (g, [x]) => g.expand(x, [2, 3, 4]) },
  {
    op: 'Concat',
    inputs: [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [2, 1] },
      { name: 'c', shape: [2, 2] },
    ],
    build: (g, xs) => g.concat(xs, 1),
  },
  { op: 'Slice', inputs: [{ name: 'x', shape: [4, 5] }], build: (g, [x]) => g.op('Slice', [x, g.ints([1, -3]), g.ints([3, 100]), g.ints([0, 1])]) },
  { op: 'Gather', inputs: [{ name: 'table', shape: [5, 3] }], build: (g, [t]) => g.gather(t, g.ints([0, 4, 0, 2, 4, 4], [2, 3]), 0) },
  { op: 'Gather', label: 'Gather axis 1 (repeated indices)', inputs: [{ name: 'x', shape: [2, 4, 3] }], build: (g, [x]) => g.gather(x, g.ints([3, 1, 3]), 1) },
  { op: 'GatherElements', inputs: [{ name: 'x', shape: [3, 4] }], build: (g, [x]) => g.op('GatherElements', [x, g.ints([0, 3, 3, 1, 2, 2], [3, 2])], { axis: attr.int(1) }) },
  {
    op: 'Where',
    inputs: [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [3] },
    ],
    build: (g, [a, b]) => g.where(g.bools([true, false, true, false, false, true], [2, 3]), a, b),
  },
  { op: 'Cast', inputs: [{ name: 'x', shape: [3] }], build: (g, [x]) => g.cast(g.cast(x, 'float32'), 'float64'), rtol: 1e-3, atol: 1e-4, h: 1e-3 },
  { op: 'Clip', inputs: [{ name: 'x', shape: [8], lo: -2, hi: 2 }], build: (g, [x]) => g.op('Clip', [x, g.scalar(-0.8), g.scalar(1.1)]) },
  {
    op: 'Mul',
    label: 'a value used twice (gradients add up)',
    inputs: [{ name: 'x', shape: [2, 2] }],
    build: (g, [x]) => g.mul(g.add(x, g.exp(x)), x),
  },
];

for (const c of CASES) {
  test(`gradient of ${c.label ?? c.op} matches finite differences (float64)`, async () => {
    const r = await checkGradients(c.label ?? c.op, c);
    assert.ok(r.checked > 0);
  });
}

test('every gradient rule has a finite-difference case', () => {
  const tested = new Set(CASES.map((c) => c.op));
  const missing = Object.keys(GRAD_RULES).filter((op) => !tested.has(op));
  assert.deepEqual(missing, []);
});

test('a gradient through an op without a rule fails at graph-building time, naming the op and the node', () => {
  const g = new Graph('no_rule', 'float64');
  const x = g.floatInput('x', [3]);
  const y: Value = g.op('Erf', [x], {}, 'erf_out');
  assert.throws(() => gradients(g, g.sumAll(y), [x]), /no gradient rule for op Erf \(node Erf_node of graph no_rule\)/);
});

test('integer values end gradient paths; an input that does not reach the loss gets zeros', async () => {
  const g = new Graph('paths', 'float64');
  const x = g.floatInput('x', [2, 3]);
  const unused = g.floatInput('unused', [4]);
  const idx = g.op('ArgMax', [x], { axis: attr.int(1), keepdims: attr.int(0) }); // int64, no gradient
  const picked = g.gather(g.reshape(x, [6]), idx);
  const [dx, du] = gradients(g, g.sumAll(picked), [x, unused]);
  assert.deepEqual(dx.shape, [2, 3]);
  assert.deepEqual(du.shape, [4]);
});

test('detach stops gradients: d/dx of x * detach(x) is detach(x)', async () => {
  const r = await checkGradientsOfDetach();
  assert.ok(r < 1e-12);
});

async function checkGradientsOfDetach(): Promise<number> {
  const { EngineSession } = await import('../../src/engine/session.js');
  const g = new Graph('detach', 'float64');
  const x = g.floatInput('x', [3]);
  const [dx] = gradients(g, g.sumAll(g.mul(x, g.detach(x))), [x]);
  g.output(dx, 'dx');
  const s = await EngineSession.compile(g);
  try {
    const data = Float64Array.of(0.5, -2, 3);
    const out = (await s.run({ x: data })).dx as Float64Array;
    return Math.max(...out.map((v, i) => Math.abs(v - data[i])));
  } finally {
    await s.dispose();
  }
}
