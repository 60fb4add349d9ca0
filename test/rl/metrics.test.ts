// Step metrics (src/rl/metrics.ts) against numbers worked out by hand, the learning-rate schedules and
// the deterministic prompt stream of the trainer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { taskRegistry } from '../../tasks/index.js';
import { CompositeDataset, resolveCompositeSpecs } from '../../tasks/composite.js';
import { loadConfig } from '../../src/config.js';
import { groupAdvantages } from '../../src/rl/grpo.js';
import { ema, entropyOf, rolloutMetrics, routingMetrics } from '../../src/rl/metrics.js';
import { configHash, learningRateAt, PromptStream } from '../../src/rl/trainer.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { join } from 'node:path';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('rolloutMetrics: rewards, accuracy, lengths, per task', () => {
  // Two groups of G = 2: chain_sum rewards [1, 0], gcd rewards [0.5, 0.5].
  const rollouts = [
    { task: 'chain_sum', reward: 1, taskScore: 1, formatScore: 1, length: 4, truncated: false },
    { task: 'chain_sum', reward: 0, taskScore: 0, formatScore: 0, length: 8, truncated: true },
    { task: 'gcd', reward: 0.5, taskScore: 0.5, formatScore: 1, length: 2, truncated: false },
    { task: 'gcd', reward: 0.5, taskScore: 0.5, formatScore: 1, length: 6, truncated: false },
  ];
  const adv = groupAdvantages(rollouts.map((r) => r.reward), 2, 'group');
  const m = rolloutMetrics(rollouts, adv);
  close(m.reward, (1 + 0 + 0.5 + 0.5) / 4); // 0.5
  // group stds (Bessel): sqrt(((1-0.5)^2 + (0-0.5)^2) / 1) = sqrt(0.5) = 0.70710678; second group 0. Mean = 0.35355339
  close(m.reward_std, Math.sqrt(0.5) / 2);
  close(m.frac_reward_zero_std, 0.5);
  close(m.accuracy, 0.25); // only the first scores exactly 1
  close(m['rewards/format'], 0.75);
  close(m['completions/mean_length'], 5); // (4 + 8 + 2 + 6) / 4
  assert.equal(m['completions/min_length'], 2);
  assert.equal(m['completions/max_length'], 8);
  close(m['completions/clipped_ratio'], 0.25);
  close(m['reward/chain_sum'], 0.5);
  close(m['accuracy/chain_sum'], 0.5);
  close(m['reward/gcd'], 0.5);
  close(m['accuracy/gcd'], 0);
});

test('routingMetrics: mean mass and entropy, overall and per task', () => {
  const h = (p: number[]) => entropyOf(p);
  // entropy of [0.5, 0.5] = ln 2 = 0.693147; of [1, 0] = 0; of [0.25, 0.75] = -(0.25 ln 0.25 + 0.75 ln 0.75) = 0.562335
  close(h([0.5, 0.5]), Math.log(2));
  close(h([1, 0]), 0);
  close(h([0.25, 0.75]), 0.5623351446188083);
  const m = routingMetrics(['a', 'b'], [
    { task: 't1', mass: [0.5, 0.5], entropy: h([0.5, 0.5]) },
    { task: 't1', mass: [1, 0], entropy: 0 },
    { task: 't2', mass: [0.25, 0.75], entropy: h([0.25, 0.75]) },
  ]);
  close(m['router/expert_mass/a'], (0.5 + 1 + 0.25) / 3);
  close(m['router/expert_mass/b'], (0.5 + 0 + 0.75) / 3);
  close(m['router/entropy'], (Math.log(2) + 0 + 0.5623351446188083) / 3);
  close(m['router/expert_mass/t1/a'], 0.75);
  close(m['router/entropy/t1'], Math.log(2) / 2);
  close(m['router/expert_mass/t2/b'], 0.75);
  assert.deepEqual(routingMetrics(['a'], []), {});
  close(ema(undefined, 3), 3);
  close(ema(1, 3, 0.5), 2);
});

test('learning-rate schedules: warm-up, constant, linear, cosine', () => {
  const base = { learningRate: 1e-3, warmupSteps: 2, lrSchedule: 'constant' } as const;
  const grpo = (over: object) => ({ ...loadConfig(join(REPO_ROOT, 'configs', 'smoke.yaml')).config.grpo, ...base, ...over });
  // warm-up: step 1 -> 1e-3 * 1/2, step 2 -> 1e-3
  close(learningRateAt(grpo({}), 1, 10), 5e-4);
  close(learningRateAt(grpo({}), 2, 10), 1e-3);
  close(learningRateAt(grpo({}), 10, 10), 1e-3);
  // linear after warm-up: step s -> 1e-3 * (1 - (s - 1 - 2) / 8); step 7 -> 1e-3 * (1 - 4/8) = 5e-4
  close(learningRateAt(grpo({ lrSchedule: 'linear' }), 7, 10), 5e-4);
  // cosine to 10%: step 7 -> progress 0.5 -> 1e-3 * (0.1 + 0.9 * 0.5 * (1 + cos(pi/2))) = 5.5e-4
  close(learningRateAt(grpo({ lrSchedule: 'cosine' }), 7, 10), 5.5e-4);
});

test('PromptStream: every training item once per epoch, deterministic, epochs reshuffled', () => {
  const specs = resolveCompositeSpecs(taskRegistry, [{ name: 'chain_sum', weight: 1, config: {} }], 3, 10);
  const dataset = new CompositeDataset(taskRegistry, specs, 3, 10);
  const indices = Array.from({ length: 10 }, (_, i) => i);
  const a = new PromptStream(dataset, indices, 5);
  const b = new PromptStream(dataset, indices, 5);
  const epoch0 = Array.from({ length: 10 }, (_, k) => a.indexAt(k));
  assert.deepEqual([...epoch0].sort((x, y) => x - y), indices);
  const epoch1 = Array.from({ length: 10 }, (_, k) => a.indexAt(10 + k));
  assert.deepEqual([...epoch1].sort((x, y) => x - y), indices);
  assert.notDeepEqual(epoch0, epoch1);
  // b reads out of order (as a resumed run does) and still agrees.
  assert.equal(b.indexAt(13), epoch1[3]);
  assert.equal(b.indexAt(2), epoch0[2]);
  assert.deepEqual(a.batch(2, 3).map((e) => e.question), [epoch0[3], epoch0[4], epoch0[5]].map((i) => dataset.get(i).question));
});

test('configHash ignores key order and undefined keys, changes with any value', () => {
  const { config } = loadConfig(join(REPO_ROOT, 'configs', 'smoke.yaml'));
  const reordered = Object.fromEntries(Object.entries(config).reverse()) as typeof config;
  assert.equal(configHash(reordered), configHash(config));
  assert.equal(configHash({ ...config, policy: { ...config.policy, model: undefined } }), configHash(config));
  assert.notEqual(configHash({ ...config, seed: config.seed + 1 }), configHash(config));
});
