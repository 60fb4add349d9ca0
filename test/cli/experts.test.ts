// `musketeers experts inspect`: human and JSON output on an exported tiny decoder; clear errors.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { decoderConfig, initDecoderWeights } from '../../src/models/decoder-config.js';
import { exportDecoderToOnnx, writeOnnxModel } from '../../src/models/onnx/export-decoder.js';
import { runCli, tempDir } from '../helpers/cli.js';

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
