// Supervised next-token training of one tiny decoder on the onnx engine: the same loop as ./sft.ts
// (seeded batches drawn with replacement, warm-up + cosine learning rate, global-norm clipping, a
// non-finite step skipped, checkpoints with the RNG state) but each step is one ONNX Runtime run of a
// generated forward + loss + backward graph (src/engine/policy-graphs.ts sftGraph) and Adam runs on
// Float32Arrays (src/engine/adam.ts). Sequences are padded to a multiple of BUCKET tokens, one cached
// session per width.

import { FloatAdam } from '../engine/adam.js';
import { bucketLength, sequenceFeeds } from '../engine/decoder-graph.js';
import { LOSS_INPUTS, STEP_OUTPUTS, gradName, policyCheckpointName, sftGraph } from '../engine/policy-graphs.js';
import { type EngineSessionOptions, type Feeds, SessionCache } from '../engine/session.js';
import type { DecoderConfig, DecoderWeights } from '../models/decoder-config.js';
import { warmupCosine } from '../models/optim.js';
import { PyRandom } from '../../tasks/common/rng.js';
import type { SftCheckpoint, SftExample, SftHooks, SftOptions, SftResult } from './sft.js';

/** Sequence widths are rounded up to a multiple of this. */
export const SFT_BUCKET = 16;

/** Token weights [R, C] of a batch: promptLossWeight on prompt tokens, 1 on target tokens, 0 on padding. */
export function sftWeights(batch: readonly SftExample[], C: number, promptLossWeight: number): Float32Array {
  const w = new Float32Array(batch.length * C);
  batch.forEach((e, r) => {
    e.promptIds.forEach((_, i) => (w[r * C + i] = promptLossWeight));
    e.targetIds.forEach((_, i) => (w[r * C + e.promptIds.length + i] = 1));
  });
  return w;
}

/**
 * Train `weights` (updated in place) on `pool`. Checkpoint names and layout are those of ./sft.ts
 * (weights by Hugging Face name, Adam moments by the same names).
 */
export async function trainSftOnnx(config: DecoderConfig, weights: DecoderWeights, pool: readonly SftExample[], options: SftOptions, hooks: SftHooks = {}, session: EngineSessionOptions = {}): Promise<SftResult> {
  if (pool.length === 0) throw new Error('no training examples');
  const optimizer = FloatAdam.fromNamed(weights, { clipNorm: options.clipNorm });
  const rng = new PyRandom(options.seed);
  let start = 0;
  let losses: number[] = [];
  let tokens = 0;
  if (hooks.resumeFrom) {
    for (const [name, t] of weights) t.data.set(hooks.resumeFrom.weights.get(name)!.data);
    optimizer.setState(hooks.resumeFrom.optimizer);
    rng.setState(hooks.resumeFrom.rng);
    start = hooks.resumeFrom.step;
    losses = hooks.resumeFrom.losses.slice();
    tokens = hooks.resumeFrom.tokens;
  }
  const sessions = new SessionCache(session);
  let skipped = 0;
  try {
    for (let step = start; step < options.steps; step++) {
      // ---- batch: indices drawn with replacement by the seeded RNG
      const batch = Array.from({ length: options.batchSize }, () => pool[rng.randbelow(pool.length)]);
      tokens += batch.reduce((a, e) => a + e.promptIds.length + e.targetIds.length, 0);
      // ---- forward + backward: one session run
      const sequences = batch.map((e) => [...e.promptIds, ...e.targetIds]); // [R][<= C]
      const R = batch.length;
      const C = bucketLength(Math.max(...sequences.map((s) => s.length)), SFT_BUCKET);
      const graph = await sessions.get(`sft:R${R}:C${C}`, () => sftGraph(config, { R, C }));
      const data = sequenceFeeds(config, C, options.bosId, sequences);
      const feeds: Feeds = { ...data, [LOSS_INPUTS.sftWeights]: sftWeights(batch, C, options.promptLossWeight) };
      for (const [name, t] of weights) feeds[name] = t.data;
      const out = await graph.run(feeds);
      const loss = (out[STEP_OUTPUTS.loss] as Float32Array)[0];
      // ---- update (a non-finite gradient skips the step)
      const grads = new Map<string, Float32Array>();
      for (const name of weights.keys()) grads.set(name, out[gradName(policyCheckpointName(name))] as Float32Array);
      const lr = warmupCosine(step, options.learningRate, options.warmupSteps, options.steps);
      const { applied } = Number.isFinite(loss) ? optimizer.apply(grads, lr) : { applied: false };
      if (!applied) skipped++;
      losses.push(loss);
      hooks.onStep?.(step + 1, loss, lr);
      const every = hooks.checkpointEvery ?? 0;
      if (hooks.checkpoint && every > 0 && (step + 1) % every === 0 && step + 1 < options.steps) {
        const state: SftCheckpoint = { step: step + 1, rng: rng.getState(), weights: copy(weights), optimizer: optimizer.getState(), losses: losses.slice(), tokens };
        hooks.checkpoint(state);
      }
    }
  } finally {
    await sessions.dispose();
  }
  return { losses, tokens, skippedSteps: skipped };
}

function copy(w: DecoderWeights): DecoderWeights {
  return new Map([...w].map(([n, t]) => [n, { shape: [...t.shape], data: t.data.slice() }]));
}
