// The router warm-up (router.warmup; a departure from the paper, off by default): before RL, N supervised
// steps of the router alone on training items. Each step conditions P training prompts on the experts as
// in RL, and lowers the frozen policy's NLL of each item's reference answer (`<answer>...</answer>` + EOS)
// given the router's context tokens. It reuses the GRPO update: with one "completion" per prompt (the
// reference), advantage 1, ratio 1 and no KL, the surrogate's gradient is exactly the gradient of the
// per-sequence mean NLL (seq-mean-token-mean), so no second training graph is needed. The policy's
// learning rate is 0, Adam's state is reset afterwards, and the warmed-up router becomes the reference's.

import type { TaskEntry } from '../../tasks/types.js';
import type { AdamState } from '../models/optim.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import type { PromptFormat } from '../world/format.js';
import { formatTarget } from '../world/targets.js';
import { disposeConditioning, type Conditioner } from './conditioning.js';
import type { GrpoHyper } from './grpo.js';
import type { EngineCheckpoint, PolicyEngine } from './policy-engine.js';
import { encodePolicyPrompts } from './setup.js';

export interface WarmupOptions {
  steps: number;
  /** Router rate, and the policy's (0: the policy does not move). */
  learningRate: number;
  policyLearningRate: number;
  /** Training prompts of warm-up step s (1-based): never evaluation items. */
  batch: (step: number) => TaskEntry[];
  format: PromptFormat;
  tokenizer: TextTokenizer;
  promptLimits: Parameters<typeof encodePolicyPrompts>[2];
  /** The run's GRPO settings; the warm-up keeps the aggregation and drops KL and clipping. */
  hyper: GrpoHyper;
  /** Called after every step with its metrics (one line of warmup.jsonl). */
  onStep?: (metrics: WarmupStepMetrics) => void;
}

export interface WarmupStepMetrics {
  step: number;
  /** Mean over prompts of the per-token NLL of the reference answer before this step's update. */
  nll: number;
  /** Mean over prompts of the mean probability the policy gives each reference token. */
  token_prob: number;
  'grad_norm/router': number;
  applied: boolean;
  'time/step': number;
}

/** Token ids of an entry's supervised target: the reference answer in its tags, then EOS. */
export function referenceCompletion(tokenizer: TextTokenizer, format: PromptFormat, entry: TaskEntry): number[] {
  const eos = tokenizer.eosId;
  if (eos === undefined) throw new Error('the policy tokenizer has no EOS token; the warm-up target ends with it');
  return [...tokenizer.encode(formatTarget(format, entry, 'reference')), eos];
}

/** Mean over rows of the mean per-token NLL, and the mean per-token probability. */
function nllOf(logProbs: readonly (readonly number[])[], lengths: readonly number[]): { nll: number; tokenProb: number } {
  let nll = 0;
  let prob = 0;
  logProbs.forEach((row, r) => {
    const n = lengths[r];
    let s = 0;
    let p = 0;
    for (let t = 0; t < n; t++) {
      s -= row[t];
      p += Math.exp(row[t]);
    }
    nll += s / Math.max(1, n);
    prob += p / Math.max(1, n);
  });
  return { nll: nll / Math.max(1, logProbs.length), tokenProb: prob / Math.max(1, logProbs.length) };
}

/**
 * Run the warm-up on `engine`; returns the trained weights with a fresh optimizer state (the state RL
 * starts from). The engine is left in that state, and its reference router is the warmed-up one.
 */
export async function warmupRouter(engine: PolicyEngine, conditioner: Conditioner, options: WarmupOptions): Promise<EngineCheckpoint & { nll: { first: number; last: number } }> {
  const fresh: AdamState = engine.checkpoint().optimizer;
  const hyper: GrpoHyper = { ...options.hyper, beta: 0, epsilonLow: 1e9, epsilonHigh: 1e9 };
  let first = NaN;
  let last = NaN;
  for (let step = 1; step <= options.steps; step++) {
    const t0 = performance.now();
    const entries = options.batch(step);
    const conditioning = await conditioner.condition(entries);
    try {
      const promptIds = encodePolicyPrompts(options.tokenizer, conditioning.promptTexts, options.promptLimits);
      const completionIds = entries.map((e) => referenceCompletion(options.tokenizer, options.format, e));
      const rows = { promptIds, completionIds, expertStates: conditioning.states };
      const { nll, tokenProb } = nllOf(await engine.policyLogProbs(rows), completionIds.map((c) => c.length));
      const update = await engine.update({ ...rows, advantages: entries.map(() => 1) }, hyper, { router: options.learningRate, policy: options.policyLearningRate });
      if (step === 1) first = nll;
      last = nll;
      options.onStep?.({ step, nll, token_prob: tokenProb, 'grad_norm/router': update.gradNormRouter, applied: update.applied, 'time/step': (performance.now() - t0) / 1000 });
    } finally {
      disposeConditioning(conditioning);
    }
  }
  const trained = engine.checkpoint();
  const state = { ...trained, optimizer: fresh };
  engine.restore(state);
  engine.setReference(trained);
  return { ...state, nll: { first, last } };
}
