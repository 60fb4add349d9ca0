// Training checkpoints (src/rl/checkpoint.ts): exact round trip, atomic replacement, pruning, and damaged
// checkpoints detected and skipped in favour of the previous one.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { latestCheckpoint, listCheckpointSteps, loadCheckpoint, saveCheckpoint, type TrainCheckpoint } from '../../src/rl/checkpoint.js';
import { tempDir } from '../helpers/tmp.js';

function fake(step: number): TrainCheckpoint {
  const t = (shape: number[], offset: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => offset + i / 7) });
  return {
    step,
    router: new Map([['latents', t([2, 3], step)]]),
    policy: new Map([['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', t([2, 4], -step)]]),
    optimizer: { step: step * 2, m: new Map([['router.latents', t([2, 3], 0.5)]]), v: new Map([['router.latents', t([2, 3], 0.25)]]) },
    loop: { badSteps: 0, skippedSteps: 1, promptsSeen: step * 4 },
    configHash: 'abc',
  };
}

test('save/load round trip is exact; only `keep` checkpoints stay; no temporary directories remain', () => {
  const dir = join(tempDir(), 'checkpoints');
  for (const step of [2, 4, 6]) saveCheckpoint(dir, fake(step), 2);
  assert.deepEqual(listCheckpointSteps(dir), [4, 6]);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), []);
  const back = loadCheckpoint(join(dir, 'step_000006'));
  const want = fake(6);
  assert.equal(back.step, 6);
  assert.equal(back.optimizer.step, 12);
  assert.deepEqual(back.loop, want.loop);
  assert.deepEqual(Array.from(back.router.get('latents')!.data), Array.from(want.router.get('latents')!.data));
  assert.deepEqual([...back.policy.keys()], [...want.policy.keys()]);
  assert.deepEqual(Array.from(back.optimizer.v.get('router.latents')!.data), Array.from(want.optimizer.v.get('router.latents')!.data));
  // Saving the same step again replaces it.
  saveCheckpoint(dir, { ...fake(6), loop: { badSteps: 0, skippedSteps: 9, promptsSeen: 0 } }, 2);
  assert.equal(loadCheckpoint(join(dir, 'step_000006')).loop.skippedSteps, 9);
});

test('a damaged or half-written newest checkpoint is reported and the previous one is used', () => {
  const dir = join(tempDir(), 'checkpoints');
  saveCheckpoint(dir, fake(2), 5);
  saveCheckpoint(dir, fake(4), 5);
  // Flip one byte of the newest tensors file.
  const file = join(dir, 'step_000004', 'tensors.safetensors');
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(file, bytes);
  // A directory left by a crash before its state.json was written.
  mkdirSync(join(dir, 'step_000006'));
  writeFileSync(join(dir, 'step_000006', 'tensors.safetensors'), 'partial');
  const warnings: string[] = [];
  const latest = latestCheckpoint(dir, (m) => warnings.push(m));
  assert.equal(latest?.checkpoint.step, 2);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /step_000006: incomplete checkpoint/);
  assert.match(warnings[1], /step_000004\/tensors\.safetensors: checksum mismatch/);
  assert.equal(latestCheckpoint(join(tempDir(), 'none')), undefined);
  assert.ok(existsSync(join(dir, 'step_000002', 'state.json')));
});
