// Tests of run-time tfjs backend selection (src/models/backend.ts) and a smoke test of the decoder on the
// `wasm` backend: reference parity, greedy generation equal to `cpu`, and gradients through the embedding
// lookup (which need the UnsortedSegmentSum kernel that backend.ts adds to wasm).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { type BackendLogger, currentBackend, selectBackend } from '../../src/models/backend.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import { matMul } from '../../src/models/matmul.js';
import { referenceForward } from '../../src/models/reference.js';
import * as tf from '../../src/models/tf.js';
import { leftPaddedPrompts, maxAbsDiff, randomWeights } from './decoder-fixtures.js';

function recorder(): BackendLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
  };
}

test('(g) auto selection skips the absent tfjs-node packages quietly, picks wasm (or cpu), logs it, and is idempotent', async () => {
  const log = recorder();
  const name = await selectBackend('auto', log);
  assert.ok(name === 'wasm' || name === 'cpu', `picked ${name}`);
  assert.equal(tf.getBackend(), name);
  assert.ok(log.lines.includes(`info tfjs backend: ${name}${name === 'wasm' ? ` (SIMD ${currentBackend()!.simd ? 'on' : 'off'}, threads ${currentBackend()!.threads})` : ''}`), log.lines.join('\n'));
  // This machine cannot install tfjs-node: its absence is a debug line, never a warning.
  assert.ok(log.lines.some((l) => l.startsWith('debug tfjs backend tfjs-node unavailable (package not installed)')), log.lines.join('\n'));
  assert.ok(!log.lines.some((l) => l.startsWith('warn')), log.lines.join('\n'));
  const again = recorder();
  assert.equal(await selectBackend('auto', again), name);
  assert.deepEqual(again.lines, []);
});

test('(g) an explicitly requested backend that cannot load is an error with install advice; the current backend stays', async () => {
  const before = tf.getBackend();
  await assert.rejects(selectBackend('tfjs-node'), /tfjs backend 'tfjs-node' could not be loaded .*npm install @tensorflow\/tfjs-node@/);
  await assert.rejects(selectBackend('tfjs-node-gpu'), /npm install @tensorflow\/tfjs-node-gpu@.*CUDA/);
  await assert.rejects(selectBackend('metal' as never), /unknown tfjs backend 'metal'/);
  assert.equal(tf.getBackend(), before);
});

test('wasm smoke: reference parity, greedy tokens equal to cpu, embedding gradients equal to cpu', async () => {
  assert.equal(await selectBackend('wasm'), 'wasm');
  assert.equal(currentBackend()!.simd, true, 'the SIMD wasm binary should load in Node 20');
  const config = decoderConfig({ vocabSize: 31, hiddenSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 32, tieWordEmbeddings: true });
  const w = randomWeights(config, 9);
  const dec = new TfDecoder(config, w, { trainable: true });
  const { ids, mask } = leftPaddedPrompts(config.vocabSize, [6, 2, 4], 3);
  const ref = referenceForward(config, w, { inputIds: ids, attentionMask: mask });
  const out = dec.forward({ inputIds: ids, attentionMask: mask }, { outputHiddenStates: true });
  const err = Math.max(maxAbsDiff(out.logits.dataSync(), ref.logits), ...out.hiddenStates!.map((h, i) => maxAbsDiff(h.dataSync(), ref.hiddenStates[i])));
  assert.ok(err < 1e-4, `wasm vs reference: ${err}`);
  tf.dispose([out.logits, out.finalHidden, ...out.hiddenStates!]);

  const promptIds = [[1, 2, 3], [4, 5]];
  const completionIds = [[6, 7], [8]];
  const gen = { promptIds, maxNewTokens: 5, temperature: 0, topP: 1, seed: 0 };
  const embedding = dec.variable('model.embed_tokens.weight');
  const grad = () => {
    const { grads } = tf.variableGrads(() => tf.sum(dec.sequenceLogProbs({ promptIds, completionIds })) as tf.Scalar, [embedding]);
    const g = grads[embedding.name].dataSync().slice();
    tf.dispose(Object.values(grads));
    return g;
  };
  const wasmTokens = (await dec.generate(gen)).tokens;
  const wasmGrad = grad();
  assert.equal(await selectBackend('cpu'), 'cpu');
  const cpuTokens = (await dec.generate(gen)).tokens;
  const cpuGrad = grad();
  assert.deepEqual(wasmTokens, cpuTokens);
  let gd = 0;
  for (let i = 0; i < cpuGrad.length; i++) gd = Math.max(gd, Math.abs(wasmGrad[i] - cpuGrad[i]));
  assert.ok(gd < 1e-5, `embedding gradient wasm vs cpu: ${gd}`);
  assert.ok(Math.max(...cpuGrad.map(Math.abs)) > 1e-3);
  dec.dispose();
});

test('wasm matMul (explicit transposes, custom gradient) equals tf.matMul in value and gradients, rank 2 and 3', async () => {
  assert.equal(await selectBackend('wasm'), 'wasm');
  for (const batch of [undefined, 3]) {
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      const shapeA = ta ? [5, 4] : [4, 5]; // op(a) [4, 5]
      const shapeB = tb ? [6, 5] : [5, 6]; // op(b) [5, 6]
      const lead = batch === undefined ? [] : [batch];
      const a = tf.randomNormal<tf.Rank>([...lead, ...shapeA], 0, 1, 'float32', 1) as tf.Tensor2D;
      const b = tf.randomNormal<tf.Rank>([...lead, ...shapeB], 0, 1, 'float32', 2) as tf.Tensor2D;
      const weight = tf.randomNormal<tf.Rank>([...lead, 4, 6], 0, 1, 'float32', 3);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), weight)))([a, b]);
      const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), weight)))([a, b]);
      const value = tf.sub(matMul(a, b, ta, tb), tf.matMul(a, b, ta, tb));
      const diffs = [value, tf.sub(ours[0], theirs[0]), tf.sub(ours[1], theirs[1])].map((d) => Math.max(...(tf.abs(d).dataSync() as Float32Array)));
      assert.ok(Math.max(...diffs) < 1e-5, `batch ${batch} transposeA ${ta} transposeB ${tb}: ${diffs}`);
      tf.dispose([a, b, weight, value, ...ours, ...theirs]);
    }
  }
});
