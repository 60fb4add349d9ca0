// The Llama-family decoder in TensorFlow.js: the trainable policy and the project's own tiny experts.
// Hugging Face weight names and semantics from ./decoder-config.ts (RMSNorm, rotate_half RoPE, GQA,
// SwiGLU, optional tied embeddings, left padding through position_ids = cumsum(mask) - 1). Provides the
// full forward (logits + every hidden state), teacher-forced completion log-probs (differentiable) and
// KV-cached sampling. Weights are tf.Variables; projections are ./linear.ts objects that can carry LoRA.

import { type DecoderConfig, type DecoderWeights, checkWeights, expectedWeightShapes, initDecoderWeights, ropeInvFreq, validateDecoderConfig } from './decoder-config.js';
import { type PaddedRows, RopeTable, attentionBias, padLeft, padRight, positionIdsOf } from './decoder-batch.js';
import { Linear } from './linear.js';
import { matMul } from './matmul.js';
import { type FinishReason, type SamplingRows, checkGenerateRequest, sampleRows } from './sampling.js';
import * as tf from './tf.js';
import { PyRandom } from '../../tasks/common/rng.js';
import { mulberry32 } from './lora-init.js';

import { LORA_TARGETS, type LoraTarget } from './decoder-config.js';

export { LORA_TARGETS, type LoraTarget };

export interface LoraConfig {
  rank: number;
  alpha: number;
  targets: LoraTarget[];
  /** Seed of the A initialisation (B starts at zero). */
  seed?: number;
}

export interface DecoderOptions {
  /** Whether the base weights are trainable variables (default false: frozen). */
  trainable?: boolean;
  /** Prefix of the tfjs variable names (they must be unique per process); default `decoderN`. */
  name?: string;
}

export interface ForwardInputs {
  /** Token ids [batch, seq] (int32). Give this or inputsEmbeds. */
  inputIds?: tf.Tensor2D | number[][];
  /** Input embeddings [batch, seq, hidden], used instead of the embedding lookup. */
  inputsEmbeds?: tf.Tensor3D;
  /** Soft tokens [batch, K, hidden] prepended to the embeddings of inputIds/inputsEmbeds, with mask ones. */
  prefixEmbeds?: tf.Tensor3D;
  /** [batch, seq] (seq of inputIds/inputsEmbeds, without the prefix), 1 = real token, 0 = padding. */
  attentionMask: tf.Tensor2D | number[][];
}

export interface ForwardOptions {
  outputHiddenStates?: boolean;
}

export interface ForwardOutputs {
  /** [batch, K + seq, vocab] */
  logits: tf.Tensor3D;
  /** numLayers + 1 tensors [batch, K + seq, hidden]: 0 = embeddings, i = output of layer i (before the final norm). */
  hiddenStates?: tf.Tensor3D[];
  /** [batch, K + seq, hidden]: the last layer's output after the final RMSNorm. */
  finalHidden: tf.Tensor3D;
}

export interface CompletionBatch {
  /** [batch, K, hidden] ([prompts, K, hidden] with rowPrompt), prepended before each (left-padded) prompt. */
  prefixEmbeds?: tf.Tensor3D;
  /** Prompt token ids per row (each non-empty), or per distinct prompt with rowPrompt; left-padded internally. */
  promptIds: number[][];
  /** Completion token ids per row; right-padded internally. */
  completionIds: number[][];
  /**
   * The prompt of each completion row (indices into promptIds). With it, each distinct prompt runs once
   * and its keys/values are shared by its rows (a GRPO group), instead of once per row.
   */
  rowPrompt?: readonly number[];
}

export interface CompletionScores {
  /** [batch, maxCompletionLen]: log p(completion[t] | prompt, completion[<t]); 0 at padding. */
  logProbs: tf.Tensor2D;
  /** [batch, maxCompletionLen]: entropy of the predictive distribution at each completion step; 0 at padding. */
  entropy?: tf.Tensor2D;
  /** [batch, maxCompletionLen]: 1 for real completion tokens. */
  mask: tf.Tensor2D;
}

export interface GenerateOptions {
  /** [batch, K, hidden] soft prefix; prompts are left-padded after it. */
  prefixEmbeds?: tf.Tensor3D;
  promptIds: number[][];
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Nucleus mass in (0, 1]. */
  topP: number;
  /** Generation of a row ends once its decoded completion contains one of these (needs `decode`). */
  stopStrings?: string[];
  /** End-of-sequence id(s); the EOS token is kept in the returned tokens. */
  eosId?: number | number[];
  /** Id fed for padding (prompt left padding, finished rows); default the first eosId, else 0. */
  padId?: number;
  decode?: (ids: number[]) => string;
  seed: number;
  /**
   * The prompt of each generated row (indices into promptIds, and into prefixEmbeds' rows). With it, each
   * distinct prompt is prefilled once and its keys/values are copied to its rows (G samples of a prompt).
   */
  rowPrompt?: readonly number[];
}

export interface GenerateResult {
  /** Generated ids per row (prompt excluded; includes the EOS token or the token that completed a stop string). */
  tokens: number[][];
  finishReason: FinishReason[];
}

interface LayerParams {
  inputNorm: tf.Variable; // [hidden]
  postNorm: tf.Variable; // [hidden]
  q: Linear; // [numHeads*headDim, hidden]
  k: Linear; // [numKvHeads*headDim, hidden]
  v: Linear; // [numKvHeads*headDim, hidden]
  o: Linear; // [hidden, numHeads*headDim]
  gate: Linear; // [intermediate, hidden]
  up: Linear; // [intermediate, hidden]
  down: Linear; // [hidden, intermediate]
}

/** Per-layer keys/values after RoPE, [batch, numKvHeads, past, headDim]. (A type alias so tf.tidy accepts it.) */
type KvCache = {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
};

/** Rotary cos/sin [batch, seq, 1, headDim] and attention bias [batch, 1, seq, keys] for one call. */
interface StepContext {
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
  bias: tf.Tensor4D;
}

/** Host-side state of one generate() call. */
interface DecodeState extends SamplingRows {
  /** Left-padded distinct prompts [prompts][P]. */
  promptIds: number[][];
  /** [prompts][K + P]: the prefix's ones, then each distinct prompt's mask. */
  promptMask: number[][];
  /** Prompt of each row [batch]. */
  rowPrompt: readonly number[];
  /** [batch][K + P + generated so far]; grows by one column per step (0 for finished rows). */
  mask: number[][];
}

let instanceCounter = 0;

export class TfDecoder {
  readonly config: DecoderConfig;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly layers: LayerParams[] = [];
  private readonly embedTokens: tf.Variable; // [vocab, hidden]
  private readonly finalNorm: tf.Variable; // [hidden]
  private readonly lmHead: Linear | undefined; // untied only
  private readonly rope: RopeTable;
  private readonly prefix: string;
  /** embed_tokens^T [hidden, vocab] while generate() runs on wasm with tied embeddings. */
  private embedT: tf.Tensor2D | undefined;
  private rotateHalf: tf.Tensor2D | undefined;
  private transposeCacheUsers = 0;
  private disposed = false;

  constructor(config: DecoderConfig, weights: DecoderWeights, options: DecoderOptions = {}) {
    validateDecoderConfig(config);
    checkWeights(config, weights, 'TfDecoder weights');
    this.config = config;
    this.prefix = options.name ?? `decoder${instanceCounter++}`;
    const trainable = options.trainable ?? false;
    for (const name of expectedWeightShapes(config).keys()) {
      const w = weights.get(name)!;
      const value = tf.tensor(w.data, w.shape, 'float32');
      this.vars.set(name, tf.variable(value, trainable, this.varName(name)));
      value.dispose();
    }
    const v = (name: string) => this.vars.get(name)!;
    const lin = (name: string, withBias: boolean) =>
      new Linear(name, v(`${name}.weight`) as tf.Variable<tf.Rank.R2>, withBias ? (v(`${name}.bias`) as tf.Variable<tf.Rank.R1>) : undefined);
    for (let i = 0; i < config.numLayers; i++) {
      const p = `model.layers.${i}`;
      this.layers.push({
        inputNorm: v(`${p}.input_layernorm.weight`),
        postNorm: v(`${p}.post_attention_layernorm.weight`),
        q: lin(`${p}.self_attn.q_proj`, config.attentionBias),
        k: lin(`${p}.self_attn.k_proj`, config.attentionBias),
        v: lin(`${p}.self_attn.v_proj`, config.attentionBias),
        o: lin(`${p}.self_attn.o_proj`, false),
        gate: lin(`${p}.mlp.gate_proj`, false),
        up: lin(`${p}.mlp.up_proj`, false),
        down: lin(`${p}.mlp.down_proj`, false),
      });
    }
    this.embedTokens = v('model.embed_tokens.weight');
    this.finalNorm = v('model.norm.weight');
    this.lmHead = config.tieWordEmbeddings ? undefined : lin('lm_head', false);
    this.rope = new RopeTable(config.headDim, config.ropeTheta, ropeInvFreq(config));
  }

  /** A decoder with seeded random weights (initDecoderWeights). */
  static random(config: DecoderConfig, seed: number, options: DecoderOptions = {}): TfDecoder {
    return new TfDecoder(config, initDecoderWeights(config, seed), options);
  }

  private varName(name: string): string {
    return `${this.prefix}/${name}`;
  }

  // ---------------------------------------------------------------- weights and variables

  /** The base weight variable of a Hugging Face weight name. */
  variable(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`TfDecoder has no weight named ${name}; names follow expectedWeightShapes() in src/models/decoder-config.ts`);
    return v;
  }

  /** Base weights by Hugging Face name (LoRA adapters not included). */
  variables(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }

  /** Mark base weights trainable or frozen: all of them, or those for which `which(name)` is true. */
  setTrainable(trainable: boolean, which: (name: string) => boolean = () => true): void {
    for (const [name, v] of this.vars) if (which(name)) v.trainable = trainable;
  }

  /** Every trainable variable: base weights marked trainable plus LoRA adapters. */
  trainableVariables(): tf.Variable[] {
    const out = [...this.vars.values()].filter((v) => v.trainable);
    for (const l of this.linears()) if (l.lora) out.push(...[l.lora.A, l.lora.B].filter((v) => v.trainable));
    return out;
  }

  /** A copy of the base weights (HF names, float32), e.g. for export and checkpoints. */
  getWeights(): DecoderWeights {
    const out: DecoderWeights = new Map();
    for (const [name, v] of this.vars) out.set(name, { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() });
    return out;
  }

  /** Replace the base weights in place (same names and shapes as the config requires). */
  setWeights(weights: DecoderWeights): void {
    checkWeights(this.config, weights, 'TfDecoder.setWeights weights');
    tf.tidy(() => {
      for (const [name, v] of this.vars) {
        const w = weights.get(name)!;
        v.assign(tf.tensor(w.data, w.shape, 'float32'));
      }
    });
  }

  private linears(): Linear[] {
    const out: Linear[] = [];
    for (const l of this.layers) out.push(l.q, l.k, l.v, l.o, l.gate, l.up, l.down);
    if (this.lmHead) out.push(this.lmHead);
    return out;
  }

  // ---------------------------------------------------------------- LoRA

  /** Attach LoRA adapters (B = 0, so outputs are unchanged until trained) to the chosen projections. Returns the new variables. */
  attachLora(lora: LoraConfig): tf.Variable[] {
    for (const t of lora.targets) if (!LORA_TARGETS.includes(t)) throw new Error(`unknown LoRA target '${t}': use ${LORA_TARGETS.join(', ')}`);
    if (lora.targets.includes('lm_head') && !this.lmHead) throw new Error('LoRA target lm_head needs untied embeddings (tieWordEmbeddings=false)');
    if (this.linears().some((l) => l.lora)) throw new Error('this decoder already carries LoRA adapters; call detachLora() first');
    const uniform = mulberry32(lora.seed ?? 0);
    const created: tf.Variable[] = [];
    for (const l of this.linears()) {
      const short = l.name.split('.').pop() as LoraTarget;
      if (!lora.targets.includes(short)) continue;
      const a = l.attachLora(lora.rank, lora.alpha, uniform, (s) => this.varName(s));
      created.push(a.A, a.B);
    }
    return created;
  }

  detachLora(): void {
    for (const l of this.linears()) l.detachLora();
  }

  /** LoRA weights in PEFT naming: `base_model.model.<module>.lora_A.weight` [r, in] / `lora_B.weight` [out, r]. */
  getLoraWeights(): DecoderWeights {
    const out: DecoderWeights = new Map();
    for (const l of this.linears()) {
      if (!l.lora) continue;
      for (const [suffix, v] of [['lora_A', l.lora.A], ['lora_B', l.lora.B]] as const) {
        out.set(`base_model.model.${l.name}.${suffix}.weight`, { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() });
      }
    }
    return out;
  }

  /** The LoRA adapter variables by their PEFT names (the names getLoraWeights uses). */
  loraVariables(): Map<string, tf.Variable> {
    const out = new Map<string, tf.Variable>();
    for (const l of this.linears()) {
      if (!l.lora) continue;
      out.set(`base_model.model.${l.name}.lora_A.weight`, l.lora.A);
      out.set(`base_model.model.${l.name}.lora_B.weight`, l.lora.B);
    }
    return out;
  }

  /** Load LoRA weights saved by getLoraWeights into the attached adapters (same names and shapes). */
  setLoraWeights(weights: DecoderWeights): void {
    const problems: string[] = [];
    tf.tidy(() => {
      for (const l of this.linears()) {
        if (!l.lora) continue;
        for (const [suffix, v] of [['lora_A', l.lora.A], ['lora_B', l.lora.B]] as const) {
          const name = `base_model.model.${l.name}.${suffix}.weight`;
          const w = weights.get(name);
          if (!w) problems.push(`missing ${name}`);
          else if (w.shape.join(',') !== v.shape.join(',')) problems.push(`${name} has shape [${w.shape.join(', ')}], adapter expects [${v.shape.join(', ')}]`);
          else v.assign(tf.tensor2d(w.data, [v.shape[0], v.shape[1]]));
        }
      }
    });
    if (problems.length > 0) throw new Error(`LoRA weights do not match the attached adapters: ${problems.join('; ')}`);
  }

  // ---------------------------------------------------------------- forward

  /** Embedding lookup: ids [batch, seq] -> [batch, seq, hidden]. */
  embed(ids: tf.Tensor2D | number[][]): tf.Tensor3D {
    return tf.tidy(() => {
      const t = Array.isArray(ids) ? this.idsTensor(ids) : ids;
      const [batch, seq] = t.shape;
      const flat = reshape(t.dtype === 'int32' ? t : tf.cast(t, 'int32'), [batch * seq]);
      return reshape(tf.gather(this.embedTokens, flat), [batch, seq, this.config.hiddenSize]);
    });
  }

  /** Full forward over all positions; see ForwardOutputs for shapes. Dispose the returned tensors. */
  forward(inputs: ForwardInputs, options: ForwardOptions = {}): ForwardOutputs {
    this.assertAlive();
    const mask = Array.isArray(inputs.attentionMask) ? inputs.attentionMask : (inputs.attentionMask.arraySync() as number[][]);
    return tf.tidy(() => {
      if ((inputs.inputIds === undefined) === (inputs.inputsEmbeds === undefined)) throw new Error('TfDecoder.forward: give exactly one of inputIds and inputsEmbeds');
      let x = inputs.inputIds !== undefined ? this.embed(inputs.inputIds) : this.checkEmbeds(inputs.inputsEmbeds!, 'inputsEmbeds');
      const [batch, seq] = x.shape;
      this.checkMask(mask, batch, seq);
      let fullMask = mask;
      if (inputs.prefixEmbeds) {
        const prefix = this.checkEmbeds(inputs.prefixEmbeds, 'prefixEmbeds', batch);
        x = tf.concat([prefix, x], 1);
        fullMask = mask.map((row) => [...new Array<number>(prefix.shape[1]).fill(1), ...row]);
      }
      const total = x.shape[1];
      const { last, hidden } = this.runStack(x, this.context(fullMask, 0, total), undefined, options.outputHiddenStates === true);
      const finalHidden = this.rmsNorm(last, this.finalNorm);
      const logits = reshape(this.head(reshape(finalHidden, [batch * total, this.config.hiddenSize])), [batch, total, this.config.vocabSize]) as tf.Tensor3D;
      return options.outputHiddenStates ? { logits, hiddenStates: hidden, finalHidden } : { logits, finalHidden };
    }) as ForwardOutputs;
  }

  /**
   * Teacher-forced log-probabilities of each completion given its prompt: [batch, maxCompletionLen], zero at
   * padding. Differentiable (w.r.t. the weights, adapters and prefixEmbeds). Layout of each row:
   * [prefix K][left-padded prompt][right-padded completion without its last token].
   */
  sequenceLogProbs(batch: CompletionBatch): tf.Tensor2D {
    const scores = this.completionScores(batch, false);
    scores.mask.dispose();
    return scores.logProbs;
  }

  /** Like sequenceLogProbs, plus the per-token entropy (when asked) and the completion mask. */
  completionScores(batch: CompletionBatch, withEntropy = true): CompletionScores {
    this.assertAlive();
    const { promptIds, completionIds, rowPrompt } = batch;
    const B = completionIds.length;
    if (rowPrompt) {
      if (rowPrompt.length !== B) throw new Error(`sequenceLogProbs: rowPrompt has ${rowPrompt.length} entries for ${B} completions`);
      rowPrompt.forEach((p, b) => {
        if (!Number.isInteger(p) || p < 0 || p >= promptIds.length) throw new Error(`sequenceLogProbs: rowPrompt[${b}] = ${p} is not a prompt index in 0..${promptIds.length - 1}`);
      });
    } else if (promptIds.length !== B) throw new Error(`sequenceLogProbs: ${promptIds.length} prompts but ${B} completions`);
    promptIds.forEach((p, b) => {
      if (p.length === 0) throw new Error(`sequenceLogProbs: prompt ${b} is empty; every completion needs at least one prompt token before it`);
    });
    this.checkIds(promptIds, 'promptIds');
    this.checkIds(completionIds, 'completionIds');
    const prompt = padLeft(promptIds, 0);
    const completion = padRight(completionIds, 0);
    const C = completion.width;
    return tf.tidy(() => {
      const maskT = tf.tensor2d(completion.mask, [B, C], 'float32');
      if (C === 0) return { logProbs: tf.zeros([B, 0]) as tf.Tensor2D, entropy: withEntropy ? (tf.zeros([B, 0]) as tf.Tensor2D) : undefined, mask: maskT };
      const h = rowPrompt ? this.sharedPromptHidden(batch.prefixEmbeds, prompt, completion, rowPrompt) : this.joinedHidden(batch.prefixEmbeds, prompt, completion);
      return { ...this.tokenScores(h, completion, withEntropy), mask: maskT };
    }) as CompletionScores;
  }

  /**
   * Hidden states [B, C, H] that predict each completion token, from one pass per row over
   * [prefix K][left-padded prompt][right-padded completion without its last token].
   */
  private joinedHidden(prefixEmbeds: tf.Tensor3D | undefined, prompt: PaddedRows, completion: PaddedRows): tf.Tensor3D {
    const B = completion.ids.length;
    const C = completion.width;
    const ids = prompt.ids.map((row, b) => [...row, ...completion.ids[b].slice(0, C - 1)]);
    let mask = prompt.mask.map((row, b) => [...row, ...completion.mask[b].slice(0, C - 1)]);
    let x = this.embed(ids);
    let K = 0;
    if (prefixEmbeds) {
      const prefix = this.checkEmbeds(prefixEmbeds, 'prefixEmbeds', B);
      K = prefix.shape[1];
      x = tf.concat([prefix, x], 1);
      mask = mask.map((row) => [...new Array<number>(K).fill(1), ...row]);
    }
    const { last } = this.runStack(x, this.context(mask, 0, x.shape[1]), undefined, false);
    // The hidden state at K+P-1+t predicts completion[t].
    return tf.slice(last, [0, K + prompt.width - 1, 0], [B, C, this.config.hiddenSize]);
  }

  /**
   * Like joinedHidden, but each distinct prompt (with its prefix) runs once: its keys/values are then
   * gathered for the completion rows that continue it (rowPrompt), which run as a second pass over the
   * cached prompt. Same values as joinedHidden up to float rounding; gradients flow through the gather
   * into the prompt pass. prefixEmbeds [P, K, H], prompt [P rows], completion [B rows] -> [B, C, H].
   */
  private sharedPromptHidden(prefixEmbeds: tf.Tensor3D | undefined, prompt: PaddedRows, completion: PaddedRows, rowPrompt: readonly number[]): tf.Tensor3D {
    const P = prompt.ids.length;
    const B = completion.ids.length;
    const C = completion.width;
    const H = this.config.hiddenSize;
    let x = this.embed(prompt.ids); // [P, Tp, H]
    let promptMask = prompt.mask;
    if (prefixEmbeds) {
      const prefix = this.checkEmbeds(prefixEmbeds, 'prefixEmbeds', P);
      x = tf.concat([prefix, x], 1); // [P, K + Tp, H]
      promptMask = promptMask.map((row) => [...new Array<number>(prefix.shape[1]).fill(1), ...row]);
    }
    const S = x.shape[1];
    const first = this.runStack(x, this.context(promptMask, 0, S), undefined, false, true);
    const rows = tf.tensor1d([...rowPrompt], 'int32');
    const promptLast = tf.gather(tf.slice(first.last, [0, S - 1, 0], [P, 1, H]), rows) as tf.Tensor3D; // [B, 1, H] predicts completion[0]
    if (C === 1) return promptLast;
    const past = first.cache!.map((c) => ({ k: tf.gather(c.k, rows) as tf.Tensor4D, v: tf.gather(c.v, rows) as tf.Tensor4D })); // [B, nKv, S, D]
    const mask = rowPrompt.map((p, b) => [...promptMask[p], ...completion.mask[b].slice(0, C - 1)]);
    const second = this.runStack(this.embed(completion.ids.map((r) => r.slice(0, C - 1))), this.context(mask, S, C - 1), past, false); // [B, C-1, H]
    return tf.concat([promptLast, second.last], 1);
  }

  /** Log-probabilities of the completion tokens (and the predictive entropy) from hidden states [B, C, H]; 0 at padding. */
  private tokenScores(h: tf.Tensor3D, completion: PaddedRows, withEntropy: boolean): Omit<CompletionScores, 'mask'> {
    const [B, C, H] = h.shape;
    const V = this.config.vocabSize;
    const logits = this.head(reshape(this.rmsNorm(h, this.finalNorm), [B * C, H])); // [B*C, V]
    // logSoftmax has a direct gradient (logSumExp's goes through max and an Equal over [N, V]).
    const logSoftmax = tf.logSoftmax(logits); // [B*C, V]
    const targets = tf.oneHot(tf.tensor1d(completion.ids.flat(), 'int32'), V); // [B*C, V]
    const picked = tf.sum(tf.mul(logSoftmax, targets), 1); // [B*C]
    // Padding -> exactly +0 (a multiply by the mask would leave -0).
    const real = tf.greater(tf.tensor1d(completion.mask.flat(), 'float32'), 0);
    const zero = tf.zeros([B * C]);
    const logProbs = reshape(tf.where(real, picked, zero), [B, C]);
    if (!withEntropy) return { logProbs };
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logSoftmax), logSoftmax), 1)); // -sum p log p
    return { logProbs, entropy: reshape(tf.where(real, entropy, zero), [B, C]) };
  }

  // ---------------------------------------------------------------- generation

  /**
   * Sample up to maxNewTokens per row with a KV cache: the padded batch is prefilled once, then one token
   * per step for all rows (finished rows are fed padding). Seeded: one PyRandom draws, in row order, one
   * number per sampled token, so the same seed gives the same tokens.
   */
  async generate(options: GenerateOptions): Promise<GenerateResult> {
    this.assertAlive();
    const { promptIds, maxNewTokens } = options;
    const { rowPrompt, eosIds, padId, stopStrings } = checkGenerateRequest({ ...options, hasPrefix: options.prefixEmbeds !== undefined });
    const B = rowPrompt.length;
    this.checkIds(promptIds, 'promptIds');
    const tokens: number[][] = rowPrompt.map(() => []);
    const finish: (FinishReason | undefined)[] = new Array(B).fill(undefined);
    if (B === 0 || maxNewTokens === 0) return { tokens, finishReason: finish.map(() => 'length') };

    const rng = new PyRandom(options.seed);
    const K = options.prefixEmbeds ? options.prefixEmbeds.shape[1] : 0;
    const prompt = padLeft(promptIds, padId);
    const promptMask = prompt.mask.map((row) => [...new Array<number>(K).fill(1), ...row]);
    const state: DecodeState = {
      promptIds: prompt.ids,
      promptMask,
      rowPrompt,
      mask: rowPrompt.map((p) => [...promptMask[p]]),
      padId,
      eosIds,
      stopStrings,
      tokens,
      finish,
      uniform: () => rng.random(),
    };
    return this.withTransposeCache(() => this.decode(options, state));
  }

  /**
   * On wasm a transposed product is several times slower than transpose + plain product: hold W^T of every
   * projection while `run` executes (inference only: the weights cannot change during one generate call).
   */
  private async withTransposeCache<T>(run: () => Promise<T>): Promise<T> {
    if (tf.getBackend() !== 'wasm') return run();
    // Reference-counted, so that overlapping generate() calls on one decoder share the cache safely.
    if (this.transposeCacheUsers++ === 0) {
      for (const l of this.linears()) l.cacheTranspose();
      this.embedT = this.lmHead ? undefined : tf.keep(tf.transpose(this.embedTokens as tf.Tensor2D));
    }
    try {
      return await run();
    } finally {
      if (--this.transposeCacheUsers === 0) {
        for (const l of this.linears()) l.clearTransposeCache();
        this.embedT?.dispose();
        this.embedT = undefined;
      }
    }
  }

  /** The decoding loop of generate(): prefill, then one token per step for every row. */
  private async decode(options: GenerateOptions, state: DecodeState): Promise<GenerateResult> {
    const { mask, padId, tokens, finish } = state;
    const { maxNewTokens, temperature, topP } = options;
    const B = mask.length;
    const V = this.config.vocabSize;
    const H = this.config.hiddenSize;
    // Prefill: each distinct prompt once (logits only for its last position), then copied to its rows.
    let { logits, cache } = tf.tidy(() => {
      const P = state.promptIds.length;
      let x = this.embed(state.promptIds); // [P, Tp, H]
      if (options.prefixEmbeds) x = tf.concat([this.checkEmbeds(options.prefixEmbeds, 'prefixEmbeds', P), x], 1);
      const total = x.shape[1];
      const run = this.runStack(x, this.context(state.promptMask, 0, total), undefined, false, true);
      const lastH = reshape(tf.slice(run.last, [0, total - 1, 0], [P, 1, H]), [P, H]);
      const promptLogits = this.head(this.rmsNorm(lastH, this.finalNorm)); // [P, V]
      if (options.rowPrompt === undefined) return { logits: promptLogits, cache: run.cache! };
      const rows = tf.tensor1d([...state.rowPrompt], 'int32');
      return {
        logits: tf.gather(promptLogits, rows) as tf.Tensor2D, // [B, V]
        cache: run.cache!.map((c) => ({ k: tf.gather(c.k, rows) as tf.Tensor4D, v: tf.gather(c.v, rows) as tf.Tensor4D })),
      };
    });
    try {
      for (let step = 0; step < maxNewTokens; step++) {
        const rows = (await logits.data()) as Float32Array; // [B*V]
        sampleRows(state, rows, V, { temperature, topP }, options.decode);
        if (finish.every((f) => f !== undefined) || step === maxNewTokens - 1) break;
        const next = tokens.map((t, b) => [finish[b] ? padId : t[t.length - 1]]);
        mask.forEach((row, b) => row.push(finish[b] ? 0 : 1));
        const S = mask[0].length;
        const prev = { logits, cache };
        ({ logits, cache } = tf.tidy(() => {
          const run = this.runStack(this.embed(next), this.context(mask, S - 1, 1), prev.cache, false, true);
          const lastH = reshape(run.last, [B, H]);
          return { logits: this.head(this.rmsNorm(lastH, this.finalNorm)), cache: run.cache! };
        }));
        disposeStep(prev);
      }
    } finally {
      disposeStep({ logits, cache });
    }
    return { tokens, finishReason: finish.map((f) => f ?? 'length') };
  }

  dispose(): void {
    if (this.disposed) return;
    this.detachLora();
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.rotateHalf?.dispose();
    this.rotateHalf = undefined;
    this.disposed = true;
  }

  // ---------------------------------------------------------------- internals

  /** Rotary tables and attention bias for queries at absolute indices queryStart.. over the full mask. */
  private context(mask: number[][], queryStart: number, queries: number): StepContext {
    const B = mask.length;
    const S = mask[0].length;
    const D = this.config.headDim;
    const positions = mask.map((row) => positionIdsOf(row).slice(queryStart, queryStart + queries));
    const { cos, sin } = this.rope.cosSin(positions);
    return {
      cos: tf.tensor4d(cos, [B, queries, 1, D]),
      sin: tf.tensor4d(sin, [B, queries, 1, D]),
      bias: tf.tensor4d(attentionBias(mask, queryStart, queries), [B, 1, queries, S]),
    };
  }

  /** All decoder layers. x [B, T, H] -> last [B, T, H] (+ hidden states, + updated KV cache). Call inside a tidy. */
  private runStack(x: tf.Tensor3D, ctx: StepContext, past: KvCache[] | undefined, collectHidden: boolean, keepCache = false): { last: tf.Tensor3D; hidden?: tf.Tensor3D[]; cache?: KvCache[] } {
    const hidden: tf.Tensor3D[] = [x];
    const cache: KvCache[] = [];
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      const out = this.layer(this.layers[i], h, ctx, past?.[i]);
      h = out.x;
      if (collectHidden) hidden.push(h);
      if (keepCache) cache.push({ k: out.k, v: out.v });
    }
    return { last: h, hidden: collectHidden ? hidden : undefined, cache: keepCache ? cache : undefined };
  }

  /** One decoder layer: x [B, T, H] -> [B, T, H]; also returns this layer's keys/values [B, nKv, past+T, D]. */
  private layer(L: LayerParams, x: tf.Tensor3D, ctx: StepContext, past?: KvCache): { x: tf.Tensor3D; k: tf.Tensor4D; v: tf.Tensor4D } {
    const { numHeads: nH, numKvHeads: nKv, headDim: D, hiddenSize: H } = this.config;
    const [B, T] = x.shape;
    const g = nH / nKv; // query heads per KV head
    const h = reshape(this.rmsNorm(x, L.inputNorm), [B * T, H]);
    const q = this.applyRope(reshape(L.q.apply(h), [B, T, nH, D]), ctx); // [B, T, nH, D]
    const kNew = this.applyRope(reshape(L.k.apply(h), [B, T, nKv, D]), ctx); // [B, T, nKv, D]
    const vNew = reshape(L.v.apply(h), [B, T, nKv, D]);
    let k = tf.transpose(kNew, [0, 2, 1, 3]) as tf.Tensor4D; // [B, nKv, T, D]
    let v = tf.transpose(vNew, [0, 2, 1, 3]) as tf.Tensor4D;
    if (past) {
      k = tf.concat([past.k, k], 2);
      v = tf.concat([past.v, v], 2);
    }
    const S = k.shape[2];
    // GQA without copying K/V: the g query heads of one KV head are stacked along the query axis.
    const qs = reshape(tf.transpose(tf.mul(q, 1 / Math.sqrt(D)), [0, 2, 1, 3]), [B * nKv, g * T, D]);
    const scores = matMul(qs, reshape(k, [B * nKv, S, D]), false, true); // [B*nKv, g*T, S]
    const probs = tf.softmax(tf.add(reshape(scores, [B, nH, T, S]), ctx.bias)); // [B, nH, T, S]
    const attn = matMul(reshape(probs, [B * nKv, g * T, S]), reshape(v, [B * nKv, S, D])); // [B*nKv, g*T, D]
    const merged = reshape(tf.transpose(reshape(attn, [B, nH, T, D]), [0, 2, 1, 3]), [B * T, nH * D]);
    const x1 = tf.add(x, reshape(L.o.apply(merged), [B, T, H])) as tf.Tensor3D;
    const h2 = reshape(this.rmsNorm(x1, L.postNorm), [B * T, H]);
    const gate = L.gate.apply(h2); // [B*T, I]
    const act = tf.mul(tf.mul(gate, tf.sigmoid(gate)), L.up.apply(h2)) as tf.Tensor2D; // silu(gate) * up
    const out = tf.add(x1, reshape(L.down.apply(act), [B, T, H])) as tf.Tensor3D;
    return { x: out, k, v };
  }

  /**
   * x [B, T, n, D] -> x * cos + rotate_half(x) * sin, rotate_half(x) = [-x2, x1] computed as one product
   * with a signed permutation matrix (on wasm ~10x cheaper than two slices, a negation and a concat,
   * forward and backward).
   */
  private applyRope(x: tf.Tensor4D, ctx: StepContext): tf.Tensor4D {
    const [B, T, n, D] = x.shape;
    const rotated = reshape(matMul(reshape(x, [B * T * n, D]), this.rotateHalfMatrix()), [B, T, n, D]);
    return tf.add(tf.mul(x, ctx.cos), tf.mul(rotated, ctx.sin)) as tf.Tensor4D;
  }

  /** R [D, D] with (x R)[d] = -x[d + D/2] for d < D/2 and x[d - D/2] otherwise. */
  private rotateHalfMatrix(): tf.Tensor2D {
    if (!this.rotateHalf) {
      const D = this.config.headDim;
      const half = D / 2;
      const r = new Float32Array(D * D);
      for (let d = 0; d < half; d++) {
        r[(d + half) * D + d] = -1;
        r[d * D + d + half] = 1;
      }
      this.rotateHalf = tf.keep(tf.tensor2d(r, [D, D]));
    }
    return this.rotateHalf;
  }

  /** RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * w. */
  private rmsNorm<T extends tf.Tensor>(x: T, w: tf.Variable): T {
    const inv = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), this.config.rmsNormEps));
    return tf.mul(tf.mul(x, inv), w) as T;
  }

  /** LM head: [N, H] -> [N, V] (tied: the embedding matrix). */
  private head(h: tf.Tensor2D): tf.Tensor2D {
    if (this.lmHead) return this.lmHead.apply(h);
    return this.embedT ? tf.matMul(h, this.embedT) : matMul(h, this.embedTokens as tf.Tensor2D, false, true);
  }

  private idsTensor(ids: number[][]): tf.Tensor2D {
    this.checkIds(ids, 'inputIds');
    const width = ids.length > 0 ? ids[0].length : 0;
    ids.forEach((row, b) => {
      if (row.length !== width) throw new Error(`inputIds row ${b} has ${row.length} ids, row 0 has ${width}: pad the batch (see padLeft in src/models/decoder-batch.ts)`);
    });
    return tf.tensor2d(ids.flat(), [ids.length, width], 'int32');
  }

  private checkIds(ids: number[][], what: string): void {
    const V = this.config.vocabSize;
    ids.forEach((row, b) =>
      row.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`${what}[${b}][${t}] = ${id} is outside the vocabulary [0, ${V})`);
      }),
    );
  }

  private checkEmbeds(x: tf.Tensor3D, what: string, batch?: number): tf.Tensor3D {
    const H = this.config.hiddenSize;
    if (x.rank !== 3 || x.shape[2] !== H || (batch !== undefined && x.shape[0] !== batch)) {
      throw new Error(`${what} has shape [${x.shape.join(', ')}], expected [${batch ?? 'batch'}, seq, ${H}]`);
    }
    return x.dtype === 'float32' ? x : tf.cast(x, 'float32');
  }

  private checkMask(mask: number[][], batch: number, seq: number): void {
    if (mask.length !== batch || mask.some((r) => r.length !== seq)) {
      throw new Error(`attentionMask has shape [${mask.length}, ${mask[0]?.length ?? 0}], expected [${batch}, ${seq}] (the inputs' batch and sequence, prefix excluded)`);
    }
    mask.forEach((row, b) =>
      row.forEach((m, t) => {
        if (m !== 0 && m !== 1) throw new Error(`attentionMask[${b}][${t}] = ${m}; only 0 and 1 are allowed`);
      }),
    );
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('TfDecoder was disposed');
  }
}

function disposeStep(step: { logits: tf.Tensor; cache: KvCache[] }): void {
  step.logits.dispose();
  for (const c of step.cache) {
    c.k.dispose();
    c.v.dispose();
  }
}

/** tf.reshape with the rank in the type (tfjs cannot infer it from a tuple). */
function reshape(x: tf.Tensor, shape: [number]): tf.Tensor1D;
function reshape(x: tf.Tensor, shape: [number, number]): tf.Tensor2D;
function reshape(x: tf.Tensor, shape: [number, number, number]): tf.Tensor3D;
function reshape(x: tf.Tensor, shape: [number, number, number, number]): tf.Tensor4D;
function reshape(x: tf.Tensor, shape: number[]): tf.Tensor {
  return tf.reshape(x, shape);
}
