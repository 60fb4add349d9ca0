// `musketeers eval` on the smoke world: a checkpoint (greedy), the starting policy with samples and
// pass@k, the no-experts baseline on the GSM8K fixture, and the bad inputs the issue names.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import type { EvalResult } from '../../src/analysis/evaluate.js';
import { loadConfig } from '../../src/config.js';
import { train } from '../../src/rl/trainer.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
let worldDir = '';
let runDir = '';

before(async () => {
  worldDir = join(tempDir(), 'world');
  const out = tempDir();
  const config = loadConfig(SMOKE, [`world.dir=${worldDir}`, `outputDir=${out}`, 'experts.cacheDir=null', 'train.steps=2']).config;
  runDir = (await train({ config })).summary.runDir;
});

test('a checkpoint, greedy: report in RUN_DIR/eval with accuracy, CI, pass@1 and expert mass per task', async () => {
  const r = await runCli('--json', 'eval', '--checkpoint', runDir, '--greedy');
  assert.equal(r.code, 0, r.message);
  const result = JSON.parse(r.stdout) as EvalResult & { file: string };
  assert.equal(result.checkpoint?.step, 2);
  assert.equal(result.file, join(runDir, 'eval', 'smoke-musketeers-heldout-step_000002-greedy.json'));
  assert.deepEqual(JSON.parse(readFileSync(result.file, 'utf8')).tasks, result.tasks);
  assert.deepEqual(result.tasks.map((t) => t.task), ['chain_sum', 'letter_counting']);
  for (const t of result.tasks) {
    assert.equal(t.items, 4);
    assert.equal(t.samples, 1);
    assert.ok(t.ci95[0] <= t.accuracy && t.accuracy <= t.ci95[1]);
    assert.equal(t.passAtK['pass@1'], t.accuracy);
    assert.ok(Math.abs(Object.values(t.expertMass!).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  }
  // The greedy evaluation agrees with the trainer's own final evaluation of the same checkpoint.
  const trainerEval = JSON.parse(readFileSync(join(runDir, 'eval', 'step_000002.json'), 'utf8')) as { tasks: Record<string, { accuracy: number }> };
  for (const t of result.tasks) assert.equal(t.accuracy, trainerEval.tasks[t.task].accuracy, t.task);
});

test('the starting policy with samples (pass@k), and the no-experts baseline on GSM8K', async () => {
  const out = tempDir();
  const sampled = await runCli('--json', 'eval', '--config', SMOKE, '--set', `world.dir=${worldDir}`, '--set', `outputDir=${out}`, '--task', 'chain_sum', '--samples', '4', '--items', '3');
  assert.equal(sampled.code, 0, sampled.message);
  const s = JSON.parse(sampled.stdout) as EvalResult;
  assert.equal(s.checkpoint, undefined);
  assert.deepEqual(Object.keys(s.tasks[0].passAtK), ['pass@1', 'pass@2', 'pass@4']);
  assert.ok(s.tasks[0].passAtK['pass@1'] <= s.tasks[0].passAtK['pass@4']);
  assert.ok(existsSync(join(out, 'eval', 'smoke-musketeers-chain_sum-start-n4.json')));

  const gsm = await runCli('--json', 'eval', '--config', SMOKE, '--set', `world.dir=${worldDir}`, '--set', `outputDir=${out}`, '--set', 'method=no-experts', '--task', 'gsm8k', '--data', join(REPO_ROOT, 'test', 'fixtures', 'gsm8k'), '--greedy', '--items', '2');
  assert.equal(gsm.code, 0, gsm.message);
  const g = JSON.parse(gsm.stdout) as EvalResult;
  assert.equal(g.method, 'no-experts');
  assert.equal(g.expertMass, undefined);
  assert.equal(g.tasks[0].task, 'gsm8k');
  assert.equal(g.tasks[0].items, 2);
  assert.deepEqual(Object.keys(g.tasks[0].gsm8k!), ['strict', 'flexible']);
});

test('bad input: a run without checkpoints, unknown task, --greedy with --samples, GSM8K without data', async () => {
  const empty = join(tempDir(), 'run');
  mkdirSync(empty);
  copyFileSync(join(runDir, 'config.yaml'), join(empty, 'config.yaml'));
  const none = await runCli('eval', '--checkpoint', empty);
  assert.equal(none.code, 1);
  assert.match(none.message, /the run has no valid checkpoint in .*checkpoints; train it/);
  const notDir = await runCli('eval', '--checkpoint', tempDir());
  assert.equal(notDir.code, 1);
  assert.match(notDir.message, /neither a run directory \(no config\.yaml\) nor a checkpoint directory/);
  const unknown = await runCli('eval', '--checkpoint', runDir, '--task', 'gcd');
  assert.equal(unknown.code, 2);
  assert.match(unknown.message, /--task gcd: not in the config's data\.tasks \(chain_sum, letter_counting\)/);
  const both = await runCli('eval', '--checkpoint', runDir, '--greedy', '--samples', '2');
  assert.equal(both.code, 2);
  const noData = await runCli('eval', '--checkpoint', runDir, '--task', 'gsm8k');
  assert.equal(noData.code, 2);
  assert.match(noData.message, /--task gsm8k needs the data: --data PATH/);
});
