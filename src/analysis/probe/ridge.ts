// Linear probes: a multi-class ridge classifier on Float64Arrays (one-hot targets, closed-form ridge
// solution, prediction = argmax), feature standardisation fitted on training rows only, and the choice
// of the ridge penalty by k-fold cross-validation on the training rows. Held-out rows are scored once,
// with the penalty already chosen; they never influence the fit or the choice.

import { PyRandom } from '../../../tasks/common/rng.js';

/** Row-major rows x cols matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** Labelled rows: features [n, d] and class indices 0..C-1. */
export interface LabelledRows {
  x: Matrix;
  y: Int32Array;
}

export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (data && data.length !== rows * cols) throw new RangeError(`matrix ${rows}x${cols} needs ${rows * cols} values, got ${data.length}`);
  return { rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) };
}

/** The rows `indices` of `m`, in that order. */
export function takeRows(m: Matrix, indices: readonly number[]): Matrix {
  const out = new Float64Array(indices.length * m.cols);
  indices.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { rows: indices.length, cols: m.cols, data: out };
}

export function takeLabelled(rows: LabelledRows, indices: readonly number[]): LabelledRows {
  return { x: takeRows(rows.x, indices), y: Int32Array.from(indices, (i) => rows.y[i]) };
}

export interface Standardizer {
  mean: Float64Array;
  /** Per-column standard deviation; 1 where a column is constant (it then maps to 0). */
  scale: Float64Array;
}

/** Column means and standard deviations of `x` (population std; constant columns get scale 1). */
export function fitStandardizer(x: Matrix): Standardizer {
  const { rows: n, cols: d, data } = x;
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += data[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= Math.max(1, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j] - mean[j];
      scale[j] += v * v;
    }
  }
  for (let j = 0; j < d; j++) {
    const std = Math.sqrt(scale[j] / Math.max(1, n));
    scale[j] = std > 1e-12 * (1 + Math.abs(mean[j])) ? std : 1;
  }
  return { mean, scale };
}

export function standardize(x: Matrix, s: Standardizer): Matrix {
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.rows; i++) for (let j = 0; j < x.cols; j++) out[i * x.cols + j] = (x.data[i * x.cols + j] - s.mean[j]) / s.scale[j];
  return { rows: x.rows, cols: x.cols, data: out };
}

/** Solve A X = B for symmetric positive definite A [m, m] and B [m, c] by Cholesky; A and B are not modified. */
export function choleskySolve(a: Matrix, b: Matrix): Matrix {
  const m = a.rows;
  const L = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a.data[i * m + j];
      for (let k = 0; k < j; k++) sum -= L[i * m + k] * L[j * m + k];
      if (i === j) {
        if (!(sum > 0)) throw new RangeError(`choleskySolve: matrix is not positive definite (pivot ${sum} at ${i})`);
        L[i * m + i] = Math.sqrt(sum);
      } else {
        L[i * m + j] = sum / L[j * m + j];
      }
    }
  }
  const c = b.cols;
  const out = Float64Array.from(b.data);
  for (let col = 0; col < c; col++) {
    for (let i = 0; i < m; i++) {
      let sum = out[i * c + col];
      for (let k = 0; k < i; k++) sum -= L[i * m + k] * out[k * c + col];
      out[i * c + col] = sum / L[i * m + i];
    }
    for (let i = m - 1; i >= 0; i--) {
      let sum = out[i * c + col];
      for (let k = i + 1; k < m; k++) sum -= L[k * m + i] * out[k * c + col];
      out[i * c + col] = sum / L[i * m + i];
    }
  }
  return { rows: m, cols: c, data: out };
}

/** Gram matrix of the columns, X^T X [d, d], or with `outer` of the rows, X X^T [n, n]. */
function gram(x: Matrix, outer: boolean): Matrix {
  const { rows: n, cols: d, data } = x;
  const m = outer ? n : d;
  const g = new Float64Array(m * m);
  if (outer) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += data[i * d + k] * data[j * d + k];
        g[i * n + j] = s;
        g[j * n + i] = s;
      }
    }
  } else {
    for (let r = 0; r < n; r++) {
      const row = data.subarray(r * d, (r + 1) * d);
      for (let i = 0; i < d; i++) {
        const v = row[i];
        if (v === 0) continue;
        for (let j = 0; j <= i; j++) g[i * d + j] += v * row[j];
      }
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) g[j * d + i] = g[i * d + j];
  }
  return { rows: m, cols: m, data: g };
}

/** A fitted ridge classifier: scores = standardize(x) W + bias; the predicted class is the argmax. */
export interface RidgeClassifier {
  standardizer: Standardizer;
  /** [d, C] */
  weights: Matrix;
  /** [C] */
  bias: Float64Array;
  lambda: number;
}

/** Centred one-hot targets [n, C] and their column means (the intercept). */
function centredTargets(y: Int32Array, classes: number): { t: Matrix; mean: Float64Array } {
  const n = y.length;
  const mean = new Float64Array(classes);
  for (const c of y) mean[c] += 1 / Math.max(1, n);
  const t = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) for (let c = 0; c < classes; c++) t[i * classes + c] = (y[i] === c ? 1 : 0) - mean[c];
  return { t: { rows: n, cols: classes, data: t }, mean };
}

/**
 * Fit ridge regression of the one-hot class indicators on the standardised features for each penalty:
 * W = argmin ||Z W - T||^2 + lambda ||W||^2, solved in the primal (d x d) or dual (n x n) form, whichever
 * is smaller. The standardiser and the Gram matrix are computed once for all penalties.
 */
export function fitRidgePath(train: LabelledRows, classes: number, lambdas: readonly number[]): RidgeClassifier[] {
  for (const lambda of lambdas) if (!(lambda > 0)) throw new RangeError(`ridge penalty must be > 0, got ${lambda}`);
  if (train.x.rows !== train.y.length) throw new RangeError(`ridge: ${train.x.rows} rows but ${train.y.length} labels`);
  const standardizer = fitStandardizer(train.x);
  const z = standardize(train.x, standardizer);
  const { t, mean } = centredTargets(train.y, classes);
  const { rows: n, cols: d } = z;
  const primal = n >= d;
  const g = gram(z, !primal);
  const zt = primal ? transposeTimes(z, t) : undefined;
  return lambdas.map((lambda) => {
    const a: Matrix = { rows: g.rows, cols: g.cols, data: Float64Array.from(g.data) };
    for (let i = 0; i < a.rows; i++) a.data[i * a.rows + i] += lambda;
    const weights = primal ? choleskySolve(a, zt!) : transposeTimes(z, choleskySolve(a, t));
    return { standardizer, weights, bias: mean, lambda };
  });
}

export function fitRidgeClassifier(train: LabelledRows, classes: number, lambda: number): RidgeClassifier {
  return fitRidgePath(train, classes, [lambda])[0];
}

/** A^T B for A [n, d], B [n, c] -> [d, c]. */
function transposeTimes(a: Matrix, b: Matrix): Matrix {
  const { rows: n, cols: d } = a;
  const c = b.cols;
  const out = new Float64Array(d * c);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < d; i++) {
      const v = a.data[r * d + i];
      if (v === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += v * b.data[r * c + j];
    }
  }
  return { rows: d, cols: c, data: out };
}

/** Predicted class per row (argmax of the scores; ties go to the lower class index). */
export function predictClasses(model: RidgeClassifier, x: Matrix): Int32Array {
  const z = standardize(x, model.standardizer);
  const { cols: d } = z;
  const C = model.bias.length;
  const out = new Int32Array(z.rows);
  const scores = new Float64Array(C);
  for (let i = 0; i < z.rows; i++) {
    scores.set(model.bias);
    for (let k = 0; k < d; k++) {
      const v = z.data[i * d + k];
      if (v === 0) continue;
      for (let c = 0; c < C; c++) scores[c] += v * model.weights.data[k * C + c];
    }
    let best = 0;
    for (let c = 1; c < C; c++) if (scores[c] > scores[best]) best = c;
    out[i] = best;
  }
  return out;
}

export function accuracyOf(predicted: Int32Array, y: Int32Array): number {
  if (predicted.length !== y.length) throw new RangeError(`accuracy: ${predicted.length} predictions for ${y.length} labels`);
  if (y.length === 0) return NaN;
  let hits = 0;
  for (let i = 0; i < y.length; i++) if (predicted[i] === y[i]) hits++;
  return hits / y.length;
}

/** Fold of each of n rows: a seeded shuffle dealt round-robin into k folds (k clipped to n). */
export function foldAssignment(n: number, k: number, seed: number): Int32Array {
  const folds = Math.max(1, Math.min(k, n));
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new PyRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.randbelow(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const out = new Int32Array(n);
  order.forEach((row, pos) => (out[row] = pos % folds));
  return out;
}

export interface CrossValidation {
  /** Mean held-out-fold accuracy per penalty, in the order of `lambdas`. */
  accuracy: number[];
  /** The chosen penalty: best mean fold accuracy; ties go to the larger penalty (the simpler probe). */
  lambda: number;
  folds: number;
}

/** k-fold cross-validation of the ridge penalty on training rows only (the standardiser is refitted inside each fold). */
export function crossValidateLambda(train: LabelledRows, classes: number, lambdas: readonly number[], folds: number, seed: number): CrossValidation {
  if (lambdas.length === 0) throw new RangeError('crossValidateLambda: no penalties to choose from');
  const assignment = foldAssignment(train.y.length, folds, seed);
  const k = Math.max(...assignment) + 1;
  const sums = lambdas.map(() => 0);
  let used = 0;
  for (let f = 0; f < k; f++) {
    const fit: number[] = [];
    const val: number[] = [];
    assignment.forEach((a, i) => (a === f ? val : fit).push(i));
    if (fit.length === 0 || val.length === 0) continue;
    used++;
    const fitRows = takeLabelled(train, fit);
    const valRows = takeLabelled(train, val);
    fitRidgePath(fitRows, classes, lambdas).forEach((model, li) => {
      sums[li] += accuracyOf(predictClasses(model, valRows.x), valRows.y);
    });
  }
  const accuracy = sums.map((s) => (used === 0 ? NaN : s / used));
  let best = 0;
  for (let i = 1; i < lambdas.length; i++) {
    const better = accuracy[i] > accuracy[best] + 1e-12;
    const tieLarger = Math.abs(accuracy[i] - accuracy[best]) <= 1e-12 && lambdas[i] > lambdas[best];
    if (better || tieLarger || Number.isNaN(accuracy[best])) best = i;
  }
  return { accuracy, lambda: lambdas[best], folds: used };
}

export const DEFAULT_LAMBDAS: readonly number[] = [1e-2, 1e-1, 1, 10, 100, 1e3, 1e4];

export interface ProbeFit {
  /** Penalty chosen by cross-validation on the training rows. */
  lambda: number;
  cvAccuracy: number;
  cvByLambda: Record<string, number>;
  folds: number;
  trainAccuracy: number;
  /** Accuracy on the held-out rows of the probe refitted on every training row with the chosen penalty. */
  accuracy: number;
  predictions: Int32Array;
}

/** Choose the penalty by CV on `train`, refit on all of `train`, score `heldOut`. */
export function fitProbe(train: LabelledRows, heldOut: LabelledRows, classes: number, options: { lambdas?: readonly number[]; folds?: number; seed?: number } = {}): ProbeFit {
  const lambdas = options.lambdas ?? DEFAULT_LAMBDAS;
  const cv = crossValidateLambda(train, classes, lambdas, options.folds ?? 5, options.seed ?? 0);
  const model = fitRidgeClassifier(train, classes, cv.lambda);
  const predictions = predictClasses(model, heldOut.x);
  return {
    lambda: cv.lambda,
    cvAccuracy: cv.accuracy[lambdas.indexOf(cv.lambda)],
    cvByLambda: Object.fromEntries(lambdas.map((l, i) => [String(l), cv.accuracy[i]])),
    folds: cv.folds,
    trainAccuracy: accuracyOf(predictClasses(model, train.x), train.y),
    accuracy: accuracyOf(predictions, heldOut.y),
    predictions,
  };
}
