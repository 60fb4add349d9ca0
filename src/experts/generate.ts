// Greedy text generation by a frozen expert over its ONNX decoder (method text-concat): the expert's own
// tokenizer, left-padded batches sorted by length, and — the project's export has no KV cache — the whole
// sequence recomputed at every step (`input_ids`, `attention_mask` -> `logits`; fine for tiny models).
// A row stops at EOS, once its decoded text contains a stop string (the closing answer tag), or after
// maxNewTokens (or when the model's positions run out). Results are cached on disk (./text-cache.ts).
// Only the last position's logits are needed: when the LM head is a MatMul (musketeers' export), the graph
// is rewritten to slice the last position before it, so the head runs once per row, not once per position.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { readOnnxModelFile } from '../models/onnx/model-file.js';
import { valueInfo } from '../models/onnx/graph-builder.js';
import { DataType, encodeModel, int64Tensor as int64Initializer, type ModelProto } from '../models/onnx/onnx-proto.js';
import { argmax, stopReason, type FinishReason } from '../models/sampling.js';
import { loadTokenizer } from '../models/tokenizer/hf.js';
import type { TextTokenizer } from '../models/tokenizer/types.js';
import { hashFile, sha256 } from './cache.js';
import { embeddingRows } from './hidden-states.js';
import { createSession, float32Data, int64Tensor, type ExecutionProvider, type OrtSession } from './ort.js';
import type { ExpertTextCache, GeneratedText, GenerationKeySettings } from './text-cache.js';

export type { GeneratedText } from './text-cache.js';

export interface GeneratorOptions {
  name: string;
  /** Path of the expert's `model.onnx` (it must output `logits`). */
  model: string;
  /** Directory or tokenizer.json of the expert's tokenizer; default: the model's directory. */
  tokenizer?: string;
  /** Longest generation in the expert's tokens. */
  maxNewTokens: number;
  /** A row stops once its decoded text contains one of these (e.g. `</answer>`). */
  stopStrings?: string[];
  /** Prompts per ONNX run; default 1. */
  batchSize?: number;
  /** Prepend the tokenizer's BOS token (the tiny world's models were trained with it). */
  addBos?: boolean;
  /** Positions of the model (prompt + generated); default the model's maxPositionEmbeddings metadata. */
  maxPositions?: number;
  executionProviders?: ExecutionProvider[];
  intraOpThreads?: number;
}

export interface GeneratorContext {
  cache?: ExpertTextCache;
  warn?: (message: string) => void;
}

export interface GenerateStats {
  prompts: number;
  cached: number;
  computed: number;
  /** Tokens generated (EOS included). */
  newTokens: number;
  /** Positions run through the model over all steps, padding included (the recompute cost). */
  forwardTokens: number;
  /** ONNX runs (one per generated position per batch). */
  runs: number;
  truncated: number;
  seconds: number;
}

const LOGITS = 'logits';

/**
 * A copy of `model` whose only output is `logits` (the hidden-state outputs are pruned by ORT) and, when
 * the node writing `logits` is a MatMul over [B, T, H] states, whose LM head reads the last position only
 * (`logits` becomes [B, 1, V]). Initializer bytes are shared with the original.
 */
export function withLastLogitsOnly(model: ModelProto, source: string): { model: ModelProto; lastOnly: boolean } {
  const graph = model.graph!;
  const logits = graph.output.find((o) => o.name === LOGITS);
  if (!logits) {
    throw new Error(`${source}: the model has no \`${LOGITS}\` output (outputs: ${graph.output.map((o) => o.name).join(', ')}); text generation needs a decoder exported with its LM head`);
  }
  const head = graph.node.findIndex((n) => n.output.includes(LOGITS));
  if (head < 0 || graph.node[head].opType !== 'MatMul' || (graph.node[head].domain ?? '') !== '') return { model: { ...model, graph: { ...graph, output: [logits] } }, lastOnly: false };
  const names = new Set([...graph.node.flatMap((n) => n.output), ...graph.initializer.map((t) => t.name ?? '')]);
  const fresh = (base: string) => {
    let name = base;
    for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
    names.add(name);
    return name;
  };
  const [starts, ends, axes, sliced] = [fresh('generate.last.starts'), fresh('generate.last.ends'), fresh('generate.last.axes'), fresh('generate.last_position')];
  const node = graph.node[head];
  const slice = { input: [node.input[0], starts, ends, axes], output: [sliced], opType: 'Slice', attribute: [], name: sliced };
  const nodes = [...graph.node.slice(0, head), slice, { ...node, input: [sliced, ...node.input.slice(1)] }, ...graph.node.slice(head + 1)];
  const dims = logits.type?.tensorType?.shape?.dim ?? [];
  const vocab = dims.length === 3 && dims[2].dimValue !== undefined ? Number(dims[2].dimValue) : 'vocab';
  return {
    model: {
      ...model,
      graph: {
        ...graph,
        node: nodes,
        initializer: [...graph.initializer, int64Initializer(starts, [1], [-1]), int64Initializer(ends, [1], [BigInt('9223372036854775807')]), int64Initializer(axes, [1], [1])],
        output: [valueInfo(LOGITS, DataType.FLOAT, ['batch', 1, vocab])],
      },
    },
    lastOnly: true,
  };
}

export class ExpertGenerator {
  readonly lastStats: GenerateStats = { prompts: 0, cached: 0, computed: 0, newTokens: 0, forwardTokens: 0, runs: 0, truncated: 0, seconds: 0 };

  private constructor(
    readonly name: string,
    readonly tokenizer: TextTokenizer,
    private readonly session: OrtSession,
    private readonly vocabSize: number,
    readonly settings: GenerationKeySettings & { batchSize: number },
    /** Positions of the model, when known. */
    readonly maxPositions: number | undefined,
    private readonly modelHash: string,
    private readonly tokenizerHash: string,
    private readonly context: GeneratorContext,
  ) {}

  /** Validate files, tokenizer and settings, then open the session. Every error names the file and the fix. */
  static async open(options: GeneratorOptions, context: GeneratorContext = {}): Promise<ExpertGenerator> {
    const model = resolve(options.model);
    if (!existsSync(model)) {
      throw new Error(`expert '${options.name}': model file not found: ${model}; build the tiny experts with \`musketeers experts build CONFIG\` or fix the path`);
    }
    if (!Number.isInteger(options.maxNewTokens) || options.maxNewTokens < 1) throw new Error(`expert '${options.name}': maxNewTokens must be a positive integer (got ${options.maxNewTokens})`);
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`expert '${options.name}': batchSize must be a positive integer (got ${batchSize})`);
    const tokenizerPath = resolve(options.tokenizer ?? dirname(model));
    const tokenizer = loadTokenizer(tokenizerPath, { name: options.name });
    const { model: proto, bytes } = readOnnxModelFile(model);
    const rows = embeddingRows(proto);
    if (rows !== undefined && tokenizer.vocabSize > rows) {
      throw new Error(
        `expert '${options.name}': tokenizer ${tokenizerPath} has ${tokenizer.vocabSize} ids but model ${model} embeds only ${rows}; ` +
          'they do not belong together: point `tokenizer` at the tokenizer the model was trained with',
      );
    }
    const session = await createSession(encodeModel(withLastLogitsOnly(proto, model).model), {
      executionProviders: options.executionProviders,
      intraOpThreads: options.intraOpThreads,
      warn: context.warn,
      name: model,
    });
    let maxPositions = options.maxPositions;
    const meta = session.metadata.decoder_config;
    if (maxPositions === undefined && meta) {
      try {
        maxPositions = (JSON.parse(meta) as { maxPositionEmbeddings?: number }).maxPositionEmbeddings;
      } catch {
        /* metadata written by other tools: no limit known */
      }
    }
    const vocab = Number(session.outputs[0]?.shape[2]);
    const addBos = options.addBos ?? false;
    const settings = {
      maxNewTokens: options.maxNewTokens,
      stopStrings: [...(options.stopStrings ?? [])],
      addBos,
      maxPromptTokens: maxPositions === undefined ? undefined : maxPositions - 1,
      batchSize,
    };
    return new ExpertGenerator(
      options.name,
      tokenizer,
      session,
      Number.isInteger(vocab) && vocab > 0 ? vocab : (rows ?? tokenizer.vocabSize),
      settings,
      maxPositions,
      sha256(bytes),
      await hashFile(tokenizerPath.endsWith('.json') ? tokenizerPath : resolve(tokenizerPath, 'tokenizer.json')),
      context,
    );
  }

  private tokenize(prompt: string): { ids: number[]; truncated: boolean } {
    let ids = this.tokenizer.encode(prompt, { addBos: this.settings.addBos });
    if (ids.length === 0) throw new Error(`expert '${this.name}': a prompt encodes to no tokens (empty prompt?)`);
    const limit = this.settings.maxPromptTokens;
    const truncated = limit !== undefined && ids.length > limit;
    if (truncated) ids = ids.slice(ids.length - limit!);
    return { ids, truncated };
  }

  private decode = (ids: number[]): string => this.tokenizer.decode(ids, { skipSpecial: true });

  /** Greedy generations for `prompts`, in order. Cached entries are read, the rest generated and cached. */
  async generate(prompts: readonly string[], onBatch?: (done: number, total: number) => void): Promise<GeneratedText[]> {
    const started = performance.now();
    const stats: GenerateStats = { prompts: prompts.length, cached: 0, computed: 0, newTokens: 0, forwardTokens: 0, runs: 0, truncated: 0, seconds: 0 };
    const cache = this.context.cache;
    const results: (GeneratedText | undefined)[] = new Array(prompts.length);
    const keys = prompts.map((prompt) => cache?.key({ modelHash: this.modelHash, tokenizerHash: this.tokenizerHash, settings: this.settings, prompt }));
    const todo: { index: number; ids: number[] }[] = [];
    prompts.forEach((prompt, i) => {
      const hit = keys[i] !== undefined ? cache!.get(keys[i]!) : undefined;
      if (hit) {
        results[i] = hit;
        stats.cached++;
        return;
      }
      const { ids, truncated } = this.tokenize(prompt);
      if (truncated) stats.truncated++;
      todo.push({ index: i, ids });
    });
    if (stats.truncated > 0) {
      this.context.warn?.(`expert '${this.name}': ${stats.truncated} prompt(s) longer than ${this.settings.maxPromptTokens} tokens were cut to their last ${this.settings.maxPromptTokens} tokens`);
    }
    todo.sort((a, b) => b.ids.length - a.ids.length || a.index - b.index); // longest first: similar lengths per batch
    const { batchSize } = this.settings;
    for (let start = 0; start < todo.length; start += batchSize) {
      const batch = todo.slice(start, start + batchSize);
      const generated = await this.generateBatch(batch.map((b) => b.ids), stats);
      batch.forEach((b, k) => {
        results[b.index] = generated[k];
        if (keys[b.index] !== undefined) cache!.put(keys[b.index]!, generated[k]);
      });
      stats.computed += batch.length;
      onBatch?.(Math.min(start + batchSize, todo.length), todo.length);
    }
    stats.seconds = (performance.now() - started) / 1000;
    Object.assign(this.lastStats, stats);
    return results as GeneratedText[];
  }

  /** One batch: every step runs the unfinished rows' full sequences, left-padded, and appends each row's argmax. */
  private async generateBatch(prompts: readonly number[][], stats: GenerateStats): Promise<GeneratedText[]> {
    const { maxNewTokens, stopStrings } = this.settings;
    const eos = new Set(this.tokenizer.eosId === undefined ? [] : [this.tokenizer.eosId]);
    const pad = this.tokenizer.padId ?? 0;
    const rows = prompts.map((ids) => ({
      seq: [...ids],
      tokens: [] as number[],
      budget: Math.min(maxNewTokens, this.maxPositions === undefined ? maxNewTokens : this.maxPositions - ids.length),
      finish: undefined as FinishReason | undefined,
    }));
    for (const r of rows) if (r.budget <= 0) r.finish = 'length';
    const V = this.vocabSize;
    for (;;) {
      const active = rows.filter((r) => r.finish === undefined);
      if (active.length === 0) break;
      const T = Math.max(...active.map((r) => r.seq.length));
      const ids = active.map((r) => [...new Array<number>(T - r.seq.length).fill(pad), ...r.seq]);
      const mask = active.map((r) => [...new Array<number>(T - r.seq.length).fill(0), ...new Array<number>(r.seq.length).fill(1)]);
      const out = await this.session.run({ input_ids: int64Tensor(ids), attention_mask: int64Tensor(mask) }, [LOGITS]);
      const logits = out[LOGITS];
      const data = float32Data(logits, LOGITS);
      const positions = logits.dims[1]; // 1 when the graph slices the last position, else T
      if (logits.dims.length !== 3 || logits.dims[0] !== active.length || (positions !== 1 && positions !== T) || logits.dims[2] !== V) {
        logits.dispose();
        throw new Error(`expert '${this.name}': logits have shape [${logits.dims.join(', ')}], expected [${active.length}, 1 or ${T}, ${V}]`);
      }
      active.forEach((r, a) => {
        const offset = (a * positions + positions - 1) * V; // the last position of row a
        const next = argmax(data.subarray(offset, offset + V));
        r.tokens.push(next);
        r.seq.push(next);
        r.finish = stopReason(r.tokens, eos, stopStrings, this.decode) ?? (r.tokens.length >= r.budget ? 'length' : undefined);
      });
      logits.dispose();
      stats.runs++;
      stats.forwardTokens += active.length * T;
      stats.newTokens += active.length;
    }
    return rows.map((r, k) => ({ text: this.decode(r.tokens), tokens: r.tokens, finishReason: r.finish!, promptTokens: prompts[k].length }));
  }

  async dispose(): Promise<void> {
    await this.session.dispose();
  }
}
