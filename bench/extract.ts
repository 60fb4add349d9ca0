// Expert hidden-state extraction: the quickstart experts' architectures (random weights, their own
// tokenizers) run by the ExpertRunner over prompts of the quickstart mixture, at batch 1 and 32, cold
// (no cache) and cached. FLOPs per padded token: 2 x (non-embedding matrix parameters; the LM head is
// pruned) + attention 4 x T x (heads x headDim) per layer, T = mean padded length of the batches.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HiddenStateCache } from '../src/experts/cache.js';
import { ExpertRunner } from '../src/experts/runner.js';
import { loadConfig } from '../src/config.js';
import { decoderConfig, expectedWeightShapes, initDecoderWeights, type DecoderConfig } from '../src/models/decoder-config.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../src/models/onnx/export-decoder.js';
import { buildCharTokenizer, projectTokenizer, saveTokenizer, trainBpeTokenizer } from '../src/models/tokenizer/build.js';
import { PACKAGE_ROOT } from '../src/version.js';
import { dataComposite } from '../src/world/data.js';
import { formatPrompt } from '../src/world/format.js';
import { taskRegistry } from '../tasks/index.js';
import { round, type BenchContext, type BenchSection } from './common.js';
import { matmulRate } from './matmul.js';

function flopsPerToken(c: DecoderConfig, meanPadded: number): number {
  let matrix = 0;
  for (const [name, shape] of expectedWeightShapes(c)) {
    if (name.endsWith('.weight') && shape.length === 2 && !name.includes('embed_tokens') && name !== 'lm_head.weight') matrix += shape[0] * shape[1];
  }
  return 2 * matrix + c.numLayers * 4 * meanPadded * c.numHeads * c.headDim;
}

export async function benchExtract(ctx: BenchContext): Promise<BenchSection> {
  const { config } = loadConfig(join(PACKAGE_ROOT, 'configs', 'quickstart.yaml'));
  const format = { template: config.data.prompt.template, answerTag: config.data.prompt.answerTag };
  const dataset = dataComposite(config, taskRegistry);
  const prompts = Array.from({ length: ctx.quick ? 48 : 256 }, (_, i) => formatPrompt(format, dataset.get(i)));
  const reference = matmulRate(ctx);
  const rows: (string | number)[][] = [];
  const records: Record<string, unknown>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'musketeers-bench-'));
  for (const model of config.world!.models.filter((m) => m.role === 'expert')) {
    const tokenizerJson = model.tokenizer.kind === 'char' ? buildCharTokenizer() : trainBpeTokenizer(prompts, { vocabSize: model.tokenizer.vocabSize, digits: model.tokenizer.digits });
    const vocab = projectTokenizer(tokenizerJson, model.name).vocabSize;
    const arch = decoderConfig({ vocabSize: vocab, ...model.architecture });
    const modelDir = join(dir, model.name);
    saveTokenizer(modelDir, tokenizerJson);
    writeOnnxModel(join(modelDir, 'model.onnx'), exportDecoderToOnnx(arch, initDecoderWeights(arch, 1), { hiddenStates: 'all' }));
    for (const batchSize of [1, 32]) {
      const runner = await ExpertRunner.open({ name: model.name, model: join(modelDir, 'model.onnx'), batchSize });
      await runner.extract(prompts.slice(0, batchSize)); // warm-up
      await runner.extract(prompts);
      const cold = { ...runner.lastStats };
      await runner.dispose();
      const meanPadded = cold.paddedTokens / cold.prompts;
      const gflops = (cold.paddedTokens * flopsPerToken(arch, meanPadded)) / cold.seconds / 1e9;
      const cache = new HiddenStateCache(join(dir, 'cache', `${model.name}-${batchSize}`));
      const cached = await ExpertRunner.open({ name: model.name, model: join(modelDir, 'model.onnx'), batchSize }, { cache });
      await cached.extract(prompts); // fills the cache
      await cached.extract(prompts);
      const hit = { ...cached.lastStats };
      await cached.dispose();
      const row = {
        expert: model.name,
        tokenizer: model.tokenizer.kind,
        hidden: arch.hiddenSize,
        layers: arch.numLayers,
        batch: batchSize,
        promptTokensPerSec: cold.tokens / cold.seconds,
        paddedTokensPerSec: cold.paddedTokens / cold.seconds,
        gflops,
        fractionOfMatmul: reference ? gflops / reference : undefined,
        cachedPromptsPerSec: hit.prompts / hit.seconds,
        cacheHits: hit.cached,
      };
      records.push(row);
      rows.push([row.expert, row.tokenizer, `${row.hidden}x${row.layers}`, batchSize, round(row.promptTokensPerSec, 0), round(row.paddedTokensPerSec, 0), round(gflops, 2), reference ? `${round(100 * gflops / reference, 1)}%` : '-', round(row.cachedPromptsPerSec, 0)]);
    }
  }
  return {
    name: 'extract',
    title: `Expert hidden-state extraction (${prompts.length} quickstart prompts, last layer, pooling last)`,
    headers: ['expert', 'tokenizer', 'width x layers', 'batch', 'prompt tok/s', 'padded tok/s', 'GFLOP/s', 'of MatMul', 'cached prompts/s'],
    rows,
    records,
  };
}
