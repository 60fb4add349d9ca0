// `musketeers plot` end to end on synthetic run directories: files written, analysis.json, --json, errors.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { writeSyntheticRun } from '../analysis/synthetic-run.js';
import { runCli, tempDir } from '../helpers/cli.js';

test('plot one run: PNG and SVG of every standard figure into RUN_DIR/plots, and analysis.json', async () => {
  const dir = writeSyntheticRun(join(tempDir(), 'run'), { name: 'demo', seed: 3, steps: 20, evalEvery: 10 });
  const r = await runCli('plot', dir);
  assert.equal(r.code, 0, r.message);
  const files = readdirSync(join(dir, 'plots')).sort();
  for (const name of ['reward', 'reward_per_task', 'expert_mass', 'expert_mass__task-chain_sum', 'expert_mass_per_task', 'entropy_vs_reward', 'eval_accuracy', 'expert_mass_heatmap']) {
    assert.ok(files.includes(`${name}.png`) && files.includes(`${name}.svg`), `${name} in ${files.join(', ')}`);
  }
  const png = readFileSync(join(dir, 'plots', 'reward.png'));
  assert.equal(png.toString('latin1', 1, 4), 'PNG');
  const analysis = JSON.parse(readFileSync(join(dir, 'plots', 'analysis.json'), 'utf8'));
  assert.equal(analysis.groups[0].seeds[0], 3);
  assert.equal(typeof analysis.groups[0].entropyRewardSpearman.perTask.chain_sum.mean, 'number');
  assert.match(r.stdout, /spearman\(entropy, reward\)/);
  assert.match(r.stdout, /mean rho across tasks/);
});

test('plot several seeds and a baseline with --out, --format svg, --json', async () => {
  const root = tempDir();
  const dirs = [1, 2].map((s) => writeSyntheticRun(join(root, `s${s}`, 'q'), { name: 'q', seed: s, steps: 15, evalEvery: 5 }));
  dirs.push(writeSyntheticRun(join(root, 'base'), { name: 'q', seed: 1, method: 'no-experts', steps: 15, evalEvery: 5 }));
  const out = join(root, 'plots');
  const r = await runCli('--json', 'plot', ...dirs, '--out', out, '--format', 'svg');
  assert.equal(r.code, 0, r.message);
  const result = JSON.parse(r.stdout);
  assert.equal(result.outDir, out);
  assert.ok(result.files.every((f: string) => f.endsWith('.svg') || f.endsWith('analysis.json')));
  assert.ok(result.files.every((f: string) => existsSync(f)));
  assert.deepEqual(result.analysis.groups.map((g: { label: string }) => g.label), ['q · musketeers', 'q · no-experts']);
  assert.equal(result.analysis.groups[0].entropyRewardSpearman.overall.perSeed.length, 2);
  assert.equal(result.analysis.groups[1].entropyRewardSpearman, null);
  assert.ok(existsSync(join(out, 'reward.svg')));
  assert.ok(existsSync(join(out, 'eval_accuracy__q-no-experts.svg')));
  // Two seeds: the reward figure has a mean ± std band.
  assert.match(readFileSync(join(out, 'reward.svg'), 'utf8'), /mean ± std over seeds/);
});

test('plot errors: not a run directory (exit 1), empty metrics (exit 1), usage errors (exit 2)', async () => {
  const empty = tempDir();
  let r = await runCli('plot', empty);
  assert.equal(r.code, 1);
  assert.ok(r.message.includes(empty) && /no metrics\.jsonl/.test(r.message), r.message);
  writeFileSync(join(empty, 'metrics.jsonl'), '');
  r = await runCli('plot', empty);
  assert.equal(r.code, 1);
  assert.match(r.message, /no metrics lines/);
  const dir = writeSyntheticRun(join(tempDir(), 'run'), { steps: 5 });
  r = await runCli('plot', dir, '--format', 'gif');
  assert.equal(r.code, 2);
  assert.match(r.message, /--format/);
  r = await runCli('plot', dir, dir);
  assert.equal(r.code, 2);
  assert.match(r.message, /--out/);
  r = await runCli('plot', dir, '--smoothing', '1.5');
  assert.equal(r.code, 2);
  r = await runCli('plot');
  assert.equal(r.code, 2);
});
