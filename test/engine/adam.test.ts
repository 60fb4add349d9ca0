// FloatAdam (src/engine/adam.ts) against NamedAdam (src/models/optim.ts, tfjs): five steps with
// gradient clipping and weight decay agree within 1e-6; a non-finite gradient skips the step; the state
// has NamedAdam's layout; getState/setState resume continues byte for byte; state errors name the problem.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { FloatAdam } from '../../src/engine/adam.js';
import { selectBackend } from '../../src/models/backend.js';
import { NamedAdam } from '../../src/models/optim.js';
import * as tf from '../../src/models/tf.js';
import { seededUniform } from '../helpers/gradcheck.js';

const SHAPES = new Map<string, number[]>([
  ['w', [3, 4]],
  ['b', [5]],
]);
const OPTIONS = { clipNorm: 0.5, weightDecay: 0.01 };
const LR = 0.01;

before(async () => {
  await selectBackend('cpu');
});

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function initialParams(seed: number): Map<string, Float32Array> {
  const rand = seededUniform(seed);
  return new Map([...SHAPES].map(([n, s]) => [n, Float32Array.from({ length: size(s) }, () => rand())]));
}

/** Gradients of step k; step 2 is scaled down below the clip norm so both branches run. */
function gradsAt(k: number): Map<string, Float32Array> {
  const rand = seededUniform(100 + k);
  const scale = k === 2 ? 0.02 : 1;
  return new Map([...SHAPES].map(([n, s]) => [n, Float32Array.from({ length: size(s) }, () => scale * rand())]));
}

function cloneParams(p: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...p].map(([n, a]) => [n, a.slice()]));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('FloatAdam = NamedAdam over 5 steps with clipping and weight decay (max abs diff <= 1e-6)', () => {
  const init = initialParams(1);
  const vars = new Map([...init].map(([n, a]) => [n, tf.variable(tf.tensor(a, SHAPES.get(n)!))]));
  const ref = new NamedAdam(vars, OPTIONS);
  const params = cloneParams(init);
  const adam = new FloatAdam(params, SHAPES, OPTIONS);
  let worst = 0;
  let worstNorm = 0;
  let clipped = 0;
  try {
    for (let k = 0; k < 5; k++) {
      const grads = gradsAt(k);
      const tfGrads = new Map([...grads].map(([n, a]) => [n, tf.tensor(a, SHAPES.get(n)!)]));
      const expected = ref.apply(tfGrads, LR);
      tf.dispose([...tfGrads.values()]);
      const got = adam.apply(grads, LR);
      assert.equal(got.applied, true);
      assert.equal(expected.applied, true);
      worstNorm = Math.max(worstNorm, Math.abs(got.gradNorm - expected.gradNorm) / expected.gradNorm);
      if (got.gradNorm > OPTIONS.clipNorm) clipped++;
      for (const [n, v] of vars) worst = Math.max(worst, maxAbsDiff(params.get(n)!, v.dataSync() as Float32Array));
    }
    assert.equal(adam.step, 5);
    assert.equal(ref.step, 5);
    assert.equal(clipped, 4, 'four steps clip, one does not');
    assert.ok(worst <= 1e-6, `parameters differ by ${worst}`);
    assert.ok(worstNorm <= 1e-6, `gradient norms differ by ${worstNorm} (relative)`);
    // Same state layout, same moments.
    const [a, b] = [adam.getState(), ref.getState()];
    assert.equal(a.step, b.step);
    for (const label of ['m', 'v'] as const) {
      assert.deepEqual([...a[label].keys()], [...b[label].keys()]);
      for (const [n, t] of b[label]) {
        assert.deepEqual(a[label].get(n)!.shape, t.shape);
        assert.ok(maxAbsDiff(a[label].get(n)!.data, t.data) <= 1e-6, `${label} ${n}`);
      }
    }
    console.log(`adam: max |FloatAdam - NamedAdam| parameters ${worst.toExponential(2)}, gradient norm (relative) ${worstNorm.toExponential(2)}`);
  } finally {
    ref.dispose();
    tf.dispose([...vars.values()]);
  }
});

test('a non-finite gradient skips the step without advancing it, as NamedAdam', () => {
  const params = initialParams(2);
  const adam = new FloatAdam(params, SHAPES, OPTIONS);
  adam.apply(gradsAt(0), LR);
  const before = cloneParams(params);
  const state = adam.getState();
  for (const bad of [NaN, Infinity, -Infinity]) {
    const grads = gradsAt(1);
    grads.get('b')![3] = bad;
    const r = adam.apply(grads, LR);
    assert.equal(r.applied, false);
    assert.ok(!Number.isFinite(r.gradNorm));
    assert.equal(adam.step, 1);
    for (const [n, a] of params) assert.deepEqual(a, before.get(n), `${n} unchanged after a ${bad} gradient`);
    assert.deepEqual(adam.getState(), state);
  }
  // NamedAdam makes the same call.
  const vars = new Map([...before].map(([n, a]) => [n, tf.variable(tf.tensor(a, SHAPES.get(n)!))]));
  const ref = new NamedAdam(vars, OPTIONS);
  const grads = gradsAt(1);
  grads.get('b')![3] = NaN;
  const tfGrads = new Map([...grads].map(([n, a]) => [n, tf.tensor(a, SHAPES.get(n)!)]));
  assert.equal(ref.apply(tfGrads, LR).applied, false);
  assert.equal(ref.step, 0);
  ref.dispose();
  tf.dispose([...vars.values(), ...tfGrads.values()]);
});

test('getState/setState: a resumed optimizer continues byte for byte; NamedAdam state loads too', () => {
  const straight = initialParams(3);
  const a = new FloatAdam(straight, SHAPES, OPTIONS);
  for (let k = 0; k < 3; k++) a.apply(gradsAt(k), LR);
  const saved = a.getState();
  const resumedParams = cloneParams(straight);
  for (let k = 3; k < 6; k++) a.apply(gradsAt(k), LR);

  const b = new FloatAdam(resumedParams, SHAPES, OPTIONS);
  b.setState(saved);
  assert.equal(b.step, 3);
  for (let k = 3; k < 6; k++) b.apply(gradsAt(k), LR);
  for (const [n, p] of straight) assert.deepEqual(resumedParams.get(n), p, `${n} after resume`);
  assert.deepEqual(b.getState(), a.getState());

  // The state is a copy: later steps do not change what was saved.
  assert.equal(saved.step, 3);

  // A tfjs optimizer's state has the same layout and loads into FloatAdam.
  const vars = new Map([...straight].map(([n, p]) => [n, tf.variable(tf.tensor(p, SHAPES.get(n)!))]));
  const ref = new NamedAdam(vars, OPTIONS);
  ref.setState(a.getState());
  const back = new FloatAdam(cloneParams(straight), SHAPES, OPTIONS);
  back.setState(ref.getState());
  assert.deepEqual(back.getState(), a.getState());
  ref.dispose();
  tf.dispose([...vars.values()]);
});

test('state, gradient and shape errors name the parameter', () => {
  const params = initialParams(4);
  const adam = new FloatAdam(params, SHAPES, OPTIONS);
  const state = adam.getState();
  const lacking = { ...state, v: new Map([...state.v].filter(([n]) => n !== 'b')) };
  assert.throws(() => adam.setState(lacking), /optimizer state lacks v for b/);
  const wrong = { ...state, m: new Map([...state.m].map(([n, t]) => [n, n === 'w' ? { shape: [4, 3], data: t.data } : t])) };
  assert.throws(() => adam.setState(wrong), /optimizer state m for w has shape \[4,3\], expected \[3,4\]/);
  assert.throws(() => adam.apply(new Map([['w', new Float32Array(12)]]), LR), /no gradient for parameter b/);
  assert.throws(() => adam.apply(new Map([['w', new Float32Array(11)], ['b', new Float32Array(5)]]), LR), /gradient for w has 11 values, the parameter has 12/);
  assert.throws(() => new FloatAdam(params, new Map([['w', [3, 4]]])), /no shape for parameter b/);
  assert.throws(() => new FloatAdam(params, new Map([['w', [3, 3]], ['b', [5]]])), /parameter w has 12 values, its shape \[3,3\] holds 9/);
  assert.equal(adam.step, 0);
});

test('FloatAdam.fromNamed updates the named tensors in place', () => {
  const named = new Map([...initialParams(5)].map(([n, data]) => [n, { shape: SHAPES.get(n)!, data }]));
  const before = named.get('w')!.data.slice();
  const adam = FloatAdam.fromNamed(named, OPTIONS);
  assert.equal(adam.apply(gradsAt(0), LR).applied, true);
  assert.notDeepEqual(named.get('w')!.data, before);
  assert.deepEqual(adam.getState().m.get('w')!.shape, [3, 4]);
});
