// One GRPO update through the router into a frozen policy: gradients reach the router only, a positive
// advantage raises the completion's log-prob and a negative one lowers it, diagnostics are consistent
// on the first inner iteration (ratio 1: no clipping, loss = -mean advantage per token), no leaks.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { selectBackend } from '../../src/models/backend.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { NamedAdam } from '../../src/models/optim.js';
import * as tf from '../../src/models/tf.js';
import { PerceiverRouter } from '../../src/router/perceiver.js';
import { completionLogProbs, grpoUpdate } from '../../src/rl/update.js';

before(async () => {
  await selectBackend('cpu');
});

test('GRPO update moves the router in the direction of the advantages', () => {
  const config = decoderConfig({ vocabSize: 20, hiddenSize: 16, numLayers: 1, numHeads: 2, maxPositionEmbeddings: 64 });
  const policy = TfDecoder.random(config, 3, { name: 'update-policy' }); // frozen
  const router = new PerceiverRouter({ experts: ['a', 'b'], expertWidths: [6, 4], width: 8, numLatents: 2, numHeads: 2, outputWidth: 16, ffnMultiplier: 2, selfAttentionBlocks: 0, expertEmbeddings: true, outputInitStd: 0.1, seed: 1 });
  const params = new Map([...router.variables].map(([n, v]) => [`router.${n}`, v]));
  const optimizer = new NamedAdam(params, { clipNorm: 1 });
  const expertStates = [{ states: tf.randomNormal([2, 6], 0, 1, 'float32', 4) as tf.Tensor2D }, { states: tf.randomNormal([2, 4], 0, 1, 'float32', 5) as tf.Tensor2D }];
  const batch = { promptIds: [[1, 5, 6], [1, 7]], completionIds: [[8, 9, 2], [10, 11, 2]], advantages: [1, -1], expertStates };
  const hyper = { epsilonLow: 0.2, epsilonHigh: 0.28, beta: 0, aggregation: 'token-mean' as const, maxCompletionLength: 3 };
  const policyBefore = policy.getWeights();
  const old = completionLogProbs(policy, router, batch);

  const m1 = grpoUpdate(policy, router, optimizer, params, { ...batch, oldLogp: old }, hyper, 0.01);
  assert.equal(m1.applied, true);
  // ratio = 1 everywhere: loss = -(1 * 3 tokens + -1 * 3 tokens) / 6 = 0, nothing clipped.
  assert.ok(Math.abs(m1.loss) < 1e-6, `loss ${m1.loss}`);
  assert.equal(m1.clipRatio, 0);
  assert.ok(m1.entropy > 0 && m1.gradNorm > 0);

  const before = tf.memory().numTensors;
  for (let i = 0; i < 4; i++) grpoUpdate(policy, router, optimizer, params, { ...batch, oldLogp: old }, hyper, 0.01);
  assert.equal(tf.memory().numTensors, before, 'tensors leaked across updates');

  const after = completionLogProbs(policy, router, batch);
  const sum = (r: number[]) => r.reduce((a, b) => a + b, 0);
  assert.ok(sum(after[0]) > sum(old[0]), `positive advantage: ${sum(old[0])} -> ${sum(after[0])}`);
  assert.ok(sum(after[1]) < sum(old[1]), `negative advantage: ${sum(old[1])} -> ${sum(after[1])}`);
  // The frozen policy did not move.
  for (const [name, t] of policy.getWeights()) assert.deepEqual(Array.from(t.data), Array.from(policyBefore.get(name)!.data), name);

  const nan = grpoUpdate(policy, router, optimizer, params, { ...batch, oldLogp: old, advantages: [NaN, 1] }, hyper, 0.01);
  assert.equal(nan.applied, false);
  expertStates.forEach((e) => e.states.dispose());
  optimizer.dispose();
  router.dispose();
  policy.dispose();
});

test('routing and running each prompt once for its group equals doing it for every row; omitted old log-probs mean ratio 1', () => {
  const config = decoderConfig({ vocabSize: 20, hiddenSize: 16, numLayers: 1, numHeads: 2, maxPositionEmbeddings: 64 });
  const policy = TfDecoder.random(config, 5, { name: 'gather-policy' });
  const routerConfig = { experts: ['a'], expertWidths: [6], width: 8, numLatents: 2, numHeads: 2, outputWidth: 16, ffnMultiplier: 2, selfAttentionBlocks: 0, expertEmbeddings: false, outputInitStd: 0.1, seed: 2 };
  const hyper = { epsilonLow: 0.2, epsilonHigh: 0.2, beta: 0, aggregation: 'token-mean' as const, maxCompletionLength: 3 };
  const promptStates = tf.randomNormal([2, 6], 0, 1, 'float32', 9) as tf.Tensor2D; // [P = 2, 6]
  const rowPrompt = [0, 0, 1, 1];
  const perRow = tf.gather(promptStates, tf.tensor1d(rowPrompt, 'int32')) as tf.Tensor2D; // [R = 4, 6]
  const prompts = [[1, 5], [1, 7, 8]];
  const rows = { completionIds: [[3, 2], [4, 4, 2], [9, 2], [10, 2]], advantages: [1, -1, 0.5, -0.5] };
  const run = (states: tf.Tensor2D, gather: number[] | undefined, withOld: boolean) => {
    const router = new PerceiverRouter(routerConfig);
    const params = new Map([...router.variables].map(([n, v]) => [`router.${n}`, v]));
    const optimizer = new NamedAdam(params, { clipNorm: 0 });
    const promptIds = gather ? prompts : rowPrompt.map((p) => prompts[p]);
    const batch = { ...rows, promptIds, expertStates: [{ states }], rowPrompt: gather };
    const oldLogp = withOld ? completionLogProbs(policy, router, batch) : undefined;
    const m = grpoUpdate(policy, router, optimizer, params, { ...batch, oldLogp }, hyper, 0.01);
    const after = completionLogProbs(policy, router, batch);
    optimizer.dispose();
    router.dispose();
    return { m, after };
  };
  const a = run(promptStates, rowPrompt, false);
  const b = run(perRow, undefined, true);
  assert.ok(Math.abs(a.m.loss - b.m.loss) < 1e-6, `${a.m.loss} vs ${b.m.loss}`);
  assert.ok(Math.abs(a.m.gradNorm - b.m.gradNorm) < 1e-5 * Math.max(1, b.m.gradNorm), `${a.m.gradNorm} vs ${b.m.gradNorm}`);
  assert.equal(a.m.clipRatio, 0);
  assert.ok(a.m.backwardSeconds >= 0 && a.m.updateSeconds >= 0);
  a.after.forEach((row, r) => row.forEach((x, t) => assert.ok(Math.abs(x - b.after[r][t]) < 1e-5, `row ${r} token ${t}: ${x} vs ${b.after[r][t]}`)));
  tf.dispose([promptStates, perRow]);
  policy.dispose();
});
