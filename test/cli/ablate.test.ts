// `musketeers ablate` on the smoke world: variants through the same trainer, seeds, the closing table,
// finished runs skipped on a re-run, and ablations that do not apply refused before anything trains.

import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import type { AblationResult } from '../../src/analysis/ablate.js';
import { loadConfig } from '../../src/config.js';
import { latestCheckpoint } from '../../src/rl/checkpoint.js';
import { readJsonl } from '../../src/rl/run-dir.js';
import { buildWorld } from '../../src/world/build.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
let worldDir = '';

function sets(out: string, ...extra: string[]): string[] {
  return [`world.dir=${worldDir}`, `outputDir=${out}`, 'experts.cacheDir=null', 'train.steps=2', ...extra].flatMap((s) => ['--set', s]);
}

before(async () => {
  worldDir = join(tempDir(), 'world');
  await buildWorld(loadConfig(SMOKE, [`world.dir=${worldDir}`]).config);
});

test('variants x seeds through the trainer; the table; a re-run skips finished runs', async () => {
  const out = tempDir();
  const args = ['--json', 'ablate', SMOKE, ...sets(out), '--single-model', '--freeze-router', '--uniform-router', '--hard-route', '--zero-experts', '--drop-expert', 'expert-a', '--seeds', '2'];
  const first = await runCli(...args);
  assert.equal(first.code, 0, first.message);
  const result = JSON.parse(first.stdout) as AblationResult;
  assert.deepEqual(result.table.map((r) => r.variant), ['musketeers', 'no-experts', 'freeze-router', 'uniform-router', 'hard-route', 'zero-experts', 'drop-expert-expert-a']);
  assert.ok(result.table.every((r) => r.seeds === 2 && Number.isFinite(r.accuracy.mean)));
  assert.equal(result.runs.length, 14);
  assert.ok(existsSync(join(result.outDir, 'ablate.json')));
  assert.deepEqual(readdirSync(result.outDir).filter((d) => d.startsWith('smoke-musketeers-')).sort(), ['smoke-musketeers-s7', 'smoke-musketeers-s8']);
  const dir = (variant: string) => join(result.outDir, `smoke-${variant}-s7`);
  // Each ablation really changed the run: no router metrics without experts; frozen router weights; one-hot mass under top-1.
  assert.ok(readJsonl(join(dir('no-experts'), 'metrics.jsonl')).every((m) => !('router/entropy' in m)));
  const frozen = latestCheckpoint(join(dir('freeze-router'), 'checkpoints'))!.checkpoint;
  assert.ok(![...frozen.optimizer.m.keys()].some((k) => k.startsWith('router.')));
  // Top-1: every prompt's mass is one-hot, so every prompt's routing entropy (and their mean) is 0.
  for (const m of readJsonl<Record<string, number>>(join(dir('hard-route'), 'metrics.jsonl'))) assert.ok(m['router/entropy'] < 1e-5, `entropy ${m['router/entropy']}`);
  for (const m of readJsonl<Record<string, number>>(join(dir('uniform-router'), 'metrics.jsonl'))) assert.ok(Math.abs(m['router/expert_mass/expert-a'] - 0.5) < 1e-5);
  assert.ok(readJsonl<Record<string, number>>(join(dir('drop-expert-expert-a'), 'metrics.jsonl')).every((m) => !('router/expert_mass/expert-a' in m)));

  const again = await runCli(...args);
  assert.equal(again.code, 0, again.message);
  const second = JSON.parse(again.stdout) as AblationResult;
  assert.ok(second.runs.every((r) => r.skipped));
  assert.deepEqual(second.table, result.table);
});

test('ablations that do not apply are refused before anything trains', async () => {
  const cases: [string[], RegExp][] = [
    [['--drop-expert', 'nobody'], /no expert named 'nobody'; the config's experts are expert-a, expert-b/],
    [['--freeze-router', '--set', 'policy.mode=frozen'], /--freeze-router .* policy\.mode is frozen: nothing would train/],
    [['--zero-experts', '--set', 'method=no-experts'], /the config's method is no-experts/],
    [['--shuffle-experts', '--set', 'train.promptsPerStep=1'], /--shuffle-experts .* needs train\.promptsPerStep >= 2/],
    [['--pool', 'median'], /--pool median: use one of last, first, mean, tokens/],
  ];
  for (const [extra, message] of cases) {
    const out = tempDir();
    const r = await runCli('ablate', SMOKE, ...sets(out), ...extra);
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.message}`);
    assert.match(r.message, message);
    assert.deepEqual(readdirSync(out), [], 'nothing may be written');
  }
});
