// One GRPO update on a batch of rollouts: recompute the policy's log-probs of the sampled completions
// (with the router's context tokens recomputed inside the gradient, so gradients reach the router),
// apply the clipped surrogate + KL loss (./grpo-tf.ts), and step Adam on the trainable parameters
// (router, and LoRA or full policy weights when they are trainable). Returns the diagnostics cleanrl
// and TRL log: loss, KL, clip fractions, entropy, gradient norm.

import type { CompletionScores, TfDecoder } from '../models/decoder.js';
import type { NamedAdam } from '../models/optim.js';
import * as tf from '../models/tf.js';
import type { ExpertStates, PerceiverRouter } from '../router/perceiver.js';
import type { GrpoHyper } from './grpo.js';
import { gradientGroupNorms } from './diagnostics.js';
import { grpoLossTensor } from './grpo-tf.js';

export interface UpdateBatch {
  /** Prompt ids (BOS included): one per prompt with rowPrompt ([P][T_p]), else one per rollout row. */
  promptIds: number[][];
  /** Per rollout row: sampled completion ids. [R][C_r] */
  completionIds: number[][];
  /** One advantage per row. [R] */
  advantages: number[];
  /**
   * Log-probs of the sampled tokens under the policy that sampled them. [R][C] (right-padded with 0).
   * Omitted on the first inner iteration: the current log-probs, detached, are used (ratio = 1).
   */
  oldLogp?: number[][];
  /** Reference-policy log-probs, when beta > 0. [R][C] */
  refLogp?: number[][];
  /** Expert states per expert, one row per prompt ([P, ...] each), when a router is used. */
  expertStates?: ExpertStates[];
  /**
   * Prompt of each rollout row ([R], values in 0..P-1); default: row r is prompt r. With it, each prompt
   * (and its context tokens) runs once and its keys/values are shared by its group's rows.
   */
  rowPrompt?: number[];
}

export interface UpdateMetrics {
  loss: number;
  kl: number;
  clipRatioLow: number;
  clipRatioHigh: number;
  clipRatio: number;
  /** Mean per-token entropy of the policy over completion tokens. */
  entropy: number;
  gradNorm: number;
  /** Gradient norms of the router's parameters and of the policy's, before clipping. */
  gradNormRouter: number;
  gradNormPolicy: number;
  /** False when the loss or gradient was not finite: the update was skipped. */
  applied: boolean;
  /** Seconds in the forward + backward pass, and in the optimizer step. */
  backwardSeconds: number;
  updateSeconds: number;
}

/** The router's context tokens, one set per prompt: [P, K, hidden] (undefined without a router). */
function promptContext(router: PerceiverRouter | undefined, batch: Pick<UpdateBatch, 'expertStates'>): tf.Tensor3D | undefined {
  if (!router || !batch.expertStates) return undefined;
  const out = router.forward(batch.expertStates);
  out.attention.dispose();
  out.expertMass.dispose();
  return out.context;
}

/** The policy's scores of the batch's completions, conditioned on the router's context. Call inside a tidy or variableGrads. */
function scoreBatch(policy: TfDecoder, router: PerceiverRouter | undefined, batch: Pick<UpdateBatch, 'promptIds' | 'completionIds' | 'expertStates' | 'rowPrompt'>, withEntropy: boolean): CompletionScores {
  return policy.completionScores({ prefixEmbeds: promptContext(router, batch), promptIds: batch.promptIds, completionIds: batch.completionIds, rowPrompt: batch.rowPrompt }, withEntropy);
}

/** Log-probs (and mask) of completions under the current policy, without gradients. [R][C] */
export function completionLogProbs(policy: TfDecoder, router: PerceiverRouter | undefined, batch: Pick<UpdateBatch, 'promptIds' | 'completionIds' | 'expertStates' | 'rowPrompt'>): number[][] {
  return tf.tidy(() => {
    const { logProbs } = scoreBatch(policy, router, batch, false);
    return logProbs.arraySync() as number[][];
  });
}

function pad(rows: number[][], width: number): number[][] {
  return rows.map((r) => [...r, ...new Array<number>(Math.max(0, width - r.length)).fill(0)].slice(0, width));
}

/** The GRPO loss of a batch, its diagnostics and the gradient of each trainable parameter (by name). */
export interface GrpoGradients {
  loss: number;
  kl: number;
  clipRatioLow: number;
  clipRatioHigh: number;
  entropy: number;
  /** Gradient tensors by parameter name; the caller disposes them. */
  grads: Map<string, tf.Tensor>;
  backwardSeconds: number;
}

/** Forward + backward of the GRPO loss w.r.t. exactly the variables of `params`. */
export function grpoGradients(policy: TfDecoder, router: PerceiverRouter | undefined, params: ReadonlyMap<string, tf.Variable>, batch: UpdateBatch, hyper: GrpoHyper): GrpoGradients {
  const C = Math.max(1, ...batch.completionIds.map((c) => c.length));
  const givenOld = batch.oldLogp ? tf.tensor2d(pad(batch.oldLogp, C)) : undefined;
  const refLogp = batch.refLogp ? tf.tensor2d(pad(batch.refLogp, C)) : undefined;
  const advantages = tf.tensor1d(batch.advantages);
  const byVar = new Map([...params].map(([n, v]) => [v.name, n]));
  let entropy = 0;
  let diagnostics: Pick<UpdateMetrics, 'kl' | 'clipRatioLow' | 'clipRatioHigh'> = { kl: 0, clipRatioLow: 0, clipRatioHigh: 0 };
  try {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const scores = scoreBatch(policy, router, batch, true); // [R, C] each
      const logp = tf.pad(scores.logProbs, [[0, 0], [0, C - scores.logProbs.shape[1]]]) as tf.Tensor2D; // [R, C]
      const mask = tf.pad(scores.mask, [[0, 0], [0, C - scores.mask.shape[1]]]) as tf.Tensor2D;
      // First inner iteration: the sampling policy is the current one; its log-probs enter as constants.
      const oldLogp = givenOld ?? tf.tensor2d(logp.dataSync() as Float32Array, [logp.shape[0], C]);
      const out = grpoLossTensor({ logp, oldLogp, refLogp, mask, advantages }, hyper);
      entropy = tf.div(tf.sum(tf.mul(scores.entropy!, scores.mask)), tf.maximum(tf.sum(scores.mask), 1)).dataSync()[0];
      diagnostics = { kl: out.kl.dataSync()[0], clipRatioLow: out.clipRatioLow.dataSync()[0], clipRatioHigh: out.clipRatioHigh.dataSync()[0] };
      return out.loss;
    }, [...params.values()]);
    const loss = value.dataSync()[0];
    value.dispose();
    const named = new Map(Object.entries(grads).map(([varName, g]) => [byVar.get(varName)!, g]));
    return { loss, entropy, ...diagnostics, grads: named, backwardSeconds: (performance.now() - t0) / 1000 };
  } finally {
    tf.dispose([advantages, ...(givenOld ? [givenOld] : []), ...(refLogp ? [refLogp] : [])]);
  }
}

/**
 * One optimizer step. `params` maps names to the trainable variables the optimizer was built over; the
 * loss is differentiated with respect to exactly those.
 */
export function grpoUpdate(
  policy: TfDecoder,
  router: PerceiverRouter | undefined,
  optimizer: NamedAdam,
  params: ReadonlyMap<string, tf.Variable>,
  batch: UpdateBatch,
  hyper: GrpoHyper,
  learningRate: number | ((name: string) => number),
): UpdateMetrics {
  const g = grpoGradients(policy, router, params, batch, hyper);
  const t1 = performance.now();
  const groups = gradientGroupNorms(new Map([...g.grads].map(([n, t]) => [n, t.dataSync() as Float32Array])));
  const step = Number.isFinite(g.loss) ? optimizer.apply(g.grads, learningRate) : { gradNorm: NaN, applied: false };
  tf.dispose([...g.grads.values()]);
  const t2 = performance.now();
  return {
    loss: g.loss,
    entropy: g.entropy,
    kl: g.kl,
    clipRatioLow: g.clipRatioLow,
    clipRatioHigh: g.clipRatioHigh,
    clipRatio: g.clipRatioLow + g.clipRatioHigh,
    gradNorm: step.gradNorm,
    gradNormRouter: groups.router,
    gradNormPolicy: groups.policy,
    applied: step.applied,
    backwardSeconds: g.backwardSeconds,
    updateSeconds: (t2 - t1) / 1000,
  };
}
