// Export the Llama-family decoder (src/models/decoder-config.ts) to an ONNX model, opset 17, primitive
// ops only: inputs input_ids / attention_mask (int64 [batch, sequence]); outputs logits, the chosen
// hidden_states.{i} and last_hidden_state. Same semantics as src/models/reference.ts, masking included.
// RoPE tables cover maxPositionEmbeddings positions: a row with more real tokens fails in ORT's Gather.

import { type DecoderConfig, type DecoderWeights, checkWeights, ropeInvFreq, validateDecoderConfig } from '../decoder-config.js';
import { VERSION } from '../../version.js';
import { writeFileAtomic } from '../../util/fs.js';
import { DataType, encodeModel, type ModelProto } from './onnx-proto.js';
import { GraphBuilder, attr, buildModel } from './graph-builder.js';

export const DECODER_OPSET = 17;
/** Metadata key holding JSON.stringify(DecoderConfig). */
export const METADATA_DECODER_CONFIG = 'decoder_config';
/** Metadata key holding the JSON list of exported hidden-state indices. */
export const METADATA_HIDDEN_STATES = 'hidden_states';
/** The value written for masked attention scores (see reference.ts for the fully-masked-row convention). */
export const MASKED_SCORE = -1e9;

export interface ExportDecoderOptions {
  /** Which hidden_states.{i} outputs to expose: 'all' (0..numLayers) or indices; -1 means numLayers. */
  hiddenStates?: 'all' | number[];
}

export function hiddenStateOutputName(index: number): string {
  return `hidden_states.${index}`;
}

/** Normalize hidden-state indices (negative counts from the end, -1 = numLayers), sorted and unique. */
export function resolveHiddenStateIndices(config: DecoderConfig, spec: 'all' | number[] = 'all'): number[] {
  const n = config.numLayers;
  if (spec === 'all') return Array.from({ length: n + 1 }, (_, i) => i);
  const out = new Set<number>();
  for (const raw of spec) {
    const i = raw < 0 ? n + 1 + raw : raw;
    if (!Number.isInteger(raw) || i < 0 || i > n) throw new Error(`hidden state index ${raw} is out of range: valid are 0..${n} (0 = embeddings, ${n} = last layer) or -1..-${n + 1}`);
    out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** Build the ModelProto (initializers reference the weight arrays; nothing is copied until encoding). */
export function buildDecoderModel(config: DecoderConfig, weights: DecoderWeights, options: ExportDecoderOptions = {}): ModelProto {
  validateDecoderConfig(config);
  checkWeights(config, weights, 'decoder weights for ONNX export');
  const hiddenIdx = resolveHiddenStateIndices(config, options.hiddenStates ?? 'all');
  const c = config;
  const D = c.headDim;
  const qDim = c.numHeads * D;
  const groupSize = c.numHeads / c.numKvHeads;
  const g = new GraphBuilder('musketeers_decoder');

  const weight = (name: string): string => {
    if (!g.has(name)) {
      const t = weights.get(name)!;
      g.floatInitializer(name, t.shape, t.data);
    }
    return name;
  };
  // Linear weights are stored [out, in] as in HF; MatMul needs [in, out]. ORT folds these Transposes
  // of constants when the session is created.
  const transposed = (name: string): string => g.op('Transpose', [weight(name)], { perm: attr.ints([1, 0]) }, `${name}.T`);
  const linear = (x: string, name: string, withBias: boolean): string => {
    const y = g.op('MatMul', [x, transposed(`${name}.weight`)]);
    return withBias ? g.op('Add', [y, weight(`${name}.bias`)]) : y;
  };
  const i64 = (...v: number[]) => g.int64Const(v);
  const i64Scalar = (v: number) => g.int64Const([v], []);
  const rmsNorm = (x: string, name: string): string => {
    // y = x / sqrt(mean(x^2, -1) + eps) * w
    const meanSq = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: attr.ints([-1]), keepdims: attr.int(1) }); // [B, T, 1]
    const denom = g.op('Sqrt', [g.op('Add', [meanSq, g.floatScalar(c.rmsNormEps)])]);
    return g.op('Mul', [g.op('Div', [x, denom]), weight(name)]);
  };

  // ---- inputs ----
  const inputIds = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);

  // ---- positions and rotary tables ----
  // position_ids = max(cumsum(mask, axis 1) - 1, 0)  [B, T]
  const positions = g.op('Max', [g.op('Sub', [g.op('CumSum', [mask, i64Scalar(1)]), i64Scalar(1)]), i64Scalar(0)], {}, 'position_ids');
  const { cos, sin } = ropeTables(c);
  g.floatInitializer('rope.cos', [c.maxPositionEmbeddings, D], cos);
  g.floatInitializer('rope.sin', [c.maxPositionEmbeddings, D], sin);
  const cosBT = g.op('Unsqueeze', [g.op('Gather', ['rope.cos', positions], { axis: attr.int(0) }), i64(1)], {}, 'rope.cos_b1td'); // [B, 1, T, D]
  const sinBT = g.op('Unsqueeze', [g.op('Gather', ['rope.sin', positions], { axis: attr.int(0) }), i64(1)], {}, 'rope.sin_b1td'); // [B, 1, T, D]

  // ---- attention mask: true where key s is hidden from query t (s > t, or s is padding) [B, 1, T, T] ----
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), i64Scalar(1)], { axis: attr.int(0) }); // scalar T
  const steps = g.op('Range', [i64Scalar(0), seqLen, i64Scalar(1)]); // [T]
  const future = g.op('Greater', [g.op('Unsqueeze', [steps, i64(0)]), g.op('Unsqueeze', [steps, i64(1)])]); // [T, T]: col > row
  const keyIsPad = g.op('Unsqueeze', [g.op('Equal', [mask, i64Scalar(0)]), i64(1, 2)]); // [B, 1, 1, T]
  const hidden = g.op('Or', [future, keyIsPad], {}, 'attention_hidden'); // [B, 1, T, T]
  const maskedScore = g.floatScalar(MASKED_SCORE);
  const scale = g.floatScalar(1 / Math.sqrt(D));

  const rope = (x: string): string => {
    // x * cos + rotate_half(x) * sin, rotate_half(x) = concat(-x[..., D/2:], x[..., :D/2])
    const [x1, x2] = g.node('Split', [x, i64(D / 2, D / 2)], 2, { axis: attr.int(-1) });
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: attr.int(-1) });
    return g.op('Add', [g.op('Mul', [x, cosBT]), g.op('Mul', [rotated, sinBT])]);
  };
  const splitHeads = (x: string, heads: number): string =>
    g.op('Transpose', [g.op('Reshape', [x, i64(0, 0, heads, D)])], { perm: attr.ints([0, 2, 1, 3]) }); // [B, T, heads*D] -> [B, heads, T, D]
  const repeatKv = (x: string): string => {
    if (groupSize === 1) return x;
    // [B, kv, T, D] -> [B, kv, group, T, D] -> [B, heads, T, D]: query head h reads KV head floor(h / group)
    const expanded = g.op('Expand', [g.op('Unsqueeze', [x, i64(2)]), i64(1, 1, groupSize, 1, 1)]);
    return g.op('Reshape', [expanded, i64(0, c.numHeads, -1, D)]);
  };

  // ---- layers ----
  let x = g.op('Gather', [weight('model.embed_tokens.weight'), inputIds], { axis: attr.int(0) }, hiddenStateOutputName(0)); // [B, T, H]
  for (let layer = 0; layer < c.numLayers; layer++) {
    const p = `model.layers.${layer}`;
    const h = rmsNorm(x, `${p}.input_layernorm.weight`);
    const q = rope(splitHeads(linear(h, `${p}.self_attn.q_proj`, c.attentionBias), c.numHeads)); // [B, nH, T, D]
    const k = repeatKv(rope(splitHeads(linear(h, `${p}.self_attn.k_proj`, c.attentionBias), c.numKvHeads))); // [B, nH, T, D]
    const v = repeatKv(splitHeads(linear(h, `${p}.self_attn.v_proj`, c.attentionBias), c.numKvHeads)); // [B, nH, T, D]
    const kT = g.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) }); // [B, nH, D, T]
    const scores = g.op('Mul', [g.op('MatMul', [q, kT]), scale]); // [B, nH, T, T]
    // Replace (not add) masked scores: a row with no visible key becomes uniform, never NaN.
    const probs = g.op('Softmax', [g.op('Where', [hidden, maskedScore, scores])], { axis: attr.int(-1) });
    const ctx = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: attr.ints([0, 2, 1, 3]) }); // [B, T, nH, D]
    const attnOut = linear(g.op('Reshape', [ctx, i64(0, 0, qDim)]), `${p}.self_attn.o_proj`, false); // [B, T, H]
    const afterAttn = g.op('Add', [x, attnOut]);
    const h2 = rmsNorm(afterAttn, `${p}.post_attention_layernorm.weight`);
    const gate = linear(h2, `${p}.mlp.gate_proj`, false); // [B, T, I]
    const silu = g.op('Mul', [gate, g.op('Sigmoid', [gate])]);
    const up = linear(h2, `${p}.mlp.up_proj`, false);
    const down = linear(g.op('Mul', [silu, up]), `${p}.mlp.down_proj`, false); // [B, T, H]
    x = g.op('Add', [afterAttn, down], {}, hiddenStateOutputName(layer + 1));
  }

  // ---- head ----
  const last = g.op('Identity', [rmsNorm(x, 'model.norm.weight')], {}, 'last_hidden_state'); // [B, T, H]
  const headWeight = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  g.op('MatMul', [last, g.op('Transpose', [weight(headWeight)], { perm: attr.ints([1, 0]) }, 'lm_head.weight.T')], {}, 'logits'); // [B, T, V]

  g.output('logits', DataType.FLOAT, ['batch', 'sequence', c.vocabSize]);
  for (const i of hiddenIdx) g.output(hiddenStateOutputName(i), DataType.FLOAT, ['batch', 'sequence', c.hiddenSize]);
  g.output('last_hidden_state', DataType.FLOAT, ['batch', 'sequence', c.hiddenSize]);

  return buildModel(g.build(), {
    opsetVersion: DECODER_OPSET,
    irVersion: 8,
    producerName: 'musketeers',
    producerVersion: VERSION,
    docString: `Llama-family decoder (${c.family}): ${c.numLayers} layers, hidden ${c.hiddenSize}, vocab ${c.vocabSize}`,
    metadata: {
      [METADATA_DECODER_CONFIG]: JSON.stringify(config),
      [METADATA_HIDDEN_STATES]: JSON.stringify(hiddenIdx),
    },
  });
}

/** Serialize the decoder to ONNX bytes. */
export function exportDecoderToOnnx(config: DecoderConfig, weights: DecoderWeights, options: ExportDecoderOptions = { hiddenStates: 'all' }): Uint8Array {
  return encodeModel(buildDecoderModel(config, weights, options));
}

/** Write model bytes atomically (temp file + rename). */
export function writeOnnxModel(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, bytes);
}

/**
 * cos/sin tables [maxPositionEmbeddings, headDim] in the rotate_half layout: column d uses frequency
 * theta^(-2 (d mod D/2) / D). Computed in float64, stored as float32.
 */
export function ropeTables(c: DecoderConfig): { cos: Float32Array; sin: Float32Array } {
  const D = c.headDim;
  const half = D / 2;
  const invFreq = ropeInvFreq(c);
  const cos = new Float32Array(c.maxPositionEmbeddings * D);
  const sin = new Float32Array(c.maxPositionEmbeddings * D);
  for (let pos = 0; pos < c.maxPositionEmbeddings; pos++) {
    for (let d = 0; d < D; d++) {
      const angle = pos * invFreq[d % half];
      cos[pos * D + d] = Math.cos(angle);
      sin[pos * D + d] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
