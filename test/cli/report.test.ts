// `musketeers report`: run directories (given one by one, as a directory of runs, or as shards) gathered
// into the Table 1 layout with paired differences, checked against numbers worked out by hand.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import type { Report } from '../../src/analysis/report.js';
import { runCli, tempDir } from '../helpers/cli.js';

function writeRun(parent: string, name: string, method: string, seed: number, accuracy: Record<string, number>): string {
  const dir = join(parent, `${name}-s${seed}`);
  mkdirSync(join(dir, 'eval'), { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), `name: ${name}-s${seed}\nseed: 1234\nmethod: ${method}\ntrain:\n  seed: ${seed}\n`);
  writeFileSync(join(dir, 'metrics.jsonl'), `${JSON.stringify({ step: 1, reward: 0.5 })}\n`);
  const tasks = Object.fromEntries(Object.entries(accuracy).map(([t, a]) => [t, { items: 10, accuracy: a, meanScore: a }]));
  const values = Object.values(accuracy);
  writeFileSync(join(dir, 'eval', 'step_000000.json'), JSON.stringify({ step: 0, accuracy: 0, meanScore: 0, tasks: Object.fromEntries(Object.keys(accuracy).map((t) => [t, { items: 10, accuracy: 0, meanScore: 0 }])) }));
  writeFileSync(join(dir, 'eval', 'step_000010.json'), JSON.stringify({ step: 10, accuracy: values.reduce((a, b) => a + b, 0) / values.length, meanScore: 0, tasks }));
  return dir;
}

test('Table 1 layout: mean ± std over seeds per task, paired differences with t intervals; shards merge', async () => {
  const shardA = tempDir();
  const shardB = tempDir();
  // method x, seeds 1 and 2: task t 0.5 and 0.7, task u 1.0 and 0.8; baseline (no-experts): t 0.4 and 0.4, u 0.9 and 0.9.
  writeRun(shardA, 'exp-musketeers', 'musketeers', 1, { t: 0.5, u: 1.0 });
  writeRun(shardB, 'exp-musketeers', 'musketeers', 2, { t: 0.7, u: 0.8 });
  writeRun(shardA, 'exp-no-experts', 'no-experts', 1, { t: 0.4, u: 0.9 });
  writeRun(shardB, 'exp-no-experts', 'no-experts', 2, { t: 0.4, u: 0.9 });
  const out = join(tempDir(), 'table1.md');
  const r = await runCli('--json', 'report', shardA, shardB, '--out', out);
  assert.equal(r.code, 0, r.message);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(report.tasks, ['t', 'u']);
  assert.deepEqual(report.rows.map((x) => [x.label, x.seeds]), [['exp-musketeers', [1, 2]], ['exp-no-experts', [1, 2]]]);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
  // t: mean (0.5 + 0.7) / 2 = 0.6; std sqrt((0.1^2 + 0.1^2) / 1) = 0.1414214
  close(report.rows[0].cells.t.mean, 0.6);
  close(report.rows[0].cells.t.std, Math.sqrt(0.02));
  // mean column: run means (0.5 + 1.0) / 2 = 0.75 and (0.7 + 0.8) / 2 = 0.75
  close(report.rows[0].cells.mean.mean, 0.75);
  assert.equal(report.baseline, 'exp-no-experts');
  // paired differences on t: [0.1, 0.3] -> mean 0.2, sd 0.1414214, se 0.1, t_{0.975,1} = 12.7062 -> [-1.0706, 1.4706]
  const d = report.differences[0].cells.t;
  close(d.mean, 0.2);
  assert.ok(Math.abs(d.lower - (0.2 - 1.270620)) < 1e-4 && Math.abs(d.upper - (0.2 + 1.270620)) < 1e-4, `${d.lower} ${d.upper}`);
  assert.equal(d.n, 2);
  const markdown = readFileSync(out, 'utf8');
  assert.match(markdown, /\| exp-musketeers \| 2 \| 60\.0 ± 14\.1 \| 90\.0 ± 14\.1 \| 75\.0 ± 0\.0 \|/);
  assert.match(markdown, /\| exp-musketeers \| \+20\.0 \[-107\.1, 147\.1\] \(n=2\) \|/);
  assert.ok(existsSync(out.replace(/\.md$/, '.json')));
});

test('bad input: not a run directory, unknown baseline, runs without evaluations', async () => {
  const empty = await runCli('report', tempDir());
  assert.equal(empty.code, 1);
  assert.match(empty.message, /neither a run directory \(no metrics\.jsonl\) nor a directory of runs/);
  const dir = tempDir();
  writeRun(dir, 'a', 'musketeers', 1, { t: 0.5 });
  const base = await runCli('report', dir, '--baseline', 'nope');
  assert.equal(base.code, 2);
  assert.match(base.message, /--baseline nope: no such row; rows are a \(musketeers\)/);
  const noEval = tempDir();
  mkdirSync(join(noEval, 'r'));
  writeFileSync(join(noEval, 'r', 'metrics.jsonl'), `${JSON.stringify({ step: 1, reward: 0 })}\n`);
  const none = await runCli('report', noEval);
  assert.equal(none.code, 1);
  assert.match(none.message, /none of the runs has an evaluation report/);
});
