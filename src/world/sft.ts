// Supervised next-token training of one tiny decoder (nanoGPT style, top to bottom). Each example is a
// prompt and a target (answer + EOS); the loss is the weighted mean negative log-likelihood, with
// prompt tokens weighted `promptLossWeight` and target tokens 1. Batches are drawn by a seeded RNG
// whose state, with the weights and Adam moments, makes a checkpoint; resuming from one reaches the
// same weights as an uninterrupted run.

import type { DecoderWeights } from '../models/decoder-config.js';
import type { TfDecoder } from '../models/decoder.js';
import { NamedAdam, warmupCosine, type AdamState } from '../models/optim.js';
import * as tf from '../models/tf.js';
import { PyRandom, type PyRandomState } from '../../tasks/common/rng.js';

export interface SftExample {
  promptIds: number[];
  /** Answer tokens followed by EOS. */
  targetIds: number[];
}

export interface SftOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  warmupSteps: number;
  promptLossWeight: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  seed: number;
  /** BOS id placed before every prompt (the first token is predicted from it). */
  bosId: number;
}

export interface SftCheckpoint {
  step: number;
  rng: PyRandomState;
  weights: DecoderWeights;
  optimizer: AdamState;
  losses: number[];
  tokens: number;
}

export interface SftHooks {
  onStep?: (step: number, loss: number, lr: number) => void;
  /** Called every `checkpointEvery` steps (and not after the last one: the caller saves the result). */
  checkpoint?: (state: SftCheckpoint) => void;
  checkpointEvery?: number;
  resumeFrom?: SftCheckpoint;
}

export interface SftResult {
  losses: number[];
  /** Sequence tokens processed (prompt + target, no padding). */
  tokens: number;
  skippedSteps: number;
}

/**
 * One batch's loss. Each row is [BOS] -> prompt + target, so the decoder's completion scoring gives
 * log p of every prompt and target token. Returns the weighted mean NLL. Shapes: logProbs [B, T].
 */
export function sftLoss(decoder: TfDecoder, batch: readonly SftExample[], promptLossWeight: number, bosId: number): tf.Scalar {
  return tf.tidy(() => {
    const sequences = batch.map((e) => [...e.promptIds, ...e.targetIds]);
    const T = Math.max(...sequences.map((s) => s.length));
    const weights = batch.map((e) => {
      const row = new Array<number>(T).fill(0);
      e.promptIds.forEach((_, i) => (row[i] = promptLossWeight));
      e.targetIds.forEach((_, i) => (row[e.promptIds.length + i] = 1));
      return row;
    });
    const { logProbs } = decoder.completionScores({ promptIds: batch.map(() => [bosId]), completionIds: sequences }, false); // [B, T]
    const w = tf.tensor2d(weights); // [B, T]
    return tf.div(tf.neg(tf.sum(tf.mul(logProbs, w))), tf.sum(w)) as tf.Scalar;
  });
}

export function trainSft(decoder: TfDecoder, pool: readonly SftExample[], options: SftOptions, hooks: SftHooks = {}): SftResult {
  if (pool.length === 0) throw new Error('no training examples');
  const params = decoder.variables();
  for (const v of params.values()) v.trainable = true;
  const optimizer = new NamedAdam(params, { clipNorm: options.clipNorm });
  const rng = new PyRandom(options.seed);
  let start = 0;
  let losses: number[] = [];
  let tokens = 0;
  if (hooks.resumeFrom) {
    decoder.setWeights(hooks.resumeFrom.weights);
    optimizer.setState(hooks.resumeFrom.optimizer);
    rng.setState(hooks.resumeFrom.rng);
    start = hooks.resumeFrom.step;
    losses = hooks.resumeFrom.losses.slice();
    tokens = hooks.resumeFrom.tokens;
  }
  const byVar = new Map([...params].map(([n, v]) => [v.name, n]));
  let skipped = 0;
  try {
    for (let step = start; step < options.steps; step++) {
      // ---- batch: indices drawn with replacement by the seeded RNG
      const batch = Array.from({ length: options.batchSize }, () => pool[rng.randbelow(pool.length)]);
      tokens += batch.reduce((a, e) => a + e.promptIds.length + e.targetIds.length, 0);
      // ---- forward + backward
      const { value, grads } = tf.variableGrads(() => sftLoss(decoder, batch, options.promptLossWeight, options.bosId), [...params.values()]);
      const loss = value.dataSync()[0];
      const named = new Map(Object.entries(grads).map(([varName, g]) => [byVar.get(varName)!, g]));
      // ---- update (a non-finite gradient skips the step)
      const lr = warmupCosine(step, options.learningRate, options.warmupSteps, options.steps);
      const { applied } = Number.isFinite(loss) ? optimizer.apply(named, lr) : { applied: false };
      if (!applied) skipped++;
      tf.dispose([value, ...Object.values(grads)]);
      losses.push(loss);
      hooks.onStep?.(step + 1, loss, lr);
      const every = hooks.checkpointEvery ?? 0;
      if (hooks.checkpoint && every > 0 && (step + 1) % every === 0 && step + 1 < options.steps) {
        hooks.checkpoint({ step: step + 1, rng: rng.getState(), weights: decoder.getWeights(), optimizer: optimizer.getState(), losses: losses.slice(), tokens });
      }
    }
  } finally {
    optimizer.dispose();
    for (const v of params.values()) v.trainable = false;
  }
  return { losses, tokens, skippedSteps: skipped };
}
