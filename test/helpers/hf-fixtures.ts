// Small stand-ins for real models, in the layouts real tools write them, with random weights:
// - Hugging Face checkpoint directories (`config.json` with architectures/model_type llama|qwen2,
//   `model.safetensors` or shards + `model.safetensors.index.json`, F32/F16/BF16, `tokenizer.json`,
//   `tokenizer_config.json` with a ChatML `chat_template`), as `save_pretrained` writes them;
// - ONNX decoders in Hugging Face optimum's export layouts (`text-generation`,
//   `text-generation-with-past`, `feature-extraction`): inputs input_ids / attention_mask / optional
//   position_ids / past_key_values.N.key|value, outputs logits or last_hidden_state and present.N.*,
//   nodes named by module scope as torch.onnx names them (`/model/layers.N/self_attn/q_proj/MatMul`,
//   outputs `<node>_output_0`), MatMul weights pre-transposed under `onnx::MatMul_N` names, optionally
//   float16 initialisers each followed by a Cast or the whole graph in float16 (`--dtype fp16`), optionally
//   weights in external data (`model.onnx_data`).
// The graph is written here from the ONNX operator definitions, independently of the project's own
// exporter and tfjs decoder, so tests can compare them. Used by tests and by scripts/make-hf-fixtures.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { type DecoderConfig, type DecoderWeights, type NamedTensor, ropeInvFreq } from '../../src/models/decoder-config.js';
import { encodeHalf, roundThrough } from '../../src/models/half.js';
import { GraphBuilder, attr, buildModel } from '../../src/models/onnx/graph-builder.js';
import { DataLocation, DataType, type ModelProto, type TensorProto, encodeModel } from '../../src/models/onnx/onnx-proto.js';
import { buildCharTokenizer, projectTokenizerConfig, serializeTokenizerJson } from '../../src/models/tokenizer/build.js';
import type { HfTokenizerJson } from '../../src/models/tokenizer/format.js';
import { type SafetensorsDtype, encodeSafetensors } from '../../src/models/safetensors.js';

// ---- tokenizer ----

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** The project's character tokenizer plus ChatML's two special tokens (as Qwen2 tokenizers have them). */
export function fixtureTokenizer(): HfTokenizerJson {
  const json = buildCharTokenizer();
  let next = Math.max(...Object.values(json.model.vocab)) + 1;
  for (const content of ['<|im_start|>', '<|im_end|>']) {
    json.model.vocab[content] = next;
    json.added_tokens.push({ id: next, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    next++;
  }
  return json;
}

export function fixtureTokenizerVocabSize(): number {
  return Object.keys(fixtureTokenizer().model.vocab).length;
}

/** Write tokenizer.json and tokenizer_config.json (with the ChatML chat_template unless `chatTemplate: null`). */
export function writeFixtureTokenizer(dir: string, options: { chatTemplate?: string | null; json?: HfTokenizerJson } = {}): void {
  mkdirSync(dir, { recursive: true });
  const json = options.json ?? fixtureTokenizer();
  const config: Record<string, unknown> = { ...projectTokenizerConfig(json, { name: 'fixture' }) };
  const template = options.chatTemplate === undefined ? CHATML_TEMPLATE : options.chatTemplate;
  if (template !== null) config.chat_template = template;
  writeFileSync(join(dir, 'tokenizer.json'), serializeTokenizerJson(json));
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

// ---- Hugging Face checkpoint directory ----

/** The config.json transformers writes for this architecture (the keys the loader reads, and a few it ignores). */
export function hfConfigJson(c: DecoderConfig, dtype: SafetensorsDtype): Record<string, unknown> {
  if (c.family !== 'llama' && c.family !== 'qwen2') throw new Error(`fixture family must be llama or qwen2, got ${c.family}`);
  if (c.family === 'qwen2' && !c.attentionBias) throw new Error('Qwen2 always has q/k/v biases: set attentionBias');
  const common = {
    model_type: c.family,
    architectures: [c.family === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: c.ropeScaling
      ? { rope_type: 'llama3', factor: c.ropeScaling.factor, low_freq_factor: c.ropeScaling.lowFreqFactor, high_freq_factor: c.ropeScaling.highFreqFactor, original_max_position_embeddings: c.ropeScaling.originalMaxPositionEmbeddings }
      : null,
    tie_word_embeddings: c.tieWordEmbeddings,
    torch_dtype: { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype],
    bos_token_id: 1,
    eos_token_id: 2,
    use_cache: true,
    initializer_range: 0.02,
    transformers_version: '4.46.0',
  };
  if (c.family === 'llama') return { ...common, attention_bias: c.attentionBias, mlp_bias: false, head_dim: c.headDim, pretraining_tp: 1 };
  if (c.headDim !== c.hiddenSize / c.numHeads) throw new Error('Qwen2 configs have no head_dim: headDim must be hiddenSize / numHeads');
  return { ...common, use_sliding_window: false, sliding_window: null, max_window_layers: c.numLayers };
}

/** Weights as they are after a round trip through `dtype` (what the checkpoint really holds). */
export function roundWeights(weights: DecoderWeights, dtype: SafetensorsDtype): DecoderWeights {
  if (dtype === 'F32') return weights;
  return new Map([...weights].map(([n, t]) => [n, { shape: t.shape, data: roundThrough(dtype, t.data) }]));
}

export interface HfDirOptions {
  dtype?: SafetensorsDtype;
  /** Number of shards (1 = a single model.safetensors without index). */
  shards?: number;
  chatTemplate?: string | null;
  /** Also save lm_head.weight when tied (some checkpoints do). */
  saveTiedHead?: boolean;
}

/** Write a Hugging Face checkpoint directory; returns the shard file names. */
export function writeHfModelDir(dir: string, c: DecoderConfig, weights: DecoderWeights, options: HfDirOptions = {}): string[] {
  mkdirSync(dir, { recursive: true });
  const dtype = options.dtype ?? 'F32';
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hfConfigJson(c, dtype), null, 2)}\n`);
  writeFixtureTokenizer(dir, { chatTemplate: options.chatTemplate });
  const all = new Map(weights);
  if (options.saveTiedHead && c.tieWordEmbeddings) all.set('lm_head.weight', weights.get('model.embed_tokens.weight')!);
  const shards = options.shards ?? 1;
  if (shards <= 1) {
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(all, { format: 'pt' }, dtype));
    return ['model.safetensors'];
  }
  const names = [...all.keys()];
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  let total = 0;
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = new Map<string, NamedTensor>();
    names.forEach((n, i) => {
      if (i % shards === s) {
        part.set(n, all.get(n)!);
        weightMap[n] = file;
        total += all.get(n)!.data.length * (dtype === 'F32' ? 4 : 2);
      }
    });
    writeFileSync(join(dir, file), encodeSafetensors(part, { format: 'pt' }, dtype));
    files.push(file);
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`);
  return files;
}

// ---- ONNX in optimum's layout ----

export type OptimumTask = 'text-generation' | 'text-generation-with-past' | 'feature-extraction';

export interface OptimumOnnxOptions {
  task: OptimumTask;
  /** Store weight initialisers as FLOAT16, each read through a Cast to FLOAT (compute stays float32). */
  fp16Weights?: boolean;
  /**
   * The whole graph in float16, as `optimum-cli export onnx --dtype fp16` writes it: float16 weights,
   * activations, past_key_values inputs and outputs; RMSNorm, rotary tables and softmax computed in
   * float32 and cast back, as transformers does in half precision.
   */
  fp16Graph?: boolean;
  /** Move initialisers of 64 bytes or more into `model.onnx_data` beside the model. */
  externalData?: boolean;
  /** Feed position_ids as an input (optimum does for Llama-family models); otherwise computed from the mask. */
  positionIds?: boolean;
}

/** Writes nodes named the way torch.onnx names them: `<scope>/<Op>[_k]`, outputs `<node>_output_0`. */
class ScopedGraph {
  readonly g = new GraphBuilder('main_graph');
  private readonly counts = new Map<string, number>();
  private matmulCounter = 100;

  constructor(
    private readonly fp16: boolean,
    /** Element type of activations (FLOAT, or FLOAT16 for an all-float16 graph). */
    readonly dt: number = DataType.FLOAT,
  ) {}

  /** A scalar constant of the activation type. */
  scalar(value: number): string {
    if (this.dt === DataType.FLOAT) return this.g.floatScalar(value);
    const name = `const_f16_${String(value).replace(/[^0-9a-zA-Z]/g, '_')}`;
    if (!this.g.has(name)) this.g.initializer({ name, dims: [], dataType: DataType.FLOAT16, rawData: encodeHalf('F16', Float32Array.of(value)), externalData: [] });
    return name;
  }

  /** Cast to the activation type (a no-op node is not written for float32 graphs). */
  toDt(scope: string, x: string): string {
    return this.dt === DataType.FLOAT ? x : this.op(scope, 'Cast', [x], { to: attr.int(this.dt) });
  }

  /** Cast to float32 (nothing for float32 graphs). */
  toFloat(scope: string, x: string): string {
    return this.dt === DataType.FLOAT ? x : this.op(scope, 'Cast', [x], { to: attr.int(DataType.FLOAT) });
  }

  op(scope: string, opType: string, inputs: string[], attrs: Parameters<GraphBuilder['op']>[2] = {}, out?: string): string {
    const base = `${scope}/${opType}`;
    const n = this.counts.get(base) ?? 0;
    this.counts.set(base, n + 1);
    const name = n === 0 ? base : `${base}_${n}`;
    return this.g.node(opType, inputs, [out ?? `${name}_output_0`], attrs, { name })[0];
  }

  /** A float initialiser (through a Cast in scope when stored as float16). */
  weight(scope: string, name: string, dims: number[], data: Float32Array): string {
    if (!this.fp16 && this.dt === DataType.FLOAT) return this.g.floatInitializer(name, dims, data);
    this.g.initializer({ name, dims: [...dims], dataType: DataType.FLOAT16, rawData: encodeHalf('F16', data), externalData: [] });
    if (this.dt === DataType.FLOAT16) return name;
    return this.op(scope, 'Cast', [name], { to: attr.int(DataType.FLOAT) });
  }

  /** y = x W^T (+ b), W stored transposed [in, out] under an `onnx::MatMul_N` name as torch exports it. */
  linear(scope: string, x: string, w: NamedTensor, bias?: NamedTensor, biasName?: string): string {
    const [out, inp] = w.shape;
    const t = new Float32Array(out * inp);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w.data[o * inp + i];
    const wName = this.weight(scope, `onnx::MatMul_${this.matmulCounter++}`, [inp, out], t);
    const y = this.op(scope, 'MatMul', [x, wName]);
    return bias ? this.op(scope, 'Add', [this.weight(scope, biasName!, bias.shape, bias.data), y]) : y;
  }
}

/** Build an optimum-layout decoder ModelProto (weights referenced in memory). */
export function buildOptimumModel(c: DecoderConfig, weights: DecoderWeights, options: OptimumOnnxOptions): ModelProto {
  const dt = options.fp16Graph ? DataType.FLOAT16 : DataType.FLOAT;
  const s = new ScopedGraph(options.fp16Weights ?? false, dt);
  const g = s.g;
  const W = (n: string): NamedTensor => {
    const t = weights.get(n);
    if (!t) throw new Error(`fixture weights lack ${n}`);
    return t;
  };
  const causal = options.task !== 'feature-extraction';
  const withPast = options.task === 'text-generation-with-past';
  const root = causal ? '/model' : ''; // LlamaForCausalLM wraps LlamaModel as `model`; feature-extraction exports LlamaModel itself
  const prefix = causal ? 'model.' : '';
  const D = c.headDim;
  const i64 = (...v: number[]) => g.int64Const(v);
  const scalar = (v: number) => g.int64Const([v], []);

  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch_size', withPast ? 'past_sequence_length + sequence_length' : 'sequence_length']);
  const positionInput = (options.positionIds ?? causal) ? g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']) : undefined;
  const pastNames: string[][] = [];
  if (withPast) {
    for (let l = 0; l < c.numLayers; l++) {
      pastNames.push(['key', 'value'].map((kv) => g.input(`past_key_values.${l}.${kv}`, dt, ['batch_size', c.numKvHeads, 'past_sequence_length', D])));
    }
  }

  // embeddings
  const embedW = W('model.embed_tokens.weight');
  const embedName = s.weight(`${root}/embed_tokens`, `${prefix}embed_tokens.weight`, embedW.shape, embedW.data);
  let x = s.op(`${root}/embed_tokens`, 'Gather', [embedName, inputIds]);

  // sizes and positions
  const T = s.op(root, 'Gather', [s.op(root, 'Shape', [inputIds]), scalar(1)], { axis: attr.int(0) });
  const past = withPast ? s.op(root, 'Gather', [s.op(root, 'Shape', [pastNames[0][0]]), scalar(2)], { axis: attr.int(0) }) : scalar(0);
  const total = s.op(root, 'Add', [past, T]);
  let positions = positionInput;
  if (!positions) {
    const cum = s.op(root, 'Sub', [s.op(root, 'CumSum', [mask, scalar(1)]), scalar(1)]);
    positions = s.op(root, 'Max', [cum, scalar(0)]);
  }

  // rotary tables [B, 1, T, D]
  // Plain RoPE written out here; Llama 3 scaling taken from the project's ropeInvFreq (checked against
  // numpy values of transformers' formula in test/models/hf-policy.test.ts).
  const invFreq = c.ropeScaling ? Float32Array.from(ropeInvFreq(c)) : new Float32Array(D / 2);
  if (!c.ropeScaling) for (let j = 0; j < D / 2; j++) invFreq[j] = 1 / Math.pow(c.ropeTheta, (2 * j) / D);
  const rs = `${root}/rotary_emb`;
  g.floatInitializer(`${prefix}rotary_emb.inv_freq`, [D / 2], invFreq);
  const freqs = s.op(rs, 'Mul', [s.op(rs, 'Unsqueeze', [s.op(rs, 'Cast', [positions], { to: attr.int(DataType.FLOAT) }), i64(2)]), `${prefix}rotary_emb.inv_freq`]);
  const emb = s.op(rs, 'Concat', [freqs, freqs], { axis: attr.int(-1) });
  const cos = s.op(rs, 'Unsqueeze', [s.toDt(rs, s.op(rs, 'Cos', [emb])), i64(1)]);
  const sin = s.op(rs, 'Unsqueeze', [s.toDt(rs, s.op(rs, 'Sin', [emb])), i64(1)]);

  // additive mask [B, 1, T, S]: 0 where query t (absolute position past + t) may read key s, float32 min elsewhere
  const qpos = s.op(root, 'Range', [past, total, scalar(1)]);
  const kpos = s.op(root, 'Range', [scalar(0), total, scalar(1)]);
  const causalOk = s.op(root, 'LessOrEqual', [s.op(root, 'Unsqueeze', [kpos, i64(0)]), s.op(root, 'Unsqueeze', [qpos, i64(1)])]);
  const keyOk = s.op(root, 'Equal', [s.op(root, 'Unsqueeze', [mask, i64(1, 2)]), scalar(1)]);
  const additive = s.op(root, 'Where', [s.op(root, 'And', [causalOk, keyOk]), s.scalar(0), s.scalar(dt === DataType.FLOAT ? -3.4028234663852886e38 : -65504)]);

  const rmsCore = (scope: string, v: string): string => {
    const x32 = s.toFloat(scope, v);
    const variance = s.op(scope, 'ReduceMean', [s.op(scope, 'Pow', [x32, g.floatScalar(2)])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
    const inv = s.op(scope, 'Reciprocal', [s.op(scope, 'Sqrt', [s.op(scope, 'Add', [variance, g.floatScalar(c.rmsNormEps)])])]);
    return s.toDt(scope, s.op(scope, 'Mul', [x32, inv]));
  };
  const rms = (scope: string, v: string, wName: string): string => {
    const w = W(`model.${wName}`);
    return s.op(scope, 'Mul', [s.weight(scope, `${prefix}${wName}`, w.shape, w.data), rmsCore(scope, v)]);
  };
  const rope = (scope: string, v: string): string => {
    const first = s.op(scope, 'Slice', [v, i64(0), i64(D / 2), i64(3)]);
    const second = s.op(scope, 'Slice', [v, i64(D / 2), i64(D), i64(3)]);
    const rotated = s.op(scope, 'Concat', [s.op(scope, 'Neg', [second]), first], { axis: attr.int(-1) });
    return s.op(scope, 'Add', [s.op(scope, 'Mul', [v, cos]), s.op(scope, 'Mul', [rotated, sin])]);
  };
  const heads = (scope: string, v: string, n: number): string =>
    s.op(scope, 'Transpose', [s.op(scope, 'Reshape', [v, i64(0, 0, n, D)])], { perm: attr.ints([0, 2, 1, 3]) });
  const repeat = (scope: string, v: string): string => {
    const groups = c.numHeads / c.numKvHeads;
    if (groups === 1) return v;
    return s.op(scope, 'Reshape', [s.op(scope, 'Expand', [s.op(scope, 'Unsqueeze', [v, i64(2)]), i64(1, 1, groups, 1, 1)]), i64(0, c.numHeads, -1, D)]);
  };

  for (let l = 0; l < c.numLayers; l++) {
    const sc = `${root}/layers.${l}`;
    const p = `model.layers.${l}`;
    const h = rms(`${sc}/input_layernorm`, x, `layers.${l}.input_layernorm.weight`);
    const at = `${sc}/self_attn`;
    const proj = (name: string) =>
      s.linear(`${at}/${name}`, h, W(`${p}.self_attn.${name}.weight`), c.attentionBias ? W(`${p}.self_attn.${name}.bias`) : undefined, `${prefix}layers.${l}.self_attn.${name}.bias`);
    const q = rope(at, heads(at, proj('q_proj'), c.numHeads));
    let k = rope(at, heads(at, proj('k_proj'), c.numKvHeads));
    let v = heads(at, proj('v_proj'), c.numKvHeads);
    if (withPast) {
      k = s.op(at, 'Concat', [pastNames[l][0], k], { axis: attr.int(2) }, `present.${l}.key`);
      v = s.op(at, 'Concat', [pastNames[l][1], v], { axis: attr.int(2) }, `present.${l}.value`);
    }
    const kT = s.op(at, 'Transpose', [repeat(at, k)], { perm: attr.ints([0, 1, 3, 2]) });
    const scores = s.op(at, 'Add', [s.op(at, 'Div', [s.op(at, 'MatMul', [q, kT]), s.scalar(Math.sqrt(D))]), additive]);
    const probs = s.toDt(at, s.op(at, 'Softmax', [s.toFloat(at, scores)], { axis: attr.int(-1) }));
    const ctx = s.op(at, 'Reshape', [s.op(at, 'Transpose', [s.op(at, 'MatMul', [probs, repeat(at, v)])], { perm: attr.ints([0, 2, 1, 3]) }), i64(0, 0, c.numHeads * D)]);
    const attnOut = s.linear(`${at}/o_proj`, ctx, W(`${p}.self_attn.o_proj.weight`));
    const mid = s.op(sc, 'Add', [x, attnOut]);
    const h2 = rms(`${sc}/post_attention_layernorm`, mid, `layers.${l}.post_attention_layernorm.weight`);
    const gate = s.linear(`${sc}/mlp/gate_proj`, h2, W(`${p}.mlp.gate_proj.weight`));
    const act = s.op(`${sc}/mlp/act_fn`, 'Mul', [gate, s.op(`${sc}/mlp/act_fn`, 'Sigmoid', [gate])]);
    const up = s.linear(`${sc}/mlp/up_proj`, h2, W(`${p}.mlp.up_proj.weight`));
    const down = s.linear(`${sc}/mlp/down_proj`, s.op(`${sc}/mlp`, 'Mul', [act, up]), W(`${p}.mlp.down_proj.weight`));
    x = s.op(sc, 'Add', [mid, down]);
  }

  const normW = W('model.norm.weight');
  const ns = `${root}/norm`;
  const normed = s.op(ns, 'Mul', [s.weight(ns, `${prefix}norm.weight`, normW.shape, normW.data), rmsCore(ns, x)], {}, causal ? undefined : 'last_hidden_state');
  if (causal) {
    const head = c.tieWordEmbeddings ? W('model.embed_tokens.weight') : W('lm_head.weight');
    g.node('Identity', [s.linear('/lm_head', normed, head)], ['logits'], {}, { name: '/lm_head/Identity' });
    g.output('logits', dt, ['batch_size', 'sequence_length', c.vocabSize]);
  } else {
    g.output('last_hidden_state', dt, ['batch_size', 'sequence_length', c.hiddenSize]);
  }
  if (withPast) {
    for (let l = 0; l < c.numLayers; l++) {
      for (const kv of ['key', 'value']) g.output(`present.${l}.${kv}`, dt, ['batch_size', c.numKvHeads, 'past_sequence_length + sequence_length', D]);
    }
  }
  return buildModel(g.build(), { opsetVersion: 17, irVersion: 8, producerName: 'pytorch', producerVersion: '2.4.0' });
}

/** Move initialisers of at least `minBytes` into one external data file (offsets 4096-aligned, as onnx does with align). */
export function moveToExternalData(model: ModelProto, location: string, minBytes = 64): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer as TensorProto[]) {
    if (!t.rawData || t.rawData.byteLength < minBytes) continue;
    const pad = (4096 - (offset % 4096)) % 4096;
    if (pad > 0) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(t.rawData);
    t.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(t.rawData.byteLength) },
    ];
    t.dataLocation = DataLocation.EXTERNAL;
    offset += t.rawData.byteLength;
    delete t.rawData;
  }
  return Buffer.concat(chunks);
}

/**
 * Write `<dir>/model.onnx` (plus `model.onnx_data` with externalData, `config.json` and the tokenizer
 * files, as optimum-cli leaves its output directory). Returns the model path.
 */
export function writeOptimumDir(dir: string, c: DecoderConfig, weights: DecoderWeights, options: OptimumOnnxOptions & { chatTemplate?: string | null }): string {
  mkdirSync(dir, { recursive: true });
  const model = buildOptimumModel(c, weights, options);
  if (options.externalData) writeFileSync(join(dir, 'model.onnx_data'), moveToExternalData(model, 'model.onnx_data'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, encodeModel(model));
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(hfConfigJson(c, options.fp16Weights || options.fp16Graph ? 'F16' : 'F32'), null, 2)}\n`);
  writeFixtureTokenizer(dir, { chatTemplate: options.chatTemplate });
  return path;
}
