// `musketeers sweep`: a grid x seeds on the smoke world in parallel processes, a failing point making
// the exit code 1, re-runs skipping finished runs, shards splitting the grid, and report merging shards.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import type { Report } from '../../src/analysis/report.js';
import type { SweepRunResult } from '../../src/analysis/sweep.js';
import { loadConfig } from '../../src/config.js';
import { buildWorld } from '../../src/world/build.js';
import { REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';

const SMOKE = join(REPO_ROOT, 'configs', 'smoke.yaml');
let worldDir = '';

function sweepFile(dir: string, grid: string): string {
  const file = join(dir, 'grid.yaml');
  writeFileSync(file, `config: ${SMOKE}\nseeds: [1, 2]\ngrid:\n${grid}\nset: ["world.dir=${worldDir}", "experts.cacheDir=null", "train.steps=2"]\noutputDir: out\nparallel: 2\n`);
  return file;
}

before(async () => {
  worldDir = join(tempDir(), 'world');
  await buildWorld(loadConfig(SMOKE, [`world.dir=${worldDir}`]).config);
});

test('grid x seeds in parallel; a failing point gives exit 1; a re-run skips finished runs', async () => {
  const dir = tempDir();
  const file = sweepFile(dir, '  grpo.maxNewTokens: [12, 100000]');
  const r = await runCli('--json', 'sweep', file);
  assert.equal(r.code, 1, r.message);
  assert.match(r.message, /2 of 4 runs failed: grid-grpo\.maxNewTokens_100000-s1 \(exit 1: .*maxPositionEmbeddings/);
  const runs = (JSON.parse(r.stdout) as { runs: SweepRunResult[] }).runs;
  assert.deepEqual(runs.map((x) => x.status), ['done', 'done', 'failed', 'failed']);
  assert.ok(existsSync(join(dir, 'out', 'sweep.json')));
  const again = await runCli('--json', 'sweep', file);
  assert.equal(again.code, 1);
  const second = (JSON.parse(again.stdout) as { runs: SweepRunResult[] }).runs;
  assert.deepEqual(second.map((x) => x.status), ['skipped', 'skipped', 'failed', 'failed']);
});

test('shards split the grid deterministically and report merges their directories', async () => {
  const dir = tempDir();
  const file = sweepFile(dir, '  method: [musketeers, no-experts]');
  const names: string[][] = [];
  for (const shard of ['0/2', '1/2']) {
    const r = await runCli('--json', 'sweep', file, '--shard', shard);
    assert.equal(r.code, 0, r.message);
    names.push((JSON.parse(r.stdout) as { runs: SweepRunResult[] }).runs.map((x) => x.name));
  }
  assert.deepEqual(names, [['grid-method_musketeers-s1', 'grid-method_no-experts-s1'], ['grid-method_musketeers-s2', 'grid-method_no-experts-s2']]);
  assert.ok(existsSync(join(dir, 'out', 'sweep-shard-0-of-2.json')) && existsSync(join(dir, 'out', 'sweep-shard-1-of-2.json')));
  const report = await runCli('--json', 'report', join(dir, 'out'));
  assert.equal(report.code, 0, report.message);
  const rows = (JSON.parse(report.stdout) as Report).rows;
  assert.deepEqual(rows.map((x) => [x.label, x.seeds]), [['grid-method_musketeers', [1, 2]], ['grid-method_no-experts', [1, 2]]]);

  const bad = await runCli('sweep', file, '--shard', '2/2');
  assert.equal(bad.code, 2);
  assert.match(bad.message, /--shard 2\/2: write i\/n with 0 <= i < n/);
  const badGrid = sweepFile(tempDir(), '  grpo.groupSize: [1]');
  const invalid = await runCli('sweep', badGrid);
  assert.equal(invalid.code, 2);
  assert.match(invalid.message, /grpo\.groupSize/);
  assert.equal(readdirSync(join(badGrid, '..')).includes('out'), false, 'nothing may run or be written');
});
