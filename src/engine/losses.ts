// Training losses as engine-graph builders (./graph.ts): the GRPO clipped surrogate + k3 KL with its
// diagnostics, and the supervised weighted mean NLL. They take Values computed elsewhere in the same
// graph (the policy's log-probs), so autodiff (./autodiff.ts) differentiates through them into the
// policy; every op on a differentiable path has a rule in ./grad-rules.ts.
//
// The GRPO formula is exactly `grpoLossTensor` in src/rl/grpo-tf.ts (itself checked against the pure
// reference `grpoLoss` in src/rl/grpo.ts):
//   ratio = exp(logp - oldLogp)                                      [R, C]
//   surrogate = min(ratio * A, clip(ratio, 1 - epsLow, 1 + epsHigh) * A)
//   k3 = exp(refLogp - logp) - (refLogp - logp) - 1
//   tokenLoss = -surrogate + beta * k3, aggregated by hyper.aggregation over mask
// The SFT loss is `sftLoss` in src/world/sft.ts: -sum(logp * w) / sum(w).

import type { Graph, Value } from './graph.js';
import type { GrpoHyper } from '../rl/grpo.js';

export interface GrpoLossInputs {
  /** Policy log-probs of the sampled tokens, differentiable. [R, C] */
  logp: Value;
  /** Log-probs under the sampling policy (constants). [R, C]; absent: detach(logp), ratio 1. */
  oldLogp?: Value;
  /** Reference-policy log-probs (constants); needed when beta > 0. [R, C] */
  refLogp?: Value;
  /** 1 for completion tokens, 0 for padding, in the graph's float type. [R, C] */
  mask: Value;
  /** One advantage per row. [R] */
  advantages: Value;
  /** Per-token policy entropy, for the masked-mean diagnostic. [R, C] */
  entropy?: Value;
}

export interface GrpoLossGraph {
  /** The aggregated loss, the only output that carries gradients. [] */
  loss: Value;
  /** Masked mean k3 KL over tokens (0 without a reference). [] */
  kl: Value;
  /** Fraction of tokens with ratio < 1 - epsLow and A < 0. [] */
  clipRatioLow: Value;
  /** Fraction of tokens with ratio > 1 + epsHigh and A > 0. [] */
  clipRatioHigh: Value;
  /** Masked mean entropy, when entropy was given. [] */
  entropy?: Value;
}

function sameShape(a: Value, b: Value): boolean {
  return a.shape.join(',') === b.shape.join(',');
}

function checkGrpoInputs(t: GrpoLossInputs, hyper: GrpoHyper): void {
  if (hyper.beta > 0 && !t.refLogp) throw new Error('beta > 0 needs reference log-probs (refLogp)');
  if (t.logp.shape.length !== 2) throw new Error(`grpoLossGraph: logp must be [R, C], got [${t.logp.shape.join(', ')}]`);
  const [R] = t.logp.shape;
  const named: [string, Value | undefined][] = [['oldLogp', t.oldLogp], ['refLogp', t.refLogp], ['mask', t.mask], ['entropy', t.entropy]];
  for (const [name, v] of named) {
    if (v && !sameShape(v, t.logp)) throw new Error(`grpoLossGraph: ${name} has shape [${v.shape.join(', ')}], logp has [${t.logp.shape.join(', ')}]`);
  }
  if (t.advantages.shape.length !== 1 || t.advantages.shape[0] !== R) throw new Error(`grpoLossGraph: advantages must be [${R}], got [${t.advantages.shape.join(', ')}]`);
}

/** sum(mask), at least 1. [] */
function tokenCount(g: Graph, mask: Value): Value {
  return g.op('Max', [g.sumAll(mask), g.scalar(1)]);
}

/** Masked mean over every token (aggregation 'token-mean'). values, mask [R, C] -> [] */
function maskedTokenMean(g: Graph, values: Value, mask: Value): Value {
  return g.div(g.sumAll(g.mul(values, mask)), tokenCount(g, mask));
}

/** Aggregate a masked [R, C] matrix like `aggregateTensor` in src/rl/grpo-tf.ts. -> [] */
export function aggregateGraph(g: Graph, values: Value, mask: Value, hyper: Pick<GrpoHyper, 'aggregation' | 'maxCompletionLength'>): Value {
  switch (hyper.aggregation) {
    case 'token-mean':
      return maskedTokenMean(g, values, mask);
    case 'seq-mean-token-mean': {
      const rowSums = g.reduceSum(g.mul(values, mask), [1], false); // [R]
      const rowTokens = g.op('Max', [g.reduceSum(mask, [1], false), g.scalar(1)]); // [R]
      return g.reduceMean(g.div(rowSums, rowTokens), [0], false);
    }
    case 'dr-grpo':
      return g.div(g.sumAll(g.mul(values, mask)), g.scalar(values.shape[0] * hyper.maxCompletionLength));
    default:
      throw new Error(`unknown loss aggregation '${String(hyper.aggregation)}'`);
  }
}

/** k3 estimator exp(d) - d - 1 with d = refLogp - logp. [R, C] */
function k3(g: Graph, logp: Value, refLogp: Value): Value {
  const d = g.sub(refLogp, logp);
  return g.sub(g.sub(g.exp(d), d), g.scalar(1));
}

/** Fraction of masked tokens where a boolean [R, C] condition holds. -> [] */
function maskedFraction(g: Graph, cond: Value, mask: Value): Value {
  return maskedTokenMean(g, g.cast(cond, g.float), mask);
}

/**
 * The GRPO loss and its diagnostics. Only `loss` depends differentiably on logp; the diagnostics are
 * computed from detached copies so they never carry gradients, whatever they are combined with.
 */
export function grpoLossGraph(g: Graph, t: GrpoLossInputs, hyper: GrpoHyper): GrpoLossGraph {
  checkGrpoInputs(t, hyper);
  const { logp, mask } = t;
  const oldLogp = t.oldLogp ?? g.detach(logp); // first inner iteration: ratio 1, gradient A * dlogp
  const A = g.unsqueeze(t.advantages, [1]); // [R, 1]
  const ratio = g.exp(g.sub(logp, oldLogp)); // [R, C]
  const clipped = g.op('Clip', [ratio, g.scalar(1 - hyper.epsilonLow), g.scalar(1 + hyper.epsilonHigh)]);
  const surrogate = g.op('Min', [g.mul(ratio, A), g.mul(clipped, A)]); // [R, C]
  let tokenLoss = g.neg(surrogate);
  let kl = g.scalar(0);
  if (t.refLogp) {
    const klTokens = k3(g, logp, t.refLogp); // [R, C], >= 0
    if (hyper.beta > 0) tokenLoss = g.add(tokenLoss, g.mul(klTokens, g.scalar(hyper.beta)));
    kl = maskedTokenMean(g, g.detach(klTokens), mask);
  }
  const loss = aggregateGraph(g, tokenLoss, mask, hyper);
  const r = g.detach(ratio);
  const zero = g.scalar(0);
  const low = g.op('And', [g.op('Less', [r, g.scalar(1 - hyper.epsilonLow)]), g.op('Less', [A, zero])]); // [R, C]
  const high = g.op('And', [g.op('Greater', [r, g.scalar(1 + hyper.epsilonHigh)]), g.op('Greater', [A, zero])]);
  const out: GrpoLossGraph = { loss, kl, clipRatioLow: maskedFraction(g, low, mask), clipRatioHigh: maskedFraction(g, high, mask) };
  if (t.entropy) out.entropy = maskedTokenMean(g, g.detach(t.entropy), mask);
  return out;
}

/**
 * Supervised loss: weighted mean negative log-likelihood -sum(logp * w) / sum(w), as `sftLoss` in
 * src/world/sft.ts (prompt tokens weighted promptLossWeight, targets 1, padding 0). logp, weights [B, T] -> []
 */
export function sftLossGraph(g: Graph, logp: Value, weights: Value): Value {
  if (!sameShape(logp, weights)) throw new Error(`sftLossGraph: weights have shape [${weights.shape.join(', ')}], logp has [${logp.shape.join(', ')}]`);
  return g.div(g.neg(g.sumAll(g.mul(logp, weights))), g.sumAll(weights));
}
