// The information probes' maths on synthetic data with a known answer: a planted linear signal is read
// at ~100% (primal and dual ridge forms), pure noise scores at the majority rate, the class-set and
// majority rules, the Cholesky solve, folds, the ridge penalty chosen from training rows only, and the
// policy's last prompt-position state read independently of left padding.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PyRandom } from '../../tasks/common/rng.js';
import { classSet, encodeLabels, labelOf, majorityRate } from '../../src/analysis/probe/classes.js';
import { lastPromptStates } from '../../src/analysis/probe/features.js';
import { probeTable } from '../../src/analysis/probe/figure.js';
import type { ProbeReport } from '../../src/analysis/probe/probe.js';
import { selectBackend } from '../../src/models/backend.js';
import { decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import * as tf from '../../src/models/tf.js';
import { choleskySolve, crossValidateLambda, fitProbe, foldAssignment, matrix, type LabelledRows } from '../../src/analysis/probe/ridge.js';

function gaussian(rng: PyRandom): number {
  const u = Math.max(rng.random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random());
}

/** n rows of d features; class c's rows are centred on means[c] (scaled by `signal`), plus unit noise. */
function planted(rng: PyRandom, n: number, d: number, labels: (i: number) => number, means: number[][], signal: number): LabelledRows {
  const x = matrix(n, d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = labels(i);
    for (let j = 0; j < d; j++) x.data[i * d + j] = signal * means[y[i]][j] + gaussian(rng);
  }
  return { x, y };
}

function randomMeans(rng: PyRandom, classes: number, d: number): number[][] {
  return Array.from({ length: classes }, () => Array.from({ length: d }, () => gaussian(rng)));
}

test('a planted linear signal is read at ~100% on held-out rows, with more rows than features (primal) and fewer (dual)', () => {
  for (const [n, d] of [[300, 20], [60, 200]]) {
    const rng = new PyRandom(11 + d);
    const means = randomMeans(rng, 4, d);
    const train = planted(rng, n, d, (i) => i % 4, means, 2);
    const heldOut = planted(rng, 200, d, (i) => (i * 7) % 4, means, 2);
    const fit = fitProbe(train, heldOut, 4, { folds: 5, seed: 1 });
    assert.ok(fit.accuracy >= 0.97, `n ${n}, d ${d}: held-out accuracy ${fit.accuracy}`);
    assert.ok(fit.cvAccuracy >= 0.9, `n ${n}, d ${d}: CV accuracy ${fit.cvAccuracy}`);
  }
});

test('pure noise scores at the majority rate within a tolerance, and CV picks a strong penalty', () => {
  const rng = new PyRandom(5);
  // Labels 60% / 25% / 15%; features carry nothing about them.
  const label = (i: number) => (i % 20 < 12 ? 0 : i % 20 < 17 ? 1 : 2);
  const train = planted(rng, 300, 20, label, randomMeans(rng, 3, 20), 0);
  const heldOut = planted(rng, 400, 20, label, randomMeans(rng, 3, 20), 0);
  const fit = fitProbe(train, heldOut, 3, { folds: 5, seed: 2 });
  const majority = majorityRate(heldOut.y);
  assert.equal(majority, 0.6);
  assert.ok(Math.abs(fit.accuracy - majority) <= 0.08, `noise probe ${fit.accuracy} vs majority ${majority}`);
  assert.ok(fit.lambda >= 100, `noise should choose a large penalty, got ${fit.lambda}`);
});

test('the penalty is chosen on training rows only: held-out rows change the score, never the choice', () => {
  const rng = new PyRandom(9);
  const means = randomMeans(rng, 3, 30);
  const train = planted(rng, 90, 30, (i) => i % 3, means, 0.6);
  const heldA = planted(rng, 60, 30, (i) => i % 3, means, 0.6);
  // Same shape, features of another distribution and labels reversed.
  const heldB = planted(rng, 60, 30, (i) => 2 - (i % 3), randomMeans(rng, 3, 30), 3);
  const a = fitProbe(train, heldA, 3, { folds: 5, seed: 4 });
  const b = fitProbe(train, heldB, 3, { folds: 5, seed: 4 });
  assert.equal(a.lambda, b.lambda);
  assert.deepEqual(a.cvByLambda, b.cvByLambda);
  assert.equal(a.trainAccuracy, b.trainAccuracy);
  assert.notEqual(a.accuracy, b.accuracy);
  // crossValidateLambda sees training rows alone and reports the same choice.
  const cv = crossValidateLambda(train, 3, [1e-2, 1e-1, 1, 10, 100, 1e3, 1e4], 5, 4);
  assert.equal(cv.lambda, a.lambda);
  assert.equal(cv.folds, 5);
});

test('class set: top-N training labels by frequency (ties by label), others dropped, majority = index 0', () => {
  const set = classSet(['7', '3', '3', '9', '7', '3', '1', '9', '5'], 3);
  assert.deepEqual(set.classes, ['3', '7', '9']);
  assert.deepEqual(set.counts, [3, 2, 2]);
  const enc = encodeLabels(['9', '5', '3', '1', '3', '7'], set);
  assert.deepEqual(enc.kept, [0, 2, 4, 5]);
  assert.deepEqual([...enc.y], [2, 0, 0, 1]);
  assert.equal(majorityRate(enc.y), 0.5);
  assert.ok(Number.isNaN(majorityRate(new Int32Array(0))));
  assert.throws(() => classSet(['a'], 1), /at least 2 classes/);
  // A single training label gives one class: the probe has nothing to separate.
  assert.deepEqual(classSet(['a', 'a'], 5).classes, ['a']);
  assert.equal(labelOf('  42 ', 'answer', () => 'x'), '42');
  assert.equal(labelOf(' 42', 'first-token', (t) => t.slice(0, 1)), '4');
});

test('Cholesky solve and fold assignment', () => {
  const a = matrix(3, 3, [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3]);
  const b = matrix(3, 2, [1, 0, 2, 1, 3, -1]);
  const x = choleskySolve(a, b);
  for (let i = 0; i < 3; i++) {
    for (let c = 0; c < 2; c++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a.data[i * 3 + k] * x.data[k * 2 + c];
      assert.ok(Math.abs(s - b.data[i * 2 + c]) < 1e-12);
    }
  }
  assert.throws(() => choleskySolve(matrix(2, 2, [1, 2, 2, 1]), matrix(2, 1, [1, 1])), /not positive definite/);
  const folds = foldAssignment(23, 5, 3);
  const sizes = [0, 1, 2, 3, 4].map((f) => folds.filter((v) => v === f).length);
  assert.deepEqual(sizes, [5, 5, 5, 4, 4]);
  assert.deepEqual([...foldAssignment(23, 5, 3)], [...folds]);
  assert.notDeepEqual([...foldAssignment(23, 5, 4)], [...folds]);
  assert.equal(Math.max(...foldAssignment(3, 5, 1)), 2);
});

test('the probe figure table: probe rows by kind, then the majority rate and the policy accuracy', () => {
  const probe = (kind: 'expert' | 'router' | 'policy', label: string, accuracy: number) => ({ kind, label, features: 4, accuracy, cvAccuracy: 0, trainAccuracy: 0, lambda: 1 });
  const report = {
    tasks: [
      { task: 'a', classes: ['1', '2'], majorityRate: 0.5, probes: [probe('expert', 'e L-1 last', 0.9), probe('router', 'router context', 0.7)] },
      { task: 'b', classes: ['1'], majorityRate: 1, skipped: 'fewer than 2 classes', probes: [] },
    ],
    policyAccuracy: { source: 'x', tasks: { a: { accuracy: 0.25, items: 4 }, b: null } },
  } as unknown as ProbeReport;
  const t = probeTable(report);
  assert.deepEqual(t.columns, ['a', 'b']);
  assert.deepEqual(t.rows, ['e L-1 last', 'carried · router context', 'majority class', 'policy accuracy']);
  assert.deepEqual(t.values.map((r) => r[0]), [0.9, 0.7, 0.5, 0.25]);
  assert.ok(t.values.slice(0, 2).every((r) => Number.isNaN(r[1])));
  assert.ok(Number.isNaN(t.values[3][1]));
});

test('the policy state at the last prompt position does not depend on left padding, with or without a prefix', async () => {
  assert.equal(await selectBackend('cpu'), 'cpu');
  const decoder = TfDecoder.random(decoderConfig({ vocabSize: 19, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 12 }), 3);
  const prompts = [[1, 5, 7, 2, 9], [1, 4], [1, 8, 8, 3]];
  const prefix = tf.randomNormal([3, 2, 8], 0, 1, 'float32', 5) as tf.Tensor3D;
  try {
    for (const withPrefix of [false, true]) {
      const batch = lastPromptStates(decoder, prompts, 0, withPrefix ? prefix : undefined);
      prompts.forEach((p, i) => {
        const row = withPrefix ? tf.slice(prefix, [i, 0, 0], [1, 2, 8]) : undefined;
        const alone = lastPromptStates(decoder, [p], 0, row as tf.Tensor3D | undefined)[0];
        row?.dispose();
        assert.equal(batch[i].length, 8);
        for (let j = 0; j < 8; j++) assert.ok(Math.abs(batch[i][j] - alone[j]) < 1e-4, `prompt ${i} prefix ${withPrefix}: ${batch[i][j]} vs ${alone[j]}`);
      });
    }
    // The prefix changes the state (it is read).
    const a = lastPromptStates(decoder, prompts, 0)[0];
    const b = lastPromptStates(decoder, prompts, 0, prefix)[0];
    assert.ok(a.some((v, j) => Math.abs(v - b[j]) > 1e-3));
  } finally {
    prefix.dispose();
    decoder.dispose();
  }
});
