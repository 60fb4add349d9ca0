// Tests of src/experts/ort.ts: input validation before running, ORT failures rethrown with shapes and
// the model name, CUDA -> CPU fallback with an install hint, tensor helpers, and the project rule that
// no other module imports onnxruntime-node.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, after, test } from 'node:test';

import { decoderConfig } from '../../src/models/decoder-config.js';
import { exportDecoderToOnnx } from '../../src/models/onnx/export-decoder.js';
import { type OrtSession, createSession, cudaProviderInstalled, float32Tensor, int64Tensor } from '../../src/experts/ort.js';
import { PACKAGE_ROOT } from '../../src/version.js';
import { randomWeights } from './decoder-fixtures.js';

const config = decoderConfig({ vocabSize: 20, hiddenSize: 16, numLayers: 1, numHeads: 2 });
const bytes = exportDecoderToOnnx(config, randomWeights(config, 2));
let session: OrtSession;
before(async () => {
  session = await createSession(bytes, { name: 'tiny-decoder.onnx', intraOpThreads: 1 });
});
after(async () => {
  await session.dispose();
});

const ids = int64Tensor([[1, 2, 3]]);
const mask = int64Tensor([[1, 1, 1]]);

test('run validates names, dtypes and ranks before calling ORT, listing every problem', async () => {
  await assert.rejects(session.run({ input_ids: ids }), /tiny-decoder\.onnx: invalid inputs: missing input attention_mask; given input_ids int64 \[1, 3\]/);
  await assert.rejects(session.run({ input_ids: float32Tensor([1, 2, 3], [1, 3]), attention_mask: mask }), /input input_ids has type float32, the model expects int64/);
  await assert.rejects(session.run({ input_ids: int64Tensor([[1, 2, 3]]).reshape([3]), attention_mask: mask }), /input input_ids has rank 1 \[3\], the model expects rank 2 \[batch, sequence\]/);
  await assert.rejects(session.run({ input_ids: ids, attention_mask: mask, extra: mask }), /unknown input extra \(the model's inputs are input_ids, attention_mask\)/);
  await assert.rejects(session.run({ input_ids: ids, attention_mask: mask }, ['nope']), /unknown output nope/);
  const ok = await session.run({ input_ids: ids, attention_mask: mask }, ['logits']);
  assert.deepEqual(ok.logits.dims, [1, 3, 20]);
});

test('an ORT failure is rethrown with the model name and the input shapes', async () => {
  // Token 99 is outside the vocabulary: Gather fails inside ORT.
  await assert.rejects(session.run({ input_ids: int64Tensor([[1, 99]]), attention_mask: int64Tensor([[1, 1]]) }), (e: Error) => {
    assert.match(e.message, /^ONNX Runtime failed running tiny-decoder\.onnx with inputs input_ids int64 \[1, 2\], attention_mask int64 \[1, 2\]: /);
    assert.ok(e.cause instanceof Error);
    return true;
  });
});

test('CUDA requested without the CUDA provider: a warning that says how to install it, then CPU', { skip: cudaProviderInstalled() ? 'the CUDA provider is installed here' : false }, async () => {
  const warnings: string[] = [];
  const s = await createSession(bytes, { executionProviders: ['cuda'], warn: (m) => warnings.push(m) });
  try {
    assert.deepEqual(s.executionProviders, ['cpu']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /CUDA requested but unavailable, using CPU/);
    assert.match(warnings[0], /--onnxruntime-node-install=cuda12/);
    assert.match(warnings[0], /ONNXRUNTIME_NODE_INSTALL=cuda12/);
    assert.match(warnings[0], /CUDA 12/);
    const out = await s.run({ input_ids: ids, attention_mask: mask });
    assert.deepEqual(out.logits.data, (await session.run({ input_ids: ids, attention_mask: mask })).logits.data);
  } finally {
    await s.dispose();
  }
});

test('tensor helpers check their shapes; a disposed session refuses to run', async () => {
  assert.deepEqual(int64Tensor([[1, 2], [3, 4]]).dims, [2, 2]);
  assert.deepEqual(Array.from(int64Tensor([[5, -1]]).data as BigInt64Array), [5n, -1n]);
  assert.throws(() => int64Tensor([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
  assert.throws(() => int64Tensor([[1.5]]), /not an integer/);
  assert.throws(() => float32Tensor([1, 2, 3], [2, 2]), /3 values for dims \[2, 2\]/);
  const s = await createSession(bytes);
  await s.dispose();
  await assert.rejects(s.run({ input_ids: ids, attention_mask: mask }), /used after dispose/);
});

test('src/experts/ort.ts is the only module that imports onnxruntime-node', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mts|js|mjs)$/.test(name) && /['"]onnxruntime-node['"]/.test(readFileSync(p, 'utf8').replace(/\/\/.*$/gm, ''))) offenders.push(relative(PACKAGE_ROOT, p));
    }
  };
  for (const top of ['src', 'test', 'tasks', 'bench']) {
    try {
      walk(join(PACKAGE_ROOT, top));
    } catch {
      // folder absent
    }
  }
  assert.deepEqual(offenders.filter((f) => f !== join('src', 'experts', 'ort.ts')), []);
});
