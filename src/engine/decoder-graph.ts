// Graph builders for the Llama-family decoder (src/models/decoder-config.ts) on the engine IR
// (./graph.ts), all shapes static: teacher-forced completion log-probs / entropy (differentiable, the
// same semantics as TfDecoder.completionScores with rowPrompt), and the two inference graphs of
// sampling: a prefill over the distinct prompts and a KV-cached decode step with a fixed-capacity cache.
//
// Weights come from a WeightSource: the builder asks once per graph for each Hugging Face weight by
// name with its HF shape ([out, in] for projections, [vocab, hidden] for embeddings and lm_head, [n]
// for norms and biases) and uses the value it gets as is (projections run as Gemm with transB = 1, so
// no transposed copy is needed whether the value is an initializer or a graph input). LoRA A [r, in] /
// B [out, r] come from a second source under PEFT names (`base_model.model.<module>.lora_A.weight`).
//
// Host data (token ids, key masks, rotary cos/sin, row -> prompt) is fed under names starting with
// `dec.`; the causal mask is a constant and the additive attention bias (0 / -1e9) is computed in-graph.
// `completionFeeds` computes the feeds of the completion graph for a batch.

import { type DecoderConfig, type LoraTarget, ropeInvFreq } from '../models/decoder-config.js';
import { MASKED_SCORE, RopeTable, positionIdsOf } from '../models/decoder-batch.js';
import { type Graph, type TypedArray, type Value, attr, shapeText } from './graph.js';

/** The builder's request for one weight: return a value of exactly `shape`, of the graph's float type. */
export type WeightSource = (name: string, shape: readonly number[]) => Value;

export interface LoraSpec {
  rank: number;
  alpha: number;
  targets: readonly LoraTarget[];
}

/** Static sizes of one completion-scores graph. */
export interface CompletionSpec {
  config: DecoderConfig;
  /** Distinct prompts. */
  P: number;
  /** Padded prompt width (left padding; may exceed the longest prompt). */
  Tp: number;
  /** Prefix (router context) tokens per prompt; 0 for none. */
  K: number;
  /** Completion rows. */
  R: number;
  /** Padded completion width (right padding; may exceed the longest completion), >= 1. */
  C: number;
  lora?: LoraSpec;
  entropy: boolean;
}

/** Names of the fed inputs of the completion graph. */
export const COMPLETION_INPUTS = {
  /** int64 [P, Tp], left-padded prompts. */
  promptIds: 'dec.prompt_ids',
  /** bool [P, K + Tp], 1 = real key (prefix ones, then the prompt mask). */
  promptKeyMask: 'dec.prompt_keymask',
  /** float32 [P, K + Tp, D] rotary cos / sin of the prompt pass. */
  promptCos: 'dec.prompt_cos',
  promptSin: 'dec.prompt_sin',
  /** int64 [R]: prompt of each completion row. */
  rowPrompt: 'dec.row_prompt',
  /** int64 [R, C - 1]: completion tokens 0..C-2 (the second pass; absent when C = 1). */
  compIds: 'dec.comp_ids',
  /** bool [R, K + Tp + C - 1]: the row's prompt keys, then its completion tokens 0..C-2. */
  compKeyMask: 'dec.comp_keymask',
  /** float32 [R, C - 1, D]. */
  compCos: 'dec.comp_cos',
  compSin: 'dec.comp_sin',
  /** int64 [R * C, 1]: the completion tokens to score (0 at padding). */
  targets: 'dec.targets',
  /** bool [R, C]: 1 for real completion tokens. */
  real: 'dec.real',
} as const;

/** Names of the prefill graph's inputs and outputs. */
export const PREFILL_IO = {
  promptIds: 'dec.prompt_ids',
  promptKeyMask: 'dec.prompt_keymask',
  promptCos: 'dec.prompt_cos',
  promptSin: 'dec.prompt_sin',
  /** float [P, K, hidden], present when K > 0. */
  prefix: 'dec.prefix',
  /** float [P, vocab]: logits of the last position. */
  logits: 'logits',
} as const;

/** Names of the decode-step graph's inputs and outputs. */
export const DECODE_IO = {
  /** int64 [B, 1]. */
  ids: 'dec.step_ids',
  /** float32 [B, 1, D]. */
  cos: 'dec.step_cos',
  sin: 'dec.step_sin',
  /** bool [B, Sp + Sg + 1]: the row's prompt slots, its generated slots, then the new token. */
  keyMask: 'dec.step_keymask',
  /** float [B, vocab]. */
  logits: 'logits',
} as const;

/**
 * prompt.{i}.key / .value (decode inputs: the prompts' keys/values), past.{i}.key / .value (decode inputs:
 * the generated tokens' keys/values) and present.{i}.key / .value (prefill and decode outputs).
 */
export function kvName(kind: 'prompt' | 'past' | 'present', layer: number, which: 'key' | 'value'): string {
  return `${kind}.${layer}.${which}`;
}

/** PEFT name of a LoRA matrix of a module (`model.layers.0.self_attn.q_proj`, `lm_head`). */
export function loraName(module: string, which: 'A' | 'B'): string {
  return `base_model.model.${module}.lora_${which}.weight`;
}

/** Round a length up to a multiple of `step` (at least `step`): the shape buckets of cached sessions. */
export function bucketLength(n: number, step = 8): number {
  if (!Number.isInteger(step) || step <= 0) throw new Error(`bucketLength: step must be a positive integer (got ${step})`);
  return Math.max(step, Math.ceil(n / step) * step);
}

/** The completion-graph sizes for a batch, prompt and completion widths rounded up with bucketLength. */
export function completionBucket(batch: { promptIds: number[][]; completionIds: number[][] }, step = 8): { Tp: number; C: number } {
  const Tp = bucketLength(Math.max(1, ...batch.promptIds.map((p) => p.length)), step);
  const C = bucketLength(Math.max(1, ...batch.completionIds.map((c) => c.length)), step);
  return { Tp, C };
}

// ---------------------------------------------------------------- the decoder stack on a graph

/** Rotary tables [B, T, 1, D] and the additive attention bias [B, 1, T, keys] of one pass. */
interface PassContext {
  cos: Value;
  sin: Value;
  bias: Value;
}

interface LayerKv {
  /** [B, nKv, keys, D] */
  k: Value;
  v: Value;
}

/** The caches one decode step reads per layer: its prompts' keys/values [P, nKv, Sp, D] and the rows' generated ones [B, nKv, Sg, D]. */
interface StepKv {
  prompt: LayerKv;
  generated: LayerKv;
}

/** The decoder's weights and layers as graph-building methods (one instance per graph). */
export class DecoderStack {
  private readonly cache = new Map<string, Value>();
  private readonly c: DecoderConfig;

  constructor(
    readonly g: Graph,
    config: DecoderConfig,
    private readonly weights: WeightSource,
    private readonly lora?: { spec: LoraSpec; source: WeightSource },
  ) {
    this.c = config;
    if (lora) {
      if (!Number.isInteger(lora.spec.rank) || lora.spec.rank <= 0) throw new Error(`LoRA rank must be a positive integer (got ${lora.spec.rank})`);
      if (lora.spec.targets.includes('lm_head') && config.tieWordEmbeddings) throw new Error('LoRA target lm_head needs untied embeddings (tieWordEmbeddings=false)');
    }
  }

  /** A weight from a source, asked once per name; its shape is checked. */
  private fetch(source: WeightSource, name: string, shape: readonly number[]): Value {
    let v = this.cache.get(name);
    if (!v) {
      v = source(name, shape);
      if (v.shape.join(',') !== shape.join(',')) throw new Error(`weight ${name}: the source gave ${v.name} of shape ${shapeText(v.shape)}, expected ${shapeText(shape)}`);
      if (v.dtype !== this.g.float) throw new Error(`weight ${name}: the source gave ${v.name} as ${v.dtype}, the graph computes in ${this.g.float}`);
      this.cache.set(name, v);
    }
    return v;
  }

  weight(name: string, shape: readonly number[]): Value {
    return this.fetch(this.weights, name, shape);
  }

  /** x [N, in] -> [N, out] = x W^T (+ b) (+ alpha/r x A^T B^T) for module `module` (HF name without `.weight`). */
  linear(x: Value, module: string, out: number, withBias: boolean): Value {
    const inF = x.shape[1];
    const w = this.weight(`${module}.weight`, [out, inF]);
    const b = withBias ? this.weight(`${module}.bias`, [out]) : undefined;
    let y = this.g.op('Gemm', b ? [x, w, b] : [x, w], { transB: attr.int(1) }); // [N, out]
    const short = module.split('.').pop() as LoraTarget;
    if (this.lora && this.lora.spec.targets.includes(short)) {
      const { rank, alpha } = this.lora.spec;
      const a = this.fetch(this.lora.source, loraName(module, 'A'), [rank, inF]);
      const bb = this.fetch(this.lora.source, loraName(module, 'B'), [out, rank]);
      const down = this.g.op('Gemm', [x, a], { transB: attr.int(1) }); // [N, r]
      const up = this.g.op('Gemm', [down, bb], { transB: attr.int(1), alpha: attr.float(alpha / rank) }); // [N, out]
      y = this.g.add(y, up);
    }
    return y;
  }

  /** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * w. */
  rmsNorm(x: Value, name: string): Value {
    const { g } = this;
    const w = this.weight(name, [this.c.hiddenSize]);
    const meanSq = g.reduceMean(g.mul(x, x), [-1], true);
    return g.mul(g.div(x, g.sqrt(g.add(meanSq, g.scalar(this.c.rmsNormEps)))), w);
  }

  /** Embedding lookup: ids int64 [B, T] -> [B, T, H]. */
  embed(ids: Value): Value {
    return this.g.gather(this.weight('model.embed_tokens.weight', [this.c.vocabSize, this.c.hiddenSize]), ids, 0);
  }

  /** LM head on final-normed states: [N, H] -> [N, V] (tied: the embedding matrix). */
  head(h: Value): Value {
    const { vocabSize: V, hiddenSize: H } = this.c;
    if (!this.c.tieWordEmbeddings) return this.linear(h, 'lm_head', V, false);
    return this.g.op('Gemm', [h, this.weight('model.embed_tokens.weight', [V, H])], { transB: attr.int(1) });
  }

  /** x [B, T, n, D] -> x cos + rotate_half(x) sin, rotate_half(x) = [-x2, x1]. */
  private rope(x: Value, ctx: PassContext): Value {
    const { g } = this;
    const D = this.c.headDim;
    const rotated = g.concat([g.neg(g.slice(x, 3, D / 2, D)), g.slice(x, 3, 0, D / 2)], 3);
    return g.add(g.mul(x, ctx.cos), g.mul(rotated, ctx.sin));
  }

  /** Self-attention of one layer: h [B*T, H] (normed) -> output [B*T, H] and this layer's keys/values over all keys. */
  private attention(layer: number, h: Value, B: number, T: number, ctx: PassContext, past?: LayerKv, step?: StepKv): { out: Value; kv: LayerKv } {
    const { g } = this;
    const { numHeads: nH, numKvHeads: nKv, headDim: D, attentionBias: withBias } = this.c;
    const p = `model.layers.${layer}.self_attn`;
    const q = this.rope(g.reshape(this.linear(h, `${p}.q_proj`, nH * D, withBias), [B, T, nH, D]), ctx); // [B, T, nH, D]
    const kNew = this.rope(g.reshape(this.linear(h, `${p}.k_proj`, nKv * D, withBias), [B, T, nKv, D]), ctx); // [B, T, nKv, D]
    const vNew = g.reshape(this.linear(h, `${p}.v_proj`, nKv * D, withBias), [B, T, nKv, D]);
    const grp = nH / nKv;
    // GQA without copying K/V: the grp query heads of one KV head are stacked along the query axis.
    const qs = g.reshape(g.transpose(g.mul(q, g.scalar(1 / Math.sqrt(D))), [0, 2, 1, 3]), [B, nKv, grp * T, D]);
    if (step) return this.cachedStepAttention(p, qs, kNew, vNew, step, ctx);
    let k = g.transpose(kNew, [0, 2, 1, 3]); // [B, nKv, T, D]
    let v = g.transpose(vNew, [0, 2, 1, 3]);
    if (past) {
      k = g.concat([past.k, k], 2); // [B, nKv, S, D]
      v = g.concat([past.v, v], 2);
    }
    const S = k.shape[2];
    const scores = g.reshape(g.matmul(qs, g.transposeLast(k)), [B, nH, T, S]); // [B, nH, T, S]
    const probs = g.reshape(g.softmax(g.add(scores, ctx.bias), -1), [B, nKv, grp * T, S]);
    const attn = g.reshape(g.matmul(probs, v), [B, nH, T, D]); // [B, nH, T, D]
    const merged = g.reshape(g.transpose(attn, [0, 2, 1, 3]), [B * T, nH * D]);
    return { out: this.linear(merged, `${p}.o_proj`, this.c.hiddenSize, false), kv: { k, v } };
  }

  /**
   * Attention of one new token per row (T = 1) over its prompt's cached keys, its own generated keys and
   * itself, without copying any cache: the three score blocks are joined (a small copy) before the
   * softmax and the output is the sum of the three probability-weighted value blocks. The rows of one
   * prompt are consecutive (row b reads prompt floor(b / G)), so the G rows of a prompt attend to its
   * keys in one product and the prompt cache is never copied per row. The same values as concatenating
   * the keys and values first (up to float rounding); kv holds only the new key/value [B, nKv, 1, D].
   */
  private cachedStepAttention(p: string, qs: Value, kNew: Value, vNew: Value, step: StepKv, ctx: PassContext): { out: Value; kv: LayerKv } {
    const { g } = this;
    const { numHeads: nH, numKvHeads: nKv, headDim: D } = this.c;
    const [B, , grp] = qs.shape;
    const [P, , Sp] = step.prompt.k.shape;
    const Sg = step.generated.k.shape[2];
    const G = B / P;
    // [B, 1, nKv, D] and [B, nKv, 1, D] have the same memory layout: reshapes, not transposes.
    const v = g.reshape(vNew, [B, nKv, 1, D]);
    const byPrompt = (x: Value) => (G === 1 ? x : g.reshape(g.transpose(g.reshape(x, [P, G, nKv, grp, x.shape[3]]), [0, 2, 1, 3, 4]), [P, nKv, G * grp, x.shape[3]]));
    const byRow = (x: Value) => (G === 1 ? x : g.reshape(g.transpose(g.reshape(x, [P, nKv, G, grp, x.shape[3]]), [0, 2, 1, 3, 4]), [B, nKv, grp, x.shape[3]]));
    const promptScores = byRow(g.matmul(byPrompt(qs), g.transposeLast(step.prompt.k))); // [B, nKv, grp, Sp]
    const generatedScores = g.matmul(qs, g.transposeLast(step.generated.k)); // [B, nKv, grp, Sg]
    const newScores = g.matmul(qs, g.reshape(kNew, [B, nKv, D, 1])); // [B, nKv, grp, 1]
    const W = Sp + Sg + 1;
    const scores = g.reshape(g.concat([promptScores, generatedScores, newScores], 3), [B, nH, 1, W]);
    const probs = g.reshape(g.softmax(g.add(scores, ctx.bias), -1), [B, nKv, grp, W]);
    const fromPrompt = byRow(g.matmul(byPrompt(g.slice(probs, 3, 0, Sp)), step.prompt.v)); // [B, nKv, grp, D]
    const fromGenerated = g.matmul(g.slice(probs, 3, Sp, Sp + Sg), step.generated.v);
    const fromNew = g.mul(g.slice(probs, 3, Sp + Sg, W), v); // [B, nKv, grp, 1] * [B, nKv, 1, D]
    const merged = g.reshape(g.add(g.add(fromPrompt, fromGenerated), fromNew), [B, nH * D]); // [B, nKv, grp, D] is [B, nH, 1, D]
    return { out: this.linear(merged, `${p}.o_proj`, this.c.hiddenSize, false), kv: { k: g.reshape(kNew, [B, nKv, 1, D]), v } };
  }

  /** One decoder layer: x [B, T, H] -> [B, T, H], plus its keys/values [B, nKv, keys, D]. */
  layer(i: number, x: Value, ctx: PassContext, past?: LayerKv, step?: StepKv): { x: Value; kv: LayerKv } {
    const { g } = this;
    const [B, T, H] = x.shape;
    const I = this.c.intermediateSize;
    const p = `model.layers.${i}`;
    const h = g.reshape(this.rmsNorm(x, `${p}.input_layernorm.weight`), [B * T, H]);
    const att = this.attention(i, h, B, T, ctx, past, step);
    const x1 = g.add(x, g.reshape(att.out, [B, T, H]));
    const h2 = g.reshape(this.rmsNorm(x1, `${p}.post_attention_layernorm.weight`), [B * T, H]);
    const gate = this.linear(h2, `${p}.mlp.gate_proj`, I, false); // [B*T, I]
    const act = g.mul(g.mul(gate, g.op('Sigmoid', [gate])), this.linear(h2, `${p}.mlp.up_proj`, I, false)); // silu(gate) * up
    const out = g.add(x1, g.reshape(this.linear(act, `${p}.mlp.down_proj`, H, false), [B, T, H]));
    return { x: out, kv: att.kv };
  }

  /**
   * Every layer: x [B, T, H] -> last [B, T, H] and each layer's keys/values. `past`: keys/values before
   * these tokens, per row; `step` (a one-token decode step instead): the prompt and generated caches.
   */
  stack(x: Value, ctx: PassContext, past?: readonly LayerKv[], step?: readonly StepKv[]): { last: Value; kv: LayerKv[] } {
    const kv: LayerKv[] = [];
    let h = x;
    for (let i = 0; i < this.c.numLayers; i++) {
      const out = this.layer(i, h, ctx, past?.[i], step?.[i]);
      h = out.x;
      kv.push(out.kv);
    }
    return { last: h, kv };
  }
}

/**
 * Inputs of one pass (rotary cos/sin [B, T, D] and the key mask [B, keys], fed under `names`) and the
 * attention bias they imply: query t (absolute index queryStart + t) sees key s when s <= queryStart + t
 * and the key is real (bias 0), otherwise MASKED_SCORE, as attentionBias in src/models/decoder-batch.ts.
 */
export function passContext(g: Graph, config: DecoderConfig, names: { cos: string; sin: string; keyMask: string }, B: number, T: number, keys: number, queryStart: number): PassContext {
  const D = config.headDim;
  const table = (name: string) => g.unsqueeze(g.cast(g.input(name, 'float32', [B, T, D]), g.float), [2]); // [B, T, 1, D]
  const keyMask = g.input(names.keyMask, 'bool', [B, keys]);
  const causal: boolean[] = [];
  for (let t = 0; t < T; t++) for (let s = 0; s < keys; s++) causal.push(s <= queryStart + t);
  const visible = g.op('And', [g.unsqueeze(keyMask, [1, 2]), g.bools(causal, [T, keys])]); // [B, 1, T, keys]
  return { cos: table(names.cos), sin: table(names.sin), bias: g.where(visible, g.scalar(0), g.scalar(MASKED_SCORE)) };
}

// ---------------------------------------------------------------- completion scores

/**
 * log p(completion[t] | prefix, prompt, completion[<t]) [R, C] (and the predictive entropy [R, C] when
 * spec.entropy), exactly +0 at padding: each distinct prompt (prefix + left-padded prompt) runs once,
 * its keys/values are gathered to its rows, and a second pass runs over completion tokens 0..C-2.
 * `prefix` [P, K, hidden] is a value of the same graph (gradients flow into it).
 */
export function completionScoresGraph(g: Graph, spec: CompletionSpec, weights: WeightSource, lora?: WeightSource, prefix?: Value): { logp: Value; entropy?: Value } {
  const { config: c, P, Tp, K, R, C } = spec;
  checkCompletionSpec(spec, prefix);
  if (spec.lora && !lora) throw new Error('completionScoresGraph: spec.lora is set but no LoRA weight source was given');
  const dec = new DecoderStack(g, c, weights, spec.lora && lora ? { spec: spec.lora, source: lora } : undefined);
  const I = COMPLETION_INPUTS;
  const S = K + Tp;
  let x = dec.embed(g.input(I.promptIds, 'int64', [P, Tp])); // [P, Tp, H]
  if (prefix) x = g.concat([prefix, x], 1); // [P, S, H]
  const first = dec.stack(x, passContext(g, c, { cos: I.promptCos, sin: I.promptSin, keyMask: I.promptKeyMask }, P, S, S, 0));
  const rows = g.input(I.rowPrompt, 'int64', [R]);
  let h = g.gather(g.slice(first.last, 1, S - 1, S), rows, 0); // [R, 1, H]: predicts completion[0]
  if (C > 1) {
    const past = first.kv.map((kv) => ({ k: g.gather(kv.k, rows, 0), v: g.gather(kv.v, rows, 0) })); // [R, nKv, S, D]
    const ctx = passContext(g, c, { cos: I.compCos, sin: I.compSin, keyMask: I.compKeyMask }, R, C - 1, S + C - 1, S);
    const second = dec.stack(dec.embed(g.input(I.compIds, 'int64', [R, C - 1])), ctx, past); // [R, C-1, H]
    h = g.concat([h, second.last], 1); // [R, C, H]
  }
  return tokenScores(g, dec, h, spec);
}

function checkCompletionSpec(spec: CompletionSpec, prefix?: Value): void {
  const { config: c, P, Tp, K, R, C } = spec;
  for (const [k, v] of Object.entries({ P, Tp, R, C })) if (!Number.isInteger(v) || v < 1) throw new Error(`completion spec: ${k} must be a positive integer (got ${v})`);
  if (!Number.isInteger(K) || K < 0) throw new Error(`completion spec: K must be a non-negative integer (got ${K})`);
  if (prefix && prefix.shape.join(',') !== [P, K, c.hiddenSize].join(',')) throw new Error(`completionScoresGraph: prefix ${prefix.name} has shape ${shapeText(prefix.shape)}, expected [P, K, hidden] = ${shapeText([P, K, c.hiddenSize])}`);
  if (!prefix && K !== 0) throw new Error(`completionScoresGraph: spec.K = ${K} but no prefix value was given`);
}

/** Log-probs of the target tokens and entropies from hidden states h [R, C, H]; +0 at padding. */
export function tokenScores(g: Graph, dec: DecoderStack, h: Value, spec: Pick<CompletionSpec, 'config' | 'R' | 'C' | 'entropy'>): { logp: Value; entropy?: Value } {
  const { R, C } = spec;
  const H = spec.config.hiddenSize;
  const logits = dec.head(g.reshape(dec.rmsNorm(h, 'model.norm.weight'), [R * C, H])); // [R*C, V]
  const ls = g.logSoftmax(logits, -1); // [R*C, V]
  const targets = g.input(COMPLETION_INPUTS.targets, 'int64', [R * C, 1]);
  const real = g.input(COMPLETION_INPUTS.real, 'bool', [R, C]);
  const zero = g.scalar(0);
  const picked = g.reshape(g.op('GatherElements', [ls, targets], { axis: attr.int(1) }), [R, C]);
  const logp = g.where(real, picked, zero); // [R, C]
  if (!spec.entropy) return { logp };
  const ent = g.reshape(g.neg(g.reduceSum(g.mul(g.exp(ls), ls), [1], false)), [R, C]); // -sum p log p
  return { logp, entropy: g.where(real, ent, zero) };
}

// ---------------------------------------------------------------- whole sequences (supervised training)

/** Names of the fed inputs of the sequence graph (targets and real mask as in COMPLETION_INPUTS). */
export const SEQUENCE_INPUTS = { ids: 'dec.seq_ids', keyMask: 'dec.seq_keymask', cos: 'dec.seq_cos', sin: 'dec.seq_sin' } as const;

/**
 * log p(seq[t] | BOS, seq[<t]) [R, C] of right-padded sequences in one pass over [BOS, seq[0..C-2]]:
 * the same values as completionScoresGraph with a one-token (BOS) prompt, without its separate prompt
 * pass (half the nodes of a small graph, where the per-node cost bounds a step).
 */
export function sequenceScoresGraph(g: Graph, spec: { config: DecoderConfig; R: number; C: number }, weights: WeightSource): { logp: Value } {
  const { config: c, R, C } = spec;
  const dec = new DecoderStack(g, c, weights);
  const I = SEQUENCE_INPUTS;
  const x = dec.embed(g.input(I.ids, 'int64', [R, C])); // [R, C, H]
  const run = dec.stack(x, passContext(g, c, { cos: I.cos, sin: I.sin, keyMask: I.keyMask }, R, C, C, 0));
  return tokenScores(g, dec, run.last, { config: c, R, C, entropy: false });
}

/** Feeds of sequenceScoresGraph: [BOS, seq...] inputs, key mask, rotary tables, targets and real mask. */
export function sequenceFeeds(config: DecoderConfig, C: number, bosId: number, sequences: readonly (readonly number[])[]): Record<string, TypedArray> {
  checkIds(config, sequences, 'sequences');
  sequences.forEach((row, r) => {
    if (row.length > C) throw new Error(`sequenceFeeds: sequence ${r} has ${row.length} tokens, more than the graph's padded width C = ${C}`);
  });
  const padded = sequences.map((row) => [...row, ...new Array<number>(C - row.length).fill(0)]);
  const real = sequences.map((row) => Array.from({ length: C }, (_, t) => (t < row.length ? 1 : 0)));
  const inputs = padded.map((row) => [bosId, ...row.slice(0, C - 1)]);
  // Input t (BOS, then seq[t-1]) is real when seq[t] is: its key mask is the target mask.
  const { cos, sin } = ropeFeeds(config, real.map(positionIdsOf));
  const I = SEQUENCE_INPUTS;
  return { [I.ids]: int64Of(inputs), [I.keyMask]: boolOf(real), [I.cos]: cos, [I.sin]: sin, [COMPLETION_INPUTS.targets]: int64Of(padded), [COMPLETION_INPUTS.real]: boolOf(real) };
}

// ---------------------------------------------------------------- host feeds

/** Rotary cos/sin [B, T, D] for position ids [B][T] (float64 angles, as TfDecoder). */
export function ropeFeeds(config: DecoderConfig, positions: readonly (readonly number[])[]): { cos: Float32Array; sin: Float32Array } {
  const { cos, sin } = new RopeTable(config.headDim, config.ropeTheta, ropeInvFreq(config)).cosSin(positions);
  return { cos, sin };
}

/** [K ones][left padding zeros][ones] rows of width K + Tp. */
export function promptKeyMask(promptIds: readonly (readonly number[])[], K: number, Tp: number): number[][] {
  return promptIds.map((p, i) => {
    if (p.length > Tp) throw new Error(`prompt ${i} has ${p.length} tokens, more than the graph's padded width Tp = ${Tp}`);
    return [...new Array<number>(K).fill(1), ...new Array<number>(Tp - p.length).fill(0), ...new Array<number>(p.length).fill(1)];
  });
}

export function int64Of(rows: readonly (readonly number[])[]): BigInt64Array {
  const out = new BigInt64Array(rows.reduce((a, r) => a + r.length, 0));
  let k = 0;
  for (const row of rows) for (const v of row) out[k++] = BigInt(v);
  return out;
}

export function boolOf(rows: readonly (readonly number[])[]): Uint8Array {
  const out = new Uint8Array(rows.reduce((a, r) => a + r.length, 0));
  let k = 0;
  for (const row of rows) for (const v of row) out[k++] = v ? 1 : 0;
  return out;
}

/** Prompt-pass feeds shared by the completion and prefill graphs: ids left-padded with padId, key mask, cos/sin. */
export function promptFeeds(config: DecoderConfig, promptIds: readonly (readonly number[])[], K: number, Tp: number, padId = 0): { feeds: Record<string, TypedArray>; mask: number[][] } {
  checkIds(config, promptIds, 'promptIds');
  const mask = promptKeyMask(promptIds, K, Tp);
  const ids = promptIds.map((p) => [...new Array<number>(Tp - p.length).fill(padId), ...p]);
  const { cos, sin } = ropeFeeds(config, mask.map(positionIdsOf));
  const I = COMPLETION_INPUTS;
  return { feeds: { [I.promptIds]: int64Of(ids), [I.promptKeyMask]: boolOf(mask), [I.promptCos]: cos, [I.promptSin]: sin }, mask };
}

/**
 * The fed inputs of completionScoresGraph for a batch (prompts per distinct prompt, completions per row,
 * rowPrompt[r] = prompt of row r), padded to the spec's Tp and C.
 */
export function completionFeeds(spec: CompletionSpec, batch: { promptIds: number[][]; completionIds: number[][]; rowPrompt: readonly number[] }): Record<string, TypedArray> {
  const { config: c, P, Tp, K, R, C } = spec;
  const { promptIds, completionIds, rowPrompt } = batch;
  if (promptIds.length !== P) throw new Error(`completionFeeds: ${promptIds.length} prompts, the graph has P = ${P}`);
  if (completionIds.length !== R || rowPrompt.length !== R) throw new Error(`completionFeeds: ${completionIds.length} completions and ${rowPrompt.length} rowPrompt entries, the graph has R = ${R}`);
  promptIds.forEach((p, i) => {
    if (p.length === 0) throw new Error(`completionFeeds: prompt ${i} is empty; every completion needs at least one prompt token before it`);
  });
  rowPrompt.forEach((p, r) => {
    if (!Number.isInteger(p) || p < 0 || p >= P) throw new Error(`completionFeeds: rowPrompt[${r}] = ${p} is not a prompt index in 0..${P - 1}`);
  });
  completionIds.forEach((row, r) => {
    if (row.length > C) throw new Error(`completionFeeds: completion ${r} has ${row.length} tokens, more than the graph's padded width C = ${C}`);
  });
  checkIds(c, completionIds, 'completionIds');
  const { feeds, mask: pMask } = promptFeeds(c, promptIds, K, Tp);
  const I = COMPLETION_INPUTS;
  const padded = completionIds.map((row) => [...row, ...new Array<number>(C - row.length).fill(0)]);
  const real = completionIds.map((row) => Array.from({ length: C }, (_, t) => (t < row.length ? 1 : 0)));
  feeds[I.rowPrompt] = int64Of([rowPrompt]);
  feeds[I.targets] = int64Of(padded);
  feeds[I.real] = boolOf(real);
  if (C > 1) {
    const keyMask = rowPrompt.map((p, r) => [...pMask[p], ...real[r].slice(0, C - 1)]); // [R, S + C - 1]
    const S = K + Tp;
    const { cos, sin } = ropeFeeds(c, keyMask.map((m) => positionIdsOf(m).slice(S)));
    feeds[I.compIds] = int64Of(padded.map((row) => row.slice(0, C - 1)));
    feeds[I.compKeyMask] = boolOf(keyMask);
    feeds[I.compCos] = cos;
    feeds[I.compSin] = sin;
  }
  return feeds;
}

export function checkIds(c: DecoderConfig, ids: readonly (readonly number[])[], what: string): void {
  ids.forEach((row, b) =>
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`${what}[${b}][${t}] = ${id} is outside the vocabulary [0, ${c.vocabSize})`);
    }),
  );
}

// ---------------------------------------------------------------- sampling graphs

export interface PrefillSpec {
  config: DecoderConfig;
  P: number;
  Tp: number;
  K: number;
  lora?: LoraSpec;
}

/**
 * Prefill of P prompts of padded width Tp after K prefix tokens (input dec.prefix [P, K, H] when K > 0):
 * outputs `logits` [P, V] of the last position and present.{i}.key / .value [P, nKv, K + Tp, D].
 */
export function prefillGraph(g: Graph, spec: PrefillSpec, weights: WeightSource, lora?: WeightSource): void {
  const { config: c, P, Tp, K } = spec;
  const S = K + Tp;
  const dec = new DecoderStack(g, c, weights, spec.lora && lora ? { spec: spec.lora, source: lora } : undefined);
  let x = dec.embed(g.input(PREFILL_IO.promptIds, 'int64', [P, Tp])); // [P, Tp, H]
  if (K > 0) x = g.concat([g.floatInput(PREFILL_IO.prefix, [P, K, c.hiddenSize]), x], 1); // [P, S, H]
  const run = dec.stack(x, passContext(g, c, { cos: PREFILL_IO.promptCos, sin: PREFILL_IO.promptSin, keyMask: PREFILL_IO.promptKeyMask }, P, S, S, 0));
  const last = g.reshape(g.slice(run.last, 1, S - 1, S), [P, c.hiddenSize]);
  g.output(dec.head(dec.rmsNorm(last, 'model.norm.weight')), PREFILL_IO.logits);
  run.kv.forEach((kv, i) => {
    g.output(kv.k, kvName('present', i, 'key'));
    g.output(kv.v, kvName('present', i, 'value'));
  });
}

export interface DecodeSpec {
  config: DecoderConfig;
  /** Rows. */
  B: number;
  /** Distinct prompts (B a multiple of P): row b continues prompt floor(b / (B / P)). */
  P: number;
  /** Prompt key slots (prefix + padded prompt). */
  Sp: number;
  /** Generated-token key slots before the new token (cache capacity), >= 1. */
  Sg: number;
  lora?: LoraSpec;
}

/**
 * One KV-cached decode step over fixed-capacity caches: inputs dec.step_ids [B, 1], cos/sin [B, 1, D],
 * key mask [B, Sp + Sg + 1] (the row's prompt slots, its generated slots, then the new token),
 * prompt.{i}.key / .value [P, nKv, Sp, D] (the prefill's present outputs, shared by each prompt's rows)
 * and past.{i}.key / .value [B, nKv, Sg, D] (the generated tokens so far); outputs `logits` [B, V] and
 * present.{i}.key / .value [B, nKv, 1, D] (this step's keys/values, for the caller to write into its cache).
 */
export function decodeStepGraph(g: Graph, spec: DecodeSpec, weights: WeightSource, lora?: WeightSource): void {
  const { config: c, B, P, Sp, Sg } = spec;
  const { numKvHeads: nKv, headDim: D } = c;
  for (const [k, v] of Object.entries({ B, P, Sp, Sg })) if (!Number.isInteger(v) || v < 1) throw new Error(`decode spec: ${k} must be a positive integer (got ${v})`);
  if (B % P !== 0) throw new Error(`decode spec: B = ${B} rows is not a multiple of P = ${P} prompts`);
  const dec = new DecoderStack(g, c, weights, spec.lora && lora ? { spec: spec.lora, source: lora } : undefined);
  const cache = (kind: 'prompt' | 'past', i: number, rows: number, slots: number) => ({ k: g.floatInput(kvName(kind, i, 'key'), [rows, nKv, slots, D]), v: g.floatInput(kvName(kind, i, 'value'), [rows, nKv, slots, D]) });
  const step = Array.from({ length: c.numLayers }, (_, i) => ({ prompt: cache('prompt', i, P, Sp), generated: cache('past', i, B, Sg) }));
  const x = dec.embed(g.input(DECODE_IO.ids, 'int64', [B, 1])); // [B, 1, H]
  const keys = Sp + Sg + 1;
  const run = dec.stack(x, passContext(g, c, { cos: DECODE_IO.cos, sin: DECODE_IO.sin, keyMask: DECODE_IO.keyMask }, B, 1, keys, keys - 1), undefined, step);
  g.output(dec.head(dec.rmsNorm(g.reshape(run.last, [B, c.hiddenSize]), 'model.norm.weight')), DECODE_IO.logits);
  run.kv.forEach((kv, i) => {
    g.output(kv.k, kvName('present', i, 'key'));
    g.output(kv.v, kvName('present', i, 'value'));
  });
}

/** Every LoRA matrix a spec asks for: PEFT name -> shape (A [r, in], B [out, r]), in a stable order. */
export function loraShapes(c: DecoderConfig, spec: LoraSpec): Map<string, number[]> {
  const { hiddenSize: H, intermediateSize: I, headDim: D } = c;
  const dims: Record<LoraTarget, [number, number]> = {
    q_proj: [H, c.numHeads * D],
    k_proj: [H, c.numKvHeads * D],
    v_proj: [H, c.numKvHeads * D],
    o_proj: [c.numHeads * D, H],
    gate_proj: [H, I],
    up_proj: [H, I],
    down_proj: [I, H],
    lm_head: [H, c.vocabSize],
  };
  const out = new Map<string, number[]>();
  const add = (module: string, t: LoraTarget) => {
    if (!spec.targets.includes(t)) return;
    const [inF, outF] = dims[t];
    out.set(loraName(module, 'A'), [spec.rank, inF]);
    out.set(loraName(module, 'B'), [outF, spec.rank]);
  };
  for (let i = 0; i < c.numLayers; i++) {
    for (const t of ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const) add(`model.layers.${i}.self_attn.${t}`, t);
    for (const t of ['gate_proj', 'up_proj', 'down_proj'] as const) add(`model.layers.${i}.mlp.${t}`, t);
  }
  if (!c.tieWordEmbeddings) add('lm_head', 'lm_head');
  return out;
}
