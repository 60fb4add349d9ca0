// The expert runner on a tiny exported decoder: pooled hidden states equal the float64 reference for
// any layer (also one the export did not expose), batching/padding does not change results, the cache
// is used on the second pass and survives corruption, and bad inputs give errors naming file and fix.

import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { HiddenStateCache } from '../../src/experts/cache.js';
import { ExpertRunner } from '../../src/experts/runner.js';
import { decoderConfig, initDecoderWeights, type DecoderConfig, type DecoderWeights } from '../../src/models/decoder-config.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../../src/models/onnx/export-decoder.js';
import { referenceForward } from '../../src/models/reference.js';
import { buildCharTokenizer, saveTokenizer, projectTokenizer } from '../../src/models/tokenizer/build.js';
import { tempDir } from '../helpers/tmp.js';

const PROMPTS = ['What is 12 + 7?', 'Sort: 3, 1, 2', 'x', 'How many legs do 2 cats have?', 'gcd(12, 18)'];

function buildExpert(hiddenStates: 'all' | number[], vocab = 130): { dir: string; config: DecoderConfig; weights: DecoderWeights } {
  const dir = tempDir('expert-');
  const config = decoderConfig({ vocabSize: vocab, hiddenSize: 32, numLayers: 3, numHeads: 4, numKvHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 });
  const weights = initDecoderWeights(config, 11, 0.1);
  writeOnnxModel(join(dir, 'model.onnx'), exportDecoderToOnnx(config, weights, { hiddenStates }));
  saveTokenizer(dir, buildCharTokenizer(), { name: 'char' });
  return { dir, config, weights };
}

function expected(config: DecoderConfig, weights: DecoderWeights, prompt: string, layer: number, pooling: 'last' | 'mean'): number[] {
  const ids = projectTokenizer(buildCharTokenizer(), 'char').encode(prompt);
  const out = referenceForward(config, weights, { inputIds: [ids], attentionMask: [ids.map(() => 1)] });
  const states = out.hiddenStates[layer][0];
  if (pooling === 'last') return Array.from(states[states.length - 1]);
  return Array.from(states[0], (_, j) => states.reduce((a, s) => a + s[j], 0) / states.length);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('pooled states match the reference for exposed and hidden layers, any batch size', async () => {
  const { dir, config, weights } = buildExpert([-1]); // only the last layer is a graph output
  for (const [layer, index] of [[-1, 3], [1, 1], [-4, 0]] as const) {
    for (const batchSize of [1, 3]) {
      const runner = await ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), layer, pooling: 'last', batchSize });
      assert.equal(runner.layerIndex, index);
      assert.equal(runner.width, 32);
      const states = await runner.extract(PROMPTS);
      states.forEach((s, i) => {
        assert.deepEqual(s.shape, [32]);
        const diff = maxAbsDiff(s.data, expected(config, weights, PROMPTS[i], index, 'last'));
        assert.ok(diff < 1e-4, `layer ${layer} batch ${batchSize} prompt ${i}: max diff ${diff}`);
      });
      await runner.dispose();
    }
  }
  const mean = await ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), layer: 2, pooling: 'mean', batchSize: 4 });
  const s = await mean.extract(PROMPTS);
  assert.ok(maxAbsDiff(s[3].data, expected(config, weights, PROMPTS[3], 2, 'mean')) < 1e-4);
  const tokens = await ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), pooling: 'tokens' });
  const t = await tokens.extract(['abc']);
  assert.deepEqual(t[0].shape, [3, 32]);
  await Promise.all([mean.dispose(), tokens.dispose()]);
});

test('a second extraction reads the cache; corrupt entries are recomputed', async () => {
  const { dir } = buildExpert('all');
  const cacheDir = tempDir('cache-');
  const reports: string[] = [];
  const cache = new HiddenStateCache(cacheDir, (f, why) => reports.push(why));
  const runner = await ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx') }, { cache });
  const first = await runner.extract(PROMPTS);
  assert.equal(runner.lastStats.computed, PROMPTS.length);
  const second = await runner.extract(PROMPTS);
  assert.equal(runner.lastStats.cached, PROMPTS.length);
  assert.equal(runner.lastStats.computed, 0);
  second.forEach((s, i) => assert.deepEqual(Array.from(s.data), Array.from(first[i].data)));
  // Truncate one entry on disk: detected, reported, recomputed.
  const sub = readdirSync(cacheDir)[0];
  const file = join(cacheDir, sub, readdirSync(join(cacheDir, sub))[0]);
  writeFileSync(file, Buffer.alloc(10));
  const third = await runner.extract(PROMPTS);
  assert.equal(runner.lastStats.computed, 1);
  assert.equal(reports.length, 1);
  third.forEach((s, i) => assert.deepEqual(Array.from(s.data), Array.from(first[i].data)));
  // A different layer is a different key.
  const other = await ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), layer: 1 }, { cache });
  await other.extract(PROMPTS);
  assert.equal(other.lastStats.cached, 0);
  await Promise.all([runner.dispose(), other.dispose()]);
});

test('long prompts keep their last maxTokens tokens, with a warning', async () => {
  const { dir } = buildExpert('all');
  const warnings: string[] = [];
  const runner = await ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), maxTokens: 4 }, { warn: (m) => warnings.push(m) });
  const [long] = await runner.extract(['0123456789']);
  const [tail] = await runner.extract(['6789']);
  assert.ok(maxAbsDiff(long.data, tail.data) < 1e-6);
  assert.match(warnings[0], /1 prompt\(s\) longer than 4 tokens/);
  await runner.dispose();
});

test('bad inputs name the file and the fix', async () => {
  await assert.rejects(ExpertRunner.open({ name: 'e', model: '/nope/model.onnx' }), /model file not found: \/nope\/model\.onnx; build the tiny experts/);
  const { dir } = buildExpert('all');
  await assert.rejects(ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), layer: 4 }), /layer 4 is out of range; this model has 3 layers: use 0\.\.3/);
  await assert.rejects(ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx'), layer: -5 }), /out of range/);
  const small = buildExpert('all', 100);
  await assert.rejects(ExpertRunner.open({ name: 'e', model: join(small.dir, 'model.onnx') }), /tokenizer .* has 129 ids but model .* embeds only 100/);
  const corrupt = tempDir();
  writeFileSync(join(corrupt, 'model.onnx'), Buffer.from('this is not onnx'));
  saveTokenizer(corrupt, buildCharTokenizer());
  await assert.rejects(ExpertRunner.open({ name: 'e', model: join(corrupt, 'model.onnx') }), new RegExp(corrupt.replace(/[/.]/g, '\\$&')));
  rmSync(join(dir, 'tokenizer.json'));
  await assert.rejects(ExpertRunner.open({ name: 'e', model: join(dir, 'model.onnx') }), /tokenizer/);
});
