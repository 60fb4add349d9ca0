// Expert hidden-state extraction throughput: the quickstart experts' architectures with RANDOM weights and
// their own tokenizers, exported to ONNX in a temp dir and run by the ExpertRunner over prompts of the
// quickstart task mixture, at batch 1 and 32, cold (no cache) and cached; GFLOP/s against the MatMul rate.
//
// FLOPs (forward, multiply-add = 2), per batch of B prompts left-padded to T tokens:
//   B·T · 2·P  +  B·T · L · 4·T·Hq·d
// P = weights of the 2-D projection matrices of the decoder layers (q, k, v, o, gate, up, down): the
// non-embedding parameters without the norms (elementwise) and without the LM head (the runner prunes the
// graph to the hidden-state output, so the head is never run); the second term is attention: Q·Kᵀ and
// P·V over all T key positions (the ONNX graph computes the full masked square) for Hq query heads of
// width d in each of L layers. Batches are recomputed exactly as the runner forms them (longest first).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sampleFromConfig } from '../src/commands/tasks.js';
import { loadConfig, type MusketeersConfig } from '../src/config.js';
import { HiddenStateCache } from '../src/experts/cache.js';
import { ExpertRunner, type ExtractStats } from '../src/experts/runner.js';
import { expectedWeightShapes, type DecoderConfig } from '../src/models/decoder-config.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { formatPrompt } from '../src/world/format.js';
import { chooseExperts, tokenizerMaker, writeBenchExpert } from './bench-experts.js';
import { perSecond, round, type BenchContext, type BenchSection, type BenchSectionDef, timingOf } from './common.js';
import { matmulRate, measureMatmul } from './matmul.js';

export interface ExtractOptions {
  /** Config whose world experts and data mixture are used; default configs/quickstart.yaml. */
  configPath?: string;
  /** Prompts per pass (the first N items of the training mixture); default 256 (quick: 64). */
  prompts?: number;
  /** Only these experts (names); default every `role: expert` model. */
  experts?: string[];
  /** Default [1, 32]. */
  batchSizes?: number[];
  /** Timed passes over all prompts (the median is reported); default 3 (quick: 1). */
  repeats?: number;
  /** Untimed passes after the first (ORT tunes its arena per shape over the first passes); default 2 (quick: 1). */
  warmup?: number;
  /** Items per task in the BPE tokenizer corpus; default 200 (quick: 50). */
  corpusItemsPerTask?: number;
}

/** FLOPs of one pass: see the header of this file. */
export interface FlopCount {
  paddedTokens: number;
  realTokens: number;
  batches: number;
  matrixParams: number;
  flops: number;
  attentionFlops: number;
}

/** Weights of the decoder-layer projection matrices (embedding, LM head and norms excluded). */
export function matrixParams(c: DecoderConfig): number {
  let n = 0;
  for (const [name, shape] of expectedWeightShapes(c)) {
    if (name.startsWith('model.layers.') && shape.length === 2) n += shape[0] * shape[1];
  }
  return n;
}

/** Exact FLOPs of extracting prompts with these token lengths at this batch size (the runner's batching). */
export function extractionFlops(c: DecoderConfig, lengths: readonly number[], batchSize: number): FlopCount {
  const sorted = [...lengths].sort((a, b) => b - a);
  const p = matrixParams(c);
  const hq = c.numHeads * c.headDim;
  let padded = 0;
  let flops = 0;
  let attention = 0;
  let batches = 0;
  for (let start = 0; start < sorted.length; start += batchSize) {
    const b = Math.min(batchSize, sorted.length - start);
    const t = sorted[start]; // [b, t] after left padding
    const att = b * t * c.numLayers * 4 * t * hq;
    padded += b * t;
    attention += att;
    flops += b * t * 2 * p + att;
    batches++;
  }
  return { paddedTokens: padded, realTokens: lengths.reduce((a, x) => a + x, 0), batches, matrixParams: p, flops, attentionFlops: attention };
}

export async function benchExtract(ctx: BenchContext, options: ExtractOptions = {}): Promise<BenchSection> {
  const configPath = options.configPath ?? join(PACKAGE_ROOT, 'configs', 'quickstart.yaml');
  const { config } = loadConfig(configPath);
  const experts = chooseExperts(config, configPath, options.experts, 'extract');
  const count = options.prompts ?? (ctx.quick ? 64 : 256);
  const batchSizes = options.batchSizes ?? [1, 32];
  const repeats = options.repeats ?? (ctx.quick ? 1 : 3);
  const warmup = options.warmup ?? (ctx.quick ? 1 : 2);
  const itemsPerTask = options.corpusItemsPerTask ?? (ctx.quick ? 50 : 200);

  // Prompts: the first `count` items of the training mixture (`musketeers tasks sample --config`), as the experts read them.
  const format = { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
  const prompts = sampleFromConfig(configPath, [], count, 'train').map((e) => formatPrompt(format, e));
  // BPE corpus: questions and answers from the task generators, for the expert's own tasks.
  const expertTokenizer = await tokenizerMaker(config, itemsPerTask);

  let reference = matmulRate(ctx);
  let referenceSource = 'matmul section of this run';
  if (reference === undefined) {
    ctx.progress?.('extract: measuring the 1024x1024 MatMul reference');
    reference = (await measureMatmul(1024, ctx.quick ? 5 : 10)).gflops;
    referenceSource = 'measured by the extract section (matmul section not run)';
  }

  const rows: (string | number)[][] = [];
  const records: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'musketeers-bench-'));
  try {
    for (const model of experts) {
      ctx.progress?.(`extract: ${model.name}`);
      const { tokenizer, arch, modelPath } = writeBenchExpert(dir, model, expertTokenizer(model));
      const lengths = prompts.map((p) => Math.min(tokenizer.encode(p).length, arch.maxPositionEmbeddings));

      for (const batchSize of batchSizes) {
        const count = extractionFlops(arch, lengths, batchSize);
        // Cold: no cache. The first pass of a fresh session is reported apart (ORT sizes its arena per shape).
        const runner = await ExpertRunner.open({ name: model.name, model: modelPath, batchSize });
        const passes: ExtractStats[] = [];
        let first: ExtractStats;
        try {
          await runner.extract(prompts);
          first = { ...runner.lastStats };
          for (let i = 1; i < warmup; i++) await runner.extract(prompts);
          for (let i = 0; i < repeats; i++) {
            await runner.extract(prompts);
            passes.push({ ...runner.lastStats });
          }
        } finally {
          await runner.dispose();
        }
        for (const s of [first, ...passes]) {
          if (s.paddedTokens !== count.paddedTokens || s.tokens !== count.realTokens) {
            throw new Error(`bench extract: ${model.name} batch ${batchSize}: the runner ran ${s.tokens} tokens (${s.paddedTokens} padded), the FLOP count assumed ${count.realTokens} (${count.paddedTokens}); update extractionFlops to the runner's batching`);
          }
        }
        const seconds = timingOf(passes.map((s) => s.seconds));
        const tokS = perSecond(count.realTokens, seconds.median * 1000);
        const gflops = perSecond(count.flops, seconds.median * 1000) / 1e9;

        // Cached: fill a fresh cache (one pass, computing and writing), then passes that only read it.
        const cache = new HiddenStateCache(join(dir, 'cache', `${model.name}-b${batchSize}`));
        const cachedRunner = await ExpertRunner.open({ name: model.name, model: modelPath, batchSize }, { cache });
        const hits: ExtractStats[] = [];
        let fill: ExtractStats;
        try {
          await cachedRunner.extract(prompts);
          fill = { ...cachedRunner.lastStats };
          await cachedRunner.extract(prompts); // warm-up (file-system cache)
          for (let i = 0; i < repeats; i++) {
            await cachedRunner.extract(prompts);
            hits.push({ ...cachedRunner.lastStats });
          }
        } finally {
          await cachedRunner.dispose();
        }
        const hitSeconds = timingOf(hits.map((s) => s.seconds));
        const allHits = hits.every((s) => s.cached === prompts.length && s.computed === 0);

        const record = {
          expert: model.name,
          tokenizer: model.tokenizer.kind,
          vocabSize: arch.vocabSize,
          hiddenSize: arch.hiddenSize,
          numLayers: arch.numLayers,
          numHeads: arch.numHeads,
          numKvHeads: arch.numKvHeads,
          intermediateSize: arch.intermediateSize,
          matrixParams: count.matrixParams,
          batchSize,
          prompts: prompts.length,
          batches: count.batches,
          promptTokens: count.realTokens,
          paddedTokens: count.paddedTokens,
          flopsPerPass: count.flops,
          attentionFlopsPerPass: count.attentionFlops,
          repeats,
          warmup,
          cold: {
            seconds,
            firstPassSeconds: first.seconds,
            promptTokensPerSec: tokS,
            promptTokensPerSecMin: perSecond(count.realTokens, seconds.max * 1000),
            promptTokensPerSecMax: perSecond(count.realTokens, seconds.min * 1000),
            paddedTokensPerSec: perSecond(count.paddedTokens, seconds.median * 1000),
            firstPassPromptTokensPerSec: perSecond(count.realTokens, first.seconds * 1000),
            promptsPerSec: perSecond(prompts.length, seconds.median * 1000),
            gflops,
            fractionOfMatmul: gflops / reference,
          },
          cached: {
            seconds: hitSeconds,
            fillSeconds: fill.seconds,
            promptsPerSec: perSecond(prompts.length, hitSeconds.median * 1000),
            allHits,
          },
        };
        records.push(record);
        rows.push([
          model.name,
          `${model.tokenizer.kind} ${arch.vocabSize}`,
          `${arch.hiddenSize}x${arch.numLayers}`,
          batchSize,
          round(count.realTokens / prompts.length, 1),
          round(tokS, 0),
          `${round(record.cold.promptTokensPerSecMin, 0)}-${round(record.cold.promptTokensPerSecMax, 0)}`,
          round(record.cold.paddedTokensPerSec, 0),
          round(record.cold.firstPassPromptTokensPerSec, 0),
          round(gflops, 2),
          `${round(100 * record.cold.fractionOfMatmul, 1)}%`,
          round(record.cached.promptsPerSec, 0),
          allHits ? 'yes' : 'NO',
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    name: 'extract',
    title: `Expert hidden-state extraction (${prompts.length} quickstart prompts, random weights, last layer, pooling last, ${repeats} timed passes after ${warmup})`,
    headers: ['expert', 'tokenizer', 'width x layers', 'batch', 'tok/prompt', 'prompt tok/s', 'min-max', 'padded tok/s', '1st pass tok/s', 'GFLOP/s', 'of MatMul', 'cached prompts/s', 'all hits'],
    rows,
    records,
    notes: [
      `MatMul reference ${round(reference, 1)} GFLOP/s (1024x1024, ${referenceSource}).`,
      'FLOPs per batch [B, T] = B·T·2·P + B·T·L·4·T·Hq·d; P = decoder-layer projection weights (embedding, norms and the pruned LM head excluded).',
      'tok/s = real prompt tokens (padding excluded) per second, median pass; 1st pass = a fresh session\'s first pass (ORT warm-up included).',
    ],
  };
}

export const section: BenchSectionDef = {
  name: 'extract',
  order: 20,
  description: 'expert hidden-state extraction tokens/s and GFLOP/s (batch 1 and 32, cold and cached)',
  run: (ctx) => benchExtract(ctx),
};
