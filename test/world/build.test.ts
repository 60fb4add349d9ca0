// `musketeers experts build` on the smoke world, end to end: files and cards, experts readable by the
// expert runner, a second build skips, --force and --only, a changed config rebuilds, bad configs exit 2.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { ExpertRunner } from '../../src/experts/runner.js';
import { readSafetensors } from '../../src/models/safetensors.js';
import type { ModelCard } from '../../src/world/build.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');

test('builds the smoke world, then skips, --only, --force, changed config', async () => {
  const dir = join(tempDir(), 'world');
  const first = await runCli('--json', 'experts', 'build', SMOKE, '--set', `world.dir=${dir}`, '--jobs', '2');
  assert.equal(first.code, 0, first.message);
  const summary = JSON.parse(first.stdout) as { models: { card: ModelCard; skipped: boolean }[]; baselines: ModelCard['baselines']; jobs: number };
  assert.deepEqual(summary.models.map((m) => [m.card.name, m.skipped]), [['expert-a', false], ['expert-b', false], ['policy', false]]);
  assert.equal(summary.jobs, 2);
  assert.deepEqual(summary.baselines.map((b) => b.task), ['chain_sum', 'letter_counting']);
  for (const b of summary.baselines) assert.ok(b.items === 4 && b.accuracy >= 0 && b.accuracy <= 1 && typeof b.answer === 'string');
  for (const name of ['expert-a', 'expert-b', 'policy']) {
    for (const f of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'weights.safetensors', 'model.json']) assert.ok(existsSync(join(dir, name, f)), `${name}/${f}`);
    assert.equal(existsSync(join(dir, name, '.partial')), false);
    const card = JSON.parse(readFileSync(join(dir, name, 'model.json'), 'utf8')) as ModelCard;
    assert.deepEqual(card.heldOut.map((e) => e.task).sort(), ['chain_sum', 'letter_counting']);
    assert.deepEqual(card.baselines, summary.baselines);
    for (const e of card.heldOut) assert.ok(e.items > 0 && e.accuracy >= 0 && e.accuracy <= 1 && e.answerNll > 0);
    assert.equal(card.training.steps, name === 'policy' ? 80 : 5);
    assert.ok(card.training.tokens > 0);
    assert.equal(card.training.lossCurve.length, Math.min(10, card.training.steps));
    assert.ok(card.training.lossCurve.every((x) => Number.isFinite(x) && x > 0));
    assert.equal(readSafetensors(join(dir, name, 'weights.safetensors')).tensors.size > 0, true);
  }
  const cardA = JSON.parse(readFileSync(join(dir, 'expert-a', 'model.json'), 'utf8')) as ModelCard;
  assert.equal(cardA.tokenizer.kind, 'char');
  assert.equal(cardA.architecture.hiddenSize, 16);
  assert.deepEqual(cardA.mixture.map((m) => m.task), ['chain_sum']);

  // The built expert is usable by the expert runner.
  const runner = await ExpertRunner.open({ name: 'expert-b', model: join(dir, 'expert-b', 'model.onnx'), layer: -1 });
  const [state] = await runner.extract(['Count the letter a in "banana".\n']);
  assert.deepEqual(state.shape, [16]);
  await runner.dispose();

  const again = JSON.parse((await runCli('--json', 'experts', 'build', SMOKE, '--set', `world.dir=${dir}`)).stdout);
  assert.deepEqual(again.models.map((m: { skipped: boolean }) => m.skipped), [true, true, true]);
  assert.deepEqual(again.baselines, summary.baselines);
  // The human table: one row per model, then the constant-answer baseline row and its answers.
  const human = await runCli('experts', 'build', SMOKE, '--set', `world.dir=${dir}`);
  assert.equal(human.code, 0, human.message);
  assert.match(human.stdout, /^expert-a\s+expert\s+\d+% \d+\.\d\d\s+\d+% \d+\.\d\d\s+cached$/m);
  assert.match(human.stdout, /^constant answer\s+base\s+\d+%\s+\d+%/m);
  assert.match(human.stdout, /"constant answer": .*chain_sum ".*", letter_counting ".*"\./);

  const only = JSON.parse((await runCli('--json', 'experts', 'build', SMOKE, '--set', `world.dir=${dir}`, '--only', 'expert-b', '--force')).stdout);
  assert.deepEqual(only.models.map((m: { card: ModelCard; skipped: boolean }) => [m.card.name, m.skipped]), [['expert-b', false]]);
  // Same config, same seed: the rebuilt weights are identical, whether built in a child process (the
  // first build, --jobs 2) or in this process (a single model to build).
  assert.deepEqual(only.models[0].card.training.finalLoss, summary.models[1].card.training.finalLoss);
  assert.deepEqual(only.models[0].card.heldOut, summary.models[1].card.heldOut);
  const sequential = JSON.parse((await runCli('--json', 'experts', 'build', SMOKE, '--set', `world.dir=${join(tempDir(), 'world')}`, '--jobs', '1')).stdout);
  assert.equal(sequential.jobs, 1);
  for (const [k, m] of sequential.models.entries()) {
    assert.deepEqual([m.card.training.lossCurve, m.card.training.finalLoss, m.card.heldOut], [summary.models[k].card.training.lossCurve, summary.models[k].card.training.finalLoss, summary.models[k].card.heldOut]);
  }

  const changed = JSON.parse((await runCli('--json', 'experts', 'build', SMOKE, '--set', `world.dir=${dir}`, '--set', 'world.models.0.train.steps=6')).stdout);
  assert.deepEqual(changed.models.map((m: { skipped: boolean }) => m.skipped), [false, true, true]);
});

test('bad input: no world section, unknown --only, prompts longer than the model allows', async () => {
  const file = join(tempDir(), 'noworld.yaml');
  writeFileSync(file, 'data:\n  tasks:\n    - name: chain_sum\n');
  const none = await runCli('experts', 'build', file);
  assert.equal(none.code, 2);
  assert.match(none.message, /no `world` section/);
  const dir = join(tempDir(), 'world');
  const only = await runCli('experts', 'build', SMOKE, '--set', `world.dir=${dir}`, '--only', 'nobody');
  assert.equal(only.code, 2);
  assert.match(only.message, /--only nobody: no such world model; the config defines expert-a, expert-b, policy/);
  const long = await runCli('experts', 'build', SMOKE, '--set', `world.dir=${dir}`, '--set', 'world.models.0.architecture.maxPositionEmbeddings=20', '--only', 'expert-a');
  assert.equal(long.code, 1);
  assert.match(long.message, /world model 'expert-a': a chain_sum item is \d+ tokens .* maxPositionEmbeddings is 20/);
  // The same failure inside a parallel build's child process: reported the same way, the build stops.
  const parallel = await runCli('experts', 'build', SMOKE, '--set', `world.dir=${join(tempDir(), 'world')}`, '--set', 'world.models.0.architecture.maxPositionEmbeddings=20', '--jobs', '2');
  assert.equal(parallel.code, 1);
  assert.match(parallel.message, /world model 'expert-a': a chain_sum item is \d+ tokens .* maxPositionEmbeddings is 20/);
});

test('a build killed with SIGKILL resumes from its checkpoint and ends where an uninterrupted build ends', async () => {
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../helpers/cli.js');
  const base = ['experts', 'build', SMOKE, '--only', 'expert-a', '--set', 'world.models.0.train.steps=40', '--json'];
  const straightDir = join(tempDir(), 'world');
  const straight = await runCli(...base.filter((a) => a !== '--json'), '--set', `world.dir=${straightDir}`);
  assert.equal(straight.code, 0, straight.message);
  const expected = JSON.parse(readFileSync(join(straightDir, 'expert-a', 'model.json'), 'utf8')) as ModelCard;

  const dir = join(tempDir(), 'world');
  const checkpoint = join(dir, 'expert-a', '.partial', 'checkpoint.safetensors');
  const child = spawn(process.execPath, [BIN, ...base, '--set', `world.dir=${dir}`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 30_000;
  while (!existsSync(checkpoint) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await exited;
  assert.equal(existsSync(join(dir, 'expert-a', 'model.json')), false, 'the build finished before the kill');
  assert.ok(existsSync(checkpoint), 'no checkpoint was written before the kill');

  const resumed = await runCli('experts', 'build', SMOKE, '--only', 'expert-a', '--set', 'world.models.0.train.steps=40', '--set', `world.dir=${dir}`, '--log-level', 'info');
  assert.equal(resumed.code, 0, resumed.message);
  const card = JSON.parse(readFileSync(join(dir, 'expert-a', 'model.json'), 'utf8')) as ModelCard;
  assert.equal(card.training.finalLoss, expected.training.finalLoss);
  assert.equal(card.training.tokens, expected.training.tokens);
  assert.deepEqual(readFileSync(join(dir, 'expert-a', 'weights.safetensors')), readFileSync(join(straightDir, 'expert-a', 'weights.safetensors')));
  assert.equal(existsSync(join(dir, 'expert-a', '.partial')), false);
});
