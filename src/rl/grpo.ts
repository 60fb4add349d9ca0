// GRPO maths as pure functions over plain numbers: group-relative advantages, the clipped surrogate
// with asymmetric epsilons, the k3 KL estimator, loss aggregation, and the diagnostics that explain a
// step (clip fractions, KL, zero-std groups). The tfjs loss in ./grpo-tf.ts must agree with these.
//
// Conventions follow TRL's GRPOTrainer (Shao et al. 2024, DeepSeekMath; DAPO for epsilon high;
// Dr. GRPO, Liu et al. 2025, for the `dr-grpo` aggregation and `scaleRewards: none`):
//   A_i = r_i - mean(group)                         scaleRewards = none
//   A_i = (r_i - mean(group)) / (std(group) + 1e-4)  scaleRewards = group  (std with Bessel's correction)
//   A_i = (r_i - mean(group)) / (std(batch) + 1e-4)  scaleRewards = batch
//   ratio_t = exp(logp_t - oldLogp_t)
//   surrogate_t = min(ratio_t * A, clip(ratio_t, 1 - epsLow, 1 + epsHigh) * A)
//   kl_t = exp(refLogp_t - logp_t) - (refLogp_t - logp_t) - 1        (k3, always >= 0)
//   loss_t = -surrogate_t + beta * kl_t

export type ScaleRewards = 'group' | 'batch' | 'none';
export type LossAggregation = 'token-mean' | 'seq-mean-token-mean' | 'dr-grpo';

export const ADVANTAGE_EPS = 1e-4;

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('mean of an empty list');
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (Bessel's correction, as torch.std); 0 for a single value. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

export interface AdvantageResult {
  /** One advantage per completion, same order as the rewards. */
  advantages: number[];
  /** Per-group mean and std of the rewards. */
  groupMean: number[];
  groupStd: number[];
  /** Fraction of groups whose rewards are all equal (they carry no learning signal). */
  fracZeroStd: number;
}

/**
 * Group-relative advantages. `rewards` holds `numGroups * groupSize` values, group by group
 * (completions of the same prompt are contiguous).
 */
export function groupAdvantages(rewards: readonly number[], groupSize: number, scale: ScaleRewards): AdvantageResult {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new Error(`groupSize must be a positive integer, got ${groupSize}`);
  if (rewards.length === 0 || rewards.length % groupSize !== 0) {
    throw new Error(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  }
  const groups = rewards.length / groupSize;
  const groupMean: number[] = [];
  const groupStd: number[] = [];
  let zero = 0;
  for (let g = 0; g < groups; g++) {
    const slice = rewards.slice(g * groupSize, (g + 1) * groupSize);
    groupMean.push(mean(slice));
    const s = std(slice);
    groupStd.push(s);
    if (Math.abs(s) < 1e-8) zero++;
  }
  const batchStd = std(rewards);
  const advantages = rewards.map((r, i) => {
    const g = Math.floor(i / groupSize);
    const centred = r - groupMean[g];
    if (scale === 'none') return centred;
    const s = scale === 'group' ? groupStd[g] : batchStd;
    return centred / (s + ADVANTAGE_EPS);
  });
  return { advantages, groupMean, groupStd, fracZeroStd: zero / groups };
}

/** k3 estimator of KL(policy || reference) at one token, from log-probs of the sampled token. */
export function klK3(logp: number, refLogp: number): number {
  const d = refLogp - logp;
  return Math.exp(d) - d - 1;
}

export interface TokenLossInputs {
  /** Per completion, per token: log-prob under the policy being optimised. [B][T] */
  logp: readonly (readonly number[])[];
  /** Log-probs under the policy that sampled (equal to logp on the first inner iteration). [B][T] */
  oldLogp: readonly (readonly number[])[];
  /** Log-probs under the frozen reference policy; needed when beta > 0. [B][T] */
  refLogp?: readonly (readonly number[])[];
  /** 1 for completion tokens, 0 for padding. [B][T] */
  mask: readonly (readonly number[])[];
  /** One advantage per completion. [B] */
  advantages: readonly number[];
}

export interface GrpoHyper {
  epsilonLow: number;
  epsilonHigh: number;
  beta: number;
  aggregation: LossAggregation;
  /** For dr-grpo: the fixed normaliser (max completion length). */
  maxCompletionLength: number;
}

export interface GrpoLossResult {
  loss: number;
  /** Per token loss before aggregation. [B][T] (0 at padding) */
  tokenLoss: number[][];
  /** Masked mean KL (k3) over completion tokens (0 when no reference is given). */
  kl: number;
  /** Fraction of tokens where the low clip is active (ratio < 1 - epsLow and A < 0). */
  clipRatioLow: number;
  /** Fraction of tokens where the high clip is active (ratio > 1 + epsHigh and A > 0). */
  clipRatioHigh: number;
  /** Fraction of tokens where either clip is active. */
  clipRatio: number;
}

/** Aggregate a masked per-token matrix into one number. */
export function aggregate(values: readonly (readonly number[])[], mask: readonly (readonly number[])[], aggregation: LossAggregation, maxCompletionLength: number): number {
  const B = values.length;
  if (B === 0) throw new Error('cannot aggregate an empty batch');
  let total = 0;
  let tokens = 0;
  let seqMeans = 0;
  for (let b = 0; b < B; b++) {
    let rowSum = 0;
    let rowTokens = 0;
    for (let t = 0; t < values[b].length; t++) {
      rowSum += values[b][t] * mask[b][t];
      rowTokens += mask[b][t];
    }
    total += rowSum;
    tokens += rowTokens;
    seqMeans += rowSum / Math.max(rowTokens, 1);
  }
  switch (aggregation) {
    case 'token-mean':
      return total / Math.max(tokens, 1);
    case 'seq-mean-token-mean':
      return seqMeans / B;
    case 'dr-grpo':
      return total / (B * maxCompletionLength);
    default:
      throw new Error(`unknown loss aggregation '${String(aggregation)}'`);
  }
}

/** The GRPO loss and its diagnostics, computed token by token. */
export function grpoLoss(inputs: TokenLossInputs, hyper: GrpoHyper): GrpoLossResult {
  const { logp, oldLogp, refLogp, mask, advantages } = inputs;
  if (hyper.beta > 0 && !refLogp) throw new Error('beta > 0 needs reference log-probs (refLogp)');
  const tokenLoss: number[][] = [];
  const klMatrix: number[][] = [];
  let low = 0;
  let high = 0;
  let tokens = 0;
  for (let b = 0; b < logp.length; b++) {
    const A = advantages[b];
    const row: number[] = [];
    const klRow: number[] = [];
    for (let t = 0; t < logp[b].length; t++) {
      const m = mask[b][t];
      const ratio = Math.exp(logp[b][t] - oldLogp[b][t]);
      const clipped = Math.min(Math.max(ratio, 1 - hyper.epsilonLow), 1 + hyper.epsilonHigh);
      const surrogate = Math.min(ratio * A, clipped * A);
      const kl = refLogp ? klK3(logp[b][t], refLogp[b][t]) : 0;
      row.push(m * (-surrogate + hyper.beta * kl));
      klRow.push(m * kl);
      if (m > 0) {
        tokens += m;
        if (ratio < 1 - hyper.epsilonLow && A < 0) low += m;
        if (ratio > 1 + hyper.epsilonHigh && A > 0) high += m;
      }
    }
    tokenLoss.push(row);
    klMatrix.push(klRow);
  }
  const denom = Math.max(tokens, 1);
  return {
    loss: aggregate(tokenLoss, mask, hyper.aggregation, hyper.maxCompletionLength),
    tokenLoss,
    kl: aggregate(klMatrix, mask, 'token-mean', hyper.maxCompletionLength),
    clipRatioLow: low / denom,
    clipRatioHigh: high / denom,
    clipRatio: (low + high) / denom,
  };
}
