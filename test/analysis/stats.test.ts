// Statistics against hand-computed numbers (the arithmetic is in the comments) and t table values.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  averageRanks,
  binByStep,
  bootstrapPValue,
  ema,
  ITEM_BOOTSTRAP_RESAMPLES,
  mean,
  normalCdf,
  normalQuantile,
  pairedDifference,
  pairedItemBootstrap,
  passAtK,
  pearson,
  regularizedIncompleteBeta,
  sampleStd,
  sortedQuantile,
  spearman,
  standardError,
  studentTCdf,
  tConfidenceInterval,
  tQuantile,
  twoWayVarianceDecomposition,
  wilsonInterval,
} from '../../src/analysis/stats.js';

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);
}

test('mean, sample std, standard error', () => {
  // [2,4,4,4,5,5,7,9]: mean 40/8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32; var = 32/7 = 4.571429;
  // std = 2.138090; se = 2.138090 / sqrt(8) = 0.755929.
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  assert.equal(mean(xs), 5);
  close(sampleStd(xs), Math.sqrt(32 / 7), 1e-12);
  close(sampleStd(xs), 2.13809, 1e-5);
  close(standardError(xs), 0.755929, 1e-6);
  assert.ok(Number.isNaN(mean([])));
  assert.ok(Number.isNaN(sampleStd([3])));
});

test('special functions: incomplete beta, normal CDF', () => {
  // I_x(1, 1) = x; I_x(a, 1) = x^a; I_0.5(a, a) = 0.5 by symmetry.
  close(regularizedIncompleteBeta(0.3, 1, 1), 0.3, 1e-14);
  close(regularizedIncompleteBeta(0.6, 3, 1), 0.216, 1e-13);
  close(regularizedIncompleteBeta(0.5, 4.5, 4.5), 0.5, 1e-13);
  close(normalCdf(0), 0.5, 1e-15);
  close(normalCdf(1.959963985), 0.975, 1e-9);
  close(normalCdf(-1), 0.158655254, 1e-9);
  close(normalCdf(5), 0.9999997133, 1e-10);
  // t with 1 df is Cauchy: F(1) = 1/2 + atan(1)/π = 0.75.
  close(studentTCdf(1, 1), 0.75, 1e-12);
});

test('t quantiles match the table', () => {
  // Two-sided 95% table: df 1 -> 12.706, 2 -> 4.303, 5 -> 2.571, 9 -> 2.262, 30 -> 2.042, inf -> 1.960.
  close(tQuantile(0.975, 1), 12.706, 5e-4, 'df=1');
  close(tQuantile(0.975, 2), 4.303, 5e-4, 'df=2');
  close(tQuantile(0.975, 5), 2.571, 5e-4, 'df=5');
  close(tQuantile(0.975, 9), 2.262, 5e-4, 'df=9');
  close(tQuantile(0.975, 30), 2.042, 5e-4, 'df=30');
  close(tQuantile(0.975, Infinity), 1.960, 5e-4, 'df=inf');
  close(tQuantile(0.975, 1e9), 1.959964, 1e-6, 'huge df');
  // One-sided 95%, df 5 -> 2.015; 99.5%, df 10 -> 3.169; symmetric lower tail.
  close(tQuantile(0.95, 5), 2.015, 5e-4);
  close(tQuantile(0.995, 10), 3.169, 5e-4);
  close(tQuantile(0.025, 9), -2.262, 5e-4);
  // Exact for df=2: t = (2p-1) sqrt(2 / (1 - (2p-1)^2)); p = 0.975 -> 0.95 * sqrt(2 / 0.0975) = 4.302653.
  close(tQuantile(0.975, 2), 0.95 * Math.sqrt(2 / 0.0975), 1e-9);
  close(normalQuantile(0.975), 1.959963985, 1e-9);
  assert.ok(Number.isNaN(tQuantile(0.975, 0)));
});

test('Student-t confidence interval for a mean', () => {
  // [1,2,3]: mean 2, var (1+0+1)/2 = 1, std 1, se 1/sqrt(3) = 0.577350; half = 4.302653 * 0.577350 = 2.484138.
  const ci = tConfidenceInterval([1, 2, 3]);
  assert.equal(ci.mean, 2);
  assert.equal(ci.df, 2);
  close(ci.halfWidth, 2.484138, 1e-5);
  close(ci.lower, -0.484138, 1e-5);
  close(ci.upper, 4.484138, 1e-5);
  const one = tConfidenceInterval([5]);
  assert.equal(one.mean, 5);
  assert.ok(Number.isNaN(one.halfWidth));
});

test('Wilson score interval', () => {
  // 8/10 at 95%: z = 1.959964, z² = 3.841459; denom = 1 + 0.3841459 = 1.3841459;
  // centre = (0.8 + 3.841459/20) / 1.3841459 = 0.992073 / 1.3841459 = 0.716741;
  // half = (1.959964 / 1.3841459) * sqrt(0.8*0.2/10 + 3.841459/400) = 1.416010 * 0.160011 = 0.226578;
  // -> [0.490163, 0.943319].
  const w = wilsonInterval(8, 10);
  close(w.lower, 0.490163, 2e-6);
  close(w.upper, 0.943319, 2e-6);
  assert.equal(w.proportion, 0.8);
  // 0/10: centre = (0 + 0.192073) / 1.384146 = 0.138767 = half -> [0, 0.277533].
  const z = wilsonInterval(0, 10);
  assert.equal(z.lower, 0);
  close(z.upper, 0.277533, 2e-6);
  assert.deepEqual([wilsonInterval(0, 0).lower, wilsonInterval(0, 0).upper], [0, 1]);
  assert.throws(() => wilsonInterval(3, 2), RangeError);
});

test('paired differences', () => {
  // a - b = [10-8, 12-11, 9-9] = [2, 1, 0]: mean 1, std 1, se 0.577350, t_{0.975,2} * se = 2.484138.
  const d = pairedDifference([10, 12, 9], [8, 11, 9]);
  assert.deepEqual(d.differences, [2, 1, 0]);
  assert.equal(d.mean, 1);
  assert.equal(d.std, 1);
  close(d.lower, 1 - 2.484138, 1e-5);
  close(d.upper, 1 + 2.484138, 1e-5);
  assert.throws(() => pairedDifference([1], [1, 2]), RangeError);
});

test('unbiased pass@k', () => {
  // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10 = 0.7 (product form: 1 - (1-2/4)(1-2/5) = 1 - 0.3).
  close(passAtK(5, 2, 2), 0.7, 1e-15);
  // k=1 is the fraction correct: 3/8.
  close(passAtK(8, 3, 1), 0.375, 1e-15);
  assert.equal(passAtK(10, 0, 3), 0);
  // n - c < k: every k-subset contains a correct sample.
  assert.equal(passAtK(10, 9, 2), 1);
  // n=4, c=1, k=2: 1 - C(3,2)/C(4,2) = 1 - 3/6 = 0.5.
  close(passAtK(4, 1, 2), 0.5, 1e-15);
  // Large n: C(1000, 100) ~ 6e139 is near the double range, the product form stays exact-ish.
  // C(900,100)/C(1000,100) = Π_{i=901}^{1000} (1 - 100/i) ≈ exp(-Σ 100/i - …) ≈ 1.5e-5, so pass@100 ≈ 0.99998.
  const big = passAtK(1000, 100, 100);
  assert.ok(big > 0.9999 && big < 1, String(big));
  // Compare with the log-binomial form computed independently.
  let logRatio = 0;
  for (let i = 0; i < 100; i++) logRatio += Math.log(900 - i) - Math.log(1000 - i);
  close(big, 1 - Math.exp(logRatio), 1e-12);
  assert.throws(() => passAtK(5, 6, 1), RangeError);
});

test('ranks, Spearman and Pearson', () => {
  assert.deepEqual(averageRanks([10, 20, 20, 30]), [1, 2.5, 2.5, 4]);
  assert.deepEqual(averageRanks([3, 1, 2]), [3, 1, 2]);
  // x = [1,2,2,3] -> ranks [1,2.5,2.5,4]; y = [1,3,2,4] -> ranks [1,3,2,4]; both mean 2.5.
  // dx = [-1.5,0,0,1.5], dy = [-1.5,.5,-.5,1.5]; Sxy = 2.25+2.25 = 4.5; Sxx = 4.5; Syy = 5.
  // rho = 4.5 / sqrt(4.5*5) = 0.948683.
  close(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 4.5 / Math.sqrt(22.5), 1e-12);
  // Monotone but non-linear: rho = 1, Pearson < 1. x=[1,2,3], y=[2,4,7]: dx=[-1,0,1], dy=[-7/3,-1/3,8/3];
  // Sxy = 5, Sxx = 2, Syy = 114/9; r = 5 / sqrt(2 * 114/9) = 0.993399.
  close(spearman([1, 2, 3], [2, 4, 7]), 1, 1e-12);
  close(pearson([1, 2, 3], [2, 4, 7]), 5 / Math.sqrt((2 * 114) / 9), 1e-12);
  close(spearman([1, 2, 3, 4], [9, 7, 5, 1]), -1, 1e-12);
  // Constant series and too few pairs: undefined -> NaN.
  assert.ok(Number.isNaN(spearman([1, 2, 3], [5, 5, 5])));
  assert.ok(Number.isNaN(pearson([1, 1], [2, 3])));
  assert.ok(Number.isNaN(spearman([1], [1])));
  // Non-finite pairs are dropped: ([1,NaN,2,3], [2,9,4,7]) -> ([1,2,3],[2,4,7]).
  close(spearman([1, NaN, 2, 3], [2, 9, 4, undefined as unknown as number]), 1, 1e-12);
  assert.throws(() => spearman([1, 2], [1]), RangeError);
});

test('debiased EMA', () => {
  // w = 0.5, [0, 2]: s1 = 0 -> 0/(1-0.5) = 0; s2 = 0.5*0 + 0.5*2 = 1 -> 1/(1-0.25) = 1.333333.
  const s = ema([0, 2], 0.5);
  close(s[0], 0, 1e-15);
  close(s[1], 4 / 3, 1e-15);
  assert.deepEqual(ema([3, 3, 3], 0.9).map((v) => Math.round(v * 1e12) / 1e12), [3, 3, 3]);
  const gap = ema([NaN, 1, NaN, 1], 0.5);
  assert.ok(Number.isNaN(gap[0]));
  assert.deepEqual(gap.slice(1), [1, 1, 1]);
  assert.deepEqual(ema([1, 5], 0), [1, 5]);
});

test('two-way variance decomposition (static vs dynamic)', () => {
  // rows (groups) g1 = [1,2,3], g2 = [3,4,8]; grand mean 21/6 = 3.5; row means 2, 5; column means 2, 3, 5.5.
  // ssTotal = 6.25+2.25+0.25+0.25+0.25+20.25 = 29.5
  // ssRows  = 3 * ((2-3.5)² + (5-3.5)²) = 3 * 4.5 = 13.5          (static, between groups)
  // ssCols  = 2 * ((2-3.5)² + (3-3.5)² + (5.5-3.5)²) = 2 * 6.5 = 13 (dynamic, between steps)
  // residual x - row - col + grand: [.5,.5,-1; -.5,-.5,1] -> .25+.25+1+.25+.25+1 = 3 = 29.5 - 13.5 - 13.
  // A fourth column with a missing cell is dropped.
  const d = twoWayVarianceDecomposition([
    [1, 2, 3, undefined],
    [3, 4, 8, 100],
  ]);
  assert.equal(d.rows, 2);
  assert.equal(d.columns, 3);
  assert.deepEqual(d.usedColumns, [0, 1, 2]);
  close(d.grandMean, 3.5, 1e-12);
  close(d.ssTotal, 29.5, 1e-12);
  close(d.ssRows, 13.5, 1e-12);
  close(d.ssColumns, 13, 1e-12);
  close(d.ssResidual, 3, 1e-12);
  close(d.fracRows, 13.5 / 29.5, 1e-12);
  close(d.fracColumns, 13 / 29.5, 1e-12);
  close(d.fracResidual, 3 / 29.5, 1e-12);
  // Purely static: rows differ, never change -> fracRows = 1.
  const s = twoWayVarianceDecomposition([
    [0.8, 0.8, 0.8],
    [0.2, 0.2, 0.2],
  ]);
  close(s.fracRows, 1, 1e-12);
  close(s.fracColumns, 0, 1e-12);
  // Constant table: nothing to explain -> NaN fractions.
  assert.ok(Number.isNaN(twoWayVarianceDecomposition([[1, 1], [1, 1]]).fracRows));
  assert.equal(twoWayVarianceDecomposition([]).columns, 0);
});

test('binning a sparse step series', () => {
  // steps 1..10 into 2 windows over [1,10]: steps 1-5 -> mean 3, steps 6-10 -> mean 8.
  const steps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(binByStep(steps, steps, 1, 10, 2), [3, 8]);
  // A window with no values is undefined.
  assert.deepEqual(binByStep([1, 2], [5, 7], 1, 10, 2), [6, undefined]);
});

test('bootstrap helpers: type-7 quantiles and the two-sided p-value of 0', () => {
  // [0, 1, 2, 3]: h = 3q; q = 0.5 -> 1.5; q = 0.25 -> 0.75; ends are the extremes.
  assert.equal(sortedQuantile([0, 1, 2, 3], 0.5), 1.5);
  assert.equal(sortedQuantile([0, 1, 2, 3], 0.25), 0.75);
  assert.equal(sortedQuantile([0, 1, 2, 3], 0), 0);
  assert.equal(sortedQuantile([0, 1, 2, 3], 1), 3);
  // [1, 2, 3]: none <= 0, three >= 0 -> 2 * min(1, 4) / 4 = 0.5; all zero -> both tails hold everything -> 1.
  assert.equal(bootstrapPValue([1, 2, 3]), 0.5);
  assert.equal(bootstrapPValue([0, 0]), 1);
  assert.equal(bootstrapPValue([-1, -2, 5]), 2 * 2 / 4);
  assert.ok(Number.isNaN(bootstrapPValue([])));
});

test('paired item bootstrap: identical runs give [0, 0] and p = 1', () => {
  const zeros = (n: number) => new Array<number>(n).fill(0);
  const r = pairedItemBootstrap([{ a: zeros(20), b: zeros(7) }, { a: zeros(20), b: zeros(7) }, { a: zeros(20), b: zeros(7) }]);
  assert.equal(r.resamples, ITEM_BOOTSTRAP_RESAMPLES);
  assert.equal(r.resamples, 10_000);
  for (const c of [r.tasks.a, r.tasks.b, r.overall]) assert.deepEqual(c, { estimate: 0, lower: 0, upper: 0, p: 1 });
});

test('paired item bootstrap: constant differences within each stratum give the exact difference, zero width', () => {
  // The row is right on every item, the baseline wrong on every item: difference 1 on each item, so
  // every resample's mean is 1; p is its floor 2 / (B + 1).
  const ones = (n: number) => new Array<number>(n).fill(1);
  const all = pairedItemBootstrap([{ t: ones(12) }, { t: ones(30) }, { t: ones(5) }], { resamples: 999 });
  assert.deepEqual(all.tasks.t, { estimate: 1, lower: 1, upper: 1, p: 2 / 1000 });
  assert.deepEqual(all.overall, all.tasks.t);
  // Strata differ between seeds but each is constant: resampling within (seed, task) keeps each stratum's
  // mean, so the interval has zero width. Task a: seed 1 +1, seed 2 0 -> (1 + 0) / 2 = 0.5. Task b: -1 and
  // -1 -> -1. Over tasks: seed 1 (1 - 1) / 2 = 0, seed 2 (0 - 1) / 2 = -0.5 -> -0.25.
  const r = pairedItemBootstrap([{ a: ones(10), b: ones(4).map((x) => -x) }, { a: new Array<number>(6).fill(0), b: ones(8).map((x) => -x) }], { resamples: 500 });
  assert.deepEqual([r.tasks.a.estimate, r.tasks.a.lower, r.tasks.a.upper], [0.5, 0.5, 0.5]);
  assert.deepEqual([r.tasks.b.estimate, r.tasks.b.lower, r.tasks.b.upper], [-1, -1, -1]);
  assert.deepEqual([r.overall.estimate, r.overall.lower, r.overall.upper], [-0.25, -0.25, -0.25]);
  assert.equal(r.tasks.b.p, 2 / 501);
});

test('paired item bootstrap: one stratum matches the exact (binomial) bootstrap distribution', () => {
  // 10 items, 4 of them +1 (the row right, the baseline wrong), 6 of them 0. A resample's mean is K / 10
  // with K ~ Binomial(10, 0.4) exactly. CDF: P(K=0) = 0.6^10 = 0.00605, P(K<=1) = 0.0464, P(K<=6) = 0.9452,
  // P(K<=7) = 0.9877; so the 2.5% and 97.5% quantiles are K = 1 and K = 7 (far from the cut in counts of
  // 10,000 draws), and p = 2 (1 + #{K = 0}) / (B + 1) ≈ 2 · 0.6^10 = 0.0121.
  const d = [1, 0, 1, 0, 0, 1, 0, 0, 1, 0];
  const binom = (k: number) => { let c = 1; for (let i = 0; i < k; i++) c = (c * (10 - i)) / (i + 1); return c * 0.4 ** k * 0.6 ** (10 - k); };
  let cdf = 0;
  const cdfAt: number[] = [];
  for (let k = 0; k <= 10; k++) cdfAt.push((cdf += binom(k)));
  const exactQuantile = (q: number) => cdfAt.findIndex((c) => c >= q) / 10;
  const r = pairedItemBootstrap([{ t: d }]);
  assert.equal(r.tasks.t.estimate, 0.4);
  assert.equal(r.tasks.t.lower, exactQuantile(0.025));
  assert.equal(r.tasks.t.upper, exactQuantile(0.975));
  assert.deepEqual([r.tasks.t.lower, r.tasks.t.upper], [0.1, 0.7]);
  close(r.tasks.t.p, 2 * 0.6 ** 10, 0.004, 'p');
  // With one seed pair and one task the over-tasks figure is the same statistic.
  assert.deepEqual(r.overall, r.tasks.t);
});

test('paired item bootstrap: the spread of the resampled mean is the plug-in standard error', () => {
  // Bootstrap variance of a stratum mean = population variance (divisor n) / n. Two seed pairs of 40 items
  // each with 12 and 20 items at +1: variances 0.3·0.7/40 and 0.5·0.5/40; the mean of the two has variance
  // (0.00525 + 0.00625) / 4 = 0.002875, sd 0.0536; so the 95% percentile interval is about ±1.96 · 0.0536 = ±0.105
  // around (0.3 + 0.5) / 2 = 0.4.
  const stratum = (k: number) => Array.from({ length: 40 }, (_, i) => (i < k ? 1 : 0));
  const r = pairedItemBootstrap([{ t: stratum(12) }, { t: stratum(20) }]);
  close(r.tasks.t.estimate, 0.4, 1e-12);
  close(r.tasks.t.upper - r.tasks.t.lower, 2 * 1.96 * Math.sqrt(0.002875), 0.02, 'width');
  close((r.tasks.t.upper + r.tasks.t.lower) / 2, 0.4, 0.01, 'centre');
  assert.ok(r.tasks.t.p < 0.001);
});

test('paired item bootstrap: tasks missing from a seed pair, reproducible with its seed, no pairs', () => {
  const a = [1, 0, -1, 1, 0, 1, 1, 0];
  const b = [0, 1, 0, 0, -1];
  // Task b only in the second pair: per task b uses that pair alone; over tasks: pair 1 mean(a) = 3/8,
  // pair 2 (3/8 + 0) / 2 = 3/16 -> (3/8 + 3/16) / 2 = 9/32.
  const r = pairedItemBootstrap([{ a }, { a, b }], { seed: 7, resamples: 2000 });
  assert.equal(r.tasks.b.estimate, 0);
  assert.equal(r.tasks.a.estimate, 3 / 8);
  assert.equal(r.overall.estimate, 9 / 32);
  assert.deepEqual(pairedItemBootstrap([{ a }, { a, b }], { seed: 7, resamples: 2000 }), r);
  const other = pairedItemBootstrap([{ a }, { a, b }], { seed: 8, resamples: 2000 });
  assert.equal(other.seed, 8);
  assert.notDeepEqual([other.tasks.a.p, other.overall.p, other.tasks.b.p], [r.tasks.a.p, r.overall.p, r.tasks.b.p]);
  const none = pairedItemBootstrap([]);
  assert.deepEqual(none.tasks, {});
  assert.ok(Number.isNaN(none.overall.estimate));
  assert.throws(() => pairedItemBootstrap([{ a }], { resamples: 0 }), /resamples must be a positive integer/);
});
