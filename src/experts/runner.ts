// The frozen-expert runner: renders prompts with the expert's chat template (if any), tokenizes them
// with the expert's own tokenizer, runs its ONNX decoder (left-padded batches, sorted by length; the
// project's exports or Hugging Face optimum layouts, see feeds.ts and model-files.ts), pools the hidden
// state of the chosen layer and caches it. Only the chosen hidden state is computed: the graph is
// rewritten to output that tensor alone (hidden-states.ts).

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { encodeModel } from '../models/onnx/onnx-proto.js';
import { readOnnxModelFile } from '../models/onnx/model-file.js';
import { loadTokenizer } from '../models/tokenizer/hf.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import { HiddenStateCache, hashFile, sha256 } from './cache.js';
import { discoverHiddenStates, embeddingRows, resolveLayer, withOnlyHiddenStateOutput } from './hidden-states.js';
import { type ChatTemplate, loadChatTemplate } from '../models/tokenizer/chat-template.js';
import { buildFeeds, planFeeds, type FeedPlan } from './feeds.js';
import { checkExternalData, defaultTokenizerDir, externalBytes, inlineExternalData, readConfigHints, resolveModelFile, writeSidecarModel } from './model-files.js';
import { createSession, float32Data, type ExecutionProvider, type OrtSession } from './ort.js';
import { POOLINGS, poolHiddenStates, type PooledState, type Pooling } from './pooling.js';

export interface ExpertOptions {
  name: string;
  /** The expert's ONNX model: a `.onnx` file, or a directory holding `model.onnx` (optimum's output). */
  model: string;
  /** Directory or tokenizer.json of the expert's tokenizer; default: the model's directory. */
  tokenizer?: string;
  /**
   * How a prompt is wrapped before tokenizing: `none` (as given), `auto` (the tokenizer's chat template
   * when tokenizer_config.json has one, else none), or the path of a `.jinja` file / tokenizer directory.
   */
  chatTemplate?: string;
  /** System prompt given to the chat template (ignored without one). */
  systemPrompt?: string;
  /** Layer whose hidden state is read; negative counts from the end (-1 = last layer). */
  layer?: number;
  pooling?: Pooling;
  /** Prompts per ONNX run. */
  batchSize?: number;
  /** Keep at most this many tokens (the last ones) of a prompt; default: the model's maxPositionEmbeddings. */
  maxTokens?: number;
  /** Prepend the tokenizer's BOS token. */
  addBos?: boolean;
  executionProviders?: ExecutionProvider[];
  intraOpThreads?: number;
  /** External data up to this many bytes is loaded inline; larger models get a graph file beside them. Default 1.5 GiB. */
  inlineExternalDataBytes?: number;
}

/**
 * What an expert reads: a text, or a user turn and the start of the assistant's reply (e.g. an opening
 * answer tag) — with a chat template the reply start goes after the generation prompt, without one the
 * two are concatenated.
 */
export type ExpertPrompt = string | { user: string; assistant: string };

export interface RunnerContext {
  cache?: HiddenStateCache;
  warn?: (message: string) => void;
}

export interface ExtractStats {
  prompts: number;
  cached: number;
  computed: number;
  /** Real prompt tokens run through the model (padding excluded). */
  tokens: number;
  /** Tokens including padding. */
  paddedTokens: number;
  batches: number;
  truncated: number;
  seconds: number;
}

const DEFAULT_INLINE_LIMIT = 1.5 * 2 ** 30;

export class ExpertRunner {
  private constructor(
    readonly options: Required<Pick<ExpertOptions, 'name' | 'model' | 'layer' | 'pooling' | 'batchSize' | 'addBos'>>,
    readonly tokenizer: TextTokenizer,
    private readonly session: OrtSession,
    private readonly outputName: string,
    /** Resolved layer index, 0..numLayers. */
    readonly layerIndex: number,
    readonly numLayers: number,
    readonly width: number,
    private readonly maxTokens: number | undefined,
    private readonly modelHash: string,
    private readonly tokenizerHash: string,
    private readonly context: RunnerContext,
    private readonly feedPlan: FeedPlan,
    /** The chat template prompts are wrapped in, if any. */
    readonly chatTemplate: ChatTemplate | undefined,
    private readonly systemPrompt: string | undefined,
  ) {}

  /** Validate files, tokenizer and layer, then open the session. Every error names the file and the fix. */
  static async open(options: ExpertOptions, context: RunnerContext = {}): Promise<ExpertRunner> {
    const given = resolve(options.model);
    if (!existsSync(given)) {
      throw new Error(`expert '${options.name}': model file not found: ${given}; build the tiny experts with \`musketeers experts build CONFIG\`, export a real model (README: real models), or fix the path`);
    }
    const model = resolveModelFile(given, options.name);
    const pooling = options.pooling ?? 'last';
    if (!POOLINGS.includes(pooling)) throw new Error(`expert '${options.name}': unknown pooling '${String(pooling)}'; use one of ${POOLINGS.join(', ')}`);
    const tokenizerPath = resolve(options.tokenizer ?? defaultTokenizerDir(model));
    const tokenizer = loadTokenizer(tokenizerPath, { name: options.name });
    const chatTemplate = resolveChatTemplate(options.chatTemplate ?? 'none', tokenizerPath, options.name);
    const { model: proto, bytes } = readOnnxModelFile(model);
    const hints = readConfigHints(model);
    const map = discoverHiddenStates(proto, model);
    const layerIndex = resolveLayer(options.layer ?? -1, map.numLayers, model);
    const rows = embeddingRows(proto);
    if (rows !== undefined && tokenizer.vocabSize > rows) {
      throw new Error(
        `expert '${options.name}': tokenizer ${tokenizerPath} has ${tokenizer.vocabSize} ids but model ${model} embeds only ${rows}; ` +
          'they do not belong together: point `tokenizer` at the tokenizer the model was trained with',
      );
    }
    const feedPlan = planFeeds(proto, model, hints);
    const { model: pruned, output } = withOnlyHiddenStateOutput(proto, map, layerIndex);
    const dataFiles = checkExternalData(proto, model);
    let source: string | Uint8Array;
    if (dataFiles.length === 0) source = encodeModel(pruned);
    else if (externalBytes(proto) <= (options.inlineExternalDataBytes ?? DEFAULT_INLINE_LIMIT)) source = encodeModel(inlineExternalData(pruned, model));
    else source = writeSidecarModel(pruned, model);
    const session = await createSession(source, {
      executionProviders: options.executionProviders,
      intraOpThreads: options.intraOpThreads,
      warn: context.warn,
      name: model,
    });
    const meta = session.metadata.decoder_config;
    let maxTokens = options.maxTokens;
    if (maxTokens === undefined && meta) {
      try {
        maxTokens = (JSON.parse(meta) as { maxPositionEmbeddings?: number }).maxPositionEmbeddings;
      } catch {
        /* metadata written by other tools: no limit known */
      }
    }
    maxTokens ??= hints?.maxPositionEmbeddings;
    const width = map.width ?? hints?.hiddenSize;
    if (width === undefined) {
      await session.dispose();
      throw new Error(`${model}: cannot tell the hidden width (no embedding initializer found and no config.json beside the model); put the model's config.json next to it`);
    }
    // The cache key covers the weights wherever they are: the graph file and every external data file.
    const modelHash = dataFiles.length === 0 ? sha256(bytes) : sha256([sha256(bytes), ...(await Promise.all(dataFiles.map((f) => hashFile(f))))].join(':'));
    return new ExpertRunner(
      { name: options.name, model, layer: options.layer ?? -1, pooling, batchSize: options.batchSize ?? 32, addBos: options.addBos ?? false },
      tokenizer,
      session,
      output,
      layerIndex,
      map.numLayers,
      width,
      maxTokens,
      modelHash,
      await hashFile(resolveTokenizerJson(tokenizerPath)),
      context,
      feedPlan,
      chatTemplate,
      options.systemPrompt,
    );
  }

  /** The text the expert tokenizes for a prompt (the prompt itself, or wrapped in the chat template). */
  render(prompt: ExpertPrompt): string {
    const user = typeof prompt === 'string' ? prompt : prompt.user;
    const assistant = typeof prompt === 'string' ? '' : prompt.assistant;
    return (this.chatTemplate ? this.chatTemplate.prompt(user, this.systemPrompt) : user) + assistant;
  }

  readonly lastStats: ExtractStats = { prompts: 0, cached: 0, computed: 0, tokens: 0, paddedTokens: 0, batches: 0, truncated: 0, seconds: 0 };

  private tokenize(prompt: string): { ids: number[]; truncated: boolean } {
    let ids = this.tokenizer.encode(prompt, { addBos: this.options.addBos });
    if (ids.length === 0) throw new Error(`expert '${this.options.name}': a prompt encodes to no tokens (empty prompt?)`);
    const truncated = this.maxTokens !== undefined && ids.length > this.maxTokens;
    if (truncated) ids = ids.slice(ids.length - this.maxTokens!);
    return { ids, truncated };
  }

  /** Pooled hidden states for `prompts`, in order. Cached entries are read, the rest computed and cached. */
  async extract(prompts: readonly ExpertPrompt[], onBatch?: (done: number, total: number) => void): Promise<PooledState[]> {
    const started = performance.now();
    const stats: ExtractStats = { prompts: prompts.length, cached: 0, computed: 0, tokens: 0, paddedTokens: 0, batches: 0, truncated: 0, seconds: 0 };
    const results: (PooledState | undefined)[] = new Array(prompts.length);
    const keys = prompts.map((prompt) =>
      this.context.cache?.key({ modelHash: this.modelHash, tokenizerHash: this.tokenizerHash, layer: this.layerIndex, pooling: this.options.pooling, prompt: this.render(prompt) }),
    );
    const todo: { index: number; ids: number[] }[] = [];
    prompts.forEach((prompt, i) => {
      const hit = keys[i] !== undefined ? this.context.cache!.get(keys[i]!) : undefined;
      if (hit) {
        results[i] = hit;
        stats.cached++;
        return;
      }
      const { ids, truncated } = this.tokenize(this.render(prompt));
      if (truncated) stats.truncated++;
      todo.push({ index: i, ids });
    });
    if (stats.truncated > 0) {
      this.context.warn?.(`expert '${this.options.name}': ${stats.truncated} prompt(s) longer than ${this.maxTokens} tokens were cut to their last ${this.maxTokens} tokens`);
    }
    // Longest first, so each batch pads to similar lengths.
    todo.sort((a, b) => b.ids.length - a.ids.length || a.index - b.index);
    const pad = this.tokenizer.padId ?? 0;
    for (let start = 0; start < todo.length; start += this.options.batchSize) {
      const batch = todo.slice(start, start + this.options.batchSize);
      const seq = batch[0].ids.length;
      const ids = batch.map((b) => [...new Array<number>(seq - b.ids.length).fill(pad), ...b.ids]); // left padding [B, T]
      const mask = batch.map((b) => [...new Array<number>(seq - b.ids.length).fill(0), ...new Array<number>(b.ids.length).fill(1)]);
      const out = await this.session.run(buildFeeds(this.feedPlan, ids, mask), [this.outputName]);
      const hidden = out[this.outputName];
      const pooled = poolHiddenStates(float32Data(hidden, this.outputName), [batch.length, seq, this.width], mask.flat(), this.options.pooling);
      hidden.dispose();
      batch.forEach((b, k) => {
        results[b.index] = pooled[k];
        if (keys[b.index] !== undefined) this.context.cache!.put(keys[b.index]!, pooled[k]);
        stats.tokens += b.ids.length;
      });
      stats.paddedTokens += batch.length * seq;
      stats.batches++;
      stats.computed += batch.length;
      onBatch?.(Math.min(start + this.options.batchSize, todo.length), todo.length);
    }
    stats.seconds = (performance.now() - started) / 1000;
    Object.assign(this.lastStats, stats);
    return results as PooledState[];
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}

/** `none`, `auto` (the tokenizer's template if it has one) or a template path; errors name the expert. */
function resolveChatTemplate(spec: string, tokenizerPath: string, expert: string): ChatTemplate | undefined {
  if (spec === 'none') return undefined;
  try {
    if (spec === 'auto') return loadChatTemplate(tokenizerPath);
    const t = loadChatTemplate(resolve(spec));
    if (!t) throw new Error(`no chat_template in ${resolve(spec)} (tokenizer_config.json or chat_template.jinja)`);
    return t;
  } catch (error) {
    throw new Error(`expert '${expert}': ${(error as Error).message}`);
  }
}

function resolveTokenizerJson(path: string): string {
  return path.endsWith('.json') ? path : resolve(path, 'tokenizer.json');
}
