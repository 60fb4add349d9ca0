// The engine's loss graphs (src/engine/losses.ts) against the tfjs losses used in training
// (grpoLossTensor, sftLoss's formula) and the pure reference grpoLoss: values and d loss / d logp, for
// every aggregation x reference (none / beta 0 / beta > 0) x oldLogp given or absent (detached), a case
// worked out by hand, float64 finite differences, and the analytic policy gradient of the detached case.

import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { gradients } from '../../src/engine/autodiff.js';
import { Graph, type FloatType, type Value } from '../../src/engine/graph.js';
import { grpoLossGraph, sftLossGraph } from '../../src/engine/losses.js';
import { EngineSession } from '../../src/engine/session.js';
import { selectBackend } from '../../src/models/backend.js';
import * as tf from '../../src/models/tf.js';
import { type GrpoHyper, type LossAggregation, grpoLoss } from '../../src/rl/grpo.js';
import { grpoLossTensor } from '../../src/rl/grpo-tf.js';
import { checkGradients, seededUniform } from '../helpers/gradcheck.js';

const AGGREGATIONS: LossAggregation[] = ['token-mean', 'seq-mean-token-mean', 'dr-grpo'];
type RefCase = 'none' | 'beta0' | 'beta';
const REF_CASES: RefCase[] = ['none', 'beta0', 'beta'];
const TOL = 1e-6;

before(async () => {
  await selectBackend('cpu');
});

interface GrpoData {
  R: number;
  C: number;
  logp: Float32Array;
  oldLogp?: Float32Array;
  refLogp?: Float32Array;
  mask: Float32Array;
  advantages: Float32Array;
  entropy: Float32Array;
}

function hyperFor(aggregation: LossAggregation, ref: RefCase): GrpoHyper {
  return { epsilonLow: 0.2, epsilonHigh: 0.28, beta: ref === 'beta' ? 0.04 : 0, aggregation, maxCompletionLength: 7 };
}

/** Random batch: 6 rows of 8 tokens with lengths 8, 5, 1, 0, 8, 3; ratios spread well past both clips. */
function randomData(seed: number, old: boolean, ref: boolean): GrpoData {
  const rand = seededUniform(seed);
  const [R, C] = [6, 8];
  const lengths = [8, 5, 1, 0, 8, 3];
  const logp = Float32Array.from({ length: R * C }, () => rand(-3, -0.05));
  const near = () => Float32Array.from(logp, (x) => x + rand(-0.8, 0.8));
  return {
    R,
    C,
    logp,
    oldLogp: old ? near() : undefined,
    refLogp: ref ? near() : undefined,
    mask: Float32Array.from({ length: R * C }, (_, i) => (i % C < lengths[Math.floor(i / C)] ? 1 : 0)),
    advantages: Float32Array.of(1.3, -0.7, 0.4, -1.1, -0.9, 0.6),
    entropy: Float32Array.from({ length: R * C }, () => rand(0, 2)),
  };
}

const rows = (a: Float32Array, R: number, C: number): number[][] => Array.from({ length: R }, (_, r) => Array.from(a.subarray(r * C, (r + 1) * C)));

interface GraphOut {
  loss: number;
  kl: number;
  clipRatioLow: number;
  clipRatioHigh: number;
  entropy: number;
  grad: Float64Array;
}

/** Build, compile and run the loss graph with d loss / d logp in the given float type. */
async function runGraph(d: GrpoData, hyper: GrpoHyper, float: FloatType = 'float32'): Promise<GraphOut> {
  const g = new Graph('grpo_loss_test', float);
  const shape = [d.R, d.C];
  const logp = g.floatInput('logp', shape);
  const oldLogp = d.oldLogp ? g.floatInput('old_logp', shape) : undefined;
  const refLogp = d.refLogp ? g.floatInput('ref_logp', shape) : undefined;
  const mask = g.floatInput('mask', shape);
  const advantages = g.floatInput('advantages', [d.R]);
  const entropy = g.floatInput('entropy', shape);
  const out = grpoLossGraph(g, { logp, oldLogp, refLogp, mask, advantages, entropy }, hyper);
  const [dLogp] = gradients(g, out.loss, [logp]);
  g.output(out.loss, 'loss');
  g.output(out.kl, 'kl');
  g.output(out.clipRatioLow, 'clip_low');
  g.output(out.clipRatioHigh, 'clip_high');
  g.output(out.entropy!, 'entropy_mean');
  g.output(dLogp, 'grad_logp');
  const cast = (a: Float32Array) => (float === 'float32' ? a : Float64Array.from(a));
  const feeds: Record<string, Float32Array | Float64Array> = { logp: cast(d.logp), mask: cast(d.mask), advantages: cast(d.advantages), entropy: cast(d.entropy) };
  if (d.oldLogp) feeds.old_logp = cast(d.oldLogp);
  if (d.refLogp) feeds.ref_logp = cast(d.refLogp);
  const s = await EngineSession.compile(g);
  try {
    const r = await s.run(feeds);
    const one = (n: string) => (r[n] as Float32Array | Float64Array)[0];
    return { loss: one('loss'), kl: one('kl'), clipRatioLow: one('clip_low'), clipRatioHigh: one('clip_high'), entropy: one('entropy_mean'), grad: Float64Array.from(r.grad_logp as Float32Array) };
  } finally {
    await s.dispose();
  }
}

/** The tfjs loss and its gradient; an absent oldLogp is the current log-probs as a constant (as update.ts). */
function runTf(d: GrpoData, hyper: GrpoHyper): GraphOut {
  return scoped(() => {
    const shape: [number, number] = [d.R, d.C];
    const consts = {
      oldLogp: tf.tensor2d(d.oldLogp ?? d.logp, shape),
      refLogp: d.refLogp ? tf.tensor2d(d.refLogp, shape) : undefined,
      mask: tf.tensor2d(d.mask, shape),
      advantages: tf.tensor1d(d.advantages),
    };
    const x = tf.tensor2d(d.logp, shape);
    const out = grpoLossTensor({ logp: x, ...consts }, hyper);
    const grad = tf.grad((l: tf.Tensor) => grpoLossTensor({ logp: l as tf.Tensor2D, ...consts }, hyper).loss)(x);
    const ent = tf.div(tf.sum(tf.mul(tf.tensor2d(d.entropy, shape), consts.mask)), tf.maximum(tf.sum(consts.mask), 1));
    const one = (t: tf.Tensor) => t.dataSync()[0];
    return { loss: one(out.loss), kl: one(out.kl), clipRatioLow: one(out.clipRatioLow), clipRatioHigh: one(out.clipRatioHigh), entropy: one(ent), grad: Float64Array.from(grad.dataSync()) };
  });
}

/** Run fn in a tfjs scope (tensors it makes are disposed) and return its plain result. */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try {
    return fn();
  } finally {
    tf.engine().endScope();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (diff ${Math.abs(actual - expected)}, tolerance ${tol})`);
}

/** The detached case's gradient in closed form: w_rt * (-A_r + beta * (1 - exp(ref - logp))). */
function policyGradient(d: GrpoData, hyper: GrpoHyper): Float64Array {
  const { R, C } = d;
  const total = d.mask.reduce((a, b) => a + b, 0);
  const out = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    const rowTokens = d.mask.subarray(r * C, (r + 1) * C).reduce((a, b) => a + b, 0);
    const norm = hyper.aggregation === 'token-mean' ? Math.max(total, 1) : hyper.aggregation === 'seq-mean-token-mean' ? R * Math.max(rowTokens, 1) : R * hyper.maxCompletionLength;
    for (let t = 0; t < C; t++) {
      const i = r * C + t;
      const kl = d.refLogp && hyper.beta > 0 ? hyper.beta * (1 - Math.exp(d.refLogp[i] - d.logp[i])) : 0;
      out[i] = (d.mask[i] * (-d.advantages[r] + kl)) / norm;
    }
  }
  return out;
}

let measured = { value: 0, grad: 0, ref: 0 };

for (const aggregation of AGGREGATIONS) {
  for (const ref of REF_CASES) {
    for (const old of [true, false]) {
      test(`GRPO loss graph = tfjs = reference: ${aggregation}, ref ${ref}, oldLogp ${old ? 'given' : 'absent (detached)'}`, async () => {
        const hyper = hyperFor(aggregation, ref);
        const d = randomData(11 + AGGREGATIONS.indexOf(aggregation) * 7 + REF_CASES.indexOf(ref) * 3 + (old ? 1 : 0), old, ref !== 'none');
        const graph = await runGraph(d, hyper);
        const tfOut = runTf(d, hyper);
        for (const k of ['loss', 'kl', 'clipRatioLow', 'clipRatioHigh', 'entropy'] as const) near(graph[k], tfOut[k], TOL, `${k} vs tfjs`);
        const gradDiff = maxDiff(graph.grad, tfOut.grad);
        assert.ok(gradDiff <= TOL, `d loss / d logp vs tfjs: max diff ${gradDiff}`);
        // The pure reference in float64 on the same (float32) inputs.
        const expected = grpoLoss({ logp: rows(d.logp, d.R, d.C), oldLogp: rows(d.oldLogp ?? d.logp, d.R, d.C), refLogp: d.refLogp && rows(d.refLogp, d.R, d.C), mask: rows(d.mask, d.R, d.C), advantages: [...d.advantages] }, hyper);
        for (const k of ['loss', 'kl', 'clipRatioLow', 'clipRatioHigh'] as const) near(graph[k], expected[k], TOL, `${k} vs grpoLoss`);
        if (old) assert.ok(expected.clipRatioLow > 0 && expected.clipRatioHigh > 0, 'the random case exercises both clips');
        else {
          assert.equal(graph.clipRatioLow + graph.clipRatioHigh, 0, 'ratio 1: nothing is clipped');
          const pgDiff = maxDiff(graph.grad, policyGradient(d, hyper));
          assert.ok(pgDiff <= TOL, `detached case vs the analytic policy gradient: max diff ${pgDiff}`);
        }
        measured = {
          value: Math.max(measured.value, ...(['loss', 'kl', 'clipRatioLow', 'clipRatioHigh', 'entropy'] as const).map((k) => Math.abs(graph[k] - tfOut[k]))),
          grad: Math.max(measured.grad, gradDiff),
          ref: Math.max(measured.ref, ...(['loss', 'kl', 'clipRatioLow', 'clipRatioHigh'] as const).map((k) => Math.abs(graph[k] - expected[k]))),
        };
      });
    }
    test(`GRPO loss graph gradient matches float64 finite differences: ${aggregation}, ref ${ref}`, async () => {
      const hyper = hyperFor(aggregation, ref);
      const [R, C] = [3, 4];
      const mask = [1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0];
      const inputs = [
        { name: 'logp', shape: [R, C], lo: -2, hi: -0.5 },
        { name: 'old_logp', shape: [R, C], lo: -2, hi: -0.5 },
        ...(ref === 'none' ? [] : [{ name: 'ref_logp', shape: [R, C], lo: -2, hi: -0.5 }]),
      ];
      const r = await checkGradients(`grpo ${aggregation} ${ref}`, {
        seed: 5 + AGGREGATIONS.indexOf(aggregation),
        inputs,
        build: (g: Graph, [logp, oldLogp, refLogp]: Value[]) =>
          grpoLossGraph(g, { logp, oldLogp, refLogp, mask: g.floatConst('mask', [R, C], mask), advantages: g.floatConst('adv', [R], [0.9, -1.2, 0.5]) }, hyper).loss,
      });
      assert.equal(r.checked, inputs.length * R * C);
    });
  }
}

test('GRPO loss graph on a case worked out by hand (float32 and float64)', async () => {
  // Row 0 (A = 1): t0 ratio e^0 = 1 -> surrogate 1; t1 ratio e^0.5 = 1.6487 > 1.28 -> clipped, min(1.6487, 1.28) = 1.28 (high clip).
  // Row 1 (A = -0.5): t0 ratio e^-0.5 = 0.6065 < 0.8 -> min(-0.3033, 0.8 * -0.5 = -0.4) = -0.4 (low clip); t1 is padding.
  // Token losses: -1, -1.28, 0.4 (sum -1.88 over 3 tokens). Reference: only t00 differs, d = ln 2 -> k3 = 2 - ln 2 - 1 = 1 - ln 2.
  const d: GrpoData = {
    R: 2,
    C: 2,
    logp: Float32Array.of(-1, -1, -2, -0.5),
    oldLogp: Float32Array.of(-1, -1.5, -1.5, -0.5),
    refLogp: Float32Array.of(-1 + Math.LN2, -1, -2, -0.5),
    mask: Float32Array.of(1, 1, 1, 0),
    advantages: Float32Array.of(1, -0.5),
    entropy: Float32Array.of(1, 2, 3, 100),
  };
  const d00 = Math.fround(-1 + Math.LN2) + 1; // ln 2 as the float32 input holds it
  const k3 = Math.exp(d00) - d00 - 1; // ~ 1 - ln 2
  const beta = 0.04;
  const cases: [LossAggregation, number][] = [
    ['token-mean', (-1.88 + beta * k3) / 3],
    ['seq-mean-token-mean', ((-2.28 + beta * k3) / 2 + 0.4) / 2], // row means (-1 - 1.28 + beta k3) / 2 and 0.4 / 1
    ['dr-grpo', (-1.88 + beta * k3) / (2 * 7)],
  ];
  for (const float of ['float32', 'float64'] as const) {
    for (const [aggregation, loss] of cases) {
      const out = await runGraph(d, { ...hyperFor(aggregation, 'beta'), beta }, float);
      const tol = float === 'float32' ? TOL : 1e-12;
      near(out.loss, loss, tol, `${float} ${aggregation} loss`);
      near(out.kl, k3 / 3, tol, 'kl');
      near(out.clipRatioLow, 1 / 3, tol, 'clip low');
      near(out.clipRatioHigh, 1 / 3, tol, 'clip high');
      near(out.entropy, 2, tol, 'entropy (padding excluded)'); // (1 + 2 + 3) / 3
      if (aggregation === 'token-mean') {
        // t00: ratio 1 inside the clip -> -A / 3, plus beta (1 - e^ln2) / 3 = -0.04 / 3; clipped tokens and padding: 0.
        const expected = [-1 / 3 + (beta * (1 - Math.exp(d00))) / 3, 0, 0, 0];
        assert.ok(maxDiff(out.grad, expected) <= tol, `${float} gradient ${[...out.grad]} vs ${expected}`);
      }
    }
  }
});

test('beta > 0 without reference log-probs is an error; shapes are checked', () => {
  const g = new Graph('grpo_errors');
  const logp = g.floatInput('logp', [2, 3]);
  const mask = g.floatInput('mask', [2, 3]);
  const advantages = g.floatInput('adv', [2]);
  assert.throws(() => grpoLossGraph(g, { logp, mask, advantages }, hyperFor('token-mean', 'beta')), /beta > 0 needs reference log-probs/);
  assert.throws(() => grpoLossGraph(g, { logp, mask: g.floatInput('m2', [3, 2]), advantages }, hyperFor('token-mean', 'none')), /mask has shape \[3, 2\]/);
  assert.throws(() => grpoLossGraph(g, { logp, mask, advantages: g.floatInput('a3', [3]) }, hyperFor('token-mean', 'none')), /advantages must be \[2\]/);
});

test('the diagnostics carry no gradient: d kl / d logp and d entropy / d entropy are zero', async () => {
  const g = new Graph('grpo_diag', 'float64');
  const logp = g.floatInput('logp', [2, 2]);
  const entropy = g.floatInput('entropy', [2, 2]);
  const out = grpoLossGraph(g, { logp, refLogp: g.floatConst('ref', [2, 2], [-1, -2, -1, -2]), mask: g.floatConst('mask', [2, 2], [1, 1, 1, 0]), advantages: g.floatConst('adv', [2], [1, -1]), entropy }, hyperFor('token-mean', 'beta'));
  const [dKl] = gradients(g, out.kl, [logp]);
  const [dEnt] = gradients(g, out.entropy!, [entropy]);
  const [dLow] = gradients(g, out.clipRatioLow, [logp]);
  g.output(dKl, 'dkl');
  g.output(dEnt, 'dent');
  g.output(dLow, 'dlow');
  const s = await EngineSession.compile(g);
  try {
    const r = await s.run({ logp: Float64Array.of(-0.5, -1, -3, -2), entropy: Float64Array.of(1, 1, 1, 1) });
    for (const n of ['dkl', 'dent', 'dlow']) assert.deepEqual([...(r[n] as Float64Array)].map(Math.abs), [0, 0, 0, 0], n);
  } finally {
    await s.dispose();
  }
});

// ---------------------------------------------------------------- SFT

function sftData(seed: number): { B: number; T: number; logp: Float32Array; weights: Float32Array } {
  const rand = seededUniform(seed);
  const [B, T] = [3, 6];
  // prompt lengths 2, 3, 1 (weight 0.1), then targets of lengths 3, 3, 2 (weight 1), then padding (0).
  const layout = [
    [2, 3],
    [3, 3],
    [1, 2],
  ];
  const weights = new Float32Array(B * T);
  layout.forEach(([p, a], b) => {
    for (let t = 0; t < p + a; t++) weights[b * T + t] = t < p ? 0.1 : 1;
  });
  return { B, T, logp: Float32Array.from({ length: B * T }, () => rand(-4, -0.01)), weights };
}

test('SFT loss graph = tfjs weighted mean NLL, value and gradient; gradient = -w / sum(w)', async () => {
  const { B, T, logp, weights } = sftData(3);
  const g = new Graph('sft_loss_test');
  const x = g.floatInput('logp', [B, T]);
  const w = g.floatInput('weights', [B, T]);
  const loss = sftLossGraph(g, x, w);
  const [dx] = gradients(g, loss, [x]);
  g.output(loss, 'loss');
  g.output(dx, 'grad');
  const s = await EngineSession.compile(g);
  const r = await s.run({ logp, weights }).finally(() => s.dispose());
  const expected = scoped(() => {
    const wt = tf.tensor2d(weights, [B, T]);
    const f = (l: tf.Tensor) => tf.div(tf.neg(tf.sum(tf.mul(l, wt))), tf.sum(wt)) as tf.Scalar; // sftLoss's formula
    const lt = tf.tensor2d(logp, [B, T]);
    return { loss: f(lt).dataSync()[0], grad: Float64Array.from(tf.grad(f)(lt).dataSync()) };
  });
  near((r.loss as Float32Array)[0], expected.loss, TOL, 'sft loss vs tfjs');
  const gradDiff = maxDiff(r.grad as Float32Array, expected.grad);
  assert.ok(gradDiff <= TOL, `sft gradient vs tfjs: ${gradDiff}`);
  const total = weights.reduce((a, b) => a + b, 0);
  assert.ok(maxDiff(r.grad as Float32Array, Array.from(weights, (v) => -v / total)) <= TOL);
});

test('SFT loss graph gradient matches float64 finite differences; shapes are checked', async () => {
  const { B, T, weights } = sftData(4);
  const r = await checkGradients('sft', { inputs: [{ name: 'logp', shape: [B, T], lo: -3, hi: -0.1 }], build: (g, [x]) => sftLossGraph(g, x, g.floatConst('w', [B, T], weights)) });
  assert.equal(r.checked, B * T);
  const g = new Graph('sft_shapes');
  assert.throws(() => sftLossGraph(g, g.floatInput('a', [2, 3]), g.floatInput('b', [3, 2])), /weights have shape \[3, 2\], logp has \[2, 3\]/);
});

test('measured float32 differences (reported)', () => {
  // Runs after the parity tests above (node:test runs a file's tests in order).
  console.log(`losses: max |graph - tfjs| values ${measured.value.toExponential(2)}, gradients ${measured.grad.toExponential(2)}; max |graph - grpoLoss| ${measured.ref.toExponential(2)}`);
  assert.ok(measured.value <= TOL && measured.grad <= TOL && measured.ref <= TOL);
});
