// `report`'s item-level paired test: per-item scores of the eval reports paired by seed and item, checked
// against hand-worked cases; older reports without per-item scores and seed pairs evaluated on different
// items are warned about and left out, never a crash.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { buildReport, checkOracleRuns, ITEM_TEST, loadReport, reportMarkdown } from '../../src/analysis/report.js';
import type { EvalTaskReport, RunData } from '../../src/analysis/runs.js';
import { tempDir } from '../helpers/tmp.js';

/** Per task: item scores, or a bare accuracy for an older report without them. */
type TaskSpec = number[] | { accuracy: number; items: number };

function run(name: string, method: string, seed: number, tasks: Record<string, TaskSpec>, hash = (t: string) => `h-${t}`): RunData {
  const reports: Record<string, EvalTaskReport> = Object.fromEntries(
    Object.entries(tasks).map(([t, spec]) => {
      if (!Array.isArray(spec)) return [t, { items: spec.items, accuracy: spec.accuracy, meanScore: spec.accuracy }];
      const accuracy = spec.filter((x) => x === 1).length / spec.length;
      return [t, { items: spec.length, accuracy, meanScore: accuracy, itemScores: spec, itemsHash: hash(t) }];
    }),
  );
  const values = Object.values(reports).map((r) => r.accuracy);
  const dir = `/runs/${name}-s${seed}`;
  const last = { step: 10, accuracy: values.reduce((a, b) => a + b, 0) / values.length, meanScore: 0, tasks: reports, file: `${dir}/eval/step_000010.json` };
  return { dir, name: `${name}-s${seed}`, seed, method, metrics: [{ step: 1 }], evals: [last], warnings: [] };
}

/** n items of which the first k are right (score 1); `partial` of the rest score 0.5 (not counted as right). */
const items = (n: number, k: number, partial = 0) => Array.from({ length: n }, (_, i) => (i < k ? 1 : i < k + partial ? 0.5 : 0));

test('item-level test: identical runs give [0, 0]; a row right where the baseline was wrong gives the exact gain', () => {
  const same = buildReport([1, 2, 3].flatMap((s) => [run('x', 'musketeers', s, { t: items(20, 8) }), run('b', 'no-experts', s, { t: items(20, 8) })]));
  const cells = same.differences[0].itemTest!.cells;
  assert.deepEqual([cells.t.mean, cells.t.lower, cells.t.upper, cells.t.p], [0, 0, 0, 1]);
  assert.deepEqual([cells.mean.pairs, cells.mean.items], [3, 60]);
  // Baseline wrong on every item, the row right on every item: +1 on each item of each seed.
  const all = buildReport([1, 2, 3].flatMap((s) => [run('x', 'musketeers', s, { t: items(10, 10) }), run('b', 'no-experts', s, { t: items(10, 0) })]));
  const c = all.differences[0].itemTest!.cells.t;
  assert.deepEqual([c.mean, c.lower, c.upper], [1, 1, 1]);
  assert.equal(c.p, 2 / (ITEM_TEST.resamples + 1));
  assert.equal(all.itemTest, ITEM_TEST);
  assert.match(all.itemTest!.method, /paired bootstrap over items, resampled within each \(seed, task\) stratum.*10000 resamples/);
});

test('item-level test: same point estimate as the t test (accuracy = scores equal to 1), per task and over tasks', () => {
  // Seeds 1-3; 40 items on t, 20 on u. Row right on 20, 22, 19 of t and 10, 12, 11 of u; baseline 14, 15, 16
  // and 9, 9, 10 (plus partial-credit items, which accuracy does not count). Differences on t: 6, 7, 3 of
  // 40 -> mean 16/120 = 0.1333; on u: 1, 3, 1 of 20 -> 5/60 = 0.0833; over tasks (0.1333 + 0.0833) / 2 = 0.1083.
  const row = [[20, 10], [22, 12], [19, 11]];
  const base = [[14, 9], [15, 9], [16, 10]];
  const runs = [1, 2, 3].flatMap((s, i) => [
    run('exp-musketeers', 'musketeers', s, { t: items(40, row[i][0], 2), u: items(20, row[i][1]) }),
    run('exp-no-experts', 'no-experts', s, { t: items(40, base[i][0]), u: items(20, base[i][1], 3) }),
  ]);
  const report = buildReport(runs);
  const d = report.differences[0];
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
  close(d.itemTest!.cells.t.mean, 16 / 120);
  close(d.itemTest!.cells.u.mean, 5 / 60);
  close(d.itemTest!.cells.mean.mean, (16 / 120 + 5 / 60) / 2);
  for (const col of ['t', 'u', 'mean']) {
    close(d.itemTest!.cells[col].mean, d.cells[col].mean);
    assert.ok(d.itemTest!.cells[col].lower <= d.itemTest!.cells[col].mean && d.itemTest!.cells[col].mean <= d.itemTest!.cells[col].upper);
  }
  assert.deepEqual(d.itemTest!.seeds, [1, 2, 3]);
  assert.deepEqual([d.itemTest!.cells.t.items, d.itemTest!.cells.u.items, d.itemTest!.cells.mean.items], [120, 60, 180]);
  // Reproducible: the same runs give the same report.
  assert.deepEqual(buildReport(runs), report);
  assert.deepEqual(report.warnings, []);
  const md = reportMarkdown(report);
  assert.match(md, /\| exp-musketeers \| \+13\.3 \[[^\]]+\] \(n=3\) \| \+8\.3 \[[^\]]+\] \(n=3\) \| \+10\.8 \[[^\]]+\] \(n=3\) \|\n\| ↳ items \| \+13\.3 \[[\d.-]+, [\d.-]+\] p[=<][\d.]+ \(n=3\) \|/);
  assert.match(md, /↳ items: item-level test, paired bootstrap over items/);
});

test('item-level test: older reports without per-item scores and pairs on different items are warned about and left out', () => {
  const runs = [
    run('x', 'musketeers', 1, { t: items(10, 7) }),
    run('x', 'musketeers', 2, { t: { accuracy: 0.6, items: 10 } }),
    run('x', 'musketeers', 3, { t: items(10, 8) }, () => 'other-items'),
    run('b', 'no-experts', 1, { t: items(10, 5) }),
    run('b', 'no-experts', 2, { t: items(10, 5) }),
    run('b', 'no-experts', 3, { t: items(10, 5) }),
  ];
  const report = buildReport(runs);
  const d = report.differences[0];
  assert.equal(d.cells.t.n, 3);
  assert.deepEqual(d.itemTest!.seeds, [1]);
  assert.equal(d.itemTest!.cells.t.mean, 0.2);
  assert.equal(report.warnings.length, 2);
  assert.match(report.warnings[0], /^\/runs\/x-s2: eval\/step_000010\.json has no per-item scores \(t; .*the item-level test is unavailable for this run$/);
  assert.match(report.warnings[1], /^x \(musketeers\) vs b \(no-experts\), seed 3: different items on t \(item hashes other-items vs h-t\); that seed pair is left out of the item-level test$/);
  // No pair left: the row has no item-level test and a warning says so; the t test is still there.
  const old = buildReport([run('x', 'musketeers', 1, { t: { accuracy: 0.5, items: 4 } }), run('b', 'no-experts', 1, { t: items(4, 1) })]);
  assert.equal(old.differences[0].itemTest, undefined);
  assert.ok(old.differences[0].cells.t);
  assert.match(old.warnings.join('\n'), /x \(musketeers\): item-level test against b \(no-experts\) unavailable \(no seed pair with per-item scores on the same items\)/);
  assert.doesNotMatch(reportMarkdown(old), /\| ↳ items \|/);
});

test('item-level test from run directories: older eval reports load, newer ones pair', () => {
  const parent = tempDir();
  const write = (name: string, method: string, seed: number, task: Record<string, unknown>) => {
    const dir = join(parent, `${name}-s${seed}`);
    mkdirSync(join(dir, 'eval'), { recursive: true });
    writeFileSync(join(dir, 'config.yaml'), `name: ${name}-s${seed}\nmethod: ${method}\ntrain:\n  seed: ${seed}\n`);
    writeFileSync(join(dir, 'metrics.jsonl'), `${JSON.stringify({ step: 1 })}\n`);
    writeFileSync(join(dir, 'eval', 'step_000010.json'), JSON.stringify({ step: 10, accuracy: task.accuracy, meanScore: 0, tasks: { t: task } }));
  };
  write('x', 'musketeers', 1, { items: 4, accuracy: 0.75, meanScore: 0.75, itemScores: [1, 1, 0, 1], itemsHash: 'abc' });
  write('b', 'no-experts', 1, { items: 4, accuracy: 0.25, meanScore: 0.25, itemScores: [0, 1, 0, 0], itemsHash: 'abc' });
  write('x', 'musketeers', 2, { items: 4, accuracy: 0.5, meanScore: 0.5 });
  write('b', 'no-experts', 2, { items: 4, accuracy: 0.25, meanScore: 0.25, itemScores: [0, 1, 0, 0], itemsHash: 'abc' });
  const report = loadReport([parent]);
  assert.deepEqual(report.differences[0].itemTest!.seeds, [1]);
  assert.equal(report.differences[0].itemTest!.cells.t.mean, 0.5);
  assert.match(report.warnings.join('\n'), /x-s2: .*has no per-item scores/);
});

test('oracle runs are refused unless allowed, and then labelled as seeing answers', () => {
  const plain = run('q', 'musketeers', 1, { t: items(10, 5) });
  const oracle = { ...run('oracle', 'musketeers', 1, { t: items(10, 9) }), oracleExperts: ['oracle-tokens'] };
  checkOracleRuns([plain], false);
  assert.throws(() => checkOracleRuns([plain, oracle], false), /read oracle experts, a diagnostic that sees the reference answers .*--allow-oracle/);
  checkOracleRuns([plain, oracle], true);
  const labels = buildReport([plain, oracle]).rows.map((r) => r.label);
  assert.ok(labels.some((l) => l.includes('[ORACLE: sees answers]')) && labels.some((l) => !l.includes('ORACLE')), labels.join(' | '));
});
