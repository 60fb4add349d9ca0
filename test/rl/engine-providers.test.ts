// train.providers / world.providers on the onnx engine: `[cuda, cpu]` without an installed CUDA
// provider falls back to the CPU with one warning naming the key and the install command.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cudaProviderInstalled } from '../../src/experts/ort.js';
import { resolveProviders } from '../../src/rl/engine-onnx.js';

test('a missing CUDA provider: the CPU, one warning naming the key and how to install it', { skip: cudaProviderInstalled() ? 'the CUDA provider is installed here' : false }, () => {
  const warnings: string[] = [];
  assert.deepEqual(resolveProviders(['cuda', 'cpu'], (m) => warnings.push(m), 'world.providers'), ['cpu']);
  assert.deepEqual(resolveProviders(['cuda'], (m) => warnings.push(m)), ['cpu']);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /^world\.providers asks for cuda but .*onnxruntime-node-install=cuda12/);
  assert.match(warnings[1], /^train\.providers asks for cuda/);
  assert.deepEqual(resolveProviders(['cpu'], () => assert.fail('no warning for cpu')), ['cpu']);
});
