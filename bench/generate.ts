// Expert text generation throughput (method text-concat): the quickstart experts' architectures with RANDOM
// weights and their own tokenizers, exported to ONNX in a temp dir, writing greedily with the
// ExpertGenerator for prompts of the quickstart task mixture (as the experts read them), at batch 1 and 32,
// cold (no cache) and cached. Random weights rarely write the closing answer tag, so almost every row runs
// to maxNewTokens: the numbers are the cost of full-length generations.
//
// The project's ONNX export has no KV cache: step t of a row reruns its whole sequence (prompt + t tokens),
// so "forward positions/s" (every position run, padding included) is the work rate and "new tokens/s" the
// useful one; their ratio grows with the prompt length and maxNewTokens.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sampleFromConfig } from '../src/commands/tasks.js';
import { loadConfig } from '../src/config.js';
import { ExpertGenerator, type GenerateStats } from '../src/experts/generate.js';
import { ExpertTextCache } from '../src/experts/text-cache.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { formatExpertPrompt } from '../src/world/format.js';
import { chooseExperts, tokenizerMaker, writeBenchExpert } from './bench-experts.js';
import { perSecond, round, type BenchContext, type BenchSection, type BenchSectionDef, timingOf } from './common.js';

export interface GenerateBenchOptions {
  /** Config whose world experts, data mixture and experts.generation / experts.prompt are used; default configs/quickstart.yaml. */
  configPath?: string;
  /** Prompts per pass (the first N items of the training mixture); default 64 (quick: 16). */
  prompts?: number;
  /** Only these experts (names); default every `role: expert` model. */
  experts?: string[];
  /** Default [1, 32]. */
  batchSizes?: number[];
  /** Longest generation; default the config's experts.generation.maxNewTokens. */
  maxNewTokens?: number;
  /** Timed passes (the median is reported); default 3 (quick: 1). */
  repeats?: number;
  /** Items per task in the BPE tokenizer corpus; default 200 (quick: 50). */
  corpusItemsPerTask?: number;
}

/** One untimed pass, then `repeats` timed passes over the same prompts; the generator is disposed. */
async function timedPasses(generator: ExpertGenerator, prompts: readonly string[], repeats: number): Promise<GenerateStats[]> {
  const passes: GenerateStats[] = [];
  try {
    await generator.generate(prompts);
    for (let i = 0; i < repeats; i++) {
      await generator.generate(prompts);
      passes.push({ ...generator.lastStats });
    }
  } finally {
    await generator.dispose();
  }
  return passes;
}

export async function benchGenerate(ctx: BenchContext, options: GenerateBenchOptions = {}): Promise<BenchSection> {
  const configPath = options.configPath ?? join(PACKAGE_ROOT, 'configs', 'quickstart.yaml');
  const { config } = loadConfig(configPath);
  const experts = chooseExperts(config, configPath, options.experts, 'generate');
  const count = options.prompts ?? (ctx.quick ? 16 : 64);
  const batchSizes = options.batchSizes ?? [1, 32];
  const repeats = options.repeats ?? (ctx.quick ? 1 : 3);
  const maxNewTokens = options.maxNewTokens ?? config.experts.generation.maxNewTokens;
  const format = { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
  const stopStrings = [`</${format.answerTag}>`];
  const prompts = sampleFromConfig(configPath, [], count, 'train').map((e) => formatExpertPrompt(format, e, config.experts.prompt));
  const expertTokenizer = await tokenizerMaker(config, options.corpusItemsPerTask ?? (ctx.quick ? 50 : 200));

  const rows: (string | number)[][] = [];
  const records: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'musketeers-bench-generate-'));
  try {
    for (const model of experts) {
      ctx.progress?.(`generate: ${model.name}`);
      const { arch, modelPath } = writeBenchExpert(dir, model, expertTokenizer(model));
      for (const batchSize of batchSizes) {
        const open = (cache?: ExpertTextCache) => ExpertGenerator.open({ name: model.name, model: modelPath, maxNewTokens, stopStrings, batchSize, addBos: true }, { cache });
        // Cold: no cache; one untimed pass first (ORT sizes its arena per shape).
        const passes = await timedPasses(await open(), prompts, repeats);
        // Cached: one pass fills a fresh cache, then passes that only read it.
        const cache = new ExpertTextCache(join(dir, 'cache', `${model.name}-b${batchSize}`));
        const hits = await timedPasses(await open(cache), prompts, repeats);
        const seconds = timingOf(passes.map((s) => s.seconds));
        const s = passes[0];
        const newTokensPerSec = perSecond(s.newTokens, seconds.median * 1000);
        const hitSeconds = timingOf(hits.map((h) => h.seconds));
        const allHits = hits.every((h) => h.cached === prompts.length && h.computed === 0);
        const record = {
          expert: model.name,
          tokenizer: model.tokenizer.kind,
          vocabSize: arch.vocabSize,
          hiddenSize: arch.hiddenSize,
          numLayers: arch.numLayers,
          batchSize,
          prompts: prompts.length,
          maxNewTokens,
          newTokens: s.newTokens,
          forwardTokens: s.forwardTokens,
          onnxRuns: s.runs,
          stoppedEarly: s.newTokens < prompts.length * maxNewTokens,
          repeats,
          cold: {
            seconds,
            newTokensPerSec,
            newTokensPerSecMin: perSecond(s.newTokens, seconds.max * 1000),
            newTokensPerSecMax: perSecond(s.newTokens, seconds.min * 1000),
            forwardTokensPerSec: perSecond(s.forwardTokens, seconds.median * 1000),
            promptsPerSec: perSecond(prompts.length, seconds.median * 1000),
          },
          cached: { seconds: hitSeconds, promptsPerSec: perSecond(prompts.length, hitSeconds.median * 1000), allHits },
        };
        records.push(record);
        rows.push([
          model.name,
          `${model.tokenizer.kind} ${arch.vocabSize}`,
          `${arch.hiddenSize}x${arch.numLayers}`,
          batchSize,
          round(s.newTokens / prompts.length, 1),
          round(newTokensPerSec, 0),
          `${round(record.cold.newTokensPerSecMin, 0)}-${round(record.cold.newTokensPerSecMax, 0)}`,
          round(record.cold.forwardTokensPerSec, 0),
          round(record.cold.promptsPerSec, 1),
          round(record.cached.promptsPerSec, 0),
          allHits ? 'yes' : 'NO',
        ]);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    name: 'generate',
    title: `Expert text generation, greedy, no KV cache (${prompts.length} quickstart prompts, random weights, max ${maxNewTokens} new tokens, ${repeats} timed passes)`,
    headers: ['expert', 'tokenizer', 'width x layers', 'batch', 'new tok/prompt', 'new tok/s', 'min-max', 'forward pos/s', 'prompts/s', 'cached prompts/s', 'all hits'],
    rows,
    records,
    notes: [
      'new tok/s = generated tokens per second (median pass); forward pos/s = positions run through the model per second, padding included (each step reruns the whole sequence).',
      'Random weights rarely close the answer tag, so rows run to max new tokens; trained experts stop after their answer.',
    ],
  };
}

export const section: BenchSectionDef = {
  name: 'generate',
  order: 25,
  description: 'expert text generation (text-concat) new tokens/s, batch 1 and 32, cold and cached',
  run: (ctx) => benchGenerate(ctx),
};
