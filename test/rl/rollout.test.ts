// Rollouts: rewards from the task verifiers plus the format reward, groups of G contiguous completions,
// seeded sampling, the router prefix repeated per group member, no tensor leaks.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { selectBackend } from '../../src/models/backend.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import * as tf from '../../src/models/tf.js';
import { buildCharTokenizer, projectTokenizer } from '../../src/models/tokenizer/build.js';
import { tfGenerator } from '../../src/rl/engine-tfjs.js';
import { generateRollouts, rewardFor } from '../../src/rl/rollout.js';
import { taskRegistry } from '../../tasks/index.js';
import type { TaskEntry } from '../../tasks/types.js';

const tokenizer = projectTokenizer(buildCharTokenizer(), 'char');
const CHAIN: TaskEntry = { question: 'Compute 3 + 4.', answer: '7', metadata: { source_dataset: 'chain_sum', source_index: 0 } };
const OPTIONS = { answerTag: 'answer', formatRewardWeight: 0.1 };

before(async () => {
  await selectBackend('cpu');
});

test('reward = task score + weight x format score', () => {
  assert.deepEqual(rewardFor(taskRegistry, CHAIN, 'so <answer>7</answer>', OPTIONS), { answer: '7', taskScore: 1, formatScore: 1, reward: 1.1 });
  // Reasoning Gym partial credit: "x 7" contains "7": 1/3.
  const partial = rewardFor(taskRegistry, CHAIN, '<answer>x 7</answer>', OPTIONS);
  assert.ok(Math.abs(partial.reward - (1 / 3 + 0.1)) < 1e-12);
  assert.deepEqual(rewardFor(taskRegistry, CHAIN, '7', OPTIONS), { answer: null, taskScore: 0, formatScore: 0, reward: 0 });
  assert.equal(rewardFor(taskRegistry, CHAIN, '<answer>8</answer>', { ...OPTIONS, formatRewardWeight: 0 }).reward, 0);
});

test('groups of G, seeded, prefix repeated per completion, no leaks', async () => {
  const config = decoderConfig({ vocabSize: tokenizer.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2, maxPositionEmbeddings: 128 });
  const decoder = TfDecoder.random(config, 2, { name: 'rollout-policy' });
  const policy = tfGenerator(decoder);
  const entries = [CHAIN, { ...CHAIN, question: 'Compute 1 + 1.', answer: '2' }];
  const promptIds = entries.map((e) => [tokenizer.bosId!, ...tokenizer.encode(`${e.question}\n`)]);
  const prefixTensor = tf.randomNormal([2, 3, 16], 0, 1, 'float32', 1) as tf.Tensor3D;
  const prefix = { data: prefixTensor.dataSync() as Float32Array, shape: [2, 3, 16] as [number, number, number] };
  prefixTensor.dispose();
  const options = { ...OPTIONS, groupSize: 3, maxNewTokens: 6, temperature: 1, topP: 1, seed: 11 };
  const a = await generateRollouts(policy, tokenizer, taskRegistry, entries, promptIds, prefix, options);
  // The first call may build lasting caches (the RoPE rotation matrix); later calls must leave no tensor behind.
  const before = tf.memory().numTensors;
  await generateRollouts(policy, tokenizer, taskRegistry, entries, promptIds, prefix, options);
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(a.map((r) => r.promptIndex), [0, 0, 0, 1, 1, 1]);
  assert.ok(a.every((r) => r.completionIds.length <= 6 && r.task === 'chain_sum' && r.reward >= 0));
  const b = await generateRollouts(policy, tokenizer, taskRegistry, entries, promptIds, prefix, options);
  assert.deepEqual(b.map((r) => r.completionIds), a.map((r) => r.completionIds));
  const c = await generateRollouts(policy, tokenizer, taskRegistry, entries, promptIds, prefix, { ...options, seed: 12 });
  assert.notDeepEqual(c.map((r) => r.completionIds), a.map((r) => r.completionIds));
  // Row r of the repeated batch sees prefix[promptIndex(r)]: greedy rows of one group are identical.
  const greedy = await generateRollouts(policy, tokenizer, taskRegistry, entries, promptIds, prefix, { ...options, temperature: 0 });
  assert.deepEqual(greedy[0].completionIds, greedy[2].completionIds);
  assert.deepEqual(greedy[3].completionIds, greedy[5].completionIds);
  await assert.rejects(generateRollouts(policy, tokenizer, taskRegistry, entries, promptIds.slice(1), prefix, options), /2 entries but 1 prompts/);
  decoder.dispose();
});
