// `musketeers train` end to end on the smoke world: the run-directory contract, a run killed with SIGKILL
// and resumed repeating the uninterrupted run's numbers, SIGINT saving and exiting with 130, non-finite
// steps skipped and then stopping the run, the no-experts baseline, and bad input.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { latestCheckpoint } from '../../src/rl/checkpoint.js';
import { readJsonl } from '../../src/rl/run-dir.js';
import { configHash, train, TrainingError, type RunSummary, type StepMetrics } from '../../src/rl/trainer.js';
import { buildWorld } from '../../src/world/build.js';
import { BIN, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
let worldDir = '';
let cacheDir = '';

/** --set arguments that point a run at the shared world and a fresh output directory. */
function sets(outputDir: string, ...extra: string[]): string[] {
  return [`world.dir=${worldDir}`, `outputDir=${outputDir}`, `experts.cacheDir=${cacheDir}`, ...extra].flatMap((s) => ['--set', s]);
}

function config(outputDir: string, ...extra: string[]) {
  return loadConfig(SMOKE, [`world.dir=${worldDir}`, `outputDir=${outputDir}`, `experts.cacheDir=${cacheDir}`, ...extra]).config;
}

/** Metrics without wall-clock times and cache counters (which legitimately differ between runs). */
function deterministic(rows: StepMetrics[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('time/') && k !== 'experts/cached')));
}

before(async () => {
  worldDir = join(tempDir(), 'world');
  cacheDir = join(tempDir(), 'cache');
  await buildWorld(loadConfig(SMOKE, [`world.dir=${worldDir}`]).config);
});

test('a smoke run writes the run directory contract and a summary', async () => {
  const out = tempDir();
  const r = await runCli('--json', 'train', SMOKE, ...sets(out));
  assert.equal(r.code, 0, r.message);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const dir = join(out, 'smoke');
  assert.equal(summary.runDir, dir);
  assert.equal(summary.completedSteps, 4);
  for (const f of ['config.yaml', 'run.json', 'metrics.jsonl', 'samples.jsonl', 'summary.json', 'eval/step_000000.json', 'eval/step_000004.json', 'plots/reward.png', 'plots/reward.svg', 'plots/routing_diagnostics.png', 'plots/analysis.json']) {
    assert.ok(existsSync(join(dir, f)), f);
  }
  assert.deepEqual(readdirSync(join(dir, 'checkpoints')), ['step_000002', 'step_000004']);
  // The saved config is the resolved config: loading it gives the same config (same hash).
  assert.equal(configHash(loadConfig(join(dir, 'config.yaml')).config), configHash(config(out)));
  const meta = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { seed: number; packageVersion: string };
  assert.equal(meta.seed, 7);
  assert.match(meta.packageVersion, /^\d+\.\d+\.\d+/);

  const metrics = readJsonl<StepMetrics>(join(dir, 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3, 4]);
  const keys = ['reward', 'reward_std', 'frac_reward_zero_std', 'accuracy', 'kl', 'clip_ratio', 'entropy', 'completions/mean_length', 'grad_norm', 'grad_norm/router', 'grad_norm/policy', 'router/context_norm_ratio', 'learning_rate', 'router/entropy', 'router/expert_mass/expert-a', 'router/expert_mass/expert-b', 'time/rollout', 'time/reward', 'time/backward', 'time/update'];
  for (const m of metrics) {
    for (const k of keys) assert.equal(typeof m[k], 'number', `${k} in step ${m.step}`);
    assert.ok(Math.abs(Number(m['router/expert_mass/expert-a']) + Number(m['router/expert_mass/expert-b']) - 1) < 1e-5);
    assert.ok(Object.keys(m).some((k) => /^reward\/(chain_sum|letter_counting)$/.test(k)));
    assert.ok(Object.keys(m).some((k) => /^router\/expert_mass\/(chain_sum|letter_counting)\/expert-a$/.test(k)));
    assert.equal(m.skipped, false);
  }
  // The reference is the starting policy: KL is 0 before the first update and positive once rewards moved it.
  assert.equal(metrics[0].kl, 0);
  const samples = readJsonl<{ step: number; completion: string; expertMass: Record<string, number> }>(join(dir, 'samples.jsonl'));
  assert.deepEqual(samples.map((s) => s.step), [2, 2, 4, 4]);
  assert.deepEqual(Object.keys(samples[0].expertMass), ['expert-a', 'expert-b']);
  const evalStart = JSON.parse(readFileSync(join(dir, 'eval', 'step_000000.json'), 'utf8')) as { tasks: Record<string, { items: number; accuracy: number; itemScores: number[]; itemsHash: string }> };
  assert.deepEqual(Object.values(evalStart.tasks).map((t) => t.items), [4, 4]);
  // Per-item scores (accuracy counts those equal to 1) and a hash of the items, the same at every evaluation.
  const evalEnd = JSON.parse(readFileSync(join(dir, 'eval', 'step_000004.json'), 'utf8')) as typeof evalStart;
  for (const [name, t] of Object.entries(evalStart.tasks)) {
    assert.equal(t.itemScores.length, 4);
    assert.equal(t.itemScores.filter((x) => x === 1).length / 4, t.accuracy);
    assert.match(t.itemsHash, /^[0-9a-f]{16}$/);
    assert.equal(evalEnd.tasks[name].itemsHash, t.itemsHash);
  }
  assert.deepEqual(summary.tasks.map((t) => t.task), ['chain_sum', 'letter_counting']);

  // The same run directory is not overwritten.
  const again = await runCli('train', SMOKE, ...sets(out));
  assert.equal(again.code, 2);
  assert.match(again.message, /already holds a run; continue it with `musketeers train --resume/);
});

test('a run killed with SIGKILL and resumed repeats the uninterrupted run exactly', async () => {
  const steps = ['train.steps=10', 'train.checkpointEvery=3'];
  const straightOut = tempDir();
  const straight = await train({ config: config(straightOut, ...steps) });
  assert.equal(straight.summary.completedSteps, 10);

  const killedOut = tempDir();
  const killedDir = join(killedOut, 'smoke');
  const child = spawn(process.execPath, [BIN, '--json', 'train', SMOKE, ...sets(killedOut, ...steps)], { stdio: 'ignore', env: { ...process.env, CI: 'true' } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? -1 : code)));
  // Kill it as soon as its second checkpoint exists (mid-run, possibly mid-write of the next step).
  for (let waited = 0; !existsSync(join(killedDir, 'checkpoints', 'step_000006')); waited += 10) {
    if (waited > 120_000) throw new Error('the run never reached its second checkpoint');
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGKILL');
  assert.equal(await exited, -1, 'the run finished before it could be killed');
  const before = readJsonl<StepMetrics>(join(killedDir, 'metrics.jsonl'));
  assert.ok(before.length >= 6 && before.length < 10, `killed after ${before.length} steps`);

  const resumed = await runCli('--json', 'train', '--resume', killedDir);
  assert.equal(resumed.code, 0, resumed.message);
  const a = readJsonl<StepMetrics>(join(straightOut, 'smoke', 'metrics.jsonl'));
  const b = readJsonl<StepMetrics>(join(killedDir, 'metrics.jsonl'));
  assert.deepEqual(deterministic(b), deterministic(a));
  // Same final weights and optimizer state, byte for byte.
  const shaOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'checkpoints', 'step_000010', 'state.json'), 'utf8')) as { tensorsSha256: string }).tensorsSha256;
  assert.equal(shaOf(killedDir), shaOf(join(straightOut, 'smoke')));
  const finalEval = (dir: string) => JSON.parse(readFileSync(join(dir, 'eval', 'step_000010.json'), 'utf8')) as { accuracy: number; tasks: unknown };
  assert.deepEqual(finalEval(killedDir).tasks, finalEval(join(straightOut, 'smoke')).tasks);
  // Weights moved: the run was not trivially equal.
  assert.ok(a.some((m) => Number(m.kl) > 0), 'no step moved the policy away from the reference');
});

test('SIGINT saves a checkpoint after the current step and exits with 130', async () => {
  const out = tempDir();
  const dir = join(out, 'smoke');
  const child = spawn(process.execPath, [BIN, 'train', SMOKE, ...sets(out, 'train.steps=40', 'train.checkpointEvery=20')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CI: 'true' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let waited = 0; readJsonl(join(dir, 'metrics.jsonl')).length < 2; waited += 10) {
    if (waited > 120_000) throw new Error('the run never reached step 2');
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  const metrics = readJsonl<StepMetrics>(join(dir, 'metrics.jsonl'));
  const last = metrics[metrics.length - 1].step;
  assert.ok(last < 40);
  assert.equal(latestCheckpoint(join(dir, 'checkpoints'))?.checkpoint.step, last);
  assert.match(stderr, /continue with `musketeers train --resume/);
});

test('non-finite steps are skipped and logged; repeated ones stop the run with the last good checkpoint intact', async () => {
  const out = tempDir();
  const once = await train({ config: config(out, 'train.steps=3', 'name=once'), faults: { nonFiniteSteps: [2] } });
  const metrics = readJsonl<StepMetrics>(join(out, 'once', 'metrics.jsonl'));
  assert.deepEqual(metrics.map((m) => m.skipped), [false, true, false]);
  assert.equal(once.summary.skippedSteps, 1);

  const warnings: string[] = [];
  await assert.rejects(
    train({ config: config(out, 'train.steps=6', 'train.checkpointEvery=1', 'train.maxBadSteps=3', 'name=stops'), faults: { nonFiniteSteps: [2, 3, 4] }, events: { warn: (m) => warnings.push(m) } }),
    (error: unknown) => error instanceof TrainingError && /stopped at step 4: 3 consecutive steps had a non-finite loss.*last good checkpoint is .*step_000001/.test(error.message),
  );
  assert.equal(warnings.filter((w) => /non-finite loss or gradient/.test(w)).length, 3);
  assert.equal(latestCheckpoint(join(out, 'stops', 'checkpoints'))?.checkpoint.step, 1);
});

test('no-experts baseline: same loop without router or prefix; a frozen policy without experts is refused', async () => {
  const out = tempDir();
  const r = await train({ config: config(out, 'method=no-experts', 'train.steps=2') });
  assert.equal(r.summary.expertMass, undefined);
  const metrics = readJsonl<StepMetrics>(join(out, 'smoke', 'metrics.jsonl'));
  assert.ok(metrics.every((m) => !Object.keys(m).some((k) => k.startsWith('router/'))));
  const ckpt = latestCheckpoint(join(out, 'smoke', 'checkpoints'))!.checkpoint;
  assert.equal(ckpt.router.size, 0);
  assert.ok(ckpt.policy.size > 0);

  const frozen = await runCli('train', SMOKE, ...sets(tempDir(), 'method=no-experts', 'policy.mode=frozen'));
  assert.equal(frozen.code, 1);
  assert.match(frozen.message, /nothing to train/);
});

test('bad input: --resume of a non-run directory, a changed config, unknown expert names', async () => {
  const notRun = await runCli('train', '--resume', tempDir());
  assert.equal(notRun.code, 2);
  assert.match(notRun.message, /no config\.yaml there, so it is not a run directory/);

  const out = tempDir();
  assert.equal((await runCli('train', SMOKE, ...sets(out, 'train.steps=2'))).code, 0);
  const changed = await runCli('train', SMOKE, '--resume', join(out, 'smoke'), ...sets(out, 'train.steps=2', 'grpo.beta=0.5'));
  assert.equal(changed.code, 1);
  assert.match(changed.message, /different config than the one given; resume with the run's own config/);

  const unknown = await runCli('train', SMOKE, ...sets(tempDir(), 'experts.models=[expert-a, nobody]'));
  assert.equal(unknown.code, 2);
  assert.match(unknown.message, /experts\.models\.1 \(--set experts\.models=.*\): no world expert, experts.onnx or experts.oracle entry is named 'nobody'; the experts are expert-a, expert-b/);
});

test('variants: token-sequence pooling; full policy with mu = 2 inner steps and a latent self-attention block', async () => {
  const out = tempDir();
  const tokens = await train({ config: config(out, 'experts.pooling=tokens', 'train.steps=2', 'name=tokens') });
  assert.equal(tokens.summary.completedSteps, 2);
  const mass = readJsonl<StepMetrics>(join(out, 'tokens', 'metrics.jsonl')).map((m) => Number(m['router/expert_mass/expert-a']) + Number(m['router/expert_mass/expert-b']));
  for (const m of mass) assert.ok(Math.abs(m - 1) < 1e-5);

  const full = await train({ config: config(out, 'policy.mode=full', 'grpo.iterations=2', 'router.selfAttentionBlocks=1', 'train.steps=2', 'name=full') });
  assert.equal(full.summary.completedSteps, 2);
  const ckpt = latestCheckpoint(join(out, 'full', 'checkpoints'))!.checkpoint;
  assert.ok(ckpt.policy.has('model.embed_tokens.weight'));
  assert.ok([...ckpt.router.keys()].some((k) => k.startsWith('self.0.')));
  // Two optimizer steps per training step.
  assert.equal(ckpt.optimizer.step, 4);
});

test('train.seed repeats a run on the same world: another seed, other samples; the world is not rebuilt', async () => {
  const out = tempDir();
  const built: string[] = [];
  const a = await train({ config: config(out, 'train.steps=2', 'name=s1'), events: { world: { onModelDone: (card, skipped) => !skipped && built.push(card.name) } } });
  const b = await train({ config: config(out, 'train.steps=2', 'name=s2', 'train.seed=99'), events: { world: { onModelDone: (card, skipped) => !skipped && built.push(card.name) } } });
  assert.deepEqual(built, []);
  assert.equal(a.summary.seed, 7);
  assert.equal(b.summary.seed, 99);
  assert.equal((JSON.parse(readFileSync(join(out, 's2', 'run.json'), 'utf8')) as { seed: number }).seed, 99);
  const first = (name: string) => readJsonl<{ question: string }>(join(out, name, 'samples.jsonl')).map((s) => s.question);
  assert.notDeepEqual(first('s2'), first('s1'));
});

test('engines: the tfjs reference runs the same loop; both engines write the same first-step rewards and close diagnostics', async () => {
  const runs = await Promise.all(
    (['onnx', 'tfjs'] as const).map(async (engine) => {
      const out = tempDir();
      const result = await train({ config: config(out, `train.engine=${engine}`, 'train.steps=2') });
      return { summary: result.summary, metrics: readJsonl<StepMetrics>(join(result.summary.runDir, 'metrics.jsonl')) };
    }),
  );
  const [onnx, tfjs] = runs;
  assert.match(onnx.summary.backend, /^onnx cpu$/);
  assert.match(tfjs.summary.backend, /^tfjs /);
  // Same world, same seeds: the first step samples from the same (to float rounding) policy.
  assert.equal(onnx.metrics[0].reward, tfjs.metrics[0].reward);
  for (const k of ['loss', 'entropy', 'router/entropy']) {
    const [a, b] = [Number(onnx.metrics[0][k]), Number(tfjs.metrics[0][k])];
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)), `${k}: onnx ${a} vs tfjs ${b}`);
  }
});

test('oracle experts with a router warm-up: labelled in run.json, warm-up log and checkpoint, router-only by default, resumed exactly', async () => {
  const oracle = ['experts.oracle=[{name: oracle, encoding: tokens, width: 8}]', 'experts.models=[oracle]', 'router.warmup.steps=3', 'train.steps=4', 'train.checkpointEvery=2'];
  const straightOut = tempDir();
  const straight = await train({ config: config(straightOut, ...oracle) });
  assert.equal(straight.summary.completedSteps, 4);
  const dir = join(straightOut, 'smoke');
  assert.deepEqual((JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { oracleExperts: string[] }).oracleExperts, ['oracle']);
  const warm = readJsonl<{ step: number; nll: number; 'grad_norm/router': number }>(join(dir, 'warmup.jsonl'));
  assert.deepEqual(warm.map((w) => w.step), [1, 2, 3]);
  for (const w of warm) assert.ok(Number.isFinite(w.nll) && w.nll > 0 && w['grad_norm/router'] > 0);
  // policyLearningRate 0: the warm-up moved the router and left the LoRA adapters at their initialisation (B = 0).
  const warmed = latestCheckpoint(join(dir, 'warmup'))!.checkpoint;
  for (const [name, t] of warmed.policy) if (name.includes('lora_B')) assert.ok(t.data.every((v) => v === 0), `${name} moved during a router-only warm-up`);
  assert.equal(warmed.optimizer.step, 0, 'Adam starts RL from a fresh state');

  // Interrupted after step 2 (a checkpoint), then resumed: the same numbers as the straight run.
  const stopOut = tempDir();
  const controller = new AbortController();
  const stopped = await train({ config: config(stopOut, ...oracle), signal: controller.signal, events: { onStep: (m) => m.step === 2 && controller.abort() } });
  assert.equal(stopped.interrupted, true);
  const resumed = await train({ config: config(stopOut, ...oracle), resume: true });
  assert.equal(resumed.summary.completedSteps, 4);
  assert.deepEqual(deterministic(readJsonl<StepMetrics>(join(stopOut, 'smoke', 'metrics.jsonl'))), deterministic(readJsonl<StepMetrics>(join(dir, 'metrics.jsonl'))));

  // text-concat cannot read an oracle; a warm-up that would train nothing is refused.
  const textConcat = await runCli('train', SMOKE, ...sets(tempDir(), 'method=text-concat', 'experts.oracle=[{name: oracle}]', 'experts.models=[oracle]'));
  assert.equal(textConcat.code, 2);
  assert.match(textConcat.message, /oracle experts \(oracle\) hold a vector, not text/);
  const nothing = await runCli('train', SMOKE, ...sets(tempDir(), 'method=no-experts', 'router.warmup.steps=5'));
  assert.equal(nothing.code, 2);
  assert.match(nothing.message, /warm-up would train nothing/);
});
