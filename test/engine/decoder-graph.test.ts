// Parity of the engine's decoder graphs (src/engine/decoder-graph.ts, src/engine/onnx-decoder.ts) with the
// tfjs decoder on tiny random weights (GQA + attention bias + untied head, tied embeddings, llama3 rope
// scaling): (a) completion log-probs / entropy with rowPrompt, a prefix and oversized buckets; (b) the
// gradients of sum(logp * W) w.r.t. LoRA A/B, the prefix and every base weight vs tf.variableGrads;
// (c) prefill / decode-step logits and generate()'s tokens (greedy, sampled, stop strings, EOS, groups).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { gradients } from '../../src/engine/autodiff.js';
import {
  type CompletionSpec,
  DECODE_IO,
  PREFILL_IO,
  type WeightSource,
  boolOf,
  completionFeeds,
  completionScoresGraph,
  decodeStepGraph,
  int64Of,
  kvName,
  loraShapes,
  prefillGraph,
  promptFeeds,
  ropeFeeds,
} from '../../src/engine/decoder-graph.js';
import { Graph, type TypedArray } from '../../src/engine/graph.js';
import { OnnxDecoder } from '../../src/engine/onnx-decoder.js';
import { EngineSession } from '../../src/engine/session.js';
import { selectBackend } from '../../src/models/backend.js';
import { positionIdsOf } from '../../src/models/decoder-batch.js';
import { type DecoderConfig, type DecoderWeights, LORA_TARGETS, decoderConfig } from '../../src/models/decoder-config.js';
import { TfDecoder } from '../../src/models/decoder.js';
import * as tf from '../../src/models/tf.js';
import { lcg, randomWeights } from '../models/decoder-fixtures.js';

const CONFIGS: { label: string; config: DecoderConfig }[] = [
  {
    label: 'GQA, attention bias, untied',
    config: decoderConfig({ vocabSize: 29, hiddenSize: 24, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 6, intermediateSize: 28, attentionBias: true, tieWordEmbeddings: false }),
  },
  { label: 'tied embeddings', config: decoderConfig({ vocabSize: 31, hiddenSize: 16, numLayers: 2, numHeads: 2, intermediateSize: 20 }) },
  {
    label: 'llama3 rope scaling, MQA',
    config: decoderConfig({ vocabSize: 23, hiddenSize: 16, numLayers: 1, numHeads: 2, numKvHeads: 1, headDim: 8, intermediateSize: 24, ropeTheta: 500, ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8 } }),
  },
];

const PROMPTS = [[1, 2, 3], [4], [5, 6, 7, 8, 9]];
const ROW_PROMPT = [0, 0, 1, 1, 1, 2];
const COMPLETIONS = [[7, 8], [9], [10, 11, 12], [], [13, 14], [15, 16, 7, 8, 3]];
const K = 2;

before(async () => {
  assert.equal(await selectBackend('cpu'), 'cpu');
});

const disposers: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const d of disposers) await d();
});

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => 2 * scale * r());
}

const initializers = (g: Graph, w: DecoderWeights): WeightSource => (name, shape) => g.initializer(name, 'float32', shape, w.get(name)!.data);
const inputs = (g: Graph): WeightSource => (name, shape) => g.floatInput(name, shape);

/** Random LoRA values (B non-zero) for every projection the config allows. */
function randomLora(c: DecoderConfig, rank: number, seed: number): { spec: { rank: number; alpha: number; targets: typeof LORA_TARGETS }; weights: DecoderWeights } {
  const targets = c.tieWordEmbeddings ? LORA_TARGETS.filter((t) => t !== 'lm_head') : LORA_TARGETS;
  const spec = { rank, alpha: 4, targets };
  const weights: DecoderWeights = new Map();
  let k = 0;
  for (const [name, shape] of loraShapes(c, spec)) weights.set(name, { shape, data: randomArray(shape[0] * shape[1], seed + k++, 0.3) });
  return { spec, weights };
}

function tfScores(dec: TfDecoder, prefix: Float32Array, withEntropy: boolean): { logp: number[][]; entropy?: number[][] } {
  const H = dec.config.hiddenSize;
  const p = tf.tensor3d(prefix, [PROMPTS.length, K, H]);
  const s = dec.completionScores({ prefixEmbeds: p, promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }, withEntropy);
  const out = { logp: s.logProbs.arraySync(), entropy: s.entropy?.arraySync() };
  tf.dispose([p, s.logProbs, s.mask, ...(s.entropy ? [s.entropy] : [])]);
  return out;
}

async function runGraph(g: Graph, feeds: Record<string, TypedArray>): Promise<Record<string, TypedArray>> {
  const session = await EngineSession.compile(g);
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

test('(a) completion log-probs and entropy equal TfDecoder.completionScores with rowPrompt, a prefix and oversized buckets', async (t) => {
  for (const { label, config } of CONFIGS) {
    const w = randomWeights(config, 11);
    const lora = randomLora(config, 2, 50);
    const dec = new TfDecoder(config, w);
    dec.attachLora({ ...lora.spec, targets: [...lora.spec.targets] });
    dec.setLoraWeights(lora.weights);
    const H = config.hiddenSize;
    const prefix = randomArray(PROMPTS.length * K * H, 3);
    const ref = tfScores(dec, prefix, true);
    const Cref = ref.logp[0].length;
    const spec: CompletionSpec = { config, P: 3, Tp: 9, K, R: ROW_PROMPT.length, C: Cref + 3, lora: lora.spec, entropy: true };
    const g = new Graph('scores');
    const pre = g.floatInput('prefix', [3, K, H]);
    const out = completionScoresGraph(g, spec, initializers(g, w), inputs(g), pre);
    g.output(out.logp, 'logp');
    g.output(out.entropy!, 'entropy');
    const feeds: Record<string, TypedArray> = { ...completionFeeds(spec, { promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }), prefix };
    for (const [n, t] of lora.weights) feeds[n] = t.data;
    const got = await runGraph(g, feeds);
    for (const key of ['logp', 'entropy'] as const) {
      const mine = got[key] as Float32Array;
      let max = 0;
      ROW_PROMPT.forEach((_, r) => {
        for (let t = 0; t < spec.C; t++) {
          const v = mine[r * spec.C + t];
          if (t >= COMPLETIONS[r].length) assert.ok(Object.is(v, 0), `${label} ${key}[${r}][${t}] = ${v} at padding, expected +0`);
          else max = Math.max(max, Math.abs(v - ref[key]![r][t]));
        }
      });
      assert.ok(max <= 1e-4, `${label} ${key}: max |onnx - tfjs| = ${max}`);
      t.diagnostic(`${label} ${key}: max |onnx - tfjs| = ${max.toExponential(2)}`);
    }
    dec.dispose();
  }
});

test('(a) OnnxDecoder.completionLogProbs (weights as inputs and as initializers) equals TfDecoder', async () => {
  const { config } = CONFIGS[0];
  const w = randomWeights(config, 12);
  const lora = randomLora(config, 3, 70);
  const dec = new TfDecoder(config, w);
  dec.attachLora({ ...lora.spec, targets: [...lora.spec.targets] });
  dec.setLoraWeights(lora.weights);
  const prefix = randomArray(3 * K * config.hiddenSize, 4);
  const ref = tfScores(dec, prefix, false).logp;
  for (const weightsAs of ['inputs', 'initializers'] as const) {
    const onnx = new OnnxDecoder(config, w, { lora: lora.spec, weightsAs });
    disposers.push(() => onnx.dispose());
    onnx.setLoraWeights(lora.weights);
    assert.deepEqual([...onnx.getLoraWeights().keys()].sort(), [...dec.getLoraWeights().keys()].sort());
    const { logProbs } = await onnx.completionLogProbs({ promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }, prefix);
    assert.deepEqual(logProbs.map((r) => r.length), ROW_PROMPT.map(() => ref[0].length));
    const max = Math.max(...logProbs.flatMap((row, r) => row.map((v, t) => Math.abs(v - ref[r][t]))));
    assert.ok(max <= 1e-4, `${weightsAs}: max diff ${max}`);
    await assert.rejects(onnx.completionLogProbs({ promptIds: PROMPTS, completionIds: [[1]], rowPrompt: [3] }), /rowPrompt\[0\] = 3 is not a prompt index in 0..2/);
  }
  // Exact buckets (Tp = longest prompt, C = 1: no second pass) and an all-empty batch.
  const exact = new OnnxDecoder(config, w, { lora: lora.spec, bucket: 1 });
  disposers.push(() => exact.dispose());
  exact.setLoraWeights(lora.weights);
  const short = COMPLETIONS.map((c) => c.slice(0, 1));
  const { logProbs } = await exact.completionLogProbs({ promptIds: PROMPTS, completionIds: short, rowPrompt: ROW_PROMPT }, prefix);
  const refShort = ref.map((row, r) => (short[r].length ? [row[0]] : [0]));
  assert.ok(Math.max(...logProbs.flatMap((row, r) => row.map((v, t) => Math.abs(v - refShort[r][t])))) <= 1e-4, 'C = 1');
  assert.ok(Object.is(logProbs[3][0], 0));
  assert.deepEqual((await exact.completionLogProbs({ promptIds: [[1]], completionIds: [[], []], rowPrompt: [0, 0] })).logProbs, [[], []]);
  dec.dispose();
});

test('(b) gradients w.r.t. LoRA A/B, the prefix and every base weight equal tf.variableGrads', async (t) => {
  for (const { label, config } of CONFIGS.slice(0, 2)) {
    const w = randomWeights(config, 21, 0.3);
    const lora = randomLora(config, 2, 90);
    const dec = new TfDecoder(config, w, { trainable: true });
    dec.attachLora({ ...lora.spec, targets: [...lora.spec.targets] });
    dec.setLoraWeights(lora.weights);
    const H = config.hiddenSize;
    const R = ROW_PROMPT.length;
    const Cref = Math.max(...COMPLETIONS.map((c) => c.length));
    const spec: CompletionSpec = { config, P: 3, Tp: 8, K, R, C: 8, lora: lora.spec, entropy: false };
    const coef = randomArray(R * spec.C, 5);
    const prefixData = randomArray(3 * K * H, 6);

    // tfjs: loss = sum(logp * W) over the real columns.
    const prefixVar = tf.variable(tf.tensor3d(prefixData, [3, K, H]), true, `prefix_${label.replace(/\W/g, '')}`);
    const coefRef = tf.tensor2d(ROW_PROMPT.map((_, r) => Array.from(coef.subarray(r * spec.C, r * spec.C + Cref))));
    const named = new Map<string, tf.Variable>([...dec.variables(), ...dec.loraVariables(), ['prefix', prefixVar]]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(dec.sequenceLogProbs({ prefixEmbeds: prefixVar, promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }), coefRef)) as tf.Scalar, [...named.values()]);

    // ONNX: the same loss, every tensor a graph input.
    const g = new Graph('grads');
    const prefix = g.floatInput('prefix', [3, K, H]);
    const { logp } = completionScoresGraph(g, spec, inputs(g), inputs(g), prefix);
    const loss = g.sumAll(g.mul(logp, g.floatConst('coef', [R, spec.C], coef)));
    const wrt = g.inputs.filter((v) => v.dtype === 'float32' && !v.name.startsWith('dec.')); // not the rotary tables
    const dWrt = gradients(g, loss, wrt);
    g.output(loss, 'loss');
    dWrt.forEach((d, k) => g.output(d, `grad.${wrt[k].name}`));
    const feeds: Record<string, TypedArray> = { ...completionFeeds(spec, { promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }), prefix: prefixData };
    for (const [n, t] of [...w, ...lora.weights]) feeds[n] = t.data;
    const got = await runGraph(g, feeds);

    assert.ok(Math.abs((got.loss as Float32Array)[0] - value.dataSync()[0]) <= 1e-4 * Math.max(1, Math.abs(value.dataSync()[0])), `${label}: loss`);
    assert.equal(wrt.length, named.size, `${label}: every tfjs variable is a graph input`);
    let worst = 0;
    for (const v of wrt) {
      const ref = grads[named.get(v.name)!.name].dataSync();
      const mine = got[`grad.${v.name}`] as Float32Array;
      const scale = Math.max(...Array.from(ref, Math.abs));
      assert.ok(scale > 1e-6, `${label}: the gradient of ${v.name} is zero; the comparison would be vacuous`);
      const rel = Math.max(...Array.from(ref, (x, i) => Math.abs(x - mine[i]))) / scale;
      worst = Math.max(worst, rel);
      assert.ok(rel <= 1e-4, `${label}: gradient of ${v.name}: relative error ${rel}`);
    }
    t.diagnostic(`${label}: ${wrt.length} gradients, worst max|diff|/max|ref| = ${worst.toExponential(2)}`);
    tf.dispose([value, ...Object.values(grads), coefRef, prefixVar]);
    dec.dispose();
  }
});

test('(c) prefill and decode-step logits equal TfDecoder.forward at the last position', async (t) => {
  for (const { label, config } of CONFIGS) {
    const w = randomWeights(config, 31);
    const dec = new TfDecoder(config, w);
    const H = config.hiddenSize;
    const V = config.vocabSize;
    const { numKvHeads: nKv, headDim: D } = config;
    const prompts = [[3, 4, 5], [6]];
    const prefix = randomArray(2 * K * H, 8);
    const Tp = 8;
    const S = K + Tp;
    /** TfDecoder's last-position logits of rows continuing prompts rowPrompt (each with its prompt's prefix). */
    const lastLogits = (rows: number[][], rowPrompt = [0, 1]) => {
      const width = Math.max(...rows.map((r) => r.length));
      const ids = rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...r]);
      const mask = rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...r.map(() => 1)]);
      const rowPrefix = new Float32Array(rows.length * K * H);
      rowPrompt.forEach((q, b) => rowPrefix.set(prefix.subarray(q * K * H, (q + 1) * K * H), b * K * H));
      const p = tf.tensor3d(rowPrefix, [rows.length, K, H]);
      const out = dec.forward({ prefixEmbeds: p, inputIds: ids, attentionMask: mask });
      const all = out.logits.arraySync();
      tf.dispose([p, out.logits, out.finalHidden]);
      return all.map((r) => r[r.length - 1]);
    };

    const gp = new Graph('prefill');
    prefillGraph(gp, { config, P: 2, Tp, K }, initializers(gp, w));
    const pf = promptFeeds(config, prompts, K, Tp, 0);
    const pre = await runGraph(gp, { ...pf.feeds, [PREFILL_IO.prefix]: prefix });
    const ref0 = lastLogits(prompts);
    const d0 = Math.max(...ref0.flatMap((row, b) => row.map((x, v) => Math.abs(x - (pre.logits as Float32Array)[b * V + v]))));
    assert.ok(d0 <= 1e-4, `${label} prefill logits: ${d0}`);

    // One decode step, rows 1:1 with prompts (P = B = 2) and grouped (P = 2, B = 4: rows 0-1 continue
    // prompt 0, rows 2-3 prompt 1), each over the prefill's prompt caches and an empty generated cache.
    const Sg = 16;
    const decodeCase = async (rowPrompt: number[], step: number[]) => {
      const B = rowPrompt.length;
      const gd = new Graph(`decode_B${B}`);
      decodeStepGraph(gd, { config, B, P: 2, Sp: S, Sg }, initializers(gd, w));
      const feeds: Record<string, TypedArray> = {};
      for (let i = 0; i < config.numLayers; i++) {
        for (const which of ['key', 'value'] as const) {
          feeds[kvName('prompt', i, which)] = pre[kvName('present', i, which)] as Float32Array; // [2, nKv, S, D]
          feeds[kvName('past', i, which)] = new Float32Array(B * nKv * Sg * D);
        }
      }
      const mask = rowPrompt.map((p) => [...pf.mask[p], 1]);
      const { cos, sin } = ropeFeeds(config, mask.map((row) => [positionIdsOf(row)[S]]));
      feeds[DECODE_IO.ids] = int64Of(step.map((t) => [t]));
      feeds[DECODE_IO.cos] = cos;
      feeds[DECODE_IO.sin] = sin;
      feeds[DECODE_IO.keyMask] = boolOf(mask.map((row) => Array.from({ length: S + Sg + 1 }, (_, j) => (j === S + Sg ? 1 : j < S ? row[j] : 0))));
      const out = await runGraph(gd, feeds);
      const ref = lastLogits(rowPrompt.map((p, b) => [...prompts[p], step[b]]), rowPrompt);
      assert.equal((out[kvName('present', 0, 'key')] as Float32Array).length, B * nKv * D);
      return Math.max(...ref.flatMap((row, b) => row.map((x, v) => Math.abs(x - (out.logits as Float32Array)[b * V + v]))));
    };
    const d1 = await decodeCase([0, 1], [7, 2]);
    assert.ok(d1 <= 1e-4, `${label} decode logits: ${d1}`);
    const d2 = await decodeCase([0, 0, 1, 1], [7, 9, 2, 5]);
    assert.ok(d2 <= 1e-4, `${label} grouped decode logits: ${d2}`);
    t.diagnostic(`${label}: prefill logits ${d0.toExponential(2)}, decode logits ${d1.toExponential(2)}, grouped ${d2.toExponential(2)}`);
    dec.dispose();
  }
});

test('(c) OnnxDecoder.generate gives TfDecoder.generate tokens: greedy, sampled, stop strings, EOS, rowPrompt groups', async (t) => {
  const decode = (ids: number[]) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join('');
  for (const { label, config } of CONFIGS.slice(0, 2)) {
    const w = randomWeights(config, 41, 0.4);
    const lora = randomLora(config, 2, 120);
    const dec = new TfDecoder(config, w);
    dec.attachLora({ ...lora.spec, targets: [...lora.spec.targets] });
    dec.setLoraWeights(lora.weights);
    const onnx = new OnnxDecoder(config, w, { lora: lora.spec });
    disposers.push(() => onnx.dispose());
    onnx.setLoraWeights(lora.weights);
    const H = config.hiddenSize;
    const prefix = randomArray(PROMPTS.length * K * H, 9);
    const cases = [
      { temperature: 0, topP: 1, seed: 1, rowPrompt: ROW_PROMPT },
      { temperature: 0, topP: 1, seed: 1, rowPrompt: undefined, eosId: 5 },
      ...[1, 2, 3].map((seed) => ({ temperature: 0.7, topP: 0.9, seed, rowPrompt: ROW_PROMPT, eosId: [3, 4], stopStrings: ['f', 'gh', 'bb'] })),
      { temperature: 1, topP: 1, seed: 4, rowPrompt: [2, 0, 1, 2] },
    ];
    let finishes = new Set<string>();
    for (const c of cases) {
      const base = { promptIds: PROMPTS, maxNewTokens: 7, decode, ...c };
      const p = tf.tensor3d(prefix, [PROMPTS.length, K, H]);
      const ref = await dec.generate({ ...base, prefixEmbeds: p });
      p.dispose();
      const got = await onnx.generate({ ...base, prefix: { data: prefix, K } });
      assert.deepEqual(got, ref, `${label} ${JSON.stringify(c)}`);
      finishes = new Set([...finishes, ...ref.finishReason]);
    }
    t.diagnostic(`${label}: finish reasons reached: ${[...finishes].sort().join(', ')}`);
    assert.deepEqual([...finishes].sort(), ['eos', 'length', 'stop'], `${label}: the cases should reach every finish reason`);
    // Without a prefix, too.
    const plain = { promptIds: PROMPTS, maxNewTokens: 5, temperature: 0.7, topP: 0.9, seed: 9, rowPrompt: ROW_PROMPT };
    assert.deepEqual(await onnx.generate(plain), await dec.generate(plain), `${label}: no prefix`);
    dec.dispose();
  }
});

test('errors name the tensor and the shapes', () => {
  const { config } = CONFIGS[0];
  const w = randomWeights(config, 1);
  const spec: CompletionSpec = { config, P: 3, Tp: 4, K, R: 6, C: 4, entropy: false };
  const g = new Graph('errors');
  assert.throws(() => completionScoresGraph(g, spec, initializers(g, w), undefined, g.floatInput('p', [3, 1, 24])), /prefix p has shape \[3, 1, 24\], expected \[P, K, hidden\] = \[3, 2, 24\]/);
  const g2 = new Graph('errors2');
  const wrong: WeightSource = (name, shape) => g2.floatInput(name, shape.length === 2 ? [shape[1], shape[0]] : shape);
  assert.throws(() => completionScoresGraph(g2, { ...spec, K: 0 }, wrong), /weight model.embed_tokens.weight: the source gave model.embed_tokens.weight of shape \[24, 29\], expected \[29, 24\]/);
  assert.throws(() => completionFeeds({ ...spec, C: 8 }, { promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }), /prompt 2 has 5 tokens, more than the graph's padded width Tp = 4/);
  assert.throws(() => completionFeeds({ ...spec, Tp: 8 }, { promptIds: PROMPTS, completionIds: COMPLETIONS, rowPrompt: ROW_PROMPT }), /completion 5 has 5 tokens, more than the graph's padded width C = 4/);
  const onnx = new OnnxDecoder(config, w, { lora: { rank: 2, alpha: 4, targets: ['q_proj'] } });
  assert.throws(() => onnx.setLoraWeights(new Map()), /missing base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight/);
});
