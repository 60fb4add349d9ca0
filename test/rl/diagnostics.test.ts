// Routing diagnostics (src/rl/diagnostics.ts) on hand-computed numbers: the context-token norm ratio,
// router vs policy gradient norms, the specialist of each task from model cards, its mass per step.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { contextNormRatio, findSpecialists, gradientGroupNorms, specialistMassMetrics, tokenEmbeddingNorms } from '../../src/rl/diagnostics.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('context norm ratio: mean context-token norm over mean prompt-token embedding norm, averaged over prompts', () => {
  // Embeddings: token 0 norm 5 (3,4), token 1 norm 1 (1,0).
  const norms = tokenEmbeddingNorms(new Map([['model.embed_tokens.weight', { shape: [2, 2], data: Float32Array.of(3, 4, 1, 0) }]]));
  assert.deepEqual([...norms], [5, 1]);
  // Prompt 0: context norms 1 and 3 (mean 2) over tokens [0, 1] (mean 3) -> 2/3; prompt 1: norm 2 / token 1 -> 2.
  const context = { data: Float32Array.of(1, 0, 0, 3, 0, 2, 2, 0), shape: [2, 2, 2] as [number, number, number] };
  assert.ok(Math.abs(contextNormRatio(context, [[0, 1], [1]], norms) - (2 / 3 + 2) / 2) < 1e-6);
  assert.throws(() => contextNormRatio(context, [[0]], norms), /2 context rows for 1 prompts/);
});

test('gradient norms by group: router.* apart from the policy', () => {
  const g = gradientGroupNorms(new Map([['router.a', Float32Array.of(3, 4)], ['policy.x', Float32Array.of(1)], ['policy.y', Float32Array.of(2, 2)]]));
  assert.equal(g.router, 5);
  assert.equal(g.policy, 3);
});

test('specialists: the largest held-out accuracy above the constant answer, from the cards; their mass per task', () => {
  const world = tempDir();
  const card = (name: string, acc: Record<string, number>, base: Record<string, number>) => {
    mkdirSync(join(world, name), { recursive: true });
    writeFileSync(join(world, name, 'model.json'), JSON.stringify({ name, heldOut: Object.entries(acc).map(([task, accuracy]) => ({ task, accuracy })), baselines: Object.entries(base).map(([task, accuracy]) => ({ task, accuracy })) }));
  };
  // chain_sum: a is 0.5 above the base rate, b 0.1; letter_counting: nobody beats the constant answer.
  card('expert-a', { chain_sum: 0.6, letter_counting: 0.5 }, { chain_sum: 0.1, letter_counting: 0.6 });
  card('expert-b', { chain_sum: 0.9, letter_counting: 0.6 }, { chain_sum: 0.8, letter_counting: 0.6 });
  const config = loadConfig(join(REPO_ROOT, 'configs', 'smoke.yaml'), [`world.dir=${world}`]).config;
  const s = findSpecialists(config, ['expert-a', 'expert-b']);
  assert.deepEqual(s, { chain_sum: { expert: 'expert-a', accuracy: 0.6, constantAnswerAccuracy: 0.1 } });
  const routing = [
    { task: 'chain_sum', mass: [0.7, 0.3], entropy: 0 },
    { task: 'chain_sum', mass: [0.5, 0.5], entropy: 0 },
    { task: 'letter_counting', mass: [0.1, 0.9], entropy: 0 },
  ];
  assert.deepEqual(specialistMassMetrics(['expert-a', 'expert-b'], routing, s), { 'router/specialist_mass/chain_sum': 0.6 });
});
