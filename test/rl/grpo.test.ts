// GRPO maths against numbers worked out by hand (the arithmetic is written next to each assertion).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { aggregate, groupAdvantages, grpoLoss, klK3, std } from '../../src/rl/grpo.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test('std uses Bessel correction (as torch.std)', () => {
  // [1, 0, 0, 1]: mean 0.5, squared deviations 4 * 0.25 = 1, / (4 - 1) -> sqrt(1/3)
  close(std([1, 0, 0, 1]), Math.sqrt(1 / 3));
  assert.equal(std([5]), 0);
});

test('group advantages: group, batch and none scaling; zero-std groups', () => {
  const rewards = [1, 0, 0, 1, 1, 1, 1, 1];
  const none = groupAdvantages(rewards, 4, 'none');
  // group 1 mean 0.5 -> +-0.5; group 2 all equal -> 0
  assert.deepEqual(none.advantages, [0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]);
  assert.deepEqual(none.groupMean, [0.5, 1]);
  assert.equal(none.fracZeroStd, 0.5);

  const group = groupAdvantages(rewards, 4, 'group');
  // 0.5 / (sqrt(1/3) + 1e-4) = 0.5 / 0.5774502691896258
  close(group.advantages[0], 0.5 / (Math.sqrt(1 / 3) + 1e-4));
  close(group.advantages[0], 0.8658754298);
  close(group.advantages[1], -0.8658754298, 1e-9);
  assert.equal(group.advantages[5], 0);

  const batch = groupAdvantages(rewards, 4, 'batch');
  // batch mean 0.75; squared deviations 6 * 0.0625 + 2 * 0.5625 = 1.5; / 7 -> std sqrt(3/14) = 0.4629100499
  close(batch.advantages[0], 0.5 / (Math.sqrt(3 / 14) + 1e-4));
  close(batch.advantages[3], 1.079890167, 1e-6); // 0.5 / 0.4630100499
  assert.throws(() => groupAdvantages([1, 2, 3], 2, 'group'), /do not split into groups of 2/);
});

test('k3 KL estimator', () => {
  assert.equal(klK3(-1, -1), 0);
  // ref - logp = 1 -> e^1 - 1 - 1 = 0.718281828...
  close(klK3(-2, -1), Math.E - 2);
  // ref - logp = -1 -> e^-1 + 1 - 1 = 0.367879...
  close(klK3(-1, -2), Math.exp(-1));
});

const HYPER = { epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0, aggregation: 'token-mean' as const, maxCompletionLength: 4 };

test('clipped surrogate, positive advantage, with and without KL', () => {
  // A = 2; ratios exp(-1 - -1.1) = exp(0.1) = 1.105170918 (inside [0.8, 1.28]) and exp(-2 - -1.5) = exp(-0.5) = 0.606530660.
  // token 0: min(1.10517 * 2, 1.10517 * 2) = 2.210341836 -> loss -2.210341836
  // token 1: min(0.60653 * 2, clip -> 0.8 * 2) = 1.213061319 -> loss -1.213061319 (A > 0: low clip inactive)
  const inputs = { logp: [[-1, -2]], oldLogp: [[-1.1, -1.5]], mask: [[1, 1]], advantages: [2] };
  const r = grpoLoss(inputs, HYPER);
  close(r.tokenLoss[0][0], -2 * Math.exp(0.1));
  close(r.tokenLoss[0][1], -2 * Math.exp(-0.5));
  close(r.loss, -(2 * Math.exp(0.1) + 2 * Math.exp(-0.5)) / 2); // -1.711701578
  assert.equal(r.clipRatio, 0);
  assert.equal(r.kl, 0);

  // beta 0.5, ref [-1, -1]: kl = [0, e - 2]; token 1 loss -1.213061319 + 0.5 * 0.718281828 = -0.853920405
  const withKl = grpoLoss({ ...inputs, refLogp: [[-1, -1]] }, { ...HYPER, beta: 0.5 });
  close(withKl.tokenLoss[0][1], -2 * Math.exp(-0.5) + 0.5 * (Math.E - 2));
  close(withKl.kl, (Math.E - 2) / 2);
  assert.throws(() => grpoLoss(inputs, { ...HYPER, beta: 0.1 }), /needs reference log-probs/);
});

test('clipping is active where it should be and counted', () => {
  // A = -1, ratio exp(-0.5) = 0.6065 < 0.8: min(-0.6065, -0.8) = -0.8 -> loss 0.8, low clip active.
  const low = grpoLoss({ logp: [[-1]], oldLogp: [[-0.5]], mask: [[1]], advantages: [-1] }, HYPER);
  close(low.loss, 0.8);
  assert.deepEqual([low.clipRatioLow, low.clipRatioHigh, low.clipRatio], [1, 0, 1]);
  // A = +1, ratio e^0.5 = 1.6487 > 1.28: min(1.6487, 1.28) = 1.28 -> loss -1.28, high clip active.
  const high = grpoLoss({ logp: [[-0.5]], oldLogp: [[-1]], mask: [[1]], advantages: [1] }, HYPER);
  close(high.loss, -1.28);
  assert.deepEqual([high.clipRatioLow, high.clipRatioHigh], [0, 1]);
  // A = +1, ratio 0.6065 < 0.8: the unclipped term is smaller, so no clipping happens -> loss -0.6065.
  const none = grpoLoss({ logp: [[-1]], oldLogp: [[-0.5]], mask: [[1]], advantages: [1] }, HYPER);
  close(none.loss, -Math.exp(-0.5));
  assert.equal(none.clipRatio, 0);
});

test('loss aggregation: token-mean, seq-mean-token-mean, dr-grpo; padding ignored', () => {
  // row 0: one token of loss 2 (then padding holding 9, masked); row 1: three tokens of loss 1.
  const values = [[2, 9, 9], [1, 1, 1]];
  const mask = [[1, 0, 0], [1, 1, 1]];
  close(aggregate(values, mask, 'token-mean', 4), 5 / 4); // (2 + 3) / 4 tokens
  close(aggregate(values, mask, 'seq-mean-token-mean', 4), (2 / 1 + 3 / 3) / 2); // 1.5
  close(aggregate(values, mask, 'dr-grpo', 4), 5 / (2 * 4)); // 0.625
});

test('the tfjs loss equals the reference formula, value and gradient', async () => {
  const tf = await import('../../src/models/tf.js');
  const { selectBackend } = await import('../../src/models/backend.js');
  const { grpoLossTensor } = await import('../../src/rl/grpo-tf.js');
  await selectBackend('cpu');
  const logp = [[-1, -2, -0.3], [-0.5, -1.5, -3]];
  const oldLogp = [[-1.1, -1.5, -0.3], [-1, -1.5, -2]];
  const refLogp = [[-1, -1, -0.5], [-0.7, -1.2, -2.5]];
  const mask = [[1, 1, 0], [1, 1, 1]];
  const advantages = [2, -0.7];
  for (const aggregation of ['token-mean', 'seq-mean-token-mean', 'dr-grpo'] as const) {
    const hyper = { epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0.04, aggregation, maxCompletionLength: 4 };
    const expected = grpoLoss({ logp, oldLogp, refLogp, mask, advantages }, hyper);
    const consts = { oldLogp: tf.tensor2d(oldLogp), refLogp: tf.tensor2d(refLogp), mask: tf.tensor2d(mask), advantages: tf.tensor1d(advantages) };
    const x = tf.tensor2d(logp);
    const out = grpoLossTensor({ logp: x, ...consts }, hyper);
    close(out.loss.dataSync()[0], expected.loss, 1e-5);
    close(out.kl.dataSync()[0], expected.kl, 1e-5);
    close(out.clipRatioLow.dataSync()[0], expected.clipRatioLow, 1e-6);
    close(out.clipRatioHigh.dataSync()[0], expected.clipRatioHigh, 1e-6);
    // Gradient w.r.t. logp against central differences of the reference formula.
    const grad = tf.grad((l: import('@tensorflow/tfjs').Tensor) => grpoLossTensor({ logp: l as never, ...consts }, hyper).loss)(x).arraySync() as number[][];
    const h = 1e-5;
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        const plus = logp.map((r) => r.slice());
        const minus = logp.map((r) => r.slice());
        plus[b][t] += h;
        minus[b][t] -= h;
        const fd = (grpoLoss({ logp: plus, oldLogp, refLogp, mask, advantages }, hyper).loss - grpoLoss({ logp: minus, oldLogp, refLogp, mask, advantages }, hyper).loss) / (2 * h);
        close(grad[b][t], fd, 1e-4);
      }
    }
    tf.dispose([x, out.loss, out.kl, out.clipRatioLow, out.clipRatioHigh, ...Object.values(consts)]);
  }
});
