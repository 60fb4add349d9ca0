// The Llama-family decoder on ONNX Runtime through the engine graphs of ./decoder-graph.ts: teacher-forced
// completion log-probs (old/reference log-probs, no gradients) and seeded KV-cached sampling that makes
// the same token choices as TfDecoder.generate (src/models/decoder.ts): one prefill per distinct prompt,
// one decode step per token that reads the prompts' keys/values as the prefill left them (shared by the
// rows of a prompt when the rows come grouped by prompt, as rollouts do; copied per row otherwise) and
// a fixed-capacity cache of the generated tokens' keys/values, the same PyRandom draws (one per sampled
// token, row order) and the same stop / EOS / padding rules.
//
// Frozen base weights enter the graphs either as initializers (each session holds its own copy; ORT
// pre-packs them) or as graph inputs (one copy in this process, fed to every session on each run);
// LoRA A/B and the router prefix are always inputs, so new adapter values need no recompilation.
// Sessions are cached per graph kind and shape bucket.

import type { ExecutionProvider } from '../experts/ort.js';
import { positionIdsOf } from '../models/decoder-batch.js';
import { type DecoderConfig, type DecoderWeights, checkWeights, validateDecoderConfig } from '../models/decoder-config.js';
import type { GenerateOptions, GenerateResult } from '../models/decoder.js';
import { type SamplingRows, checkGenerateRequest, sampleRows } from '../models/sampling.js';
import { PyRandom } from '../../tasks/common/rng.js';
import {
  type CompletionSpec,
  DECODE_IO,
  type LoraSpec,
  PREFILL_IO,
  type WeightSource,
  boolOf,
  bucketLength,
  checkIds,
  completionBucket,
  completionFeeds,
  completionScoresGraph,
  decodeStepGraph,
  int64Of,
  kvName,
  loraShapes,
  prefillGraph,
  promptFeeds,
  ropeFeeds,
} from './decoder-graph.js';
import { Graph, type TypedArray, shapeText } from './graph.js';
import { type EngineSession, type EngineSessionOptions, type Feeds, SessionCache } from './session.js';

export interface OnnxDecoderOptions {
  /** Default ['cpu']; passed to src/engine/session.ts. */
  executionProviders?: ExecutionProvider[];
  /**
   * How the frozen base weights enter the graphs (default 'inputs'). Measured with
   * scripts/bench-onnx-decoder-weights.ts (hidden 512, 4 layers, vocab 8000: 60 MB of weights, 6 cached
   * sessions, 2 shared CPU cores): 'initializers' grows the process by ~680 MB (each session keeps its
   * own and pre-packed copies) against ~130 MB for 'inputs', compiles ~0.3-0.5 s per session against
   * ~0.08 s, and runs a decode step (B 8) in ~11-14 ms against ~19-23 ms (score graphs within noise).
   */
  weightsAs?: 'initializers' | 'inputs';
  /** LoRA adapters on the base weights; their values start at zero (no change) until setLoraWeights. */
  lora?: LoraSpec;
  /** Prompt / completion widths are rounded up to a multiple of this (default 8). */
  bucket?: number;
  /** The decode cache capacity is rounded up to a multiple of this (default 32). */
  cacheBucket?: number;
  /** Other session options (threads, warnings); executionProviders above takes precedence. */
  session?: EngineSessionOptions;
}

/** TfDecoder.generate's options, with the prefix as a host array [P, K, hidden] instead of a tensor. */
export type OnnxGenerateOptions = Omit<GenerateOptions, 'prefixEmbeds'> & { prefix?: { data: Float32Array; K: number } };

export interface OnnxCompletionBatch {
  /** Per distinct prompt with rowPrompt, else per row; each non-empty. */
  promptIds: number[][];
  completionIds: number[][];
  rowPrompt?: readonly number[];
}

/** Host state of one generate() call. */
interface DecodeState extends SamplingRows {
  B: number;
  rowPrompt: readonly number[];
}

interface LayerArrays {
  k: Float32Array;
  v: Float32Array;
}

/** The caches of one generate() call, per layer, and the key mask of the decode step. */
interface KvBuffers {
  /** Prompt key slots (prefix + padded prompt) and generated-token slots (capacity). */
  Sp: number;
  Sg: number;
  /** Prompt caches [prompts, nKv, Sp, D]: the prefill's, or copied per row (prompts = B) when rows are not grouped by prompt. */
  prompts: number;
  prompt: LayerArrays[];
  /** Generated tokens' keys/values [B, nKv, Sg, D]. */
  generated: LayerArrays[];
  /** [B, Sp + Sg + 1]: the key mask fed to the decode step (prompt slots, generated slots, the new token), kept up to date. */
  keyMask: Uint8Array;
  /** Real tokens of each row so far (its next position id is this count). */
  seen: Int32Array;
  /** Generated slots filled so far (the next decode step's token goes into this one). */
  used: number;
}

export class OnnxDecoder {
  readonly config: DecoderConfig;
  readonly sessions: SessionCache;
  private readonly weights: DecoderWeights;
  private readonly lora: LoraSpec | undefined;
  private loraWeights: DecoderWeights = new Map();
  private readonly weightsAs: 'initializers' | 'inputs';
  private readonly bucket: number;
  private readonly cacheBucket: number;

  constructor(config: DecoderConfig, weights: DecoderWeights, options: OnnxDecoderOptions = {}) {
    validateDecoderConfig(config);
    checkWeights(config, weights, 'OnnxDecoder weights');
    this.config = config;
    this.weights = weights;
    this.weightsAs = options.weightsAs ?? 'inputs';
    this.bucket = options.bucket ?? 8;
    this.cacheBucket = options.cacheBucket ?? 32;
    this.sessions = new SessionCache({ ...options.session, executionProviders: options.executionProviders ?? options.session?.executionProviders ?? ['cpu'] });
    this.lora = options.lora;
    if (this.lora) {
      for (const [name, shape] of loraShapes(config, this.lora)) this.loraWeights.set(name, { shape, data: new Float32Array(shape[0] * shape[1]) });
    }
  }

  // ---------------------------------------------------------------- LoRA

  /** Replace the LoRA values (PEFT names and shapes as getLoraWeights; copied). */
  setLoraWeights(weights: DecoderWeights): void {
    if (!this.lora) throw new Error('OnnxDecoder.setLoraWeights: this decoder was built without a LoRA config');
    const problems: string[] = [];
    for (const [name, shape] of loraShapes(this.config, this.lora)) {
      const w = weights.get(name);
      if (!w) problems.push(`missing ${name}`);
      else if (w.shape.join(',') !== shape.join(',') || w.data.length !== shape[0] * shape[1]) problems.push(`${name} has shape ${shapeText(w.shape)}, the adapter expects ${shapeText(shape)}`);
    }
    for (const name of weights.keys()) if (!this.loraWeights.has(name)) problems.push(`unexpected tensor ${name}`);
    if (problems.length > 0) throw new Error(`LoRA weights do not match the adapters: ${problems.join('; ')}`);
    for (const [name, w] of weights) this.loraWeights.set(name, { shape: [...w.shape], data: w.data.slice() });
  }

  /** A copy of the LoRA values by PEFT name. */
  getLoraWeights(): DecoderWeights {
    return new Map([...this.loraWeights].map(([n, w]) => [n, { shape: [...w.shape], data: w.data.slice() }]));
  }

  // ---------------------------------------------------------------- graphs and feeds

  /** Base weights as initializers or inputs, and LoRA matrices as inputs (named as their tensors). */
  private sources(g: Graph): { base: WeightSource; lora: WeightSource } {
    const base: WeightSource = (name, shape) => {
      if (this.weightsAs === 'inputs') return g.floatInput(name, shape);
      return g.initializer(name, 'float32', shape, this.weights.get(name)!.data);
    };
    return { base, lora: (name, shape) => g.floatInput(name, shape) };
  }

  /** Feed every input of the session: the given data, then base weights and LoRA matrices by name. */
  private async run(session: EngineSession, data: Record<string, TypedArray>): Promise<Record<string, TypedArray>> {
    const feeds: Feeds = {};
    for (const v of session.inputs) {
      const hit = data[v.name] ?? this.weights.get(v.name)?.data ?? this.loraWeights.get(v.name)?.data;
      if (!hit) throw new Error(`OnnxDecoder: no data for input ${v.name} ${v.dtype} ${shapeText(v.shape)} of graph ${session.name}`);
      feeds[v.name] = hit;
    }
    return session.run(feeds);
  }

  private keySuffix(): string {
    return `${this.weightsAs}`;
  }

  // ---------------------------------------------------------------- completion log-probs

  /**
   * log p(completion[t] | prefix, prompt, completion[<t]) per row, [R][max completion length of the batch],
   * right-padded with 0. `prefix` [P, K, hidden] (row-major) is prepended to each distinct prompt.
   */
  async completionLogProbs(batch: OnnxCompletionBatch, prefix?: Float32Array): Promise<{ logProbs: number[][] }> {
    const { promptIds, completionIds } = batch;
    const R = completionIds.length;
    const rowPrompt = batch.rowPrompt ?? promptIds.map((_, p) => p);
    if (!batch.rowPrompt && promptIds.length !== R) throw new Error(`completionLogProbs: ${promptIds.length} prompts but ${R} completions (give rowPrompt to share prompts)`);
    const width = Math.max(0, ...completionIds.map((c) => c.length));
    if (R === 0 || width === 0) return { logProbs: completionIds.map(() => new Array<number>(width).fill(0)) };
    const P = promptIds.length;
    const K = this.prefixTokens(prefix, P, 'completionLogProbs prefix');
    const { Tp, C } = completionBucket(batch, this.bucket);
    const spec: CompletionSpec = { config: this.config, P, Tp, K, R, C, lora: this.lora, entropy: false };
    const session = await this.sessions.get(`scores:${this.keySuffix()}:P${P}:T${Tp}:K${K}:R${R}:C${C}`, () => this.scoresGraph(spec));
    const feeds = completionFeeds(spec, { promptIds, completionIds, rowPrompt });
    if (prefix) feeds['dec.prefix'] = prefix;
    const out = (await this.run(session, feeds)).logp as Float32Array; // [R, C]
    return { logProbs: completionIds.map((_, r) => Array.from(out.subarray(r * C, r * C + width))) };
  }

  private scoresGraph(spec: CompletionSpec): Graph {
    const g = new Graph(`decoder_scores_P${spec.P}_T${spec.Tp}_K${spec.K}_R${spec.R}_C${spec.C}`);
    const { base, lora } = this.sources(g);
    const prefix = spec.K > 0 ? g.floatInput('dec.prefix', [spec.P, spec.K, this.config.hiddenSize]) : undefined;
    const { logp } = completionScoresGraph(g, spec, base, lora, prefix);
    g.output(logp, 'logp');
    return g;
  }

  /** K of a prefix [P, K, hidden] given as a flat array (0 without one). */
  private prefixTokens(prefix: Float32Array | undefined, P: number, what: string): number {
    if (!prefix) return 0;
    const H = this.config.hiddenSize;
    const K = prefix.length / (P * H);
    if (!Number.isInteger(K) || K < 1) throw new Error(`${what} holds ${prefix.length} values, not [P = ${P}, K, hidden = ${H}] for a whole K >= 1`);
    return K;
  }

  // ---------------------------------------------------------------- generation

  /** Sample like TfDecoder.generate (same options, the prefix as a host array); see the file comment. */
  async generate(options: OnnxGenerateOptions): Promise<GenerateResult> {
    const state = this.startState(options);
    if (state.B === 0 || options.maxNewTokens === 0) return { tokens: state.tokens, finishReason: state.finish.map(() => 'length') };
    const P = options.promptIds.length;
    const K = options.prefix ? options.prefix.K : 0;
    if (options.prefix && options.prefix.data.length !== P * K * this.config.hiddenSize) throw new Error(`generate: prefix holds ${options.prefix.data.length} values, expected [P, K, hidden] = ${shapeText([P, K, this.config.hiddenSize])}`);
    const Tp = bucketLength(Math.max(1, ...options.promptIds.map((p) => p.length)), this.bucket);
    const pre = await this.prefill(options.promptIds, options.prefix?.data, K, Tp, state.padId);
    const Sg = options.maxNewTokens > 1 ? bucketLength(options.maxNewTokens - 1, this.cacheBucket) : 0;
    const cache = this.caches(pre.present, pre.mask, state.rowPrompt, K + Tp, Sg);
    const V = this.config.vocabSize;
    let logits: Float32Array = new Float32Array(state.B * V);
    state.rowPrompt.forEach((p, b) => logits.set(pre.logits.subarray(p * V, (p + 1) * V), b * V));
    for (let step = 0; step < options.maxNewTokens; step++) {
      sampleRows(state, logits, this.config.vocabSize, { temperature: options.temperature, topP: options.topP }, options.decode);
      if (state.finish.every((f) => f !== undefined) || step === options.maxNewTokens - 1) break;
      logits = await this.decodeStep(state, cache);
    }
    return { tokens: state.tokens, finishReason: state.finish.map((f) => f ?? 'length') };
  }

  /** Validate the options (as TfDecoder.generate) and set up the host state. */
  private startState(options: OnnxGenerateOptions): DecodeState {
    const { rowPrompt, eosIds, padId, stopStrings } = checkGenerateRequest({ ...options, hasPrefix: options.prefix !== undefined });
    checkIds(this.config, options.promptIds, 'promptIds');
    const rng = new PyRandom(options.seed);
    const B = rowPrompt.length;
    return { B, rowPrompt, padId, eosIds, stopStrings, tokens: rowPrompt.map(() => []), finish: new Array(B).fill(undefined), uniform: () => rng.random() };
  }

  /** Run the prefill graph: logits [P, V], per-layer present keys/values [P, nKv, S, D], the prompt key mask [P][S]. */
  private async prefill(promptIds: number[][], prefix: Float32Array | undefined, K: number, Tp: number, padId: number): Promise<{ logits: Float32Array; present: LayerArrays[]; mask: number[][] }> {
    const P = promptIds.length;
    const spec = { config: this.config, P, Tp, K, lora: this.lora };
    const session = await this.sessions.get(`prefill:${this.keySuffix()}:P${P}:T${Tp}:K${K}`, () => {
      const g = new Graph(`decoder_prefill_P${P}_T${Tp}_K${K}`);
      const { base, lora } = this.sources(g);
      prefillGraph(g, spec, base, lora);
      return g;
    });
    const { feeds, mask } = promptFeeds(this.config, promptIds, K, Tp, padId);
    if (prefix) feeds[PREFILL_IO.prefix] = prefix;
    const out = await this.run(session, feeds);
    const present = Array.from({ length: this.config.numLayers }, (_, i) => ({ k: out[kvName('present', i, 'key')] as Float32Array, v: out[kvName('present', i, 'value')] as Float32Array }));
    return { logits: out[PREFILL_IO.logits] as Float32Array, present, mask };
  }

  /**
   * The decode step's caches: the prompts' keys/values [P, nKv, Sp, D] as the prefill gave them when
   * row b continues prompt floor(b / (B / P)) (rollouts: each prompt's G rows in a block), else copied
   * to one per row; empty generated caches [B, nKv, Sg, D]; the key mask with each row's prompt mask.
   */
  private caches(present: LayerArrays[], promptMask: readonly (readonly number[])[], rowPrompt: readonly number[], Sp: number, Sg: number): KvBuffers {
    const { numKvHeads: nKv, headDim: D } = this.config;
    const B = rowPrompt.length;
    const P = promptMask.length;
    const grouped = B % P === 0 && rowPrompt.every((p, b) => p === Math.floor(b / (B / P)));
    const block = nKv * Sp * D; // one prompt's keys (or values)
    const perRow = (src: Float32Array) => {
      if (src.length !== P * block) throw new Error(`prefill keys/values hold ${src.length} values, expected [${P}, ${nKv}, ${Sp}, ${D}]`);
      if (grouped) return src;
      const dst = new Float32Array(B * block);
      rowPrompt.forEach((p, b) => dst.set(src.subarray(p * block, (p + 1) * block), b * block));
      return dst;
    };
    const W = Sp + Sg + 1;
    const keyMask = new Uint8Array(B * W);
    const seen = new Int32Array(B);
    rowPrompt.forEach((p, b) => {
      promptMask[p].forEach((m, j) => (keyMask[b * W + j] = m));
      seen[b] = promptMask[p].reduce((a, m) => a + m, 0);
    });
    const empty = () => new Float32Array(B * nKv * Sg * D);
    const prompt = Sg === 0 ? [] : present.map((l) => ({ k: perRow(l.k), v: perRow(l.v) }));
    const generated = Sg === 0 ? [] : present.map(() => ({ k: empty(), v: empty() }));
    return { Sp, Sg, prompts: grouped ? P : B, prompt, generated, keyMask, seen, used: 0 };
  }

  /** Feed each row's last token (padding for finished rows), run one decode step, store its keys/values; returns logits [B, V]. */
  private async decodeStep(state: DecodeState, cache: KvBuffers): Promise<Float32Array> {
    const { B, tokens, finish, padId } = state;
    const { numKvHeads: nKv, headDim: D, numLayers } = this.config;
    const { Sp, Sg, prompts } = cache;
    const slot = cache.used; // the generated slot this step's token goes into afterwards
    if (slot >= Sg) throw new Error(`OnnxDecoder: decode slot ${slot} is past the generated-token capacity ${Sg}`);
    const next = tokens.map((t, b) => (finish[b] ? padId : t[t.length - 1]));
    // The new token is the last key of this step.
    const W = Sp + Sg + 1;
    const positions: number[][] = new Array(B);
    for (let b = 0; b < B; b++) {
      const real = finish[b] ? 0 : 1;
      cache.keyMask[b * W + W - 1] = real;
      positions[b] = [Math.max(cache.seen[b] + real - 1, 0)];
      cache.seen[b] += real;
    }
    const { cos, sin } = ropeFeeds(this.config, positions);
    const session = await this.sessions.get(`decode:${this.keySuffix()}:B${B}:P${prompts}:Sp${Sp}:Sg${Sg}`, () => {
      const g = new Graph(`decoder_decode_B${B}_P${prompts}_Sp${Sp}_Sg${Sg}`);
      const { base, lora } = this.sources(g);
      decodeStepGraph(g, { config: this.config, B, P: prompts, Sp, Sg, lora: this.lora }, base, lora);
      return g;
    });
    const feeds: Record<string, TypedArray> = { [DECODE_IO.ids]: BigInt64Array.from(next, (t) => BigInt(t)), [DECODE_IO.cos]: cos, [DECODE_IO.sin]: sin, [DECODE_IO.keyMask]: cache.keyMask };
    for (let i = 0; i < numLayers; i++) {
      feeds[kvName('prompt', i, 'key')] = cache.prompt[i].k;
      feeds[kvName('prompt', i, 'value')] = cache.prompt[i].v;
      feeds[kvName('past', i, 'key')] = cache.generated[i].k;
      feeds[kvName('past', i, 'value')] = cache.generated[i].v;
    }
    const out = await this.run(session, feeds);
    for (let b = 0; b < B; b++) cache.keyMask[b * W + Sp + slot] = cache.keyMask[b * W + W - 1]; // the slot now holds the token
    for (let i = 0; i < numLayers; i++) {
      writeSlot(cache.generated[i].k, out[kvName('present', i, 'key')] as Float32Array, B * nKv, D, Sg, slot); // [B, nKv, 1, D]
      writeSlot(cache.generated[i].v, out[kvName('present', i, 'value')] as Float32Array, B * nKv, D, Sg, slot);
    }
    cache.used++;
    return out[DECODE_IO.logits] as Float32Array;
  }

  /** Release every cached session. */
  async dispose(): Promise<void> {
    await this.sessions.dispose();
  }
}

/** Write this step's keys or values [heads, D] into slot `slot` of a cache [heads, capacity, D] (no per-head views). */
function writeSlot(cache: Float32Array, step: Float32Array, heads: number, D: number, capacity: number, slot: number): void {
  for (let r = 0; r < heads; r++) {
    const to = (r * capacity + slot) * D;
    const from = r * D;
    for (let d = 0; d < D; d++) cache[to + d] = step[from + d];
  }
}
