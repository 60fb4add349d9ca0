// The Perceiver router (src/router/perceiver.ts) as an engine graph: the same forward computation for
// every attention mode (learned / uniform / top1), written in ops that have gradient rules, so that
// src/engine/autodiff.ts can differentiate it inside a training graph. The tfjs PerceiverRouter is its
// parity oracle (test/engine/router-graph.test.ts).
//
// Graph inputs added by routerGraph, for expert e (its index in config.experts):
//   router.states.<e>  float [B, d_e]      pooled states, or
//                      float [B, S_e, d_e] token states, with
//   router.mask.<e>    float [B, S_e]      1 = visible position, 0 = padding (token states only)
// Router parameters come from the caller's `params(name, shape)`, by PerceiverRouter's variable names;
// `routerParamInputs` makes them graph inputs named router.param.<name>.
//
// Conventions as in the tfjs router: linear weights are [out, in] (y = x W^T + b), LayerNorm over the
// last axis with eps 1e-5 (biased variance), GELU with the tanh approximation, masked scores get
// -1e9 * (1 - mask), top1 picks the expert by ArgMax (first index on ties) with no gradient through
// the choice (the index is int64, which ends every gradient path).

import { attr, type Graph, type Value, shapeText } from './graph.js';
import { type RouterConfig } from '../router/config.js';
import { routerParamSpecs } from '../router/init.js';

/** How expert e's states enter the graph: one pooled vector, or `length` token positions with a mask. */
export type ExpertStateKind = { kind: 'pooled' } | { kind: 'tokens'; length: number };

/** Supplies router parameter `name` of `shape` (an initializer or a graph input, the caller decides). */
export type RouterParams = (name: string, shape: readonly number[]) => Value;

export interface RouterGraphOutputs {
  /** Soft context tokens. [B, K, outputWidth] */
  context: Value;
  /** Cross-attention probabilities averaged over heads. [B, K, N], N = sum of expert positions */
  attention: Value;
  /** Attention mass per expert, averaged over heads and latents. [B, E] */
  expertMass: Value;
}

export const routerStateName = (e: number): string => `router.states.${e}`;
export const routerMaskName = (e: number): string => `router.mask.${e}`;
export const routerParamName = (name: string): string => `router.param.${name}`;

const LN_EPS = 1e-5;
const MASK_PENALTY = 1e9;

/** What the builders below share: the graph, the config, the batch and memoised parameters. */
interface Ctx {
  g: Graph;
  config: RouterConfig;
  B: number;
  p: (name: string) => Value;
}

/**
 * Parameters as graph inputs router.param.<name> (created on first use, checked against the router's
 * parameter shapes). `inputs` lists them in creation order once the graph is built.
 */
export function routerParamInputs(g: Graph, config: RouterConfig): { params: RouterParams; inputs: Map<string, Value> } {
  const shapes = new Map(routerParamSpecs(config).map((s) => [s.name, s.shape]));
  const inputs = new Map<string, Value>();
  const params: RouterParams = (name, shape) => {
    const expected = shapes.get(name);
    if (!expected) throw new Error(`router has no parameter ${name}`);
    if (expected.join(',') !== shape.join(',')) throw new Error(`router parameter ${name} asked with shape ${shapeText(shape)}, it has ${shapeText(expected)}`);
    let v = inputs.get(name);
    if (!v) {
      v = g.floatInput(routerParamName(name), shape);
      inputs.set(name, v);
    }
    return v;
  };
  return { params, inputs };
}

/** x [..., in] W^T (+ b) for W [out, in] -> [..., out]. */
function linear(c: Ctx, x: Value, weight: string, bias?: string): Value {
  const W = c.p(weight);
  const y = c.g.matmul(x, c.g.transpose(W, [1, 0]));
  return bias ? c.g.add(y, c.p(bias)) : y;
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. Shape of x. */
function layerNorm(c: Ctx, x: Value, prefix: string): Value {
  const { g } = c;
  const mean = g.reduceMean(x, [-1], true); // [..., 1]
  const centred = g.sub(x, mean);
  const variance = g.reduceMean(g.mul(centred, centred), [-1], true); // [..., 1]
  const normed = g.div(centred, g.sqrt(g.add(variance, g.scalar(LN_EPS))));
  return g.add(g.mul(normed, c.p(`${prefix}.weight`)), c.p(`${prefix}.bias`));
}

/** GELU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function gelu(c: Ctx, x: Value): Value {
  const { g } = c;
  const cube = g.mul(g.mul(x, x), x);
  const inner = g.mul(g.add(x, g.mul(cube, g.scalar(0.044715))), g.scalar(Math.sqrt(2 / Math.PI)));
  return g.mul(g.mul(x, g.scalar(0.5)), g.add(g.scalar(1), g.op('Tanh', [inner])));
}

/** [B, n, D] -> [B, H, n, dh] */
function heads(c: Ctx, x: Value): Value {
  const { numHeads: H, width: D } = c.config;
  return c.g.transpose(c.g.reshape(x, [c.B, x.shape[1], H, D / H]), [0, 2, 1, 3]);
}

/** Scaled dot-product scores of queries q [B, Kq, D] over kv [B, N, D], and the values. */
function attentionScores(c: Ctx, prefix: string, q: Value, kv: Value): { scores: Value /* [B, H, Kq, N] */; V: Value /* [B, H, N, dh] */ } {
  const { g } = c;
  const dh = c.config.width / c.config.numHeads;
  const Q = heads(c, linear(c, q, `${prefix}.q.weight`));
  const K = heads(c, linear(c, kv, `${prefix}.k.weight`));
  const V = heads(c, linear(c, kv, `${prefix}.v.weight`));
  const scores = g.mul(g.matmul(Q, g.transpose(K, [0, 1, 3, 2])), g.scalar(1 / Math.sqrt(dh)));
  return { scores, V };
}

/** softmax(scores - 1e9 (1 - mask)) over the keys; mask [B, N] or none. [B, H, Kq, N] */
function maskedSoftmax(c: Ctx, scores: Value, mask?: Value): Value {
  const { g } = c;
  if (!mask) return g.softmax(scores, -1);
  const hidden = g.sub(g.scalar(1), g.reshape(mask, [c.B, 1, 1, mask.shape[1]])); // [B, 1, 1, N]
  return g.softmax(g.sub(scores, g.mul(hidden, g.scalar(MASK_PENALTY))), -1);
}

/** Equal weight on every visible key: mask / sum(mask), broadcast to the scores' shape. [B, H, Kq, N] */
function uniformWeights(c: Ctx, mask: Value, shape: readonly number[]): Value {
  const { g } = c;
  const N = mask.shape[1];
  const share = g.div(g.reshape(mask, [c.B, 1, 1, N]), g.reshape(g.reduceSum(mask, [-1], false), [c.B, 1, 1, 1]));
  return g.expand(share, shape);
}

/** probs [B, H, Kq, N] applied to V [B, H, N, dh], heads merged, output projection. [B, Kq, D] */
function attendWith(c: Ctx, prefix: string, probs: Value, V: Value): Value {
  const { g } = c;
  const merged = g.reshape(g.transpose(g.matmul(probs, V), [0, 2, 1, 3]), [c.B, probs.shape[2], c.config.width]);
  return linear(c, merged, `${prefix}.o.weight`);
}

/** x + FFN(LN(x)), GELU between the two projections. Shape of x. */
function ffnResidual(c: Ctx, prefix: string, x: Value): Value {
  const up = linear(c, layerNorm(c, x, `${prefix}.norm_ffn`), `${prefix}.ffn.up.weight`, `${prefix}.ffn.up.bias`);
  return c.g.add(x, linear(c, gelu(c, up), `${prefix}.ffn.down.weight`, `${prefix}.ffn.down.bias`));
}

/** [N, E] constant: 1 where key position n belongs to expert e. */
function ownership(c: Ctx, owner: readonly number[]): Value {
  const E = c.config.experts.length;
  const data = new Float64Array(owner.length * E);
  owner.forEach((e, n) => (data[n * E + e] = 1));
  return c.g.floatConst('router_ownership', [owner.length, E], data);
}

/** Expert states as graph inputs, projected to D: keys [B, N, D] (before norm_kv), mask [B, N], owner of each position. */
function expertKeys(c: Ctx, experts: readonly ExpertStateKind[]): { keys: Value; mask: Value; owner: number[] } {
  const { g, config, B } = c;
  const keys: Value[] = [];
  const masks: Value[] = [];
  const owner: number[] = [];
  experts.forEach((kind, e) => {
    const d = config.expertWidths[e];
    let seq: Value; // [B, S, d_e]
    if (kind.kind === 'pooled') {
      seq = g.unsqueeze(g.floatInput(routerStateName(e), [B, d]), [1]);
      masks.push(g.expand(g.scalar(1), [B, 1]));
    } else {
      if (!Number.isInteger(kind.length) || kind.length <= 0) throw new Error(`router graph: expert '${config.experts[e]}' token states need a positive length, got ${kind.length}`);
      seq = g.floatInput(routerStateName(e), [B, kind.length, d]);
      masks.push(g.floatInput(routerMaskName(e), [B, kind.length]));
    }
    let projected = linear(c, seq, `proj.${e}.weight`, `proj.${e}.bias`); // [B, S, D]
    if (config.expertEmbeddings) projected = g.add(projected, g.slice(c.p('expert_embed'), 0, e, e + 1)); // + [1, D]
    keys.push(projected);
    for (let s = 0; s < seq.shape[1]; s++) owner.push(e);
  });
  return { keys: g.concat(keys, 1), mask: g.concat(masks, 1), owner };
}

/** top1: keyMask restricted to the positions of the expert with the most learned mass (no gradient through the choice). [B, N] */
function top1Mask(c: Ctx, learnedProbs: Value, keyMask: Value, own: Value): Value {
  const { g } = c;
  const E = c.config.experts.length;
  const learned = g.reduceMean(learnedProbs, [1, 2], false); // [B, N]
  const perExpert = g.matmul(learned, own); // [B, E]
  const chosen = g.op('ArgMax', [perExpert], { axis: attr.int(1), keepdims: attr.int(0) }); // int64 [B]
  const ids = g.ints(Array.from({ length: E }, (_, e) => e), [1, E]);
  const onehot = g.cast(g.op('Equal', [g.unsqueeze(chosen, [1]), ids]), g.float); // [B, E]
  return g.mul(keyMask, g.matmul(onehot, g.transpose(own, [1, 0]))); // [B, N]
}

/**
 * Add the router's forward computation for a batch of `batch` prompts to `g`. `experts[e]` says how
 * expert e's states are fed (see the input names above).
 */
export function routerGraph(g: Graph, config: RouterConfig, batch: number, experts: readonly ExpertStateKind[], params: RouterParams): RouterGraphOutputs {
  if (experts.length !== config.experts.length) throw new Error(`router graph expects ${config.experts.length} experts (${config.experts.join(', ')}), got ${experts.length} state kinds`);
  if (!Number.isInteger(batch) || batch <= 0) throw new Error(`router graph: batch must be a positive integer, got ${batch}`);
  const specs = new Map(routerParamSpecs(config).map((s) => [s.name, s.shape]));
  const memo = new Map<string, Value>();
  const p = (name: string): Value => {
    let v = memo.get(name);
    if (v) return v;
    const shape = specs.get(name);
    if (!shape) throw new Error(`router has no parameter ${name}`);
    v = params(name, shape);
    if (v.dtype !== g.float || v.shape.join(',') !== shape.join(',')) throw new Error(`router parameter ${name} was supplied as ${v.dtype} ${shapeText(v.shape)}, expected ${g.float} ${shapeText(shape)}`);
    memo.set(name, v);
    return v;
  };
  const c: Ctx = { g, config, B: batch, p };
  const { numLatents: K, width: D } = config;

  const { keys, mask: keyMask, owner } = expertKeys(c, experts);
  const kv = layerNorm(c, keys, 'cross.norm_kv'); // [B, N, D]
  const own = ownership(c, owner); // [N, E]
  let latents = g.expand(g.unsqueeze(p('latents'), [0]), [batch, K, D]); // [B, K, D]
  const queries = layerNorm(c, latents, 'cross.norm_q');

  const mode = config.attention ?? 'learned';
  const { scores, V } = attentionScores(c, 'cross', queries, kv); // [B, H, K, N]
  let probs: Value;
  if (mode === 'uniform') probs = uniformWeights(c, keyMask, scores.shape);
  else if (mode === 'top1') probs = maskedSoftmax(c, scores, top1Mask(c, maskedSoftmax(c, scores, keyMask), keyMask, own));
  else probs = maskedSoftmax(c, scores, keyMask);
  latents = ffnResidual(c, 'cross', g.add(latents, attendWith(c, 'cross', probs, V)));

  for (let s = 0; s < config.selfAttentionBlocks; s++) {
    const normed = layerNorm(c, latents, `self.${s}.norm_q`);
    const self = attentionScores(c, `self.${s}`, normed, normed);
    latents = ffnResidual(c, `self.${s}`, g.add(latents, attendWith(c, `self.${s}`, maskedSoftmax(c, self.scores), self.V)));
  }

  const context = linear(c, layerNorm(c, latents, 'out.norm'), 'out.weight'); // [B, K, outputWidth]
  const attention = g.reduceMean(probs, [1], false); // [B, K, N]
  const expertMass = g.reduceMean(g.matmul(attention, own), [1], false); // [B, E]
  return { context, attention, expertMass };
}
