// Greedy expert generation over ONNX (src/experts/generate.ts) on a tiny exported decoder: the same tokens
// as the tfjs decoder's greedy generate() for the same weights (any batch size, stop strings, EOS, the
// positions limit), the text cache (hits, corrupt and truncated entries regenerated, settings in the key),
// and bad inputs.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { ExpertGenerator, withLastLogitsOnly } from '../../src/experts/generate.js';
import { ExpertTextCache } from '../../src/experts/text-cache.js';
import { selectBackend } from '../../src/models/backend.js';
import { decoderConfig, initDecoderWeights, type DecoderConfig, type DecoderWeights } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../../src/models/onnx/export-decoder.js';
import { readOnnxModelFile } from '../../src/models/onnx/model-file.js';
import { encodeModel } from '../../src/models/onnx/onnx-proto.js';
import { buildCharTokenizer, projectTokenizer, saveTokenizer } from '../../src/models/tokenizer/build.js';
import { tempDir } from '../helpers/tmp.js';

const PROMPTS = ['What is 12 + 7?\n<answer>', 'Sort: 3, 1, 2\n', 'x', 'How many legs do 2 cats have?\n<answer>', 'gcd(12, 18)\n'];
const tokenizer = projectTokenizer(buildCharTokenizer(), 'char');

function buildExpert(maxPositions = 64): { dir: string; model: string; config: DecoderConfig; weights: DecoderWeights } {
  const dir = tempDir('generator-');
  const config = decoderConfig({ vocabSize: tokenizer.vocabSize, hiddenSize: 32, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 64, maxPositionEmbeddings: maxPositions });
  const weights = initDecoderWeights(config, 5, 0.5); // large weights: peaked logits, no near-ties between backends
  writeOnnxModel(join(dir, 'model.onnx'), exportDecoderToOnnx(config, weights, { hiddenStates: [-1] }));
  saveTokenizer(dir, buildCharTokenizer(), { name: 'char' });
  return { dir, model: join(dir, 'model.onnx'), config, weights };
}

/** Greedy tokens of the tfjs decoder for the same prompts (BOS first, as the experts read them). */
async function tfjsGreedy(config: DecoderConfig, weights: DecoderWeights, prompts: string[], maxNewTokens: number, stopStrings: string[] = [], eosId = tokenizer.eosId): Promise<number[][]> {
  const decoder = new TfDecoder(config, weights);
  try {
    const out = await decoder.generate({
      promptIds: prompts.map((p) => tokenizer.encode(p, { addBos: true })),
      maxNewTokens,
      temperature: 0,
      topP: 1,
      seed: 0,
      eosId,
      padId: tokenizer.padId,
      stopStrings,
      decode: (ids) => tokenizer.decode(ids, { skipSpecial: true }),
    });
    return out.tokens;
  } finally {
    decoder.dispose();
  }
}

before(async () => {
  assert.equal(await selectBackend('cpu'), 'cpu');
});

test('greedy generation equals the tfjs decoder at batch 1 and 3; stop strings and EOS end a row as in tfjs', async () => {
  const { dir, model, config, weights } = buildExpert();
  const expected = await tfjsGreedy(config, weights, PROMPTS, 10);
  for (const batchSize of [1, 3]) {
    const g = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 10, batchSize, addBos: true });
    const out = await g.generate(PROMPTS);
    assert.deepEqual(out.map((o) => o.tokens), expected, `batch ${batchSize}`);
    assert.ok(out.every((o) => o.finishReason === 'length' && o.tokens.length === 10));
    assert.deepEqual(out.map((o) => o.text), expected.map((t) => tokenizer.decode(t, { skipSpecial: true })));
    assert.equal(g.lastStats.newTokens, 50);
    await g.dispose();
  }

  // A stop string taken from inside the free text of prompt 0: generation ends on the token completing it.
  const free = tokenizer.decode(expected[0], { skipSpecial: true });
  const stop = free.slice(2, 4);
  assert.equal(stop.length, 2, `free text ${JSON.stringify(free)}`);
  const cut = expected[0].findIndex((_, i) => tokenizer.decode(expected[0].slice(0, i + 1), { skipSpecial: true }).includes(stop));
  const stopped = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 10, batchSize: 2, addBos: true, stopStrings: [stop] });
  const s = await stopped.generate(PROMPTS);
  assert.deepEqual(s[0].tokens, expected[0].slice(0, cut + 1));
  assert.equal(s[0].finishReason, 'stop');
  assert.deepEqual(s.map((o) => o.tokens), await tfjsGreedy(config, weights, PROMPTS, 10, [stop]));
  await stopped.dispose();

  // EOS: declare the second generated token of prompt 0 the tokenizer's EOS; the row ends right after it.
  const eosToken = tokenizer.idToToken(expected[0][1])!;
  const config0 = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config0, eos_token: eosToken }));
  const withEos = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 10, addBos: true });
  assert.equal(withEos.tokenizer.eosId, expected[0][1]);
  const e = await withEos.generate(PROMPTS.slice(0, 1));
  assert.deepEqual(e[0].tokens, expected[0].slice(0, expected[0].indexOf(expected[0][1]) + 1));
  assert.equal(e[0].finishReason, 'eos');
  await withEos.dispose();
});

test('the LM head runs on the last position only when it is a MatMul; other heads give full logits and the same tokens', async () => {
  const { model } = buildExpert();
  const { model: proto } = readOnnxModelFile(model);
  const rewritten = withLastLogitsOnly(proto, model);
  assert.equal(rewritten.lastOnly, true);
  assert.deepEqual(rewritten.model.graph!.output.map((o) => o.name), ['logits']);
  // Another exporter's head: an Identity after the MatMul writes `logits`.
  const graph = proto.graph!;
  const nodes = graph.node.map((n) => (n.output.includes('logits') ? { ...n, output: ['logits_raw'] } : n));
  nodes.push({ input: ['logits_raw'], output: ['logits'], opType: 'Identity', attribute: [] });
  const other = { ...proto, graph: { ...graph, node: nodes } };
  assert.equal(withLastLogitsOnly(other, 'other').lastOnly, false);
  const otherDir = tempDir('generator-other-');
  writeFileSync(join(otherDir, 'model.onnx'), encodeModel(other));
  saveTokenizer(otherDir, buildCharTokenizer(), { name: 'char' });
  const a = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 6, addBos: true, batchSize: 2 });
  const b = await ExpertGenerator.open({ name: 'e', model: join(otherDir, 'model.onnx'), maxNewTokens: 6, addBos: true, batchSize: 2 });
  assert.deepEqual((await b.generate(PROMPTS)).map((o) => o.tokens), (await a.generate(PROMPTS)).map((o) => o.tokens));
  await Promise.all([a.dispose(), b.dispose()]);
});

test('a prompt near the positions limit generates only what fits', async () => {
  const { model } = buildExpert(16);
  const g = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 10, addBos: true });
  assert.equal(g.maxPositions, 16);
  const [short, long] = await g.generate(['ab', '0123456789abc']); // 3 and 14 tokens with BOS
  assert.equal(short.tokens.length, 10);
  assert.equal(long.tokens.length, 2);
  assert.equal(long.finishReason, 'length');
  await g.dispose();
});

test('the text cache: a second pass reads it; corrupt and truncated entries are reported and regenerated; settings are part of the key', async () => {
  const { model } = buildExpert();
  const cacheDir = tempDir('text-cache-');
  const reports: string[] = [];
  const cache = new ExpertTextCache(cacheDir, (_file, why) => reports.push(why));
  const g = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 6, addBos: true, stopStrings: ['</answer>'] }, { cache });
  const first = await g.generate(PROMPTS);
  assert.equal(g.lastStats.computed, PROMPTS.length);
  const second = await g.generate(PROMPTS);
  assert.equal(g.lastStats.cached, PROMPTS.length);
  assert.equal(g.lastStats.computed, 0);
  assert.deepEqual(second, first);

  const files = readdirSync(cacheDir).flatMap((sub) => readdirSync(join(cacheDir, sub)).map((f) => join(cacheDir, sub, f)));
  assert.equal(files.length, PROMPTS.length);
  const bytes = readFileSync(files[0]);
  writeFileSync(files[0], bytes.subarray(0, bytes.length - 3)); // truncated
  const flipped = Buffer.from(readFileSync(files[1]));
  flipped[flipped.length - 2] ^= 0x01; // one bit of the payload
  writeFileSync(files[1], flipped);
  const third = await g.generate(PROMPTS);
  assert.equal(g.lastStats.computed, 2);
  assert.equal(cache.stats.corrupt, 2);
  assert.deepEqual(reports.sort(), ['checksum mismatch', 'truncated payload (' + (bytes.length - 3 - 44) + ` of ${bytes.length - 44} bytes)`].sort());
  assert.deepEqual(third, first);

  // Another token budget is another key.
  const longer = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 7, addBos: true, stopStrings: ['</answer>'] }, { cache });
  await longer.generate(PROMPTS);
  assert.equal(longer.lastStats.cached, 0);
  await Promise.all([g.dispose(), longer.dispose()]);
});

test('bad inputs name the file and the fix', async () => {
  await assert.rejects(ExpertGenerator.open({ name: 'e', model: '/nope/model.onnx', maxNewTokens: 4 }), /expert 'e': model file not found: \/nope\/model\.onnx; build the tiny experts/);
  const { model } = buildExpert();
  await assert.rejects(ExpertGenerator.open({ name: 'e', model, maxNewTokens: 0 }), /maxNewTokens must be a positive integer/);
  const g = await ExpertGenerator.open({ name: 'e', model, maxNewTokens: 2 });
  await assert.rejects(g.generate(['']), /expert 'e': a prompt encodes to no tokens/);
  await g.dispose();
});
