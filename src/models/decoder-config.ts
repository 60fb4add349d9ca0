// The architecture description and weight layout shared by every implementation of the Llama-family
// decoder in this project: the tfjs model (trainable policy, tiny experts), the plain-TypeScript
// reference forward (the oracle tests compare against), and the ONNX exporter.
//
// Weight names and shapes follow Hugging Face `LlamaForCausalLM` exactly, so that safetensors of real
// Llama / Qwen2 / SmolLM checkpoints load without renaming. Linear weights are stored [out, in]
// (y = x W^T), row-major float32.
//
//   model.embed_tokens.weight                      [vocabSize, hiddenSize]
//   model.layers.{i}.input_layernorm.weight        [hiddenSize]
//   model.layers.{i}.self_attn.q_proj.weight       [numHeads * headDim, hiddenSize]
//   model.layers.{i}.self_attn.k_proj.weight       [numKvHeads * headDim, hiddenSize]
//   model.layers.{i}.self_attn.v_proj.weight       [numKvHeads * headDim, hiddenSize]
//   model.layers.{i}.self_attn.{q,k,v}_proj.bias   [out]   (only when attentionBias, e.g. Qwen2)
//   model.layers.{i}.self_attn.o_proj.weight       [hiddenSize, numHeads * headDim]
//   model.layers.{i}.post_attention_layernorm.weight [hiddenSize]
//   model.layers.{i}.mlp.gate_proj.weight          [intermediateSize, hiddenSize]
//   model.layers.{i}.mlp.up_proj.weight            [intermediateSize, hiddenSize]
//   model.layers.{i}.mlp.down_proj.weight          [hiddenSize, intermediateSize]
//   model.norm.weight                              [hiddenSize]
//   lm_head.weight                                 [vocabSize, hiddenSize]  (absent when tieWordEmbeddings)
//
// Semantics (HF Llama): RMSNorm y = x / sqrt(mean(x^2) + eps) * w; rotary embeddings in the
// "rotate_half" convention (the head dim split into two halves, inv_freq_j = theta^(-2j/headDim));
// grouped-query attention (each KV head serves numHeads / numKvHeads query heads); causal mask plus the
// attention mask (padding); SwiGLU MLP down(silu(gate(x)) * up(x)).
// Positions: position_ids = cumsum(attention_mask) - 1, clamped at 0, so left padding works.
//
// Hidden states: hiddenStates[0] is the embedding output, hiddenStates[i] (1 <= i <= numLayers) the
// output of decoder layer i (before the final norm), exactly as HF `output_hidden_states=True` except
// that HF replaces the last entry with the normed output; here the final-normed state is separate
// (`finalHidden`). Layer index -1 means hiddenStates[numLayers].

export interface DecoderConfig {
  /** Architecture family, for cards and loaders: 'llama' | 'qwen2' | 'musketeers-tiny'. */
  family: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Per-head width; HF default hiddenSize / numHeads. */
  headDim: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2). */
  attentionBias: boolean;
  maxPositionEmbeddings: number;
  /** Rotary frequency scaling (Llama 3.1+ `rope_scaling` with rope_type llama3); absent = plain RoPE. */
  ropeScaling?: RopeScaling;
}

/** Llama 3's frequency-dependent RoPE scaling, with transformers' names in camelCase. */
export interface RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

/**
 * Rotary inverse frequencies inv_freq_j = theta^(-2j/headDim), j < headDim/2, in float64, with Llama 3
 * scaling when configured: wavelengths 2 pi / inv_freq longer than original/lowFreqFactor are divided
 * by `factor`, shorter than original/highFreqFactor kept, and those between interpolated with
 * s = (original / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor):
 * (1 - s) * inv_freq / factor + s * inv_freq. Every implementation (tfjs, reference, ONNX) uses this.
 */
export function ropeInvFreq(c: Pick<DecoderConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const D = c.headDim;
  const inv = Float64Array.from({ length: D / 2 }, (_, j) => Math.pow(c.ropeTheta, (-2 * j) / D));
  const r = c.ropeScaling;
  if (!r) return inv;
  const lowWavelen = r.originalMaxPositionEmbeddings / r.lowFreqFactor;
  const highWavelen = r.originalMaxPositionEmbeddings / r.highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / r.factor;
    const smooth = (r.originalMaxPositionEmbeddings / wavelen - r.lowFreqFactor) / (r.highFreqFactor - r.lowFreqFactor);
    return (1 - smooth) * (f / r.factor) + smooth * f;
  });
}

/** A named float32 tensor, row-major. */
export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

export type DecoderWeights = Map<string, NamedTensor>;

export function decoderConfig(partial: Partial<DecoderConfig> & Pick<DecoderConfig, 'vocabSize' | 'hiddenSize' | 'numLayers' | 'numHeads'>): DecoderConfig {
  const numKvHeads = partial.numKvHeads ?? partial.numHeads;
  const config: DecoderConfig = {
    family: partial.family ?? 'musketeers-tiny',
    vocabSize: partial.vocabSize,
    hiddenSize: partial.hiddenSize,
    intermediateSize: partial.intermediateSize ?? partial.hiddenSize * 4,
    numLayers: partial.numLayers,
    numHeads: partial.numHeads,
    numKvHeads,
    headDim: partial.headDim ?? partial.hiddenSize / partial.numHeads,
    ropeTheta: partial.ropeTheta ?? 10000,
    rmsNormEps: partial.rmsNormEps ?? 1e-6,
    tieWordEmbeddings: partial.tieWordEmbeddings ?? true,
    attentionBias: partial.attentionBias ?? false,
    maxPositionEmbeddings: partial.maxPositionEmbeddings ?? 512,
  };
  if (partial.ropeScaling) config.ropeScaling = partial.ropeScaling;
  validateDecoderConfig(config);
  return config;
}

export function validateDecoderConfig(c: DecoderConfig): void {
  const problems: string[] = [];
  for (const key of ['vocabSize', 'hiddenSize', 'intermediateSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'maxPositionEmbeddings'] as const) {
    if (!Number.isInteger(c[key]) || c[key] <= 0) problems.push(`${key} must be a positive integer (got ${c[key]})`);
  }
  if (c.numHeads % c.numKvHeads !== 0) problems.push(`numHeads (${c.numHeads}) must be a multiple of numKvHeads (${c.numKvHeads})`);
  if (c.headDim % 2 !== 0) problems.push(`headDim (${c.headDim}) must be even for rotary embeddings`);
  if (!(c.rmsNormEps > 0)) problems.push(`rmsNormEps must be > 0 (got ${c.rmsNormEps})`);
  if (!(c.ropeTheta > 0)) problems.push(`ropeTheta must be > 0 (got ${c.ropeTheta})`);
  const r = c.ropeScaling;
  if (r) {
    if (r.type !== 'llama3') problems.push(`ropeScaling.type must be llama3 (got ${String(r.type)})`);
    if (!(r.factor >= 1)) problems.push(`ropeScaling.factor must be >= 1 (got ${r.factor})`);
    if (!(r.lowFreqFactor > 0 && r.highFreqFactor > r.lowFreqFactor)) problems.push(`ropeScaling needs 0 < lowFreqFactor < highFreqFactor (got ${r.lowFreqFactor}, ${r.highFreqFactor})`);
    if (!(r.originalMaxPositionEmbeddings > 0)) problems.push(`ropeScaling.originalMaxPositionEmbeddings must be > 0 (got ${r.originalMaxPositionEmbeddings})`);
  }
  if (problems.length > 0) throw new Error(`invalid decoder config: ${problems.join('; ')}`);
}

/** Every weight name and shape the config requires, in a stable order. */
export function expectedWeightShapes(c: DecoderConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  m.set('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    m.set(`${p}.input_layernorm.weight`, [c.hiddenSize]);
    m.set(`${p}.self_attn.q_proj.weight`, [q, c.hiddenSize]);
    m.set(`${p}.self_attn.k_proj.weight`, [kv, c.hiddenSize]);
    m.set(`${p}.self_attn.v_proj.weight`, [kv, c.hiddenSize]);
    if (c.attentionBias) {
      m.set(`${p}.self_attn.q_proj.bias`, [q]);
      m.set(`${p}.self_attn.k_proj.bias`, [kv]);
      m.set(`${p}.self_attn.v_proj.bias`, [kv]);
    }
    m.set(`${p}.self_attn.o_proj.weight`, [c.hiddenSize, q]);
    m.set(`${p}.post_attention_layernorm.weight`, [c.hiddenSize]);
    m.set(`${p}.mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    m.set(`${p}.mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]);
    m.set(`${p}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]);
  }
  m.set('model.norm.weight', [c.hiddenSize]);
  if (!c.tieWordEmbeddings) m.set('lm_head.weight', [c.vocabSize, c.hiddenSize]);
  return m;
}

/** Check that `weights` has exactly the expected names and shapes; the error lists every mismatch. */
export function checkWeights(c: DecoderConfig, weights: DecoderWeights, source = 'weights'): void {
  const expected = expectedWeightShapes(c);
  const problems: string[] = [];
  for (const [name, shape] of expected) {
    const w = weights.get(name);
    if (!w) problems.push(`missing ${name} ${JSON.stringify(shape)}`);
    else if (w.shape.join(',') !== shape.join(',')) problems.push(`${name} has shape ${JSON.stringify(w.shape)}, expected ${JSON.stringify(shape)}`);
    else if (w.data.length !== shape.reduce((a, b) => a * b, 1)) problems.push(`${name} holds ${w.data.length} values for shape ${JSON.stringify(shape)}`);
  }
  for (const name of weights.keys()) if (!expected.has(name)) problems.push(`unexpected tensor ${name}`);
  if (problems.length > 0) throw new Error(`${source} do not match the decoder config: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}`);
}

/** Random initialisation (normal * std for matrices, ones for norms, zeros for biases), seeded. */
export function initDecoderWeights(c: DecoderConfig, seed: number, std = 0.02): DecoderWeights {
  // Small self-contained generator (mulberry32 + Box-Muller) so that weights depend only on the seed.
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  const weights: DecoderWeights = new Map();
  for (const [name, shape] of expectedWeightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name.endsWith('norm.weight')) data.fill(1);
    else if (!name.endsWith('.bias')) for (let i = 0; i < n; i++) data[i] = normal() * std;
    weights.set(name, { shape, data });
  }
  return weights;
}

/** Projections that can carry LoRA adapters (Hugging Face module names). */
export type LoraTarget = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj' | 'lm_head';
export const LORA_TARGETS: readonly LoraTarget[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'];
