// The router as an engine graph against the tfjs PerceiverRouter (the oracle): seeded initial weights bit
// for bit, forward outputs (context, attention, expert mass) and parameter gradients for pooled and token
// states, expert embeddings, a self-attention block and every attention mode; a float64
// finite-difference check of the whole router graph; OnnxRouter's checks and errors.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { gradients } from '../../src/engine/autodiff.js';
import { Graph, type Value, sizeOf } from '../../src/engine/graph.js';
import { OnnxRouter, type RouterStateBatch, routerFeeds, routerStateKinds, routerWeightFeeds } from '../../src/engine/onnx-router.js';
import { type ExpertStateKind, routerGraph, routerParamInputs } from '../../src/engine/router-graph.js';
import { EngineSession } from '../../src/engine/session.js';
import { selectBackend } from '../../src/models/backend.js';
import * as tf from '../../src/models/tf.js';
import { type RouterWeight, initRouterWeights } from '../../src/router/init.js';
import { type ExpertStates, PerceiverRouter, type RouterConfig } from '../../src/router/perceiver.js';
import { PyRandom } from '../../tasks/common/rng.js';
import { seededUniform } from '../helpers/gradcheck.js';

before(async () => {
  await selectBackend('cpu');
});

const BASE: RouterConfig = {
  experts: ['sums', 'counting', 'logic'],
  expertWidths: [8, 12, 6],
  width: 16,
  numLatents: 3,
  numHeads: 4,
  outputWidth: 10,
  ffnMultiplier: 2,
  selfAttentionBlocks: 1,
  expertEmbeddings: true,
  outputInitStd: 0.5,
  seed: 5,
};

/** A config and the layout of its states: 'pooled' or a token length per expert. */
interface Case {
  label: string;
  config: RouterConfig;
  layout: ('pooled' | number)[];
  batch: number;
}

const CASES: Case[] = [
  { label: 'pooled, widths 8/12/6, expert embeddings, 1 self-attention block, learned', config: BASE, layout: ['pooled', 'pooled', 'pooled'], batch: 4 },
  { label: 'tokens with masks + pooled, no embeddings, no self-attention, learned', config: { ...BASE, expertEmbeddings: false, selfAttentionBlocks: 0, seed: 11 }, layout: [3, 'pooled', 4], batch: 3 },
  { label: 'tokens + pooled, embeddings, 1 self-attention block, uniform', config: { ...BASE, attention: 'uniform', seed: 12 }, layout: ['pooled', 2, 3], batch: 3 },
  { label: 'tokens + pooled, embeddings, 1 self-attention block, top1', config: { ...BASE, attention: 'top1', seed: 13 }, layout: [2, 'pooled', 'pooled'], batch: 4 },
  { label: 'single pooled expert, top1', config: { ...BASE, experts: ['only'], expertWidths: [5], attention: 'top1', seed: 14 }, layout: ['pooled'], batch: 2 },
];

/** Random states (and masks with position 0 always visible) for a layout, in both engines' formats. */
function makeStates(c: Case, seed: number): { engine: RouterStateBatch[]; tfjs: ExpertStates[] } {
  const rand = seededUniform(seed);
  const engine: RouterStateBatch[] = c.layout.map((l, e) => {
    const shape = l === 'pooled' ? [c.batch, c.config.expertWidths[e]] : [c.batch, l, c.config.expertWidths[e]];
    const data = Float32Array.from({ length: sizeOf(shape) }, () => rand(-2, 2));
    if (l === 'pooled') return { data, shape };
    const mask = Float32Array.from({ length: c.batch * l }, (_, i) => (i % l === 0 || rand() > -0.2 ? 1 : 0));
    return { data, shape, mask };
  });
  const tfjs = engine.map((s): ExpertStates => {
    const data = s.data as Float32Array;
    const states = s.shape.length === 2 ? tf.tensor2d(data, s.shape as [number, number]) : tf.tensor3d(data, s.shape as [number, number, number]);
    return s.mask ? { states, mask: tf.tensor2d(s.mask as Float32Array, [s.shape[0], s.shape[1]]) } : { states };
  });
  return { engine, tfjs };
}

/** The initial weights moved by noise, so LayerNorm weights are not 1 and biases not 0. */
function perturbed(config: RouterConfig, seed: number): Map<string, RouterWeight> {
  const rand = seededUniform(seed);
  const out = new Map<string, RouterWeight>();
  for (const [name, w] of initRouterWeights(config)) out.set(name, { shape: w.shape, data: w.data.map((x) => x + 0.2 * rand()) });
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

function disposeStates(states: ExpertStates[]): void {
  for (const s of states) tf.dispose([s.states, ...(s.mask ? [s.mask] : [])]);
}

const measured: string[] = [];
after(() => {
  if (process.env.ROUTER_GRAPH_REPORT) console.log(measured.join('\n'));
});

/** The PerceiverRouter constructor before initRouterWeights existed, transcribed as an independent oracle. */
function legacyInit(config: RouterConfig): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new PyRandom(config.seed);
  const normal = (std: number) => () => {
    const u = Math.max(rng.random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.random()) * std;
  };
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const D = config.width;
  const add = (name: string, shape: number[], init: () => number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = init();
    out.set(name, { shape, data });
  };
  const zeros = () => 0;
  const ones = () => 1;
  config.experts.forEach((_, i) => {
    add(`proj.${i}.weight`, [D, config.expertWidths[i]], normal(1 / Math.sqrt(config.expertWidths[i])));
    add(`proj.${i}.bias`, [D], zeros);
  });
  if (config.expertEmbeddings) add('expert_embed', [config.experts.length, D], normal(0.02));
  add('latents', [config.numLatents, D], normal(0.02));
  const block = (prefix: string) => {
    for (const p of ['q', 'k', 'v', 'o']) add(`${prefix}.${p}.weight`, [D, D], normal(1 / Math.sqrt(D)));
    add(`${prefix}.norm_q.weight`, [D], ones);
    add(`${prefix}.norm_q.bias`, [D], zeros);
    add(`${prefix}.norm_ffn.weight`, [D], ones);
    add(`${prefix}.norm_ffn.bias`, [D], zeros);
    const F = D * config.ffnMultiplier;
    add(`${prefix}.ffn.up.weight`, [F, D], normal(1 / Math.sqrt(D)));
    add(`${prefix}.ffn.up.bias`, [F], zeros);
    add(`${prefix}.ffn.down.weight`, [D, F], normal(1 / Math.sqrt(F)));
    add(`${prefix}.ffn.down.bias`, [D], zeros);
  };
  block('cross');
  add('cross.norm_kv.weight', [D], ones);
  add('cross.norm_kv.bias', [D], zeros);
  for (let s = 0; s < config.selfAttentionBlocks; s++) block(`self.${s}`);
  add('out.norm.weight', [D], ones);
  add('out.norm.bias', [D], zeros);
  add('out.weight', [config.outputWidth, D], normal(config.outputInitStd));
  return out;
}

test('initRouterWeights equals the PerceiverRouter variables and the original constructor bit for bit', () => {
  for (const c of CASES) {
    const init = initRouterWeights(c.config);
    const legacy = legacyInit(c.config);
    const router = new PerceiverRouter(c.config);
    const vars = router.getWeights();
    assert.deepEqual([...init.keys()], [...legacy.keys()], c.label);
    assert.deepEqual([...init.keys()], [...vars.keys()], c.label);
    for (const [name, w] of init) {
      assert.deepEqual(w.shape, legacy.get(name)!.shape, `${c.label}: ${name}`);
      assert.deepEqual(w.shape, vars.get(name)!.shape, `${c.label}: ${name}`);
      assert.deepEqual(Buffer.from(w.data.buffer), Buffer.from(legacy.get(name)!.data.buffer), `${c.label}: ${name} differs from the original constructor`);
      assert.deepEqual(Buffer.from(w.data.buffer), Buffer.from(vars.get(name)!.data.buffer), `${c.label}: ${name} differs from the tfjs variable`);
    }
    router.dispose();
  }
});

test('forward: context, attention and expert mass equal PerceiverRouter.forward within 1e-5', async () => {
  let maskedPositions = 0;
  for (const [k, c] of CASES.entries()) {
    const weights = perturbed(c.config, 100 + k);
    const tfRouter = new PerceiverRouter(c.config);
    tfRouter.setWeights(weights);
    const onnx = new OnnxRouter(c.config);
    onnx.setWeights(weights);
    const { engine, tfjs } = makeStates(c, 200 + k);
    const ref = tfRouter.forward(tfjs);
    const got = await onnx.forward(engine);
    const dContext = maxAbsDiff(got.context, ref.context.dataSync());
    const dAttention = maxAbsDiff(got.attention, ref.attention.dataSync());
    const dMass = maxAbsDiff(got.expertMass.flat(), ref.expertMass.dataSync());
    measured.push(`forward ${c.label}: |d context| ${dContext.toExponential(2)} (max |context| ${maxAbs(got.context).toFixed(3)}), |d attention| ${dAttention.toExponential(2)}, |d mass| ${dMass.toExponential(2)}`);
    assert.ok(dContext <= 1e-5, `${c.label}: context differs by ${dContext}`);
    assert.ok(dAttention <= 1e-5, `${c.label}: attention differs by ${dAttention}`);
    assert.ok(dMass <= 1e-5, `${c.label}: expert mass differs by ${dMass}`);
    for (const row of got.expertMass) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    maskedPositions += checkMaskedAttention(c, engine, got.attention);
    if (c.config.attention === 'top1') for (const row of got.expertMass) assert.ok(row.every((x) => Math.abs(x) < 1e-6 || Math.abs(x - 1) < 1e-6), `${c.label}: top1 mass ${row}`);
    tf.dispose([ref.context, ref.attention, ref.expertMass]);
    disposeStates(tfjs);
    tfRouter.dispose();
    await onnx.dispose();
  }
  assert.ok(maskedPositions > 0, 'the cases mask some token positions');
});

/** Masked token positions get no attention (< 1e-7); returns how many (prompt, position) pairs were masked. */
function checkMaskedAttention(c: Case, states: RouterStateBatch[], attention: Float32Array): number {
  const N = c.layout.reduce((n: number, l) => n + (l === 'pooled' ? 1 : l), 0);
  const K = c.config.numLatents;
  let offset = 0;
  let masked = 0;
  states.forEach((s, e) => {
    const S = s.shape.length === 3 ? s.shape[1] : 1;
    for (let b = 0; b < c.batch; b++)
      for (let j = 0; j < S; j++) {
        if (!s.mask || s.mask[b * S + j] !== 0) continue;
        masked++;
        for (let k = 0; k < K; k++) assert.ok(attention[(b * K + k) * N + offset + j] < 1e-7, `${c.label}: expert ${e} prompt ${b} position ${j} is padding`);
      }
    offset += S;
  });
  return masked;
}

test('gradients of sum(context * W) w.r.t. every router parameter equal tf.variableGrads (relative 1e-4)', async () => {
  for (const [k, c] of CASES.entries()) {
    const weights = perturbed(c.config, 300 + k);
    const { engine, tfjs } = makeStates(c, 400 + k);
    const { batch, kinds } = routerStateKinds(c.config, engine);
    const ctxShape = [batch, c.config.numLatents, c.config.outputWidth];
    const rand = seededUniform(500 + k);
    const W = Float32Array.from({ length: sizeOf(ctxShape) }, () => rand());

    // tfjs
    const tfRouter = new PerceiverRouter(c.config);
    tfRouter.setWeights(weights);
    const Wt = tf.tensor(W, ctxShape);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(tfRouter.forward(tfjs).context, Wt)) as tf.Scalar, tfRouter.trainableVariables());

    // engine
    const g = new Graph(`router_grad_${k}`);
    const { params, inputs } = routerParamInputs(g, c.config);
    const out = routerGraph(g, c.config, batch, kinds, params);
    const loss = g.sumAll(g.mul(out.context, g.floatConst('w', ctxShape, W)));
    const names = [...inputs.keys()];
    const dParams = gradients(g, loss, names.map((n) => inputs.get(n)!));
    g.output(loss, 'loss');
    dParams.forEach((d, i) => g.output(d, `grad.${names[i]}`));
    const session = await EngineSession.compile(g);
    const res = await session.run({ ...routerFeeds(c.config, engine), ...routerWeightFeeds(weights) });
    await session.dispose();

    assert.deepEqual(new Set(names), new Set(weights.keys()), `${c.label}: the graph reads every parameter`);
    const lossRef = value.dataSync()[0];
    assert.ok(Math.abs((res.loss as Float32Array)[0] - lossRef) <= 1e-4 * Math.max(1, Math.abs(lossRef)), `${c.label}: loss ${(res.loss as Float32Array)[0]} vs ${lossRef}`);
    let worst = 0;
    let worstName = '';
    for (const [name, v] of tfRouter.variables) {
      const mine = res[`grad.${name}`] as Float32Array;
      const ref = grads[v.name] ? grads[v.name].dataSync() : new Float32Array(v.size);
      const scale = maxAbs(ref);
      const diff = maxAbsDiff(mine, ref);
      const rel = scale > 0 ? diff / scale : diff;
      if (rel > worst) [worst, worstName] = [rel, name];
      assert.ok(scale > 0 ? rel <= 1e-4 : diff <= 1e-6, `${c.label}: gradient of ${name} differs: max |diff| ${diff}, max |ref| ${scale}`);
    }
    measured.push(`gradients ${c.label}: worst relative error ${worst.toExponential(2)} (${worstName})`);
    tf.dispose([value, Wt, ...Object.values(grads)]);
    disposeStates(tfjs);
    tfRouter.dispose();
  }
});

/** Central differences in float64 of the whole router graph w.r.t. every parameter and the states. */
async function finiteDifferenceCheck(config: RouterConfig, layout: ('pooled' | number)[], batch: number, seed: number): Promise<{ checked: number; maxRel: number }> {
  const rand = seededUniform(seed);
  const kinds: ExpertStateKind[] = layout.map((l) => (l === 'pooled' ? { kind: 'pooled' } : { kind: 'tokens', length: l }));
  const g = new Graph(`router_fd_${seed}`, 'float64');
  const { params, inputs } = routerParamInputs(g, config);
  const out = routerGraph(g, config, batch, kinds, params);
  const states = g.inputs.filter((v) => v.name.startsWith('router.states.'));
  const ys = [out.context, out.expertMass];
  const terms = ys.map((y, i) => g.sumAll(g.mul(y, g.floatConst(`w${i}`, y.shape, Array.from({ length: sizeOf(y.shape) }, () => rand())))));
  const loss = g.add(terms[0], terms[1]);
  const wrt: Value[] = [...inputs.values(), ...states];
  const grads = gradients(g, loss, wrt);
  g.output(loss, 'loss');
  grads.forEach((d, i) => g.output(d, `grad.${wrt[i].name}`));
  const session = await EngineSession.compile(g);
  try {
    const feeds: Record<string, Float64Array> = {};
    for (const v of g.inputs) {
      if (v.name.startsWith('router.mask.')) feeds[v.name] = Float64Array.from({ length: sizeOf(v.shape) }, (_, i) => (i % v.shape[1] === 0 || rand() > 0 ? 1 : 0));
      else feeds[v.name] = Float64Array.from({ length: sizeOf(v.shape) }, () => rand());
    }
    const base = await session.run(feeds);
    const h = 1e-6;
    let checked = 0;
    let maxRel = 0;
    const lossAt = async () => ((await session.run(feeds, ['loss'])).loss as Float64Array)[0];
    for (const x of wrt) {
      const analytic = base[`grad.${x.name}`] as Float64Array;
      const data = feeds[x.name];
      for (let i = 0; i < data.length; i++) {
        const x0 = data[i];
        data[i] = x0 + h;
        const up = await lossAt();
        data[i] = x0 - h;
        const down = await lossAt();
        data[i] = x0;
        const numeric = (up - down) / (2 * h);
        const err = Math.abs(analytic[i] - numeric);
        maxRel = Math.max(maxRel, err / Math.max(1e-3, Math.abs(numeric)));
        checked++;
        assert.ok(err <= 1e-7 + 1e-5 * Math.abs(numeric), `d loss / d ${x.name}[${i}]: analytic ${analytic[i]} vs finite difference ${numeric}`);
      }
    }
    return { checked, maxRel };
  } finally {
    await session.dispose();
  }
}

test('float64 finite differences of the router graph (tiny config, every mode)', async () => {
  const tiny: RouterConfig = { experts: ['a', 'b'], expertWidths: [3, 2], width: 4, numLatents: 2, numHeads: 2, outputWidth: 3, ffnMultiplier: 2, selfAttentionBlocks: 1, expertEmbeddings: true, outputInitStd: 0.5, seed: 1 };
  for (const attention of ['learned', 'uniform', 'top1'] as const) {
    const r = await finiteDifferenceCheck({ ...tiny, attention }, [2, 'pooled'], 2, 41);
    measured.push(`finite differences ${attention}: ${r.checked} elements, max relative error ${r.maxRel.toExponential(2)}`);
    assert.ok(r.checked > 300);
  }
});

test('OnnxRouter: seeded weights, checkpoint checks, input errors name the expert, one session per layout', async () => {
  const config: RouterConfig = { ...BASE, selfAttentionBlocks: 0 };
  const a = new OnnxRouter(config);
  const tfRouter = new PerceiverRouter(config);
  assert.equal(a.parameterCount(), tfRouter.parameterCount());
  const ours = a.getWeights();
  for (const [name, w] of tfRouter.getWeights()) assert.deepEqual(Array.from(ours.get(name)!.data), Array.from(w.data), name);
  tfRouter.dispose();
  ours.get('latents')!.data[0] = 123;
  assert.notEqual(a.getWeights().get('latents')!.data[0], 123, 'getWeights returns copies');

  const missing = a.getWeights();
  missing.delete('out.weight');
  assert.throws(() => a.setWeights(missing), /router checkpoint lacks out.weight/);
  const wrongShape = a.getWeights();
  wrongShape.set('latents', { shape: [2, 16], data: new Float32Array(32) });
  assert.throws(() => a.setWeights(wrongShape), /router parameter latents has shape \[2,16\] in the checkpoint, expected \[3,16\]/);
  const extra = a.getWeights();
  extra.set('nope', { shape: [1], data: new Float32Array(1) });
  assert.throws(() => a.setWeights(extra), /router checkpoint has unknown parameter nope/);

  const wrong = config.expertWidths.map((w) => ({ data: new Float32Array(2 * (w + 1)), shape: [2, w + 1] }));
  await assert.rejects(a.forward(wrong), /expert 'sums' states have width 9, the router was built for 8/);
  const rows = [{ data: new Float32Array(16), shape: [2, 8] }, { data: new Float32Array(36), shape: [3, 12] }, { data: new Float32Array(12), shape: [2, 6] }];
  await assert.rejects(a.forward(rows), /expert 'counting' has 3 rows, expected 2/);
  const badMask = [{ data: new Float32Array(2 * 3 * 8), shape: [2, 3, 8], mask: new Float32Array(5) }, { data: new Float32Array(24), shape: [2, 12] }, { data: new Float32Array(12), shape: [2, 6] }];
  await assert.rejects(a.forward(badMask), /expert 'sums' mask holds 5 values, expected \[2, 3\]/);

  const c: Case = { label: 'layout', config, layout: ['pooled', 'pooled', 'pooled'], batch: 2 };
  const { engine, tfjs } = makeStates(c, 9);
  disposeStates(tfjs);
  const first = await a.forward(engine);
  await a.forward(engine);
  assert.equal(a.compiledSessions, 1);
  assert.equal(first.positions, 3);
  first.expertMass.forEach((row, b) => {
    const h = row.reduce((s, p) => (p > 0 ? s - p * Math.log(p) : s), 0);
    assert.ok(Math.abs(first.entropy[b] - h) < 1e-12);
  });
  // Token states without a mask are all visible: the same as an explicit mask of ones.
  const tokens = [{ data: engine[0].data, shape: [2, 1, 8] }, engine[1], engine[2]];
  const viaTokens = await a.forward(tokens);
  assert.ok(maxAbsDiff(viaTokens.context, first.context) < 1e-6);
  assert.equal(a.compiledSessions, 2);
  await a.dispose();
});
