// The text-concatenation baseline end to end on a smoke world: `ablate --text-concat` trains it beside the
// method (expert texts in samples.jsonl, cached on disk, no router metrics or weights), `eval` of its
// checkpoint agrees with the trainer's own evaluation, `eval` of the starting policy, `report` and `plot`
// read such runs, `--all` includes it, and settings that do not apply are refused.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { ablationVariants, type AblationResult } from '../../src/analysis/ablate.js';
import type { EvalResult } from '../../src/analysis/evaluate.js';
import { loadConfig } from '../../src/config.js';
import { latestCheckpoint } from '../../src/rl/checkpoint.js';
import { readJsonl } from '../../src/rl/run-dir.js';
import { buildWorld } from '../../src/world/build.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
let worldDir = '';
let cacheDir = '';
let ablateDir = '';

function sets(out: string, ...extra: string[]): string[] {
  return [`world.dir=${worldDir}`, `outputDir=${out}`, `experts.cacheDir=${cacheDir}`, 'train.steps=2', ...extra].flatMap((s) => ['--set', s]);
}

before(async () => {
  worldDir = join(tempDir(), 'world');
  cacheDir = join(tempDir(), 'cache');
  // A shorter policy training than smoke's: this file tests the plumbing, not what the policy learns.
  await buildWorld(loadConfig(SMOKE, [`world.dir=${worldDir}`, 'world.models.2.train.steps=10']).config);
  const r = await runCli('--json', 'ablate', SMOKE, ...sets(tempDir()), '--set', 'world.models.2.train.steps=10', '--text-concat');
  assert.equal(r.code, 0, r.message);
  const result = JSON.parse(r.stdout) as AblationResult;
  assert.deepEqual(result.table.map((row) => row.variant), ['musketeers', 'text-concat']);
  ablateDir = result.outDir;
});

test('ablate --text-concat trains the baseline: expert texts in samples.jsonl and the cache, no router', () => {
  const dir = join(ablateDir, 'smoke-text-concat-s7');
  const config = loadConfig(join(dir, 'config.yaml')).config;
  assert.equal(config.method, 'text-concat');
  const metrics = readJsonl<Record<string, unknown>>(join(dir, 'metrics.jsonl'));
  assert.equal(metrics.length, 2);
  assert.ok(metrics.every((m) => !Object.keys(m).some((k) => k.startsWith('router/'))));
  assert.ok(metrics.every((m) => typeof m['time/experts'] === 'number' && (m['time/experts'] as number) > 0));
  const samples = readJsonl<{ expertTexts: Record<string, string>; question: string }>(join(dir, 'samples.jsonl'));
  assert.ok(samples.length > 0);
  for (const s of samples) {
    assert.deepEqual(Object.keys(s.expertTexts), ['expert-a', 'expert-b']);
    for (const text of Object.values(s.expertTexts)) assert.ok(!text.includes('\n') && !text.includes('</answer>'), JSON.stringify(text));
  }
  const ckpt = latestCheckpoint(join(dir, 'checkpoints'))!.checkpoint;
  assert.equal(ckpt.router.size, 0);
  assert.ok(ckpt.policy.size > 0);
  // Every prompt the experts wrote for is cached once per expert (training batches and held-out items).
  const texts = join(cacheDir, 'texts');
  assert.ok(readdirSync(texts).flatMap((sub) => readdirSync(join(texts, sub))).length >= 2 * 8);
});

test('eval of a text-concat checkpoint equals the trainer\'s final evaluation; the starting policy evaluates too', async () => {
  const dir = join(ablateDir, 'smoke-text-concat-s7');
  const r = await runCli('--json', 'eval', '--checkpoint', dir, '--greedy');
  assert.equal(r.code, 0, r.message);
  const result = JSON.parse(r.stdout) as EvalResult;
  assert.equal(result.method, 'text-concat');
  assert.equal(result.checkpoint?.step, 2);
  assert.equal(result.expertMass, undefined);
  const trainerEval = JSON.parse(readFileSync(join(dir, 'eval', 'step_000002.json'), 'utf8')) as { tasks: Record<string, { accuracy: number; meanScore: number }> };
  for (const t of result.tasks) {
    assert.equal(t.accuracy, trainerEval.tasks[t.task].accuracy, t.task);
    assert.equal(t.meanScore, trainerEval.tasks[t.task].meanScore, t.task);
  }

  const out = tempDir();
  const start = await runCli('--json', 'eval', '--config', SMOKE, ...sets(out, 'method=text-concat', 'world.models.2.train.steps=10'), '--greedy', '--items', '2');
  assert.equal(start.code, 0, start.message);
  const s = JSON.parse(start.stdout) as EvalResult;
  assert.equal(s.method, 'text-concat');
  assert.equal(s.checkpoint, undefined);
  assert.deepEqual(s.tasks.map((t) => t.items), [2, 2]);
});

test('report and plot read text-concat runs (no router attention)', async () => {
  const report = await runCli('--json', 'report', ablateDir);
  assert.equal(report.code, 0, report.message);
  assert.match(report.stdout, /smoke-text-concat/);
  const out = tempDir();
  const plot = await runCli('plot', join(ablateDir, 'smoke-text-concat-s7'), '--out', out, '--format', 'svg');
  assert.equal(plot.code, 0, plot.message);
  assert.ok(existsSync(join(out, 'reward.svg')));
  assert.ok(!existsSync(join(out, 'expert_mass.svg')));
});

test('--all includes text-concat unless nothing would train; settings that do not apply are refused', async () => {
  const config = loadConfig(SMOKE, [`world.dir=${worldDir}`]).config;
  assert.ok(ablationVariants(config, { all: true }).some((v) => v.label === 'text-concat' && v.overrides.includes('method=text-concat')));
  const frozen = loadConfig(SMOKE, [`world.dir=${worldDir}`, 'policy.mode=frozen']).config;
  assert.ok(!ablationVariants(frozen, { all: true }).some((v) => v.label === 'text-concat'));

  const refused = await runCli('ablate', SMOKE, ...sets(tempDir()), '--text-concat', '--set', 'policy.mode=frozen');
  assert.equal(refused.code, 2);
  assert.match(refused.message, /--text-concat trains the policy .* policy\.mode is frozen: nothing would train; use --set policy\.mode=lora/);

  const out = tempDir();
  const bad = await runCli('train', SMOKE, ...sets(out, 'method=text-concat', 'experts.perturb=zero', 'router.attention=uniform'));
  assert.equal(bad.code, 2);
  assert.match(bad.message, /experts\.perturb \(--set experts\.perturb=zero\): experts\.perturb ablates the hidden states the router reads, but method text-concat has no router .*; remove the setting or use method musketeers/);
  assert.match(bad.message, /router\.attention \(--set router\.attention=uniform\): router\.attention ablates the router/);
  const zero = await runCli('train', SMOKE, ...sets(out, 'method=text-concat', 'experts.generation.maxNewTokens=0'));
  assert.equal(zero.code, 2);
  assert.match(zero.message, /experts\.generation\.maxNewTokens \(--set experts\.generation\.maxNewTokens=0\): Too small/);
  assert.deepEqual(readdirSync(out), [], 'nothing may be written');

  // Expert lines that cannot fit the policy's 256 positions: refused before training, naming the fix.
  const long = await runCli('train', SMOKE, ...sets(tempDir(), 'method=text-concat', 'experts.generation.maxNewTokens=200', 'world.models.2.train.steps=10'));
  assert.equal(long.code, 1);
  assert.match(long.message, /up to \d+ tokens of expert lines .* policy has maxPositionEmbeddings 256; lower grpo\.maxNewTokens or experts\.generation\.maxNewTokens/);
});
