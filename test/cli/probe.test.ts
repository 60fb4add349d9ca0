// `musketeers probe` end to end on the smoke world: a run directory (table, probe.json, --json, the
// trainer's eval accuracy beside the probes), `plot` adding the probe figure and analysis.json entry,
// a config (several layers and poolings, a greedy evaluation of the starting policy), and bad flags.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import type { ProbeReport } from '../../src/analysis/probe/probe.js';
import { loadConfig } from '../../src/config.js';
import { train } from '../../src/rl/trainer.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
let worldDir = '';
let runDir = '';

function sets(out: string): string[] {
  return [`world.dir=${worldDir}`, `outputDir=${out}`, 'world.models.2.train.steps=10'].flatMap((s) => ['--set', s]);
}

before(async () => {
  worldDir = join(tempDir(), 'world');
  // A shorter policy training than smoke's: this file tests the plumbing, not what the policy learns.
  const config = loadConfig(SMOKE, [`world.dir=${worldDir}`, `outputDir=${tempDir()}`, 'world.models.2.train.steps=10', 'train.steps=2']).config;
  runDir = (await train({ config })).summary.runDir;
});

test('probe RUN_DIR: available / carried / used rows per task against the majority rate and the eval accuracy', async () => {
  const r = await runCli('probe', runDir);
  assert.equal(r.code, 0, r.message);
  for (const row of [/available\s+expert-a L-1 last/, /available\s+expert-b L-1 last/, /carried\s+router context/, /used\s+policy \+ context/, /used\s+policy, no context/, /base\s+majority class/, /actual\s+policy accuracy/]) {
    assert.match(r.stdout, row);
  }
  assert.match(r.stdout, /probe\s+chain_sum\s+letter_counting/);
  assert.match(r.stdout, /eval\/step_000002\.json \(the trainer's greedy evaluation at step 2\)/);
  assert.ok(existsSync(join(runDir, 'probe.json')));

  const j = await runCli('probe', runDir, '--json', '--task', 'letter_counting');
  assert.equal(j.code, 0, j.message);
  const report = JSON.parse(j.stdout) as ProbeReport & { file: string };
  assert.equal(report.file, join(runDir, 'probe.json'));
  assert.equal(report.checkpoint?.step, 2);
  assert.deepEqual(report.tasks.map((t) => t.task), ['letter_counting']);
  const task = report.tasks[0];
  assert.deepEqual(task.probes.map((p) => [p.kind, p.label]), [
    ['expert', 'expert-a L-1 last'],
    ['expert', 'expert-b L-1 last'],
    ['router', 'router context'],
    ['policy', 'policy + context'],
    ['policy', 'policy, no context'],
  ]);
  const router = task.probes.find((p) => p.kind === 'router')!;
  assert.equal(router.features, 4 * 16); // K = 4 context tokens of the policy's width 16
  assert.ok(task.probes.every((p) => p.accuracy >= 0 && p.accuracy <= 1 && report.lambdas.includes(p.lambda)));
  assert.ok(task.keptHeldOut > 0 && task.keptHeldOut <= task.heldOutItems && task.classes.length >= 2);
  assert.ok(task.majorityRate >= 0 && task.majorityRate <= 1);
  const evalFile = JSON.parse(readFileSync(join(runDir, 'eval', 'step_000002.json'), 'utf8')) as { tasks: Record<string, { accuracy: number }> };
  assert.equal(report.policyAccuracy.tasks.letter_counting?.accuracy, evalFile.tasks.letter_counting.accuracy);
});

test('plot RUN_DIR adds the probe figure and the report to analysis.json; a later probe keeps analysis.json current', async () => {
  const probed = await runCli('probe', runDir);
  assert.equal(probed.code, 0, probed.message);
  const p = await runCli('plot', runDir, '--format', 'svg');
  assert.equal(p.code, 0, p.message);
  assert.ok(existsSync(join(runDir, 'plots', 'probes.svg')));
  const svg = readFileSync(join(runDir, 'plots', 'probes.svg'), 'utf8');
  assert.match(svg, /Information probes/);
  assert.match(svg, /carried · router context/);
  const analysisFile = join(runDir, 'plots', 'analysis.json');
  let analysis = JSON.parse(readFileSync(analysisFile, 'utf8')) as { probes: { dir: string; report: ProbeReport }[]; definitions: Record<string, string>; groups: unknown[] };
  assert.equal(analysis.probes.length, 1);
  assert.equal(analysis.probes[0].dir, runDir);
  assert.deepEqual(analysis.probes[0].report.tasks.map((t) => t.task), ['chain_sum', 'letter_counting']);
  assert.match(analysis.definitions.probes, /available/);
  // Probing one task again replaces the run's entry in the existing analysis.json.
  const again = await runCli('--json', 'probe', runDir, '--task', 'chain_sum');
  assert.equal(again.code, 0, again.message);
  assert.equal((JSON.parse(again.stdout) as { analysisFile: string }).analysisFile, analysisFile);
  analysis = JSON.parse(readFileSync(analysisFile, 'utf8'));
  assert.equal(analysis.probes.length, 1);
  assert.deepEqual(analysis.probes[0].report.tasks.map((t) => t.task), ['chain_sum']);
  assert.equal(analysis.groups.length, 1);
});

test('probe CONFIG: several layers and poolings, the starting policy evaluated greedily on the same held-out items', async () => {
  const out = tempDir();
  const r = await runCli('--json', 'probe', SMOKE, ...sets(out), '--task', 'chain_sum', '--layer', '0', '--layer', '-1', '--pool', 'last', '--pool', 'mean', '--classes', '4');
  assert.equal(r.code, 0, r.message);
  const report = JSON.parse(r.stdout) as ProbeReport & { file: string };
  assert.equal(report.checkpoint, undefined);
  assert.equal(report.file, join(out, 'probe', 'smoke-musketeers-start.json'));
  assert.ok(existsSync(report.file));
  const experts = report.tasks[0].probes.filter((p) => p.kind === 'expert').map((p) => p.label);
  assert.deepEqual(experts, ['expert-a L0 last', 'expert-b L0 last', 'expert-a L0 mean', 'expert-b L0 mean', 'expert-a L-1 last', 'expert-b L-1 last', 'expert-a L-1 mean', 'expert-b L-1 mean']);
  assert.ok(report.tasks[0].classes.length <= 4);
  assert.match(report.policyAccuracy.source, /greedy evaluation of the starting policy on the probe's held-out items/);
  assert.equal(report.policyAccuracy.tasks.chain_sum?.items, report.tasks[0].heldOutItems);
});

test('bad flags exit 2 naming the flag: --task, --layer, --pool, --target', async () => {
  const out = tempDir();
  const cases: [string[], RegExp][] = [
    [['--task', 'gcd'], /--task gcd: not in the config's data\.tasks \(chain_sum, letter_counting\)/],
    [['--layer', '7'], /--layer 7: .*layer 7 is out of range; this model has 1 layers/],
    [['--layer', 'two'], /--layer takes an integer/],
    [['--pool', 'tokens'], /--pool tokens: a linear probe reads one vector per prompt; use last, first, mean/],
    [['--pool', 'max'], /--pool max: use one of last, first, mean/],
    [['--target', 'digits'], /--target digits: use one of answer, first-token/],
  ];
  for (const [flags, message] of cases) {
    const r = await runCli('probe', SMOKE, ...sets(out), ...flags);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.message}`);
    assert.match(r.message, message);
  }
  const missing = await runCli('probe', join(tempDir(), 'nothing'));
  assert.equal(missing.code, 2);
});
