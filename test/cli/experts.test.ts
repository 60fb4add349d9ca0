// `musketeers experts inspect`: human and JSON output on an exported tiny decoder and on an optimum
// output directory; clear errors.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { decoderConfig, initDecoderWeights } from '../../src/models/decoder-config.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../../src/models/onnx/export-decoder.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { fixtureTokenizerVocabSize, writeOptimumDir } from '../helpers/hf-fixtures.js';

test('experts inspect lists inputs, outputs and every layer with its width', async () => {
  const config = decoderConfig({ vocabSize: 40, hiddenSize: 16, numLayers: 2, numHeads: 2 });
  const file = join(tempDir(), 'model.onnx');
  writeOnnxModel(file, exportDecoderToOnnx(config, initDecoderWeights(config, 3), { hiddenStates: [1] }));
  const human = await runCli('experts', 'inspect', file);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /input_ids\s+int64\s+\[batch, sequence\]/);
  assert.match(human.stdout, /hidden states \(2 layers, width 16/);
  assert.match(human.stdout, /layer  1 \( -2\)\s+hidden_states\.1\s+layer 1\s+graph output/);
  assert.match(human.stdout, /layer  2 \( -1\)\s+hidden_states\.2\s+layer 2\s+internal/);
  const json = await runCli('--json', 'experts', 'inspect', file);
  const r = JSON.parse(json.stdout);
  assert.equal(r.hiddenStates.numLayers, 2);
  assert.deepEqual(r.outputs.map((o: { name: string }) => o.name), ['logits', 'hidden_states.1', 'last_hidden_state']);
  // weights: embed 40x16, per layer 2 norms + q,k,v,o 16x16 + 3 MLP 16x64, final norm; plus RoPE cos/sin [512, 8] each
  assert.ok(r.initializerValues >= 40 * 16 + 2 * (16 + 4 * 16 * 16 + 16 + 3 * 16 * 64) + 16 + 2 * 512 * 8);
});

test('experts inspect: missing file exits 2, corrupt file exits 1 naming it', async () => {
  assert.equal((await runCli('experts', 'inspect', '/nope.onnx')).code, 2);
  const bad = join(tempDir(), 'broken.onnx');
  writeFileSync(bad, Buffer.from([0x0a, 0xff, 0xff, 0xff]));
  const r = await runCli('experts', 'inspect', bad);
  assert.equal(r.code, 1);
  assert.match(r.message, /broken\.onnx/);
});

test('experts inspect DIR: an optimum output directory, its located layers and external data; an empty directory exits 2', async () => {
  const config = decoderConfig({ family: 'qwen2', vocabSize: fixtureTokenizerVocabSize(), hiddenSize: 16, numLayers: 2, numHeads: 2, attentionBias: true, tieWordEmbeddings: false });
  const dir = join(tempDir(), 'qwen-onnx');
  writeOptimumDir(dir, config, initDecoderWeights(config, 4), { task: 'text-generation-with-past', externalData: true });
  const r = await runCli('experts', 'inspect', dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /qwen-onnx\/model\.onnx/);
  assert.match(r.stdout, /external data: model\.onnx_data/);
  assert.match(r.stdout, /found by module scopes/);
  assert.match(r.stdout, /layer  2 \( -1\)\s+\/model\/layers\.1\/Add_1_output_0\s+layer 2\s+internal/);
  const empty = await runCli('experts', 'inspect', tempDir());
  assert.equal(empty.code, 2);
  assert.match(empty.message, /no model in .*: looked for model\.onnx/);
});
