// Statistics for run analysis, as pure functions: summary statistics and confidence intervals (Student t
// with our own t quantile, Wilson), paired differences, the unbiased pass@k estimator, rank and linear
// correlation, EMA smoothing, the two-way variance decomposition used for "static vs dynamic expert
// preference", and the item-level paired bootstrap of `report`. No dependencies beyond the project's seeded
// uniform generator (mulberry32); every function is deterministic (the bootstrap given its seed).
//
// Conventions: an empty input gives NaN rather than throwing (a statistic of nothing is undefined, and
// plots/reports must keep going); a length mismatch between paired inputs is a programming error and throws.

import { mulberry32 } from '../models/lora-init.js';

// ───────────────────────── summaries ─────────────────────────

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (divisor n - 1); NaN for fewer than two values. */
export function sampleStd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/** Standard error of the mean: sampleStd / sqrt(n); NaN for fewer than two values. */
export function standardError(xs: readonly number[]): number {
  return sampleStd(xs) / Math.sqrt(xs.length);
}

// ───────────────────────── special functions ─────────────────────────

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos approximation, g = 7; ~1e-15 relative accuracy). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction for the incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    // even step
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    // odd step
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1. */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** Standard normal CDF Φ(z), through erfc computed with a continued fraction / series (~1e-14). */
export function normalCdf(z: number): number {
  // Φ(z) = 1/2 erfc(-z/√2); erfc via the regularised upper incomplete gamma Q(1/2, z²/2).
  const x = (z * z) / 2;
  const q = regularizedGammaQHalf(x);
  return z >= 0 ? 1 - q / 2 : q / 2;
}

/** Q(1/2, x) = erfc(√x): series for small x, continued fraction for large x. */
function regularizedGammaQHalf(x: number): number {
  const a = 0.5;
  if (x <= 0) return 1;
  const lg = logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 500; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return 1 - sum * Math.exp(-x + a * Math.log(x) - lg);
  }
  const TINY = 1e-300;
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - lg) * h;
}

/** Student-t CDF with `df` degrees of freedom (df = Infinity gives the normal CDF). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) return NaN;
  if (!Number.isFinite(df) || df > 1e7) return normalCdf(t);
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5); // P(T > |t|)
  return t >= 0 ? 1 - tail : tail;
}

/** Inverse of a monotone increasing CDF on (lo, hi) by bisection to machine precision. */
function invertByBisection(cdf: (x: number) => number, p: number, lo: number, hi: number): number {
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Standard normal quantile Φ⁻¹(p), 0 < p < 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (p < 0.5) return -normalQuantile(1 - p);
  return invertByBisection(normalCdf, p, 0, 40);
}

/** Student-t quantile t_{p, df} (e.g. tQuantile(0.975, 9) = 2.262); df = Infinity gives the normal quantile. */
export function tQuantile(p: number, df: number): number {
  if (!(df > 0)) return NaN;
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  if (!Number.isFinite(df) || df > 1e7) return normalQuantile(p);
  if (p < 0.5) return -tQuantile(1 - p, df);
  // Bracket: the quantile grows without bound as df -> 0; double the upper end until it covers p.
  let hi = 8;
  while (studentTCdf(hi, df) < p && hi < 1e300) hi *= 2;
  return invertByBisection((t) => studentTCdf(t, df), p, 0, hi);
}

// ───────────────────────── intervals ─────────────────────────

export interface MeanInterval {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1). */
  std: number;
  /** Standard error std / sqrt(n). */
  se: number;
  /** Degrees of freedom, n - 1. */
  df: number;
  level: number;
  /** t_{(1+level)/2, n-1} * se; NaN when n < 2. */
  halfWidth: number;
  lower: number;
  upper: number;
}

/** Student-t confidence interval for the mean of `xs` (default 95%). NaN bounds when n < 2. */
export function tConfidenceInterval(xs: readonly number[], level = 0.95): MeanInterval {
  const n = xs.length;
  const m = mean(xs);
  const std = sampleStd(xs);
  const se = std / Math.sqrt(n);
  const df = n - 1;
  const halfWidth = n >= 2 ? tQuantile((1 + level) / 2, df) * se : NaN;
  return { n, mean: m, std, se, df, level, halfWidth, lower: m - halfWidth, upper: m + halfWidth };
}

export interface ProportionInterval {
  successes: number;
  n: number;
  proportion: number;
  level: number;
  lower: number;
  upper: number;
}

/**
 * Wilson score interval for a binomial proportion: centre (p̂ + z²/2n) / (1 + z²/n), half-width
 * z / (1 + z²/n) · sqrt(p̂(1-p̂)/n + z²/4n²), z = Φ⁻¹((1+level)/2). n = 0 gives [0, 1] and proportion NaN.
 */
export function wilsonInterval(successes: number, n: number, level = 0.95): ProportionInterval {
  if (n < 0 || successes < 0 || successes > n) throw new RangeError(`wilsonInterval: need 0 <= successes <= n, got ${successes}/${n}`);
  if (n === 0) return { successes, n, proportion: NaN, level, lower: 0, upper: 1 };
  const z = normalQuantile((1 + level) / 2);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 or n successes the bound is exactly 0 or 1 (centre = half there; avoid round-off).
  const lower = successes === 0 ? 0 : Math.max(0, centre - half);
  const upper = successes === n ? 1 : Math.min(1, centre + half);
  return { successes, n, proportion: p, level, lower, upper };
}

export interface PairedDifference extends MeanInterval {
  /** The differences a[i] - b[i]. */
  differences: number[];
}

/** Differences a[i] - b[i] of two matched samples (same seeds / items in the same order) with a t CI. */
export function pairedDifference(a: readonly number[], b: readonly number[], level = 0.95): PairedDifference {
  if (a.length !== b.length) throw new RangeError(`pairedDifference: samples must be matched, got lengths ${a.length} and ${b.length}`);
  const differences = a.map((x, i) => x - b[i]);
  return { ...tConfidenceInterval(differences, level), differences };
}

// ───────────────────────── item-level paired bootstrap ─────────────────────────

/** Resamples of {@link pairedItemBootstrap} unless told otherwise. */
export const ITEM_BOOTSTRAP_RESAMPLES = 10_000;
/** Seed of {@link pairedItemBootstrap}'s generator unless told otherwise (fixed, so reports are reproducible). */
export const ITEM_BOOTSTRAP_SEED = 12345;

/** Per-item differences (row minus baseline, e.g. correct 1 / wrong 0) of one seed pair, by task, in item order. */
export type ItemDifferences = Readonly<Record<string, readonly number[]>>;

export interface BootstrapInterval {
  /** The statistic on the data as observed. */
  estimate: number;
  /** Percentile interval: the (1 - level)/2 and (1 + level)/2 quantiles of the resampled statistic. */
  lower: number;
  upper: number;
  /** Two-sided p-value of "no difference" (see {@link bootstrapPValue}). */
  p: number;
}

export interface PairedItemBootstrap {
  /** Per task: the mean over the seed pairs that have the task of the mean item difference. */
  tasks: Record<string, BootstrapInterval>;
  /** Over tasks: the mean over seed pairs of the mean over that pair's tasks of the mean item difference. */
  overall: BootstrapInterval;
  resamples: number;
  seed: number;
  level: number;
}

export interface BootstrapOptions {
  resamples?: number;
  seed?: number;
  level?: number;
}

/** Quantile q of ascending `sorted` values, interpolating linearly between order statistics (R's type 7). */
export function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Two-sided bootstrap p-value of 0 from B replicates of a statistic: min(1, 2 · min(1 + #{θ* ≤ 0},
 * 1 + #{θ* ≥ 0}) / (B + 1)) — twice the smaller tail beyond 0, so p < 1 - level about when the percentile
 * interval excludes 0; the +1 keeps it above zero (at least 2 / (B + 1)). NaN for no replicates.
 */
export function bootstrapPValue(replicates: ArrayLike<number>): number {
  if (replicates.length === 0) return NaN;
  let below = 0;
  let above = 0;
  for (let i = 0; i < replicates.length; i++) {
    if (replicates[i] <= 0) below++;
    if (replicates[i] >= 0) above++;
  }
  return Math.min(1, (2 * Math.min(1 + below, 1 + above)) / (replicates.length + 1));
}

/** Mean of `n` values drawn with replacement from `xs` (one bootstrap resample of its mean). */
function resampledMean(xs: readonly number[], uniform: () => number): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[Math.floor(uniform() * xs.length)];
  return s / xs.length;
}

/** The statistics from per-(seed pair, task) means (undefined where a pair lacks the task): per task, then over tasks. */
function stratifiedStatistics(means: readonly (readonly (number | undefined)[])[], taskCount: number): { perTask: number[]; overall: number } {
  const defined = (xs: readonly (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
  const perTask = Array.from({ length: taskCount }, (_, t) => mean(defined(means.map((row) => row[t]))));
  return { perTask, overall: mean(means.map((row) => mean(defined(row)))) };
}

function interval(estimate: number, replicates: Float64Array, level: number): BootstrapInterval {
  const sorted = Float64Array.from(replicates).sort();
  return { estimate, lower: sortedQuantile(sorted, (1 - level) / 2), upper: sortedQuantile(sorted, (1 + level) / 2), p: bootstrapPValue(sorted) };
}

/**
 * Paired bootstrap over items, stratified: `pairs[s][task]` holds the per-item differences (row minus
 * baseline, items in the same order in both runs) of seed pair s. Each of `resamples` replicates draws, in
 * every (seed pair, task) stratum, as many items as it has, with replacement, and recomputes the statistics
 * — per task, the mean over seed pairs of the stratum means (the mean paired difference in accuracy); over
 * tasks, the mean over seed pairs of the mean over the pair's tasks. The seed pairs themselves are kept, so
 * the interval reflects the sampling of evaluation items given the trained runs, not run-to-run variance.
 * Percentile intervals at `level` and two-sided p-values; seeded (mulberry32), so the result is reproducible.
 * Empty strata are left out; no pairs give NaN.
 */
export function pairedItemBootstrap(pairs: readonly ItemDifferences[], options: BootstrapOptions = {}): PairedItemBootstrap {
  const resamples = options.resamples ?? ITEM_BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? ITEM_BOOTSTRAP_SEED;
  const level = options.level ?? 0.95;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`pairedItemBootstrap: resamples must be a positive integer, got ${resamples}`);
  const tasks = [...new Set(pairs.flatMap((p) => Object.keys(p).filter((t) => p[t].length > 0)))];
  const strata = pairs.map((p) => tasks.map((t) => (p[t] !== undefined && p[t].length > 0 ? p[t] : undefined)));
  const observed = stratifiedStatistics(strata.map((row) => row.map((d) => (d === undefined ? undefined : mean(d)))), tasks.length);
  const perTask = tasks.map(() => new Float64Array(resamples));
  const overall = new Float64Array(resamples);
  const uniform = mulberry32(seed);
  for (let b = 0; b < resamples; b++) {
    const stats = stratifiedStatistics(strata.map((row) => row.map((d) => (d === undefined ? undefined : resampledMean(d, uniform)))), tasks.length);
    stats.perTask.forEach((v, t) => (perTask[t][b] = v));
    overall[b] = stats.overall;
  }
  return {
    tasks: Object.fromEntries(tasks.map((t, i) => [t, interval(observed.perTask[i], perTask[i], level)])),
    overall: pairs.length === 0 ? { estimate: NaN, lower: NaN, upper: NaN, p: NaN } : interval(observed.overall, overall, level),
    resamples,
    seed,
    level,
  };
}

// ───────────────────────── pass@k ─────────────────────────

/**
 * Unbiased pass@k (Chen et al. 2021) from n samples of which c are correct: 1 - C(n-c, k) / C(n, k),
 * computed as 1 - Π_{i=n-c+1}^{n} (1 - k/i) to avoid huge binomials.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!(Number.isInteger(n) && Number.isInteger(c) && Number.isInteger(k)) || n < 0 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`passAtK: need integers 0 <= c <= n and 1 <= k <= n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

// ───────────────────────── correlation ─────────────────────────

/** Pairs where both values are finite numbers (NaN, ±Infinity, null and undefined are dropped). */
export function finitePairs(x: readonly (number | null | undefined)[], y: readonly (number | null | undefined)[]): [number[], number[]] {
  if (x.length !== y.length) throw new RangeError(`correlation: series must have equal length, got ${x.length} and ${y.length}`);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const u = x[i];
    const v = y[i];
    if (typeof u === 'number' && typeof v === 'number' && Number.isFinite(u) && Number.isFinite(v)) {
      a.push(u);
      b.push(v);
    }
  }
  return [a, b];
}

/**
 * Pearson's r over the pairs where both values are finite. NaN when fewer than two pairs remain or
 * either series is constant (zero variance: the correlation is undefined).
 */
export function pearson(x: readonly (number | null | undefined)[], y: readonly (number | null | undefined)[]): number {
  const [a, b] = finitePairs(x, y);
  if (a.length < 2) return NaN;
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/** 1-based ranks with ties given the average of the ranks they span (e.g. [10, 20, 20, 30] -> [1, 2.5, 2.5, 4]). */
export function averageRanks(xs: readonly number[]): number[] {
  const order = xs.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
  const ranks = new Array<number>(xs.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k][1]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Spearman's rank correlation ρ: Pearson's r of the average ranks, over the pairs where both values are
 * finite. NaN when fewer than two pairs remain or either series is constant.
 */
export function spearman(x: readonly (number | null | undefined)[], y: readonly (number | null | undefined)[]): number {
  const [a, b] = finitePairs(x, y);
  if (a.length < 2) return NaN;
  return pearson(averageRanks(a), averageRanks(b));
}

// ───────────────────────── smoothing ─────────────────────────

/**
 * Debiased exponential moving average (TensorBoard's smoothing): s_t = w·s_{t-1} + (1-w)·x_t with s_0 = 0,
 * reported as s_t / (1 - w^t) so the start is not pulled towards zero. Non-finite inputs are skipped (the
 * output repeats the last smoothed value, NaN before the first finite input). w = 0 returns the input.
 */
export function ema(xs: readonly number[], weight = 0.9): number[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`ema: weight must be in [0, 1), got ${weight}`);
  const out: number[] = [];
  let s = 0;
  let count = 0;
  for (const x of xs) {
    if (Number.isFinite(x)) {
      s = weight * s + (1 - weight) * x;
      count++;
    }
    out.push(count === 0 ? NaN : s / (1 - weight ** count));
  }
  return out;
}

// ───────────────────────── variance decomposition ─────────────────────────

export interface VarianceDecomposition {
  /** Rows (groups) and columns (steps) actually used: columns with a missing cell are dropped. */
  rows: number;
  columns: number;
  /** Indices (into the input's columns) of the columns used. */
  usedColumns: number[];
  grandMean: number;
  /** Σ_{g,t} (x_gt - x̄)². */
  ssTotal: number;
  /** T · Σ_g (x̄_g· - x̄)²: variance explained by a per-row constant. */
  ssRows: number;
  /** G · Σ_t (x̄_·t - x̄)²: variance explained by a per-column (per-step) constant. */
  ssColumns: number;
  /** ssTotal - ssRows - ssColumns: the row × column interaction (and noise). */
  ssResidual: number;
  /** ssRows / ssTotal ("static": stable differences between groups). NaN when ssTotal = 0. */
  fracRows: number;
  /** ssColumns / ssTotal ("dynamic": change over training shared by all groups). */
  fracColumns: number;
  /** ssResidual / ssTotal (group-specific change over training). */
  fracResidual: number;
}

/**
 * Two-way (rows × columns) decomposition of the sum of squares of a table x[g][t] without replication,
 * as in a two-way ANOVA: with grand mean x̄, row means x̄_g· and column means x̄_·t over a complete G × T
 * table,
 *
 *     Σ (x_gt - x̄)²  =  T Σ_g (x̄_g· - x̄)²  +  G Σ_t (x̄_·t - x̄)²  +  Σ (x_gt - x̄_g· - x̄_·t + x̄)²
 *        ssTotal           ssRows                ssColumns              ssResidual
 *
 * and the three terms are orthogonal, so the fractions sum to 1. For attention mass indexed by
 * (prompt or task group, training step) the row fraction is the *static* part of the preference (which
 * group it is, whatever the step), the column fraction the *dynamic* part shared by all groups (drift
 * over training) and the residual the group-specific dynamics. Columns containing a missing value
 * (undefined, null, NaN) are dropped so the table stays balanced and the identity exact.
 */
export function twoWayVarianceDecomposition(table: readonly (readonly (number | null | undefined)[])[]): VarianceDecomposition {
  const G = table.length;
  const width = G === 0 ? 0 : Math.max(...table.map((r) => r.length));
  const usedColumns: number[] = [];
  for (let t = 0; t < width; t++) {
    if (table.every((row) => typeof row[t] === 'number' && Number.isFinite(row[t] as number))) usedColumns.push(t);
  }
  const T = usedColumns.length;
  const x = table.map((row) => usedColumns.map((t) => row[t] as number));
  const empty = { rows: G, columns: T, usedColumns, grandMean: NaN, ssTotal: NaN, ssRows: NaN, ssColumns: NaN, ssResidual: NaN, fracRows: NaN, fracColumns: NaN, fracResidual: NaN };
  if (G === 0 || T === 0) return empty;
  const grand = mean(x.flat());
  const rowMeans = x.map((r) => mean(r));
  const colMeans = usedColumns.map((_, j) => mean(x.map((r) => r[j])));
  let ssTotal = 0;
  for (const r of x) for (const v of r) ssTotal += (v - grand) ** 2;
  let ssRows = 0;
  for (const m of rowMeans) ssRows += T * (m - grand) ** 2;
  let ssColumns = 0;
  for (const m of colMeans) ssColumns += G * (m - grand) ** 2;
  // Residual computed directly (not by subtraction) so round-off cannot make it negative.
  let ssResidual = 0;
  for (let g = 0; g < G; g++) for (let j = 0; j < T; j++) ssResidual += (x[g][j] - rowMeans[g] - colMeans[j] + grand) ** 2;
  const frac = (v: number) => (ssTotal > 0 ? v / ssTotal : NaN);
  return {
    rows: G,
    columns: T,
    usedColumns,
    grandMean: grand,
    ssTotal,
    ssRows,
    ssColumns,
    ssResidual,
    fracRows: frac(ssRows),
    fracColumns: frac(ssColumns),
    fracResidual: frac(ssResidual),
  };
}

/**
 * Average a step-indexed series into `bins` equal-width step windows over [minStep, maxStep]; a window
 * with no value is undefined. Used to turn sparse per-task series (a task is not in every batch) into a
 * table for {@link twoWayVarianceDecomposition}.
 */
export function binByStep(steps: readonly number[], values: readonly number[], minStep: number, maxStep: number, bins: number): (number | undefined)[] {
  const sums = new Array<number>(bins).fill(0);
  const counts = new Array<number>(bins).fill(0);
  const span = maxStep - minStep + 1;
  for (let i = 0; i < steps.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((steps[i] - minStep) / span) * bins)));
    sums[b] += v;
    counts[b]++;
  }
  return sums.map((s, b) => (counts[b] > 0 ? s / counts[b] : undefined));
}
