// The Perceiver router: shapes, near-zero output at initialisation, masked token keys, expert mass as
// data (sums to 1, equals the attention grouped by expert), gradients against finite differences,
// seeded initialisation, checkpoints round trip, no tensor leaks.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { selectBackend } from '../../src/models/backend.js';
import * as tf from '../../src/models/tf.js';
import { PerceiverRouter, routingStats, type RouterConfig } from '../../src/router/perceiver.js';

const CONFIG: RouterConfig = {
  experts: ['sums', 'counting', 'logic'],
  expertWidths: [8, 12, 6],
  width: 16,
  numLatents: 3,
  numHeads: 4,
  outputWidth: 10,
  ffnMultiplier: 2,
  selfAttentionBlocks: 1,
  expertEmbeddings: true,
  outputInitStd: 1e-3,
  seed: 5,
};

before(async () => {
  await selectBackend('cpu');
});

function pooled(seed: number, B = 4) {
  return CONFIG.expertWidths.map((w, e) => ({ states: tf.randomNormal([B, w], 0, 1, 'float32', seed + e) as tf.Tensor2D }));
}

test('shapes, near-zero context at initialisation, expert mass sums to 1', () => {
  const router = new PerceiverRouter(CONFIG);
  const inputs = pooled(1);
  const out = router.forward(inputs);
  assert.deepEqual(out.context.shape, [4, 3, 10]);
  assert.deepEqual(out.attention.shape, [4, 3, 3]);
  assert.deepEqual(out.expertMass.shape, [4, 3]);
  const maxAbs = tf.max(tf.abs(out.context)).dataSync()[0];
  assert.ok(maxAbs > 0 && maxAbs < 0.05, `context at init should be near zero, max |x| = ${maxAbs}`);
  const stats = routingStats(out.expertMass);
  for (const row of stats.expertMass) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  // With pooled states there is one key per expert, so the mass is the latent-averaged attention.
  const direct = tf.mean(out.attention, 1).arraySync() as number[][];
  direct.forEach((row, b) => row.forEach((p, e) => assert.ok(Math.abs(p - stats.expertMass[b][e]) < 1e-6)));
  for (const h of stats.entropy) assert.ok(h > 0 && h <= Math.log(3) + 1e-6);
  tf.dispose([...inputs.map((i) => i.states), out.context, out.attention, out.expertMass]);
  router.dispose();
});

test('routing entropy of a uniform mass is log E; of a one-hot mass 0', () => {
  const stats = routingStats(tf.tensor2d([[0.25, 0.25, 0.25, 0.25], [1, 0, 0, 0]]));
  assert.ok(Math.abs(stats.entropy[0] - Math.log(4)) < 1e-6);
  assert.equal(stats.entropy[1], 0);
});

test('token sequences: padded keys get no attention and do not change the output', () => {
  const router = new PerceiverRouter({ ...CONFIG, experts: ['a', 'b'], expertWidths: [8, 6] });
  const a = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 3) as tf.Tensor3D;
  const mask = tf.tensor2d([[1, 1, 0], [1, 0, 0]]);
  const b = tf.randomNormal([2, 6], 0, 1, 'float32', 4) as tf.Tensor2D;
  const out = router.forward([{ states: a, mask }, { states: b }]);
  const att = out.attention.arraySync() as number[][][];
  for (let k = 0; k < 3; k++) {
    assert.ok(att[0][k][2] < 1e-7, 'row 0 key 2 is padding');
    assert.ok(att[1][k][1] < 1e-7 && att[1][k][2] < 1e-7, 'row 1 keys 1-2 are padding');
  }
  // Garbage in padded positions changes nothing.
  const noisy = tf.where(tf.expandDims(tf.cast(mask, 'bool'), 2), a, tf.fill([2, 3, 8], 1000)) as tf.Tensor3D;
  const out2 = router.forward([{ states: noisy, mask }, { states: b }]);
  assert.ok(tf.max(tf.abs(tf.sub(out.context, out2.context))).dataSync()[0] < 1e-6);
  router.dispose();
});

test('gradients reach every parameter and match finite differences', () => {
  const router = new PerceiverRouter({ ...CONFIG, outputInitStd: 0.1 });
  const inputs = pooled(7, 2);
  const target = tf.randomNormal([2, 3, 10], 0, 1, 'float32', 9);
  const lossFn = () => tf.sum(tf.mul(router.forward(inputs).context, target)) as tf.Scalar;
  const { grads } = tf.variableGrads(lossFn, router.trainableVariables());
  for (const [name, g] of Object.entries(grads)) assert.ok(tf.max(tf.abs(g)).dataSync()[0] > 0, `no gradient reaches ${name}`);
  for (const name of ['proj.1.weight', 'latents', 'cross.k.weight', 'out.weight']) {
    const v = router.variables.get(name)!;
    const g = grads[v.name].dataSync();
    const values = v.dataSync().slice();
    const i = 3;
    const h = 1e-2;
    const at = (x: number) => {
      const copy = values.slice();
      copy[i] = x;
      v.assign(tf.tensor(copy, v.shape));
      return lossFn().dataSync()[0];
    };
    const fd = (at(values[i] + h) - at(values[i] - h)) / (2 * h);
    v.assign(tf.tensor(values, v.shape));
    assert.ok(Math.abs(fd - g[i]) <= 2e-2 * Math.max(1, Math.abs(fd)), `${name}[${i}]: grad ${g[i]} vs finite difference ${fd}`);
  }
  router.dispose();
});

test('seeded initialisation, checkpoint round trip, config and input errors, no leaks', () => {
  const a = new PerceiverRouter(CONFIG);
  const b = new PerceiverRouter(CONFIG);
  const c = new PerceiverRouter({ ...CONFIG, seed: 6 });
  assert.deepEqual(Array.from(a.getWeights().get('latents')!.data), Array.from(b.getWeights().get('latents')!.data));
  assert.notDeepEqual(Array.from(a.getWeights().get('latents')!.data), Array.from(c.getWeights().get('latents')!.data));
  c.setWeights(a.getWeights());
  assert.deepEqual(Array.from(c.getWeights().get('out.weight')!.data), Array.from(a.getWeights().get('out.weight')!.data));
  assert.throws(() => new PerceiverRouter({ ...CONFIG, numHeads: 5 }), /width \(16\) must be divisible by numHeads \(5\)/);
  const wrong = CONFIG.expertWidths.map((w) => ({ states: tf.zeros([2, w + 1]) as tf.Tensor2D }));
  assert.throws(() => a.forward(wrong), /expert 'sums' states have width 9, the router was built for 8/);
  const inputs = pooled(2);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const out = a.forward(inputs);
    tf.dispose([out.context, out.attention, out.expertMass]);
  }
  assert.equal(tf.memory().numTensors, before);
  [a, b, c].forEach((r) => r.dispose());
});

test('attention modes: uniform weighs every expert position equally; top1 routes each prompt to one expert', () => {
  const base = { experts: ['a', 'b', 'c'], expertWidths: [4, 6, 5], width: 8, numLatents: 2, numHeads: 2, outputWidth: 6, ffnMultiplier: 2, selfAttentionBlocks: 0, expertEmbeddings: true, outputInitStd: 0.1, seed: 3 };
  const states = [
    { states: tf.randomNormal([3, 4], 0, 1, 'float32', 1) as tf.Tensor2D },
    // expert b reads token sequences: 2 positions, the second masked for prompt 0
    { states: tf.randomNormal([3, 2, 6], 0, 1, 'float32', 2) as tf.Tensor3D, mask: tf.tensor2d([[1, 0], [1, 1], [1, 1]]) },
    { states: tf.randomNormal([3, 5], 0, 1, 'float32', 3) as tf.Tensor2D },
  ];
  const uniform = new PerceiverRouter({ ...base, attention: 'uniform' });
  const u = uniform.forward(states);
  // visible positions: prompt 0 -> a, b0, c (1/3 each); prompts 1, 2 -> a, b0, b1, c (b gets 2/4)
  const mass = u.expertMass.arraySync();
  [[1 / 3, 1 / 3, 1 / 3], [0.25, 0.5, 0.25], [0.25, 0.5, 0.25]].forEach((row, i) => row.forEach((x, e) => assert.ok(Math.abs(mass[i][e] - x) < 1e-6, `prompt ${i} expert ${e}: ${mass[i][e]}`)));
  const learned = new PerceiverRouter(base);
  const top1 = new PerceiverRouter({ ...base, attention: 'top1' });
  const l = learned.forward(states).expertMass.arraySync();
  const t = top1.forward(states).expertMass.arraySync();
  t.forEach((row, i) => {
    const chosen = l[i].indexOf(Math.max(...l[i]));
    row.forEach((x, e) => assert.ok(Math.abs(x - (e === chosen ? 1 : 0)) < 1e-6, `prompt ${i}: ${row}`));
  });
  for (const r of [uniform, learned, top1]) r.dispose();
  for (const s of states) tf.dispose([s.states, ...(s.mask ? [s.mask] : [])]);
});
