// Reading run directories and the analysis numbers on synthetic runs.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { analyzeRuns } from '../../src/analysis/plots.js';
import { aggregateSeries, groupRuns, loadRun, metricSeries, parseMetrics, runKeys } from '../../src/analysis/runs.js';
import { DataError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { writeSyntheticRun } from './synthetic-run.js';

test('parseMetrics: sorted by step, last duplicate wins, errors name file and line, partial last line tolerated', () => {
  const rows = parseMetrics('{"step":2,"reward":0.5}\n{"step":1,"reward":0.1}\n\n{"step":2,"reward":0.7}\n', 'm.jsonl');
  assert.deepEqual(rows.map((r) => [r.step, r.reward]), [[1, 0.1], [2, 0.7]]);
  assert.throws(() => parseMetrics('{"step":1}\nnot json\n{"step":3}\n', 'm.jsonl'), (e: Error) => e instanceof DataError && /m\.jsonl:2: not valid JSON/.test(e.message));
  assert.throws(() => parseMetrics('{"reward":1}\n', 'm.jsonl'), /m\.jsonl:1: "step" must be a non-negative integer/);
  assert.throws(() => parseMetrics('[1]\n', 'm.jsonl'), /expected a JSON object/);
  const warnings: string[] = [];
  assert.equal(parseMetrics('{"step":1}\n{"step":2,"rew', 'm.jsonl', warnings).length, 1);
  assert.match(warnings[0], /incomplete last line/);
});

test('loadRun: config name/seed/method, evals, keys; clear errors for non-runs', () => {
  const dir = writeSyntheticRun(join(tempDir(), 'r'), { name: 'alpha', seed: 7, steps: 12, evalEvery: 6 });
  const run = loadRun(dir);
  assert.equal(run.name, 'alpha');
  assert.equal(run.seed, 7);
  assert.equal(run.method, 'musketeers');
  assert.equal(run.metrics.length, 12);
  assert.deepEqual(run.evals.map((e) => e.step), [0, 6, 12]);
  const keys = runKeys(run);
  assert.deepEqual(keys.tasks, ['chain_sum', 'basic_arithmetic', 'propositional_logic']);
  assert.deepEqual(keys.experts, ['expert-sums', 'expert-logic', 'expert-words']);
  assert.equal(keys.hasRouter, true);
  // chain_sum is skipped every third step (synthetic batches): 8 of 12 steps.
  assert.equal(metricSeries(run, 'reward/chain_sum').steps.length, 8);

  const base = loadRun(writeSyntheticRun(join(tempDir(), 'b'), { method: 'no-experts', steps: 5 }));
  assert.equal(base.method, 'no-experts');
  assert.equal(runKeys(base).hasRouter, false);

  const empty = tempDir();
  assert.throws(() => loadRun(empty), (e: Error) => e instanceof DataError && e.message.includes(empty) && /no metrics\.jsonl/.test(e.message));
  writeFileSync(join(empty, 'metrics.jsonl'), '\n');
  assert.throws(() => loadRun(empty), /has no metrics lines/);
  assert.throws(() => loadRun(join(empty, 'missing')), /does not exist/);
  // Without config.yaml: directory name, no seed, a warning.
  const bare = join(tempDir(), 'bare-run');
  mkdirSync(bare);
  writeFileSync(join(bare, 'metrics.jsonl'), '{"step":1,"reward":0.5}\n');
  const b = loadRun(bare);
  assert.equal(b.name, 'bare-run');
  assert.equal(b.seed, null);
  assert.match(b.warnings[0], /no config\.yaml/);
  // A malformed eval report is named.
  mkdirSync(join(bare, 'eval'));
  writeFileSync(join(bare, 'eval', 'step_000001.json'), '{');
  assert.throws(() => loadRun(bare), /step_000001\.json: not valid JSON/);
});

test('grouping by name and method; aggregation across seeds', () => {
  const root = tempDir();
  const runs = [2, 1].map((s) => loadRun(writeSyntheticRun(join(root, `s${s}`), { name: 'q', seed: s, steps: 6 })));
  runs.push(loadRun(writeSyntheticRun(join(root, 'base'), { name: 'q', seed: 1, method: 'no-experts', steps: 6 })));
  const groups = groupRuns(runs);
  assert.deepEqual(groups.map((g) => g.label), ['q · musketeers', 'q · no-experts']);
  assert.deepEqual(groups[0].runs.map((r) => r.seed), [1, 2]);
  // ablate and sweep name seeds `<variant>-s<seed>`: those names group as one; a name ending in another seed does not.
  const swept = [1, 2].map((s) => loadRun(writeSyntheticRun(join(root, `v-s${s}`), { name: `grid-lr_0.1-s${s}`, seed: s, steps: 3 })));
  swept.push(loadRun(writeSyntheticRun(join(root, 'odd'), { name: 'grid-lr_0.1-s7', seed: 3, steps: 3 })));
  assert.deepEqual(groupRuns(swept).map((g) => [g.label, g.runs.map((r) => r.seed)]), [['grid-lr_0.1', [1, 2]], ['grid-lr_0.1-s7', [3]]]);
  // steps {1,2} and {2,3}: step 2 has mean (4+6)/2 = 5 and std sqrt(((4-5)²+(6-5)²)/1) = sqrt(2).
  const agg = aggregateSeries([{ steps: [1, 2], values: [1, 4] }, { steps: [2, 3], values: [6, 9] }]);
  assert.deepEqual(agg.steps, [1, 2, 3]);
  assert.deepEqual(agg.mean, [1, 5, 9]);
  assert.deepEqual(agg.count, [1, 2, 1]);
  assert.ok(Number.isNaN(agg.std[0]));
  assert.ok(Math.abs(agg.std[1] - Math.SQRT2) < 1e-12);
});

test('analysis: entropy-reward Spearman per task and seed, expert-preference fractions, no-experts has none', () => {
  const root = tempDir();
  const runs = [1, 2].map((s) => loadRun(writeSyntheticRun(join(root, `s${s}`), { name: 'q', seed: s, steps: 60 })));
  runs.push(loadRun(writeSyntheticRun(join(root, 'base'), { name: 'q', seed: 1, method: 'no-experts', steps: 60 })));
  const a = analyzeRuns(runs);
  const g = a.groups[0];
  assert.ok(g.entropyRewardSpearman);
  const rho = g.entropyRewardSpearman as NonNullable<typeof g.entropyRewardSpearman>;
  // Synthetic runs: reward rises while routing concentrates, so ρ is clearly negative.
  assert.equal(rho.overall.perSeed.length, 2);
  assert.ok((rho.overall.mean as number) < -0.5, String(rho.overall.mean));
  for (const t of ['chain_sum', 'basic_arithmetic', 'propositional_logic']) {
    const c = rho.perTask[t];
    assert.equal(c.perSeed.length, 2);
    assert.equal(c.perSeed[0].n, 40);
    const seeds = c.perSeed.map((s) => s.rho as number);
    assert.ok(Math.abs((c.mean as number) - (seeds[0] + seeds[1]) / 2) < 1e-12);
  }
  const tasksMean = Object.values(rho.perTask).reduce((s, c) => s + (c.mean as number), 0) / 3;
  assert.ok(Math.abs((rho.meanAcrossTasks as number) - tasksMean) < 1e-12);
  assert.ok(g.expertPreference);
  const pref = g.expertPreference as NonNullable<typeof g.expertPreference>;
  for (const p of Object.values(pref.perTask)) {
    assert.equal(p.seeds, 2);
    assert.ok(Math.abs((p.static as number) + (p.dynamic as number) - 1) < 1e-9);
  }
  for (const p of Object.values(pref.perExpert)) assert.ok(Math.abs((p.static as number) + (p.dynamic as number) + (p.interaction as number) - 1) < 1e-9);
  assert.equal(a.groups[1].entropyRewardSpearman, null);
  assert.equal(a.groups[1].expertPreference, null);
  assert.ok(a.definitions['expertPreference.perTask'].includes('SS_total'));
  assert.deepEqual(g.lastStep, [60, 60]);
  assert.equal(g.finalEval?.step, 60);
});

test('analysis: a constant entropy series gives ρ = null, not NaN in JSON', () => {
  const dir = join(tempDir(), 'const');
  mkdirSync(dir);
  const lines = [1, 2, 3, 4].map((step) => JSON.stringify({ step, reward: step / 10, 'router/entropy': 1, 'router/expert_mass/e1': 0.5, 'router/expert_mass/e2': 0.5 }));
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  const a = analyzeRuns([loadRun(dir)]);
  assert.equal(a.groups[0].entropyRewardSpearman?.overall.perSeed[0].rho, null);
  assert.equal(a.groups[0].entropyRewardSpearman?.overall.mean, null);
  assert.ok(!JSON.stringify(a).includes('NaN'));
});

test('static vs dynamic across held-out prompts: two-way decomposition per expert, sums of squares added', async () => {
  // Task t, two prompts, evaluations at steps 0 and 10. Expert a: prompt 1 [0.6, 0.8], prompt 2 [0.2, 0.4]; b = 1 - a.
  // For a: grand 0.5; row means 0.7, 0.3 -> SS_rows = 2 (0.2^2 + 0.2^2) = 0.16; column means 0.4, 0.6 -> SS_cols = 2 (0.1^2 + 0.1^2) = 0.04;
  // SS_total = 0.1^2 + 0.3^2 + 0.3^2 + 0.1^2 = 0.2; residual 0. b mirrors a. Sums: 0.32 / 0.08 / 0 of 0.4 -> static 0.8, dynamic 0.2.
  const evalAt = (step: number, a: [number, number]) => ({
    step,
    accuracy: 0,
    meanScore: 0,
    file: `step_${step}.json`,
    tasks: { t: { items: 2, accuracy: 0, meanScore: 0, promptMass: a.map((x) => [x, 1 - x]) } },
  });
  const metrics = [1, 2, 3, 4].map((step) => ({ step, reward: step / 10, 'reward/t': step / 10, 'router/entropy': 1 - step / 10, 'router/entropy/t': 1 - step / 10, 'router/expert_mass/a': 0.5, 'router/expert_mass/b': 0.5, 'router/expert_mass/t/a': 0.5, 'router/expert_mass/t/b': 0.5 }));
  const run = { dir: '/x', name: 'n', seed: 1, method: 'musketeers', metrics, evals: [evalAt(0, [0.6, 0.2]), evalAt(10, [0.8, 0.4])], summary: undefined, warnings: [] };
  const analysis = analyzeRuns([run as unknown as Parameters<typeof analyzeRuns>[0][number]]);
  const d = analysis.groups[0].expertPreference!.acrossPrompts.t;
  assert.ok(Math.abs(d.static! - 0.8) < 1e-12, String(d.static));
  assert.ok(Math.abs(d.dynamic! - 0.2) < 1e-12, String(d.dynamic));
  assert.ok(Math.abs(d.interaction!) < 1e-12);
  assert.equal(d.windows, 2);
});
