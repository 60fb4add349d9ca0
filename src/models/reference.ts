// Reference forward pass of the Llama-family decoder in plain TypeScript, float64 arithmetic, one
// sequence and one position at a time: the oracle that the tfjs decoder and the ONNX export are tested
// against. Written to be read next to src/models/decoder-config.ts, not to be fast.
//
// Masking convention (all implementations must agree on it):
//  - Key s is visible to query t when s <= t (causal) and attentionMask[s] === 1. Only keys are masked;
//    every position, padding included, is computed with the same formulas.
//  - A query with no visible key (a left-padding position: every key up to it is padding) attends
//    uniformly to all T positions of its row. This is what a softmax gives when every score of the row
//    is replaced by the same large negative value (float32 -1e9), and what HF eager attention gives.
//  - Positions: position_ids = cumsum(attentionMask) - 1, clamped at 0 (pad positions on the left get 0).
// Outputs at padding positions are therefore defined and deterministic, but meaningless: pool over real
// tokens only.

import { type DecoderConfig, type DecoderWeights, checkWeights, ropeInvFreq } from './decoder-config.js';

export interface ReferenceInputs {
  /** Token ids [batch][seq]; give either this or inputsEmbeds. */
  inputIds?: number[][];
  /** Input embeddings [batch][seq][hidden], used instead of the embedding lookup (soft prefix tokens). */
  inputsEmbeds?: number[][][];
  /** 1 = real token, 0 = padding; [batch][seq]. */
  attentionMask: number[][];
}

export interface ReferenceOutputs {
  /** [batch][seq] -> Float64Array(vocab) */
  logits: Float64Array[][];
  /** [numLayers + 1][batch][seq] -> Float64Array(hidden); 0 = embeddings, i = output of layer i (before the final norm). */
  hiddenStates: Float64Array[][][];
  /** [batch][seq] -> Float64Array(hidden): hiddenStates[numLayers] after the final RMSNorm. */
  finalHidden: Float64Array[][];
}

/** Position ids for one row: cumsum(mask) - 1, clamped at 0. */
export function positionIds(mask: readonly number[]): number[] {
  let sum = 0;
  return mask.map((m) => {
    sum += m;
    return Math.max(sum - 1, 0);
  });
}

export function referenceForward(config: DecoderConfig, weights: DecoderWeights, inputs: ReferenceInputs): ReferenceOutputs {
  checkWeights(config, weights, 'reference forward weights');
  const { inputIds, inputsEmbeds, attentionMask } = inputs;
  if ((inputIds === undefined) === (inputsEmbeds === undefined)) throw new Error('referenceForward: give exactly one of inputIds and inputsEmbeds');
  const batch = attentionMask.length;
  const rows = (inputIds ?? inputsEmbeds) as unknown[][];
  if (rows.length !== batch) throw new Error(`referenceForward: ${rows.length} input rows but ${batch} attention-mask rows`);

  const hiddenStates: Float64Array[][][] = Array.from({ length: config.numLayers + 1 }, () => []);
  const finalHidden: Float64Array[][] = [];
  const logits: Float64Array[][] = [];
  for (let b = 0; b < batch; b++) {
    const mask = attentionMask[b];
    const seq = mask.length;
    if (rows[b].length !== seq) throw new Error(`referenceForward: row ${b} has ${rows[b].length} inputs but ${seq} mask entries`);
    for (const m of mask) if (m !== 0 && m !== 1) throw new Error(`referenceForward: attention mask row ${b} holds ${m}; only 0 and 1 are allowed`);

    // [seq][hidden]
    let x: Float64Array[] = inputIds ? inputIds[b].map((id) => embed(config, weights, id)) : inputsEmbeds![b].map((e, t) => vectorOf(e, config.hiddenSize, `inputsEmbeds[${b}][${t}]`));
    hiddenStates[0].push(x);
    const pos = positionIds(mask);
    for (let layer = 0; layer < config.numLayers; layer++) {
      x = decoderLayer(config, weights, layer, x, mask, pos);
      hiddenStates[layer + 1].push(x);
    }
    const normed = x.map((h) => rmsNorm(h, w(weights, 'model.norm.weight'), config.rmsNormEps));
    finalHidden.push(normed);
    const head = config.tieWordEmbeddings ? w(weights, 'model.embed_tokens.weight') : w(weights, 'lm_head.weight');
    logits.push(normed.map((h) => linear(h, head, config.vocabSize, config.hiddenSize)));
  }
  return { logits, hiddenStates, finalHidden };
}

/** One decoder layer on one sequence. x: [seq][hidden] -> [seq][hidden]. */
function decoderLayer(c: DecoderConfig, weights: DecoderWeights, layer: number, x: Float64Array[], mask: readonly number[], pos: readonly number[]): Float64Array[] {
  const p = `model.layers.${layer}`;
  const seq = x.length;
  const D = c.headDim;
  const qDim = c.numHeads * D;
  const kvDim = c.numKvHeads * D;
  const groupSize = c.numHeads / c.numKvHeads; // query heads per KV head
  const bias = (name: string) => (c.attentionBias ? w(weights, `${p}.self_attn.${name}.bias`) : undefined);
  const invFreq = c.ropeScaling ? ropeInvFreq(c) : undefined;

  // Attention block: h = RMSNorm(x); q, k, v projections; RoPE on q and k.
  const h = x.map((v) => rmsNorm(v, w(weights, `${p}.input_layernorm.weight`), c.rmsNormEps)); // [seq][hidden]
  const q = h.map((v, t) => applyRope(linear(v, w(weights, `${p}.self_attn.q_proj.weight`), qDim, c.hiddenSize, bias('q_proj')), c.numHeads, D, pos[t], c.ropeTheta, invFreq)); // [seq][numHeads*D]
  const k = h.map((v, t) => applyRope(linear(v, w(weights, `${p}.self_attn.k_proj.weight`), kvDim, c.hiddenSize, bias('k_proj')), c.numKvHeads, D, pos[t], c.ropeTheta, invFreq)); // [seq][numKvHeads*D]
  const vv = h.map((v) => linear(v, w(weights, `${p}.self_attn.v_proj.weight`), kvDim, c.hiddenSize, bias('v_proj'))); // [seq][numKvHeads*D]

  const attnOut: Float64Array[] = []; // [seq][numHeads*D]
  for (let t = 0; t < seq; t++) {
    const out = new Float64Array(qDim);
    for (let head = 0; head < c.numHeads; head++) {
      const g = Math.floor(head / groupSize); // the KV head serving this query head
      const visible = Array.from({ length: seq }, (_, s) => s <= t && mask[s] === 1);
      const probs = new Float64Array(seq);
      if (visible.some(Boolean)) {
        const scores = Array.from({ length: seq }, (_, s) => (visible[s] ? dot(q[t], head * D, k[s], g * D, D) / Math.sqrt(D) : -Infinity));
        const max = Math.max(...scores);
        let total = 0;
        for (let s = 0; s < seq; s++) total += probs[s] = visible[s] ? Math.exp(scores[s] - max) : 0;
        for (let s = 0; s < seq; s++) probs[s] /= total;
      } else {
        probs.fill(1 / seq); // no visible key: uniform over the row (see the header comment)
      }
      for (let s = 0; s < seq; s++) for (let d = 0; d < D; d++) out[head * D + d] += probs[s] * vv[s][g * D + d];
    }
    attnOut.push(out);
  }
  const afterAttn = x.map((v, t) => add(v, linear(attnOut[t], w(weights, `${p}.self_attn.o_proj.weight`), c.hiddenSize, qDim))); // [seq][hidden]

  // MLP block: x + down(silu(gate(h2)) * up(h2)), h2 = RMSNorm(x).
  return afterAttn.map((v) => {
    const h2 = rmsNorm(v, w(weights, `${p}.post_attention_layernorm.weight`), c.rmsNormEps);
    const gate = linear(h2, w(weights, `${p}.mlp.gate_proj.weight`), c.intermediateSize, c.hiddenSize);
    const up = linear(h2, w(weights, `${p}.mlp.up_proj.weight`), c.intermediateSize, c.hiddenSize);
    const act = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]); // silu(gate) * up
    return add(v, linear(act, w(weights, `${p}.mlp.down_proj.weight`), c.hiddenSize, c.intermediateSize));
  });
}

/**
 * Rotary embedding ("rotate_half" convention) of a vector of `heads` heads of width D at position `pos`:
 * out = x * cos + rotate_half(x) * sin, with angle_d = pos * theta^(-2 (d mod D/2) / D) and
 * rotate_half(x) = [-x[D/2:], x[:D/2]] per head.
 */
export function applyRope(x: Float64Array, heads: number, D: number, pos: number, theta: number, invFreq?: Float64Array): Float64Array {
  const half = D / 2;
  const out = new Float64Array(x.length);
  for (let hd = 0; hd < heads; hd++) {
    const o = hd * D;
    for (let d = 0; d < D; d++) {
      const j = d % half;
      const angle = pos * (invFreq ? invFreq[j] : Math.pow(theta, (-2 * j) / D));
      const rotated = d < half ? -x[o + d + half] : x[o + d - half];
      out[o + d] = x[o + d] * Math.cos(angle) + rotated * Math.sin(angle);
    }
  }
  return out;
}

/** y = x / sqrt(mean(x^2) + eps) * weight */
export function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * scale * weight[i]);
}

/** y = W x (+ b), W stored [out, in] row-major. */
function linear(x: Float64Array, W: Float32Array, out: number, inp: number, b?: Float32Array): Float64Array {
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let acc = b ? b[o] : 0;
    const row = o * inp;
    for (let i = 0; i < inp; i++) acc += W[row + i] * x[i];
    y[o] = acc;
  }
  return y;
}

function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
  return s;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v + b[i]);
}

function embed(c: DecoderConfig, weights: DecoderWeights, id: number): Float64Array {
  if (!Number.isInteger(id) || id < 0 || id >= c.vocabSize) throw new Error(`referenceForward: token id ${id} is outside the vocabulary [0, ${c.vocabSize})`);
  const table = w(weights, 'model.embed_tokens.weight');
  return Float64Array.from(table.subarray(id * c.hiddenSize, (id + 1) * c.hiddenSize));
}

function vectorOf(v: readonly number[], n: number, what: string): Float64Array {
  if (v.length !== n) throw new Error(`referenceForward: ${what} has ${v.length} values, expected hiddenSize ${n}`);
  return Float64Array.from(v);
}

function w(weights: DecoderWeights, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new Error(`referenceForward: missing weight ${name}`);
  return t.data;
}
